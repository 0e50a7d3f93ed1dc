package slo_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// t0 is the start of the scripted streams: a fixed time, so failures are
// reproducible.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// quiet are the options every test engine starts with: nothing goes to the
// default logger or the global MeterProvider. Later options override them.
var quiet = []slo.Option{
	slo.WithLogger(slog.New(slog.DiscardHandler)),
	slo.WithMeterProvider(noop.NewMeterProvider()),
}

// options returns quiet followed by extra.
func options(extra ...slo.Option) []slo.Option {
	return append(slices.Clone(quiet), extra...)
}

// newEngine returns an engine that is closed when the test ends.
func newEngine(t testing.TB, objectives []slo.Objective, opts ...slo.Option) *slo.Engine {
	t.Helper()
	eng, err := slo.New(objectives, options(opts...)...)
	if err != nil {
		t.Fatalf("New(%+v) error: %v", objectives, err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	})
	return eng
}

// record records n events of one outcome and latency.
func record(t testing.TB, eng *slo.Engine, name string, o budget.Outcome, latency time.Duration, n int) {
	t.Helper()
	rec, err := eng.Recorder(name)
	if err != nil {
		t.Fatalf("Record(%q, %v, %v) = %v, want nil", name, o, latency, err)
	}
	for range n {
		rec.Record(o, latency)
	}
}

// objectiveStatus returns the status of the named objective.
func objectiveStatus(t testing.TB, st *slo.Status, name string) slo.ObjectiveStatus {
	t.Helper()
	os, ok := st.Objective(name)
	if !ok {
		t.Fatalf("Status.Objective(%q) = _, false, want true", name)
	}
	return os
}

func TestNewInvalid(t *testing.T) {
	valid := []slo.Objective{{Name: "a", Target: 0.999}}
	tests := []struct {
		name       string
		objectives []slo.Objective
		opts       []slo.Option
		sentinels  []error
		want       []string // every problem the error must name
	}{
		{"no objectives", nil, nil, []error{slo.ErrInvalidObjective}, []string{"slo: invalid objective: no objectives"}},
		{"empty objectives", []slo.Objective{}, nil, []error{slo.ErrInvalidObjective}, []string{"no objectives"}},
		{"duplicate name", []slo.Objective{{Name: "a", Target: 0.999}, {Name: "b", Target: 0.99}, {Name: "a", Target: 0.9}},
			nil, []error{slo.ErrInvalidObjective}, []string{`slo: invalid objective "a": name is used twice`}},
		{"invalid objectives", []slo.Objective{{Name: "a", Target: 2}, {Name: "b", Target: 0.9}, {Name: "", Target: 0.9}},
			nil, []error{slo.ErrInvalidObjective}, []string{`"a": budget: invalid configuration: target 2`, `"": name is empty`}},
		{"nil and zero options", valid, []slo.Option{
			slo.WithMeterProvider(nil), slo.WithLogger(nil), slo.WithEventHandler(nil), slo.WithInterval(0), slo.WithTimelineSize(0),
		}, []error{slo.ErrInvalidOption}, []string{
			"slo: invalid option: nil MeterProvider", "nil logger", "nil event handler", "interval 0s is not positive", "timeline size 0 is not positive",
		}},
		{"nil option", valid, []slo.Option{slo.WithInterval(time.Second), nil},
			[]error{slo.ErrInvalidOption}, []string{"slo: invalid option: option"}},
		{"negative options", valid, []slo.Option{slo.WithInterval(-time.Second), slo.WithTimelineSize(-1)},
			[]error{slo.ErrInvalidOption}, []string{"interval -1s is not positive", "timeline size -1 is not positive"}},
		{"everything at once", []slo.Objective{{Name: "a", Target: 0.9}, {Name: "a", Target: 0.9}, {Name: "b b", Target: 0.9}},
			[]slo.Option{slo.WithLogger(nil), slo.WithInterval(0)},
			[]error{slo.ErrInvalidObjective, slo.ErrInvalidOption},
			[]string{"nil logger", "interval 0s", `"a": name is used twice`, `"b b": name has ' '`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := slo.New(tt.objectives, options(tt.opts...)...)
			if eng != nil || err == nil {
				t.Fatalf("New(%+v) = %v, %v, want nil, error", tt.objectives, eng, err)
			}
			for _, s := range tt.sentinels {
				if !errors.Is(err, s) {
					t.Errorf("New(%+v) = %v, want error wrapping %v", tt.objectives, err, s)
				}
			}
			checkMentions(t, err, tt.want)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	rules := []budget.Rule{{Severity: budget.Page, Long: time.Hour, Burn: 10}}
	in := []slo.Objective{
		{Name: "availability", Target: 0.999},
		{Name: "latency", Target: 0.99, Latency: 250 * time.Millisecond, Period: 7 * day, Rules: rules, MinEvents: 100, MinBadEvents: 5},
		{Name: "no-rules", Target: 0.9, Rules: []budget.Rule{}},
	}
	eng := newEngine(t, in)
	want := []struct {
		kind                    string
		period                  time.Duration
		rules                   []budget.Rule
		minEvents, minBadEvents uint64
	}{
		{"availability", 30 * day, budget.DefaultRules(), 1, 1},
		{"latency", 7 * day, rules, 100, 5},
		{"availability", 30 * day, []budget.Rule{}, 1, 1},
	}
	st := eng.Status()
	if len(st.Objectives) != len(in) {
		t.Fatalf("Status().Objectives = %+v, want %d objectives", st.Objectives, len(in))
	}
	for i, os := range st.Objectives {
		o := os.Objective
		w := want[i]
		if o.Name != in[i].Name || o.Kind() != w.kind || o.Period != w.period || !slices.Equal(o.Rules, w.rules) ||
			(o.Rules == nil) != (w.rules == nil) || o.MinEvents != w.minEvents || o.MinBadEvents != w.minBadEvents {
			t.Errorf("Status().Objectives[%d].Objective = %+v, want %q (%s) with Period %v, Rules %v, MinEvents %d, MinBadEvents %d",
				i, o, in[i].Name, w.kind, w.period, w.rules, w.minEvents, w.minBadEvents)
		}
		r, err := eng.Recorder(o.Name)
		if err != nil {
			t.Fatalf("Recorder(%q) error: %v", o.Name, err)
		}
		if ro := r.Objective(); ro.Name != o.Name || ro.Period != o.Period || !slices.Equal(ro.Rules, o.Rules) {
			t.Errorf("Recorder(%q).Objective() = %+v, want %+v", o.Name, ro, o)
		}
	}
}

// TestObjectivesCopied checks that the engine keeps its own rules: neither
// the caller's slice nor a result of Recorder.Objective aliases them.
func TestObjectivesCopied(t *testing.T) {
	rules := []budget.Rule{{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02}}
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999, Rules: rules}})
	rules[0].Long = time.Minute
	r, _ := eng.Recorder("a")
	r.Objective().Rules[0].Long = 3 * time.Minute
	if l := r.Objective().Rules[0].Long; l != time.Hour {
		t.Errorf("Recorder.Objective().Rules[0].Long = %v after changing copies, want 1h", l)
	}
	if l := eng.Status().Objectives[0].Objective.Rules[0].Long; l != time.Hour {
		t.Errorf("Status().Objectives[0].Objective.Rules[0].Long = %v after changing copies, want 1h", l)
	}
}

