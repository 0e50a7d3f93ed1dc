// Package slo declares service level objectives and runs the Engine that
// keeps their error budgets, in process.
//
// # Objectives
//
// An Objective names an SLI (availability, or latency under a threshold), a
// target and a period, rolling or calendar-aligned (budget.Calendar: the
// budget starts afresh every week or month in a time zone):
//
//	objectives := []slo.Objective{
//		{Name: "checkout-availability", Target: 0.999},                                 // 99.9% over 30 days
//		{Name: "checkout-latency", Target: 0.99, Latency: 300 * time.Millisecond},       // 99% within 300ms
//		{Name: "search-availability", Target: 0.995, Calendar: budget.Calendar{Unit: budget.Month, Location: berlin}},
//	}
//
// The same objectives can be read from OpenSLO YAML (package slo/openslo),
// and package slo/promrules writes the Prometheus rules that compute them
// fleet-wide.
//
// Alert rules default to the four multiwindow, multi-burn-rate rules of The
// Site Reliability Workbook (see package budget), rescaled to the period.
//
// The words of budgets are package budget's, and slo uses them under their
// one name, without aliases: an event's budget.Outcome (budget.Good,
// budget.Bad, budget.Neutral, budget.Shed), an objective's budget.State,
// its budget.Report, budget.Rule and budget.Calendar.
//
// # Engine
//
// New validates the objectives and builds one bounded budget.Ledger for
// each. Events are recorded through a Recorder (an atomic add to a counter
// of the recording processor) by the
// middleware packages, or directly for work that is not an HTTP or gRPC
// request, with the Recorder looked up once:
//
//	rec, err := eng.Recorder("queue-availability")
//	…
//	start := time.Now()
//	err := handle(msg)
//	rec.Record(slo.OutcomeOf(err), time.Since(start))
//
// Start runs the evaluation loop: about once a second it folds the new
// events into the ledgers, evaluates every rule and publishes a Status,
// which Engine.Status returns without a copy, never to change it again.
// State changes (unknown, ok, ticket, page, exhausted; shed level, breakers,
// gates, freeze) become Events: kept in a bounded timeline (Engine.Events),
// and logged with log/slog and passed to the handlers of WithEventHandler
// outside any lock, from a dispatcher goroutine with a bounded queue, so
// that a slow or stuck handler or logger never holds up the engine (see
// WithEventHandler). Close stops the loop and returns within about a
// second, even if a handler blocks.
//
// # History and timeline
//
// What a postmortem of an incident of up to a day needs stays in memory,
// and in snapshots (WithSnapshots), so that the deploy that fixes an
// incident does not erase it:
//
//   - Engine.History: per objective, one Sample per history interval (by
//     default two minutes, 720 of them: a day): state, remaining budget and
//     burn rate at that moment, and the good, bad and shed events since
//     the previous sample. Kept compact: 24 bytes a sample (float32,
//     counts saturating at 2³²−1 per interval), 16.9 KiB per objective
//     with the defaults, beside its ledger's 27 KiB: about 52 KiB per
//     objective in all, within 64 KiB (as much as six hours took before,
//     at 48 bytes a sample). One sample a minute for a day (WithHistory)
//     takes about 69 KiB.
//   - Engine.LoadHistory: one LoadSample per history interval for the
//     service: requests admitted and rejected (shed) since the previous
//     sample by Criticality, the shed level, and the scale signal: 56
//     bytes a sample, 39.4 KiB per engine with the defaults.
//   - Engine.Events: the latest events of every kind (WithTimelineSize, by
//     default 256) and, besides them, 4096 changes of an objective's state,
//     the shed level, a breaker, a gate or the release freeze: the first
//     1024 of the current episode (changes less than an hour apart) and the
//     latest 3072. A breaker that cycles open and half-open every 10s for a
//     whole day makes about 17,000 changes: the timeline keeps the first
//     three hours of them and the latest eight, so the incident keeps its
//     start, and notes about snapshots or views never push it out. At most
//     about 1.3 MiB per engine (176 bytes an event, and the burn rates of
//     state changes).
//
// Sizes are fixed at New; see WithHistory and WithTimelineSize.
//
// # Time
//
// The evaluation loop's windows follow elapsed time, not the wall clock:
// its time is the wall clock read once at New plus the monotonic time
// elapsed since, so an NTP step neither freezes the windows (a step back)
// nor empties them (a step forward). The times it labels buckets, Status
// and Events with are therefore wall-clock times as of New; a step larger
// than a second between two evaluations is logged, counted as a fault, and
// from then on Status.ClockOffset says how far the wall clock is ahead of
// those labels, for whatever needs the wall clock itself (calendar
// periods, snapshots read by another process). A restart re-anchors. Time
// passed to Engine.Tick is the caller's and used as given.
//
// # Acting on the budget
//
// The engine acts at three time scales, each from the same objectives.
//
// Seconds: overload protection (WithShedding, off by default) and
// dependency breakers. Requests are admitted through a Route, the
// admission core that the middleware resolves once per route, gRPC method
// or dependency: Route.Admit decides and returns a Ticket, Ticket.Done
// records how the request ended. Overload protection, a concurrency gate
// and a burn-rate controller that shed by Criticality, is explained in
// ShedPolicy. An objective with a Dependency is a client-side objective of
// that dependency instead: a fast burn opens the dependency's circuit
// breaker (Engine.Breaker, see BreakerPolicy), and calls fail fast with
// ErrBreakerOpen; Breaker.Admit is the same two steps for a call. Every
// request costs a few atomic operations on counters of its own processor
// (the shards), and no lock or allocation; the evaluator and the gate's
// fold add the shards up.
//
// Minutes: gates (WithGate, Engine.Gate) are feature flags that close while
// an objective pages or tickets, or its budget runs low; Gate.Enabled is
// one atomic load.
//
// Days: the error budget policy (WithReleasePolicy) freezes releases when a
// budget is spent, with hysteresis and an estimate of when releases may go
// on (Status.Release).
//
// # Beyond one process
//
// By default an objective is judged on this process's events since it
// started (ViewLocal). WithSnapshots saves the ledgers to a SnapshotStore
// (FileStore, a file written atomically) and restores them at start
// (ViewRestored), so that a restart keeps the budget; WithFleet reads the
// whole fleet's counts from a FleetSource (package promfleet: any
// Prometheus-compatible query API) and judges remaining budget, rules,
// gates and the release freeze on them (ViewFleet), while shedding and
// breakers stay on this replica's own seconds-scale signal. Every
// ObjectiveStatus says its View and how old it is; changes of view and
// snapshot trouble are Events. The rules of both, what a crash loses, and
// how a wrong or stale fleet answer falls back to the local view, are
// explained once, in the documentation of the two options; how the fleet's
// counts are queried, in package promfleet.
//
// # OpenTelemetry
//
// The engine registers observable instruments with the MeterProvider of
// WithMeterProvider (by default the global one), read from the ledgers and
// the latest Status when the SDK collects, so that recording never calls
// OpenTelemetry. Package slo/metrics names them and documents each one.
package slo
