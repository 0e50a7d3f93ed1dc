package statuspage

import (
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The objectives of the test engine.
const (
	checkout = "checkout-availability"
	search   = "search-latency"
)

// start is the time of the test engine's first evaluation.
var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newEngine returns an engine of two objectives, with shedding, a gate and
// a history sample every minute, that was never started: the tests drive
// it with Tick.
func newEngine(t *testing.T, opts ...slo.Option) *slo.Engine {
	t.Helper()
	objectives := []slo.Objective{
		{Name: checkout, Description: "POST /checkout answers without a server error.", Target: 0.999},
		{Name: search, Description: "GET /search answers within 300 ms.", Target: 0.99, Latency: 300 * time.Millisecond},
	}
	opts = append([]slo.Option{
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithHistory(time.Minute, 120),
		slo.WithShedding(slo.ShedPolicy{}),
		slo.WithGate("recommendations", slo.GatePolicy{MinRemaining: 0.25, ClosedOnPage: true}),
	}, opts...)
	eng, err := slo.New(objectives, opts...)
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("Engine.Close = %v", err)
		}
	})
	return eng
}

// healthy records and evaluates minutes of healthy traffic from start:
// 1000 good checkouts a minute, and 500 searches of which 2 are slow.
func healthy(t *testing.T, eng *slo.Engine, minutes int) time.Time {
	t.Helper()
	now := start
	for m := range minutes {
		now = start.Add(time.Duration(m) * time.Minute)
		record(t, eng, checkout, budget.Good, 0, 1000)
		record(t, eng, search, budget.Good, 50*time.Millisecond, 498)
		record(t, eng, search, budget.Good, 500*time.Millisecond, 2)
		eng.Tick(now)
	}
	return now
}

// incident records one minute after now in which a fifth of the checkouts
// fail, enough to spend the checkout budget and freeze releases, with two
// evaluations two seconds apart so that the shed level moves.
func incident(t *testing.T, eng *slo.Engine, now time.Time) time.Time {
	t.Helper()
	now = now.Add(time.Minute)
	record(t, eng, checkout, budget.Good, 0, 800)
	record(t, eng, checkout, budget.Bad, 0, 200)
	record(t, eng, search, budget.Good, 50*time.Millisecond, 500)
	eng.Tick(now)
	record(t, eng, checkout, budget.Good, 0, 80)
	record(t, eng, checkout, budget.Bad, 0, 20)
	now = now.Add(2 * time.Second)
	eng.Tick(now)
	return now
}

func record(t *testing.T, eng *slo.Engine, name string, o budget.Outcome, latency time.Duration, n int) {
	t.Helper()
	rec, err := eng.Recorder(name)
	if err != nil {
		t.Fatalf("Engine.Recorder(%q) = %v", name, err)
	}
	for range n {
		rec.Record(o, latency)
	}
}
