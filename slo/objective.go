package slo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// DefaultPeriod is the compliance period of an Objective that sets none.
const DefaultPeriod = 30 * 24 * time.Hour

// Objective is one service level objective: which events count as good, how
// many of them must be, and over what period.
//
// An Objective is a plain value; Validate reports every problem with it, and
// New validates every Objective it is given.
//
// The zero Objective is not valid: Validate reports its missing name and
// target.
type Objective struct {
	// Name identifies the objective in metrics, status and events. It must
	// be 1 to 128 characters of letters, digits, '_', '-' and '.', and unique
	// within an Engine; the same name in the alerting rules keeps the fleet
	// view and the process view joined.
	Name string
	// Description is free text for people, shown on status pages.
	Description string
	// Latency, if positive, makes this a latency objective: an event is good
	// when it is not bad and finished within Latency. Zero makes it an
	// availability objective.
	Latency time.Duration
	// Target is the share of events that must be good, in (0, 1): 0.999 for
	// 99.9%.
	Target float64
	// Period is the rolling compliance period, from one minute to
	// budget.MaxSpan (100 years), as are the rules' windows. By default,
	// DefaultPeriod (30 days). Leave it zero with Calendar.
	Period time.Duration
	// Calendar, if set, makes the period calendar-aligned instead of
	// rolling: every week or month in a time zone, the budget starting
	// afresh at each period's start (see budget.Calendar).
	Calendar budget.Calendar
	// Rules are the multiwindow, multi-burn-rate alert conditions. By
	// default (nil), budget.DefaultRules; a non-nil empty slice means none.
	Rules []budget.Rule
	// MinEvents is the least number of events a window must hold before a
	// rule over it may fire, and the period before its state is known. By
	// default, 1.
	MinEvents uint64
	// MinBadEvents is the least number of bad events a window must hold
	// before a rule over it may fire. By default, 1.
	MinBadEvents uint64
	// Dependency, if set, makes this a client-side objective of an outbound
	// dependency of that name (for example "payments"): its calls are
	// recorded through the dependency's Breaker (Engine.Breaker), and a
	// fast burn opens that breaker instead of shedding load. Objectives
	// with the same Dependency share one breaker. Same characters as Name.
	Dependency string
}

// Kind returns "latency" for a latency objective and "availability"
// otherwise.
func (o Objective) Kind() string {
	if o.Latency > 0 {
		return "latency"
	}
	return "availability"
}

// Spec returns the objective's budget specification, with defaults applied.
func (o Objective) Spec() budget.Spec {
	p := o.Period
	if p == 0 && o.Calendar.IsZero() {
		p = DefaultPeriod
	}
	return budget.Spec{
		Target:       o.Target,
		Period:       p,
		Calendar:     o.Calendar,
		Rules:        o.Rules,
		MinEvents:    o.MinEvents,
		MinBadEvents: o.MinBadEvents,
	}
}

// Validate reports every problem with the objective, each wrapping
// ErrInvalidObjective.
func (o Objective) Validate() error {
	var errs []error
	if err := checkName(o.Name); err != nil {
		errs = append(errs, err)
	}
	if o.Dependency != "" {
		if err := checkName(o.Dependency); err != nil {
			errs = append(errs, fmt.Errorf("dependency: %w", err))
		}
	}
	if o.Latency < 0 {
		errs = append(errs, fmt.Errorf("latency %v is negative", o.Latency))
	}
	spec := o.Spec()
	if o.Period < 0 {
		errs = append(errs, fmt.Errorf("period %v is negative", o.Period))
		spec.Period = DefaultPeriod // reported above; budget would report it again
	}
	if o.Period != 0 && !o.Calendar.IsZero() {
		errs = append(errs, fmt.Errorf("period %v and calendar %v: give one", o.Period, o.Calendar))
	}
	if err := spec.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %q: %w", ErrInvalidObjective, o.Name, errors.Join(errs...))
}

// checkName reports every problem with an objective name: its length and
// its first disallowed character.
func checkName(name string) error {
	if name == "" {
		return errors.New("name is empty")
	}
	var errs []error
	if len(name) > 128 {
		errs = append(errs, fmt.Errorf("name is %d characters long, more than 128", len(name)))
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			errs = append(errs, fmt.Errorf("name has %q: use letters, digits, '_', '-' and '.'", c))
			break
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns the objective with every documented default made
// explicit, and with its own copy of Rules so that a caller changing its
// slice after New can not change (or race with) the engine's rules.
func (o Objective) withDefaults() Objective {
	if o.Period == 0 && o.Calendar.IsZero() {
		o.Period = DefaultPeriod
	}
	if o.Rules == nil {
		o.Rules = budget.DefaultRules()
	} else {
		o.Rules = slices.Clone(o.Rules) // keeps a non-nil empty slice non-nil
	}
	o.MinEvents = max(o.MinEvents, 1)
	o.MinBadEvents = max(o.MinBadEvents, 1)
	return o
}

// OutcomeOf classifies the error of one unit of work for an availability
// SLI: nil is Good, a context cancellation (the caller gave up) is Neutral,
// anything else is Bad. Deadline expiry is Bad: the work was too slow.
func OutcomeOf(err error) budget.Outcome {
	switch {
	case err == nil:
		return budget.Good
	case errors.Is(err, context.Canceled):
		return budget.Neutral
	}
	return budget.Bad
}
