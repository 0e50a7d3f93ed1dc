package budget_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// TestSnapshotRoundTrip restores a ledger's snapshot into a fresh one and
// checks that every window sums the same afterwards, on both sides of the
// Unix epoch, and that the totals behind monotonic counters start again
// from zero.
func TestSnapshotRoundTrip(t *testing.T) {
	windows := []time.Duration{5 * time.Second, time.Minute, 10 * time.Minute}
	for _, origin := range bases {
		t.Run(origin.Format(time.RFC3339), func(t *testing.T) {
			a := newLedger(t, time.Hour, windows...)
			for i := range 200 {
				a.Add(budget.Outcome(1+i%3), uint64(i))
				a.Advance(origin.Add(time.Duration(i) * 7 * time.Second))
			}
			snap, ok := a.Snapshot()
			if !ok {
				t.Fatal("Snapshot() ok = false after Advance")
			}
			b := newLedger(t, time.Hour, windows...)
			b.Add(good, 5) // recorded before the restore: kept
			if err := b.Restore(snap, snap.Time); err != nil {
				t.Fatalf("Restore = %v", err)
			}
			if got, _ := b.Totals(); got != (budget.Counts{Good: 5}) {
				t.Errorf("Totals() after Restore = %+v, want only the 5 events added to it", got)
			}
			now := snap.Time
			for _, w := range append(windows, time.Hour, 3*time.Second) {
				if got, want := b.Sum(now, w), a.Sum(now, w); got != want {
					t.Errorf("Sum(%v) after Restore = %+v, want %+v", w, got, want)
				}
			}
			// The next Advance lands the 5 events, as it would have.
			a.Add(good, 5)
			a.Advance(now.Add(time.Second))
			b.Advance(now.Add(time.Second))
			for _, w := range append(windows, time.Hour) {
				if got, want := b.Sum(now.Add(time.Second), w), a.Sum(now.Add(time.Second), w); got != want {
					t.Errorf("Sum(%v) one Advance after Restore = %+v, want %+v", w, got, want)
				}
			}
			again, _ := b.Snapshot()
			if !snapshotsEqual(again, mustSnapshot(t, a)) {
				t.Errorf("Snapshot() of the restored ledger differs from the original's")
			}
		})
	}
}

// TestSnapshotDowntime: the time between the snapshot and the next Advance
// is no data, and buckets older than a tier's span leave it.
func TestSnapshotDowntime(t *testing.T) {
	a := newLedger(t, time.Hour, time.Minute)
	a.Add(bad, 10)
	a.Advance(base)
	a.Add(good, 90)
	a.Advance(base.Add(30 * time.Minute))
	snap := mustSnapshot(t, a)

	b := newLedger(t, time.Hour, time.Minute)
	later := base.Add(50 * time.Minute) // down for 20 minutes
	if err := b.Restore(snap, later); err != nil {
		t.Fatalf("Restore = %v", err)
	}
	b.Add(good, 1)
	b.Advance(later)
	if got, want := b.Sum(later, time.Hour), (budget.Counts{Good: 91, Bad: 10}); got != want {
		t.Errorf("Sum(1h) after 20 minutes down = %+v, want %+v", got, want)
	}
	if got, want := b.Sum(later, 10*time.Minute), (budget.Counts{Good: 1}); got != want {
		t.Errorf("Sum(10m) after 20 minutes down = %+v, want %+v: the downtime holds no events", got, want)
	}
	// 65 minutes after the first bucket, it has left the hour.
	b.Advance(base.Add(65 * time.Minute))
	if got, want := b.Sum(base.Add(65*time.Minute), time.Hour), (budget.Counts{Good: 91}); got != want {
		t.Errorf("Sum(1h) at +65m = %+v, want %+v", got, want)
	}
	// Restored more than a period later: nothing is left.
	c := newLedger(t, time.Hour, time.Minute)
	if err := c.Restore(snap, base.Add(3*time.Hour)); err != nil {
		t.Fatalf("Restore = %v", err)
	}
	c.Advance(base.Add(3 * time.Hour))
	if got := c.Sum(base.Add(3*time.Hour), time.Hour); got != (budget.Counts{}) {
		t.Errorf("Sum(1h) restored 3h later = %+v, want none", got)
	}
}

