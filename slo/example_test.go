package slo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The examples drive the engine with Tick and fixed times instead of Start,
// so that their output is the same on every run.

func Example() {
	eng, err := slo.New([]slo.Objective{
		{Name: "checkout-availability", Target: 0.999}, // 99.9% over 30 days
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithEventHandler(func(ev slo.Event) { fmt.Println("event:", ev) }),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	checkout, err := eng.Recorder("checkout-availability")
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	eng.Tick(start)
	fmt.Println("no traffic yet:", eng.Status().Objectives[0].Report.State)

	// 10,000 requests, 5 of them failed: half the budget of 10 bad ones.
	for i := range 10_000 {
		outcome := budget.Good
		if i%2000 == 0 {
			outcome = budget.Bad
		}
		checkout.Record(outcome, 20*time.Millisecond)
	}
	eng.Tick(start.Add(time.Second))

	st := eng.Status().Objectives[0]
	fmt.Printf("%s: %v, %.1f%% of the error budget left\n", st.Objective.Name, st.Report.State, st.Report.Remaining*100)
	// Output:
	// no traffic yet: unknown
	// event: checkout-availability: unknown → ok (remaining 50.0%, burn 5m=0.5 30m=0.5 1h=0.5 2h=0.5 6h=0.5 1d=0.5 3d=0.5)
	// checkout-availability: ok, 50.0% of the error budget left
}

func ExampleRecorder_Record() {
	eng, err := slo.New([]slo.Objective{
		{Name: "invoice-jobs", Target: 0.99, Latency: time.Minute}, // 99% done within a minute
	}, slo.WithLogger(slog.New(slog.DiscardHandler)), slo.WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	// A batch job records each unit of work; here the durations and errors
	// are made up.
	jobs := []struct {
		took time.Duration
		err  error
	}{
		{10 * time.Second, nil},
		{90 * time.Second, nil}, // too slow: bad
		{5 * time.Second, errors.New("smtp: connection refused")},
		{time.Second, context.Canceled}, // the caller gave up: neutral
		{20 * time.Second, nil},
	}
	// The Recorder is looked up once, by name.
	if _, err := eng.Recorder("invoice-job"); err != nil {
		fmt.Println(err)
	}
	rec, err := eng.Recorder("invoice-jobs")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, j := range jobs {
		rec.Record(slo.OutcomeOf(j.err), j.took)
	}

	eng.Tick(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	st, _ := eng.Status().Objective("invoice-jobs")
	fmt.Printf("good %d, bad %d, neutral %d\n", st.Totals.Good, st.Totals.Bad, st.Neutral)
	// Output:
	// slo: unknown objective "invoice-job"
	// good 2, bad 2, neutral 1
}

func ExampleOutcomeOf() {
	for _, err := range []error{
		nil,
		errors.New("db: connection reset"),
		fmt.Errorf("charge card: %w", context.Canceled),
		context.DeadlineExceeded,
	} {
		fmt.Printf("%v: %v\n", err, slo.OutcomeOf(err))
	}
	// Output:
	// <nil>: good
	// db: connection reset: bad
	// charge card: context canceled: neutral
	// context deadline exceeded: bad
}

// A feature flag tied to the budget: the new recommender runs only while
// the recommendations keep a quarter of their budget and do not page.
func ExampleGate() {
	eng, err := slo.New([]slo.Objective{
		{Name: "recommendations", Target: 0.99},
	},
		slo.WithGate("new-recommender", slo.GatePolicy{MinRemaining: 0.25, ClosedOnPage: true}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	gate, err := eng.Gate("new-recommender")
	if err != nil {
		fmt.Println(err)
		return
	}
	recommend := func() string {
		if gate.Enabled() { // one atomic load
			return "new recommender"
		}
		return "old recommender"
	}

	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rec, _ := eng.Recorder("recommendations")
	record := func(good, bad int) {
		for range good {
			rec.Record(budget.Good, 0)
		}
		for range bad {
			rec.Record(budget.Bad, 0)
		}
	}
	record(10_000, 10) // 10% of the budget spent
	eng.Tick(start)
	fmt.Println(recommend())

	record(0, 80) // about 90% spent
	eng.Tick(start.Add(time.Second))
	fmt.Println(recommend(), "-", eng.Status().Gates[0].Reason)
	// Output:
	// new recommender
	// old recommender - recommendations has 10.8% of its budget left, at most 25.0%
}

// The error budget policy: releases freeze once the budget is spent, and a
// pipeline asks Status().Release (or the status page's /release endpoint).
func ExampleReleasePolicy() {
	eng, err := slo.New([]slo.Objective{
		{Name: "checkout-availability", Target: 0.999},
	},
		slo.WithReleasePolicy(slo.ReleasePolicy{FreezeBelow: 0, Hysteresis: 0.05}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	checkout, _ := eng.Recorder("checkout-availability")
	for range 100_000 {
		checkout.Record(budget.Good, 0)
	}
	eng.Tick(start)
	fmt.Println("frozen:", eng.Status().Release.Frozen)

	for range 150 { // 150 bad of 100,150: 1.5 budgets
		checkout.Record(budget.Bad, 0)
	}
	eng.Tick(start.Add(time.Second))
	r := eng.Status().Release
	fmt.Println("frozen:", r.Frozen, "-", r.Reason)
	// Output:
	// frozen: false
	// frozen: true - checkout-availability has -49.8% of its budget left, at most 0.0%
}
