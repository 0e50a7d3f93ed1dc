package slo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

var snapBase = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func fileStore(t *testing.T) *slo.FileStore {
	t.Helper()
	fs, err := slo.NewFileStore(filepath.Join(t.TempDir(), "sloguard.snap"))
	if err != nil {
		t.Fatalf("NewFileStore = %v", err)
	}
	return fs
}

// snapEngine returns a Tick-driven engine with snapshots in store; the
// caller closes it.
func snapEngine(t *testing.T, objs []slo.Objective, store slo.SnapshotStore) *slo.Engine {
	t.Helper()
	eng, err := slo.New(objs, options(slo.WithSnapshots(store, time.Minute))...)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return eng
}

func eventsOf(eng *slo.Engine, kind slo.EventKind) []slo.Event {
	var out []slo.Event
	for _, ev := range eng.Events() {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

var twoObjectives = []slo.Objective{
	{Name: "a", Target: 0.99, Period: time.Hour},
	{Name: "b", Target: 0.999},
}

// TestSnapshotRestart: a clean Close saves everything, the next engine
// restores it, the time it was down is no data, and the totals behind
// sloguard.events start again from zero.
func TestSnapshotRestart(t *testing.T) {
	store := fileStore(t)
	a := snapEngine(t, twoObjectives, store)
	a.Tick(snapBase)
	record(t, a, "a", budget.Good, 0, 90)
	record(t, a, "a", budget.Bad, 0, 10)
	a.Tick(snapBase.Add(10 * time.Minute))
	record(t, a, "b", budget.Bad, 0, 2) // after the last Tick: Close folds it
	if err := a.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	b := snapEngine(t, twoObjectives, store)
	defer b.Close()
	later := snapBase.Add(25 * time.Minute)
	record(t, b, "a", budget.Good, 0, 5)
	b.Tick(later)
	st := b.Status()
	oa, ob := objectiveStatus(t, st, "a"), objectiveStatus(t, st, "b")
	if want := (budget.Counts{Good: 95, Bad: 10}); oa.Report.Period != want {
		t.Errorf("a's period after restart = %+v, want %+v", oa.Report.Period, want)
	}
	if want := (budget.Counts{Bad: 2}); ob.Report.Period != want {
		t.Errorf("b's period after restart = %+v, want %+v (recorded after the last Tick, saved by Close)", ob.Report.Period, want)
	}
	if w, _ := oa.Report.Window(5 * time.Minute); w.Counts != (budget.Counts{Good: 5}) {
		t.Errorf("a's 5m window after 15 minutes down = %+v, want only the 5 new events", w.Counts)
	}
	if want := (budget.Counts{Good: 5}); oa.Totals != want || ob.Totals != (budget.Counts{}) {
		t.Errorf("Totals after restart = %+v, %+v, want %+v and none: sloguard.events must not jump", oa.Totals, ob.Totals, want)
	}
	if oa.View != slo.ViewRestored || !oa.ViewTime.Equal(snapBase.Add(10*time.Minute)) {
		t.Errorf("a's View, ViewTime = %v, %v, want restored, %v", oa.View, oa.ViewTime, snapBase.Add(10*time.Minute))
	}
	evs := eventsOf(b, slo.SnapshotRestored)
	if len(evs) != 1 || !strings.Contains(evs[0].Reason, "restored a, b") {
		t.Errorf("SnapshotRestored events = %v, want one restoring a, b", evs)
	}
	// Once the period has passed, the restored buckets are gone and the
	// view is local again.
	b.Tick(snapBase.Add(10*time.Minute + time.Hour))
	if got := objectiveStatus(t, b.Status(), "a"); got.View != slo.ViewLocal {
		t.Errorf("a's View a period after the snapshot = %v, want local", got.View)
	}
}

// TestSnapshotRefused: whatever is wrong with the snapshot, the engine
// starts, empty, with an event saying why.
func TestSnapshotRefused(t *testing.T) {
	valid := func(t *testing.T) []byte {
		store := fileStore(t)
		a := snapEngine(t, twoObjectives, store)
		record(t, a, "a", budget.Bad, 0, 3)
		a.Tick(snapBase)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name  string
		edit  func([]byte) []byte
		now   time.Time
		where string // in the reason
	}{
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, snapBase, "checksum"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-9] }, snapBase, "truncated"},
		{"empty", func([]byte) []byte { return nil }, snapBase, "not a sloguard snapshot"},
		{"other file", func([]byte) []byte { return []byte("global:\n  scrape_interval: 1s\n") }, snapBase, "not a sloguard snapshot"},
		{"newer version", func(b []byte) []byte { b[8] = 9; return b }, snapBase, "version 9 is newer"},
		{"from the future", func(b []byte) []byte { return b }, snapBase.Add(-time.Minute), "after now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := fileStore(t)
			if err := os.WriteFile(store.Path(), tt.edit(valid(t)), 0o600); err != nil {
				t.Fatal(err)
			}
			b := snapEngine(t, twoObjectives, store)
			defer b.Close()
			b.Tick(tt.now)
			evs := eventsOf(b, slo.SnapshotRefused)
			if len(evs) != 1 || !strings.Contains(evs[0].Reason, tt.where) || !strings.Contains(evs[0].Reason, "starting empty") {
				t.Fatalf("SnapshotRefused events = %v, want one mentioning %q", evs, tt.where)
			}
			if got := objectiveStatus(t, b.Status(), "a"); got.Report.Period != (budget.Counts{}) || got.View != slo.ViewLocal {
				t.Errorf("a after a refused snapshot: period %+v, view %v, want empty and local", got.Report.Period, got.View)
			}
		})
	}
}

