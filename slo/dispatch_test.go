package slo_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The tests in this file check that user code (event handlers and the
// logger) can not hold up the engine. They run inside a synctest bubble,
// which also fails if a goroutine outlives the test.

// logRecords is a slog.Handler that keeps each record's message and
// attributes as one line.
type logRecords struct {
	mu    sync.Mutex
	lines []string // guarded by mu
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	return nil
}

func (l *logRecords) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// blockingLog is a slog.Handler that blocks until release is closed.
type blockingLog struct{ release chan struct{} }

func (l blockingLog) Enabled(context.Context, slog.Level) bool { return true }
func (l blockingLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l blockingLog) WithGroup(string) slog.Handler            { return l }
func (l blockingLog) Handle(context.Context, slog.Record) error {
	<-l.release
	return nil
}

// TestBlockingHandler checks that an event handler or a logger that blocks
// delays neither the evaluation loop nor Close, and that its goroutine
// exits once it returns.
func TestBlockingHandler(t *testing.T) {
	for _, what := range []string{"handler", "logger"} {
		t.Run(what, func(t *testing.T) { testBlocking(t, what) })
	}
}

func testBlocking(t *testing.T, what string) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		opt := slo.WithEventHandler(func(slo.Event) { <-release })
		if what == "logger" {
			opt = slo.WithLogger(slog.New(blockingLog{release}))
		}
		eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}}, options(opt)...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		record(t, eng, "a", budget.Good, 0, 1)
		start := time.Now()
		if err := eng.Start(); err != nil {
			t.Fatalf("Start() = %v", err)
		}
		synctest.Wait() // the dispatcher is in the handler, for good
		record(t, eng, "a", budget.Bad, 0, 1)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		st := eng.Status()
		if got, want := st.Time.Sub(start), 10*time.Second; got != want {
			t.Errorf("Status().Time with a blocked %s = start + %v, want start + %v: the loop must go on", what, got, want)
		}
		if got := objectiveStatus(t, st, "a").Totals.Bad; got != 1 {
			t.Errorf("Totals.Bad with a blocked %s = %d, want 1", what, got)
		}
		if got := len(eng.Events()); got < 2 {
			t.Errorf("Events() with a blocked %s has %d events, want the timeline filled (ok, exhausted, frozen)", what, got)
		}
		closing := time.Now()
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
		if got := time.Since(closing); got != slo.CloseGrace {
			t.Errorf("Close() with a blocked %s took %v, want its grace, %v", what, got, slo.CloseGrace)
		}
		if slo.DispatcherDone(eng) {
			t.Errorf("the dispatcher returned while its %s blocks", what)
		}
		close(release)
		synctest.Wait()
		if !slo.DispatcherDone(eng) {
			t.Error("the dispatcher goroutine runs on after its handler returned")
		}
	})
}

// TestDroppedEvents checks that events the handlers fall too far behind
// for are dropped, counted and logged once, and that the others arrive in
// order.
func TestDroppedEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const queue, objectives = 4, 10
		var objs []slo.Objective
		for i := range objectives {
			objs = append(objs, slo.Objective{Name: fmt.Sprintf("o%d", i), Target: 0.999})
		}
		release := make(chan struct{})
		var (
			mu  sync.Mutex
			got []string
		)
		logs := &logRecords{}
		eng, err := slo.New(objs, options(
			slo.WithLogger(slog.New(logs)),
			slo.WithEventQueueSize(queue),
			slo.WithEventHandler(func(ev slo.Event) {
				<-release
				mu.Lock()
				got = append(got, ev.Objective)
				mu.Unlock()
			}))...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		record(t, eng, "o0", budget.Good, 0, 1)
		if err := eng.Start(); err != nil {
			t.Fatalf("Start() = %v", err)
		}
		synctest.Wait() // the dispatcher is in the handler with o0's event
		for i := 1; i < objectives; i++ {
			record(t, eng, objs[i].Name, budget.Good, 0, 1)
		}
		time.Sleep(time.Second) // nine events: four queued, five dropped
		time.Sleep(time.Second) // published in the next Status
		synctest.Wait()
		st := eng.Status()
		if st.DroppedEvents != 5 || st.Faults != 5 {
			t.Errorf("Status().DroppedEvents, Faults = %d, %d, want 5, 5", st.DroppedEvents, st.Faults)
		}
		if n := len(eng.Events()); n != objectives {
			t.Errorf("Events() has %d events, want %d: the timeline keeps them all", n, objectives)
		}
		close(release)
		synctest.Wait()
		mu.Lock()
		if want := []string{"o0", "o1", "o2", "o3", "o4"}; !slices.Equal(got, want) {
			t.Errorf("handler got %q, want %q: the queued ones, in order", got, want)
		}
		mu.Unlock()
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
		var drops []string
		for _, l := range logs.get() {
			if strings.Contains(l, "dropped") {
				drops = append(drops, l)
			}
		}
		if want := []string{"sloguard: event handlers or the logger fall behind; events dropped dropped=5"}; !slices.Equal(drops, want) {
			t.Errorf("log lines about drops = %q, want %q", drops, want)
		}
		if !slo.DispatcherDone(eng) {
			t.Error("the dispatcher goroutine runs on after Close")
		}
	})
}

// TestHandlerPanicStarted checks that a panicking handler is recovered and
// counted once started too, and that the next handler still gets every
// event, in the order of the timeline.
func TestHandlerPanicStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []slo.Event // only the dispatcher writes, until Close
		logs := &logRecords{}
		eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}, {Name: "b", Target: 0.99}, {Name: "c", Target: 0.9}},
			options(
				slo.WithLogger(slog.New(logs)),
				slo.WithEventHandler(func(slo.Event) { panic("boom") }),
				slo.WithEventHandler(func(ev slo.Event) { got = append(got, ev) }))...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		if err := eng.Start(); err != nil {
			t.Fatalf("Start() = %v", err)
		}
		for _, n := range []string{"c", "a", "b"} {
			record(t, eng, n, budget.Good, 0, 1)
			time.Sleep(time.Second)
		}
		record(t, eng, "a", budget.Bad, 0, 1) // exhausted, and releases freeze
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
		events := eng.Events()
		if len(events) != 5 || !equalEvents(got, events) {
			t.Errorf("second handler got %v, want the 5 events of the timeline %v, in order", got, events)
		}
		if st := eng.Status(); st.Faults != 5 {
			t.Errorf("Status().Faults = %d, want 5: one per panic", st.Faults)
		}
		var panics int
		for _, l := range logs.get() {
			if strings.HasPrefix(l, "sloguard: event handler panicked") {
				panics++
			}
		}
		if panics != 5 {
			t.Errorf("logged %d panics, want 5", panics)
		}
	})
}
