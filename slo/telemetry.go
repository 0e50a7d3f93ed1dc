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
// exporter, dots become underscores, counters gain "_total" and unit "1"
// gauges "_ratio".
const (
	MetricEvents    = "sloguard.events"           // counter, {event}: objective, outcome
	MetricRemaining = "sloguard.budget.remaining" // gauge, 1: objective
	MetricBurnRate  = "sloguard.burn_rate"        // gauge, 1: objective, window
	MetricState     = "sloguard.state"            // gauge, {state}: objective, state
	MetricTarget    = "sloguard.objective.target" // gauge, 1: objective
	MetricFaults    = "sloguard.faults"           // counter, {fault}: none
)

// Attribute keys of sloguard's metrics. Every value comes from the
// configuration, never from a request, so their number is bounded.
const (
	AttrObjective = "objective"
	AttrOutcome   = "outcome"
	AttrWindow    = "window"
	AttrState     = "state"
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
	reg metric.Registration
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
		metric.WithDescription("sloguard's own faults, such as panicking event handlers; requests are never affected."))
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return nil, err
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
			c, neutral := r.ledger.Totals()
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
		obs.ObserveInt64(faults, clampInt64(e.faults.Load()))
		return nil
	}, events, remaining, burn, state, target, faults)
	if err != nil {
		return nil, err
	}
	return &telemetry{reg: reg}, nil
}

func (t *telemetry) close() error { return t.reg.Unregister() }

func clampInt64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}
