package promrules_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promrules"
)

var availability = promrules.SLO{Service: "checkout", Objective: slo.Objective{Name: "checkout-availability", Target: 0.999}}

// roundTrip marshals f and reads it back, so that tests see what
// Prometheus reads.
func roundTrip(t *testing.T, f *promrules.File) promrules.File {
	t.Helper()
	b, err := f.Marshal()
	if err != nil {
		t.Fatalf("Marshal = %v", err)
	}
	var back promrules.File
	if err := yaml.Unmarshal(b, &back); err != nil {
		t.Fatalf("yaml.Unmarshal(Marshal()) = %v\n%s", err, b)
	}
	return back
}

// records returns the names of a group's SLI recording rules (sli) or of
// its other recording rules.
func records(g promrules.Group, sli bool) []string {
	var names []string
	for _, r := range g.Rules {
		if r.Record != "" && strings.HasPrefix(r.Record, "slo:sli_error:") == sli {
			names = append(names, r.Record)
		}
	}
	return names
}

// alertsOf returns a group's alerting rules.
func alertsOf(g promrules.Group) []promrules.Rule {
	var out []promrules.Rule
	for _, r := range g.Rules {
		if r.Alert != "" {
			out = append(out, r)
		}
	}
	return out
}

func TestGenerateDefaultRules(t *testing.T) {
	f, err := promrules.Generate(promrules.Config{}, availability)
	if err != nil {
		t.Fatalf("Generate = %v", err)
	}
	got := roundTrip(t, f)
	if len(got.Groups) != 1 || got.Groups[0].Name != "sloguard-slo-checkout-checkout-availability" {
		t.Fatalf("Generate: groups %v, want one, sloguard-slo-checkout-checkout-availability", got.Groups)
	}
	grp := got.Groups[0]
	alerts := alertsOf(grp)
	// In the order they read each other: SLI ratios, meta, alerts.
	var kinds []string
	for _, r := range grp.Rules {
		k := "alert"
		switch {
		case strings.HasPrefix(r.Record, "slo:sli_error:"):
			k = "sli"
		case r.Record != "":
			k = "meta"
		}
		if len(kinds) == 0 || kinds[len(kinds)-1] != k {
			kinds = append(kinds, k)
		}
	}
	if !slices.Equal(kinds, []string{"sli", "meta", "alert"}) {
		t.Errorf("rule order %v, want sli, meta, alert", kinds)
	}

	var want []string
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"} {
		want = append(want, "slo:sli_error:ratio_rate"+w)
	}
	if got := records(grp, true); !slices.Equal(got, want) {
		t.Errorf("SLI records = %v, want %v", got, want)
	}
	for _, r := range grp.Rules {
		if !strings.HasPrefix(r.Record, "slo:sli_error:") {
			continue
		}
		w := strings.TrimPrefix(r.Record, "slo:sli_error:ratio_rate")
		wantLabels := map[string]string{"sloth_id": "checkout-checkout-availability", "sloth_service": "checkout", "sloth_slo": "checkout-availability", "sloth_window": w}
		if fmt.Sprint(r.Labels) != fmt.Sprint(wantLabels) {
			t.Errorf("%s labels = %v, want %v", r.Record, r.Labels, wantLabels)
		}
		// Event-weighted: the ratio of the raw counters' rates over the
		// window itself, never an average of shorter ratios.
		for _, part := range []string{
			`sum(rate(sloguard_events_total{job="checkout",objective="checkout-availability",outcome=~"bad|shed"}[` + w + `]))`,
			`sum(rate(sloguard_events_total{job="checkout",objective="checkout-availability",outcome=~"good|bad|shed"}[` + w + `]))`,
		} {
			if !strings.Contains(r.Expr, part) {
				t.Errorf("%s expr = %q, want it to contain %q", r.Record, r.Expr, part)
			}
		}
		if strings.Contains(r.Expr, "_over_time") {
			t.Errorf("%s expr = %q averages recorded ratios", r.Record, r.Expr)
		}
	}

	wantMeta := []string{"slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days", "slo:current_burn_rate:ratio",
		"slo:period_burn_rate:ratio", "slo:period_error_budget_remaining:ratio", "sloth_slo_info"}
	if got := records(grp, false); !slices.Equal(got, wantMeta) {
		t.Errorf("meta records = %v, want %v", got, wantMeta)
	}
	exprs := map[string]string{}
	for _, r := range grp.Rules {
		exprs[r.Record] = r.Expr
	}
	for rec, want := range map[string]string{
		"slo:objective:ratio":         "vector(0.999)",
		"slo:error_budget:ratio":      "vector(1-0.999)",
		"slo:time_period:days":        "vector(30)",
		"slo:current_burn_rate:ratio": "slo:sli_error:ratio_rate1h{", // the fastest page rule's long window, as Report.Burn
		"slo:period_burn_rate:ratio":  "slo:sli_error:ratio_rate30d{",
	} {
		if !strings.HasPrefix(exprs[rec], want) {
			t.Errorf("%s expr = %q, want prefix %q", rec, exprs[rec], want)
		}
	}

	if len(alerts) != 2 {
		t.Fatalf("alerts = %d rules, want 2 (page, ticket)", len(alerts))
	}
	for i, want := range []struct {
		name, severity string
		pairs          []string // threshold and windows of each rule
	}{
		{"CheckoutAvailabilityPage", "page", []string{"14.4 5m 1h", "6 30m 6h"}},
		{"CheckoutAvailabilityTicket", "ticket", []string{"3 2h 1d", "1 6h 3d"}},
	} {
		a := alerts[i]
		if a.Alert != want.name || a.Labels["sloth_severity"] != want.severity || a.For != "" {
			t.Errorf("alert %d = %s %v for %q, want %s sloth_severity=%s at once", i, a.Alert, a.Labels, a.For, want.name, want.severity)
		}
		if got := pairs(a.Expr); !slices.Equal(got, want.pairs) {
			t.Errorf("%s pairs = %v, want %v\n%s", a.Alert, got, want.pairs, a.Expr)
		}
		if strings.Contains(a.Expr, "increase(") {
			t.Errorf("%s checks event counts with MinEvents and MinBadEvents at their defaults:\n%s", a.Alert, a.Expr)
		}
	}
}

