// Package wiring resolves the routes of HTTP server middleware and the
// methods of gRPC server interceptors to their admission cores
// (slo.Route), the same way for both: once, when the middleware is built.
package wiring

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sloguard/sloguard/slo"
)

// Route is one route or method: its admission core, and whether its
// criticality was given (WithRouteCriticality, WithMethodCriticality), so
// that the handler's context carries it.
type Route struct {
	*slo.Route
	Own bool
}

// Routes are the routes or methods of one server middleware, by name.
type Routes struct {
	ByName   map[string]*Route
	Fallback *Route // the default: requests of no named route
}

// Lookup returns the named route, or the default.
func (rs *Routes) Lookup(name string) *Route {
	if r, ok := rs.ByName[name]; ok {
		return r
	}
	return rs.Fallback
}

// Resolve resolves every route of the middleware: those with objectives,
// named in order, those with only a criticality (crit), which record in
// the default objectives, and the default (fallback). noun names a route
// in errors ("route", "method"). Each problem is one error, wrapping
// invalid (the middleware's ErrInvalidOption) and the engine's.
func Resolve(eng *slo.Engine, noun string, invalid error, order []string, objectives map[string][]string,
	crit map[string]slo.Criticality, fallback []string) (*Routes, []error) {
	var errs []error
	resolve := func(name string, names []string) *Route {
		where := fmt.Sprintf("%s %q", noun, name)
		if name == "" {
			where = "default"
		}
		c, own := crit[name]
		if !own {
			c = slo.Critical
		}
		rt, err := eng.Route(c, names...)
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, err := range joined.Unwrap() { // one line per problem
				errs = append(errs, fmt.Errorf("%w: %s: %w", invalid, where, err))
			}
		}
		return &Route{Route: rt, Own: own}
	}
	rs := &Routes{ByName: make(map[string]*Route, len(objectives)+len(crit))}
	rs.Fallback = resolve("", fallback)
	for _, name := range order {
		rs.ByName[name] = resolve(name, objectives[name])
	}
	for _, name := range slices.Sorted(maps.Keys(crit)) {
		if _, ok := objectives[name]; !ok { // a criticality alone: the default objectives
			rs.ByName[name] = resolve(name, fallback)
		}
	}
	return rs, errs
}
