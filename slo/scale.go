package slo

import (
	"math"
	"time"
)

// ScaleStatus is the scale signal at one evaluation: how many times its
// current capacity this service needs to serve its whole demand, shed
// demand included. It needs shedding on (WithShedding): only the
// admission core counts the demand.
//
// # Need
//
// Need is demand over capacity. 1 means the capacity is enough; 2.5 means
// that two and a half times as many replicas would serve everything; below
// 1 the service has room, and an autoscaler may scale back. Demand is
// every request that reached Route.Admit, admitted or shed. Capacity is in
// requests per second, what the service serves of its current mix:
//
//   - While the concurrency gate turns away 5% of the demand or more
//     (saturatedShare, both at the evaluation and on the smoothed rates:
//     more than the bursts of Poisson arrivals near capacity make it
//     reject), on its own limit, the service is saturated: the gate keeps
//     it busy, so what it serves is its capacity: a rise at once, a fall
//     over 10 seconds (capacityFall: the evaluation that ends a spike is
//     only partly saturated). Need follows within seconds, down as well as
//     up.
//   - While requests are shed otherwise (by the burn-rate controller,
//     whose level and tightening of the gate's limit outlast an overload
//     by seconds while the service has room, or a few by the gate), what
//     is served says little of capacity: the capacity learnt holds, or
//     rises to what is served.
//   - Otherwise everything that arrives is served, so the capacity is at
//     least the rate served: the highest rate served, forgotten over
//     minutes (capacityMemory, 5 minutes: deploys and dependencies change
//     it), and Need is at most 1 from the first evaluation that turned
//     nothing away: a service that serves what arrives never asks for more
//     replicas.
//
// A rate, not a concurrency (rate served × no-load latency), because the
// counts the evaluator reads are exact and in the units of demand; a
// change of the request mix (heavier requests) changes it, which the
// saturated case relearns within seconds.
//
// While a dependency's breaker is not closed, or a dependency's objectives
// burn fast enough to open it, Need does not rise and capacity is not
// learnt: replicas do not fix a broken dependency, and a slow one makes
// the service look saturated. Requests that fail fast at an open breaker
// count as served.
//
// # Smoothing
//
// The rates are smoothed over 2 seconds (scaleRateSmoothing): the Poisson
// noise of a second's count of 100 requests is 10%, of the smoothed rate
// about 5%. Need rises with a time constant of 1 second (scaleRise), and
// so falls while saturated (the capacity is measured then); it reads 80%
// of a spike within 3 to 4 evaluations at the default 1s interval. From
// the first evaluation that turns nothing away it is at most 1. Below 1,
// and while requests are shed but the service is not saturated, it falls
// with a time constant of 15 seconds (scaleFall), so that the gaps of a
// bursty load do not let an autoscaler scale back in between. At the edge
// of capacity (90% of a small pool, a few requests shed in bursts) it
// stays within 10% of 1, an HPA's default tolerance. The autoscaler's own
// stabilisation (an HPA's 5 minutes for scale-down by default) comes on
// top and is the place for a longer memory. Measured in scale_test.go on
// a model of a pool of 4 to 16 connections at 30% to 90% load and spikes
// of 2 to 20 times.
//
// # Fleet
//
// Each replica reports its own Need. When the replicas share the demand
// equally, the sum of Need over them is the number of replicas the demand
// needs, and the average is that number over the current number. Give an
// autoscaler the sum with a per-replica (AverageValue) target of 1, which
// divides by the replicas itself, or the average with a Value target of
// 1: both scale to ceil(sum). The README shows the Prometheus query, an
// HPA and a KEDA ScaledObject (examples/autoscaling).
//
// The zero ScaleStatus is a signal not yet known.
type ScaleStatus struct {
	// Known says that Need, Capacity and the rates mean something: shedding
	// is on and some request completed. Before, the signal is absent
	// (the gauge is not observed), never a false 0 or 1.
	Known bool
	// Need is demand over capacity, smoothed (see above); 0 with no
	// demand.
	Need float64
	// Capacity is the capacity learnt, in requests per second (see
	// above).
	Capacity float64
	// Saturated says the service was saturated at this evaluation.
	Saturated bool
	// Demand is the rate of requests that reached admission, admitted or
	// shed, and Served the rate of admitted requests that ended (failed or
	// not), per second, smoothed, by Criticality.Index.
	Demand, Served [4]float64
}

// Time constants of the scale signal; see ScaleStatus.
const (
	scaleRateSmoothing = 2 * time.Second
	scaleRise          = time.Second
	scaleFall          = 15 * time.Second
	capacityMemory     = 5 * time.Minute
	capacityFall       = 10 * time.Second
	// saturatedShare of the demand turned away by the gate, at the
	// evaluation and smoothed, marks the service saturated.
	saturatedShare = 0.05
)

// scaler computes the scale signal from the cumulative counts of the
// shards at each evaluation. Pure: time is an argument. It belongs to the
// evaluator (tickMu).
type scaler struct {
	n        int       // evaluations seen
	last     time.Time // of the previous evaluation
	prev     window    // cumulative counts then
	prevGate uint64    // cumulative gate rejections then

	demand, served [bands]float64 // per second, smoothed
	gated          float64        // gate rejections per second, smoothed
	capacity       float64        // 0 until learnt
	need           float64
}

