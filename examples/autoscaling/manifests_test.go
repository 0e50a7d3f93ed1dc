package autoscaling_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// The manifests' types: the fields the manifests use, decoded strictly, so
// that a misspelt field fails the test.
type (
	objectMeta struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	}
	hpa struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
		Spec       struct {
			ScaleTargetRef struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Name       string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
			Metrics     []struct {
				Type     string `yaml:"type"`
				External struct {
					Metric struct {
						Name     string `yaml:"name"`
						Selector struct {
							MatchLabels map[string]string `yaml:"matchLabels"`
						} `yaml:"selector"`
					} `yaml:"metric"`
					Target struct {
						Type         string `yaml:"type"`
						AverageValue string `yaml:"averageValue"`
					} `yaml:"target"`
				} `yaml:"external"`
			} `yaml:"metrics"`
			Behavior behavior `yaml:"behavior"`
		} `yaml:"spec"`
	}
	behavior struct {
		ScaleUp   *scalingRules `yaml:"scaleUp"`
		ScaleDown *scalingRules `yaml:"scaleDown"`
	}
	scalingRules struct {
		StabilizationWindowSeconds *int `yaml:"stabilizationWindowSeconds"`
		Policies                   []struct {
			Type          string `yaml:"type"`
			Value         int    `yaml:"value"`
			PeriodSeconds int    `yaml:"periodSeconds"`
		} `yaml:"policies"`
	}
	adapterConfig struct {
		ExternalRules []struct {
			SeriesQuery string `yaml:"seriesQuery"`
			Resources   struct {
				Overrides map[string]struct {
					Resource string `yaml:"resource"`
				} `yaml:"overrides"`
			} `yaml:"resources"`
			Name struct {
				Matches string `yaml:"matches"`
				As      string `yaml:"as"`
			} `yaml:"name"`
			MetricsQuery string `yaml:"metricsQuery"`
		} `yaml:"externalRules"`
	}
	scaledObject struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Metadata   objectMeta `yaml:"metadata"`
		Spec       struct {
			ScaleTargetRef struct {
				Name string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicaCount int `yaml:"minReplicaCount"`
			MaxReplicaCount int `yaml:"maxReplicaCount"`
			PollingInterval int `yaml:"pollingInterval"`
			Advanced        struct {
				HorizontalPodAutoscalerConfig struct {
					Behavior behavior `yaml:"behavior"`
				} `yaml:"horizontalPodAutoscalerConfig"`
			} `yaml:"advanced"`
			Triggers []struct {
				Type       string            `yaml:"type"`
				MetricType string            `yaml:"metricType"`
				Metadata   map[string]string `yaml:"metadata"`
			} `yaml:"triggers"`
		} `yaml:"spec"`
	}
)

// load decodes file into v, strictly.
func load(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", file, err)
	}
}

// targetLabels are the labels Prometheus adds to every series it scrapes
// from a Kubernetes pod with the usual relabelling: job and instance always,
// namespace and pod from the pod's metadata.
var targetLabels = []string{"job", "instance", "namespace", "pod"}

// exported is what a sloguard engine exports through the Prometheus
// exporter: the label names by metric family, and the values of the scale
// signal's series.
type exported struct {
	labels map[string][]string
	need   []float64
}

// scrape runs an engine with shedding through a second of traffic, and
// scrapes its Prometheus exporter over loopback HTTP: before and after the
// scale signal is known.
func scrape(t *testing.T) (before, after exported, status slo.ScaleStatus) {
	t.Helper()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	eng, err := slo.New([]slo.Objective{{Name: "checkout-availability", Target: 0.999}},
		slo.WithShedding(slo.ShedPolicy{}), slo.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	eng.Tick(now)
	before = read(t, srv.URL)
	route, err := eng.Route(slo.Critical, "checkout-availability")
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 3; s++ {
		for range 50 {
			tk, _, ok := route.Admit(slo.Critical)
			if ok {
				tk.Done(budget.Good)
			}
		}
		eng.Tick(now.Add(time.Duration(s) * time.Second))
	}
	return before, read(t, srv.URL), eng.Status().Scale
}

func read(t *testing.T, url string) exported {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	ex := exported{labels: map[string][]string{}}
	for name, mf := range fams {
		var labels []string
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
			if name == needSeries {
				ex.need = append(ex.need, m.GetGauge().GetValue())
			}
		}
		ex.labels[name] = labels
	}
	return ex
}

// needSeries is the name sloguard.scale.need takes in Prometheus: the
// exporter turns dots into underscores and adds _ratio for unit "1".
const needSeries = "sloguard_scale_need_ratio"

// selector matches a series selector in PromQL: a metric name and its
// label matchers.
var (
	selector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}`)
	matcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"`)
)

// checkQuery checks that every selector of q names a metric sloguard
// exports, with labels it exports or Prometheus adds.
func checkQuery(t *testing.T, what, q string, ex exported) {
	t.Helper()
	sels := selector.FindAllStringSubmatch(q, -1)
	if len(sels) == 0 {
		t.Errorf("%s: query %q selects no metric", what, q)
	}
	for _, s := range sels {
		labels, ok := ex.labels[s[1]]
		if !ok {
			t.Errorf("%s: query %q selects %s, which sloguard does not export", what, q, s[1])
			continue
		}
		for _, m := range matcher.FindAllStringSubmatch(s[2], -1) {
			if !slices.Contains(labels, m[1]) && !slices.Contains(targetLabels, m[1]) {
				t.Errorf("%s: query %q matches label %q, which %s does not have (it has %v, Prometheus adds %v)",
					what, q, m[1], s[1], labels, targetLabels)
			}
		}
	}
}

