package slo

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// GatePolicy is the condition of a Gate: a feature flag tied to the error
// budget. A gate is open (enabled) unless one of its conditions holds for
// one of its objectives. Zero fields mean their documented defaults.
//
// An objective in StateUnknown (too little data) never closes a gate: a
// fresh deploy must not turn features off for want of traffic.
type GatePolicy struct {
	// Objectives are the objectives the gate watches. By default, all
	// objectives that are not a Dependency's.
	Objectives []string
	// MinRemaining closes the gate while an objective's remaining budget
	// is at or below it, e.g. 0.25 to keep a quarter of the budget for
	// what matters more than the feature. It reopens only above
	// MinRemaining + Hysteresis. By default, 0: closed once the budget is
	// spent.
	MinRemaining float64
	// Hysteresis is how far above MinRemaining the budget must be back
	// before the gate reopens. By default, 0.02 (2% of the budget).
	Hysteresis float64
	// ClosedOnPage closes the gate while an objective pages (a fast burn),
	// ClosedOnTicket already while one tickets (a slow burn).
	ClosedOnPage, ClosedOnTicket bool
	// ClosedWhenFrozen closes the gate while releases are frozen (see
	// ReleasePolicy).
	ClosedWhenFrozen bool
	// MinClosed keeps a gate that closed closed for at least that long,
	// even when its conditions clear sooner. When the gated feature is
	// itself the cause of the burn, closing it cures the burn and the gate
	// would reopen as soon as the short windows are clean, only to close
	// again: MinClosed spaces out those probes. At most a year (365 days).
	// By default, 0.
	MinClosed time.Duration
}

func (p GatePolicy) validate(name string, e *Engine) error {
	var errs []string
	if err := checkName(name); err != nil {
		errs = append(errs, err.Error())
	}
	for _, n := range p.Objectives {
		if _, ok := e.byName[n]; !ok {
			errs = append(errs, fmt.Sprintf("unknown objective %q", n))
		}
	}
	if bad(p.MinRemaining) || p.MinRemaining > 1 {
		errs = append(errs, fmt.Sprintf("min remaining %v must be in [0, 1]", p.MinRemaining))
	}
	if bad(p.Hysteresis) || p.Hysteresis > 1 {
		errs = append(errs, fmt.Sprintf("hysteresis %v must be in [0, 1]", p.Hysteresis))
	}
	switch {
	case p.MinClosed < 0:
		errs = append(errs, fmt.Sprintf("min closed %v is negative", p.MinClosed))
	case p.MinClosed > maxMinClosed:
		errs = append(errs, fmt.Sprintf("min closed %v is longer than %v", p.MinClosed, maxMinClosed))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: gate %q: %s", ErrInvalidOption, name, strings.Join(errs, "; "))
	}
	return nil
}

// withDefaults returns p with its zero fields set to their defaults.
func (p GatePolicy) withDefaults() GatePolicy {
	if p.Hysteresis == 0 {
		p.Hysteresis = 0.02
	}
	return p
}

func bad(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }

// Gate is a feature flag that the error budget turns off and on: typical
// use is
//
//	if gate.Enabled() {
//		newRecommender()
//	} else {
//		oldRecommender()
//	}
//
// The engine re-evaluates it at every evaluation; its changes are Events.
// A Gate is safe for concurrent use.
//
// The zero Gate has no name and is never enabled; gates come from
// Engine.Gate.
type Gate struct {
	name   string
	policy GatePolicy
	watch  []int // indexes of the watched objectives in Engine.recs
	open   atomic.Bool

	// Owned by the evaluator: when it last closed, why, and the index of
	// the objective that closed it (-1 for none, as when frozen); why it
	// is closed at this evaluation, and why it is held closed.
	closedAt   time.Time
	lastReason string
	culprit    int
	why, held  reason
	minClosed  string // policy.MinClosed, formatted once for held
}

// Name returns the gate's name.
func (g *Gate) Name() string { return g.name }

// Enabled reports whether the gate is open. It is one atomic load.
func (g *Gate) Enabled() bool { return g.open.Load() }

// judge returns whether the gate should be open given the objectives'
// reports and the freeze, and if not, because of which objective (an
// index into objs, or -1); why is in g.why.
func (g *Gate) judge(objs []ObjectiveStatus, frozen bool) (open bool, culprit int) {
	g.why.reset()
	if g.policy.ClosedWhenFrozen && frozen {
		g.why.add("releases are frozen")
		return false, -1
	}
	wasOpen := g.open.Load()
	for _, i := range g.watch {
		o := objs[i]
		rep := o.Report
		name := o.Objective.Name
		switch {
		case rep.State == budget.StateUnknown:
			continue
		case g.policy.ClosedOnTicket && rep.State >= budget.StateTicket,
			g.policy.ClosedOnPage && rep.State >= budget.StatePage:
			g.why.add(name, " is in state ", rep.State.String())
			return false, i
		}
		limit := g.policy.MinRemaining
		if !wasOpen {
			limit += g.policy.Hysteresis
		}
		if rep.Remaining <= limit {
			g.why.addBudgetLeft(name, rep.Remaining, limit)
			return false, i
		}
	}
	return true, -1
}

// GateStatus is the state of one gate at one evaluation.
//
// The zero GateStatus is a closed gate with no name and no reason.
type GateStatus struct {
	Name    string
	Enabled bool
	Reason  string // why it is closed; empty when open
}
