package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// jsonKeys are the keys the issue asks for in each run's JSON object.
var jsonKeys = []string{
	"capacity_rps", "goodput_rps", "success_ratio", "admitted_p50_ms", "admitted_p99_ms",
	"unloaded_p99_ms", "budget_consumed", "shed_reaction_s", "shed_release_s", "breaker_reaction_s",
}

// TestRun runs the whole demo, scaled down to two runs of 13 seconds at
// half the default rates, against its real loopback servers: time can not
// be faked for real sockets.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 13-second scenarios on loopback servers")
	}
	cfg := defaultConfig()
	cfg.Steady, cfg.Spike, cfg.Outage, cfg.Recovery = 3*time.Second, 5*time.Second, 3*time.Second, 2*time.Second
	// Half the capacity and half the rates: the race detector makes every
	// request several times dearer, and the machine may be busy.
	cfg.Conns, cfg.RPS = 4, 60
	cfg.JSON = true
	if shedPolicy() != (slo.ShedPolicy{}) {
		t.Fatalf("the run with sloguard uses %+v, want the defaults", shedPolicy())
	}
	dir := t.TempDir()
	cfg.CSV, cfg.SVG = filepath.Join(dir, "timeline.csv"), filepath.Join(dir, "chart.svg")

	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, cfg, &out); err != nil {
		t.Fatalf("run() = %v, want nil; output:\n%s", err, out.String())
	}
	t.Logf("output:\n%s", out.String())

	// The output is one JSON object with every key, in both runs.
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatalf("output is not a JSON object of runs: %v", err)
	}
	for _, m := range []string{"without", "with"} {
		for _, k := range jsonKeys {
			if _, ok := raw[m][k]; !ok {
				t.Errorf("JSON %s has no key %q", m, k)
			}
		}
	}
	var cmp comparison
	if err := json.Unmarshal(out.Bytes(), &cmp); err != nil {
		t.Fatalf("decoding the comparison: %v", err)
	}
	wo, wi := cmp.Without, cmp.With
	critical := slo.Critical.String()

	// Without sloguard nothing is shed and no breaker opens.
	if wo.ShedReactionS != nil || wo.ShedRequests != 0 {
		t.Errorf("without sloguard: shed_reaction_s = %v, %d requests shed, want null and 0", secText(wo.ShedReactionS), wo.ShedRequests)
	}
	if wo.BreakerReactionS != nil {
		t.Errorf("without sloguard: breaker_reaction_s = %v, want null", secText(wo.BreakerReactionS))
	}
	// With sloguard on its defaults, the gate sheds during the spike and
	// stops shedding before the run ends...
	if wi.ShedReactionS == nil || wi.ShedReleaseS == nil {
		t.Errorf("with sloguard: shed_reaction_s = %v, shed_release_s = %v, want both: shedding during the spike, released after it",
			secText(wi.ShedReactionS), secText(wi.ShedReleaseS))
	}
	// ...and the payments breaker opens during the outage.
	if s := wi.BreakerReactionS; s == nil || *s > cfg.Outage.Seconds() {
		t.Errorf("with sloguard: breaker_reaction_s = %v, want within the %v outage", secText(s), cfg.Outage)
	}
	// Checkout, goodput and the admitted latency fare much better with
	// sloguard at the spike than without. The targets (99.9%,
	// 90% of capacity, p99 within 2× unloaded) are met in the default run
	// (see README.md); a busy CI machine, or the race detector, costs more,
	// so this checks only a clear improvement over the same run without
	// sloguard.
	if got, base := wi.SuccessRatio[critical], wo.SuccessRatio[critical]; got < 0.6 || got < 2*base {
		t.Errorf("CRITICAL success at the spike: %.1f%% with sloguard, %.1f%% without; want at least 60%% and twice as much",
			got*100, base*100)
	}
	if got := wi.GoodputRPS; got < 3*wo.GoodputRPS {
		t.Errorf("goodput at the spike: %.0f rps with sloguard, %.0f without, capacity %.0f; want three times as much",
			got, wo.GoodputRPS, wi.CapacityRPS)
	}
	if with, base := wi.AdmittedP99MS/wi.UnloadedP99MS, wo.AdmittedP99MS/wo.UnloadedP99MS; with >= base {
		t.Errorf("admitted p99 / unloaded p99 at the spike: %.2f with sloguard, %.2f without; want lower", with, base)
	}

	// The files: a CSV row per run and second, and well-formed SVG.
	rows := readCSV(t, cfg.CSV)
	if want := 1 + 2*int((cfg.Steady+cfg.Spike+cfg.Outage+cfg.Recovery)/time.Second); len(rows) != want {
		t.Errorf("CSV has %d rows, want %d (a header and one per run and second)", len(rows), want)
	}
	checkSVG(t, cfg.SVG)

	checkGoroutines(t, goroutines)
}

