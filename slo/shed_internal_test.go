package slo

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// Signals of one controller step without measurements: the level moves at
// Rise and Decay.
var (
	hot     = signal{hot: true}
	calm    = signal{calm: true}
	between = signal{} // neither hot nor calm: hold
)

// demand returns a demand by Criticality, in requests per second, from
// SHEDDABLE, SHEDDABLE_PLUS, CRITICAL and CRITICAL_PLUS, in that order.
func demand(sheddable, sheddablePlus, critical, criticalPlus float64) [4]float64 {
	var d [4]float64
	d[Sheddable], d[SheddablePlus], d[Critical], d[CriticalPlus] = sheddable, sheddablePlus, critical, criticalPlus
	return d
}

// over returns a hot, measured signal: the demand d, of which level
// admitted what admittedAt says, and the rate served.
func over(level, served float64, d [4]float64) signal {
	return signal{hot: true, measured: true, admitted: admittedAt(level, d), demand: d, served: served}
}

// fine returns a calm, measured signal of demand d at level.
func fine(level float64, d [4]float64) signal {
	a := admittedAt(level, d)
	return signal{calm: true, measured: true, admitted: a, demand: d, served: a}
}

// at is a step time in seconds after a fixed origin.
type at float64

func (a at) time() time.Time {
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(float64(a) * float64(time.Second)))
}

// steps is a script of controller steps and the level after each.
type steps []struct {
	at    at
	sig   signal
	level float64
}

func (s signal) String() string {
	state := "between"
	switch {
	case s.hot:
		state = "hot"
	case s.calm:
		state = "calm"
	}
	if !s.measured {
		return state
	}
	return fmt.Sprintf("%s{admitted %.4g, served %.4g, slow only %v, demand %v}", state, s.admitted, s.served, s.slowOnly, s.demand)
}

