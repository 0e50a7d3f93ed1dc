package slo

import (
	"cmp"
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

// keptChanges is how many changes of what sloguard does the timeline keeps
// besides the recent events: 4096, 176 bytes each and their burn rates. A
// quarter of them are the first changes of an episode (changes with less
// than episodeGap between them), the rest the latest.
const keptChanges = 4096

// episodeGap is the quiet time after which a change opens a new episode.
const episodeGap = time.Hour

// timeline keeps the events for Engine.Events: the latest events of every
// kind (recent, WithTimelineSize) and, besides them, the changes of what
// sloguard does (the kinds that isChange names): the first ones of the
// current episode (head) and the latest ones (tail). So an incident keeps
// its start however many changes it makes (a breaker that cycles for a
// day), and notes about snapshots and views never push it out.
//
// A timeline is safe for concurrent use.
type timeline struct {
	mu         sync.Mutex
	seq        uint64         // of the latest event added; guarded by mu
	lastChange time.Time      // time of the latest change; guarded by mu
	changes    bool           // whether a change was added; guarded by mu
	recent     ring[seqEvent] // guarded by mu
	head       ring[seqEvent] // filled until full, emptied by a new episode; guarded by mu
	tail       ring[seqEvent] // guarded by mu
}

// seqEvent is an event with its place in the order events were added, so
// that an event kept twice is returned once.
type seqEvent struct {
	seq uint64
	ev  Event
}

// newTimeline returns a timeline of recent events and changes kept
// changes.
func newTimeline(recent, changes int) *timeline {
	head := changes / 4
	return &timeline{recent: newRing[seqEvent](recent), head: newRing[seqEvent](head), tail: newRing[seqEvent](changes - head)}
}

// isChange reports whether events of kind k change what sloguard does or
// what it says of an objective: what a postmortem's timeline is made of.
func isChange(k EventKind) bool {
	switch k {
	case StateChanged, SheddingChanged, BreakerChanged, GateChanged, FreezeChanged:
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
		if !isChange(ev.Kind) {
			continue
		}
		if !t.changes || ev.Time.Sub(t.lastChange) >= episodeGap {
			t.head.reset() // a new episode
		}
		t.lastChange, t.changes = ev.Time, true
		if !t.head.full() {
			t.head.push(se)
		}
		t.tail.push(se)
	}
}

// kept returns the events held, oldest first, each once; changesOnly
// leaves the recent ring out.
func (t *timeline) kept(changesOnly bool) []seqEvent {
	var all []seqEvent
	if !changesOnly {
		all = t.recent.appendTo(all)
	}
	all = t.tail.appendTo(t.head.appendTo(all))
	slices.SortFunc(all, func(a, b seqEvent) int { return cmp.Compare(a.seq, b.seq) })
	return slices.CompactFunc(all, func(a, b seqEvent) bool { return a.seq == b.seq })
}

// changed returns the changes kept, oldest first, sharing their Burns:
// what snapshots keep of the timeline.
func (t *timeline) changed() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.kept(true)
	out := make([]Event, len(kept))
	for i, se := range kept {
		out[i] = se.ev
	}
	return out
}

// events returns the events kept, oldest first, each once, with Burns
// copied.
func (t *timeline) events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.kept(false)
	out := make([]Event, len(kept))
	for i, se := range kept {
		out[i] = se.ev
		out[i].Burns = slices.Clone(se.ev.Burns)
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
