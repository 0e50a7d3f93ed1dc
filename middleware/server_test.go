package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

func TestNewServerInvalid(t *testing.T) {
	eng := newEngine(t)
	okRoute := middleware.WithRoute("GET /ok", checkoutAvail)
	tests := []struct {
		name    string
		eng     *slo.Engine
		opts    []middleware.Option
		want    []string // one substring per problem
		unknown bool     // whether slo.ErrUnknownObjective is among them
	}{
		{
			name: "nil engine",
			opts: []middleware.Option{okRoute},
			want: []string{"nil engine"},
		},
		{
			name: "nil engine and bad options",
			opts: []middleware.Option{middleware.WithRoute(""), middleware.WithDefault()},
			want: []string{"empty pattern", "WithDefault with no objectives", "nil engine"},
		},
		{
			name: "empty pattern",
			eng:  eng,
			opts: []middleware.Option{middleware.WithRoute("", checkoutAvail)},
			want: []string{"WithRoute with an empty pattern"},
		},
		{
			name: "route with no objectives",
			eng:  eng,
			opts: []middleware.Option{middleware.WithRoute("GET /x")},
			want: []string{`route "GET /x" has no objectives`},
		},
		{
			name: "duplicate route",
			eng:  eng,
			opts: []middleware.Option{okRoute, middleware.WithRoute("GET /ok", browseAvail)},
			want: []string{`route "GET /ok" is given twice`},
		},
		{
			name: "objective twice in a route",
			eng:  eng,
			opts: []middleware.Option{middleware.WithRoute("GET /x", checkoutAvail, browseAvail, checkoutAvail)},
			want: []string{`route "GET /x": slo: invalid option: objective "checkout-availability" is named twice`},
		},
		{
			// Its events belong to the dependency's breaker.
			name: "dependency objective",
			eng:  newDepEngine(t),
			opts: []middleware.Option{middleware.WithRoute("GET /x", paymentsAvail)},
			want: []string{`route "GET /x": slo: invalid option: objective "payments-availability" is of dependency "payments"`},
		},
		{
			name: "default with none",
			eng:  eng,
			opts: []middleware.Option{middleware.WithDefault()},
			want: []string{"WithDefault with no objectives"},
		},
		{
			name: "objective twice in default",
			eng:  eng,
			opts: []middleware.Option{middleware.WithDefault(serviceAvail, serviceAvail)},
			want: []string{`default: slo: invalid option: objective "service-availability" is named twice`},
		},
		{
			name: "nil route func",
			eng:  eng,
			opts: []middleware.Option{middleware.WithRouteFunc(nil)},
			want: []string{"nil route func"},
		},
		{
			name: "nil classifier",
			eng:  eng,
			opts: []middleware.Option{middleware.WithClassifier(nil)},
			want: []string{"nil classifier"},
		},
		{
			name: "criticality with an empty pattern",
			eng:  eng,
			opts: []middleware.Option{middleware.WithRouteCriticality("", slo.Sheddable)},
			want: []string{"WithRouteCriticality with an empty pattern"},
		},
		{
			name: "unknown criticality",
			eng:  eng,
			opts: []middleware.Option{middleware.WithRouteCriticality("GET /x", slo.Criticality(9))},
			want: []string{`route "GET /x" has an unknown criticality CRITICALITY(9)`},
		},
		{
			name: "criticality twice",
			eng:  eng,
			opts: []middleware.Option{
				middleware.WithRouteCriticality("GET /x", slo.Sheddable),
				middleware.WithRouteCriticality("GET /x", slo.Critical),
			},
			want: []string{`route "GET /x" is given a criticality twice`},
		},
		{
			name: "nil trust func",
			eng:  eng,
			opts: []middleware.Option{middleware.WithTrustedCriticality(nil)},
			want: []string{"nil trust func"},
		},
		{
			name: "nil option",
			eng:  eng,
			opts: []middleware.Option{okRoute, nil},
			want: []string{"option 1 is nil"},
		},
		{
			name:    "unknown objective in route",
			eng:     eng,
			opts:    []middleware.Option{middleware.WithRoute("GET /x", checkoutAvail, "nope")},
			want:    []string{`route "GET /x": slo: unknown objective "nope"`},
			unknown: true,
		},
		{
			name:    "unknown objective in default",
			eng:     eng,
			opts:    []middleware.Option{middleware.WithDefault("nope")},
			want:    []string{`default: slo: unknown objective "nope"`},
			unknown: true,
		},
		{
			name: "every problem at once",
			eng:  eng,
			opts: []middleware.Option{
				middleware.WithRoute(""),
				middleware.WithRoute("GET /a"),
				okRoute,
				okRoute,
				middleware.WithRoute("GET /b", "nope-b", checkoutAvail, "nope-c"),
				middleware.WithDefault(),
				middleware.WithRouteFunc(nil),
				middleware.WithClassifier(nil),
				middleware.WithDefault("nope-d"),
				middleware.WithRouteCriticality("", slo.Sheddable),
				middleware.WithTrustedCriticality(nil),
			},
			want: []string{
				"empty pattern",
				`route "GET /a" has no objectives`,
				`route "GET /ok" is given twice`,
				"WithDefault with no objectives",
				"nil route func",
				"nil classifier",
				"WithRouteCriticality with an empty pattern",
				"nil trust func",
				`route "GET /b": slo: unknown objective "nope-b"`,
				`route "GET /b": slo: unknown objective "nope-c"`,
				`default: slo: unknown objective "nope-d"`,
			},
			unknown: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := middleware.NewServer(tt.eng, tt.opts...)
			if s != nil || err == nil {
				t.Fatalf("NewServer() = %v, %v, want nil and an error", s, err)
			}
			if !errors.Is(err, middleware.ErrInvalidOption) {
				t.Errorf("NewServer() error = %v, want one wrapping ErrInvalidOption", err)
			}
			if got := errors.Is(err, slo.ErrUnknownObjective); got != tt.unknown {
				t.Errorf("errors.Is(NewServer() error, slo.ErrUnknownObjective) = %v, want %v", got, tt.unknown)
			}
			var errs []error
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs = j.Unwrap()
			} else {
				errs = []error{err}
			}
			if len(errs) != len(tt.want) {
				t.Errorf("NewServer() reported %d problems, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for _, e := range errs {
				if !errors.Is(e, middleware.ErrInvalidOption) {
					t.Errorf("NewServer() problem %q does not wrap ErrInvalidOption", e)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewServer() error = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestNewServerValid(t *testing.T) {
	eng := newEngine(t)
	tests := []struct {
		name string
		opts []middleware.Option
	}{
		{"no options", nil},
		{"routes and default", []middleware.Option{
			middleware.WithRoute("POST /checkout", checkoutAvail, checkoutLatency),
			middleware.WithRoute("GET /items/{id}", browseAvail),
			middleware.WithDefault(serviceAvail),
		}},
		{"objective shared by routes", []middleware.Option{
			middleware.WithRoute("GET /a", serviceAvail),
			middleware.WithRoute("GET /b", serviceAvail),
			middleware.WithDefault(serviceAvail),
		}},
		{"later default wins", []middleware.Option{
			middleware.WithDefault(browseAvail),
			middleware.WithDefault(serviceAvail),
		}},
		{"route func and classifier", []middleware.Option{
			middleware.WithRouteFunc(func(*http.Request) string { return "" }),
			middleware.WithClassifier(middleware.DefaultClassifier),
		}},
		{"criticalities and trust", []middleware.Option{
			middleware.WithRoute("GET /items/{id}", browseAvail),
			middleware.WithRouteCriticality("GET /items/{id}", slo.Sheddable),
			middleware.WithRouteCriticality("GET /unmapped", slo.CriticalPlus),
			middleware.WithTrustedCriticality(func(*http.Request) bool { return false }),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := middleware.NewServer(eng, tt.opts...)
			if s == nil || err != nil {
				t.Fatalf("NewServer() = %v, %v, want a Server and no error", s, err)
			}
		})
	}
}

// newMux returns a mux whose routes answer 200 (404 and 405 come from the
// mux itself).
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s", r.PathValue("id"))
	})
	mux.HandleFunc("POST /checkout", status(http.StatusOK))
	mux.HandleFunc("GET /unmapped", status(http.StatusOK))
	return mux
}

func TestServerRouting(t *testing.T) {
	routes := []middleware.Option{
		middleware.WithRoute("GET /items/{id}", browseAvail),
		middleware.WithRoute("POST /checkout", checkoutAvail, checkoutLatency),
	}
	withDefault := append(routes[:len(routes):len(routes)], middleware.WithDefault(serviceAvail))
	type request struct {
		method, target string
		code           int // what the mux answers
	}
	tests := []struct {
		name     string
		opts     []middleware.Option
		requests []request
		want     map[string]tally
	}{
		{
			name:     "one route, two paths",
			opts:     withDefault,
			requests: []request{{"GET", "/items/1", 200}, {"GET", "/items/2", 200}},
			want:     map[string]tally{browseAvail: {Good: 2}},
		},
		{
			name:     "route with two objectives",
			opts:     withDefault,
			requests: []request{{"POST", "/checkout", 200}},
			want:     map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Good: 1}},
		},
		{
			name:     "HEAD served by a GET route",
			opts:     withDefault,
			requests: []request{{"HEAD", "/items/1", 200}},
			want:     map[string]tally{browseAvail: {Good: 1}},
		},
		{
			name:     "no route matched goes to default",
			opts:     withDefault,
			requests: []request{{"GET", "/nowhere", 404}, {"GET", "/items/1/more", 404}},
			want:     map[string]tally{serviceAvail: {Good: 2}},
		},
		{
			name:     "method not allowed goes to default",
			opts:     withDefault,
			requests: []request{{"GET", "/checkout", 405}},
			want:     map[string]tally{serviceAvail: {Good: 1}},
		},
		{
			name:     "route without WithRoute goes to default",
			opts:     withDefault,
			requests: []request{{"GET", "/unmapped", 200}},
			want:     map[string]tally{serviceAvail: {Good: 1}},
		},
		{
			name: "no default: unmatched and unmapped are not recorded",
			opts: routes,
			requests: []request{
				{"GET", "/nowhere", 404}, {"GET", "/checkout", 405}, {"GET", "/unmapped", 200},
				{"GET", "/items/7", 200},
			},
			want: map[string]tally{browseAvail: {Good: 1}},
		},
		{
			name:     "no options: nothing is recorded",
			requests: []request{{"GET", "/items/1", 200}, {"POST", "/checkout", 200}, {"GET", "/nowhere", 404}},
			want:     map[string]tally{},
		},
	}
	for _, tt := range tests {
		// In a synctest bubble no time passes, so the latency objective
		// counts exactly like the availability one.
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				h := newServer(t, eng, tt.opts...).Wrap(newMux())
				for _, r := range tt.requests {
					if rec := serve(h, r.method, r.target); rec.Code != r.code {
						t.Fatalf("%s %s: status = %d, want %d", r.method, r.target, rec.Code, r.code)
					}
				}
				checkTotals(t, eng, tt.want)
			})
		})
	}
}