func TestControllerStep(t *testing.T) {
	defaults := ShedPolicy{Window: 5 * time.Second, Rise: 0.5}.withDefaults() // Rise 0.5/s, Decay 0.1/s, Hold 5s
	// The flash sale's demand: 1000 rps of SHEDDABLE browse, 100 of
	// CRITICAL checkout; the shop serves 200.
	sale := demand(1000, 0, 100, 0)
	critical := demand(100, 0, 200, 50)
	tests := []struct {
		name   string
		policy ShedPolicy
		settle int // evaluations
		steps  steps
	}{
		// Without measurements: an integrator, as before.
		{"unmeasured: rises at Rise per second, waits at 2, caps at 3", defaults, 5, steps{
			{0, hot, 0}, // the first step: no time has passed
			{1, hot, 0.5},
			{2, hot, 1},
			{2.5, hot, 1.25},
			{3, hot, 1.5},
			{4, hot, 2},
			{5, hot, 2.5},
			{6, hot, 3},
			{7, hot, 3},
			{60, hot, 3},
		}},
		{"unmeasured: a step into the CRITICAL band stops at 2 first", ShedPolicy{Rise: 0.75}.withDefaults(), 1, steps{
			{0, hot, 0},
			{2, hot, 1.5},
			{3, hot, 2}, // not 2.25
			{4, hot, 2.75},
		}},
		{"unmeasured: holds between hot and calm", defaults, 5, steps{
			{0, hot, 0},
			{2, hot, 1},
			{3, between, 1},
			{10, between, 1},
			{100, between, 1},
			{101, hot, 1.5},
		}},
		{"decays at Decay per second after Hold of calm", defaults, 5, steps{
			{0, hot, 0},
			{4, hot, 2},
			{5, calm, 2}, // calm from 5
			{6, calm, 2},
			{9, calm, 2},
			{10, calm, 2}, // the hold ends: nothing decayed during it
			{11, calm, 1.9},
			{13, calm, 1.7},
			{13.5, calm, 1.65},
		}},
		{"a step across the end of the hold decays only past it", defaults, 5, steps{
			{0, hot, 0},
			{4, hot, 2},
			{5, calm, 2}, // calm from 5: the hold ends at 10
			{8, calm, 2},
			{12, calm, 1.8}, // 2s past the hold, not 4s since the previous step
		}},
		{"a hot or in-between step restarts the hold", defaults, 5, steps{
			{0, hot, 0},
			{4, hot, 2},
			{5, calm, 2},
			{9, calm, 2},
			{10, between, 2}, // not calm: the hold starts again
			{11, calm, 2},    // calm from 11
			{15, calm, 2},
			{16, calm, 2},
			{17, calm, 1.9},
			{18, hot, 2},  // 2.4, held at 2 for a step
			{19, calm, 2}, // calm from 19
			{24, calm, 2},
			{25, calm, 1.9},
		}},
		{"returns to 0 and never goes negative", defaults, 5, steps{
			{0, hot, 0},
			{1, hot, 0.5},
			{2, calm, 0.5},
			{7, calm, 0.5},
			{8, calm, 0.4},
			{10, calm, 0.2},
			{12, calm, 0},
			{13, calm, 0},
			{20, calm, 0},
			{3600, calm, 0},
		}},
		{"calm at 0 stays 0", defaults, 5, steps{
			{0, calm, 0},
			{10, calm, 0},
			{20, between, 0},
		}},
		{"a long gap counts as 5s while hot", defaults, 5, steps{
			{0, hot, 0},
			{3600, hot, 2}, // 2.5, held at 2 for a step
			{3601, hot, 2.5},
		}},
		{"a long gap counts as 5s while calm", defaults, 5, steps{
			{0, hot, 0},
			{4, hot, 2},
			{5, hot, 2.5},
			{6, hot, 3},
			{7, calm, 3},      // calm from 7: the hold ends at 12
			{3600, calm, 2.5}, // 3588s past the hold: capped at 5s
			{3601, calm, 2.4},
		}},
		{"time going backwards changes nothing", defaults, 5, steps{
			{10, hot, 0},
			{12, hot, 1},
			{11, hot, 1}, // taken as 12
			{0, hot, 1},
			{13, hot, 1.5},  // one second after 12, not after 0 or 11
			{14, calm, 1.5}, // calm from 14
			{5, calm, 1.5},
			{19, calm, 1.5}, // the hold ends at 19, not earlier
			{20, calm, 1.4},
			{1, calm, 1.4},
			{21, calm, 1.3},
		}},
		{"unmeasured: CriticalPlus caps at 4", ShedPolicy{Rise: 0.5, CriticalPlus: true}.withDefaults(), 1, steps{
			{0, hot, 0},
			{4, hot, 2},
			{9, hot, 4},
			{20, hot, 4},
		}},

		// Measured: cut to 0.9 × served, then settle.
		{"a cut admits 90% of what was served, in one step", defaults, 3, steps{
			// 1100 rps admitted, 200 served: admit 180, 100 of them
			// checkouts, 80 of 1000 browse: level 0.92.
			{0, over(0, 200, sale), 0.92},
		}},
		{"no rise while settling, then a cut measured after the rise", defaults, 3, steps{
			{0, over(0, 400, sale), 0.74}, // admit 360: 260 of 1000 browse
			{0.1, over(0.74, 200, sale), 0.74},
			{0.2, over(0.74, 200, sale), 0.74},
			{0.3, over(0.74, 200, sale), 0.92}, // three evaluations on
			{0.4, over(0.92, 200, sale), 0.92},
		}},
		{"a cut removes at least 10% of the admitted rate", defaults, 1, steps{
			{0, over(0, 1100, sale), 0.11}, // served all: admit 990
			{1, over(0.11, 2000, sale), 0.209},
		}},
		{"a cut removes at most 90% of the admitted rate", defaults, 1, steps{
			{0, over(0, 0, demand(1000, 0, 0, 0)), 0.9}, // nothing served
		}},
		{"with only latency objectives, at most half", defaults, 1, steps{
			{0, signal{hot: true, measured: true, admitted: 1000, demand: demand(1000, 0, 0, 0), slowOnly: true}, 0.5},
		}},
		{"a cut never lowers the level", defaults, 1, steps{
			{0, over(0, 200, sale), 0.92},
			{1, over(0.92, 500, sale), 0.938}, // 0.9 × 500 is more than is admitted: 10% less
			{2, over(0.5, 2000, sale), 0.938}, // the signal says less than the level admits
		}},
		{"CRITICAL only once all sheddable traffic is shed and still hot after settling", defaults, 2, steps{
			// 250 rps of CRITICAL and CRITICAL_PLUS alone overload a
			// service of 100.
			{0, over(0, 100, critical), 2},   // admit 90: all SHEDDABLE shed, no more
			{1, over(2, 100, critical), 2},   // settling
			{2, over(2, 60, critical), 2.98}, // admit 54: 4 of 200 CRITICAL
			{3, between, 2.98},
			{4, over(2.98, 0, critical), 3}, // admit 5.4: all CRITICAL shed
			{5, over(3, 0, critical), 3},    // CRITICAL_PLUS never
			{6, over(3, 0, critical), 3},
		}},
		{"CRITICAL_PLUS with CriticalPlus", ShedPolicy{CriticalPlus: true}.withDefaults(), 1, steps{
			{0, over(0, 10, demand(100, 0, 100, 100)), 2},
			{1, over(2, 10, demand(100, 0, 100, 100)), 3.8}, // admit 20 (at most a 90% cut) of 100 CRITICAL_PLUS
		}},
		{"bands without demand are skipped", defaults, 1, steps{
			{0, hot, 0},
			{3, hot, 1.5}, // unmeasured
			{4, fine(1.5, demand(100, 0, 100, 0)), 1.5}, // calm from 4
			{9, fine(1.5, demand(100, 0, 100, 0)), 1},   // the hold ends: to the top of SHEDDABLE
			{10, fine(1, demand(100, 0, 100, 0)), 0.9},
		}},
		{"probes at Decay per second once calm for Hold", defaults, 1, steps{
			{0, over(0, 200, sale), 0.92},
			{1, fine(0.92, sale), 0.92},
			{6, fine(0.92, sale), 0.92},
			{7, fine(0.92, sale), 0.82},
			{8, over(0.82, 200, sale), 0.92}, // hot again: calm starts anew
			{9, fine(0.92, sale), 0.92},
		}},
		{"when the hold ends, back to admitting what was served", defaults, 1, steps{
			{0, over(0, 200, sale), 0.92},     // seen to serve 200: admit 180
			{1, over(0.92, 150, sale), 0.965}, // a backlog: 150 served, admit 135
			{2, fine(0.965, sale), 0.965},     // calm from 2
			{7, fine(0.965, sale), 0.92},      // the hold ends: 180 again
			{8, fine(0.92, sale), 0.82},
		}},
		{"the overload is over once the demand fits in what was served", defaults, 1, steps{
			{0, over(0, 200, sale), 0.92}, // seen to serve 200: 180 fit
			{1, fine(0.92, sale), 0.92},   // calm from 1
			{6, fine(0.92, sale), 0.92},
			{7, fine(0.92, sale), 0.82},
			{8, fine(0.82, demand(85, 0, 100, 0)), 0.72}, // 185 rps: more than 180
			{9, fine(0.72, demand(80, 0, 100, 0)), 0},    // 180: back to 0
			{10, hot, 0.5},                               // unmeasured: as before any cut
		}},
		{"after a cut, a demand too small to measure counts", defaults, 1, steps{
			{0, over(0, 200, sale), 0.92},
			{1, signal{calm: true, demand: demand(900, 0, 100, 0)}, 0.92},        // calm from 1
			{6, signal{calm: true, demand: demand(900, 0, 100, 0)}, 820.0 / 900}, // the hold ends: admit 180
			{7, signal{calm: true, demand: demand(5, 0, 5, 0)}, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newController(tt.policy, tt.settle)
			for i, s := range tt.steps {
				got := c.step(s.at.time(), s.sig)
				if math.Abs(got-s.level) > 1e-9 || got < 0 {
					t.Fatalf("step %d: step(%vs, %v) = %v, want %v", i, float64(s.at), s.sig, got, s.level)
				}
			}
		})
	}
}

// FuzzControllerStep checks the controller's invariants for any order of
// times and signals: the level stays within [0, max]; without measurements
// it rises by at most Rise × 5s and falls by at most Decay × 5s per step
// (unless a measured cut left a capacity: then it may fall at once to the
// level that admits it);
// a hot step never lowers it, a calm one never raises it, an in-between
// one holds it; no step enters the CRITICAL band from below 2; no hot step
// raises it while the previous rise settles.
func FuzzControllerStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 200, 1, 0}, false)
	f.Add([]byte{10, 9, 8, 7, 250, 0, 255, 128, 3, 4, 5, 6, 7, 8}, true)
	f.Add([]byte("090010710"), false) // a measured cut, then calm: back to 0 at once
	f.Fuzz(func(t *testing.T, script []byte, criticalPlus bool) {
		p := ShedPolicy{Rise: 0.5, CriticalPlus: criticalPlus}.withDefaults()
		const settle = 3
		c := newController(p, settle)
		since := settle
		for i := 0; i+2 < len(script); i += 3 {
			now := at(script[i]).time()
			b := script[i+2]
			d := demand(float64(b%7)*100, float64(b%3)*50, float64(b%5)*30, float64(b%2)*10)
			sig := []signal{hot, calm, between,
				over(c.level, float64(b), d), fine(c.level, d),
				{hot: true, measured: true, admitted: admittedAt(c.level, d), demand: d, served: float64(b), slowOnly: true},
			}[int(script[i+1])%6]
			before, measuredCapacity := c.level, c.capacity > 0
			got := c.step(now, sig)
			since = min(since+1, settle)
			if got < 0 || got > p.maxLevel() || math.IsNaN(got) {
				t.Fatalf("step(%vs, %v) = %v, want within [0, %v]", script[i], sig, got, p.maxLevel())
			}
			switch {
			case sig.hot && got < before, sig.calm && got > before, !sig.hot && !sig.calm && got != before:
				t.Fatalf("step(%vs, %v) moved the level from %v to %v", script[i], sig, before, got)
			case before < 2 && got > 2:
				t.Fatalf("step(%vs, %v) moved the level from %v into the CRITICAL band, to %v", script[i], sig, before, got)
			case !sig.measured && (got-before > p.Rise*5+1e-9 || before-got > p.Decay*5+1e-9 && !measuredCapacity):
				t.Fatalf("step(%vs, %v) moved the level from %v to %v: more than 5s of change", script[i], sig, before, got)
			case sig.measured && sig.hot && got > before && since < settle:
				t.Fatalf("step(%vs, %v) raised the level from %v to %v while settling", script[i], sig, before, got)
			}
			if got > before {
				since = 0
			}
		}
	})
}

