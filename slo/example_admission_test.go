package slo_test

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/slo"
)

// The two-step admission core that the HTTP and gRPC middleware use,
// called directly, as a transport of your own would (a queue consumer, a
// custom protocol): resolve the Route once, then per request Admit, serve,
// and end the Ticket with the outcome.
func ExampleRoute() {
	eng, err := slo.New([]slo.Objective{{Name: "jobs-availability", Target: 0.99}},
		slo.WithShedding(slo.ShedPolicy{}), // the defaults
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	// Once, at wiring time: the objectives and the default criticality.
	jobs, err := eng.Route(slo.Critical, "jobs-availability")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Per request: admit, serve, end the ticket exactly once.
	handle := func(c slo.Criticality, work func() error) {
		ticket, retryAfter, ok := jobs.Admit(c)
		if !ok { // recorded as Shed by the core; answer at once
			fmt.Printf("%v: rejected, retry after %v\n", c, retryAfter)
			return
		}
		outcome := slo.Bad // a panic in work counts as Bad and goes on
		defer ticket.Settle(&outcome)
		outcome = slo.OutcomeOf(work())
		fmt.Printf("%v: %v\n", c, outcome)
	}
	ok := func() error { return nil }
	failing := func() error { return errors.New("jobs: store unreachable") }

	start := time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)
	handle(slo.Sheddable, ok)
	eng.Tick(start)

	// Every job fails, in a way the gate can not see: recorded straight
	// into the objective (failures admitted one at a time, far below the
	// gate's limit, are no overload, and the controller holds; see
	// ShedPolicy). A started engine evaluates by itself; here, by hand with
	// fixed times. Each evaluation at which admitted traffic still burns
	// moves the shed level up half a band: SHEDDABLE goes first.
	for i := 1; i <= 3; i++ {
		for range 50 {
			_ = eng.Record("jobs-availability", slo.OutcomeOf(failing()), 10*time.Millisecond)
		}
		eng.Tick(start.Add(time.Duration(i) * time.Second))
	}
	fmt.Println("shed level:", eng.Status().Shedding.Level)

	handle(slo.Sheddable, ok)
	handle(slo.Critical, ok)

	eng.Tick(start.Add(4 * time.Second))
	o := eng.Status().Objectives[0]
	fmt.Printf("%s: good %d, bad %d, shed %d\n", o.Objective.Name, o.Totals.Good, o.Totals.Bad, o.Totals.Shed)
	// Output:
	// SHEDDABLE: good
	// shed level: 1.5
	// SHEDDABLE: rejected, retry after 8s
	// CRITICAL: good
	// jobs-availability: good 2, bad 150, shed 1
}

// A dependency's circuit breaker, called directly for a client the
// middleware does not cover (a database driver, an SDK): Admit before the
// call, end the ticket with the call's outcome, and do not call while the
// breaker says no.
func ExampleBreaker() {
	eng, err := slo.New([]slo.Objective{
		{Name: "ledger-availability", Target: 0.99, Dependency: "ledger"},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	ledger, err := eng.Breaker("ledger")
	if err != nil {
		fmt.Println(err)
		return
	}

	down := false
	post := func() error { // the call to the dependency
		if down {
			return errors.New("ledger: connection refused")
		}
		return nil
	}
	call := func() {
		ticket, err := ledger.Admit()
		if err != nil { // the call is not made; the rejection is recorded as Shed
			if be, ok := errors.AsType[*slo.BreakerError](err); ok {
				// RetryAfter counts down on the wall clock from the
				// breaker's 10s timeout.
				fmt.Printf("rejected by %s (%v), retry within 10s: %v\n", be.Dependency, errors.Is(err, slo.ErrBreakerOpen), be.RetryAfter > 0 && be.RetryAfter <= 10*time.Second)
			}
			return
		}
		err = post()
		ticket.Done(slo.OutcomeOf(err))
		fmt.Printf("called: %v, breaker %v\n", slo.OutcomeOf(err), ledger.State())
	}

	call()
	down = true
	for range 5 { // five failures in a row open the breaker (BreakerPolicy)
		call()
	}
	call()

	eng.Tick(time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC))
	o := eng.Status().Objectives[0]
	fmt.Printf("%s: good %d, bad %d, shed %d\n", o.Objective.Name, o.Totals.Good, o.Totals.Bad, o.Totals.Shed)
	// Output:
	// called: good, breaker closed
	// called: bad, breaker closed
	// called: bad, breaker closed
	// called: bad, breaker closed
	// called: bad, breaker closed
	// called: bad, breaker open
	// rejected by ledger (true), retry within 10s: true
	// ledger-availability: good 1, bad 5, shed 1
}
