// Package promfleet is a slo.FleetSource that reads the fleet-wide event
// counts of sloguard's objectives from any backend that serves the
// Prometheus HTTP query API: Prometheus itself, Thanos Querier, Grafana
// Mimir, Cortex or VictoriaMetrics. It uses the Prometheus Go client
// (github.com/prometheus/client_golang/api) and lives apart from package
// slo, so that services without a fleet view do not import it.
//
//	src, err := promfleet.New("http://prometheus:9090", promfleet.WithService("checkout"))
//	if err != nil { ... }
//	eng, err := slo.New(objectives, slo.WithFleet(src, slo.FleetPolicy{}))
//
// # What it reads
//
// Every replica exports the counter sloguard.events (sloguard_events_total
// in Prometheus) with the attributes objective and outcome. For each window
// an objective needs (its period and the windows of its rules), Read sends
// one instant query per distinct window length, for every objective at
// once:
//
//	sum by (objective, outcome) (
//	  increase(sloguard_events_total{objective=~"a|b", outcome=~"good|bad|shed", <selector>}[5m])
//	)
//
// # Which series are the service's
//
// An objective across replicas is identified by the objective label, and
// the service by its service label, as in the rules of package promrules:
// WithService("checkout") matches job="checkout". Prometheus sets job from
// the scrape configuration, and from the resource's service.name when
// metrics arrive through OTLP; WithServiceLabel("service_name") suits
// exporters that copy resource attributes onto every series instead.
// WithSelector adds further matchers (namespace="shop"). Without any, every
// series of the objective's name counts, which is right when objective
// names are unique in the backend. Replicas differ by their instance
// label, which is summed away.
//
// # Accuracy
//
// increase() extrapolates each series to the window's edges, from its
// first and last samples: counts may be off by up to one scrape interval's
// events at each edge of a window, and events a replica recorded after its
// last scrape before it died are never seen. A replica's outcome series
// are scraped together, so each replica's error ratio, and with it the
// burn rates and the remaining budget, are hardly affected. A new series
// counts from its first scrape: replicas export zero counts from the start,
// so nothing is lost when the first scrape comes before the first request.
//
// # Thanos, Mimir and authentication
//
// The address is the base URL of the query API: http://thanos-query:10902,
// or http://mimir:8080/prometheus for Mimir. Tenants and credentials go in
// headers (WithHeader("X-Scope-OrgID", "team-a")) or in a RoundTripper of
// your own (WithRoundTripper), such as one that adds OAuth2 tokens.
//
// # Concurrency
//
// A Source is safe for concurrent use; the engine calls Read from one
// goroutine with a deadline.
package promfleet
