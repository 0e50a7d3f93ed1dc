package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

const tooMany = "Too Many Requests\n"

// TestServerAdmission serves real requests on loopback while the engine
// sheds at level 1.5: every SHEDDABLE request is rejected, CRITICAL and
// CRITICAL_PLUS ones are served.
func TestServerAdmission(t *testing.T) {
	eng := newShedEngine(t, 1.5)
	var called atomic.Int64
	mux := http.NewServeMux()
	for _, p := range []string{"GET /recommendations/{id}", "POST /checkout", "POST /import", "GET /vip"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) {
			called.Add(1)
			io.WriteString(w, "served")
		})
	}
	inner := newServer(t, eng,
		middleware.WithRoute("GET /recommendations/{id}", browseAvail),
		middleware.WithRouteCriticality("GET /recommendations/{id}", slo.Sheddable),
		middleware.WithRoute("POST /checkout", checkoutAvail),
		middleware.WithRouteCriticality("POST /checkout", slo.Critical),
		middleware.WithRouteCriticality("POST /import", slo.Sheddable), // no objectives of its own
		middleware.WithRouteCriticality("GET /vip", slo.CriticalPlus),
		middleware.WithDefault(serviceAvail),
	).Wrap(mux)
	recorded := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = noRead{t} // neither the middleware nor a handler reads it
		inner.ServeHTTP(w, r)
		recorded <- struct{}{}
	}))
	defer ts.Close()

	tests := []struct {
		method, path string
		code         int
		body         string
		retryAfter   string
	}{
		{"GET", "/recommendations/1", http.StatusTooManyRequests, tooMany, "8"},
		{"POST", "/checkout", http.StatusOK, "served", ""},
		{"POST", "/import", http.StatusTooManyRequests, tooMany, "8"},
		{"GET", "/recommendations/2", http.StatusTooManyRequests, tooMany, "8"},
		{"GET", "/vip", http.StatusOK, "served", ""},
		{"GET", "/nowhere", http.StatusNotFound, "404 page not found\n", ""}, // CRITICAL
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, ts.URL+tt.path, strings.NewReader("payload"))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		<-recorded
		if resp.StatusCode != tt.code || string(body) != tt.body {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, body, tt.code, tt.body)
		}
		if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
			t.Errorf("%s %s: Retry-After = %q, want %q", tt.method, tt.path, got, tt.retryAfter)
		}
		if tt.code == http.StatusTooManyRequests {
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
				t.Errorf("%s %s: Content-Type = %q, want text/plain", tt.method, tt.path, got)
			}
		}
	}
	if got := called.Load(); got != 2 {
		t.Errorf("handlers called %d times, want 2 (POST /checkout and GET /vip)", got)
	}
	checkTotals(t, eng, map[string]tally{
		browseAvail:   {Shed: 2},
		checkoutAvail: {Good: 1},
		serviceAvail:  {Good: 2, Shed: 1}, // GET /vip, GET /nowhere; POST /import
	})
	if got := eng.Status().Shedding.Rejected[slo.Sheddable.Index()]; got != 3 {
		t.Errorf("Status().Shedding.Rejected[SHEDDABLE] = %d, want 3", got)
	}
}

