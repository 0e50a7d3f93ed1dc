package slo

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/internal/cacheline"
)

// The concurrency gate: the fast inner loop of overload protection. See
// ShedPolicy for what it does; this file holds how.
//
// Hot path. Admit adds one to the in-flight count of the request's band
// and reads the other bands' counts and the published limits, all atomic,
// with no lock; Done subtracts one and adds the request's latency to the
// open window of its shard (see shards). Every so often (a window) the
// Done that finds the window over folds it: one goroutine at a time, by a
// try-lock, never waiting. The fold adapts the limit and the reservations
// and publishes them with atomic stores.

// Tunables of the estimator. They are not options: each follows from how
// the estimator works, and the flash-sale matrix measures them at many
// capacities and spike shapes.
const (
	// initialLimit admits this many requests in flight before anything
	// has completed: about Netflix concurrency-limits' default, enough for
	// a small service's bursts and small enough that a spike at start-up
	// queues little. The limit adapts from the first window on.
	initialLimit = 20
	// minLimit is the least limit for sheddable traffic: a service always
	// serves some of it.
	minLimit = 2
	// tolerance is how many times the requests being served may be in
	// flight under overload: twice means about as many wait as are
	// served, so the service stays busy while a request waits about one
	// service time. It is also the mean latency, in no-load latencies,
	// below which the limit leaves more room.
	tolerance = 2.0
	// overloaded is how much more must arrive than is served for the
	// service to count as overloaded: more than a burst of Poisson
	// arrivals at 90% of capacity makes it over loadSmoothing.
	overloaded = 1.2
	// loadSmoothing is the time constant of the rates compared for it:
	// long enough that a burst of Poisson arrivals is not an overload.
	loadSmoothing = 500 * time.Millisecond
	// windowMin and windowSamples close a window: at least windowMin long
	// and windowSamples completions or twice as many arrivals, or windowMax
	// long with one of either.
	windowMin     = 10 * time.Millisecond
	windowMax     = 250 * time.Millisecond
	windowSamples = 16
	// blockSamples completions make one estimate of the no-load latency:
	// enough that the mean of log-normal service times is within a few
	// percent, so that the minimum over many blocks is not far below it.
	blockSamples = 64
	// probeSamples and probeBlocks make the probe of a service that
	// starts under overload (see learnNoLoad): a quarter block at a time,
	// so that each mean is within about 13% for log-normal service times,
	// and four of them, so that the queue the overload left has drained
	// by the last.
	probeSamples = blockSamples / 4
	probeBlocks  = 4
	// drift is how fast the no-load latency may rise when the service gets
	// slower without overload: by a factor e in drift.
	drift = 60 * time.Second
	// smoothing is the time constant of the arrival rates that size the
	// reservations.
	smoothing = time.Second
	// servedSmoothing is the time constant of the served rate, which
	// sizes the limit: short, so that the limit follows a spike within
	// tens of milliseconds.
	servedSmoothing = 100 * time.Millisecond
)

// bands is the number of criticality bands, indexed by Criticality.Index().
const bands = 4

// gate is the concurrency gate of one Engine. enter, exit and state are
// safe for concurrent use; fold, share and setTighten run under the
// try-lock folding.
type gate struct {
	// Published by fold, read by every admission: in-flight bounds by band
	// and each band's reservation, in slots, and each shard's quota.
	bound   [bands]atomic.Int64
	reserve [bands]atomic.Int64
	quota   atomic.Int64
	_       cacheline.Pad // apart from what fold writes

	windowEnd atomic.Int64 // mono nanoseconds when the open window may close
	folding   atomic.Bool

	shards *shards

	est estimator // guarded by folding
	// lastArrived and lastGated are what idle saw; they belong to the
	// evaluator.
	lastArrived, lastGated uint64
	// prev are the shard totals at the previous fold; guarded by folding.
	prev window
}

// window is what the shards counted, cumulative or over one window.
type window struct {
	arrived  [bands]uint64 // requests that asked to be admitted
	rejected [bands]uint64 // of them, rejected by the gate
	done     [bands]uint64 // admitted requests that ended
	goodWord [bands]uint64 // of them, those that ended Good and their latencies: see goodWord
}

