package budget

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/sloguard/sloguard/internal/cacheline"
)

// Buckets per window. A window of length w is summed from buckets of the
// coarsest resolution r ≤ w/windowBuckets on a fixed ladder, so the edge of a
// window is off by at most 1/windowBuckets of its length; the period, which
// drives the remaining budget and the release gate, gets a finer share.
const (
	windowBuckets = 60
	periodBuckets = 720
)

// ladder lists the bucket resolutions a ledger may use. Round values keep
// bucket edges aligned to wall-clock minutes and hours, which makes the
// ledger's sums comparable with Prometheus range queries.
var ladder = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// bucketBytes is the size of one bucket: three uint64 counters.
const bucketBytes = 24

// MaxSpan is the longest period or window a Ledger holds: 100 years. It
// keeps a tier's span, rounded up to whole buckets, inside a time.Duration.
const MaxSpan = 100 * 365 * 24 * time.Hour

// checkPeriod and checkWindow are the one place where the lengths a Ledger
// accepts are checked: layout (and so NewLedger), Spec.Validate and
// Rule.Validate all call them, so that anything Validate accepts, NewLedger
// accepts.
func checkPeriod(period time.Duration) error {
	switch {
	case period < time.Minute:
		return fmt.Errorf("%w: period %v is shorter than one minute", ErrInvalid, period)
	case period > MaxSpan:
		return fmt.Errorf("%w: period %v is longer than 100 years", ErrInvalid, period)
	}
	return nil
}

func checkWindow(what string, w time.Duration) error {
	switch {
	case w < time.Second:
		return fmt.Errorf("%w: %s %v is shorter than one second", ErrInvalid, what, w)
	case w > MaxSpan:
		return fmt.Errorf("%w: %s %v is longer than 100 years", ErrInvalid, what, w)
	}
	return nil
}

// Tier is one ring of equal-width time buckets inside a Ledger, as
// Ledger.Tiers lists them: what a Snapshot's rings must match. The zero Tier
// holds nothing.
type Tier struct {
	Resolution time.Duration // width of one bucket
	Buckets    int           // number of buckets; the ring spans Resolution × Buckets
}

// resolutionFor returns the coarsest ladder resolution that splits d into at
// least n buckets; beyond the ladder, whole days.
func resolutionFor(d time.Duration, n int) time.Duration {
	want := d / time.Duration(n)
	if top := ladder[len(ladder)-1]; want >= top {
		return want / top * top
	}
	r := ladder[0]
	for _, step := range ladder {
		if step <= want {
			r = step
		}
	}
	return r
}

