//go:build integration

// Package integration tests sloguard's telemetry against the real programs
// that consume it: an OpenTelemetry Collector receiving OTLP, and Prometheus
// scraping the OpenTelemetry Prometheus exporter and answering PromQL, each
// by both export paths (the engine's instruments, and a slo/otelsdk
// Producer given to the reader); the
// Prometheus rules of package promrules with promtool (an outage replayed
// with promtool test rules) and with a real Prometheus whose page alert
// must agree with the engine's (about 50 seconds of real time); and
// Prometheus as the fleet source of three replicas (TestFleetView, about
// 10 seconds); and the queries of the autoscaling manifests
// (examples/autoscaling) on the scale signal (TestScaleSignalInPrometheus).
//
// The tests run only with the integration build tag and need the programs
// that .ci/run installs or builds and names in the environment:
//
//	SLOGUARD_OTELCOL     OpenTelemetry Collector (.ci/otelcol/build.sh)
//	SLOGUARD_PROMETHEUS  prometheus
//	SLOGUARD_PROMTOOL    promtool
//
// A missing program fails the test; it is never skipped. Every process,
// listener and request stays on 127.0.0.1 and every wait has a deadline.
//
//	SLOGUARD_OTELCOL=$(bash .ci/otelcol/build.sh | tail -1) \
//	SLOGUARD_PROMETHEUS=$(command -v prometheus) \
//	SLOGUARD_PROMTOOL=$(command -v promtool) \
//	go test -race -count=1 -tags integration ./internal/integration/
package integration
