// Package middleware connects net/http servers and clients to a slo.Engine:
// it records their traffic as SLI events, admits or sheds requests, and
// guards outbound calls with circuit breakers.
//
// NewServer returns server middleware. Wrap each route's handler with it
// as you register the route, so that the mux routes a request once and
// admission looks nothing up:
//
//	mw, err := middleware.NewServer(eng,
//		middleware.WithRoute("POST /checkout", "checkout-availability", "checkout-latency"),
//		middleware.WithRoute("GET /items/{id}", "browse-availability"),
//		middleware.WithRouteCriticality("GET /items/{id}", slo.Sheddable),
//		middleware.WithDefault("service-availability"),
//	)
//	if err != nil {
//		return err
//	}
//	mux.Handle("POST /checkout", mw.Handle("POST /checkout", checkout))
//	mux.Handle("GET /items/{id}", mw.Handle("GET /items/{id}", items))
//
// or wrap the whole mux, http.ListenAndServe(addr, mw.Wrap(mux)), which
// finds the route after serving (or, for admission, before: see the end of
// "Criticality and trust"). Wrap reads the pattern that http.ServeMux
// stores in the request (http.Request.Pattern); middleware in between that
// replaces the request with a copy (r.WithContext) hides it, and then
// WithRouteFunc is the way.
//
// The objectives of a request come from its route pattern
// (http.Request.Pattern, as set by the mux), never from its raw path, so
// attacker-chosen URLs can not create series. Requests of unmapped routes,
// and requests no route matched, share the objectives of WithDefault.
//
// # Classification
//
// By default (DefaultClassifier) a 5xx response is bad, a request whose
// client went away before any response was written is neutral, one whose
// deadline passed with nothing written is bad, anything else good. Latency
// objectives also count a request slower than their threshold as bad, even
// one its client gave up on: a server that hangs until its clients leave
// must not look healthy. A handler that panics is recorded as bad and the
// panic continues up the stack unchanged.
//
// Latency is measured until the handler returns, so streaming routes
// (server-sent events, WebSockets, long downloads) belong to availability
// objectives only.
//
// # Admission
//
// Before the handler runs, the Server asks the route's admission core
// whether to serve the request (slo.Route.Admit; how it decides is
// slo.ShedPolicy's). With shedding on (slo.WithShedding), a request over
// the concurrency gate's limit for its criticality, or of a criticality
// the burn-rate controller sheds, gets 429 Too Many Requests with a
// Retry-After in whole seconds and the body "Too Many Requests", is
// recorded as Shed in its route's objectives by the core, and never
// reaches the handler, which therefore never reads its body. With
// shedding off every request is admitted.
//
// # Criticality and trust
//
// A request's criticality is, in this order: the one in its context
// (slo.WithCriticality, set by earlier middleware); the one in its
// CriticalityHeader, only when the function of WithTrustedCriticality
// trusts the request, and only when a value parses; its route's
// (WithRouteCriticality); else slo.Critical:
//
//	mw, err := middleware.NewServer(eng,
//		middleware.WithRouteCriticality("GET /recommendations", slo.Sheddable),
//		middleware.WithRouteCriticality("POST /checkout", slo.CriticalPlus),
//		middleware.WithTrustedCriticality(func(r *http.Request) bool {
//			return r.TLS != nil && len(r.TLS.VerifiedChains) > 0 // our own callers, over mTLS
//		}),
//	)
//
// By default no header is trusted, so no client can set or raise the
// priority of its own traffic. These rules are the same for HTTP and for
// gRPC (package grpcslo, with its metadata key and method criticalities):
//
//   - Several values (a repeated header, a list joined with commas by a
//     proxy, or a caller's value next to the one a service forwarding its
//     incoming metadata added): the least critical level named counts, and
//     names that do not parse are ignored. Adding a value can only lower a
//     request's criticality, never raise it.
//   - The criticality of a trusted header, and the route's own
//     (WithRouteCriticality; grpcslo.WithMethodCriticality), are put into
//     the request's context with slo.WithCriticality, so the handler's
//     outbound calls pass them on: a service that says checkout is
//     CRITICAL wants its payment call to be CRITICAL downstream. A route
//     without a criticality of its own puts nothing there, so calls go out
//     without one unless the handler sets it.
//   - Outbound calls (Transport; grpcslo.Client) send the context's
//     criticality only. A header or metadata value already in the outgoing
//     request, as httputil.ReverseProxy copies it or a service forwards its
//     incoming metadata, is replaced by the context's, or removed when the
//     context has none: a caller's claim never passes through by itself.
//
// Server.Handle knows its route when it is wired. A Server from Wrap needs
// the route before serving whenever it has route criticalities or its
// engine has shedding on (slo.WithShedding), for every request, whether or
// not anything is being shed at the moment: it calls the function of
// WithRouteFunc, else asks a wrapped http.ServeMux's Handler method (the
// mux then routes the request a second time), else takes the pattern an
// outer mux already set. One that wraps another router without
// WithRouteFunc admits, and passes on, by context or header criticality
// only.
//
// # Dependencies
//
// NewTransport returns an http.RoundTripper for one outbound dependency,
// guarded by that dependency's circuit breaker (slo.Engine.Breaker; the
// dependency is named by the Dependency field of its objectives):
//
//	tr, err := middleware.NewTransport(eng, "payments", nil)
//	if err != nil {
//		return err
//	}
//	payments := &http.Client{Transport: tr, Timeout: 2 * time.Second}
//
// Every call is admitted by the breaker (slo.Breaker.Admit) and recorded
// in the dependency's objectives, classified as slo.CallOutcome does for
// every transport (DefaultTransportClassifier; see
// WithTransportClassifier): a transport error or a 5xx response is bad;
// a 429, the dependency shedding the call, is shed (it spends the
// dependency's budget but is no failure for the breaker, so a dependency
// that sheds its sheddable traffic does not get its critical traffic cut
// off); the caller's cancellation is neutral; anything else good. A base RoundTripper or classifier that panics
// is recorded as bad, in the objectives and the breaker, and the panic goes
// on to the caller unchanged: a panicking probe never leaves the breaker
// half-open. When the calls fail, the breaker opens and the Transport fails
// fast, without calling the dependency, with an error wrapping
// slo.ErrBreakerOpen. The context's criticality travels in
// CriticalityHeader (see "Criticality and trust").
//
// A handler whose dependency call failed answers with WriteError: 503 and the
// breaker's Retry-After when the breaker is open, 500 otherwise, never the
// error's text. That is how an open breaker reaches the server middleware
// over HTTP; the Server records the request as Shed: it spends the route's
// budget like any failure, but stays out of the signal that drives load
// shedding, since a dependency that is down is not overload here.
//
// # Retries
//
// WithRetries retries GET, HEAD and OPTIONS requests without a body after a
// transport error or a 502, 503 or 504 response, at most a given number of
// times, within a budget of retries a second shared by all calls: when the
// dependency is down for everyone, retries do not multiply its load. Each
// attempt goes through the breaker and is recorded. By default, nothing is
// retried. The base RoundTripper may resend on its own: net/http's
// Transport sends an idempotent request again when a connection it reused
// breaks before any response, so the dependency's server can count two
// requests where the Transport records one call.
//
// # Cost
//
// Two clock reads and a few atomic operations on counters of the request's
// own processor (the admission core's; with Wrap, one map lookup more): no
// lock, no allocation in steady state (the response writer wrapper is
// pooled). With Wrap and route criticalities or shedding, looking the
// route up before serving costs a second routing, which Handle avoids; a criticality put into the context (from a trusted header or the
// route's own) costs a copy of the request and its context, two
// allocations. The wrapper keeps Flush, Hijack and ReadFrom, and Unwrap for
// http.ResponseController.
package middleware
