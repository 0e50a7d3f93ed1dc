package middleware_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// paymentsAvail is the objective of the "payments" dependency in the
// engines of newDepEngine.
const paymentsAvail = "payments-availability"

// newDepEngine returns an engine, never started, with the dependency
// "payments" (default breaker: open after 5 failures in a row, for 10s)
// and the service objective serviceAvail.
func newDepEngine(tb testing.TB, opts ...slo.Option) *slo.Engine {
	tb.Helper()
	eng, err := slo.New([]slo.Objective{
		{Name: paymentsAvail, Target: 0.99, Dependency: "payments"},
		{Name: serviceAvail, Target: 0.99},
	}, append([]slo.Option{
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	}, opts...)...)
	if err != nil {
		tb.Fatalf("slo.New() error = %v", err)
	}
	tb.Cleanup(func() { _ = eng.Close() })
	return eng
}

func newTransport(tb testing.TB, eng *slo.Engine, base http.RoundTripper, opts ...middleware.TransportOption) *middleware.Transport {
	tb.Helper()
	tr, err := middleware.NewTransport(eng, "payments", base, opts...)
	if err != nil {
		tb.Fatalf("NewTransport() error = %v", err)
	}
	return tr
}

// dependency is a loopback server standing for "payments": it answers with
// its scripted statuses in order, then 200, and keeps the CriticalityHeader
// of every request. Requests for /block wait until their client leaves.
type dependency struct {
	*httptest.Server
	blocked chan struct{} // receives when a /block request arrived

	mu    sync.Mutex
	codes []int    // guarded by mu
	seen  []string // guarded by mu
}

func newDependency(tb testing.TB, codes ...int) *dependency {
	tb.Helper()
	d := &dependency{codes: codes, blocked: make(chan struct{}, 1)}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			d.blocked <- struct{}{}
			<-r.Context().Done()
			return
		}
		d.mu.Lock()
		code := http.StatusOK
		if len(d.codes) > 0 {
			code, d.codes = d.codes[0], d.codes[1:]
		}
		d.seen = append(d.seen, r.Header.Get(middleware.CriticalityHeader))
		d.mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	}))
	tb.Cleanup(d.Close)
	return d
}

// hits returns how many requests other than /block arrived.
func (d *dependency) hits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

// lastHeader returns the CriticalityHeader of the latest request.
func (d *dependency) lastHeader() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[len(d.seen)-1]
}