// TestServerRawPathIgnored sends many distinct paths of one route: they all
// land in the route's objective and nowhere else.
func TestServerRawPathIgnored(t *testing.T) {
	eng := newEngine(t)
	h := newServer(t, eng,
		middleware.WithRoute("GET /items/{id}", browseAvail),
		middleware.WithDefault(serviceAvail),
	).Wrap(newMux())
	const n = 500
	for i := range n {
		target := fmt.Sprintf("/items/%d-%x?q=%d#frag", i, i*7919, i)
		if rec := serve(h, "GET", target); rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status = %d, want 200", target, rec.Code)
		}
	}
	checkTotals(t, eng, map[string]tally{browseAvail: {Good: n}})
}

// routeKey holds the route a stand-in router found. Like chi's RouteContext,
// the holder is put in the context by a layer outside the middleware, so the
// route function can read it after the handler returned.
type routeKey struct{}

func TestServerRouteFunc(t *testing.T) {
	// router stands for a third-party router: it matches on its own and
	// sets no http.Request.Pattern of its own. The Pattern it sets here is
	// mapped to checkout-availability, which must stay empty.
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "GET /items/{id}"
		if strings.HasPrefix(r.URL.Path, "/items/") {
			*r.Context().Value(routeKey{}).(*string) = "/items/:id"
		}
		w.WriteHeader(http.StatusOK)
	})
	eng := newEngine(t)
	var calls int
	mw := newServer(t, eng,
		middleware.WithRouteFunc(func(r *http.Request) string {
			calls++
			if p, ok := r.Context().Value(routeKey{}).(*string); ok {
				return *p
			}
			return ""
		}),
		middleware.WithRoute("/items/:id", browseAvail),
		middleware.WithRoute("GET /items/{id}", checkoutAvail),
		middleware.WithDefault(serviceAvail),
	)
	inner := mw.Wrap(router)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, new(string))))
	})
	for _, target := range []string{"/items/1", "/items/2", "/items/3", "/other"} {
		serve(h, "GET", target)
	}
	if calls != 4 {
		t.Errorf("route func called %d times, want 4", calls)
	}
	checkTotals(t, eng, map[string]tally{browseAvail: {Good: 3}, serviceAvail: {Good: 1}})
}

