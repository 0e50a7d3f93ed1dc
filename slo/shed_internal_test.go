package slo

import (
	"math"
	"sync"
	"testing"
	"time"
)

// at is a step time in seconds after a fixed origin.
type at float64

func (a at) time() time.Time {
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(float64(a) * float64(time.Second)))
}

// Signals of one controller step.
var (
	hot     = signal{hot: true, demand: demand(100, 100, 100, 100)}
	calm    = signal{calm: true, demand: demand(100, 100, 100, 100)}
	between = signal{demand: demand(100, 100, 100, 100)} // neither hot nor calm: hold
)

// demand returns a demand by Criticality, in requests per second, from
// SHEDDABLE, SHEDDABLE_PLUS, CRITICAL and CRITICAL_PLUS, in that order.
func demand(sheddable, sheddablePlus, critical, criticalPlus float64) [4]float64 {
	var d [4]float64
	d[Sheddable.Index()], d[SheddablePlus.Index()], d[Critical.Index()], d[CriticalPlus.Index()] = sheddable, sheddablePlus, critical, criticalPlus
	return d
}

// TestControllerStep runs the outer loop through scripts of evaluations:
// half a band and a quarter of the limit per hot evaluation, holding in
// between, giving back at that pace per second once calm for Hold.
func TestControllerStep(t *testing.T) {
	type step struct {
		at      at
		sig     signal
		level   float64
		tighten float64
	}
	noPlus := signal{hot: true, demand: demand(100, 0, 100, 100)}
	tests := []struct {
		name   string
		policy ShedPolicy
		steps  []step
	}{
		{"rise, hold, release", ShedPolicy{}, []step{
			{0, calm, 0, 1},
			{1, hot, 0.5, 0.75},
			{2, hot, 1, 0.5625},
			{3, between, 1, 0.5625},
			{4, calm, 1, 0.5625},      // calm from 4s: the hold runs to 9s
			{8, calm, 1, 0.5625},      // still holding
			{10, calm, 0.5, 0.75},     // one second past the hold
			{11, calm, 0, 1},          // and one more
			{12, calm, 0, 1},          // nothing left to give back
			{13, hot, 0.5, 0.75},      // hot again
			{14, between, 0.5, 0.75},  // holds, and ends the calm spell
			{15, calm, 0.5, 0.75},     // a new calm spell: the hold again
			{20.5, calm, 0.25, 0.866}, // half a second past it
		}},
		{"bands without demand are skipped", ShedPolicy{}, []step{
			{0, noPlus, 0.5, 0.75},
			{1, noPlus, 1, 0.5625},
			{2, noPlus, 2, 0.4219}, // SHEDDABLE_PLUS has no demand
			{3, noPlus, 2.5, 0.3164},
			{4, noPlus, 3, 0.2373},
			{5, noPlus, 3, 0.1780}, // CRITICAL_PLUS is never shed by default
			{6, signal{calm: true, demand: demand(100, 0, 100, 100)}, 3, 0.1780},
			{11, signal{calm: true, demand: demand(100, 0, 100, 100)}, 3, 0.1780}, // the hold ends
			{12, signal{calm: true, demand: demand(100, 0, 100, 100)}, 2.5, 0.2373},
			{13, signal{calm: true, demand: demand(100, 0, 100, 100)}, 1, 0.3164}, // 2: the empty band at once
			{14, signal{calm: true, demand: demand(100, 0, 100, 100)}, 0.5, 0.4219},
		}},
		{"CriticalPlus reaches 4", ShedPolicy{CriticalPlus: true}, []step{
			{0, hot, 0.5, 0.75}, {1, hot, 1, 0.5625}, {2, hot, 1.5, 0.4219}, {3, hot, 2, 0.3164},
			{4, hot, 2.5, 0.2373}, {5, hot, 3, 0.1780}, {6, hot, 3.5, 0.1335}, {7, hot, 4, 0.1001}, {8, hot, 4, 0.0751},
		}},
		{"time backwards is the previous step", ShedPolicy{Hold: time.Second}, []step{
			{10, hot, 0.5, 0.75},
			{5, calm, 0.5, 0.75}, // taken as 10s: the calm spell starts then
			{11, calm, 0.5, 0.75},
			{12, calm, 0, 1},
		}},
		{"a long pause counts at most 5s", ShedPolicy{Hold: time.Second}, []step{
			{0, hot, 0.5, 0.75}, {1, hot, 1, 0.5625}, {2, hot, 1.5, 0.4219}, {3, hot, 2, 0.3164}, {4, hot, 2.5, 0.2373},
			{5, calm, 2.5, 0.2373}, {6, calm, 2.5, 0.2373}, // the hold ends at 6s
			{1000, calm, 0, 1}, // 5s of giving back at most: 2.5 bands
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newController(tt.policy.withDefaults())
			for i, st := range tt.steps {
				c.step(st.at.time(), st.sig)
				if math.Abs(c.level-st.level) > 1e-9 || math.Abs(c.tighten-st.tighten) > 1e-3 {
					t.Fatalf("step %d at %vs: level %v, tighten %.4f; want %v, %.4f", i, float64(st.at), c.level, c.tighten, st.level, st.tighten)
				}
			}
		})
	}
}