// layout returns the tiers a Ledger uses to hold period and the given
// windows: one tier per distinct resolution, each long enough for the longest
// window (or the period) it serves, ordered from finest to coarsest.
//
// A window of length w gets the coarsest resolution of at most w/60 from the
// ladder 1s, 5s, 10s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h,
// 1d; the period gets at most period/720. For a 30-day period and the
// default rules that is 5s (5m window), 30s (30m), 1m (1h), 2m (2h), 5m (6h),
// 15m (1d) and 1h (3d and 30d): 1128 buckets, 27 KiB.
//
// The period must be at least a minute and each window at least a second;
// neither may exceed MaxSpan (100 years).
func layout(period time.Duration, windows ...time.Duration) ([]Tier, error) {
	var errs []error
	if err := checkPeriod(period); err != nil {
		errs = append(errs, err)
	}
	for _, w := range windows {
		if err := checkWindow("window", w); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	spans := map[time.Duration]time.Duration{} // resolution → longest span
	need := func(span time.Duration, n int) {
		r := resolutionFor(span, n)
		spans[r] = max(spans[r], span)
	}
	need(period, periodBuckets)
	for _, w := range windows {
		need(w, windowBuckets)
	}
	tiers := make([]Tier, 0, len(spans))
	for r, span := range spans {
		n := int(span / r)
		if span%r != 0 {
			n++
		}
		tiers = append(tiers, Tier{Resolution: r, Buckets: n})
	}
	slices.SortFunc(tiers, func(a, b Tier) int { return int(a.Resolution - b.Resolution) })
	return tiers, nil
}

// Ledger counts SLI events in a bounded, multi-resolution ring of time
// buckets, so that sums over any trailing window, from minutes to the whole
// period, cost at most one pass over that window's buckets and never depend
// on the number of events. The period and windows given to NewLedger cost
// less: Advance keeps their sums up to date (taking out the buckets that
// leave, adding what it folds), so that Sum at the latest Advance reads one
// value.
//
// Recording is split in two. Add, on the request path, is one atomic add to
// a cumulative counter: the open bucket. Advance, called by one owner about
// once a second, folds what was added since the previous Advance into the
// bucket that holds its time in every tier, clearing buckets that time has
// passed. An event therefore lands in the bucket of the first Advance after
// it: at most one evaluation interval late, well under the finest bucket.
//
// Memory is fixed at construction (see the package doc and Bytes): 24 bytes a bucket, 27 KiB for a
// 30-day objective with the default rules, whatever the traffic.
//
// A window of length w at time now sums the buckets of its tier (resolution
// r) from the one holding now back to the first that starts after now−w, so
// it covers the trailing span [s, now] for some s in (now−w, now−w+r]: at a
// window's far edge up to one bucket of events may be left out, never events
// older than w.
//
// Time never runs backwards inside a ledger: Advance or Sum with a time
// before the latest Advance is taken as that latest time, so a clock step
// back can neither lose nor double count events. A gap with no Advance
// clears the buckets it spans when the next Advance comes.
//
// Add and Totals are safe for concurrent use. Advance, Sum and the other
// methods read and write the rings and must not run concurrently with each
// other; the slo.Engine calls them from its one evaluation goroutine.
//
// The zero Ledger has no buckets: it counts Totals, but every Sum is empty.
// Use NewLedger or Spec.NewLedger.
type Ledger struct {
	// cum are the cumulative counts by Outcome, including Neutral, each on
	// its own cache line, so that cores recording different outcomes do
	// not contend.
	cum     [Shed + 1]cacheline.Uint64
	folded  Counts // cumulative counts already in the rings
	last    int64  // latest Advance, Unix nanoseconds
	started bool   // whether Advance was ever called
	tiers   []ring
	sums    []running // of the period and windows given to NewLedger
}

// running is the sum of one trailing window at the latest Advance, kept up
// to date by Advance so that Sum at that time costs no pass over buckets:
// the evaluator sums every window of every objective once a second, which
// scanning cost about a thousand buckets per objective.
type running struct {
	w    time.Duration // the window as asked for
	span int64         // w cut to its ring's span, nanoseconds
	ring int           // index in tiers
	lo   int64         // absolute index of the oldest bucket in sum
	sum  Counts        // of buckets lo to the ring's head
}

type ring struct {
	res     int64    // resolution, nanoseconds
	buckets []Counts // buckets[i mod len] holds absolute bucket i
	head    int64    // absolute index of the newest bucket written
}

// NewLedger returns an empty ledger that holds period and the given windows
// (see the package doc for its resolutions and memory). The period must be
// at least a minute and each window at least a second; neither may exceed
// MaxSpan.
func NewLedger(period time.Duration, windows ...time.Duration) (*Ledger, error) {
	tiers, err := layout(period, windows...)
	if err != nil {
		return nil, err
	}
	l := &Ledger{tiers: make([]ring, len(tiers))}
	for i, t := range tiers {
		l.tiers[i] = ring{res: int64(t.Resolution), buckets: make([]Counts, t.Buckets)}
	}
	for _, w := range append([]time.Duration{period}, windows...) {
		if !slices.ContainsFunc(l.sums, func(r running) bool { return r.w == w }) {
			i := l.ringIndex(w)
			r := &l.tiers[i]
			l.sums = append(l.sums, running{w: w, span: min(int64(w), r.res*int64(len(r.buckets))), ring: i})
		}
	}
	return l, nil
}

// Add records n events with outcome o. It is one atomic add, safe for
// concurrent use, and never blocks or allocates. An outcome out of range is
// ignored.
func (l *Ledger) Add(o Outcome, n uint64) {
	if int(o) < len(l.cum) {
		l.cum[o].Add(n)
	}
}

// Totals returns the cumulative counts since the ledger was created and the
// cumulative count of neutral events. They only grow, which makes them the
// source of monotonic counters such as sloguard.events. Safe for concurrent
// use.
func (l *Ledger) Totals() (c Counts, neutral uint64) {
	return Counts{Good: l.cum[Good].Load(), Bad: l.cum[Bad].Load(), Shed: l.cum[Shed].Load()},
		l.cum[Neutral].Load()
}

// Advance moves the ledger's clock to now and folds the events added since
// the previous Advance into the buckets that hold now.
func (l *Ledger) Advance(now time.Time) {
	t := l.clamp(now)
	cur, _ := l.Totals()
	delta := cur.Sub(l.folded)
	l.folded = cur
	if l.started {
		l.leave(t) // before the buckets that leave are cleared
	}
	for i := range l.tiers {
		r := &l.tiers[i]
		idx := floorDiv(t, r.res)
		n := int64(len(r.buckets))
		switch {
		case !l.started:
			r.head = idx
		case idx > r.head:
			if idx-r.head >= n {
				clear(r.buckets)
			} else {
				for j := r.head + 1; j <= idx; j++ {
					r.buckets[mod(j, n)] = Counts{}
				}
			}
			r.head = idx
		}
		b := &r.buckets[mod(idx, n)]
		*b = b.Add(delta)
	}
	if !l.started {
		l.last, l.started = t, true
		l.resum()
		return
	}
	l.last = t
	for i := range l.sums {
		rs := &l.sums[i]
		if rs.lo <= l.tiers[rs.ring].head {
			rs.sum = rs.sum.Add(delta)
		}
	}
}

// first returns the absolute index of the oldest bucket of ring r in the
// trailing span (nanoseconds) at t, as each sums it.
func first(r *ring, t, span int64) int64 {
	return max(floorDiv(t-span, r.res)+1, r.head-int64(len(r.buckets))+1)
}

// leave moves every running sum to time t, ahead of the rings: it takes
// out the buckets that leave its window, which Advance is about to clear
// or overwrite (a ring overwrites only buckets that have left every
// window it holds).
func (l *Ledger) leave(t int64) {
	for i := range l.sums {
		rs := &l.sums[i]
		r := &l.tiers[rs.ring]
		n := int64(len(r.buckets))
		// The head moves to t's bucket; the oldest bucket follows.
		lo := max(floorDiv(t-rs.span, r.res)+1, floorDiv(t, r.res)-n+1)
		if lo > r.head {
			rs.sum, rs.lo = Counts{}, lo
			continue
		}
		for j := rs.lo; j < lo; j++ {
			rs.sum = rs.sum.Sub(r.buckets[mod(j, n)])
		}
		rs.lo = max(rs.lo, lo)
	}
}

// resum sums every running window afresh from the rings, at the latest
// Advance.
func (l *Ledger) resum() {
	for i := range l.sums {
		rs := &l.sums[i]
		r := &l.tiers[rs.ring]
		rs.lo, rs.sum = first(r, l.last, rs.span), Counts{}
		for j := rs.lo; j <= r.head; j++ {
			rs.sum = rs.sum.Add(r.buckets[mod(j, int64(len(r.buckets)))])
		}
	}
}

// Sum returns the counts of the trailing window w at time now, as folded by
// the latest Advance. It uses the finest tier whose span covers w; a window
// longer than every tier is cut to the longest tier's span. For the
// period or a window given to NewLedger, at the time of the latest
// Advance, it reads the sum Advance kept.
func (l *Ledger) Sum(now time.Time, w time.Duration) Counts {
	if l.started && l.clamp(now) == l.last {
		for i := range l.sums {
			if l.sums[i].w == w {
				return l.sums[i].sum
			}
		}
	}
	var sum Counts
	l.each(now, w, func(c Counts) bool { sum = sum.Add(c); return true })
	return sum
}

// each calls f with every bucket of the trailing window w at time now, the
// oldest first, as summed by Sum, until f returns false.
func (l *Ledger) each(now time.Time, w time.Duration, f func(Counts) bool) {
	if !l.started || w <= 0 {
		return
	}
	r := l.ringFor(w)
	if r == nil { // the zero Ledger
		return
	}
	n := int64(len(r.buckets))
	t := l.clamp(now)
	w = min(w, time.Duration(r.res*n))
	// The first bucket is the one that starts after now−w, so the far edge
	// s is in (now−w, now−w+r] even when r does not divide w.
	lo := max(floorDiv(t-int64(w), r.res)+1, r.head-n+1)
	hi := min(floorDiv(t, r.res), r.head)
	for j := lo; j <= hi; j++ {
		if !f(r.buckets[mod(j, n)]) {
			return
		}
	}
}

// resolution returns the bucket width used for a window of length w: the
// most a window's far edge can be off by; 0 for the zero Ledger.
func (l *Ledger) resolution(w time.Duration) time.Duration {
	if r := l.ringFor(w); r != nil {
		return time.Duration(r.res)
	}
	return 0
}

// Tiers returns the ledger's layout, finest first: the rings that a
// Snapshot of it holds, and what tells two layouts apart.
func (l *Ledger) Tiers() []Tier {
	ts := make([]Tier, len(l.tiers))
	for i, r := range l.tiers {
		ts[i] = Tier{Resolution: time.Duration(r.res), Buckets: len(r.buckets)}
	}
	return ts
}

// Bytes returns the memory held by the ledger's buckets and counters, which
// is fixed at construction.
func (l *Ledger) Bytes() int {
	n := int(unsafe.Sizeof(Ledger{}))
	for _, r := range l.tiers {
		n += len(r.buckets)*bucketBytes + int(unsafe.Sizeof(ring{}))
	}
	return n + len(l.sums)*int(unsafe.Sizeof(running{}))
}

// ringFor returns the finest tier that spans w, or else the one with the
// longest span (which need not be the coarsest); nil for the zero Ledger.
func (l *Ledger) ringFor(w time.Duration) *ring {
	if i := l.ringIndex(w); i >= 0 {
		return &l.tiers[i]
	}
	return nil
}

// ringIndex returns the index of ringFor(w) in tiers, -1 if there are none.
func (l *Ledger) ringIndex(w time.Duration) int {
	longest := -1
	var longestSpan int64
	for i := range l.tiers {
		r := &l.tiers[i]
		span := r.res * int64(len(r.buckets))
		if span >= int64(w) {
			return i
		}
		if longest < 0 || span > longestSpan {
			longest, longestSpan = i, span
		}
	}
	return longest
}

func (l *Ledger) clamp(now time.Time) int64 {
	t := now.UnixNano()
	if l.started && t < l.last {
		return l.last
	}
	return t
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}
