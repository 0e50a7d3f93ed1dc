package budget_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

var spec30 = budget.Spec{Target: 0.999, Period: 30 * day}

func newSpecLedger(t testing.TB, spec budget.Spec) *budget.Ledger {
	t.Helper()
	l, err := spec.NewLedger()
	if err != nil {
		t.Fatalf("%+v.NewLedger() error: %v", spec, err)
	}
	return l
}

// record adds c's events and advances to at.
func record(l *budget.Ledger, at time.Time, c budget.Counts) {
	l.Add(good, c.Good)
	l.Add(bad, c.Bad)
	l.Add(shed, c.Shed)
	l.Advance(at)
}

func ruleStatus(t *testing.T, rep budget.Report, name string) budget.RuleStatus {
	t.Helper()
	for _, r := range rep.Rules {
		if r.Rule.Name() == name {
			return r
		}
	}
	t.Fatalf("report has no rule %s", name)
	return budget.RuleStatus{}
}

func TestEvaluate(t *testing.T) {
	oneRule := spec30
	oneRule.Rules = budget.DefaultRules()[:1]
	tests := []struct {
		name string
		spec budget.Spec
		// history, if not zero, is recorded 10 days before base; recent a
		// minute before base.
		history, recent budget.Counts
		recentAt        time.Duration // before base; zero means a minute
		wantState       budget.State
		wantRemaining   float64
		wantFiring      []string // names of the rules that fire
		wantTTE         time.Duration
	}{
		{
			name:          "no data",
			spec:          spec30,
			wantState:     budget.StateUnknown,
			wantRemaining: 1,
			wantTTE:       budget.Never,
		},
		{
			name:          "below MinEvents",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, MinEvents: 100},
			recent:        budget.Counts{Good: 99},
			wantState:     budget.StateUnknown,
			wantRemaining: 1,
			wantTTE:       budget.Never,
		},
		{
			name:          "at MinEvents",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, MinEvents: 100},
			recent:        budget.Counts{Good: 100},
			wantState:     budget.StateOK,
			wantRemaining: 1,
			wantTTE:       budget.Never,
		},
		{
			name:          "one event is enough by default",
			spec:          spec30,
			recent:        budget.Counts{Good: 1},
			wantState:     budget.StateOK,
			wantRemaining: 1,
			wantTTE:       budget.Never,
		},
		{
			name:          "all bad but too few events is unknown, not exhausted",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, MinEvents: 10},
			recent:        budget.Counts{Bad: 9},
			wantState:     budget.StateUnknown,
			wantRemaining: 1 - 9/(9*(1-0.999)),
			wantTTE:       0,
		},
		{
			name:          "page",
			spec:          spec30,
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 950, Bad: 50}, // burn 50
			wantState:     budget.StatePage,
			wantRemaining: 1 - 50/1001.0,
			wantFiring:    []string{"page-1h", "page-6h", "ticket-1d", "ticket-3d"},
			wantTTE:       tte30(1-50/1001.0, 50),
		},
		{
			name:          "MinBadEvents blocks firing",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, MinBadEvents: 51},
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 950, Bad: 50},
			wantState:     budget.StateOK,
			wantRemaining: 1 - 50/1001.0,
			wantTTE:       tte30(1-50/1001.0, 50),
		},
		{
			name:          "MinEvents per window blocks firing",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, MinEvents: 1001},
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 950, Bad: 50},
			wantState:     budget.StateOK,
			wantRemaining: 1 - 50/1001.0,
			wantTTE:       tte30(1-50/1001.0, 50),
		},
		{
			// Burn 4 from 40 minutes ago: over 1h, 2h, 6h, 1d and 3d but not
			// 5m or 30m.
			name:          "ticket",
			spec:          spec30,
			history:       budget.Counts{Good: 10_000_000},
			recent:        budget.Counts{Good: 996, Bad: 4},
			recentAt:      40 * time.Minute,
			wantState:     budget.StateTicket,
			wantRemaining: 1 - 4/10001.0,
			wantFiring:    []string{"ticket-1d", "ticket-3d"},
			wantTTE:       tte30(1-4/10001.0, 4),
		},
		{
			name:          "exhausted at exactly zero",
			spec:          budget.Spec{Target: 0.5, Period: 30 * day, Rules: []budget.Rule{}},
			recent:        budget.Counts{Good: 1, Bad: 1},
			wantState:     budget.StateExhausted,
			wantRemaining: 0,
			wantTTE:       0,
		},
		{
			name:          "exhausted below zero",
			spec:          spec30,
			recent:        budget.Counts{Good: 998, Bad: 2}, // burn 2
			wantState:     budget.StateExhausted,
			wantRemaining: -1,
			wantFiring:    []string{"ticket-3d"},
			wantTTE:       0,
		},
		{
			name:          "shed counts as bad by default",
			spec:          oneRule,
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 980, Bad: 10, Shed: 10}, // burn 20, admitted 10.1
			wantState:     budget.StatePage,
			wantRemaining: 1 - 20/1001.0,
			wantFiring:    []string{"page-1h"},
			wantTTE:       tte30(1-20/1001.0, 20),
		},
		{
			name:          "ExcludeShed",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, Rules: oneRule.Rules, ExcludeShed: true},
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 980, Bad: 10, Shed: 10},
			wantState:     budget.StateOK,
			wantRemaining: 1 - 10/1000.99,
			wantTTE:       tte30(1-10/1000.99, (10 / 990.0 / (1 - 0.999))),
		},
		{
			// No page rule: the time to exhaustion follows the shortest window.
			name: "ticket rules only",
			spec: budget.Spec{Target: 0.999, Period: 30 * day, Rules: []budget.Rule{
				{Severity: budget.Ticket, Long: day, BudgetFraction: 0.1},
			}},
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 990, Bad: 10}, // burn 10
			wantState:     budget.StateTicket,
			wantRemaining: 1 - 10/1001.0,
			wantFiring:    []string{"ticket-1d"},
			wantTTE:       tte30(1-10/1001.0, 10),
		},
		{
			name:          "no rules",
			spec:          budget.Spec{Target: 0.999, Period: 30 * day, Rules: []budget.Rule{}},
			history:       budget.Counts{Good: 1_000_000},
			recent:        budget.Counts{Good: 990, Bad: 10},
			wantState:     budget.StateOK,
			wantRemaining: 1 - 10/1001.0,
			wantTTE:       budget.Never,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSpecLedger(t, tt.spec)
			if tt.history != (budget.Counts{}) {
				record(l, base.Add(-10*day), tt.history)
			}
			if tt.recent != (budget.Counts{}) {
				at := tt.recentAt
				if at == 0 {
					at = time.Minute
				}
				record(l, base.Add(-at), tt.recent)
			}
			rep := budget.Evaluate(l, tt.spec, base)
			if rep.State != tt.wantState {
				t.Errorf("Evaluate().State = %v, want %v", rep.State, tt.wantState)
			}
			if !closeTo(rep.Remaining, tt.wantRemaining) {
				t.Errorf("Evaluate().Remaining = %v, want %v", rep.Remaining, tt.wantRemaining)
			}
			if d := rep.TimeToExhaustion - tt.wantTTE; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("Evaluate().TimeToExhaustion = %v, want %v", rep.TimeToExhaustion, tt.wantTTE)
			}
			var firing []string
			for _, r := range rep.Rules {
				if r.Firing {
					firing = append(firing, r.Rule.Name())
				}
			}
			if !slices.Equal(firing, tt.wantFiring) {
				t.Errorf("Evaluate() fires %v, want %v", firing, tt.wantFiring)
			}
			if !rep.Time.Equal(base) {
				t.Errorf("Evaluate().Time = %v, want %v", rep.Time, base)
			}
			if want := l.Sum(base, tt.spec.Period); rep.Period != want {
				t.Errorf("Evaluate().Period = %+v, want %+v", rep.Period, want)
			}
			if got, want := len(rep.Windows), len(tt.spec.Windows()); got != want {
				t.Errorf("len(Evaluate().Windows) = %d, want %d", got, want)
			}
			if got, want := len(rep.Rules), len(tt.spec.Rules); tt.spec.Rules != nil && got != want {
				t.Errorf("len(Evaluate().Rules) = %d, want %d", got, want)
			}
		})
	}
}

