package slo_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// historyObjectives are an objective whose fastest page rule is not its
// first, and one with no page rule.
var historyObjectives = []slo.Objective{
	{Name: "api", Target: 0.999, Rules: []budget.Rule{
		{Severity: budget.Ticket, Long: 24 * time.Hour, BudgetFraction: 0.1},
		{Severity: budget.Page, Long: 6 * time.Hour, BudgetFraction: 0.05}, // 6×
		{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02},     // 14.4×: the fastest
	}},
	{Name: "batch", Target: 0.99, Rules: []budget.Rule{
		{Severity: budget.Ticket, Long: 6 * time.Hour, BudgetFraction: 0.1}, // windows 30m and 6h
	}},
}

// TestHistory checks that the engine keeps one sample per interval, at most
// size of them, oldest first, each equal to the Status of its evaluation.
func TestHistory(t *testing.T) {
	tests := []struct {
		name  string
		every time.Duration
		size  int
		step  time.Duration // between evaluations
		steps int
		want  []time.Duration // sample times after the last step, from the start
	}{
		{"one a minute, evaluated every 10s", time.Minute, 3, 10 * time.Second, 30,
			[]time.Duration{3 * time.Minute, 4 * time.Minute, 5 * time.Minute}},
		{"not yet full", time.Minute, 10, 10 * time.Second, 18,
			[]time.Duration{-2 * time.Hour, 0, time.Minute, 2 * time.Minute, 3 * time.Minute}},
		// An interval that the evaluations do not divide: the first
		// evaluation at least a minute after the previous sample.
		{"every 25s", time.Minute, 4, 25 * time.Second, 12,
			[]time.Duration{75 * time.Second, 150 * time.Second, 225 * time.Second, 300 * time.Second}},
		{"every evaluation", time.Second, 5, time.Second, 8,
			[]time.Duration{4 * time.Second, 5 * time.Second, 6 * time.Second, 7 * time.Second, 8 * time.Second}},
		{"size 1", time.Minute, 1, 10 * time.Second, 7, []time.Duration{time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, historyObjectives, slo.WithHistory(tt.every, tt.size))
			// Two hours of good traffic, then a burn: the 1h and 6h
			// windows differ.
			record(t, eng, "api", budget.Good, 0, 100000)
			record(t, eng, "batch", budget.Good, 0, 1000)
			start := t0
			eng.Tick(start.Add(-2 * time.Hour))
			statuses := map[time.Time]*slo.Status{start.Add(-2 * time.Hour): eng.Status()}
			times := []time.Time{start.Add(-2 * time.Hour)} // of the evaluations, in order
			for i := range tt.steps + 1 {
				record(t, eng, "api", budget.Good, 0, 100)
				record(t, eng, "api", budget.Bad, 0, i)
				record(t, eng, "batch", budget.Bad, 0, i%3)
				now := start.Add(time.Duration(i) * tt.step)
				eng.Tick(now)
				statuses[now] = eng.Status()
				times = append(times, now)
			}
			for _, o := range historyObjectives {
				samples, err := eng.History(o.Name)
				if err != nil {
					t.Fatalf("History(%q) error: %v", o.Name, err)
				}
				var got []time.Duration
				for _, s := range samples {
					got = append(got, s.Time.Sub(start))
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("History(%q) sample times = %v, want %v", o.Name, got, tt.want)
				}
				// The counts of the first sample kept are since the
				// sample before it, by the sampling rule.
				var prev budget.Counts
				if len(samples) > 0 {
					if at, ok := sampledBefore(times, samples[0].Time, tt.every); ok {
						prev = objectiveStatus(t, statuses[at], o.Name).Totals
					}
				}
				for _, s := range samples {
					st, ok := statuses[s.Time]
					if !ok {
						t.Errorf("History(%q) sample at %v: no evaluation then", o.Name, s.Time)
						continue
					}
					os := objectiveStatus(t, st, o.Name)
					rep := os.Report
					// Kept at float32 precision; counts since the
					// previous sample.
					want := slo.Sample{Time: s.Time, State: rep.State,
						Remaining: float64(float32(rep.Remaining)), Burn: float64(float32(chartBurn(t, rep))),
						Good: os.Totals.Good - prev.Good, Bad: os.Totals.Bad - prev.Bad, Shed: os.Totals.Shed - prev.Shed}
					prev = os.Totals
					if s != want {
						t.Errorf("History(%q) sample %+v, want %+v from Status at %v", o.Name, s, want, s.Time)
					}
				}
			}
			// The premise: the burn rates of api's page rules differ, so
			// that the samples tell which one they carry.
			last := objectiveStatus(t, eng.Status(), "api").Report
			if b1, b6 := last.Rules[2].LongBurn, last.Rules[1].LongBurn; b1 == b6 || b1 == 0 {
				t.Fatalf("burn over 1h, 6h = %v, %v: want them different", b1, b6)
			}
			// The ring is a copy.
			if samples, _ := eng.History("api"); len(samples) > 0 {
				first := samples[0]
				samples[0].Remaining = 42
				if again, _ := eng.History("api"); again[0] != first {
					t.Errorf("History(%q)[0] = %+v after changing a copy, want %+v", "api", again[0], first)
				}
			}
		})
	}
}

