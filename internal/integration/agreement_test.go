//go:build integration

package integration

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promrules"
)

// The agreement test's objective: 99% over one hour, with one page rule
// fast enough to see in real time: burn 10 (an error ratio of 10%) over 20s
// and 4s. The engine sums the 4s window from 1s buckets.
const (
	agreeObjective = "agreement-availability"
	agreeService   = "sloguard" // the scrape job
	agreeAlert     = "AgreementAvailabilityPage"
	agreeInterval  = time.Second            // scrape and rule evaluation
	agreeBucket    = time.Second            // the engine's bucket of the short window
	agreeStep      = 100 * time.Millisecond // traffic and Tick
	agreePerStep   = 20                     // events per step: 200 a second
)

// The traffic: clean, then half of the events bad, then clean again. The
// long window is full of clean traffic when the outage starts, so the page
// waits for it (about 4s in); the short window clears it (about 3s after).
var agreePhases = []struct {
	d        time.Duration
	badEvery int // one event in badEvery is bad; 0 for none
}{
	{22 * time.Second, 0},
	{12 * time.Second, 2},
	{8 * time.Second, 0},
}

const agreePrometheusConfig = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['%s']
scrape_configs:
  - job_name: sloguard
    static_configs:
      - targets: ['%s']
`

// TestEngineAndPrometheusAgree replays the same traffic through an Engine,
// ticked by the test with explicit times, and through the OpenTelemetry
// Prometheus exporter into a real Prometheus that evaluates the rules
// generated from the same objective. The page alert must fire and clear in
// Prometheus within one rule evaluation, one scrape and one bucket of the
// short window of the engine's page.
func TestEngineAndPrometheusAgree(t *testing.T) {
	promBin := requireBinary(t, "SLOGUARD_PROMETHEUS")
	promtool := requireBinary(t, "SLOGUARD_PROMTOOL")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	obj := slo.Objective{
		Name: agreeObjective, Target: 0.99, Period: time.Hour,
		Rules: []budget.Rule{{Severity: budget.Page, Long: 20 * time.Second, Short: 4 * time.Second, Burn: 10}},
	}
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		t.Fatalf("otelprom.New = %v", err)
	}
	mp := newMeterProvider(t, exp)
	eng, err := slo.New([]slo.Objective{obj}, slo.WithMeterProvider(mp),
		slo.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	rec, err := eng.Recorder(agreeObjective)
	if err != nil {
		t.Fatal(err)
	}

	// The rules, generated and checked.
	f, err := promrules.Generate(promrules.Config{Interval: agreeInterval}, promrules.SLO{Objective: obj, Service: agreeService})
	if err != nil {
		t.Fatalf("promrules.Generate = %v", err)
	}
	rules, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesPath, rules, 0o644); err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	target := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(target.Close)
	prom, api := startPrometheus(ctx, t, promBin, promtool, dir, fmt.Appendf(nil, agreePrometheusConfig, rulesPath, strings.TrimPrefix(target.URL, "http://")))
	eng.Tick(time.Now())
	poll(ctx, t, prom, "the first scrape of sloguard's series", func(ctx context.Context) (bool, error) {
		s, err := api.query(ctx, fmt.Sprintf(`sloguard_events_total{objective=%q}`, agreeObjective))
		return len(s) > 0, err
	})

	// The replay: the engine is ticked with the time of each step; the
	// exporter serves its counters whenever Prometheus scrapes.
	var enginePage, engineClear time.Time
	tick := time.NewTicker(agreeStep)
	defer tick.Stop()
	n := 0
	for _, ph := range agreePhases {
		end := time.Now().Add(ph.d)
		for now := time.Now(); now.Before(end); now = <-tick.C {
			for range agreePerStep {
				n++
				if ph.badEvery > 0 && n%ph.badEvery == 0 {
					rec.Record(budget.Bad, 0)
				} else {
					rec.Record(budget.Good, 0)
				}
			}
			eng.Tick(now)
			firing := eng.Status().Objectives[0].Report.Rules[0].Firing
			switch {
			case firing && enginePage.IsZero():
				enginePage = now
			case !firing && !enginePage.IsZero() && engineClear.IsZero():
				engineClear = now
			}
		}
	}
	if enginePage.IsZero() || engineClear.IsZero() {
		t.Fatalf("engine: page at %v, cleared at %v: the outage must page and clear", enginePage, engineClear)
	}

	// Prometheus' alert, from the ALERTS series it writes at each
	// evaluation: the first firing sample, and the evaluation after the
	// last one.
	bound := agreeInterval + agreeInterval + agreeBucket + agreeStep
	var promPage, promClear time.Time
	poll(ctx, t, prom, "Prometheus to clear the page alert", func(ctx context.Context) (bool, error) {
		ts, err := api.samples(ctx, fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing"}[5m]`, agreeAlert))
		if err != nil || len(ts) == 0 {
			return false, err
		}
		promPage, promClear = ts[0], ts[len(ts)-1].Add(agreeInterval)
		// Cleared: no firing sample for two evaluations.
		return time.Since(ts[len(ts)-1]) > 2*agreeInterval+bound, nil
	})
	t.Logf("engine page %s … %s; Prometheus %s … %s (bound %v)",
		enginePage.Format("15:04:05.000"), engineClear.Format("15:04:05.000"),
		promPage.Format("15:04:05.000"), promClear.Format("15:04:05.000"), bound)
	for _, c := range []struct {
		what         string
		engine, prom time.Time
	}{{"fires", enginePage, promPage}, {"clears", engineClear, promClear}} {
		if d := c.prom.Sub(c.engine); d.Abs() > bound {
			t.Errorf("page alert %s in Prometheus at %s, %v from the engine (%s): more than %v",
				c.what, c.prom.Format(time.TimeOnly), d, c.engine.Format(time.TimeOnly), bound)
		}
	}
}

// samples returns the timestamps of the samples of a range-vector query,
// which must select one series.
func (p promAPI) samples(ctx context.Context, q string) ([]time.Time, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "matrix" || len(data.Result) > 1 {
		return nil, fmt.Errorf("query %s: %s of %d series, want a matrix of at most one", q, data.ResultType, len(data.Result))
	}
	var ts []time.Time
	for _, r := range data.Result {
		for _, v := range r.Values {
			sec, ok := v[0].(float64)
			if !ok {
				return nil, fmt.Errorf("query %s: timestamp %v", q, v[0])
			}
			whole, frac := math.Modf(sec)
			ts = append(ts, time.Unix(int64(whole), int64(math.Round(frac*1e9))))
		}
	}
	return ts, nil
}
