package slo

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Delivery of events to user code. Event handlers and the logger (whose
// slog.Handler is user code too) may block or panic; neither may stall the
// evaluation loop or Close. So once the engine is started, one dispatcher
// goroutine calls them, fed through a bounded queue that the loop never
// waits on: when it is full, the item is dropped and counted
// (Status.DroppedEvents, and as a fault). The timeline is internal and is
// still filled by the loop itself, synchronously.
const (
	// queueSize is how many events and notes wait for the dispatcher.
	queueSize = 1024
	// closeGrace is how long Close lets the dispatcher deliver what is
	// queued before it returns anyway.
	closeGrace = time.Second
)

// item is one thing for the dispatcher: an event for the logger and the
// handlers, or a note for the logger alone.
type item struct {
	ev   Event
	note note // zero for an event
	step time.Duration
}

// note is an engine fault that only the logger hears of.
type note uint8

const (
	noNote        note = iota
	noteClockStep      // the wall clock stepped by item.step
)

// dispatcher owns the goroutine that delivers items.
type dispatcher struct {
	queue   chan item
	closing chan struct{} // closed by Close: deliver what is queued, then return
	done    chan struct{} // closed when the goroutine returns
	// abandoned is set by Close when the grace ran out: deliver nothing
	// more, only count it as dropped.
	abandoned atomic.Bool
}

func newDispatcher(size int) *dispatcher {
	return &dispatcher{
		queue:   make(chan item, size),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// enqueue queues it for the dispatcher without blocking, or drops and
// counts it.
func (e *Engine) enqueue(it item) {
	select {
	case e.dispatcher.queue <- it:
	default:
		e.dropped.Add(1)
		e.faults.Add(1)
	}
}

// dispatch is the dispatcher goroutine, started by Start.
func (e *Engine) dispatch() {
	d := e.dispatcher
	defer close(d.done)
	var logged uint64     // dropped items already logged
	var lastLog time.Time // when they were, by the engine's clock
	handle := func(it item) {
		if d.abandoned.Load() {
			e.dropped.Add(1)
			e.faults.Add(1)
			return
		}
		e.deliver(it)
		// Drops are logged at most once per interval, by the goroutine
		// that may call the logger.
		if n := e.dropped.Load(); n > logged {
			if now := e.clock.now(); lastLog.IsZero() || now.Sub(lastLog) >= e.interval {
				e.logger.LogAttrs(context.Background(), slog.LevelWarn,
					"sloguard: event handlers or the logger fall behind; events dropped",
					slog.Uint64("dropped", n))
				logged, lastLog = n, now
			}
		}
	}
	for {
		select {
		case it := <-d.queue:
			handle(it)
		case <-d.closing:
			for {
				select {
				case it := <-d.queue:
					handle(it)
				default:
					return
				}
			}
		}
	}
}

// deliver sends one item to the logger and, if it is an event, to the
// handlers.
func (e *Engine) deliver(it item) {
	switch it.note {
	case noNote:
		e.log(it.ev)
		for _, h := range e.handlers {
			e.call(h, it.ev)
		}
	case noteClockStep:
		e.logger.LogAttrs(context.Background(), slog.LevelWarn,
			"sloguard: the wall clock stepped; windows keep following elapsed time",
			slog.Duration("step", it.step))
	}
}

// publish sends the events of one evaluation on: into the timeline, then
// to the dispatcher once the engine is started, or else to the logger and
// handlers at once, from the caller of Tick.
func (e *Engine) publish(events []Event) {
	e.timeline.add(events...)
	async := e.async.Load()
	for _, ev := range events {
		if async {
			e.enqueue(item{ev: ev})
		} else {
			e.deliver(item{ev: ev})
		}
	}
}

// keptChanges is how many of the latest changes of what sloguard does the
// timeline keeps besides the recent events: 4096, about 1 MiB per engine.
const keptChanges = 4096

// timeline keeps the events for Engine.Events: the latest events of every
// kind (recent, WithTimelineSize) and, besides them, the latest changes
// of what sloguard does (changes: the kinds that isChange names), so that
// notes about snapshots and views, however many, never push the start of
// an incident out of the timeline.
//
// A timeline is safe for concurrent use.
type timeline struct {
	mu      sync.Mutex
	seq     uint64         // of the latest event added; guarded by mu
	recent  ring[seqEvent] // guarded by mu
	changes ring[seqEvent] // guarded by mu
}

// seqEvent is an event with its place in the order events were added, so
// that an event in both rings is returned once.
type seqEvent struct {
	seq uint64
	ev  Event
}

func newTimeline(recent, changes int) *timeline {
	return &timeline{recent: newRing[seqEvent](recent), changes: newRing[seqEvent](changes)}
}

// isChange reports whether events of kind k change what sloguard does or
// what it says of an objective: what a postmortem's timeline is made of.
func isChange(k EventKind) bool {
	switch k {
	case StateChanged, ShedChanged, BreakerChanged, GateChanged, FreezeChanged:
		return true
	}
	return false
}

// add adds events, oldest first.
func (t *timeline) add(events ...Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ev := range events {
		t.seq++
		se := seqEvent{seq: t.seq, ev: ev}
		t.recent.push(se)
		if isChange(ev.Kind) {
			t.changes.push(se)
		}
	}
}

// changed returns the changes kept, oldest first, sharing their Burns:
// what snapshots keep of the timeline.
func (t *timeline) changed() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Event, t.changes.len())
	for i := range out {
		out[i] = t.changes.at(i).ev
	}
	return out
}

// events returns the events kept, oldest first, each once, with Burns
// copied.
func (t *timeline) events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Event, 0, t.recent.len()+t.changes.len())
	i, j := 0, 0
	for i < t.recent.len() || j < t.changes.len() {
		var se seqEvent
		switch {
		case j == t.changes.len():
			se, i = t.recent.at(i), i+1
		case i == t.recent.len():
			se, j = t.changes.at(j), j+1
		default:
			r, c := t.recent.at(i), t.changes.at(j)
			switch {
			case r.seq < c.seq:
				se, i = r, i+1
			case c.seq < r.seq:
				se, j = c, j+1
			default:
				se, i, j = r, i+1, j+1
			}
		}
		se.ev.Burns = slices.Clone(se.ev.Burns)
		out = append(out, se.ev)
	}
	return out
}

// stopDispatch lets the dispatcher deliver what is queued for at most
// closeGrace. If a handler or the logger still blocks after that, the
// dispatcher goroutine stays in that call; when it returns, the goroutine
// delivers nothing more (counting the rest as dropped) and exits.
func (e *Engine) stopDispatch() {
	d := e.dispatcher
	close(d.closing)
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-d.done:
	case <-t.C:
		d.abandoned.Store(true)
	}
}