// TestSnapshotObjectivesChanged: an objective whose period changed is
// refused alone, a new one starts empty, a removed one is dropped.
func TestSnapshotObjectivesChanged(t *testing.T) {
	store := fileStore(t)
	a := snapEngine(t, append(twoObjectives, slo.Objective{Name: "gone", Target: 0.9}), store)
	for _, n := range []string{"a", "b", "gone"} {
		record(t, a, n, budget.Bad, 0, 1)
	}
	a.Tick(snapBase)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	changed := []slo.Objective{
		{Name: "a", Target: 0.99, Period: 2 * time.Hour}, // another layout
		{Name: "b", Target: 0.9},                         // another target: same buckets
		{Name: "new", Target: 0.9},
	}
	b := snapEngine(t, changed, store)
	defer b.Close()
	b.Tick(snapBase.Add(time.Minute))
	st := b.Status()
	for name, want := range map[string]budget.Counts{"a": {}, "b": {Bad: 1}, "new": {}} {
		if got := objectiveStatus(t, st, name).Report.Period; got != want {
			t.Errorf("%s's period = %+v, want %+v", name, got, want)
		}
	}
	refused := eventsOf(b, slo.SnapshotRefused)
	if len(refused) != 1 || refused[0].Objective != "a" || !strings.Contains(refused[0].Reason, "period or bucket layout") {
		t.Errorf("SnapshotRefused events = %v, want one for a's layout", refused)
	}
	restored := eventsOf(b, slo.SnapshotRestored)
	if len(restored) != 1 || !strings.Contains(restored[0].Reason, "restored b;") ||
		!strings.Contains(restored[0].Reason, "starting empty: new") || !strings.Contains(restored[0].Reason, "dropped: gone") {
		t.Errorf("SnapshotRestored events = %v, want b restored, new empty, gone dropped", restored)
	}
}