// get sends a GET through c and returns the status, after reading and
// closing the body.
func get(tb testing.TB, c *http.Client, target string) int {
	tb.Helper()
	resp, err := c.Get(target)
	if err != nil {
		tb.Fatalf("GET %s: %v", target, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestNewTransportInvalid(t *testing.T) {
	eng := newDepEngine(t)
	tests := []struct {
		name       string
		eng        *slo.Engine
		dependency string
		opts       []middleware.TransportOption
		want       []string
		unknown    bool
	}{
		{name: "nil engine", dependency: "payments", want: []string{"nil engine"}},
		{name: "empty dependency", eng: eng, want: []string{"empty dependency"}},
		{name: "unknown dependency", eng: eng, dependency: "ledger", want: []string{`no objective has dependency "ledger"`}, unknown: true},
		{name: "nil option", eng: eng, dependency: "payments", opts: []middleware.TransportOption{nil}, want: []string{"transport option 0 is nil"}},
		{name: "nil classifier", eng: eng, dependency: "payments", opts: []middleware.TransportOption{middleware.WithTransportClassifier(nil)}, want: []string{"nil transport classifier"}},
		{name: "negative retries", eng: eng, dependency: "payments", opts: []middleware.TransportOption{middleware.WithRetries(-1, 1)}, want: []string{"-1 retries is negative"}},
		{name: "zero budget", eng: eng, dependency: "payments", opts: []middleware.TransportOption{middleware.WithRetries(1, 0)}, want: []string{"retry budget of 0 a second"}},
		{name: "NaN budget", eng: eng, dependency: "payments", opts: []middleware.TransportOption{middleware.WithRetries(1, math.NaN())}, want: []string{"retry budget of NaN a second"}},
		{name: "infinite budget", eng: eng, dependency: "payments", opts: []middleware.TransportOption{middleware.WithRetries(1, math.Inf(1))}, want: []string{"retry budget of +Inf a second"}},
		{
			name: "every problem at once",
			eng:  eng, dependency: "ledger",
			opts: []middleware.TransportOption{
				middleware.WithTransportClassifier(nil),
				nil,
				middleware.WithRetries(-2, -1),
			},
			want: []string{
				"nil transport classifier",
				"transport option 1 is nil",
				"-2 retries is negative",
				"retry budget of -1 a second",
				`no objective has dependency "ledger"`,
			},
			unknown: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := middleware.NewTransport(tt.eng, tt.dependency, nil, tt.opts...)
			if tr != nil || err == nil {
				t.Fatalf("NewTransport() = %v, %v, want nil and an error", tr, err)
			}
			if got := errors.Is(err, slo.ErrUnknownObjective); got != tt.unknown {
				t.Errorf("errors.Is(NewTransport() error, slo.ErrUnknownObjective) = %v, want %v", got, tt.unknown)
			}
			errs := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			}
			if len(errs) != len(tt.want) {
				t.Errorf("NewTransport() reported %d problems, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for _, e := range errs {
				if !errors.Is(e, middleware.ErrInvalidOption) {
					t.Errorf("NewTransport() problem %q does not wrap ErrInvalidOption", e)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewTransport() error = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestNewTransportValid(t *testing.T) {
	eng := newDepEngine(t)
	for _, opts := range [][]middleware.TransportOption{
		nil,
		{middleware.WithRetries(0, 1)},
		{middleware.WithRetries(3, 0.5), middleware.WithTransportClassifier(middleware.DefaultTransportClassifier)},
	} {
		if tr, err := middleware.NewTransport(eng, "payments", nil, opts...); tr == nil || err != nil {
			t.Errorf("NewTransport(%d options) = %v, %v, want a Transport and no error", len(opts), tr, err)
		}
	}
}

// TestTransportClassification calls a loopback dependency and checks what
// each call recorded.
func TestTransportClassification(t *testing.T) {
	eng := newDepEngine(t)
	d := newDependency(t, 500, 200, 429, 404, 503, 200)
	client := &http.Client{Transport: newTransport(t, eng, d.Client().Transport)}
	for _, want := range []int{500, 200, 429, 404, 503, 200} {
		if got := get(t, client, d.URL); got != want {
			t.Errorf("GET = %d, want %d", got, want)
		}
	}

	// The caller gives up: neutral.
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-d.blocked
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", d.URL+"/block", nil)
	if resp, err := client.Do(req); !errors.Is(err, context.Canceled) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("GET /block, canceled: error = %v, want context.Canceled", err)
	}

	// Nobody listens: bad.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	if resp, err := client.Get(gone.URL); err == nil || errors.Is(err, slo.ErrBreakerOpen) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("GET of a closed server: error = %v, want a transport error", err)
	}

	// 500, 503 and the closed server are Bad; the 429 is the dependency's
	// own refusal: Shed, no failure for the breaker.
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Good: 3, Bad: 3, Shed: 1, Neutral: 1}})
}

// TestTransportRefusalKeepsBreakerClosed checks that a dependency shedding
// with 429 does not open its callers' breaker, however many calls it
// refuses: only failures count.
func TestTransportRefusalKeepsBreakerClosed(t *testing.T) {
	eng := newDepEngine(t)
	codes := make([]int, 30)
	for i := range codes {
		codes[i] = http.StatusTooManyRequests
	}
	d := newDependency(t, codes...)
	client := &http.Client{Transport: newTransport(t, eng, d.Client().Transport)}
	for range codes {
		if got := get(t, client, d.URL); got != http.StatusTooManyRequests {
			t.Fatalf("GET = %d, want 429", got)
		}
	}
	b, _ := eng.Breaker("payments")
	if st := b.State(); st != slo.BreakerClosed {
		t.Errorf("after 30 refusals: breaker %v, want closed", st)
	}
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Shed: 30}})
}

