package slo

import (
	"fmt"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// Status is a snapshot of every objective of an Engine, published by each
// evaluation. It is immutable: the Engine never changes a Status after
// Engine.Status returned it, so it may be shared and read without locks.
//
// The zero Status has no objectives; an Engine never publishes it
// (Engine.Status lists every objective from New on).
type Status struct {
	// Time is when the snapshot was evaluated; zero before the first
	// evaluation.
	Time       time.Time
	Objectives []ObjectiveStatus // in the order given to New
	// Faults counts the engine's own faults since it started, such as
	// panicking event handlers, dropped events and wall-clock steps. They
	// are logged and never stop requests.
	Faults uint64
	// DroppedEvents counts the events (and fault notes) that the event
	// handlers and the logger fell too far behind to be given: the
	// started engine's queue for them holds 1024. They are in the timeline
	// (Engine.Events) all the same.
	DroppedEvents uint64
	// ClockOffset is how far the wall clock is ahead of Time (behind when
	// negative): 0 unless the wall clock stepped since New. The evaluation
	// loop's time follows elapsed time, not clock steps; see the package
	// documentation, Time.
	ClockOffset time.Duration
	// Shedding is the state of load shedding.
	Shedding SheddingStatus
	// Scale is the scale signal: how many times its current capacity the
	// service needs (see ScaleStatus).
	Scale ScaleStatus
	// Breakers are the circuit breakers of the outbound dependencies, by
	// name.
	Breakers []BreakerStatus
	// Gates are the gates, in the order they were added.
	Gates []GateStatus
	// Release is the verdict of the release gate: whether releases are
	// frozen by the error budget policy.
	Release ReleaseStatus
}

// Objective returns the status of the named objective, and false if there is
// none.
func (s *Status) Objective(name string) (ObjectiveStatus, bool) {
	for _, o := range s.Objectives {
		if o.Objective.Name == name {
			return o, true
		}
	}
	return ObjectiveStatus{}, false
}

// ObjectiveStatus is the state of one objective at one evaluation.
//
// The zero ObjectiveStatus is an unnamed objective in budget.StateUnknown.
type ObjectiveStatus struct {
	Objective Objective     // the definition, with defaults applied
	Report    budget.Report // budget, burn rates, rules and state
	// Totals are the cumulative counts since the engine started, as
	// exported in sloguard.events; Neutral counts the events that were not
	// counted in the budget.
	Totals  budget.Counts
	Neutral uint64
	// ControlBurn is the burn rate of admitted traffic only (shed events
	// left out) over the control window: the signal that drives the shed
	// controller (over the latest two evaluations), or for dependency
	// objectives the breaker (over BreakerPolicy.Window).
	ControlBurn float64
	// ControlKnown says the control window held enough events for
	// ControlBurn to count.
	ControlKnown bool
	// View says where Report's figures come from: this process alone
	// (local), with a restored snapshot (restored), or the whole fleet
	// (fleet). ControlBurn, Totals and Neutral are always this process's.
	View View
	// ViewTime is when the figures' source was taken: the fleet read for
	// ViewFleet, the restored snapshot for ViewRestored; zero for
	// ViewLocal, which is as of Time.
	ViewTime time.Time
	// Local is this process's own report (with any restored snapshot):
	// the same as Report unless View is ViewFleet.
	Local budget.Report
}

// EventKind says what an Event is about.
//
// The zero EventKind is no kind: no Event has it, and String returns
// "event_kind(0)".
type EventKind uint8

const (
	// StateChanged means an objective's state changed, e.g. ok → page.
	StateChanged EventKind = iota + 1
	// SheddingChanged means the shed level entered another band: shedding
	// started, reached another criticality, or stopped.
	SheddingChanged
	// BreakerChanged means a dependency's circuit breaker changed state.
	BreakerChanged
	// GateChanged means a gate opened or closed.
	GateChanged
	// FreezeChanged means releases froze or may go on again.
	FreezeChanged
	// SnapshotRestored means the ledgers were restored from a snapshot at
	// the first evaluation (see WithSnapshots); Reason says which.
	SnapshotRestored
	// SnapshotRefused means a snapshot, or one objective's part of it
	// (Objective), could not be restored, and that the engine started
	// empty instead; Reason says why.
	SnapshotRefused
	// SnapshotFailed means saving a snapshot failed after it had worked
	// (or at the first try); Reason says why. Later failures are counted
	// as faults until SnapshotRecovered.
	SnapshotFailed
	// SnapshotRecovered means a snapshot was saved again after failures.
	SnapshotRecovered
	// ViewChanged means an objective's figures now come from another View,
	// for example from the fleet back to the local view when the fleet
	// source failed for longer than FleetPolicy.MaxAge; Reason says why.
	ViewChanged
)

var eventKindNames = [...]string{
	StateChanged:    "state_changed",
	SheddingChanged: "shed_changed",
	BreakerChanged:  "breaker_changed",
	GateChanged:     "gate_changed",
	FreezeChanged:   "freeze_changed",

	SnapshotRestored:  "snapshot_restored",
	SnapshotRefused:   "snapshot_refused",
	SnapshotFailed:    "snapshot_failed",
	SnapshotRecovered: "snapshot_recovered",
	ViewChanged:       "view_changed",
}

// String returns the kind's name, e.g. "state_changed".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("event_kind(%d)", uint8(k))
}