func TestFit(t *testing.T) {
	tests := []struct {
		rate   float64
		demand [4]float64
		limit  float64
		want   float64
	}{
		{100, demand(10, 10, 10, 10), 3, 0}, // everything fits
		{40, demand(10, 10, 10, 10), 3, 0},
		{35, demand(10, 10, 10, 10), 3, 0.5},
		{30, demand(10, 10, 10, 10), 3, 1},
		{25, demand(10, 10, 10, 10), 3, 1.5},
		{15, demand(10, 10, 10, 10), 3, 2.5},
		{10, demand(10, 10, 10, 10), 3, 3},
		{5, demand(10, 10, 10, 10), 3, 3},   // the limit
		{5, demand(10, 10, 10, 10), 4, 3.5}, // CRITICAL_PLUS allowed
		{0, demand(10, 10, 10, 10), 4, 4},
		{15, demand(10, 10, 10, 10), 2, 2}, // CRITICAL not yet allowed
		{10, demand(0, 0, 10, 0), 3, 0},
		{5, demand(0, 0, 10, 0), 3, 2.5}, // empty bands skipped
		{10, demand(10, 0, 10, 0), 3, 1}, // the lowest level that admits 10
		{180, demand(1000, 0, 100, 0), 2, 0.92},
		{0, demand(0, 0, 0, 0), 3, 0},
	}
	for _, tt := range tests {
		if got := fit(tt.rate, tt.demand, tt.limit); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("fit(%v, %v, %v) = %v, want %v", tt.rate, tt.demand, tt.limit, got, tt.want)
		}
		if tt.want < tt.limit && admittedAt(tt.want, tt.demand) > tt.rate+1e-9 {
			t.Errorf("admittedAt(fit(%v, %v, %v)) = %v, want at most %v", tt.rate, tt.demand, tt.limit, admittedAt(tt.want, tt.demand), tt.rate)
		}
	}
}

