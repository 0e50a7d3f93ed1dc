package statusjson

import "time"

// Document is the JSON the status endpoint serves (GET with
// Accept: application/json, or ?format=json). Field names are stable:
// pipelines and the sloguard command read them.
//
// The zero Document has no objectives, shedding off and releases not
// allowed; the endpoint never serves it.
type Document struct {
	Time       time.Time   `json:"time"`
	Objectives []Objective `json:"objectives"`
	Shed       Shed        `json:"shed"`
	Scale      Scale       `json:"scale"`
	Breakers   []Breaker   `json:"breakers"`
	Gates      []Gate      `json:"gates"`
	Release    Release     `json:"release"`
	Events     []Event     `json:"events"` // oldest first
	Faults     uint64      `json:"faults"`
	// Load is the service's load history, oldest first: one sample per
	// history interval (by default a minute, for a day), taken with the
	// objectives' History samples.
	Load []LoadSample `json:"load"`
}

// Objective is one objective's definition and state.
//
// The zero Objective is unnamed, with an empty State and null figures.
type Objective struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Kind        string  `json:"kind"` // "availability" or "latency"
	LatencyMS   float64 `json:"latency_ms,omitempty"`
	Target      float64 `json:"target"`
	PeriodS     float64 `json:"period_s"`
	Dependency  string  `json:"dependency,omitempty"`
	State       string  `json:"state"` // unknown, ok, ticket, page, exhausted
	// Remaining is the share of the period's budget left; below 0 when
	// overspent. Null while the state is unknown.
	Remaining *float64 `json:"remaining"`
	// TimeToExhaustionS is null when the budget is not burning.
	TimeToExhaustionS *float64 `json:"time_to_exhaustion_s"`
	Good              uint64   `json:"good"`    // in the period
	Bad               uint64   `json:"bad"`     // in the period
	Shed              uint64   `json:"shed"`    // in the period
	Neutral           uint64   `json:"neutral"` // since start
	ControlBurn       *float64 `json:"control_burn"`
	// View says where the budget figures above and in Windows and Rules
	// come from: "local" (this replica since it started), "restored" (with
	// a snapshot restored at start) or "fleet" (every replica, read from
	// the fleet source). ControlBurn and Neutral are always this
	// replica's.
	View string `json:"view"`
	// ViewTime is when the view's source was taken: the fleet read or the
	// restored snapshot; absent for local, which is as of Time.
	ViewTime time.Time `json:"view_time,omitzero"`
	// ViewAgeS is Time − ViewTime in seconds; null for local.
	ViewAgeS *float64 `json:"view_age_s"`
	// Local is this replica's own budget while View is "fleet"; absent
	// otherwise.
	Local   *Local   `json:"local,omitempty"`
	Windows []Window `json:"windows"`
	Rules   []Rule   `json:"rules"`
	History []Sample `json:"history"` // oldest first
}

// Local is one replica's own budget, beside the fleet's.
//
// The zero Local has an empty State and a null Remaining.
type Local struct {
	State     string   `json:"state"`
	Remaining *float64 `json:"remaining"` // null while the state is unknown
	Good      uint64   `json:"good"`
	Bad       uint64   `json:"bad"`
	Shed      uint64   `json:"shed"`
}

// Window is the burn rate over one trailing window.
//
// The zero Window names no window and counts nothing.
type Window struct {
	Window       string  `json:"window"` // "5m", "1h", ...
	Good         uint64  `json:"good"`
	Bad          uint64  `json:"bad"`
	Shed         uint64  `json:"shed"`
	Burn         float64 `json:"burn"`
	AdmittedBurn float64 `json:"admitted_burn"`
}

// Rule is one alert rule's evaluation.
//
// The zero Rule is an unnamed rule, not firing.
type Rule struct {
	Name      string  `json:"name"` // "page-1h"
	Severity  string  `json:"severity"`
	Long      string  `json:"long"`
	Short     string  `json:"short"`
	Threshold float64 `json:"threshold"`
	LongBurn  float64 `json:"long_burn"`
	ShortBurn float64 `json:"short_burn"`
	Firing    bool    `json:"firing"`
}

