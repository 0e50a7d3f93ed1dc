package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

const (
	route    = "GET /items/{id}"
	path     = "/items/42"
	availObj = "items-availability"
	latObj   = "items-latency"

	// otelhttp's server duration histogram: one data point count per request.
	otelDurationMetric = "http.server.request.duration"
)

// newMux returns the one-route mux that all three subjects serve. The
// handler is the same for all: it only sends 200.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(route, ok)
	return mux
}

// ok is the route's handler: it only sends 200.
func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// itemsObjectives are the route's objectives: availability 99.9% and latency
// 99% under 300ms, both over the default 30-day period with default rules.
func itemsObjectives() []slo.Objective {
	return []slo.Objective{
		{Name: availObj, Target: 0.999},
		{Name: latObj, Target: 0.99, Latency: 300 * time.Millisecond},
	}
}

// newMeterProvider returns an SDK MeterProvider read by a ManualReader, shut
// down when the benchmark ends.
func newMeterProvider(b *testing.B) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	b.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// newEngine returns a started engine for objs, exporting to a fresh SDK
// MeterProvider and logging nowhere; it is closed when the benchmark ends.
func newEngine(b *testing.B, objs []slo.Objective, opts ...slo.Option) (*slo.Engine, *sdkmetric.ManualReader) {
	b.Helper()
	mp, reader := newMeterProvider(b)
	eng, err := slo.New(objs, append([]slo.Option{slo.WithMeterProvider(mp), slo.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		b.Fatalf("slo.New: %v", err)
	}
	// Registered after the MeterProvider's Shutdown, so it runs first.
	b.Cleanup(func() {
		if err := eng.Close(); err != nil {
			b.Errorf("Engine.Close: %v", err)
		}
	})
	return eng, reader
}

// subject builds one handler under test around the mux, and a check, run
// after the timed loop, that it recorded n requests.
type subject struct {
	name  string
	build func(b *testing.B, mux http.Handler) (h http.Handler, verify func(b *testing.B, n int))
}

var subjects = []subject{
	{"bare", func(b *testing.B, mux http.Handler) (http.Handler, func(*testing.B, int)) {
		return mux, func(*testing.B, int) {}
	}},
	{"otelhttp", func(b *testing.B, mux http.Handler) (http.Handler, func(*testing.B, int)) {
		mp, reader := newMeterProvider(b)
		h := otelhttp.NewHandler(mux, "items",
			otelhttp.WithMeterProvider(mp),
			otelhttp.WithTracerProvider(noop.NewTracerProvider()),
		)
		return h, func(b *testing.B, n int) {
			b.Helper()
			var got uint64
			for _, m := range collect(b, reader) {
				if m.Name != otelDurationMetric {
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
				b.Fatalf("otelhttp %s count = %d, want %d", otelDurationMetric, got, n)
			}
		}
	}},
	{"sloguard", sloguardHTTP(false)},
	{"sloguard-shed", sloguardHTTP(true)},
}

// sloguardHTTP is sloguard's server middleware on the mux's one route, with
// its availability and latency objectives. With shed, shedding is on (the
// concurrency gate) and the route's handler is wrapped with Server.Handle,
// the wiring that routes a request once; without, the mux is wrapped.
func sloguardHTTP(shed bool) func(b *testing.B, mux http.Handler) (http.Handler, func(*testing.B, int)) {
	return func(b *testing.B, mux http.Handler) (http.Handler, func(*testing.B, int)) {
		var opts []slo.Option
		if shed {
			opts = append(opts, slo.WithShedding(slo.ShedPolicy{}))
		}
		eng, reader := newEngine(b, itemsObjectives(), opts...)
		if err := eng.Start(); err != nil {
			b.Fatalf("Engine.Start: %v", err)
		}
		mw, err := middleware.NewServer(eng, middleware.WithRoute(route, availObj, latObj))
		if err != nil {
			b.Fatalf("middleware.NewServer: %v", err)
		}
		h := mw.Wrap(mux)
		if shed {
			m := http.NewServeMux()
			m.Handle(route, mw.Handle(route, http.HandlerFunc(ok)))
			h = m
		}
		return h, func(b *testing.B, n int) {
			b.Helper()
			// Every request is an event of both objectives. A request
			// slower than 300ms (a stall on a loaded machine) counts as bad
			// for the latency objective, so outcomes are summed.
			got := eventsByObjective(b, collect(b, reader))
			for _, name := range []string{availObj, latObj} {
				if total(got[name]) != int64(n) {
					b.Fatalf("sloguard %s{objective=%q} = %v, want %d events in all", slo.MetricEvents, name, got[name], n)
				}
			}
		}
	}
}

// BenchmarkHTTP compares the cost of one request through a bare
// http.ServeMux, the same mux behind otelhttp (metrics to an SDK
// MeterProvider, no-op tracing), and behind sloguard's server middleware
// (two objectives on the route, engine running). See the package doc for how
// to read the results.
func BenchmarkHTTP(b *testing.B) {
	for _, s := range subjects {
		b.Run(s.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				h, verify := s.build(b, newMux())
				r := httptest.NewRequest(http.MethodGet, path, nil)
				// One recorder for all iterations: only the first
				// WriteHeader reaches it, later ones return at its
				// wroteHeader check. Nothing reads it between requests, and
				// the middleware under test sees every WriteHeader call, so
				// resetting it would only add the same allocation to all
				// three subjects.
				w := httptest.NewRecorder()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					h.ServeHTTP(w, r)
				}
				b.StopTimer()
				if w.Code != http.StatusOK {
					b.Fatalf("status = %d, want %d", w.Code, http.StatusOK)
				}
				verify(b, b.N)
			})
			b.Run("parallel", func(b *testing.B) {
				h, verify := s.build(b, newMux())
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					r := httptest.NewRequest(http.MethodGet, path, nil)
					w := httptest.NewRecorder()
					for pb.Next() {
						h.ServeHTTP(w, r)
					}
				})
				b.StopTimer()
				verify(b, b.N)
			})
		})
	}
}

// collect runs one collection of reader and returns all its metrics.
func collect(tb testing.TB, reader *sdkmetric.ManualReader) []metricdata.Metrics {
	tb.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		tb.Fatalf("ManualReader.Collect: %v", err)
	}
	var ms []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		ms = append(ms, sm.Metrics...)
	}
	return ms
}

// eventsByObjective returns sloguard.events by objective and outcome.
func eventsByObjective(tb testing.TB, ms []metricdata.Metrics) map[string]map[string]int64 {
	tb.Helper()
	events := map[string]map[string]int64{}
	for _, m := range ms {
		if m.Name != slo.MetricEvents {
			continue
		}
		sum, ok := m.Data.(metricdata.Sum[int64])
		if !ok {
			tb.Fatalf("%s is a %T, want metricdata.Sum[int64]", m.Name, m.Data)
		}
		for _, dp := range sum.DataPoints {
			obj, _ := dp.Attributes.Value(slo.AttrObjective)
			oc, _ := dp.Attributes.Value(slo.AttrOutcome)
			if events[obj.AsString()] == nil {
				events[obj.AsString()] = map[string]int64{}
			}
			events[obj.AsString()][oc.AsString()] += dp.Value
		}
	}
	return events
}

// total returns the events of all outcomes.
func total(byOutcome map[string]int64) int64 {
	var n int64
	for _, v := range byOutcome {
		n += v
	}
	return n
}
