package budget_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// base is the fixed origin of every test's clock. Midnight UTC is a whole
// number of every ladder resolution since the Unix epoch.
var base = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// bases are origins on both sides of the Unix epoch: the ledger's bucket
// arithmetic must not care that UnixNano is negative.
var bases = []time.Time{
	base,
	time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC), // steps cross 1970
	time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
}

// step is one action on a ledger: add n events with outcome o, then, if
// advance, Advance to base+at.
type step struct {
	at      time.Duration
	o       budget.Outcome
	n       uint64
	advance bool
}

// check is one expected Sum(base+at, w).
type check struct {
	at   time.Duration
	w    time.Duration
	want budget.Counts
}

func newLedger(t testing.TB, period time.Duration, windows ...time.Duration) *budget.Ledger {
	t.Helper()
	l, err := budget.NewLedger(period, windows...)
	if err != nil {
		t.Fatalf("NewLedger(%v, %v) error: %v", period, windows, err)
	}
	return l
}

func run(l *budget.Ledger, origin time.Time, steps []step) {
	for _, s := range steps {
		if s.n > 0 {
			l.Add(s.o, s.n)
		}
		if s.advance {
			l.Advance(origin.Add(s.at))
		}
	}
}

func runChecks(t *testing.T, l *budget.Ledger, origin time.Time, checks []check) {
	t.Helper()
	for _, c := range checks {
		if got := l.Sum(origin.Add(c.at), c.w); got != c.want {
			t.Errorf("Sum(origin+%v, %v) = %+v, want %+v", c.at, c.w, got, c.want)
		}
	}
}

const (
	good    = budget.Good
	bad     = budget.Bad
	shed    = budget.Shed
	neutral = budget.Neutral
	s       = time.Second
	ms      = time.Millisecond
)