func TestServerClassification(t *testing.T) {
	tests := []struct {
		name     string
		deadline bool // the request's deadline has passed; else cancel cancels it
		handler  func(w http.ResponseWriter, r *http.Request, cancel context.CancelFunc)
		want     tally
	}{
		{
			name:    "200",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(200) },
			want:    tally{Good: 1},
		},
		{
			name:    "201",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(201) },
			want:    tally{Good: 1},
		},
		{
			name:    "404",
			handler: func(w http.ResponseWriter, r *http.Request, _ context.CancelFunc) { http.NotFound(w, r) },
			want:    tally{Good: 1},
		},
		{
			name:    "429",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(429) },
			want:    tally{Good: 1},
		},
		{
			name:    "500",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { w.WriteHeader(500) },
			want:    tally{Bad: 1},
		},
		{
			name: "503 with body",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
			},
			want: tally{Bad: 1},
		},
		{
			name:    "nothing written",
			handler: func(http.ResponseWriter, *http.Request, context.CancelFunc) {},
			want:    tally{Good: 1},
		},
		{
			name:    "Write without WriteHeader",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) { io.WriteString(w, "hi") },
			want:    tally{Good: 1},
		},
		{
			name: "500 after Write is superfluous",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
				io.WriteString(w, "hi")
				w.WriteHeader(500)
			},
			want: tally{Good: 1},
		},
		{
			name: "103 then 200",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(200)
			},
			want: tally{Good: 1},
		},
		{
			name: "103 then 500",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(500)
			},
			want: tally{Bad: 1},
		},
		{
			name: "103 only",
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
				w.WriteHeader(http.StatusEarlyHints)
			},
			want: tally{Good: 1},
		},
		{
			name:    "canceled, nothing written",
			handler: func(_ http.ResponseWriter, _ *http.Request, cancel context.CancelFunc) { cancel() },
			want:    tally{Neutral: 1},
		},
		{
			name: "canceled after 103 only",
			handler: func(w http.ResponseWriter, _ *http.Request, cancel context.CancelFunc) {
				w.WriteHeader(http.StatusEarlyHints)
				cancel()
			},
			want: tally{Neutral: 1},
		},
		{
			name: "canceled after 200",
			handler: func(w http.ResponseWriter, _ *http.Request, cancel context.CancelFunc) {
				w.WriteHeader(200)
				cancel()
			},
			want: tally{Good: 1},
		},
		{
			name: "canceled after 500",
			handler: func(w http.ResponseWriter, _ *http.Request, cancel context.CancelFunc) {
				w.WriteHeader(500)
				cancel()
			},
			want: tally{Bad: 1},
		},
		{
			name: "canceled, then 503",
			handler: func(w http.ResponseWriter, _ *http.Request, cancel context.CancelFunc) {
				cancel()
				w.WriteHeader(503)
			},
			want: tally{Bad: 1},
		},
		{
			name:     "deadline exceeded, then 503",
			deadline: true,
			handler: func(w http.ResponseWriter, _ *http.Request, _ context.CancelFunc) {
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			want: tally{Bad: 1},
		},
		{
			// The handler ran out of time and gave up without an answer:
			// net/http sends an empty 200, but the user got nothing.
			name:     "deadline exceeded, nothing written",
			deadline: true,
			handler:  func(http.ResponseWriter, *http.Request, context.CancelFunc) {},
			want:     tally{Bad: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			h := newServer(t, eng, middleware.WithDefault(serviceAvail))
			ctx, cancel := context.WithCancel(t.Context())
			if tt.deadline {
				ctx, cancel = context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
			}
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
			h.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w, r, cancel)
			})).ServeHTTP(httptest.NewRecorder(), req)
			checkTotals(t, eng, map[string]tally{serviceAvail: tt.want})
		})
	}
}

