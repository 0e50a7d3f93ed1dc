package slo_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The service objectives of the shedding tests: availability and latency of
// the same requests.
const (
	apiAvailability = "api-availability"
	apiLatency      = "api-latency"
)

var apiObjectives = []slo.Objective{
	{Name: apiAvailability, Target: 0.999},
	{Name: apiLatency, Target: 0.99, Latency: 300 * time.Millisecond},
}

// mix is the criticality of every second's 100 requests.
var mix = []struct {
	c slo.Criticality
	n int
}{{slo.Sheddable, 40}, {slo.SheddablePlus, 20}, {slo.Critical, 30}, {slo.CriticalPlus, 10}}

// outcome is how every admitted request of one second ends.
type outcome struct {
	o       slo.Outcome
	latency time.Duration
}

var (
	healthy = outcome{slo.Good, 50 * time.Millisecond}
	failing = outcome{slo.Bad, 50 * time.Millisecond} // bad for both objectives
	slow    = outcome{slo.Good, time.Second}          // bad for latency only
)

// service drives an engine with the api objectives through scripted
// seconds of traffic, as the server middleware would: each request is
// admitted or rejected by Admit, rejected ones are recorded as Shed.
type service struct {
	t        *testing.T
	eng      *slo.Engine
	now      time.Time
	rejected [4]uint64 // by Criticality, every rejection Admit returned
}

func newService(t *testing.T, opts ...slo.Option) *service {
	t.Helper()
	s := &service{t: t, eng: newEngine(t, apiObjectives, opts...), now: t0}
	s.eng.Tick(s.now)
	return s
}

// admit calls Admit and counts its rejections.
func (s *service) admit(c slo.Criticality) (time.Duration, bool) {
	retry, ok := s.eng.Admit(c)
	if !ok {
		idx := c
		if c > slo.Sheddable {
			idx = slo.Critical
		}
		s.rejected[idx]++
	}
	return retry, ok
}

// second sends one second of 100 requests that end as out when admitted,
// then evaluates. It returns how many were admitted.
func (s *service) second(out outcome) (admitted int) {
	s.t.Helper()
	for _, m := range mix {
		for range m.n {
			if _, ok := s.admit(m.c); !ok {
				record(s.t, s.eng, apiAvailability, slo.Shed, 0, 1)
				record(s.t, s.eng, apiLatency, slo.Shed, 0, 1)
				continue
			}
			admitted++
			record(s.t, s.eng, apiAvailability, out.o, out.latency, 1)
			record(s.t, s.eng, apiLatency, out.o, out.latency, 1)
		}
	}
	s.now = s.now.Add(time.Second)
	s.eng.Tick(s.now)
	return admitted
}

// checkLevel checks the published shed level and reject shares.
func (s *service) checkLevel(when string, want float64) {
	s.t.Helper()
	sh := s.eng.Status().Shed
	if !sh.Enabled || math.Abs(sh.Level-want) > 1e-9 {
		s.t.Fatalf("%s: Status().Shed = Enabled %v, Level %v, want true, %v", when, sh.Enabled, sh.Level, want)
	}
	for _, c := range slo.Criticalities {
		if w := rejectShare(want, c); math.Abs(sh.Reject[c]-w) > 1e-9 {
			s.t.Errorf("%s: Status().Shed.Reject[%v] = %v at level %v, want %v", when, c, sh.Reject[c], sh.Level, w)
		}
	}
}

// rejectShare is the documented share of criticality c that level
// rejects: clamp(level − band, 0, 1), bands 0, 1, 2, 3.
func rejectShare(level float64, c slo.Criticality) float64 {
	band := map[slo.Criticality]float64{slo.Sheddable: 0, slo.SheddablePlus: 1, slo.Critical: 2, slo.CriticalPlus: 3}[c]
	return min(max(level-band, 0), 1)
}

// binomial reports whether k successes of n draws are plausible at
// probability p: within six standard deviations (and one) of n × p, which
// fails by chance about once in 10⁹ runs.
func binomial(k, n int, p float64) bool {
	mean := float64(n) * p
	return math.Abs(float64(k)-mean) <= 6*math.Sqrt(mean*(1-p))+1
}

// checkAdmit draws n admissions of every criticality and checks them
// against the published reject shares: none rejected at 0, all at 1, a
// plausible number in between.
func (s *service) checkAdmit(when string, n int) {
	s.t.Helper()
	sh := s.eng.Status().Shed
	for _, c := range slo.Criticalities {
		var rejected int
		for range n {
			retry, ok := s.admit(c)
			if ok && retry != 0 {
				s.t.Errorf("%s: Admit(%v) = %v, true, want 0, true", when, c, retry)
			}
			if !ok {
				rejected++
				if retry < time.Second {
					s.t.Errorf("%s: Admit(%v) = %v, false, want a retry-after of at least 1s", when, c, retry)
				}
			}
		}
		p := sh.Reject[c]
		switch {
		case p == 0 && rejected != 0, p == 1 && rejected != n, !binomial(rejected, n, p):
			s.t.Errorf("%s: Admit(%v) rejected %d of %d at level %v, want a share of %v", when, c, rejected, n, sh.Level, p)
		}
	}
}

