package budget

import (
	"math/rand/v2"
	"testing"
	"time"
)

// scan is Sum without the running sums: one pass over the window's
// buckets.
func (l *Ledger) scan(now time.Time, w time.Duration) Counts {
	var sum Counts
	l.each(now, w, func(c Counts) bool { sum = sum.Add(c); return true })
	return sum
}

// TestRunningSums checks that the sums Advance keeps up to date equal a
// pass over the buckets after every Advance, for time that steps forward
// by a little, leaps past whole windows and periods, and steps back, and
// after Restore.
func TestRunningSums(t *testing.T) {
	spec := Spec{Target: 0.999, Period: 30 * 24 * time.Hour}
	for seed := range uint64(8) {
		l, err := spec.NewLedger()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 0x5e7))
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 3000 {
			switch p := rng.Float64(); {
			case p < 0.8:
				now = now.Add(time.Duration(rng.Int64N(int64(3 * time.Second))))
			case p < 0.88:
				now = now.Add(-time.Duration(rng.Int64N(int64(time.Hour))))
			case p < 0.97:
				now = now.Add(time.Duration(rng.Int64N(int64(8 * time.Hour))))
			default:
				now = now.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
			}
			l.Add(Outcome(rng.IntN(4)), 1+uint64(rng.IntN(5)))
			l.Advance(now)
			if i == 1500 {
				s, _ := l.Snapshot()
				r, err := spec.NewLedger()
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Restore(s, s.Time); err != nil {
					t.Fatalf("Restore: %v", err)
				}
				l = r
			}
			if len(l.sums) != len(spec.Windows())+1 {
				t.Fatalf("%d running sums, want one per window and the period (%d)", len(l.sums), len(spec.Windows())+1)
			}
			for _, rs := range l.sums {
				if got, want := l.Sum(now, rs.w), l.scan(now, rs.w); got != want {
					t.Fatalf("seed %d op %d: Sum(%v, %v) = %+v, want %+v (a pass over the buckets)", seed, i, now, rs.w, got, want)
				}
			}
		}
	}
}