// TestControllerMinTighten checks that the tightening stops at its floor:
// the gate always admits some traffic.
func TestControllerMinTighten(t *testing.T) {
	c := newController(ShedPolicy{}.withDefaults())
	for i := range 100 {
		c.step(at(i).time(), hot)
	}
	if c.tighten != minTighten {
		t.Errorf("after 100 hot evaluations: tighten = %v, want %v", c.tighten, minTighten)
	}
}

// TestMeter checks the control signal's memory: counts over the latest
// evaluations within Window, rates over the time they span, and the ring
// wrapping around.
func TestMeter(t *testing.T) {
	m := newMeter(2, 3, 3*time.Second)
	var adm, rej [4]uint64
	var good, bad uint64
	// step adds n admissions and n rejections of SHEDDABLE, and n good and
	// 2n bad events of objective 0, then evaluates at sec.
	step := func(sec float64, n uint64) outcomes {
		adm[Sheddable.Index()] += n
		rej[Sheddable.Index()] += n
		good += n
		bad += 2 * n
		m.begin(at(sec).time(), adm, rej)
		m.add(1, 0, 0)
		return m.add(0, good, bad)
	}
	check := func(when string, got outcomes, want outcomes, admitted float64, sheddable float64, requests uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s: window counts = %+v, want %+v", when, got, want)
		}
		a, d, n := m.rates()
		if math.Abs(a-admitted) > 1e-9 || math.Abs(d[Sheddable.Index()]-sheddable) > 1e-9 || n != requests {
			t.Errorf("%s: rates() = %v, %v, %d, want %v admitted, %v SHEDDABLE, %d requests", when, a, d, n, admitted, sheddable, requests)
		}
	}
	// The first evaluation holds what came before it, over no time.
	check("first", step(0, 10), outcomes{10, 20}, 0, 0, 20)
	check("second", step(1, 1), outcomes{11, 22}, 11, 22, 22)
	check("third", step(2, 2), outcomes{13, 26}, 6.5, 13, 26)
	// Three evaluations at most: the first one leaves.
	check("fourth", step(3, 3), outcomes{6, 12}, 2, 4, 12)
	// And none that ended Window or more before the latest.
	check("after a gap", step(10, 4), outcomes{4, 8}, 4.0/7, 8.0/7, 8)
	check("next", step(11, 5), outcomes{9, 18}, 9.0/8, 18.0/8, 18)
	// Time standing still: an evaluation that spans no time.
	check("again", step(11, 0), outcomes{9, 18}, 9.0/8, 18.0/8, 18)
	for i := range 2 * signalEvaluations { // wrap around the ring
		step(12+float64(i), 1)
	}
	check("wrapped", step(12+2*signalEvaluations, 1), outcomes{3, 6}, 1, 2, 6)
	if got := m.add(1, 0, 0); got != (outcomes{}) {
		t.Errorf("objective without events: window counts = %+v, want none", got)
	}
}

