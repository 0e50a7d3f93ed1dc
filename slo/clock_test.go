package slo_test

import (
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// steppingClock is a clock whose wall reading can step while its monotonic
// reading runs on with the bubble's time.
type steppingClock struct {
	origin time.Time
	step   atomic.Int64 // added to the wall reading
}

func newSteppingClock() *steppingClock { return &steppingClock{origin: time.Now()} }

func (c *steppingClock) clock() slo.TestClock {
	return slo.TestClock{
		Wall:    func() time.Time { return time.Now().Round(0).Add(time.Duration(c.step.Load())) },
		Elapsed: func() time.Duration { return time.Since(c.origin) },
	}
}

// outage records one bad event a second for a minute, with good traffic
// around it, and returns how many bad events it recorded.
func outage(t *testing.T, eng *slo.Engine) uint64 {
	t.Helper()
	for range 60 {
		record(t, eng, "api", budget.Bad, 0, 1)
		record(t, eng, "api", budget.Good, 0, 9)
		time.Sleep(time.Second)
	}
	return 60
}

// TestClockSteps checks that the evaluation loop's windows follow elapsed
// time when the wall clock steps an hour back or forward: a one-minute
// outage leaves the 5m window about five minutes later, not an hour later
// (nor at once), every event is counted exactly, and the step is reported.
func TestClockSteps(t *testing.T) {
	for _, step := range []time.Duration{-time.Hour, time.Hour} {
		t.Run(step.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newSteppingClock()
				logs := &logRecords{}
				eng, err := slo.New([]slo.Objective{{Name: "api", Target: 0.99}},
					options(slo.WithClock(c.clock()), slo.WithLogger(slog.New(logs)))...)
				if err != nil {
					t.Fatalf("New error: %v", err)
				}
				defer eng.Close()
				if err := eng.Start(); err != nil {
					t.Fatalf("Start() = %v", err)
				}
				record(t, eng, "api", budget.Good, 0, 100)
				time.Sleep(10 * time.Minute)

				bad := outage(t, eng)
				c.step.Store(int64(step)) // NTP steps the wall clock
				time.Sleep(2 * time.Second)
				synctest.Wait()
				st := eng.Status()
				if st.ClockOffset != step {
					t.Errorf("Status().ClockOffset after the step = %v, want %v", st.ClockOffset, step)
				}
				if st.Faults != 1 {
					t.Errorf("Status().Faults after the step = %d, want 1: the step counts once", st.Faults)
				}
				if w5 := window(t, st, 5*time.Minute); w5.Counts.Bad != bad {
					t.Errorf("5m window right after the outage and the step holds %d bad events, want %d", w5.Counts.Bad, bad)
				}

				// Five minutes and a bucket after the outage ended, it has
				// left the 5m window, by elapsed time.
				time.Sleep(5*time.Minute + 10*time.Second)
				synctest.Wait()
				st = eng.Status()
				if w5 := window(t, st, 5*time.Minute); w5.Counts.Bad != 0 {
					t.Errorf("5m window 5m after the outage = %+v, want no bad events", w5.Counts)
				}
				if w1h := window(t, st, time.Hour); w1h.Counts.Bad != bad {
					t.Errorf("1h window 5m after the outage holds %d bad events, want %d", w1h.Counts.Bad, bad)
				}
				o := objectiveStatus(t, st, "api")
				want := budget.Counts{Good: 100 + 9*bad, Bad: bad}
				if o.Totals != want || o.Report.Period != want {
					t.Errorf("Totals, Period = %+v, %+v, want %+v: every event counted once", o.Totals, o.Report.Period, want)
				}
				// 10m, the 1m outage, 2s, 5m10s: the time that elapsed.
				if got, want := st.Time.Sub(c.origin), 16*time.Minute+12*time.Second; got != want {
					t.Errorf("Status().Time is %v after the start, want %v: elapsed time", got, want)
				}
				if st.Faults != 1 {
					t.Errorf("Status().Faults = %d, want 1", st.Faults)
				}
				var steps []string
				for _, l := range logs.get() {
					if strings.Contains(l, "clock") {
						steps = append(steps, l)
					}
				}
				wantLog := []string{"sloguard: the wall clock stepped; windows keep following elapsed time step=" + step.String()}
				if !slices.Equal(steps, wantLog) {
					t.Errorf("log lines about the clock = %q, want %q: logged once", steps, wantLog)
				}
			})
		})
	}
}

// window returns the report's window of length w of objective "api".
func window(t *testing.T, st *slo.Status, w time.Duration) budget.Window {
	t.Helper()
	rep := objectiveStatus(t, st, "api").Report
	x, ok := rep.Window(w)
	if !ok {
		t.Fatalf("Report.Window(%v) = _, false", w)
	}
	return x
}
