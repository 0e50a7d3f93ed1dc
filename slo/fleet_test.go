package slo_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The tests in this file run the engine and its fleet reader inside
// synctest bubbles: time is fake, and a goroutine that outlives Close
// fails the test.

// fakeFleet is a FleetSource whose answer the test sets: per objective, the
// same counts for every window, or an error.
type fakeFleet struct {
	answer atomic.Pointer[fleetAnswer]
	reads  atomic.Int64
}

type fleetAnswer struct {
	counts map[string]slo.FleetCounts // by objective; Window is filled in
	err    error
}

func (f *fakeFleet) set(counts map[string]slo.FleetCounts, err error) {
	f.answer.Store(&fleetAnswer{counts: counts, err: err})
}

func (f *fakeFleet) Read(ctx context.Context, q slo.FleetQuery) ([]slo.FleetCounts, error) {
	f.reads.Add(1)
	a := f.answer.Load()
	if a == nil || a.err != nil {
		if a == nil {
			return nil, errors.New("no answer yet")
		}
		return nil, a.err
	}
	var out []slo.FleetCounts
	for _, o := range q.Objectives {
		c, ok := a.counts[o.Name]
		if !ok {
			continue
		}
		for _, w := range o.Windows {
			c.Objective, c.Window = o.Name, w
			out = append(out, c)
		}
	}
	return out, nil
}

var fleetObjective = []slo.Objective{{Name: "a", Target: 0.99, Period: time.Hour}}

func startFleetEngine(t *testing.T, src slo.FleetSource, p slo.FleetPolicy, opts ...slo.Option) *slo.Engine {
	t.Helper()
	eng, err := slo.New(fleetObjective, options(append(opts, slo.WithFleet(src, p))...)...)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	if err := eng.Start(); err != nil {
		t.Fatalf("Start = %v", err)
	}
	return eng
}

func viewEvents(eng *slo.Engine) []string {
	var out []string
	for _, ev := range eventsOf(eng, slo.ViewChanged) {
		out = append(out, ev.FromView.String()+"→"+ev.ToView.String())
	}
	return out
}

