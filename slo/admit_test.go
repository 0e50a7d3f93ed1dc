package slo_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// shedding returns an engine with shedding whose level is 0.5 × hot: one
// availability objective, evaluated once a second, every event bad for hot
// seconds; the controller moves half a band per hot evaluation.
func shedding(tb testing.TB, hot int, opts ...slo.Option) *slo.Engine {
	tb.Helper()
	eng := newEngine(tb, []slo.Objective{{Name: "a", Target: 0.999}}, append(opts, slo.WithShedding(slo.ShedPolicy{}))...)
	now := t0
	eng.Tick(now)
	for range hot {
		record(tb, eng, "a", slo.Bad, 0, 100)
		now = now.Add(time.Second)
		eng.Tick(now)
	}
	if got, want := eng.Status().Shedding.Level, 0.5*float64(hot); got != want {
		tb.Fatalf("Status().Shedding.Level after %d hot seconds = %v, want %v", hot, got, want)
	}
	return eng
}

// route returns the engine's Route of criticality c over objective "a".
func route(tb testing.TB, eng *slo.Engine, c slo.Criticality, names ...string) *slo.Route {
	tb.Helper()
	rt, err := eng.Route(c, names...)
	if err != nil {
		tb.Fatalf("Route(%v, %q) = %v", c, names, err)
	}
	return rt
}

// TestAdmitProbabilistic checks that inside a band the share of rejected
// requests is the level's fraction of it, that lower bands are all
// rejected and higher ones all admitted, and that the core records every
// rejection as Shed.
func TestAdmitProbabilistic(t *testing.T) {
	const draws = 20000
	tests := []struct {
		hot    int // seconds: level 0.5 × hot
		c      slo.Criticality
		lo, hi int // rejections
	}{
		{1, slo.Sheddable, 9000, 11000}, // level 0.5: 45–55%
		{1, slo.SheddablePlus, 0, 0},
		{1, slo.Critical, 0, 0},
		{1, slo.CriticalPlus, 0, 0},
		{3, slo.Sheddable, draws, draws}, // level 1.5
		{3, slo.SheddablePlus, 9000, 11000},
		{3, slo.Critical, 0, 0},
		{5, slo.SheddablePlus, draws, draws}, // level 2.5
		{5, slo.Critical, 9000, 11000},
		{5, slo.CriticalPlus, 0, 0},
		{5, slo.Criticality(9), 9000, 11000}, // unknown: as CRITICAL
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("level %v/%v", 0.5*float64(tt.hot), tt.c), func(t *testing.T) {
			eng := shedding(t, tt.hot)
			rt := route(t, eng, slo.Critical, "a")
			before := objectiveStatus(t, eng.Status(), "a").Totals.Shed
			var rejected int
			for range draws {
				tk, retry, ok := rt.Admit(tt.c)
				if !ok {
					rejected++
					if retry < time.Second {
						t.Fatalf("Admit(%v) = _, %v, false, want a retry hint of at least 1s", tt.c, retry)
					}
					continue
				}
				tk.Done(slo.Good)
			}
			if rejected < tt.lo || rejected > tt.hi {
				t.Errorf("Admit(%v) rejected %d of %d, want %d to %d", tt.c, rejected, draws, tt.lo, tt.hi)
			}
			eng.Tick(t0.Add(time.Hour))
			if got := objectiveStatus(t, eng.Status(), "a").Totals.Shed - before; got != uint64(rejected) {
				t.Errorf("Totals.Shed grew by %d, want the %d rejections", got, rejected)
			}
		})
	}
}