// TestServerResponse checks what the classifier is told about each kind of
// response.
func TestServerResponse(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    middleware.Response
	}{
		{"nothing", func(http.ResponseWriter, *http.Request) {}, middleware.Response{Status: 200}},
		{"204", status(204), middleware.Response{Status: 204, Written: true}},
		{"Write", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("x")) }, middleware.Response{Status: 200, Written: true}},
		{"empty Write", func(w http.ResponseWriter, _ *http.Request) { w.Write(nil) }, middleware.Response{Status: 200, Written: true}},
		{"first status wins", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(404)
			w.WriteHeader(500)
		}, middleware.Response{Status: 404, Written: true}},
		{"103 only", status(103), middleware.Response{Status: 200}},
		{"100 then 102 then 502", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(100)
			w.WriteHeader(102)
			w.WriteHeader(502)
		}, middleware.Response{Status: 502, Written: true}},
		{"101", status(101), middleware.Response{Status: 101, Written: true}},
		{"Flush", func(w http.ResponseWriter, _ *http.Request) { w.(http.Flusher).Flush() }, middleware.Response{Status: 200, Written: true}},
		{"ReadFrom", func(w http.ResponseWriter, _ *http.Request) {
			w.(io.ReaderFrom).ReadFrom(strings.NewReader("x"))
		}, middleware.Response{Status: 200, Written: true}},
		{"io.Copy", func(w http.ResponseWriter, _ *http.Request) {
			io.Copy(w, struct{ io.Reader }{strings.NewReader("x")})
		}, middleware.Response{Status: 200, Written: true}},
		{"failed Hijack", func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Hijacker).Hijack() // a recorder can not be hijacked
		}, middleware.Response{Status: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(capture, 1)
			h := newServer(t, newEngine(t), middleware.WithClassifier(seen.classify)).Wrap(tt.handler)
			serve(h, "GET", "/")
			if got := seen.next(t); got != tt.want {
				t.Errorf("classifier got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestServerCustomClassifier(t *testing.T) {
	// Rate limiting by the application spends budget; a 404 says nothing
	// about the service.
	classify := func(r *http.Request, resp middleware.Response) budget.Outcome {
		switch resp.Status {
		case http.StatusTooManyRequests:
			return budget.Bad
		case http.StatusNotFound:
			return budget.Neutral
		}
		return middleware.DefaultClassifier(r, resp)
	}
	// synctest: no time passes, so the latency objective follows the
	// classifier exactly.
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		mux := http.NewServeMux()
		mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(map[string]int{"ok": 200, "limited": 429, "down": 503}[r.URL.Query().Get("case")])
		})
		h := newServer(t, eng,
			middleware.WithClassifier(classify),
			middleware.WithRoute("POST /checkout", checkoutAvail, checkoutLatency),
			middleware.WithDefault(serviceAvail),
		).Wrap(mux)
		for _, target := range []string{"/checkout?case=ok", "/checkout?case=limited", "/checkout?case=down", "/checkout?case=ok"} {
			serve(h, "POST", target)
		}
		serve(h, "GET", "/nowhere")
		checkTotals(t, eng, map[string]tally{
			checkoutAvail:   {Good: 2, Bad: 2},
			checkoutLatency: {Good: 2, Bad: 2},
			serviceAvail:    {Neutral: 1},
		})
	})
}

