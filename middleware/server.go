package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sloguard/sloguard/internal/mono"
	"github.com/sloguard/sloguard/slo"
)

// Server is net/http server middleware that records every request as SLI
// events of the objectives of its route.
//
// The route is found after the handler returns, from the pattern that
// http.ServeMux stores in the request (http.Request.Pattern) or from the
// function of WithRouteFunc, and mapped to objectives with WithRoute; all
// other requests go to the objectives of WithDefault. So a Server wraps the
// mux itself (or each route's handler): middleware in between that replaces
// the request with a copy (r.WithContext) hides the pattern, and then
// WithRouteFunc is the way.
//
// # Admission
//
// Before the handler runs, the Server asks the engine whether to serve the
// request (slo.Engine.Admit), with the request's criticality: the one in
// its context (slo.WithCriticality, set by earlier middleware), else the
// least critical of a trusted CriticalityHeader (WithTrustedCriticality),
// else the route's (WithRouteCriticality), else slo.Critical; the handler's
// context carries the header's or the route's (see "Criticality and trust"
// in the package doc). A rejected request is answered at once with 429 Too
// Many Requests and a Retry-After in whole seconds, and recorded as Shed in
// its route's objectives; the handler never runs, so the request body is
// never read.
//
// With route criticalities, the route is looked up before the handler
// runs: with the wrapped http.ServeMux's Handler method, from a pattern an
// outer mux already set (a Server wrapping one route's handler), or with
// the function of WithRouteFunc. A Server wrapping another router, with no
// route function, admits by context or header criticality only.
//
// Each request costs two clock reads, one map lookup, one atomic load and
// one atomic add for admission, and one atomic add per objective: no lock
// and, in steady state, no allocation unless its context must carry a
// criticality.
//
// A Server is safe for concurrent use.
type Server struct {
	eng      *slo.Engine
	routes   map[string][]*slo.Recorder
	fallback []*slo.Recorder
	routeOf  func(*http.Request) string
	custom   bool // routeOf comes from WithRouteFunc
	classify Classifier
	writers  sync.Pool // of *responseWriter

	// critical holds the routes' criticalities by pattern; nil when none,
	// and then routes are never looked up before serving.
	critical map[string]slo.Criticality
	trust    func(*http.Request) bool // nil: the header is never trusted
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
	resolve := func(where string, names []string) []*slo.Recorder {
		recs, err := eng.Recorders(names...)
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, err := range joined.Unwrap() { // one line per problem
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidOption, where, err))
			}
		}
		return recs
	}
	s := &Server{
		eng:      eng,
		routes:   make(map[string][]*slo.Recorder, len(cfg.routes)),
		routeOf:  cfg.routeFunc,
		custom:   cfg.routeFunc != nil,
		classify: cfg.classify,
		trust:    cfg.trust,
	}
	if len(cfg.critical) > 0 {
		s.critical = cfg.critical
	}
	for _, p := range cfg.order {
		s.routes[p] = resolve(fmt.Sprintf("route %q", p), cfg.routes[p])
	}
	if cfg.fallback != nil {
		s.fallback = resolve("default", cfg.fallback)
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

// Wrap returns next wrapped by the middleware. Its shape,
// func(http.Handler) http.Handler, fits middleware chains. When next is an
// *http.ServeMux, admission can find the route before serving (see Server).
func (s *Server) Wrap(next http.Handler) http.Handler {
	mux, _ := next.(*http.ServeMux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, ok := s.admit(w, r, mux)
		if !ok {
			return
		}
		start := mono.Now()
		rw := s.writers.Get().(*responseWriter)
		rw.reset(w)
		returned := false
		defer func() {
			if !returned {
				// A panic is on its way up: count it as bad and let it go
				// on unchanged, with its stack. The writer may still be
				// referenced, so it is not reused.
				s.record(r, slo.Bad, mono.Now()-start)
			}
		}()
		next.ServeHTTP(rw, r)
		returned = true
		resp := Response{Status: rw.status, Written: rw.wrote}
		if !rw.wrote {
			resp.Status = http.StatusOK
		}
		outcome := slo.Shed // answered by Error for an open breaker downstream
		if !rw.breaker {
			outcome = s.classify(r, resp)
		}
		rw.reset(nil)
		s.writers.Put(rw)
		s.record(r, outcome, mono.Now()-start)
	})
}

func (s *Server) record(r *http.Request, o slo.Outcome, elapsed time.Duration) {
	recs, ok := s.routes[s.routeOf(r)]
	if !ok {
		recs = s.fallback
	}
	for _, rec := range recs {
		rec.Record(o, elapsed)
	}
}