// TestSnapshotUnwritable: a snapshot that can not be saved is an event, a
// fault and the error of Close, never a crash or a stalled engine; a crash
// loses at most one interval.
func TestSnapshotUnwritable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		// A regular file where the directory should be: unwritable even
		// for root.
		blocker := filepath.Join(dir, "file")
		if err := os.WriteFile(blocker, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		store, err := slo.NewFileStore(filepath.Join(blocker, "sloguard.snap"))
		if err != nil {
			t.Fatal(err)
		}
		eng, err := slo.New(twoObjectives, options(slo.WithSnapshots(store, time.Minute))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(); err != nil {
			t.Fatal(err)
		}
		record(t, eng, "a", budget.Good, 0, 1)
		time.Sleep(62 * time.Second) // one save, and one evaluation after it
		synctest.Wait()
		if evs := eventsOf(eng, slo.SnapshotFailed); len(evs) != 1 || !strings.Contains(evs[0].Reason, "not a directory") {
			t.Errorf("SnapshotFailed events = %v, want one", evs)
		}
		if got := eng.Status(); got.Faults == 0 || objectiveStatus(t, got, "a").Totals.Good != 1 {
			t.Errorf("Status() = faults %d, a's totals %+v: want a fault counted and the engine evaluating", got.Faults, objectiveStatus(t, got, "a").Totals)
		}
		time.Sleep(2 * time.Minute) // more failures: no more events
		synctest.Wait()
		if evs := eventsOf(eng, slo.SnapshotFailed); len(evs) != 1 {
			t.Errorf("SnapshotFailed events after more failures = %d, want still 1", len(evs))
		}
		if err := eng.Close(); !strings.Contains(errText(err), "not a directory") {
			t.Errorf("Close() = %v, want the final snapshot's error", err)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestSnapshotCrash: without Close, the snapshot holds what the latest
// interval saved.
func TestSnapshotCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := fileStore(t)
		a, err := slo.New(twoObjectives, options(slo.WithSnapshots(store, time.Minute))...)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		record(t, a, "a", budget.Bad, 0, 7)
		time.Sleep(61 * time.Second)
		synctest.Wait()
		record(t, a, "a", budget.Bad, 0, 100) // after the save: lost by a crash
		time.Sleep(30 * time.Second)
		synctest.Wait()
		// A crash: the next process starts from the file as it is.
		b, err := slo.New(twoObjectives, options(slo.WithSnapshots(store, time.Minute))...)
		if err != nil {
			t.Fatal(err)
		}
		b.Tick(time.Now())
		if got := objectiveStatus(t, b.Status(), "a").Report.Period; got != (budget.Counts{Bad: 7}) {
			t.Errorf("period restored after a crash = %+v, want the 7 bad events saved a minute in", got)
		}
		if err := a.Close(); err != nil {
			t.Errorf("a.Close() = %v", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("b.Close() = %v", err)
		}
	})
}

// TestSnapshotNeverEvaluated: an engine closed before its first evaluation
// leaves the snapshot alone.
func TestSnapshotNeverEvaluated(t *testing.T) {
	store := fileStore(t)
	a := snapEngine(t, twoObjectives, store)
	record(t, a, "a", budget.Bad, 0, 3)
	a.Tick(snapBase)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := store.Load(context.Background())
	b := snapEngine(t, twoObjectives, store)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := store.Load(context.Background())
	if string(before) != string(after) {
		t.Error("Close of an engine that never evaluated replaced the snapshot")
	}
}

func TestWithSnapshotsInvalid(t *testing.T) {
	_, err := slo.New(twoObjectives, options(slo.WithSnapshots(nil, -time.Second))...)
	if !errors.Is(err, slo.ErrInvalidOption) || !strings.Contains(errText(err), "nil store") || !strings.Contains(errText(err), "interval -1s") {
		t.Errorf("New(WithSnapshots(nil, -1s)) = %v, want both problems", err)
	}
	_, err = slo.New(twoObjectives, options(slo.WithSnapshots(fileStore(t), 25*time.Hour))...)
	if !errors.Is(err, slo.ErrInvalidOption) || !strings.Contains(errText(err), "interval 25h0m0s must be from 0 to a day") {
		t.Errorf("New(WithSnapshots(store, 25h)) = %v, want the bound", err)
	}
	if _, err := slo.NewFileStore(""); !errors.Is(err, slo.ErrInvalidOption) {
		t.Errorf("NewFileStore(\"\") = %v, want ErrInvalidOption", err)
	}
}

// TestSnapshotClockSkew: the engine labels its buckets with its own time,
// the wall clock at New plus the monotonic time since (see # Time in the
// package documentation). When the wall clock steps while a process runs,
// the next process, anchored to the stepped wall clock, sees the snapshot
// an hour in the future (refused: restoring it would freeze the windows
// for that hour) or an hour in the past (restored, the hour no data).
func TestSnapshotClockSkew(t *testing.T) {
	for _, tt := range []struct {
		step     time.Duration
		restored bool
	}{{-time.Hour, false}, {time.Hour, true}} {
		t.Run(tt.step.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newSteppingClock()
				store := fileStore(t)
				objs := []slo.Objective{{Name: "api", Target: 0.99}}
				a, err := slo.New(objs, options(slo.WithClock(c.clock()), slo.WithSnapshots(store, time.Minute))...)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Start(); err != nil {
					t.Fatal(err)
				}
				record(t, a, "api", budget.Bad, 0, 5)
				time.Sleep(10 * time.Second)
				c.step.Store(int64(tt.step))
				time.Sleep(2 * time.Second)
				if err := a.Close(); err != nil {
					t.Fatalf("Close = %v", err)
				}

				b, err := slo.New(objs, options(slo.WithClock(c.clock()), slo.WithSnapshots(store, time.Minute))...)
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Start(); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				o := objectiveStatus(t, b.Status(), "api")
				refused := eventsOf(b, slo.SnapshotRefused)
				if tt.restored {
					if o.Report.Period.Bad != 5 || o.View != slo.ViewRestored || len(refused) != 0 {
						t.Errorf("after a step forward: period %+v, view %v, refused %v, want the 5 bad events restored", o.Report.Period, o.View, refused)
					}
					if w, _ := o.Report.Window(5 * time.Minute); w.Counts.Total() != 0 {
						t.Errorf("5m window after a step forward = %+v, want none: the hour is no data", w.Counts)
					}
				} else if o.Report.Period.Total() != 0 || len(refused) != 1 || !strings.Contains(refused[0].Reason, "after now") {
					t.Errorf("after a step back: period %+v, refused %v, want an empty start and the snapshot refused as from the future", o.Report.Period, refused)
				}
				if err := b.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
			})
		})
	}
}

