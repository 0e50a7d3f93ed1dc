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
// # The signal
//
// There is one shed level per Engine (per service), not per objective:
// overload is a property of the capacity the routes share, and shedding the
// browse route is what saves checkout's latency. Every evaluation notes, for
// each service objective (not dependency objectives), how many admitted
// events ended good and bad since the previous evaluation, and how many
// requests Engine.Admit admitted and rejected, by criticality. The control
// signal is the burn rate of admitted traffic only, which shedding can not
// feed on, over the latest Window of evaluations: exact at the evaluation
// interval (see WithInterval), not rounded to the ledger's buckets. It is
//
//   - hot while some objective burns at or above Burn, with at least
//     MinEvents admitted events;
//   - calm while every objective with MinEvents burns below ReleaseBurn;
//   - neither in between: the level holds (hysteresis).
//
// The window is the latest ⌈Window / interval⌉ evaluations, less those
// that ended Window or more before the latest, and at least the latest.
// The engine keeps the latest 64 evaluations for this, about 7 KiB plus
// 1 KiB per objective, fixed at New, so Window may span at most 64 of them.
//
// # The controller
//
// A measured rise happens only when the signal is hot after settling: on a
// window that starts at least Lag after the previous rise, so that each
// rise is judged by the traffic it shaped. Outcomes are recorded when
// requests end, so a signal read any sooner still holds the overload that
// the rise has cured, and a controller that kept rising on it would
// overshoot; settling bounds the overshoot to one step.
//
// The step is measured, not a fixed rate: a rise cuts the admitted rate to
// 90% of the rate the service served over the window,
//
//	target = 0.9 × served
//
// where served is the rate of good events of the availability objectives
// (those without a Latency): when overload makes requests wait until they
// time out, that is the capacity, however far the demand exceeds it. A cut
// removes at least 10% of the rate admitted over the window, so that it
// always makes a difference the next window can see (and no more when the
// service served nearly all of it, as while a backlog drains), and at most
// 90%, so that one wild measurement can not stop the service. With only
// latency objectives, served is the rate of requests served within their
// threshold and a cut removes at most half: slowness alone says less about
// how far the demand exceeds the capacity. From the demand measured by
// criticality over the window, the controller then picks the lowest level
// that admits target. It enters the CRITICAL band only when SHEDDABLE and
// SHEDDABLE_PLUS are already fully shed and the signal is still hot after
// settling, and never reaches CRITICAL_PLUS unless CriticalPlus allows it.
//
// Once every objective has been calm for Hold, the level first falls to
// admit the highest target that a served rate gave a cut since shedding
// started (a cut sized on a backlog, or on a demand measured before the
// criticality of requests was known, may have shed more), and then at
// Decay per second: admission grows slowly and additively, probing for the
// capacity again, as in AIMD. A band without demand is skipped, and once
// the whole demand fits in that target (however few requests measure it),
// the level returns to 0 at once: the overload is over.
//
// Without admissions to measure (fewer than MinEvents requests went
// through Admit over the window, e.g. in an application that reads
// Status().Shed and admits on its own), a rise can not be sized, and the
// level rises at Rise per second of hot signal instead, a plain integrator
// that does not wait for settling but still stops at 2 for one evaluation.
//
// The level L runs from 0 to 3 (4 with CriticalPlus): a request of
// criticality c is rejected with probability clamp(L − band(c), 0, 1),
// where the bands start at 0 for SHEDDABLE, 1 for SHEDDABLE_PLUS, 2 for
// CRITICAL and 3 for CRITICAL_PLUS. So SHEDDABLE goes first, gradually, and
// CRITICAL is touched only once all sheddable traffic is gone.
//
// Served counts each request once when each request has one availability
// objective among the service objectives (and, without any, one latency
// objective), as with one of each per route: a request counted twice makes
// cuts smaller, one counted by none makes them larger.
type ShedPolicy struct {
	// Window is the trailing window of the control signal, in whole
	// evaluations: at most ⌈Window / interval⌉ of them, and at most 64; at
	// most an hour. By default, 2s (two evaluations at the default interval): short, so that
	// the signal stops reporting an overload soon after shedding has cured
	// it, but long enough to hold MinEvents.
	Window time.Duration
	// Lag is how long a change of admission takes to show in the outcomes
	// of the requests that follow it: about the longest time a request
	// waits under overload (the service's queue or request timeout), in
	// whole evaluations, ⌈Lag / interval⌉. After a rise the level rises
	// again only on a window that starts Lag after it. At most an hour. By
	// default, 0: requests end within an evaluation.
	Lag time.Duration
	// Burn is the admitted burn rate over Window at which the level
	// rises, at most 1e6. By default, each objective's fastest page
	// threshold (14.4 for 30 days with the default rules).
	Burn float64
	// ReleaseBurn is the burn rate below which the level may fall, at most
	// Burn and 1e6. By default, 1: the objective holds.
	ReleaseBurn float64
	// MinEvents is the least number of admitted events in Window before an
	// objective's signal counts, and of requests through Admit before a
	// cut is measured, at most 1e9. By default, 20.
	MinEvents uint64
	// Rise is how fast the level climbs, in levels per second, when there
	// are no admissions to size a cut with (see above), at most 100. By
	// default, 0.25:
	// four seconds from nothing to all SHEDDABLE traffic.
	Rise float64
	// Decay is how fast the level falls once calm, in levels per second:
	// the probe for capacity, from 0.001 to 100. By default, 0.1: ten
	// seconds per band.
	Decay float64
	// Hold is how long the signal must stay calm before the level falls,
	// at most an hour. By default, 5s.
	Hold time.Duration
	// CriticalPlus lets the level reach CRITICAL_PLUS traffic. By default,
	// CRITICAL_PLUS is never shed.
	CriticalPlus bool
}

