package slo

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestRing checks the ring against a plain slice that keeps the latest
// size values.
func TestRing(t *testing.T) {
	for _, size := range []int{0, 1, 2, 3, 7} {
		r := newRing[int](size)
		var model []int
		for v := range 20 {
			r.push(v)
			model = append(model, v)
			if len(model) > size {
				model = model[1:]
			}
			if got := r.appendTo(nil); !slices.Equal(got, model) {
				t.Fatalf("size %d after pushing 0..%d: appendTo(nil) = %v, want %v", size, v, got, model)
			}
			if r.full() != (len(model) == size) {
				t.Fatalf("size %d after pushing 0..%d: full() = %v", size, v, r.full())
			}
			if r.len() != len(model) {
				t.Fatalf("size %d after pushing 0..%d: len() = %d, want %d", size, v, r.len(), len(model))
			}
			for i, want := range model {
				if got := r.at(i); got != want {
					t.Fatalf("size %d after pushing 0..%d: at(%d) = %d, want %d", size, v, i, got, want)
				}
			}
		}
	}
	r := newRing[int](3)
	r.push(1)
	r.push(2)
	r.reset()
	r.push(3)
	if got := r.appendTo(nil); !slices.Equal(got, []int{3}) {
		t.Errorf("after reset and one push: appendTo(nil) = %v, want [3]", got)
	}
	var zero ring[string]
	zero.push("x")
	if zero.len() != 0 || zero.appendTo(nil) != nil {
		t.Errorf("zero ring after push: len() = %d, appendTo(nil) = %v, want 0, nil", zero.len(), zero.appendTo(nil))
	}
}

// TestTimelineKinds checks that the timeline keeps the latest changes
// besides the latest events of every kind, each once and in order, with
// notes about snapshots only in the recent ring.
func TestTimelineKinds(t *testing.T) {
	kinds := []EventKind{StateChanged, SnapshotFailed, SheddingChanged, SnapshotRecovered, ViewChanged,
		BreakerChanged, SnapshotFailed, SnapshotRecovered, SnapshotFailed, GateChanged, FreezeChanged,
		SnapshotFailed, SnapshotRecovered, SnapshotFailed}
	for _, recent := range []int{1, 2, 4, 20} {
		for _, changes := range []int{1, 3, 8, 20} {
			tl := newTimeline(recent, changes)
			var added []Event
			for i, k := range kinds {
				ev := Event{Kind: k, Reason: fmt.Sprint(i)}
				tl.add(ev)
				added = append(added, ev)
				// The model: event j stays when it is among the latest
				// recent events, or among the first quarter of the
				// changes (one episode: the events have no time) or
				// the latest others.
				head := changes / 4
				var all []int // indexes of the changes
				for j, ev := range added {
					if isChange(ev.Kind) {
						all = append(all, j)
					}
				}
				keep := map[int]bool{}
				for k, j := range all {
					keep[j] = k < head || k >= len(all)-(changes-head)
				}
				var want []string
				for j, ev := range added {
					if len(added)-j <= recent || keep[j] {
						want = append(want, ev.Reason)
					}
				}
				var got []string
				for _, ev := range tl.events() {
					got = append(got, ev.Reason)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("recent %d, changes %d, after %d events: events() = %v, want %v", recent, changes, len(added), got, want)
				}
			}
		}
	}
}

// TestTimelineEpisodes checks that a long run of changes keeps its first
// ones, and that a change after an hour of quiet starts a new episode.
func TestTimelineEpisodes(t *testing.T) {
	tl := newTimeline(2, 8) // head 2, tail 6
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var at time.Time
	add := func(name string, d time.Duration) {
		at = at.Add(d)
		if at.IsZero() {
			at = base
		}
		tl.add(Event{Time: at, Kind: BreakerChanged, Dependency: name})
	}
	names := func() []string {
		var out []string
		for _, ev := range tl.events() {
			out = append(out, ev.Dependency)
		}
		return out
	}
	at = base
	add("a0", 0)
	for i := 1; i < 100; i++ { // a breaker cycling every 10s
		add(fmt.Sprintf("a%d", i), 10*time.Second)
	}
	if got, want := names(), []string{"a0", "a1", "a94", "a95", "a96", "a97", "a98", "a99"}; !slices.Equal(got, want) {
		t.Errorf("after 100 changes: events() = %v, want the first 2 and the latest 6", got)
	}
	add("b0", 59*time.Minute) // less than an hour of quiet: the same episode
	if got := names(); got[0] != "a0" || got[len(got)-1] != "b0" {
		t.Errorf("after 59 quiet minutes: events() = %v, want a0 first still, b0 last", got)
	}
	add("c0", time.Hour) // a new one: a0 and a1 are no longer its start
	add("c1", time.Second)
	add("c2", time.Second)
	if got, want := names(), []string{"a98", "a99", "b0", "c0", "c1", "c2"}; !slices.Equal(got, want) {
		t.Errorf("after a new episode: events() = %v, want %v", got, want)
	}
	if got := len(tl.changed()); got != 6 {
		t.Errorf("changed() has %d events, want the 6 kept", got)
	}
}
