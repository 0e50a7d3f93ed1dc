package slo_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// newMetered returns an engine that exports through an SDK MeterProvider
// with a ManualReader, and the reader.
func newMetered(t testing.TB, objectives []slo.Objective, opts ...slo.Option) (*slo.Engine, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return newEngine(t, objectives, append(opts, slo.WithMeterProvider(mp))...), reader
}

// collected is one collection of sloguard's metrics, by metric name.
type collected map[string]metricdata.Metrics

// collect collects once and returns the metrics of scope metrics.Scope. It
// fails the test if another scope reports anything.
func collect(t testing.TB, reader *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect error: %v", err)
	}
	got := collected{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != metrics.Scope {
			t.Errorf("Collect: scope %q, want only %q", sm.Scope.Name, metrics.Scope)
			continue
		}
		for _, m := range sm.Metrics {
			if _, dup := got[m.Name]; dup {
				t.Errorf("Collect: metric %q reported twice", m.Name)
			}
			got[m.Name] = m
		}
	}
	return got
}

// points are the data points of one metric: the value by attribute set,
// written "key=value,key=value" in key order.
type points[N int64 | float64] map[string]N

func attrs(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// sum returns the points of a monotonic cumulative sum with the given unit.
func sum(t testing.TB, c collected, name, unit string) points[int64] {
	t.Helper()
	m, ok := c[name]
	if !ok {
		t.Fatalf("metric %q not collected; got %v", name, slices.Sorted(maps.Keys(c)))
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("metric %q is %T, want metricdata.Sum[int64]", name, m.Data)
	}
	if m.Unit != unit || !s.IsMonotonic || s.Temporality != metricdata.CumulativeTemporality {
		t.Errorf("metric %q: unit %q, monotonic %v, temporality %v; want %q, true, cumulative", name, m.Unit, s.IsMonotonic, s.Temporality, unit)
	}
	if m.Description == "" {
		t.Errorf("metric %q has no description", name)
	}
	p := points[int64]{}
	for _, dp := range s.DataPoints {
		p[attrs(dp.Attributes)] = dp.Value
	}
	return p
}

// gauge returns the points of a gauge with the given unit, or nil if the
// gauge was not collected.
func gauge[N int64 | float64](t testing.TB, c collected, name, unit string) points[N] {
	t.Helper()
	m, ok := c[name]
	if !ok {
		return nil
	}
	g, ok := m.Data.(metricdata.Gauge[N])
	if !ok {
		t.Fatalf("metric %q is %T, want metricdata.Gauge[%T]", name, m.Data, N(0))
	}
	if m.Unit != unit {
		t.Errorf("metric %q: unit %q, want %q", name, m.Unit, unit)
	}
	if m.Description == "" {
		t.Errorf("metric %q has no description", name)
	}
	p := points[N]{}
	for _, dp := range g.DataPoints {
		p[attrs(dp.Attributes)] = dp.Value
	}
	return p
}

func checkPoints[N int64 | float64](t *testing.T, name string, got, want points[N]) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

// stateGauge is the sloguard.state points of objectives in the given states.
func stateGauge(states map[string]budget.State) points[int64] {
	p := points[int64]{}
	for name, cur := range states {
		for s := budget.StateUnknown; s <= budget.StateExhausted; s++ {
			v := int64(0)
			if s == cur {
				v = 1
			}
			p[fmt.Sprintf("objective=%s,state=%v", name, s)] = v
		}
	}
	return p
}

func TestTelemetry(t *testing.T) {
	eng, reader := newMetered(t, []slo.Objective{
		{Name: "avail", Target: 0.999},
		{Name: "fast", Target: 0.99, Latency: 100 * time.Millisecond, Rules: []budget.Rule{
			{Severity: budget.Page, Long: time.Hour, Short: 10 * time.Minute, BudgetFraction: 0.02},
		}},
	})
	record(t, eng, "avail", budget.Good, 0, 9989)
	record(t, eng, "avail", budget.Bad, 0, 8)
	record(t, eng, "avail", budget.Shed, 0, 3)
	record(t, eng, "avail", budget.Neutral, 0, 2)
	record(t, eng, "fast", budget.Good, 50*time.Millisecond, 95)
	record(t, eng, "fast", budget.Good, time.Second, 5)
	record(t, eng, "fast", budget.Neutral, 0, 1)

	wantEvents := points[int64]{
		"objective=avail,outcome=good": 9989, "objective=avail,outcome=bad": 8,
		"objective=avail,outcome=shed": 3, "objective=avail,outcome=neutral": 2,
		"objective=fast,outcome=good": 95, "objective=fast,outcome=bad": 5,
		"objective=fast,outcome=shed": 0, "objective=fast,outcome=neutral": 1,
	}
	wantTarget := points[float64]{"objective=avail": 0.999, "objective=fast": 0.99}

	t.Run("before Tick", func(t *testing.T) {
		c := collect(t, reader)
		checkPoints(t, metrics.Events, sum(t, c, metrics.Events, "{event}"), wantEvents) // read from the ledger: current
		checkPoints(t, metrics.Faults, sum(t, c, metrics.Faults, "{fault}"), points[int64]{"": 0})
		checkPoints(t, metrics.Target, gauge[float64](t, c, metrics.Target, "1"), wantTarget)
		checkPoints(t, metrics.State, gauge[int64](t, c, metrics.State, "{state}"),
			stateGauge(map[string]budget.State{"avail": budget.StateUnknown, "fast": budget.StateUnknown}))
		if p := gauge[float64](t, c, metrics.Remaining, "1"); len(p) != 0 {
			t.Errorf("%s while unknown = %v, want absent", metrics.Remaining, p)
		}
		if p := gauge[float64](t, c, metrics.BurnRate, "1"); len(p) != 0 {
			t.Errorf("%s before any evaluation = %v, want absent", metrics.BurnRate, p)
		}
		if p := gauge[float64](t, c, metrics.ControlBurn, "1"); len(p) != 0 {
			t.Errorf("%s before any evaluation = %v, want absent", metrics.ControlBurn, p)
		}
		checkPoints(t, metrics.ReleaseFrozen, gauge[int64](t, c, metrics.ReleaseFrozen, ""), points[int64]{"": 0})
		if p := gauge[int64](t, c, metrics.GateEnabled, ""); len(p) != 0 {
			t.Errorf("%s without gates = %v, want absent", metrics.GateEnabled, p)
		}
		checkShedOff(t, c)
		checkNames(t, c)
	})

	eng.Tick(t0)
	st := eng.Status()
	t.Run("after Tick", func(t *testing.T) {
		c := collect(t, reader)
		checkPoints(t, metrics.Events, sum(t, c, metrics.Events, "{event}"), wantEvents)
		checkPoints(t, metrics.Target, gauge[float64](t, c, metrics.Target, "1"), wantTarget)

		avail, fast := objectiveStatus(t, st, "avail").Report, objectiveStatus(t, st, "fast").Report
		// avail: 11 of 10000 bad (shed counts as bad) overspend the budget
		// of 10 by 10%. fast: 5 of 100 bad spend 5 budgets.
		checkPoints(t, metrics.State, gauge[int64](t, c, metrics.State, "{state}"),
			stateGauge(map[string]budget.State{"avail": avail.State, "fast": fast.State}))
		if avail.State != budget.StateExhausted || fast.State != budget.StateExhausted {
			t.Errorf("states = %v, %v, want exhausted, exhausted", avail.State, fast.State)
		}
		checkPoints(t, metrics.Remaining, gauge[float64](t, c, metrics.Remaining, "1"),
			points[float64]{"objective=avail": avail.Remaining, "objective=fast": fast.Remaining})
		if want := -0.1; !near(avail.Remaining, want) {
			t.Errorf("avail remaining = %v, want %v", avail.Remaining, want)
		}

		wantBurn := points[float64]{}
		for name, rep := range map[string]budget.Report{"avail": avail, "fast": fast} {
			for _, w := range rep.Windows {
				wantBurn[fmt.Sprintf("objective=%s,window=%s", name, budget.FormatWindow(w.Window))] = w.Burn
			}
		}
		if len(wantBurn) != 7+2 {
			t.Errorf("windows in Status = %v, want 7 for avail (default rules) and 2 for fast", wantBurn)
		}
		checkPoints(t, metrics.BurnRate, gauge[float64](t, c, metrics.BurnRate, "1"), wantBurn)
		// The control signal: admitted events only, so avail's shed events
		// are left out: 8 of 9997 against 0.1%.
		wantControl := points[float64]{
			"objective=avail": objectiveStatus(t, st, "avail").ControlBurn,
			"objective=fast":  objectiveStatus(t, st, "fast").ControlBurn,
		}
		checkPoints(t, metrics.ControlBurn, gauge[float64](t, c, metrics.ControlBurn, "1"), wantControl)
		if got, want := wantControl["objective=avail"], 8.0/9997/0.001; !near(got, want) {
			t.Errorf("avail ControlBurn = %v, want %v", got, want)
		}
		if got, want := wantControl["objective=fast"], 5.0/100/0.01; !near(got, want) {
			t.Errorf("fast ControlBurn = %v, want %v", got, want)
		}
		// Both budgets are spent: releases are frozen.
		checkPoints(t, metrics.ReleaseFrozen, gauge[int64](t, c, metrics.ReleaseFrozen, ""), points[int64]{"": 1})
		checkShedOff(t, c)
		for k, v := range map[string]float64{
			"objective=avail,window=5m": 1.1,
			"objective=avail,window=3d": 1.1,
			"objective=fast,window=10m": 5,
			"objective=fast,window=1h":  5,
		} {
			if got, ok := wantBurn[k]; !ok || !near(got, v) {
				t.Errorf("burn %s = %v, want %v", k, got, v)
			}
		}
		checkNames(t, c)
	})

	t.Run("quiet windows", func(t *testing.T) {
		// Ten minutes on, the 5m and 10m windows, (t0, t0+10m], hold no
		// events: their burn rate is absent rather than 0.
		eng.Tick(t0.Add(10 * time.Minute))
		c := collect(t, reader)
		wantBurn := points[float64]{}
		for _, o := range eng.Status().Objectives {
			for _, w := range o.Report.Windows {
				if w.Window > 10*time.Minute {
					wantBurn[fmt.Sprintf("objective=%s,window=%s", o.Objective.Name, budget.FormatWindow(w.Window))] = w.Burn
				}
			}
		}
		checkPoints(t, metrics.BurnRate, gauge[float64](t, c, metrics.BurnRate, "1"), wantBurn)
		// The control window, 5s, is empty too.
		if p := gauge[float64](t, c, metrics.ControlBurn, "1"); len(p) != 0 {
			t.Errorf("%s with no events in the control window = %v, want absent", metrics.ControlBurn, p)
		}
	})

	t.Run("faults", func(t *testing.T) {
		eng, reader := newMetered(t, []slo.Objective{cycling}, slo.WithEventHandler(func(slo.Event) { panic("boom") }))
		now := t0
		// Five events, five panics: three state changes, and releases
		// frozen and going on again. Unknown at the end.
		cycle(t, eng, &now)
		if n := len(eng.Events()); n != 5 {
			t.Fatalf("Events() after a cycle = %d events, want 5", n)
		}
		c := collect(t, reader)
		checkPoints(t, metrics.Faults, sum(t, c, metrics.Faults, "{fault}"), points[int64]{"": 5})
		checkPoints(t, metrics.State, gauge[int64](t, c, metrics.State, "{state}"),
			stateGauge(map[string]budget.State{cycling.Name: budget.StateUnknown}))
		if p := gauge[float64](t, c, metrics.Remaining, "1"); len(p) != 0 {
			t.Errorf("%s while unknown again = %v, want absent", metrics.Remaining, p)
		}
	})

	t.Run("after Close", func(t *testing.T) {
		if err := eng.Close(); err != nil {
			t.Fatalf("Close() = %v, want nil", err)
		}
		record(t, eng, "avail", budget.Good, 0, 1)
		c := collect(t, reader)
		for name, m := range c {
			if n := dataPoints(m); n > 0 {
				t.Errorf("after Close: %s has %d data points, want none", name, n)
			}
		}
	})
}

// checkNames checks that the engine exports only its documented metrics,
// each with only its documented attributes.
func checkNames(t *testing.T, c collected) {
	t.Helper()
	want := map[string][]attribute.Key{
		metrics.Events:    {metrics.AttrObjective, metrics.AttrOutcome},
		metrics.Remaining: {metrics.AttrObjective},
		metrics.BurnRate:  {metrics.AttrObjective, metrics.AttrWindow},
		metrics.State:     {metrics.AttrObjective, metrics.AttrState},
		metrics.Target:    {metrics.AttrObjective},
		metrics.Faults:    nil,

		metrics.ControlBurn:  {metrics.AttrObjective},
		metrics.ShedLevel:    nil,
		metrics.ShedRejected: {metrics.AttrCriticality},
		metrics.BreakerState: {metrics.AttrDependency, metrics.AttrState},

		metrics.GateEnabled:   {metrics.AttrGate},
		metrics.ReleaseFrozen: nil,
	}
	for name, m := range c {
		keys, ok := want[name]
		if !ok {
			t.Errorf("metric %q collected, want only %v", name, slices.Sorted(maps.Keys(want)))
			continue
		}
		for _, set := range attributeSets(m) {
			var got []attribute.Key
			for _, kv := range set.ToSlice() {
				got = append(got, kv.Key)
			}
			if !slices.Equal(got, keys) {
				t.Errorf("metric %q has attributes %v, want %v", name, got, keys)
			}
		}
	}
}

func attributeSets(m metricdata.Metrics) []attribute.Set {
	var sets []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	case metricdata.Gauge[float64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	default:
		panic(fmt.Sprintf("metric %q: unexpected %T", m.Name, m.Data))
	}
	return sets
}

func dataPoints(m metricdata.Metrics) int { return len(attributeSets(m)) }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Abs(b) }

