package otelsdk_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
	"github.com/sloguard/sloguard/slo/otelsdk"
)

// The engine's metrics reach the reader through the Producer; a
// PeriodicReader or the Prometheus exporter takes it the same way.
func Example() {
	eng, err := slo.New([]slo.Objective{{Name: "checkout", Target: 0.999}})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	p, err := otelsdk.New(eng) // from now on the engine's metrics reach OpenTelemetry only through p
	if err != nil {
		log.Fatal(err)
	}
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(p))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	rec, err := eng.Recorder("checkout")
	if err != nil {
		log.Fatal(err)
	}
	for i := range 1000 {
		o := budget.Good
		if i%500 == 0 {
			o = budget.Bad
		}
		rec.Record(o, 20*time.Millisecond)
	}
	eng.Tick(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				printPoints(m.Name, d.DataPoints)
			case metricdata.Gauge[float64]:
				if m.Name == metrics.Target {
					printPoints(m.Name, d.DataPoints)
				}
			}
		}
	}
	// Output:
	// sloguard.events{objective=checkout,outcome=bad} 2
	// sloguard.events{objective=checkout,outcome=good} 998
	// sloguard.events{objective=checkout,outcome=neutral} 0
	// sloguard.events{objective=checkout,outcome=shed} 0
	// sloguard.objective.target{objective=checkout} 0.999
	// sloguard.faults{} 0
}

// printPoints prints the data points of the named metric, sorted.
func printPoints[N int64 | float64](name string, dps []metricdata.DataPoint[N]) {
	var lines []string
	for _, dp := range dps {
		lines = append(lines, fmt.Sprintf("%s{%s} %v", name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value))
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}
