package slo_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// spend is an objective whose remaining budget is set exactly by its
// counts: no alert rules, so its state is only ok or exhausted (or unknown
// before the first event), and a target of 0.5, so that its remaining
// budget 1 − 2·bad/total has no rounding error for the counts used here.
var spend = slo.Objective{Name: "api", Target: 0.5, Period: time.Hour, Rules: []budget.Rule{}}

// ledgerStep is one evaluation of a scripted test: the cumulative bad and
// total events of an objective.
type ledgerStep struct{ bad, total uint64 }

// counter records the events of one objective up to cumulative counts.
type counter struct {
	eng        *slo.Engine
	name       string
	bad, total uint64
}

// to records the bad and good events that bring the objective to the
// cumulative counts of s.
func (c *counter) to(t *testing.T, s ledgerStep) {
	t.Helper()
	if s.bad < c.bad || s.total-s.bad < c.total-c.bad {
		t.Fatalf("step %+v goes back from %d bad of %d", s, c.bad, c.total)
	}
	record(t, c.eng, c.name, budget.Bad, 0, int(s.bad-c.bad))
	record(t, c.eng, c.name, budget.Good, 0, int((s.total-s.bad)-(c.total-c.bad)))
	c.bad, c.total = s.bad, s.total
}

// burnObjective has a page rule (burn 5, half the events bad with a 90%
// target) and a ticket rule (burn 2) over one minute and ten seconds, and
// a period of an hour in which a first batch of good events keeps the
// budget far from spent: its state is driven by one batch of events.
var burnObjective = slo.Objective{Name: "api", Target: 0.9, Period: time.Hour, Rules: []budget.Rule{
	{Severity: budget.Page, Long: time.Minute, Short: 10 * time.Second, Burn: 5},
	{Severity: budget.Ticket, Long: time.Minute, Short: 10 * time.Second, Burn: 2},
}}

// burnStep is one ten-second step of a burnObjective script: the good and
// bad events recorded before its evaluation.
type burnStep struct {
	good, bad int
	state     budget.State // of burnObjective after the step
}

// burnScript is a script of burnObjective: a page-level burst, a quiet
// minute, a ticket-level burst and a quiet minute.
var burnScript = []burnStep{
	{4, 6, budget.StatePage}, // burn 6 over both windows
	{0, 0, budget.StateOK},   // the 10s window is empty: nothing fires
	{0, 0, budget.StateOK},
	{0, 0, budget.StateOK},
	{0, 0, budget.StateOK},
	{0, 0, budget.StateOK},
	{0, 0, budget.StateOK},     // the burst has left the 1m window
	{7, 3, budget.StateTicket}, // burn 3
	{0, 0, budget.StateOK},
	{0, 0, budget.StateOK},
}

// startBurn records the first batch of good events of burnObjective,
// evaluates, and waits two quiet minutes, so that the rules' windows are
// empty. It returns the time of the last evaluation.
func startBurn(t *testing.T, eng *slo.Engine) time.Time {
	t.Helper()
	record(t, eng, burnObjective.Name, budget.Good, 0, 10000)
	now := t0
	for ; now.Before(t0.Add(2 * time.Minute)); now = now.Add(10 * time.Second) {
		eng.Tick(now)
	}
	eng.Tick(now)
	if got := objectiveStatus(t, eng.Status(), burnObjective.Name).Report.State; got != budget.StateOK {
		t.Fatalf("state after the first batch = %v, want ok", got)
	}
	return now
}

// gateEvents describes the GateChanged events of evs, one string each.
func gateEvents(evs []slo.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Kind == slo.GateChanged {
			out = append(out, fmt.Sprintf("%s %s enabled=%v %s", ev.Time.Format(time.TimeOnly), ev.Gate, ev.Enabled, ev.Reason))
		}
	}
	return out
}

// gate returns the named gate of eng.
func gate(t testing.TB, eng *slo.Engine, name string) *slo.Gate {
	t.Helper()
	g, err := eng.Gate(name)
	if err != nil {
		t.Fatalf("Gate(%q) error: %v", name, err)
	}
	if g.Name() != name {
		t.Fatalf("Gate(%q).Name() = %q, want %q", name, g.Name(), name)
	}
	return g
}

