package slo

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sloguard/sloguard/budget"
)

// ScopeName is the OpenTelemetry instrumentation scope (meter name) of
// sloguard's metrics: the module path.
const ScopeName = "github.com/sloguard/sloguard"

// Metric names, as exported through OpenTelemetry. With the Prometheus
// exporter, dots become underscores, counters gain "_total", unit "1"
// gauges "_ratio" and unit "{request}/s" gauges "_per_second".
const (
	MetricEvents    = "sloguard.events"           // counter, {event}: objective, outcome
	MetricRemaining = "sloguard.budget.remaining" // gauge, 1: objective
	MetricBurnRate  = "sloguard.burn_rate"        // gauge, 1: objective, window
	MetricState     = "sloguard.state"            // gauge, {state}: objective, state
	MetricTarget    = "sloguard.objective.target" // gauge, 1: objective
	MetricFaults    = "sloguard.faults"           // counter, {fault}: none

	MetricControlBurn  = "sloguard.control.burn_rate" // gauge, 1: objective
	MetricShedLevel    = "sloguard.shed.level"        // gauge, 1: none
	MetricShedRejected = "sloguard.shed.rejections"   // counter, {request}: criticality
	MetricBreakerState = "sloguard.breaker.state"     // gauge, {state}: dependency, state

	MetricGateEnabled   = "sloguard.gate.enabled"   // gauge, 1: gate
	MetricReleaseFrozen = "sloguard.release.frozen" // gauge, 1: none

	MetricScaleNeed   = "sloguard.scale.need"   // gauge, 1: none; see ScaleStatus
	MetricScaleDemand = "sloguard.scale.demand" // gauge, {request}/s: criticality
)

// Attribute keys of sloguard's metrics. Every value comes from the
// configuration, never from a request, so their number is bounded.
const (
	AttrObjective   = "objective"
	AttrOutcome     = "outcome"
	AttrWindow      = "window"
	AttrState       = "state"
	AttrCriticality = "criticality"
	AttrDependency  = "dependency"
	AttrGate        = "gate"
)

var allStates = []budget.State{budget.StateUnknown, budget.StateOK, budget.StateTicket, budget.StatePage, budget.StateExhausted}

// seriesOpts are the precomputed attribute sets of one objective.
type seriesOpts struct {
	objective metric.ObserveOption
	outcomes  [budget.Shed + 1]metric.ObserveOption
	windows   map[int64]metric.ObserveOption // by window length
	states    []metric.ObserveOption         // by State
}

type telemetry struct {
	reg, scale metric.Registration
}

