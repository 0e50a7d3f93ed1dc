package slo

import (
	"fmt"
	"strings"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// ReleasePolicy is the error budget policy: when releases freeze and when
// they may go on again. Zero fields mean their documented defaults.
//
// Releases freeze when an objective's remaining budget over its period is
// at or below FreezeBelow (and, with FreezeOnPage, while one pages), and
// go on again once every objective is above FreezeBelow + Hysteresis and
// none pages. Objectives in StateUnknown never freeze releases.
type ReleasePolicy struct {
	// Objectives are the objectives the policy watches. By default, all
	// objectives that are not a Dependency's.
	Objectives []string
	// FreezeBelow freezes releases once an objective's remaining budget is
	// at or below it. By default, 0: when the budget is spent.
	FreezeBelow float64
	// Hysteresis is how far above FreezeBelow every objective's budget must
	// be back before releases go on. By default, 0.05 (5% of the budget).
	Hysteresis float64
	// FreezeOnPage also freezes releases while an objective pages, so that
	// nobody ships into an incident.
	FreezeOnPage bool
}

// ReleaseStatus is the verdict of the release gate at one evaluation.
//
// The zero ReleaseStatus is releases not frozen.
type ReleaseStatus struct {
	Frozen bool
	// Reason says why releases are frozen, naming the objective and its
	// numbers; empty when they are not.
	Reason string
	// Since is when releases froze; zero when they are not frozen.
	Since time.Time
	// RecoveryTime estimates how long until releases may go on, if traffic
	// goes on as over the past hour (budget.RecoveryTime); budget.Never
	// when it does not recover at that rate; 0 when not frozen, or frozen
	// only by a page.
	RecoveryTime time.Duration
}

func (p ReleasePolicy) validate(e *Engine) error {
	var errs []string
	for _, n := range p.Objectives {
		if _, ok := e.byName[n]; !ok {
			errs = append(errs, fmt.Sprintf("unknown objective %q", n))
		}
	}
	if bad(p.FreezeBelow) || p.FreezeBelow > 1 {
		errs = append(errs, fmt.Sprintf("freeze below %v must be in [0, 1]", p.FreezeBelow))
	}
	if bad(p.Hysteresis) || p.Hysteresis > 1 {
		errs = append(errs, fmt.Sprintf("hysteresis %v must be in [0, 1]", p.Hysteresis))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: release policy: %s", ErrInvalidOption, strings.Join(errs, "; "))
	}
	return nil
}

// release is the freeze's state machine; it belongs to the evaluator.
// withDefaults returns p with its zero fields set to their defaults.
func (p ReleasePolicy) withDefaults() ReleasePolicy {
	if p.Hysteresis == 0 {
		p.Hysteresis = 0.05
	}
	return p
}

type release struct {
	p       ReleasePolicy
	watch   []int
	cur     ReleaseStatus
	culprit int    // index of the objective that froze releases last
	why     reason // why releases are frozen at this evaluation
}

// judge moves the freeze to the objectives' state at now and returns it.
func (r *release) judge(e *Engine, objs []ObjectiveStatus, now time.Time) ReleaseStatus {
	r.why.reset()
	frozen := false
	recovering := time.Duration(0)
	// Releases go on only above FreezeBelow + Hysteresis, so that is what
	// the estimate aims for, already at the evaluation that freezes.
	goal := r.p.FreezeBelow + r.p.Hysteresis
	for _, i := range r.watch {
		o := objs[i]
		rep := o.Report
		if rep.State == budget.StateUnknown {
			continue
		}
		limit := r.p.FreezeBelow
		if r.cur.Frozen {
			limit += r.p.Hysteresis
		}
		if rep.Remaining <= limit {
			if !frozen {
				r.culprit, frozen = i, true
			}
			r.why.addBudgetLeft(o.Objective.Name, rep.Remaining, limit)
			d := budget.Never // the fleet's buckets are not known here
			if o.View != ViewFleet {
				rec := e.recs[i]
				d = budget.RecoveryTime(rec.ledger, rec.spec, now, goal+1e-6, time.Hour)
			}
			recovering = max(recovering, d)
		}
		if r.p.FreezeOnPage && rep.State >= budget.StatePage {
			if !frozen {
				r.culprit, frozen = i, true
			}
			r.why.add(o.Objective.Name, " pages")
		}
	}
	switch {
	case frozen && !r.cur.Frozen:
		r.cur = ReleaseStatus{Frozen: true, Since: now}
	case !frozen:
		r.cur = ReleaseStatus{}
	}
	if frozen {
		r.cur.Reason = r.why.String()
		r.cur.RecoveryTime = recovering
	}
	return r.cur
}
