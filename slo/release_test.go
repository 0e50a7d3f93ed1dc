package slo_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

func TestReleasePolicyInvalid(t *testing.T) {
	objectives := []slo.Objective{{Name: "a", Target: 0.999}}
	tests := []struct {
		name   string
		policy slo.ReleasePolicy
		want   string
	}{
		{"unknown objectives", slo.ReleasePolicy{Objectives: []string{"a", "b", "c"}},
			`slo: invalid option: release policy: unknown objective "b"; unknown objective "c"`},
		{"negative", slo.ReleasePolicy{FreezeBelow: -0.1, Hysteresis: -1},
			"release policy: freeze below -0.1 must be in [0, 1]; hysteresis -1 must be in [0, 1]"},
		{"above 1", slo.ReleasePolicy{FreezeBelow: 1.01, Hysteresis: 5},
			"release policy: freeze below 1.01 must be in [0, 1]; hysteresis 5 must be in [0, 1]"},
		{"not a number", slo.ReleasePolicy{FreezeBelow: math.NaN(), Hysteresis: math.Inf(-1)},
			"release policy: freeze below NaN must be in [0, 1]; hysteresis -Inf must be in [0, 1]"},
		{"everything at once", slo.ReleasePolicy{Objectives: []string{"x"}, FreezeBelow: 2, Hysteresis: math.NaN()},
			`release policy: unknown objective "x"; freeze below 2 must be in [0, 1]; hysteresis NaN must be in [0, 1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := slo.New(objectives, options(slo.WithReleasePolicy(tt.policy))...)
			if eng != nil || err == nil {
				t.Fatalf("New(…, WithReleasePolicy(%+v)) = %v, %v, want nil, error", tt.policy, eng, err)
			}
			if !errors.Is(err, slo.ErrInvalidOption) {
				t.Errorf("New(…, WithReleasePolicy(%+v)) = %v, want error wrapping ErrInvalidOption", tt.policy, err)
			}
			checkMentions(t, err, []string{tt.want})
		})
	}
	// With other problems: all reported.
	_, err := slo.New([]slo.Objective{{Name: "a", Target: 2}}, options(
		slo.WithReleasePolicy(slo.ReleasePolicy{Objectives: []string{"a"}, FreezeBelow: -1}),
		slo.WithTimelineSize(0))...)
	if !errors.Is(err, slo.ErrInvalidOption) || !errors.Is(err, slo.ErrInvalidObjective) {
		t.Errorf("New with an invalid objective, release policy and option = %v, want error wrapping both sentinels", err)
	}
	checkMentions(t, err, []string{"target 2", `release policy: unknown objective "a"; freeze below -1`, "timeline size 0"})

	// The edges are valid.
	for _, p := range []slo.ReleasePolicy{{}, {FreezeBelow: 1, Hysteresis: 1}, {Objectives: []string{"a"}, FreezeOnPage: true}} {
		if _, err := slo.New(objectives, options(slo.WithReleasePolicy(p))...); err != nil {
			t.Errorf("New(…, WithReleasePolicy(%+v)) = %v, want nil", p, err)
		}
	}
}

// releaseStep is one evaluation of a release script and the verdict
// expected after it.
type releaseStep struct {
	ledgerStep
	frozen bool
	reason string
}

// TestReleaseFreeze checks when releases freeze and go on again, with the
// events, their logs and Status.Release.
func TestReleaseFreeze(t *testing.T) {
	tests := []struct {
		name   string
		policy slo.ReleasePolicy
		steps  []releaseStep
	}{
		{
			// Frozen once the budget is spent, until more than 5% is back.
			name:   "default",
			policy: slo.ReleasePolicy{},
			steps: []releaseStep{
				{ledgerStep{1, 4}, false, ""},   // 50% left
				{ledgerStep{15, 32}, false, ""}, // 6.25%
				{ledgerStep{17, 34}, true, "api has 0.0% of its budget left, at most 0.0%"},
				{ledgerStep{17, 35}, true, "api has 2.9% of its budget left, at most 5.0%"}, // above 0, within the hysteresis
				{ledgerStep{18, 36}, true, "api has 0.0% of its budget left, at most 5.0%"},
				{ledgerStep{19, 37}, true, "api has -2.7% of its budget left, at most 5.0%"},
				{ledgerStep{19, 39}, true, "api has 2.6% of its budget left, at most 5.0%"},
				{ledgerStep{19, 41}, false, ""}, // 7.3%
				{ledgerStep{20, 42}, false, ""}, // 4.8%: not frozen while above 0
				{ledgerStep{22, 44}, true, "api has 0.0% of its budget left, at most 0.0%"},
			},
		},
		{
			// Exact edges: at FreezeBelow freezes, at FreezeBelow +
			// Hysteresis stays frozen.
			name:   "custom",
			policy: slo.ReleasePolicy{FreezeBelow: 0.25, Hysteresis: 0.25},
			steps: []releaseStep{
				{ledgerStep{1, 4}, false, ""}, // 50% left
				{ledgerStep{2, 6}, false, ""}, // 33.3%
				{ledgerStep{3, 8}, true, "api has 25.0% of its budget left, at most 25.0%"},
				{ledgerStep{3, 12}, true, "api has 50.0% of its budget left, at most 50.0%"},
				{ledgerStep{3, 13}, false, ""}, // 53.8%
				{ledgerStep{5, 16}, false, ""}, // 37.5%
				{ledgerStep{9, 24}, true, "api has 25.0% of its budget left, at most 25.0%"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var handled []slo.Event
			eng := newEngine(t, []slo.Objective{spend}, slo.WithReleasePolicy(tt.policy),
				slo.WithEventHandler(func(ev slo.Event) { handled = append(handled, ev) }))
			if st := eng.Status(); st.Release != (slo.ReleaseStatus{}) {
				t.Errorf("Status().Release before Tick = %+v, want not frozen", st.Release)
			}
			c := &counter{eng: eng, name: spend.Name}
			now := t0
			var since time.Time
			var want []slo.Event
			for i, s := range tt.steps {
				c.to(t, s.ledgerStep)
				now = now.Add(10 * time.Second)
				eng.Tick(now)
				got := eng.Status().Release
				remaining := objectiveStatus(t, eng.Status(), spend.Name).Report.Remaining
				if s.frozen != (!since.IsZero()) {
					since = time.Time{}
					if s.frozen {
						since = now
					}
					// The event carries the numbers of the objective that
					// froze releases, also when they go on again.
					o := objectiveStatus(t, eng.Status(), spend.Name)
					burns := make([]slo.WindowBurn, len(o.Report.Windows))
					for j, w := range o.Report.Windows {
						burns[j] = slo.WindowBurn{Window: w.Window, Burn: w.Burn}
					}
					want = append(want, slo.Event{Time: now, Kind: slo.FreezeChanged, Objective: spend.Name,
						Remaining: remaining, Burns: burns, Frozen: s.frozen, Reason: s.reason})
				}
				if got.Frozen != s.frozen || got.Reason != s.reason || !got.Since.Equal(since) {
					t.Errorf("step %d, %d bad of %d (%.4f left): Status().Release = %+v, want Frozen %v, Reason %q, Since %v",
						i, s.bad, s.total, remaining, got, s.frozen, s.reason, since)
				}
				if !s.frozen && got.RecoveryTime != 0 {
					t.Errorf("step %d: Status().Release.RecoveryTime = %v while not frozen, want 0", i, got.RecoveryTime)
				}
			}
			for _, evs := range [][]slo.Event{eng.Events(), handled} {
				var got []slo.Event
				for _, ev := range evs {
					if ev.Kind == slo.FreezeChanged {
						got = append(got, ev)
					}
				}
				if !equalEvents(got, want) {
					t.Errorf("FreezeChanged events =\n%swant\n%s", eventLines(got), eventLines(want))
				}
			}
		})
	}
}

// TestReleaseSince checks that a freeze keeps the time it began while its
// reason changes with the objectives that hold it.
func TestReleaseSince(t *testing.T) {
	a, b := spend, spend
	a.Name, b.Name = "a", "b"
	eng := newEngine(t, []slo.Objective{a, b})
	ca, cb := &counter{eng: eng, name: "a"}, &counter{eng: eng, name: "b"}
	steps := []struct {
		a, b   ledgerStep
		reason string // empty when not frozen
	}{
		{ledgerStep{0, 10}, ledgerStep{0, 10}, ""},
		{ledgerStep{10, 20}, ledgerStep{0, 10}, "a has 0.0% of its budget left, at most 0.0%"},
		{ledgerStep{10, 20}, ledgerStep{11, 21}, "a has 0.0% of its budget left, at most 5.0%; b has -4.8% of its budget left, at most 5.0%"},
		{ledgerStep{10, 30}, ledgerStep{11, 21}, "b has -4.8% of its budget left, at most 5.0%"},
		{ledgerStep{10, 30}, ledgerStep{11, 22}, "b has 0.0% of its budget left, at most 5.0%"},
		{ledgerStep{10, 30}, ledgerStep{11, 30}, ""},
		{ledgerStep{20, 40}, ledgerStep{11, 30}, "a has 0.0% of its budget left, at most 0.0%"},
	}
	now := t0
	var since time.Time
	for i, s := range steps {
		ca.to(t, s.a)
		cb.to(t, s.b)
		now = now.Add(time.Minute)
		eng.Tick(now)
		switch {
		case s.reason == "":
			since = time.Time{}
		case since.IsZero():
			since = now
		}
		got := eng.Status().Release
		if got.Frozen != (s.reason != "") || got.Reason != s.reason || !got.Since.Equal(since) {
			t.Errorf("step %d: Status().Release = %+v, want Reason %q, Since %v", i, got, s.reason, since)
		}
	}
	// One event per freeze and per end of one: not per change of reason.
	want := []string{
		t0.Add(2*time.Minute).Format(time.RFC3339) + " frozen",
		t0.Add(6*time.Minute).Format(time.RFC3339) + " not frozen",
		t0.Add(7*time.Minute).Format(time.RFC3339) + " frozen",
	}
	if got := freezeEvents(eng.Events()); !slices.Equal(got, want) {
		t.Errorf("FreezeChanged events = %q, want %q", got, want)
	}
}

// TestReleaseFreezeOnPage checks that FreezeOnPage freezes releases while
// an objective pages, with most of its budget left, and lets them go on
// when the page clears; and that without it a page does not freeze them.
func TestReleaseFreezeOnPage(t *testing.T) {
	for _, onPage := range []bool{false, true} {
		eng := newEngine(t, []slo.Objective{burnObjective}, slo.WithReleasePolicy(slo.ReleasePolicy{FreezeOnPage: onPage}))
		now := startBurn(t, eng)
		var wantEvents []string
		for i, s := range burnScript {
			record(t, eng, burnObjective.Name, budget.Good, 0, s.good)
			record(t, eng, burnObjective.Name, budget.Bad, 0, s.bad)
			now = now.Add(10 * time.Second)
			eng.Tick(now)
			st := eng.Status()
			if got := objectiveStatus(t, st, burnObjective.Name).Report.State; got != s.state {
				t.Fatalf("step %d: state %v, want %v (the script is wrong)", i, got, s.state)
			}
			want := slo.ReleaseStatus{}
			if onPage && s.state == budget.StatePage {
				// Frozen only by the page: no recovery time to estimate.
				want = slo.ReleaseStatus{Frozen: true, Reason: "api pages", Since: now}
				wantEvents = append(wantEvents, now.Format(time.RFC3339)+" frozen")
			} else if onPage && i > 0 && burnScript[i-1].state == budget.StatePage {
				wantEvents = append(wantEvents, now.Format(time.RFC3339)+" not frozen")
			}
			if st.Release != want {
				t.Errorf("FreezeOnPage %v, step %d (%v): Status().Release = %+v, want %+v", onPage, i, s.state, st.Release, want)
			}
		}
		if got := freezeEvents(eng.Events()); !slices.Equal(got, wantEvents) {
			t.Errorf("FreezeOnPage %v: FreezeChanged events = %q, want %q", onPage, got, wantEvents)
		}
	}
}

// TestReleaseObjectives checks which objectives the policy watches: by
// default the service's, not its dependencies'; never one whose state is
// unknown.
func TestReleaseObjectives(t *testing.T) {
	dep := slo.Objective{Name: "payments-availability", Target: 0.5, Period: time.Hour, Rules: []budget.Rule{}, Dependency: "payments"}
	svc := spend
	svc.MinEvents = 10
	tests := []struct {
		name   string
		policy slo.ReleasePolicy
		want   []string // the reasons after each step; empty when not frozen
	}{
		{"default", slo.ReleasePolicy{}, []string{
			"", "", "",
			"api has -80.0% of its budget left, at most 0.0%",
		}},
		{"the dependency", slo.ReleasePolicy{Objectives: []string{dep.Name}}, []string{
			"", "",
			"payments-availability has -100.0% of its budget left, at most 0.0%",
			"payments-availability has -100.0% of its budget left, at most 5.0%",
		}},
		{"both", slo.ReleasePolicy{Objectives: []string{dep.Name, svc.Name}}, []string{
			"", "",
			"payments-availability has -100.0% of its budget left, at most 0.0%",
			// In the engine's order, not the policy's.
			"api has -80.0% of its budget left, at most 5.0%; payments-availability has -100.0% of its budget left, at most 5.0%",
		}},
	}
	steps := []struct{ svcBad, svcGood, depBad int }{
		{0, 0, 0},
		{9, 0, 0}, // the service is spent but unknown: 9 events of at least 10
		{0, 0, 1}, // the dependency is spent
		{0, 1, 0}, // the service is known
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, []slo.Objective{svc, dep}, slo.WithReleasePolicy(tt.policy))
			now := t0
			for i, s := range steps {
				record(t, eng, svc.Name, budget.Bad, 0, s.svcBad)
				record(t, eng, svc.Name, budget.Good, 0, s.svcGood)
				record(t, eng, dep.Name, budget.Bad, 0, s.depBad)
				now = now.Add(time.Second)
				eng.Tick(now)
				got := eng.Status().Release
				if got.Frozen != (tt.want[i] != "") || got.Reason != tt.want[i] {
					t.Errorf("step %d: Status().Release = %+v, want reason %q", i, got, tt.want[i])
				}
			}
		})
	}
}

// TestReleaseRecoveryAgesOut checks the recovery estimate of a 30-day
// objective whose budget was spent by one outage and that little traffic
// can not earn back: releases go on when the outage leaves the period.
func TestReleaseRecoveryAgesOut(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "api", Target: 0.999}}) // 30 days, default rules
	now := t0
	hour := func(good, bad int) slo.ReleaseStatus {
		t.Helper()
		record(t, eng, "api", budget.Good, 0, good)
		record(t, eng, "api", budget.Bad, 0, bad)
		now = now.Add(time.Hour)
		eng.Tick(now)
		return eng.Status().Release
	}
	hour(100, 0)
	outage := now.Add(time.Hour)
	// The outage: 1000 bad events, where 100 good an hour earn back
	// 72 in 30 days.
	rel := hour(100, 1000)
	if !rel.Frozen || !rel.Since.Equal(outage) {
		t.Fatalf("Status().Release after the outage = %+v, want frozen since %v", rel, outage)
	}
	// The past hour burns far faster than the budget allows.
	if rel.RecoveryTime != budget.Never {
		t.Errorf("RecoveryTime during the outage = %v, want Never", rel.RecoveryTime)
	}
	// The outage's events left the period 30 days after their bucket,
	// which starts at the outage's evaluation.
	leaves := outage.Add(30 * day)
	var estimates []time.Time
	for now.Before(leaves.Add(2 * time.Hour)) {
		rel = hour(100, 0)
		if !rel.Frozen {
			break
		}
		if !rel.Since.Equal(outage) {
			t.Fatalf("at %v: Release.Since = %v, want %v", now, rel.Since, outage)
		}
		if rel.RecoveryTime == budget.Never {
			t.Fatalf("at %v: RecoveryTime = Never after an hour of good traffic, want an estimate", now)
		}
		estimates = append(estimates, now.Add(rel.RecoveryTime))
	}
	if rel.Frozen {
		t.Fatalf("releases still frozen at %v, want them going on once the outage leaves the period at %v", now, leaves)
	}
	// Releases went on at the first evaluation after the outage left the
	// period, and every estimate pointed there within one bucket (1h).
	if d := now.Sub(leaves); d < 0 || d > time.Hour {
		t.Errorf("releases went on at %v, want within an hour after %v", now, leaves)
	}
	for i, e := range estimates {
		if d := e.Sub(now).Abs(); d > time.Hour {
			t.Errorf("estimate %d = %v, want within an hour of %v, when releases went on", i, e, now)
		}
	}
	if len(estimates) < 700 {
		t.Errorf("%d estimates, want one an hour for 30 days", len(estimates))
	}
}

// TestReleaseRecoveryEarnedBack checks the recovery estimate of a budget
// that steady good traffic earns back: it aims at the level where releases
// go on (FreezeBelow + Hysteresis), from the evaluation that froze them.
func TestReleaseRecoveryEarnedBack(t *testing.T) {
	// 50 bad events, then 600 good an hour. The state is unknown until
	// 10000 events, so releases freeze a day later, after an hour of good
	// traffic: the estimate at the freeze is already finite.
	eng := newEngine(t, []slo.Objective{{Name: "api", Target: 0.999, MinEvents: 10000}})
	record(t, eng, "api", budget.Bad, 0, 50)
	now := t0
	eng.Tick(now)
	var (
		since    time.Time
		estimate time.Time
	)
	for range 200 {
		record(t, eng, "api", budget.Good, 0, 600)
		now = now.Add(time.Hour)
		eng.Tick(now)
		rel := eng.Status().Release
		if rel.Frozen && since.IsZero() {
			since = now
			if rel.RecoveryTime == budget.Never || rel.RecoveryTime <= 0 {
				t.Fatalf("at the freeze, %v: RecoveryTime = %v, want an estimate", now, rel.RecoveryTime)
			}
			estimate = now.Add(rel.RecoveryTime)
		}
		if !since.IsZero() && !rel.Frozen {
			break
		}
	}
	// Frozen at the 17th hour: 10250 events, 50 bad, -388% left. Going on
	// above 5%: when 50 < 0.95 × 0.001 × (50 + 600 h), at the 88th hour.
	if want := t0.Add(17 * time.Hour); !since.Equal(want) {
		t.Errorf("releases froze at %v, want %v", since, want)
	}
	if want := t0.Add(88 * time.Hour); !now.Equal(want) {
		t.Errorf("releases went on at %v, want %v", now, want)
	}
	if d := estimate.Sub(now).Abs(); d > time.Hour {
		t.Errorf("estimate at the freeze: going on at %v, want within an hour of %v", estimate, now)
	}
}
