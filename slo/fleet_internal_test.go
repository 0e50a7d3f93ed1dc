package slo

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
)

// TestFleetViewAllocs checks that an evaluation on the fleet's view
// allocates nothing in the steady state, and that the fleet's report,
// written into memory it reuses, never lands in the local one.
func TestFleetViewAllocs(t *testing.T) {
	src := FleetSourceFunc(func(context.Context, FleetQuery) ([]FleetCounts, error) { return nil, nil })
	e, err := New([]Objective{{Name: "a", Target: 0.99}}, WithFleet(src, FleetPolicy{MaxAge: time.Hour}),
		WithLogger(slog.New(slog.DiscardHandler)), WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	r := e.recs[0]
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func() {
		r.Record(budget.Good, 0)
		now = now.Add(time.Second)
		e.Tick(now)
	}
	// On the local view first, where the report shares the local one's
	// arrays.
	for range 3 {
		tick()
	}
	var counts []FleetCounts
	for _, w := range fleetWindows(r.spec, now) {
		counts = append(counts, FleetCounts{Objective: "a", Window: w, Good: 1e6, Bad: 5e4})
	}
	e.fleet.latest.Store(&fleetRead{at: now, counts: counts}) // as the reader would
	for range 5 {
		tick()
	}
	if n := testing.AllocsPerRun(50, tick); n != 0 {
		t.Errorf("Tick on the fleet's view allocates %v times, want 0", n)
	}
	o := e.Status().Objectives[0]
	if o.View != ViewFleet || shares(o.Report, o.Local) {
		t.Fatalf("Status().Objectives[0]: view %v, report and local share arrays: %v; want the fleet's view in its own arrays",
			o.View, shares(o.Report, o.Local))
	}
	if fleet, local := o.Report.Windows[0].Counts.Bad, o.Local.Windows[0].Counts.Bad; fleet != 5e4 || local != 0 {
		t.Errorf("bad events in the shortest window: report %d, local %d; want 50000 and 0", fleet, local)
	}
}
