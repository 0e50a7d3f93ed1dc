package openslo_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/openslo"
)

func read(t *testing.T, path string) openslo.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return openslo.File{Name: path, Data: b}
}

func TestDecode(t *testing.T) {
	slos, err := openslo.Decode(read(t, "testdata/checkout.yaml"))
	if err != nil {
		t.Fatalf("Decode = %v", err)
	}
	if len(slos) != 2 {
		t.Fatalf("Decode = %d SLOs, want 2", len(slos))
	}
	av, lat := slos[0], slos[1]

	if av.Objective.Name != "checkout-availability" || av.Objective.Target != 0.999 || av.Objective.Period != 30*24*time.Hour ||
		av.Objective.Latency != 0 || av.Objective.Rules != nil || av.Service != "checkout" ||
		!slices.Equal(av.Routes, []string{"POST /checkout"}) || av.Methods != nil || av.Objective.Description != "Checkouts that do not fail." {
		t.Errorf("availability = %+v", av)
	}
	if av.Source.File != "testdata/checkout.yaml" || av.Source.Doc != 1 || av.Source.Kind != "SLO" || av.Source.Line != 30 {
		t.Errorf("availability source = %+v, want testdata/checkout.yaml document 1 line 30", av.Source)
	}

	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if lat.Objective.Name != "checkout-latency" || lat.Objective.Target != 0.99 || lat.Objective.Latency != 300*time.Millisecond ||
		lat.Objective.Calendar.Unit != budget.Month || lat.Objective.Calendar.Location.String() != berlin.String() ||
		!slices.Equal(lat.Methods, []string{"/shop.Checkout/Pay"}) {
		t.Errorf("latency = %+v", lat)
	}
	wantRules := []budget.Rule{
		{Severity: budget.Page, Long: time.Hour, Short: 5 * time.Minute, Burn: 14.4},
		{Severity: budget.Ticket, Long: 24 * time.Hour, Short: 2 * time.Hour, Burn: 3},
	}
	if !slices.Equal(lat.Objective.Rules, wantRules) {
		t.Errorf("latency rules = %+v, want %+v", lat.Objective.Rules, wantRules)
	}
	if want := []time.Duration{2 * time.Minute, 0}; !slices.Equal(lat.AlertAfter, want) {
		t.Errorf("latency AlertAfter = %v, want %v", lat.AlertAfter, want)
	}
	// What the engine accepts.
	if _, err := slo.New([]slo.Objective{av.Objective, lat.Objective}); err != nil {
		t.Errorf("slo.New(decoded) = %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	_, err := openslo.Decode(read(t, "testdata/invalid.yaml"))
	if err == nil {
		t.Fatal("Decode(invalid.yaml) = nil error")
	}
	if !errors.Is(err, openslo.ErrInvalid) || !errors.Is(err, openslo.ErrUnsupported) {
		t.Errorf("Decode error %v: want both ErrInvalid and ErrUnsupported", err)
	}
	var e *openslo.Error
	if !errors.As(err, &e) {
		t.Fatalf("Decode error %T: want *openslo.Error", err)
	}
	for _, want := range []string{
		"testdata/invalid.yaml:7: document 1 (SLO broken): spec.indicatorRef: openslo: invalid document: no SLI named \"nowhere\"",
		"testdata/invalid.yaml:9: document 1 (SLO broken): spec.timeWindow[0].duration: openslo: not supported: calendar period 1Q",
		"testdata/invalid.yaml:11: document 1 (SLO broken): spec.budgetingMethod: openslo: not supported: Timeslices",
		"testdata/invalid.yaml:13: document 1 (SLO broken): spec.objectives[0].target: openslo: invalid document: 1.5 is not in (0, 1)",
		"testdata/invalid.yaml:19: document 1 (SLO broken): spec.alertPolicies[0].spec.conditions[0].spec.severity: openslo: not supported: \"sev1\"",
		"testdata/invalid.yaml:21: document 1 (SLO broken): spec.alertPolicies[0].spec.conditions[0].spec.condition.op: openslo: not supported: lte",
		"testdata/invalid.yaml:25: document 2 (SLI prom): apiVersion: openslo: not supported: \"openslo/v2alpha\"",
		"testdata/invalid.yaml:34: document 2 (SLI prom): spec.ratioMetric.good.metricSource.type: openslo: not supported: \"Prometheus\"",
		"testdata/invalid.yaml:42: document 2 (SLI prom): spec.ratioMetric.total.metricSource.spec.tresholds: openslo: invalid document: unknown field",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Decode error lacks\n\t%s\ngot:\n%v", want, err)
		}
	}
}

func TestDecodeSmallErrors(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"not yaml", "a: [", "x.yaml:1: document 1: openslo: invalid document: yaml:"},
		{"no kind", "apiVersion: openslo/v1\nmetadata: {name: a}\n", "x.yaml:1: document 1: kind: openslo: invalid document: missing"},
		{"two objectives of a threshold", `apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: s
  indicator:
    spec:
      thresholdMetric: {metricSource: {type: sloguard, spec: {routes: [GET /]}}}
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 0.1, target: 0.9}, {op: lte, value: 0.2, target: 0.99}]
`, "x.yaml:10: document 1 (SLO a): spec.objectives: openslo: invalid document: a thresholdMetric SLI takes exactly one objective, not 2"},
		{"different bindings", `apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: s
  indicator:
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: sloguard, spec: {routes: [GET /a]}}}
        total: {metricSource: {type: sloguard, spec: {routes: [GET /b]}}}
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`, "x.yaml:10: document 1 (SLO a): spec.indicator.spec.ratioMetric.good.metricSource: openslo: invalid document: binds routes"},
		{"calendar start", `apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: s
  indicator:
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: sloguard, spec: {routes: [GET /a], latency: 250ms}}}
        total: {metricSource: {type: sloguard, spec: {routes: [GET /a]}}}
  timeWindow: [{duration: 1w, calendar: {startTime: "2024-01-03 00:00:00", timeZone: UTC}}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
`, "x.yaml:12: document 1 (SLO a): spec.timeWindow[0].calendar.startTime: openslo: not supported: 2024-01-03 00:00:00: sloguard's weeks start at 00:00 on a Monday"},
		{"inline policy of another kind", inlineAlert("kind: Policy", "kind: AlertCondition"),
			"x.yaml:13: document 1 (SLO a): spec.alertPolicies[0].kind: openslo: invalid document: \"Policy\", want AlertPolicy"},
		{"inline condition of another kind", inlineAlert("kind: AlertPolicy", "kind: Condition"),
			"x.yaml:16: document 1 (SLO a): spec.alertPolicies[0].spec.conditions[0].kind: openslo: invalid document: \"Condition\", want AlertCondition"},
		{"policy ref to nothing", inlineAlert("alertPolicyRef: nowhere", "kind: AlertCondition"),
			"x.yaml:13: document 1 (SLO a): spec.alertPolicies[0].alertPolicyRef: openslo: invalid document: no AlertPolicy named \"nowhere\""},
		{"condition ref to nothing", inlineAlert("kind: AlertPolicy", "conditionRef: nowhere"),
			"x.yaml:16: document 1 (SLO a): spec.alertPolicies[0].spec.conditions[0].conditionRef: openslo: invalid document: no AlertCondition named \"nowhere\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openslo.Decode(openslo.File{Name: "x.yaml", Data: []byte(c.yaml)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Decode = %v, want %s", err, c.want)
			}
		})
	}
}

