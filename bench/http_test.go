package bench

import (
	"context"
	"fmt"
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
	"github.com/sloguard/sloguard/slo/metrics"
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

// newMeterProvider returns an SDK MeterProvider with opts, read by a
// ManualReader, shut down when the benchmark ends.
func newMeterProvider(b *testing.B, opts ...sdkmetric.Option) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	b.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(append(opts, sdkmetric.WithReader(reader))...)
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// newEngine returns a started engine for objs, exporting to a fresh SDK
// MeterProvider and logging nowhere; it is closed when the benchmark ends.
func newEngine(b *testing.B, objs []slo.Objective, opts ...slo.Option) (*slo.Engine, *sdkmetric.ManualReader) {
	b.Helper()
	mp, reader := newMeterProvider(b)
	return engineOn(b, mp, objs, opts...), reader
}

// engineOn returns an engine for objs exporting to mp and logging nowhere;
// it is closed when the benchmark ends, before mp shuts down.
func engineOn(b *testing.B, mp *sdkmetric.MeterProvider, objs []slo.Objective, opts ...slo.Option) *slo.Engine {
	b.Helper()
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
	return eng
}

// serve returns the source of one request through h: each goroutine
// reuses its own request and recorder. Only the first WriteHeader reaches
// the recorder, later ones return at its wroteHeader check; the middleware
// under test sees every call, so a fresh recorder per request would only add
// the same allocation to every subject.
func serve(h http.Handler) func() op {
	return func() op {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		w := httptest.NewRecorder()
		return func() error {
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				return fmt.Errorf("status = %d, want %d", w.Code, http.StatusOK)
			}
			return nil
		}
	}
}

var httpSubjects = []subject{
	{"bare", func(*testing.B) (func() op, func(*testing.B, int)) {
		return serve(newMux()), nothing
	}},
	{"otelhttp", func(b *testing.B) (func() op, func(*testing.B, int)) {
		mp, reader := newMeterProvider(b)
		h := otelhttp.NewHandler(newMux(), "items",
			otelhttp.WithMeterProvider(mp),
			otelhttp.WithTracerProvider(noop.NewTracerProvider()),
		)
		return serve(h), countsHistogram(reader, "otelhttp", otelDurationMetric)
	}},
	{"sloguard", sloguardHTTP(false)},
	{"sloguard-shed", sloguardHTTP(true)},
}

// sloguardHTTP is sloguard's server middleware on the mux's one route, with
// its availability and latency objectives. With shed, shedding is on (the
// concurrency gate) and the route's handler is wrapped with Server.Handle,
// the wiring that routes a request once; without, the mux is wrapped.
func sloguardHTTP(shed bool) func(b *testing.B) (func() op, func(*testing.B, int)) {
	return func(b *testing.B) (func() op, func(*testing.B, int)) {
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
		h := mw.Wrap(newMux())
		if shed {
			m := http.NewServeMux()
			m.Handle(route, mw.Handle(route, http.HandlerFunc(ok)))
			h = m
		}
		return serve(h), countsEvents(reader)
	}
}

// BenchmarkHTTP compares the cost of one request through a bare
// http.ServeMux, the same mux behind otelhttp (metrics to an SDK
// MeterProvider, no-op tracing), and behind sloguard's server middleware
// (two objectives on the route, engine running). See the package doc for how
// to read the results.
func BenchmarkHTTP(b *testing.B) { runSubjects(b, httpSubjects) }

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
		if m.Name != metrics.Events {
			continue
		}
		sum, ok := m.Data.(metricdata.Sum[int64])
		if !ok {
			tb.Fatalf("%s is a %T, want metricdata.Sum[int64]", m.Name, m.Data)
		}
		for _, dp := range sum.DataPoints {
			obj, _ := dp.Attributes.Value(metrics.AttrObjective)
			oc, _ := dp.Attributes.Value(metrics.AttrOutcome)
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
