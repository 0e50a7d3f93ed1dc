package budget_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// op is one action of a replayed stream: either add n events with outcome o
// and Advance(at), or check every window at at.
type op struct {
	at    time.Time
	o     budget.Outcome
	n     uint64
	check bool
}

// model counts events exactly, at the time the ledger takes them at: the
// latest Advance so far, since time never runs backwards inside a ledger.
// Effective times are therefore non-decreasing and counts over a span are
// two binary searches in prefix sums.
type model struct {
	times   []int64         // effective time of each Advance, non-decreasing
	cum     []budget.Counts // cum[i] is the counts of events 0..i-1
	neutral uint64
}

func (m *model) last() (int64, bool) {
	if len(m.times) == 0 {
		return 0, false
	}
	return m.times[len(m.times)-1], true
}

// clamp returns the time the ledger takes t for.
func (m *model) clamp(t int64) int64 {
	if last, ok := m.last(); ok && t < last {
		return last
	}
	return t
}

func (m *model) add(at time.Time, o budget.Outcome, n uint64) {
	t := m.clamp(at.UnixNano())
	c := budget.Counts{}
	if len(m.cum) > 0 {
		c = m.cum[len(m.cum)-1]
	}
	switch o {
	case budget.Good:
		c.Good += n
	case budget.Bad:
		c.Bad += n
	case budget.Shed:
		c.Shed += n
	case budget.Neutral:
		m.neutral += n
	}
	if len(m.cum) == 0 {
		m.cum = append(m.cum, budget.Counts{})
	}
	m.times = append(m.times, t)
	m.cum = append(m.cum, c)
}

// count returns the events with effective time in (lo, hi].
func (m *model) count(lo, hi int64) budget.Counts {
	if len(m.times) == 0 || hi <= lo {
		return budget.Counts{}
	}
	i := sort.Search(len(m.times), func(i int) bool { return m.times[i] > lo })
	j := sort.Search(len(m.times), func(i int) bool { return m.times[i] > hi })
	return m.cum[j].Sub(m.cum[i])
}

func (m *model) total() budget.Counts {
	if len(m.cum) == 0 {
		return budget.Counts{}
	}
	return m.cum[len(m.cum)-1]
}

// propSpec is the spec whose windows, and period, the property and fuzz
// tests check; oddWindows are extra windows that their resolutions do not
// divide, which the ledger must round the documented way too.
var (
	propSpec   = budget.Spec{Target: 0.999, Period: 30 * day}
	oddWindows = []time.Duration{1 * s, 47 * s, 62 * s, 301 * s, 7*time.Hour + 5*time.Minute + 1*s, 10 * day, 29*day + 23*time.Hour + 59*time.Minute}
)

func propWindows() []time.Duration {
	return append(append(propSpec.Windows(), propSpec.Period), oddWindows...)
}

// replay runs ops on a new ledger for propSpec and checks it against the
// exact model at every check op and at the end.
func replay(t *testing.T, ops []op) {
	t.Helper()
	l, err := propSpec.NewLedger()
	if err != nil {
		t.Fatal(err)
	}
	windows := propWindows()
	var m model
	for i, o := range ops {
		if o.check {
			checkModel(t, l, &m, windows, o.at, i)
			continue
		}
		l.Add(o.o, o.n)
		l.Advance(o.at)
		m.add(o.at, o.o, o.n)
	}
	if last, ok := m.last(); ok {
		checkModel(t, l, &m, windows, time.Unix(0, last), len(ops))
	}
}

// checkModel checks, per the Ledger doc, that for each window w with
// resolution r the ledger counts lie between the exact counts over
// (now−w+r, now] and over (now−w, now], and that Evaluate's numbers are sane.
func checkModel(t *testing.T, l *budget.Ledger, m *model, windows []time.Duration, at time.Time, i int) {
	t.Helper()
	c, n := l.Totals()
	if c != m.total() || n != m.neutral {
		t.Fatalf("op %d: Totals() = %+v, %d, want %+v, %d", i, c, n, m.total(), m.neutral)
	}
	last, started := m.last()
	if got, ok := l.Last(); ok != started || (ok && got.UnixNano() != last) {
		t.Fatalf("op %d: Last() = %v, %t, want %v, %t", i, got, ok, time.Unix(0, last), started)
	}
	now := m.clamp(at.UnixNano())
	for _, w := range windows {
		got := l.Sum(at, w)
		if !started {
			if got != (budget.Counts{}) {
				t.Fatalf("op %d: Sum(%v, %v) before any Advance = %+v, want zero", i, at, w, got)
			}
			continue
		}
		r := int64(l.Resolution(w))
		inner := m.count(now-int64(w)+r, now)
		outer := m.count(now-int64(w), now)
		if !between(inner, got, outer) {
			t.Fatalf("op %d: Sum(%v, %v) = %+v, want between %+v (over (now−w+%v, now]) and %+v (over (now−w, now]); now = %v after clamping",
				i, at, w, got, inner, time.Duration(r), outer, time.Unix(0, now).UTC())
		}
	}
	rep := budget.Evaluate(l, propSpec, at)
	for _, w := range rep.Windows {
		if want := l.Sum(at, w.Window); w.Counts != want {
			t.Fatalf("op %d: Evaluate window %v counts = %+v, want Sum = %+v", i, w.Window, w.Counts, want)
		}
		if !finiteNonNegative(w.Burn) || !finiteNonNegative(w.AdmittedBurn) {
			t.Fatalf("op %d: Evaluate window %v burn = %v, admitted %v, want finite ≥ 0", i, w.Window, w.Burn, w.AdmittedBurn)
		}
	}
	if math.IsNaN(rep.Remaining) || math.IsInf(rep.Remaining, 0) || rep.Remaining > 1 {
		t.Fatalf("op %d: Evaluate remaining = %v, want finite ≤ 1", i, rep.Remaining)
	}
	if rep.TimeToExhaustion < 0 {
		t.Fatalf("op %d: Evaluate time to exhaustion = %v, want ≥ 0", i, rep.TimeToExhaustion)
	}
}