// FuzzMeter checks the control signal's memory against a plain sum of
// every evaluation, for any times (backwards ones taken as the latest) and
// counts: the window holds between one and window evaluations, none that
// ended Window or more before the latest; rates are finite and not
// negative.
func FuzzMeter(f *testing.F) {
	f.Add([]byte{1, 5, 1, 0, 10, 3, 200, 1, 7, 0, 0, 9}, uint8(3))
	f.Add([]byte{255, 255, 0, 0, 1, 1, 2, 2}, uint8(70))
	f.Fuzz(func(t *testing.T, script []byte, window uint8) {
		w := int(window)%signalEvaluations + 1
		length := time.Duration(w) * 100 * time.Millisecond
		m := newMeter(1, w, length)
		type eval struct {
			end       time.Time
			good, bad uint64
			adm, rej  uint64
			start     time.Time
		}
		var all []eval
		var adm, rej [4]uint64
		var good, bad uint64
		var last time.Time
		for i := 0; i+2 < len(script); i += 3 {
			// Steps of 0 to 255 × 10ms; odd bytes step back.
			now := last.Add(time.Duration(script[i]) * 10 * time.Millisecond)
			if script[i]%2 == 1 {
				now = last.Add(-time.Duration(script[i]) * time.Millisecond)
			}
			if i == 0 {
				now = at(1).time()
			}
			if now.Before(last) {
				now = last
			}
			n := uint64(script[i+1])
			adm[Sheddable.Index()] += n
			rej[Critical.Index()] += uint64(script[i+2])
			good += n / 2
			bad += uint64(script[i+2]) / 3
			start := last
			if i == 0 {
				start = now
			}
			all = append(all, eval{end: now, start: start, good: n / 2, bad: uint64(script[i+2]) / 3, adm: n, rej: uint64(script[i+2])})
			last = now
			m.begin(now, adm, rej)
			got := m.add(0, good, bad)

			// The reference: walk back from the latest evaluation.
			var want outcomes
			var wantAdm, wantReq uint64
			latest := len(all) - 1
			k := latest // the oldest in the window
			for j := latest; j >= 0 && j > latest-w && (j == latest || now.Sub(all[j].end) < length); j-- {
				want.good += all[j].good
				want.bad += all[j].bad
				wantAdm += all[j].adm
				wantReq += all[j].adm + all[j].rej
				k = j
			}
			if got != want {
				t.Fatalf("evaluation %d: window counts = %+v, want %+v", len(all), got, want)
			}
			a, d, req := m.rates()
			if req != wantReq {
				t.Fatalf("evaluation %d: rates() requests = %d, want %d", len(all), req, wantReq)
			}
			span := now.Sub(all[k].start).Seconds()
			if span > 0 && math.Abs(a-float64(wantAdm)/span) > 1e-9*(1+a) {
				t.Fatalf("evaluation %d: rates() admitted = %v, want %v", len(all), a, float64(wantAdm)/span)
			}
			for _, v := range append(d[:], a, m.span()) {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("evaluation %d: rates() = %v, %v, span %v: want finite, not negative", len(all), a, d, m.span())
				}
			}
		}
	})
}

func TestRejectProbability(t *testing.T) {
	crits := []Criticality{Sheddable, SheddablePlus, Critical, CriticalPlus}
	tests := []struct {
		level float64
		want  [4]float64 // in the order of crits
	}{
		{0, [4]float64{0, 0, 0, 0}},
		{0.25, [4]float64{0.25, 0, 0, 0}},
		{0.5, [4]float64{0.5, 0, 0, 0}},
		{1, [4]float64{1, 0, 0, 0}},
		{1.5, [4]float64{1, 0.5, 0, 0}},
		{2, [4]float64{1, 1, 0, 0}},
		{2.75, [4]float64{1, 1, 0.75, 0}},
		{3, [4]float64{1, 1, 1, 0}}, // the default cap: CRITICAL_PLUS never shed
		{3.5, [4]float64{1, 1, 1, 0.5}},
		{4, [4]float64{1, 1, 1, 1}},
	}
	for _, tt := range tests {
		for i, c := range crits {
			if got := rejectProbability(tt.level, c); math.Abs(got-tt.want[i]) > 1e-12 {
				t.Errorf("rejectProbability(%v, %v) = %v, want %v", tt.level, c, got, tt.want[i])
			}
		}
	}
	// Unknown values are treated as CRITICAL.
	if got := rejectProbability(2.5, Criticality(9)); got != 0.5 {
		t.Errorf("rejectProbability(2.5, %v) = %v, want 0.5", Criticality(9), got)
	}
}

func TestRetryAfter(t *testing.T) {
	defaults := ShedPolicy{}.withDefaults() // Hold 5s, half a band a second
	tests := []struct {
		policy ShedPolicy
		level  float64
		c      Criticality
		want   time.Duration
	}{
		{defaults, 0, Sheddable, 0},
		{defaults, 0.5, Sheddable, 6 * time.Second}, // 5s hold + 0.5/0.5
		{defaults, 1, Sheddable, 7 * time.Second},
		{defaults, 1, SheddablePlus, 0},
		{defaults, 1.5, SheddablePlus, 6 * time.Second},
		{defaults, 3, Sheddable, 11 * time.Second},
		{defaults, 3, Critical, 7 * time.Second},
		{defaults, 3, CriticalPlus, 0},
		{defaults, 0.2, Sheddable, 5 * time.Second},                                       // 5.4s, rounded
		{defaults, 0.3, Sheddable, 6 * time.Second},                                       // 5.6s, rounded
		{ShedPolicy{Hold: time.Millisecond}.withDefaults(), 0.01, Sheddable, time.Second}, // at least 1s
	}
	for _, tt := range tests {
		if got := tt.policy.retryAfter(tt.level, tt.c); got != tt.want {
			t.Errorf("ShedPolicy{Hold: %v}.retryAfter(%v, %v) = %v, want %v", tt.policy.Hold, tt.level, tt.c, got, tt.want)
		}
	}
}