// TestAdmitWithoutShedding checks that without WithShedding a Route admits
// everything, counts nothing in flight, and still records.
func TestAdmitWithoutShedding(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}, {Name: "fast", Target: 0.99, Latency: time.Nanosecond}})
	if eng.Shedding() {
		t.Fatalf("Shedding() = true without WithShedding")
	}
	rt := route(t, eng, slo.Sheddable, "a", "fast")
	for range 1000 {
		tk, retry, ok := rt.Admit(slo.Sheddable)
		if !ok || retry != 0 {
			t.Fatalf("Admit(SHEDDABLE) without shedding = _, %v, %v, want 0, true", retry, ok)
		}
		tk.Done(slo.Good)
	}
	eng.Tick(t0)
	if got := objectiveStatus(t, eng.Status(), "a").Totals.Good; got != 1000 {
		t.Errorf("a: Totals.Good = %d, want 1000", got)
	}
	// Every request took longer than a nanosecond: bad for "fast".
	if got := objectiveStatus(t, eng.Status(), "fast").Totals.Bad; got != 1000 {
		t.Errorf("fast: Totals.Bad = %d, want 1000", got)
	}
	if sh := eng.Status().Shedding; sh.Enabled || sh.InFlight != 0 {
		t.Errorf("Status().Shed = %+v, want disabled, nothing in flight", sh)
	}
}

// TestGateFromTheFirstRequest checks that the gate rejects from the first
// request over its limit, before anything completed, with the core's
// Shed recorded, and admits again once requests are done.
func TestGateFromTheFirstRequest(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{MaxInFlight: 3}))
	rt := route(t, eng, slo.Sheddable, "a")
	var tickets []slo.Ticket
	for i := range 3 {
		tk, _, ok := rt.Admit(slo.Sheddable)
		if !ok {
			t.Fatalf("request %d: Admit = false, want true (limit 3)", i+1)
		}
		tickets = append(tickets, tk)
	}
	if _, retry, ok := rt.Admit(slo.Sheddable); ok || retry != time.Second {
		t.Fatalf("4th request: Admit = _, %v, %v, want 1s, false", retry, ok)
	}
	eng.Tick(t0)
	if st := eng.Status(); st.Shedding.InFlight != 3 || st.Shedding.Limit != 3 || st.Shedding.Rejected[slo.Sheddable.Index()] != 1 {
		t.Errorf("Status().Shed = %+v, want 3 in flight, limit 3, 1 SHEDDABLE rejected", st.Shedding)
	}
	if got := objectiveStatus(t, eng.Status(), "a").Totals.Shed; got != 1 {
		t.Errorf("Totals.Shed = %d, want 1", got)
	}
	tickets[0].Done(slo.Good)
	if tk, _, ok := rt.Admit(slo.Sheddable); !ok {
		t.Errorf("after one request ended: Admit = false, want true")
	} else {
		tk.Done(slo.Good)
	}
	for _, tk := range tickets[1:] {
		tk.Done(slo.Good)
	}
	eng.Tick(t0.Add(time.Second))
	if n := eng.Status().Shedding.InFlight; n != 0 {
		t.Errorf("after every request ended: InFlight = %d, want 0", n)
	}
}

// TestSettle checks the deferred form: a panic counts as Bad, and a
// dependency's open breaker as Shed.
func TestSettle(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{}))
	rt := route(t, eng, slo.Critical, "a")
	func() {
		defer func() { _ = recover() }()
		tk, _, _ := rt.Admit(slo.Critical)
		outcome := slo.Bad
		defer tk.Settle(&outcome)
		panic("handler")
	}()
	err := fmt.Errorf("charging: %w", &slo.BreakerError{Dependency: "payments", RetryAfter: 3 * time.Second})
	o, retry := slo.HandlerOutcome(err, slo.Bad)
	if o != slo.Shed || retry != 3*time.Second {
		t.Errorf("Failed(breaker open, Bad) = %v, %v, want Shed, 3s", o, retry)
	}
	if o, retry := slo.HandlerOutcome(errors.New("boom"), slo.Bad); o != slo.Bad || retry != 0 {
		t.Errorf("Failed(other error, Bad) = %v, %v, want Bad, 0", o, retry)
	}
	if o, _ := slo.HandlerOutcome(nil, slo.Good); o != slo.Good {
		t.Errorf("Failed(nil, Good) = %v, want Good", o)
	}
	tk, _, _ := rt.Admit(slo.Critical)
	tk.Done(o)
	eng.Tick(t0)
	if c := objectiveStatus(t, eng.Status(), "a").Totals; c.Bad != 1 || c.Shed != 1 || c.Good != 0 {
		t.Errorf("Totals = %+v, want the panic Bad and the breaker's failure Shed", c)
	}
	if n := eng.Status().Shedding.InFlight; n != 0 {
		t.Errorf("InFlight = %d, want 0: the panicking request ended too", n)
	}
}

