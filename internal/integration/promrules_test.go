//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
	"github.com/sloguard/sloguard/slo/openslo"
	"github.com/sloguard/sloguard/slo/promrules"
)

// The outage that TestPromtoolRules replays, minute by minute, on one
// replica of service "checkout": 1000 good requests a minute throughout,
// and 100 bad ones a minute (60 failed, 40 shed) in the minutes that end at
// outageStart+1 … outageEnd (a 9% error ratio). Seven hours of clean traffic come first, so
// that every window up to 6h is full when the outage starts.
const (
	replayMinutes = 500
	outageStart   = 420 // minutes
	outageEnd     = 440
	goodPerMinute = 1000
	badPerMinute  = 100 // of which shedPerMinute are shed: the budget counts them as bad
	shedPerMinute = 40
)

// The alert times that follow from Prometheus' rate over per-minute
// samples (numerator and denominator are extrapolated alike, so the ratio
// over w is the ratio of the increases between the samples inside w; a
// window [t−w, t] holds w/1m steps up to Prometheus 2, w/1m − 1 from 3 on,
// whose ranges are left-open) and the default rules of a 99.9% objective.
//
// Over a rolling 30 days:
//
//   - page, 1h & 5m at 14.4×: an error ratio of at least 1.44% over both.
//     After k minutes of outage the 1h window's ratio is
//     100k / (60000 + 100k) ≥ 0.0144 from k = 9 (59 steps: also 9): firing
//     at minute 429, not at 428. The 5m window holds the last bad step until
//     minute 444 (443 from Prometheus 3): firing at 443, cleared by 445.
//     The 6h & 30m page pair never fires: 2000 / (360000 + 2000) = 0.55% <
//     0.6%.
//   - ticket, 3d & 6h at 1×: the 3d window holds every sample (t steps):
//     100k / (1000t + 100k) ≥ 0.001 from k = 5, the 6h window (360 or 359
//     steps) from k = 4: firing at minute 425, not at 424.
//
// Over a calendar month, in January 1970 where promtool's time starts: 31
// days, so the thresholds are 31/30 of the rolling ones. The page needs
// 1.488%: 100k / (60000 + 100k) ≥ 0.01488 from k = 10, firing at minute
// 430, a minute after the rolling objective; the ticket needs 0.1033%, from
// k = 5 over 3d and k = 4 over 6h: minute 425. The page clears as before.
var replays = []struct {
	name                            string
	objective                       slo.Objective
	pageFrom, pageUntil, ticketFrom int // minutes
}{
	{"rolling 30 days", slo.Objective{Name: "checkout-availability", Target: 0.999}, 429, 445, 425},
	{"calendar month", slo.Objective{Name: "checkout-monthly", Target: 0.999, Calendar: budget.Calendar{Unit: budget.Month}}, 430, 445, 425},
}

const replayService = "checkout"

// promtoolEpoch is the time of promtool test rules' 0m.
var promtoolEpoch = time.Unix(0, 0).UTC()

// TestPromtoolRules generates the rules of default 99.9% objectives, rolling
// and calendar, checks them with promtool check rules, and replays an
// outage with promtool test rules, asserting when the page and ticket
// alerts fire and clear. The same traffic replayed through an Engine must
// page within one evaluation (one minute here) of Prometheus.
func TestPromtoolRules(t *testing.T) {
	promtool := requireBinary(t, "SLOGUARD_PROMTOOL")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	// The rules of the README's OpenSLO file: a calendar month, a latency
	// threshold, alertAfter as for:.
	checkOpenSLORules(ctx, t, promtool, t.TempDir())

	for _, rp := range replays {
		t.Run(rp.name, func(t *testing.T) {
			replayPromtool(ctx, t, promtool, rp.objective, rp.pageFrom, rp.pageUntil, rp.ticketFrom)
		})
	}
}