// TestServerLatency runs under synctest, where time.Sleep advances a fake
// clock at once, so a handler takes exactly as long as it sleeps.
func TestServerLatency(t *testing.T) {
	tests := []struct {
		name  string
		sleep time.Duration
		code  int
		want  map[string]tally
	}{
		{"fast", 10 * time.Millisecond, 200, map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Good: 1}}},
		{"at threshold", 300 * time.Millisecond, 200, map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Good: 1}}},
		{"just over threshold", 300*time.Millisecond + 1, 200, map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Bad: 1}}},
		{"slow", 500 * time.Millisecond, 200, map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Bad: 1}}},
		{"fast failure", 0, 500, map[string]tally{checkoutAvail: {Bad: 1}, checkoutLatency: {Bad: 1}}},
		{"slow failure", 500 * time.Millisecond, 503, map[string]tally{checkoutAvail: {Bad: 1}, checkoutLatency: {Bad: 1}}},
		{"slow 404", 500 * time.Millisecond, 404, map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Bad: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				h := newServer(t, eng, middleware.WithRoute("POST /checkout", checkoutAvail, checkoutLatency))
				mux := http.NewServeMux()
				mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, _ *http.Request) {
					time.Sleep(tt.sleep)
					w.WriteHeader(tt.code)
				})
				serve(h.Wrap(mux), "POST", "/checkout")
				checkTotals(t, eng, tt.want)
			})
		})
	}
}