// TestServerAdmissionRoute covers how the route, and so its criticality, is
// found before the handler runs.
func TestServerAdmissionRoute(t *testing.T) {
	newRouteMux := func(called *bool) *http.ServeMux {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /batch/{id}", func(http.ResponseWriter, *http.Request) { *called = true })
		return mux
	}
	tests := []struct {
		name    string
		opts    []middleware.Option
		handler func(s *middleware.Server, called *bool) http.Handler
		code    int
	}{
		{
			name: "wrapping the mux",
			handler: func(s *middleware.Server, called *bool) http.Handler {
				return s.Wrap(newRouteMux(called))
			},
			code: http.StatusTooManyRequests,
		},
		{
			name: "wrapping a route's handler",
			handler: func(s *middleware.Server, called *bool) http.Handler {
				mux := http.NewServeMux()
				mux.Handle("GET /batch/{id}", s.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { *called = true })))
				return mux
			},
			code: http.StatusTooManyRequests,
		},
		{
			name: "route func",
			opts: []middleware.Option{middleware.WithRouteFunc(func(r *http.Request) string {
				if strings.HasPrefix(r.URL.Path, "/batch/") {
					return "GET /batch/{id}"
				}
				return ""
			})},
			handler: func(s *middleware.Server, called *bool) http.Handler {
				return s.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { *called = true }))
			},
			code: http.StatusTooManyRequests,
		},
		{
			// The route is unknown before serving: CRITICAL.
			name: "another router",
			handler: func(s *middleware.Server, called *bool) http.Handler {
				mux := newRouteMux(called)
				return s.Wrap(http.HandlerFunc(mux.ServeHTTP))
			},
			code: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newShedEngine(t, 1.5)
			opts := append([]middleware.Option{
				middleware.WithRoute("GET /batch/{id}", browseAvail),
				middleware.WithRouteCriticality("GET /batch/{id}", slo.Sheddable),
			}, tt.opts...)
			var called bool
			h := tt.handler(newServer(t, eng, opts...), &called)
			rec := serve(h, "GET", "/batch/7")
			if rec.Code != tt.code {
				t.Errorf("GET /batch/7: status = %d, want %d", rec.Code, tt.code)
			}
			if shed := tt.code == http.StatusTooManyRequests; called == shed {
				t.Errorf("GET /batch/7: handler called = %v, want %v", called, !shed)
			}
		})
	}
}

// TestServerAdmissionOff checks that a request is always admitted while
// nothing is shed: shedding off, or on at level 0.
func TestServerAdmissionOff(t *testing.T) {
	for name, eng := range map[string]*slo.Engine{
		"shedding off": newEngine(t),
		"level 0":      newShedEngine(t, 0),
	} {
		t.Run(name, func(t *testing.T) {
			h := newServer(t, eng,
				middleware.WithRoute("GET /items/{id}", browseAvail),
				middleware.WithRouteCriticality("GET /items/{id}", slo.Sheddable),
			).Wrap(newMux())
			req := httptest.NewRequest("GET", "/items/1", nil)
			req = req.WithContext(slo.WithCriticality(req.Context(), slo.Sheddable))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("GET /items/1 (SHEDDABLE): status = %d, want 200", rec.Code)
			}
			checkTotals(t, eng, map[string]tally{browseAvail: {Good: 1}})
		})
	}
}

