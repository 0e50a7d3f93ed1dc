package slo_test

import (
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// TestScaleGauge checks the scale signal's instruments: absent until the
// signal is known, then the Status's need and demand by criticality.
func TestScaleGauge(t *testing.T) {
	e, reader := newMetered(t, []slo.Objective{{Name: "a", Target: 0.99}}, slo.WithShedding(slo.ShedPolicy{}))
	r, err := e.Route(slo.Critical, "a")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e.Tick(now)
	e.Tick(now.Add(time.Second))
	c := collect(t, reader)
	for _, name := range []string{metrics.ScaleNeed, metrics.ScaleDemand} {
		if _, ok := c[name]; ok {
			t.Errorf("metric %q collected before any traffic, want absent", name)
		}
	}
	for i := 2; i < 5; i++ {
		for range 10 {
			tk, _, ok := r.Admit(slo.Critical)
			if !ok {
				t.Fatal("Admit rejected a request on an idle service")
			}
			tk.Done(budget.Good)
		}
		e.Tick(now.Add(time.Duration(i) * time.Second))
	}
	sc := e.Status().Scale
	if !sc.Known || sc.Need != 1 || sc.Demand[slo.Critical.Index()] != 10 {
		t.Fatalf("Status().Scale = %+v, want known, need 1, CRITICAL demand 10/s", sc)
	}
	c = collect(t, reader)
	need := gauge[float64](t, c, metrics.ScaleNeed, "1")
	if len(need) != 1 || need[""] != sc.Need {
		t.Errorf("%s = %v, want one point %v without attributes", metrics.ScaleNeed, need, sc.Need)
	}
	demand := gauge[float64](t, c, metrics.ScaleDemand, "{request}/s")
	want := points[float64]{}
	for _, cr := range levels {
		want["criticality="+cr.String()] = sc.Demand[cr.Index()]
	}
	if len(demand) != len(want) {
		t.Errorf("%s = %v, want %v", metrics.ScaleDemand, demand, want)
	}
	for k, v := range want {
		if demand[k] != v {
			t.Errorf("%s{%s} = %v, want %v", metrics.ScaleDemand, k, demand[k], v)
		}
	}
}