// The step tables run on NewLedger(1h, 1m): 1s×60 for windows up to a minute,
// 5s×720 for longer ones.
var stepTests = []struct {
	name   string
	steps  []step
	checks []check
}{
	{
		name: "buckets",
		steps: []step{
			{at: 0, o: good, n: 1, advance: true},
			{at: 1 * s, o: bad, n: 2, advance: true},
			{at: 4 * s, o: shed, n: 3, advance: true},
			{at: 5*s + 999*ms, o: good, n: 10, advance: true},
		},
		checks: []check{
			{at: 5 * s, w: 1 * s, want: budget.Counts{Good: 10}},
			{at: 5 * s, w: 2 * s, want: budget.Counts{Good: 10, Shed: 3}},
			{at: 5 * s, w: 4 * s, want: budget.Counts{Good: 10, Shed: 3}},
			{at: 5 * s, w: 5 * s, want: budget.Counts{Good: 10, Bad: 2, Shed: 3}},
			{at: 5 * s, w: time.Minute, want: budget.Counts{Good: 11, Bad: 2, Shed: 3}},
			// 2m comes from the 5s tier: buckets [0, 5s) and [5s, 10s).
			{at: 5 * s, w: 2 * time.Minute, want: budget.Counts{Good: 11, Bad: 2, Shed: 3}},
			{at: 5 * s, w: 0, want: budget.Counts{}},
			{at: 5 * s, w: -time.Minute, want: budget.Counts{}},
		},
	},
	{
		name: "window edges, 1s buckets",
		steps: []step{
			{at: 0, o: bad, n: 1, advance: true},
		},
		checks: []check{
			// The window is (now−w, now] rounded to whole buckets.
			{at: 59*s + 999*ms, w: time.Minute, want: budget.Counts{Bad: 1}},
			{at: time.Minute, w: time.Minute, want: budget.Counts{}},
			{at: time.Minute - 1, w: time.Minute, want: budget.Counts{Bad: 1}},
			// 1m+1ns is longer than the 1s tier: 5s buckets.
			{at: time.Minute, w: time.Minute + 1, want: budget.Counts{Bad: 1}},
			// At 1m+1ns the event is exactly w old: out.
			{at: time.Minute + 1, w: time.Minute + 1, want: budget.Counts{}},
		},
	},
	{
		name: "window edges, 5s buckets",
		steps: []step{
			{at: 2 * s, o: bad, n: 1, advance: true},
		},
		checks: []check{
			{at: 5*time.Minute - 1, w: 5 * time.Minute, want: budget.Counts{Bad: 1}},
			// At 5m the window is (0, 5m]; the edge s is in (0, 5s], so s = 5s
			// and the bucket [0, 5s) with the event 4m58s old is left out.
			{at: 5 * time.Minute, w: 5 * time.Minute, want: budget.Counts{}},
			{at: 5*time.Minute + 1*s, w: 5 * time.Minute, want: budget.Counts{}},
			// A window one second longer reaches back into [0, 5s).
			{at: 5*time.Minute + 2*s, w: 5*time.Minute + 3*s, want: budget.Counts{Bad: 1}},
			{at: 5*time.Minute + 2*s, w: 5*time.Minute + 2*s, want: budget.Counts{}},
		},
	},
	{
		name: "window not a multiple of its resolution",
		steps: []step{
			{at: 5 * s, o: bad, n: 1, advance: true},
		},
		checks: []check{
			// 62s comes from 5s buckets. At 66s, s is in (4s, 9s]: 5s.
			{at: 66 * s, w: 62 * s, want: budget.Counts{Bad: 1}},
			// At 67s the event is exactly 62s old: out.
			{at: 67 * s, w: 62 * s, want: budget.Counts{}},
			// At 69s the event is 64s old, older than the window: out.
			{at: 69 * s, w: 62 * s, want: budget.Counts{}},
		},
	},
	{
		name: "events land in the bucket of the next Advance",
		steps: []step{
			{o: bad, n: 1},
			{at: 10 * s, o: good, n: 1, advance: true},
			{at: 11 * s, o: shed, n: 1}, // not advanced: not summed
		},
		checks: []check{
			{at: 10 * s, w: 1 * s, want: budget.Counts{Good: 1, Bad: 1}},
			{at: 11 * s, w: 1 * s, want: budget.Counts{}},
			{at: 11 * s, w: time.Minute, want: budget.Counts{Good: 1, Bad: 1}},
		},
	},
	{
		name: "sum after the latest Advance",
		steps: []step{
			{at: 0, o: good, n: 7, advance: true},
		},
		checks: []check{
			{at: 30 * s, w: time.Minute, want: budget.Counts{Good: 7}},
			{at: time.Minute, w: time.Minute, want: budget.Counts{}},
			{at: 59 * time.Minute, w: time.Hour, want: budget.Counts{Good: 7}},
			{at: 2 * time.Hour, w: time.Hour, want: budget.Counts{}},
		},
	},
	{
		name: "neutral and unknown outcomes are not summed",
		steps: []step{
			{o: neutral, n: 5},
			{o: budget.Outcome(4), n: 6},
			{o: budget.Outcome(255), n: 7},
			{at: 0, o: good, n: 1, advance: true},
		},
		checks: []check{
			{at: 0, w: time.Minute, want: budget.Counts{Good: 1}},
		},
	},
	{
		name: "sum before any Advance",
		steps: []step{
			{o: good, n: 1},
			{o: bad, n: 1},
		},
		checks: []check{
			{at: 0, w: time.Minute, want: budget.Counts{}},
			{at: time.Hour, w: time.Hour, want: budget.Counts{}},
		},
	},
	{
		name: "time going backwards is the latest time",
		steps: []step{
			{at: 10 * s, o: good, n: 1, advance: true},
			{at: 5 * s, o: bad, n: 1, advance: true},           // taken as 10s
			{at: -time.Hour, o: bad, n: 1, advance: true},      // taken as 10s
			{at: 11 * s, o: shed, n: 1, advance: true},         // forward again
			{at: 9 * s, o: good, n: 1, advance: true},          // taken as 11s
			{at: -3 * time.Hour, o: good, n: 0, advance: true}, // nothing added
		},
		checks: []check{
			{at: 11 * s, w: 1 * s, want: budget.Counts{Good: 1, Shed: 1}},
			{at: 11 * s, w: 2 * s, want: budget.Counts{Good: 2, Bad: 2, Shed: 1}},
			{at: 11 * s, w: time.Minute, want: budget.Counts{Good: 2, Bad: 2, Shed: 1}},
			{at: 11 * s, w: time.Hour, want: budget.Counts{Good: 2, Bad: 2, Shed: 1}},
			// Sum at an earlier time is a sum at 11s too.
			{at: 0, w: 1 * s, want: budget.Counts{Good: 1, Shed: 1}},
			{at: -time.Hour, w: 2 * s, want: budget.Counts{Good: 2, Bad: 2, Shed: 1}},
		},
	},
	{
		name: "gap within a tier clears only what it passed",
		steps: append(everySecond(0, 59, bad),
			step{at: 90 * s, o: good, n: 1, advance: true}),
		checks: []check{
			// (30s, 90s]: bad at 31..59 and the good at 90.
			{at: 90 * s, w: time.Minute, want: budget.Counts{Good: 1, Bad: 29}},
			{at: 90 * s, w: 31 * s, want: budget.Counts{Good: 1}},
			// From 5s buckets: (25s, 90s] rounds to [30s, 90s], bad at 30..59.
			{at: 90 * s, w: 65 * s, want: budget.Counts{Good: 1, Bad: 30}},
			{at: 90 * s, w: time.Hour, want: budget.Counts{Good: 1, Bad: 60}},
		},
	},
}

