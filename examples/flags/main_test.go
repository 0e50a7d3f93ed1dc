package main

import (
	"context"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo"
)

// TestRun runs the whole demo, shortened to 13 seconds, against its real
// loopback server: time can not be faked for real sockets.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 13-second scenario on a loopback server")
	}
	cfg := defaultConfig()
	cfg.Warmup, cfg.Fault, cfg.Recovery = 3*time.Second, 5*time.Second, 5*time.Second
	cfg.RPS = 100
	// Half the default period halves the rule windows (page: 30s & 2.5s),
	// so the gate reopens about 3s after the fault ends.
	cfg.Period, cfg.History = time.Hour, time.Hour

	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	var out strings.Builder // written under the console's mutex only
	err := run(ctx, cfg, &out)
	got := out.String()
	t.Logf("output:\n%s", got)
	if err != nil {
		t.Fatalf("run() = %v, want nil", err)
	}

	// The gate's changes, as printed live from the engine's events.
	type change struct {
		at time.Duration
		on bool
	}
	var changes []change
	for _, m := range regexp.MustCompile(`(?m)^ *([0-9.]+)s  ◆ gate `+gateName+` → (ON|OFF)`).FindAllStringSubmatch(got, -1) {
		sec, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("gate line time %q: %v", m[1], err)
		}
		changes = append(changes, change{time.Duration(sec * float64(time.Second)), m[2] == "ON"})
	}
	faultStart, faultEnd := cfg.Warmup, cfg.Warmup+cfg.Fault
	first := slices.IndexFunc(changes, func(c change) bool { return !c.on })
	if first < 0 {
		t.Fatalf("gate never closed; changes %v", changes)
	}
	// One second of slack at the end: on a busy machine the evaluation that
	// sees the fault's requests may run just after it ends.
	if at := changes[first].at; at < faultStart || at > faultEnd+time.Second {
		t.Errorf("gate first closed at %v, want during the fault [%v, %v]", at, faultStart, faultEnd)
	}
	last := changes[len(changes)-1]
	if !last.on {
		t.Errorf("gate is closed at the end, want it reopened after the recovery; changes %v", changes)
	}
	// A reopening just before the fault ends may survive it.
	if last.at < faultEnd-time.Second {
		t.Errorf("gate last reopened at %v, want after the fault ended at %v; changes %v", last.at, faultEnd, changes)
	}

	// OpenFeature saw the same: the provider's event, and the flag forced off.
	if !strings.Contains(got, "◇ PROVIDER_CONFIGURATION_CHANGED [new-recommender]: new-recommender = false (DISABLED, variant sloguard-safe)") {
		t.Errorf("output has no OpenFeature event with the flag forced off")
	}
	if m := regexp.MustCompile(`(\d+) forced to false by sloguard`).FindStringSubmatch(got); m == nil || m[1] == "0" {
		t.Errorf("summary: GET /home was never forced to the old recommender (%q)", m)
	}

	summary := got[strings.LastIndex(got, "\nSummary after ")+1:]
	for _, want := range []string{"closed ", "after the fault began", "after the fault ended, and stayed open"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary does not say %q", want)
		}
	}

	// Every goroutine run started has stopped.
	if err := demo.WaitGoroutines(goroutines, 2*time.Second); err != nil {
		t.Errorf("after run: %v", err)
	}
}

// TestRunInvalidConfig checks that run reports the problems with its phases
// and with demo.Config, and writes nothing.
func TestRunInvalidConfig(t *testing.T) {
	cfg := defaultConfig()
	cfg.Fault, cfg.RPS = 0, 0
	var out strings.Builder
	err := run(t.Context(), cfg, &out)
	if want := "invalid configuration:\nfault 0s is not positive\nrps 0 is not between 1 and 2000"; err == nil || err.Error() != want {
		t.Errorf("run(invalid config) = %v, want %q", err, want)
	}
	if out.Len() > 0 {
		t.Errorf("run(invalid config) wrote %q, want nothing", out.String())
	}
}

// TestObjectives checks that the objectives are valid over the range of
// periods.
func TestObjectives(t *testing.T) {
	for _, period := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour} {
		cfg := defaultConfig()
		cfg.Period = period
		for _, o := range cfg.objectives() {
			if err := o.Validate(); err != nil {
				t.Errorf("period %v: objective %s: %v", period, o.Name, err)
			}
		}
	}
}

func TestGateStory(t *testing.T) {
	start := time.Unix(1000, 0)
	tl := demo.NewTimeline(start, 10*time.Second, 10*time.Second, 10*time.Second)
	ev := func(sec float64, on bool) slo.Event {
		e := slo.Event{Time: start.Add(time.Duration(sec * float64(time.Second))), Kind: slo.GateChanged, Gate: gateName, Enabled: on}
		if !on {
			e.Reason = "availability is in state page"
		}
		return e
	}
	tests := []struct {
		name string
		evs  []slo.Event
		want []string
	}{
		{"never closed", nil, []string{"stayed open: no objective paged"}},
		{"closed before the fault only", []slo.Event{ev(5, false), ev(6, true)}, []string{"stayed open: no objective paged"}},
		{"closed before the fault", []slo.Event{ev(5, false), ev(6, true), ev(9, false), ev(25, true)}, []string{
			"already closed when the fault began: availability is in state page",
			"reopened 5s after the fault ended, and stayed open",
		}},
		{"closed and reopened", []slo.Event{ev(11.3, false), ev(22.5, true)}, []string{
			"closed 1.3s after the fault began: availability is in state page",
			"reopened 2.5s after the fault ended, and stayed open",
		}},
		{"probes", []slo.Event{ev(11.3, false), ev(15.8, true), ev(16, false), ev(20.8, true), ev(21.1, false), ev(22, true)}, []string{
			"closed 1.3s after the fault began: availability is in state page",
			"probed 2 times: reopened as the page cleared, closed again after 200ms and 300ms",
			"reopened 2s after the fault ended, and stayed open",
		}},
		{"one probe, still closed", []slo.Event{ev(11, false), ev(16, true), ev(16.5, false)}, []string{
			"closed 1s after the fault began: availability is in state page",
			"probed once: reopened as the page cleared, closed again after 500ms",
			"still closed at the end",
		}},
		{"reopened before the end of the fault", []slo.Event{ev(11, false), ev(19.9, true)}, []string{
			"closed 1s after the fault began: availability is in state page",
			"reopened 100ms before the fault ended, and stayed open",
		}},
	}
	for _, tt := range tests {
		if got := gateStory(tt.evs, tl); !slices.Equal(got, tt.want) {
			t.Errorf("%s: gateStory() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