// TestServerCriticalityTrust checks where a request's criticality comes
// from, at shed level 1.5 (SHEDDABLE rejected, CRITICAL served).
func TestServerCriticalityTrust(t *testing.T) {
	const trustedHeader = "X-Test-Trusted"
	trust := middleware.WithTrustedCriticality(func(r *http.Request) bool {
		return r.Header.Get(trustedHeader) == "yes"
	})
	none := slo.Criticality(127) // no criticality in the handler's context
	tests := []struct {
		name    string
		noTrust bool // the server has no WithTrustedCriticality
		path    string
		header  string
		header2 string // a second value of the header
		trusted bool
		ctx     *slo.Criticality
		code    int
		inCtx   slo.Criticality // what the handler sees
	}{
		{name: "untrusted header can not raise", path: "/sheddable", header: "CRITICAL_PLUS", code: 429},
		{name: "trust not configured", noTrust: true, path: "/sheddable", header: "CRITICAL_PLUS", trusted: true, code: 429},
		{name: "trusted header raises", path: "/sheddable", header: "CRITICAL_PLUS", trusted: true, code: 200, inCtx: slo.CriticalPlus},
		{name: "trusted header in another spelling", path: "/sheddable", header: "critical-plus", trusted: true, code: 200, inCtx: slo.CriticalPlus},
		{name: "trusted header lowers", path: "/critical", header: "SHEDDABLE", trusted: true, code: 429},
		{name: "trusted header at the route's level", path: "/critical", header: "CRITICAL", trusted: true, code: 200, inCtx: slo.Critical},
		{name: "untrusted header can not lower", path: "/critical", header: "SHEDDABLE", code: 200, inCtx: slo.Critical},
		{name: "trusted garbage on sheddable route", path: "/sheddable", header: "VERY_IMPORTANT", trusted: true, code: 429},
		{name: "trusted garbage on critical route", path: "/critical", header: "VERY_IMPORTANT", trusted: true, code: 200, inCtx: slo.Critical},
		{name: "trusted repeated header: least critical", path: "/sheddable", header: "CRITICAL_PLUS", header2: "SHEDDABLE", trusted: true, code: 429},
		{name: "trusted joined header: least critical", path: "/sheddable", header: "CRITICAL_PLUS, CRITICAL", trusted: true, code: 200, inCtx: slo.Critical},
		{name: "trusted repeated header, garbage ignored", path: "/sheddable", header: "VERY_IMPORTANT", header2: "CRITICAL_PLUS", trusted: true, code: 200, inCtx: slo.CriticalPlus},
		{name: "route's criticality carried", path: "/vip", code: 200, inCtx: slo.CriticalPlus},
		{name: "trusted empty header", path: "/sheddable", trusted: true, code: 429},
		{name: "context wins over trusted header", path: "/sheddable", header: "SHEDDABLE", trusted: true, ctx: ptr(slo.Critical), code: 200, inCtx: slo.Critical},
		{name: "context wins over route", path: "/critical", ctx: ptr(slo.Sheddable), code: 429},
		{name: "no criticality anywhere", path: "/unmapped", code: 200, inCtx: none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newShedEngine(t, 1.5)
			seen := none
			mux := http.NewServeMux()
			for _, p := range []string{"GET /sheddable", "GET /vip", "GET /critical", "GET /unmapped"} {
				mux.HandleFunc(p, func(_ http.ResponseWriter, r *http.Request) {
					if c, ok := slo.CriticalityFrom(r.Context()); ok {
						seen = c
					}
				})
			}
			opts := []middleware.Option{
				middleware.WithRoute("GET /sheddable", browseAvail),
				middleware.WithRouteCriticality("GET /sheddable", slo.Sheddable),
				middleware.WithRoute("GET /critical", checkoutAvail),
				middleware.WithRouteCriticality("GET /critical", slo.Critical),
				middleware.WithRouteCriticality("GET /vip", slo.CriticalPlus),
				middleware.WithDefault(serviceAvail),
			}
			if !tt.noTrust {
				opts = append(opts, trust)
			}
			h := newServer(t, eng, opts...).Wrap(mux)
			req := httptest.NewRequest("GET", tt.path, nil)
			if tt.header != "" {
				req.Header.Set(middleware.CriticalityHeader, tt.header)
			}
			if tt.header2 != "" {
				req.Header.Add(middleware.CriticalityHeader, tt.header2)
			}
			if tt.trusted {
				req.Header.Set(trustedHeader, "yes")
			}
			if tt.ctx != nil {
				req = req.WithContext(slo.WithCriticality(req.Context(), *tt.ctx))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Errorf("GET %s: status = %d, want %d", tt.path, rec.Code, tt.code)
			}
			if tt.code == http.StatusOK && seen != tt.inCtx {
				t.Errorf("GET %s: handler's slo.CriticalityFrom = %v, want %v", tt.path, seen, tt.inCtx)
			}
			// Served requests are recorded under their route, found in the
			// request the handler got; rejected ones as Shed.
			obj := map[string]string{"/sheddable": browseAvail, "/critical": checkoutAvail, "/unmapped": serviceAvail, "/vip": serviceAvail}[tt.path]
			want := tally{Good: 1}
			if tt.code != http.StatusOK {
				want = tally{Shed: 1}
			}
			checkTotals(t, eng, map[string]tally{obj: want})
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestError(t *testing.T) {
	eng := newDepEngine(t)
	b, err := eng.Breaker("payments")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		done, err := b.Allow()
		if err != nil {
			t.Fatalf("Breaker.Allow() error = %v, want nil while closed", err)
		}
		done(slo.Bad, 0)
	}
	_, open := b.Allow()
	be, ok := errors.AsType[*slo.BreakerError](open)
	if !ok {
		t.Fatalf("Breaker.Allow() after 5 failures: error = %v, want a *slo.BreakerError", open)
	}
	wantRetry := strconv.Itoa(int((be.RetryAfter + 999_999_999) / 1_000_000_000))

	tests := []struct {
		name       string
		err        error
		code       int
		retryAfter string
	}{
		{"breaker open", open, http.StatusServiceUnavailable, wantRetry},
		{"breaker open, wrapped", fmt.Errorf("charge card: %w", open), http.StatusServiceUnavailable, wantRetry},
		{"bare sentinel", slo.ErrBreakerOpen, http.StatusServiceUnavailable, "1"},
		{"breaker open in under a second", &slo.BreakerError{Dependency: "payments", RetryAfter: 1}, http.StatusServiceUnavailable, "1"},
		{"other error", errors.New("dial tcp 10.0.0.7:5432: connection refused"), http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			middleware.WriteError(rec, tt.err)
			if rec.Code != tt.code {
				t.Errorf("WriteError(%v): status = %d, want %d", tt.err, rec.Code, tt.code)
			}
			if got, want := rec.Body.String(), http.StatusText(tt.code)+"\n"; got != want {
				t.Errorf("WriteError(%v): body = %q, want %q", tt.err, got, want)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("WriteError(%v): Retry-After = %q, want %q", tt.err, got, tt.retryAfter)
			}
		})
	}
	if n, _ := strconv.Atoi(wantRetry); n < 1 || n > 10 {
		t.Errorf("Retry-After of a breaker just opened for 10s = %s, want 1 to 10", wantRetry)
	}

	// Through the server middleware, the 503 is a shed event of the route:
	// it spends the budget, but not the signal that drives shedding.
	h := newServer(t, eng, middleware.WithDefault(serviceAvail)).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		middleware.WriteError(w, open)
	}))
	if rec := serve(h, "POST", "/pay"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("POST /pay: status = %d, want 503", rec.Code)
	}
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Bad: 5, Shed: 1}, serviceAvail: {Shed: 1}})
}

