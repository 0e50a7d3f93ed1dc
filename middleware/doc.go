// Package middleware connects net/http servers and clients to a slo.Engine:
// it records their traffic as SLI events, admits or sheds requests, and
// guards outbound calls with circuit breakers.
//
// NewServer returns server middleware; wrap the http.ServeMux with it:
//
//	mw, err := middleware.NewServer(eng,
//		middleware.WithRoute("POST /checkout", "checkout-availability", "checkout-latency"),
//		middleware.WithRoute("GET /items/{id}", "browse-availability"),
//		middleware.WithDefault("service-availability"),
//	)
//	if err != nil {
//		return err
//	}
//	http.ListenAndServe(addr, mw.Wrap(mux))
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
// Before the handler runs, the Server asks the engine whether to serve the
// request (slo.Engine.Admit). While the engine sheds load (slo.WithShedding)
// it rejects the least critical requests first: they get 429 Too Many
// Requests with a Retry-After in whole seconds and the body
// "Too Many Requests", are recorded as Shed in their route's objectives,
// and never reach the handler, which therefore never reads their body.
// With shedding off, or nothing shed, every request is admitted.
//
// # Criticality and trust
//
// A request's criticality is, in this order: the one in its context
// (slo.WithCriticality, set by earlier middleware); the one in its
// CriticalityHeader, only when the function of WithTrustedCriticality
// trusts the request, and only when the value parses; its route's
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
// priority of its own traffic. A criticality taken from a trusted header
// is put into the request's context, so the handler's outbound calls pass
// it on.
//
// The route is known only once the mux has served the request, so while
// load is shed, and only then, a Server that wraps an http.ServeMux looks
// the route up first with the mux's Handler method (the mux then routes the
// request a second time). A Server that wraps one route's handler sees the
// pattern the outer mux set; one that wraps another router needs
// WithRouteFunc to know the route before serving.
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
// Every call is recorded in the dependency's objectives: a transport error
// or a 5xx or 429 response is bad, the caller's cancellation neutral,
// anything else good (DefaultTransportClassifier; see
// WithTransportClassifier). When the calls fail, the breaker opens and the
// Transport fails fast, without calling the dependency, with an error
// wrapping slo.ErrBreakerOpen. The request's criticality travels in
// CriticalityHeader.
//
// A handler whose dependency call failed answers with Error: 503 and the
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
// retried.
//
// # Cost
//
// Two clock reads, one map lookup, one atomic load and one atomic add for
// admission, and one atomic add per objective: no lock, no allocation in steady state (the
// response writer wrapper is pooled). Looking the route up before serving
// while load is shed costs a second routing; a criticality from a trusted
// header costs a copy of the request. The wrapper keeps Flush, Hijack and
// ReadFrom, and Unwrap for http.ResponseController.
package middleware
