package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
	"github.com/sloguard/sloguard/slo/otelsdk"
)

// epoch is the fixed start of simulated time for benchmarks that drive Tick.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// manyObjectives returns n objectives with default rules and period,
// alternately availability 99.9% and latency 99% under 300ms.
func manyObjectives(n int) []slo.Objective {
	objs := make([]slo.Objective, n)
	for i := range objs {
		objs[i] = slo.Objective{Name: fmt.Sprintf("obj-%03d", i), Target: 0.999}
		if i%2 == 1 {
			objs[i].Target, objs[i].Latency = 0.99, 300*time.Millisecond
		}
	}
	return objs
}

func recorder(b *testing.B, eng *slo.Engine, name string) *slo.Recorder {
	b.Helper()
	r, err := eng.Recorder(name)
	if err != nil {
		b.Fatalf("Engine.Recorder(%q): %v", name, err)
	}
	return r
}

// BenchmarkRecord is Recorder.Record alone, for a latency objective (the
// branch with the threshold check): the part of the middleware's cost that
// is sloguard's own bookkeeping. In parallel every goroutine adds to the
// same counter, as every request of one route does.
func BenchmarkRecord(b *testing.B) {
	run := func(b *testing.B, loop func(r *slo.Recorder)) {
		eng, reader := newEngine(b, itemsObjectives())
		r := recorder(b, eng, latObj)
		b.ReportAllocs()
		b.ResetTimer()
		loop(r)
		b.StopTimer()
		if got := eventsByObjective(b, collect(b, reader))[latObj]; got["good"] != int64(b.N) || total(got) != int64(b.N) {
			b.Fatalf("%s{objective=%q} = %v, want %d good", metrics.Events, latObj, got, b.N)
		}
	}
	b.Run("serial", func(b *testing.B) {
		run(b, func(r *slo.Recorder) {
			for range b.N {
				r.Record(budget.Good, 10*time.Millisecond)
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		run(b, func(r *slo.Recorder) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r.Record(budget.Good, 10*time.Millisecond)
				}
			})
		})
	})
}

// scales are the objective counts of the engine's cost benchmarks: a
// service with one objective up to a multi-tenant service with a thousand.
var scales = []int{1, 10, 100, 1000}

// newManyEngine is newEngine for many objectives: its MeterProvider has no
// cardinality limit. The SDK's default, 2000 series per instrument, keeps
// the series of at most 250 objectives of sloguard.burn_rate (eight
// windows each with the default rules) and folds the rest into one
// overflow series.
func newManyEngine(b *testing.B, objs []slo.Objective) (*slo.Engine, *sdkmetric.ManualReader) {
	b.Helper()
	mp, reader := newMeterProvider(b, sdkmetric.WithCardinalityLimit(0))
	return engineOn(b, mp, objs), reader
}

// BenchmarkTick is one evaluation of n objectives (30-day period, default
// rules, alternately availability and latency): fold new events into the
// ledgers, sum every window, evaluate the rules and publish a Status.
// Simulated time steps by the default interval, one second, so buckets
// rotate as they do in production, and every objective records one event
// per tick. The engine is warmed up for ten minutes of simulated time first,
// so the timed ticks are the steady state: no state changes. ns/objective
// is the cost per objective of one tick; the evaluation loop pays it once a
// second per engine, off the request path.
func BenchmarkTick(b *testing.B) {
	for _, n := range scales {
		b.Run(fmt.Sprintf("objectives=%d", n), func(b *testing.B) {
			objs := manyObjectives(n)
			eng, _ := newManyEngine(b, objs)
			recs := make([]*slo.Recorder, n)
			for i, o := range objs {
				recs[i] = recorder(b, eng, o.Name)
			}
			now := epoch
			tick := func(i int) {
				for _, r := range recs {
					r.Record(budget.Good, time.Millisecond)
				}
				now = now.Add(time.Second)
				eng.Tick(now)
			}
			for i := range 600 {
				tick(i)
			}
			before := eng.Status()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				tick(i)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/objective")
			st := eng.Status()
			if !st.Time.Equal(now) {
				b.Fatalf("Status().Time = %v, want %v", st.Time, now)
			}
			for i, os := range st.Objectives {
				if was := before.Objectives[i].Report.State; os.Report.State != was {
					b.Fatalf("objective %s went %v -> %v: not the steady state", os.Objective.Name, was, os.Report.State)
				}
			}
		})
	}
}

