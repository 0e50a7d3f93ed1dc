package slo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/mono"
)

// Route is the admission core of one HTTP route, gRPC method or outbound
// dependency: resolved once, when the middleware is wired, and used by
// every request. It is two-step, like a two-step circuit breaker: Admit
// decides whether a request may start and returns a Ticket, and the
// Ticket's Done records how it ended. In between, the request counts as
// in flight for the concurrency gate (see ShedPolicy).
//
// Transports (package middleware for HTTP, middleware/grpcslo for gRPC)
// only translate: they find the request's criticality, call Admit, answer
// a rejection with their status codes and headers, and pass the outcome
// to Done. Everything else happens here, in one place: demand and
// in-flight counting, the admit or shed decision, recording Shed for a
// rejection, the latency thresholds, a panic counted as Bad, and a
// request that failed because a dependency's breaker was open counted as
// Shed (HandlerOutcome), and for clients the one classification of a
// dependency's answers (CallOutcome).
//
// A Route is safe for concurrent use. Admit and Done take no lock and
// allocate nothing.
//
// The zero Route is not usable: a Route comes from Engine.Route.
type Route struct {
	e       *Engine
	recs    []*Recorder
	crit    Criticality
	breaker *Breaker // for a dependency's Route; nil for a server's
}

// Route returns the Route of a server route or method whose requests are
// recorded in the named objectives and have criticality crit unless the
// transport knows better (a trusted header, the context). No names is a
// route that is admitted and counted in flight but recorded nowhere. The
// error lists every problem: a name no objective has
// (ErrUnknownObjective), a name given twice, and an objective of a
// Dependency, whose events belong to that dependency's Breaker.
func (e *Engine) Route(crit Criticality, objectives ...string) (*Route, error) {
	var errs []error
	if !crit.Valid() {
		errs = append(errs, fmt.Errorf("%w: criticality %v is not a level", ErrInvalidOption, crit))
	}
	recs, err := e.recorders(objectives...)
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = append(errs, j.Unwrap()...) // one problem each
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Route{e: e, recs: recs, crit: crit}, nil
}

// Criticality returns the route's own criticality.
func (r *Route) Criticality() Criticality { return r.crit }

// Ticket is one request admitted by a Route. It is a small value: pass it
// on, and call Done (or Settle) exactly once. The zero Ticket records
// nothing.
type Ticket struct {
	r      *Route
	start  time.Duration // mono
	band   int8          // counted in flight in this band; -1 if not
	report func(error)   // the breaker's, for a dependency's Route
}

// Admit decides whether a request of criticality c may start. If so, it
// returns its Ticket and true. If not, it records the request as Shed in
// the route's objectives and returns the time after which the client may
// retry, and false: answer at once, with HTTP 429 or gRPC
// RESOURCE_EXHAUSTED for a server's Route (the service is overloaded) and
// with an error that wraps ErrBreakerOpen for a dependency's Route (its
// breaker is open).
//
// A server's request is rejected by the shed level of the controller or
// by the concurrency gate, both only with shedding on (see WithShedding);
// without, Admit admits everything and counts nothing in flight.
func (r *Route) Admit(c Criticality) (Ticket, time.Duration, bool) {
	if r.breaker != nil {
		return r.breaker.admit(r)
	}
	e := r.e
	t := Ticket{r: r, band: -1}
	if e.gate == nil {
		t.start = mono.Now()
		return t, 0, true
	}
	if !c.Valid() {
		c = Critical
	}
	b := c.Index()
	x := e.shards.get()
	d := e.decision.Load()
	if p := d.reject[b]; p > 0 && (p >= 1 || rand.Float64() < p) {
		x.add(offArrived+b, 1)
		x.add(offRejected+b, 1)
		r.shed(x)
		return Ticket{}, d.retry[b], false
	}
	now := mono.Now()
	if !e.gate.enter(x, b, int64(now)) {
		r.shed(x)
		return Ticket{}, gateRetry, false
	}
	t.band = int8(b)
	t.start = now
	return t, 0, true
}

// gateRetry is the retry hint of a request the gate rejected: the gate
// admits again as soon as requests complete, so the next second will do.
const gateRetry = time.Second

// shed records a rejected request as Shed in the route's objectives.
func (r *Route) shed(x *shard) {
	for _, rec := range r.recs {
		rec.add(x, budget.Shed)
	}
}