// scaleInput is what the evaluator gives the scaler: the shards'
// cumulative counts, the gate's cumulative rejections, whether a
// dependency is in trouble (a breaker not closed or burning), and whether
// the controller tightens the gate.
type scaleInput struct {
	w         window
	gated     uint64
	trouble   bool
	tightened bool // the controller holds the gate's limit below its own
}

// step moves the scaler to now and returns the signal.
func (s *scaler) step(now time.Time, in scaleInput) ScaleStatus {
	first := s.n == 0
	if !first && !now.After(s.last) {
		return s.status(false) // no time passed: no rate
	}
	d := in.w.sub(s.prev)
	gated := in.gated - s.prevGate
	dt := now.Sub(s.last)
	s.n++
	s.last, s.prev, s.prevGate = now, in.w, in.gated
	if first {
		return ScaleStatus{} // what came before has no span
	}
	var arrived, rejected uint64
	for b := range bands {
		arrived += d.arrived[b]
		rejected += d.rejected[b]
	}
	demand, served := s.rates(d, gated, dt)
	// Saturated: the gate turned away a share of the demand that Poisson
	// bursts at the edge of capacity do not. Fewer rejections, or the
	// controller's level alone, say only that something was shed. Both
	// the evaluation's own share and the smoothed one: the smoothed rates
	// lag for seconds after a spike, and one evaluation's share of a few
	// requests is noise.
	saturated := !in.trouble && s.gated > 0 && s.gated >= saturatedShare*demand &&
		float64(gated) >= saturatedShare*float64(arrived) && !in.tightened
	raw := s.learn(demand, served, dt, saturated, rejected > 0, in.trouble)
	if s.capacity <= 0 {
		return ScaleStatus{}
	}
	s.smoothNeed(raw, dt, saturated)
	if rejected == 0 && !in.trouble {
		s.need = min(s.need, 1) // nothing turned away: the demand fits
	}
	return s.status(saturated)
}

// rates folds one evaluation's counts d (and the gate's rejections) over
// dt into the smoothed rates, and returns the total demand and served
// rates.
func (s *scaler) rates(d window, gated uint64, dt time.Duration) (demand, served float64) {
	secs := dt.Seconds()
	// Until the signal is known, the latest span sets the averages: there
	// is nothing to smooth yet.
	initial := s.capacity <= 0
	smooth := func(avg, v float64) float64 {
		if initial {
			return v
		}
		return ewma(avg, v, dt, scaleRateSmoothing)
	}
	for b := range bands {
		s.demand[b] = smooth(s.demand[b], float64(d.arrived[b])/secs)
		s.served[b] = smooth(s.served[b], float64(d.done[b])/secs)
		demand += s.demand[b]
		served += s.served[b]
	}
	s.gated = smooth(s.gated, float64(gated)/secs)
	return demand, served
}

// learn updates the capacity from the rates and returns the need they
// call for before smoothing: measured while saturated, held while only
// shedding (or a dependency is in trouble, when need may not rise), and
// otherwise remembered and slowly forgotten, with need at most 1.
func (s *scaler) learn(demand, served float64, dt time.Duration, saturated, shedding, trouble bool) float64 {
	raw := s.need
	switch {
	case trouble:
		if s.capacity > 0 {
			raw = min(demand/s.capacity, s.need)
		}
	case saturated:
		// A rise at once; a fall over capacityFall, since an evaluation
		// only partly saturated (at the end of a spike) serves less than
		// the capacity.
		if served >= s.capacity {
			s.capacity = served
		} else {
			s.capacity = ewma(s.capacity, served, dt, capacityFall)
		}
		if s.capacity > 0 {
			raw = demand / s.capacity
		}
	case shedding:
		if s.capacity = max(s.capacity, served); s.capacity > 0 {
			raw = demand / s.capacity
		}
	default:
		if s.capacity > 0 || served > 0 {
			forgot := served + (s.capacity-served)*math.Exp(-dt.Seconds()/capacityMemory.Seconds())
			s.capacity = max(served, forgot)
			raw = min(demand/s.capacity, 1)
		}
	}
	return raw
}

// smoothNeed moves need toward raw: fast up, slowly down, and as fast down
// while saturated, when the capacity is measured at every evaluation and a
// fall is as sure as a rise.
func (s *scaler) smoothNeed(raw float64, dt time.Duration, saturated bool) {
	switch {
	case s.need == 0 && raw > 0: // the first reading
		s.need = raw
	case raw >= s.need || saturated:
		s.need = ewma(s.need, raw, dt, scaleRise)
	default:
		s.need = ewma(s.need, raw, dt, scaleFall)
	}
}

// status returns the signal as it stands.
func (s *scaler) status(saturated bool) ScaleStatus {
	if s.capacity <= 0 {
		return ScaleStatus{}
	}
	return ScaleStatus{Known: true, Need: s.need, Capacity: s.capacity, Saturated: saturated, Demand: s.demand, Served: s.served}
}

// troubled reports whether some dependency's breaker is not closed or
// burns fast enough to open.
func troubled(bs []BreakerStatus) bool {
	for _, b := range bs {
		if b.State != BreakerClosed || b.Burning {
			return true
		}
	}
	return false
}