func TestShedPolicyDefaults(t *testing.T) {
	got := ShedPolicy{}.withDefaults()
	want := ShedPolicy{ReleaseBurn: 1, MinEvents: 20, Hold: 5 * time.Second}
	if got != want {
		t.Errorf("ShedPolicy{}.withDefaults() = %+v, want %+v", got, want)
	}
	if err := got.validate(); err != nil {
		t.Errorf("ShedPolicy{}.withDefaults().validate() = %v, want nil", err)
	}
	if m := got.maxLevel(); m != 3 {
		t.Errorf("maxLevel() = %v, want 3", m)
	}
	if m := (ShedPolicy{CriticalPlus: true}).maxLevel(); m != 4 {
		t.Errorf("ShedPolicy{CriticalPlus: true}.maxLevel() = %v, want 4", m)
	}
	b := BreakerPolicy{}.withDefaults()
	if want := (BreakerPolicy{Window: 10 * time.Second, ConsecutiveFailures: 5, OpenTimeout: 10 * time.Second, HalfOpenRequests: 1, MinEvents: 20}); b != want {
		t.Errorf("BreakerPolicy{}.withDefaults() = %+v, want %+v", b, want)
	}
}

// win returns a window of n completions of band b, each of latency l,
// and arrivals and rejections of band b.
func win(b, n int, l time.Duration, arrived, rejected int) window {
	var w window
	w.done[b] = uint64(n)
	w.goodWord[b] = uint64(n) * goodWord(int64(l))
	w.arrived[b] = uint64(arrived)
	w.rejected[b] = uint64(rejected)
	return w
}

// TestEstimatorNoLoad checks the no-load latency: provisional from the
// first window, then the lowest mean of a block of 64 completions, rising
// slowly only over blocks in which nothing was turned away.
func TestEstimatorNoLoad(t *testing.T) {
	ms := time.Millisecond
	e := newEstimator(0, 0, false)
	step := func(n int, l time.Duration, rejected int) {
		e.step(100*ms, win(0, n, l, n+rejected, rejected), [bands]int64{})
	}
	check := func(when string, want float64) {
		t.Helper()
		if math.Abs(e.noLoad-want) > 1e-9 {
			t.Errorf("%s: noLoad = %v, want %v", when, e.noLoad, want)
		}
	}
	step(16, 50*ms, 0)
	check("first window", 0.050)
	step(64, 35*ms, 0) // the first block
	check("first block", 0.035)
	step(64, 40*ms, 5) // slower, but requests were turned away: no drift
	check("a busy block", 0.035)
	step(64, 40*ms, 0) // slower, nothing turned away: drifts by 0.1s/60s
	check("a calm block", 0.035*(1+0.1/60))
	step(64, 20*ms, 3) // faster: at once, busy or not
	check("a faster block", 0.020)
	if e.probe {
		t.Error("the estimator probed a service that started calm")
	}
}

// TestEstimatorProbe checks a start under overload: the first requests to
// complete are the shortest (13ms of a 40ms service), then requests are
// turned away while the latency is beyond what the estimate allows, so the
// gate probes: it holds sheddable traffic to minLimit and takes the
// lowest mean of probeBlocks blocks of probeSamples completions, the
// first ones still slowed by the draining queue.
func TestEstimatorProbe(t *testing.T) {
	ms := time.Millisecond
	e := newEstimator(0, 0, false)
	step := func(n int, l time.Duration, rejected int) {
		e.step(100*ms, win(0, n, l, n+rejected, rejected), [bands]int64{})
	}
	step(16, 13*ms, 0)
	step(16, 38*ms, 10)
	if !e.probe || e.bound[0] != minLimit {
		t.Fatalf("after a busy window at 38ms on a 13ms estimate: probe %v, bound %v; want a probe at %d", e.probe, e.bound[0], minLimit)
	}
	for i, l := range []time.Duration{60 * ms, 45 * ms, 40 * ms, 41 * ms} {
		if !e.probe {
			t.Fatalf("the probe ended after %d of %d blocks", i, probeBlocks)
		}
		step(probeSamples, l, 5)
	}
	if e.probe || e.provisional || math.Abs(e.noLoad-0.040) > 1e-9 {
		t.Errorf("after the probe: probe %v, provisional %v, noLoad %v; want false, false, 0.040", e.probe, e.provisional, e.noLoad)
	}
	if e.bound[0] <= minLimit {
		t.Errorf("after the probe: bound %v, want the adaptive limit back", e.bound[0])
	}

	// Turned away at a latency the estimate allows: no probe.
	e = newEstimator(0, 0, false)
	step(16, 40*ms, 0)
	step(64, 45*ms, 10)
	if e.probe || e.provisional || math.Abs(e.noLoad-0.040) > 1e-9 {
		t.Errorf("busy at 45ms on a 40ms estimate: probe %v, provisional %v, noLoad %v; want false, false, 0.040", e.probe, e.provisional, e.noLoad)
	}
}

