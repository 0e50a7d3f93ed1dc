package middleware

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/sloguard/sloguard/slo"
)

// Response is what the server middleware saw of one response, for a
// Classifier. The zero Response is a handler that wrote nothing and set no
// status; the Server never passes it (it passes Status 200 then).
type Response struct {
	// Status is the status code sent, or 200 when the handler returned
	// without writing one (net/http then sends 200).
	Status int
	// Written says whether the status line was sent before the handler
	// returned.
	Written bool
}

// Classifier decides the availability outcome of one request: Good, Bad or
// Neutral (not counted). Latency objectives then count a Good request as
// Bad when it was slower than their threshold. A Classifier is called on
// the request path and must be fast and safe for concurrent use. A nil
// Classifier is refused by WithClassifier.
type Classifier func(r *http.Request, resp Response) slo.Outcome

// DefaultClassifier counts 5xx as Bad; a request that ended with nothing
// written because its client went away (context.Canceled) as Neutral, and
// because its deadline passed (context.DeadlineExceeded) as Bad, although
// net/http then sends an empty 200; everything else as Good.
func DefaultClassifier(r *http.Request, resp Response) slo.Outcome {
	if resp.Status >= 500 {
		return slo.Bad
	}
	if !resp.Written {
		switch err := r.Context().Err(); {
		case errors.Is(err, context.Canceled):
			return slo.Neutral
		case errors.Is(err, context.DeadlineExceeded):
			return slo.Bad
		}
	}
	return slo.Good
}

type config struct {
	routes    map[string][]string
	order     []string // patterns in the order given, for error messages
	fallback  []string
	routeFunc func(*http.Request) string
	classify  Classifier
	critical  map[string]slo.Criticality
	trust     func(*http.Request) bool
	errs      []error
}

// Option configures a Server. Options come only from this package's With
// functions; a nil Option is refused by NewServer.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithRoute records requests served by the route pattern under the named
// objectives. The pattern is the one the route was registered with, as
// http.Request.Pattern reports it (for example "GET /items/{id}"), or what
// the function of WithRouteFunc returns. Raw paths are never used.
//
// By default, no route is mapped and requests go to the objectives of
// WithDefault.
func WithRoute(pattern string, objectives ...string) Option {
	return optionFunc(func(c *config) {
		switch {
		case pattern == "":
			c.errs = append(c.errs, fmt.Errorf("%w: WithRoute with an empty pattern", ErrInvalidOption))
		case len(objectives) == 0:
			c.errs = append(c.errs, fmt.Errorf("%w: route %q has no objectives", ErrInvalidOption, pattern))
		default:
			if _, dup := c.routes[pattern]; dup {
				c.errs = append(c.errs, fmt.Errorf("%w: route %q is given twice", ErrInvalidOption, pattern))
				return
			}
			c.routes[pattern] = objectives
			c.order = append(c.order, pattern)
		}
	})
}

// WithDefault records requests whose route has no WithRoute, including
// requests that matched no route at all, under the named objectives: all
// of them share this one bucket, whatever their path.
//
// By default, such requests are not recorded.
func WithDefault(objectives ...string) Option {
	return optionFunc(func(c *config) {
		if len(objectives) == 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: WithDefault with no objectives", ErrInvalidOption))
			return
		}
		c.fallback = objectives
	})
}

// WithRouteFunc sets how the route of a request is found, for routers other
// than http.ServeMux: f is called after the handler returns and must return
// the route's pattern (a bounded set of values, never the raw path), or ""
// when there is none. When routes have a criticality
// (WithRouteCriticality) or the engine has shedding on, f is also called
// before the handler runs, for every request, to find the route to admit it
// on (see "Criticality and trust" in the package doc); it must then return
// the route if it is already known, or "", and must not panic.
//
// By default, http.Request.Pattern as set by http.ServeMux.
func WithRouteFunc(f func(*http.Request) string) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil route func", ErrInvalidOption))
			return
		}
		c.routeFunc = f
	})
}

// WithClassifier sets how a response is judged for the availability SLI.
//
// By default, DefaultClassifier.
func WithClassifier(f Classifier) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil classifier", ErrInvalidOption))
			return
		}
		c.classify = f
	})
}

