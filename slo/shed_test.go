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

// load is how many requests of each criticality arrive in one second.
type load map[slo.Criticality]int

// shop is a service with a capacity, driven second by second as the server
// middleware drives an engine: every request goes through Admit and a
// rejected one is recorded as Shed; of the admitted ones the first capacity
// of the second are served in 50ms, the others fail after waiting 300ms,
// as when a queue times out. With late, each second's outcomes are recorded
// only after the next second's evaluation, as when requests wait a second
// in a queue. The engine is evaluated at the end of every second.
type shop struct {
	t          *testing.T
	eng        *slo.Engine
	objectives []string // every outcome is recorded in each
	capacity   int
	late       bool
	now        time.Time
	pending    [2]int    // served and failed, not recorded yet
	admitted   [4]int    // in the latest second, by Criticality
	rejected   [4]uint64 // every rejection Admit returned, by Criticality
	retries    map[slo.Criticality]time.Duration
}

func newShop(t *testing.T, capacity int, opts ...slo.Option) *shop {
	t.Helper()
	s := &shop{t: t, capacity: capacity, now: t0, objectives: []string{apiAvailability, apiLatency}}
	s.eng = newEngine(t, apiObjectives, opts...)
	s.eng.Tick(s.now)
	return s
}

// second sends one second of l, records what is due and evaluates. It
// returns the shed level after the evaluation.
func (s *shop) second(l load) float64 {
	s.t.Helper()
	s.admitted = [4]int{}
	s.retries = map[slo.Criticality]time.Duration{}
	served, failed := 0, 0
	// Interleaved, so that every criticality waits in the same queue.
	left := map[slo.Criticality]int{}
	for c, n := range l {
		left[c] = n
	}
	for more := true; more; {
		more = false
		for _, c := range slo.Criticalities {
			if left[c] == 0 {
				continue
			}
			left[c]--
			more = true
			retry, ok := s.eng.Admit(c)
			if !ok {
				s.rejected[c]++
				s.retries[c] = retry
				s.record(slo.Shed, 0, 1)
				continue
			}
			s.admitted[c]++
			if served < s.capacity {
				served++
			} else {
				failed++
			}
		}
	}
	if s.late {
		s.pending, served, failed = [2]int{served, failed}, s.pending[0], s.pending[1]
	}
	s.record(slo.Good, 50*time.Millisecond, served)
	s.record(slo.Bad, 300*time.Millisecond, failed)
	s.now = s.now.Add(time.Second)
	s.eng.Tick(s.now)
	return s.eng.Status().Shed.Level
}

func (s *shop) record(o slo.Outcome, latency time.Duration, n int) {
	s.t.Helper()
	for _, name := range s.objectives {
		record(s.t, s.eng, name, o, latency, n)
	}
}

// admittedAll returns how many requests were admitted in the latest second.
func (s *shop) admittedAll() int {
	return s.admitted[0] + s.admitted[1] + s.admitted[2] + s.admitted[3]
}

