package slo_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// A restart keeps the error budget: Close saves the ledgers, the next
// process restores them at its first evaluation, and the hour it was down
// counts as no data. The cumulative totals behind sloguard.events start
// again from zero. The history and the changes in the timeline are
// restored too: the deploy that fixes an incident keeps its record.
func ExampleWithSnapshots() {
	dir, err := os.MkdirTemp("", "sloguard-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store, err := slo.NewFileStore(filepath.Join(dir, "sloguard.snap"))
	if err != nil {
		fmt.Println(err)
		return
	}
	newEngine := func() *slo.Engine {
		eng, err := slo.New([]slo.Objective{{Name: "checkout-availability", Target: 0.999}},
			slo.WithLogger(slog.New(slog.DiscardHandler)),
			slo.WithMeterProvider(noop.NewMeterProvider()),
			slo.WithSnapshots(store, time.Minute),
		)
		if err != nil {
			panic(err)
		}
		return eng
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	before := newEngine()
	before.Tick(start)
	checkout, _ := before.Recorder("checkout-availability")
	for range 999 {
		checkout.Record(budget.Good, 0)
	}
	checkout.Record(budget.Bad, 0)
	before.Tick(start.Add(time.Minute))
	if err := before.Close(); err != nil { // saves the final snapshot
		fmt.Println(err)
		return
	}

	after := newEngine() // the next process, an hour later
	defer after.Close()
	after.Tick(start.Add(time.Hour))
	o := after.Status().Objectives[0]
	fmt.Printf("view %v, from a snapshot of %v\n", o.View, o.ViewTime.Format(time.TimeOnly))
	fmt.Printf("period: %d good, %d bad; remaining %.0f%%\n", o.Report.Period.Good, o.Report.Period.Bad, o.Report.Remaining*100)
	fmt.Printf("sloguard.events since this process started: %d\n", o.Totals.Total())
	hist, _ := after.History("checkout-availability")
	fmt.Printf("history: %d samples, the latest at %v\n", len(hist), hist[len(hist)-1].Time.Format(time.TimeOnly))
	for _, ev := range after.Events() {
		fmt.Println(ev.Time.Format(time.TimeOnly), ev)
	}
	// Output:
	// view restored, from a snapshot of 12:01:00
	// period: 999 good, 1 bad; remaining 0%
	// sloguard.events since this process started: 0
	// history: 2 samples, the latest at 13:00:00
	// 12:01:00 checkout-availability: unknown → exhausted (remaining 0.0%, burn 5m=1 30m=1 1h=1 2h=1 6h=1 1d=1 3d=1)
	// 12:01:00 releases frozen (checkout-availability has 0.0% of its budget left, at most 0.0%)
	// 13:00:00 snapshot restored: written at 2025-03-01T12:01:00Z (59m0s ago); restored checkout-availability; history of 1 samples and 2 events
	// 13:00:00 checkout-availability: unknown → exhausted (remaining 0.0%, burn 5m=0 30m=0 1h=1 2h=1 6h=1 1d=1 3d=1)
	// 13:00:00 releases frozen (checkout-availability has 0.0% of its budget left, at most 0.0%)
}