// shedEvents returns the ShedChanged events of the timeline.
func shedEvents(eng *slo.Engine) []slo.Event {
	var out []slo.Event
	for _, ev := range eng.Events() {
		if ev.Kind == slo.ShedChanged {
			out = append(out, ev)
		}
	}
	return out
}

// TestShedScript runs a service through healthy traffic, a burst of failing
// or slow requests, and recovery, second by second, and checks the shed
// level, admission, the events and the counts at every step.
func TestShedScript(t *testing.T) {
	for _, tt := range []struct {
		name  string
		burst outcome
		hot   string // the objective that burns
	}{
		{"errors", failing, apiAvailability},
		{"slow", slow, apiLatency},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var handled []slo.Event
			var seen []float64 // Status().Shed.Level when each shed event was handled
			var s *service
			s = newService(t, slo.WithShedding(slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5}), slo.WithEventHandler(func(ev slo.Event) {
				if ev.Kind == slo.ShedChanged {
					handled = append(handled, ev)
					seen = append(seen, s.eng.Status().Shed.Level)
				}
			}))

			for i := range 10 {
				if n := s.second(healthy); n != 100 {
					t.Fatalf("healthy second %d: %d of 100 admitted, want all", i+1, n)
				}
				s.checkLevel(fmt.Sprintf("healthy second %d", i+1), 0)
				s.checkAdmit(fmt.Sprintf("healthy second %d", i+1), 100)
			}
			if ev := shedEvents(s.eng); len(ev) != 0 {
				t.Fatalf("shed events after healthy traffic = %v, want none", ev)
			}

			// The burst: the level rises by Rise (0.5) every second up to 3.
			for i := 1; i <= 8; i++ {
				s.second(tt.burst)
				when := fmt.Sprintf("burst second %d", i)
				s.checkLevel(when, min(0.5*float64(i), 3))
				o := objectiveStatus(t, s.eng.Status(), tt.hot)
				if !o.ControlKnown || o.ControlBurn < 14.4 {
					t.Errorf("%s: %s ControlKnown, ControlBurn = %v, %v, want true, ≥ 14.4", when, tt.hot, o.ControlKnown, o.ControlBurn)
				}
				s.checkAdmit(when, 200)
			}
			// Retry-after hints at level 3: the 5s hold, then 0.1 a second
			// down to the band.
			for c, want := range map[slo.Criticality]time.Duration{
				slo.Sheddable: 35 * time.Second, slo.SheddablePlus: 25 * time.Second, slo.Critical: 15 * time.Second,
			} {
				if retry, ok := s.admit(c); ok || retry != want {
					t.Errorf("at level 3: Admit(%v) = %v, %v, want %v, false", c, retry, ok, want)
				}
			}
			// CRITICAL_PLUS is never shed by default.
			for range 10000 {
				if _, ok := s.admit(slo.CriticalPlus); !ok {
					t.Fatalf("at level 3: Admit(CRITICAL_PLUS) rejected, want never")
				}
			}

			// Recovery: the burst stays in the 5s control window for four
			// more seconds (hot, capped at 3), then the signal is calm;
			// after the 5s hold the level falls by 0.1 a second.
			for i := 1; i <= 45; i++ {
				s.second(healthy)
				when := fmt.Sprintf("recovery second %d", i)
				want := 3.0
				if i > 10 {
					want = max(3-0.1*float64(i-10), 0)
				}
				s.checkLevel(when, want)
				if i%5 == 0 {
					s.checkAdmit(when, 100)
				}
			}

			// One event per band crossed, up then down, each seen in Status
			// by the handler.
			events := shedEvents(s.eng)
			wantBands := [][2]float64{{0, 1}, {1, 2}, {2, 3}, {3, 2}, {2, 1}, {1, 0}}
			if len(events) != len(wantBands) || len(handled) != len(events) {
				t.Fatalf("ShedChanged events = %d, handled %d, want %d:\n%s", len(events), len(handled), len(wantBands), eventLines(events))
			}
			for i, ev := range events {
				got := [2]float64{math.Ceil(ev.FromLevel), math.Ceil(ev.Level)}
				h := handled[i]
				if got != wantBands[i] || ev.Time.Before(t0) || ev.Level != seen[i] ||
					h.Kind != ev.Kind || !h.Time.Equal(ev.Time) || h.FromLevel != ev.FromLevel || h.Level != ev.Level {
					t.Errorf("ShedChanged %d = %v (bands %v), handler saw level %v, want bands %v", i, ev, got, seen[i], wantBands[i])
				}
			}
			if first := events[0]; first.FromLevel != 0 || first.Level != 0.5 {
				t.Errorf("first ShedChanged = %v, want 0 → 0.5", first)
			}
			if last := events[len(events)-1]; last.Level != 0 {
				t.Errorf("last ShedChanged = %v, want → 0", last)
			}

			// Every rejection is counted, by criticality, at the next Tick.
			if got := s.eng.Status().Shed.Rejected; got != s.rejected {
				t.Errorf("Status().Shed.Rejected = %v, want %v", got, s.rejected)
			}
			if s.rejected[slo.CriticalPlus] != 0 || s.rejected[slo.Sheddable] == 0 || s.rejected[slo.Critical] == 0 {
				t.Errorf("rejections by criticality = %v, want some SHEDDABLE and CRITICAL, no CRITICAL_PLUS", s.rejected)
			}
		})
	}
}