// TestEvaluateRuleStatus checks one rule's numbers in detail.
func TestEvaluateRuleStatus(t *testing.T) {
	l := newSpecLedger(t, spec30)
	record(l, base.Add(-10*day), budget.Counts{Good: 1_000_000})
	record(l, base.Add(-20*time.Minute), budget.Counts{Good: 9_000})      // in 1h, not 5m
	record(l, base.Add(-time.Minute), budget.Counts{Good: 850, Bad: 150}) // in both
	rep := budget.Evaluate(l, spec30, base)

	st := ruleStatus(t, rep, "page-1h")
	wantLong := 150 / 10_000.0 / (1 - 0.999) // 15
	wantShort := 150 / 1_000.0 / (1 - 0.999) // 150
	if !closeTo(st.Threshold, 14.4) || !closeTo(st.LongBurn, wantLong) || !closeTo(st.ShortBurn, wantShort) || !st.Enough || !st.Firing {
		t.Errorf("page-1h = %+v, want threshold 14.4, long %v, short %v, enough, firing", st, wantLong, wantShort)
	}
	st = ruleStatus(t, rep, "page-6h")
	if !closeTo(st.Threshold, 6) || !closeTo(st.LongBurn, wantLong) || !closeTo(st.ShortBurn, wantLong) || !st.Firing {
		t.Errorf("page-6h = %+v, want threshold 6, long %v, short %v, firing", st, wantLong, wantLong)
	}

	w, ok := rep.Window(5 * time.Minute)
	if want := (budget.Counts{Good: 850, Bad: 150}); !ok || w.Counts != want || !closeTo(w.Burn, wantShort) || !closeTo(w.AdmittedBurn, wantShort) {
		t.Errorf("Window(5m) = %+v, %t, want counts %+v, burn %v", w, ok, want, wantShort)
	}
	if w, ok := rep.Window(7 * time.Minute); ok {
		t.Errorf("Window(7m) = %+v, true, want false", w)
	}
	var got []time.Duration
	for _, w := range rep.Windows {
		got = append(got, w.Window)
	}
	if want := spec30.Windows(); !slices.Equal(got, want) {
		t.Errorf("Evaluate().Windows = %v, want %v", got, want)
	}
}