// gateStatus returns the named gate's status in st.
func gateStatus(t testing.TB, st *slo.Status, name string) slo.GateStatus {
	t.Helper()
	for _, g := range st.Gates {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("Status().Gates = %+v, want one named %q", st.Gates, name)
	return slo.GateStatus{}
}

func TestWithGateInvalid(t *testing.T) {
	objectives := []slo.Objective{{Name: "a", Target: 0.999}, {Name: "b", Target: 0.99}}
	tests := []struct {
		name string
		opts []slo.Option
		want []string // every problem the error must name
	}{
		{"unknown objectives", []slo.Option{slo.WithGate("g", slo.GatePolicy{Objectives: []string{"a", "c", "d"}})},
			[]string{`slo: invalid option: gate "g": unknown objective "c"; unknown objective "d"`}},
		{"negative", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinRemaining: -0.1, Hysteresis: -1})},
			[]string{`gate "g": min remaining -0.1 must be in [0, 1]; hysteresis -1 must be in [0, 1]`}},
		{"above 1", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinRemaining: 1.5, Hysteresis: 2})},
			[]string{"min remaining 1.5 must be in [0, 1]", "hysteresis 2 must be in [0, 1]"}},
		{"not a number", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinRemaining: math.NaN(), Hysteresis: math.Inf(1)})},
			[]string{"min remaining NaN must be in [0, 1]", "hysteresis +Inf must be in [0, 1]"}},
		{"duplicate names", []slo.Option{slo.WithGate("g", slo.GatePolicy{}), slo.WithGate("h", slo.GatePolicy{}), slo.WithGate("g", slo.GatePolicy{ClosedOnPage: true})},
			[]string{`slo: invalid option: gate "g" is given twice`}},
		{"bad names", []slo.Option{slo.WithGate("", slo.GatePolicy{}), slo.WithGate("new ui", slo.GatePolicy{})},
			[]string{`gate "": name is empty`, `gate "new ui": name has ' '`}},
		{"everything at once", []slo.Option{
			slo.WithGate("g", slo.GatePolicy{Objectives: []string{"c"}}),
			slo.WithGate("h/i", slo.GatePolicy{MinRemaining: 2}),
			slo.WithGate("j", slo.GatePolicy{Hysteresis: -0.5}),
			slo.WithGate("k", slo.GatePolicy{}),
			slo.WithGate("k", slo.GatePolicy{}),
			slo.WithInterval(0),
		}, []string{
			`gate "g": unknown objective "c"`,
			`gate "h/i": name has '/'`, // one line with its other problem
			`min remaining 2 must be in [0, 1]`,
			`gate "j": hysteresis -0.5 must be in [0, 1]`,
			`gate "k" is given twice`,
			"interval 0s is not positive",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := slo.New(objectives, options(tt.opts...)...)
			if eng != nil || err == nil {
				t.Fatalf("New(…, %s) = %v, %v, want nil, error", tt.name, eng, err)
			}
			if !errors.Is(err, slo.ErrInvalidOption) {
				t.Errorf("New(…, %s) = %v, want error wrapping ErrInvalidOption", tt.name, err)
			}
			// One line per gate, whatever its number of problems.
			lines := map[string]bool{}
			for _, w := range tt.want {
				for l := range strings.SplitSeq(err.Error(), "\n") {
					if strings.Contains(l, w) {
						lines[l] = true
					}
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(…, %s) = %q, want it to mention %q", tt.name, err, w)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(lines) {
				t.Errorf("New(…, %s) = %q: %d lines, want %d", tt.name, err, n, len(lines))
			}
		})
	}
}

func TestGateValid(t *testing.T) {
	// The edges of every range, and a policy naming every objective.
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}, {Name: "b", Target: 0.99}},
		slo.WithGate("zero", slo.GatePolicy{}),
		slo.WithGate("one", slo.GatePolicy{MinRemaining: 1, Hysteresis: 1}),
		slo.WithGate("Feature_x.v2-beta", slo.GatePolicy{Objectives: []string{"b", "a"}, ClosedOnPage: true, ClosedOnTicket: true, ClosedWhenFrozen: true}),
		slo.WithGate(strings.Repeat("g", 128), slo.GatePolicy{}),
	)
	want := []string{"zero", "one", "Feature_x.v2-beta", strings.Repeat("g", 128)}
	st := eng.Status()
	var got []string
	for _, g := range st.Gates {
		got = append(got, g.Name)
		if !g.Enabled || g.Reason != "" {
			t.Errorf("Status().Gates before Tick: %+v, want enabled with no reason", g)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Status().Gates names = %q, want %q in the order added", got, want)
	}
	for _, name := range want {
		if g := gate(t, eng, name); !g.Enabled() {
			t.Errorf("Gate(%q).Enabled() before Tick = false, want true", name)
		}
	}
}