// timeCollect times b.N collections of reader, reports the cost per
// objective of one as ns/objective, and returns the last collection.
func timeCollect(b *testing.B, reader *sdkmetric.ManualReader, n int) metricdata.ResourceMetrics {
	b.Helper()
	var rm metricdata.ResourceMetrics
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := reader.Collect(ctx, &rm); err != nil {
			b.Fatalf("ManualReader.Collect: %v", err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/objective")
	return rm
}

// BenchmarkCollect is one ManualReader.Collect of an engine's metrics with
// n objectives, every window holding events (so every burn-rate series is
// exported), by each export path in turn: instruments, the engine's
// observable instruments on an SDK MeterProvider (the default), producer,
// an otelsdk.Producer given to the reader, and floor, what any producer
// of the same data points costs (see floorReader). This is sloguard's
// whole OpenTelemetry cost: it is paid once per export interval, not per
// request. ns/objective is the cost per objective of one collection.
func BenchmarkCollect(b *testing.B) {
	for _, n := range scales {
		for _, path := range []string{"instruments", "producer", "floor"} {
			b.Run(fmt.Sprintf("objectives=%d/%s", n, path), func(b *testing.B) {
				eng, reader := collectEngine(b, n)
				switch path {
				case "producer":
					reader = producerReader(b, eng)
				case "floor":
					reader = floorReader(b, eng)
				}
				rm := timeCollect(b, reader, n)
				checkEvents(b, rm, n)
			})
		}
	}
}

// producerReader returns a ManualReader that collects the metrics of eng
// through an otelsdk.Producer, which takes them over from eng's
// MeterProvider.
func producerReader(b *testing.B, eng *slo.Engine) *sdkmetric.ManualReader {
	b.Helper()
	p, err := otelsdk.New(eng)
	if err != nil {
		b.Fatalf("otelsdk.New: %v", err)
	}
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(p))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return reader
}

// floorReader returns a ManualReader whose one producer returns, at each
// collection, a fresh copy of one collection of eng's otelsdk.Producer:
// the same metrics with the same data points, in as few allocations as any
// producer can use (one array of data points of each type, the metrics,
// their aggregations and the scope), and nothing else. A Producer must
// return fresh memory at every collection (a reader may keep what it
// collected, and reuses it for its next collection), so this is the floor
// under the producer path: what the SDK's data model costs to hand over,
// allocation and garbage collection included, with none of sloguard's
// work. The producer path's cost above it is sloguard's own.
func floorReader(b *testing.B, eng *slo.Engine) *sdkmetric.ManualReader {
	b.Helper()
	p, err := otelsdk.New(eng)
	if err != nil {
		b.Fatalf("otelsdk.New: %v", err)
	}
	sm, err := p.Produce(context.Background())
	if err != nil || len(sm) != 1 {
		b.Fatalf("Produce = %d scopes, %v; want 1 scope", len(sm), err)
	}
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(copier{sm[0]}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return reader
}

// copier is a Producer that returns a fresh copy of one ScopeMetrics of
// int64 sums and gauges and float64 gauges, the kinds sloguard exports.
type copier struct{ sm metricdata.ScopeMetrics }

func (c copier) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	var ints, floats int
	for _, m := range c.sm.Metrics {
		if _, ok := m.Data.(metricdata.Gauge[float64]); ok {
			floats += dataPoints(m)
		} else {
			ints += dataPoints(m)
		}
	}
	intBuf := make([]metricdata.DataPoint[int64], 0, ints)
	floatBuf := make([]metricdata.DataPoint[float64], 0, floats)
	ms := make([]metricdata.Metrics, len(c.sm.Metrics))
	for i, m := range c.sm.Metrics {
		ms[i] = m
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			d.DataPoints = copyPoints(&intBuf, d.DataPoints)
			ms[i].Data = d
		case metricdata.Gauge[int64]:
			d.DataPoints = copyPoints(&intBuf, d.DataPoints)
			ms[i].Data = d
		case metricdata.Gauge[float64]:
			d.DataPoints = copyPoints(&floatBuf, d.DataPoints)
			ms[i].Data = d
		}
	}
	return []metricdata.ScopeMetrics{{Scope: c.sm.Scope, Metrics: ms}}, nil
}

// copyPoints appends points to *buf, whose capacity holds them, and
// returns the copy.
func copyPoints[N int64 | float64](buf *[]metricdata.DataPoint[N], points []metricdata.DataPoint[N]) []metricdata.DataPoint[N] {
	start := len(*buf)
	*buf = append(*buf, points...)
	return (*buf)[start:len(*buf):len(*buf)]
}

// checkEvents checks that rm, the collection of a collectEngine, holds
// sloguard.events of all n objectives, 1000 events each, and nothing twice.
func checkEvents(b *testing.B, rm metricdata.ResourceMetrics, n int) {
	b.Helper()
	if len(rm.ScopeMetrics) != 1 {
		b.Fatalf("collected %d scopes, want 1", len(rm.ScopeMetrics))
	}
	got := eventsByObjective(b, rm.ScopeMetrics[0].Metrics)
	if len(got) != n {
		b.Fatalf("%s has %d objectives, want %d", metrics.Events, len(got), n)
	}
	for name, byOutcome := range got {
		if total(byOutcome) != 1000 {
			b.Fatalf("%s{objective=%q} = %v, want 1000 events in all", metrics.Events, name, byOutcome)
		}
	}
}

