package slo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/series"
	"github.com/sloguard/sloguard/slo/metrics"
)

// The engine's metrics reach OpenTelemetry by one of two paths: observable
// instruments registered with the MeterProvider (the instrument path, the
// default), or a producer of package slo/otelsdk, which takes them over.
// Both are fed by one function, telemetry.collect, and described by one
// table, series.Table, so that the two cannot differ.

func init() { series.TakeOver = takeOver }

var allStates = []budget.State{budget.StateUnknown, budget.StateOK, budget.StateTicket, budget.StatePage, budget.StateExhausted}

// instruments are the engine's observable instruments, by metric: int64s
// for counters and int64 gauges, float64s for float64 gauges.
type instruments struct {
	int64s   [series.Count]metric.Int64Observable
	float64s [series.Count]metric.Float64Observable
}

// register creates the instrument of every metric of series.Table with
// meter m and returns them for the callback.
func (ins *instruments) register(m metric.Meter) ([]metric.Observable, error) {
	var (
		all  []metric.Observable
		errs []error
	)
	for id, d := range series.Table {
		o, err := ins.create(m, series.Metric(id), d)
		errs = append(errs, err)
		all = append(all, o)
	}
	return all, errors.Join(errs...)
}

// create creates the instrument of metric id, described by d.
func (ins *instruments) create(m metric.Meter, id series.Metric, d series.Desc) (metric.Observable, error) {
	switch d.Kind {
	case series.Counter:
		c, err := m.Int64ObservableCounter(d.Name, metric.WithUnit(d.Unit), metric.WithDescription(d.Description))
		ins.int64s[id] = c
		return c, err
	case series.IntGauge:
		g, err := m.Int64ObservableGauge(d.Name, metric.WithUnit(d.Unit), metric.WithDescription(d.Description))
		ins.int64s[id] = g
		return g, err
	default:
		g, err := m.Float64ObservableGauge(d.Name, metric.WithUnit(d.Unit), metric.WithDescription(d.Description))
		ins.float64s[id] = g
		return g, err
	}
}

// observation passes the data points of one collection to the Observer of
// the instrument path's callback.
type observation struct {
	obs metric.Observer
	ins *instruments
}

func (o observation) Int64(m series.Metric, v int64, a *series.Attrs) {
	o.obs.ObserveInt64(o.ins.int64s[m], v, a.Observe...)
}

func (o observation) Float64(m series.Metric, v float64, a *series.Attrs) {
	o.obs.ObserveFloat64(o.ins.float64s[m], v, a.Observe...)
}

// objectiveAttrs are the precomputed attribute sets of one objective.
type objectiveAttrs struct {
	objective series.Attrs
	outcomes  [budget.Shed + 1]series.Attrs
	windows   []series.Attrs // by index in the spec's windows, as in its Report
	states    []series.Attrs // by State
}

func newObjectiveAttrs(r *Recorder) objectiveAttrs {
	name := attribute.String(metrics.AttrObjective, r.obj.Name)
	a := objectiveAttrs{objective: series.NewAttrs(name)}
	for _, oc := range []budget.Outcome{budget.Neutral, budget.Good, budget.Bad, budget.Shed} {
		a.outcomes[oc] = series.NewAttrs(name, attribute.String(metrics.AttrOutcome, oc.String()))
	}
	for _, w := range r.spec.Windows() {
		a.windows = append(a.windows, series.NewAttrs(name, attribute.String(metrics.AttrWindow, budget.FormatWindow(w))))
	}
	for _, s := range allStates {
		a.states = append(a.states, series.NewAttrs(name, attribute.String(metrics.AttrState, s.String())))
	}
	return a
}

// telemetry is the engine's registration with its MeterProvider and the
// attribute sets that its collection passes.
type telemetry struct {
	mu     sync.Mutex
	reg    metric.Registration // guarded by mu; nil once taken over or closed
	closed atomic.Bool

	ins        instruments
	none       series.Attrs // the empty set, of the service's own series
	objectives []objectiveAttrs
	crit       [4]series.Attrs   // by Criticality.Index
	gates      []series.Attrs    // by gate
	breakers   [][3]series.Attrs // by breaker, then BreakerState
}

func newTelemetry(e *Engine, mp metric.MeterProvider) (*telemetry, error) {
	t := &telemetry{none: series.NewAttrs(), objectives: make([]objectiveAttrs, len(e.recs))}
	m := mp.Meter(metrics.Scope)
	all, err := t.ins.register(m)
	if err != nil {
		return nil, err
	}
	for c := Sheddable; c <= CriticalPlus; c++ {
		t.crit[c.Index()] = series.NewAttrs(attribute.String(metrics.AttrCriticality, c.String()))
	}
	for _, g := range e.gates {
		t.gates = append(t.gates, series.NewAttrs(attribute.String(metrics.AttrGate, g.name)))
	}
	for _, b := range e.breakers {
		var bs [3]series.Attrs
		for _, s := range []BreakerState{BreakerClosed, BreakerHalfOpen, BreakerOpen} {
			bs[s] = series.NewAttrs(attribute.String(metrics.AttrDependency, b.name), attribute.String(metrics.AttrState, s.String()))
		}
		t.breakers = append(t.breakers, bs)
	}
	for i, r := range e.recs {
		t.objectives[i] = newObjectiveAttrs(r)
	}
	t.reg, err = m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		t.collect(e, observation{obs: obs, ins: &t.ins})
		return nil
	}, all...)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// collect passes every data point of the engine to s, from the recorders'
