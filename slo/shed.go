package slo

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ShedPolicy configures load shedding: a feedback controller that keeps the
// admitted traffic inside its objectives by rejecting the least critical
// requests first. Zero fields mean their documented defaults.
//
// # The controller
//
// There is one shed level per Engine (per service), not per objective:
// overload is a property of the capacity the routes share, and shedding the
// browse route is what saves checkout's latency. Each evaluation computes,
// for every service objective (not dependency objectives), the burn rate of
// admitted traffic only over Window, the control signal, which shedding can
// not feed on itself. Then:
//
//   - while some objective burns at or above its Burn, with at least
//     MinEvents admitted events, the level rises at Rise per second;
//   - once every objective has burned below ReleaseBurn for Hold, the level
//     falls at Decay per second;
//   - in between it holds (hysteresis).
//
// The level L runs from 0 to 3 (4 with CriticalPlus): a request of
// criticality c is rejected with probability clamp(L − band(c), 0, 1),
// where the bands start at 0 for SHEDDABLE, 1 for SHEDDABLE_PLUS, 2 for
// CRITICAL and 3 for CRITICAL_PLUS. So SHEDDABLE goes first, gradually, and
// CRITICAL is touched only once all sheddable traffic is gone.
type ShedPolicy struct {
	// Window is the trailing window of the control signal. By default, 2s:
	// short, so that the signal stops reporting an overload soon after
	// shedding has cured it.
	Window time.Duration
	// Burn is the admitted burn rate over Window at which the level
	// rises. By default, each objective's fastest page threshold (14.4 for
	// 30 days with the default rules).
	Burn float64
	// ReleaseBurn is the burn rate below which the level may fall. By
	// default, 1: the objective holds.
	ReleaseBurn float64
	// MinEvents is the least number of admitted events in Window before an
	// objective's signal counts. By default, 20.
	MinEvents uint64
	// Rise is how fast the level climbs, in levels per second. By default,
	// 0.25: four seconds from nothing to all SHEDDABLE traffic. The signal
	// lags by up to Window, so the level can overshoot by Rise × Window;
	// the defaults keep that to half a band.
	Rise float64
	// Decay is how fast the level falls, in levels per second. By default,
	// 0.1: ten seconds per band.
	Decay float64
	// Hold is how long the signal must stay below ReleaseBurn before the
	// level falls. By default, 5s.
	Hold time.Duration
	// CriticalPlus lets the level reach CRITICAL_PLUS traffic. By default,
	// CRITICAL_PLUS is never shed.
	CriticalPlus bool
}

func (p ShedPolicy) withDefaults() ShedPolicy {
	if p.Window == 0 {
		p.Window = 2 * time.Second
	}
	if p.ReleaseBurn == 0 {
		p.ReleaseBurn = 1
	}
	if p.MinEvents == 0 {
		p.MinEvents = 20
	}
	if p.Rise == 0 {
		p.Rise = 0.25
	}
	if p.Decay == 0 {
		p.Decay = 0.1
	}
	if p.Hold == 0 {
		p.Hold = 5 * time.Second
	}
	return p
}

// validate reports every problem with the policy, defaults applied.
func (p ShedPolicy) validate() error {
	var errs []error
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	if p.Window < time.Second {
		errs = append(errs, fmt.Errorf("shed window %v is shorter than one second", p.Window))
	}
	if bad(p.Burn) {
		errs = append(errs, fmt.Errorf("shed burn %v is not a positive number", p.Burn))
	}
	if bad(p.ReleaseBurn) {
		errs = append(errs, fmt.Errorf("shed release burn %v is not a positive number", p.ReleaseBurn))
	}
	if p.Burn > 0 && p.ReleaseBurn > p.Burn {
		errs = append(errs, fmt.Errorf("shed release burn %v is above the shed burn %v", p.ReleaseBurn, p.Burn))
	}
	if bad(p.Rise) || p.Rise == 0 {
		errs = append(errs, fmt.Errorf("shed rise %v is not a positive number", p.Rise))
	}
	if bad(p.Decay) || p.Decay == 0 {
		errs = append(errs, fmt.Errorf("shed decay %v is not a positive number", p.Decay))
	}
	if p.Hold < 0 {
		errs = append(errs, fmt.Errorf("shed hold %v is negative", p.Hold))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOption, errors.Join(errs...))
	}
	return nil
}

func (p ShedPolicy) maxLevel() float64 {
	if p.CriticalPlus {
		return 4
	}
	return 3
}

// controller is the shed level's state machine. Pure: time is an argument.
// It belongs to the evaluation goroutine.
type controller struct {
	p         ShedPolicy
	level     float64
	last      time.Time // previous step; zero before the first
	calmSince time.Time // start of the current calm spell; zero when not calm
}

// signal is the control input of one evaluation: whether some objective
// burns too fast (hot) and whether all burn below the release rate (calm).
// Neither means hold.
type signal struct{ hot, calm bool }

// maxStep bounds the time one step may cover: a long pause (a stopped
// process, a stuck clock) must not turn into one big jump.
const maxStep = 5 * time.Second

// step moves the level to time now and returns it.
func (c *controller) step(now time.Time, s signal) float64 {
	switch {
	case c.last.IsZero():
		c.last = now // the first step: no time passes
	case now.Before(c.last):
		now = c.last // time went backwards: taken as the previous step
	}
	prev := c.last
	c.last = now
	switch {
	case s.hot:
		c.calmSince = time.Time{}
		c.level = min(c.level+c.p.Rise*seconds(prev, now), c.p.maxLevel())
	case s.calm:
		if c.calmSince.IsZero() {
			c.calmSince = now
		}
		// Decay only over the time past the hold: a step that crosses the
		// end of the hold must not decay over the hold itself.
		from := prev
		if end := c.calmSince.Add(c.p.Hold); end.After(from) {
			from = end
		}
		c.level = max(c.level-c.p.Decay*seconds(from, now), 0)
	default:
		c.calmSince = time.Time{}
	}
	return c.level
}

// seconds returns the time from from to to in seconds: 0 if to is not
// after from, at most maxStep.
func seconds(from, to time.Time) float64 {
	if !to.After(from) {
		return 0
	}
	return min(to.Sub(from), maxStep).Seconds()
}

// rejectProbability returns the share of requests of criticality c that
// level rejects.
func rejectProbability(level float64, c Criticality) float64 {
	return min(max(level-c.band(), 0), 1)
}

// retryAfter estimates how long until level stops rejecting criticality c:
// the hold plus the time to decay below c's band, at least one second.
func (p ShedPolicy) retryAfter(level float64, c Criticality) time.Duration {
	excess := level - c.band()
	if excess <= 0 {
		return 0
	}
	d := p.Hold + time.Duration(excess/p.Decay*float64(time.Second))
	return max(d.Round(time.Second), time.Second)
}
