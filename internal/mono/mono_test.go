package mono

import (
	"testing"
	"time"
)

func TestNowIsMonotonic(t *testing.T) {
	prev := Now()
	for range 1000 {
		cur := Now()
		if cur < prev {
			t.Fatalf("Now() = %v after %v: went backwards", cur, prev)
		}
		prev = cur
	}
}

// TestNowAgreesWithTime checks that Now measures what time.Since does: a
// duration read in between two readings of Now lies between them.
func TestNowAgreesWithTime(t *testing.T) {
	wall := time.Now()
	before := Now()
	for range 1000 {
		_ = Now()
	}
	d := time.Since(wall)
	after := Now()
	if got := after - before; got > d+time.Millisecond || got < 0 {
		t.Errorf("Now() advanced %v while time.Since measured %v", got, d)
	}
}

func BenchmarkNow(b *testing.B) {
	for b.Loop() {
		_ = Now()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now()
	}
}