// TestServerHandle checks the per-route wiring: each route's handler is
// wrapped with its pattern, so the mux routes once; criticality, objectives
// and the path values the mux set all reach the right place.
func TestServerHandle(t *testing.T) {
	eng := newShedEngine(t, 1.5)
	mw := newServer(t, eng,
		middleware.WithRoute("GET /recommendations/{id}", browseAvail),
		middleware.WithRouteCriticality("GET /recommendations/{id}", slo.Sheddable),
		middleware.WithRoute("POST /checkout", checkoutAvail),
		middleware.WithDefault(serviceAvail),
	)
	var ids []string
	mux := http.NewServeMux()
	handle := func(pattern string, code int) {
		mux.Handle(pattern, mw.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ids = append(ids, r.PathValue("id"))
			w.WriteHeader(code)
		})))
	}
	handle("GET /recommendations/{id}", http.StatusOK)
	handle("POST /checkout", http.StatusInternalServerError)
	handle("GET /items/{id}", http.StatusOK) // no WithRoute: the default objectives
	for _, r := range []struct {
		method, target string
		code           int
	}{
		{"GET", "/recommendations/1", http.StatusTooManyRequests},
		{"POST", "/checkout", http.StatusInternalServerError},
		{"GET", "/items/7", http.StatusOK},
		{"GET", "/nowhere", http.StatusNotFound}, // the mux answers: not recorded
	} {
		if rec := serve(mux, r.method, r.target); rec.Code != r.code {
			t.Errorf("%s %s = %d, want %d", r.method, r.target, rec.Code, r.code)
		}
	}
	if want := []string{"", "7"}; !slices.Equal(ids, want) {
		t.Errorf("path values seen by the handlers = %q, want %q", ids, want)
	}
	checkTotals(t, eng, map[string]tally{
		browseAvail:   {Shed: 1},
		checkoutAvail: {Bad: 1},
		serviceAvail:  {Good: 1},
	})
}