// TestEvaluateShed checks that ExcludeShed changes only the reported burn:
// the admitted burn leaves shed events out either way.
func TestEvaluateShed(t *testing.T) {
	tests := []struct {
		recent       budget.Counts
		exclude      bool
		wantBurn     float64
		wantAdmitted float64
	}{
		{budget.Counts{Good: 990, Shed: 10}, false, 10, 0},
		{budget.Counts{Good: 990, Shed: 10}, true, 0, 0},
		{budget.Counts{Good: 980, Bad: 10, Shed: 10}, false, 20, 10 / 990.0 / (1 - 0.999)},
		{budget.Counts{Good: 980, Bad: 10, Shed: 10}, true, 10 / 990.0 / (1 - 0.999), 10 / 990.0 / (1 - 0.999)},
		{budget.Counts{Shed: 10}, true, 0, 0},
		{budget.Counts{Shed: 10}, false, 1000, 0},
	}
	for _, tt := range tests {
		spec := spec30
		spec.ExcludeShed = tt.exclude
		l := newSpecLedger(t, spec)
		record(l, base.Add(-time.Minute), tt.recent)
		rep := budget.Evaluate(l, spec, base)
		for _, w := range rep.Windows {
			if !closeTo(w.Burn, tt.wantBurn) || !closeTo(w.AdmittedBurn, tt.wantAdmitted) {
				t.Errorf("%+v, ExcludeShed %t: window %v burn, admitted = %v, %v, want %v, %v",
					tt.recent, tt.exclude, w.Window, w.Burn, w.AdmittedBurn, tt.wantBurn, tt.wantAdmitted)
			}
		}
	}
}

