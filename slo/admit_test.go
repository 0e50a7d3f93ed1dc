package slo_test

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// shedding returns an engine with shedding whose level is 0.5 × hot: one
// availability objective, evaluated once a second, every event bad for hot
// seconds. Nothing goes through Admit meanwhile, so the level rises at Rise,
// 0.5 a second.
func shedding(tb testing.TB, hot int, opts ...slo.Option) *slo.Engine {
	tb.Helper()
	eng := newEngine(tb, []slo.Objective{{Name: "a", Target: 0.999}}, append(opts, slo.WithShedding(slo.ShedPolicy{Rise: 0.5}))...)
	now := t0
	eng.Tick(now)
	for range hot {
		record(tb, eng, "a", slo.Bad, 0, 100)
		now = now.Add(time.Second)
		eng.Tick(now)
	}
	if got, want := eng.Status().Shed.Level, 0.5*float64(hot); got != want {
		tb.Fatalf("Status().Shed.Level after %d hot seconds = %v, want %v", hot, got, want)
	}
	return eng
}

// TestAdmitProbabilistic checks that inside a band the share of rejected
// requests is the level's fraction of it, and that lower bands are all
// rejected and higher ones all admitted.
func TestAdmitProbabilistic(t *testing.T) {
	const draws = 20000
	tests := []struct {
		hot    int // seconds: level 0.5 × hot
		c      slo.Criticality
		lo, hi int // rejections
	}{
		{1, slo.Sheddable, 9000, 11000}, // level 0.5: 45–55%
		{1, slo.SheddablePlus, 0, 0},
		{1, slo.Critical, 0, 0},
		{1, slo.CriticalPlus, 0, 0},
		{3, slo.Sheddable, draws, draws}, // level 1.5
		{3, slo.SheddablePlus, 9000, 11000},
		{3, slo.Critical, 0, 0},
		{5, slo.SheddablePlus, draws, draws}, // level 2.5
		{5, slo.Critical, 9000, 11000},
		{5, slo.CriticalPlus, 0, 0},
		{5, slo.Criticality(9), 9000, 11000}, // unknown: as CRITICAL
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("level %v/%v", 0.5*float64(tt.hot), tt.c), func(t *testing.T) {
			eng := shedding(t, tt.hot)
			var rejected int
			for range draws {
				if _, ok := eng.Admit(tt.c); !ok {
					rejected++
				}
			}
			if rejected < tt.lo || rejected > tt.hi {
				t.Errorf("Admit(%v) at level %v rejected %d of %d, want %d to %d", tt.c, eng.Status().Shed.Level, rejected, draws, tt.lo, tt.hi)
			}
			// Counted by criticality (unknown ones as CRITICAL) at the next
			// evaluation.
			eng.Tick(t0.Add(time.Hour))
			want := [4]uint64{}
			idx := tt.c
			if idx > slo.Sheddable {
				idx = slo.Critical
			}
			want[idx] = uint64(rejected)
			if got := eng.Status().Shed.Rejected; got != want {
				t.Errorf("Status().Shed.Rejected = %v, want %v", got, want)
			}
		})
	}
}

// TestAdmitWithoutShedding checks that without WithShedding Admit admits
// everything, whatever the burn, and Status says shedding is off.
func TestAdmitWithoutShedding(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	check := func(when string) {
		t.Helper()
		for _, c := range append(slo.Criticalities, slo.Criticality(9)) {
			for range 1000 {
				if retry, ok := eng.Admit(c); !ok || retry != 0 {
					t.Fatalf("%s: Admit(%v) = %v, %v, want 0, true", when, c, retry, ok)
				}
			}
		}
		if sh := eng.Status().Shed; sh != (slo.ShedStatus{}) {
			t.Errorf("%s: Status().Shed = %+v, want the zero ShedStatus", when, sh)
		}
	}
	check("before the first Tick")
	now := t0
	eng.Tick(now)
	for i := range 10 {
		record(t, eng, "a", slo.Bad, 0, 100)
		now = now.Add(time.Second)
		eng.Tick(now)
		check(fmt.Sprintf("hot second %d", i+1))
	}
	if o := objectiveStatus(t, eng.Status(), "a"); !o.ControlKnown || o.ControlBurn < 14.4 {
		t.Errorf("ControlKnown, ControlBurn = %v, %v, want true, ≥ 14.4: the signal is computed without shedding too", o.ControlKnown, o.ControlBurn)
	}
}

