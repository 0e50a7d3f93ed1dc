package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

var update = flag.Bool("update", false, "rewrite the recorded status document and the golden draft under testdata/postmortem")

// The objectives of the incident scenario.
const (
	pmCheckout = "checkout-availability"
	pmSearch   = "search-latency"
	pmPayments = "payments-availability"
)

// pmStart is when the scenario's service starts.
var pmStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// overload is a stretch of the scenario, in minutes from pmStart.
type overload struct{ from, to int }

// incidentEngine returns a real engine with shedding, a gate, a dependency
// and the default history, that has gone through a scenario of the given
// length in minutes, evaluated with Tick every 10 seconds: healthy traffic,
// but in the overloads, where requests pile up in flight beyond the
// gate's limit, a fifth of the admitted checkouts fail, a third of the
// searches are slow and half the payments calls fail. It returns the
// engine and the time of its last evaluation.
func incidentEngine(t testing.TB, minutes int, overloads ...overload) (*slo.Engine, time.Time) {
	t.Helper()
	eng, err := slo.New([]slo.Objective{
		{Name: pmCheckout, Target: 0.999},
		{Name: pmSearch, Target: 0.99, Latency: 300 * time.Millisecond},
		{Name: pmPayments, Target: 0.99, Dependency: "payments"},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithShedding(slo.ShedPolicy{MaxInFlight: 200}),
		slo.WithGate("recommendations", slo.GatePolicy{MinRemaining: 0.5, ClosedOnPage: true}),
	)
	if err != nil {
		t.Fatalf("slo.New: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	routes := map[slo.Criticality]*slo.Route{}
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		rt, err := eng.Route(c, pmCheckout)
		if err != nil {
			t.Fatal(err)
		}
		routes[c] = rt
	}
	search, err := eng.Recorder(pmSearch)
	if err != nil {
		t.Fatal(err)
	}
	payments, err := eng.Recorder(pmPayments)
	if err != nil {
		t.Fatal(err)
	}
	var open []slo.Ticket // requests in flight, overloaded
	now := pmStart
	for step := range minutes * 6 {
		now = pmStart.Add(time.Duration(step) * 10 * time.Second)
		overloaded := false
		for _, o := range overloads {
			at := now.Sub(pmStart)
			overloaded = overloaded || at >= time.Duration(o.from)*time.Minute && at < time.Duration(o.to)*time.Minute
		}
		// The requests of the previous interval complete: in the
		// overload a fifth of them fail.
		for i, tk := range open {
			if i%5 == 0 {
				tk.Done(budget.Bad)
			} else {
				tk.Done(budget.Good)
			}
		}
		open = open[:0]
		for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
			n := 20 * (c.Index() + 1)
			if overloaded {
				n *= 4
			}
			for range n {
				tk, _, ok := routes[c].Admit(c)
				if !ok {
					continue
				}
				if overloaded {
					open = append(open, tk)
				} else {
					tk.Done(budget.Good)
				}
			}
		}
		for i := range 50 {
			lat := 20 * time.Millisecond
			if overloaded && i%3 == 0 {
				lat = time.Second
			}
			search.Record(budget.Good, lat)
		}
		for i := range 20 {
			o := budget.Good
			if overloaded && i%2 == 0 {
				o = budget.Bad
			}
			// Recorded, not called through the breaker: a Tick-driven
			// engine's breaker keeps the wall clock's time.
			payments.Record(o, 0)
		}
		eng.Tick(now)
	}
	for _, tk := range open {
		tk.Done(budget.Good)
	}
	return eng, now
}

// serveEngine serves eng's status handler on loopback and returns its URL.
func serveEngine(t *testing.T, eng *slo.Engine) string {
	t.Helper()
	h, err := statuspage.New(eng)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sloguard/", http.StripPrefix("/sloguard", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/sloguard"
}

// postmortem runs the command in process and returns its exit status and
// output.
func postmortem(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"postmortem"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// theIncident is the scenario of the live and the recorded test: an hour,
// overloaded from minute 20 to 35.
func theIncident(t testing.TB) (*slo.Engine, time.Time) {
	return incidentEngine(t, 60, overload{20, 35})
}

// row returns the line of the Markdown table in draft whose first cell is
// first.
func row(t *testing.T, draft, first string) string {
	t.Helper()
	for l := range strings.SplitSeq(draft, "\n") {
		if strings.HasPrefix(l, "| "+first+" |") {
			return l
		}
	}
	t.Fatalf("the draft has no table row for %q:\n%s", first, draft)
	return ""
}

// TestPostmortemLive runs the command against a real engine behind the
// real status handler on loopback, after an incident, and checks the draft
// against what the engine itself says: the window from the scenario's
// shape, and the budget spent, the demand shed and the timeline from the
// engine's own History, LoadHistory, Status and Events.
func TestPostmortemLive(t *testing.T) {
	eng, _ := theIncident(t)
	url := serveEngine(t, eng)
	code, draft, stderr := postmortem(t, "--url", url)
	if code != exitOK || stderr != "" {
		t.Fatalf("sloguard postmortem = %d, stderr %q, want 0 and none", code, stderr)
	}
	// The overload's first evaluation is at 12:20:00, sampled at 12:20
	// for the two minutes since 12:18 (the default history interval);
	// shedding stops within a few minutes of its end at 12:35.
	const windowFrom = "**Window:** 2025-03-01T12:18:00Z to 2025-03-01T12:3"
	if !strings.Contains(draft, windowFrom) {
		t.Fatalf("draft window: want %q…:\n%s", windowFrom, draft)
	}
	_, rest, _ := strings.Cut(draft, windowFrom)
	end, err := time.Parse(time.RFC3339, "2025-03-01T12:3"+rest[:len("6:00Z")])
	if err != nil || end.Before(pmStart.Add(35*time.Minute)) || end.After(pmStart.Add(40*time.Minute)) {
		t.Fatalf("draft window ends at %v (%v), want from 12:35 to 12:40", end, err)
	}
	in := func(at time.Time) bool { return at.After(pmStart.Add(18*time.Minute)) && !at.After(end) }

	st := eng.Status()
	for _, o := range st.Objectives {
		hist, err := eng.History(o.Objective.Name)
		if err != nil {
			t.Fatal(err)
		}
		var good, bad, shed uint64
		for _, s := range hist {
			if in(s.Time) {
				good, bad, shed = good+s.Good, bad+s.Bad, shed+s.Shed
			}
		}
		p := o.Report.Period
		share := float64(bad+shed) / (float64(p.Good+p.Bad+p.Shed) * (1 - o.Objective.Target))
		minutes := share * (30 * 24 * 60) * (1 - o.Objective.Target)
		if bad+shed == 0 {
			t.Fatalf("%s spent nothing in the incident: the scenario does not burn it", o.Objective.Name)
		}
		want := fmt.Sprintf("| %d | %d | %d | %.1f%% of the period's | %s min |", good, bad, shed, share*100, minuteText(minutes))
		if r := row(t, draft, strings.ReplaceAll(o.Objective.Name, "_", `\_`)); !strings.Contains(r, want) {
			t.Errorf("budget row of %s = %s, want it to hold %s", o.Objective.Name, r, want)
		}
	}

	var admitted, rejected [4]uint64
	for _, s := range eng.LoadHistory() {
		if in(s.Time) {
			for c := range admitted {
				admitted[c] += s.Admitted[c]
				rejected[c] += s.Rejected[c]
			}
		}
	}
	var shedAny bool
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		a, r := admitted[c.Index()], rejected[c.Index()]
		want := fmt.Sprintf("| %s | %d | %d | %d |", strings.ReplaceAll(c.String(), "_", `\_`), a+r, a, r)
		if got := row(t, draft, strings.ReplaceAll(c.String(), "_", `\_`)); !strings.HasPrefix(got, want) {
			t.Errorf("demand row of %v = %s, want %s…", c, got, want)
		}
		shedAny = shedAny || r > 0
	}
	if !shedAny {
		t.Fatalf("nothing shed in the incident: the scenario does not overload")
	}

	_, timeline, _ := strings.Cut(draft, "## Timeline")
	var changes int
	for _, ev := range eng.Events() {
		if ev.Time.Before(pmStart.Add(18*time.Minute)) || ev.Time.After(end.Add(time.Hour)) {
			if strings.Contains(timeline, ev.String()) {
				t.Errorf("timeline holds %q, outside the incident", ev)
			}
			continue
		}
		changes++
		if want := fmt.Sprintf("| %s | %s |", ev.Time.UTC().Format(time.RFC3339), markdownEscaper.Replace(ev.String())); !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %s", want)
		}
	}
	if changes == 0 {
		t.Fatalf("no events in the incident")
	}
	for _, h := range []string{"## Summary", "## Impact", "## Root cause", "## Action items", "still burning"} {
		if strings.Contains(draft, h) == (h == "still burning") {
			t.Errorf("draft: has %q = %v, want %v", h, !(h == "still burning"), h != "still burning")
		}
	}
}

