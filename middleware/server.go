package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/internal/wiring"
	"github.com/sloguard/sloguard/slo"
)

// Server is net/http server middleware that admits every request through
// the engine's admission core (slo.Route) and records it as SLI events of
// the objectives of its route. The package doc says how to wire it (Handle
// or Wrap), how it classifies requests ("Classification"), admits them
// ("Admission"), takes their criticality ("Criticality and trust") and
// what it costs ("Cost").
//
// A Server is safe for concurrent use. The zero Server is not usable: get
// one from NewServer.
type Server struct {
	eng      *slo.Engine
	routes   *wiring.Routes
	routeOf  func(*http.Request) string
	custom   bool // routeOf comes from WithRouteFunc
	before   bool // Wrap finds the route before serving: route criticalities or shedding
	classify Classifier
	writers  sync.Pool                // of *responseWriter
	trust    func(*http.Request) bool // nil: the header is never trusted
}

// NewServer returns server middleware that records into eng. It checks every
// option and that every objective it names exists in eng, and reports every
// problem at once.
func NewServer(eng *slo.Engine, opts ...Option) (*Server, error) {
	cfg := config{routes: map[string][]string{}, classify: DefaultClassifier, critical: map[string]slo.Criticality{}}
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "option", func(o Option) { o.apply(&cfg) })
	errs := cfg.errs
	if eng == nil {
		return nil, errors.Join(append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))...)
	}
	routes, rerrs := wiring.Resolve(eng, "route", ErrInvalidOption, cfg.order, cfg.routes, cfg.critical, cfg.fallback)
	errs = append(errs, rerrs...)
	s := &Server{
		eng:      eng,
		routes:   routes,
		routeOf:  cfg.routeFunc,
		custom:   cfg.routeFunc != nil,
		before:   len(cfg.critical) > 0 || eng.Shedding(),
		classify: cfg.classify,
		trust:    cfg.trust,
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

// Handle returns h wrapped by the middleware for the route pattern, as it
// is registered with the mux:
//
//	mux.Handle("POST /checkout", mw.Handle("POST /checkout", checkout))
//
// The route is resolved now, so its requests are routed once, by the mux,
// and admitted with no lookup. A pattern without WithRoute records in the
// objectives of WithDefault.
func (s *Server) Handle(pattern string, h http.Handler) http.Handler {
	rt := s.routes.Lookup(pattern)
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
		rt, after := s.routes.Fallback, true
		if s.before {
			rt, after = s.routes.Lookup(s.routeBefore(r, mux)), false
		}
		s.serve(w, r, next, rt, after)
	})
}

// serve admits r on route rt, serves it with next and records it. With
// after, the route is found again once next has returned.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, next http.Handler, rt *wiring.Route, after bool) {
	r, t, ok := s.admit(w, r, rt)
	if !ok {
		return
	}
	rw := s.writers.Get().(*responseWriter)
	rw.reset(w)
	outcome := slo.Bad // a panic on its way up: counted as Bad, and not caught
	defer func() {
		if after {
			t = t.Reroute(s.routes.Lookup(s.routeOf(r)).Route)
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
		outcome = slo.Shed // answered by WriteError for an open breaker downstream
	}
	// The writer is reused only when no panic may still reference it.
	rw.reset(nil)
	s.writers.Put(rw)
}