func TestTransportCustomClassifier(t *testing.T) {
	eng := newDepEngine(t)
	d := newDependency(t, 404, 500)
	notFoundIsBad := func(resp *http.Response, err error) slo.Outcome {
		if err == nil && resp.StatusCode == http.StatusNotFound {
			return slo.Bad
		}
		if err == nil && resp.StatusCode >= 500 {
			return slo.Neutral
		}
		return middleware.DefaultTransportClassifier(resp, err)
	}
	client := &http.Client{Transport: newTransport(t, eng, d.Client().Transport, middleware.WithTransportClassifier(notFoundIsBad))}
	get(t, client, d.URL)
	get(t, client, d.URL)
	get(t, client, d.URL)
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Good: 1, Bad: 1, Neutral: 1}})
}

// TestTransportBreaker opens the breaker with five failures in a row and
// checks that the next calls fail fast, without reaching the dependency,
// and are not retried.
func TestTransportBreaker(t *testing.T) {
	eng := newDepEngine(t)
	d := newDependency(t, 500, 500, 500, 500, 500)
	tr := newTransport(t, eng, d.Client().Transport, middleware.WithRetries(3, 100))
	client := &http.Client{Transport: tr}
	for range 5 {
		if got := get(t, client, d.URL); got != http.StatusInternalServerError {
			t.Fatalf("GET = %d, want 500", got)
		}
	}
	b, _ := eng.Breaker("payments")
	if got := b.State(); got != slo.BreakerOpen {
		t.Fatalf("Breaker(payments).State() after 5 failures = %v, want open", got)
	}

	resp, err := client.Get(d.URL)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, slo.ErrBreakerOpen) {
		t.Errorf("GET with the breaker open: error = %v, want one wrapping slo.ErrBreakerOpen", err)
	}
	if _, ok := errors.AsType[*url.Error](err); !ok {
		t.Errorf("GET with the breaker open: error = %T, want a *url.Error from http.Client", err)
	}
	if be, ok := errors.AsType[*slo.BreakerError](err); !ok || be.Dependency != "payments" || be.RetryAfter < time.Second {
		t.Errorf("GET with the breaker open: BreakerError = %+v, want dependency payments, RetryAfter ≥ 1s", be)
	}

	// The caller's request body is closed, as a RoundTripper must.
	body := &trackBody{Reader: strings.NewReader("amount=10")}
	req, _ := http.NewRequest("POST", d.URL, body)
	if _, err := tr.RoundTrip(req); !errors.Is(err, slo.ErrBreakerOpen) {
		t.Errorf("RoundTrip(POST) with the breaker open: error = %v, want slo.ErrBreakerOpen", err)
	}
	if !body.closed {
		t.Error("RoundTrip(POST) with the breaker open did not close the request body")
	}

	if got := d.hits(); got != 5 {
		t.Errorf("dependency hits = %d, want 5 (none while open)", got)
	}
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Bad: 5, Shed: 2}})
}

// TestTransportCriticality checks the outbound CriticalityHeader and that
// the caller's request is left alone.
func TestTransportCriticality(t *testing.T) {
	eng := newDepEngine(t)
	d := newDependency(t)
	tr := newTransport(t, eng, d.Client().Transport)
	tests := []struct {
		name   string
		ctx    *slo.Criticality
		header string // set by the caller
		want   string // received by the dependency
	}{
		{name: "none", want: ""},
		{name: "sheddable in context", ctx: ptr(slo.Sheddable), want: "SHEDDABLE"},
		{name: "critical in context", ctx: ptr(slo.Critical), want: "CRITICAL"},
		{name: "context over caller's header", ctx: ptr(slo.CriticalPlus), header: "SHEDDABLE", want: "CRITICAL_PLUS"},
		{name: "caller's header alone is removed", header: "CRITICAL_PLUS", want: ""},
		{name: "caller's header at the context's level", ctx: ptr(slo.Sheddable), header: "SHEDDABLE", want: "SHEDDABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = slo.WithCriticality(ctx, *tt.ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", d.URL, nil)
			req.Header.Set("Accept", "text/plain")
			if tt.header != "" {
				req.Header.Set(middleware.CriticalityHeader, tt.header)
			}
			before := req.Header.Clone()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip() error = %v", err)
			}
			resp.Body.Close()
			if got := d.lastHeader(); got != tt.want {
				t.Errorf("dependency got %s = %q, want %q", middleware.CriticalityHeader, got, tt.want)
			}
			if !maps.EqualFunc(req.Header, before, slices.Equal) {
				t.Errorf("RoundTrip() changed the caller's header to %v, want %v", req.Header, before)
			}
		})
	}
}

