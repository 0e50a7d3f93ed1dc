package slo

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/mono"
)

// BreakerPolicy configures the circuit breakers of outbound dependencies.
// Zero fields mean their documented defaults.
//
// Every dependency named by an Objective's Dependency field gets one
// breaker (a gobreaker two-step breaker). It opens on the usual signal,
// ConsecutiveFailures failed calls in a row, and also at the next failed
// call once the dependency's objectives burn fast: the burn rate of the
// calls made over Window reaching the objective's fastest page threshold
// (14.4 for 30 days), with at least MinEvents calls. After OpenTimeout it
// lets HalfOpenRequests probe calls through, and closes when they succeed.
type BreakerPolicy struct {
	// Window is the trailing window of the burn-rate signal, from one
	// second to a day. By default, 10s.
	Window time.Duration
	// ConsecutiveFailures opens the breaker after that many failed calls in
	// a row, at most math.MaxUint32. By default, 5.
	ConsecutiveFailures uint32
	// OpenTimeout is how long the breaker stays open before probing, at
	// most a day. By default, 10s.
	OpenTimeout time.Duration
	// HalfOpenRequests is how many probe calls a half-open breaker lets
	// through, at most math.MaxUint32. By default, 1.
	HalfOpenRequests uint32
	// MinEvents is the least number of calls in the signal window before
	// the burn rate may open the breaker, at most 1e9. By default, 20.
	MinEvents uint64
}

func (p BreakerPolicy) withDefaults() BreakerPolicy {
	if p.Window == 0 {
		p.Window = 10 * time.Second
	}
	if p.ConsecutiveFailures == 0 {
		p.ConsecutiveFailures = 5
	}
	if p.OpenTimeout == 0 {
		p.OpenTimeout = 10 * time.Second
	}
	if p.HalfOpenRequests == 0 {
		p.HalfOpenRequests = 1
	}
	if p.MinEvents == 0 {
		p.MinEvents = 20
	}
	return p
}

func (p BreakerPolicy) validate() error {
	var errs []error
	switch {
	case p.OpenTimeout < 0:
		errs = append(errs, fmt.Errorf("%w: breaker open timeout %v is negative", ErrInvalidOption, p.OpenTimeout))
	case p.OpenTimeout > maxBreakerDur:
		errs = append(errs, fmt.Errorf("%w: breaker open timeout %v is longer than %v", ErrInvalidOption, p.OpenTimeout, maxBreakerDur))
	}
	switch {
	case p.Window < time.Second:
		errs = append(errs, fmt.Errorf("%w: breaker window %v is shorter than one second", ErrInvalidOption, p.Window))
	case p.Window > maxBreakerDur:
		errs = append(errs, fmt.Errorf("%w: breaker window %v is longer than %v", ErrInvalidOption, p.Window, maxBreakerDur))
	}
	if p.MinEvents > maxMinEvents {
		errs = append(errs, fmt.Errorf("%w: breaker min events %d is more than %g", ErrInvalidOption, p.MinEvents, float64(maxMinEvents)))
	}
	return errors.Join(errs...)
}

// BreakerState is the state of a dependency's circuit breaker.
//
// The zero BreakerState is BreakerClosed.
type BreakerState uint8

const (
	// BreakerClosed lets calls through.
	BreakerClosed BreakerState = iota
	// BreakerHalfOpen lets a few probe calls through.
	BreakerHalfOpen
	// BreakerOpen fails calls fast with ErrBreakerOpen.
	BreakerOpen
)

var breakerStateNames = [...]string{"closed", "half-open", "open"}

// String returns "closed", "half-open" or "open".
func (s BreakerState) String() string {
	if int(s) < len(breakerStateNames) {
		return breakerStateNames[s]
	}
	return fmt.Sprintf("breaker_state(%d)", uint8(s))
}

func breakerStateOf(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	}
	return BreakerClosed
}

// ErrBreakerOpen is wrapped by the error of a call that a dependency's
// breaker rejected. The error is a *BreakerError, which says when to
// retry. Server middleware turns it into HTTP 503 or gRPC UNAVAILABLE.
var ErrBreakerOpen = errors.New("slo: circuit breaker open")

// BreakerError is the error of a call rejected by an open (or saturated
// half-open) breaker. It matches ErrBreakerOpen with errors.Is.
//
// The zero BreakerError names no dependency and no delay; its Error and Is
// work all the same.
type BreakerError struct {
	Dependency string
	// RetryAfter is how long until the breaker lets a probe through; from
	// one second to a day.
	RetryAfter time.Duration
}

func (e *BreakerError) Error() string {
	return fmt.Sprintf("slo: circuit breaker of %q open, retry after %v", e.Dependency, e.RetryAfter)
}

// Is reports whether target is ErrBreakerOpen.
func (e *BreakerError) Is(target error) bool { return target == ErrBreakerOpen }

