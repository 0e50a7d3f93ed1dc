package slo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// Engine keeps the error budget of a set of objectives and publishes their
// state.
//
// Events reach it through a Recorder per objective: an atomic add to a
// counter of the recording processor (see Route for requests), no lock,
// no allocation. One evaluation loop, started by Start and stopped by Close,
// folds them into each objective's budget.Ledger about once a second,
// evaluates the alert rules, publishes a Status that Engine.Status returns
// and later evaluations never change, and sends state changes as Events to
// the logger, the event handlers and a bounded timeline. OpenTelemetry reads
// the counts and gauges from the ledgers and the latest Status at collection
// time, so no OpenTelemetry call happens on the request path.
//
// An Engine is safe for concurrent use. Recording works from New on; until
// the first evaluation every objective is StateUnknown.
//
// The zero Engine is not usable: use New.
type Engine struct {
	recs     []*Recorder
	byName   map[string]*Recorder
	logger   *slog.Logger
	handlers []func(Event)
	interval time.Duration

	pub    published // the latest Status; see published.go
	faults atomic.Uint64

	clock       *anchoredClock // the loop's time; see clock.go
	clockOffset atomic.Int64   // the wall clock's lead, set by the loop
	dispatcher  *dispatcher    // delivers events once started; see dispatch.go
	async       atomic.Bool    // whether events go through the dispatcher
	dropped     atomic.Uint64  // items the dispatcher's queue had no room for

	tickMu sync.Mutex // serialises Tick: ledgers belong to one evaluator

	timeline *timeline // see dispatch.go

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

	windows, rules int // of all objectives' reports: see stepBudgets

	breakers  []*Breaker
	burning   []bool // by breaker, scratch of the evaluator (tickMu)
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
	level     float64
	evaluated bool             // false until the first evaluation with shedding
	reject    [4]float64       // by Criticality.Index
	retry     [4]time.Duration // by Criticality.Index
}

// Recorder records the events of one objective. It is resolved once, for
// example when wiring a route, and used on every request.
//
// A Recorder is safe for concurrent use; Record is one atomic add to a
// counter of the recording processor.
//
// The zero Recorder is not usable: a Recorder comes from Engine.Recorder.
type Recorder struct {
	e         *Engine
	index     int // of its outcome counters in the engine's shards
	windows   int // in its reports
	rules     int // in its reports
	dep       int // index of its dependency's breaker; -1 for none
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
	cfg := newConfig(opts)
	e := &Engine{
		byName:   make(map[string]*Recorder, len(objectives)),
		logger:   cfg.logger,
		handlers: cfg.handlers,
		interval: cfg.interval,
		timeline: newTimeline(cfg.timeline, cmp.Or(cfg.changes, keptChanges)),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),

		clock:      newAnchoredClock(cfg.clock),
		dispatcher: newDispatcher(cfg.queueSize),
	}
	errs := cfg.errs
	errs = append(errs, e.addObjectives(objectives, cfg)...)
	e.addBreakers(cfg.breaker)
	errs = append(errs, e.addGates(cfg.gates)...)
	errs = append(errs, e.addRelease(cfg.release)...)
	e.addShedding(cfg)
	e.history = newHistory(cfg.historyEvery, cfg.historySize, len(e.recs))
	e.snap = newSnapshots(cfg.snapshots, e.recs)
	e.fleet = newFleet(cfg.fleet, e.recs, e.clock.now)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	e.pub.publish(e.initialFrame())
	t, err := newTelemetry(e, cfg.meterProvider)
	if err != nil {
		return nil, fmt.Errorf("slo: registering metrics: %w", err)
	}
	e.telemetry = t
	return e, nil
}

// addObjectives validates the objectives and gives each a Recorder and a
// ledger, which also holds the breakers' control window.
func (e *Engine) addObjectives(objectives []Objective, cfg config) (errs []error) {
	if len(objectives) == 0 {
		errs = append(errs, fmt.Errorf("%w: no objectives", ErrInvalidObjective))
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
		l, err := budget.NewLedger(spec.Span(), append(spec.Windows(), cfg.breaker.Window)...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %w", ErrInvalidObjective, o.Name, err))
			continue
		}
		r := &Recorder{e: e, index: len(e.recs), dep: -1, obj: o, spec: spec, ledger: l, threshold: o.Latency,
			controlBurn: fastestPage(spec), windows: len(spec.Windows()), rules: len(spec.Rules)}
		if spec.Rules == nil {
			r.rules = len(budget.DefaultRules())
		}
		e.windows += r.windows
		e.rules += r.rules
		if cfg.shedPolicy.Burn > 0 && o.Dependency == "" {
			r.controlBurn = cfg.shedPolicy.Burn
		}
		e.recs = append(e.recs, r)
		e.byName[o.Name] = r
	}
	return errs
}

// addBreakers gives every dependency that objectives name a Breaker, in the
// order they are first named.
func (e *Engine) addBreakers(p BreakerPolicy) {
	e.byDep = map[string]*Breaker{}
	e.depMin, e.depWindow = p.MinEvents, p.Window
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
	for i, d := range deps {
		for _, r := range grouped[d] {
			r.dep = i
		}
		b := newBreaker(e, d, grouped[d], p, &e.bq, e.clock.now)
		e.breakers = append(e.breakers, b)
		e.byDep[d] = b
	}
	e.burning = make([]bool, len(e.breakers))
}