// TestSnapshotCalendarZone: a calendar period's time zone is part of its
// fingerprint, so its buckets are never restored into another zone's
// months, although the layout is the same.
func TestSnapshotCalendarZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	month := func(loc *time.Location) []slo.Objective {
		return []slo.Objective{{Name: "m", Target: 0.99, Calendar: budget.Calendar{Unit: budget.Month, Location: loc}}}
	}
	store := fileStore(t)
	a := snapEngine(t, month(nil), store)
	record(t, a, "m", budget.Bad, 0, 3)
	a.Tick(snapBase.Add(time.Hour))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	same := snapEngine(t, month(time.UTC), store)
	same.Tick(snapBase.Add(2 * time.Hour))
	if got := objectiveStatus(t, same.Status(), "m"); got.Report.Period.Bad != 3 || got.View != slo.ViewRestored {
		t.Errorf("same zone: period %+v, view %v, want the 3 bad events restored", got.Report.Period, got.View)
	}
	if err := same.Close(); err != nil {
		t.Fatal(err)
	}
	other := snapEngine(t, month(berlin), store)
	defer other.Close()
	other.Tick(snapBase.Add(3 * time.Hour))
	if evs := eventsOf(other, slo.SnapshotRefused); len(evs) != 1 || evs[0].Objective != "m" {
		t.Errorf("another zone: SnapshotRefused events = %v, want one for m", evs)
	}
	if got := objectiveStatus(t, other.Status(), "m"); got.Report.Period.Total() != 0 {
		t.Errorf("another zone: period %+v, want empty", got.Report.Period)
	}
}

// TestSnapshotHistory: the history, the load history and the changes in
// the timeline survive a restart, before what the new process adds; a
// version 1 snapshot (no history) is tested in the internal tests.
func TestSnapshotHistory(t *testing.T) {
	store := fileStore(t)
	a, err := slo.New(twoObjectives, options(slo.WithSnapshots(store, time.Minute), slo.WithShedding(slo.ShedPolicy{}),
		slo.WithHistory(time.Minute, 5))...)
	if err != nil {
		t.Fatal(err)
	}
	rt := route(t, a, slo.Critical, "a")
	now := snapBase
	for i := range 8 { // eight minutes: burning from the second, shedding, requests from the fourth
		for s := range 6 {
			if i >= 3 {
				for range 50 {
					if tk, _, ok := rt.Admit(slo.Sheddable); ok {
						tk.Done(budget.Good)
					}
				}
			}
			if i >= 1 {
				record(t, a, "a", budget.Bad, 0, 100)
			}
			a.Tick(now.Add(time.Duration(s) * 10 * time.Second))
		}
		now = now.Add(time.Minute)
	}
	hist, _ := a.History("a")
	load := a.LoadHistory()
	events := eventsOf(a, slo.SheddingChanged)
	if len(hist) != 5 || len(load) != 5 || len(events) == 0 || load[4].Rejected[slo.Sheddable.Index()] == 0 {
		t.Fatalf("before the restart: %d samples, %d load samples (%+v), %d shed changes: want 5, 5 with SHEDDABLE shed, and some", len(hist), len(load), load, len(events))
	}
	before := a.Events()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := slo.New(twoObjectives, options(slo.WithSnapshots(store, time.Minute), slo.WithHistory(time.Minute, 4))...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	later := now.Add(30 * time.Minute)
	b.Tick(later)
	// Size 4 now: the latest 4 samples of a, then the new one would push
	// out the oldest.
	gotHist, _ := b.History("a")
	if want := append(hist[2:], gotHist[len(gotHist)-1]); !slices.Equal(gotHist, want) || !gotHist[3].Time.Equal(later) {
		t.Errorf("History(a) after the restart =\n%+v\nwant the latest of a's, then one at %v:\n%+v", gotHist, later, want)
	}
	if got := b.LoadHistory(); !slices.Equal(got[:3], load[2:]) || len(got) != 4 {
		t.Errorf("LoadHistory() after the restart =\n%+v\nwant a's latest 3 first:\n%+v", got, load[2:])
	}
	var changes []slo.Event
	for _, ev := range before {
		if ev.Kind != slo.SnapshotRestored && ev.Kind != slo.ViewChanged {
			changes = append(changes, ev)
		}
	}
	after := b.Events()
	if len(after) < len(changes) || !equalEvents(after[:len(changes)], changes) {
		t.Errorf("Events() after the restart =\n%swant the changes of before first:\n%s", eventLines(after), eventLines(changes))
	}
	if evs := eventsOf(b, slo.SnapshotRestored); len(evs) != 1 || !strings.Contains(evs[0].Reason, fmt.Sprintf("history of 4 samples and %d events", len(changes))) {
		t.Errorf("SnapshotRestored events = %v, want one saying what history it restored", evs)
	}
}
