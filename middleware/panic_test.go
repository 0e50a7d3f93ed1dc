package middleware_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// roundTripFunc is a base RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answer returns a response with the given status and a body.
func answer(code int) *http.Response {
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(http.StatusText(code)))}
}

// roundTripPanic calls tr.RoundTrip and returns what it panicked with, or
// nil, and its error.
func roundTripPanic(tr http.RoundTripper) (recovered any, err error) {
	defer func() { recovered = recover() }()
	req, _ := http.NewRequest("GET", "http://payments.internal/charges", nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	return nil, err
}

// TestTransportPanicReleasesBreaker opens the breaker, lets it go half-open,
// and panics during the probe, in the base RoundTripper or in the
// classifier: the panic reaches the caller unchanged, the probe is
// recorded as Bad (the breaker opens again), and once the breaker's
// timeout passed again, a probe goes through and closes it. Before, the
// probe's slot stayed taken and every later call failed with
// ErrBreakerOpen until the process restarted.
func TestTransportPanicReleasesBreaker(t *testing.T) {
	for _, where := range []string{"base", "classifier"} {
		t.Run(where, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newDepEngine(t) // open after 5 failures, for 10s, 1 probe
				b, _ := eng.Breaker("payments")
				var code int // the base's next answer; 0: panic
				base := roundTripFunc(func(*http.Request) (*http.Response, error) {
					if code == 0 && where == "base" {
						panic("base exploded")
					}
					return answer(code), nil
				})
				classify := func(resp *http.Response, err error) budget.Outcome {
					if err == nil && resp.StatusCode == http.StatusTeapot {
						panic("classifier exploded")
					}
					return middleware.DefaultTransportClassifier(resp, err)
				}
				tr := newTransport(t, eng, base, middleware.WithTransportClassifier(classify))

				code = http.StatusInternalServerError
				for range 5 {
					if p, err := roundTripPanic(tr); p != nil || err != nil {
						t.Fatalf("RoundTrip() = panic %v, error %v, want a 500", p, err)
					}
				}
				checkState := func(want slo.BreakerState) {
					t.Helper()
					if got := b.State(); got != want {
						t.Fatalf("breaker state = %v, want %v", got, want)
					}
				}
				checkState(slo.BreakerOpen)
				time.Sleep(10*time.Second + time.Millisecond)
				checkState(slo.BreakerHalfOpen)

				code = 0 // the base panics
				want := "base exploded"
				if where == "classifier" {
					code, want = http.StatusTeapot, "classifier exploded"
				}
				if p, err := roundTripPanic(tr); p != want || err != nil {
					t.Fatalf("RoundTrip() of the probe = panic %v, error %v, want panic %q", p, err, want)
				}
				checkState(slo.BreakerOpen) // the probe failed
				if _, err := roundTripPanic(tr); !errors.Is(err, slo.ErrBreakerOpen) {
					t.Fatalf("RoundTrip() right after = %v, want ErrBreakerOpen", err)
				}

				time.Sleep(10*time.Second + time.Millisecond)
				code = http.StatusOK
				if p, err := roundTripPanic(tr); p != nil || err != nil {
					t.Fatalf("RoundTrip() of the next probe = panic %v, error %v, want a 200", p, err)
				}
				checkState(slo.BreakerClosed)
				// 5 failures, the probe that panicked, one call rejected, the
				// probe that succeeded.
				checkTotals(t, eng, map[string]tally{paymentsAvail: {Good: 1, Bad: 6, Shed: 1}})
			})
		})
	}
}

// TestTransportPanicRecorded checks that a panic while the breaker is
// closed is recorded once, as Bad, and that a response the classifier
// panicked on is closed, since the caller never gets it.
func TestTransportPanicRecorded(t *testing.T) {
	eng := newDepEngine(t)
	body := &trackBody{Reader: strings.NewReader("x")}
	calls := 0
	base := roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			panic(http.ErrAbortHandler)
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: body}, nil
	})
	tr := newTransport(t, eng, base, middleware.WithTransportClassifier(func(resp *http.Response, err error) budget.Outcome {
		panic("classifier exploded")
	}))
	if p, _ := roundTripPanic(tr); p != http.ErrAbortHandler {
		t.Errorf("RoundTrip() panic = %v, want the base's, unchanged", p)
	}
	if p, _ := roundTripPanic(tr); p != "classifier exploded" {
		t.Errorf("RoundTrip() panic = %v, want the classifier's, unchanged", p)
	}
	if !body.closed {
		t.Error("the response the classifier panicked on was not closed")
	}
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Bad: 2}})
}
