//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The names sloguard's metrics take in Prometheus through the OpenTelemetry
// exporter's default translation, with their types: what the README's table
// and the rule generator rely on.
var wantPromMetrics = map[string]string{
	"sloguard_events_total":            "counter",
	"sloguard_budget_remaining_ratio":  "gauge",
	"sloguard_burn_rate_ratio":         "gauge",
	"sloguard_state":                   "gauge",
	"sloguard_objective_target_ratio":  "gauge",
	"sloguard_faults_total":            "counter",
	"sloguard_control_burn_rate_ratio": "gauge",   // objectives with 20 admitted events in the control window
	"sloguard_shed_level_ratio":        "gauge",   // with shedding on, as here
	"sloguard_shed_rejections_total":   "counter", // with shedding on, as here
	"sloguard_release_frozen":          "gauge",
	"sloguard_gate_enabled":            "gauge", // with gates, as here
}

// Metrics that this test's engine does not export but others do, with
// their types: checked when present, never unexpected.
var optionalPromMetrics = map[string]string{
	"sloguard_breaker_state":           "gauge", // with an objective that has a Dependency
	"sloguard_scale_need_ratio":        "gauge", // once the scale signal is known
	"sloguard_scale_demand_per_second": "gauge", // once the scale signal is known
}

const prometheusConfig = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sloguard
    static_configs:
      - targets: ['%s']
