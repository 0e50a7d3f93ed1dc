package main

import (
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo"
)

// TestRun runs the whole demo, shortened to 9 seconds, against its real
// loopback server: time can not be faked for real sockets.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 9-second scenario on a loopback server")
	}
	cfg := defaultConfig()
	cfg.Warmup, cfg.Outage, cfg.Recovery = 3*time.Second, 3*time.Second, 3*time.Second
	cfg.RPS = 100
	// Half the default period halves the rule windows (page: 15s & 1.25s),
	// so the page fires within about half a second of outage traffic even
	// when a busy machine slows the load generator down.
	cfg.Period, cfg.History = 30*time.Minute, 30*time.Minute

	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out strings.Builder // written under the console's mutex only
	err := run(ctx, cfg, &out)
	got := out.String()
	t.Logf("output:\n%s", got)
	if err != nil {
		t.Fatalf("run() = %v, want nil", err)
	}

	if !strings.Contains(got, "\nSummary after ") {
		t.Errorf("output has no summary")
	}
	summary := got[strings.LastIndex(got, "\nSummary after ")+1:]
	for _, name := range []string{availability, latency} {
		if section(summary, name) == nil {
			t.Errorf("summary has no section for objective %q", name)
		}
	}

	// The availability objective pages during the outage, live...
	m := regexp.MustCompile(`(?m)^ *([0-9.]+)s  ▶ availability +\w+ → page `).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("output has no event of availability going to page")
	}
	at, err := time.ParseDuration(m[1] + "s")
	if err != nil {
		t.Fatalf("page event time %q: %v", m[1], err)
	}
	// One second of slack at the end: on a busy machine the evaluation that
	// sees the outage's requests may run just after the outage ends.
	if end := cfg.Warmup + cfg.Outage + time.Second; at < cfg.Warmup || at > end {
		t.Errorf("availability paged at %v, want during the outage [%v, %v]", at, cfg.Warmup, end)
	}
	// ...and the summary, read from Engine.Events, agrees.
	var alerting string
	for _, line := range section(summary, availability) {
		if s, ok := strings.CutPrefix(line, "  alerting  "); ok {
			alerting = s
		}
	}
	if !strings.HasPrefix(alerting, "paged ") || !strings.Contains(alerting, "after the outage began") {
		t.Errorf("availability alerting = %q, want \"paged … after the outage began…\"", alerting)
	}

	// Every goroutine run started has stopped.
	if err := demo.WaitGoroutines(goroutines, 2*time.Second); err != nil {
		t.Errorf("after run: %v", err)
	}
}

// section returns the summary lines of the named objective: its heading and
// the indented lines after it, or nil if there is none.
func section(summary, name string) []string {
	lines := strings.Split(summary, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, name+" (") {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.HasPrefix(lines[j], "  ") {
			j++
		}
		return lines[i:j]
	}
	return nil
}

// TestRunInvalidConfig checks that run reports the problems with its phases
// and with demo.Config, and writes nothing.
func TestRunInvalidConfig(t *testing.T) {
	cfg := defaultConfig()
	cfg.Outage, cfg.RPS = 0, 0
	var out strings.Builder
	err := run(t.Context(), cfg, &out)
	if want := "invalid configuration:\noutage 0s is not positive\nrps 0 is not between 1 and 2000"; err == nil || err.Error() != want {
		t.Errorf("run(invalid config) = %v, want %q", err, want)
	}
	if out.Len() > 0 {
		t.Errorf("run(invalid config) wrote %q, want nothing", out.String())
	}
}

// TestObjectives checks the objectives over the range of periods: valid,
// with the Workbook's windows shrunk as README.md shows them.
func TestObjectives(t *testing.T) {
	tests := []struct {
		period      time.Duration
		long, short []time.Duration
	}{
		{time.Hour, []time.Duration{30 * time.Second, 2 * time.Minute}, []time.Duration{2500 * time.Millisecond, 10 * time.Second}},
		{2 * time.Hour, []time.Duration{time.Minute, 4 * time.Minute}, []time.Duration{5 * time.Second, 20 * time.Second}},
		{30 * time.Minute, []time.Duration{15 * time.Second, time.Minute}, []time.Duration{1250 * time.Millisecond, 5 * time.Second}},
		{6 * time.Hour, []time.Duration{3 * time.Minute, 12 * time.Minute}, []time.Duration{15 * time.Second, time.Minute}},
	}
	for _, tt := range tests {
		cfg := defaultConfig()
		cfg.Period = tt.period
		for _, o := range cfg.objectives() {
			if err := o.Validate(); err != nil {
				t.Errorf("period %v: objective %s: %v", tt.period, o.Name, err)
			}
			for i, r := range o.Rules {
				if r.Long != tt.long[i] || r.ShortWindow() != tt.short[i] {
					t.Errorf("period %v: %s rule %d windows = %v & %v, want %v & %v", tt.period, o.Name, i, r.Long, r.ShortWindow(), tt.long[i], tt.short[i])
				}
			}
		}
	}
}

func TestAlerting(t *testing.T) {
	start := time.Unix(1000, 0)
	tl := demo.NewTimeline(start, 10*time.Second, 10*time.Second, 10*time.Second)
	ev := func(sec float64, from, to budget.State) slo.Event {
		return slo.Event{Time: start.Add(time.Duration(sec * float64(time.Second))), From: from, To: to}
	}
	ok, ticket, page, exhausted := budget.StateOK, budget.StateTicket, budget.StatePage, budget.StateExhausted
	tests := []struct {
		name string
		evs  []slo.Event
		want string
	}{
		{"none", nil, "no page"},
		{"ticket only", []slo.Event{ev(11, ok, ticket), ev(25, ticket, ok)}, "no page"},
		{"page before the outage is not counted", []slo.Event{ev(5, ok, page), ev(6, page, ok)}, "no page"},
		{"page, ticket, ok", []slo.Event{ev(-60, budget.StateUnknown, ok), ev(11, ok, page), ev(22.5, page, ticket), ev(30, ticket, ok)},
			"paged 1s after the outage began; page cleared 2.5s after it ended; ok 10s after it ended"},
		{"page to ok", []slo.Event{ev(12, ok, page), ev(23, page, ok)},
			"paged 2s after the outage began; page cleared 3s after it ended"},
		{"cleared during the outage", []slo.Event{ev(12, ok, page), ev(18, page, ok)},
			"paged 2s after the outage began; page cleared 2s before it ended"},
		{"still paging", []slo.Event{ev(12, ok, page)}, "paged 2s after the outage began; still page at the end"},
		{"exhausted", []slo.Event{ev(10.3, ok, exhausted)}, "went exhausted 300ms after the outage began; still exhausted at the end"},
		{"ticket at the end", []slo.Event{ev(12, ok, page), ev(21, page, ticket)},
			"paged 2s after the outage began; page cleared 1s after it ended; still ticket at the end"},
	}
	for _, tt := range tests {
		if got := alerting(tt.evs, tl); got != tt.want {
			t.Errorf("%s: alerting() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