// TestShedIgnoresShed checks both numbers a service sees while it sheds:
// shed events do not raise the control signal, which uses admitted traffic
// only, but they count as bad in the budget that is reported.
func TestShedIgnoresShed(t *testing.T) {
	s := newService(t, slo.WithShedding(slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5}))
	for i := range 10 {
		record(t, s.eng, apiAvailability, slo.Good, 0, 100)
		record(t, s.eng, apiAvailability, slo.Shed, 0, 500)
		s.now = s.now.Add(time.Second)
		s.eng.Tick(s.now)
		s.checkLevel(fmt.Sprintf("second %d", i+1), 0)
	}
	o := objectiveStatus(t, s.eng.Status(), apiAvailability)
	if !o.ControlKnown || o.ControlBurn != 0 {
		t.Errorf("ControlKnown, ControlBurn = %v, %v, want true, 0: shed events are not admitted", o.ControlKnown, o.ControlBurn)
	}
	// 5000 shed and 1000 good in every reported window: the shed count as
	// bad, 5000/6000 against 0.1%.
	wantBurn := 5000.0 / 6000 / 0.001
	if w := o.Report.Windows[0]; !near(w.Burn, wantBurn) || w.AdmittedBurn != 0 || w.Counts != (budget.Counts{Good: 1000, Shed: 5000}) {
		t.Errorf("Report.Windows[0] = %+v, want Burn %v, AdmittedBurn 0, 1000 good and 5000 shed", w, wantBurn)
	}
	if want := 1 - wantBurn; !near(o.Report.Remaining, want) {
		t.Errorf("Report.Remaining = %v, want %v", o.Report.Remaining, want)
	}
	if o.Report.State != budget.StateExhausted {
		t.Errorf("Report.State = %v, want exhausted", o.Report.State)
	}
}

// TestShedMinEvents checks that a burn with fewer than MinEvents admitted
// events in the control window does not shed.
func TestShedMinEvents(t *testing.T) {
	for _, tt := range []struct {
		name      string
		policy    slo.ShedPolicy
		perSecond int // bad events a second, in the 5s window
		want      float64
	}{
		{"default: 3 a second, 15 in the window", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5}, 3, 0},
		{"default: 4 a second, 20 in the window", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5}, 4, 0.5},
		{"MinEvents 100: 19 a second", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5, MinEvents: 100}, 19, 0},
		{"MinEvents 100: 20 a second", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5, MinEvents: 100}, 20, 0.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, slo.WithShedding(tt.policy))
			// Only the fifth second fills the window enough.
			for range 5 {
				record(t, s.eng, apiAvailability, slo.Bad, 0, tt.perSecond)
				s.now = s.now.Add(time.Second)
				s.eng.Tick(s.now)
			}
			o := objectiveStatus(t, s.eng.Status(), apiAvailability)
			if got := s.eng.Status().Shed.Level; got != tt.want {
				t.Errorf("Shed.Level after %d bad events a second = %v (ControlKnown %v), want %v", tt.perSecond, got, o.ControlKnown, tt.want)
			}
			if known := tt.want > 0; o.ControlKnown != known {
				t.Errorf("ControlKnown = %v, want %v", o.ControlKnown, known)
			}
		})
	}
}