// TestFleetJudges: the budget, the state, gates and the release freeze
// follow the fleet's counts, while this replica's own view, totals and
// control signal stay its own.
func TestFleetJudges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeFleet{}
		src.set(map[string]slo.FleetCounts{"a": {Good: 900, Bad: 100}}, nil)
		eng := startFleetEngine(t, src, slo.FleetPolicy{Every: 10 * time.Second},
			slo.WithGate("g", slo.GatePolicy{MinRemaining: 0.25}))
		record(t, eng, "a", budget.Good, 0, 10)
		time.Sleep(time.Second) // the read at Start is judged by the next evaluation
		synctest.Wait()
		o := objectiveStatus(t, eng.Status(), "a")
		if o.View != slo.ViewFleet || !o.ViewTime.Equal(time.Now().Add(-time.Second)) {
			t.Errorf("View, ViewTime = %v, %v, want fleet read at Start", o.View, o.ViewTime)
		}
		if want := (budget.Counts{Good: 900, Bad: 100}); o.Report.Period != want || o.Report.State != budget.StateExhausted {
			t.Errorf("Report = period %+v, state %v, want the fleet's %+v, exhausted", o.Report.Period, o.Report.State, want)
		}
		if want := (budget.Counts{Good: 10}); o.Local.Period != want || o.Local.State != budget.StateOK || o.Totals != want {
			t.Errorf("Local = period %+v, state %v, Totals %+v, want this replica's %+v, ok", o.Local.Period, o.Local.State, o.Totals, want)
		}
		st := eng.Status()
		if !st.Release.Frozen || st.Gates[0].Enabled {
			t.Errorf("Release.Frozen, gate enabled = %v, %v, want frozen and disabled by the fleet's budget", st.Release.Frozen, st.Gates[0].Enabled)
		}
		if st.Release.RecoveryTime != budget.Never {
			t.Errorf("Release.RecoveryTime = %v, want no estimate on the fleet view", st.Release.RecoveryTime)
		}
		if got := viewEvents(eng); len(got) != 1 || got[0] != "local→fleet" {
			t.Errorf("ViewChanged events = %v, want local→fleet", got)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

// TestFleetFallback: a failing source keeps the last good view up to
// MaxAge, then the engine falls back to its own, and back again.
func TestFleetFallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &fakeFleet{}
		src.set(map[string]slo.FleetCounts{"a": {Good: 1000}}, nil)
		eng := startFleetEngine(t, src, slo.FleetPolicy{Every: 10 * time.Second, MaxAge: time.Minute})
		time.Sleep(time.Second)
		synctest.Wait()
		src.set(nil, errors.New("connection refused"))
		time.Sleep(55 * time.Second)
		synctest.Wait()
		if o := objectiveStatus(t, eng.Status(), "a"); o.View != slo.ViewFleet || o.Report.Period.Good != 1000 {
			t.Errorf("55s into failures: view %v, period %+v, want the last fleet view", o.View, o.Report.Period)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		o := objectiveStatus(t, eng.Status(), "a")
		if o.View != slo.ViewLocal || o.Report.Period.Good != 0 {
			t.Errorf("past MaxAge: view %v, period %+v, want local", o.View, o.Report.Period)
		}
		evs := eventsOf(eng, slo.ViewChanged)
		if len(evs) != 2 || !strings.Contains(evs[1].Reason, "older than 1m0s") || !strings.Contains(evs[1].Reason, "connection refused") {
			t.Errorf("ViewChanged events = %v, want local→fleet, then fleet→local naming the age and the error", evs)
		}
		if eng.Status().Faults == 0 {
			t.Error("failed reads were not counted as faults")
		}
		src.set(map[string]slo.FleetCounts{"a": {Good: 2000}}, nil)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := viewEvents(eng); len(got) != 3 || got[2] != "local→fleet" {
			t.Errorf("ViewChanged events = %v, want back to fleet", got)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

// TestFleetWrongAnswers: counts no backend can mean are refused, as are
// fewer events than this replica alone recorded.
func TestFleetWrongAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		counts slo.FleetCounts
		reason string
	}{
		{"NaN", slo.FleetCounts{Good: math.NaN(), Bad: 1}, "not a number"},
		{"infinite", slo.FleetCounts{Good: 1, Shed: math.Inf(1)}, "not a number"},
		{"negative", slo.FleetCounts{Good: 2000, Bad: -1}, "negative"},
		{"fewer than this replica", slo.FleetCounts{Good: 900}, "fewer than this replica's own 1000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := &fakeFleet{}
				eng := startFleetEngine(t, src, slo.FleetPolicy{Every: 10 * time.Second, Lag: 30 * time.Second})
				record(t, eng, "a", budget.Good, 0, 1000)
				time.Sleep(time.Minute) // the events are older than Lag
				synctest.Wait()
				src.set(map[string]slo.FleetCounts{"a": tt.counts}, nil)
				time.Sleep(11 * time.Second)
				synctest.Wait()
				o := objectiveStatus(t, eng.Status(), "a")
				if o.View != slo.ViewLocal || o.Report.Period.Good != 1000 {
					t.Errorf("view %v, period %+v, want the local view", o.View, o.Report.Period)
				}
				// Refused reads are faults; the reason shows at the next
				// change of view, here when a good answer is followed by
				// wrong ones past MaxAge.
				if eng.Status().Faults == 0 {
					t.Error("no fault counted")
				}
				src.set(map[string]slo.FleetCounts{"a": {Good: 1000}}, nil)
				time.Sleep(11 * time.Second)
				synctest.Wait()
				src.set(map[string]slo.FleetCounts{"a": tt.counts}, nil)
				time.Sleep(6 * time.Minute)
				synctest.Wait()
				evs := eventsOf(eng, slo.ViewChanged)
				if len(evs) != 2 || !strings.Contains(evs[1].Reason, tt.reason) {
					t.Errorf("ViewChanged events = %v, want fleet→local because %q", evs, tt.reason)
				}
				if err := eng.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
			})
		})
	}
}

