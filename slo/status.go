package slo

import (
	"fmt"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// Status is a snapshot of every objective of an Engine, published by each
// evaluation. It is immutable: the Engine never changes a Status after
// publishing it, so it may be shared and read without locks.
type Status struct {
	// Time is when the snapshot was evaluated; zero before the first
	// evaluation.
	Time       time.Time
	Objectives []ObjectiveStatus // in the order given to New
	// Faults counts the engine's own faults since it started, such as
	// panicking event handlers. They are logged and never stop requests.
	Faults uint64
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
type ObjectiveStatus struct {
	Objective Objective     // the definition, with defaults applied
	Report    budget.Report // budget, burn rates, rules and state
	// Totals are the cumulative counts since the engine started, as
	// exported in sloguard.events; Neutral counts the events that were not
	// counted in the budget.
	Totals  budget.Counts
	Neutral uint64
}

// EventKind says what an Event is about.
type EventKind uint8

const (
	// StateChanged means an objective's state changed, e.g. ok → page.
	StateChanged EventKind = iota + 1
)

// String returns the kind's name, e.g. "state_changed".
func (k EventKind) String() string {
	switch k {
	case StateChanged:
		return "state_changed"
	}
	return fmt.Sprintf("event_kind(%d)", uint8(k))
}

// Event is one state change, with the numbers that explain it. Events go to
// the handlers set with WithEventHandler, to the logger, and into the
// bounded timeline returned by Engine.Events.
type Event struct {
	Time      time.Time
	Kind      EventKind
	Objective string
	From, To  State
	// Remaining is the objective's remaining budget at Time.
	Remaining float64
	// Burns are the burn rates of the objective's windows at Time,
	// shortest window first.
	Burns []WindowBurn
}

// WindowBurn is the burn rate of one window.
type WindowBurn struct {
	Window time.Duration
	Burn   float64
}

// String describes the event in one line, e.g.
// "checkout-availability: ok → page (remaining 97.1%, burn 5m=1000 1h=41.3)".
func (e Event) String() string {
	s := fmt.Sprintf("%s: %v → %v (remaining %.1f%%, burn", e.Objective, e.From, e.To, e.Remaining*100)
	for _, b := range e.Burns {
		s += fmt.Sprintf(" %s=%.3g", budget.FormatWindow(b.Window), b.Burn)
	}
	return s + ")"
}