func TestUnknownGate(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithGate("g", slo.GatePolicy{}))
	for _, name := range []string{"", "G", "g ", "a", "h"} {
		g, err := eng.Gate(name)
		if g != nil || !errors.Is(err, slo.ErrUnknownGate) || !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
			t.Errorf("Gate(%q) = %v, %v, want nil, error wrapping ErrUnknownGate naming %q", name, g, err, name)
		}
	}
	if g1, g2 := gate(t, eng, "g"), gate(t, eng, "g"); g1 != g2 {
		t.Errorf("Gate(%q) = %p, then %p, want the same gate", "g", g1, g2)
	}
	// An engine without gates.
	none := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	if _, err := none.Gate("g"); !errors.Is(err, slo.ErrUnknownGate) {
		t.Errorf("Gate(%q) without gates = %v, want error wrapping ErrUnknownGate", "g", err)
	}
	if st := none.Status(); len(st.Gates) != 0 {
		t.Errorf("Status().Gates without gates = %+v, want none", st.Gates)
	}
}

// TestGateMinRemaining checks that a gate closes when the remaining budget
// is at or below MinRemaining and opens again only above MinRemaining +
// Hysteresis, with its events and Status.
func TestGateMinRemaining(t *testing.T) {
	tests := []struct {
		name   string
		policy slo.GatePolicy
		steps  []struct {
			ledgerStep
			enabled bool
			reason  string
		}
	}{
		{
			name:   "default hysteresis",
			policy: slo.GatePolicy{MinRemaining: 0.5},
			steps: []struct {
				ledgerStep
				enabled bool
				reason  string
			}{
				{ledgerStep{2, 12}, true, ""}, // 66.7% left
				{ledgerStep{12, 48}, false, "api has 50.0% of its budget left, at most 50.0%"}, // at MinRemaining
				{ledgerStep{12, 49}, false, "api has 51.0% of its budget left, at most 52.0%"}, // above, within the hysteresis
				{ledgerStep{12, 51}, true, ""}, // 52.9%: above 50% + 2%
				{ledgerStep{12, 52}, true, ""}, // 53.8%
				{ledgerStep{13, 53}, true, ""}, // 50.9%: open while above MinRemaining
				{ledgerStep{14, 54}, false, "api has 48.1% of its budget left, at most 50.0%"},
				{ledgerStep{14, 57}, false, "api has 50.9% of its budget left, at most 52.0%"},
				{ledgerStep{14, 60}, true, ""}, // 53.3%
			},
		},
		{
			name:   "exact edges",
			policy: slo.GatePolicy{MinRemaining: 0.25, Hysteresis: 0.25},
			steps: []struct {
				ledgerStep
				enabled bool
				reason  string
			}{
				{ledgerStep{1, 4}, true, ""}, // 50% left
				{ledgerStep{3, 8}, false, "api has 25.0% of its budget left, at most 25.0%"},  // exactly MinRemaining
				{ledgerStep{3, 12}, false, "api has 50.0% of its budget left, at most 50.0%"}, // exactly MinRemaining + Hysteresis
				{ledgerStep{3, 13}, true, ""}, // 53.8%
				{ledgerStep{5, 16}, true, ""}, // 37.5%: open until MinRemaining
				{ledgerStep{9, 24}, false, "api has 25.0% of its budget left, at most 25.0%"},
			},
		},
		{
			name:   "spent budget by default",
			policy: slo.GatePolicy{},
			steps: []struct {
				ledgerStep
				enabled bool
				reason  string
			}{
				{ledgerStep{1, 3}, true, ""}, // 33.3%
				{ledgerStep{2, 4}, false, "api has 0.0% of its budget left, at most 0.0%"},
				{ledgerStep{3, 5}, false, "api has -20.0% of its budget left, at most 2.0%"},
				{ledgerStep{3, 100}, true, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var handled []slo.Event
			eng := newEngine(t, []slo.Objective{spend},
				slo.WithGate("feature", tt.policy),
				slo.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: dropTime}))),
				slo.WithEventHandler(func(ev slo.Event) { handled = append(handled, ev) }))
			g := gate(t, eng, "feature")
			c := &counter{eng: eng, name: spend.Name}
			now := t0
			var wantEvents, wantLogs []string
			enabled := true
			for i, s := range tt.steps {
				c.to(t, s.ledgerStep)
				now = now.Add(10 * time.Second)
				eng.Tick(now)
				st := eng.Status()
				o := objectiveStatus(t, st, spend.Name).Report
				if got := g.Enabled(); got != s.enabled {
					t.Errorf("step %d, %d bad of %d (%.4f left): Enabled() = %v, want %v", i, s.bad, s.total, o.Remaining, got, s.enabled)
				}
				if got, want := gateStatus(t, st, "feature"), (slo.GateStatus{Name: "feature", Enabled: s.enabled, Reason: s.reason}); got != want {
					t.Errorf("step %d, %d bad of %d (%.4f left): Status().Gates[0] = %+v, want %+v", i, s.bad, s.total, o.Remaining, got, want)
				}
				if s.enabled != enabled {
					enabled = s.enabled
					wantEvents = append(wantEvents, fmt.Sprintf("%s feature enabled=%v %s", now.Format(time.TimeOnly), s.enabled, s.reason))
					if s.enabled {
						wantLogs = append(wantLogs, `level=INFO msg="sloguard: gate changed" gate=feature enabled=true reason=""`)
					} else {
						wantLogs = append(wantLogs, fmt.Sprintf(`level=WARN msg="sloguard: gate changed" gate=feature enabled=false reason=%q`, s.reason))
					}
				}
			}
			if got := gateEvents(eng.Events()); !slices.Equal(got, wantEvents) {
				t.Errorf("GateChanged events in Events() =\n%q\nwant\n%q", got, wantEvents)
			}
			if got := gateEvents(handled); !slices.Equal(got, wantEvents) {
				t.Errorf("GateChanged events to the handler =\n%q\nwant\n%q", got, wantEvents)
			}
			var gotLogs []string
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, "gate changed") {
					gotLogs = append(gotLogs, strings.TrimSpace(l))
				}
			}
			if !slices.Equal(gotLogs, wantLogs) {
				t.Errorf("gate log lines =\n%q\nwant\n%q", gotLogs, wantLogs)
			}
		})
	}
}

