package slo

import (
	"math"
	"testing"
	"time"
)

// Signals of one controller step.
var (
	hot     = signal{hot: true}
	calm    = signal{calm: true}
	between = signal{} // neither hot nor calm: hold
)

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
	switch {
	case s.hot:
		return "hot"
	case s.calm:
		return "calm"
	}
	return "between"
}

func TestControllerStep(t *testing.T) {
	defaults := ShedPolicy{Window: 5 * time.Second, Rise: 0.5}.withDefaults() // Rise 0.5/s, Decay 0.1/s, Hold 5s
	tests := []struct {
		name   string
		policy ShedPolicy
		steps  steps
	}{
		{"rises at Rise per second, capped at 3", defaults, steps{
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
		{"holds between hot and calm", defaults, steps{
			{0, hot, 0},
			{2, hot, 1},
			{3, between, 1},
			{10, between, 1},
			{100, between, 1},
			{101, hot, 1.5},
		}},
		{"decays at Decay per second after Hold of calm", defaults, steps{
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
		{"a step across the end of the hold decays only past it", defaults, steps{
			{0, hot, 0},
			{4, hot, 2},
			{5, calm, 2}, // calm from 5: the hold ends at 10
			{8, calm, 2},
			{12, calm, 1.8}, // 2s past the hold, not 4s since the previous step
		}},
		{"a hot or in-between step restarts the hold", defaults, steps{
			{0, hot, 0},
			{4, hot, 2},
			{5, calm, 2},
			{9, calm, 2},
			{10, between, 2}, // not calm: the hold starts again
			{11, calm, 2},    // calm from 11
			{15, calm, 2},
			{16, calm, 2},
			{17, calm, 1.9},
			{18, hot, 2.4},
			{19, calm, 2.4}, // calm from 19
			{24, calm, 2.4},
			{25, calm, 2.3},
		}},
		{"returns to 0 and never goes negative", defaults, steps{
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
		{"calm at 0 stays 0", defaults, steps{
			{0, calm, 0},
			{10, calm, 0},
			{20, between, 0},
		}},
		{"a long gap counts as 5s while hot", defaults, steps{
			{0, hot, 0},
			{3600, hot, 2.5},
			{3601, hot, 3},
		}},
		{"a long gap counts as 5s while calm", defaults, steps{
			{0, hot, 0},
			{5, hot, 2.5},
			{6, hot, 3},
			{7, calm, 3},      // calm from 7: the hold ends at 12
			{3600, calm, 2.5}, // 3588s past the hold: capped at 5s
			{3601, calm, 2.4},
		}},
		{"time going backwards changes nothing", defaults, steps{
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
		{"CriticalPlus caps at 4", ShedPolicy{Window: 5 * time.Second, Rise: 0.5, CriticalPlus: true}.withDefaults(), steps{
			{0, hot, 0},
			{5, hot, 2.5},
			{10, hot, 4},
			{20, hot, 4},
		}},
		{"custom rates and hold", ShedPolicy{Rise: 2, Decay: 1, Hold: time.Second}.withDefaults(), steps{
			{0, hot, 0},
			{0.5, hot, 1},
			{1, hot, 2},
			{2, hot, 3},
			{3, calm, 3},
			{4, calm, 3},
			{5, calm, 2},
			{5.5, calm, 1.5},
			{10, calm, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &controller{p: tt.policy}
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
// times and signals: the level stays within [0, max], rises by at most
// Rise × 5s and falls by at most Decay × 5s per step.
func FuzzControllerStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 200, 1, 0}, false)
	f.Add([]byte{10, 9, 8, 7, 250, 0, 255, 128}, true)
	f.Fuzz(func(t *testing.T, script []byte, criticalPlus bool) {
		p := ShedPolicy{Window: 5 * time.Second, Rise: 0.5, CriticalPlus: criticalPlus}.withDefaults()
		c := &controller{p: p}
		for i := 0; i+1 < len(script); i += 2 {
			now := at(script[i]).time()
			sig := []signal{hot, calm, between}[int(script[i+1])%3]
			before := c.level
			got := c.step(now, sig)
			if got < 0 || got > p.maxLevel() || math.IsNaN(got) {
				t.Fatalf("step(%vs, %v) = %v, want within [0, %v]", script[i], sig, got, p.maxLevel())
			}
			if got-before > p.Rise*5+1e-9 || before-got > p.Decay*5+1e-9 {
				t.Fatalf("step(%vs, %v) moved the level from %v to %v: more than 5s of change", script[i], sig, before, got)
			}
			if sig == between && got != before {
				t.Fatalf("step(%vs, between) moved the level from %v to %v, want it held", script[i], before, got)
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
	defaults := ShedPolicy{Window: 5 * time.Second, Rise: 0.5}.withDefaults() // Hold 5s, Decay 0.1/s
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
		t.Errorf("ShedPolicy{Window: 5 * time.Second, Rise: 0.5}.withDefaults() = %+v, want %+v", got, want)
	}
	if err := got.validate(); err != nil {
		t.Errorf("ShedPolicy{Window: 5 * time.Second, Rise: 0.5}.withDefaults().validate() = %v, want nil", err)
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
