package slo_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// TestEngineCalendarPeriod drives an engine with a weekly objective across
// the start of a week: the budget spent on Sunday starts afresh on Monday
// at 00:00 in the objective's zone, and the exhausted state with it, while
// the alert windows stay rolling: Sunday's burn still tickets on Monday.
func TestEngineCalendarPeriod(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	obj := slo.Objective{Name: "weekly", Target: 0.99, Calendar: budget.Calendar{Unit: budget.Week, Location: tokyo}}
	eng := newEngine(t, []slo.Objective{obj})
	sunday := time.Date(2025, 6, 15, 23, 0, 0, 0, tokyo)
	steps := []struct {
		at            time.Time
		good, bad     int
		wantState     budget.State
		wantRemaining float64
		wantLength    time.Duration
	}{
		{sunday, 90, 10, budget.StateExhausted, 1 - 10/(0.01*100), 7 * 24 * time.Hour},
		{sunday.Add(59 * time.Minute), 0, 0, budget.StateExhausted, 1 - 10/(0.01*100), 7 * 24 * time.Hour},
		{sunday.Add(time.Hour), 0, 0, budget.StateUnknown, 1, 7 * 24 * time.Hour}, // Monday 00:00 in Tokyo
		// 10 bad of 200 in the 1d and 2h windows: burn 5, over the 7-day
		// ticket threshold of 0.7.
		{sunday.Add(time.Hour + time.Minute), 100, 0, budget.StateTicket, 1, 7 * 24 * time.Hour},
	}
	rec, _ := eng.Recorder("weekly")
	for i, st := range steps {
		for range st.good {
			rec.Record(budget.Good, 0)
		}
		for range st.bad {
			rec.Record(budget.Bad, 0)
		}
		eng.Tick(st.at)
		rep := eng.Status().Objectives[0].Report
		if rep.State != st.wantState || math.Abs(rep.Remaining-st.wantRemaining) > 1e-9 || rep.Length != st.wantLength {
			t.Errorf("step %d at %v: state %v remaining %v length %v, want %v %v %v",
				i, st.at, rep.State, rep.Remaining, rep.Length, st.wantState, st.wantRemaining, st.wantLength)
		}
	}
}

func TestObjectiveCalendarValidate(t *testing.T) {
	o := slo.Objective{Name: "x", Target: 0.99, Period: time.Hour, Calendar: budget.Calendar{Unit: budget.Month}}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "period 1h0m0s and calendar month UTC: give one") {
		t.Errorf("Validate = %v, want period and calendar refused together", err)
	}
	o.Period = 0
	if err := o.Validate(); err != nil {
		t.Errorf("Validate(calendar) = %v", err)
	}
	if p := o.Spec().Period; p != 0 {
		t.Errorf("Spec().Period = %v with a calendar, want 0", p)
	}
}