func TestRecord(t *testing.T) {
	objectives := []slo.Objective{
		{Name: "avail", Target: 0.999},
		{Name: "fast", Target: 0.99, Latency: 100 * time.Millisecond},
	}
	tests := []struct {
		objective string
		outcome   budget.Outcome
		latency   time.Duration
		want      budget.Counts
		neutral   uint64
	}{
		{"fast", budget.Good, 0, budget.Counts{Good: 1}, 0},
		{"fast", budget.Good, 99 * time.Millisecond, budget.Counts{Good: 1}, 0},
		{"fast", budget.Good, 100 * time.Millisecond, budget.Counts{Good: 1}, 0}, // within: at most the threshold
		{"fast", budget.Good, 100*time.Millisecond + 1, budget.Counts{Bad: 1}, 0},
		{"fast", budget.Good, time.Minute, budget.Counts{Bad: 1}, 0},
		{"fast", budget.Bad, time.Millisecond, budget.Counts{Bad: 1}, 0},
		{"fast", budget.Bad, time.Minute, budget.Counts{Bad: 1}, 0},
		{"fast", budget.Neutral, 100 * time.Millisecond, budget.Counts{}, 1},
		{"fast", budget.Neutral, time.Minute, budget.Counts{Bad: 1}, 0}, // the client gave up on a slow answer
		{"fast", budget.Shed, time.Minute, budget.Counts{Shed: 1}, 0},
		{"fast", budget.Shed, 0, budget.Counts{Shed: 1}, 0},
		{"avail", budget.Good, time.Hour, budget.Counts{Good: 1}, 0},
		{"avail", budget.Bad, 0, budget.Counts{Bad: 1}, 0},
		{"avail", budget.Neutral, time.Hour, budget.Counts{}, 1},
		{"avail", budget.Shed, time.Hour, budget.Counts{Shed: 1}, 0},
		{"avail", budget.Outcome(42), 0, budget.Counts{}, 0}, // out of range: ignored
	}
	record := map[string]func(eng *slo.Engine, name string, o budget.Outcome, latency time.Duration) error{
		"Recorder.Record": func(eng *slo.Engine, name string, o budget.Outcome, latency time.Duration) error {
			r, err := eng.Recorder(name)
			if err != nil {
				return err
			}
			r.Record(o, latency)
			return nil
		},
	}
	for how, rec := range record {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%s/%v/%v", how, tt.objective, tt.outcome, tt.latency), func(t *testing.T) {
				eng := newEngine(t, objectives)
				const n = 3
				for range n {
					if err := rec(eng, tt.objective, tt.outcome, tt.latency); err != nil {
						t.Fatalf("%s(%q, %v, %v) = %v, want nil", how, tt.objective, tt.outcome, tt.latency, err)
					}
				}
				if got := objectiveStatus(t, eng.Status(), tt.objective); got.Totals != (budget.Counts{}) || got.Neutral != 0 {
					t.Errorf("before Tick: Totals, Neutral = %+v, %d, want zero: Status is a snapshot", got.Totals, got.Neutral)
				}
				eng.Tick(t0)
				want := budget.Counts{Good: n * tt.want.Good, Bad: n * tt.want.Bad, Shed: n * tt.want.Shed}
				for _, o := range eng.Status().Objectives {
					wantTotals, wantNeutral := want, n*tt.neutral
					if o.Objective.Name != tt.objective {
						wantTotals, wantNeutral = budget.Counts{}, 0
					}
					if o.Totals != wantTotals || o.Neutral != wantNeutral {
						t.Errorf("%s(%q, %v, %v) ×%d, Tick: %q Totals, Neutral = %+v, %d, want %+v, %d",
							how, tt.objective, tt.outcome, tt.latency, n, o.Objective.Name, o.Totals, o.Neutral, wantTotals, wantNeutral)
					}
				}
			})
		}
	}
}