// everySecond returns steps adding one event with outcome o at each second
// from..to.
func everySecond(from, to int, o budget.Outcome) []step {
	var steps []step
	for i := from; i <= to; i++ {
		steps = append(steps, step{at: time.Duration(i) * s, o: o, n: 1, advance: true})
	}
	return steps
}

func TestLedgerSteps(t *testing.T) {
	for _, origin := range bases {
		for _, tt := range stepTests {
			t.Run(fmt.Sprintf("%d/%s", origin.Year(), tt.name), func(t *testing.T) {
				l := newLedger(t, time.Hour, time.Minute)
				run(l, origin, tt.steps)
				runChecks(t, l, origin, tt.checks)
			})
		}
	}
}

func TestLedgerTotals(t *testing.T) {
	l := newLedger(t, time.Hour)
	check := func(wantC budget.Counts, wantNeutral uint64) {
		t.Helper()
		if c, n := l.Totals(); c != wantC || n != wantNeutral {
			t.Errorf("Totals() = %+v, %d, want %+v, %d", c, n, wantC, wantNeutral)
		}
	}
	check(budget.Counts{}, 0)
	l.Add(good, 3)
	l.Add(neutral, 2)
	l.Add(budget.Outcome(9), 100)
	check(budget.Counts{Good: 3}, 2) // before any Advance
	l.Advance(base)
	l.Add(bad, 1)
	l.Add(shed, 4)
	l.Advance(base.Add(-time.Minute)) // backwards
	l.Advance(base.Add(10 * day))     // beyond the span: buckets cleared, totals not
	l.Add(neutral, 1)
	check(budget.Counts{Good: 3, Bad: 1, Shed: 4}, 3)
	if got := l.Sum(base.Add(10*day), time.Hour); got != (budget.Counts{}) {
		t.Errorf("Sum(base+10d, 1h) = %+v, want zero", got)
	}
}

// TestZeroLedger checks the documented zero value: it counts totals, holds
// no buckets, and nothing about it panics.
func TestZeroLedger(t *testing.T) {
	var l budget.Ledger
	l.Add(budget.Bad, 3)
	l.Advance(base)
	l.Advance(base.Add(time.Minute))
	if got, _ := l.Totals(); got != (budget.Counts{Bad: 3}) {
		t.Errorf("Totals() = %+v, want {Bad:3}", got)
	}
	if got := l.Sum(base.Add(time.Minute), time.Hour); got != (budget.Counts{}) {
		t.Errorf("Sum(1h) = %+v, want none", got)
	}
	spec := budget.Spec{Target: 0.999, Period: 30 * day}
	if got := budget.Evaluate(&l, spec, base.Add(time.Minute)).State; got != budget.StateUnknown {
		t.Errorf("Evaluate(zero ledger).State = %v, want unknown", got)
	}
	if got := budget.RecoveryTime(&l, spec, base.Add(time.Minute), 0.5, time.Hour); got != budget.Never {
		t.Errorf("RecoveryTime(zero ledger) = %v, want Never", got)
	}
	if got := l.Tiers(); len(got) != 0 {
		t.Errorf("Tiers() = %v, want none", got)
	}
	if _, ok := l.Snapshot(); !ok {
		t.Errorf("Snapshot() after Advance = _, false, want true")
	}
}

func TestLedgerLast(t *testing.T) {
	l := newLedger(t, time.Hour)
	if _, ok := l.Last(); ok {
		t.Errorf("Last() on a new ledger = _, true, want false")
	}
	for _, tt := range []struct {
		advance, want time.Time
	}{
		{base, base},
		{base.Add(time.Second), base.Add(time.Second)},
		{base.Add(-time.Hour), base.Add(time.Second)},
		{base.Add(time.Hour), base.Add(time.Hour)},
	} {
		l.Advance(tt.advance)
		if got, ok := l.Last(); !got.Equal(tt.want) || !ok {
			t.Errorf("after Advance(%v): Last() = %v, %t, want %v, true", tt.advance, got, ok, tt.want)
		}
	}
}