// dropTime leaves the time out of log lines.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// TestGateBurn checks ClosedOnPage and ClosedOnTicket through a page-level
// and a ticket-level burn that leave the budget almost whole.
func TestGateBurn(t *testing.T) {
	eng := newEngine(t, []slo.Objective{burnObjective},
		slo.WithGate("on-page", slo.GatePolicy{ClosedOnPage: true}),
		slo.WithGate("on-ticket", slo.GatePolicy{ClosedOnTicket: true}),
		slo.WithGate("budget", slo.GatePolicy{MinRemaining: 0.5}),
	)
	now := startBurn(t, eng)
	onPage, onTicket, budgetGate := gate(t, eng, "on-page"), gate(t, eng, "on-ticket"), gate(t, eng, "budget")
	for i, s := range burnScript {
		record(t, eng, burnObjective.Name, budget.Good, 0, s.good)
		record(t, eng, burnObjective.Name, budget.Bad, 0, s.bad)
		now = now.Add(10 * time.Second)
		eng.Tick(now)
		st := eng.Status()
		rep := objectiveStatus(t, st, burnObjective.Name).Report
		if rep.State != s.state || rep.Remaining < 0.99 {
			t.Fatalf("step %d: state %v, remaining %v; want %v, above 0.99 (the script is wrong)", i, rep.State, rep.Remaining, s.state)
		}
		reason := fmt.Sprintf("api is in state %v", s.state)
		for _, c := range []struct {
			g       *slo.Gate
			enabled bool
		}{
			{onPage, s.state < budget.StatePage},
			{onTicket, s.state < budget.StateTicket},
			{budgetGate, true},
		} {
			want := slo.GateStatus{Name: c.g.Name(), Enabled: c.enabled}
			if !c.enabled {
				want.Reason = reason
			}
			if got := c.g.Enabled(); got != c.enabled {
				t.Errorf("step %d (%v): Gate(%q).Enabled() = %v, want %v", i, s.state, c.g.Name(), got, c.enabled)
			}
			if got := gateStatus(t, st, c.g.Name()); got != want {
				t.Errorf("step %d (%v): Status() gate %+v, want %+v", i, s.state, got, want)
			}
		}
	}
	start := t0.Add(2 * time.Minute)
	at := func(step int) string {
		return start.Add(time.Duration(step+1) * 10 * time.Second).Format(time.TimeOnly)
	}
	want := []string{
		at(0) + " on-page enabled=false api is in state page",
		at(0) + " on-ticket enabled=false api is in state page",
		at(1) + " on-page enabled=true ",
		at(1) + " on-ticket enabled=true ",
		at(7) + " on-ticket enabled=false api is in state ticket",
		at(8) + " on-ticket enabled=true ",
	}
	if got := gateEvents(eng.Events()); !slices.Equal(got, want) {
		t.Errorf("GateChanged events =\n%q\nwant\n%q", got, want)
	}
}

