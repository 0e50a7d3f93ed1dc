// Package soak holds the soak test of sloguard: a long run of real traffic
// over loopback that checks that sloguard counts every request exactly
// and leaks nothing, while everything it decides changes state.
//
// The test (TestSoak, build tag soak, so that the plain and -race passes
// never run it) starts on 127.0.0.1 an HTTP service wrapped by
// middleware.Server and a gRPC service with grpcslo's tap and
// interceptors, sharing one slo.Engine with load shedding and dependency
// breakers. Their handlers call a dependency each, an HTTP one through
// middleware.Transport and a gRPC one through grpcslo.Client, that fail
// in phases. Concurrent clients send a mix of requests that succeed, fail
// (5xx, INTERNAL), are invalid (400, INVALID_ARGUMENT), panic, are
// cancelled by their client, run into a deadline, stream (flushed chunks,
// a server stream) or call the dependency, with an outage for each
// service in which its SHEDDABLE browse route fails and gets most of the
// traffic.
//
// The engine is never started: the test evaluates it with Tick on a
// simulated clock that moves 6 seconds every 200 requests (about 600
// times faster than the real one at 20,000 requests a second), so that
// every run goes through the same phases at the same request counts: a
// healthy hour, then every hour an outage of each service and two of the
// dependencies. Within seconds the objectives page and go back to ok,
// shedding starts and stops, and the breakers open and close (their open
// timeout runs on the real clock). Flips are checked from 240,000
// requests on: two simulated hours.
//
// Every request's outcome is fixed by what its client sent and got back:
// a cancelled request is cancelled only once its handler runs (the handler
// says so), and deadlines end handlers that wait for them. At the end the
// test checks that
//
//   - each objective's ledger totals (Status.Objectives[i].Totals and
//     Neutral) and the exported sloguard.events counter equal exactly the
//     good, bad, shed and neutral results the clients tallied (and, for
//     the dependencies, the handlers);
//   - the objectives paged and recovered, the breakers opened and closed,
//     and shedding started and stopped;
//   - the heap after a forced GC stayed within 10% and the goroutines
//     within ±5 between the first and the last 10% of the run (medians of
//     samples taken at quiet points, with the load paused and idle
//     connections closed; printed with -v), and the goroutines the test
//     started have ended.
//
// Run the bounded version (300,000 requests, under a minute on 2 shared
// cores), as CI does, or the full one:
//
//	go test -tags soak -run TestSoak -v ./internal/soak
//	go test -tags soak -run TestSoak -v ./internal/soak -soak.requests 1000000 -timeout 30m
//
// Flags: -soak.requests (requests over both protocols), -soak.workers
// (concurrent clients, half of each protocol), -soak.wall (stop sending
// after this long, whatever the count).
package soak