// TestEstimatorLimit checks the limit against Little's law: twice what is
// being served plus room for bursts, more of it, and up to twice that
// while latency is low, when what arrives is served; capped by the guard
// and fixed by MaxInFlight.
func TestEstimatorLimit(t *testing.T) {
	ms := time.Millisecond
	// 200 completions a second; arrivals of arrive a window.
	run := func(threshold time.Duration, fixed int, latency time.Duration, arrive int) estimator {
		e := newEstimator(threshold, fixed, false)
		e.noLoad = 0.040
		for range 100 { // 10s of 100ms windows: the averages settle
			e.step(100*ms, win(0, 20, latency, arrive, 0), [bands]int64{})
		}
		e.noLoad = 0.040
		e.bounds()
		return e
	}
	u := 200 * 0.040 // 8 being served
	calm := 2*u + 3*math.Sqrt(u) + 2
	over := 2*u + 1
	tests := []struct {
		name    string
		latency time.Duration
		arrive  int
		want    float64
	}{
		{"overloaded", 80 * ms, 60, over},
		{"overloaded, fast", 40 * ms, 60, over},
		{"served, at twice the no-load latency", 80 * ms, 20, calm},
		{"served, at the no-load latency", 40 * ms, 20, 2 * calm},
		{"served, at 1.5 × the no-load latency", 60 * ms, 20, calm * 80 / 60},
	}
	for _, tt := range tests {
		if e := run(0, 0, tt.latency, tt.arrive); math.Abs(e.limit-tt.want) > 1e-3 {
			t.Errorf("%s: limit = %v, want %v", tt.name, e.limit, tt.want)
		}
	}
	// The guard: 200/s × 150ms = 30 in flight at most.
	if e := run(150*ms, 0, 40*ms, 20); math.Abs(e.limit-30) > 1e-3 || math.Abs(e.bound[0]-30) > 1e-3 {
		t.Errorf("with a 150ms threshold: limit, bound = %v, %v, want 30, 30", e.limit, e.bound[0])
	}
	if e := run(0, 7, 80*ms, 60); e.limit != 7 {
		t.Errorf("with MaxInFlight 7: limit = %v, want 7", e.limit)
	}
	// Before anything completed: the initial limit.
	if e := newEstimator(time.Second, 0, false); e.limit != initialLimit || e.bound[0] != initialLimit {
		t.Errorf("new estimator: limit, bound = %v, %v, want %d", e.limit, e.bound[0], initialLimit)
	}
}

// TestEstimatorFirstWindow checks the overload test of a service that
// starts empty: 23 arrive in its first 250ms and 17 complete at 40ms,
// the rest still in flight. That is completions trailing arrivals by one
// latency, not overload: nothing was turned away, so the limit leaves
// room as for a service that keeps up. A start that turned requests away
// at the initial limit is overloaded.
func TestEstimatorFirstWindow(t *testing.T) {
	ms := time.Millisecond
	u := 17 / 0.250 * 0.040 // being served
	calm := (2*u + 3*math.Sqrt(u) + 2) * 2
	over := 2*u + 1
	for _, tt := range []struct {
		name     string
		rejected int
		want     float64
	}{
		{"keeping up", 0, calm},
		{"turned away at the initial limit", 10, over},
	} {
		e := newEstimator(0, 0, false)
		e.step(250*ms, win(0, 17, 40*ms, 23+tt.rejected, tt.rejected), [bands]int64{6})
		if math.Abs(e.limit-tt.want) > 1e-9 {
			t.Errorf("%s: limit = %v, want %v", tt.name, e.limit, tt.want)
		}
	}
}

// TestEstimatorReserve checks the reservations: CRITICAL traffic of 100
// requests a second that waits 80ms needs 8 in flight, and reserves 8 +
// 4√8 + 2, and 2 more for the burst room of CRITICAL_PLUS, not seen yet;
// SHEDDABLE reserves nothing; CRITICAL_PLUS is not bounded unless
// allowed.
func TestEstimatorReserve(t *testing.T) {
	ms := time.Millisecond
	for _, plus := range []bool{false, true} {
		e := newEstimator(0, 0, plus)
		e.noLoad = 0.040
		for range 100 {
			w := win(Critical.Index(), 10, 80*ms, 10, 0)
			w.done[0], w.goodWord[0], w.arrived[0] = 10, 10*goodWord(int64(80*ms)), 50
			e.step(100*ms, w, [bands]int64{})
		}
		e.noLoad = 0.040
		e.bounds()
		need := 8 + 4*math.Sqrt(8) + 2 + 2
		if r := e.reserve[Critical.Index()]; math.Abs(r-need) > 1e-2 {
			t.Errorf("CRITICAL reserves %v, want %v", r, need)
		}
		if r := e.reserve[0]; r != 0 {
			t.Errorf("SHEDDABLE reserves %v, want 0", r)
		}
		// SHEDDABLE_PLUS, not seen yet either, keeps 2 as CRITICAL_PLUS does.
		if b := e.bound[Critical.Index()]; math.Abs(b-(e.limit+e.reserve[Critical.Index()])) > 1e-9 {
			t.Errorf("CRITICAL's bound = %v, want the limit %v plus its reservation %v", b, e.limit, need)
		}
		if r := e.reserve[CriticalPlus.Index()]; r != 2 {
			t.Errorf("CRITICAL_PLUS, not seen, reserves %v, want 2", r)
		}
		if b := e.bound[CriticalPlus.Index()]; plus == math.IsInf(b, 1) {
			t.Errorf("CriticalPlus %v: CRITICAL_PLUS's bound = %v", plus, b)
		}
	}
}

