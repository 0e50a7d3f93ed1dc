package slo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// benchObjective is a latency objective, so that Record takes its longest
// path (the threshold check).
var benchObjective = slo.Objective{Name: "checkout", Target: 0.999, Latency: 300 * time.Millisecond}

func BenchmarkRecorderRecord(b *testing.B) {
	eng := newEngine(b, []slo.Objective{benchObjective})
	r, err := eng.Recorder(benchObjective.Name)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.Record(budget.Good, 100*time.Millisecond)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Record(budget.Good, 100*time.Millisecond)
			}
		})
	})
	if n := testing.AllocsPerRun(1000, func() { r.Record(budget.Bad, time.Second) }); n != 0 {
		b.Errorf("Recorder.Record allocates %v times, want 0", n)
	}
}

// BenchmarkTick measures one evaluation of one objective (default rules, 30
// days) whose ledger holds a day of traffic evaluated every 10s.
func BenchmarkTick(b *testing.B) {
	eng := newEngine(b, []slo.Objective{{Name: "checkout", Target: 0.999}})
	r, _ := eng.Recorder("checkout")
	now := t0
	for range 24 * 360 {
		for i := range 100 {
			o := budget.Good
			if i == 0 {
				o = budget.Bad
			}
			r.Record(o, 0)
		}
		now = now.Add(10 * time.Second)
		eng.Tick(now)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Record(budget.Good, 0)
		now = now.Add(time.Second)
		eng.Tick(now)
	}
}

// BenchmarkCollect measures one collection of one objective's metrics by an
// SDK ManualReader.
func BenchmarkCollect(b *testing.B) {
	eng, reader := newMetered(b, []slo.Objective{{Name: "checkout", Target: 0.999}})
	record(b, eng, "checkout", budget.Good, 0, 1000)
	record(b, eng, "checkout", budget.Bad, 0, 1)
	eng.Tick(t0)
	ctx := context.Background()
	var rm metricdata.ResourceMetrics
	b.ReportAllocs()
	for b.Loop() {
		if err := reader.Collect(ctx, &rm); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTickAllocsPerObjective checks that an evaluation in the steady state
// (no state changes, no events) allocates nothing, with one objective as
// with 40. The engines run every step: they shed, have a dependency's
// breaker, a gate kept closed and releases kept frozen by a spent
// objective (so that both reasons are built), the scale signal (a route
// admits a request per evaluation) and a history that samples at every
// evaluation.
func TestTickAllocsPerObjective(t *testing.T) {
	for _, n := range []int{1, 40} {
		t.Run(fmt.Sprintf("objectives=%d", n), func(t *testing.T) {
			var events int
			eng, tick := steadyEngine(t, n, slo.WithEventHandler(func(slo.Event) { events++ }))
			for range 60 {
				tick()
			}
			before := events
			if got := testing.AllocsPerRun(100, tick); got != 0 {
				t.Errorf("Tick allocates %v times, want 0", got)
			}
			if events != before {
				t.Errorf("%d events during the steady state, want none", events-before)
			}
			checkEveryStep(t, eng)
		})
	}
}

// steadyEngine returns an engine of n service objectives, the first of
// them spent, and a dependency's, with opts besides, and a function that
// records an event of each and ticks a second later. The spent objective's
// event goes through a Route, so that admission counts the demand of the
// scale signal.
func steadyEngine(t testing.TB, n int, opts ...slo.Option) (*slo.Engine, func()) {
	t.Helper()
	objs := []slo.Objective{{Name: "dep", Target: 0.99, Dependency: "payments"}}
	for i := range n {
		objs = append(objs, slo.Objective{Name: fmt.Sprintf("obj-%d", i), Target: 0.999, Latency: time.Second})
	}
	eng := newEngine(t, objs, append([]slo.Option{slo.WithShedding(slo.ShedPolicy{}),
		slo.WithGate("g", slo.GatePolicy{MinRemaining: 0.25}), slo.WithReleasePolicy(slo.ReleasePolicy{FreezeOnPage: true}),
		slo.WithHistory(time.Second, 10)}, opts...)...)
	spent, err := eng.Route(slo.Critical, "obj-0")
	if err != nil {
		t.Fatal(err)
	}
	var good []*slo.Recorder // the dependency's and the healthy objectives'
	for _, o := range slices.Delete(slices.Clone(objs), 1, 2) {
		r, _ := eng.Recorder(o.Name)
		good = append(good, r)
	}
	now := t0
	return eng, func() {
		if tk, _, ok := spent.Admit(slo.Critical); ok {
			tk.Done(budget.Bad)
		}
		for _, r := range good {
			r.Record(budget.Good, time.Millisecond)
		}
		now = now.Add(time.Second)
		eng.Tick(now)
	}
}

// checkEveryStep checks that the engine of steadyEngine ran every step.
func checkEveryStep(t *testing.T, eng *slo.Engine) {
	t.Helper()
	st := eng.Status()
	if !st.Release.Frozen || st.Release.Reason == "" {
		t.Errorf("Status().Release = %+v, want frozen with a reason", st.Release)
	}
	if g := st.Gates[0]; g.Enabled || g.Reason == "" {
		t.Errorf("Status().Gates[0] = %+v, want closed with a reason", g)
	}
	if !st.Shedding.Enabled || len(st.Breakers) != 1 || !st.Scale.Known {
		t.Errorf("Status() = %+v, want shedding, a breaker and the scale signal", st)
	}
	if got := len(eng.LoadHistory()); got != 10 {
		t.Errorf("len(LoadHistory()) = %d, want 10", got)
	}
}