// Bounds of one measured cut, as shares of the admitted rate; maxSlowCut
// when there are only latency objectives.
const (
	minCut     = 0.1
	maxCut     = 0.9
	maxSlowCut = 0.5
)

// signalEvaluations is how many evaluations the control signal remembers:
// the longest Window.
const signalEvaluations = 64

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

// validate reports every problem with the policy, defaults applied. The
// span of Window in evaluations is checked by New, which knows the interval
// (see evaluations).
func (p ShedPolicy) validate() error {
	var errs []error
	bad := func(v float64) bool { return v < 0 || math.IsNaN(v) || math.IsInf(v, 0) }
	if p.Window <= 0 {
		errs = append(errs, fmt.Errorf("shed window %v is not positive", p.Window))
	}
	if p.Lag < 0 {
		errs = append(errs, fmt.Errorf("shed lag %v is negative", p.Lag))
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"window", p.Window}, {"lag", p.Lag}, {"hold", p.Hold}} {
		if f.d > maxShedSpan {
			errs = append(errs, fmt.Errorf("shed %s %v is longer than %v", f.name, f.d, maxShedSpan))
		}
	}
	if bad(p.Burn) || p.Burn > maxShedBurn {
		errs = append(errs, fmt.Errorf("shed burn %v is not a positive number up to %g", p.Burn, maxShedBurn))
	}
	if bad(p.ReleaseBurn) || p.ReleaseBurn > maxShedBurn {
		errs = append(errs, fmt.Errorf("shed release burn %v is not a positive number up to %g", p.ReleaseBurn, maxShedBurn))
	}
	if p.MinEvents > maxMinEvents {
		errs = append(errs, fmt.Errorf("shed min events %d is more than %g", p.MinEvents, float64(maxMinEvents)))
	}
	if p.Burn > 0 && p.ReleaseBurn > p.Burn {
		errs = append(errs, fmt.Errorf("shed release burn %v is above the shed burn %v", p.ReleaseBurn, p.Burn))
	}
	if bad(p.Rise) || p.Rise == 0 || p.Rise > maxShedRate {
		errs = append(errs, fmt.Errorf("shed rise %v is not a positive number up to %d", p.Rise, maxShedRate))
	}
	if bad(p.Decay) || p.Decay < minShedDecay || p.Decay > maxShedRate {
		errs = append(errs, fmt.Errorf("shed decay %v is not from %g to %d", p.Decay, minShedDecay, maxShedRate))
	}
	if p.Hold < 0 {
		errs = append(errs, fmt.Errorf("shed hold %v is negative", p.Hold))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidOption, errors.Join(errs...))
	}
	return nil
}

// evaluations returns Window and Lag in whole evaluations of interval,
// rounded up, and an error if Window spans more evaluations than the
// signal remembers.
func (p ShedPolicy) evaluations(interval time.Duration) (window, lag int, err error) {
	ceil := func(d time.Duration) int64 { // without overflow, for any d ≥ 0
		n := int64(d / interval)
		if d%interval != 0 {
			n++
		}
		return n
	}
	w, l := max(ceil(p.Window), 1), ceil(p.Lag)
	if w > signalEvaluations {
		return signalEvaluations, 0, fmt.Errorf("%w: shed window %v spans %d evaluations of %v, more than %d",
			ErrInvalidOption, p.Window, w, interval, signalEvaluations)
	}
	return int(w), int(min(l, math.MaxInt32)), nil
}

func (p ShedPolicy) maxLevel() float64 {
	if p.CriticalPlus {
		return 4
	}
	return 3
}

