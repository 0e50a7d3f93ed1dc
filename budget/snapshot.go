package budget

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrRestore is wrapped by every error of Ledger.Restore: a snapshot that
// does not fit the ledger, contradicts itself, or comes from the future.
var ErrRestore = errors.New("budget: snapshot refused")

// Snapshot is the content of a Ledger's rings at the time of its latest
// Advance: what survives a restart. It holds no cumulative totals: those
// feed monotonic counters (see Ledger.Totals), which must start again from
// zero in a new process, or every rate() over them would count the
// restored events a second time.
//
// The zero Snapshot holds no rings; Restore refuses it.
type Snapshot struct {
	// Time is the ledger's latest Advance, a wall-clock time.
	Time time.Time
	// Tiers are the rings, finest first, as Ledger.Tiers lists them.
	Tiers []TierSnapshot
}

// TierSnapshot is one ring of a Snapshot. The zero TierSnapshot is a ring
// of no buckets.
type TierSnapshot struct {
	Resolution time.Duration
	// Head is the absolute index of the newest bucket: it holds the events
	// of [Head×Resolution, (Head+1)×Resolution) after the Unix epoch, the
	// bucket of Snapshot.Time.
	Head int64
	// Buckets are the ring's buckets, oldest first; the last one is Head.
	Buckets []Counts
}

// Snapshot returns a copy of the ledger's rings, and false if the ledger was
// never advanced (it holds nothing). Like Sum, it must not run concurrently
// with Advance.
func (l *Ledger) Snapshot() (Snapshot, bool) {
	if !l.started {
		return Snapshot{}, false
	}
	s := Snapshot{Time: time.Unix(0, l.last), Tiers: make([]TierSnapshot, len(l.tiers))}
	for i, r := range l.tiers {
		n := int64(len(r.buckets))
		ts := TierSnapshot{Resolution: time.Duration(r.res), Head: r.head, Buckets: make([]Counts, n)}
		for j := range n {
			ts.Buckets[j] = r.buckets[mod(r.head-n+1+j, n)]
		}
		s.Tiers[i] = ts
	}
	return s, true
}

// Restore loads a snapshot into a ledger that was never advanced, as at the
// start of a process. The layout (Tiers) must be the ledger's own, and the
// snapshot must not be later than now.
//
// The restored buckets keep their wall-clock times: the next Advance clears
// the buckets between the snapshot and its own time, so the time the
// process was down counts as no data (never as good events), and buckets
// older than a tier's span leave it as they would have. Events added
// before Restore are kept and land at the next Advance. The cumulative
// totals (Totals) are not touched.
//
// Restore refuses, with an error wrapping ErrRestore and the ledger left
// as it was, a snapshot of another layout, one whose heads do not match its
// time, one from after now, and any ledger that was already advanced.
func (l *Ledger) Restore(s Snapshot, now time.Time) error {
	if l.started {
		return fmt.Errorf("%w: the ledger was already advanced", ErrRestore)
	}
	if want, got := l.Tiers(), tiersOf(s); !slices.Equal(want, got) {
		return fmt.Errorf("%w: layout %v is not the ledger's %v", ErrRestore, got, want)
	}
	t := s.Time.UnixNano()
	if d := s.Time.Sub(now); d > 0 {
		return fmt.Errorf("%w: snapshot of %s is %v after now (%s): a clock went back, or it comes from another host",
			ErrRestore, s.Time.UTC().Format(time.RFC3339), d, now.UTC().Format(time.RFC3339))
	}
	for _, ts := range s.Tiers {
		if want := floorDiv(t, int64(ts.Resolution)); ts.Head != want {
			return fmt.Errorf("%w: tier %v has head %d, want %d for its time", ErrRestore, ts.Resolution, ts.Head, want)
		}
	}
	for i := range l.tiers {
		r, ts := &l.tiers[i], s.Tiers[i]
		n := int64(len(r.buckets))
		for j, c := range ts.Buckets {
			r.buckets[mod(ts.Head-n+1+int64(j), n)] = c
		}
		r.head = ts.Head
	}
	l.last, l.started = t, true
	l.resum()
	return nil
}

func tiersOf(s Snapshot) []Tier {
	ts := make([]Tier, len(s.Tiers))
	for i, t := range s.Tiers {
		ts[i] = Tier{Resolution: t.Resolution, Buckets: len(t.Buckets)}
	}
	return ts
}