func (w window) sub(o window) window {
	for b := range bands {
		w.arrived[b] -= o.arrived[b]
		w.rejected[b] -= o.rejected[b]
		w.done[b] -= o.done[b]
		w.goodWord[b] -= o.goodWord[b]
	}
	return w
}

// The requests of a band that ended Good and the sum of their latencies
// share one word, so that one atomic add counts a request and its latency
// and one load reads both: a fold that read them as two words could read
// a count without its latency (or the reverse), by as many requests as
// end between the two loads, which pulled whole windows' means far off
// under load. Each such request adds goodWord(latency): one in the high
// goodBits bits and its latency in microseconds below them, all modulo
// 2^64. The difference of two readings decodes exactly (good) while a
// window holds fewer than 2^goodBits (about a million) such requests and
// their latencies sum to less than 2^(64-goodBits) µs (about 200 days);
// a window lasts well under a second while requests end.
const (
	goodBits   = 20
	latencyMax = 1<<(64-goodBits) - 1
)

// goodWord is what one request that ended Good after latency nanoseconds
// adds to its band's word: its latency rounded to the microsecond.
func goodWord(latency int64) uint64 {
	return 1<<(64-goodBits) + uint64(max(latency, 0)+500)/1000
}

// good returns the requests of band b that ended Good in a window (a
// difference of readings) and the sum of their latencies in seconds.
func (w window) good(b int) (n uint64, latency float64) {
	return w.goodWord[b] >> (64 - goodBits), float64(w.goodWord[b]&latencyMax) / 1e6
}

func newGate(sh *shards, threshold time.Duration, fixed int, criticalPlus bool) *gate {
	g := &gate{shards: sh}
	g.est = newEstimator(threshold, fixed, criticalPlus)
	g.publish()
	g.share()
	return g
}

// admit decides whether a request of band b may start, counting it in
// flight in shard x if so.
//
// The requests in flight are counted by shard, so that cores do not share
// one counter: a shard adds what its processor admits and subtracts what
// it ends. Far below the bound, a shard admits on its own count alone:
// each fold gives every shard a quota (see quota), an equal part of what
// separates the requests then in flight from half the lowest bound, or
// one request if that is less and the bound has room for one more on
// every shard; while the shard's own count has grown by no more than its
// quota since that fold, the total can not have passed that half (or the
// bound). Beyond its quota, admit adds up every shard, exactly.
func (g *gate) admit(x *shard, b int) bool {
	x.addInt(offInflight+b, 1)
	if q := g.quota.Load(); q > 0 {
		net := -x.loadInt(offSnap)
		for o := range bands {
			net += x.loadInt(offInflight + o)
		}
		if net <= q {
			return true
		}
	}
	n := g.inFlight()
	var total, mine int64 // mine: in flight of band b and above
	for o := range bands {
		total += n[o]
		if o >= b {
			mine += n[o]
		}
	}
	if total > g.bound[b].Load() && mine > g.reserve[b].Load() {
		x.addInt(offInflight+b, -1)
		return false
	}
	return true
}

// release ends, in shard x, a request of band b that admit let in.
func (g *gate) release(x *shard, b int) { x.addInt(offInflight+b, -1) }

// share gives every shard its quota (see admit): called by fold and
// setTighten, with the try-lock held.
func (g *gate) share() {
	sh := g.shards
	var total int64
	for k := range sh.n {
		x := sh.at(k)
		var own int64
		for b := range bands {
			own += x.loadInt(offInflight + b)
		}
		atomic.StoreUint64(&x.w[offSnap], uint64(own))
		total += own
	}
	g.quota.Store(quota(g.bound[0].Load(), total, int64(sh.n)))
}

// quota is each of n shards' quota (see admit) with total in flight and
// the lowest bound: an equal part of what separates total from half the
// bound, and at least one request while the bound leaves room for one
// more on every shard. Without that floor, a small bound (a service that
// answers in microseconds has a bound of a few requests) gives a quota of
// 0, and every admission reads every shard, whose lines the other cores
// write with each of their requests: the cost per request grows with the
// cores. With it, admissions on the fast path alone stay within the
// bound.
func quota(bound, total, n int64) int64 {
	q := (bound/2 - total) / n
	if q < 1 && total+n <= bound {
		q = 1
	}
	return q
}