// minuteText formats minutes of outage as the draft does.
func minuteText(m float64) string {
	if m >= 100 {
		return fmt.Sprintf("%.0f", m)
	}
	return fmt.Sprintf("%.1f", m)
}

// golden is where the recorded status document and its draft live.
var golden = filepath.Join("testdata", "postmortem")

// TestPostmortemRecorded writes the draft of a recorded status document
// (recorded from the scenario's engine with -update) and compares it with
// the golden draft.
func TestPostmortemRecorded(t *testing.T) {
	docPath, draftPath := filepath.Join(golden, "status.json"), filepath.Join(golden, "draft.md")
	if *update {
		eng, _ := theIncident(t)
		body, err := json.MarshalIndent(statuspage.Build(eng), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(golden, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docPath, append(body, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	body, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeDocument(body)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := findIncident(doc, startFlag{})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	writePostmortem(&got, doc, "http://127.0.0.1:8080/sloguard/status.json", inc)
	if *update {
		if err := os.WriteFile(draftPath, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(draftPath)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("draft of %s differs from %s (run with -update after checking):\n%s", docPath, draftPath, got.String())
	}
}

// TestPostmortemRange checks which incident is written, and what the
// command says when there is none, over an engine with two incidents.
func TestPostmortemRange(t *testing.T) {
	eng, _ := incidentEngine(t, 120, overload{20, 30}, overload{70, 80})
	url := serveEngine(t, eng)
	tests := []struct {
		name     string
		args     []string
		code     int
		window   string // in stdout
		stderr   string
		laterOne bool
	}{
		{"latest", nil, exitOK, "**Window:** 2025-03-01T13:08:00Z to ", "", false},
		{"the first from a time", []string{"--since", "2025-03-01T12:00:00Z"}, exitOK, "**Window:** 2025-03-01T12:18:00Z to ", "", true},
		{"the first from a duration back", []string{"--since", "1h30m"}, exitOK, "**Window:** 2025-03-01T13:08:00Z to ", "", false},
		{"none after", []string{"--since", "30m"}, exitOK, "", "sloguard postmortem: no incident from 2025-03-01T13:29:50Z to 2025-03-01T13:59:50Z\n", false},
		{"not a time", []string{"--since", "yesterday"}, exitError, "", "want an RFC 3339 time", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := postmortem(t, append([]string{"--url", url}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) || tt.stderr == "" && stderr != "" {
				t.Fatalf("sloguard postmortem %q = %d, stderr %q; want %d, %q", tt.args, code, stderr, tt.code, tt.stderr)
			}
			if tt.window == "" {
				if out != "" {
					t.Errorf("stdout = %q, want none", out)
				}
				return
			}
			if !strings.Contains(out, tt.window) {
				t.Errorf("draft does not hold %q:\n%s", tt.window, out)
			}
			if got := strings.Contains(out, "1 later incident(s) in range"); got != tt.laterOne {
				t.Errorf("draft mentions a later incident: %v, want %v", got, tt.laterOne)
			}
		})
	}
}

// TestPostmortemOngoing: an incident that has not ended is still burning.
func TestPostmortemOngoing(t *testing.T) {
	eng, _ := incidentEngine(t, 30, overload{20, 30})
	code, out, _ := postmortem(t, "--url", serveEngine(t, eng))
	want := "**Window:** from 2025-03-01T12:18:00Z, **still burning** as of 2025-03-01T12:28:00Z"
	if code != exitOK || !strings.Contains(out, want) || !strings.Contains(out, "| 2025-03-01T12:28:00Z | **Still burning** as of the latest sample |") {
		t.Errorf("sloguard postmortem = %d, want 0 and a draft saying %q:\n%s", code, want, out)
	}
}

// TestPostmortemBadInput: what the command can not work from is an error
// (exit status 2) that says why; a healthy service has no incident (0).
func TestPostmortemBadInput(t *testing.T) {
	healthy, _ := incidentEngine(t, 30)
	idle, err := slo.New([]slo.Objective{{Name: pmCheckout, Target: 0.999}},
		slo.WithLogger(slog.New(slog.DiscardHandler)), slo.WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	for m := range 5 {
		idle.Tick(pmStart.Add(time.Duration(m) * time.Minute))
	}
	old := statusjson.Document{Time: t0, Objectives: []statusjson.Objective{{Name: pmCheckout, Target: 0.999, State: "ok"}}}
	canned := serve(t, map[string]reply{
		"/old/status.json":  jsonReply(t, http.StatusOK, old),
		"/html/status.json": {http.StatusOK, "<!doctype html><title>shop</title>"},
		"/down/status.json": {http.StatusServiceUnavailable, "maintenance"},
	})
	tests := []struct {
		name   string
		url    string
		code   int
		stderr string
	}{
		{"healthy", serveEngine(t, healthy), exitOK, "sloguard postmortem: no incident in the history, from 2025-03-01T12:00:00Z to 2025-03-01T12:29:50Z\n"},
		{"no traffic", serveEngine(t, idle), exitError, "no traffic in the history from 2025-03-01T12:00:00Z to 2025-03-01T12:04:00Z: nothing to judge"},
		{"no history", canned.URL + "/old", exitError, "the status document has no history"},
		{"not the status handler", canned.URL + "/html", exitError, "got HTML, not JSON"},
		{"an error", canned.URL + "/down", exitError, "503 Service Unavailable: maintenance"},
		{"unreachable", closedPort(t), exitError, "connection refused"},
		{"no url", "", exitError, "--url is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{}
			if tt.url != "" {
				args = append(args, "--url", tt.url)
			}
			code, out, stderr := postmortem(t, args...)
			if code != tt.code || out != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("sloguard postmortem --url %s = %d, stdout %q, stderr %q; want %d, none, %q", tt.url, code, out, stderr, tt.code, tt.stderr)
			}
		})
	}
}