// Event is one state change, with the numbers that explain it. Events go to
// the handlers set with WithEventHandler, to the logger, and into the
// bounded timeline returned by Engine.Events. Which fields are set depends
// on Kind.
//
// The zero Event has the zero EventKind: the engine never sends one.
type Event struct {
	Time time.Time
	Kind EventKind

	// StateChanged: the objective, its states, and its budget and burn
	// rates at Time, shortest window first.
	Objective string
	From, To  budget.State
	Remaining float64
	Burns     []WindowBurn

	// SheddingChanged: the shed level before and after (see ShedPolicy).
	FromLevel, Level float64

	// BreakerChanged: the dependency and its breaker's states.
	Dependency             string
	BreakerFrom, BreakerTo BreakerState

	// GateChanged: the gate and whether it is now enabled.
	Gate    string
	Enabled bool

	// FreezeChanged: whether releases are now frozen.
	Frozen bool

	// ViewChanged: the objective's views before and after.
	FromView, ToView View

	// GateChanged and FreezeChanged: why the gate closed or releases
	// froze; empty when they opened again. Snapshot events and
	// ViewChanged: what happened and why.
	Reason string
}

// WindowBurn is the burn rate of one window.
//
// The zero WindowBurn is no burn over no window.
type WindowBurn struct {
	Window time.Duration
	Burn   float64
}

// String describes the event in one line, e.g.
// "checkout-availability: ok → page (remaining 97.1%, burn 5m=1000 1h=41.3)".
func (e Event) String() string {
	switch e.Kind {
	case SheddingChanged:
		return fmt.Sprintf("shed level %.2f → %.2f", e.FromLevel, e.Level)
	case BreakerChanged:
		return fmt.Sprintf("breaker %s: %v → %v", e.Dependency, e.BreakerFrom, e.BreakerTo)
	case GateChanged:
		if e.Enabled {
			return fmt.Sprintf("gate %s: enabled", e.Gate)
		}
		return fmt.Sprintf("gate %s: disabled (%s)", e.Gate, e.Reason)
	case FreezeChanged:
		if e.Frozen {
			return fmt.Sprintf("releases frozen (%s)", e.Reason)
		}
		return "releases may go on"
	case SnapshotRestored:
		return "snapshot restored: " + e.Reason
	case SnapshotRefused:
		return "snapshot refused: " + e.Reason
	case SnapshotFailed:
		return "saving the snapshot failed: " + e.Reason
	case SnapshotRecovered:
		return "snapshot saved again"
	case ViewChanged:
		s := fmt.Sprintf("%s: view %v → %v", e.Objective, e.FromView, e.ToView)
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
		return s
	}
	s := fmt.Sprintf("%s: %v → %v (remaining %.1f%%, burn", e.Objective, e.From, e.To, e.Remaining*100)
	for _, b := range e.Burns {
		s += fmt.Sprintf(" %s=%.3g", budget.FormatWindow(b.Window), b.Burn)
	}
	return s + ")"
}

// SheddingStatus is the state of load shedding at one evaluation.
//
// The zero SheddingStatus is shedding off, with nothing rejected and nothing
// in flight.
type SheddingStatus struct {
	Enabled bool
	// Level is the shed level, 0 (nothing shed) to 3, or 4 when
	// CRITICAL_PLUS may be shed.
	Level float64
	// Reject is the share of requests rejected by criticality, indexed by
	// Criticality.Index.
	Reject [4]float64
	// Rejected counts the requests rejected since the engine started, by
	// Criticality.Index, by the level or by the gate.
	Rejected [4]uint64
	// Limit is the concurrency gate's limit at the evaluation: how many
	// requests SHEDDABLE traffic may have in flight (see ShedPolicy).
	Limit float64
	// InFlight is how many requests were in flight at the evaluation.
	InFlight int64
}

// BreakerStatus is the state of one dependency's circuit breaker.
//
// The zero BreakerStatus is a closed breaker of no dependency, not burning.
type BreakerStatus struct {
	Dependency string
	State      BreakerState
	// Burning says the dependency's objectives burn fast enough to open
	// the breaker at the next failed call.
	Burning bool
	// RetryAfter is how long an open breaker stays open; 0 otherwise.
	RetryAfter time.Duration
}
