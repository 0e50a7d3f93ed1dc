package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/sloguard/sloguard/slo"
)

// Response is what the server middleware saw of one response, for a
// Classifier.
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
// the request path and must be fast and safe for concurrent use.
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
	errs      []error
}

// Option configures a Server.
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
			if err := checkDistinct(fmt.Sprintf("route %q", pattern), objectives); err != nil {
				c.errs = append(c.errs, err)
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
		if err := checkDistinct("default", objectives); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.fallback = objectives
	})
}

// WithRouteFunc sets how the route of a request is found, for routers other
// than http.ServeMux: f is called after the handler returns and must return
// the route's pattern (a bounded set of values, never the raw path), or ""
// when there is none.
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

// checkDistinct reports an objective named twice for one route: every
// request would be counted twice.
func checkDistinct(where string, objectives []string) error {
	for i, n := range objectives {
		if slices.Contains(objectives[:i], n) {
			return fmt.Errorf("%w: %s names objective %q twice", ErrInvalidOption, where, n)
		}
	}
	return nil
}