func TestUnknownObjective(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	for _, name := range []string{"", "b", "A", "a "} {
		if r, err := eng.Recorder(name); r != nil || !errors.Is(err, slo.ErrUnknownObjective) || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("Recorder(%q) = %v, %v, want nil, error wrapping ErrUnknownObjective naming %q", name, r, err, name)
		}
		if _, ok := eng.Status().Objective(name); ok {
			t.Errorf("Status().Objective(%q) = _, true, want false", name)
		}
	}
	r, err := eng.Recorder("a")
	if err != nil || r == nil || r.Objective().Name != "a" {
		t.Fatalf("Recorder(%q) = %v, %v, want the recorder of %q", "a", r, err, "a")
	}
	if r2, _ := eng.Recorder("a"); r2 != r {
		t.Errorf("Recorder(%q) = %p, then %p, want the same recorder", "a", r, r2)
	}
	eng.Tick(t0)
	if got := objectiveStatus(t, eng.Status(), "a").Totals; got != (budget.Counts{}) {
		t.Errorf("Totals after recording only unknown names = %+v, want zero", got)
	}
}

func TestInitialStatus(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}, {Name: "b", Target: 0.99, Latency: time.Second}})
	record(t, eng, "a", budget.Good, 0, 10)
	st := eng.Status()
	if !st.Time.IsZero() || st.Faults != 0 || len(st.Objectives) != 2 {
		t.Fatalf("Status() before Tick = %+v, want zero Time, no faults, 2 objectives", st)
	}
	for i, name := range []string{"a", "b"} {
		o := st.Objectives[i]
		if o.Objective.Name != name || o.Report.State != budget.StateUnknown || o.Report.Remaining != 1 ||
			o.Report.TimeToExhaustion != budget.Never || o.Totals != (budget.Counts{}) || o.Neutral != 0 {
			t.Errorf("Status().Objectives[%d] before Tick = %+v, want %q unknown with remaining 1, never exhausted, no events", i, o, name)
		}
	}
	if ev := eng.Events(); len(ev) != 0 {
		t.Errorf("Events() before Tick = %v, want none", ev)
	}

	// A Tick with no events keeps the state unknown and sends no event.
	empty := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	empty.Tick(t0)
	if st := empty.Status(); !st.Time.Equal(t0) || st.Objectives[0].Report.State != budget.StateUnknown {
		t.Errorf("Status() after an empty Tick(%v) = %+v, want Time %v, unknown", t0, st, t0)
	}
	if ev := empty.Events(); len(ev) != 0 {
		t.Errorf("Events() after an empty Tick = %v, want none", ev)
	}
}

