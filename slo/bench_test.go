package slo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

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
			r.Record(slo.Good, 100*time.Millisecond)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Record(slo.Good, 100*time.Millisecond)
			}
		})
	})
	if n := testing.AllocsPerRun(1000, func() { r.Record(slo.Bad, time.Second) }); n != 0 {
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
			o := slo.Good
			if i == 0 {
				o = slo.Bad
			}
			r.Record(o, 0)
		}
		now = now.Add(10 * time.Second)
		eng.Tick(now)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Record(slo.Good, 0)
		now = now.Add(time.Second)
		eng.Tick(now)
	}
}

// BenchmarkCollect measures one collection of one objective's metrics by an
// SDK ManualReader.
func BenchmarkCollect(b *testing.B) {
	eng, reader := newMetered(b, []slo.Objective{{Name: "checkout", Target: 0.999}})
	record(b, eng, "checkout", slo.Good, 0, 1000)
	record(b, eng, "checkout", slo.Bad, 0, 1)
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
// (no state changes) allocates as often with 40 objectives as with one:
// the Status and its arrays, never anything per objective. The engines
// shed, have a dependency's breaker and a gate, so that every step runs.
func TestTickAllocsPerObjective(t *testing.T) {
	allocs := func(n int) float64 {
		objs := []slo.Objective{{Name: "dep", Target: 0.99, Dependency: "payments"}}
		for i := range n {
			objs = append(objs, slo.Objective{Name: fmt.Sprintf("obj-%d", i), Target: 0.999, Latency: time.Second})
		}
		eng := newEngine(t, objs, slo.WithShedding(slo.ShedPolicy{}), slo.WithGate("g", slo.GatePolicy{MinRemaining: 0.25}))
		recs := make([]*slo.Recorder, len(objs))
		for i, o := range objs {
			recs[i], _ = eng.Recorder(o.Name)
		}
		now := t0
		tick := func() {
			for _, r := range recs {
				r.Record(slo.Good, time.Millisecond)
			}
			now = now.Add(time.Second)
			eng.Tick(now)
		}
		for range 60 {
			tick()
		}
		return testing.AllocsPerRun(100, tick)
	}
	one, many := allocs(1), allocs(40)
	if many != one {
		t.Errorf("Tick allocates %v times with 40 objectives, %v with 1: want the same", many, one)
	}
	t.Logf("Tick allocates %v times", one)
}