// pairs returns "threshold short long" for each OR-ed condition of an alert
// expression.
func pairs(expr string) []string {
	var out []string
	for _, part := range strings.Split(expr, "or\n") {
		var ws []string
		var thr string
		for _, line := range strings.Split(part, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "max(slo:sli_error:ratio_rate") {
				continue
			}
			w := strings.TrimPrefix(line, "max(slo:sli_error:ratio_rate")
			ws = append(ws, w[:strings.Index(w, "{")])
			thr = line[strings.Index(line, ">= (")+4:]
			thr = thr[:strings.Index(thr, " *")]
		}
		out = append(out, strings.Join(append([]string{thr}, ws...), " "))
	}
	return out
}

func TestGenerateRescalesAndCustomRules(t *testing.T) {
	week := availability
	week.Objective.Name = "weekly"
	week.Objective.Period = 7 * 24 * time.Hour

	custom := promrules.SLO{Service: "checkout", Objective: slo.Objective{
		Name: "checkout-latency", Target: 0.99, Latency: 300 * time.Millisecond, Period: time.Hour,
		MinEvents: 20, MinBadEvents: 3,
		Rules: []budget.Rule{
			{Severity: budget.Page, Long: 5 * time.Minute, Short: 25 * time.Second, BudgetFraction: 0.1},
			{Severity: budget.Page, Long: 10 * time.Minute, Burn: 2},
			{Severity: budget.Ticket, Long: 30 * time.Minute, BudgetFraction: 0.5},
		},
	}, AlertAfter: []time.Duration{0, time.Minute}}

	f, err := promrules.Generate(promrules.Config{ServiceLabel: "service_name", Interval: 10 * time.Second}, week, custom)
	if err != nil {
		t.Fatalf("Generate = %v", err)
	}
	got := roundTrip(t, f)
	if len(got.Groups) != 2 {
		t.Fatalf("Generate: %d groups, want 2", len(got.Groups))
	}
	for _, g := range got.Groups {
		if g.Interval != "10s" {
			t.Errorf("group %s interval = %q, want 10s", g.Name, g.Interval)
		}
	}
	weekAlerts := alertsOf(got.Groups[0])
	if p := pairs(weekAlerts[0].Expr); !slices.Equal(p, []string{"3.36 5m 1h", "1.4 30m 6h"}) {
		t.Errorf("7-day page pairs = %v, want the thresholds rescaled: 3.36 and 1.4", p)
	}
	if !strings.Contains(got.Groups[0].Rules[0].Expr, `{service_name="checkout",objective="weekly"`) {
		t.Errorf("SLI expr = %q, want the service matched by service_name", got.Groups[0].Rules[0].Expr)
	}

	var windows []string
	for _, r := range got.Groups[1].Rules {
		if strings.HasPrefix(r.Record, "slo:sli_error:") {
			windows = append(windows, r.Labels["sloth_window"])
		}
	}
	// The rules' windows, the dashboards' 5m and the period.
	if want := []string{"25s", "50s", "150s", "5m", "10m", "30m", "1h"}; !slices.Equal(windows, want) {
		t.Errorf("custom SLI windows = %v, want %v", windows, want)
	}
	alerts := alertsOf(got.Groups[1])
	var names []string
	for _, a := range alerts {
		names = append(names, a.Alert+"/"+a.For)
	}
	if want := []string{"CheckoutLatencyPage/", "CheckoutLatencyPageFor1m/1m", "CheckoutLatencyTicket/"}; !slices.Equal(names, want) {
		t.Fatalf("custom alerts = %v, want %v", names, want)
	}
	for i, want := range [][]string{{"1.2 25s 5m"}, {"2 50s 10m"}, {"1 150s 30m"}} {
		if p := pairs(alerts[i].Expr); !slices.Equal(p, want) {
			t.Errorf("%s pairs = %v, want %v", alerts[i].Alert, p, want)
		}
	}
	for _, part := range []string{
		`and on() (sum(increase(sloguard_events_total{service_name="checkout",objective="checkout-latency",outcome=~"good|bad|shed"}[25s])) >= 20)`,
		`and on() (sum(increase(sloguard_events_total{service_name="checkout",objective="checkout-latency",outcome=~"bad|shed"}[5m])) >= 3)`,
	} {
		if !strings.Contains(alerts[0].Expr, part) {
			t.Errorf("%s expr = %s\nwant it to contain %s", alerts[0].Alert, alerts[0].Expr, part)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	_, err := promrules.Generate(promrules.Config{ServiceLabel: "service.name", Interval: -time.Second},
		availability,
		availability, // twice
		promrules.SLO{Objective: slo.Objective{Name: "no-service", Target: 0.99}},
		promrules.SLO{Service: "s", Objective: slo.Objective{Name: "bad target", Target: 2}},
		promrules.SLO{Service: "s", Objective: slo.Objective{Name: "after", Target: 0.9, Rules: budget.DefaultRules()}, AlertAfter: []time.Duration{-time.Second}},
	)
	if !errors.Is(err, promrules.ErrInvalid) {
		t.Fatalf("Generate = %v, want ErrInvalid", err)
	}
	for _, want := range []string{
		`service label "service.name"`,
		"interval -1s",
		`service "checkout" has objective "checkout-availability" twice`,
		`objective 2 ("no-service"): promrules: invalid input: service is empty`,
		`objective 3 ("bad target")`,
		"alertAfter 0: -1s",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Generate error = %v\nwant it to mention %q", err, want)
		}
	}
	if _, err := promrules.Generate(promrules.Config{}); !errors.Is(err, promrules.ErrInvalid) {
		t.Errorf("Generate() = %v, want ErrInvalid for no objectives", err)
	}
}

func TestGenerateCalendar(t *testing.T) {
	month := promrules.SLO{Service: "checkout", Objective: slo.Objective{Name: "monthly", Target: 0.999,
		Calendar: budget.Calendar{Unit: budget.Month}}}
	week := promrules.SLO{Service: "checkout", Objective: slo.Objective{Name: "weekly", Target: 0.999,
		Calendar: budget.Calendar{Unit: budget.Week},
		Rules:    []budget.Rule{{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02}, {Severity: budget.Ticket, Long: 24 * time.Hour, Burn: 2}}}}
	f, err := promrules.Generate(promrules.Config{}, month, week)
	if err != nil {
		t.Fatalf("Generate = %v", err)
	}
	got := roundTrip(t, f)
	for _, g := range got.Groups {
		for _, r := range g.Rules {
			// No rolling period stands in for the calendar one.
			if strings.HasPrefix(r.Record, "slo:period_") || strings.Contains(r.Expr, "[30d]") || strings.Contains(r.Expr, "[31d]") {
				t.Errorf("calendar objective has rule %s: %s", r.Record, r.Expr)
			}
		}
	}
	if windows := records(got.Groups[0], true); len(windows) != 7 || windows[6] != "slo:sli_error:ratio_rate3d" {
		t.Errorf("monthly SLI records = %v, want the seven rule windows only", windows)
	}
	days := ""
	for _, r := range got.Groups[0].Rules {
		if r.Record == "slo:time_period:days" {
			days = r.Expr
		}
	}
	if days != "days_in_month()" {
		t.Errorf("monthly slo:time_period:days = %q, want days_in_month()", days)
	}
	page := alertsOf(got.Groups[0])[0].Expr
	if want := "((0.02 * scalar(days_in_month()) * 24 / 1) * (1 - 0.999))"; !strings.Contains(page, want) {
		t.Errorf("monthly page alert = %s\nwant the threshold %s", page, want)
	}
	if p := pairs(alertsOf(got.Groups[1])[0].Expr); !slices.Equal(p, []string{"3.36 5m 1h"}) {
		t.Errorf("weekly page pairs = %v, want 3.36 (2%% of 7 days in 1h)", p)
	}
	if p := pairs(alertsOf(got.Groups[1])[1].Expr); !slices.Equal(p, []string{"2 2h 1d"}) {
		t.Errorf("weekly ticket pairs = %v, want the burn as given", p)
	}
}

// A period equal to a rule's window is recorded once.
func TestGeneratePeriodAmongWindows(t *testing.T) {
	s := promrules.SLO{Service: "s", Objective: slo.Objective{Name: "short", Target: 0.99, Period: time.Hour,
		Rules: []budget.Rule{{Severity: budget.Page, Long: time.Hour, Burn: 2}}}}
	f, err := promrules.Generate(promrules.Config{}, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate1h"}
	if got := records(f.Groups[0], true); !slices.Equal(got, want) {
		t.Errorf("SLI records = %v, want %v", got, want)
	}
}
