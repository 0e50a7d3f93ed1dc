package slo

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo/metrics"
)

var allStates = []budget.State{budget.StateUnknown, budget.StateOK, budget.StateTicket, budget.StatePage, budget.StateExhausted}

// instruments are the engine's observable instruments, all observed by one
// callback.
type instruments struct {
	events, faults, shedRejected                    metric.Int64ObservableCounter
	state, breakerState, gateEnabled, releaseFrozen metric.Int64ObservableGauge
	remaining, burn, target, controlBurn, shedLevel metric.Float64ObservableGauge
	scaleNeed, scaleDemand                          metric.Float64ObservableGauge
}

// instrument is one row of the registration table: exactly one of its
// destinations is set.
type instrument struct {
	name, unit, description string
	intCounter              *metric.Int64ObservableCounter
	intGauge                *metric.Int64ObservableGauge
	floatGauge              *metric.Float64ObservableGauge
}

// table returns the registration table of ins.
func (ins *instruments) table() []instrument {
	return []instrument{
		{name: metrics.Events, unit: "{event}", intCounter: &ins.events,
			description: "SLI events recorded by sloguard, by objective and outcome (good, bad, shed, neutral)."},
		{name: metrics.Remaining, unit: "1", floatGauge: &ins.remaining,
			description: "Share of the objective's error budget left over its period; below 0 when overspent. Absent while the state is unknown."},
		{name: metrics.BurnRate, unit: "1", floatGauge: &ins.burn,
			description: "Error budget burn rate over a trailing window; 1 spends the whole budget in one period. Absent for windows with no events."},
		{name: metrics.State, unit: "{state}", intGauge: &ins.state,
			description: "1 for the objective's current alerting state (unknown, ok, ticket, page, exhausted), 0 for the others."},
		{name: metrics.Target, unit: "1", floatGauge: &ins.target,
			description: "The objective's target, the share of events that must be good."},
		{name: metrics.Faults, unit: "{fault}", intCounter: &ins.faults,
			description: "sloguard's own faults, such as panicking event handlers, events dropped for slow handlers and wall-clock steps; requests are never affected."},
		{name: metrics.ControlBurn, unit: "1", floatGauge: &ins.controlBurn,
			description: "Burn rate of admitted traffic only over the control window: the signal that drives load shedding and dependency breakers. Absent with too few events."},
		{name: metrics.ShedLevel, unit: "1", floatGauge: &ins.shedLevel,
			description: "Load shedding level: 0 sheds nothing, 1 all SHEDDABLE, 2 all SHEDDABLE_PLUS too, 3 all CRITICAL too. Absent when shedding is off."},
		{name: metrics.ShedRejected, unit: "{request}", intCounter: &ins.shedRejected,
			description: "Requests rejected by load shedding, by criticality."},
		{name: metrics.BreakerState, unit: "{state}", intGauge: &ins.breakerState,
			description: "1 for the current state of a dependency's circuit breaker (closed, half-open, open), 0 for the others."},
		{name: metrics.GateEnabled, intGauge: &ins.gateEnabled,
			description: "1 while a budget-gated feature flag is enabled, 0 while the budget keeps it off."},
		{name: metrics.ReleaseFrozen, intGauge: &ins.releaseFrozen,
			description: "1 while the error budget policy freezes releases, else 0."},
		{name: metrics.ScaleNeed, unit: "1", floatGauge: &ins.scaleNeed,
			description: "How many times its current capacity the service needs to serve its whole demand, shed demand included: 1 is enough, below 1 leaves room. Summed over replicas: the replicas needed. Absent until known."},
		{name: metrics.ScaleDemand, unit: "{request}/s", floatGauge: &ins.scaleDemand,
			description: "Requests per second that reached admission, admitted or shed, smoothed, by criticality: the demand behind sloguard.scale.need. Absent until known."},
	}
}

// register creates every instrument of the table with meter m and returns
// them for the callback.
func (ins *instruments) register(m metric.Meter) ([]metric.Observable, error) {
	var (
		all  []metric.Observable
		errs []error
	)
	for _, in := range ins.table() {
		var (
			o   metric.Observable
			err error
		)
		switch {
		case in.intCounter != nil:
			*in.intCounter, err = m.Int64ObservableCounter(in.name, metric.WithUnit(in.unit), metric.WithDescription(in.description))
			o = *in.intCounter
		case in.intGauge != nil:
			*in.intGauge, err = m.Int64ObservableGauge(in.name, metric.WithUnit(in.unit), metric.WithDescription(in.description))
			o = *in.intGauge
		default:
			*in.floatGauge, err = m.Float64ObservableGauge(in.name, metric.WithUnit(in.unit), metric.WithDescription(in.description))
			o = *in.floatGauge
		}
		errs = append(errs, err)
		all = append(all, o)
	}
	return all, errors.Join(errs...)
}

// attrs are the options of one precomputed attribute set, built once so
// that an observation allocates nothing of its own: passed as opts..., the
// slice is not copied.
type attrs []metric.ObserveOption