// TestEstimatorReserveFromStart checks that the reservations are whole
// from the first window on: a service that starts with CRITICAL traffic of
// 100 requests a second reserves what that traffic needs after 100ms, as
// it does after 10s, and not the tenth that an average started at 0 would
// hold.
func TestEstimatorReserveFromStart(t *testing.T) {
	ms := time.Millisecond
	w := win(Critical.Index(), 10, 80*ms, 10, 0)
	e := newEstimator(0, 0, false)
	e.step(100*ms, w, [bands]int64{})
	first := e.arrivals(Critical.Index())
	for range 100 {
		e.step(100*ms, w, [bands]int64{})
	}
	settled := e.arrivals(Critical.Index())
	if math.Abs(first-100) > 1e-6 || math.Abs(settled-100) > 1e-6 {
		t.Errorf("CRITICAL arrivals after 100ms, 10s = %v, %v per second, want 100, 100", first, settled)
	}
	if got := e.arrivals(0); got != 0 {
		t.Errorf("SHEDDABLE arrivals = %v, want 0", got)
	}
	if e := newEstimator(0, 0, false); e.arrivals(Critical.Index()) != 0 {
		t.Errorf("arrivals before any window = %v, want 0", e.arrivals(Critical.Index()))
	}
}

// TestEstimatorFirst checks the estimator before any request has ended:
// the latency is at least the age of the first request, so CRITICAL
// reserves what it needs in flight at that latency, while the limit stays
// the initial one (a healthy busy service has more in flight than a
// latency objective allows one request at a time); the first completion
// ends it.
func TestEstimatorFirst(t *testing.T) {
	ms := time.Millisecond
	e := newEstimator(250*ms, 0, false)
	c := Critical.Index()
	w := win(0, 0, 0, 20, 0)
	w.arrived[c] = 5 // 100 a second over 50ms
	e.step(10*ms, window{}, [bands]int64{})
	e.step(40*ms, w, [bands]int64{})
	if e.limit != initialLimit {
		t.Errorf("after 50ms with nothing ended: limit = %v, want %d", e.limit, initialLimit)
	}
	m := e.arrivals(c) * 0.050
	if want := m + 4*math.Sqrt(m) + 2 + 2; math.Abs(e.reserve[c]-want) > 1e-9 || m < 3 {
		t.Errorf("after 50ms with nothing ended: CRITICAL reserves %v, want %v (%v needed)", e.reserve[c], want, m)
	}
	e.step(10*ms, win(0, 2, 40*ms, 4, 0), [bands]int64{})
	if e.first() != 0 || e.noLoad != 0.040 {
		t.Errorf("after a completion: first %v, noLoad %v; want 0, 0.040", e.first(), e.noLoad)
	}
}

// TestEstimatorProbeOverload checks a low estimate that does not show in
// the latency: the first block turns requests away at 1.5 times the
// estimate while more arrives than is served, and the gate probes at u,
// the requests the estimate says are being served.
func TestEstimatorProbeOverload(t *testing.T) {
	ms := time.Millisecond
	e := newEstimator(0, 0, false)
	e.step(100*ms, win(0, 16, 26*ms, 16, 0), [bands]int64{})
	for range 4 { // 64 completions at 40ms, 400 a second, 1000 arriving
		e.step(40*ms, win(0, 16, 40*ms, 40, 24), [bands]int64{})
	}
	if !e.probe {
		t.Fatalf("after a busy, overloaded block at 40ms on a 26ms estimate: no probe")
	}
	if want := e.probeLimit; e.bound[0] != want || want <= minLimit || want > e.served*0.026+1e-9 {
		t.Errorf("probe bound %v, limit %v; want u = %v", e.bound[0], want, e.served*0.026)
	}
}

