package main

import (
	"encoding/json"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// TestRun runs the whole program, shortened to 12 seconds, against its real
// loopback server: time can not be faked for real sockets.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 12-second scenario on a loopback server")
	}
	const d = 12 * time.Second
	goroutines := runtime.NumGoroutine()
	var out strings.Builder // written under run's mutex only
	err := run(d, &out)
	got := out.String()
	t.Logf("output:\n%s", got)
	if err != nil {
		t.Fatalf("run(%v) = %v, want nil", d, err)
	}

	// The outage begins and ends at a third and two thirds of the run.
	seconds := func(s string) time.Duration {
		t.Helper()
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("time %q: %v", s, err)
		}
		return time.Duration(f * float64(time.Second))
	}
	var began, ended time.Duration
	for _, m := range regexp.MustCompile(`(?m)^ *([0-9.]+)s  ── outage (begins|ends)$`).FindAllStringSubmatch(got, -1) {
		if m[2] == "begins" {
			began = seconds(m[1])
		} else {
			ended = seconds(m[1])
		}
	}
	if began < d/3 || ended < 2*d/3 || ended > d+time.Second {
		t.Fatalf("outage from %v to %v, want from about %v to %v", began, ended, d/3, 2*d/3)
	}

	// The availability objective pages during the outage, live. One second
	// of slack at the end: on a busy machine the evaluation that sees the
	// outage's requests may run just after the outage ends.
	m := regexp.MustCompile(`(?m)^ *([0-9.]+)s  ▶ availability: ok → page \(remaining`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("output has no event of availability going from ok to page")
	}
	if at := seconds(m[1]); at < began || at > ended+time.Second {
		t.Errorf("availability paged at %v, want during the outage [%v, %v]", at, began, ended)
	}

	// The status lines show the budget spent by the outage.
	rows := regexp.MustCompile(`(?m)^ *[0-9.]+s   availability (\w+) +budget +([0-9.-]+)%`).FindAllStringSubmatch(got, -1)
	if len(rows) < 2 {
		t.Fatalf("output has %d status lines, want at least 2", len(rows))
	}
	if first := rows[0]; first[1] != "ok" || first[2] != "100.0" {
		t.Errorf("first status line: availability %s with %s%% left, want ok with 100.0%%", first[1], first[2])
	}
	if last, err := strconv.ParseFloat(rows[len(rows)-1][2], 64); err != nil || last >= 99.9 {
		t.Errorf("last status line: availability with %s%% left, want less than 99.9%%", rows[len(rows)-1][2])
	}

	// The release verdict comes from the status page, as JSON.
	_, after, ok := strings.Cut(got, "GET /status/release: ")
	if !ok {
		t.Fatalf("output has no release verdict")
	}
	status, body, _ := strings.Cut(after, "\n")
	var rel statusjson.Release
	if err := json.Unmarshal([]byte(body), &rel); err != nil {
		t.Fatalf("release verdict %q: %v", body, err)
	}
	if want := map[bool]string{true: "200 OK", false: "409 Conflict"}[rel.Allowed]; status != want {
		t.Errorf("release verdict status %q with allowed %v, want %q", status, rel.Allowed, want)
	}

	// Every goroutine run started has stopped.
	if err := demo.WaitGoroutines(goroutines, 2*time.Second); err != nil {
		t.Errorf("after run: %v", err)
	}
}

// TestObjectives checks that the objectives are valid and that their rules
// keep the thresholds of the Workbook's 30-day rules, as README.md says.
func TestObjectives(t *testing.T) {
	wantShort := []time.Duration{2500 * time.Millisecond, 10 * time.Second} // 30m and 2h, shrunk
	wantThreshold := []float64{6, 3}
	for _, o := range objectives() {
		if err := o.Validate(); err != nil {
			t.Errorf("objective %s: %v", o.Name, err)
		}
		if len(o.Rules) != len(wantShort) {
			t.Fatalf("objective %s has %d rules, want %d", o.Name, len(o.Rules), len(wantShort))
		}
		for i, r := range o.Rules {
			if got := r.ShortWindow(); got != wantShort[i] {
				t.Errorf("%s rule %d: ShortWindow() = %v, want %v", o.Name, i, got, wantShort[i])
			}
			if got := r.Threshold(o.Period); got != wantThreshold[i] {
				t.Errorf("%s rule %d: Threshold(%v) = %v, want %v", o.Name, i, o.Period, got, wantThreshold[i])
			}
		}
	}
}