// WithRouteCriticality sets the criticality with which requests of the route
// pattern (as in WithRoute) are admitted, unless the request carries one
// in its context or in a trusted CriticalityHeader (see "Criticality and
// trust" in the package doc); it decides only while load is being shed. The handler's context then carries it, so its outbound
// calls pass it on (see "Criticality and trust" in the package doc). The
// pattern need not have a WithRoute.
//
// By default, every route is slo.Critical.
func WithRouteCriticality(pattern string, c slo.Criticality) Option {
	return optionFunc(func(cfg *config) {
		switch {
		case pattern == "":
			cfg.errs = append(cfg.errs, fmt.Errorf("%w: WithRouteCriticality with an empty pattern", ErrInvalidOption))
		case !c.Valid():
			cfg.errs = append(cfg.errs, fmt.Errorf("%w: route %q has an unknown criticality %v", ErrInvalidOption, pattern, c))
		default:
			if _, dup := cfg.critical[pattern]; dup {
				cfg.errs = append(cfg.errs, fmt.Errorf("%w: route %q is given a criticality twice", ErrInvalidOption, pattern))
				return
			}
			cfg.critical[pattern] = c
		}
	})
}

// WithTrustedCriticality makes the server honour the CriticalityHeader of
// the requests for which trust returns true, for example requests from
// the service's own front end over an authenticated connection. trust is
// called on the request path, only for requests that carry the header, and
// must be fast and safe for concurrent use. Of several values (repeated or
// comma-separated), the least critical counts; values that
// slo.ParseCriticality rejects are ignored, and a header with none valid is
// treated as absent. An honoured level reaches the handler's context.
//
// By default, the header is never trusted: a client can not set, let alone
// raise, the criticality of its own requests.
func WithTrustedCriticality(trust func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if trust == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil trust func", ErrInvalidOption))
			return
		}
		c.trust = trust
	})
}

type transportConfig struct {
	classify  func(*http.Response, error) slo.Outcome
	retries   int
	perSecond float64
	errs      []error
}

// TransportOption configures a Transport. TransportOptions come only from
// this package's With functions; a nil one is refused by NewTransport.
type TransportOption interface {
	applyTransport(*transportConfig)
}

type transportOptionFunc func(*transportConfig)

func (f transportOptionFunc) applyTransport(c *transportConfig) { f(c) }

// WithTransportClassifier sets how the outcome of one call is judged for
// the dependency's objectives and its breaker: f gets what the base
// RoundTripper returned, a response or an error. It is called on the
// request path and must be fast and safe for concurrent use, and must not
// read the response body.
//
// By default, DefaultTransportClassifier.
func WithTransportClassifier(f func(*http.Response, error) slo.Outcome) TransportOption {
	return transportOptionFunc(func(c *transportConfig) {
		if f == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil transport classifier", ErrInvalidOption))
			return
		}
		c.classify = f
	})
}

// WithRetries retries failed calls that are safe to repeat: GET, HEAD and
// OPTIONS requests without a body, after a transport error (other than the
// context's: the caller gave up) or a 502, 503 or 504 response. A call is
// retried at once, at most maxRetries times, and each retry takes a token
// from the Transport's retry budget, a token bucket that refills at
// perSecond tokens a second and holds max(1, int(perSecond)): when the
// dependency fails for everyone, retries stop multiplying its load. Every
// attempt goes through the breaker and is recorded. When the budget or the
// breaker refuses a retry, the caller gets the last result; a discarded
// response's body is drained (up to 4 KiB) and closed.
//
// By default, calls are not retried.
func WithRetries(maxRetries int, perSecond float64) TransportOption {
	return transportOptionFunc(func(c *transportConfig) {
		var errs []error
		if maxRetries < 0 {
			errs = append(errs, fmt.Errorf("%w: %d retries is negative", ErrInvalidOption, maxRetries))
		}
		if !(perSecond > 0) || math.IsInf(perSecond, 0) {
			errs = append(errs, fmt.Errorf("%w: retry budget of %v a second is not a positive number", ErrInvalidOption, perSecond))
		}
		if len(errs) > 0 {
			c.errs = append(c.errs, errs...)
			return
		}
		c.retries, c.perSecond = maxRetries, perSecond
	})
}