// TestStatusUnchanged checks that a Status that Engine.Status returned,
// before the first evaluation and after, does not change when the engine
// evaluates again with other counts, while other goroutines collect the
// metrics, which read the latest Status, and then also read the latest
// Status themselves.
func TestStatusUnchanged(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	eng, tick := steadyEngine(t, 3, slo.WithMeterProvider(mp))
	initial := eng.Status()
	wantInitial := fmt.Sprintf("%+v", *initial)
	for range 5 {
		tick()
	}
	held := eng.Status()
	want := fmt.Sprintf("%+v", *held)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		var rm metricdata.ResourceMetrics
		for ctx.Err() == nil {
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Errorf("Collect() = %v", err)
				return
			}
		}
	})
	// Collections alone lend no Status: these evaluations reuse the
	// memory of the previous ones.
	for range 10 {
		tick()
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			_ = fmt.Sprintf("%+v", *eng.Status())
		}
	})
	for range 10 {
		tick()
	}
	cancel()
	wg.Wait()
	if got := fmt.Sprintf("%+v", *held); got != want {
		t.Errorf("held Status after 20 ticks = %s\nwant %s", got, want)
	}
	if got := fmt.Sprintf("%+v", *initial); got != wantInitial {
		t.Errorf("initial Status after 25 ticks = %s\nwant %s", got, wantInitial)
	}
	if latest := eng.Status(); !latest.Time.After(held.Time) || latest.Objectives[1].Totals == held.Objectives[1].Totals {
		t.Errorf("Status() after 20 ticks = %+v, want a later one with other counts than %+v", latest, held)
	}
}

// A scripted month of one objective: 99.9% over 30 days with the default
// rules. A week of steady good traffic (3600 events an hour), then, evaluated
// every 10s with 10 events per evaluation: a two-minute outage, ten minutes
// of recovery, a twelve-minute outage, ten minutes of recovery; and a month
// later, a little good traffic.
func TestTickScript(t *testing.T) {
	const name = "checkout"
	var (
		eng      *slo.Engine
		handled  []slo.Event
		statuses []*slo.Status // Status as the handler saw it, per event
	)
	eng = newEngine(t, []slo.Objective{{Name: name, Target: 0.999}},
		slo.WithEventHandler(func(ev slo.Event) {
			handled = append(handled, ev)
			statuses = append(statuses, eng.Status())
		}))

	now := t0
	eng.Tick(now)
	var totals budget.Counts
	step := func(d time.Duration, good, bad uint64) {
		t.Helper()
		record(t, eng, name, budget.Good, 0, int(good))
		record(t, eng, name, budget.Bad, 0, int(bad))
		totals = totals.Add(budget.Counts{Good: good, Bad: bad})
		now = now.Add(d)
		eng.Tick(now)
		st := eng.Status()
		if o := objectiveStatus(t, st, name); !st.Time.Equal(now) || o.Totals != totals || !o.Report.Time.Equal(now) {
			t.Fatalf("Tick(%v): Status() Time %v, Totals %+v, Report.Time %v, want %v, %+v, %v", now, st.Time, o.Totals, o.Report.Time, now, totals, now)
		}
	}
	phase := func(d time.Duration, good, bad uint64) {
		t.Helper()
		for end := now.Add(d); now.Before(end); {
			step(10*time.Second, good, bad)
		}
	}
	for range 7 * 24 {
		step(time.Hour, 3600, 0)
	}
	week := now
	phase(2*time.Minute, 0, 10)  // outage
	phase(10*time.Minute, 10, 0) // recovery
	phase(12*time.Minute, 0, 10) // outage
	phase(10*time.Minute, 10, 0) // recovery
	if got := objectiveStatus(t, eng.Status(), name).Report.State; got != budget.StateExhausted {
		t.Errorf("state after the recovery = %v, want exhausted: the bad events stay in the period", got)
	}
	step(31*day, 5, 0) // the outages leave the period

	const good = 7 * 24 * 3600 // events of the first week
	want := []struct {
		time      time.Time
		from, to  budget.State
		remaining float64
	}{
		// The first events make the state known.
		{t0.Add(time.Hour), budget.StateUnknown, budget.StateOK, 1},
		// page-1h fires once 1h and 5m both burn at 14.4: both hold the
		// last hourly batch of 3600 and the outage, so at 60 bad events
		// (the 6th evaluation): 60/3660/0.001 = 16.4. 50 gives 13.9.
		{week.Add(time.Minute), budget.StateOK, budget.StatePage, 1 - 60/(0.001*(good+60))},
		// page-1h resets when the outage leaves the 5m window: the last
		// bad events came at +2m.
		{week.Add(7 * time.Minute), budget.StatePage, budget.StateOK, 1 - 120/(0.001*(good+120+300))},
		// The first evaluation of the second outage fires again: 5m holds
		// 10 bad of 300 (burn 33), 1h still burns at 30.
		{week.Add(12*time.Minute + 10*time.Second), budget.StateOK, budget.StatePage, 1 - 130/(0.001*(good+130+600))},
		// Spent when bad > 0.001 × total: 610 > 606.01 at the 49th bad
		// evaluation, not at the 48th (600 < 606).
		{week.Add(20*time.Minute + 10*time.Second), budget.StatePage, budget.StateExhausted, 1 - 610/(0.001*(good+610+600))},
		// A month later only the last 5 good events are in the period.
		{now, budget.StateExhausted, budget.StateOK, 1},
	}
	// Releases freeze with the exhausted budget and go on again a month
	// later, after the state changes of the same evaluations.
	all := eng.Events()
	if got := freezeEvents(all); !slices.Equal(got, []string{
		week.Add(20*time.Minute+10*time.Second).Format(time.RFC3339) + " frozen",
		now.Format(time.RFC3339) + " not frozen",
	}) {
		t.Errorf("FreezeChanged events = %q, want frozen with the exhausted budget and not frozen a month later", got)
	}
	if len(handled) != len(all) {
		t.Fatalf("handler got %d events, Events() = %d, want the same", len(handled), len(all))
	}
	// The state changes, and the Status the handler saw with each.
	var events []slo.Event
	for i, ev := range all {
		if ev.Kind == slo.StateChanged {
			events = append(events, ev)
			statuses[len(events)-1] = statuses[i]
		}
	}
	statuses = statuses[:len(events)]
	handled = stateEvents(handled)
	if len(events) != len(want) || len(handled) != len(want) {
		t.Fatalf("Events() = %d events, handler got %d, want %d:\n%s", len(events), len(handled), len(want), eventLines(events))
	}
	for i, w := range want {
		ev := events[i]
		if !ev.Time.Equal(w.time) || ev.Kind != slo.StateChanged || ev.Objective != name || ev.From != w.from || ev.To != w.to ||
			math.Abs(ev.Remaining-w.remaining) > 1e-12 {
			t.Errorf("Events()[%d] = %v at %v (kind %v), want %q: %v → %v (remaining %.4f%%) at %v",
				i, ev, ev.Time, ev.Kind, name, w.from, w.to, w.remaining*100, w.time)
		}
		// The handler got the same event, and the Status of the same
		// evaluation explains it.
		if h := handled[i]; h.String() != ev.String() || !h.Time.Equal(ev.Time) {
			t.Errorf("handler event %d = %v, want %v", i, h, ev)
		}
		rep := objectiveStatus(t, statuses[i], name).Report
		if !statuses[i].Time.Equal(ev.Time) || rep.State != ev.To || rep.Remaining != ev.Remaining {
			t.Errorf("Status() in handler for event %d = %v, %v, remaining %v, want %v, %v, %v",
				i, statuses[i].Time, rep.State, rep.Remaining, ev.Time, ev.To, ev.Remaining)
		}
		wantWindows := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, day, 3 * day}
		if len(ev.Burns) != len(wantWindows) {
			t.Fatalf("Events()[%d].Burns = %v, want the %d windows of the default rules", i, ev.Burns, len(wantWindows))
		}
		for j, b := range ev.Burns {
			if b.Window != wantWindows[j] || b.Burn != rep.Windows[j].Burn || b.Burn < 0 {
				t.Errorf("Events()[%d].Burns[%d] = %+v, want {%v %v}", i, j, b, wantWindows[j], rep.Windows[j].Burn)
			}
		}
	}
	// Spot checks of the burns: the page at +1m, by the numbers above.
	if b := events[1].Burns[0].Burn; math.Abs(b-60.0/3660/0.001) > 1e-9 {
		t.Errorf("5m burn at the first page = %v, want %v", b, 60.0/3660/0.001)
	}
	if b := events[5].Burns[0].Burn; b != 0 {
		t.Errorf("5m burn a month later = %v, want 0", b)
	}
}