// Sample is one point of an objective's history.
//
// The zero Sample has an empty State and counts nothing.
type Sample struct {
	Time      time.Time `json:"time"`
	State     string    `json:"state"`
	Remaining float64   `json:"remaining"`
	Burn      float64   `json:"burn"`
	// Good, Bad and Shed count the objective's events since the previous
	// sample (for the first after the service started, since it started).
	Good uint64 `json:"good"`
	Bad  uint64 `json:"bad"`
	Shed uint64 `json:"shed"`
}

// LoadSample is one point of the service's load history: the requests
// admission admitted and rejected (shed) since the previous sample, by
// criticality name (the four names are always present), the shed level at
// the sample, and the scale signal, null when unknown.
//
// The zero LoadSample has no maps (null in JSON, where a served sample has
// the four names) and an unknown scale.
type LoadSample struct {
	Time     time.Time         `json:"time"`
	Admitted map[string]uint64 `json:"admitted"`
	Rejected map[string]uint64 `json:"rejected"`
	Level    float64           `json:"level"`
	Scale    *float64          `json:"scale"`
}

// Shed is the state of load shedding.
//
// The zero Shed is shedding off, with no maps (null in JSON).
type Shed struct {
	Enabled  bool               `json:"enabled"`
	Level    float64            `json:"level"`
	Reject   map[string]float64 `json:"reject"`   // by criticality name
	Rejected map[string]uint64  `json:"rejected"` // by criticality name
}

// Scale is the scale signal: how many times its current capacity the
// service needs to serve its whole demand (slo.ScaleStatus documents it).
//
// The zero Scale is a signal not yet known, with no numbers.
type Scale struct {
	// Known is false until shedding is on and some request completed;
	// while it is false, the numbers below are null or absent.
	Known bool `json:"known"`
	// Need is demand over capacity: 1 is enough, 2.5 asks for two and a
	// half times the replicas, below 1 leaves room.
	Need *float64 `json:"need"`
	// CapacityRPS is what the service serves when saturated, in requests
	// per second.
	CapacityRPS *float64 `json:"capacity_rps"`
	Saturated   bool     `json:"saturated"`
	// DemandRPS (admitted or shed) and ServedRPS, per second, by
	// criticality name.
	DemandRPS map[string]float64 `json:"demand_rps,omitempty"`
	ServedRPS map[string]float64 `json:"served_rps,omitempty"`
}

// Breaker is a dependency's circuit breaker.
//
// The zero Breaker names no dependency and has an empty State.
type Breaker struct {
	Dependency  string  `json:"dependency"`
	State       string  `json:"state"` // closed, half-open, open
	Burning     bool    `json:"burning"`
	RetryAfterS float64 `json:"retry_after_s"`
}

// Gate is a budget-gated feature flag.
//
// The zero Gate is a closed gate with no name.
type Gate struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Reason  string `json:"reason,omitempty"`
}

// Release is the verdict of the release gate.
//
// The zero Release is releases not allowed, though not frozen; a served one
// is never both false.
type Release struct {
	Allowed bool      `json:"allowed"`
	Frozen  bool      `json:"frozen"`
	Reason  string    `json:"reason,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	// RecoveryS estimates the seconds until releases may go on; null when
	// not frozen, when frozen only because an objective pages, or when the
	// budget does not recover at the current rate.
	RecoveryS *float64 `json:"recovery_s"`
}

// Event is one entry of the timeline.
//
// The zero Event has an empty Kind, which no served event has.
type Event struct {
	Time time.Time `json:"time"`
	// state_changed, shed_changed, breaker_changed, gate_changed,
	// freeze_changed, snapshot_restored, snapshot_refused,
	// snapshot_failed, snapshot_recovered, view_changed
	Kind       string   `json:"kind"`
	Text       string   `json:"text"` // one line for people, e.g. "checkout: ok → page (remaining 97.1%, ...)"
	Objective  string   `json:"objective,omitempty"`
	From       string   `json:"from,omitempty"`
	To         string   `json:"to,omitempty"`
	Remaining  *float64 `json:"remaining,omitempty"`
	Burns      []Window `json:"burns,omitempty"` // only window and burn set
	Level      *float64 `json:"level,omitempty"`
	Dependency string   `json:"dependency,omitempty"`
	Gate       string   `json:"gate,omitempty"`
	Enabled    *bool    `json:"enabled,omitempty"`
	Frozen     *bool    `json:"frozen,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}
