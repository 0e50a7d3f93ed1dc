package slo_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The tests in this file run inside synctest bubbles: gobreaker reads
// time.Now, which the bubble fakes.

const (
	payments             = "payments"
	paymentsAvailability = "payments-availability"
	paymentsLatency      = "payments-latency"
)

// paymentsObjectives are a service objective and the client-side objectives
// of its "payments" dependency.
var paymentsObjectives = []slo.Objective{
	{Name: "api", Target: 0.999},
	{Name: paymentsAvailability, Target: 0.999, Dependency: payments},
	{Name: paymentsLatency, Target: 0.99, Latency: 300 * time.Millisecond, Dependency: payments},
}

// call makes one call through b that ends as o after latency, and returns
// Allow's error.
func call(t *testing.T, b *slo.Breaker, o slo.Outcome, latency time.Duration) error {
	t.Helper()
	done, err := b.Allow()
	if err != nil {
		if done != nil {
			t.Errorf("Allow() = non-nil done, %v, want nil done with an error", err)
		}
		return err
	}
	done(o, latency)
	return nil
}

// calls makes one call per outcome, each of which must be allowed.
func calls(t *testing.T, b *slo.Breaker, latency time.Duration, outcomes ...slo.Outcome) {
	t.Helper()
	for i, o := range outcomes {
		if err := call(t, b, o, latency); err != nil {
			t.Fatalf("call %d (%v) through %q: Allow() = %v, want allowed", i, o, b.Name(), err)
		}
	}
}

// repeat returns n copies of pattern, concatenated.
func repeat(n int, pattern ...slo.Outcome) []slo.Outcome {
	var out []slo.Outcome
	for range n {
		out = append(out, pattern...)
	}
	return out
}

func checkState(t *testing.T, b *slo.Breaker, want slo.BreakerState) {
	t.Helper()
	if got := b.State(); got != want {
		t.Fatalf("%q State() = %v, want %v", b.Name(), got, want)
	}
}

// checkRejected checks that a call is rejected with a *BreakerError
// that matches ErrBreakerOpen and says when to retry.
func checkRejected(t *testing.T, b *slo.Breaker, retryAfter time.Duration) {
	t.Helper()
	err := call(t, b, slo.Good, 0)
	if !errors.Is(err, slo.ErrBreakerOpen) {
		t.Fatalf("Allow() on %v breaker = %v, want error wrapping ErrBreakerOpen", b.State(), err)
	}
	var open *slo.BreakerError
	if !errors.As(err, &open) || open.Dependency != b.Name() || open.RetryAfter != retryAfter {
		t.Fatalf("Allow() on %v breaker = %#v, want *BreakerError{%q, %v}", b.State(), err, b.Name(), retryAfter)
	}
	if want := fmt.Sprintf("slo: circuit breaker of %q open, retry after %v", b.Name(), retryAfter); err.Error() != want {
		t.Errorf("Allow() error = %q, want %q", err, want)
	}
}

// breakerEvents returns the BreakerChanged events as "from→to" strings.
func breakerChanges(events []slo.Event) []string {
	var out []string
	for _, ev := range events {
		if ev.Kind == slo.BreakerChanged {
			out = append(out, fmt.Sprintf("%s %v→%v", ev.Dependency, ev.BreakerFrom, ev.BreakerTo))
		}
	}
	return out
}

func TestEngineBreaker(t *testing.T) {
	eng := newEngine(t, append(slices.Clone(paymentsObjectives),
		slo.Objective{Name: "ledger-availability", Target: 0.99, Dependency: "ledger"}))
	for _, dep := range []string{payments, "ledger"} {
		b, err := eng.Breaker(dep)
		if err != nil || b == nil || b.Name() != dep || b.State() != slo.BreakerClosed {
			t.Errorf("Breaker(%q) = %v, %v, want a closed breaker named %q", dep, b, err, dep)
		}
		if b2, _ := eng.Breaker(dep); b2 != b {
			t.Errorf("Breaker(%q) = %p, then %p, want the same breaker", dep, b, b2)
		}
	}
	for _, dep := range []string{"", "Payments", "api", paymentsAvailability, "unknown"} {
		if b, err := eng.Breaker(dep); b != nil || !errors.Is(err, slo.ErrUnknownObjective) || !strings.Contains(err.Error(), fmt.Sprintf("%q", dep)) {
			t.Errorf("Breaker(%q) = %v, %v, want nil, error wrapping ErrUnknownObjective naming %q", dep, b, err, dep)
		}
	}
	// Before the first evaluation: every breaker, closed, in order.
	want := []slo.BreakerStatus{{Dependency: payments}, {Dependency: "ledger"}}
	if got := eng.Status().Breakers; !slices.Equal(got, want) {
		t.Errorf("Status().Breakers before Tick = %+v, want %+v", got, want)
	}
	eng.Tick(t0)
	if got := eng.Status().Breakers; !slices.Equal(got, want) {
		t.Errorf("Status().Breakers after Tick = %+v, want %+v", got, want)
	}

	// No dependency, no breaker.
	plain := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}})
	plain.Tick(t0)
	if got := plain.Status().Breakers; len(got) != 0 {
		t.Errorf("Status().Breakers without dependencies = %+v, want none", got)
	}
}