// TestGateFrozen checks ClosedWhenFrozen: the gate follows the release
// freeze, and gates without it do not.
func TestGateFrozen(t *testing.T) {
	eng := newEngine(t, []slo.Objective{spend},
		slo.WithReleasePolicy(slo.ReleasePolicy{FreezeBelow: 0.5, Hysteresis: 0.25}),
		slo.WithGate("frozen", slo.GatePolicy{ClosedWhenFrozen: true}),
		slo.WithGate("budget", slo.GatePolicy{}),
	)
	frozen, other := gate(t, eng, "frozen"), gate(t, eng, "budget")
	c := &counter{eng: eng, name: spend.Name}
	steps := []struct {
		ledgerStep
		frozen bool
	}{
		{ledgerStep{1, 8}, false},  // 75% left
		{ledgerStep{3, 12}, true},  // 50%: at FreezeBelow
		{ledgerStep{3, 16}, true},  // 62.5%: within the hysteresis
		{ledgerStep{3, 30}, false}, // 80%
	}
	now := t0
	for i, s := range steps {
		c.to(t, s.ledgerStep)
		now = now.Add(time.Second)
		eng.Tick(now)
		st := eng.Status()
		if st.Release.Frozen != s.frozen {
			t.Fatalf("step %d: Status().Release.Frozen = %v, want %v", i, st.Release.Frozen, s.frozen)
		}
		want := slo.GateStatus{Name: "frozen", Enabled: !s.frozen}
		if s.frozen {
			want.Reason = "releases are frozen"
		}
		if got := gateStatus(t, st, "frozen"); got != want || frozen.Enabled() != want.Enabled {
			t.Errorf("step %d: gate %+v, Enabled() = %v, want %+v", i, got, frozen.Enabled(), want)
		}
		if !other.Enabled() {
			t.Errorf("step %d: Gate(%q).Enabled() = false, want true: it does not follow the freeze", i, other.Name())
		}
	}
}

