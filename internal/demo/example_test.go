package demo_test

import (
	"fmt"
	"os"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo"
)

// A one-hour period stands for 30 days: the Workbook's rules shrink 720
// times and keep their thresholds.
func ExampleConfig_Shrink() {
	cfg := demo.DefaultConfig() // Period: time.Hour
	workbook := []budget.Rule{
		{Severity: budget.Page, Long: 6 * time.Hour, BudgetFraction: 0.05},
		{Severity: budget.Ticket, Long: 24 * time.Hour, BudgetFraction: 0.10},
	}
	for _, r := range cfg.Shrink(workbook) {
		fmt.Printf("%s %s & %s, threshold %.3g\n", r.Severity, demo.Label(r.Long), demo.Label(r.ShortWindow()), r.Threshold(cfg.Period))
	}
	// Output:
	// page 30s & 2.5s, threshold 6
	// ticket 2m & 10s, threshold 3
}

func ExampleConsole_PrintCompression() {
	cfg := demo.DefaultConfig()
	demo.NewConsole(os.Stdout).PrintCompression(cfg)
	// Output:
	// Time is compressed 720×: one second here stands for 12m of a 30-day SLO.
	//   period     1h        the rolling window of the error budget (stands for 30d)
	//   history    1h        of healthy traffic at 200 rps, recorded before the start, so the
	//              budget has the base a running service would have
}

func ExampleConsole_PrintObjectives() {
	cfg := demo.DefaultConfig()
	workbook := []budget.Rule{
		{Severity: budget.Page, Long: 6 * time.Hour, BudgetFraction: 0.05},
		{Severity: budget.Ticket, Long: 24 * time.Hour, BudgetFraction: 0.10},
	}
	objs := []slo.Objective{
		{Name: "availability", Description: "requests answered without a 5xx", Target: 0.999, Period: cfg.Period, Rules: cfg.Shrink(workbook)},
		{Name: "latency", Description: "requests answered within 300ms", Target: 0.99, Period: cfg.Period, Rules: cfg.Shrink(workbook)},
	}
	demo.NewConsole(os.Stdout).PrintObjectives(cfg, objs, workbook)
	// Output:
	// Objectives, each over both routes
	//   availability  99.9%  of requests answered without a 5xx
	//   latency       99%    of requests answered within 300ms
	//
	// Alert rules: the SRE Workbook's, windows shrunk 720×; threshold = budget fraction × period / long window
	//   severity long   short  budget  threshold  for a 30-day period
	//   page     30s    2.5s   5%      6×         6h & 30m
	//   ticket   2m     10s    10%     3×         1d & 2h
}

func ExampleStates() {
	start := time.Unix(1000, 0)
	changes := []slo.Event{
		{Kind: slo.StateChanged, Time: start.Add(-time.Hour), To: budget.StateOK},
		{Kind: slo.StateChanged, Time: start.Add(16 * time.Second), To: budget.StatePage},
		{Kind: slo.StateChanged, Time: start.Add(29 * time.Second), To: budget.StateTicket},
	}
	fmt.Println(demo.States(changes, start, budget.StateTicket))
	// Output: ok (history) → page at 16.0s → ticket at 29.0s
}