// TestBreakerLifecycle opens a breaker with consecutive failures, checks the
// fast failures, lets it probe, closes it, opens it again and fails the
// probe; and checks the events, their handlers and the Status on the way.
func TestBreakerLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			eng     *slo.Engine
			b       *slo.Breaker
			handled []slo.Event
			states  []slo.BreakerState // the breaker's state as each handler call saw it
		)
		eng = newEngine(t, paymentsObjectives, slo.WithEventHandler(func(ev slo.Event) {
			if ev.Kind != slo.BreakerChanged {
				return
			}
			handled = append(handled, ev)
			// Each of these would deadlock under the engine's or
			// gobreaker's lock.
			states = append(states, b.State())
			_ = eng.Status()
			_ = eng.Events()
		}))
		b, err := eng.Breaker(payments)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var shed uint64

		// Four failures in a row keep it closed, the fifth opens it.
		calls(t, b, 10*time.Millisecond, repeat(4, slo.Bad)...)
		checkState(t, b, slo.BreakerClosed)
		calls(t, b, 10*time.Millisecond, slo.Bad)
		checkState(t, b, slo.BreakerOpen)
		opened := time.Now()

		// Open: calls fail fast and are recorded as shed.
		for range 3 {
			checkRejected(t, b, 10*time.Second)
			shed++
		}
		if got := breakerChanges(eng.Events()); len(got) != 0 || len(handled) != 0 {
			t.Errorf("before Tick: events %v, handled %d, want none: they wait for the evaluation", got, len(handled))
		}
		eng.Tick(time.Now())
		st := eng.Status()
		if want := []slo.BreakerStatus{{Dependency: payments, State: slo.BreakerOpen, RetryAfter: 10 * time.Second}}; !slices.Equal(st.Breakers, want) {
			t.Errorf("Status().Breakers = %+v, want %+v", st.Breakers, want)
		}
		for _, name := range []string{paymentsAvailability, paymentsLatency} {
			if got, want := objectiveStatus(t, st, name).Totals, (budget.Counts{Bad: 5, Shed: shed}); got != want {
				t.Errorf("%s Totals = %+v, want %+v", name, got, want)
			}
		}
		if got := objectiveStatus(t, st, "api").Totals; got != (budget.Counts{}) {
			t.Errorf("api Totals = %+v, want none: the breaker records only its dependency's objectives", got)
		}
		if got, want := breakerChanges(handled), []string{"payments closed→open"}; !slices.Equal(got, want) {
			t.Errorf("handled %v, want %v", got, want)
		}
		if len(handled) > 0 && (!handled[0].Time.Equal(opened) || handled[0].String() != "breaker payments: closed → open") {
			t.Errorf("event %v at %v, want %q at %v", handled[0], handled[0].Time, "breaker payments: closed → open", opened)
		}

		// The retry-after counts down.
		time.Sleep(3 * time.Second)
		checkRejected(t, b, 7*time.Second)
		shed++
		eng.Tick(time.Now())
		if got := eng.Status().Breakers[0].RetryAfter; got != 7*time.Second {
			t.Errorf("Status().Breakers[0].RetryAfter 3s after opening = %v, want 7s", got)
		}

		// After OpenTimeout: half-open, one probe; others fail fast.
		time.Sleep(7*time.Second + time.Millisecond)
		checkState(t, b, slo.BreakerHalfOpen)
		probe, err := b.Allow()
		if err != nil {
			t.Fatalf("Allow() on a half-open breaker = %v, want the probe allowed", err)
		}
		checkRejected(t, b, time.Second) // the probe is in flight
		shed++
		eng.Tick(time.Now())
		if got := eng.Status().Breakers[0]; got.State != slo.BreakerHalfOpen || got.RetryAfter != 0 {
			t.Errorf("Status().Breakers[0] while probing = %+v, want half-open, no retry-after", got)
		}
		probe(slo.Good, 10*time.Millisecond)
		checkState(t, b, slo.BreakerClosed)
		calls(t, b, 10*time.Millisecond, slo.Good)

		// Open again; this time the probe fails and it opens again.
		calls(t, b, 10*time.Millisecond, repeat(5, slo.Bad)...)
		checkState(t, b, slo.BreakerOpen)
		time.Sleep(10*time.Second + time.Millisecond)
		calls(t, b, 10*time.Millisecond, slo.Bad)
		checkState(t, b, slo.BreakerOpen)
		checkRejected(t, b, 10*time.Second)
		shed++

		eng.Tick(time.Now())
		want := []string{
			"payments closed→open", "payments open→half-open", "payments half-open→closed",
			"payments closed→open", "payments open→half-open", "payments half-open→open",
		}
		if got := breakerChanges(eng.Events()); !slices.Equal(got, want) {
			t.Errorf("Events() = %v, want %v", got, want)
		}
		if got := breakerChanges(handled); !slices.Equal(got, want) {
			t.Errorf("handled %v, want %v", got, want)
		}
		// Handlers run after the evaluation, which may be after later
		// changes: the state they see is the one at the Tick.
		open, halfOpen := slo.BreakerOpen, slo.BreakerHalfOpen
		if want := []slo.BreakerState{open, halfOpen, open, open, open, open}; !slices.Equal(states, want) {
			t.Errorf("State() in the handlers = %v, want %v", states, want)
		}
		for i, ev := range handled {
			if i > 0 && ev.Time.Before(handled[i-1].Time) || ev.Time.Before(start) {
				t.Errorf("event %d at %v, want in order, after %v", i, ev.Time, start)
			}
		}
		// 5 + 5 + 1 failed calls, 2 good ones.
		if got, want := objectiveStatus(t, eng.Status(), paymentsAvailability).Totals, (budget.Counts{Good: 2, Bad: 11, Shed: shed}); got != want {
			t.Errorf("%s Totals = %+v, want %+v", paymentsAvailability, got, want)
		}
	})
}