func between(lo, x, hi budget.Counts) bool {
	return lo.Good <= x.Good && x.Good <= hi.Good &&
		lo.Bad <= x.Bad && x.Bad <= hi.Bad &&
		lo.Shed <= x.Shed && x.Shed <= hi.Shed
}

func finiteNonNegative(f float64) bool { return f >= 0 && !math.IsInf(f, 0) }

// randomOps returns a stream of n ops starting at start whose time mostly
// moves forward by up to a few seconds, sometimes steps back, and sometimes
// leaps ahead by minutes to more than the whole period.
func randomOps(rng *rand.Rand, start time.Time, n int) []op {
	ops := make([]op, 0, n)
	t := start
	for range n {
		switch p := rng.Float64(); {
		case p < 0.75:
			t = t.Add(time.Duration(rng.Int64N(int64(5 * time.Second))))
		case p < 0.83:
			t = t.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour))))
		case p < 0.93:
			t = t.Add(time.Duration(rng.Int64N(int64(6 * time.Hour))))
		case p < 0.97:
			t = t.Add(time.Duration(rng.Int64N(int64(40 * day))))
		}
		if rng.IntN(4) == 0 {
			// Whole seconds put events and window edges on bucket edges.
			t = t.Truncate(time.Second)
		}
		if rng.IntN(20) == 0 {
			// A check around the latest time: before it (clamped) or after.
			d := time.Duration(rng.Int64N(int64(4*time.Hour))) - 2*time.Hour
			ops = append(ops, op{at: t.Add(d), check: true})
			continue
		}
		o := budget.Outcome(rng.IntN(5)) // 4 is out of range
		ops = append(ops, op{at: t, o: o, n: 1 + uint64(rng.IntN(3))})
	}
	return ops
}

func TestLedgerProperty(t *testing.T) {
	starts := append(slices.Clone(bases), time.Date(1969, 12, 1, 0, 0, 7, 123456789, time.UTC))
	for seed := range uint64(12) {
		start := starts[seed%uint64(len(starts))]
		rng := rand.New(rand.NewPCG(seed, 0x5106))
		replay(t, randomOps(rng, start, 4000))
	}
}

// decodeOps turns fuzz input into at most 512 ops of 4 bytes each: a kind
// and outcome byte, a count byte and a 16-bit magnitude. start is seconds
// from 2000, kept within ±40 years so that no stream leaves the years that
// UnixNano can represent.
func decodeOps(start int64, data []byte) []op {
	const span = 40 * 365 * 24 * 3600
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(start%span) * time.Second)
	var ops []op
	for len(data) >= 4 && len(ops) < 512 {
		kind, outcome := data[0]>>5, budget.Outcome(data[0]&7)
		n := uint64(data[1])
		m := time.Duration(binary.LittleEndian.Uint16(data[2:]))
		data = data[4:]
		switch kind {
		case 0, 1:
			t = t.Add(m * time.Millisecond) // up to 65s
		case 2:
			t = t.Add(m * time.Second) // up to 18h
		case 3:
			t = t.Add(m * time.Minute) // up to 45 days
		case 4:
			t = t.Add(-m * time.Millisecond)
		case 5:
			t = t.Add(-m * time.Second)
		case 7:
			ops = append(ops, op{at: t.Add((m - 1<<15) * time.Second), check: true})
			continue
		}
		ops = append(ops, op{at: t, o: outcome, n: n})
	}
	return ops
}

func FuzzLedger(f *testing.F) {
	f.Add(int64(0), []byte{})
	f.Add(int64(0), []byte{0x01, 1, 0, 0, 0x02, 1, 0xe8, 0x03, 0xe0, 0, 0, 0x80})
	// Backwards, then forward past every span.
	f.Add(int64(-1e9), []byte{0x22, 3, 10, 0, 0xa3, 2, 0x10, 0, 0x61, 1, 0xff, 0xff, 0x62, 1, 0xff, 0xff, 0xe0, 0, 0, 0x80})
	// Across 1970.
	f.Add(int64(-30*365*24*3600-60), []byte{0x21, 5, 30, 0, 0x22, 5, 30, 0, 0x23, 5, 30, 0, 0xe0, 0, 0x10, 0x80, 0x04, 9, 0, 0})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		b := make([]byte, 4*200)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(rng.Int64(), b)
	}
	f.Fuzz(func(t *testing.T, start int64, data []byte) {
		replay(t, decodeOps(start, data))
	})
}
