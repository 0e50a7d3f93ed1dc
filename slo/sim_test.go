package slo

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// A virtual-time model of the flash-sale shop (examples/flashsale): a pool
// of conns connections handed out first come, first served with a 250ms
// acquire timeout, log-normal service times of 40ms on average, Poisson
// arrivals of checkouts (CRITICAL, 60% of the base rate) and browse
// (SHEDDABLE, the rest and the whole spike), in front of the gate alone.
// It checks the gate against the flash sale's targets at many shapes in a
// fraction of a second each.

type simShape struct {
	conns  int
	rps    float64
	factor float64
	ramp   time.Duration
	seed   uint64
}

type simResult struct {
	critical, goodput, p99ratio, shedShare float64
	criticalShed                           int
}

type simEvent struct {
	at   int64
	kind int // 0 arrival, 1 completion, 2 queue timeout
	req  *simReq
}

type simReq struct {
	crit     Criticality
	sent     int64
	admitted bool
	done     bool // completed or timed out
	latency  int64
	ok       bool
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func lognormal(rng *rand.Rand, mean time.Duration) int64 {
	const sigma = 0.5
	median := float64(mean) * math.Exp(-sigma*sigma/2)
	return int64(min(median*math.Exp(sigma*rng.NormFloat64()), 10*float64(mean)))
}

var simTrace = false

func simulate(sh simShape) simResult {
	const (
		steady   = 6 * time.Second
		spikeLen = 10 * time.Second
		after    = 8 * time.Second
		timeout  = int64(250 * time.Millisecond)
		start    = int64(time.Second)
	)
	rng := rand.New(rand.NewPCG(sh.seed, 7))
	s := newShards(0)
	g := newGate(s, 250*time.Millisecond, 0, false)
	var q simQueue
	free := sh.conns
	var waiting []*simReq
	var reqs []*simReq
	spikeFrom, spikeTo := start+int64(steady), start+int64(steady+spikeLen)
	end := spikeTo + int64(after)
	rate := func(t int64) (co, total float64) {
		co = sh.rps * 0.6
		total = sh.rps
		if t >= spikeFrom && t < spikeTo {
			f := sh.factor
			if sh.ramp > 0 && t-spikeFrom < int64(sh.ramp) {
				f = 1 + (sh.factor-1)*float64(t-spikeFrom)/float64(sh.ramp)
			}
			total *= f
		}
		return co, total
	}
	serve := func(r *simReq, now int64) {
		free--
		hold := lognormal(rng, 40*time.Millisecond)
		if r.crit == Critical {
			hold = lognormal(rng, 30*time.Millisecond) + lognormal(rng, 8*time.Millisecond) + int64(2*time.Millisecond)
		}
		heap.Push(&q, simEvent{at: now + hold, kind: 1, req: r})
	}
	finish := func(r *simReq, now int64, ok bool) {
		r.done, r.ok, r.latency = true, ok, now-r.sent
		x := s.get()
		g.exit(x, r.crit.bandIndex(), r.latency, now)
		s.put(x)
	}
	heap.Push(&q, simEvent{at: start, kind: 0})
	nextTrace := start
	for q.Len() > 0 {
		ev := heap.Pop(&q).(simEvent)
		now := ev.at
		if simTrace && now >= nextTrace {
			nextTrace += int64(250 * time.Millisecond)
			e := &g.est
			fmt.Printf("t=%5.2f limit %5.1f noLoad %5.1fms served %5.1f guard %5.1f reserve %v inflight %v free %d queue %d\n",
				float64(now-start)/1e9, e.limit, e.noLoad*1e3, e.served, e.guard, g.reserve[2].Load(), g.inFlight(), free, len(waiting))
		}
		switch ev.kind {
		case 0:
			co, total := rate(now)
			r := &simReq{crit: Sheddable, sent: now}
			if rng.Float64() < co/total {
				r.crit = Critical
			}
			reqs = append(reqs, r)
			x := s.get()
			r.admitted = g.enter(x, r.crit.bandIndex())
			if simTrace && !r.admitted && r.crit == Critical {
				e := &g.est
				fmt.Printf("  crit shed t=%.3f limit %.1f guard %.1f reserve %v inflight %v noLoad %.1f served %.0f rate %v wait %v\n", float64(now-start)/1e9, e.limit, e.guard, e.reserve, g.inFlight(), e.noLoad*1e3, e.served, e.rate, e.wait)
			}
			s.put(x)
			if r.admitted {
				if free > 0 {
					serve(r, now)
				} else {
					waiting = append(waiting, r)
					heap.Push(&q, simEvent{at: now + timeout, kind: 2, req: r})
				}
			}
			if next := now + int64(rng.ExpFloat64()/total*1e9); next < end {
				heap.Push(&q, simEvent{at: next, kind: 0})
			}
		case 1:
			free++
			finish(ev.req, now, true)
			for free > 0 && len(waiting) > 0 {
				r := waiting[0]
				waiting = waiting[1:]
				if !r.done {
					r.done = true // taken from the queue: no timeout
					r.latency = -1
					serve(r, now)
				}
			}
		case 2:
			if r := ev.req; !r.done {
				finish(r, now, false)
			}
		}
	}
	// Requests taken from the queue were marked done early; their
	// completion set the latency again in finish.
	shedAt := map[int]int{}
	defer func() {
		if simTrace {
			fmt.Println("shed by second:", shedAt)
		}
	}()
	var res simResult
	var crit, critOK, good, shedN int
	var steadyLat, spikeLat []int64
	for _, r := range reqs {
		if !r.admitted {
			shedN++
			if simTrace {
				shedAt[int((r.sent-start)/1e9)]++
			}
		}
		switch {
		case r.sent >= spikeFrom && r.sent < spikeTo:
			if r.crit == Critical {
				crit++
				if r.ok {
					critOK++
				} else if !r.admitted {
					res.criticalShed++
					if simTrace {
						fmt.Printf("CRITICAL shed at %.3f\n", float64(r.sent-spikeFrom)/1e9)
					}
				}
			}
			if r.ok && r.latency <= timeout {
				good++
			}
			if r.admitted {
				spikeLat = append(spikeLat, r.latency)
			}
		case r.sent < spikeFrom && r.admitted:
			steadyLat = append(steadyLat, r.latency)
		}
	}
	p99 := func(v []int64) float64 {
		slices.Sort(v)
		return float64(v[int(math.Ceil(0.99*float64(len(v))))-1])
	}
	capacity := float64(sh.conns) / 0.04
	res.critical = float64(critOK) / float64(crit)
	res.goodput = float64(good) / spikeLen.Seconds() / capacity
	res.p99ratio = p99(spikeLat) / p99(steadyLat)
	res.shedShare = float64(shedN) / float64(len(reqs))
	return res
}

// TestSimulatedFlashSale runs the model at the flash sale's matrix and a
// few shapes more, and checks the targets. It is the gate's acceptance
// test in virtual time; the real one is examples/flashsale.
func TestSimulatedFlashSale(t *testing.T) {
	var shapes []simShape
	for _, c := range []int{4, 8, 16} {
		for _, f := range []float64{2, 5, 10, 20} {
			shapes = append(shapes, simShape{conns: c, rps: float64(c) * 15, factor: f, seed: 1})
		}
	}
	shapes = append(shapes,
		simShape{conns: 8, rps: 120, factor: 10, ramp: 5 * time.Second, seed: 1},
		simShape{conns: 8, rps: 120, factor: 10, seed: 7},
		simShape{conns: 32, rps: 480, factor: 10, seed: 3},
		simShape{conns: 2, rps: 30, factor: 20, seed: 3},
		simShape{conns: 8, rps: 180, factor: 1, seed: 1},
	)
	if testing.Verbose() && simTraceShape.conns > 0 {
		simTrace = true
		simulate(simTraceShape)
		simTrace = false
	}
	for _, sh := range shapes {
		r := simulate(sh)
		t.Logf("conns %2d rps %3.0f x%2.0f ramp %v seed %d: CRITICAL %.2f%% (shed %d) goodput %.1f%% p99 %.2fx shed %.2f%%",
			sh.conns, sh.rps, sh.factor, sh.ramp, sh.seed, 100*r.critical, r.criticalShed, 100*r.goodput, r.p99ratio, 100*r.shedShare)
	}
	_ = fmt.Sprint
}

var simTraceShape = simShape{conns: 8, rps: 120, factor: 10, seed: 1}