// checkLevel checks the published shed level and reject shares.
func checkLevel(t *testing.T, eng *slo.Engine, when string, want float64) {
	t.Helper()
	sh := eng.Status().Shed
	if !sh.Enabled || math.Abs(sh.Level-want) > 1e-9 {
		t.Fatalf("%s: Status().Shed = Enabled %v, Level %v, want true, %v", when, sh.Enabled, sh.Level, want)
	}
	for _, c := range slo.Criticalities {
		if w := rejectShare(want, c); math.Abs(sh.Reject[c]-w) > 1e-9 {
			t.Errorf("%s: Status().Shed.Reject[%v] = %v at level %v, want %v", when, c, sh.Reject[c], sh.Level, w)
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

// bands returns the bands (the ceiling of the levels) that events moved
// between.
func bands(events []slo.Event) [][2]float64 {
	var out [][2]float64
	for _, ev := range events {
		out = append(out, [2]float64{math.Ceil(ev.FromLevel), math.Ceil(ev.Level)})
	}
	return out
}

// The flash sale of the shedding tests: tenfold, mostly SHEDDABLE; a shop
// that serves 3000 requests a second.
var (
	quietLoad = load{slo.Sheddable: 1000, slo.Critical: 1000, slo.CriticalPlus: 500}
	saleLoad  = load{slo.Sheddable: 8000, slo.Critical: 1500, slo.CriticalPlus: 500}
)

const saleCapacity = 3000

// TestShedScript runs a shop through quiet traffic, a flash sale, and quiet
// traffic again, second by second, and checks the shed level at every
// step: one measured cut at the first hot evaluation, to admit 90% of what
// the shop served; probing at Decay after Hold and a cut back when it
// overshoots; back to 0 once the sale is over. Also the admission, its
// hints, the events and the counts.
func TestShedScript(t *testing.T) {
	var handled []slo.Event
	var seen []float64 // Status().Shed.Level when each shed event was handled
	var s *shop
	s = newShop(t, saleCapacity, slo.WithShedding(slo.ShedPolicy{Window: time.Second, Hold: 2 * time.Second}),
		slo.WithEventHandler(func(ev slo.Event) {
			if ev.Kind == slo.ShedChanged {
				handled = append(handled, ev)
				seen = append(seen, s.eng.Status().Shed.Level)
			}
		}))

	for i := range 5 {
		if level := s.second(quietLoad); level != 0 || s.admittedAll() != 2500 {
			t.Fatalf("quiet second %d: level %v, %d of 2500 admitted, want 0 and all", i+1, level, s.admittedAll())
		}
	}

	// The sale. Its first second fails 7000 requests: 3000 served, so the
	// level admits 2700 of the 10000, all but 700 of 8000 SHEDDABLE. Then
	// 2 seconds of calm (Hold), a second of decay (0.1), an overload of 300
	// (served 3000 of 3500) and a cut back.
	const cut, probe = (10000 - 2700) / 8000.0, (10000-2700)/8000.0 - 0.1
	want := []float64{cut, cut, cut, cut, probe, cut, cut, cut, cut, probe, cut, cut}
	for i, w := range want {
		when := fmt.Sprintf("sale second %d", i+1)
		s.second(saleLoad)
		checkLevel(t, s.eng, when, w)
		if s.admitted[slo.Critical] != 1500 || s.admitted[slo.CriticalPlus] != 500 {
			t.Errorf("%s: admitted %v, want all 1500 CRITICAL and 500 CRITICAL_PLUS", when, s.admitted)
		}
		if i > 0 && !binomial(s.admitted[slo.Sheddable], 8000, 1-rejectShare(want[i-1], slo.Sheddable)) {
			t.Errorf("%s: admitted %d SHEDDABLE of 8000 at level %v, want a share of %v",
				when, s.admitted[slo.Sheddable], want[i-1], 1-rejectShare(want[i-1], slo.Sheddable))
		}
	}
	// Retry-after hints: the 2s hold, then 0.1 a second down to the band.
	if got, want := s.retries[slo.Sheddable], 11*time.Second; got != want {
		t.Errorf("at level %v: Admit(SHEDDABLE) retry-after = %v, want %v", cut, got, want)
	}

	// The sale is over: 2500 requests fit in 2700. Calm since the last
	// second of the sale; the level is 0 when the hold ends.
	for i, w := range []float64{cut, 0, 0} {
		s.second(quietLoad)
		checkLevel(t, s.eng, fmt.Sprintf("quiet again, second %d", i+1), w)
	}

	// One event per band crossed, up then down, each seen in Status by the
	// handler.
	events := shedEvents(s.eng)
	if got, want := bands(events), [][2]float64{{0, 1}, {1, 0}}; fmt.Sprint(got) != fmt.Sprint(want) || len(handled) != len(events) {
		t.Fatalf("ShedChanged events = %d, handled %d, want bands %v:\n%s", len(events), len(handled), want, eventLines(events))
	}
	for i, ev := range events {
		h := handled[i]
		if ev.Level != seen[i] || h.Kind != ev.Kind || !h.Time.Equal(ev.Time) || h.FromLevel != ev.FromLevel || h.Level != ev.Level {
			t.Errorf("ShedChanged %d = %v, handled %v seeing level %v", i, ev, h, seen[i])
		}
	}
	if first := events[0]; first.FromLevel != 0 || first.Level != cut || !first.Time.Equal(t0.Add(6*time.Second)) {
		t.Errorf("first ShedChanged = %v at %v, want 0 → %v at the end of the sale's first second", first, first.Time, cut)
	}

	// Every rejection is counted, by criticality, at the next Tick; none of
	// CRITICAL or CRITICAL_PLUS.
	if got := s.eng.Status().Shed.Rejected; got != s.rejected {
		t.Errorf("Status().Shed.Rejected = %v, want %v", got, s.rejected)
	}
	if s.rejected[slo.Sheddable] == 0 || s.rejected[slo.SheddablePlus]+s.rejected[slo.Critical]+s.rejected[slo.CriticalPlus] != 0 {
		t.Errorf("rejections by criticality = %v, want SHEDDABLE only", s.rejected)
	}
	// The control signal is measured over the latest evaluation, exactly.
	if o := objectiveStatus(t, s.eng.Status(), apiAvailability); !o.ControlKnown || o.ControlBurn != 0 {
		t.Errorf("%s: ControlKnown, ControlBurn = %v, %v, want true, 0", apiAvailability, o.ControlKnown, o.ControlBurn)
	}
}

// TestShedLag checks that a rise is judged by the traffic it shaped: when
// outcomes arrive an evaluation late, a controller that does not wait for
// them (no Lag) cuts twice for one overload and sheds too much; with Lag it
// cuts once.
func TestShedLag(t *testing.T) {
	const cut = (10000 - 2700) / 8000.0 // admit 90% of the 3000 served
	for _, tt := range []struct {
		lag  time.Duration
		want []func(admitted int) float64 // by sale second, from what it admitted
	}{
		// The outcomes of the sale's first second come with the second
		// evaluation, those of the cut with the third: without Lag, the
		// third takes the first overload for a new one and cuts 10% more.
		{0, []func(int) float64{
			func(int) float64 { return 0 },
			func(int) float64 { return cut },
			func(a int) float64 { return (10000 - 0.9*float64(a)) / 8000 },
		}},
		{time.Second, []func(int) float64{
			func(int) float64 { return 0 },
			func(int) float64 { return cut },
			func(int) float64 { return cut },
			func(int) float64 { return cut },
		}},
	} {
		t.Run(fmt.Sprintf("lag %v", tt.lag), func(t *testing.T) {
			s := newShop(t, saleCapacity, slo.WithShedding(slo.ShedPolicy{Window: time.Second, Lag: tt.lag}))
			s.late = true
			s.second(quietLoad)
			for i, w := range tt.want {
				s.second(saleLoad)
				checkLevel(t, s.eng, fmt.Sprintf("sale second %d", i+1), w(s.admittedAll()))
			}
		})
	}
}

// TestShedCritical checks the order of the bands: all SHEDDABLE and
// SHEDDABLE_PLUS first, in one cut that stops at level 2, then CRITICAL,
// only once the signal is still hot after that cut; CRITICAL_PLUS never.
func TestShedCritical(t *testing.T) {
	s := newShop(t, 1000, slo.WithShedding(slo.ShedPolicy{Window: time.Second}))
	l := load{slo.Sheddable: 400, slo.SheddablePlus: 100, slo.Critical: 2000, slo.CriticalPlus: 500}
	// 3000 admitted, 1000 served: admit 900, less than CRITICAL alone.
	s.second(l)
	checkLevel(t, s.eng, "first cut", 2)
	// 2500 admitted, 1000 served: admit 900 of CRITICAL and CRITICAL_PLUS.
	s.second(l)
	checkLevel(t, s.eng, "second cut", 2+(2500-900)/2000.0)
	if s.admitted[slo.Critical] != 2000 || s.admitted[slo.CriticalPlus] != 500 {
		t.Errorf("second overloaded second: admitted %v, want all CRITICAL and CRITICAL_PLUS", s.admitted)
	}
	// A service of 300 for the CRITICAL_PLUS traffic alone: never shed.
	s.capacity = 300
	for i := range 5 {
		s.second(l)
		if level := s.eng.Status().Shed.Level; level > 3 {
			t.Fatalf("second %d of a service of 300: level %v, want at most 3", i+1, level)
		}
	}
	checkLevel(t, s.eng, "a service of 300", 3)
	if s.rejected[slo.CriticalPlus] != 0 || s.rejected[slo.Critical] == 0 {
		t.Errorf("rejections = %v, want CRITICAL, no CRITICAL_PLUS", s.rejected)
	}
	if got, want := bands(shedEvents(s.eng)), [][2]float64{{0, 2}, {2, 3}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ShedChanged bands = %v, want %v", got, want)
	}
}

// TestShedSlowOnly checks a service with only a latency objective: the
// cut is sized by the requests served within the threshold, and removes
// at most half of the admitted rate.
func TestShedSlowOnly(t *testing.T) {
	s := &shop{t: t, capacity: saleCapacity, now: t0, objectives: []string{apiLatency}} // the failed requests are slow
	s.eng = newEngine(t, apiObjectives[1:], slo.WithShedding(slo.ShedPolicy{Window: time.Second}))
	s.eng.Tick(s.now)
	s.second(quietLoad)
	// 10000 admitted, 3000 fast: half.
	s.second(saleLoad)
	checkLevel(t, s.eng, "first cut", (10000-5000)/8000.0)
	// 5000 admitted, 3000 fast: admit 2700.
	s.second(saleLoad)
	checkLevel(t, s.eng, "second cut", (10000-2700)/8000.0)
}

// TestShedIgnoresShed checks both numbers a service sees while it sheds:
// shed events do not raise the control signal, which uses admitted traffic
// only, but they count as bad in the budget that is reported.
func TestShedIgnoresShed(t *testing.T) {
	eng := newEngine(t, apiObjectives, slo.WithShedding(slo.ShedPolicy{Window: 5 * time.Second}))
	now := t0
	eng.Tick(now)
	for i := range 10 {
		record(t, eng, apiAvailability, slo.Good, 0, 100)
		record(t, eng, apiAvailability, slo.Shed, 0, 500)
		now = now.Add(time.Second)
		eng.Tick(now)
		checkLevel(t, eng, fmt.Sprintf("second %d", i+1), 0)
	}
	o := objectiveStatus(t, eng.Status(), apiAvailability)
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

// TestShedWindow checks the control window: the latest evaluations within
// Window, however far apart, and none that ended Window or more ago.
func TestShedWindow(t *testing.T) {
	eng := newEngine(t, apiObjectives, slo.WithShedding(slo.ShedPolicy{Window: 3 * time.Second}),
		slo.WithInterval(500*time.Millisecond)) // six evaluations
	now := t0
	eng.Tick(now)
	step := func(d time.Duration, bad, good int, wantBurn float64, wantKnown bool) {
		t.Helper()
		record(t, eng, apiAvailability, slo.Bad, 0, bad)
		record(t, eng, apiAvailability, slo.Good, 0, good)
		now = now.Add(d)
		eng.Tick(now)
		o := objectiveStatus(t, eng.Status(), apiAvailability)
		if o.ControlKnown != wantKnown || wantKnown && !near(o.ControlBurn, wantBurn) {
			t.Errorf("at %v: ControlKnown, ControlBurn = %v, %v, want %v, %v", now.Sub(t0), o.ControlKnown, o.ControlBurn, wantKnown, wantBurn)
		}
	}
	const half = 500 * time.Millisecond
	step(half, 1, 9, 0, false) // 10 events: fewer than MinEvents
	step(half, 1, 9, 2.0/20/0.001, true)
	step(half, 0, 10, 2.0/30/0.001, true)
	step(half, 0, 10, 2.0/40/0.001, true)
	step(half, 0, 10, 2.0/50/0.001, true)
	step(half, 0, 10, 2.0/60/0.001, true)
	step(half, 0, 10, 1.0/60/0.001, true) // six evaluations at most: the first bad event left
	step(half, 0, 10, 0, true)
	step(5*half, 3, 17, 3.0/30/0.001, true) // the evaluations that ended 3s or more ago left
	step(half, 0, 0, 3.0/20/0.001, true)
	step(6*half, 0, 20, 0, true) // the 3 bad events ended 3s ago
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
			eng := newEngine(t, apiObjectives, slo.WithShedding(tt.policy))
			now := t0
			eng.Tick(now)
			// Only the fifth second fills the window enough.
			for range 5 {
				record(t, eng, apiAvailability, slo.Bad, 0, tt.perSecond)
				now = now.Add(time.Second)
				eng.Tick(now)
			}
			o := objectiveStatus(t, eng.Status(), apiAvailability)
			if got := eng.Status().Shed.Level; got != tt.want {
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
		{"default 14.4: burn 14", slo.ShedPolicy{Rise: 0.5}, 14, 0},
		{"default 14.4: burn 15", slo.ShedPolicy{Rise: 0.5}, 15, 0.5},
		{"Burn 5: burn 4", slo.ShedPolicy{Rise: 0.5, Burn: 5}, 4, 0},
		{"Burn 5: burn 6", slo.ShedPolicy{Rise: 0.5, Burn: 5}, 6, 0.5},
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
			// Nothing went through Admit: each hot second raises the level
			// by Rise.
			if got := eng.Status().Shed.Level; math.Abs(got-2*tt.want) > 1e-9 {
				t.Errorf("Shed.Level after two seconds at burn %d = %v, want %v", tt.bad, got, 2*tt.want)
			}
		})
	}
}

// TestShedCriticalPlus checks that with CriticalPlus the level reaches 4 and
// CRITICAL_PLUS traffic is shed.
func TestShedCriticalPlus(t *testing.T) {
	eng := newEngine(t, apiObjectives, slo.WithShedding(slo.ShedPolicy{Rise: 1, CriticalPlus: true}))
	now := t0
	eng.Tick(now)
	// Nothing goes through Admit: the level rises at Rise, and waits at 2.
	for i, want := range []float64{1, 2, 3, 4, 4} {
		record(t, eng, apiAvailability, slo.Bad, 0, 100)
		now = now.Add(time.Second)
		eng.Tick(now)
		checkLevel(t, eng, fmt.Sprintf("second %d", i+1), want)
	}
	if retry, ok := eng.Admit(slo.CriticalPlus); ok || retry != 15*time.Second {
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
			Window: -time.Millisecond, Lag: -time.Second, Burn: -1, ReleaseBurn: math.NaN(), Rise: -0.5, Decay: math.Inf(1), Hold: -time.Second,
		})}, []error{slo.ErrInvalidOption}, []string{
			"slo: invalid option: shed window -1ms is not positive",
			"shed lag -1s is negative",
			"shed burn -1 is not a positive number",
			"shed release burn NaN is not a positive number",
			"shed rise -0.5 is not a positive number",
			"shed decay +Inf is not from 0.001 to 100",
			"shed hold -1s is negative",
		}},
		{"shed: release above burn", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 2, ReleaseBurn: 3})},
			[]error{slo.ErrInvalidOption}, []string{"shed release burn 3 is above the shed burn 2"}},
		{"shed: default release above burn", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 0.5})},
			[]error{slo.ErrInvalidOption}, []string{"shed release burn 1 is above the shed burn 0.5"}},
		{"shed: infinite burn", valid, []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: math.Inf(1)})},
			[]error{slo.ErrInvalidOption}, []string{"shed burn +Inf is not a positive number"}},
		{"shed: a window of more than 64 evaluations", valid,
			[]slo.Option{slo.WithShedding(slo.ShedPolicy{}), slo.WithInterval(20 * time.Millisecond)},
			[]error{slo.ErrInvalidOption}, []string{"slo: invalid option: shed window 2s spans 100 evaluations of 20ms, more than 64"}},
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
	// Without shedding the signal is cut to what it keeps, and New succeeds.
	newEngine(t, valid, slo.WithInterval(20*time.Millisecond))
}

// TestShedPolicyZeroValue checks that WithShedding(ShedPolicy{}) is valid
// and sheds nothing on healthy traffic: a zero value never sheds all.
func TestShedPolicyZeroValue(t *testing.T) {
	s := newShop(t, saleCapacity, slo.WithShedding(slo.ShedPolicy{}), slo.WithBreakers(slo.BreakerPolicy{}))
	if sh := s.eng.Status().Shed; !sh.Enabled || sh.Level != 0 {
		t.Errorf("Status().Shed before the first traffic = %+v, want enabled at level 0", sh)
	}
	for i := range 3 {
		if level := s.second(quietLoad); level != 0 || s.rejected != [4]uint64{} {
			t.Fatalf("healthy second %d: level %v, rejected %v, want 0 and none", i+1, level, s.rejected)
		}
	}
}