// TestGateAdmit checks admission against published bounds: SHEDDABLE up
// to its bound, CRITICAL on top of it within its reservation.
func TestGateAdmit(t *testing.T) {
	sh := newShards(0)
	g := newGate(sh, 0, 0, false)
	x := sh.at(0)
	s, c := Sheddable.Index(), Critical.Index()
	g.bound[s].Store(3)
	g.bound[SheddablePlus.Index()].Store(3)
	g.bound[c].Store(5)
	g.reserve[c].Store(4)
	g.reserve[SheddablePlus.Index()].Store(4)
	g.share() // a quota of at most 1: at most the first admission skips adding up the shards
	admit := func(b int, want bool) {
		t.Helper()
		if got := g.admit(x, b); got != want {
			t.Fatalf("admit(band %d) with %v in flight = %v, want %v", b, g.inFlight(), got, want)
		}
	}
	admit(s, true)
	admit(s, true)
	admit(s, true)
	admit(s, false) // 3 in flight: SHEDDABLE's bound
	admit(c, true)  // 4 ≤ 5
	admit(c, true)  // 5
	admit(c, true)  // 6 > 5, but 3 CRITICAL ≤ its reservation of 4
	admit(c, true)  // 4
	admit(c, false) // 5 > 4 and 8 > 5
	admit(s, false)
	g.release(x, s)
	g.release(x, s)
	g.release(x, s)
	admit(s, false) // 4 CRITICAL in flight leave SHEDDABLE nothing
	g.release(x, c)
	g.release(x, c)
	admit(s, true) // 2 CRITICAL + 1
	if n := g.inFlight(); n[s] != 1 || n[c] != 2 {
		t.Errorf("in flight = %v, want 1 SHEDDABLE and 2 CRITICAL", n)
	}
}

// TestGateConcurrent enters and exits the gate from many goroutines while
// windows fold: every request admitted is released, and the counts add
// up. Run with -race.
func TestGateConcurrent(t *testing.T) {
	sh := newShards(0)
	g := newGate(sh, 100*time.Millisecond, 0, false)
	var wg sync.WaitGroup
	var clock int64 = int64(time.Second)
	var mu sync.Mutex
	now := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		clock += int64(time.Millisecond)
		return clock
	}
	var admitted [8]int
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				b := (w + i) % bands
				x := sh.get()
				if g.enter(x, b, now()) {
					admitted[w]++
					g.exit(x, b, int64(40*time.Millisecond), now(), true)
				}
			}
		})
	}
	wg.Wait()
	if n := g.inFlight(); n != [bands]int64{} {
		t.Errorf("in flight after every request ended = %v, want none", n)
	}
	var want int
	for _, a := range admitted {
		want += a
	}
	cur := sh.window()
	var done, arrived, rejected uint64
	for b := range bands {
		done += cur.done[b]
		arrived += cur.arrived[b]
		rejected += cur.rejected[b]
	}
	if done != uint64(want) || arrived != 8*2000 || arrived-rejected != uint64(want) {
		t.Errorf("counted %d done, %d arrived, %d rejected; want %d done and admitted of %d", done, arrived, rejected, want, 8*2000)
	}
	// Every request took 40ms, so every window read under concurrent
	// folds must say so: a fold that read a count without its latency
	// (or the reverse) pulled the estimate to 23-34ms in about 7% of
	// -race runs before counts and latencies shared one word.
	if g.est.last == 0 || math.Abs(g.est.noLoad-0.040) > 1e-9 {
		t.Errorf("after folding: last fold %d, noLoad %v, want folds and 40ms", g.est.last, g.est.noLoad)
	}
}

// TestGateSurge checks that a surge of arrivals closes a window before
// anything completes, so that the limit reacts to it: the service counts
// as overloaded, and the limit falls to 2u + 1.
func TestGateSurge(t *testing.T) {
	sh := newShards(0)
	g := newGate(sh, 0, 0, false)
	x := sh.at(0)
	ms := int64(time.Millisecond)
	now := int64(time.Second)
	// Steady: 100 a second, each done after 40ms, for 2s.
	var open []int64
	for i := range 200 {
		now += 10 * ms
		if g.enter(x, 0, now) {
			open = append(open, now)
		}
		for len(open) > 0 && open[0]+40*ms <= now {
			g.exit(x, 0, 40*ms, now, true)
			open = open[1:]
		}
		_ = i
	}
	before := g.est.limit
	u := g.est.served * g.est.noLoad
	// A surge: 100 arrivals within 10ms, none completes.
	for range 100 {
		now += ms / 10
		g.enter(x, 0, now)
	}
	if g.est.demand <= overloaded*g.est.served2 {
		t.Fatalf("after a surge: demand %v, served %v: want overloaded", g.est.demand, g.est.served2)
	}
	if want := tolerance*u + 1; g.est.limit > before || math.Abs(g.est.limit-want) > 0.5*want {
		t.Errorf("after a surge: limit %v (before %v), want about 2u + 1 = %v", g.est.limit, before, want)
	}
}

