package slo_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// faultyExporter is an OpenTelemetry exporter that fails every export or,
// when block is set, blocks in it, ignoring its context, until block is
// closed.
type faultyExporter struct {
	block   chan struct{} // nil: fail at once
	exports atomic.Int64
}

var errExport = errors.New("collector unreachable")

func (e *faultyExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return sdkmetric.DefaultTemporalitySelector(k)
}

func (e *faultyExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}

func (e *faultyExporter) Export(context.Context, *metricdata.ResourceMetrics) error {
	e.exports.Add(1)
	if e.block != nil {
		<-e.block
	}
	return errExport
}

func (e *faultyExporter) ForceFlush(context.Context) error { return nil }
func (e *faultyExporter) Shutdown(context.Context) error   { return nil }

// TestExporterFaults runs the engine with a real SDK MeterProvider whose
// PeriodicReader exports to an exporter that blocks forever or fails every
// time: recording, evaluation and Close go on unaffected, and every event
// is in the ledgers and in what a healthy reader of the same provider
// collects.
func TestExporterFaults(t *testing.T) {
	for _, blocking := range []bool{true, false} {
		name := "failing"
		if blocking {
			name = "blocking"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				exp := &faultyExporter{}
				if blocking {
					exp.block = make(chan struct{})
				}
				healthy := sdkmetric.NewManualReader()
				mp := sdkmetric.NewMeterProvider(
					sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp,
						sdkmetric.WithInterval(time.Second), sdkmetric.WithTimeout(time.Second))),
					sdkmetric.WithReader(healthy))
				eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}}, options(
					slo.WithMeterProvider(mp), slo.WithInterval(100*time.Millisecond))...)
				if err != nil {
					t.Fatalf("New error: %v", err)
				}
				start := time.Now()
				if err := eng.Start(); err != nil {
					t.Fatalf("Start() = %v", err)
				}
				rec, err := eng.Recorder("a")
				if err != nil {
					t.Fatal(err)
				}
				const goroutines, perGoroutine = 4, 500
				outcomes := []budget.Outcome{budget.Good, budget.Bad, budget.Shed, budget.Neutral}
				var wg sync.WaitGroup
				for g := range goroutines {
					wg.Go(func() {
						for i := range perGoroutine {
							rec.Record(outcomes[g], 0)
							if i%50 == 0 {
								time.Sleep(time.Second) // across many exports and evaluations
							}
						}
					})
				}
				wg.Wait()
				time.Sleep(time.Second)
				synctest.Wait()

				switch n := exp.exports.Load(); {
				case blocking && n != 1:
					t.Errorf("blocking exporter called %d times, want once: it is still blocked", n)
				case !blocking && n < 10:
					t.Errorf("failing exporter called %d times, want at least 10, once a second", n)
				}
				st := eng.Status()
				if got, want := st.Time.Sub(start), 11*time.Second; got != want {
					t.Errorf("Status().Time = start + %v, want start + %v: evaluation goes on", got, want)
				}
				const per = perGoroutine
				want := budget.Counts{Good: per, Bad: per, Shed: per}
				o := objectiveStatus(t, st, "a")
				if o.Totals != want || o.Neutral != per || o.Report.Period != want {
					t.Errorf("Totals, Neutral, Period = %+v, %d, %+v, want %+v, %d, %+v",
						o.Totals, o.Neutral, o.Report.Period, want, per, want)
				}
				events := sum(t, collect(t, healthy), metrics.Events, "{event}")
				for _, oc := range outcomes {
					key := "objective=a,outcome=" + oc.String()
					if events[key] != per {
						t.Errorf("healthy reader: %s{%s} = %d, want %d", metrics.Events, key, events[key], per)
					}
				}
				closing := time.Now()
				if err := eng.Close(); err != nil {
					t.Errorf("Close() = %v, want nil", err)
				}
				if d := time.Since(closing); d != 0 {
					t.Errorf("Close() took %v with a faulty exporter, want no wait", d)
				}
				if blocking {
					close(exp.block)
				}
				if err := mp.Shutdown(context.Background()); err != nil && !errors.Is(err, errExport) {
					t.Errorf("MeterProvider.Shutdown = %v", err)
				}
			})
		})
	}
}
