package slo

import "time"

// Bounds of the options and policy fields, as documented on each. They keep
// every size New allocates and every duration the engine computes far from
// overflow, so that New reports an absurd value instead of panicking.
const (
	minInterval     = time.Millisecond
	maxInterval     = time.Minute
	maxTimeline     = 1 << 16
	maxHistorySize  = 1 << 16
	maxHistoryEvery = 24 * time.Hour

	maxShedSpan   = time.Hour     // ShedPolicy.Hold
	maxShedBurn   = 1e6           // ShedPolicy.Burn and ReleaseBurn
	maxInFlight   = 1_000_000_000 // ShedPolicy.MaxInFlight
	maxMinEvents  = 1e9           // ShedPolicy.MinEvents, BreakerPolicy.MinEvents
	maxBreakerDur = 24 * time.Hour
	maxMinClosed  = 365 * 24 * time.Hour

	// maxRetryAfter caps every retry hint (Admit, BreakerError): a
	// wait longer than a day is reported as a day, never as a short one.
	maxRetryAfter = 24 * time.Hour
)

// saturate returns s seconds as a Duration, at most limit: a value that is
// too large, infinite or NaN is limit, never a wrapped-around or short one.
// Negative values are 0.
func saturate(s float64, limit time.Duration) time.Duration {
	switch {
	case !(s < limit.Seconds()): // also NaN
		return limit
	case s <= 0:
		return 0
	}
	return min(time.Duration(s*float64(time.Second)), limit)
}

// addSaturated returns a + b for non-negative a and b, at most limit.
func addSaturated(a, b, limit time.Duration) time.Duration {
	if a >= limit || b >= limit-a {
		return limit
	}
	return a + b
}