func TestManifests(t *testing.T) {
	before, after, st := scrape(t)
	if _, ok := before.labels[needSeries]; ok {
		t.Errorf("%s exported before any traffic, want absent", needSeries)
	}
	if !st.Known || len(after.need) != 1 || after.need[0] != st.Need {
		t.Fatalf("%s = %v after traffic, want the one value %v of Status().Scale %+v", needSeries, after.need, st.Need, st)
	}
	if want := strings.ReplaceAll(metrics.ScaleNeed, ".", "_") + "_ratio"; want != needSeries {
		t.Fatalf("metrics.ScaleNeed %q exports as %q, but the manifests use %q", metrics.ScaleNeed, want, needSeries)
	}

	var h hpa
	load(t, "hpa.yaml", &h)
	if h.APIVersion != "autoscaling/v2" || h.Kind != "HorizontalPodAutoscaler" || h.Metadata.Name == "" ||
		h.Spec.ScaleTargetRef.Kind == "" || h.Spec.ScaleTargetRef.Name == "" || h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < h.Spec.MinReplicas {
		t.Errorf("hpa.yaml: %+v, want an autoscaling/v2 HorizontalPodAutoscaler with a name, a target and 1 ≤ minReplicas ≤ maxReplicas", h)
	}
	if len(h.Spec.Metrics) != 1 {
		t.Fatalf("hpa.yaml: %d metrics, want 1", len(h.Spec.Metrics))
	}
	m := h.Spec.Metrics[0]
	if m.Type != "External" || m.External.Target.Type != "AverageValue" || m.External.Target.AverageValue != "1" {
		t.Errorf("hpa.yaml: metric %+v, want External with an AverageValue target of 1", m)
	}
	if d := h.Spec.Behavior.ScaleDown; d == nil || d.StabilizationWindowSeconds == nil || *d.StabilizationWindowSeconds < 60 {
		t.Errorf("hpa.yaml: no scale-down stabilisation of a minute or more")
	}

	var a adapterConfig
	load(t, "prometheus-adapter.yaml", &a)
	if len(a.ExternalRules) != 1 {
		t.Fatalf("prometheus-adapter.yaml: %d external rules, want 1", len(a.ExternalRules))
	}
	rule := a.ExternalRules[0]
	checkQuery(t, "prometheus-adapter.yaml seriesQuery", rule.SeriesQuery, after)
	if re, err := regexp.Compile(rule.Name.Matches); err != nil || !re.MatchString(needSeries) {
		t.Errorf("prometheus-adapter.yaml: name.matches %q does not match %s (%v)", rule.Name.Matches, needSeries, err)
	}
	if rule.Name.As != m.External.Metric.Name {
		t.Errorf("prometheus-adapter.yaml serves %q, hpa.yaml asks for %q", rule.Name.As, m.External.Metric.Name)
	}
	if !strings.HasPrefix(rule.MetricsQuery, "sum(<<.Series>>{<<.LabelMatchers>>})") {
		t.Errorf("prometheus-adapter.yaml: metricsQuery %q does not sum over the replicas", rule.MetricsQuery)
	}
	for l := range m.External.Metric.Selector.MatchLabels {
		if !slices.Contains(after.labels[needSeries], l) && !slices.Contains(targetLabels, l) {
			t.Errorf("hpa.yaml: selector label %q is neither exported nor added by Prometheus", l)
		}
	}
	for l := range rule.Resources.Overrides {
		if !slices.Contains(targetLabels, l) {
			t.Errorf("prometheus-adapter.yaml: override label %q is not one Prometheus adds", l)
		}
	}

	var k scaledObject
	load(t, "keda.yaml", &k)
	if k.APIVersion != "keda.sh/v1alpha1" || k.Kind != "ScaledObject" || k.Metadata.Name == "" || k.Spec.ScaleTargetRef.Name == "" ||
		k.Spec.MinReplicaCount < 1 || k.Spec.MaxReplicaCount < k.Spec.MinReplicaCount {
		t.Errorf("keda.yaml: %+v, want a keda.sh/v1alpha1 ScaledObject with a name, a target and 1 ≤ min ≤ max", k)
	}
	if len(k.Spec.Triggers) != 1 {
		t.Fatalf("keda.yaml: %d triggers, want 1", len(k.Spec.Triggers))
	}
	tr := k.Spec.Triggers[0]
	md := tr.Metadata
	if tr.Type != "prometheus" || tr.MetricType != "AverageValue" || md["threshold"] != "1" || md["serverAddress"] == "" || md["ignoreNullValues"] != "false" {
		t.Errorf("keda.yaml: trigger %+v, want prometheus, AverageValue, threshold 1, a server and ignoreNullValues false", tr)
	}
	if !strings.HasPrefix(md["query"], "sum(") {
		t.Errorf("keda.yaml: query %q does not sum over the replicas", md["query"])
	}
	checkQuery(t, "keda.yaml query", md["query"], after)
}