// TestFleetSlowSource: a source that never answers blocks neither Start,
// the evaluations nor Close, and each read ends at its Timeout.
func TestFleetSlowSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ended atomic.Int64
		src := slo.FleetSourceFunc(func(ctx context.Context, q slo.FleetQuery) ([]slo.FleetCounts, error) {
			<-ctx.Done()
			ended.Add(1)
			return nil, ctx.Err()
		})
		start := time.Now()
		eng := startFleetEngine(t, src, slo.FleetPolicy{Every: 30 * time.Second, Timeout: 5 * time.Second})
		synctest.Wait()
		if eng.Status().Time.IsZero() || time.Since(start) != 0 {
			t.Errorf("Start waited for the source, or the first evaluation did")
		}
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if ended.Load() != 1 {
			t.Errorf("reads ended after 6s = %d, want 1 (its timeout is 5s)", ended.Load())
		}
		time.Sleep(25 * time.Second) // the next read is in flight
		synctest.Wait()
		closing := time.Now()
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		if time.Since(closing) != 0 {
			t.Errorf("Close waited %v for a read in flight", time.Since(closing))
		}
	})
}

// TestFleetSourcePanics: a panicking source is a failed read.
func TestFleetSourcePanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := slo.FleetSourceFunc(func(context.Context, slo.FleetQuery) ([]slo.FleetCounts, error) {
			panic("boom")
		})
		eng := startFleetEngine(t, src, slo.FleetPolicy{})
		time.Sleep(time.Second)
		synctest.Wait()
		if st := eng.Status(); st.Faults == 0 || objectiveStatus(t, st, "a").View != slo.ViewLocal {
			t.Errorf("after a panicking read: faults %d, view %v, want a fault and the local view", st.Faults, objectiveStatus(t, st, "a").View)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

// TestFleetQuery: the source is asked for each objective's period and
// rule windows.
func TestFleetQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan slo.FleetQuery, 1)
		src := slo.FleetSourceFunc(func(_ context.Context, q slo.FleetQuery) ([]slo.FleetCounts, error) {
			select {
			case got <- q:
			default:
			}
			return nil, nil
		})
		eng := startFleetEngine(t, src, slo.FleetPolicy{})
		q := <-got
		want := []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}
		if len(q.Objectives) != 1 || q.Objectives[0].Name != "a" || !equalDurations(q.Objectives[0].Windows, want) || !q.Time.Equal(time.Now()) {
			t.Errorf("FleetQuery = %+v, want a over %v now", q, want)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWithFleetInvalid(t *testing.T) {
	for _, tt := range []struct {
		src  slo.FleetSource
		p    slo.FleetPolicy
		want []string
	}{
		{nil, slo.FleetPolicy{Every: time.Millisecond, Timeout: time.Hour, Lag: -1}, []string{"nil fleet source", "every 1ms", "timeout 1h0m0s", "lag -1ns"}},
		{&fakeFleet{}, slo.FleetPolicy{Every: 2 * time.Hour, MaxAge: 8 * 24 * time.Hour, Lag: 25 * time.Hour}, []string{"every 2h0m0s", "max age 192h0m0s", "lag 25h0m0s"}},
	} {
		_, err := slo.New(fleetObjective, options(slo.WithFleet(tt.src, tt.p))...)
		for _, want := range tt.want {
			if !errors.Is(err, slo.ErrInvalidOption) || !strings.Contains(errText(err), want) {
				t.Errorf("New(WithFleet(%+v)) = %v, want ErrInvalidOption mentioning %q", tt.p, err, want)
			}
		}
	}
}

// TestFleetSourceIgnoresContext: Close waits at most Timeout for a source
// that ignores its context; the reader's goroutine ends when it returns.
func TestFleetSourceIgnoresContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		src := slo.FleetSourceFunc(func(context.Context, slo.FleetQuery) ([]slo.FleetCounts, error) {
			<-release
			return nil, nil
		})
		eng := startFleetEngine(t, src, slo.FleetPolicy{Every: 30 * time.Second, Timeout: 5 * time.Second})
		synctest.Wait()
		closing := time.Now()
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		if d := time.Since(closing); d != 5*time.Second {
			t.Errorf("Close took %v, want the 5s timeout", d)
		}
		close(release)
		synctest.Wait() // the reader returns; the bubble checks it is gone
	})
}