func replayPromtool(ctx context.Context, t *testing.T, promtool string, o slo.Objective, wantPageFrom, wantPageUntil, wantTicketFrom int) {
	obj := promrules.SLO{Service: replayService, Objective: o}
	f, err := promrules.Generate(promrules.Config{}, obj)
	if err != nil {
		t.Fatalf("promrules.Generate = %v", err)
	}
	rules, err := f.Marshal()
	if err != nil {
		t.Fatalf("Marshal = %v", err)
	}
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesPath, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, promtool, "check", "rules", rulesPath).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, rules)
	}

	// The engine's view of the same traffic, ticked once a minute.
	enginePageFrom, enginePageUntil, remaining := replayEngine(t, o)
	t.Logf("engine: page from minute %d until %d; remaining budget at the end %.4f", enginePageFrom, enginePageUntil, remaining)
	for _, c := range []struct {
		what        string
		engine, doc int
	}{{"page fires", enginePageFrom, wantPageFrom}, {"page clears", enginePageUntil, wantPageUntil}} {
		if d := c.engine - c.doc; d < -1 || d > 1 {
			t.Errorf("engine: %s at minute %d, Prometheus at %d: more than one evaluation apart", c.what, c.engine, c.doc)
		}
	}

	alert := func(name string) (labels, annotations map[string]string) {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert == name {
					labels = map[string]string{"sloth_id": replayService + "-" + o.Name, "sloth_service": replayService, "sloth_slo": o.Name}
					for k, v := range r.Labels {
						labels[k] = v
					}
					return labels, r.Annotations
				}
			}
		}
		t.Fatalf("no alert %s in the generated rules", name)
		return nil, nil
	}
	type expAlert struct {
		Labels      map[string]string `yaml:"exp_labels"`
		Annotations map[string]string `yaml:"exp_annotations"`
	}
	type alertTest struct {
		EvalTime  string     `yaml:"eval_time"`
		Alertname string     `yaml:"alertname"`
		ExpAlerts []expAlert `yaml:"exp_alerts"`
	}
	at := func(minute int, name string, firing bool) alertTest {
		a := alertTest{EvalTime: fmt.Sprintf("%dm", minute), Alertname: name, ExpAlerts: []expAlert{}}
		if firing {
			l, ann := alert(name)
			a.ExpAlerts = append(a.ExpAlerts, expAlert{Labels: l, Annotations: ann})
		}
		return a
	}
	var page, ticket string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			switch r.Labels["sloth_severity"] {
			case "page":
				page = r.Alert
			case "ticket":
				ticket = r.Alert
			}
		}
	}
	// The period's remaining budget, event-weighted, is what the engine
	// says; a calendar objective has no such rule, but its period's days.
	check := map[string]any{
		"expr":        fmt.Sprintf(`count(abs(slo:period_error_budget_remaining:ratio{sloth_slo=%q} - (%v)) < 0.001)`, o.Name, remaining),
		"eval_time":   fmt.Sprintf("%dm", replayMinutes),
		"exp_samples": []map[string]any{{"labels": "{}", "value": 1}},
	}
	if !o.Calendar.IsZero() {
		check["expr"] = fmt.Sprintf(`count(slo:time_period:days{sloth_slo=%q} == 31)`, o.Name)
	}
	sel := fmt.Sprintf(`sloguard_events_total{job=%q,objective=%q,otel_scope_name=%q,instance="10.0.0.1:8080",outcome=`, replayService, o.Name, metrics.Scope)
	test := map[string]any{
		"rule_files":          []string{rulesPath},
		"evaluation_interval": "1m",
		"tests": []map[string]any{{
			"interval": "1m",
			"input_series": []map[string]string{
				{"series": sel + `"good"}`, "values": fmt.Sprintf("0+%dx%d", goodPerMinute, replayMinutes)},
				{"series": sel + `"bad"}`, "values": outage(badPerMinute - shedPerMinute)},
				{"series": sel + `"shed"}`, "values": outage(shedPerMinute)},
				{"series": sel + `"neutral"}`, "values": fmt.Sprintf("0+7x%d", replayMinutes)}, // never counted
			},
			"alert_rule_test": []alertTest{
				at(outageStart, page, false),
				at(wantPageFrom-1, page, false),
				at(wantPageFrom, page, true),
				at(wantPageUntil-2, page, true),
				at(wantPageUntil, page, false),
				at(wantTicketFrom-1, ticket, false),
				at(wantTicketFrom, ticket, true),
			},
			"promql_expr_test": []map[string]any{check},
		}},
	}
	b, err := yaml.Marshal(test)
	if err != nil {
		t.Fatal(err)
	}
	testPath := filepath.Join(dir, "test.yml")
	if err := os.WriteFile(testPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, promtool, "test", "rules", testPath).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s\ntest file:\n%s", err, out, b)
	}
	t.Logf("promtool test rules:\n%s", out)
}

