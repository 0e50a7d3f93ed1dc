package slo

import (
	"fmt"
	"slices"
	"testing"
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
	kinds := []EventKind{StateChanged, SnapshotFailed, ShedChanged, SnapshotRecovered, ViewChanged,
		BreakerChanged, SnapshotFailed, SnapshotRecovered, SnapshotFailed, GateChanged, FreezeChanged,
		SnapshotFailed, SnapshotRecovered, SnapshotFailed}
	for _, recent := range []int{1, 2, 4, 20} {
		for _, changes := range []int{1, 3, 20} {
			tl := newTimeline(recent, changes)
			var added []Event
			for i, k := range kinds {
				ev := Event{Kind: k, Reason: fmt.Sprint(i)}
				tl.add(ev)
				added = append(added, ev)
				// The model: event j stays when it is among the latest
				// recent events, or among the latest changes changes.
				var want []string
				nchanges := 0
				for j := len(added) - 1; j >= 0; j-- {
					isRecent := len(added)-j <= recent
					isKept := false
					if isChange(added[j].Kind) {
						nchanges++
						isKept = nchanges <= changes
					}
					if isRecent || isKept {
						want = append([]string{added[j].Reason}, want...)
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