// signal is the control input of one evaluation.
type signal struct {
	// hot: some objective burns too fast; calm: all burn below the release
	// rate. Neither means hold.
	hot, calm bool
	// measured says at least MinEvents requests went through Admit over
	// the window, so that the rates below can size a cut.
	measured bool
	// admitted is the rate Admit let through over the window, and demand
	// the rate of requests that reached it, by Criticality (unknown values
	// counted as Critical), in requests per second.
	admitted float64
	demand   [4]float64
	// served is the rate of good events over the window, in events per
	// second, of the availability objectives, or of the latency objectives
	// when there is none (slowOnly).
	served   float64
	slowOnly bool
}

// controller is the shed level's state machine. Pure: time is an argument.
// It belongs to the evaluation goroutine.
type controller struct {
	p ShedPolicy
	// settle is how many evaluations pass after a rise before the signal
	// holds only what came after it: the window and the lag.
	settle    int
	level     float64
	last      time.Time // previous step; zero before the first
	calmSince time.Time // start of the current calm spell; zero when not calm
	since     int       // evaluations since the previous rise, at most settle
	// capacity is the highest 0.9 × served, in requests per second, that
	// sized a cut since the level left 0: a rate the service was seen to
	// serve, with a margin. 0 when there is none.
	capacity float64
}

func newController(p ShedPolicy, settle int) *controller {
	return &controller{p: p, settle: settle, since: settle}
}

// maxStep bounds the time one step may cover: a long pause (a stopped
// process, a stuck clock) must not turn into one big jump.
const maxStep = 5 * time.Second