// inlineAlert returns an SLO whose alert policy's first line is policy and
// whose condition's first line is condition: a kind (inline) or a
// reference.
func inlineAlert(policy, condition string) string {
	return `apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: s
  indicator:
    spec:
      thresholdMetric: {metricSource: {type: sloguard, spec: {routes: [GET /]}}}
  budgetingMethod: Occurrences
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives: [{op: lte, value: 0.1, target: 0.9}]
  alertPolicies:
    - ` + policy + `
      spec:
        conditions:
          - ` + condition + `
            spec:
              severity: page
              condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h}
`
}

func TestEncodeDecode(t *testing.T) {
	in, err := openslo.Decode(read(t, "testdata/checkout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	custom := openslo.SLO{
		Service: "search",
		Methods: []string{"/shop.Search/Find"},
		Objective: slo.Objective{Name: "search-latency", Target: 0.95, Latency: 2 * time.Second, Period: 7 * 24 * time.Hour,
			Rules: []budget.Rule{{Severity: budget.Page, Long: 2 * time.Hour, BudgetFraction: 0.05}}},
	}
	in = append(in, custom)
	var buf bytes.Buffer
	if err := openslo.Encode(&buf, in...); err != nil {
		t.Fatalf("Encode = %v", err)
	}
	out, err := openslo.Decode(openslo.File{Name: "encoded", Data: buf.Bytes()})
	if err != nil {
		t.Fatalf("Decode(Encode()) = %v\n%s", err, buf.String())
	}
	if len(out) != len(in) {
		t.Fatalf("Decode(Encode()) = %d SLOs, want %d", len(out), len(in))
	}
	for i := range in {
		a, b := in[i], out[i]
		sa, sb := a.Objective.Spec(), b.Objective.Spec()
		same := a.Objective.Name == b.Objective.Name && a.Objective.Target == b.Objective.Target &&
			a.Objective.Latency == b.Objective.Latency && sa.Period == sb.Period &&
			a.Objective.Calendar.String() == b.Objective.Calendar.String() &&
			a.Service == b.Service && slices.Equal(a.Routes, b.Routes) && slices.Equal(a.Methods, b.Methods) &&
			slices.Equal(a.AlertAfter, b.AlertAfter) && len(a.Objective.Rules) == len(b.Objective.Rules) &&
			(a.Objective.Rules == nil) == (b.Objective.Rules == nil)
		for j := range a.Objective.Rules {
			ra, rb := a.Objective.Rules[j], b.Objective.Rules[j]
			same = same && ra.Severity == rb.Severity && ra.Long == rb.Long && ra.ShortWindow() == rb.ShortWindow() &&
				ra.Threshold(sa.Period) == rb.Threshold(sb.Period)
		}
		if !same {
			t.Errorf("SLO %d: Decode(Encode()) = %+v, want %+v\n%s", i, b, a, buf.String())
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	err := openslo.Encode(&bytes.Buffer{},
		openslo.SLO{Service: "s", Objective: slo.Objective{Name: "a", Target: 0.9}},
		openslo.SLO{Service: "s", Routes: []string{"GET /"}, Objective: slo.Objective{Name: "b", Target: 0.9,
			Rules: []budget.Rule{{Severity: budget.Page, Long: time.Hour, Short: time.Minute, Burn: 10}}}},
	)
	for _, want := range []string{`objective 0 ("a")`, "no routes and no methods", `objective 1 ("b")`, "a short window of a twelfth"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Encode = %v, want it to mention %q", err, want)
		}
	}
}

func TestDecodeDataSource(t *testing.T) {
	const sli = `apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: s
  indicator:
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {metricSourceRef: %s, spec: {routes: [GET /a]}}}
        total: {metricSource: {metricSourceRef: %s, spec: {routes: [GET /a]}}}
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: local}
spec: {type: sloguard}
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: prom}
spec: {type: Prometheus, connectionDetails: {url: "http://127.0.0.1:9090"}}
`
	slos, err := openslo.Decode(openslo.File{Name: "x.yaml", Data: []byte(fmt.Sprintf(sli, "local", "local"))})
	if err != nil || len(slos) != 1 || !slices.Equal(slos[0].Routes, []string{"GET /a"}) {
		t.Errorf("Decode(a sloguard DataSource) = %+v, %v", slos, err)
	}
	_, err = openslo.Decode(openslo.File{Name: "x.yaml", Data: []byte(fmt.Sprintf(sli, "prom", "nowhere"))})
	for _, want := range []string{
		`x.yaml:10: document 1 (SLO a): spec.indicator.spec.ratioMetric.good.metricSource.metricSourceRef: openslo: not supported: DataSource "prom" is not of type sloguard`,
		`x.yaml:11: document 1 (SLO a): spec.indicator.spec.ratioMetric.total.metricSource.metricSourceRef: openslo: invalid document: no DataSource named "nowhere"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode = %v, want %s", err, want)
		}
	}
}