func eventLines(events []slo.Event) string {
	var b strings.Builder
	for _, ev := range events {
		fmt.Fprintf(&b, "\t%v %v\n", ev.Time.Format(time.RFC3339), ev)
	}
	return b.String()
}

// cycling is an objective whose state is easy to move: one good event makes
// it ok, one bad one then spends the budget, and two minutes without events
// make it unknown again.
var cycling = slo.Objective{Name: "cycling", Target: 0.5, Period: time.Minute, Rules: []budget.Rule{}}

// cycle drives eng (with the cycling objective) through unknown → ok →
// exhausted → unknown, starting at *now, which it advances.
func cycle(t *testing.T, eng *slo.Engine, now *time.Time) {
	t.Helper()
	record(t, eng, cycling.Name, budget.Good, 0, 1)
	*now = now.Add(time.Second)
	eng.Tick(*now)
	record(t, eng, cycling.Name, budget.Bad, 0, 1)
	*now = now.Add(time.Second)
	eng.Tick(*now)
	*now = now.Add(2 * time.Minute)
	eng.Tick(*now)
}

// TestTimeline checks Events against a model: the latest size events of
// every kind and, besides them, of the kept changes (every event here is
// one: state changes and freezes, minutes apart: one episode) the first
// quarter and the latest others.
func TestTimeline(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 6, 7, 100} {
		for _, kept := range []int{1, 5, 100} {
			t.Run(fmt.Sprintf("%d,%d", size, kept), func(t *testing.T) {
				testTimeline(t, size, kept)
			})
		}
	}
}