// TestGateObjectives checks which objectives a gate watches: by default the
// service's, not its dependencies'; an objective in StateUnknown never
// closes a gate.
func TestGateObjectives(t *testing.T) {
	dep := slo.Objective{Name: "payments-availability", Target: 0.5, Period: time.Hour, Rules: []budget.Rule{}, Dependency: "payments"}
	svc := spend
	svc.MinEvents = 10
	// MinRemaining 1 closes a gate for every objective it watches whose
	// state is known.
	eng := newEngine(t, []slo.Objective{svc, dep},
		slo.WithGate("default", slo.GatePolicy{MinRemaining: 1}),
		slo.WithGate("dependency", slo.GatePolicy{MinRemaining: 1, Objectives: []string{dep.Name}}),
		slo.WithGate("both", slo.GatePolicy{MinRemaining: 1, Objectives: []string{svc.Name, dep.Name}}),
		slo.WithGate("all-off", slo.GatePolicy{ClosedOnPage: true, ClosedOnTicket: true, ClosedWhenFrozen: true, MinRemaining: 1}),
	)
	steps := []struct {
		name                  string
		svcBad, svcGood, dep  int // events recorded before the step
		wantSvc               budget.State
		def, dependency, both bool
		allOff                bool
	}{
		{"nothing known", 0, 0, 0, budget.StateUnknown, true, true, true, true},
		// The service has 9 bad events, fewer than its MinEvents: unknown,
		// however spent.
		{"service unknown", 9, 0, 0, budget.StateUnknown, true, true, true, true},
		{"dependency known", 0, 0, 1, budget.StateUnknown, true, false, false, true},
		{"service known", 0, 1, 0, budget.StateExhausted, false, false, false, false},
	}
	now := t0
	for _, s := range steps {
		record(t, eng, svc.Name, budget.Bad, 0, s.svcBad)
		record(t, eng, svc.Name, budget.Good, 0, s.svcGood)
		record(t, eng, dep.Name, budget.Good, 0, s.dep)
		now = now.Add(time.Second)
		eng.Tick(now)
		if got := objectiveStatus(t, eng.Status(), svc.Name).Report.State; got != s.wantSvc {
			t.Fatalf("%s: service state %v, want %v", s.name, got, s.wantSvc)
		}
		for name, want := range map[string]bool{"default": s.def, "dependency": s.dependency, "both": s.both, "all-off": s.allOff} {
			if got := gate(t, eng, name).Enabled(); got != want {
				t.Errorf("%s: Gate(%q).Enabled() = %v, want %v", s.name, name, got, want)
			}
		}
	}
}

func TestGateEnabledAllocs(t *testing.T) {
	eng := newEngine(t, []slo.Objective{spend}, slo.WithGate("g", slo.GatePolicy{}))
	g := gate(t, eng, "g")
	if n := testing.AllocsPerRun(1000, func() { _ = g.Enabled() }); n != 0 {
		t.Errorf("Gate.Enabled allocates %v times, want 0", n)
	}
}

func BenchmarkGateEnabled(b *testing.B) {
	eng := newEngine(b, []slo.Objective{benchObjective}, slo.WithGate("g", slo.GatePolicy{ClosedOnPage: true}))
	g, err := eng.Gate("g")
	if err != nil {
		b.Fatal(err)
	}
	eng.Tick(t0)
	var sink bool
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = g.Enabled()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var s bool
			for pb.Next() {
				s = g.Enabled()
			}
			_ = s
		})
	})
	_ = sink
}

// TestGateMinClosed checks that a gate whose conditions clear stays closed
// for MinClosed after it closed, saying why, and then reopens.
func TestGateMinClosed(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.9, Period: time.Hour, Rules: []budget.Rule{}}},
		slo.WithGate("g", slo.GatePolicy{MinRemaining: 0.5, Hysteresis: 0.01, MinClosed: time.Minute}))
	g, err := eng.Gate("g")
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	// 8 bad of 100: 20% of the budget left, the gate closes.
	record(t, eng, "a", budget.Good, 0, 92)
	record(t, eng, "a", budget.Bad, 0, 8)
	eng.Tick(now)
	if g.Enabled() {
		t.Fatalf("Enabled() with 20%% left = true, want false")
	}
	// The event names the objective that closed the gate, with its numbers.
	var closed []slo.Event
	for _, ev := range eng.Events() {
		if ev.Kind == slo.GateChanged {
			closed = append(closed, ev)
		}
	}
	if len(closed) != 1 || closed[0].Objective != "a" || !near(closed[0].Remaining, 0.2) || len(closed[0].Burns) != 0 {
		t.Errorf("GateChanged events = %+v, want one for objective a with 20%% left and no windows (no rules)", closed)
	}
	// 900 good more: 92% left, but the gate closed 10s ago.
	record(t, eng, "a", budget.Good, 0, 900)
	now = now.Add(10 * time.Second)
	eng.Tick(now)
	if g.Enabled() {
		t.Errorf("Enabled() 10s after closing, MinClosed 1m = true, want false")
	}
	st := eng.Status().Gates[0]
	if !strings.Contains(st.Reason, "held closed for at least 1m0s") || !strings.Contains(st.Reason, "budget left") {
		t.Errorf("Status().Gates[0].Reason = %q, want the original reason and the hold", st.Reason)
	}
	now = t0.Add(time.Minute)
	eng.Tick(now)
	if !g.Enabled() {
		t.Errorf("Enabled() 1m after closing, conditions clear = false, want true")
	}
}