func newTelemetry(e *Engine, mp metric.MeterProvider) (*telemetry, error) {
	m := mp.Meter(ScopeName)
	events, err1 := m.Int64ObservableCounter(MetricEvents,
		metric.WithUnit("{event}"),
		metric.WithDescription("SLI events recorded by sloguard, by objective and outcome (good, bad, shed, neutral)."))
	remaining, err2 := m.Float64ObservableGauge(MetricRemaining,
		metric.WithUnit("1"),
		metric.WithDescription("Share of the objective's error budget left over its period; below 0 when overspent. Absent while the state is unknown."))
	burn, err3 := m.Float64ObservableGauge(MetricBurnRate,
		metric.WithUnit("1"),
		metric.WithDescription("Error budget burn rate over a trailing window; 1 spends the whole budget in one period. Absent for windows with no events."))
	state, err4 := m.Int64ObservableGauge(MetricState,
		metric.WithUnit("{state}"),
		metric.WithDescription("1 for the objective's current alerting state (unknown, ok, ticket, page, exhausted), 0 for the others."))
	target, err5 := m.Float64ObservableGauge(MetricTarget,
		metric.WithUnit("1"),
		metric.WithDescription("The objective's target, the share of events that must be good."))
	faults, err6 := m.Int64ObservableCounter(MetricFaults,
		metric.WithUnit("{fault}"),
		metric.WithDescription("sloguard's own faults, such as panicking event handlers, events dropped for slow handlers and wall-clock steps; requests are never affected."))
	controlBurn, err7 := m.Float64ObservableGauge(MetricControlBurn,
		metric.WithUnit("1"),
		metric.WithDescription("Burn rate of admitted traffic only over the control window: the signal that drives load shedding and dependency breakers. Absent with too few events."))
	shedLevel, err8 := m.Float64ObservableGauge(MetricShedLevel,
		metric.WithUnit("1"),
		metric.WithDescription("Load shedding level: 0 sheds nothing, 1 all SHEDDABLE, 2 all SHEDDABLE_PLUS too, 3 all CRITICAL too. Absent when shedding is off."))
	shedRejected, err9 := m.Int64ObservableCounter(MetricShedRejected,
		metric.WithUnit("{request}"),
		metric.WithDescription("Requests rejected by load shedding, by criticality."))
	breakerState, err10 := m.Int64ObservableGauge(MetricBreakerState,
		metric.WithUnit("{state}"),
		metric.WithDescription("1 for the current state of a dependency's circuit breaker (closed, half-open, open), 0 for the others."))
	gateEnabled, err11 := m.Int64ObservableGauge(MetricGateEnabled,

		metric.WithDescription("1 while a budget-gated feature flag is enabled, 0 while the budget keeps it off."))
	releaseFrozen, err12 := m.Int64ObservableGauge(MetricReleaseFrozen,

		metric.WithDescription("1 while the error budget policy freezes releases, else 0."))
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12); err != nil {
		return nil, err
	}
	critOpts := make([]metric.ObserveOption, len(Criticalities))
	for _, c := range Criticalities {
		critOpts[c] = metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrCriticality, c.String())))
	}
	gateOpts := make([]metric.ObserveOption, len(e.gates))
	for i, g := range e.gates {
		gateOpts[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrGate, g.name)))
	}
	breakerOpts := make([][]metric.ObserveOption, len(e.breakers))
	for i, b := range e.breakers {
		for _, bs := range []BreakerState{BreakerClosed, BreakerHalfOpen, BreakerOpen} {
			breakerOpts[i] = append(breakerOpts[i], metric.WithAttributeSet(attribute.NewSet(
				attribute.String(AttrDependency, b.name), attribute.String(AttrState, bs.String()))))
		}
	}

	opts := make([]seriesOpts, len(e.recs))
	for i, r := range e.recs {
		name := attribute.String(AttrObjective, r.obj.Name)
		o := seriesOpts{
			objective: metric.WithAttributeSet(attribute.NewSet(name)),
			windows:   map[int64]metric.ObserveOption{},
			states:    make([]metric.ObserveOption, len(allStates)),
		}
		for _, oc := range []budget.Outcome{budget.Neutral, budget.Good, budget.Bad, budget.Shed} {
			o.outcomes[oc] = metric.WithAttributeSet(attribute.NewSet(name, attribute.String(AttrOutcome, oc.String())))
		}
		for _, w := range r.spec.Windows() {
			o.windows[int64(w)] = metric.WithAttributeSet(attribute.NewSet(name, attribute.String(AttrWindow, budget.FormatWindow(w))))
		}
		for _, s := range allStates {
			o.states[s] = metric.WithAttributeSet(attribute.NewSet(name, attribute.String(AttrState, s.String())))
		}
		opts[i] = o
	}

	reg, err := m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		st := e.Status()
		for i, r := range e.recs {
			o := &opts[i]
			c, neutral := r.totals()
			obs.ObserveInt64(events, clampInt64(c.Good), o.outcomes[budget.Good])
			obs.ObserveInt64(events, clampInt64(c.Bad), o.outcomes[budget.Bad])
			obs.ObserveInt64(events, clampInt64(c.Shed), o.outcomes[budget.Shed])
			obs.ObserveInt64(events, clampInt64(neutral), o.outcomes[budget.Neutral])
			obs.ObserveFloat64(target, r.obj.Target, o.objective)

			rep := &st.Objectives[i].Report
			for _, s := range allStates {
				v := int64(0)
				if s == rep.State {
					v = 1
				}
				obs.ObserveInt64(state, v, o.states[s])
			}
			if rep.State != budget.StateUnknown {
				obs.ObserveFloat64(remaining, rep.Remaining, o.objective)
			}
			for _, w := range rep.Windows {
				if w.Counts.Total() > 0 {
					obs.ObserveFloat64(burn, w.Burn, o.windows[int64(w.Window)])
				}
			}
		}
		for i, os := range st.Objectives {
			if os.ControlKnown {
				obs.ObserveFloat64(controlBurn, os.ControlBurn, opts[i].objective)
			}
		}
		if st.Shed.Enabled {
			obs.ObserveFloat64(shedLevel, st.Shed.Level)
			for _, c := range Criticalities {
				obs.ObserveInt64(shedRejected, clampInt64(e.shards.sum(offRejected+c.bandIndex())), critOpts[c])
			}
		}
		for i, bs := range st.Breakers {
			for j, o := range breakerOpts[i] {
				v := int64(0)
				if BreakerState(j) == bs.State {
					v = 1
				}
				obs.ObserveInt64(breakerState, v, o)
			}
		}
		for i, g := range st.Gates {
			obs.ObserveInt64(gateEnabled, boolInt(g.Enabled), gateOpts[i])
		}
		obs.ObserveInt64(releaseFrozen, boolInt(st.Release.Frozen))
		obs.ObserveInt64(faults, clampInt64(e.faults.Load()))
		return nil
	}, events, remaining, burn, state, target, faults, controlBurn, shedLevel, shedRejected, breakerState, gateEnabled, releaseFrozen)
	if err != nil {
		return nil, err
	}
	scale, err := registerScale(e, m)
	if err != nil {
		return nil, errors.Join(err, reg.Unregister())
	}
	return &telemetry{reg: reg, scale: scale}, nil
}

func (t *telemetry) close() error { return errors.Join(t.reg.Unregister(), t.scale.Unregister()) }

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
