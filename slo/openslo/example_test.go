package openslo_test

import (
	"fmt"
	"os"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/openslo"
)

// One SLO with an inline SLI bound to an HTTP route, and a burn-rate alert
// condition.
func ExampleDecode() {
	const doc = `
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-availability}
    spec:
      ratioMetric:
        counter: true
        good:  {metricSource: {type: sloguard, spec: {routes: ["POST /checkout"]}}}
        total: {metricSource: {type: sloguard, spec: {routes: ["POST /checkout"]}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{targetPercent: 99.9}]
  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: fast-burn}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: page-1h}
            spec:
              severity: page
              condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 2m}
`
	slos, err := openslo.Decode(openslo.File{Name: "slos.yaml", Data: []byte(doc)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range slos {
		o := s.Objective
		fmt.Printf("%s/%s: target %v over %v, routes %q\n", s.Service, o.Name, o.Target, o.Period, s.Routes)
		for i, r := range o.Rules {
			fmt.Printf("  %s: burn %v over %v and %v, for %v\n", r.Severity, r.Burn, r.Long, r.ShortWindow(), s.AlertAfter[i])
		}
	}

	_, err = openslo.Decode(openslo.File{Name: "typo.yaml", Data: []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  servce: checkout\n")})
	fmt.Println(err)
	// Output:
	// checkout/checkout-availability: target 0.999 over 672h0m0s, routes ["POST /checkout"]
	//   page: burn 14.4 over 1h0m0s and 5m0s, for 2m0s
	// typo.yaml:4: document 1 (SLO x): spec.service: openslo: invalid document: missing
	// typo.yaml:4: document 1 (SLO x): spec.indicator: openslo: invalid document: missing (or indicatorRef)
	// typo.yaml:4: document 1 (SLO x): spec.budgetingMethod: openslo: invalid document: missing
	// typo.yaml:4: document 1 (SLO x): spec.objectives: openslo: invalid document: missing
	// typo.yaml:5: document 1 (SLO x): spec.servce: openslo: invalid document: unknown field (known: description, service, indicator, indicatorRef, timeWindow, budgetingMethod, objectives, alertPolicies)
}

// An objective declared in Go, written as OpenSLO for the teams and tools
// that read it.
func ExampleEncode() {
	err := openslo.Encode(os.Stdout, openslo.SLO{
		Service: "search",
		Methods: []string{"/shop.Search/Find"},
		Objective: slo.Objective{
			Name: "search-latency", Target: 0.99, Latency: 250 * time.Millisecond,
			Calendar: budget.Calendar{Unit: budget.Week},
			Rules:    []budget.Rule{{Severity: budget.Page, Long: time.Hour, Burn: 10}},
		},
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// apiVersion: openslo/v1
	// kind: SLO
	// metadata:
	//   name: search-latency
	// spec:
	//   service: search
	//   indicator:
	//     metadata:
	//       name: search-latency
	//     spec:
	//       thresholdMetric:
	//         metricSource:
	//           type: sloguard
	//           spec:
	//             methods:
	//               - /shop.Search/Find
	//   timeWindow:
	//     - duration: 1w
	//       isRolling: false
	//       calendar:
	//         startTime: "2024-01-08 00:00:00"
	//         timeZone: UTC
	//   budgetingMethod: Occurrences
	//   objectives:
	//     - op: lte
	//       value: 0.25
	//       target: 0.99
	//   alertPolicies:
	//     - kind: AlertPolicy
	//       metadata:
	//         name: search-latency-burn-rate
	//       spec:
	//         conditions:
	//           - kind: AlertCondition
	//             metadata:
	//               name: search-latency-page-1h
	//             spec:
	//               severity: page
	//               condition:
	//                 kind: burnrate
	//                 op: gte
	//                 threshold: 10
	//                 lookbackWindow: 1h
	//                 alertAfter: 0m
}
