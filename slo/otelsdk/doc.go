// Package otelsdk exports an slo.Engine's metrics through the OpenTelemetry
// SDK's Producer interface (go.opentelemetry.io/otel/sdk/metric), which
// hands the SDK's readers data that is aggregated already, instead of
// through observable instruments.
//
// # When to use it
//
// By default the engine registers observable instruments with its
// MeterProvider (slo.WithMeterProvider), and package slo depends on the
// OpenTelemetry API only. That is the simpler path, and the right one for
// a service with a few objectives or an application that does not use the
// SDK. But sloguard aggregates everything itself, and the SDK aggregates
// every observation once more at each collection, with a few allocations
// for each of the 19 or so series of an objective. A Producer builds the
// SDK's metricdata directly, without that second aggregation, in a number
// of allocations that does not grow with the objectives: a collection
// costs about 5 times less with one objective and 15 to 28 times less
// with 100 to 1000 (the README's Performance section has the numbers). Use it when the engine has many
// objectives or the cost of a collection matters. It is a package of its
// own so that services that do not need it do not import the SDK.
//
// # Usage
//
// Give the Producer to the reader that exports the metrics, with
// sdkmetric.WithProducer (ManualReader, PeriodicReader) or the Prometheus
// exporter's WithProducer option (go.opentelemetry.io/otel/exporters/prometheus):
//
//	eng, err := slo.New(objectives)
//	…
//	p, err := otelsdk.New(eng)
//	…
//	reader := sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithProducer(p))
//	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
//
// New takes the engine's metrics over from whichever MeterProvider it was
// given (by default the global one), so that no series is ever exported
// twice.
//
// # What is exported
//
// Exactly the metrics of the instrument path: the same names, units,
// descriptions, attributes and values, absent under the same conditions
// (package slo/metrics documents them), from the same code in package slo,
// so that the two paths cannot differ. They come in one ScopeMetrics of
// scope metrics.Scope; counters are cumulative monotonic sums whose start
// time is the engine's start (slo.New), the others gauges. Being already
// aggregated, they pass by the MeterProvider's views and cardinality
// limit. After the engine's Close, Produce returns nothing, as the
// instrument path exports nothing.
package otelsdk
