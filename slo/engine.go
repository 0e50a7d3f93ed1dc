package slo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/sloguard/sloguard/budget"
)

// Engine keeps the error budget of a set of objectives and publishes their
// state.
//
// Events reach it through a Recorder per objective: one atomic add, no lock,
// no allocation. One evaluation loop, started by Start and stopped by Close,
// folds them into each objective's budget.Ledger about once a second,
// evaluates the alert rules, publishes an immutable Status that readers load
// atomically, and sends state changes as Events to the logger, the event
// handlers and a bounded timeline. OpenTelemetry reads the counts and gauges
// from the ledgers and the latest Status at collection time, so no
// OpenTelemetry call happens on the request path.
//
// An Engine is safe for concurrent use. Recording works from New on; until
// the first evaluation every objective is StateUnknown.
type Engine struct {
	recs     []*Recorder
	byName   map[string]*Recorder
	logger   *slog.Logger
	handlers []func(Event)
	interval time.Duration

	status atomic.Pointer[Status]
	faults atomic.Uint64

	tickMu sync.Mutex // serialises Tick: ledgers belong to one evaluator

	timelineMu sync.Mutex
	timeline   []Event // ring, guarded by timelineMu
	next       int     // index of the next slot, guarded by timelineMu
	full       bool    // whether the ring wrapped, guarded by timelineMu

	lifeMu  sync.Mutex
	started bool          // guarded by lifeMu
	closed  bool          // guarded by lifeMu
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the loop returns

	telemetry *telemetry
}

// Recorder records the events of one objective. It is resolved once, for
// example when wiring a route, and used on every request.
//
// A Recorder is safe for concurrent use; Record is one atomic add.
type Recorder struct {
	obj       Objective
	spec      budget.Spec
	ledger    *budget.Ledger
	threshold time.Duration
}

// New returns an Engine for the given objectives. It validates all of them
// and all options, and reports every problem at once.
func New(objectives []Objective, opts ...Option) (*Engine, error) {
	cfg := config{interval: time.Second, timeline: 256}
	for _, o := range opts {
		o.apply(&cfg)
	}
	errs := cfg.errs
	if len(objectives) == 0 {
		errs = append(errs, fmt.Errorf("%w: no objectives", ErrInvalidObjective))
	}
	e := &Engine{
		byName:   make(map[string]*Recorder, len(objectives)),
		logger:   cfg.logger,
		handlers: cfg.handlers,
		interval: cfg.interval,
		timeline: make([]Event, cfg.timeline),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range objectives {
		if err := o.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := e.byName[o.Name]; dup {
			errs = append(errs, fmt.Errorf("%w %q: name is used twice", ErrInvalidObjective, o.Name))
			continue
		}
		o = o.withDefaults()
		spec := o.Spec()
		l, err := spec.NewLedger()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %w", ErrInvalidObjective, o.Name, err))
			continue
		}
		r := &Recorder{obj: o, spec: spec, ledger: l, threshold: o.Latency}
		e.recs = append(e.recs, r)
		e.byName[o.Name] = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	st := &Status{Objectives: make([]ObjectiveStatus, len(e.recs))}
	for i, r := range e.recs {
		st.Objectives[i] = ObjectiveStatus{
			Objective: r.obj,
			Report:    budget.Report{State: budget.StateUnknown, Remaining: 1, TimeToExhaustion: budget.Never},
		}
	}
	e.status.Store(st)

	mp := cfg.meterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	t, err := newTelemetry(e, mp)
	if err != nil {
		return nil, fmt.Errorf("slo: registering metrics: %w", err)
	}
	e.telemetry = t
	return e, nil
}

// Objectives returns the engine's objectives, with defaults applied, in the
// order given to New. The caller may modify the result.
func (e *Engine) Objectives() []Objective {
	os := make([]Objective, len(e.recs))
	for i, r := range e.recs {
		os[i] = r.obj
		os[i].Rules = slices.Clone(r.obj.Rules)
	}
	return os
}

// Recorder returns the Recorder of the named objective, or an error wrapping
// ErrUnknownObjective.
func (e *Engine) Recorder(name string) (*Recorder, error) {
	r, ok := e.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownObjective, name)
	}
	return r, nil
}

// Record records one event of the named objective; see Recorder.Record. It
// is meant for work outside HTTP and gRPC, such as queue consumers and batch
// jobs: resolve a Recorder once instead where the name is fixed.
func (e *Engine) Record(name string, o Outcome, latency time.Duration) error {
	r, ok := e.byName[name]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownObjective, name)
	}
	r.Record(o, latency)
	return nil
}

// Objective returns the recorder's objective, with defaults applied. The
// caller may modify the result.
func (r *Recorder) Objective() Objective {
	o := r.obj
	o.Rules = slices.Clone(o.Rules)
	return o
}