// TestBreakerPolicy checks the policy's knobs: failures to open, the open
// timeout and the number of probes.
func TestBreakerPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, paymentsObjectives, slo.WithBreakers(slo.BreakerPolicy{
			ConsecutiveFailures: 2, OpenTimeout: 2 * time.Second, HalfOpenRequests: 3,
		}))
		b, _ := eng.Breaker(payments)
		calls(t, b, 0, slo.Bad)
		checkState(t, b, slo.BreakerClosed)
		calls(t, b, 0, slo.Bad)
		checkState(t, b, slo.BreakerOpen)
		checkRejected(t, b, 2*time.Second)
		time.Sleep(1500 * time.Millisecond)
		checkRejected(t, b, time.Second) // 0.5s, rounded to at least 1s
		time.Sleep(500*time.Millisecond + time.Millisecond)

		// Three probes at once, not four; all three must succeed.
		var probes []func(slo.Outcome, time.Duration)
		for i := range 3 {
			done, err := b.Allow()
			if err != nil {
				t.Fatalf("probe %d: Allow() = %v, want allowed", i+1, err)
			}
			probes = append(probes, done)
		}
		checkRejected(t, b, time.Second)
		for _, done := range probes {
			checkState(t, b, slo.BreakerHalfOpen)
			done(slo.Good, 0)
		}
		checkState(t, b, slo.BreakerClosed)
	})
}

// TestBreakerNeutral checks that neutral calls neither fail nor succeed: they
// do not open the breaker, nor end a run of failures.
func TestBreakerNeutral(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t, paymentsObjectives)
		b, _ := eng.Breaker(payments)
		calls(t, b, 0, repeat(100, slo.Neutral)...)
		checkState(t, b, slo.BreakerClosed)
		calls(t, b, 0, repeat(4, slo.Bad, slo.Neutral)...)
		checkState(t, b, slo.BreakerClosed)
		calls(t, b, 0, slo.Bad) // the fifth failure in a row
		checkState(t, b, slo.BreakerOpen)

		// A success does end the run.
		eng2 := newEngine(t, paymentsObjectives)
		b2, _ := eng2.Breaker(payments)
		calls(t, b2, 0, repeat(4, slo.Bad)...)
		calls(t, b2, 0, slo.Good)
		calls(t, b2, 0, repeat(4, slo.Bad)...)
		checkState(t, b2, slo.BreakerClosed)

		// A neutral probe leaves the breaker half-open and lets another
		// probe through.
		time.Sleep(10*time.Second + time.Millisecond)
		calls(t, b, 0, slo.Neutral)
		checkState(t, b, slo.BreakerHalfOpen)
		calls(t, b, 0, slo.Good)
		checkState(t, b, slo.BreakerClosed)

		eng.Tick(time.Now())
		o := objectiveStatus(t, eng.Status(), paymentsAvailability)
		if want := (budget.Counts{Good: 1, Bad: 5}); o.Totals != want || o.Neutral != 105 {
			t.Errorf("Totals, Neutral = %+v, %d, want %+v, 105", o.Totals, o.Neutral, want)
		}
	})
}