func attrSet(kvs ...attribute.KeyValue) attrs {
	return attrs{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}

// objectiveAttrs are the precomputed attribute sets of one objective.
type objectiveAttrs struct {
	objective attrs
	outcomes  [budget.Shed + 1]attrs
	windows   []attrs // by index in the spec's windows, as in its Report
	states    []attrs // by State
}

func newObjectiveAttrs(r *Recorder) objectiveAttrs {
	name := attribute.String(metrics.AttrObjective, r.obj.Name)
	a := objectiveAttrs{objective: attrSet(name)}
	for _, oc := range []budget.Outcome{budget.Neutral, budget.Good, budget.Bad, budget.Shed} {
		a.outcomes[oc] = attrSet(name, attribute.String(metrics.AttrOutcome, oc.String()))
	}
	for _, w := range r.spec.Windows() {
		a.windows = append(a.windows, attrSet(name, attribute.String(metrics.AttrWindow, budget.FormatWindow(w))))
	}
	for _, s := range allStates {
		a.states = append(a.states, attrSet(name, attribute.String(metrics.AttrState, s.String())))
	}
	return a
}

// telemetry is the engine's registration with its MeterProvider and what
// its callback observes with.
type telemetry struct {
	reg        metric.Registration
	ins        instruments
	objectives []objectiveAttrs
	crit       [4]attrs   // by Criticality.Index
	gates      []attrs    // by gate
	breakers   [][3]attrs // by breaker, then BreakerState
}

func newTelemetry(e *Engine, mp metric.MeterProvider) (*telemetry, error) {
	t := &telemetry{objectives: make([]objectiveAttrs, len(e.recs))}
	m := mp.Meter(metrics.Scope)
	all, err := t.ins.register(m)
	if err != nil {
		return nil, err
	}
	for c := Sheddable; c <= CriticalPlus; c++ {
		t.crit[c.Index()] = attrSet(attribute.String(metrics.AttrCriticality, c.String()))
	}
	for _, g := range e.gates {
		t.gates = append(t.gates, attrSet(attribute.String(metrics.AttrGate, g.name)))
	}
	for _, b := range e.breakers {
		var bs [3]attrs
		for _, s := range []BreakerState{BreakerClosed, BreakerHalfOpen, BreakerOpen} {
			bs[s] = attrSet(attribute.String(metrics.AttrDependency, b.name), attribute.String(metrics.AttrState, s.String()))
		}
		t.breakers = append(t.breakers, bs)
	}
	for i, r := range e.recs {
		t.objectives[i] = newObjectiveAttrs(r)
	}
	t.reg, err = m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		t.observe(e, obs)
		return nil
	}, all...)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// observe observes every series from the recorders' counts and the latest
// Status, which it reads without lending it (see published): a collection
// costs the evaluation no new Status.
func (t *telemetry) observe(e *Engine, obs metric.Observer) {
	e.pub.read(func(st *Status) { t.observeStatus(e, st, obs) })
}

// observeStatus observes every series from the recorders' counts and st.
func (t *telemetry) observeStatus(e *Engine, st *Status, obs metric.Observer) {
	ins := &t.ins
	for i, r := range e.recs {
		a := &t.objectives[i]
		c, neutral := r.totals()
		obs.ObserveInt64(ins.events, clampInt64(c.Good), a.outcomes[budget.Good]...)
		obs.ObserveInt64(ins.events, clampInt64(c.Bad), a.outcomes[budget.Bad]...)
		obs.ObserveInt64(ins.events, clampInt64(c.Shed), a.outcomes[budget.Shed]...)
		obs.ObserveInt64(ins.events, clampInt64(neutral), a.outcomes[budget.Neutral]...)
		obs.ObserveFloat64(ins.target, r.obj.Target, a.objective...)

		os := &st.Objectives[i]
		rep := &os.Report
		for _, s := range allStates {
			obs.ObserveInt64(ins.state, boolInt(s == rep.State), a.states[s]...)
		}
		if rep.State != budget.StateUnknown {
			obs.ObserveFloat64(ins.remaining, rep.Remaining, a.objective...)
		}
		for j, w := range rep.Windows {
			if w.Counts.Total() > 0 && j < len(a.windows) {
				obs.ObserveFloat64(ins.burn, w.Burn, a.windows[j]...)
			}
		}
		if os.ControlKnown {
			obs.ObserveFloat64(ins.controlBurn, os.ControlBurn, a.objective...)
		}
	}
	if st.Shedding.Enabled {
		obs.ObserveFloat64(ins.shedLevel, st.Shedding.Level)
		for b := range bands {
			obs.ObserveInt64(ins.shedRejected, clampInt64(e.shards.sum(offRejected+b)), t.crit[b]...)
		}
	}
	for i, bs := range st.Breakers {
		for s, a := range t.breakers[i] {
			obs.ObserveInt64(ins.breakerState, boolInt(BreakerState(s) == bs.State), a...)
		}
	}
	for i, g := range st.Gates {
		obs.ObserveInt64(ins.gateEnabled, boolInt(g.Enabled), t.gates[i]...)
	}
	obs.ObserveInt64(ins.releaseFrozen, boolInt(st.Release.Frozen))
	obs.ObserveInt64(ins.faults, clampInt64(e.faults.Load()))
	if sc := &st.Scale; sc.Known {
		obs.ObserveFloat64(ins.scaleNeed, sc.Need)
		for b := range bands {
			obs.ObserveFloat64(ins.scaleDemand, sc.Demand[b], t.crit[b]...)
		}
	}
}

func (t *telemetry) close() error { return t.reg.Unregister() }

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
