package slo_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// TestZeroValues checks what the type docs say of the zero values.
func TestZeroValues(t *testing.T) {
	if got := slo.BreakerState(0); got != slo.BreakerClosed || got.String() != "closed" {
		t.Errorf("BreakerState(0) = %v, want BreakerClosed", got)
	}
	if got := slo.EventKind(0).String(); got != "event_kind(0)" {
		t.Errorf("EventKind(0).String() = %q, want %q", got, "event_kind(0)")
	}
	if got := slo.View(0); got != slo.ViewLocal || got.String() != "local" {
		t.Errorf("View(0) = %v, want ViewLocal", got)
	}
	if got := slo.Reply(0); got != slo.Served || slo.CallOutcome(got) != budget.Good {
		t.Errorf("Reply(0) = %v (outcome %v), want Served, Good", got, slo.CallOutcome(got))
	}
	var be slo.BreakerError
	if !errors.Is(&be, slo.ErrBreakerOpen) || be.Error() == "" {
		t.Errorf("zero BreakerError: Error() = %q, errors.Is(ErrBreakerOpen) = %v, want a message and true", be.Error(), errors.Is(&be, slo.ErrBreakerOpen))
	}
	var g slo.Gate
	if g.Enabled() || g.Name() != "" {
		t.Errorf("zero Gate: Enabled() = %v, Name() = %q, want false, empty", g.Enabled(), g.Name())
	}
	if got := (slo.Sample{}).State; got != budget.StateUnknown {
		t.Errorf("zero Sample's State = %v, want %v", got, budget.StateUnknown)
	}
	if got := (slo.ObjectiveStatus{}).Report.State; got != budget.StateUnknown {
		t.Errorf("zero ObjectiveStatus's state = %v, want %v", got, budget.StateUnknown)
	}
	if err := (slo.Objective{}).Validate(); !errors.Is(err, slo.ErrInvalidObjective) {
		t.Errorf("zero Objective: Validate() = %v, want ErrInvalidObjective", err)
	}
}

// TestZeroFileStore checks that the zero FileStore fails loudly and writes
// nothing.
func TestZeroFileStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var f slo.FileStore
	ctx := context.Background()
	if data, err := f.Load(ctx); !errors.Is(err, slo.ErrInvalidOption) || data != nil {
		t.Errorf("zero FileStore: Load() = %q, %v, want ErrInvalidOption", data, err)
	}
	if err := f.Save(ctx, []byte("snapshot")); !errors.Is(err, slo.ErrInvalidOption) {
		t.Errorf("zero FileStore: Save() = %v, want ErrInvalidOption", err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("zero FileStore: Save left %v (%v), want nothing", entries, err)
	}
}

// TestNilFleetSourceFunc checks that WithFleet rejects a nil function as it
// rejects a nil FleetSource.
func TestNilFleetSourceFunc(t *testing.T) {
	for name, src := range map[string]slo.FleetSource{"nil": nil, "nil func": slo.FleetSourceFunc(nil)} {
		_, err := slo.New(twoObjectives, options(slo.WithFleet(src, slo.FleetPolicy{}))...)
		if !errors.Is(err, slo.ErrInvalidOption) {
			t.Errorf("New(WithFleet(%s)) = %v, want ErrInvalidOption", name, err)
		}
	}
}

// TestStatusFromNew checks that an Engine never publishes the zero Status:
// every objective is listed from New on.
func TestStatusFromNew(t *testing.T) {
	st := newEngine(t, twoObjectives).Status()
	if len(st.Objectives) != len(twoObjectives) {
		t.Fatalf("Status() before the first evaluation has %d objectives, want %d", len(st.Objectives), len(twoObjectives))
	}
	for i, o := range st.Objectives {
		if o.Objective.Name != twoObjectives[i].Name || o.Report.State != budget.StateUnknown {
			t.Errorf("Status().Objectives[%d] = %s in %v, want %s in %v", i, o.Objective.Name, o.Report.State, twoObjectives[i].Name, budget.StateUnknown)
		}
	}
}
