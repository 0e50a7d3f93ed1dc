package middleware

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/sloguard/sloguard/slo"
)

// Server is net/http server middleware that admits every request through
// the engine's admission core (slo.Route) and records it as SLI events of
// the objectives of its route.
//
// There are two ways to wire it. Handle wraps one route's handler, as it
// is registered with the mux: the route is known when wiring, so a
// request is routed once, by the mux, and admission looks nothing up.
// Wrap wraps a whole handler, usually the mux: the route is found after
// the handler returns, from the pattern that http.ServeMux stores in the
// request (http.Request.Pattern) or from the function of WithRouteFunc,
// and mapped to objectives with WithRoute; all other requests go to the
// objectives of WithDefault. Middleware in between that replaces the
// request with a copy (r.WithContext) hides the pattern, and then
// WithRouteFunc is the way.
//
// # Admission
//
// Before the handler runs, the Server asks the route's core whether to
// serve the request (slo.Route.Admit), with the request's criticality: the
// one in its context (slo.WithCriticality, set by earlier middleware),
// else the least critical of a trusted CriticalityHeader
// (WithTrustedCriticality), else the route's (WithRouteCriticality), else
// slo.Critical; the handler's context carries the header's or the route's
// (see "Criticality and trust" in the package doc). A rejected request is
// answered at once with 429 Too Many Requests and a Retry-After in whole
// seconds, and recorded as Shed by the core; the handler never runs, so
// the request body is never read.
//
// With shedding on (slo.WithShedding) or route criticalities, a Server
// from Wrap must know the route before serving, for its criticality: it
// asks the wrapped http.ServeMux's Handler method (which routes the
// request a second time), takes a pattern an outer mux already set, or
// calls the function of WithRouteFunc. Handle needs none of that.
//
// Each request costs two clock reads and a few atomic operations on
// counters of its own processor, and one on the gate's in-flight count:
// no lock and, in steady state, no allocation.
//
// A Server is safe for concurrent use.
type Server struct {
	eng      *slo.Engine
	routes   map[string]*route
	fallback *route
	routeOf  func(*http.Request) string
	custom   bool // routeOf comes from WithRouteFunc
	before   bool // Wrap finds the route before serving: route criticalities or shedding
	classify Classifier
	writers  sync.Pool                // of *responseWriter
	trust    func(*http.Request) bool // nil: the header is never trusted
}

// route is what the Server knows of one route pattern: its admission
// core, and whether its criticality comes from WithRouteCriticality, so
// that the handler's context carries it.
type route struct {
	rt  *slo.Route
	own bool
}

// NewServer returns server middleware that records into eng. It checks every
// option and that every objective it names exists in eng, and reports every
// problem at once.
func NewServer(eng *slo.Engine, opts ...Option) (*Server, error) {
	cfg := config{routes: map[string][]string{}, classify: DefaultClassifier, critical: map[string]slo.Criticality{}}
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("%w: option %d is nil", ErrInvalidOption, i))
			continue
		}
		o.apply(&cfg)
	}
	errs := cfg.errs
	if eng == nil {
		return nil, errors.Join(append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))...)
	}
	// resolve returns the route of a pattern ("" for the default)
	// recorded in names.
	resolve := func(pattern string, names []string) *route {
		where := fmt.Sprintf("route %q", pattern)
		if pattern == "" {
			where = "default"
		}
		c, own := cfg.critical[pattern]
		if !own {
			c = slo.Critical
		}
		rt, err := eng.Route(c, names...)
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, err := range joined.Unwrap() { // one line per problem
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidOption, where, err))
			}
		}
		return &route{rt: rt, own: own}
	}
	s := &Server{
		eng:      eng,
		routes:   make(map[string]*route, len(cfg.routes)+len(cfg.critical)),
		routeOf:  cfg.routeFunc,
		custom:   cfg.routeFunc != nil,
		before:   len(cfg.critical) > 0 || eng.Shedding(),
		classify: cfg.classify,
		trust:    cfg.trust,
	}
	s.fallback = resolve("", cfg.fallback)
	for _, p := range cfg.order {
		s.routes[p] = resolve(p, cfg.routes[p])
	}
	for _, p := range slices.Sorted(maps.Keys(cfg.critical)) {
		if _, ok := cfg.routes[p]; !ok { // a criticality alone: the default objectives
			s.routes[p] = resolve(p, cfg.fallback)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if s.routeOf == nil {
		s.routeOf = func(r *http.Request) string { return r.Pattern }
	}
	s.writers.New = func() any { return new(responseWriter) }
	return s, nil
}

// route returns the route of a pattern: its own, or the default.
func (s *Server) route(pattern string) *route {
	if rt, ok := s.routes[pattern]; ok {
		return rt
	}
	return s.fallback
}

// Handle returns h wrapped by the middleware for the route pattern, as it
// is registered with the mux:
//
//	mux.Handle("POST /checkout", mw.Handle("POST /checkout", checkout))
//
// The route is resolved now, so its requests are routed once, by the mux,
// and admitted with no lookup. A pattern without WithRoute records in the
// objectives of WithDefault.
func (s *Server) Handle(pattern string, h http.Handler) http.Handler {
	rt := s.route(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, h, rt, false)
	})
}

// Wrap returns next wrapped by the middleware. Its shape,
// func(http.Handler) http.Handler, fits middleware chains. When next is an
// *http.ServeMux, admission can find the route before serving (see Server).
func (s *Server) Wrap(next http.Handler) http.Handler {
	mux, _ := next.(*http.ServeMux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, after := s.fallback, true
		if s.before {
			rt, after = s.route(s.routeBefore(r, mux)), false
		}
		s.serve(w, r, next, rt, after)
	})
}

// serve admits r on route rt, serves it with next and records it. With
// after, the route is found again once next has returned.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, next http.Handler, rt *route, after bool) {
	r, t, ok := s.admit(w, r, rt)
	if !ok {
		return
	}
	rw := s.writers.Get().(*responseWriter)
	rw.reset(w)
	outcome := slo.Bad // a panic on its way up: counted as Bad, and not caught
	defer func() {
		if after {
			t = t.Reroute(s.route(s.routeOf(r)).rt)
		}
		t.Done(outcome)
	}()
	next.ServeHTTP(rw, r)
	resp := Response{Status: rw.status, Written: rw.wrote}
	if !rw.wrote {
		resp.Status = http.StatusOK
	}
	outcome = s.classify(r, resp)
	if rw.breaker {
		outcome = slo.Shed // answered by Error for an open breaker downstream
	}
	// The writer is reused only when no panic may still reference it.
	rw.reset(nil)
	s.writers.Put(rw)
}