// addGates validates the gates, which are open until the first evaluation.
func (e *Engine) addGates(gates []gateConfig) (errs []error) {
	e.byGate = map[string]*Gate{}
	for _, g := range gates {
		if err := g.policy.validate(g.name, e); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := e.byGate[g.name]; dup {
			errs = append(errs, fmt.Errorf("%w: gate %q is given twice", ErrInvalidOption, g.name))
			continue
		}
		gate := &Gate{name: g.name, policy: g.policy.withDefaults(), watch: e.watch(g.policy.Objectives), culprit: -1,
			minClosed: g.policy.MinClosed.String()}
		gate.open.Store(true)
		e.gates = append(e.gates, gate)
		e.byGate[g.name] = gate
	}
	return errs
}

// addRelease validates the release policy.
func (e *Engine) addRelease(p ReleasePolicy) (errs []error) {
	if err := p.validate(e); err != nil {
		errs = append(errs, err)
	}
	e.release = release{p: p.withDefaults(), watch: e.watch(p.Objectives)}
	return errs
}

// addShedding sets up admission: the shards every request counts in, the
// control signal's memory, and with shedding the controller and the
// concurrency gate, bounded by the tightest latency objective.
func (e *Engine) addShedding(cfg config) {
	e.shards = newShards(len(e.recs))
	e.meter = newMeter(len(e.recs), controlEvaluations, controlEvaluations*cfg.interval)
	e.shedMin = cfg.shedPolicy.MinEvents
	e.decision.Store(&decision{})
	if cfg.shed == nil {
		return
	}
	p := cfg.shedPolicy
	e.shed = newController(p)
	var threshold time.Duration
	for _, r := range e.recs {
		if r.obj.Dependency == "" && r.threshold > 0 && (threshold == 0 || r.threshold < threshold) {
			threshold = r.threshold
		}
	}
	e.gate = newGate(e.shards, threshold, p.MaxInFlight, p.CriticalPlus)
}

// initialFrame holds the Status until the first evaluation: every
// objective unknown, shedding as configured, breakers closed, gates open.
func (e *Engine) initialFrame() *frame {
	f := e.newFrame()
	st := &f.st
	st.Shedding = SheddingStatus{Enabled: e.shed != nil}
	for i, r := range e.recs {
		os := &st.Objectives[i]
		os.Objective = r.obj
		os.Report = budget.Report{State: budget.StateUnknown, Remaining: 1, TimeToExhaustion: budget.Never}
	}
	for i, b := range e.breakers {
		st.Breakers[i] = BreakerStatus{Dependency: b.name, State: BreakerClosed}
	}
	for i, g := range e.gates {
		st.Gates[i] = GateStatus{Name: g.name, Enabled: true}
	}
	return f
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

// recorders returns the Recorders of the named objectives, in order, for
// wiring one route or method of server middleware. The error lists every
// problem: a name no objective has (ErrUnknownObjective), a name given twice
// (its events would count twice), and an objective of a Dependency, whose
// events belong to that dependency's Breaker, not to a server.
func (e *Engine) recorders(names ...string) ([]*Recorder, error) {
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
func (r *Recorder) Record(o budget.Outcome, latency time.Duration) {
	x := r.e.shards.get()
	r.add(x, r.judge(o, latency))
}

// judge applies the latency threshold to outcome o.
func (r *Recorder) judge(o budget.Outcome, latency time.Duration) budget.Outcome {
	if (o == budget.Good || o == budget.Neutral) && r.threshold > 0 && latency > r.threshold {
		return budget.Bad
	}
	return o
}

// add counts one event of outcome o in shard x; an outcome out of range
// is ignored.
func (r *Recorder) add(x *shard, o budget.Outcome) {
	if o <= budget.Shed {
		x.add(offOutcomes+4*r.index+int(o), 1)
	}
}

// totals returns the recorder's cumulative counts, as the ledger's Totals
// will after the next evaluation.
func (r *Recorder) totals() (c budget.Counts, neutral uint64) {
	at := offOutcomes + 4*r.index
	sh := r.e.shards
	return budget.Counts{Good: sh.sum(at + int(budget.Good)), Bad: sh.sum(at + int(budget.Bad)), Shed: sh.sum(at + int(budget.Shed))},
		sh.sum(at + int(budget.Neutral))
}

// fold adds to the ledger what was recorded since the previous fold.
func (r *Recorder) fold() {
	cur, neutral := r.totals()
	prev, prevNeutral := r.ledger.Totals()
	r.ledger.Add(budget.Good, cur.Good-prev.Good)
	r.ledger.Add(budget.Bad, cur.Bad-prev.Bad)
	r.ledger.Add(budget.Shed, cur.Shed-prev.Shed)
	r.ledger.Add(budget.Neutral, neutral-prevNeutral)
}

// Status returns the latest published snapshot. Later evaluations never
// change it (see Status); it must not be modified, and callers may share
// it. Status takes no lock and does not allocate: the evaluation after a
// call writes into new memory instead.
func (e *Engine) Status() *Status { return e.pub.lend() }

// Events returns the events kept, oldest first: the latest of every kind
// (at most the timeline size, see WithTimelineSize) and, besides them, the
// first and the latest changes of an incident (see History and timeline in
// the package documentation). Events restored from a snapshot (see
// WithSnapshots) come first.
func (e *Engine) Events() []Event { return e.timeline.events() }

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

func levelOf(s budget.State) slog.Level {
	switch s {
	case budget.StatePage, budget.StateExhausted:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func (e *Engine) log(ev Event) {
	ctx := context.Background()
	switch ev.Kind {
	case SheddingChanged:
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