// Done ends the request with outcome o, measuring its latency from Admit:
// it records the outcome in the route's objectives (for a latency
// objective, a Good or Neutral request slower than the threshold counts
// as Bad), ends it in the concurrency gate and, for a dependency's Route,
// reports it to the breaker (Bad counts as a failure, Neutral not at all).
func (t Ticket) Done(o budget.Outcome) {
	if t.r != nil {
		t.end(o, mono.Now())
	}
}

// doneAfter is Done with the latency measured by the caller.
func (t Ticket) doneAfter(o budget.Outcome, latency time.Duration) {
	if t.r != nil {
		t.start = mono.Now() - latency
		t.end(o, t.start+latency)
	}
}

func (t Ticket) end(o budget.Outcome, now time.Duration) {
	r := t.r
	latency := now - t.start
	e := r.e
	x := e.shards.get()
	for _, rec := range r.recs {
		rec.add(x, rec.judge(o, latency))
	}
	if t.band >= 0 {
		e.gate.exit(x, int(t.band), int64(latency), int64(now), o == budget.Good)
	}
	if t.report != nil {
		t.report(breakerResult(o))
	}
}

// Settle is Done for deferring around a handler: it ends the request with
// *o, which the caller sets once the handler returned. Initialise *o to
// Bad, and a handler that panics is counted as Bad while the panic goes
// on:
//
//	outcome := budget.Bad
//	defer ticket.Settle(&outcome)
//	err := handler()
//	outcome = slo.OutcomeOf(err)
func (t Ticket) Settle(o *budget.Outcome) { t.Done(*o) }

// HandlerOutcome returns the outcome of a request whose handler returned err: Shed
// when err says a dependency's breaker was open (it wraps ErrBreakerOpen;
// the service did not fail, and a dependency that is down must not drive
// load shedding), else o, the transport's own classification. The retry
// hint is the breaker's, 0 if err does not say.
func HandlerOutcome(err error, o budget.Outcome) (budget.Outcome, time.Duration) {
	if err == nil || !errors.Is(err, ErrBreakerOpen) {
		return o, 0
	}
	if be, ok := errors.AsType[*BreakerError](err); ok {
		return budget.Shed, be.RetryAfter
	}
	return budget.Shed, 0
}

// Reroute returns the ticket recording into r's objectives instead: for a
// transport that finds the request's route only once the handler has run
// (a router that routes inside the handler). Everything else, the time
// and the slot in the gate, stays the ticket's.
func (t Ticket) Reroute(r *Route) Ticket {
	if t.r != nil && r != nil && r.e == t.r.e && r.breaker == nil {
		t.r = r
	}
	return t
}

// Shedding reports whether shedding is on (see WithShedding): whether
// Route.Admit may reject a server's request, so that a transport must know
// its criticality first.
func (e *Engine) Shedding() bool { return e.gate != nil }

// Reply is how a dependency answered a call, in the terms HTTP and gRPC
// share; CallOutcome turns it into the call's Outcome. The client
// middleware translates status codes and errors into a Reply.
//
// The zero Reply is Served.
type Reply uint8

const (
	// Served: the dependency answered, rightly or with the caller's own
	// error (HTTP 1xx to 4xx but 429; gRPC OK and codes such as
	// INVALID_ARGUMENT or NOT_FOUND).
	Served Reply = iota
	// Failed: the dependency failed or was too slow (HTTP 5xx, a
	// transport error, a deadline; gRPC UNKNOWN, DEADLINE_EXCEEDED,
	// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).
	Failed
	// Refused: the dependency turned the call away by its own choice, load
	// shedding or a quota (HTTP 429; gRPC RESOURCE_EXHAUSTED).
	Refused
	// Abandoned: the caller gave up (context.Canceled; gRPC CANCELLED).
	Abandoned
)

// CallOutcome is the one classifier of calls to a dependency, for every
// transport: Served is Good, Failed is Bad, Abandoned is Neutral, and
// Refused is Shed. A refusal spends the dependency's budget (the call was
// not served) but is no failure for its breaker, nor part of the burn rate
// that opens it: a dependency that sheds only its SHEDDABLE traffic must
// not see its CRITICAL traffic cut off by its callers' breakers.
func CallOutcome(r Reply) budget.Outcome {
	switch r {
	case Failed:
		return budget.Bad
	case Refused:
		return budget.Shed
	case Abandoned:
		return budget.Neutral
	}
	return budget.Good
}