// TestTransportRetries retries calls to a loopback dependency.
func TestTransportRetries(t *testing.T) {
	retries := func(n int, perSecond float64) []middleware.TransportOption {
		return []middleware.TransportOption{middleware.WithRetries(n, perSecond)}
	}
	tests := []struct {
		name   string
		opts   []middleware.TransportOption
		method string
		body   string
		codes  []int // the dependency's answers
		code   int   // the caller's
		hits   int
		want   tally
	}{
		{"503 then 200", retries(3, 100), "GET", "", []int{503, 200}, 200, 2, tally{Good: 1, Bad: 1}},
		{"502, 504 then 200", retries(3, 100), "GET", "", []int{502, 504, 200}, 200, 3, tally{Good: 1, Bad: 2}},
		{"HEAD", retries(3, 100), "HEAD", "", []int{503, 200}, 200, 2, tally{Good: 1, Bad: 1}},
		{"OPTIONS", retries(3, 100), "OPTIONS", "", []int{503, 200}, 200, 2, tally{Good: 1, Bad: 1}},
		{"no retries by default", nil, "GET", "", []int{503, 200}, 503, 1, tally{Bad: 1}},
		{"at most max", retries(2, 100), "GET", "", []int{503, 503, 503, 503}, 503, 3, tally{Bad: 3}},
		{"budget spent", retries(3, 0.001), "GET", "", []int{503, 503, 503, 503}, 503, 2, tally{Bad: 2}},
		{"POST not retried", retries(3, 100), "POST", "amount=10", []int{503, 200}, 503, 1, tally{Bad: 1}},
		{"GET with a body not retried", retries(3, 100), "GET", "q", []int{503, 200}, 503, 1, tally{Bad: 1}},
		{"500 not retried", retries(3, 100), "GET", "", []int{500, 200}, 500, 1, tally{Bad: 1}},
		{"429 not retried", retries(3, 100), "GET", "", []int{429, 200}, 429, 1, tally{Shed: 1}},
		// The fifth failure in a row opens the breaker, which refuses the
		// next retry: the caller gets the last answer.
		{"breaker opens", retries(10, 100), "GET", "", slices.Repeat([]int{503}, 10), 503, 5, tally{Bad: 5, Shed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newDepEngine(t)
			d := newDependency(t, tt.codes...)
			client := &http.Client{Transport: newTransport(t, eng, d.Client().Transport, tt.opts...)}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, _ := http.NewRequestWithContext(t.Context(), tt.method, d.URL, body)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tt.method, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("%s = %d, want %d", tt.method, resp.StatusCode, tt.code)
			}
			if want := http.StatusText(tt.code); tt.method != "HEAD" && string(got) != want {
				t.Errorf("%s: body = %q, want %q (of the returned answer)", tt.method, got, want)
			}
			if n := d.hits(); n != tt.hits {
				t.Errorf("dependency hits = %d, want %d", n, tt.hits)
			}
			checkTotals(t, eng, map[string]tally{paymentsAvail: tt.want})
		})
	}
}

// result is one scripted answer of a fake base RoundTripper: an error, or a
// response with a body that notes whether it was closed.
type result struct {
	code int
	err  error
}

type trackBody struct {
	io.Reader
	closed bool
}

func (b *trackBody) Close() error { b.closed = true; return nil }

