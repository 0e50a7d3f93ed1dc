package slo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
// Events reach it through a Recorder per objective: an atomic add to a
// counter of the recording processor (see Route for requests), no lock,
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

	clock       *anchoredClock // the loop's time; see clock.go
	clockOffset atomic.Int64   // the wall clock's lead, set by the loop
	dispatcher  *dispatcher    // delivers events once started; see dispatch.go
	async       atomic.Bool    // whether events go through the dispatcher
	dropped     atomic.Uint64  // items the dispatcher's queue had no room for

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

	// Admission. shards hold what every request counts; decision is the
	// controller's, read by Route.Admit; gate is nil when shedding is
	// off. shed and meter belong to the evaluator (tickMu).
	shards   *shards
	decision atomic.Pointer[decision]
	gate     *gate
	shed     *controller // nil when shedding is off
	meter    *meter      // the control signal's memory, also without shedding
	shedMin  uint64
	scale    scaler // the scale signal's memory (tickMu); see ScaleStatus

	breakers  []*Breaker
	byDep     map[string]*Breaker
	depMin    uint64
	depWindow time.Duration
	bq        breakerEvents

	history *history
	gates   []*Gate
	byGate  map[string]*Gate
	release release // owned by the evaluator (tickMu)

	telemetry *telemetry

	snap  *snapshots // nil without WithSnapshots
	fleet *fleet     // nil without WithFleet
}

// decision is the admission state published by each evaluation.
type decision struct {
	level  float64
	reject [4]float64       // by Criticality
	retry  [4]time.Duration // by Criticality
}

// Recorder records the events of one objective. It is resolved once, for
// example when wiring a route, and used on every request.
//
// A Recorder is safe for concurrent use; Record is one atomic add to a
// counter of the recording processor.
type Recorder struct {
	e         *Engine
	index     int // of its outcome counters in the engine's shards
	obj       Objective
	spec      budget.Spec
	ledger    *budget.Ledger
	threshold time.Duration
	// controlBurn is the admitted burn rate over the control window at
	// which this objective sheds load or opens its dependency's breaker.
	controlBurn float64
}