// errCallFailed and errCallNeutral tell gobreaker how a call ended.
var (
	errCallFailed  = errors.New("slo: call failed")
	errCallNeutral = errors.New("slo: call neutral")
)

// Breaker guards calls to one outbound dependency and records them in the
// dependency's objectives.
//
// A Breaker is safe for concurrent use.
//
// The zero Breaker is not usable: a Breaker comes from Engine.Breaker.
type Breaker struct {
	name    string
	route   *Route // the dependency's Route, with this breaker
	recs    []*Recorder
	cb      *gobreaker.TwoStepCircuitBreaker[struct{}]
	timeout time.Duration
	burning atomic.Bool  // the dependency's objectives burn fast; set by the evaluation
	openAt  atomic.Int64 // Unix nanoseconds of the latest opening, by now
	now     func() time.Time
}

// breakerEvents queues breaker state changes, which gobreaker reports under
// its own lock, until the evaluation goroutine dispatches them.
type breakerEvents struct {
	mu      sync.Mutex
	pending []Event // guarded by mu
}

func (q *breakerEvents) push(ev Event) {
	q.mu.Lock()
	if len(q.pending) < 1024 { // bounded: a flapping breaker must not grow memory
		q.pending = append(q.pending, ev)
	}
	q.mu.Unlock()
}

func (q *breakerEvents) drain() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.pending
	q.pending = nil
	return out
}

// newBreaker returns the breaker of dependency name; now is the engine's
// clock, which stamps its events and times its retry hints.
func newBreaker(e *Engine, name string, recs []*Recorder, p BreakerPolicy, q *breakerEvents, now func() time.Time) *Breaker {
	b := &Breaker{name: name, recs: recs, timeout: p.OpenTimeout, now: now}
	b.route = &Route{e: e, recs: recs, crit: Critical, breaker: b}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: p.HalfOpenRequests,
		Timeout:     p.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= p.ConsecutiveFailures || b.burning.Load()
		},
		IsExcluded: func(err error) bool { return err == errCallNeutral },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			// Called under gobreaker's lock: only note it here.
			now := b.now()
			if to == gobreaker.StateOpen {
				b.openAt.Store(now.UnixNano())
			}
			q.push(Event{
				Time:        now,
				Kind:        BreakerChanged,
				Dependency:  name,
				BreakerFrom: breakerStateOf(from),
				BreakerTo:   breakerStateOf(to),
			})
		},
	})
	return b
}

// Name returns the dependency's name.
func (b *Breaker) Name() string { return b.name }

// State returns the breaker's state.
func (b *Breaker) State() BreakerState { return breakerStateOf(b.cb.State()) }

// admit is Route.Admit for the dependency's Route.
func (b *Breaker) admit(r *Route) (Ticket, time.Duration, bool) {
	report, err := b.cb.Allow()
	if err != nil {
		x := r.e.shards.get()
		r.shed(x)
		return Ticket{}, b.retryAfter(b.now()), false
	}
	return Ticket{r: r, band: -1, start: mono.Now(), report: report}, 0, true
}

// breakerResult tells gobreaker how a call ended. Errors count as
// failures; slowness reaches the breaker through the burn rate of the
// dependency's latency objectives.
func breakerResult(o budget.Outcome) error {
	switch o {
	case budget.Bad:
		return errCallFailed
	case budget.Neutral:
		return errCallNeutral
	}
	return nil
}

// Admit asks whether a call to the dependency may go ahead: the breaker's
// side of the admission core (see Route). If so, it returns the call's
// Ticket: make the call, then end the ticket with the call's outcome
// (see CallOutcome), which records it in the dependency's objectives and
// reports it to the breaker. If not, the rejection is recorded as Shed and
// the error wraps ErrBreakerOpen (a *BreakerError, with the breaker's
// remaining open time): the call must not be made.
func (b *Breaker) Admit() (Ticket, error) {
	t, retry, ok := b.route.Admit(Critical)
	if !ok {
		return t, &BreakerError{Dependency: b.name, RetryAfter: retry}
	}
	return t, nil
}

// Allow is Admit for callers that measure the latency themselves: done
// records the call's outcome and latency. Admit is the same without a
// closure.
func (b *Breaker) Allow() (done func(o budget.Outcome, latency time.Duration), err error) {
	t, err := b.Admit()
	if err != nil {
		return nil, err
	}
	return t.doneAfter, nil
}

// retryAfter returns how long until the open breaker probes again, from one
// second to maxRetryAfter. Sub and Round saturate, so nothing wraps around.
func (b *Breaker) retryAfter(now time.Time) time.Duration {
	d := time.Unix(0, b.openAt.Load()).Add(b.timeout).Sub(now)
	return min(max(d.Round(time.Second), time.Second), maxRetryAfter)
}
