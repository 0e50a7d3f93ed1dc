package middleware_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// getStatus sends a GET to url and returns the status code.
func getStatus(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestDependencyHangs injects a dependency that never answers into a
// service over loopback. Its calls, bounded by the handler's deadline, are
// each recorded Bad once; its other routes keep serving while they hang;
// once the dependency's burn rate is known, the next failure opens the
// breaker and later calls fail fast, without reaching the dependency.
func TestDependencyHangs(t *testing.T) {
	const (
		hung     = 6                      // calls in flight at once
		deadline = 300 * time.Millisecond // the handler's, for its dependency call
	)
	// Only the burn rate opens the breaker here, not failures in a row.
	eng, err := slo.New(append(slices.Clone(testObjectives), slo.Objective{Name: paymentsAvail, Target: 0.99, Dependency: "payments"}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithBreakers(slo.BreakerPolicy{ConsecutiveFailures: 1000, MinEvents: hung}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	var arrived atomic.Int64
	arrivals := make(chan struct{}, 100)
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		arrivals <- struct{}{}
		<-r.Context().Done() // hangs until its client gives up
	}))
	t.Cleanup(dep.Close)
	payments := &http.Client{Transport: newTransport(t, eng, dep.Client().Transport)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /pay", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), deadline)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", dep.URL, nil)
		resp, err := payments.Do(req)
		if err != nil {
			middleware.WriteError(w, err)
			return
		}
		resp.Body.Close()
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "items") })
	svc := httptest.NewServer(newServer(t, eng,
		middleware.WithRoute("GET /pay", checkoutAvail),
		middleware.WithRoute("GET /items", browseAvail),
	).Wrap(mux))
	t.Cleanup(svc.Close)
	client := svc.Client()

	var wg sync.WaitGroup
	codes := make(chan int, hung)
	for range hung {
		wg.Go(func() { codes <- getStatus(t, client, svc.URL+"/pay") })
	}
	for range hung {
		<-arrivals // every call is in flight, hanging
	}
	for i := range 20 {
		if got := getStatus(t, client, svc.URL+"/items"); got != http.StatusOK {
			t.Errorf("GET /items %d while the dependency hangs = %d, want 200", i, got)
		}
	}
	wg.Wait()
	close(codes)
	for got := range codes {
		if got != http.StatusInternalServerError {
			t.Errorf("GET /pay (hung call) = %d, want 500", got)
		}
	}
	checkTotals(t, eng, map[string]tally{
		paymentsAvail: {Bad: hung},
		checkoutAvail: {Bad: hung},
		browseAvail:   {Good: 20},
	})
	b, _ := eng.Breaker("payments")
	if st := eng.Status().Breakers; len(st) != 1 || !st[0].Burning || b.State() != slo.BreakerClosed {
		t.Fatalf("Status().Breakers = %+v, breaker %v; want burning, closed", st, b.State())
	}

	// The next failure opens the breaker on the burn.
	if got := getStatus(t, client, svc.URL+"/pay"); got != http.StatusInternalServerError {
		t.Errorf("GET /pay = %d, want 500", got)
	}
	<-arrivals
	if got := b.State(); got != slo.BreakerOpen {
		t.Fatalf("breaker after a failure while burning = %v, want open", got)
	}
	// Then calls fail fast, with 503, without reaching the dependency.
	for range 3 {
		if got := getStatus(t, client, svc.URL+"/pay"); got != http.StatusServiceUnavailable {
			t.Errorf("GET /pay with the breaker open = %d, want 503", got)
		}
	}
	if n := arrived.Load(); n != hung+1 {
		t.Errorf("dependency reached %d times, want %d", n, hung+1)
	}
	checkTotals(t, eng, map[string]tally{
		paymentsAvail: {Bad: hung + 1, Shed: 3},
		checkoutAvail: {Bad: hung + 1, Shed: 3},
		browseAvail:   {Good: 20},
	})
}

// TestCloseWhileServing closes a started engine while requests are in
// the handlers of a service over loopback: they complete normally,
// requests after Close are served too, nothing panics, and every request
// is recorded exactly once.
func TestCloseWhileServing(t *testing.T) {
	const inFlight = 8
	eng, err := slo.New(append(slices.Clone(testObjectives), slo.Objective{Name: overloadAvail, Target: 0.99}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithShedding(slo.ShedPolicy{}),
		slo.WithInterval(50*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, inFlight)
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "done")
	})
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") })
	svc := httptest.NewServer(newServer(t, eng,
		middleware.WithRoute("GET /slow", checkoutAvail, checkoutLatency),
		middleware.WithRoute("GET /fast", browseAvail),
		middleware.WithRouteCriticality("GET /fast", slo.Sheddable),
	).Wrap(mux))
	t.Cleanup(svc.Close)
	client := svc.Client()

	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			if got := getStatus(t, client, svc.URL+"/slow"); got != http.StatusOK {
				t.Errorf("GET /slow across Close = %d, want 200", got)
			}
		})
	}
	for range inFlight {
		<-entered
	}
	if got := getStatus(t, client, svc.URL+"/fast"); got != http.StatusOK {
		t.Errorf("GET /fast before Close = %d, want 200", got)
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
		if got := getStatus(t, client, svc.URL+"/fast"); got != http.StatusOK {
			t.Errorf("GET /fast %d after Close = %d, want 200", i, got)
		}
	}
	checkTotals(t, eng, map[string]tally{
		checkoutAvail:   {Good: inFlight},
		checkoutLatency: {Good: inFlight},
		browseAvail:     {Good: 6},
	})
}