// TestServerLatencyCanceled: a request its client gave up on is neutral for
// availability, and for a latency objective too when it was fast enough; a
// slow one is bad there, so a server that hangs until its clients leave
// spends latency budget.
func TestServerLatencyCanceled(t *testing.T) {
	tests := []struct {
		name  string
		sleep time.Duration
		want  map[string]tally
	}{
		{"fast", 100 * time.Millisecond, map[string]tally{checkoutAvail: {Neutral: 1}, checkoutLatency: {Neutral: 1}}},
		{"slow", time.Second, map[string]tally{checkoutAvail: {Neutral: 1}, checkoutLatency: {Bad: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				h := newServer(t, eng, middleware.WithDefault(checkoutAvail, checkoutLatency)).Wrap(
					http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(tt.sleep) }))
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, "GET", "/", nil))
				checkTotals(t, eng, tt.want)
			})
		})
	}
}

type panicValue struct{ msg string }

func TestServerPanic(t *testing.T) {
	tests := []struct {
		name  string
		value any
		write bool // write 200 before panicking
	}{
		{"pointer", &panicValue{"boom"}, false},
		{"error", errors.New("boom"), false},
		{"ErrAbortHandler", http.ErrAbortHandler, false},
		{"ErrAbortHandler after 200", http.ErrAbortHandler, true},
		{"pointer after 200", &panicValue{"late"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /panic", func(w http.ResponseWriter, _ *http.Request) {
				if tt.write {
					w.WriteHeader(http.StatusOK)
				}
				panic(tt.value)
			})
			mux.HandleFunc("GET /ok", status(http.StatusCreated))
			h := newServer(t, eng,
				middleware.WithRoute("GET /panic", checkoutAvail, checkoutLatency),
				middleware.WithRoute("GET /ok", browseAvail),
			).Wrap(mux)

			got := func() (p any) {
				defer func() { p = recover() }()
				serve(h, "GET", "/panic")
				return nil
			}()
			if got != tt.value {
				t.Errorf("recovered %v (%T), want %v (%T)", got, got, tt.value, tt.value)
			}

			// The next requests are served and recorded as usual.
			for range 3 {
				if rec := serve(h, "GET", "/ok"); rec.Code != http.StatusCreated {
					t.Errorf("GET /ok after a panic: status = %d, want %d", rec.Code, http.StatusCreated)
				}
			}
			checkTotals(t, eng, map[string]tally{
				checkoutAvail:   {Bad: 1},
				checkoutLatency: {Bad: 1},
				browseAvail:     {Good: 3},
			})
		})
	}
}

