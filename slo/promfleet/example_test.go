package promfleet_test

import (
	"fmt"
	"time"

	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promfleet"
)

// A fleet view from Grafana Mimir: its query API under /prometheus, the
// tenant in a header, the service's series by their job label.
func ExampleNew() {
	src, err := promfleet.New("http://mimir:8080/prometheus",
		promfleet.WithService("checkout"),
		promfleet.WithHeader("X-Scope-OrgID", "team-a"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The engine reads it every 30 seconds; this is what it asks for the
	// 1h window of two objectives.
	fmt.Println(src.Query([]string{"checkout-availability", "checkout-latency"}, time.Hour))

	eng, err := slo.New([]slo.Objective{{Name: "checkout-availability", Target: 0.999}},
		slo.WithFleet(src, slo.FleetPolicy{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(eng.Close())
	// Output:
	// sum by (objective, outcome) (increase(sloguard_events_total{objective=~"checkout-availability|checkout-latency", outcome=~"good|bad|shed", job="checkout"}[1h]))
	// <nil>
}