// TestReroute checks that a ticket records in the route found after the
// handler.
func TestReroute(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}, {Name: "b", Target: 0.999}})
	a, b := route(t, eng, slo.Critical, "a"), route(t, eng, slo.Critical, "b")
	tk, _, _ := a.Admit(slo.Critical)
	tk.Reroute(b).Done(slo.Good)
	eng.Tick(t0)
	if got := objectiveStatus(t, eng.Status(), "b").Totals.Good; got != 1 {
		t.Errorf("b: Totals.Good = %d, want 1", got)
	}
	if got := objectiveStatus(t, eng.Status(), "a").Totals.Good; got != 0 {
		t.Errorf("a: Totals.Good = %d, want 0", got)
	}
}

func TestRouteErrors(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}, {Name: "p", Target: 0.99, Dependency: "payments"}})
	_, err := eng.Route(slo.Criticality(7), "a", "nope", "a", "p")
	if err == nil {
		t.Fatal("Route(bad) = nil error")
	}
	if !errors.Is(err, slo.ErrUnknownObjective) || !errors.Is(err, slo.ErrInvalidOption) {
		t.Errorf("Route(bad) = %v, want ErrUnknownObjective and ErrInvalidOption", err)
	}
	checkMentions(t, err, []string{"criticality CRITICALITY(7)", `"nope"`, `"a" is named twice`, `"p" is of dependency "payments"`})
}

func TestAdmitAllocs(t *testing.T) {
	for _, hot := range []int{0, 1, 6} { // levels 0, 0.5 and 3
		eng := shedding(t, hot)
		rt := route(t, eng, slo.Critical, "a")
		for _, c := range levels {
			if n := testing.AllocsPerRun(1000, func() {
				if tk, _, ok := rt.Admit(c); ok {
					tk.Done(slo.Good)
				}
			}); n != 0 {
				t.Errorf("Admit(%v) and Done at level %v allocate %v times, want 0", c, 0.5*float64(hot), n)
			}
		}
	}
}

// TestAdmitConcurrent admits from many goroutines while the level moves;
// with -race it checks admission against the evaluation, and that every
// rejection is counted and recorded.
func TestAdmitConcurrent(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{}))
	rt := route(t, eng, slo.Critical, "a")
	now := t0
	eng.Tick(now)
	const goroutines, perGoroutine = 8, 5000
	var mu sync.Mutex
	var rejected [4]uint64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var mine [4]uint64
			c := levels[g%len(levels)]
			for range perGoroutine {
				tk, _, ok := rt.Admit(c)
				if !ok {
					mine[c.Index()]++
					continue
				}
				tk.Done(slo.Bad)
			}
			mu.Lock()
			for i := range mine {
				rejected[i] += mine[i]
			}
			mu.Unlock()
		})
	}
	for range 20 {
		now = now.Add(time.Second)
		eng.Tick(now)
	}
	wg.Wait()
	eng.Tick(now.Add(time.Second))
	st := eng.Status()
	if st.Shedding.Rejected != rejected {
		t.Errorf("Status().Shedding.Rejected = %v, want %v", st.Shedding.Rejected, rejected)
	}
	if got := objectiveStatus(t, st, "a").Totals.Shed; got != rejected[0]+rejected[1]+rejected[2]+rejected[3] {
		t.Errorf("Totals.Shed = %d, want %v", got, rejected)
	}
	if st.Shedding.InFlight != 0 {
		t.Errorf("InFlight = %d, want 0", st.Shedding.InFlight)
	}
}