// maybeFold folds the open window if it is over at now (mono
// nanoseconds). At most one goroutine folds; others go on at once.
func (g *gate) maybeFold(now int64) {
	if now < g.windowEnd.Load() || !g.folding.CompareAndSwap(false, true) {
		return
	}
	defer g.folding.Store(false)
	g.fold(now)
}

// fold closes the window at now if it holds enough, and adapts.
func (g *gate) fold(now int64) {
	cur := g.shards.window()
	w := cur.sub(g.prev)
	var done, arrived uint64
	for b := range bands {
		done += w.done[b]
		arrived += w.arrived[b]
	}
	if g.est.last == 0 { // the first window starts now
		g.prev, g.est.last = cur, now
		g.windowEnd.Store(now + int64(windowMin))
		return
	}
	dt := time.Duration(now - g.est.last)
	// A window closes with enough completions, or with twice as many
	// arrivals (a surge shows before anything completes), or when long.
	// Until a request has ended Good, any window closes: the first
	// completions size the limit at once (see bounds).
	enough := done >= windowSamples || arrived >= 2*windowSamples || dt >= windowMax && done+arrived > 0 || !g.est.ended && done == 0 && arrived > 0
	if dt < windowMin || !enough {
		g.windowEnd.Store(now + int64(windowMin))
		return
	}
	g.prev = cur
	g.est.last = now
	g.est.step(dt, w, g.inFlight())
	g.publish()
	g.share()
	g.windowEnd.Store(now + int64(windowMin))
}

// inFlight returns the requests in flight by band, from every shard.
func (g *gate) inFlight() [bands]int64 {
	var n [bands]int64
	for b := range bands {
		n[b] = int64(g.shards.sum(offInflight + b))
	}
	return n
}

// publish stores the estimator's bounds and reservations for admit.
func (g *gate) publish() {
	for b := range bands {
		g.bound[b].Store(slots(math.Floor(g.est.bound[b])))
		g.reserve[b].Store(slots(math.Ceil(g.est.reserve[b])))
	}
}

// estimator adapts the limit from the windows of latency samples. It is
// pure: time comes in as window lengths.
type estimator struct {
	last int64 // mono nanoseconds of the latest fold; 0 before the first

	threshold time.Duration // the tightest latency objective's; 0 for none
	fixed     int           // ShedPolicy.MaxInFlight; 0 to adapt
	crPlus    bool          // CRITICAL_PLUS may be bounded by the limit

	limit  float64 // for the bands below CRITICAL
	ended  bool    // some admitted request has ended
	noLoad float64 // estimated latency without queueing, seconds; 0 until known
	// provisional says noLoad is the first completions' and probe that the
	// gate measures it (see learnNoLoad).
	provisional, probe bool
	probes             int     // sub-blocks the probe measured
	probeLimit         float64 // the limit while probing
	probeMin           float64 // the lowest of their means
	// The no-load latency's current block of samples.
	blockSum  float64
	blockN    uint64
	blockDur  time.Duration
	blockBusy bool // some sheddable request was rejected in the block

	served  float64        // completions per second, smoothed over servedSmoothing
	latency float64        // mean latency, seconds, smoothed over servedSmoothing
	demand  float64        // arrivals per second, smoothed over loadSmoothing
	served2 float64        // completions per second, smoothed over loadSmoothing
	rate    [bands]float64 // arrivals per second by band, smoothed from 0 (see arrivals)
	age     time.Duration  // how long the windows stepped so far cover
	wait    [bands]float64 // mean latency by band, seconds, smoothed

	// tighten is the outer loop's factor on the limit, in (0, 1]; strict
	// says from which band up the limit also bounds (see setStrict).
	tighten float64
	strict  int

	guard   float64        // in-flight bound of all bands: Little's law with the threshold
	bound   [bands]float64 // in-flight bound by band, before reservations
	reserve [bands]float64 // slots kept for each band
}

func newEstimator(threshold time.Duration, fixed int, criticalPlus bool) estimator {
	e := estimator{threshold: threshold, fixed: fixed, crPlus: criticalPlus, limit: initialLimit, tighten: 1, strict: bands}
	if fixed > 0 {
		e.limit = float64(fixed)
	}
	e.bounds()
	return e
}

// ewma moves avg toward v with time constant tau over dt.
func ewma(avg, v float64, dt, tau time.Duration) float64 {
	a := 1 - math.Exp(-dt.Seconds()/tau.Seconds())
	return avg + a*(v-avg)
}

