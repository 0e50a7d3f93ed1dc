// Package metrics names sloguard's OpenTelemetry metrics and their
// attributes, for dashboards, alert rules and tests that read them. It
// imports nothing, so that such code links no engine.
//
// The slo.Engine registers them as observable instruments with the
// MeterProvider of slo.WithMeterProvider (by default the global one), under
// the instrumentation scope Scope. They are read from the ledgers and the
// latest slo.Status when the SDK collects, so recording never calls
// OpenTelemetry. Package slo/otelsdk exports the same metrics, with the
// same names, units, attributes and values, through the SDK's Producer
// interface instead:
//
//	name                        kind     unit         attributes
//	sloguard.events             counter  {event}      objective, outcome (good, bad, shed, neutral)
//	sloguard.budget.remaining   gauge    1            objective (absent while unknown)
//	sloguard.burn_rate          gauge    1            objective, window (absent with no events)
//	sloguard.state              gauge    {state}      objective, state (1 for the current state, else 0)
//	sloguard.objective.target   gauge    1            objective
//	sloguard.faults             counter  {fault}      —
//	sloguard.control.burn_rate  gauge    1            objective (absent with too few admitted events)
//	sloguard.shed.level         gauge    1            — (absent when shedding is off)
//	sloguard.shed.rejections    counter  {request}    criticality (absent when shedding is off)
//	sloguard.breaker.state      gauge    {state}      dependency, state (1 for the current state, else 0)
//	sloguard.gate.enabled       gauge    —            gate (1 while enabled, else 0; absent without gates)
//	sloguard.release.frozen     gauge    —            — (1 while releases are frozen, else 0)
//	sloguard.scale.need         gauge    1            — (absent until known; see slo.ScaleStatus)
//	sloguard.scale.demand       gauge    {request}/s  criticality (absent until known)
//
// Through the Prometheus exporter, dots become underscores, counters gain
// "_total", unit "1" gauges "_ratio" and unit "{request}/s" gauges
// "_per_second": sloguard_events_total, sloguard_scale_need_ratio.
// Attribute values come only from the configuration, never from a request,
// so the number of series is bounded by the objectives and their windows.
package metrics

// Scope is the OpenTelemetry instrumentation scope (meter name) of
// sloguard's metrics: the module path.
const Scope = "github.com/sloguard/sloguard"

// The metrics' names; see the package documentation for each one's kind,
// unit and attributes.
const (
	Events        = "sloguard.events"
	Remaining     = "sloguard.budget.remaining"
	BurnRate      = "sloguard.burn_rate"
	State         = "sloguard.state"
	Target        = "sloguard.objective.target"
	Faults        = "sloguard.faults"
	ControlBurn   = "sloguard.control.burn_rate"
	ShedLevel     = "sloguard.shed.level"
	ShedRejected  = "sloguard.shed.rejections"
	BreakerState  = "sloguard.breaker.state"
	GateEnabled   = "sloguard.gate.enabled"
	ReleaseFrozen = "sloguard.release.frozen"
	ScaleNeed     = "sloguard.scale.need"
	ScaleDemand   = "sloguard.scale.demand"
)

// PrometheusEvents is Events as the OpenTelemetry Prometheus exporter names
// it: the series that the rules of package slo/promrules and the fleet
// source of package slo/promfleet read.
const PrometheusEvents = "sloguard_events_total"

// The metrics' attribute keys.
const (
	AttrObjective   = "objective"
	AttrOutcome     = "outcome"
	AttrWindow      = "window"
	AttrState       = "state"
	AttrCriticality = "criticality"
	AttrDependency  = "dependency"
	AttrGate        = "gate"
)