// checkShedOff checks that an engine without shedding and dependencies
// exports no shed or breaker metric.
func checkShedOff(t *testing.T, c collected) {
	t.Helper()
	for _, name := range []string{metrics.ShedLevel, metrics.ShedRejected, metrics.BreakerState} {
		if m, ok := c[name]; ok && dataPoints(m) > 0 {
			t.Errorf("%s without shedding or dependencies has %d points, want none", name, dataPoints(m))
		}
	}
}

// shedPoints is the sloguard.shed.rejections points of the given counts.
func shedPoints(rejected [4]uint64) points[int64] {
	p := points[int64]{}
	for _, c := range levels {
		p["criticality="+c.String()] = int64(rejected[c.Index()])
	}
	return p
}

// breakerPoints is the sloguard.breaker.state points of dependencies in the
// given states.
func breakerPoints(states map[string]slo.BreakerState) points[int64] {
	p := points[int64]{}
	for dep, cur := range states {
		for _, s := range []slo.BreakerState{slo.BreakerClosed, slo.BreakerHalfOpen, slo.BreakerOpen} {
			v := int64(0)
			if s == cur {
				v = 1
			}
			p[fmt.Sprintf("dependency=%s,state=%v", dep, s)] = v
		}
	}
	return p
}

// controlPoints is the sloguard.control.burn_rate points of a Status: the
// objectives whose control signal is known.
func controlPoints(st *slo.Status) points[float64] {
	p := points[float64]{}
	for _, o := range st.Objectives {
		if o.ControlKnown {
			p["objective="+o.Objective.Name] = o.ControlBurn
		}
	}
	return p
}

