package bench

import (
	"testing"

	"github.com/sloguard/sloguard/slo/metrics"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// op is one request or call through a subject; an error fails the
// benchmark.
type op func() error

// subject is one way to serve the operation that BenchmarkHTTP or
// BenchmarkGRPC times: bare, behind the peer, behind sloguard.
type subject struct {
	name string
	// build returns a source of the operation, called once by each
	// goroutine that times it so that each has its own request, and a
	// check, run after the timed loop, that the subject recorded n
	// operations.
	build func(b *testing.B) (newOp func() op, verify func(b *testing.B, n int))
}

// runSubjects times each subject's operation as the sub-benchmarks
// <name>/serial (one goroutine) and <name>/parallel (b.RunParallel,
// GOMAXPROCS goroutines), building the subject afresh for each and
// checking its records after the timer stops. ratios.sh reads these names.
func runSubjects(b *testing.B, subjects []subject) {
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				newOp, verify := s.build(b)
				o := newOp()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := o(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				verify(b, b.N)
			})
			b.Run("parallel", func(b *testing.B) {
				newOp, verify := s.build(b)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					o := newOp()
					for pb.Next() {
						if err := o(); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				verify(b, b.N)
			})
		})
	}
}

// nothing is the check of a subject that records nothing.
func nothing(*testing.B, int) {}

// countsHistogram returns the check that the peer's duration histogram
// named metric, read from reader, counts one data point per operation.
func countsHistogram(reader *sdkmetric.ManualReader, peer, metric string) func(b *testing.B, n int) {
	return func(b *testing.B, n int) {
		b.Helper()
		var got uint64
		for _, m := range collect(b, reader) {
			if m.Name != metric {
				continue
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				b.Fatalf("%s is a %T, want metricdata.Histogram[float64]", m.Name, m.Data)
			}
			for _, dp := range hist.DataPoints {
				got += dp.Count
			}
		}
		if got != uint64(n) {
			b.Fatalf("%s %s count = %d, want %d", peer, metric, got, n)
		}
	}
}

// countsEvents returns the check that sloguard, read from reader, recorded
// every operation as an event of both objectives. An operation slower than
// 300ms (a stall on a loaded machine) is a bad event of the latency
// objective, so outcomes are summed.
func countsEvents(reader *sdkmetric.ManualReader) func(b *testing.B, n int) {
	return func(b *testing.B, n int) {
		b.Helper()
		got := eventsByObjective(b, collect(b, reader))
		for _, name := range []string{availObj, latObj} {
			if total(got[name]) != int64(n) {
				b.Fatalf("sloguard %s{objective=%q} = %v, want %d events in all", metrics.Events, name, got[name], n)
			}
		}
	}
}
