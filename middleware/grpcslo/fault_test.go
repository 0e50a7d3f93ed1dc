package grpcslo_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// TestDependencyHangs injects a dependency that never answers into a gRPC
// service. Its calls, bounded by the handler's deadline, are each recorded
// Bad once; the service's other methods keep serving while they hang; once
// the dependency's burn rate is known, the next failure opens the breaker
// and later calls fail fast, UNAVAILABLE, without reaching the dependency.
func TestDependencyHangs(t *testing.T) {
	const (
		hung     = 6 // calls in flight at once
		deadline = 300 * time.Millisecond
	)
	// Only the burn rate opens the breaker here, not failures in a row.
	eng := newEngine(t, slo.WithBreakers(slo.BreakerPolicy{ConsecutiveFailures: 1000, MinEvents: hung}))
	var arrived atomic.Int64
	arrivals := make(chan struct{}, 100)
	depConn := serve(t, &shop{unary: func(ctx context.Context, _ string) (string, error) {
		arrived.Add(1)
		arrivals <- struct{}{}
		<-ctx.Done() // hangs until its client gives up
		return "", ctx.Err()
	}}, nil, withClient(newClient(t, eng))...)

	svc := newServer(t, eng, grpcslo.WithMethod(mCheckout, checkoutAvail), grpcslo.WithMethod(mBrowse, browseAvail))
	conn := serve(t, &shop{unary: func(ctx context.Context, in string) (string, error) {
		if in != "pay" {
			return "items", nil
		}
		ctx, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		return call(ctx, depConn, mCheckout, "")
	}}, withSloguard(svc, true))
	ctx := t.Context()

	var wg sync.WaitGroup
	errs := make(chan error, hung)
	for range hung {
		wg.Go(func() {
			_, err := call(ctx, conn, mCheckout, "pay")
			errs <- err
		})
	}
	for range hung {
		<-arrivals // every call is in flight, hanging
	}
	for i := range 20 {
		if got, err := call(ctx, conn, mBrowse, ""); got != "items" || err != nil {
			t.Errorf("Browse %d while the dependency hangs = %q, %v; want \"items\", nil", i, got, err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("Checkout (hung call) error = %v, want DEADLINE_EXCEEDED", err)
		}
	}
	checkTotals(t, eng, map[string]tally{
		paymentsAvail:   {Bad: hung},
		paymentsLatency: {Bad: hung},
		checkoutAvail:   {Bad: hung},
		browseAvail:     {Good: 20},
	})
	b, _ := eng.Breaker("payments")
	if st := eng.Status().Breakers; len(st) != 1 || !st[0].Burning || b.State() != slo.BreakerClosed {
		t.Fatalf("Status().Breakers = %+v, breaker %v; want burning, closed", st, b.State())
	}

	// The next failure opens the breaker on the burn.
	if _, err := call(ctx, conn, mCheckout, "pay"); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Checkout error = %v, want DEADLINE_EXCEEDED", err)
	}
	<-arrivals
	if got := b.State(); got != slo.BreakerOpen {
		t.Fatalf("breaker after a failure while burning = %v, want open", got)
	}
	// Then calls fail fast without reaching the dependency.
	for range 3 {
		_, err := call(ctx, conn, mCheckout, "pay")
		if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "dependency unavailable" {
			t.Errorf("Checkout with the breaker open: error = %v, want UNAVAILABLE \"dependency unavailable\"", err)
		}
	}
	if n := arrived.Load(); n != hung+1 {
		t.Errorf("dependency reached %d times, want %d", n, hung+1)
	}
	checkTotals(t, eng, map[string]tally{
		paymentsAvail:   {Bad: hung + 1, Shed: 3},
		paymentsLatency: {Bad: hung + 1, Shed: 3},
		checkoutAvail:   {Bad: hung + 1, Shed: 3},
		browseAvail:     {Good: 20},
	})
}

// TestCloseWhileServing closes a started engine while calls and a stream
// are in their handlers: they complete normally, calls after Close are
// served too, nothing panics, and every call is recorded exactly once.
func TestCloseWhileServing(t *testing.T) {
	const inFlight = 8
	eng := newEngine(t, slo.WithShedding(slo.ShedPolicy{}), slo.WithInterval(50*time.Millisecond))
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, inFlight+1)
	release := make(chan struct{})
	s := newServer(t, eng,
		grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency),
		grpcslo.WithMethod(mBrowse, browseAvail),
		grpcslo.WithMethodCriticality(mBrowse, slo.Sheddable),
		grpcslo.WithDefault(serviceAvail),
	)
	conn := serve(t, &shop{
		unary: func(ctx context.Context, in string) (string, error) {
			if in == "slow" {
				entered <- struct{}{}
				<-release
			}
			return "done", nil
		},
		watch: func(ctx context.Context, _ string, send func(string) error) error {
			entered <- struct{}{}
			<-release
			return send("done")
		},
	}, withSloguard(s, true))
	ctx := t.Context()

	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			if got, err := call(ctx, conn, mCheckout, "slow"); got != "done" || err != nil {
				t.Errorf("Checkout across Close = %q, %v; want \"done\", nil", got, err)
			}
		})
	}
	wg.Go(func() {
		if msgs, _, err := watch(ctx, conn, ""); len(msgs) != 1 || err != nil {
			t.Errorf("Watch across Close = %q, %v; want [done], nil", msgs, err)
		}
	})
	for range inFlight + 1 {
		<-entered
	}
	if got, err := call(ctx, conn, mBrowse, ""); got != "done" || err != nil {
		t.Errorf("Browse before Close = %q, %v; want \"done\", nil", got, err)
	}
	if err := eng.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := eng.Start(); !errors.Is(err, slo.ErrClosed) {
		t.Errorf("Start() after Close = %v, want ErrClosed", err)
	}
	close(release)
	wg.Wait()
	for i := range 5 {
		if got, err := call(ctx, conn, mBrowse, ""); got != "done" || err != nil {
			t.Errorf("Browse %d after Close = %q, %v; want \"done\", nil", i, got, err)
		}
	}
	checkTotals(t, eng, map[string]tally{
		checkoutAvail:   {Good: inFlight},
		checkoutLatency: {Good: inFlight},
		browseAvail:     {Good: 6},
		serviceAvail:    {Good: 1},
	})
}
