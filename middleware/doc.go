// Package middleware records net/http traffic as SLI events of a slo.Engine.
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
// # Cost
//
// Two clock reads, one map lookup and one atomic add per objective: no
// lock, no allocation in steady state (the response writer wrapper is
// pooled). The wrapper keeps Flush, Hijack and ReadFrom, and Unwrap for
// http.ResponseController.
package middleware