// New returns an Engine for the given objectives. It validates all of them
// and all options, and reports every problem at once.
func New(objectives []Objective, opts ...Option) (*Engine, error) {
	cfg := config{interval: time.Second, timeline: 256, historyEvery: time.Minute, historySize: 360}
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("%w: option %d is nil", ErrInvalidOption, i))
			continue
		}
		o.apply(&cfg)
	}
	cfg.breaker = cfg.breaker.withDefaults()
	shedPolicy := ShedPolicy{}.withDefaults()
	if cfg.shed != nil {
		shedPolicy = *cfg.shed
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

		clock:      newAnchoredClock(cfg.clock),
		dispatcher: newDispatcher(cmp.Or(cfg.queueSize, queueSize)),

		shedMin:   shedPolicy.MinEvents,
		byDep:     map[string]*Breaker{},
		depMin:    cfg.breaker.MinEvents,
		depWindow: cfg.breaker.Window,
	}
	if cfg.shed != nil {
		e.shed = newController(shedPolicy)
	}
	e.decision.Store(&decision{})
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
		l, err := budget.NewLedger(spec.Span(), append(spec.Windows(), cfg.breaker.Window)...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %w", ErrInvalidObjective, o.Name, err))
			continue
		}
		r := &Recorder{e: e, index: len(e.recs), obj: o, spec: spec, ledger: l, threshold: o.Latency, controlBurn: fastestPage(spec)}
		if shedPolicy.Burn > 0 && o.Dependency == "" {
			r.controlBurn = shedPolicy.Burn
		}
		e.recs = append(e.recs, r)
		e.byName[o.Name] = r
	}
	var deps []string
	grouped := map[string][]*Recorder{}
	for _, r := range e.recs {
		if d := r.obj.Dependency; d != "" {
			if _, seen := grouped[d]; !seen {
				deps = append(deps, d)
			}
			grouped[d] = append(grouped[d], r)
		}
	}
	for _, d := range deps {
		b := newBreaker(e, d, grouped[d], cfg.breaker, &e.bq, e.clock.now)
		e.breakers = append(e.breakers, b)
		e.byDep[d] = b
	}
	e.byGate = map[string]*Gate{}
	for _, g := range cfg.gates {
		if err := g.policy.validate(g.name, e); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := e.byGate[g.name]; dup {
			errs = append(errs, fmt.Errorf("%w: gate %q is given twice", ErrInvalidOption, g.name))
			continue
		}
		p := g.policy
		if p.Hysteresis == 0 {
			p.Hysteresis = 0.02
		}
		gate := &Gate{name: g.name, policy: p, watch: e.watch(p.Objectives), culprit: -1}
		gate.open.Store(true)
		e.gates = append(e.gates, gate)
		e.byGate[g.name] = gate
	}
	if err := cfg.release.validate(e); err != nil {
		errs = append(errs, err)
	}
	if cfg.release.Hysteresis == 0 {
		cfg.release.Hysteresis = 0.05
	}
	e.release = release{p: cfg.release, watch: e.watch(cfg.release.Objectives)}
	e.history = newHistory(cfg.historyEvery, cfg.historySize, len(e.recs))
	e.snap = newSnapshots(cfg.snapshots, e.recs)
	e.fleet = newFleet(cfg.fleet, e.recs, e.clock.now)
	e.meter = newMeter(len(e.recs), controlEvaluations, controlEvaluations*cfg.interval)
	e.shards = newShards(len(e.recs))
	if e.shed != nil {
		var threshold time.Duration // the tightest latency objective's
		for _, r := range e.recs {
			if r.obj.Dependency == "" && r.threshold > 0 && (threshold == 0 || r.threshold < threshold) {
				threshold = r.threshold
			}
		}
		e.gate = newGate(e.shards, threshold, shedPolicy.MaxInFlight, shedPolicy.CriticalPlus)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	// Until the first evaluation: shedding as configured, breakers closed.
	st := &Status{
		Objectives: make([]ObjectiveStatus, len(e.recs)),
		Shed:       ShedStatus{Enabled: e.shed != nil},
		Breakers:   make([]BreakerStatus, len(e.breakers)),
	}
	for i, b := range e.breakers {
		st.Breakers[i] = BreakerStatus{Dependency: b.name, State: BreakerClosed}
	}
	st.Gates = make([]GateStatus, len(e.gates))
	for i, g := range e.gates {
		st.Gates[i] = GateStatus{Name: g.name, Enabled: true}
	}
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

// Recorders returns the Recorders of the named objectives, in order, for
// wiring one route or method of server middleware. The error lists every
// problem: a name no objective has (ErrUnknownObjective), a name given twice
// (its events would count twice), and an objective of a Dependency, whose
// events belong to that dependency's Breaker, not to a server.
func (e *Engine) Recorders(names ...string) ([]*Recorder, error) {
	var errs []error
	recs := make([]*Recorder, 0, len(names))
	for i, n := range names {
		r, ok := e.byName[n]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%w %q", ErrUnknownObjective, n))
		case slices.Contains(names[:i], n):
			errs = append(errs, fmt.Errorf("%w: objective %q is named twice", ErrInvalidOption, n))
		case r.obj.Dependency != "":
			errs = append(errs, fmt.Errorf("%w: objective %q is of dependency %q: record it through its Breaker",
				ErrInvalidOption, n, r.obj.Dependency))
		default:
			recs = append(recs, r)
		}
	}
	return recs, errors.Join(errs...)
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
// Record is one atomic add to a counter of the recording processor, which
// the evaluation adds up: it never blocks, allocates or fails.
func (r *Recorder) Record(o Outcome, latency time.Duration) {
	x := r.e.shards.get()
	r.add(x, r.judge(o, latency))
}

// judge applies the latency threshold to outcome o.
func (r *Recorder) judge(o Outcome, latency time.Duration) Outcome {
	if (o == Good || o == Neutral) && r.threshold > 0 && latency > r.threshold {
		return Bad
	}
	return o
}

// add counts one event of outcome o in shard x; an outcome out of range
// is ignored.
func (r *Recorder) add(x *shard, o Outcome) {
	if o <= Shed {
		x.add(offOutcomes+4*r.index+int(o), 1)
	}
}

// totals returns the recorder's cumulative counts, as the ledger's Totals
// will after the next evaluation.
func (r *Recorder) totals() (c budget.Counts, neutral uint64) {
	at := offOutcomes + 4*r.index
	sh := r.e.shards
	return budget.Counts{Good: sh.sum(at + int(Good)), Bad: sh.sum(at + int(Bad)), Shed: sh.sum(at + int(Shed))},
		sh.sum(at + int(Neutral))
}

// fold adds to the ledger what was recorded since the previous fold.
func (r *Recorder) fold() {
	cur, neutral := r.totals()
	prev, prevNeutral := r.ledger.Totals()
	r.ledger.Add(Good, cur.Good-prev.Good)
	r.ledger.Add(Bad, cur.Bad-prev.Bad)
	r.ledger.Add(Shed, cur.Shed-prev.Shed)
	r.ledger.Add(Neutral, neutral-prevNeutral)
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
// interval (see WithInterval) until Close, at the engine's time (see Time
// in the package documentation), and the goroutine that delivers events to
// the logger and the handlers (see WithEventHandler). Calling Start again
// does nothing; after Close it returns ErrClosed.
func (e *Engine) Start() error {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	if !e.started {
		e.started = true
		e.async.Store(true)
		go e.dispatch()
		go e.run()
		e.snap.start(e)
		e.fleet.start()
	}
	return nil
}

// Close stops the evaluation loop and the fleet reader, waits for them to
// return, lets the event dispatcher deliver what is queued for at most a
// second, saves a final snapshot (with WithSnapshots, if the engine
// evaluated at least once; for at most 10 seconds) and unregisters the
// engine's metrics. It returns even when an event handler or the logger
// blocks: that call keeps its goroutine until it returns, and then the
// goroutine exits without delivering more (the rest counts as dropped).
// Recording stays safe after Close but is no longer evaluated or
// exported. Close is idempotent; the error of the final snapshot is
// returned, joined with any other.
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
		e.stopDispatch()
	}
	e.fleet.close()
	return errors.Join(e.snap.close(e), e.telemetry.close())
}