// outage returns the promtool series notation of a counter that grows by
// n a minute during the outage and stays flat otherwise.
func outage(n int) string {
	return fmt.Sprintf("0x%d %d+%dx%d %dx%d", outageStart, n, n, outageEnd-outageStart-1, n*(outageEnd-outageStart), replayMinutes-outageEnd)
}

// replayEngine replays the outage through an Engine with objective o, one
// Tick a minute from promtool's epoch, and returns the first minute a page
// rule fires, the first minute after that none does, and the remaining
// budget at the end.
func replayEngine(t *testing.T, o slo.Objective) (pageFrom, pageUntil int, remaining float64) {
	t.Helper()
	eng, err := slo.New([]slo.Objective{o},
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	defer eng.Close()
	rec, err := eng.Recorder(o.Name)
	if err != nil {
		t.Fatal(err)
	}
	eng.Tick(promtoolEpoch)
	for m := 1; m <= replayMinutes; m++ {
		for range goodPerMinute {
			rec.Record(budget.Good, 0)
		}
		if m > outageStart && m <= outageEnd {
			for range badPerMinute - shedPerMinute {
				rec.Record(budget.Bad, 0)
			}
			for range shedPerMinute {
				rec.Record(budget.Shed, 0)
			}
		}
		eng.Tick(promtoolEpoch.Add(time.Duration(m) * time.Minute))
		paging := false
		for _, r := range eng.Status().Objectives[0].Report.Rules {
			paging = paging || r.Rule.Severity == budget.Page && r.Firing
		}
		switch {
		case paging && pageFrom == 0:
			pageFrom = m
		case !paging && pageFrom > 0 && pageUntil == 0:
			pageUntil = m
		}
	}
	if pageFrom == 0 || pageUntil == 0 {
		t.Fatalf("engine: page from %d until %d: the outage must page and clear", pageFrom, pageUntil)
	}
	return pageFrom, pageUntil, eng.Status().Objectives[0].Report.Remaining
}

// checkOpenSLORules generates the rules of slo/openslo's example file and
// checks them with promtool.
func checkOpenSLORules(ctx context.Context, t *testing.T, promtool, dir string) {
	t.Helper()
	const path = "../../slo/openslo/testdata/checkout.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slos, err := openslo.Decode(openslo.File{Name: path, Data: data})
	if err != nil {
		t.Fatalf("openslo.Decode(%s) = %v", path, err)
	}
	in := make([]promrules.SLO, len(slos))
	for i, s := range slos {
		in[i] = promrules.SLO{Objective: s.Objective, Service: s.Service, AlertAfter: s.AlertAfter}
	}
	f, err := promrules.Generate(promrules.Config{Interval: 30 * time.Second}, in...)
	if err != nil {
		t.Fatalf("promrules.Generate = %v", err)
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "openslo-rules.yml")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.CommandContext(ctx, promtool, "check", "rules", out).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules (from %s): %v\n%s\n%s", path, err, msg, b)
	}
}