// TestLedgerGaps checks that a gap without Advance clears exactly the
// buckets it passed, in every tier, for gaps up to and beyond the span.
func TestLedgerGaps(t *testing.T) {
	spec := budget.Spec{Target: 0.999, Period: 30 * day}
	windows := append(spec.Windows(), spec.Period)
	gaps := []time.Duration{
		1 * s, 5 * s, 5*time.Minute - 5*s, 5 * time.Minute, 5*time.Minute + 5*s,
		time.Hour - time.Minute, time.Hour, 2 * time.Hour, 6*time.Hour - 5*time.Minute, 6 * time.Hour,
		day - 15*time.Minute, day, 3*day - time.Hour, 3 * day, 30*day - time.Hour, 30 * day,
		30*day + time.Hour, 60 * day, 1000 * day,
	}
	origins := []time.Time{base, time.Date(1969, 12, 30, 0, 0, 0, 0, time.UTC), bases[2]}
	for _, origin := range origins {
		for _, gap := range gaps {
			t.Run(fmt.Sprintf("%d/%v", origin.Year(), gap), func(t *testing.T) {
				l, err := spec.NewLedger()
				if err != nil {
					t.Fatal(err)
				}
				l.Add(bad, 1)
				l.Advance(origin)
				l.Add(good, 1)
				l.Advance(origin.Add(gap))
				now := origin.Add(gap)
				for _, w := range windows {
					// origin is aligned to every resolution, so the bad event
					// is in the window exactly when it is younger than w.
					want := budget.Counts{Good: 1}
					if gap < w {
						want.Bad = 1
					}
					if got := l.Sum(now, w); got != want {
						t.Errorf("Sum(origin+%v, %v) = %+v, want %+v", gap, w, got, want)
					}
				}
			})
		}
	}
}

// TestLedgerGapOneTier checks gaps against a ledger of one ring, 1s×60, where
// a gap of exactly the span reuses the slot of the old event.
func TestLedgerGapOneTier(t *testing.T) {
	tests := []struct {
		gap  time.Duration
		want budget.Counts
	}{
		{1 * s, budget.Counts{Good: 1, Bad: 1}},
		{59 * s, budget.Counts{Good: 1, Bad: 1}}, // span − 1 bucket: kept
		{59*s + 999*ms, budget.Counts{Good: 1, Bad: 1}},
		{60 * s, budget.Counts{Good: 1}}, // span: same slot, cleared
		{61 * s, budget.Counts{Good: 1}},
		{119 * s, budget.Counts{Good: 1}},
		{120 * s, budget.Counts{Good: 1}}, // twice the span: same slot again
		{time.Hour, budget.Counts{Good: 1}},
		{400 * day, budget.Counts{Good: 1}},
	}
	for _, origin := range bases {
		for _, tt := range tests {
			l := newLedger(t, time.Minute)
			if got, want := l.Tiers(), []budget.Tier{{Resolution: s, Buckets: 60}}; len(got) != 1 || got[0] != want[0] {
				t.Fatalf("NewLedger(1m).Tiers() = %v, want %v", got, want)
			}
			l.Add(bad, 1)
			l.Advance(origin)
			l.Add(good, 1)
			l.Advance(origin.Add(tt.gap))
			if got := l.Sum(origin.Add(tt.gap), time.Minute); got != tt.want {
				t.Errorf("%d: after a gap of %v: Sum(now, 1m) = %+v, want %+v", origin.Year(), tt.gap, got, tt.want)
			}
		}
	}
}