func (e *Engine) run() {
	defer close(e.done)
	t := time.NewTicker(e.interval)
	defer t.Stop()
	e.tick()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.tick()
		}
	}
}

// tick is one evaluation of the loop, at the engine's time (see clock.go).
func (e *Engine) tick() {
	now := e.clock.now()
	offset, step := e.clock.check(now)
	e.clockOffset.Store(int64(offset))
	if step != 0 {
		e.faults.Add(1)
		e.enqueue(item{note: noteClockStep, step: step})
	}
	e.Tick(now)
}

// Tick evaluates every objective at time now: it folds the events recorded
// since the previous Tick into the ledgers, evaluates the rules, publishes a
// new Status and sends the state changes as events. The evaluation loop
// calls it every interval; call it directly only to drive an Engine that was
// not started, as simulations and tests do, and from one goroutine, so that
// events keep their order; it then calls the logger and the event handlers
// itself before it returns. A time earlier than a previous Tick is taken as
// that previous time.
func (e *Engine) Tick(now time.Time) {
	e.publish(e.evaluate(now))
}

func (e *Engine) evaluate(now time.Time) []Event {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	prev := e.status.Load()
	if now.Before(prev.Time) {
		now = prev.Time // as the ledgers do: time never runs backwards
	}
	st := &Status{Time: now, Objectives: make([]ObjectiveStatus, len(e.recs))}
	events := e.bq.drain() // breaker changes since the previous evaluation
	events = append(events, e.snap.begin(e, now)...)
	sig := signal{calm: true}
	// Admissions and rejections by Criticality, from the gate's counts
	// by band.
	var admitted, rejected [4]uint64
	w := e.shards.window()
	for _, c := range Criticalities {
		b := c.bandIndex()
		admitted[c], rejected[c] = w.arrived[b]-w.rejected[b], w.rejected[b]
	}
	e.meter.begin(now, admitted, rejected)
	burning := map[string]bool{}
	for _, r := range e.recs {
		r.fold()
		r.ledger.Advance(now)
	}
	if e.fleet != nil {
		e.faults.Add(uint64(e.fleet.judge(e, now)))
	}
	for i, r := range e.recs {
		local := budget.Evaluate(r.ledger, r.spec, now)
		rep := local
		src, view, viewTime, changed := e.view(i, now)
		if view == ViewFleet {
			// As of the read: the fleet's windows end then.
			rep = budget.Evaluate(src, r.spec, viewTime)
		}
		if changed != nil {
			events = append(events, *changed)
		}
		totals, neutral := r.ledger.Totals()
		os := ObjectiveStatus{Objective: r.obj, Report: rep, Totals: totals, Neutral: neutral,
			View: view, ViewTime: viewTime, Local: local}

		// The control signals, admitted traffic only, so that shedding can
		// not feed on itself: a dependency's breaker over the ledger's
		// window; shedding over the latest evaluations, exactly.
		if d := r.obj.Dependency; d != "" {
			c := r.ledger.Sum(now, e.depWindow)
			os.ControlBurn = budget.Burn(c.Bad, c.Admitted(), r.spec.Target)
			os.ControlKnown = c.Admitted() >= e.depMin
			burning[d] = burning[d] || os.ControlKnown && os.ControlBurn >= r.controlBurn
		} else {
			c := e.meter.add(i, totals.Good, totals.Bad)
			os.ControlBurn = budget.Burn(c.bad, c.good+c.bad, r.spec.Target)
			os.ControlKnown = c.good+c.bad >= e.shedMin
			if os.ControlKnown && os.ControlBurn >= r.controlBurn {
				sig.hot = true
			}
			if os.ControlKnown && os.ControlBurn >= e.releaseBurn() {
				sig.calm = false
			}
		}
		st.Objectives[i] = os
		if from := prev.Objectives[i].Report.State; from != rep.State {
			ev := objectiveEvent(now, StateChanged, os)
			ev.From, ev.To = from, rep.State
			events = append(events, ev)
		}
	}
	st.Shed.Enabled = e.shed != nil
	if e.shed != nil {
		_, sig.demand, _ = e.meter.rates()
		// Shedding helps only an overloaded service: while the gate sees
		// the service far from its limit, or a dependency's breaker is
		// not closed, a burn comes from elsewhere (a dependency that
		// fails, a bug) and the level holds.
		if idle := e.gate.idle(); sig.hot && (idle || e.dependencyDown()) {
			sig.hot = false
		}
		from := e.shed.level
		e.shed.step(now, sig)
		level := e.shed.level
		d := &decision{level: level}
		for _, c := range Criticalities {
			d.reject[c] = rejectProbability(level, c)
			d.retry[c] = e.shed.p.retryAfter(level, c)
		}
		e.decision.Store(d)
		e.gate.setTighten(e.shed.tighten)
		st.Shed.Level, st.Shed.Reject = level, d.reject
		st.Shed.Limit, st.Shed.InFlight = e.gate.state()
		if math.Ceil(from) != math.Ceil(level) {
			events = append(events, Event{Time: now, Kind: ShedChanged, FromLevel: from, Level: level})
		}
	}
	st.Shed.Rejected = rejected // read for the meter at the start of this evaluation
	st.Breakers = make([]BreakerStatus, len(e.breakers))
	for i, b := range e.breakers {
		b.burning.Store(burning[b.name])
		bs := BreakerStatus{Dependency: b.name, State: b.State(), Burning: burning[b.name]}
		if bs.State == BreakerOpen {
			bs.RetryAfter = b.retryAfter(now)
		}
		st.Breakers[i] = bs
	}
	// State() may have moved a breaker from open to half-open just now.
	events = append(events, e.bq.drain()...)
	if e.gate != nil {
		st.Scale = e.scale.step(now, scaleInput{w: w, gated: e.shards.sum(offGated),
			trouble: troubled(st.Breakers), tightened: e.shed.tighten < 1})
	}

	wasFrozen := prev.Release.Frozen
	st.Release = e.release.judge(e, st.Objectives, now)
	if st.Release.Frozen != wasFrozen {
		// The numbers of the objective that froze releases, also when
		// they go on again: what the postmortem needs.
		ev := objectiveEvent(now, FreezeChanged, st.Objectives[e.release.culprit])
		ev.Frozen, ev.Reason = st.Release.Frozen, st.Release.Reason
		events = append(events, ev)
	}
	st.Gates = make([]GateStatus, len(e.gates))
	for i, g := range e.gates {
		open, reason, culprit := g.judge(st.Objectives, st.Release.Frozen)
		wasOpen := g.open.Load()
		switch {
		case !open:
			g.lastReason = reason
			if culprit >= 0 {
				g.culprit = culprit
			}
			if wasOpen {
				g.closedAt = now
			}
		case !wasOpen && now.Sub(g.closedAt) < g.policy.MinClosed:
			open = false
			reason = fmt.Sprintf("%s; held closed for at least %v", g.lastReason, g.policy.MinClosed)
		}
		if wasOpen != open {
			g.open.Store(open)
			ev := Event{Time: now, Kind: GateChanged}
			if g.culprit >= 0 {
				ev = objectiveEvent(now, GateChanged, st.Objectives[g.culprit])
			}
			ev.Gate, ev.Enabled, ev.Reason = g.name, open, reason
			events = append(events, ev)
		}
		st.Gates[i] = GateStatus{Name: g.name, Enabled: open, Reason: reason}
	}
	e.history.observe(now, st.Objectives)
	e.snap.end(e, now)
	st.Faults = e.faults.Load()
	st.DroppedEvents = e.dropped.Load()
	st.ClockOffset = time.Duration(e.clockOffset.Load())
	e.status.Store(st)
	return events
}