// sampledBefore returns the evaluation time, among times (in order), of
// the sample taken before the one at at: a sample is taken at the first
// evaluation and then at the first one at least every after the previous.
func sampledBefore(times []time.Time, at time.Time, every time.Duration) (time.Time, bool) {
	var last time.Time
	for _, tm := range times {
		if !last.IsZero() && tm.Sub(last) < every {
			continue
		}
		if tm.Equal(at) {
			return last, !last.IsZero()
		}
		last = tm
	}
	return time.Time{}, false
}

// chartBurn is the burn rate a Sample carries for rep: over the long window
// of the fastest page rule, or the shortest window without page rules.
func chartBurn(t *testing.T, rep budget.Report) float64 {
	t.Helper()
	var page []budget.RuleStatus
	for _, r := range rep.Rules {
		if r.Rule.Severity == budget.Page {
			page = append(page, r)
		}
	}
	if len(page) == 0 {
		return rep.Windows[0].Burn
	}
	fastest := slices.MaxFunc(page, func(a, b budget.RuleStatus) int {
		switch {
		case a.Threshold < b.Threshold:
			return -1
		case a.Threshold > b.Threshold:
			return 1
		}
		return 0
	})
	if fastest.Rule.Long != time.Hour {
		t.Fatalf("fastest page rule %v, want page-1h", fastest.Rule)
	}
	return fastest.LongBurn
}

func TestHistoryDefault(t *testing.T) {
	// By default one sample every two minutes, 720 of them: a day.
	eng := newEngine(t, []slo.Objective{{Name: "api", Target: 0.999}})
	if samples, err := eng.History("api"); err != nil || len(samples) != 0 {
		t.Errorf("History(%q) before Tick = %v, %v, want none, nil", "api", samples, err)
	}
	for i := range 7 * 60 {
		record(t, eng, "api", budget.Good, 0, 1)
		eng.Tick(t0.Add(time.Duration(i) * 10 * time.Second))
	}
	samples, err := eng.History("api")
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 35 || !samples[0].Time.Equal(t0) || !samples[34].Time.Equal(t0.Add(68*time.Minute)) {
		t.Errorf("History(%q) after 70 minutes = %d samples from %v to %v, want 35 from %v, one every two minutes",
			"api", len(samples), samples[0].Time, samples[len(samples)-1].Time, t0)
	}
	for i := range 24 * 60 {
		eng.Tick(t0.Add(70*time.Minute + time.Duration(i)*time.Minute))
	}
	if samples, _ := eng.History("api"); len(samples) != 720 {
		t.Errorf("History(%q) after a day = %d samples, want 720", "api", len(samples))
	}
	if load := eng.LoadHistory(); len(load) != 720 {
		t.Errorf("LoadHistory() after a day = %d samples, want 720", len(load))
	}
}