// TestShedPolicyBurn checks that ShedPolicy.Burn replaces the objectives'
// fastest page threshold as the level's trigger.
func TestShedPolicyBurn(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy slo.ShedPolicy
		bad    int // of 1000 a second: burn = bad/1000/0.001 = bad
		want   float64
	}{
		{"default 14.4: burn 14", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5}, 14, 0},
		{"default 14.4: burn 15", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5}, 15, 0.5},
		{"Burn 5: burn 4", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5, Burn: 5}, 4, 0},
		{"Burn 5: burn 6", slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5, Burn: 5}, 6, 0.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(tt.policy))
			now := t0
			eng.Tick(now)
			for range 2 {
				record(t, eng, "a", slo.Good, 0, 1000-tt.bad)
				record(t, eng, "a", slo.Bad, 0, tt.bad)
				now = now.Add(time.Second)
				eng.Tick(now)
			}
			// Each hot second raises the level by 0.5.
			if got := eng.Status().Shed.Level; math.Abs(got-2*tt.want) > 1e-9 {
				t.Errorf("Shed.Level after two seconds at burn %d = %v, want %v", tt.bad, got, 2*tt.want)
			}
		})
	}
}

// TestShedCriticalPlus checks that with CriticalPlus the level reaches 4 and
// CRITICAL_PLUS traffic is shed.
func TestShedCriticalPlus(t *testing.T) {
	s := newService(t, slo.WithShedding(slo.ShedPolicy{Window: 5 * time.Second, Rise: 0.5, CriticalPlus: true}))
	for i := 1; i <= 10; i++ {
		s.second(failing)
		s.checkLevel(fmt.Sprintf("second %d", i), min(0.5*float64(i), 4))
	}
	if retry, ok := s.admit(slo.CriticalPlus); ok || retry != 15*time.Second {
		t.Errorf("at level 4: Admit(CRITICAL_PLUS) = %v, %v, want 15s, false", retry, ok)
	}
}

func TestNewInvalidPolicies(t *testing.T) {
	valid := []slo.Objective{{Name: "a", Target: 0.999}}
	tests := []struct {
		name       string
		objectives []slo.Objective
		opts       []slo.Option
		sentinels  []error
		want       []string
	}{
		{"shed: every field", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{
			Window: 500 * time.Millisecond, Burn: -1, ReleaseBurn: math.NaN(), Rise: -0.5, Decay: math.Inf(1), Hold: -time.Second,
		})}, []error{slo.ErrInvalidOption}, []string{
			"slo: invalid option: shed window 500ms is shorter than one second",
			"shed burn -1 is not a positive number",
			"shed release burn NaN is not a positive number",
			"shed rise -0.5 is not a positive number",
			"shed decay +Inf is not a positive number",
			"shed hold -1s is negative",
		}},
		{"shed: release above burn", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 2, ReleaseBurn: 3})},
			[]error{slo.ErrInvalidOption}, []string{"shed release burn 3 is above the shed burn 2"}},
		{"shed: default release above burn", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 0.5})},
			[]error{slo.ErrInvalidOption}, []string{"shed release burn 1 is above the shed burn 0.5"}},
		{"shed: infinite burn", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: math.Inf(1)})},
			[]error{slo.ErrInvalidOption}, []string{"shed burn +Inf is not a positive number"}},
		{"breaker: negative open timeout", valid, []slo.Option{slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: -time.Second})},
			[]error{slo.ErrInvalidOption}, []string{"slo: invalid option: breaker open timeout -1s is negative"}},
		{"everything at once",
			[]slo.Objective{{Name: "a", Target: 2}, {Name: "b", Target: 0.9, Dependency: "pay ments"}},
			[]slo.Option{
				slo.WithShedding(slo.ShedPolicy{Rise: -1, Hold: -1}),
				slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: -1}),
				slo.WithInterval(0),
			},
			[]error{slo.ErrInvalidOption, slo.ErrInvalidObjective},
			[]string{"shed rise -1", "shed hold -1ns", "breaker open timeout -1ns", "interval 0s", `"a": budget`, `"b": dependency: name has ' '`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := slo.New(tt.objectives, options(tt.opts...)...)
			if eng != nil || err == nil {
				t.Fatalf("New(%+v) = %v, %v, want nil, error", tt.objectives, eng, err)
			}
			for _, s := range tt.sentinels {
				if !errors.Is(err, s) {
					t.Errorf("New(%+v) = %v, want error wrapping %v", tt.objectives, err, s)
				}
			}
			checkMentions(t, err, tt.want)
		})
	}
}

// TestShedPolicyZeroValue checks that WithShedding(ShedPolicy{Window: 5 * time.Second, Rise: 0.5}) is valid and
// sheds nothing on healthy traffic: a zero value never sheds all.
func TestShedPolicyZeroValue(t *testing.T) {
	s := newService(t, slo.WithShedding(slo.ShedPolicy{}), slo.WithBreakers(slo.BreakerPolicy{}))
	if sh := s.eng.Status().Shed; !sh.Enabled || sh.Level != 0 {
		t.Errorf("Status().Shed before the first traffic = %+v, want enabled at level 0", sh)
	}
	s.second(healthy)
	s.checkAdmit("healthy", 100)
}