// checkGoroutines checks that every goroutine a run started has stopped:
// that at most goroutines run, as before it, within 5s (connections close
// asynchronously).
func checkGoroutines(t *testing.T, goroutines int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the run, want at most %d as before it:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening the CSV: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV: %v", err)
	}
	return rows
}

// checkSVG checks that path holds well-formed XML whose root is an svg.
func checkSVG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening the SVG: %v", err)
	}
	defer f.Close()
	checkXML(t, f)
}

func checkXML(t *testing.T, r io.Reader) {
	t.Helper()
	dec := xml.NewDecoder(r)
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("SVG root element = %q, want \"svg\"", root)
	}
}

func TestRunInvalidConfig(t *testing.T) {
	cfg := defaultConfig()
	cfg.Spike = 0
	cfg.RPS = 0
	cfg.SpikeFactor = 50
	cfg.Conns = 0
	var out strings.Builder
	err := run(t.Context(), cfg, &out)
	if err == nil {
		t.Fatalf("run(invalid config) = nil, want error")
	}
	for _, want := range []string{"spike 0s", "rps 0", "spike factor 50", "conns 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run(invalid config) = %q, want it to mention %q", err, want)
		}
	}
	if out.Len() > 0 {
		t.Errorf("run(invalid config) wrote %q, want nothing", out.String())
	}
}

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var ds []time.Duration
		for _, v := range vs {
			ds = append(ds, time.Duration(v)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.99, 0},
		{ms(7), 0.5, 7 * time.Millisecond},
		{ms(7), 0.99, 7 * time.Millisecond},
		{ms(1, 2), 0.5, time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 1, 4 * time.Millisecond},
		{hundred, 0.99, 99 * time.Millisecond},
		{hundred, 0.5, 50 * time.Millisecond},
		{hundred, 0.001, time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestScenario(t *testing.T) {
	cfg := defaultConfig()
	cfg.Steady, cfg.Spike, cfg.Outage, cfg.Recovery = 2*time.Second, 3*time.Second, 4*time.Second, 5*time.Second
	cfg.RPS, cfg.SpikeFactor = 100, 10
	start := time.Unix(1000, 0)
	sc := newScenario(cfg, start)
	tests := []struct {
		at   time.Duration
		want phase
	}{
		{0, steady}, {1999 * time.Millisecond, steady}, {2 * time.Second, spike}, {4999 * time.Millisecond, spike},
		{5 * time.Second, outage}, {9 * time.Second, recovery}, {14 * time.Second, recovery}, {time.Minute, recovery},
	}
	for _, tt := range tests {
		if got := sc.phaseAt(tt.at); got != tt.want {
			t.Errorf("phaseAt(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
	for _, tt := range []struct {
		q    request
		want phase
	}{
		{request{sent: 4 * time.Second, latency: 10 * time.Millisecond}, spike},
		{request{sent: 4999 * time.Millisecond, latency: 2 * time.Millisecond}, outage}, // in flight when the outage begins
		{request{sent: 4999 * time.Millisecond, latency: time.Millisecond}, spike},      // ended as it began
		{request{sent: 9 * time.Second, latency: 10 * time.Second}, recovery},           // after the outage
		{request{sent: 1 * time.Second, latency: 10 * time.Second}, outage},             // steady, but decided in the outage
	} {
		if got := sc.phaseOf(tt.q); got != tt.want {
			t.Errorf("phaseOf(sent %v, latency %v) = %v, want %v", tt.q.sent, tt.q.latency, got, tt.want)
		}
	}
	if got := sc.length(); got != 14*time.Second {
		t.Errorf("length() = %v, want 14s", got)
	}
	if !sc.outageAt(start.Add(6*time.Second)) || sc.outageAt(start.Add(4*time.Second)) {
		t.Errorf("outageAt is wrong around the outage [5s, 9s)")
	}
	for _, tt := range []struct {
		at     time.Duration
		co, br float64
	}{{time.Second, 60, 40}, {3 * time.Second, 60, 940}, {6 * time.Second, 60, 40}, {10 * time.Second, 60, 40}} {
		co, br := sc.rates(tt.at)
		if co != tt.co || br != tt.br {
			t.Errorf("rates(%v) = %v, %v, want %v, %v", tt.at, co, br, tt.co, tt.br)
		}
	}
	// A ramp of 2s: half way, half the spike's extra.
	cfg.Ramp = 2 * time.Second
	sc = newScenario(cfg, start)
	if co, br := sc.rates(3 * time.Second); co != 60 || br != 490 {
		t.Errorf("rates(3s) with a 2s ramp = %v, %v, want 60, 490", co, br)
	}
	// Capacity 200 rps: 100 × (1 + 9t/2s) reaches it 2/9 s up the ramp.
	if at, ok := sc.overloadAt(200); !ok || at != 2*time.Second+2*time.Second/9 {
		t.Errorf("overloadAt(200) with a 2s ramp = %v, %v, want %v, true", at, ok, 2*time.Second+2*time.Second/9)
	}
	if _, ok := sc.overloadAt(2000); ok {
		t.Errorf("overloadAt(2000) = true, want false: the spike peaks at 1000 rps")
	}
}

// synthetic returns a run of cfg's timeline in mode m with the given
// events and requests, a mean hold of 40ms and made-up samples and totals.
func synthetic(cfg config, m mode, evs []slo.Event, reqs []request) *runResult {
	sc := newScenario(cfg, time.Unix(1000, 0))
	r := &runResult{mode: m, sc: sc, conns: cfg.Conns, reqs: reqs, events: evs}
	for p := range numPhases {
		r.holds[p] = 40 * time.Millisecond
	}
	n := int(sc.length() / time.Second)
	for i := range n {
		r.samples = append(r.samples, sample{level: float64(i%3) / 2, breaker: slo.BreakerState(i % 3)})
	}
	r.final = &slo.Status{}
	for _, o := range objectives() {
		r.final.Objectives = append(r.final.Objectives, slo.ObjectiveStatus{Objective: o, Totals: budget.Counts{Good: 1000, Bad: 3, Shed: 7}})
	}
	return r
}

func smallConfig() config {
	cfg := defaultConfig()
	cfg.Steady, cfg.Spike, cfg.Outage, cfg.Recovery = 2*time.Second, 2*time.Second, 2*time.Second, 2*time.Second
	return cfg
}

func TestReport(t *testing.T) {
	cfg := smallConfig() // steady [0,2s), spike [2s,4s), outage [4s,6s), recovery [6s,8s)
	s := time.Second
	ms := time.Millisecond
	reqs := []request{
		// Steady: four checkouts, latencies 10..40ms, all good.
		{checkout, 100 * ms, 10 * ms, ok}, {checkout, 200 * ms, 20 * ms, ok}, {checkout, 300 * ms, 30 * ms, ok}, {browse, 400 * ms, 40 * ms, ok},
		// Spike: checkouts ok, slow ok, failed; browse shed, dropped, timed out, good.
		{checkout, 2 * s, 50 * ms, ok},
		{checkout, 2*s + 1, 300 * ms, ok}, // a success, but not goodput
		{checkout, 2*s + 2, 250 * ms, failed},
		{checkout, 2*s + 3, 60 * ms, ok},
		{browse, 3 * s, 0, shed},
		{browse, 3 * s, 0, dropped},
		{browse, 2 * s, clientTimeout, timedOut}, // ends as the outage begins: still the spike's
		{checkout, 3900 * ms, 300 * ms, failed},  // in flight when the outage begins: the outage's
		{browse, 3 * s, 20 * ms, ok},
		{browse, 3 * s, 0, cancelled}, // not counted
	}
	rep := report(cfg, synthetic(cfg, with, nil, reqs))

	if got, want := rep.GoodputRPS, 3.0/2; got != want { // 50, 60 and 20ms within 250ms, over 2s
		t.Errorf("GoodputRPS = %v, want %v", got, want)
	}
	if got, want := rep.SuccessRatio["CRITICAL"], 3.0/4; got != want {
		t.Errorf("SuccessRatio[CRITICAL] = %v, want %v", got, want)
	}
	if got, want := rep.SuccessRatio["SHEDDABLE"], 1.0/4; got != want {
		t.Errorf("SuccessRatio[SHEDDABLE] = %v, want %v", got, want)
	}
	// Admitted at the spike: 20, 50, 60, 250, 300ms and the 2s timeout.
	if got, want := rep.AdmittedP50MS, 60.0; got != want {
		t.Errorf("AdmittedP50MS = %v, want %v", got, want)
	}
	if got, want := rep.AdmittedP99MS, 2000.0; got != want {
		t.Errorf("AdmittedP99MS = %v, want %v", got, want)
	}
	if got, want := rep.UnloadedP99MS, 40.0; got != want {
		t.Errorf("UnloadedP99MS = %v, want %v", got, want)
	}
	if got, want := rep.CapacityRPS, 200.0; got != want { // 8 connections / 40ms
		t.Errorf("CapacityRPS = %v, want %v", got, want)
	}
	if got, want := rep.ShedRequests, 1; got != want {
		t.Errorf("ShedRequests = %v, want %v", got, want)
	}
	if got, want := rep.Phases.Spike.OfferedRPS, 4.0; got != want { // 8 of 9 requests, the cancelled one left out
		t.Errorf("Phases.Spike.OfferedRPS = %v, want %v", got, want)
	}
	// The browse request shed 1s into the spike, none after it; no events.
	if got := []string{secText(rep.ShedReactionS), secText(rep.ShedReleaseS), secText(rep.BreakerReactionS)}; !slices.Equal(got, []string{"1.0s", "0.0s", "—"}) {
		t.Errorf("shed reaction, shed release, breaker reaction = %q, want 1.0s, 0.0s, —", got)
	}
}

func TestConsumed(t *testing.T) {
	cfg := defaultConfig() // 120 rps: 72 checkouts, 48 browse a second
	month := slo.DefaultPeriod.Seconds()
	tests := []struct {
		obj  slo.Objective
		c    budget.Counts
		want float64
	}{
		// 99.9% of 72 rps for 30 days allows 0.001 × 72 × 2592000 = 186624 bad events.
		{slo.Objective{Name: checkoutAvailability, Target: 0.999}, budget.Counts{Good: 1e6, Bad: 186624}, 1},
		{slo.Objective{Name: checkoutAvailability, Target: 0.999}, budget.Counts{Bad: 1000, Shed: 866}, 1866 / (0.001 * 72 * month)},
		{slo.Objective{Name: browseLatency, Target: 0.95}, budget.Counts{Bad: 100}, 100 / (0.05 * 48 * month)},
		{slo.Objective{Name: paymentsAvailability, Target: 0.995, Dependency: dependency}, budget.Counts{Good: 10}, 0},
	}
	for _, tt := range tests {
		if got := consumed(cfg, tt.obj, tt.c); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("consumed(%s, %+v) = %v, want %v", tt.obj.Name, tt.c, got, tt.want)
		}
	}
}

func TestReactions(t *testing.T) {
	cfg := smallConfig() // 120 rps, ×10; spike [2s,4s), outage [4s,6s), end 8s
	start := time.Unix(1000, 0)
	sc := newScenario(cfg, start)
	at := func(sec float64) time.Duration { return time.Duration(sec * float64(time.Second)) }
	shedAt := func(secs ...float64) []request {
		var reqs []request
		for _, s := range secs {
			reqs = append(reqs, request{route: browse, sent: at(s), result: shed}, request{route: browse, sent: at(s), result: ok})
		}
		return reqs
	}
	brk := func(sec float64, from, to slo.BreakerState) slo.Event {
		return slo.Event{Time: start.Add(at(sec)), Kind: slo.BreakerChanged, Dependency: dependency, BreakerFrom: from, BreakerTo: to}
	}
	closed, open, half := slo.BreakerClosed, slo.BreakerOpen, slo.BreakerHalfOpen
	tests := []struct {
		name                          string
		reqs                          []request
		evs                           []slo.Event
		react, release, open, recover string
	}{
		{"none", nil, nil, "—", "—", "—", "—"},
		{"shed and released", shedAt(2.5, 3, 4.2, 5.1, 6.3), nil, "0.5s", "1.1s", "—", "—"},
		{"released before the spike ended", shedAt(2.5, 3.5, 5.5), nil, "0.5s", "0.0s", "—", "—"},
		{"shed before the spike does not count", shedAt(1, 2.25), nil, "0.2s", "0.0s", "—", "—"},
		{"shed only after the spike", shedAt(5), nil, "—", "—", "—", "—"},
		{"breaker", nil, []slo.Event{brk(1, closed, open), brk(4.4, closed, open), brk(7.4, open, half), brk(7.5, half, closed)}, "—", "—", "0.4s", "1.5s"},
		{"breaker half-open then open", nil, []slo.Event{brk(4.3, closed, open), brk(7.3, open, half), brk(7.6, half, open)}, "—", "—", "0.3s", "—"},
	}
	for _, tt := range tests {
		got := []string{
			secText(shedReaction(tt.reqs, sc, 200)), secText(shedRelease(tt.reqs, sc)),
			secText(breakerChange(tt.evs, sc, sc.begins(outage), slo.BreakerOpen)),
			secText(breakerChange(tt.evs, sc, sc.ends(outage), slo.BreakerClosed)),
		}
		if want := []string{tt.react, tt.release, tt.open, tt.recover}; !slices.Equal(got, want) {
			t.Errorf("%s: reaction, release, breaker open, breaker closed = %q, want %q", tt.name, got, want)
		}
	}
	// The load exceeds a capacity of 500 rps only 4/9 of the way up a 1s
	// ramp to 1200 rps: the reaction counts from then.
	cfg.Ramp = time.Second
	sc = newScenario(cfg, start)
	if got := secText(shedReaction(shedAt(2.85), sc, 500)); got != "0.5s" {
		t.Errorf("reaction on a ramp = %s, want 0.5s (shed at 2.85s, overload from %v)", got, func() time.Duration { d, _ := sc.overloadAt(500); return d }())
	}
}

func TestTargets(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	pass := runReport{
		CapacityRPS: 200, GoodputRPS: 180, SuccessRatio: map[string]float64{"CRITICAL": 0.999},
		AdmittedP99MS: 200, UnloadedP99MS: 100, ShedReactionS: f(1), ShedReleaseS: f(30),
	}
	for _, tg := range targets(pass) {
		if !tg.met {
			t.Errorf("targets(at every limit): %s not met, want met", tg.name)
		}
	}
	fail := runReport{
		CapacityRPS: 200, GoodputRPS: 179.9, SuccessRatio: map[string]float64{"CRITICAL": 0.9989},
		AdmittedP99MS: 200.1, UnloadedP99MS: 100, ShedReactionS: f(1.01), ShedReleaseS: nil,
	}
	for _, tg := range targets(fail) {
		if tg.met {
			t.Errorf("targets(just past every limit): %s met, want missed", tg.name)
		}
	}
}

// TestJSONShape checks the JSON of a comparison: both runs, every key the
// issue names, null for what did not happen, success ratios by
// criticality and budgets by objective.
func TestJSONShape(t *testing.T) {
	cfg := smallConfig()
	reqs := []request{{checkout, 2100 * time.Millisecond, 30 * time.Millisecond, ok}, {browse, 2500 * time.Millisecond, 20 * time.Millisecond, ok},
		{browse, 2500 * time.Millisecond, 0, shed}}
	start := time.Unix(1000, 0)
	evs := []slo.Event{
		{Time: start.Add(2500 * time.Millisecond), Kind: slo.SheddingChanged, Level: 0.5},
		{Time: start.Add(4200 * time.Millisecond), Kind: slo.BreakerChanged, BreakerFrom: slo.BreakerClosed, BreakerTo: slo.BreakerOpen},
	}
	cmp := compare(cfg, [2]*runResult{synthetic(cfg, without, nil, reqs[:2]), synthetic(cfg, with, evs, reqs)})
	var b bytes.Buffer
	if err := writeJSON(&b, cmp); err != nil {
		t.Fatalf("writeJSON: %v", err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("JSON does not decode as an object of objects: %v\n%s", err, b.String())
	}
	if len(got) != 2 || got["without"] == nil || got["with"] == nil {
		t.Fatalf("JSON top-level keys = %v, want without and with", keys(got))
	}
	for m, run := range got {
		for _, k := range jsonKeys {
			if _, ok := run[k]; !ok {
				t.Errorf("%s has no key %q", m, k)
			}
		}
		sr, _ := run["success_ratio"].(map[string]any)
		if _, ok := sr["CRITICAL"]; !ok {
			t.Errorf("%s success_ratio = %v, want a CRITICAL key", m, run["success_ratio"])
		}
		if _, ok := sr["SHEDDABLE"]; !ok {
			t.Errorf("%s success_ratio = %v, want a SHEDDABLE key", m, run["success_ratio"])
		}
		bc, _ := run["budget_consumed"].(map[string]any)
		for _, o := range objectives() {
			if _, ok := bc[o.Name].(float64); !ok {
				t.Errorf("%s budget_consumed[%q] = %v, want a number", m, o.Name, bc[o.Name])
			}
		}
	}
	if v := got["without"]["shed_reaction_s"]; v != nil {
		t.Errorf("without shed_reaction_s = %v, want null", v)
	}
	if v := got["with"]["shed_reaction_s"]; v != 0.5 {
		t.Errorf("with shed_reaction_s = %v, want 0.5", v)
	}
	if v := got["with"]["breaker_reaction_s"]; v != 0.2 {
		t.Errorf("with breaker_reaction_s = %v, want 0.2", v)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestSecond(t *testing.T) {
	ms := time.Millisecond
	reqs := []request{
		{checkout, 0, 10 * ms, ok},            // second 1
		{checkout, 900 * ms, 200 * ms, ok},    // sent in 1, done in 2
		{browse, 1500 * ms, 0, shed},          // second 2
		{browse, 1600 * ms, 300 * ms, failed}, // second 2, admitted
		{browse, 1700 * ms, 0, dropped},       // second 2, counted as failed, not admitted
	}
	r1, r2 := second(reqs, 1), second(reqs, 2)
	if r1.offered != 2 || r1.ok != 1 || r1.good != 1 || r1.p99 != 10*ms {
		t.Errorf("second(1) = %+v, want 2 offered, 1 ok and good, p99 10ms", r1)
	}
	if r2.offered != 3 || r2.ok != 1 || r2.shed != 1 || r2.failed != 2 || r2.good != 1 || r2.p50 != 200*ms || r2.p99 != 300*ms {
		t.Errorf("second(2) = %+v, want 3 offered, 1 ok, 1 shed, 2 failed, 1 good, p50 200ms, p99 300ms", r2)
	}
}

func TestFiles(t *testing.T) {
	cfg := smallConfig()
	reqs := []request{{checkout, 100 * time.Millisecond, 30 * time.Millisecond, ok}, {browse, 2500 * time.Millisecond, 0, shed}}
	runs := [2]*runResult{synthetic(cfg, without, nil, reqs), synthetic(cfg, with, nil, reqs)}

	var c bytes.Buffer
	if err := writeCSV(&c, runs); err != nil {
		t.Fatalf("writeCSV: %v", err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatalf("reading the CSV back: %v", err)
	}
	if len(rows) != 17 {
		t.Fatalf("CSV has %d rows, want 17: a header and 8 seconds of two runs", len(rows))
	}
	if want := []string{"run", "t", "phase", "offered", "ok", "shed", "failed", "good", "p50_ms", "p99_ms", "shed_level", "breaker"}; !slices.Equal(rows[0], want) {
		t.Errorf("CSV header = %q, want %q", rows[0], want)
	}
	if want := []string{"without", "1", "steady", "1", "1", "0", "0", "1", "30.0", "30.0", "0.000", "closed"}; !slices.Equal(rows[1], want) {
		t.Errorf("CSV first row = %q, want %q", rows[1], want)
	}
	if got := rows[11][:3]; !slices.Equal(got, []string{"with", "3", "spike"}) {
		t.Errorf("CSV row 11 starts %q, want with, 3, spike", got)
	}

	var s bytes.Buffer
	if err := writeSVG(&s, cfg, runs); err != nil {
		t.Fatalf("writeSVG: %v", err)
	}
	checkXML(t, bytes.NewReader(s.Bytes()))
	for _, want := range []string{"without sloguard", "with sloguard", "goodput", "p99", "shed level", "payments outage", `stroke-dasharray="7 4"`} {
		if !strings.Contains(s.String(), want) {
			t.Errorf("SVG has no %q", want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := defaultConfig().validate(); err != nil {
		t.Errorf("defaultConfig().validate() = %v, want nil", err)
	}
	for _, o := range objectives() {
		if err := o.Validate(); err != nil {
			t.Errorf("objective %s: %v", o.Name, err)
		}
	}
	eng, err := slo.New(objectives(), slo.WithShedding(shedPolicy()), slo.WithBreakers(breakerPolicy()),
		slo.WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		t.Fatalf("slo.New(objectives, policies) = %v, want nil", err)
	}
	if err := eng.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// TestMatrix checks the matrix's cells and how a row is judged.
func TestMatrix(t *testing.T) {
	cells := matrixCells()
	if len(cells) != 14 {
		t.Fatalf("matrixCells() = %d cells, want 14: 3 × 4, the ramp and no spike", len(cells))
	}
	for _, c := range cells {
		cfg := defaultConfig()
		cfg.Conns, cfg.RPS, cfg.SpikeFactor, cfg.Ramp, cfg.Outage = c.conns, c.rps, c.factor, c.ramp, 0
		if err := cfg.validate(); err != nil {
			t.Errorf("cell %+v: %v", c, err)
		}
		if c.factor > 1 && c.rps != 0.6*cfg.capacity() {
			t.Errorf("cell %+v: base load %v rps, want 60%% of %v", c, c.rps, cfg.capacity())
		}
	}
	f := func(v float64) *float64 { return &v }
	good := runReport{CapacityRPS: 200, GoodputRPS: 190, SuccessRatio: map[string]float64{"CRITICAL": 1},
		AdmittedP99MS: 150, UnloadedP99MS: 100, ShedReactionS: f(0.1), ShedReleaseS: f(0.2)}
	tests := []struct {
		name string
		row  matrixRow
		want bool
	}{
		{"spike met", matrixRow{cell: cell{factor: 10}, with: good}, true},
		{"spike, p99 missed", matrixRow{cell: cell{factor: 10}, with: func() runReport { r := good; r.AdmittedP99MS = 201; return r }()}, false},
		{"no spike met", matrixRow{cell: cell{factor: 1}, with: good, without: good, sheddedShare: 0.009}, true},
		{"no spike, 1% shed", matrixRow{cell: cell{factor: 1}, with: good, without: good, sheddedShare: 0.01}, false},
		{"no spike, a CRITICAL shed", matrixRow{cell: cell{factor: 1}, with: good, without: good, criticalShed: 1}, false},
		{"no spike, CRITICAL worse", matrixRow{cell: cell{factor: 1}, with: good,
			without: runReport{SuccessRatio: map[string]float64{"CRITICAL": 1.01}}}, false},
	}
	for _, tt := range tests {
		if got := rowMet(tt.row); got != tt.want {
			t.Errorf("%s: rowMet = %v, want %v", tt.name, got, tt.want)
		}
	}
	var b strings.Builder
	printMatrix(&b, defaultConfig(), []matrixRow{tests[0].row, tests[3].row})
	for _, want := range []string{"CRITICAL with", "goodput", "✓", "✗", "95%", "1.50×"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printMatrix lacks %q:\n%s", want, b.String())
		}
	}
}
