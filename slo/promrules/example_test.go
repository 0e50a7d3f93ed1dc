package promrules_test

import (
	"fmt"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promrules"
)

// Rules for one objective with a custom page rule: the SLI ratio of each
// window, the meta rules and the page alert.
func ExampleGenerate() {
	f, err := promrules.Generate(promrules.Config{}, promrules.SLO{
		Service: "checkout",
		Objective: slo.Objective{
			Name: "checkout-availability", Target: 0.999, Period: 28 * 24 * time.Hour,
			Rules: []budget.Rule{{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range f.Groups {
		fmt.Println(g.Name)
		for _, r := range g.Rules {
			if r.Alert != "" {
				fmt.Printf("  alert %s %v\n%s", r.Alert, r.Labels, r.Expr)
				continue
			}
			fmt.Println("  " + r.Record)
		}
	}
	// Output:
	// sloguard-slo-checkout-checkout-availability
	//   slo:sli_error:ratio_rate5m
	//   slo:sli_error:ratio_rate1h
	//   slo:sli_error:ratio_rate28d
	//   slo:objective:ratio
	//   slo:error_budget:ratio
	//   slo:time_period:days
	//   slo:current_burn_rate:ratio
	//   slo:period_burn_rate:ratio
	//   slo:period_error_budget_remaining:ratio
	//   sloth_slo_info
	//   alert CheckoutAvailabilityPage map[sloth_severity:page]
	// (
	//   max(slo:sli_error:ratio_rate5m{sloth_id="checkout-checkout-availability", sloth_service="checkout", sloth_slo="checkout-availability"} >= (13.44 * (1 - 0.999))) without (sloth_window)
	//   and
	//   max(slo:sli_error:ratio_rate1h{sloth_id="checkout-checkout-availability", sloth_service="checkout", sloth_slo="checkout-availability"} >= (13.44 * (1 - 0.999))) without (sloth_window)
	// )
}