func TestBurn(t *testing.T) {
	tests := []struct {
		bad, total uint64
		target     float64
		want       float64
	}{
		{0, 0, 0.999, 0},
		{5, 0, 0.999, 0},
		{0, 1000, 0.999, 0},
		{1, 1000, 0.999, 1},
		{1, 100, 0.999, 10},
		{100, 100, 0.999, 1000},
		{144, 10_000, 0.999, 14.4},
		{5, 10, 0.5, 1},
		{1, 4, 0.75, 1},
	}
	for _, tt := range tests {
		if got := budget.Burn(tt.bad, tt.total, tt.target); !closeTo(got, tt.want) {
			t.Errorf("Burn(%d, %d, %v) = %v, want %v", tt.bad, tt.total, tt.target, got, tt.want)
		}
	}
}

func TestRemaining(t *testing.T) {
	tests := []struct {
		bad, total uint64
		target     float64
		want       float64
	}{
		{0, 0, 0.999, 1},
		{0, 1000, 0.999, 1},
		{1, 2000, 0.999, 0.5},
		{2, 1000, 0.999, -1},
		{1000, 1000, 0.999, -999},
		{1, 2, 0.5, 0},
		{2, 2, 0.5, -1},
		{1, 4, 0.5, 0.5},
	}
	for _, tt := range tests {
		if got := budget.Remaining(tt.bad, tt.total, tt.target); !closeTo(got, tt.want) {
			t.Errorf("Remaining(%d, %d, %v) = %v, want %v", tt.bad, tt.total, tt.target, got, tt.want)
		}
	}
	// A budget spent exactly is 0, not float noise above it, so the state
	// is exhausted.
	for _, tt := range []struct {
		bad, total uint64
		target     float64
	}{{1, 1000, 0.999}, {1, 100, 0.99}, {3, 1000, 0.997}, {7, 100000, 0.99993}} {
		if got := budget.Remaining(tt.bad, tt.total, tt.target); got != 0 {
			t.Errorf("Remaining(%d, %d, %v) = %v, want exactly 0", tt.bad, tt.total, tt.target, got)
		}
	}
}

func TestTimeToExhaustion(t *testing.T) {
	tests := []struct {
		remaining, burn float64
		period          time.Duration
		want            time.Duration
	}{
		{1, 1, 30 * day, 30 * day},
		{1, 14.4, 30 * day, 50 * time.Hour},
		{0.5, 14.4, 30 * day, 25 * time.Hour},
		{0.25, 2, 28 * day, 3*day + 12*time.Hour},
		{1, 0, 30 * day, budget.Never},
		{1, -1, 30 * day, budget.Never},
		{1, math.NaN(), 30 * day, budget.Never},
		{1, 1e-12, 30 * day, budget.Never}, // beyond a Duration
		{0, 5, 30 * day, 0},
		{-0.5, 5, 30 * day, 0},
		{-0.5, 0, 30 * day, 0},
	}
	for _, tt := range tests {
		if got := budget.TimeToExhaustion(tt.remaining, tt.burn, tt.period); got != tt.want {
			t.Errorf("TimeToExhaustion(%v, %v, %v) = %v, want %v", tt.remaining, tt.burn, tt.period, got, tt.want)
		}
	}
}

