// Package grpcslo connects gRPC servers and clients to a slo.Engine: it
// records every call as SLI events of the objectives of its method, admits
// or sheds calls by their criticality (slo.ShedPolicy explains how), and
// guards outbound calls with the dependency's circuit breaker.
//
// It is its own package so that a service using only net/http (package
// middleware) never imports gRPC.
//
// # Server
//
// NewServer maps full method names to objectives and criticalities; every
// objective must exist in the engine:
//
//	s, err := grpcslo.NewServer(eng,
//		grpcslo.WithMethod("/shop.Shop/Checkout", "checkout-availability", "checkout-latency"),
//		grpcslo.WithMethod("/shop.Shop/Recommend", "browse-availability"),
//		grpcslo.WithMethodCriticality("/shop.Shop/Recommend", slo.Sheddable),
//		grpcslo.WithDefault("service-availability"),
//	)
//	if err != nil {
//		return err
//	}
//	srv := grpc.NewServer(
//		grpc.InTapHandle(s.TapHandle),
//		grpc.ChainUnaryInterceptor(s.UnaryInterceptor(), otherUnary...),
//		grpc.ChainStreamInterceptor(s.StreamInterceptor(), otherStream...),
//	)
//
// The interceptors admit and record; TapHandle only admits, but does so
// before gRPC creates the stream and decodes the request, which is what
// keeps shedding cheap under overload (an interceptor runs after the
// request message was read and decoded). Install the tap and the
// interceptors together; without the tap the interceptors admit. Put the
// interceptors first in their chains so that the time and errors of the
// others count.
//
// Calls of methods without WithMethod share the objectives of WithDefault
// (or are not recorded without it): the method name never becomes an
// attribute, so callers can not create series. Calls of methods the
// grpc.Server does not know never reach the interceptors (the tap sees
// them, and records what it rejects under WithDefault).
//
// # Classification
//
// The status code a call ends with decides its availability outcome
// (DefaultCodeClassifier, the OpenTelemetry server convention; replace it
// with WithCodeClassifier):
//
//	code                                                  outcome
//	UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
//	INTERNAL, UNAVAILABLE, DATA_LOSS                      bad
//	CANCELLED                                             neutral (not counted)
//	OK and all other codes                                good
//
// A handler error that is not a status error is UNKNOWN, as gRPC sends
// it, except context.Canceled and context.DeadlineExceeded, which gRPC
// sends as CANCELLED and DEADLINE_EXCEEDED. Latency objectives also count a
// call slower than their threshold as bad. A handler that panics is
// recorded as bad and the panic goes on unchanged. A stream is recorded
// once, when its handler returns, so latency objectives suit unary methods
// and short streams only.
//
// # Admission and trailers
//
// A call's criticality comes from, in order: its context
// (slo.CriticalityFrom, set by an earlier interceptor or by the tap), the
// metadata key CriticalityKey if the caller is trusted (below), the
// method's WithMethodCriticality, and otherwise slo.Critical. Then the
// method's admission core decides (slo.Route.Admit; see slo.ShedPolicy for
// the concurrency gate and the burn-rate controller). A rejected call is
// recorded as slo.Shed in its method's objectives by the core, its handler
// is not run, and it ends with
//
//	status RESOURCE_EXHAUSTED "overloaded"
//	trailer grpc-retry-pushback-ms: <milliseconds until its criticality is served again>
//
// The trailer is the hint gRPC's own retry policy honours (gRFC A6) when a
// client's service config makes the code retryable. gRPC gives TapHandle
// no way to set trailers, so a call rejected by the tap gets the status
// without the trailer. A call admitted by the tap is not admitted again by
// the interceptors, and only the side that rejects a call records it.
//
// # Breaker errors
//
// When a handler fails because a dependency's breaker is open, its error
// wraps slo.ErrBreakerOpen (as the Client's errors do). The interceptors
// then send
//
//	status UNAVAILABLE "dependency unavailable"
//	trailer grpc-retry-pushback-ms: <the breaker's RetryAfter>
//
// instead of the error, so no internal text (dependency names, addresses)
// reaches the caller, and record the call as Shed: it spends the method's
// budget like any failure, but stays out of the signal that drives load
// shedding, since a dependency that is down is not overload here. Every
// other handler error is passed on unchanged.
//
// # Trust
//
// Any caller can put "sloguard-criticality: CRITICAL_PLUS" in its
// metadata. The Server honours the key only when the function given to
// WithTrustedCriticality returns true for the call, for example for peers
// with an internal mTLS identity (peer.FromContext); by default never. The
// other rules (several values, what reaches the handler's context, what the
// Client sends on) are the same as for HTTP, with the metadata key for the
// header and WithMethodCriticality for the route's, and are explained once,
// in package middleware ("Criticality and trust").
//
// # Client
//
// NewClient guards the calls to one dependency:
//
//	c, err := grpcslo.NewClient(eng, "payments")
//	conn, err := grpc.NewClient(target,
//		grpc.WithChainUnaryInterceptor(c.UnaryInterceptor()),
//		grpc.WithChainStreamInterceptor(c.StreamInterceptor()),
//		...,
//	)
//
// Each call first asks the dependency's breaker (slo.Breaker.Allow). A
// rejected call is not sent and fails at once with UNAVAILABLE; its error
// matches slo.ErrBreakerOpen, and errors.As gives the *slo.BreakerError
// with its RetryAfter. A call that goes ahead carries the context's
// criticality in the metadata key CriticalityKey, replacing any value the
// outgoing metadata already holds (nothing when the context has none), and
// is recorded, classified by DefaultClientCodeClassifier,
// in the dependency's objectives and its breaker: the server's table, but
// RESOURCE_EXHAUSTED counts as shed, spending the dependency's budget
// without opening the breaker (see DefaultClientCodeClassifier). A stream
// is recorded once, when it ends. A call whose invoker or classifier
// panics is recorded as Bad, in the objectives and the breaker, and the
// panic goes on: a panicking probe never leaves the breaker half-open.
//
// # Cost
//
// An admitted unary call through the server interceptor costs one map
// lookup, a few context lookups, two clock reads and a few atomic
// operations on counters of its own processor (the admission core's), with
// no lock and no allocation: about 85–120ns on a 2-core shared machine,
// with shedding on or off, against 6ns for a no-op interceptor (see the
// benchmarks). With a trust func, the interceptor also looks for the
// metadata key (about 50ns more), unless the tap admitted the call. A
// criticality put into the handler's context (trusted, or the method's
// own) costs one allocation, and a stream's wrapper one more. The tap
// allocates one context value per admitted call and a context.AfterFunc
// that ends the call's ticket if gRPC never runs the interceptors, and such
// a criticality one more; rejections allocate their trailer. A client call costs the
// breaker's Admit (a mutex and a small allocation), criticality
// metadata a few more allocations, and outgoing metadata already in the
// context a copy of it, to replace or remove its CriticalityKey.
package grpcslo
