package budget

import "time"

// Summer sums the events of a trailing window: a Ledger does, and so do
// counts read from elsewhere, as Sums. Evaluate needs a non-nil Summer.
type Summer interface {
	// Sum returns the counts of the trailing window w at time now.
	Sum(now time.Time, w time.Duration) Counts
}

// Sums are the counts of trailing windows at one time, by window length:
// for example fleet-wide counts read from a Prometheus-compatible backend,
// which Evaluate judges like a Ledger's. Sum returns the counts of window w
// whatever the time, and none for a window it does not hold; a nil Sums
// holds none.
type Sums map[time.Duration]Counts

// Sum returns s[w].
func (s Sums) Sum(_ time.Time, w time.Duration) Counts { return s[w] }

var (
	_ Summer = (*Ledger)(nil)
	_ Summer = Sums(nil)
)
