// Package sloguard is an embedded SLO engine for Go services: one objective
// definition drives the error budget, the alert and, as the engine grows,
// the runtime protection and the release gate.
//
// A service declares its service level objectives in code, wraps its
// net/http handlers with sloguard's middleware, and from then on, inside the
// process, every request is an SLI event counted in a bounded rolling
// ledger; burn rates over the multiwindow, multi-burn-rate windows of The
// Site Reliability Workbook, the remaining budget and each objective's state
// (ok, ticket, page, exhausted, or unknown with too little data) are known
// at all times and exported through OpenTelemetry.
//
// A 99.9% objective over 30 days allows about 43 minutes of full outage a
// month. sloguard knows within seconds how fast that budget is burning.
//
// # Quick start
//
//	eng, err := slo.New([]slo.Objective{
//		{Name: "checkout-availability", Target: 0.999},
//		{Name: "checkout-latency", Target: 0.99, Latency: 300 * time.Millisecond},
//	}, slo.WithMeterProvider(meterProvider), slo.WithShedding(slo.ShedPolicy{}))
//	if err != nil {
//		log.Fatal(err)
//	}
//	eng.Start()
//	defer eng.Close()
//
//	mw, err := middleware.NewServer(eng,
//		middleware.WithRoute("POST /checkout", "checkout-availability", "checkout-latency"),
//		middleware.WithRouteCriticality("GET /recommendations", slo.Sheddable))
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle("POST /checkout", mw.Handle("POST /checkout", http.HandlerFunc(checkout)))
//	log.Fatal(http.ListenAndServe(":8080", mux))
//
//	// Anywhere: eng.Status().Objective("checkout-availability")
//
// Run the demonstration with `go run ./examples/flashsale`.
//
// # Acting on the budget
//
// In seconds, sloguard keeps an overloaded service inside its objectives,
// shedding the least critical requests first (slo.ShedPolicy explains how),
// and opens the circuit breakers of failing dependencies; in minutes,
// budget-gated feature flags turn off while an objective pages; in days,
// releases freeze once a budget is spent (see "Acting on the budget" in
// package slo). Who may say how critical a request is: package middleware,
// "Criticality and trust".
//
// # Packages
//
//	budget              error-budget mathematics: ledger, burn rate, remaining
//	                    budget, MWMB rules; standard library only, time as argument
//	slo                 Objective and Engine: evaluation loop, Status, Events,
//	                    shedding, breakers, gates, release freeze, OpenTelemetry
//	slo/metrics         the names of the metrics and attributes; imports nothing
//	slo/otelsdk         the metrics as an OpenTelemetry SDK Producer, for many
//	                    objectives (the one package that imports the SDK)
//	slo/statuspage      HTML and JSON status, release gate endpoint
//	  .../statusjson    its JSON documents; standard library only, for clients
//	slo/openfeature     OpenFeature provider for budget-gated flags
//	slo/openslo         OpenSLO v1 import and export
//	slo/promrules       Prometheus recording and alerting rules, Sloth- and
//	                    Pyrra-compatible
//	slo/promfleet       fleet-wide burn read back from the Prometheus API
//	middleware          net/http server middleware and client Transport
//	middleware/grpcslo  gRPC interceptors (its own package: no gRPC for HTTP users)
//	cmd/sloguard        the command: status, gate, events, postmortem, validate, rules
//	examples/           runnable programs; bench/ compares against peer libraries
//
// Imports flow one way: budget ← slo ← middleware ← examples, cmd.
//
// # Cost
//
// The request path is two clock reads and a few atomic operations on
// counters of the request's own processor, with no lock and no allocation; OpenTelemetry reads the
// counts from the ledgers at collection time instead of being called per
// request. Each objective holds a fixed ledger of about 27 KiB for a 30-day
// period.
package sloguard