// TestBreakerBurn checks that a fast burn of the dependency's objectives,
// with enough calls in the control window, opens the breaker at the next
// failure, before any run of consecutive failures.
func TestBreakerBurn(t *testing.T) {
	good, bad := slo.Good, slo.Bad
	tests := []struct {
		name    string
		latency time.Duration
		calls   []slo.Outcome
		burning bool
		known   bool
		burn    [2]float64 // ControlBurn of availability (99.9%) and latency (99%)
	}{
		{"every third call fails", 10 * time.Millisecond, repeat(10, good, good, bad), true, true,
			[2]float64{10.0 / 30 / 0.001, 10.0 / 30 / 0.01}},
		{"too few calls", 10 * time.Millisecond, repeat(6, good, good, bad), false, false,
			[2]float64{6.0 / 18 / 0.001, 6.0 / 18 / 0.01}},
		{"slow calls", time.Second, repeat(30, good), true, true,
			[2]float64{0, 1 / 0.01}},
		{"a slow burn", 10 * time.Millisecond, append(repeat(99, good), bad), false, true,
			[2]float64{1.0 / 100 / 0.001, 1.0 / 100 / 0.01}}, // 10 and 1: under 14.4
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t, paymentsObjectives)
				b, _ := eng.Breaker(payments)
				eng.Tick(time.Now())
				calls(t, b, tt.latency, tt.calls...)
				// Never five failures in a row, and the burn is not known
				// before the evaluation.
				checkState(t, b, slo.BreakerClosed)

				time.Sleep(time.Second)
				eng.Tick(time.Now())
				st := eng.Status()
				if got := st.Breakers[0]; got.Burning != tt.burning || got.State != slo.BreakerClosed {
					t.Errorf("Status().Breakers[0] = %+v, want closed, Burning %v", got, tt.burning)
				}
				for i, name := range []string{paymentsAvailability, paymentsLatency} {
					o := objectiveStatus(t, st, name)
					if o.ControlKnown != tt.known || !near(o.ControlBurn, tt.burn[i]) {
						t.Errorf("%s ControlKnown, ControlBurn = %v, %v, want %v, %v", name, o.ControlKnown, o.ControlBurn, tt.known, tt.burn[i])
					}
				}

				calls(t, b, tt.latency, slo.Good)
				checkState(t, b, slo.BreakerClosed) // successes never open it
				calls(t, b, tt.latency, slo.Bad)
				want := slo.BreakerClosed
				if tt.burning {
					want = slo.BreakerOpen
				}
				checkState(t, b, want)
				if !tt.burning {
					return
				}

				// The flag follows the window: once the burn has left it,
				// a failure no longer opens the breaker.
				time.Sleep(10*time.Second + time.Millisecond) // the open timeout
				calls(t, b, 10*time.Millisecond, slo.Good)    // the probe closes it
				checkState(t, b, slo.BreakerClosed)
				eng.Tick(time.Now())
				if got := eng.Status().Breakers[0]; got.Burning {
					t.Errorf("Status().Breakers[0] 10s later = %+v, want not burning", got)
				}
				calls(t, b, 10*time.Millisecond, slo.Bad)
				checkState(t, b, slo.BreakerClosed)
			})
		})
	}
}

