package middleware

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sloguard/sloguard/internal/claim"
	"github.com/sloguard/sloguard/internal/wiring"
	"github.com/sloguard/sloguard/slo"
)

// CriticalityHeader carries a request's criticality (a name that
// slo.ParseCriticality accepts, such as "SHEDDABLE") between services.
// Transport sets it from the request context only; Server honours it only
// from trusted sources (see WithTrustedCriticality), and of several values
// takes the least critical.
const CriticalityHeader = "Sloguard-Criticality"

// admit decides whether r is served on route rt. It answers a rejected
// request itself and returns false (the core recorded it). Otherwise it
// returns the request to serve, r or a copy whose context carries the
// criticality of a trusted header or of the route, so that the handler's
// outbound calls pass it on, and its ticket.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, rt *wiring.Route) (*http.Request, slo.Ticket, bool) {
	c, known := slo.CriticalityFrom(r.Context())
	carry := false
	if !known && s.trust != nil {
		// The key is canonical, as net/http stores it: a map lookup is
		// enough, where Header.Get would canonicalise it on every request.
		if v := r.Header[CriticalityHeader]; len(v) > 0 && s.trust(r) {
			c, known = claim.Least(v)
			carry = known
		}
	}
	if !known {
		c, carry = rt.Criticality(), rt.Own
	}
	t, retryAfter, ok := rt.Admit(c)
	if !ok {
		w.Header().Set("Retry-After", retrySeconds(retryAfter))
		http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
		return r, t, false
	}
	if carry {
		r = r.WithContext(slo.WithCriticality(r.Context(), c))
	}
	return r, t, true
}

// routeBefore returns the route of r before the handler has run, or "".
func (s *Server) routeBefore(r *http.Request, mux *http.ServeMux) string {
	switch {
	case s.custom:
		return s.routeOf(r)
	case mux != nil:
		// The pattern the mux will set when it serves r.
		_, pattern := mux.Handler(r)
		return pattern
	case r.Pattern != "":
		return r.Pattern // set by a mux outside this Server
	}
	return ""
}

// WriteError answers a request whose handler could not do its work because of
// err, typically the error of a call to a dependency: 503 Service
// Unavailable when err wraps slo.ErrBreakerOpen, with the breaker's
// remaining open time (slo.BreakerError.RetryAfter) as Retry-After in
// whole seconds; 500 Internal Server Error otherwise. The body is the
// status text only: err's text, which may name internal hosts, is never
// sent. Log err yourself if you need it.
//
// This is how an open breaker reaches the server middleware over HTTP: the
// Transport of the outbound call returns the breaker's error, the handler
// passes it to WriteError with the ResponseWriter the Server gave it, and the
// Server records the request as Shed. Shed spends the route's budget like
// any failure (the client got no answer), but stays out of the signal that
// drives load shedding: a dependency that is down is not overload here.
//
// WriteError does not end the handler; return after calling it.
func WriteError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, slo.ErrBreakerOpen) {
		code = http.StatusServiceUnavailable
		if rw := serverWriter(w); rw != nil {
			rw.breaker = true
		}
		_, retryAfter := slo.HandlerOutcome(err, slo.Bad)
		w.Header().Set("Retry-After", retrySeconds(max(retryAfter, time.Second)))
	}
	http.Error(w, http.StatusText(code), code)
}

// retrySeconds formats d for a Retry-After header: whole seconds, rounded
// up, at least one.
func retrySeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// serverWriter returns the Server's writer that w is or wraps, or nil.
func serverWriter(w http.ResponseWriter) *responseWriter {
	for {
		switch x := w.(type) {
		case *responseWriter:
			return x
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return nil
		}
	}
}