// dependencyDown reports whether some dependency's breaker is not closed.
func (e *Engine) dependencyDown() bool {
	for _, b := range e.breakers {
		if b.State() != BreakerClosed {
			return true
		}
	}
	return false
}

func (e *Engine) releaseBurn() float64 {
	if e.shed != nil {
		return e.shed.p.ReleaseBurn
	}
	return 1
}

// fastestPage returns the threshold of the spec's fastest page rule (the
// highest page threshold), the default control burn rate. A calendar
// period's thresholds change with its length; its longest is taken.
func fastestPage(s budget.Spec) float64 {
	var page, any float64
	for _, r := range s.Rules {
		t := r.Threshold(s.Span())
		if r.Severity == budget.Page {
			page = max(page, t)
		}
		any = max(any, t)
	}
	switch {
	case page > 0:
		return page
	case any > 0:
		return any
	}
	return 14.4
}

// Breaker returns the circuit breaker of the named dependency, or an error
// wrapping ErrUnknownObjective when no objective names that dependency.
func (e *Engine) Breaker(dependency string) (*Breaker, error) {
	b, ok := e.byDep[dependency]
	if !ok {
		return nil, fmt.Errorf("%w: no objective has dependency %q", ErrUnknownObjective, dependency)
	}
	return b, nil
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

func (e *Engine) log(ev Event) {
	ctx := context.Background()
	switch ev.Kind {
	case ShedChanged:
		level := slog.LevelInfo
		if ev.Level > ev.FromLevel {
			level = slog.LevelWarn
		}
		e.logger.LogAttrs(ctx, level, "sloguard: shed level changed",
			slog.Float64("from", ev.FromLevel),
			slog.Float64("to", ev.Level),
		)
	case BreakerChanged:
		level := slog.LevelInfo
		if ev.BreakerTo == BreakerOpen {
			level = slog.LevelWarn
		}
		e.logger.LogAttrs(ctx, level, "sloguard: breaker state changed",
			slog.String("dependency", ev.Dependency),
			slog.String("from", ev.BreakerFrom.String()),
			slog.String("to", ev.BreakerTo.String()),
		)
	case GateChanged:
		level := slog.LevelInfo
		if !ev.Enabled {
			level = slog.LevelWarn
		}
		e.logger.LogAttrs(ctx, level, "sloguard: gate changed",
			slog.String("gate", ev.Gate),
			slog.Bool("enabled", ev.Enabled),
			slog.String("reason", ev.Reason),
		)
	case FreezeChanged:
		level := slog.LevelInfo
		if ev.Frozen {
			level = slog.LevelWarn
		}
		e.logger.LogAttrs(ctx, level, "sloguard: release freeze changed",
			slog.Bool("frozen", ev.Frozen),
			slog.String("reason", ev.Reason),
		)
	case SnapshotRestored, SnapshotRefused, SnapshotFailed, SnapshotRecovered, ViewChanged:
		e.logOwn(ctx, ev)
	default:
		e.logger.LogAttrs(ctx, levelOf(ev.To), "sloguard: objective state changed",
			slog.String("objective", ev.Objective),
			slog.String("from", ev.From.String()),
			slog.String("to", ev.To.String()),
			slog.Float64("remaining", ev.Remaining),
		)
	}
}

// watch returns the indexes of the named objectives, or of every service
// (non-dependency) objective when names is empty. The names were checked.
func (e *Engine) watch(names []string) []int {
	var idx []int
	for i, r := range e.recs {
		if len(names) == 0 && r.obj.Dependency == "" || slices.Contains(names, r.obj.Name) {
			idx = append(idx, i)
		}
	}
	return idx
}

// Gate returns the named gate, or an error wrapping ErrUnknownGate.
func (e *Engine) Gate(name string) (*Gate, error) {
	g, ok := e.byGate[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownGate, name)
	}
	return g, nil
}

// objectiveEvent returns an event of the given kind with the objective's
// name, remaining budget and burn rates at now.
func objectiveEvent(now time.Time, kind EventKind, os ObjectiveStatus) Event {
	rep := os.Report
	ev := Event{
		Time:      now,
		Kind:      kind,
		Objective: os.Objective.Name,
		Remaining: rep.Remaining,
		Burns:     make([]WindowBurn, len(rep.Windows)),
	}
	for j, w := range rep.Windows {
		ev.Burns[j] = WindowBurn{Window: w.Window, Burn: w.Burn}
	}
	return ev
}
