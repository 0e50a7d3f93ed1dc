package slo

import (
	"container/heap"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
	// cold starts the spike with the first request, before the gate has
	// seen anything; the unloaded latency is then read after the spike.
	cold bool
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

func simulate(sh simShape) simResult {
	const (
		steady   = 6 * time.Second
		spikeLen = 10 * time.Second
		after    = 8 * time.Second
		timeout  = int64(250 * time.Millisecond)
		start    = int64(time.Second)
	)
	warm := steady
	if sh.cold {
		warm = 0
	}
	rng := rand.New(rand.NewPCG(sh.seed, 7))
	s := newShards(0)
	g := newGate(s, 250*time.Millisecond, 0, false)
	var q simQueue
	free := sh.conns
	var waiting []*simReq
	var reqs []*simReq
	spikeFrom, spikeTo := start+int64(warm), start+int64(warm+spikeLen)
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
		g.exit(x, r.crit.Index(), r.latency, now, ok)
	}
	heap.Push(&q, simEvent{at: start, kind: 0})
	for q.Len() > 0 {
		ev := heap.Pop(&q).(simEvent)
		now := ev.at
		switch ev.kind {
		case 0:
			co, total := rate(now)
			r := &simReq{crit: Sheddable, sent: now}
			if rng.Float64() < co/total {
				r.crit = Critical
			}
			reqs = append(reqs, r)
			x := s.get()
			r.admitted = g.enter(x, r.crit.Index(), now)
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
	var res simResult
	var crit, critOK, good, shedN int
	var steadyLat, spikeLat []int64
	for _, r := range reqs {
		if !r.admitted {
			shedN++
		}
		switch {
		case r.sent >= spikeFrom && r.sent < spikeTo:
			if r.crit == Critical {
				crit++
				if r.ok {
					critOK++
				} else if !r.admitted {
					res.criticalShed++
				}
			}
			if r.ok && r.latency <= timeout {
				good++
			}
			if r.admitted {
				spikeLat = append(spikeLat, r.latency)
			}
		case r.admitted && (!sh.cold && r.sent < spikeFrom || sh.cold && r.sent >= spikeTo+int64(2*time.Second)):
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

// TestSimulatedFlashSale runs the model at the flash sale's matrix (4, 8
// and 16 connections × spikes of 2, 5, 10 and 20 times a base load of 60%
// of capacity, a 10× spike on a 5s ramp, 90% of capacity with no spike),
// at three seeds each, and at shapes the matrix does not name, and checks
// the flash sale's targets: CRITICAL success ≥ 99.9%, goodput ≥ 90% of
// capacity, admitted p99 ≤ 2 × unloaded; without a spike, under 1% shed
// and no CRITICAL. It is the gate's acceptance test in virtual time; the
// real one is examples/flashsale.
func TestSimulatedFlashSale(t *testing.T) {
	type cell struct {
		simShape
		spike bool
	}
	var cells []cell
	for _, seed := range []uint64{1, 2, 3} {
		for _, c := range []int{4, 8, 16} {
			for _, f := range []float64{2, 5, 10, 20} {
				cells = append(cells, cell{simShape{conns: c, rps: float64(c) * 15, factor: f, seed: seed}, true})
			}
		}
		cells = append(cells,
			cell{simShape{conns: 8, rps: 120, factor: 10, ramp: 5 * time.Second, seed: seed}, true},
			cell{simShape{conns: 8, rps: 180, factor: 1, seed: seed}, false},
			// Shapes no issue names.
			cell{simShape{conns: 32, rps: 480, factor: 10, seed: seed}, true},
			cell{simShape{conns: 12, rps: 100, factor: 7, ramp: 2 * time.Second, seed: seed}, true},
			cell{simShape{conns: 16, rps: 320, factor: 3, seed: seed}, true},
		)
	}
	for _, c := range cells {
		r := simulate(c.simShape)
		name := fmt.Sprintf("conns %d rps %.0f ×%.0f ramp %v seed %d", c.conns, c.rps, c.factor, c.ramp, c.seed)
		t.Logf("%s: CRITICAL %.2f%% (%d shed), goodput %.1f%%, p99 %.2f×, shed %.2f%%",
			name, 100*r.critical, r.criticalShed, 100*r.goodput, r.p99ratio, 100*r.shedShare)
		if !c.spike {
			if r.shedShare >= 0.01 || r.criticalShed > 0 {
				t.Errorf("%s: %.2f%% shed, %d CRITICAL; want under 1%% and none", name, 100*r.shedShare, r.criticalShed)
			}
			continue
		}
		if r.critical < 0.999 || r.goodput < 0.9 || r.p99ratio > 2 {
			t.Errorf("%s: CRITICAL %.2f%%, goodput %.1f%%, p99 %.2f×; want ≥ 99.9%%, ≥ 90%%, ≤ 2×",
				name, 100*r.critical, 100*r.goodput, r.p99ratio)
		}
	}
}

var simCold = flag.Bool("sim.cold", false, "make TestSimulatedColdStart check the flash sale's targets in every cell, which some cold starts with 2 to 8 connections still miss (see the README's known limits)")

// TestSimulatedColdStart starts the model in the middle of a spike, with 2
// to 64 connections, before the gate has seen a request, and logs a table
// of the 72 cells. The gate must not lock at a fraction of capacity: it
// learns the no-load latency from the first requests to complete, which
// under a cold spike are the shortest of those it admitted at once, and
// before it probed (see learnNoLoad) 26 of the 36 cells with 16 to 64
// connections served 37–68% of capacity for the whole spike. With 16 or
// more connections it must meet the flash sale's targets and turn no
// CRITICAL request away (before the age of the first request sized the
// reservations, the gate turned CRITICAL away in 27 of the 72 cells, up to
// 6 requests each); with 2 to 8, some cells still miss one (README, Known
// limits), which -sim.cold checks too.
func TestSimulatedColdStart(t *testing.T) {
	misses := 0
	var rows []string
	for _, c := range []int{2, 4, 8, 16, 32, 64} {
		for _, f := range []float64{2, 5, 10, 20} {
			row := fmt.Sprintf("%2d ×%-2.0f", c, f)
			for _, seed := range []uint64{1, 2, 3} {
				r := simulate(simShape{conns: c, rps: float64(c) * 15, factor: f, seed: seed, cold: true})
				name := fmt.Sprintf("cold: conns %d ×%.0f seed %d", c, f, seed)
				miss := r.critical < 0.999 || r.goodput < 0.9 || r.p99ratio > 2
				mark := " "
				if miss {
					misses++
					mark = "*"
				}
				row += fmt.Sprintf(" | %6.2f%% %5.1f%% %4.2f×%s", 100*r.critical, 100*r.goodput, r.p99ratio, mark)
				switch {
				case r.goodput < 0.8:
					t.Errorf("%s: goodput %.1f%% of capacity; want ≥ 80%%", name, 100*r.goodput)
				case r.criticalShed > 0 && c >= 16:
					t.Errorf("%s: %d CRITICAL requests turned away by the gate; want none", name, r.criticalShed)
				case miss && (c >= 16 || *simCold):
					t.Errorf("%s: CRITICAL %.2f%%, goodput %.1f%%, p99 %.2f×; want ≥ 99.9%%, ≥ 90%%, ≤ 2×", name, 100*r.critical, 100*r.goodput, r.p99ratio)
				}
			}
			rows = append(rows, row)
		}
	}
	t.Logf("conns ×spike | CRITICAL goodput p99 for seeds 1, 2, 3 (* misses a target)\n%s", strings.Join(rows, "\n"))
	t.Logf("%d of 72 cold starts missed a flash-sale target", misses)
}