// collectEngine returns an engine with n objectives, each with 1000 events
// of which 10% bad, evaluated twice, so that every series of every
// objective has a value, and the reader of its MeterProvider.
func collectEngine(b *testing.B, n int) (*slo.Engine, *sdkmetric.ManualReader) {
	objs := manyObjectives(n)
	eng, reader := newManyEngine(b, objs)
	for _, o := range objs {
		r := recorder(b, eng, o.Name)
		for i := range 1000 {
			oc := budget.Good
			if i%10 == 0 {
				oc = budget.Bad
			}
			r.Record(oc, time.Millisecond)
		}
	}
	eng.Tick(epoch)
	eng.Tick(epoch.Add(time.Second))
	return eng, reader
}

// BenchmarkCollectSDK is the floor under BenchmarkCollect's instruments
// path: the same number of series as the engine exports for n objectives
// (one collection of the engine counts them), observed by one callback
// with precomputed attribute sets and nothing of sloguard's. What the
// instruments path costs above it is sloguard's; the rest is the SDK's,
// about linear in the number of series, and what the producer path saves.
func BenchmarkCollectSDK(b *testing.B) {
	for _, n := range scales {
		b.Run(fmt.Sprintf("objectives=%d", n), func(b *testing.B) {
			series := 0
			_, engReader := collectEngine(b, n)
			for _, m := range collect(b, engReader) {
				series += dataPoints(m)
			}
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithCardinalityLimit(0))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			m := mp.Meter("floor")
			g, err := m.Float64ObservableGauge("floor")
			if err != nil {
				b.Fatalf("Float64ObservableGauge: %v", err)
			}
			sets := make([][]metric.ObserveOption, series)
			for i := range sets {
				sets[i] = []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(
					attribute.Int("objective", i/20), attribute.Int("series", i%20)))}
			}
			if _, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
				for _, s := range sets {
					o.ObserveFloat64(g, 1, s...)
				}
				return nil
			}, g); err != nil {
				b.Fatalf("RegisterCallback: %v", err)
			}
			rm := timeCollect(b, reader, n)
			b.ReportMetric(float64(series)/float64(n), "series/objective")
			if got := dataPoints(rm.ScopeMetrics[0].Metrics[0]); got != series {
				b.Fatalf("collected %d series, want %d", got, series)
			}
		})
	}
}

// dataPoints returns the number of series of m.
func dataPoints(m metricdata.Metrics) int {
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Gauge[int64]:
		return len(d.DataPoints)
	case metricdata.Gauge[float64]:
		return len(d.DataPoints)
	case metricdata.Sum[float64]:
		return len(d.DataPoints)
	}
	return 0
}

// BenchmarkMemoryPerObjective times slo.New with 100 objectives (30-day
// period, default rules) and reports the heap each objective keeps:
// B/objective is the live heap after slo.New with 101 objectives minus that
// with 1, divided by 100, so it leaves out the engine's fixed part (the
// event timeline, maps) and counts the ledger, the Recorder, the status
// entry and the precomputed OpenTelemetry attribute sets. ledger-B/objective
// is budget.Ledger.Bytes, the part fixed by the bucket layout. B/op is what
// slo.New allocates in all, garbage included.
func BenchmarkMemoryPerObjective(b *testing.B) {
	const n = 100
	objs := manyObjectives(n)
	logger := slog.New(slog.DiscardHandler)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.StartTimer()
		eng, err := slo.New(objs, slo.WithMeterProvider(mp), slo.WithLogger(logger))
		if err != nil {
			b.Fatalf("slo.New: %v", err)
		}
		b.StopTimer()
		_ = eng.Close()
		_ = mp.Shutdown(context.Background())
		b.StartTimer()
	}
	b.StopTimer()

	const runs = 3
	var per, fixed float64
	for range runs {
		one, many := liveHeap(b, manyObjectives(1)), liveHeap(b, manyObjectives(n+1))
		p := float64(many-one) / n
		per += p / runs
		fixed += (float64(one) - p) / runs
	}
	b.ReportMetric(per, "B/objective")
	b.ReportMetric(fixed, "B/engine")

	spec := objs[0].Spec()
	l, err := spec.NewLedger()
	if err != nil {
		b.Fatalf("Spec.NewLedger: %v", err)
	}
	b.ReportMetric(float64(l.Bytes()), "ledger-B/objective")
}

// liveHeap returns the live heap that slo.New(objs) adds, after a GC.
func liveHeap(b *testing.B, objs []slo.Objective) int64 {
	b.Helper()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	logger := slog.New(slog.DiscardHandler)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	eng, err := slo.New(objs, slo.WithMeterProvider(mp), slo.WithLogger(logger))
	if err != nil {
		b.Fatalf("slo.New: %v", err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(eng)
	_ = eng.Close()
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