// FuzzControllerStep checks the controller's invariants for any order of
// times and signals: the level stays within [0, max] and the tightening
// within [minTighten, 1]; a hot step never lowers the level nor loosens
// the limit; a calm one never raises the level nor tightens; an
// in-between step changes nothing.
func FuzzControllerStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 200, 1, 0}, false)
	f.Add([]byte{10, 9, 8, 7, 250, 0, 255, 128, 3, 4, 5, 6, 7, 8}, true)
	f.Fuzz(func(t *testing.T, script []byte, criticalPlus bool) {
		p := ShedPolicy{Hold: time.Second, CriticalPlus: criticalPlus}.withDefaults()
		c := newController(p)
		now := at(0).time()
		for i := 0; i+1 < len(script); i += 2 {
			// Steps of 0 to 127 × 100ms; odd bytes step back.
			d := time.Duration(script[i]>>1) * 100 * time.Millisecond
			if script[i]%2 == 1 {
				d = -d
			}
			now = now.Add(d)
			b := script[i+1]
			d4 := demand(float64(b&1), float64(b>>1&1), float64(b>>2&1), float64(b>>3&1))
			sig := []signal{{hot: true, demand: d4}, {calm: true, demand: d4}, {demand: d4}}[int(b>>4)%3]
			level, tighten := c.level, c.tighten
			c.step(now, sig)
			switch {
			case c.level < 0 || c.level > p.maxLevel() || math.IsNaN(c.level):
				t.Fatalf("step %d: level %v, want within [0, %v]", i/2, c.level, p.maxLevel())
			case c.tighten < minTighten-1e-12 || c.tighten > 1+1e-12 || math.IsNaN(c.tighten):
				t.Fatalf("step %d: tighten %v, want within [%v, 1]", i/2, c.tighten, minTighten)
			case sig.hot && (c.level < level || c.tighten > tighten || c.level > level+1+levelStep):
				t.Fatalf("step %d, hot: level %v → %v, tighten %v → %v", i/2, level, c.level, tighten, c.tighten)
			case sig.calm && (c.level > level || c.tighten < tighten):
				t.Fatalf("step %d, calm: level %v → %v, tighten %v → %v", i/2, level, c.level, tighten, c.tighten)
			case !sig.hot && !sig.calm && (c.level != level || c.tighten != tighten):
				t.Fatalf("step %d, in between: level %v → %v, tighten %v → %v", i/2, level, c.level, tighten, c.tighten)
			}
		}
	})
}

// TestQuota checks each shard's quota: an equal part of what separates the
// requests in flight from half the bound, with a floor of one while the
// bound has room for one more on every shard.
func TestQuota(t *testing.T) {
	tests := []struct{ bound, total, n, want int64 }{
		{bound: 40, total: 0, n: 2, want: 10},
		{bound: 40, total: 6, n: 4, want: 3},
		{bound: 3, total: 0, n: 2, want: 1},    // half the bound is 1: the floor
		{bound: 4, total: 2, n: 2, want: 1},    // the floor: 2 + 2 fit the bound
		{bound: 3, total: 2, n: 2, want: 0},    // no room for one more on each shard
		{bound: 2, total: 0, n: 4, want: 0},    // more shards than the bound
		{bound: 20, total: 25, n: 2, want: -7}, // over half the bound: every admission adds up
	}
	for _, tt := range tests {
		if got := quota(tt.bound, tt.total, tt.n); got != tt.want {
			t.Errorf("quota(%d, %d, %d) = %d, want %d", tt.bound, tt.total, tt.n, got, tt.want)
		}
	}
}

// TestGoodWord checks that the difference of two readings of a band's
// packed word decodes to the requests that ended Good between them and
// the sum of their latencies, also when the word wraps around 2^64.
func TestGoodWord(t *testing.T) {
	lat := []time.Duration{40 * time.Millisecond, 3 * time.Microsecond, 1499 * time.Nanosecond, 2 * time.Hour, 0, -time.Second}
	for _, start := range []uint64{0, 1<<64 - 5_000_000, 1<<64 - 1} {
		var w, o window
		o.goodWord[1] = start
		w.goodWord[1] = start
		var want float64
		for _, l := range lat {
			w.goodWord[1] += goodWord(int64(l))
			want += math.Round(max(l, 0).Seconds()*1e6) / 1e6
		}
		n, sum := w.sub(o).good(1)
		if n != uint64(len(lat)) || math.Abs(sum-want) > 1e-9 {
			t.Errorf("from %d: good %d, latency %vs; want %d, %vs", start, n, sum, len(lat), want)
		}
	}
}