func testTimeline(t *testing.T, size, kept int) {
	var all []slo.Event
	eng := newEngine(t, []slo.Objective{cycling}, slo.WithTimelineSize(size), slo.WithKeptChanges(kept),
		slo.WithEventHandler(func(ev slo.Event) { all = append(all, ev) }))
	now := t0
	for range 3 {
		cycle(t, eng, &now)
		got := eng.Events()
		head := kept / 4
		var want []slo.Event
		for i, ev := range all {
			if i < head || i >= len(all)-(kept-head) || i >= len(all)-size {
				want = append(want, ev)
			}
		}
		if !equalEvents(got, want) {
			t.Errorf("Events() after %d events with timeline size %d, %d changes kept =\n%swant\n%s", len(all), size, kept, eventLines(got), eventLines(want))
		}
	}
	// Each cycle: three state changes, releases frozen while
	// exhausted and going on again once unknown.
	if len(all) != 15 {
		t.Fatalf("handler got %d events, want 15:\n%s", len(all), eventLines(all))
	}
	// The result is a copy.
	if got := eng.Events(); len(got) > 0 {
		orig := got[0].Objective
		got[0].Objective = "changed"
		if eng.Events()[0].Objective != orig {
			t.Errorf("Events() shares its result with the timeline")
		}
	}
}

func equalEvents(a, b []slo.Event) bool {
	return slices.EqualFunc(a, b, func(x, y slo.Event) bool {
		return x.Time.Equal(y.Time) && x.Kind == y.Kind && x.Objective == y.Objective && x.From == y.From && x.To == y.To &&
			x.Remaining == y.Remaining && slices.Equal(x.Burns, y.Burns) &&
			x.Gate == y.Gate && x.Enabled == y.Enabled && x.Frozen == y.Frozen && x.Reason == y.Reason
	})
}

func TestTimeBackwards(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.9}})
	record(t, eng, "a", budget.Good, 0, 9)
	eng.Tick(t0)
	record(t, eng, "a", budget.Bad, 0, 1)
	eng.Tick(t0.Add(-time.Hour)) // the clock stepped back: taken as t0
	st := eng.Status()
	o := objectiveStatus(t, st, "a")
	if !st.Time.Equal(t0) || !o.Report.Time.Equal(t0) {
		t.Errorf("Tick(t0 - 1h) after Tick(t0): Status().Time, Report.Time = %v, %v, want %v", st.Time, o.Report.Time, t0)
	}
	if w := o.Report.Windows[0]; w.Counts != (budget.Counts{Good: 9, Bad: 1}) || o.Report.Period != w.Counts {
		t.Errorf("Tick(t0 - 1h) after Tick(t0): 5m window %+v, period %+v, want 9 good and 1 bad in both", w.Counts, o.Report.Period)
	}
	eng.Tick(t0.Add(time.Second))
	if got := eng.Status().Time; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("Tick(t0 + 1s): Status().Time = %v, want %v", got, t0.Add(time.Second))
	}
	for _, ev := range eng.Events() {
		if ev.Time.Before(t0) {
			t.Errorf("event %v at %v, before the latest evaluation %v", ev, ev.Time, t0)
		}
	}
}

// TestHandlers checks that handlers are called in order, with no lock held:
// each one calls back into the engine.
func TestHandlers(t *testing.T) {
	var (
		eng   *slo.Engine
		calls []string
	)
	handler := func(id string) func(slo.Event) {
		return func(ev slo.Event) {
			// Each of these would deadlock if the engine held a lock.
			st := eng.Status()
			switch ev.Kind {
			case slo.StateChanged:
				calls = append(calls, fmt.Sprintf("%s %v→%v", id, ev.From, ev.To))
				if got := st.Objectives[0].Report.State; got != ev.To {
					t.Errorf("%s: Status() in handler of %v = %v, want the state it changed to", id, ev, got)
				}
			case slo.FreezeChanged:
				calls = append(calls, fmt.Sprintf("%s frozen=%v", id, ev.Frozen))
				if got := st.Release.Frozen; got != ev.Frozen {
					t.Errorf("%s: Status().Release.Frozen in handler of %v = %v, want %v", id, ev, got, ev.Frozen)
				}
			default:
				t.Errorf("%s: unexpected event %v", id, ev)
			}
			// The timeline holds the evaluation's events before any
			// handler hears of them.
			got := eng.Events()
			if !slices.ContainsFunc(got, func(x slo.Event) bool { return equalEvents([]slo.Event{x}, []slo.Event{ev}) }) {
				t.Errorf("%s: Events() in handler of %v = %v, want it to hold the event", id, ev, got)
			}
			if rec, err := eng.Recorder(cycling.Name); err != nil {
				t.Errorf("%s: Recorder in handler = %v, want nil", id, err)
			} else {
				rec.Record(budget.Neutral, 0)
			}
			_ = eng.Status().Objectives
		}
	}
	eng = newEngine(t, []slo.Objective{cycling}, slo.WithEventHandler(handler("first")), slo.WithEventHandler(handler("second")))
	now := t0
	cycle(t, eng, &now)
	// Releases freeze with the spent budget and go on once it is unknown.
	want := []string{
		"first unknown→ok", "second unknown→ok",
		"first ok→exhausted", "second ok→exhausted",
		"first frozen=true", "second frozen=true",
		"first exhausted→unknown", "second exhausted→unknown",
		"first frozen=false", "second frozen=false",
	}
	if !slices.Equal(calls, want) {
		t.Errorf("handler calls = %q, want %q", calls, want)
	}
	eng.Tick(now.Add(time.Second))
	if got := objectiveStatus(t, eng.Status(), cycling.Name).Neutral; got != uint64(len(want)) {
		t.Errorf("Neutral after %d Records from handlers = %d, want %d", len(want), got, len(want))
	}
}