// step moves the level to time now, one evaluation on, and returns it.
func (c *controller) step(now time.Time, s signal) float64 {
	switch {
	case c.last.IsZero():
		c.last = now // the first step: no time passes
	case now.Before(c.last):
		now = c.last // time went backwards: taken as the previous step
	}
	prev := c.last
	c.last = now
	c.since = min(c.since+1, c.settle)
	switch {
	case s.hot:
		c.calmSince = time.Time{}
		// CRITICAL only once everything sheddable is shed, and still hot.
		limit := c.p.maxLevel()
		if c.level < Critical.band() {
			limit = Critical.band()
		}
		next := min(c.level+c.p.Rise*seconds(prev, now), limit)
		var capacity float64
		if s.measured {
			if c.since < c.settle {
				break // settling: the signal still holds what came before the rise
			}
			most := maxCut
			if s.slowOnly {
				most = maxSlowCut
			}
			target := (1 - minCut) * s.admitted
			if served := (1 - minCut) * s.served; served < target {
				target = max(served, (1-most)*s.admitted)
				capacity = served
			}
			next = fit(target, s.demand, limit)
		}
		if next > c.level {
			c.level, c.since = next, 0
			c.capacity = max(c.capacity, capacity)
		}
	case s.calm:
		if c.calmSince.IsZero() {
			c.calmSince = now
		}
		if now.Sub(c.calmSince) < c.p.Hold {
			break
		}
		// Decay only over the time past the hold: a step that crosses the
		// end of the hold must not decay over the hold itself.
		from := c.calmSince.Add(c.p.Hold)
		if prev.After(from) {
			from = prev
		}
		next := c.level - c.p.Decay*seconds(from, now)
		// After a measured cut, the demand counts however small: the
		// overload may be over.
		if next > 0 && (s.measured || c.capacity > 0) {
			// The lowest level that admits as much: bands without demand
			// are skipped.
			next = fit(admittedAt(next, s.demand), s.demand, next)
			// When the hold ends, no more shedding than it takes to admit
			// what the service was seen to serve, and none once the whole
			// demand fits in it: the overload is over.
			if c.capacity > 0 && (prev.Sub(c.calmSince) < c.p.Hold || total(s.demand) <= c.capacity) {
				next = fit(c.capacity, s.demand, next)
			}
		}
		c.level = max(next, 0)
		if c.level == 0 {
			c.capacity = 0
		}
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

// admittedAt returns the rate that level admits of demand (by Criticality).
func admittedAt(level float64, demand [4]float64) float64 {
	var a float64
	for _, c := range Criticalities {
		a += demand[c] * (1 - rejectProbability(level, c))
	}
	return a
}

// total returns the sum of demand.
func total(demand [4]float64) float64 {
	var t float64
	for _, d := range demand {
		t += d
	}
	return t
}

// fit returns the lowest level, at most limit, that admits no more than
// rate of demand (by Criticality); limit if none does.
func fit(rate float64, demand [4]float64, limit float64) float64 {
	rest := total(demand) // what the level at the start of a band admits
	for _, c := range Criticalities {
		b := c.band()
		if b >= limit || rest <= rate {
			return min(b, limit)
		}
		if d := demand[c]; rest-d <= rate { // part of this band is enough
			return min(b+(rest-rate)/d, limit)
		}
		rest -= demand[c]
	}
	return limit
}

// rejectProbability returns the share of requests of criticality c that
// level rejects.
func rejectProbability(level float64, c Criticality) float64 {
	return min(max(level-c.band(), 0), 1)
}

// retryAfter estimates how long until level stops rejecting criticality c:
// the hold plus the time to decay below c's band, from one second to
// maxRetryAfter (a day), saturating: a longer wait is a day, never a
// wrapped-around or short one.
func (p ShedPolicy) retryAfter(level float64, c Criticality) time.Duration {
	excess := level - c.band()
	if excess <= 0 {
		return 0
	}
	d := addSaturated(max(p.Hold, 0), saturate(excess/p.Decay, maxRetryAfter), maxRetryAfter)
	return min(max(d.Round(time.Second), time.Second), maxRetryAfter)
}

// meter is the memory of the control signal: what each of the latest
// evaluations added, for every objective and for admission, read from
// cumulative counters so that nothing is added to the request path. It
// belongs to the evaluation goroutine.
type meter struct {
	window  int           // in evaluations, at most signalEvaluations
	length  time.Duration // ShedPolicy.Window
	n       int           // evaluations so far
	last    time.Time     // of the previous evaluation
	prev    []outcomes
	prevAdm [4]uint64 // cumulative admissions at the previous evaluation
	prevRej [4]uint64 // cumulative rejections at the previous evaluation
	slots   [signalEvaluations]admissions
	// counts holds what each evaluation added, by objective: objective i
	// at evaluation k in counts[i*signalEvaluations+k%signalEvaluations].
	counts []outcomes
}

// outcomes counts the admitted events of one objective.
type outcomes struct{ good, bad uint64 }

// admissions is what Admit decided between two evaluations, by
// Criticality, over (start, end].
type admissions struct {
	start, end         time.Time
	admitted, rejected [4]uint64
}

func newMeter(objectives, window int, length time.Duration) *meter {
	return &meter{
		window: window,
		length: length,
		prev:   make([]outcomes, objectives),
		counts: make([]outcomes, objectives*signalEvaluations),
	}
}

// begin starts the evaluation at now, given the cumulative admissions and
// rejections by Criticality. Then add is called for every objective.
func (m *meter) begin(now time.Time, admitted, rejected [4]uint64) {
	if now.Before(m.last) {
		now = m.last // as the engine does: time never runs backwards
	}
	s := admissions{start: m.last, end: now}
	if m.n == 0 {
		s.start = now // what came before the first evaluation has no span
	}
	for c := range admitted {
		s.admitted[c] = admitted[c] - m.prevAdm[c]
		s.rejected[c] = rejected[c] - m.prevRej[c]
	}
	m.prevAdm, m.prevRej = admitted, rejected
	m.slots[m.n%signalEvaluations] = s
	m.n++
	m.last = now
}

// first returns the number of the oldest evaluation in the window: the
// latest window evaluations but those that ended more than Window before
// the latest, and at least the latest.
func (m *meter) first() int {
	k := m.n - 1
	end := m.slots[k%signalEvaluations].end
	for k > max(m.n-m.window, 0) && end.Sub(m.slots[(k-1)%signalEvaluations].end) < m.length {
		k--
	}
	return k
}

// add records objective i's cumulative admitted good and bad events at the
// current evaluation and returns its counts over the window.
func (m *meter) add(i int, good, bad uint64) outcomes {
	row := m.counts[i*signalEvaluations : (i+1)*signalEvaluations]
	row[(m.n-1)%signalEvaluations] = outcomes{good: good - m.prev[i].good, bad: bad - m.prev[i].bad}
	m.prev[i] = outcomes{good: good, bad: bad}
	var sum outcomes
	for k := m.first(); k < m.n; k++ {
		o := row[k%signalEvaluations]
		sum.good += o.good
		sum.bad += o.bad
	}
	return sum
}

// span returns the time the window covers, in seconds.
func (m *meter) span() float64 {
	if m.n == 0 {
		return 0
	}
	return m.slots[(m.n-1)%signalEvaluations].end.Sub(m.slots[m.first()%signalEvaluations].start).Seconds()
}

// rates returns the admitted rate and the demand by Criticality over the
// window, per second (zero when the window spans no time), and how many
// requests reached Admit.
func (m *meter) rates() (admitted float64, demand [4]float64, requests uint64) {
	var adm uint64
	for k := m.first(); k < m.n; k++ {
		s := m.slots[k%signalEvaluations]
		for c := range demand {
			adm += s.admitted[c]
			requests += s.admitted[c] + s.rejected[c]
			demand[c] += float64(s.admitted[c] + s.rejected[c])
		}
	}
	span := m.span()
	if span <= 0 {
		return 0, [4]float64{}, requests
	}
	for c := range demand {
		demand[c] /= span
	}
	return float64(adm) / span, demand, requests
}
