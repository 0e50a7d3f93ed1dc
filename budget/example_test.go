package budget_test

import (
	"fmt"
	"time"

	"github.com/sloguard/sloguard/budget"
)

func ExampleLedger() {
	start := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	l, err := budget.NewLedger(30*24*time.Hour, 5*time.Minute, time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The request path records outcomes; one owner advances the clock.
	l.Add(budget.Good, 994)
	l.Add(budget.Bad, 6)
	l.Advance(start)
	l.Add(budget.Good, 1000)
	l.Advance(start.Add(10 * time.Minute))

	now := start.Add(10 * time.Minute)
	for _, w := range []time.Duration{5 * time.Minute, time.Hour} {
		c := l.Sum(now, w)
		fmt.Printf("%s: %d good, %d bad, burn rate %.1f at 99.9%%\n",
			budget.FormatWindow(w), c.Good, c.Bad, budget.Burn(c.Bad, c.Total(), 0.999))
	}
	// Output:
	// 5m: 1000 good, 0 bad, burn rate 0.0 at 99.9%
	// 1h: 1994 good, 6 bad, burn rate 3.0 at 99.9%
}

func ExampleDefaultRules() {
	fmt.Println("rule       short  30d    28d")
	for _, r := range budget.DefaultRules() {
		fmt.Printf("%-10s %-6s %-6.4g %.4g\n", r.Name(), budget.FormatWindow(r.ShortWindow()),
			r.Threshold(30*24*time.Hour), r.Threshold(28*24*time.Hour))
	}
	// Output:
	// rule       short  30d    28d
	// page-1h    5m     14.4   13.44
	// page-6h    30m    6      5.6
	// ticket-1d  2h     3      2.8
	// ticket-3d  6h     1      0.9333
}

func ExampleEvaluate() {
	spec := budget.Spec{Target: 0.999, Period: 30 * 24 * time.Hour}
	l, err := spec.NewLedger()
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	report := func() {
		r := budget.Evaluate(l, spec, now)
		fmt.Printf("%s %s: remaining %.1f%%", now.Format("15:04"), r.State, 100*r.Remaining)
		if r.TimeToExhaustion != budget.Never {
			fmt.Printf(", exhausted in %v", r.TimeToExhaustion.Round(time.Minute))
		}
		fmt.Println()
	}

	report() // no data yet

	// A day ago: two million good events.
	l.Add(budget.Good, 2_000_000)
	l.Advance(now.Add(-24 * time.Hour))
	report()

	// Then five minutes in which 10% of requests fail.
	for range 5 {
		now = now.Add(time.Minute)
		l.Add(budget.Good, 900)
		l.Add(budget.Bad, 100)
		l.Advance(now)
	}
	report()
	// Output:
	// 12:00 unknown: remaining 100.0%
	// 12:00 ok: remaining 100.0%
	// 12:05 page: remaining 75.1%, exhausted in 5h24m0s
}

// A monthly budget in Berlin: each month's thresholds follow its length,
// and the budget starts afresh at midnight on the 1st, local time.
func ExampleCalendar() {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		fmt.Println(err)
		return
	}
	spec := budget.Spec{Target: 0.999, Calendar: budget.Calendar{Unit: budget.Month, Location: berlin}}
	page := budget.DefaultRules()[0] // 2% of the budget in 1h
	for _, t := range []time.Time{
		time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 31, 21, 59, 0, 0, time.UTC), // 23:59 in Berlin (summer time)
		time.Date(2025, 3, 31, 22, 0, 0, 0, time.UTC),  // 1 April, 00:00 in Berlin
	} {
		start, length := spec.PeriodAt(t)
		fmt.Printf("%s: period from %s, %v long, page at %.4g×\n",
			t.Format(time.RFC3339), start.Format("2006-01-02 15:04 MST"), length, page.Threshold(length))
	}
	// Output:
	// 2025-02-10T12:00:00Z: period from 2025-02-01 00:00 CET, 672h0m0s long, page at 13.44×
	// 2025-03-31T21:59:00Z: period from 2025-03-01 00:00 CET, 743h0m0s long, page at 14.86×
	// 2025-03-31T22:00:00Z: period from 2025-04-01 00:00 CEST, 720h0m0s long, page at 14.4×
}