// TestTelemetryShedding checks the shedding and breaker metrics of a
// service that sheds and whose dependency's breaker opens.
func TestTelemetryShedding(t *testing.T) {
	eng, reader := newMetered(t, append(slices.Clone(apiObjectives), paymentsObjectives[1:]...),
		slo.WithShedding(slo.ShedPolicy{}),
		slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: time.Hour}), // real time: stays open for the test
	)
	b, err := eng.Breaker(payments)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, level float64, rejected [4]uint64, breaker slo.BreakerState) {
		t.Helper()
		c := collect(t, reader)
		st := eng.Status()
		if st.Shedding.Level != level {
			t.Fatalf("%s: Status().Shedding.Level = %v, want %v", when, st.Shedding.Level, level)
		}
		checkPoints(t, when+": "+metrics.ShedLevel, gauge[float64](t, c, metrics.ShedLevel, "1"), points[float64]{"": level})
		checkPoints(t, when+": "+metrics.ShedRejected, sum(t, c, metrics.ShedRejected, "{request}"), shedPoints(rejected))
		checkPoints(t, when+": "+metrics.BreakerState, gauge[int64](t, c, metrics.BreakerState, "{state}"),
			breakerPoints(map[string]slo.BreakerState{payments: breaker}))
		checkPoints(t, when+": "+metrics.ControlBurn, gauge[float64](t, c, metrics.ControlBurn, "1"), controlPoints(st))
		checkNames(t, c)
	}
	check("before Tick", 0, [4]uint64{}, slo.BreakerClosed)

	now := t0
	eng.Tick(now)
	rt, err := eng.Route(slo.Critical)
	if err != nil {
		t.Fatal(err)
	}
	var rejected [4]uint64
	for i := 1; i <= 5; i++ {
		record(t, eng, apiAvailability, budget.Bad, 0, 100)
		record(t, eng, apiLatency, budget.Good, time.Millisecond, 100)
		now = now.Add(time.Second)
		eng.Tick(now)
		for _, c := range levels {
			for range 100 {
				// Admitted requests stay in flight: the service is busy,
				// and the controller sheds.
				if _, _, ok := rt.Admit(c); !ok {
					rejected[c.Index()]++
				}
			}
		}
		// Rejections (of the level, and of the gate once the requests in
		// flight reach its limit) are read live; the level at the latest
		// Tick: half a band per hot evaluation.
		check(fmt.Sprintf("hot second %d", i), 0.5*float64(i), rejected, slo.BreakerClosed)
	}
	if len(controlPoints(eng.Status())) != 2 {
		t.Errorf("control burn points = %v, want both api objectives", controlPoints(eng.Status()))
	}
	// Levels 0.5 to 2.5: SHEDDABLE from half to all, SHEDDABLE_PLUS from
	// the third second, CRITICAL in the fifth, CRITICAL_PLUS never.
	if rejected[slo.Sheddable.Index()] < 400 || rejected[slo.SheddablePlus.Index()] < 200 || rejected[slo.Critical.Index()] == 0 || rejected[slo.CriticalPlus.Index()] != 0 {
		t.Errorf("rejected = %v by criticality, want about 450 SHEDDABLE, 250 SHEDDABLE_PLUS, 50 CRITICAL, no CRITICAL_PLUS", rejected)
	}

	calls(t, b, time.Millisecond, repeat(5, budget.Bad)...)
	check("breaker open, before Tick", 2.5, rejected, slo.BreakerClosed) // read from Status
	now = now.Add(time.Second)
	eng.Tick(now)
	// With a dependency's breaker open, a burn is the dependency's: the
	// level holds.
	check("breaker open", 2.5, rejected, slo.BreakerOpen)
}