// counts and the latest Status, which it reads without lending it (see
// published): a collection costs the evaluation no new Status.
func (t *telemetry) collect(e *Engine, s series.Sink) {
	e.pub.read(func(st *Status) { t.collectStatus(e, st, s) })
}

// collectStatus passes every data point of the engine to s, from the
// recorders' counts and st: the one definition of what the engine
// exports, with which attributes, and when a series is absent.
func (t *telemetry) collectStatus(e *Engine, st *Status, s series.Sink) {
	for i, r := range e.recs {
		t.collectObjective(r, &st.Objectives[i], &t.objectives[i], s)
	}
	t.collectService(e, st, s)
}

// collectObjective passes the data points of objective r, whose status is
// os, to s.
func (t *telemetry) collectObjective(r *Recorder, os *ObjectiveStatus, a *objectiveAttrs, s series.Sink) {
	c, neutral := r.totals()
	s.Int64(series.Events, clampInt64(c.Good), &a.outcomes[budget.Good])
	s.Int64(series.Events, clampInt64(c.Bad), &a.outcomes[budget.Bad])
	s.Int64(series.Events, clampInt64(c.Shed), &a.outcomes[budget.Shed])
	s.Int64(series.Events, clampInt64(neutral), &a.outcomes[budget.Neutral])
	s.Float64(series.Target, r.obj.Target, &a.objective)

	rep := &os.Report
	for _, st := range allStates {
		s.Int64(series.State, boolInt(st == rep.State), &a.states[st])
	}
	if rep.State != budget.StateUnknown {
		s.Float64(series.Remaining, rep.Remaining, &a.objective)
	}
	for j, w := range rep.Windows {
		if w.Counts.Total() > 0 && j < len(a.windows) {
			s.Float64(series.BurnRate, w.Burn, &a.windows[j])
		}
	}
	if os.ControlKnown {
		s.Float64(series.ControlBurn, os.ControlBurn, &a.objective)
	}
}

// collectService passes the data points of the service as a whole
// (shedding, breakers, gates, release freeze, faults, scale signal) to s.
func (t *telemetry) collectService(e *Engine, st *Status, s series.Sink) {
	if st.Shedding.Enabled {
		s.Float64(series.ShedLevel, st.Shedding.Level, &t.none)
		for b := range bands {
			s.Int64(series.ShedRejected, clampInt64(e.shards.sum(offRejected+b)), &t.crit[b])
		}
	}
	for i, bs := range st.Breakers {
		for j := range t.breakers[i] {
			s.Int64(series.BreakerState, boolInt(BreakerState(j) == bs.State), &t.breakers[i][j])
		}
	}
	for i, g := range st.Gates {
		s.Int64(series.GateEnabled, boolInt(g.Enabled), &t.gates[i])
	}
	s.Int64(series.ReleaseFrozen, boolInt(st.Release.Frozen), &t.none)
	s.Int64(series.Faults, clampInt64(e.faults.Load()), &t.none)
	if sc := &st.Scale; sc.Known {
		s.Float64(series.ScaleNeed, sc.Need, &t.none)
		for b := range bands {
			s.Float64(series.ScaleDemand, sc.Demand[b], &t.crit[b])
		}
	}
}

// takeOver is series.TakeOver.
func takeOver(e any) (series.Source, error) {
	eng := e.(*Engine)
	return eng.telemetry.takeOver(eng)
}

// takeOver unregisters the instrument path's callback and returns the
// series of engine e to a producer, once.
func (t *telemetry) takeOver(e *Engine) (series.Source, error) {
	reg, err := t.handOver()
	if err != nil {
		return series.Source{}, err
	}
	src := series.Source{Start: e.clock.anchor, Collect: func(s series.Sink) bool {
		if t.closed.Load() {
			return false
		}
		t.collect(e, s)
		return true
	}}
	return src, reg.Unregister()
}

// handOver marks the series taken over and returns the registration for
// the caller to unregister, or why they cannot be taken over.
func (t *telemetry) handOver() (metric.Registration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed.Load():
		return nil, ErrClosed
	case t.reg == nil: // not closed: a producer took the series over
		return nil, series.ErrTakenOver
	}
	return t.release(), nil
}

// close stops the engine's metrics, on either path.
func (t *telemetry) close() error {
	t.mu.Lock()
	t.closed.Store(true)
	reg := t.release()
	t.mu.Unlock()
	if reg == nil {
		return nil
	}
	return reg.Unregister()
}

// release returns the registration of the instrument path's callback, for
// its caller to unregister outside the lock, and forgets it. t.mu is held.
func (t *telemetry) release() metric.Registration {
	reg := t.reg
	t.reg = nil
	return reg
}

func clampInt64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