func TestServerConcurrent(t *testing.T) {
	eng := newEngine(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "bad" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "item")
	})
	mux.HandleFunc("POST /checkout", status(http.StatusOK))
	// Real time passes here, so no latency objective.
	h := newServer(t, eng,
		middleware.WithRoute("GET /items/{id}", browseAvail),
		middleware.WithRoute("POST /checkout", checkoutAvail),
		middleware.WithDefault(serviceAvail),
	).Wrap(mux)

	const goroutines, perG = 8, 250 // each sends perG rounds of 4 requests
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				serve(h, "GET", fmt.Sprintf("/items/%d-%d", g, i))
				serve(h, "GET", "/items/bad")
				serve(h, "POST", "/checkout")
				serve(h, "GET", "/nowhere")
			}
		})
	}
	wg.Wait()
	n := uint64(goroutines * perG)
	checkTotals(t, eng, map[string]tally{
		browseAvail:   {Good: n, Bad: n},
		checkoutAvail: {Good: n},
		serviceAvail:  {Good: n},
	})
}

// TestServerAllocs guards the hot path: a request in steady state allocates
// nothing in the middleware, with admission configured or not, while
// nothing is shed, and while load is shed but the request's criticality is
// known without looking its route up. A route with its own criticality
// costs the copy of the request whose context carries it, and nothing more.
func TestServerAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	routes := []middleware.Option{
		middleware.WithRoute("GET /items/{id}", checkoutAvail, checkoutLatency),
		middleware.WithDefault(serviceAvail),
	}
	admission := append(slices.Clone(routes),
		middleware.WithRouteCriticality("GET /recommendations/{id}", slo.Sheddable),
		middleware.WithRouteCriticality("GET /vip", slo.CriticalPlus),
		middleware.WithTrustedCriticality(func(*http.Request) bool { return true }),
	)
	t.Run("route with its own criticality", func(t *testing.T) {
		h := newServer(t, newEngine(t), admission...).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
		}))
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/vip", nil)
		req.Pattern = "GET /vip" // as an outer http.ServeMux does
		if got := testing.AllocsPerRun(1000, func() { h.ServeHTTP(rec, req) }); got != 2 {
			t.Errorf("AllocsPerRun(ServeHTTP) = %v, want 2: the request's copy and its context", got)
		}
	})
	servers := []struct {
		name string
		mw   *middleware.Server
		ctx  bool // the request carries CRITICAL_PLUS in its context
	}{
		{"plain", newServer(t, newEngine(t), routes...), false},
		{"admission, shedding off", newServer(t, newEngine(t), admission...), false},
		{"admission, level 0", newServer(t, newShedEngine(t, 0), admission...), false},
		{"admission, level 1.5, criticality in context", newServer(t, newShedEngine(t, 1.5), admission...), true},
	}
	handlers := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"route", func(w http.ResponseWriter, r *http.Request) {
			r.Pattern = "GET /items/{id}" // as http.ServeMux does
			w.WriteHeader(http.StatusOK)
		}},
		{"default", status(http.StatusOK)},
		{"bad", status(http.StatusInternalServerError)},
	}
	for _, s := range servers {
		for _, tt := range handlers {
			t.Run(s.name+"/"+tt.name, func(t *testing.T) {
				h := s.mw.Wrap(tt.handler)
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/items/1", nil)
				if s.ctx {
					req = req.WithContext(slo.WithCriticality(req.Context(), slo.CriticalPlus))
				}
				if got := testing.AllocsPerRun(1000, func() { h.ServeHTTP(rec, req) }); got != 0 {
					t.Errorf("AllocsPerRun(ServeHTTP) = %v, want 0", got)
				}
				if rec.Code == http.StatusTooManyRequests {
					t.Errorf("ServeHTTP() = 429, want the request admitted")
				}
			})
		}
	}
}
