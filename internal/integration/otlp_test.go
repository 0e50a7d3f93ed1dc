//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// export is one OTLP/HTTP request that reached the sink, or why it could not
// be read.
type export struct {
	req *collectorpb.ExportMetricsServiceRequest
	err error
}

// newOTLPSink starts a loopback OTLP/HTTP JSON receiver for metrics, the
// collector's exporter's destination. Requests arrive on the channel; ones
// that do not fit in it are dropped (the SDK exports again at shutdown).
func newOTLPSink(t *testing.T) (url string, exports <-chan export) {
	t.Helper()
	ch := make(chan export, 16)
	deliver := func(e export) {
		select {
		case ch <- e:
		default:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			deliver(export{err: fmt.Errorf("Content-Type %q, want application/json (exporter encoding: json)", ct)})
			http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			deliver(export{err: fmt.Errorf("reading the request: %w", err)})
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		req := new(collectorpb.ExportMetricsServiceRequest)
		if err := protojson.Unmarshal(body, req); err != nil {
			deliver(export{err: fmt.Errorf("protojson.Unmarshal: %w\n%.2000s", err, body)})
			http.Error(w, "not OTLP JSON", http.StatusBadRequest)
			return
		}
		deliver(export{req: req})
		resp, _ := protojson.Marshal(&collectorpb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(resp)
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

const collectorConfig = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
exporters:
  otlp_http:
    endpoint: %s
    compression: none
    encoding: json
    retry_on_failure:
      enabled: false
    sending_queue:
      enabled: false
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [otlp_http]
`

// TestOTLPToCollector exports sloguard's metrics over OTLP/gRPC to a real
// OpenTelemetry Collector, by each export path, and checks what the
// collector forwards, over OTLP/HTTP JSON, against the traffic and the
// engine's Status.
func TestOTLPToCollector(t *testing.T) {
	otelcol := requireBinary(t, "SLOGUARD_OTELCOL")
	for _, path := range exportPaths {
		t.Run(path, func(t *testing.T) { testOTLPToCollector(t, otelcol, path) })
	}
}

func testOTLPToCollector(t *testing.T, otelcol, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	sinkURL, exports := newOTLPSink(t)
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	config := filepath.Join(t.TempDir(), "otelcol.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, collectorConfig, grpcAddr, sinkURL), 0o644); err != nil {
		t.Fatal(err)
	}
	col := startProcess(t, "otelcol", otelcol, "--config="+config)
	poll(ctx, t, col, "the collector's OTLP gRPC receiver at "+grpcAddr, dialable(grpcAddr))

	exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(grpcAddr), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatalf("otlpmetricgrpc.New = %v", err)
	}
	// Export only on ForceFlush (and Shutdown): one export, one request.
	var reader *sdkmetric.PeriodicReader
	eng := exportingEngine(t, path, func(p sdkmetric.Producer) sdkmetric.Reader {
		opts := []sdkmetric.PeriodicReaderOption{sdkmetric.WithInterval(time.Hour)}
		if p != nil {
			opts = append(opts, sdkmetric.WithProducer(p))
		}
		reader = sdkmetric.NewPeriodicReader(exp, opts...)
		return reader
	})
	st := driveTraffic(ctx, t, eng)
	if err := reader.ForceFlush(ctx); err != nil {
		t.Fatalf("PeriodicReader.ForceFlush = %v", err)
	}

	var req *collectorpb.ExportMetricsServiceRequest
	select {
	case e := <-exports:
		if e.err != nil {
			t.Fatalf("the collector's export: %v", e.err)
		}
		req = e.req
	case <-ctx.Done():
		t.Fatalf("no OTLP request from the collector at %s within %v", sinkURL, testTimeout)
	case <-col.done:
		t.Fatalf("the collector exited: %v", col.err)
	}
	checkOTLP(t, req, valuesOf(st))
}

// checkOTLP checks the metrics of one forwarded request.
func checkOTLP(t *testing.T, req *collectorpb.ExportMetricsServiceRequest, ev engineValues) {
	byName := map[string]*metricspb.Metric{}
	var scopes []string
	for _, rm := range req.GetResourceMetrics() {
		var service string
		for _, kv := range rm.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		if got := service; got != "sloguard-integration" {
			t.Errorf("resource service.name = %q, want %q", got, "sloguard-integration")
		}
		for _, sm := range rm.GetScopeMetrics() {
			scopes = append(scopes, sm.GetScope().GetName())
			if sm.GetScope().GetName() != metrics.Scope {
				continue
			}
			for _, m := range sm.GetMetrics() {
				if byName[m.GetName()] != nil {
					t.Errorf("metric %s appears twice", m.GetName())
				}
				byName[m.GetName()] = m
			}
		}
	}
	if len(byName) == 0 {
		t.Fatalf("no metrics of scope %q arrived; scopes: %q", metrics.Scope, scopes)
	}
	t.Logf("arrived through the collector: scope %q, metrics %v", metrics.Scope, slices.Sorted(maps.Keys(byName)))
	known := []string{
		metrics.Events, metrics.Remaining, metrics.BurnRate, metrics.State, metrics.Target, metrics.Faults,
		metrics.ControlBurn, metrics.ShedLevel, metrics.ShedRejected, metrics.BreakerState,
		metrics.GateEnabled, metrics.ReleaseFrozen, metrics.ScaleNeed, metrics.ScaleDemand,
	}
	for name := range byName {
		if !slices.Contains(known, name) {
			t.Errorf("unexpected metric %s: add it to the README's table and to this test", name)
		}
	}

	metric := func(name, unit string) *metricspb.Metric {
		t.Helper()
		m := byName[name]
		if m == nil {
			t.Fatalf("metric %s did not arrive; got %v", name, slices.Sorted(maps.Keys(byName)))
		}
		if m.GetUnit() != unit {
			t.Errorf("metric %s unit = %q, want %q", name, m.GetUnit(), unit)
		}
		if m.GetDescription() == "" {
			t.Errorf("metric %s has no description", name)
		}
		return m
	}
	sum := func(name, unit string) []*metricspb.NumberDataPoint {
		t.Helper()
		s := metric(name, unit).GetSum()
		if s == nil {
			t.Fatalf("metric %s is not a Sum: %v", name, byName[name].GetData())
		}
		if !s.GetIsMonotonic() {
			t.Errorf("metric %s: IsMonotonic = false, want true", name)
		}
		if got := s.GetAggregationTemporality(); got != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
			t.Errorf("metric %s: temporality %v, want cumulative", name, got)
		}
		return s.GetDataPoints()
	}
	gauge := func(name, unit string) []*metricspb.NumberDataPoint {
		t.Helper()
		g := metric(name, unit).GetGauge()
		if g == nil {
			t.Fatalf("metric %s is not a Gauge: %v", name, byName[name].GetData())
		}
		return g.GetDataPoints()
	}

	// sloguard.events: every outcome of every objective, exactly.
	want := map[string]float64{}
	for name, c := range wantCounts {
		for outcome, n := range c.byOutcome() {
			want[name+"|"+outcome] = float64(n)
		}
	}
	checkPoints(t, metrics.Events, sum(metrics.Events, "{event}"), true, metrics.AttrOutcome, want)

	// sloguard.budget.remaining: the engine's value, and the definition's.
	want = map[string]float64{}
	for name, c := range wantCounts {
		want[name+"|"] = ev.remaining[name]
		if !near(ev.remaining[name], c.remaining(targets[name])) {
			t.Errorf("engine remaining for %s = %v, want %v", name, ev.remaining[name], c.remaining(targets[name]))
		}
	}
	checkPoints(t, metrics.Remaining, gauge(metrics.Remaining, "1"), false, "", want)

	// sloguard.burn_rate: one point per window of the default rules.
	want = map[string]float64{}
	for name := range wantCounts {
		for _, w := range windows {
			b, ok := ev.burn[name][w]
			if !ok {
				t.Errorf("the engine has no window %s for %s; it has %v", w, name, slices.Sorted(maps.Keys(ev.burn[name])))
			}
			want[name+"|"+w] = b
		}
	}
	checkPoints(t, metrics.BurnRate, gauge(metrics.BurnRate, "1"), false, metrics.AttrWindow, want)

	// sloguard.state: 1 for the current state, 0 for the others.
	want = map[string]float64{}
	for name := range wantCounts {
		for _, s := range []string{"unknown", "ok", "ticket", "page", "exhausted"} {
			v := 0.0
			if s == ev.state[name] {
				v = 1
			}
			want[name+"|"+s] = v
		}
	}
	checkPoints(t, metrics.State, gauge(metrics.State, "{state}"), true, metrics.AttrState, want)

	// sloguard.objective.target.
	want = map[string]float64{}
	for name, target := range targets {
		want[name+"|"] = target
	}
	checkPoints(t, metrics.Target, gauge(metrics.Target, "1"), false, "", want)

	// sloguard.control.burn_rate: every objective, admitted events only.
	want = map[string]float64{}
	for name, c := range wantCounts {
		want[name+"|"] = ev.controlBurn[name]
		if !near(ev.controlBurn[name], c.controlBurn(targets[name])) {
			t.Errorf("engine control burn for %s = %v, want %v", name, ev.controlBurn[name], c.controlBurn(targets[name]))
		}
	}
	checkPoints(t, metrics.ControlBurn, gauge(metrics.ControlBurn, "1"), false, "", want)

	// sloguard.shed.level: one point without attributes; and
	// sloguard.shed.rejections: one per criticality, none rejected.
	checkPoints(t, metrics.ShedLevel, gauge(metrics.ShedLevel, "1"), false, "", map[string]float64{"|": ev.shedLevel})
	want = map[string]float64{}
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		want["|"+c.String()] = 0
	}
	checkPoints(t, metrics.ShedRejected, sum(metrics.ShedRejected, "{request}"), true, metrics.AttrCriticality, want)
	if m := byName[metrics.BreakerState]; m != nil {
		t.Errorf("metric %s arrived without dependencies: %v", metrics.BreakerState, m)
	}

	// sloguard.gate.enabled: one point per gate; and
	// sloguard.release.frozen: one point without attributes.
	want = map[string]float64{}
	for name, v := range ev.gates {
		want["|"+name] = v
	}
	checkPoints(t, metrics.GateEnabled, gauge(metrics.GateEnabled, ""), true, metrics.AttrGate, want)
	checkPoints(t, metrics.ReleaseFrozen, gauge(metrics.ReleaseFrozen, ""), true, "", map[string]float64{"|": ev.frozen})

	// sloguard.faults: none, and no attributes at all.
	faults := sum(metrics.Faults, "{fault}")
	if len(faults) != 1 || len(faults[0].GetAttributes()) != 0 || faults[0].GetAsInt() != 0 {
		t.Errorf("metric %s points = %v, want one point 0 without attributes", metrics.Faults, faults)
	}
}

// checkPoints checks that points are exactly want, keyed by
// "objective|<value of attribute key>", that integer metrics carry
// integers, and that no point has an attribute but objective and key.
func checkPoints(t *testing.T, metric string, points []*metricspb.NumberDataPoint, integer bool, key string, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	for _, p := range points {
		attrs := stringAttrs(t, p.GetAttributes())
		for k := range attrs {
			if k != metrics.AttrObjective && k != key {
				t.Errorf("metric %s: point %v has attribute %q; want only %q and %q", metric, attrs, k, metrics.AttrObjective, key)
			}
		}
		var v float64
		switch x := p.GetValue().(type) {
		case *metricspb.NumberDataPoint_AsInt:
			if !integer {
				t.Errorf("metric %s: point %v is an integer, want a double", metric, attrs)
			}
			v = float64(x.AsInt)
		case *metricspb.NumberDataPoint_AsDouble:
			if integer {
				t.Errorf("metric %s: point %v is a double, want an integer", metric, attrs)
			}
			v = x.AsDouble
		default:
			t.Errorf("metric %s: point %v has no value", metric, attrs)
			continue
		}
		k := attrs[metrics.AttrObjective] + "|"
		if key != "" {
			k += attrs[key]
		}
		if _, dup := got[k]; dup {
			t.Errorf("metric %s: two points for %s", metric, k)
		}
		got[k] = v
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("metric %s: no point for %s (want %v)", metric, k, w)
		case !near(g, w):
			t.Errorf("metric %s{%s} = %v, want %v", metric, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("metric %s: unexpected point %s = %v", metric, k, g)
		}
	}
}

// stringAttrs returns attributes that must all be strings as a map.
func stringAttrs(t *testing.T, kvs []*commonpb.KeyValue) map[string]string {
	t.Helper()
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		s, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_StringValue)
		if !ok {
			t.Errorf("attribute %s = %v, want a string", kv.GetKey(), kv.GetValue())
			continue
		}
		m[kv.GetKey()] = s.StringValue
	}
	return m
}
