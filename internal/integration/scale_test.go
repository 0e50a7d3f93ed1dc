//go:build integration

package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The scrape job of the scale test: the job and namespace labels that
// Kubernetes service discovery would give the shop's pods, as the
// manifests in examples/autoscaling expect.
const scaleConfig = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ['%s']
        labels:
          namespace: shop
`

// manifestQueries returns the PromQL of examples/autoscaling: the KEDA
// trigger's query, and the prometheus-adapter rule's metricsQuery with the
// series and the label matchers that the HPA's selector and namespace give
// it.
func manifestQueries(t *testing.T) map[string]string {
	t.Helper()
	var keda struct {
		Spec struct {
			Triggers []struct {
				Metadata map[string]string `yaml:"metadata"`
			} `yaml:"triggers"`
		} `yaml:"spec"`
	}
	var adapter struct {
		ExternalRules []struct {
			MetricsQuery string `yaml:"metricsQuery"`
			Name         struct {
				Matches string `yaml:"matches"`
			} `yaml:"name"`
		} `yaml:"externalRules"`
	}
	var hpa struct {
		Metadata struct {
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
		Spec struct {
			Metrics []struct {
				External struct {
					Metric struct {
						Selector struct {
							MatchLabels map[string]string `yaml:"matchLabels"`
						} `yaml:"selector"`
					} `yaml:"metric"`
				} `yaml:"external"`
			} `yaml:"metrics"`
		} `yaml:"spec"`
	}
	for file, v := range map[string]any{"keda.yaml": &keda, "prometheus-adapter.yaml": &adapter, "hpa.yaml": &hpa} {
		b, err := os.ReadFile("../../examples/autoscaling/" + file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	if len(keda.Spec.Triggers) != 1 || len(adapter.ExternalRules) != 1 || len(hpa.Spec.Metrics) != 1 {
		t.Fatalf("examples/autoscaling: want one trigger, one rule and one metric")
	}
	rule := adapter.ExternalRules[0]
	series := strings.Trim(rule.Name.Matches, "^$")
	matchers := []string{fmt.Sprintf("namespace=%q", hpa.Metadata.Namespace)}
	for k, v := range hpa.Spec.Metrics[0].External.Metric.Selector.MatchLabels {
		matchers = append(matchers, fmt.Sprintf("%s=%q", k, v))
	}
	q := strings.NewReplacer("<<.Series>>", series, "<<.LabelMatchers>>", strings.Join(matchers, ",")).Replace(rule.MetricsQuery)
	return map[string]string{"keda.yaml": keda.Spec.Triggers[0].Metadata["query"], "prometheus-adapter.yaml with hpa.yaml": q}
}

// TestScaleSignalInPrometheus lets a real Prometheus scrape a real
// exporter of an engine with shedding, and runs the queries of the
// autoscaling manifests: no result before the signal is known (an
// autoscaler must not read 0), then the engine's own need.
func TestScaleSignalInPrometheus(t *testing.T) {
	promBin := requireBinary(t, "SLOGUARD_PROMETHEUS")
	promtool := requireBinary(t, "SLOGUARD_PROMTOOL")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	queries := manifestQueries(t)

	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		t.Fatalf("otelprom.New = %v", err)
	}
	mp := newMeterProvider(t, exp)
	eng, err := slo.New([]slo.Objective{{Name: availability, Target: targets[availability]}},
		slo.WithMeterProvider(mp),
		slo.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))),
		slo.WithShedding(slo.ShedPolicy{}),
	)
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	target := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(target.Close)

	now := time.Now()
	eng.Tick(now)
	prom, api := startPrometheus(ctx, t, promBin, promtool, t.TempDir(), fmt.Appendf(nil, scaleConfig, strings.TrimPrefix(target.URL, "http://")))
	poll(ctx, t, prom, "the first scrape", func(ctx context.Context) (bool, error) {
		s, err := api.query(ctx, `sloguard_faults_total{job="shop",namespace="shop"}`)
		return len(s) > 0, err
	})
	for name, q := range queries {
		if s, err := api.query(ctx, q); err != nil || len(s) != 0 {
			t.Errorf("%s: %s before any traffic = %v (%v), want no result", name, q, s, err)
		}
	}

	// Traffic at 50/s for 3 seconds, then at 10/s: the need falls from 1
	// toward 0.2 as the capacity learnt is remembered.
	route, err := eng.Route(slo.Critical, availability)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 6; s++ {
		n := 50
		if s > 3 {
			n = 10
		}
		for range n {
			tk, _, ok := route.Admit(slo.Critical)
			if !ok {
				t.Fatal("Admit rejected a request of an idle service")
			}
			tk.Done(budget.Good)
		}
		now = now.Add(time.Second)
		eng.Tick(now)
	}
	sc := eng.Status().Scale
	if !sc.Known || sc.Need >= 1 || sc.Need <= 0.2 {
		t.Fatalf("Status().Scale = %+v, want known with a need in (0.2, 1)", sc)
	}
	for name, q := range queries {
		poll(ctx, t, prom, name+" to return the engine's need", func(ctx context.Context) (bool, error) {
			s, err := api.query(ctx, q)
			if err != nil || len(s) != 1 {
				return false, fmt.Errorf("%s = %v (%v), want one sample", q, s, err)
			}
			if !near(s[0].value, sc.Need) {
				return false, fmt.Errorf("%s = %v, want %v", q, s[0].value, sc.Need)
			}
			return true, nil
		})
		t.Logf("%s: %s = %v, the engine's need", name, q, sc.Need)
	}
}
