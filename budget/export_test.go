package budget

import "time"

// Test-only access to the ledger's layout and internals.

// Layout returns the tiers a ledger for period and windows holds.
var Layout = layout

// TimeToExhaustion is timeToExhaustion, which Evaluate uses for
// Report.TimeToExhaustion.
var TimeToExhaustion = timeToExhaustion

// Span returns the length of time the tier holds.
func (t Tier) Span() time.Duration { return t.Resolution * time.Duration(t.Buckets) }

// Span returns the longest window the ledger can sum.
func (l *Ledger) Span() time.Duration {
	var s time.Duration
	for _, r := range l.tiers {
		s = max(s, time.Duration(r.res)*time.Duration(len(r.buckets)))
	}
	return s
}

// Resolution returns the bucket width used for a window of length w.
func (l *Ledger) Resolution(w time.Duration) time.Duration { return l.resolution(w) }

// Last returns the time of the latest Advance, and false if there was none.
func (l *Ledger) Last() (time.Time, bool) {
	return time.Unix(0, l.last), l.started
}

// MaxLength returns the longest period of the calendar.
func (c Calendar) MaxLength() time.Duration { return c.maxLength() }
