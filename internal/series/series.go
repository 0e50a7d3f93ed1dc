// Package series is what package slo and its OpenTelemetry SDK producer,
// package slo/otelsdk, share of sloguard's metrics: the table of metrics,
// the Sink to which one collection passes every data point, and the bridge
// by which a producer takes an engine's series over. What is exported,
// with which attributes and when a series is absent is decided once, by
// the engine's collection, for both paths (see slo/telemetry.go).
//
// It is not API: package slo sets TakeOver in its init, as
// google.golang.org/grpc sets the function variables of its internal
// package, so that slo exports nothing for its producer.
package series

import (
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sloguard/sloguard/slo/metrics"
)

// Kind is how a metric is exported.
type Kind uint8

// The kinds of sloguard's metrics.
const (
	Counter    Kind = iota // a cumulative, monotonic int64 sum
	IntGauge               // an int64 gauge
	FloatGauge             // a float64 gauge
)

// Metric identifies one of sloguard's metrics: its index in Table.
type Metric uint8

// The metrics, in the order of Table.
const (
	Events Metric = iota
	Remaining
	BurnRate
	State
	Target
	Faults
	ControlBurn
	ShedLevel
	ShedRejected
	BreakerState
	GateEnabled
	ReleaseFrozen
	ScaleNeed
	ScaleDemand
	Count // the number of metrics
)

// Desc describes one metric.
type Desc struct {
	Name, Unit, Description string
	Kind                    Kind
}

// Table describes every metric, by Metric. Package slo/metrics documents
// them for users.
var Table = [Count]Desc{
	Events: {Name: metrics.Events, Unit: "{event}", Kind: Counter,
		Description: "SLI events recorded by sloguard, by objective and outcome (good, bad, shed, neutral)."},
	Remaining: {Name: metrics.Remaining, Unit: "1", Kind: FloatGauge,
		Description: "Share of the objective's error budget left over its period; below 0 when overspent. Absent while the state is unknown."},
	BurnRate: {Name: metrics.BurnRate, Unit: "1", Kind: FloatGauge,
		Description: "Error budget burn rate over a trailing window; 1 spends the whole budget in one period. Absent for windows with no events."},
	State: {Name: metrics.State, Unit: "{state}", Kind: IntGauge,
		Description: "1 for the objective's current alerting state (unknown, ok, ticket, page, exhausted), 0 for the others."},
	Target: {Name: metrics.Target, Unit: "1", Kind: FloatGauge,
		Description: "The objective's target, the share of events that must be good."},
	Faults: {Name: metrics.Faults, Unit: "{fault}", Kind: Counter,
		Description: "sloguard's own faults, such as panicking event handlers, events dropped for slow handlers and wall-clock steps; requests are never affected."},
	ControlBurn: {Name: metrics.ControlBurn, Unit: "1", Kind: FloatGauge,
		Description: "Burn rate of admitted traffic only over the control window: the signal that drives load shedding and dependency breakers. Absent with too few events."},
	ShedLevel: {Name: metrics.ShedLevel, Unit: "1", Kind: FloatGauge,
		Description: "Load shedding level: 0 sheds nothing, 1 all SHEDDABLE, 2 all SHEDDABLE_PLUS too, 3 all CRITICAL too. Absent when shedding is off."},
	ShedRejected: {Name: metrics.ShedRejected, Unit: "{request}", Kind: Counter,
		Description: "Requests rejected by load shedding, by criticality."},
	BreakerState: {Name: metrics.BreakerState, Unit: "{state}", Kind: IntGauge,
		Description: "1 for the current state of a dependency's circuit breaker (closed, half-open, open), 0 for the others."},
	GateEnabled: {Name: metrics.GateEnabled, Kind: IntGauge,
		Description: "1 while a budget-gated feature flag is enabled, 0 while the budget keeps it off."},
	ReleaseFrozen: {Name: metrics.ReleaseFrozen, Kind: IntGauge,
		Description: "1 while the error budget policy freezes releases, else 0."},
	ScaleNeed: {Name: metrics.ScaleNeed, Unit: "1", Kind: FloatGauge,
		Description: "How many times its current capacity the service needs to serve its whole demand, shed demand included: 1 is enough, below 1 leaves room. Summed over replicas: the replicas needed. Absent until known."},
	ScaleDemand: {Name: metrics.ScaleDemand, Unit: "{request}/s", Kind: FloatGauge,
		Description: "Requests per second that reached admission, admitted or shed, smoothed, by criticality: the demand behind sloguard.scale.need. Absent until known."},
}

// Attrs is one attribute set, precomputed in the form of each path: the
// set itself for a producer, and the observe option of the instrument
// path, built once so that an observation allocates nothing of its own
// (passed as Observe..., the slice is not copied).
type Attrs struct {
	Set     attribute.Set
	Observe []metric.ObserveOption
}

// NewAttrs returns the Attrs of the attributes kvs.
func NewAttrs(kvs ...attribute.KeyValue) Attrs {
	s := attribute.NewSet(kvs...)
	return Attrs{Set: s, Observe: []metric.ObserveOption{metric.WithAttributeSet(s)}}
}

// Sink receives the data points of one collection: Int64 those of the
// metrics of kind Counter and IntGauge, Float64 those of kind FloatGauge.
// The Attrs belong to the engine and are never changed: a Sink may keep
// a.Set but not the pointer.
type Sink interface {
	Int64(m Metric, v int64, a *Attrs)
	Float64(m Metric, v float64, a *Attrs)
}

// Source is an engine's series once a producer has taken them over.
type Source struct {
	// Start is when the engine's counters started: New's wall-clock time.
	Start time.Time
	// Collect passes every data point of the engine to s. After the
	// engine's Close it passes none and returns false. It is safe to call
	// concurrently with itself and with the engine's evaluation.
	Collect func(s Sink) bool
}

// ErrTakenOver is returned by TakeOver for an engine whose series were
// taken over before.
var ErrTakenOver = errors.New("metrics already taken over by another producer")

// TakeOver, set by package slo, takes the series of engine e (a non-nil
// *slo.Engine) over: it unregisters the engine's instruments from its
// MeterProvider, so that the series reach OpenTelemetry through the
// returned Source only. It fails with ErrTakenOver the second time for
// one engine, and with slo.ErrClosed after the engine's Close.
var TakeOver func(e any) (Source, error)
