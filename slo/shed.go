package slo

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ShedPolicy configures overload protection: a concurrency gate, the fast
// inner loop, and a burn-rate controller, the slow outer loop. Zero fields
// mean their documented defaults; ShedPolicy{} is meant to be enough. This
// is the one place where shedding is explained; the packages that admit
// requests (middleware, grpcslo) and the README link here.
//
// Both loops are one per service, not one per objective, because overload
// is a property of the capacity the routes share: in a flash sale it is the
// browse traffic that burns checkout's latency budget, and shedding browse
// is what saves checkout. Requests reach them through a Route (Route.Admit,
// Ticket.Done), with a few atomic operations on counters of the request's
// own processor and no lock or allocation.
//
// # The gate
//
// Every request admitted through a Route counts as in flight until its
// Ticket is done. The gate rejects a request at once (HTTP 429, gRPC
// RESOURCE_EXHAUSTED) when admitting it would put more in flight than its
// criticality may have, from the first request, before anything has
// completed. There is no queue in sloguard: a request waits only in the
// service's own queues, and the gate keeps those short.
//
// The limit adapts, with no number from the user. Every window of about
// 16 completions or 32 arrivals (at least 10ms, at most 250ms) the request
// that closes it folds it, one goroutine at a time and without a lock:
// from the latency of each request that ended Good the gate learns the
// service's no-load latency (the lowest mean of 64 of them in a row, which
// rises slowly, over about a minute, only while nothing is turned away;
// requests that fail fast say nothing of it), and from the number of
// completions the rate it serves, smoothed over 100ms. By Little's law,
// u = served × no-load latency requests are being served. While more
// arrives than is served (by a fifth, over half a second: an overload, not
// a burst) the limit is 2u + 1: about as many requests wait as are served,
// so the service stays busy and a request waits about one service time.
// Otherwise the limit leaves room for Poisson bursts, 2u + 3√u + 2, and
// up to twice that while the mean latency stays below twice the no-load
// latency, so that traffic the service can serve is not turned away.
// Before anything has completed the limit is 20. Before the first window
// CRITICAL and above are not turned away, and until something has
// completed they reserve what they need in flight at a latency of the age
// of the first request, a lower bound of the latency.
//
// A service that starts in the middle of an overload would learn its
// no-load latency from the shortest of the many requests it admitted at
// once, and then serve a fraction of its capacity for as long as the
// overload lasts. When requests are turned away while they take more than
// twice the latency learnt from the first ones, the gate measures it
// instead: for 64 completions it holds the sheddable criticalities to 2 in
// flight (the others keep their reservations) and takes the lowest mean of
// four blocks of 16, by which time the queue the start left has drained.
// When the first 64 completions turned requests away while more arrived
// than was served, but took less than twice that latency, the latency
// learnt is low without showing it (the limit lets in fewer than the
// service serves at once): the gate measures the same way, holding the
// sheddable criticalities to u, what it learnt is being served, so that
// the service keeps serving while it measures.
//
// The tightest latency objective of the service is the guardrail: the
// limit never exceeds served × its threshold, the most that can be in
// flight for requests to finish within it.
//
// Room is reserved by criticality: each criticality above SHEDDABLE
// reserves what it needs in flight (its arrival rate times its latency,
// at least the latency that the limit allows, plus room for Poisson
// bursts, 4√m + 2 for m needed; a criticality not seen yet keeps the 2).
// SHEDDABLE may fill the limit; each criticality above it may also use the
// reservations of its own and the lower criticalities; and while a
// criticality and those above it have fewer in flight than they reserved
// together, they are always admitted.
// So CRITICAL always finds a slot while SHEDDABLE fills the rest. Without
// CriticalPlus, CRITICAL_PLUS is never rejected by the gate.
//
// # The controller
//
// The controller knows the budget; the gate knows the queue. Every
// evaluation (see WithInterval) it reads the burn rate of admitted traffic
// (shed events left out, so shedding can not feed on itself) of every
// service objective over the latest two evaluations. While some objective
// burns at Burn or more, with MinEvents admitted events, admitted traffic
// still burns the budget: each such evaluation moves the shed level up
// half a band and tightens the gate's limit by a quarter, unless the
// burn is not overload: while the gate saw the service far from its limit
// (requests went through, none turned away, fewer than half the limit in
// flight) or a dependency's breaker is not closed, the level holds. Once
// every objective has burned below ReleaseBurn for Hold, each evaluation
// gives back as much per second. In between, the level holds.
//
// The level L runs from 0 to 3 (4 with CriticalPlus): a request of
// criticality c is rejected with probability clamp(L − band(c), 0, 1),
// where the bands start at 0 for SHEDDABLE, 1 for SHEDDABLE_PLUS, 2 for
// CRITICAL and 3 for CRITICAL_PLUS. So SHEDDABLE goes first, and CRITICAL
// only once all sheddable traffic is gone. A band without demand is
// skipped.
type ShedPolicy struct {
	// MaxInFlight fixes the gate's limit for those who know their
	// service's capacity: the most requests SHEDDABLE may fill, the
	// reservations of the other criticalities coming on top; at most 1e9.
	// By default, 0: the limit adapts (see above).
	MaxInFlight int
	// Burn is the admitted burn rate at which the controller sheds and
	// tightens, at most 1e6. By default, each objective's fastest page
	// threshold (14.4 for 30 days with the default rules): the rate that
	// pages anyway.
	Burn float64
	// ReleaseBurn is the burn rate below which the controller may give
	// back, at most Burn and 1e6. By default, 1: the objective holds.
	ReleaseBurn float64
	// MinEvents is the least number of admitted events over the latest
	// two evaluations before an objective's burn rate counts, at most 1e9.
	// By default, 20: fewer say little about a rate.
	MinEvents uint64
	// Hold is how long every objective must burn below ReleaseBurn before
	// the controller gives back, at most an hour. By default, 5s: long
	// enough that a release is not undone by the next evaluation.
	Hold time.Duration
	// CriticalPlus lets the gate and the controller reject CRITICAL_PLUS
	// traffic. By default, CRITICAL_PLUS is never shed.
	CriticalPlus bool
}