// scripted is a base RoundTripper that answers with its results in order.
type scripted struct {
	results []result
	calls   int
	bodies  []*trackBody // of the responses sent
}

func (s *scripted) RoundTrip(*http.Request) (*http.Response, error) {
	s.calls++
	r := s.results[0]
	if len(s.results) > 1 {
		s.results = s.results[1:]
	}
	if r.err != nil {
		return nil, r.err
	}
	b := &trackBody{Reader: strings.NewReader(http.StatusText(r.code))}
	s.bodies = append(s.bodies, b)
	return &http.Response{StatusCode: r.code, Body: b, Header: http.Header{}}, nil
}

// TestTransportRetryErrors retries over a fake base, for errors a loopback
// server can not produce on demand.
func TestTransportRetryErrors(t *testing.T) {
	reset := errors.New("read: connection reset by peer")
	tests := []struct {
		name     string
		results  []result
		canceled bool // the caller's context is canceled
		calls    int
		code     int // 0: an error
		want     tally
	}{
		{"transport error then 200", []result{{err: reset}, {code: 200}}, false, 2, 200, tally{Good: 1, Bad: 1}},
		{"canceled", []result{{err: context.Canceled}, {code: 200}}, false, 1, 0, tally{Neutral: 1}},
		{"deadline", []result{{err: context.DeadlineExceeded}, {code: 200}}, false, 1, 0, tally{Bad: 1}},
		{"caller gone", []result{{err: reset}, {code: 200}}, true, 1, 0, tally{Bad: 1}},
		{"503, 503 then 200", []result{{code: 503}, {code: 503}, {code: 200}}, false, 3, 200, tally{Good: 1, Bad: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newDepEngine(t)
			base := &scripted{results: tt.results}
			tr := newTransport(t, eng, base, middleware.WithRetries(3, 100))
			ctx, cancel := context.WithCancel(t.Context())
			if tt.canceled {
				cancel()
			}
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://payments.internal/charges", nil)
			resp, err := tr.RoundTrip(req)
			switch {
			case tt.code == 0 && err == nil:
				t.Errorf("RoundTrip() = %d, want an error", resp.StatusCode)
			case tt.code != 0 && (err != nil || resp.StatusCode != tt.code):
				t.Errorf("RoundTrip() = %v, %v, want %d", resp, err, tt.code)
			}
			if base.calls != tt.calls {
				t.Errorf("base called %d times, want %d", base.calls, tt.calls)
			}
			// Every response but the returned one is closed.
			for i, b := range base.bodies {
				returned := resp != nil && b == resp.Body
				if b.closed == returned {
					t.Errorf("response %d: closed = %v, want %v", i, b.closed, !returned)
				}
			}
			checkTotals(t, eng, map[string]tally{paymentsAvail: tt.want})
		})
	}
}

// TestTransportRetryBudget checks that the retry budget refills with time.
func TestTransportRetryBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The breaker stays closed through these failures.
		eng := newDepEngine(t, slo.WithBreakers(slo.BreakerPolicy{ConsecutiveFailures: 100}))
		base := &scripted{results: []result{{code: 503}}}
		// One token, refilled every two seconds.
		tr := newTransport(t, eng, base, middleware.WithRetries(3, 0.5))
		call := func() int {
			t.Helper()
			n := base.calls
			req, _ := http.NewRequest("GET", "http://payments.internal/charges", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip() error = %v", err)
			}
			resp.Body.Close()
			return base.calls - n
		}
		steps := []struct {
			wait  time.Duration // before the call
			calls int           // of the base
		}{
			{0, 2},                       // the one token
			{0, 1},                       // none left
			{time.Second, 1},             // half a token
			{time.Second, 2},             // one again
			{10 * time.Second, 2},        // the bucket holds one
			{1900 * time.Millisecond, 1}, // 0.95 of a token
		}
		for i, s := range steps {
			time.Sleep(s.wait)
			if got := call(); got != s.calls {
				t.Errorf("step %d: base called %d times, want %d", i, got, s.calls)
			}
		}
	})
}