// TestAdmitBeforeTick checks the state of an engine with shedding that has
// not evaluated yet: enabled, at level 0, admitting everything.
func TestAdmitBeforeTick(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{}))
	if sh := eng.Status().Shed; sh != (slo.ShedStatus{Enabled: true}) {
		t.Errorf("Status().Shed before the first Tick = %+v, want enabled at level 0", sh)
	}
	for _, c := range slo.Criticalities {
		if retry, ok := eng.Admit(c); !ok || retry != 0 {
			t.Errorf("Admit(%v) before the first Tick = %v, %v, want 0, true", c, retry, ok)
		}
	}
}

func TestAdmitAllocs(t *testing.T) {
	for _, hot := range []int{0, 1, 6} { // levels 0, 0.5 and 3
		eng := shedding(t, hot)
		for _, c := range slo.Criticalities {
			if n := testing.AllocsPerRun(1000, func() { eng.Admit(c) }); n != 0 {
				t.Errorf("Admit(%v) at level %v allocates %v times, want 0", c, 0.5*float64(hot), n)
			}
		}
	}
}

// TestAdmitCountsDemand checks that Admit counts the demand by criticality
// that sizes a cut, unknown criticalities as CRITICAL: a CRITICAL demand
// alone is cut to level 2 first, and no further, whatever the overload.
func TestAdmitCountsDemand(t *testing.T) {
	for _, c := range []slo.Criticality{slo.Critical, slo.Criticality(9)} {
		eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{Window: time.Second}))
		eng.Tick(t0)
		for range 1000 {
			if _, ok := eng.Admit(c); !ok {
				t.Fatalf("Admit(%v) at level 0 = _, false, want true", c)
			}
			record(t, eng, "a", slo.Bad, 0, 1)
		}
		eng.Tick(t0.Add(time.Second))
		if got := eng.Status().Shed.Level; got != 2 {
			t.Errorf("after 1000 failed %v requests: Status().Shed.Level = %v, want 2", c, got)
		}
		// Admitted and counted for the next window: now 90% of them go.
		for range 1000 {
			eng.Admit(c)
			record(t, eng, "a", slo.Bad, 0, 1)
		}
		eng.Tick(t0.Add(2 * time.Second))
		if got := eng.Status().Shed.Level; math.Abs(got-2.9) > 1e-9 {
			t.Errorf("after 1000 more: Status().Shed.Level = %v, want 2.9", got)
		}
	}
}

// TestAdmitConcurrent admits from many goroutines while the level moves;
// with -race it checks Admit against the evaluation, and that every
// rejection is counted.
func TestAdmitConcurrent(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{}))
	r, _ := eng.Recorder("a")
	now := t0
	eng.Tick(now)
	const goroutines, perGoroutine = 8, 5000
	var mu sync.Mutex
	var rejected [4]uint64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var mine [4]uint64
			c := slo.Criticalities[g%len(slo.Criticalities)]
			for range perGoroutine {
				if _, ok := eng.Admit(c); !ok {
					mine[c]++
					r.Record(slo.Shed, 0)
					continue
				}
				r.Record(slo.Bad, 0)
			}
			mu.Lock()
			for i := range mine {
				rejected[i] += mine[i]
			}
			mu.Unlock()
		})
	}
	for range 20 {
		now = now.Add(time.Second)
		eng.Tick(now)
	}
	wg.Wait()
	eng.Tick(now.Add(time.Second))
	if got := eng.Status().Shed.Rejected; got != rejected {
		t.Errorf("Status().Shed.Rejected = %v, want %v", got, rejected)
	}
	if got := objectiveStatus(t, eng.Status(), "a").Totals.Shed; got != rejected[0]+rejected[1]+rejected[2]+rejected[3] {
		t.Errorf("Totals.Shed = %d, want %v", got, rejected)
	}
}

// BenchmarkAdmit measures admission at level 0 (one atomic load and one
// atomic add, the admission counted), inside the SHEDDABLE band at level
// 0.5 (one load, one random draw and one add, half the requests rejected),
// below the level (CRITICAL at 0.5: no draw) and above it (SHEDDABLE at 3:
// no draw, every request rejected). In parallel the add is contended: all
// requests of one criticality count on one cache line.
func BenchmarkAdmit(b *testing.B) {
	for _, bc := range []struct {
		name string
		hot  int
		c    slo.Criticality
	}{
		{"level=0", 0, slo.Sheddable},
		{"level=0.5/sheddable", 1, slo.Sheddable},
		{"level=0.5/critical", 1, slo.Critical},
		{"level=3/sheddable", 6, slo.Sheddable}, // every request rejected and counted
	} {
		eng := shedding(b, bc.hot)
		b.Run(bc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				eng.Admit(bc.c)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					eng.Admit(bc.c)
				}
			})
		})
	}
}