func TestAdmittedAt(t *testing.T) {
	d := demand(100, 10, 40, 1)
	for _, tt := range []struct{ level, want float64 }{
		{0, 151}, {0.5, 101}, {1, 51}, {1.5, 46}, {2, 41}, {2.25, 31}, {3, 1}, {3.5, 0.5}, {4, 0},
	} {
		if got := admittedAt(tt.level, d); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("admittedAt(%v, %v) = %v, want %v", tt.level, d, got, tt.want)
		}
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
		adm[Sheddable] += n
		rej[Sheddable] += n
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
		if math.Abs(a-admitted) > 1e-9 || math.Abs(d[Sheddable]-sheddable) > 1e-9 || n != requests {
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
			adm[Sheddable] += n
			rej[Critical] += uint64(script[i+2])
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

func TestEvaluations(t *testing.T) {
	tests := []struct {
		window, lag, interval time.Duration
		w, l                  int
		err                   bool
	}{
		{2 * time.Second, 0, time.Second, 2, 0, false},
		{400 * time.Millisecond, 500 * time.Millisecond, 100 * time.Millisecond, 4, 5, false},
		{450 * time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, 5, 1, false}, // rounded up
		{time.Millisecond, 0, time.Second, 1, 0, false},                                      // at least one
		{6400 * time.Millisecond, time.Hour, 100 * time.Millisecond, 64, 36000, false},
		{6401 * time.Millisecond, 0, 100 * time.Millisecond, 64, 0, true},
	}
	for _, tt := range tests {
		w, l, err := ShedPolicy{Window: tt.window, Lag: tt.lag}.evaluations(tt.interval)
		if w != tt.w || l != tt.l || (err != nil) != tt.err {
			t.Errorf("ShedPolicy{Window: %v, Lag: %v}.evaluations(%v) = %d, %d, %v; want %d, %d, error %v",
				tt.window, tt.lag, tt.interval, w, l, err, tt.w, tt.l, tt.err)
		}
	}
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
	defaults := ShedPolicy{}.withDefaults() // Hold 5s, Decay 0.1/s
	tests := []struct {
		policy ShedPolicy
		level  float64
		c      Criticality
		want   time.Duration
	}{
		{defaults, 0, Sheddable, 0},
		{defaults, 0.5, Sheddable, 10 * time.Second}, // 5s hold + 0.5/0.1
		{defaults, 1, Sheddable, 15 * time.Second},
		{defaults, 1, SheddablePlus, 0},
		{defaults, 1.5, SheddablePlus, 10 * time.Second},
		{defaults, 3, Sheddable, 35 * time.Second},
		{defaults, 3, Critical, 15 * time.Second},
		{defaults, 3, CriticalPlus, 0},
		{defaults, 0.01, Sheddable, 5 * time.Second},                                                  // 5.1s, rounded
		{defaults, 0.06, Sheddable, 6 * time.Second},                                                  // 5.6s, rounded
		{defaults, 2.001, Critical, 5 * time.Second},                                                  // just into the band
		{ShedPolicy{Hold: time.Millisecond, Decay: 100}.withDefaults(), 0.01, Sheddable, time.Second}, // at least 1s
		{ShedPolicy{Hold: time.Second, Decay: 1}.withDefaults(), 2.5, Sheddable, 4 * time.Second},     // 1s + 2.5s, rounded half away from zero
	}
	for _, tt := range tests {
		if got := tt.policy.retryAfter(tt.level, tt.c); got != tt.want {
			t.Errorf("ShedPolicy{Hold: %v, Decay: %v}.retryAfter(%v, %v) = %v, want %v",
				tt.policy.Hold, tt.policy.Decay, tt.level, tt.c, got, tt.want)
		}
	}
}

func TestShedPolicyDefaults(t *testing.T) {
	got := ShedPolicy{}.withDefaults()
	want := ShedPolicy{Window: 2 * time.Second, ReleaseBurn: 1, MinEvents: 20, Rise: 0.25, Decay: 0.1, Hold: 5 * time.Second}
	if got != want {
		t.Errorf("ShedPolicy{}.withDefaults() = %+v, want %+v", got, want)
	}
	if err := got.validate(); err != nil {
		t.Errorf("ShedPolicy{}.withDefaults().validate() = %v, want nil", err)
	}
	if w, l, err := got.evaluations(time.Second); w != 2 || l != 0 || err != nil {
		t.Errorf("ShedPolicy{}.withDefaults().evaluations(1s) = %d, %d, %v, want 2, 0, nil", w, l, err)
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
