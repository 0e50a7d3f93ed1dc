package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/time/rate"

	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/slo"
)

// Transport is an http.RoundTripper that guards the calls to one outbound
// dependency with its circuit breaker (slo.Engine.Breaker) and records each
// call in the dependency's objectives.
//
// Each call asks the breaker first. While it is open, RoundTrip returns at
// once, without calling the base RoundTripper, an error that wraps
// slo.ErrBreakerOpen (a *slo.BreakerError, which says when to retry);
// http.Client wraps it in a *url.Error, and errors.Is still finds it.
// Otherwise the call goes to the base RoundTripper, and its outcome (see
// WithTransportClassifier) and latency, until the response headers arrived,
// are recorded in the dependency's objectives and in the breaker.
//
// The criticality in the request's context (slo.WithCriticality), and only
// it, is sent in CriticalityHeader, so the dependency can shed by it when
// it trusts the caller: a CriticalityHeader already in the request (a
// reverse proxy copies its client's) is replaced, or removed when the
// context has none. The caller's request is never modified: RoundTrip
// sends a copy when it changes the header.
//
// A base RoundTripper or classifier that panics is recorded as Bad, in the
// objectives and the breaker, and the panic goes on to the caller.
//
// With WithRetries, failed idempotent calls are retried within a budget.
//
// A Transport is safe for concurrent use. The zero Transport is not usable:
// get one from NewTransport.
type Transport struct {
	base     http.RoundTripper
	breaker  *slo.Breaker
	classify func(*http.Response, error) slo.Outcome
	retries  int
	budget   *rate.Limiter // nil without retries
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport that sends the calls to dependency
// through base, or http.DefaultTransport when base is nil. Some objective
// of eng must name the dependency (slo.Objective.Dependency), which gives
// it a breaker. NewTransport reports every problem at once, in errors that
// wrap ErrInvalidOption.
func NewTransport(eng *slo.Engine, dependency string, base http.RoundTripper, opts ...TransportOption) (*Transport, error) {
	cfg := transportConfig{classify: DefaultTransportClassifier}
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "transport option", func(o TransportOption) { o.applyTransport(&cfg) })
	errs := cfg.errs
	var b *slo.Breaker
	switch {
	case eng == nil:
		errs = append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))
	case dependency == "":
		errs = append(errs, fmt.Errorf("%w: empty dependency", ErrInvalidOption))
	default:
		var err error
		if b, err = eng.Breaker(dependency); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidOption, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{base: base, breaker: b, classify: cfg.classify, retries: cfg.retries}
	if t.retries > 0 {
		t.budget = rate.NewLimiter(rate.Limit(cfg.perSecond), max(1, int(cfg.perSecond)))
	}
	return t, nil
}

// DefaultTransportClassifier classifies a call as slo.CallOutcome does,
// the one classification of a dependency's answers for every transport:
// a 429 is a refusal (Shed: the dependency shed the call, no failure for
// the breaker); a 5xx, a transport error or a deadline that passed is a
// failure (Bad); the caller's cancellation (context.Canceled) abandons
// the call (Neutral); any other response is served (Good).
func DefaultTransportClassifier(resp *http.Response, err error) slo.Outcome {
	return slo.CallOutcome(reply(resp, err))
}

// reply translates how an HTTP call ended into a slo.Reply.
func reply(resp *http.Response, err error) slo.Reply {
	switch {
	case err != nil:
		if errors.Is(err, context.Canceled) {
			return slo.Abandoned
		}
		return slo.Failed
	case resp == nil: // a broken base RoundTripper
		return slo.Failed
	case resp.StatusCode == http.StatusTooManyRequests:
		return slo.Refused
	case resp.StatusCode >= 500:
		return slo.Failed
	}
	return slo.Served
}

// RoundTrip sends req to the dependency, as described on Transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tk, err := t.breaker.Admit()
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out := outbound(req)
	resp, err := t.send(out, tk)
	if t.retries == 0 || !repeatable(req) {
		return resp, err
	}
	for range t.retries {
		if !retryable(req, resp, err) || !t.budget.Allow() {
			break
		}
		tk, berr := t.breaker.Admit()
		if berr != nil {
			break // the breaker opened: keep the last result
		}
		discard(resp)
		resp, err = t.send(out, tk)
	}
	return resp, err
}

// outbound returns req, or a copy of it whose CriticalityHeader is the
// context's criticality, or absent when the context has none: a header the
// caller copied from its own incoming request (as httputil.ReverseProxy
// does) never passes through by itself.
func outbound(req *http.Request) *http.Request {
	c, ok := slo.CriticalityFrom(req.Context())
	v, has := req.Header[CriticalityHeader]
	if !ok && !has || ok && len(v) == 1 && v[0] == c.String() {
		return req // already right: no copy
	}
	out := req.Clone(req.Context())
	if ok {
		out.Header.Set(CriticalityHeader, c.String())
	} else {
		out.Header.Del(CriticalityHeader)
	}
	return out
}

// send makes one attempt that the breaker allowed and ends its ticket,
// exactly once: as Bad when the base RoundTripper or the classifier
// panics, so that the breaker's slot (the half-open probe's, say) is
// released before the panic goes on.
func (t *Transport) send(req *http.Request, tk slo.Ticket) (resp *http.Response, err error) {
	reported := false
	defer func() {
		if !reported {
			tk.Done(slo.Bad)
			if resp != nil && resp.Body != nil {
				_ = resp.Body.Close() // the caller never gets it
			}
		}
	}()
	resp, err = t.base.RoundTrip(req)
	o := t.classify(resp, err)
	reported = true
	tk.Done(o)
	return resp, err
}

// CloseIdleConnections closes the idle connections of the base
// RoundTripper, if it can; http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// repeatable reports whether req may be sent again as it is: a safe,
// idempotent method and no body to replay.
func repeatable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return req.Body == nil || req.Body == http.NoBody
	}
	return false
}

// retryable reports whether an attempt failed in a way another attempt may
// fix: a transport error while the caller still waits, or a 502, 503 or
// 504 response.
func retryable(req *http.Request, resp *http.Response, err error) bool {
	if err != nil {
		return req.Context().Err() == nil &&
			!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	if resp == nil {
		return false
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// discard drains a little of the body of a response that is not returned,
// so its connection can be reused, and closes it.
func discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

// closeBody closes the body of a request that is not sent: a RoundTripper
// must close it, even on errors.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