`

// TestPrometheusScrape exports sloguard's metrics through the OpenTelemetry
// Prometheus exporter, by each export path, lets a real Prometheus scrape
// them, and checks them with PromQL against the traffic and the engine's
// Status, including the burn rate an SRE would compute from the counters
// alone.
func TestPrometheusScrape(t *testing.T) {
	promBin := requireBinary(t, "SLOGUARD_PROMETHEUS")
	promtool := requireBinary(t, "SLOGUARD_PROMTOOL")
	for _, path := range exportPaths {
		t.Run(path, func(t *testing.T) { testPrometheusScrape(t, promBin, promtool, path) })
	}
}

func testPrometheusScrape(t *testing.T, promBin, promtool, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	reg := prometheus.NewRegistry()
	eng := exportingEngine(t, path, func(p sdkmetric.Producer) sdkmetric.Reader {
		opts := []otelprom.Option{otelprom.WithRegisterer(reg)}
		if p != nil {
			opts = append(opts, otelprom.WithProducer(p))
		}
		exp, err := otelprom.New(opts...)
		if err != nil {
			t.Fatalf("otelprom.New = %v", err)
		}
		return exp
	})
	// All traffic and the evaluation happen before the first scrape, so
	// every scrape sees the final values.
	ev := valuesOf(driveTraffic(ctx, t, eng))

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	target := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(target.Close)
	exposition, err := httpGet(ctx, target.URL+"/metrics")
	if err != nil {
		t.Fatalf("scraping the exporter: %v", err)
	}
	t.Logf("exposition served to Prometheus:\n%s", exposition)

	dir := t.TempDir()
	prom, api := startPrometheus(ctx, t, promBin, promtool, dir, fmt.Appendf(nil, prometheusConfig, strings.TrimPrefix(target.URL, "http://")))
	first := fmt.Sprintf(`sloguard_events_total{objective=%q,outcome="bad"}`, availability)
	poll(ctx, t, prom, "the first scrape of sloguard's series", func(ctx context.Context) (bool, error) {
		s, err := api.query(ctx, first)
		return len(s) > 0, err
	})

	logSeries(ctx, t, api)

	// Raw counters, one and summed by outcome.
	if got, want := api.one(ctx, t, first), float64(wantCounts[availability].Bad); got != want {
		t.Errorf("%s = %v, want %v", first, got, want)
	}
	for name, c := range wantCounts {
		q := fmt.Sprintf(`sum by (outcome) (sloguard_events_total{objective=%q})`, name)
		got := api.by(ctx, t, q, "outcome")
		want := map[string]float64{}
		for o, n := range c.byOutcome() {
			want[o] = float64(n)
		}
		if !equalValues(got, want) {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
	}

	// Gauges: the engine's own numbers.
	for name := range wantCounts {
		q := fmt.Sprintf(`sloguard_budget_remaining_ratio{objective=%q}`, name)
		if got, want := api.one(ctx, t, q), ev.remaining[name]; !near(got, want) {
			t.Errorf("%s = %v, want %v (Engine.Status)", q, got, want)
		}
		q = fmt.Sprintf(`sloguard_objective_target_ratio{objective=%q}`, name)
		if got, want := api.one(ctx, t, q), targets[name]; got != want {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
		q = fmt.Sprintf(`sloguard_burn_rate_ratio{objective=%q,window="5m"}`, name)
		if got, want := api.one(ctx, t, q), ev.burn[name]["5m"]; !near(got, want) {
			t.Errorf("%s = %v, want %v (Engine.Status)", q, got, want)
		}
		q = fmt.Sprintf(`sloguard_burn_rate_ratio{objective=%q}`, name)
		if got, want := api.by(ctx, t, q, "window"), ev.burn[name]; !equalValues(got, want) || len(got) != len(windows) {
			t.Errorf("%s = %v, want %v (windows %v)", q, got, want, windows)
		}
		q = fmt.Sprintf(`sloguard_state{objective=%q} == 1`, name)
		if got, want := api.by(ctx, t, q, "state"), map[string]float64{ev.state[name]: 1}; !equalValues(got, want) {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
		q = fmt.Sprintf(`count(sloguard_state{objective=%q})`, name)
		if got := api.one(ctx, t, q); got != 5 {
			t.Errorf("%s = %v, want 5 (unknown, ok, ticket, page, exhausted)", q, got)
		}
	}
	if got := api.one(ctx, t, `sum(sloguard_faults_total)`); got != 0 {
		t.Errorf("sum(sloguard_faults_total) = %v, want 0", got)
	}

	// Load shedding: the control signal of every objective, the level and
	// the rejections by criticality.
	if got, want := api.by(ctx, t, `sloguard_control_burn_rate_ratio`, "objective"), ev.controlBurn; !equalValues(got, want) || len(got) != len(targets) {
		t.Errorf("sloguard_control_burn_rate_ratio = %v, want %v (Engine.Status)", got, want)
	}
	if got := api.one(ctx, t, `sloguard_shed_level_ratio`); got != ev.shedLevel {
		t.Errorf("sloguard_shed_level_ratio = %v, want %v (Engine.Status)", got, ev.shedLevel)
	}
	q := `sloguard_shed_rejections_total`
	if got, want := api.by(ctx, t, q, "criticality"), map[string]float64{"SHEDDABLE": 0, "SHEDDABLE_PLUS": 0, "CRITICAL": 0, "CRITICAL_PLUS": 0}; !equalValues(got, want) {
		t.Errorf("%s = %v, want %v", q, got, want)
	}

	// The error budget policy and the gates.
	if got := api.one(ctx, t, `sloguard_release_frozen`); got != ev.frozen {
		t.Errorf("sloguard_release_frozen = %v, want %v (Engine.Status)", got, ev.frozen)
	}
	if got, want := api.by(ctx, t, `sloguard_gate_enabled`, "gate"), ev.gates; !equalValues(got, want) || len(got) != 1 {
		t.Errorf("sloguard_gate_enabled = %v, want %v (Engine.Status)", got, want)
	}

	// The burn rate as an SRE computes it from the counters alone: every
	// event is inside the 5m window, so it must equal the engine's.
	for name, target := range targets {
		q := fmt.Sprintf(`(sum(sloguard_events_total{objective=%q,outcome=~"bad|shed"}) / sum(sloguard_events_total{objective=%q,outcome=~"good|bad|shed"})) / (1 - %v)`, name, name, target)
		got := api.one(ctx, t, q)
		if want := ev.burn[name]["5m"]; !near(got, want) {
			t.Errorf("%s = %v, want %v (the engine's 5m burn)", q, got, want)
		}
		if want := wantCounts[name].burn(target); !near(got, want) {
			t.Errorf("%s = %v, want %v (from the traffic)", q, got, want)
		}
		t.Logf("%s = %v", q, got)

		// The control signal from the counters alone: admitted events
		// only, shed left out.
		q = fmt.Sprintf(`(sum(sloguard_events_total{objective=%q,outcome="bad"}) / sum(sloguard_events_total{objective=%q,outcome=~"good|bad"})) / (1 - %v)`, name, name, target)
		got = api.one(ctx, t, q)
		if want := ev.controlBurn[name]; !near(got, want) {
			t.Errorf("%s = %v, want %v (the engine's control burn)", q, got, want)
		}
		if want := wantCounts[name].controlBurn(target); !near(got, want) {
			t.Errorf("%s = %v, want %v (from the traffic)", q, got, want)
		}
	}
}

// promAPI is a minimal client of Prometheus' HTTP API.
type promAPI struct{ base string }

// sample is one element of an instant vector.
type sample struct {
	labels map[string]string
	value  float64
}

func (p promAPI) get(ctx context.Context, path string, params url.Values, data any) error {
	body, err := httpGet(ctx, p.base+path+"?"+params.Encode())
	if err != nil {
		return err
	}
	var resp struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if resp.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, resp.Error)
	}
	return json.Unmarshal(resp.Data, data)
}

// query evaluates an instant query now.
func (p promAPI) query(ctx context.Context, q string) ([]sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, data.ResultType)
	}
	out := make([]sample, 0, len(data.Result))
	for _, r := range data.Result {
		s, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %s: value %v is not a string", q, r.Value)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q, err)
		}
		out = append(out, sample{labels: r.Metric, value: v})
	}
	return out, nil
}

// one returns the value of a query that must return one sample.
func (p promAPI) one(ctx context.Context, t *testing.T, q string) float64 {
	t.Helper()
	s, err := p.query(ctx, q)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if len(s) != 1 {
		t.Fatalf("query %s returned %d samples, want 1: %v", q, len(s), s)
	}
	return s[0].value
}

// by returns a query's values keyed by one label, which must be unique.
func (p promAPI) by(ctx context.Context, t *testing.T, q, label string) map[string]float64 {
	t.Helper()
	s, err := p.query(ctx, q)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	m := make(map[string]float64, len(s))
	for _, x := range s {
		k, ok := x.labels[label]
		if !ok {
			t.Fatalf("query %s: sample %v has no label %s", q, x.labels, label)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("query %s: two samples with %s=%q", q, label, k)
		}
		m[k] = x.value
	}
	return m
}

func equalValues(got, want map[string]float64) bool {
	return maps.EqualFunc(got, want, near)
}

// logSeries logs every metric the scrape produced, with its type and label
// names, and checks sloguard's against wantPromMetrics.
func logSeries(ctx context.Context, t *testing.T, api promAPI) {
	t.Helper()
	var series []map[string]string
	if err := api.get(ctx, "/api/v1/series", url.Values{"match[]": {`{job="sloguard"}`}}, &series); err != nil {
		t.Fatalf("listing series: %v", err)
	}
	var metadata map[string][]struct {
		Type string `json:"type"`
		Help string `json:"help"`
		Unit string `json:"unit"`
	}
	if err := api.get(ctx, "/api/v1/metadata", url.Values{}, &metadata); err != nil {
		t.Fatalf("reading metadata: %v", err)
	}
	labels := map[string]map[string]bool{}
	values := map[string]map[string]map[string]bool{} // name → label → values
	for _, s := range series {
		name := s["__name__"]
		if name == "up" || strings.HasPrefix(name, "scrape_") {
			continue // made by Prometheus, not scraped
		}
		if labels[name] == nil {
			labels[name] = map[string]bool{}
			values[name] = map[string]map[string]bool{}
		}
		for k, v := range s {
			if k == "__name__" {
				continue
			}
			labels[name][k] = true
			if values[name][k] == nil {
				values[name][k] = map[string]bool{}
			}
			values[name][k][v] = true
		}
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		typ := "?"
		if md := metadata[name]; len(md) > 0 {
			typ = md[0].Type
		}
		fmt.Fprintf(&b, "  %-32s %-8s", name, typ)
		for _, k := range slices.Sorted(maps.Keys(labels[name])) {
			vs := slices.Sorted(maps.Keys(values[name][k]))
			if len(vs) > 8 {
				vs = append(vs[:8], "…")
			}
			fmt.Fprintf(&b, " %s=%s", k, strings.Join(vs, "|"))
		}
		b.WriteByte('\n')
	}
	t.Logf("metrics in Prometheus (name, type, labels=values):\n%s", b.String())

	for name, typ := range wantPromMetrics {
		switch md := metadata[name]; {
		case labels[name] == nil:
			t.Errorf("Prometheus has no series %s; it has %v", name, slices.Sorted(maps.Keys(labels)))
		case len(md) == 0:
			t.Errorf("Prometheus has no metadata for %s", name)
		case md[0].Type != typ:
			t.Errorf("%s has type %s, want %s", name, md[0].Type, typ)
		}
	}
	for name, typ := range optionalPromMetrics {
		if md := metadata[name]; labels[name] != nil && (len(md) == 0 || md[0].Type != typ) {
			t.Errorf("%s has metadata %+v, want type %s", name, md, typ)
		}
	}
	for name := range labels {
		if strings.HasPrefix(name, "sloguard_") && wantPromMetrics[name] == "" && optionalPromMetrics[name] == "" {
			t.Errorf("unexpected metric %s: add it to the README's table and to wantPromMetrics", name)
		}
	}
}
