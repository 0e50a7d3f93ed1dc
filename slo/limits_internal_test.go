package slo

import (
	"math"
	"testing"
	"time"
)

// TestRetryAfterSaturates checks that a retry hint whose real value is
// years, or beyond what a Duration holds, is reported as the documented
// maximum, never as a short wait.
func TestRetryAfterSaturates(t *testing.T) {
	tests := []struct {
		policy ShedPolicy
		level  float64
		c      Criticality
		want   time.Duration
	}{
		{ShedPolicy{Hold: math.MaxInt64}, 1, Sheddable, maxRetryAfter},               // hold alone overflows the sum
		{ShedPolicy{Hold: maxRetryAfter - time.Second}, 1, Sheddable, maxRetryAfter}, // the sum just past the cap
		{ShedPolicy{Hold: maxShedSpan}, 4, Sheddable, maxShedSpan + 8*time.Second},   // the longest valid wait
		{ShedPolicy{Hold: 5 * time.Second}, math.Inf(1), Sheddable, maxRetryAfter},   // a level gone wild
	}
	for _, tt := range tests {
		if got := tt.policy.retryAfter(tt.level, tt.c); got != tt.want {
			t.Errorf("ShedPolicy{Hold: %v}.retryAfter(%v, %v) = %v, want %v", tt.policy.Hold, tt.level, tt.c, got, tt.want)
		}
	}
}

func TestBreakerRetryAfterSaturates(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		timeout time.Duration
		openAt  time.Time
		want    time.Duration
	}{
		{10 * time.Second, now, 10 * time.Second},
		{10 * time.Second, now.Add(-time.Hour), time.Second}, // overdue: at least a second
		{math.MaxInt64, now, maxRetryAfter},
		{math.MaxInt64, now.Add(time.Hour), maxRetryAfter},
		{maxBreakerDur, now.Add(time.Hour), maxRetryAfter}, // opened "later" than now, as after a clock step
	}
	for _, tt := range tests {
		b := &Breaker{timeout: tt.timeout}
		b.openAt.Store(tt.openAt.UnixNano())
		if got := b.retryAfter(now); got != tt.want {
			t.Errorf("Breaker{timeout: %v, opened %v}.retryAfter(now) = %v, want %v", tt.timeout, tt.openAt.Sub(now), got, tt.want)
		}
	}
}

func TestSaturate(t *testing.T) {
	tests := []struct {
		s    float64
		want time.Duration
	}{
		{0, 0},
		{-1, 0},
		{math.Inf(-1), 0},
		{1.5, 1500 * time.Millisecond},
		{3600, time.Hour},
		{86400, maxRetryAfter},
		{1e300, maxRetryAfter},
		{math.Inf(1), maxRetryAfter},
		{math.NaN(), maxRetryAfter},
	}
	for _, tt := range tests {
		if got := saturate(tt.s, maxRetryAfter); got != tt.want {
			t.Errorf("saturate(%v, %v) = %v, want %v", tt.s, maxRetryAfter, got, tt.want)
		}
	}
}