func TestHandlerPanic(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	var after []string
	eng := newEngine(t, []slo.Objective{cycling}, slo.WithLogger(logger),
		slo.WithEventHandler(func(ev slo.Event) {
			if ev.To == budget.StateOK {
				panic("boom")
			}
		}),
		slo.WithEventHandler(func(ev slo.Event) {
			if ev.Kind == slo.StateChanged {
				after = append(after, ev.To.String())
			}
		}))

	record(t, eng, cycling.Name, budget.Good, 0, 1)
	eng.Tick(t0) // unknown → ok: the first handler panics
	if got := eng.Status().Faults; got != 0 {
		t.Errorf("Status().Faults at the Tick that panicked = %d, want 0: counted from the next", got)
	}
	eng.Tick(t0.Add(time.Second))
	if got := eng.Status().Faults; got != 1 {
		t.Errorf("Status().Faults at the next Tick = %d, want 1", got)
	}
	record(t, eng, cycling.Name, budget.Bad, 0, 1)
	eng.Tick(t0.Add(2 * time.Second)) // ok → exhausted: no panic
	if got := eng.Status().Faults; got != 1 {
		t.Errorf("Status().Faults after a Tick without panic = %d, want 1", got)
	}
	if want := []string{"ok", "exhausted"}; !slices.Equal(after, want) {
		t.Errorf("second handler got %q, want %q: a panic in the first must not stop it", after, want)
	}

	want := []map[string]any{
		{"level": "INFO", "msg": "sloguard: objective state changed", "objective": "cycling", "from": "unknown", "to": "ok", "remaining": 1.0},
		{"level": "ERROR", "msg": "sloguard: event handler panicked", "objective": "cycling", "panic": "boom"},
		{"level": "WARN", "msg": "sloguard: objective state changed", "objective": "cycling", "from": "ok", "to": "exhausted", "remaining": 0.0},
		// The spent budget freezes releases.
		{"level": "WARN", "msg": "sloguard: release freeze changed", "frozen": true, "reason": "cycling has 0.0% of its budget left, at most 0.0%"},
	}
	var got []map[string]any
	sc := bufio.NewScanner(&logs)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		got = append(got, m)
	}
	if len(got) != len(want) {
		t.Fatalf("log = %d lines, want %d:\n%s", len(got), len(want), logs.String())
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("log line %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestLogLevels checks the level of state change lines: warnings for page
// and exhausted, information otherwise; and of release freezes: a warning
// when releases freeze, information when they go on.
func TestLogLevels(t *testing.T) {
	var logs bytes.Buffer
	eng := newEngine(t, []slo.Objective{cycling}, slo.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	now := t0
	cycle(t, eng, &now)
	want := []string{
		`level=INFO msg="sloguard: objective state changed" objective=cycling from=unknown to=ok remaining=1`,
		`level=WARN msg="sloguard: objective state changed" objective=cycling from=ok to=exhausted remaining=0`,
		`level=WARN msg="sloguard: release freeze changed" frozen=true reason="cycling has 0.0% of its budget left, at most 0.0%"`,
		`level=INFO msg="sloguard: objective state changed" objective=cycling from=exhausted to=unknown remaining=1`,
		`level=INFO msg="sloguard: release freeze changed" frozen=false reason=""`,
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("log = %q, want %d lines", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("log line %d = %q, want it to end with %q", i, lines[i], w)
		}
	}
}

func TestEventString(t *testing.T) {
	tests := []struct {
		in   slo.Event
		want string
	}{
		{
			slo.Event{Objective: "checkout", From: budget.StateOK, To: budget.StatePage, Remaining: 0.971,
				Burns: []slo.WindowBurn{{5 * time.Minute, 1000}, {time.Hour, 41.25}}},
			"checkout: ok → page (remaining 97.1%, burn 5m=1e+03 1h=41.2)",
		},
		{slo.Event{Objective: "a", From: budget.StateExhausted, To: budget.StateUnknown, Remaining: -0.5}, "a: exhausted → unknown (remaining -50.0%, burn)"},
		{slo.Event{Kind: slo.StateChanged, Objective: "a", From: budget.StateOK, To: budget.StateTicket, Remaining: 0.5}, "a: ok → ticket (remaining 50.0%, burn)"},
		{slo.Event{Kind: slo.SheddingChanged, FromLevel: 0, Level: 1.25}, "shed level 0.00 → 1.25"},
		{slo.Event{Kind: slo.BreakerChanged, Dependency: "payments", BreakerFrom: slo.BreakerClosed, BreakerTo: slo.BreakerOpen},
			"breaker payments: closed → open"},
		{slo.Event{Kind: slo.GateChanged, Gate: "recommendations", Enabled: false, Reason: "checkout is in state page"},
			"gate recommendations: disabled (checkout is in state page)"},
		{slo.Event{Kind: slo.GateChanged, Gate: "recommendations", Enabled: true}, "gate recommendations: enabled"},
		{slo.Event{Kind: slo.FreezeChanged, Frozen: true, Reason: "checkout has 0.0% of its budget left, at most 0.0%"},
			"releases frozen (checkout has 0.0% of its budget left, at most 0.0%)"},
		{slo.Event{Kind: slo.FreezeChanged, Frozen: false}, "releases may go on"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   slo.EventKind
		want string
	}{
		{slo.StateChanged, "state_changed"}, {slo.SheddingChanged, "shed_changed"}, {slo.BreakerChanged, "breaker_changed"},
		{slo.GateChanged, "gate_changed"}, {slo.FreezeChanged, "freeze_changed"},
		{slo.SnapshotRestored, "snapshot_restored"}, {slo.SnapshotRefused, "snapshot_refused"},
		{slo.SnapshotFailed, "snapshot_failed"}, {slo.SnapshotRecovered, "snapshot_recovered"}, {slo.ViewChanged, "view_changed"},
		{0, "event_kind(0)"}, {slo.ViewChanged + 1, fmt.Sprintf("event_kind(%d)", slo.ViewChanged+1)}, {255, "event_kind(255)"},
	} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("EventKind(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
}

// TestEventsCopied checks that Events returns copies: changing a returned
// event's burn rates does not change the timeline.
func TestEventsCopied(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	rec, err := eng.Recorder("a")
	if err != nil {
		t.Fatal(err)
	}
	rec.Record(budget.Bad, 0)
	eng.Tick(t0)
	// The state change, then the freeze of releases by the spent budget.
	first := eng.Events()
	if len(first) != 2 || first[0].Kind != slo.StateChanged || len(first[0].Burns) == 0 || first[1].Kind != slo.FreezeChanged {
		t.Fatalf("Events() = %+v, want a state change with burn rates and a freeze", first)
	}
	want := first[0].Burns[0].Burn
	first[0].Burns[0].Burn = -1
	if got := eng.Events()[0].Burns[0].Burn; got != want {
		t.Errorf("Events()[0].Burns[0].Burn = %v after changing a copy, want %v", got, want)
	}
}

// stateEvents returns the StateChanged events of evs.
func stateEvents(evs []slo.Event) []slo.Event {
	var out []slo.Event
	for _, ev := range evs {
		if ev.Kind == slo.StateChanged {
			out = append(out, ev)
		}
	}
	return out
}

// freezeEvents describes the FreezeChanged events of evs, one string each:
// the time and "frozen" or "not frozen".
func freezeEvents(evs []slo.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Kind == slo.FreezeChanged {
			s := "not frozen"
			if ev.Frozen {
				s = "frozen"
			}
			out = append(out, ev.Time.Format(time.RFC3339)+" "+s)
		}
	}
	return out
}

func TestRecorders(t *testing.T) {
	eng := newEngine(t, []slo.Objective{
		{Name: "a", Target: 0.999},
		{Name: "b", Target: 0.99, Latency: time.Second},
		{Name: "dep", Target: 0.99, Dependency: "payments"},
	})
	recs, err := eng.Recorders("b", "a")
	if err != nil || len(recs) != 2 || recs[0].Objective().Name != "b" || recs[1].Objective().Name != "a" {
		t.Fatalf("Recorders(b, a) = %v, %v, want the recorders of b and a", recs, err)
	}
	_, err = eng.Recorders("a", "nope", "a", "dep")
	if !errors.Is(err, slo.ErrUnknownObjective) || !errors.Is(err, slo.ErrInvalidOption) {
		t.Errorf("Recorders(a, nope, a, dep) = %v, want ErrUnknownObjective and ErrInvalidOption", err)
	}
	checkMentions(t, err, []string{`unknown objective "nope"`, `objective "a" is named twice`, `objective "dep" is of dependency "payments"`})
}