// step adapts to one window of length dt, with n in flight at its end.
//
// Only requests that ended Good teach it the latency: a request that
// failed fast (a dependency's open breaker, an error) says nothing of how
// long the service takes to serve one. Every request that ended counts in
// the rate served: a limit sized by the good ones alone would shrink with
// every failure, and shed the traffic that still succeeds.
func (e *estimator) step(dt time.Duration, w window, n [bands]int64) {
	var done, good, arrived, rejected, turned uint64 // turned: rejected in every band
	var sum float64
	for b := range bands {
		n, l := w.good(b)
		done += w.done[b]
		good += n
		arrived += w.arrived[b]
		sum += l
		turned += w.rejected[b]
		if b < e.strict {
			rejected += w.rejected[b]
		}
	}
	secs := dt.Seconds()
	e.age = min(e.age+dt, time.Hour)
	e.ended = e.ended || done > 0
	if e.noLoad == 0 { // the first window: nothing to smooth yet
		// Completions trail arrivals by one latency, so a service that
		// starts empty completes fewer than arrive in its first window
		// however lightly loaded. So the served rate that tells an
		// overload starts from what it admitted, and the window's
		// completions then move it as any other window's do (measured: a
		// start at 60% of capacity read as overloaded and turned 2-4
		// requests away; a full correction, the admitted rate as this
		// window's sample too, made one more cold start of the model miss
		// a target, as a cold spike then looks less overloaded).
		e.served, e.served2, e.demand = float64(done)/secs, float64(arrived-turned)/secs, float64(arrived)/secs
	}
	e.served = ewma(e.served, float64(done)/secs, dt, servedSmoothing)
	e.served2 = ewma(e.served2, float64(done)/secs, dt, loadSmoothing)
	e.demand = ewma(e.demand, float64(arrived)/secs, dt, loadSmoothing)
	for b := range bands {
		e.rate[b] = ewma(e.rate[b], float64(w.arrived[b])/secs, dt, smoothing)
		if n, l := w.good(b); n > 0 {
			e.wait[b] = ewma(e.wait[b], l/float64(n), dt, servedSmoothing)
		}
	}
	if good > 0 {
		if e.latency == 0 {
			e.latency = sum / float64(good)
		}
		e.latency = ewma(e.latency, sum/float64(good), dt, servedSmoothing)
		e.learnNoLoad(dt, sum, good, rejected > 0)
	}
	e.bounds()
}