func TestSnapshotRefused(t *testing.T) {
	a := newLedger(t, time.Hour, time.Minute)
	a.Add(bad, 3)
	a.Advance(base)
	snap := mustSnapshot(t, a)

	corrupt := func(f func(*budget.Snapshot)) budget.Snapshot {
		s := mustSnapshot(t, a)
		f(&s)
		return s
	}
	tests := []struct {
		name   string
		ledger *budget.Ledger
		snap   budget.Snapshot
		now    time.Time
	}{
		{"from the future", newLedger(t, time.Hour, time.Minute), snap, base.Add(-time.Second)},
		{"other period", newLedger(t, 2*time.Hour, time.Minute), snap, base},
		{"other windows", newLedger(t, time.Hour, 5*time.Minute), snap, base},
		{"missing tier", newLedger(t, time.Hour, time.Minute), corrupt(func(s *budget.Snapshot) { s.Tiers = s.Tiers[:1] }), base},
		{"short tier", newLedger(t, time.Hour, time.Minute), corrupt(func(s *budget.Snapshot) { s.Tiers[0].Buckets = s.Tiers[0].Buckets[1:] }), base},
		{"head off its time", newLedger(t, time.Hour, time.Minute), corrupt(func(s *budget.Snapshot) { s.Tiers[1].Head++ }), base},
		{"already advanced", advanced(newLedger(t, time.Hour, time.Minute)), snap, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, started := tt.ledger.Snapshot()
			err := tt.ledger.Restore(tt.snap, tt.now)
			if !errors.Is(err, budget.ErrRestore) {
				t.Fatalf("Restore = %v, want an error wrapping ErrRestore", err)
			}
			after, stillStarted := tt.ledger.Snapshot()
			if started != stillStarted || !snapshotsEqual(before, after) {
				t.Errorf("a refused Restore changed the ledger")
			}
		})
	}
}

func advanced(l *budget.Ledger) *budget.Ledger {
	l.Add(good, 1)
	l.Advance(base.Add(-time.Hour))
	return l
}

func TestSnapshotEmpty(t *testing.T) {
	l := newLedger(t, time.Hour)
	if _, ok := l.Snapshot(); ok {
		t.Error("Snapshot() ok = true for a ledger never advanced")
	}
}

func mustSnapshot(t *testing.T, l *budget.Ledger) budget.Snapshot {
	t.Helper()
	s, ok := l.Snapshot()
	if !ok {
		t.Fatal("Snapshot() ok = false")
	}
	return s
}

func snapshotsEqual(a, b budget.Snapshot) bool {
	return a.Time.Equal(b.Time) && slices.EqualFunc(a.Tiers, b.Tiers, func(x, y budget.TierSnapshot) bool {
		return x.Resolution == y.Resolution && x.Head == y.Head && slices.Equal(x.Buckets, y.Buckets)
	})
}

// FuzzSnapshotRestore: a ledger restored from another's snapshot, at any
// later time, sums every window exactly as the original does at that
// time; at an earlier time it is refused.
func FuzzSnapshotRestore(f *testing.F) {
	f.Add(int64(0), []byte{0x01, 1, 0, 0, 0x02, 1, 0xe8, 0x03}, int64(90))
	f.Add(int64(-1e9), []byte{0x22, 3, 10, 0, 0xa3, 2, 0x10, 0, 0x61, 1, 0xff, 0xff}, int64(-1))
	f.Add(int64(1e6), []byte{0x61, 9, 0xff, 0xff, 0x62, 7, 0x01, 0x00}, int64(40*24*3600))
	f.Fuzz(func(t *testing.T, start int64, data []byte, later int64) {
		a, err := propSpec.NewLedger()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decodeOps(start, data) {
			if !o.check {
				a.Add(o.o, o.n)
				a.Advance(o.at)
			}
		}
		snap, ok := a.Snapshot()
		if !ok {
			return
		}
		b, err := propSpec.NewLedger()
		if err != nil {
			t.Fatal(err)
		}
		now := snap.Time.Add(time.Duration(later%(100*24*3600)) * time.Second)
		err = b.Restore(snap, now)
		if now.Before(snap.Time) {
			if !errors.Is(err, budget.ErrRestore) {
				t.Fatalf("Restore at %v of a snapshot of %v = %v, want ErrRestore", now, snap.Time, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Restore = %v", err)
		}
		a.Advance(now)
		b.Advance(now)
		for _, w := range append(propWindows(), propSpec.Period, a.Span()) {
			if got, want := b.Sum(now, w), a.Sum(now, w); got != want {
				t.Fatalf("restored Sum(%v) = %+v, want %+v", w, got, want)
			}
		}
	})
}
