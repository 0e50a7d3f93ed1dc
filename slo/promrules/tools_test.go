package promrules_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promrules"
)

// docs decodes a YAML stream into generic documents.
func docs(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("decoding %s: %v", b, err)
		}
		out = append(out, m)
	}
}

// path walks nested maps and lists by keys and indexes.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

var latency = promrules.SLO{Service: "checkout", Objective: slo.Objective{Name: "checkout_latency", Target: 0.99, Latency: 300 * time.Millisecond, Period: 28 * 24 * time.Hour}}

func TestSlothSpec(t *testing.T) {
	other := promrules.SLO{Service: "search", Objective: slo.Objective{Name: "search-availability", Target: 0.995}}
	b, err := promrules.SlothSpec(promrules.Config{}, availability, latency, other)
	if err != nil {
		t.Fatalf("SlothSpec = %v", err)
	}
	ds := docs(t, b)
	if len(ds) != 2 {
		t.Fatalf("SlothSpec: %d documents, want one per service:\n%s", len(ds), b)
	}
	for _, c := range []struct {
		keys []any
		want any
	}{
		{[]any{0, "version"}, "prometheus/v1"},
		{[]any{0, "service"}, "checkout"},
		{[]any{0, "slos", 0, "name"}, "checkout-availability"},
		{[]any{0, "slos", 0, "objective"}, 99.9},
		{[]any{0, "slos", 0, "sli", "events", "error_query"}, `sum(rate(sloguard_events_total{job="checkout",objective="checkout-availability",outcome=~"bad|shed"}[{{.window}}]))`},
		{[]any{0, "slos", 0, "sli", "events", "total_query"}, `sum(rate(sloguard_events_total{job="checkout",objective="checkout-availability",outcome=~"good|bad|shed"}[{{.window}}]))`},
		{[]any{0, "slos", 0, "alerting", "name"}, "CheckoutAvailability"},
		{[]any{0, "slos", 1, "objective"}, 99},
		{[]any{1, "service"}, "search"},
		{[]any{1, "slos", 0, "objective"}, 99.5},
	} {
		d := ds[c.keys[0].(int)]
		if got := path(d, c.keys[1:]...); got != c.want {
			t.Errorf("SlothSpec %v = %v (%T), want %v", c.keys, got, got, c.want)
		}
	}
}

func TestPyrraSpec(t *testing.T) {
	b, err := promrules.PyrraSpec(promrules.Config{ServiceLabel: "service_name"}, availability, latency)
	if err != nil {
		t.Fatalf("PyrraSpec = %v", err)
	}
	ds := docs(t, b)
	if len(ds) != 2 {
		t.Fatalf("PyrraSpec: %d documents, want one per objective:\n%s", len(ds), b)
	}
	for _, c := range []struct {
		keys []any
		want any
	}{
		{[]any{0, "apiVersion"}, "pyrra.dev/v1alpha1"},
		{[]any{0, "kind"}, "ServiceLevelObjective"},
		{[]any{0, "metadata", "name"}, "checkout-availability"},
		{[]any{0, "spec", "target"}, "99.9"},
		{[]any{0, "spec", "window"}, "30d"},
		{[]any{0, "spec", "indicator", "ratio", "errors", "metric"}, `sloguard_events_total{service_name="checkout",objective="checkout-availability",outcome=~"bad|shed"}`},
		{[]any{0, "spec", "indicator", "ratio", "total", "metric"}, `sloguard_events_total{service_name="checkout",objective="checkout-availability",outcome=~"good|bad|shed"}`},
		{[]any{1, "metadata", "name"}, "checkout-latency"}, // a Kubernetes name
		{[]any{1, "spec", "target"}, "99"},
		{[]any{1, "spec", "window"}, "28d"},
	} {
		if got := path(ds[c.keys[0].(int)], c.keys[1:]...); got != c.want {
			t.Errorf("PyrraSpec %v = %v, want %v", c.keys, got, c.want)
		}
	}
}

func TestToolSpecErrors(t *testing.T) {
	custom := promrules.SLO{Service: "s", Objective: slo.Objective{Name: "custom", Target: 0.99, Rules: budget.DefaultRules()[:1]}}
	monthly := promrules.SLO{Service: "s", Objective: slo.Objective{Name: "monthly", Target: 0.99, Calendar: budget.Calendar{Unit: budget.Month}}}
	weekly := promrules.SLO{Service: "s", Objective: slo.Objective{Name: "weekly", Target: 0.99, Period: 7 * 24 * time.Hour}}
	_, err := promrules.SlothSpec(promrules.Config{}, custom, monthly, weekly)
	for _, want := range []string{`objective 0 ("custom")`, "custom rules", `objective 1 ("monthly")`, "calendar period month UTC", `objective 2 ("weekly")`, "Sloth's periods are 30d and 28d"} {
		if !errors.Is(err, promrules.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("SlothSpec = %v, want it to mention %q", err, want)
		}
	}
	if _, err := promrules.PyrraSpec(promrules.Config{}, weekly); err != nil {
		t.Errorf("PyrraSpec(7 days) = %v, want any rolling period", err)
	}
	if _, err := promrules.PyrraSpec(promrules.Config{}, custom); err == nil || !strings.Contains(err.Error(), "custom rules") {
		t.Errorf("PyrraSpec(custom rules) = %v", err)
	}
}