// learnNoLoad folds a window's good completions (good of them, their
// latencies summing to sum) into the no-load estimate: the lowest mean of
// a block of blockSamples completions, which rises slowly (drift) with
// blocks in which no request was turned away.
//
// The first completions give a provisional estimate, which is sound when
// traffic arrives spread out. When the service starts under overload they
// are the shortest of the many requests admitted at once, and no block
// after them is calm enough to correct the estimate upward (measured in
// the flash sale's model: 13ms for a 40ms service, and a gate that served
// 40% of a 32-connection pool for a whole spike). Nor can later blocks be
// trusted, as they wait behind whatever queue the limit lets form: in a
// pool of 4 the first block read 150ms. The estimate contradicts itself
// when requests are turned away while they take longer than tolerance
// times it, which the limit it sets does not allow: then the gate probes,
// as Envoy's adaptive concurrency measures its minimum latency. It holds
// the sheddable bands to minLimit in flight (the higher ones keep their
// reservations) and takes the lowest mean of probeBlocks blocks of
// probeSamples completions: the first are slowed by the queue the start
// left, which drains while the probe lasts.
//
// A low estimate need not show in the latency: the limit it sets lets in
// fewer than the service serves at once, so nothing waits and requests
// take the true no-load latency, which is below tolerance times the
// estimate while the estimate is more than half of it (measured: 21ms for
// a 40ms service, and a 16-connection pool that served 83.5% of its
// capacity for a whole spike of 1.2 times it). It shows as an overload
// that the limit does not relieve: the first block turned requests away
// while more arrived than was served. Then the gate probes at u, the
// requests the estimate says are being served: fewer than the service
// serves at once when the estimate is low, so that none of them waits, and
// the service keeps serving that many while it measures (a start at 90% of
// capacity that probed at minLimit turned away 2.4% of the model's 24s of
// requests, at u 0.5-0.9%: a calm start also sheds a few while its served
// rate catches up with its arrivals). A high estimate shows as latency
// instead, and is probed at minLimit, which u would not correct.
func (e *estimator) learnNoLoad(dt time.Duration, sum float64, good uint64, rejected bool) {
	switch {
	case e.noLoad == 0:
		// Provisional unless MaxInFlight fixes the limit: a probe could
		// not lower it.
		e.noLoad, e.provisional = sum/float64(good), e.fixed == 0
		return
	case e.probe:
		e.blockSum += sum
		e.blockN += good
		if e.blockN < probeSamples {
			return
		}
		b := e.blockSum / float64(e.blockN)
		e.emptyBlock()
		e.probes++
		if e.probeMin == 0 || b < e.probeMin {
			e.probeMin = b
		}
		if e.probes < probeBlocks {
			return
		}
		e.noLoad, e.provisional, e.probe = e.probeMin, false, false
		return
	case e.provisional && rejected && e.latency > tolerance*e.noLoad:
		e.startProbe(minLimit)
		return
	}
	e.blockSum += sum
	e.blockN += good
	e.blockDur += dt
	e.blockBusy = e.blockBusy || rejected
	if e.blockN < blockSamples {
		return
	}
	b := e.blockSum / float64(e.blockN)
	switch {
	case e.provisional && e.blockBusy && b > tolerance*e.noLoad:
		e.startProbe(minLimit)
	case e.provisional && e.blockBusy && e.demand > overloaded*e.served2:
		e.startProbe(e.served * e.noLoad)
	case b < e.noLoad:
		e.noLoad = b
	case !e.blockBusy:
		e.noLoad = min(b, e.noLoad*(1+e.blockDur.Seconds()/drift.Seconds()))
	}
	e.provisional = false
	e.emptyBlock()
}

// startProbe starts a probe that holds the sheddable bands to limit, at
// least minLimit, until it ends (see learnNoLoad), with an empty block.
func (e *estimator) startProbe(limit float64) {
	e.probe = true
	e.probeLimit = max(limit, minLimit)
	e.emptyBlock()
}

// emptyBlock starts the no-load latency's next block of samples.
func (e *estimator) emptyBlock() {
	e.blockSum, e.blockN, e.blockDur, e.blockBusy = 0, 0, 0, false
}

// bounds derives the in-flight bound and reservation of every band.
//
// The bands below e.strict are bounded by the adaptive limit (times the
// outer loop's tightening); the others only by the guard, Little's law
// with the tightest latency objective: no more in flight than the service
// serves within that threshold. Each band above the lowest keeps a
// reservation, what it needs in flight (its arrival rate times its
// latency) plus room for Poisson bursts, which the bands below it may not
// use.
func (e *estimator) bounds() {
	guard := math.Inf(1)
	if e.threshold > 0 && e.served > 0 {
		guard = max(e.served*e.threshold.Seconds(), initialLimit)
	}
	limit := float64(initialLimit)
	if e.noLoad > 0 {
		// Little's law: served × noLoad requests are being served; let
		// tolerance times as many be in flight, plus room for bursts.
		u := e.served * e.noLoad
		limit = tolerance*u + 1
		if e.demand < overloaded*e.served2 {
			// Not overloaded: what arrives is served. Room for the
			// bursts of Poisson arrivals, and while requests wait less
			// than the tolerance allows, up to twice as many.
			limit = (tolerance*u + 3*math.Sqrt(u) + 2) * min(max(tolerance*e.noLoad/e.latency, 1), 2)
		}
	}
	if e.probe {
		limit = e.probeLimit
	}
	if e.fixed > 0 {
		limit = float64(e.fixed)
	}
	e.limit = min(max(limit*e.tighten, minLimit), guard)
	e.guard = guard
	bound := e.limit
	var need [bands]float64
	for b := range bands {
		// What the band needs in flight when it waits as long as the
		// limit lets requests wait (or, before anything ended, as long
		// as the first request has), with room for Poisson bursts; a
		// band not seen yet keeps room for a burst of its first ones.
		if m := e.arrivals(b) * max(e.wait[b], tolerance*e.noLoad, e.first()); b > 0 {
			need[b] = m + 4*math.Sqrt(m) + 2
		}
		bound += need[b]
		e.bound[b] = bound
		if b == CriticalPlus.Index() && !e.crPlus {
			e.bound[b] = math.Inf(1)
		}
	}
	// A band's reservation is what it and the bands above it need: while
	// they have fewer in flight, they are admitted up to the guard.
	var above float64
	for b := bands - 1; b > 0; b-- {
		above += need[b]
		e.reserve[b] = above
		if e.age == 0 && b >= Critical.Index() {
			// Before the first window nothing is known of what CRITICAL
			// needs: it is not turned away for want of a measure.
			e.reserve[b] = math.Inf(1)
		}
	}
	e.reserve[0] = 0
}