func TestHistoryUnknownObjective(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	eng.Tick(t0)
	for _, name := range []string{"", "b", "A"} {
		if samples, err := eng.History(name); samples != nil || !errors.Is(err, slo.ErrUnknownObjective) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("History(%q) = %v, %v, want nil, error wrapping ErrUnknownObjective naming it", name, samples, err)
		}
	}
}

func TestWithHistoryInvalid(t *testing.T) {
	for _, tt := range []struct {
		every time.Duration
		size  int
		want  string
	}{
		{0, 360, "history every 0s, size 360: both must be positive"},
		{time.Minute, 0, "history every 1m0s, size 0: both must be positive"},
		{-time.Second, -1, "history every -1s, size -1: both must be positive"},
	} {
		eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}}, options(slo.WithHistory(tt.every, tt.size))...)
		if eng != nil || !errors.Is(err, slo.ErrInvalidOption) {
			t.Errorf("New(…, WithHistory(%v, %d)) = %v, %v, want nil, error wrapping ErrInvalidOption", tt.every, tt.size, eng, err)
			continue
		}
		checkMentions(t, err, []string{tt.want})
	}
}

// TestLoadHistory checks that each load sample counts what Admit decided
// by Criticality since the previous sample, and carries the shed level of
// its evaluation.
func TestLoadHistory(t *testing.T) {
	eng := shedding(t, 3, slo.WithHistory(time.Minute, 3)) // level 1.5; the first sample at t0
	rt := route(t, eng, slo.Critical, "a")
	crits := []slo.Criticality{slo.CriticalPlus, slo.Critical, slo.SheddablePlus, slo.Sheddable}
	type want struct {
		admitted, rejected [4]uint64
		level              float64
		scale              slo.ScaleStatus
	}
	var wants []want
	var cur want
	now := t0.Add(3 * time.Second)
	for step := range 4 * 6 { // four minutes, evaluated every 10s
		record(t, eng, "a", budget.Bad, 0, 100) // still burning: the level holds
		for i, c := range crits {
			for range 50 * (i + 1) {
				tk, _, ok := rt.Admit(c)
				if !ok {
					cur.rejected[c.Index()]++
					continue
				}
				cur.admitted[c.Index()]++
				tk.Done(budget.Good)
			}
		}
		now = now.Add(10 * time.Second)
		eng.Tick(now)
		if (step+1)%6 == 0 {
			cur.level, cur.scale = eng.Status().Shedding.Level, eng.Status().Scale
			wants = append(wants, cur)
			cur = want{}
		}
	}
	got := eng.LoadHistory()
	if len(got) != 3 {
		t.Fatalf("LoadHistory() has %d samples, want 3 (the history size)", len(got))
	}
	wants = wants[len(wants)-3:]
	var rejectedAny, scaleAny bool
	for k, s := range got {
		w := wants[k]
		if s.Admitted != w.admitted || s.Rejected != w.rejected || s.Level != float64(float32(w.level)) ||
			s.ScaleKnown != w.scale.Known || s.Scale != float64(float32(w.scale.Need)) {
			t.Errorf("LoadHistory()[%d] = %+v, want admitted %v, rejected %v, level %v, scale %+v", k, s, w.admitted, w.rejected, w.level, w.scale)
		}
		rejectedAny = rejectedAny || s.Rejected[slo.Sheddable.Index()] > 0
		scaleAny = scaleAny || s.ScaleKnown
	}
	if !rejectedAny {
		t.Fatalf("no SHEDDABLE request rejected: the test does not shed")
	}
	if !scaleAny {
		t.Errorf("LoadHistory() = %+v, want the scale signal known in some sample of a shedding service", got)
	}
}
