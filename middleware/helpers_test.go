package middleware_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// The objectives of every test engine.
const (
	checkoutAvail   = "checkout-availability"
	checkoutLatency = "checkout-latency" // 300ms
	browseAvail     = "browse-availability"
	serviceAvail    = "service-availability"
)

var testObjectives = []slo.Objective{
	{Name: checkoutAvail, Target: 0.999},
	{Name: checkoutLatency, Target: 0.99, Latency: 300 * time.Millisecond},
	{Name: browseAvail, Target: 0.99},
	{Name: serviceAvail, Target: 0.99},
}

// newEngine returns an engine that is never started, logs nowhere and
// exports through a noop MeterProvider, so tests touch no globals.
func newEngine(tb testing.TB) *slo.Engine {
	tb.Helper()
	eng, err := slo.New(testObjectives,
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		tb.Fatalf("slo.New() error = %v", err)
	}
	tb.Cleanup(func() { _ = eng.Close() })
	return eng
}

func newServer(tb testing.TB, eng *slo.Engine, opts ...middleware.Option) *middleware.Server {
	tb.Helper()
	s, err := middleware.NewServer(eng, opts...)
	if err != nil {
		tb.Fatalf("NewServer() error = %v", err)
	}
	return s
}

// tally is what one objective recorded.
type tally struct{ Good, Bad, Shed, Neutral uint64 }

func (c tally) String() string {
	return fmt.Sprintf("{good %d bad %d shed %d neutral %d}", c.Good, c.Bad, c.Shed, c.Neutral)
}

// totals evaluates eng and returns the objectives that recorded anything,
// except overloadAvail.
func totals(tb testing.TB, eng *slo.Engine) map[string]tally {
	tb.Helper()
	eng.Tick(time.Now())
	got := map[string]tally{}
	for _, o := range eng.Status().Objectives {
		c := tally{o.Totals.Good, o.Totals.Bad, o.Totals.Shed, o.Neutral}
		if c != (tally{}) && o.Objective.Name != overloadAvail {
			got[o.Objective.Name] = c
		}
	}
	return got
}

// checkTotals fails the test unless eng recorded exactly want (overloadAvail
// aside).
func checkTotals(tb testing.TB, eng *slo.Engine, want map[string]tally) {
	tb.Helper()
	got := totals(tb, eng)
	for name, w := range want {
		if got[name] != w {
			tb.Errorf("Status().Objective(%q) totals = %v, want %v", name, got[name], w)
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			tb.Errorf("Status().Objective(%q) totals = %v, want nothing recorded", name, g)
		}
	}
}

// serve sends one request through h and returns the recorder.
func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// status returns a handler that sends code.
func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// capture is a Classifier that passes every Response it sees to the test and
// then classifies it with the DefaultClassifier.
type capture chan middleware.Response

func (c capture) classify(r *http.Request, resp middleware.Response) slo.Outcome {
	c <- resp
	return middleware.DefaultClassifier(r, resp)
}

func (c capture) next(tb testing.TB) middleware.Response {
	tb.Helper()
	select {
	case resp := <-c:
		return resp
	default:
		tb.Fatal("classifier was not called")
		return middleware.Response{}
	}
}

// overloadAvail is the objective that newShedEngine overloads to raise the
// shed level; totals leaves it out.
const overloadAvail = "overload-availability"

// newShedEngine returns an engine that sheds load, never started, whose shed
// level was raised to level (a multiple of 0.5, at most 3) by bad events of
// overloadAvail and Ticks one second apart, an hour ahead of the clock: a
// later Tick(time.Now()), as totals does, changes nothing.
//
// At level 1.5, SHEDDABLE requests are all rejected (retry after 5s hold +
// 1.5 levels / 0.5 a second = 8s), SHEDDABLE_PLUS half of them, CRITICAL
// and CRITICAL_PLUS none.
func newShedEngine(tb testing.TB, level float64) *slo.Engine {
	tb.Helper()
	eng, err := slo.New(append(slices.Clone(testObjectives), slo.Objective{Name: overloadAvail, Target: 0.99}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithShedding(slo.ShedPolicy{Burn: 2, MinEvents: 10}),
	)
	if err != nil {
		tb.Fatalf("slo.New() error = %v", err)
	}
	tb.Cleanup(func() { _ = eng.Close() })
	t0 := time.Now().Add(time.Hour)
	for i := range int(level / 0.5) { // half a band per hot evaluation
		for range 20 {
			if err := eng.Record(overloadAvail, slo.Bad, 0); err != nil {
				tb.Fatal(err)
			}
		}
		eng.Tick(t0.Add(time.Duration(i) * time.Second))
	}
	if got := eng.Status().Shedding.Level; got != level {
		tb.Fatalf("Status().Shedding.Level = %v, want %v", got, level)
	}
	return eng
}

// noRead is a request body that fails the test when read.
type noRead struct{ tb testing.TB }

func (b noRead) Read([]byte) (int, error) {
	b.tb.Error("request body read")
	return 0, io.EOF
}

func (noRead) Close() error { return nil }