// TestTelemetryGates checks sloguard.gate.enabled, one point per gate, and
// sloguard.release.frozen through a freeze and its end.
func TestTelemetryGates(t *testing.T) {
	eng, reader := newMetered(t, []slo.Objective{spend},
		slo.WithGate("half", slo.GatePolicy{MinRemaining: 0.5}),
		slo.WithGate("spent", slo.GatePolicy{}),
		slo.WithGate("frozen", slo.GatePolicy{ClosedWhenFrozen: true}),
	)
	c := &counter{eng: eng, name: spend.Name}
	steps := []struct {
		name             string
		counts           ledgerStep
		half, spent, frz int64 // gate.enabled by gate
		frozen           int64
	}{
		{"before Tick", ledgerStep{}, 1, 1, 1, 0},
		{"all left", ledgerStep{0, 10}, 1, 1, 1, 0},
		{"half left", ledgerStep{5, 20}, 0, 1, 1, 0},
		{"spent", ledgerStep{15, 30}, 0, 0, 0, 1},
		{"back", ledgerStep{15, 300}, 1, 1, 1, 0},
	}
	now := t0
	for i, s := range steps {
		if i > 0 {
			c.to(t, s.counts)
			now = now.Add(time.Second)
			eng.Tick(now)
		}
		col := collect(t, reader)
		checkPoints(t, s.name+": "+metrics.GateEnabled, gauge[int64](t, col, metrics.GateEnabled, ""),
			points[int64]{"gate=half": s.half, "gate=spent": s.spent, "gate=frozen": s.frz})
		checkPoints(t, s.name+": "+metrics.ReleaseFrozen, gauge[int64](t, col, metrics.ReleaseFrozen, ""), points[int64]{"": s.frozen})
		checkNames(t, col)
	}
}

func TestTelemetryNames(t *testing.T) {
	for _, name := range []string{metrics.Events, metrics.Remaining, metrics.BurnRate, metrics.State, metrics.Target, metrics.Faults,
		metrics.ControlBurn, metrics.ShedLevel, metrics.ShedRejected, metrics.BreakerState,
		metrics.GateEnabled, metrics.ReleaseFrozen} {
		if !strings.HasPrefix(name, "sloguard.") {
			t.Errorf("metric name %q, want it under sloguard.", name)
		}
	}
	if metrics.Scope != "github.com/sloguard/sloguard" {
		t.Errorf("ScopeName = %q, want the module path", metrics.Scope)
	}
}