// TestFleetAfterRestore: the events a previous process recorded after its
// last scrape are in its snapshot but never reach the backend; a fleet
// answer without them is not wrong.
func TestFleetAfterRestore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := fileStore(t)
		a, err := slo.New(fleetObjective, options(slo.WithSnapshots(store, time.Minute))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		record(t, a, "a", budget.Good, 0, 1000)
		time.Sleep(time.Minute)
		record(t, a, "a", budget.Good, 0, 50) // never scraped: the process stops
		time.Sleep(5 * time.Second)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Minute) // down, longer than Lag

		src := &fakeFleet{}
		src.set(map[string]slo.FleetCounts{"a": {Good: 1000}}, nil)
		b := startFleetEngine(t, src, slo.FleetPolicy{Every: 10 * time.Second, Lag: 30 * time.Second},
			slo.WithSnapshots(store, time.Minute))
		time.Sleep(time.Second)
		synctest.Wait()
		o := objectiveStatus(t, b.Status(), "a")
		if o.View != slo.ViewFleet || o.Local.Period.Good != 1050 || b.Status().Faults != 0 {
			t.Errorf("view %v, local period %+v, faults %d, want the fleet's 1000 accepted beside the 1050 restored",
				o.View, o.Local.Period, b.Status().Faults)
		}
		// Fewer than the snapshot held before its last Lag is wrong.
		src.set(map[string]slo.FleetCounts{"a": {Good: 900}}, nil)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if b.Status().Faults == 0 {
			t.Error("a fleet answer of 900, below the 1000 restored events older than Lag, was not refused")
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}

// TestFleetCalendar: a calendar period's budget is the time since its
// start, and the fleet is asked for exactly that window, as of its read.
func TestFleetCalendar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		time.Sleep(36 * time.Hour) // into the month
		src := &fakeFleet{}
		src.set(map[string]slo.FleetCounts{"m": {Good: 900, Bad: 100}}, nil)
		var asked atomic.Pointer[slo.FleetQuery]
		spy := slo.FleetSourceFunc(func(ctx context.Context, q slo.FleetQuery) ([]slo.FleetCounts, error) {
			asked.CompareAndSwap(nil, &q)
			return src.Read(ctx, q)
		})
		eng, err := slo.New([]slo.Objective{{Name: "m", Target: 0.99, Calendar: budget.Calendar{Unit: budget.Month}}},
			options(slo.WithFleet(spy, slo.FleetPolicy{Every: 10 * time.Second}))...)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := eng.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		monthStart := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
		want := start.Sub(monthStart) + 1
		if q := asked.Load(); q == nil || !slices.Contains(q.Objectives[0].Windows, want) {
			t.Errorf("FleetQuery = %+v, want the window %v since the month's start", q, want)
		}
		o := objectiveStatus(t, eng.Status(), "m")
		if o.View != slo.ViewFleet || o.Report.Period != (budget.Counts{Good: 900, Bad: 100}) || o.Report.State != budget.StateExhausted {
			t.Errorf("view %v, period %+v, state %v, want the fleet's month, exhausted", o.View, o.Report.Period, o.Report.State)
		}
		if err := eng.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
}