// The controller's steps: half a band per evaluation, and a quarter of
// the limit; given back at this pace per second once calm.
const (
	levelStep   = 0.5
	tightenStep = 0.75
	minTighten  = 0.05
)

// signalEvaluations is how many evaluations the control signal remembers;
// the signal covers the latest controlEvaluations of them.
const (
	signalEvaluations  = 64
	controlEvaluations = 2
)

func (p ShedPolicy) withDefaults() ShedPolicy {
	if p.ReleaseBurn == 0 {
		p.ReleaseBurn = 1
	}
	if p.MinEvents == 0 {
		p.MinEvents = 20
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
	if p.MaxInFlight < 0 || p.MaxInFlight > maxInFlight {
		errs = append(errs, fmt.Errorf("shed max in flight %d is not from 0 to %d", p.MaxInFlight, maxInFlight))
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
	if p.Hold < 0 {
		errs = append(errs, fmt.Errorf("shed hold %v is negative", p.Hold))
	}
	if p.Hold > maxShedSpan {
		errs = append(errs, fmt.Errorf("shed hold %v is longer than %v", p.Hold, maxShedSpan))
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

// signal is the control input of one evaluation.
type signal struct {
	// hot: some objective burns too fast; calm: all burn below the release
	// rate. Neither means hold.
	hot, calm bool
	// demand is the rate of requests that asked to be admitted over the
	// window, by Criticality, per second.
	demand [4]float64
}

// any reports whether the signal saw any demand: without, no band is
// known to be empty.
func (s signal) any() bool { return s.demand != [4]float64{} }

// controller is the outer loop's state machine. Pure: time is an argument.
// It belongs to the evaluation goroutine.
type controller struct {
	p         ShedPolicy
	level     float64
	tighten   float64   // the factor on the gate's limit, in [minTighten, 1]
	last      time.Time // previous step; zero before the first
	calmSince time.Time // start of the current calm spell; zero when not calm
}

func newController(p ShedPolicy) *controller {
	return &controller{p: p, tighten: 1}
}

// maxStep bounds the time one step may cover: a long pause (a stopped
// process, a stuck clock) must not turn into one big jump.
const maxStep = 5 * time.Second

// step moves the controller to time now, one evaluation on.
func (c *controller) step(now time.Time, s signal) {
	switch {
	case c.last.IsZero():
		c.last = now
	case now.Before(c.last):
		now = c.last // time went backwards: taken as the previous step
	}
	prev := c.last
	c.last = now
	switch {
	case s.hot:
		c.calmSince = time.Time{}
		c.tighten = max(c.tighten*tightenStep, minTighten)
		limit := c.p.maxLevel()
		// Skip the bands without demand: shedding them frees nothing.
		next := c.level + levelStep
		for cr := Sheddable; cr <= CriticalPlus; cr++ {
			if b := cr.band(); next > b && next < b+1 && s.demand[cr.Index()] == 0 && s.any() && b+1 <= limit {
				next = b + 1
			}
		}
		c.level = min(next, limit)
	case s.calm:
		if c.calmSince.IsZero() {
			c.calmSince = now
		}
		from := c.calmSince.Add(c.p.Hold)
		if now.Before(from) {
			break
		}
		if prev.After(from) {
			from = prev
		}
		secs := seconds(from, now)
		c.level = max(c.level-levelStep*secs, 0)
		// Bands without demand are given back at once.
		for cr := CriticalPlus; cr >= Sheddable; cr-- {
			if b := cr.band(); c.level > b && c.level <= b+1 && s.demand[cr.Index()] == 0 && s.any() {
				c.level = b
			}
		}
		c.tighten = min(c.tighten/math.Pow(tightenStep, secs), 1)
	default:
		c.calmSince = time.Time{}
	}
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
// the hold plus the time to give back down to c's band, from one second
// to maxRetryAfter (a day), saturating.
func (p ShedPolicy) retryAfter(level float64, c Criticality) time.Duration {
	excess := level - c.band()
	if excess <= 0 {
		return 0
	}
	d := addSaturated(max(p.Hold, 0), saturate(excess/levelStep, maxRetryAfter), maxRetryAfter)
	return min(max(d.Round(time.Second), time.Second), maxRetryAfter)
}

// meter is the memory of the control signal: what each of the latest
// evaluations added, for every objective and for admission, read from
// cumulative counters so that nothing is added to the request path. It
// belongs to the evaluation goroutine.
//
// Its rings (ring.go) advance together: begin pushes one value to slots,
// then add pushes one to each objective's row, so that the k-th newest
// value of a row and of slots are the same evaluation.
type meter struct {
	window  int           // in evaluations, at most signalEvaluations
	length  time.Duration // of the window: at most this long
	last    time.Time     // of the previous evaluation
	prev    []outcomes
	prevAdm [4]uint64 // cumulative admissions at the previous evaluation
	prevRej [4]uint64 // cumulative rejections at the previous evaluation
	slots   ring[admissions]
	rows    []ring[outcomes] // what each evaluation added, by objective
	count   int              // evaluations in the window, set by begin
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
	m := &meter{
		window: window,
		length: length,
		prev:   make([]outcomes, objectives),
		slots:  newRing[admissions](signalEvaluations),
		rows:   make([]ring[outcomes], objectives),
	}
	// The rows' buffers, cut from one array.
	all := make([]outcomes, objectives*signalEvaluations)
	for i := range m.rows {
		m.rows[i].buf = all[i*signalEvaluations : (i+1)*signalEvaluations : (i+1)*signalEvaluations]
	}
	return m
}

// begin starts the evaluation at now, given the cumulative admissions and
// rejections by Criticality. Then add is called once for every objective
// whose window counts are wanted.
func (m *meter) begin(now time.Time, admitted, rejected [4]uint64) {
	if now.Before(m.last) {
		now = m.last // as the engine does: time never runs backwards
	}
	s := admissions{start: m.last, end: now}
	if m.slots.len() == 0 {
		s.start = now // what came before the first evaluation has no span
	}
	for c := range admitted {
		s.admitted[c] = admitted[c] - m.prevAdm[c]
		s.rejected[c] = rejected[c] - m.prevRej[c]
	}
	m.prevAdm, m.prevRej = admitted, rejected
	m.slots.push(s)
	m.last = now
	m.count = m.evaluations()
}

// evaluations returns how many of the newest evaluations the window holds: the
// latest window evaluations but those that ended Window or more before the
// latest, and at least the latest.
func (m *meter) evaluations() int {
	n := m.slots.len()
	if n == 0 {
		return 0
	}
	end := m.slots.at(n - 1).end
	k := 1
	for k < min(m.window, n) && end.Sub(m.slots.at(n-1-k).end) < m.length {
		k++
	}
	return k
}

// add records objective i's cumulative admitted good and bad events at the
// current evaluation and returns its counts over the window.
func (m *meter) add(i int, good, bad uint64) outcomes {
	row := &m.rows[i]
	row.push(outcomes{good: good - m.prev[i].good, bad: bad - m.prev[i].bad})
	m.prev[i] = outcomes{good: good, bad: bad}
	var sum outcomes
	n := row.len()
	for k := n - min(m.count, n); k < n; k++ {
		o := row.at(k)
		sum.good += o.good
		sum.bad += o.bad
	}
	return sum
}

// span returns the time the window covers, in seconds.
func (m *meter) span() float64 {
	n := m.slots.len()
	if n == 0 {
		return 0
	}
	return m.slots.at(n - 1).end.Sub(m.slots.at(n - m.count).start).Seconds()
}

// rates returns the admitted rate and the demand by Criticality over the
// window, per second (zero when the window spans no time), and how many
// requests reached Admit.
func (m *meter) rates() (admitted float64, demand [4]float64, requests uint64) {
	var adm uint64
	n := m.slots.len()
	for k := n - m.count; k < n; k++ {
		s := m.slots.at(k)
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
