// Package bench compares the request-path cost of sloguard with that of the
// peers a service would otherwise use, and measures the engine's own costs
// off the request path. It holds only benchmarks; it is a module of its own
// so that the peers (otelhttp, otelgrpc, the OpenTelemetry SDK) never become
// dependencies of sloguard.
//
// # What is compared
//
// BenchmarkHTTP serves GET /items/42 through one http.ServeMux route,
// "GET /items/{id}", whose handler only sends 200, four ways:
//
//	bare      the mux alone: the baseline
//	otelhttp  otelhttp.NewHandler(mux) with an SDK MeterProvider (ManualReader)
//	          and a no-op TracerProvider: the usual per-request metrics
//	sloguard  middleware.NewServer(eng).Wrap(mux), the route mapped to an
//	          availability (99.9%) and a latency (99% under 300ms) objective,
//	          the engine started, exporting to an SDK MeterProvider (ManualReader)
//	sloguard-shed  the same route with shedding on (slo.WithShedding: the
//	          concurrency gate), wired with Server.Handle so that it is
//	          routed once
//
// BenchmarkGRPC calls one unary method in process, without a transport,
// four ways:
//
//	bare           the handler alone
//	otelgrpc       otelgrpc.NewServerHandler (SDK MeterProvider, no-op
//	               tracing), fed the events gRPC reports to a stats handler
//	               for one unary call: TagRPC, Begin, InHeader, InPayload,
//	               OutHeader, OutPayload, OutTrailer, End
//	sloguard       grpcslo's UnaryInterceptor around the handler, the method
//	               mapped to an availability and a latency objective
//	sloguard-shed  the same with shedding on
//
// each as serial (one goroutine) and parallel (b.RunParallel, GOMAXPROCS
// goroutines). The request and the httptest.ResponseRecorder (the call's
// context) are built before the timed loop, one per goroutine, and reused;
// the harness, which also checks every response's status (every call's
// error), is the same for all subjects, so it cancels out of the
// differences below. After the loop, outside the
// timer, one Collect checks that the metrics pipeline saw every request
// (otelhttp's http.server.request.duration count, sloguard.events
// {outcome=good} of both objectives).
//
// The engine's own costs are measured apart:
//
//	BenchmarkRecord              Recorder.Record alone, serial and parallel
//	BenchmarkTick                one evaluation tick, steady state, 1 to 1000 objectives
//	BenchmarkCollect             one ManualReader.Collect, 1 to 1000 objectives, through the
//	                             instruments, through an otelsdk.Producer, and through a
//	                             producer that only copies the same data points: the
//	                             producer's floor
//	BenchmarkCollectSDK          the same number of series from a bare callback: the instruments' floor
//	BenchmarkMemoryPerObjective  slo.New with 100 objectives; live heap per objective
//
// No benchmark asserts a time: the machines that run them are shared and
// noisy, so results are read as ratios between subjects measured in the
// same run.
//
// # Running
//
//	cd bench
//	go test -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt
//	./ratios.sh new.txt
//
// To compare two versions of sloguard, run the same command on each (old.txt
// and new.txt) and
//
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
//
// benchstat prints the median of each benchmark with its confidence
// interval, and for two files the change with a p-value: "~" means no
// significant difference. Six or more runs per benchmark give it enough
// samples; with fewer it reports wide intervals.
//
// -count runs each benchmark its N times back to back, so a build starting
// on a shared machine halfway through can hit one subject and spare
// another. For ratios that must hold on a busy machine, interleave the
// subjects instead:
//
//	go test -c -o bench.test .
//	for i in 1 2 3 4 5 6; do ./bench.test -test.run '^$' -test.bench HTTP -test.benchmem; done | tee new.txt
//
// After the parent module gains a dependency, run go mod tidy here: the
// replace directive puts sloguard's own requirements in this module's graph.
//
// # Reading the ratios
//
// ratios.sh takes the median of each benchmark in a go test -bench output
// and prints:
//
//   - added cost: subject − bare, in ns/op and allocs/op, for sloguard and
//     otelhttp, serial and parallel. The request path's price of each
//     library, with the mux and the harness taken out.
//   - otelhttp added / sloguard added: how many times cheaper sloguard's
//     bookkeeping is than per-request OpenTelemetry instrumentation. The
//     design aims at 25 or more (see DESIGN.md, Telemetry).
//   - parallel CPU per request: parallel ns/op × GOMAXPROCS ÷ serial ns/op.
//     Parallel ns/op is wall time per request with all cores busy, so this
//     is the CPU one request costs under load relative to one goroutine
//     alone: 1 is perfect scaling, more means contention (shared cache
//     lines, locks) or a busy machine. The design aims at 1.5 or less for
//     sloguard; bare and otelhttp are printed beside it to tell contention
//     in sloguard from noise on the machine, which inflates all three.
//   - BenchmarkCollect: ns/objective and allocs/op of both export paths
//     by number of objectives, instruments ÷ producer, and whether the
//     producer stays within 2 µs per objective (issue 9).
//
// Allocations must be 0 added for sloguard: the middleware's response
// writer is pooled and recording is an atomic add.
package bench