// first returns, while no admitted request has ended, the age of the
// first one, in seconds, at the latest fold: a lower bound of the
// latency, which completions that have not happened yet give before any
// has. Once one has ended it returns 0, and the latencies of those that
// ended say more. It sizes the reservations: a band that arrives at rate
// r needs r × first in flight before anything ends.
//
// It does not bound the limit. Bounding it by threshold/first, what a
// service that serves one request at a time finishes within the tightest
// latency objective, spared small pools started into a spike a queue (in
// the model, 8 of 72 cold cells missed a target instead of 12), but before
// anything completes a spike and a busy healthy service look alike: with
// a 250ms objective and a first request of 40ms the bound is 6, and the
// flash sale's shop has 4.8 requests in flight at its steady 120 a second,
// before bursts; every start of a busier service would shed.
func (e *estimator) first() float64 {
	if e.ended {
		return 0
	}
	return e.age.Seconds()
}

// arrivals returns the arrival rate of band b. Its average starts at 0,
// and in the first seconds it would hold only the share of the rate that
// the windows seen so far weigh, 1 − e^(−age/smoothing): a service that
// starts under load would reserve next to nothing for its critical traffic
// while it learns (measured: up to 163 CRITICAL requests of a cold start's
// first 600 rejected). Divided by that weight, the average is unbiased
// from the first window on, and smooths as before once it is seconds old.
func (e *estimator) arrivals(b int) float64 {
	w := -math.Expm1(-e.age.Seconds() / smoothing.Seconds())
	if w <= 0 {
		return 0
	}
	return e.rate[b] / w
}

// slots converts a bound to a whole number of requests; +Inf is no bound.
func slots(v float64) int64 { return int64(min(v, math.MaxInt32)) }

// enter counts a request of band b at now (mono nanoseconds), folds the
// window if it is over, and admits the request through the gate.
func (g *gate) enter(x *shard, b int, now int64) bool {
	x.add(offArrived+b, 1)
	g.maybeFold(now)
	if !g.admit(x, b) {
		x.add(offRejected+b, 1)
		x.add(offGated, 1)
		return false
	}
	return true
}

// exit ends a request of band b that entered, after latency nanoseconds,
// at now (mono nanoseconds), Good or not, and folds the window if it is
// over.
func (g *gate) exit(x *shard, b int, latency, now int64, good bool) {
	g.release(x, b)
	x.add(offDone+b, 1)
	if good {
		x.add(offGood+b, goodWord(latency))
	}
	g.maybeFold(now)
}

// setTighten sets the controller's factor on the limit; it takes effect
// at once.
func (g *gate) setTighten(f float64) {
	for !g.folding.CompareAndSwap(false, true) {
		runtime.Gosched() // a fold is running; it is short
	}
	g.est.tighten = f
	g.est.bounds()
	g.publish()
	g.share()
	g.folding.Store(false)
}

// idle reports whether the gate saw the service far from its limit since
// the previous call: requests went through it, it turned none away, and
// fewer than half the limit are in flight now. It belongs to the
// evaluator.
func (g *gate) idle() bool {
	arrived, gated := uint64(0), g.shards.sum(offGated)
	for b := range bands {
		arrived += g.shards.sum(offArrived + b)
	}
	limit, n := g.state()
	idle := arrived > g.lastArrived && gated == g.lastGated && float64(n) < limit/2
	g.lastArrived, g.lastGated = arrived, gated
	return idle
}

// state returns the limit and the requests in flight.
func (g *gate) state() (limit float64, n int64) {
	for _, m := range g.inFlight() {
		n += m
	}
	return float64(g.bound[0].Load()), n
}