// TestLedgerSpan checks a window longer than every tier: it is cut to the
// longest span, which here is not the coarsest tier's.
func TestLedgerSpan(t *testing.T) {
	l := newLedger(t, 30*day, 5*day) // 1h×720 and 2h×60
	if got, want := l.Tiers(), []budget.Tier{{time.Hour, 720}, {2 * time.Hour, 60}}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("NewLedger(30d, 5d).Tiers() = %v, want %v", got, want)
	}
	if got := l.Span(); got != 30*day {
		t.Errorf("Span() = %v, want %v", got, 30*day)
	}
	l.Add(bad, 1)
	l.Advance(base)
	l.Add(good, 1)
	l.Advance(base.Add(10 * day))
	now := base.Add(10 * day)
	tests := []struct {
		w       time.Duration
		wantRes time.Duration
		want    budget.Counts
	}{
		{5 * day, time.Hour, budget.Counts{Good: 1}},
		{10 * day, time.Hour, budget.Counts{Good: 1}},
		{10*day + time.Hour, time.Hour, budget.Counts{Good: 1, Bad: 1}},
		{30 * day, time.Hour, budget.Counts{Good: 1, Bad: 1}},
		{40 * day, time.Hour, budget.Counts{Good: 1, Bad: 1}},
		{budget.Never, time.Hour, budget.Counts{Good: 1, Bad: 1}},
	}
	for _, tt := range tests {
		if got := l.Resolution(tt.w); got != tt.wantRes {
			t.Errorf("Resolution(%v) = %v, want %v", tt.w, got, tt.wantRes)
		}
		if got := l.Sum(now, tt.w); got != tt.want {
			t.Errorf("Sum(base+10d, %v) = %+v, want %+v", tt.w, got, tt.want)
		}
	}
	l.Advance(base.Add(31 * day))
	if got, want := l.Sum(base.Add(31*day), 40*day), (budget.Counts{Good: 1}); got != want {
		t.Errorf("Sum(base+31d, 40d) = %+v, want %+v", got, want)
	}
}

// TestLedgerConcurrentAdd records from many goroutines while the owner
// advances; run with -race.
func TestLedgerConcurrentAdd(t *testing.T) {
	l := newLedger(t, time.Hour, time.Minute)
	const workers, perWorker = 4, 2000
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for j := range perWorker {
				l.Add(budget.Outcome(1+(i+j)%3), 1)
			}
		})
	}
	for i := range 100 {
		l.Advance(base.Add(time.Duration(i) * 100 * ms))
	}
	wg.Wait()
	l.Advance(base.Add(10 * s))
	total := uint64(workers * perWorker)
	c, _ := l.Totals()
	if c.Total() != total {
		t.Errorf("Totals() = %+v, want %d events", c, total)
	}
	if got := l.Sum(base.Add(10*s), time.Minute); got != c {
		t.Errorf("Sum(base+10s, 1m) = %+v, want %+v", got, c)
	}
}

func TestLedgerAllocs(t *testing.T) {
	l := newLedger(t, 30*day, defaultWindows()...)
	now := base
	if n := testing.AllocsPerRun(100, func() { l.Add(good, 1) }); n != 0 {
		t.Errorf("Add allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Second)
		l.Advance(now)
	}); n != 0 {
		t.Errorf("Advance allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { l.Sum(now, 30*day) }); n != 0 {
		t.Errorf("Sum allocates %v times, want 0", n)
	}
}

func TestOutcomeString(t *testing.T) {
	tests := []struct {
		in   budget.Outcome
		want string
	}{
		{budget.Neutral, "neutral"},
		{budget.Good, "good"},
		{budget.Bad, "bad"},
		{budget.Shed, "shed"},
		{budget.Outcome(4), "outcome(4)"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Outcome(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
}

func TestCounts(t *testing.T) {
	c := budget.Counts{Good: 5, Bad: 3, Shed: 2}
	d := budget.Counts{Good: 1, Bad: 1, Shed: 1}
	if got := c.Admitted(); got != 8 {
		t.Errorf("%+v.Admitted() = %d, want 8", c, got)
	}
	if got := c.Total(); got != 10 {
		t.Errorf("%+v.Total() = %d, want 10", c, got)
	}
	if got, want := c.Add(d), (budget.Counts{Good: 6, Bad: 4, Shed: 3}); got != want {
		t.Errorf("%+v.Add(%+v) = %+v, want %+v", c, d, got, want)
	}
	if got, want := c.Sub(d), (budget.Counts{Good: 4, Bad: 2, Shed: 1}); got != want {
		t.Errorf("%+v.Sub(%+v) = %+v, want %+v", c, d, got, want)
	}
}

func BenchmarkLedgerAdd(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		l := newLedger(b, 30*day, defaultWindows()...)
		b.ReportAllocs()
		for b.Loop() {
			l.Add(good, 1)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		l := newLedger(b, 30*day, defaultWindows()...)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Add(good, 1)
			}
		})
	})
}

func BenchmarkLedgerAdvance(b *testing.B) {
	l := newLedger(b, 30*day, defaultWindows()...)
	now := base
	b.ReportAllocs()
	for b.Loop() {
		l.Add(good, 10)
		now = now.Add(time.Second)
		l.Advance(now)
	}
}