// Record records one event. For a latency objective a Good or Neutral event
// that took longer than the objective's Latency counts as Bad: a client that
// gave up after waiting too long was still served too slowly, and a server
// that hangs until its clients leave must not look healthy. Availability
// objectives ignore latency. Neutral events are counted apart and spend no
// budget.
//
// Record is one atomic add: it never blocks, allocates or fails.
func (r *Recorder) Record(o Outcome, latency time.Duration) {
	if (o == Good || o == Neutral) && r.threshold > 0 && latency > r.threshold {
		o = Bad
	}
	r.ledger.Add(o, 1)
}

// Status returns the latest published snapshot. It is one atomic load; the
// snapshot must not be modified.
func (e *Engine) Status() *Status { return e.status.Load() }

// Events returns the recent events, oldest first: at most the timeline size
// (see WithTimelineSize).
func (e *Engine) Events() []Event {
	e.timelineMu.Lock()
	defer e.timelineMu.Unlock()
	var out []Event
	if e.full {
		out = append(out, e.timeline[e.next:]...)
	}
	out = append(out, e.timeline[:e.next]...)
	for i := range out {
		out[i].Burns = slices.Clone(out[i].Burns)
	}
	return out
}

// Start starts the evaluation loop, which evaluates at once and then every
// interval (see WithInterval) until Close. Calling Start again does nothing;
// after Close it returns ErrClosed.
func (e *Engine) Start() error {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if !e.started {
		e.started = true
		go e.run()
	}
	return nil
}

// Close stops the evaluation loop, waits for it to return, and unregisters
// the engine's metrics. Recording stays safe after Close but is no longer
// evaluated or exported. Close is idempotent.
func (e *Engine) Close() error {
	e.lifeMu.Lock()
	if e.closed {
		e.lifeMu.Unlock()
		return nil
	}
	e.closed = true
	started := e.started
	close(e.stop)
	e.lifeMu.Unlock()
	if started {
		<-e.done
	}
	return e.telemetry.close()
}

func (e *Engine) run() {
	defer close(e.done)
	t := time.NewTicker(e.interval)
	defer t.Stop()
	e.Tick(time.Now())
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.Tick(now)
		}
	}
}

// Tick evaluates every objective at time now: it folds the events recorded
// since the previous Tick into the ledgers, evaluates the rules, publishes a
// new Status and sends the state changes as events. The evaluation loop
// calls it every interval; call it directly only to drive an Engine that was
// not started, as simulations and tests do, and from one goroutine, so that
// events keep their order. A time earlier than a previous Tick is taken as
// that previous time.
func (e *Engine) Tick(now time.Time) {
	events := e.evaluate(now)
	e.dispatch(events)
}

func (e *Engine) evaluate(now time.Time) []Event {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	prev := e.status.Load()
	if now.Before(prev.Time) {
		now = prev.Time // as the ledgers do: time never runs backwards
	}
	st := &Status{Time: now, Objectives: make([]ObjectiveStatus, len(e.recs))}
	var events []Event
	for i, r := range e.recs {
		r.ledger.Advance(now)
		rep := budget.Evaluate(r.ledger, r.spec, now)
		totals, neutral := r.ledger.Totals()
		st.Objectives[i] = ObjectiveStatus{Objective: r.obj, Report: rep, Totals: totals, Neutral: neutral}
		if from := prev.Objectives[i].Report.State; from != rep.State {
			ev := Event{
				Time:      now,
				Kind:      StateChanged,
				Objective: r.obj.Name,
				From:      from,
				To:        rep.State,
				Remaining: rep.Remaining,
				Burns:     make([]WindowBurn, len(rep.Windows)),
			}
			for j, w := range rep.Windows {
				ev.Burns[j] = WindowBurn{Window: w.Window, Burn: w.Burn}
			}
			events = append(events, ev)
		}
	}
	st.Faults = e.faults.Load()
	e.status.Store(st)
	return events
}

// dispatch sends events to the timeline, the logger and the handlers. It
// runs with no lock held.
func (e *Engine) dispatch(events []Event) {
	for _, ev := range events {
		e.timelineMu.Lock()
		e.timeline[e.next] = ev
		e.next++
		if e.next == len(e.timeline) {
			e.next, e.full = 0, true
		}
		e.timelineMu.Unlock()

		e.logger.LogAttrs(context.Background(), levelOf(ev.To), "sloguard: objective state changed",
			slog.String("objective", ev.Objective),
			slog.String("from", ev.From.String()),
			slog.String("to", ev.To.String()),
			slog.Float64("remaining", ev.Remaining),
		)
		for _, h := range e.handlers {
			e.call(h, ev)
		}
	}
}

func (e *Engine) call(h func(Event), ev Event) {
	defer func() {
		if p := recover(); p != nil {
			e.faults.Add(1)
			e.logger.LogAttrs(context.Background(), slog.LevelError, "sloguard: event handler panicked",
				slog.String("objective", ev.Objective),
				slog.Any("panic", p),
			)
		}
	}()
	h(ev)
}

func levelOf(s State) slog.Level {
	switch s {
	case budget.StatePage, budget.StateExhausted:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