// TestBreakerConcurrent calls through a breaker from many goroutines while
// the evaluation loop runs, the breaker opens, probes and closes; with
// -race it checks the breaker, its event queue and the loop against each
// other, and that every call is recorded exactly once.
func TestBreakerConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var events []slo.Event
		eng, err := slo.New(paymentsObjectives, options(
			slo.WithInterval(50*time.Millisecond),
			slo.WithBreakers(slo.BreakerPolicy{ConsecutiveFailures: 3, OpenTimeout: 20 * time.Millisecond}),
			slo.WithEventHandler(func(ev slo.Event) {
				mu.Lock()
				events = append(events, ev)
				mu.Unlock()
			}),
		)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(); err != nil {
			t.Fatal(err)
		}
		b, _ := eng.Breaker(payments)
		const goroutines, perGoroutine = 8, 1000
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range perGoroutine {
					o := slo.Good
					if (i/50+g)%3 == 0 { // runs of failures
						o = slo.Bad
					}
					if done, err := b.Allow(); err == nil {
						done(o, time.Millisecond)
					}
					if i%10 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		time.Sleep(100 * time.Millisecond) // one more evaluation
		synctest.Wait()
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		st := eng.Status()
		for _, name := range []string{paymentsAvailability, paymentsLatency} {
			o := objectiveStatus(t, st, name)
			if got := o.Totals.Total() + o.Neutral; got != goroutines*perGoroutine {
				t.Errorf("%s: %+v and %d neutral = %d calls, want %d", name, o.Totals, o.Neutral, got, goroutines*perGoroutine)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		changes := breakerChanges(events)
		if len(changes) == 0 {
			t.Errorf("no breaker events, want the breaker to have opened")
		}
		// Each change starts where the previous one ended.
		var from slo.BreakerState = slo.BreakerClosed
		for _, ev := range events {
			if ev.Kind != slo.BreakerChanged {
				continue
			}
			if ev.BreakerFrom != from || ev.BreakerTo == from {
				t.Errorf("event %v after a change to %v, want a change from %v", ev, from, from)
			}
			from = ev.BreakerTo
		}
	})
}

func TestBreakerStrings(t *testing.T) {
	for _, tt := range []struct {
		in   slo.BreakerState
		want string
	}{{slo.BreakerClosed, "closed"}, {slo.BreakerHalfOpen, "half-open"}, {slo.BreakerOpen, "open"}, {7, "breaker_state(7)"}} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("BreakerState(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   slo.EventKind
		want string
	}{{slo.SheddingChanged, "shed_changed"}, {slo.BreakerChanged, "breaker_changed"}} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("EventKind(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   slo.Event
		want string
	}{
		{slo.Event{Kind: slo.SheddingChanged, FromLevel: 0, Level: 0.5}, "shed level 0.00 → 0.50"},
		{slo.Event{Kind: slo.SheddingChanged, FromLevel: 2.04, Level: 1.96}, "shed level 2.04 → 1.96"},
		{slo.Event{Kind: slo.BreakerChanged, Dependency: payments, BreakerFrom: slo.BreakerHalfOpen, BreakerTo: slo.BreakerOpen},
			"breaker payments: half-open → open"},
	} {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestShedBreakerLogs checks the log lines of shed and breaker events:
// warnings when shedding rises or a breaker opens, information otherwise.
func TestShedBreakerLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			},
		}))
		eng := newEngine(t, []slo.Objective{{Name: "a", Target: 0.999}, paymentsObjectives[1]},
			slo.WithLogger(logger), slo.WithShedding(slo.ShedPolicy{Hold: time.Second}),
			slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: time.Second}))
		b, _ := eng.Breaker(payments)
		eng.Tick(time.Now())
		record(t, eng, "a", slo.Bad, 0, 100)
		time.Sleep(time.Second)
		eng.Tick(time.Now()) // level 0.5
		calls(t, b, 0, repeat(5, slo.Bad)...)
		time.Sleep(6 * time.Second) // the burn leaves the window; the breaker may probe
		eng.Tick(time.Now())        // calm from here; half-open
		calls(t, b, 0, slo.Good)
		time.Sleep(time.Second)
		eng.Tick(time.Now()) // the hold ends; closed
		time.Sleep(time.Second)
		eng.Tick(time.Now()) // level 0

		var got []string
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if strings.Contains(line, "shed") || strings.Contains(line, "breaker") {
				got = append(got, line)
			}
		}
		want := []string{
			`level=WARN msg="sloguard: shed level changed" from=0 to=0.5`,
			`level=WARN msg="sloguard: breaker state changed" dependency=payments from=closed to=open`,
			`level=INFO msg="sloguard: breaker state changed" dependency=payments from=open to=half-open`,
			`level=INFO msg="sloguard: breaker state changed" dependency=payments from=half-open to=closed`,
			`level=INFO msg="sloguard: shed level changed" from=0.5 to=0`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("log lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// BenchmarkBreakerAllow measures one call through a closed breaker: Allow,
// then done. Unlike Admit it takes gobreaker's mutex twice and allocates
// the two done closures (gobreaker's and the Breaker's).
func BenchmarkBreakerAllow(b *testing.B) {
	eng := newEngine(b, paymentsObjectives)
	br, err := eng.Breaker(payments)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if done, err := br.Allow(); err == nil {
				done(slo.Good, time.Millisecond)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if done, err := br.Allow(); err == nil {
					done(slo.Good, time.Millisecond)
				}
			}
		})
	})
}