// TestShedPolicyZeroValue checks that WithShedding(ShedPolicy{}) is valid
// and sheds nothing on healthy traffic: a zero value never sheds all.
func TestShedPolicyZeroValue(t *testing.T) {
	eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}}, slo.WithShedding(slo.ShedPolicy{}), slo.WithBreakers(slo.BreakerPolicy{}))
	rt := route(t, eng, slo.Sheddable, "a")
	if sh := eng.Status().Shedding; !sh.Enabled || sh.Level != 0 {
		t.Errorf("Status().Shed before the first traffic = %+v, want enabled at level 0", sh)
	}
	now := t0
	for s := range 3 {
		for range 1000 { // one at a time: nothing waits
			tk, _, ok := rt.Admit(slo.Sheddable)
			if !ok {
				t.Fatalf("healthy second %d: a request was rejected", s+1)
			}
			tk.Done(slo.Good)
		}
		now = now.Add(time.Second)
		eng.Tick(now)
		if sh := eng.Status().Shedding; sh.Level != 0 || sh.Rejected != [4]uint64{} {
			t.Fatalf("healthy second %d: Shed = %+v, want level 0, nothing rejected", s+1, sh)
		}
	}
}

func TestNewInvalidPolicies(t *testing.T) {
	valid := []slo.Objective{{Name: "a", Target: 0.999}}
	tests := []struct {
		name string
		opts []slo.Option
		want []string
	}{
		{"every field", []slo.Option{slo.WithShedding(slo.ShedPolicy{MaxInFlight: -1, Burn: -1, ReleaseBurn: math.NaN(), Hold: -time.Second})}, []string{
			"slo: invalid option: shed max in flight -1 is not from 0 to 1000000000",
			"shed burn -1 is not a positive number",
			"shed release burn NaN is not a positive number",
			"shed hold -1s is negative",
		}},
		{"release above burn", []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 2, ReleaseBurn: 3})}, []string{"shed release burn 3 is above the shed burn 2"}},
		{"default release above burn", []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 0.5})}, []string{"shed release burn 1 is above the shed burn 0.5"}},
		{"infinite burn", []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: math.Inf(1)})}, []string{"shed burn +Inf is not a positive number"}},
		{"breaker: negative open timeout", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: -time.Second})}, []string{"slo: invalid option: breaker open timeout -1s is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, err := slo.New(valid, options(tt.opts...)...)
			if eng != nil || !errors.Is(err, slo.ErrInvalidOption) {
				t.Fatalf("New = %v, %v, want nil, ErrInvalidOption", eng, err)
			}
			checkMentions(t, err, tt.want)
		})
	}
}

// BenchmarkRoute measures one admitted request, Admit and Done, with
// shedding off, with shedding on at level 0 (the gate), and one rejected
// by the level. In parallel, each processor counts on its own shard; the
// gate's in-flight count is the one shared line.
func BenchmarkRoute(b *testing.B) {
	for _, bc := range []struct {
		name string
		hot  int
		c    slo.Criticality
		opts []slo.Option
	}{
		{"shedding=off", -1, slo.Sheddable, nil},
		{"level=0", 0, slo.Sheddable, nil},
		{"level=3/sheddable", 6, slo.Sheddable, nil}, // every request rejected and recorded
	} {
		var eng *slo.Engine
		if bc.hot < 0 {
			eng = newEngine(b, []slo.Objective{{Name: "a", Target: 0.999}})
		} else {
			eng = shedding(b, bc.hot)
		}
		rt := route(b, eng, slo.Critical, "a")
		one := func() {
			if tk, _, ok := rt.Admit(bc.c); ok {
				tk.Done(slo.Good)
			}
		}
		b.Run(bc.name+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				one()
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					one()
				}
			})
		})
	}
}

// The service objectives of the shedding tests: availability and latency
// of the same requests.
const (
	apiAvailability = "api-availability"
	apiLatency      = "api-latency"
)

var apiObjectives = []slo.Objective{
	{Name: apiAvailability, Target: 0.999},
	{Name: apiLatency, Target: 0.99, Latency: 300 * time.Millisecond},
}