func TestStateString(t *testing.T) {
	tests := []struct {
		in   budget.State
		want string
	}{
		{budget.StateUnknown, "unknown"},
		{budget.StateOK, "ok"},
		{budget.StateTicket, "ticket"},
		{budget.StatePage, "page"},
		{budget.StateExhausted, "exhausted"},
		{budget.State(5), "state(5)"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("State(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
}

// TestWorkbookPageTiming replays the Site Reliability Workbook's example:
// at 99.9% over 30 days, a 100% outage must trip the 14.4× page over 1h and
// 5m after 0.0144 × 3600 s = 51.84 s, and the page must reset within about
// the short window once the outage ends.
func TestWorkbookPageTiming(t *testing.T) {
	const rate = 10 // events a second
	l := newSpecLedger(t, spec30)
	T := base
	E := T.Add(10 * time.Minute) // end of the outage

	// A full period of good traffic, coarse where no rule looks closely:
	// hourly until a day before T, then by the minute until 2h before T.
	// Events recorded at an Advance are those of the step before it.
	for at := T.Add(-30*day + time.Hour); !at.After(T.Add(-day)); at = at.Add(time.Hour) {
		record(l, at, budget.Counts{Good: rate * 3600})
	}
	for at := T.Add(-day + time.Minute); !at.After(T.Add(-2 * time.Hour)); at = at.Add(time.Minute) {
		record(l, at, budget.Counts{Good: rate * 60})
	}

	// Then second by second: good, 100% bad from T to E, good again.
	var (
		fireAt, clearAt time.Time
		states          []budget.State // distinct successive states
	)
	for at := T.Add(-2*time.Hour + time.Second); !at.After(E.Add(10 * time.Minute)); at = at.Add(time.Second) {
		c := budget.Counts{Good: rate}
		if at.After(T) && !at.After(E) {
			c = budget.Counts{Bad: rate}
		}
		record(l, at, c)
		rep := budget.Evaluate(l, spec30, at)
		if len(states) == 0 || states[len(states)-1] != rep.State {
			states = append(states, rep.State)
		}
		firing := ruleStatus(t, rep, "page-1h").Firing
		switch {
		case firing && fireAt.IsZero():
			fireAt = at
			if rep.State != budget.StatePage {
				t.Errorf("state when page-1h fires at T+%v = %v, want page", at.Sub(T), rep.State)
			}
		case firing && !clearAt.IsZero():
			t.Errorf("page-1h fires again at E+%v after clearing at E+%v", at.Sub(E), clearAt.Sub(E))
		case !firing && !fireAt.IsZero() && clearAt.IsZero():
			clearAt = at
		}
	}

	if fireAt.IsZero() {
		t.Fatalf("page-1h never fired during a 10-minute 100%% outage")
	}
	const bucket = 5 * time.Second // of the 5m window
	expect := time.Duration(0.0144 * 3600 * float64(time.Second))
	t.Logf("outage from T: page-1h fires at T+%v (exact expectation T+%v)", fireAt.Sub(T), expect)
	if lo, hi := T.Add(52*time.Second-bucket), T.Add(52*time.Second+bucket); fireAt.Before(lo) || fireAt.After(hi) {
		t.Errorf("page-1h fires at T+%v, want within [T+%v, T+%v]", fireAt.Sub(T), lo.Sub(T), hi.Sub(T))
	}
	if clearAt.IsZero() {
		t.Fatalf("page-1h still fires 10 minutes after the outage ended")
	}
	t.Logf("outage ends at E = T+10m: page-1h clears at E+%v", clearAt.Sub(E))
	if limit := E.Add(5*time.Minute + bucket); !clearAt.After(E) || clearAt.After(limit) {
		t.Errorf("page-1h clears at E+%v, want in (E, E+%v]", clearAt.Sub(E), limit.Sub(E))
	}
	if len(states) < 2 || states[0] != budget.StateOK || states[1] != budget.StatePage {
		t.Errorf("states = %v, want ok then page", states)
	}
	t.Logf("states: %v", states)
}

// tte30 is the time to exhaustion of remaining at burn over 30 days.
func tte30(remaining, burn float64) time.Duration {
	return time.Duration(remaining / burn * float64(30*day))
}

// fullLedger returns a ledger for spec30 with traffic in every bucket of
// every tier, ending at base.
func fullLedger(tb testing.TB) *budget.Ledger {
	tb.Helper()
	l := newSpecLedger(tb, spec30)
	for at := base.Add(-30 * day); at.Before(base.Add(-6 * time.Hour)); at = at.Add(time.Minute) {
		record(l, at, budget.Counts{Good: 600, Bad: 1})
	}
	for at := base.Add(-6 * time.Hour); !at.After(base); at = at.Add(5 * time.Second) {
		record(l, at, budget.Counts{Good: 50, Bad: 1, Shed: 1})
	}
	return l
}

func BenchmarkEvaluate(b *testing.B) {
	l := fullLedger(b)
	b.ReportAllocs()
	for b.Loop() {
		budget.Evaluate(l, spec30, base)
	}
}

// TestReportBurn checks the current burn rate: the fastest page rule's long
// window, else the shortest window.
func TestReportBurn(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rules []budget.Rule
		want  time.Duration // the window whose burn is the current one
	}{
		{"default rules", nil, time.Hour},
		{"fastest page first or not", []budget.Rule{
			{Severity: budget.Page, Long: 6 * time.Hour, BudgetFraction: 0.05},
			{Severity: budget.Ticket, Long: 10 * time.Minute, BudgetFraction: 0.5},
			{Severity: budget.Page, Long: 2 * time.Hour, BudgetFraction: 0.05},
		}, 2 * time.Hour},
		{"tickets only", []budget.Rule{{Severity: budget.Ticket, Long: 24 * time.Hour, BudgetFraction: 0.1}}, 2 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := budget.Spec{Target: 0.999, Period: 30 * day, Rules: tt.rules}
			l := newSpecLedger(t, spec)
			// A different share of bad events at each age, so that every
			// window that matters burns at a different rate: 5m 5, 1h 2.5,
			// 2h 5, 6h 16.25.
			now := base.Add(5 * time.Hour)
			for _, b := range []struct {
				ago       time.Duration
				good, bad uint64
			}{{5 * time.Hour, 950, 50}, {90 * time.Minute, 990, 10}, {30 * time.Minute, 1000, 0}, {0, 995, 5}} {
				l.Add(budget.Bad, b.bad)
				l.Add(budget.Good, b.good)
				l.Advance(now.Add(-b.ago))
			}
			rep := budget.Evaluate(l, spec, now)
			seen := map[float64]bool{}
			for _, w := range rep.Windows {
				if w.Window == 5*time.Minute || w.Window == time.Hour || w.Window == 6*time.Hour {
					if seen[w.Burn] {
						t.Fatalf("windows %+v: two burn at %v, the test can not tell them apart", rep.Windows, w.Burn)
					}
					seen[w.Burn] = true
				}
			}
			w, ok := rep.Window(tt.want)
			if !ok {
				t.Fatalf("report has no %v window", tt.want)
			}
			if rep.Burn != w.Burn {
				t.Errorf("Evaluate().Burn = %v, want the %v window's %v", rep.Burn, tt.want, w.Burn)
			}
		})
	}
}

// TestEvaluateInto checks that EvaluateInto reports what Evaluate does,
// writes into the arrays it is given when they are large enough, and
// replaces whatever the report held, also with no room given.
func TestEvaluateInto(t *testing.T) {
	l := newSpecLedger(t, spec30)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 600 {
		l.Add(budget.Good, 99)
		l.Add(budget.Bad, uint64(i%3))
		now = now.Add(10 * time.Second)
		l.Advance(now)
	}
	want := budget.Evaluate(l, spec30, now)

	ws := make([]budget.Window, 0, 16)
	rs := make([]budget.RuleStatus, 0, 8)
	rep := budget.Report{State: budget.StateExhausted, Windows: ws, Rules: rs}
	budget.EvaluateInto(&rep, l, spec30, now)
	if !reportsEqual(rep, want) {
		t.Errorf("EvaluateInto(...) = %+v, want %+v (Evaluate)", rep, want)
	}
	if &rep.Windows[0] != &ws[:1][0] || &rep.Rules[0] != &rs[:1][0] {
		t.Errorf("EvaluateInto did not write into the arrays it was given")
	}

	var empty budget.Report
	budget.EvaluateInto(&empty, l, spec30, now)
	if !reportsEqual(empty, want) {
		t.Errorf("EvaluateInto(zero Report, ...) = %+v, want %+v (Evaluate)", empty, want)
	}
}

func reportsEqual(a, b budget.Report) bool {
	return a.Time.Equal(b.Time) && a.State == b.State && a.Period == b.Period &&
		a.Start.Equal(b.Start) && a.Length == b.Length && a.Remaining == b.Remaining &&
		a.Burn == b.Burn && a.TimeToExhaustion == b.TimeToExhaustion &&
		slices.Equal(a.Windows, b.Windows) && slices.Equal(a.Rules, b.Rules)
}
