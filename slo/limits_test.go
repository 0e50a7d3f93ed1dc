package slo_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// TestOptionBounds checks every option and policy field at its documented
// bound (New succeeds) and past it (New returns an error wrapping
// ErrInvalidOption), and that no value makes New panic.
func TestOptionBounds(t *testing.T) {
	objs := []slo.Objective{
		{Name: "api", Target: 0.999},
		{Name: "db", Target: 0.99, Dependency: "db"},
	}
	tests := []struct {
		name string
		opts []slo.Option
		ok   bool
	}{
		{"interval at least", []slo.Option{slo.WithInterval(time.Millisecond)}, true},
		{"interval below", []slo.Option{slo.WithInterval(time.Millisecond - 1)}, false},
		{"interval at most", []slo.Option{slo.WithInterval(time.Minute)}, true},
		{"interval past", []slo.Option{slo.WithInterval(time.Minute + 1)}, false},
		{"interval max", []slo.Option{slo.WithInterval(math.MaxInt64)}, false},

		{"timeline at most", []slo.Option{slo.WithTimelineSize(1 << 16)}, true},
		{"timeline past", []slo.Option{slo.WithTimelineSize(1<<16 + 1)}, false},
		{"timeline max", []slo.Option{slo.WithTimelineSize(math.MaxInt)}, false},
		{"timeline min", []slo.Option{slo.WithTimelineSize(math.MinInt)}, false},

		{"history size at most", []slo.Option{slo.WithHistory(time.Minute, 1<<16)}, true},
		{"history size past", []slo.Option{slo.WithHistory(time.Minute, 1<<16+1)}, false},
		{"history size max", []slo.Option{slo.WithHistory(time.Minute, math.MaxInt)}, false},
		{"history every at most", []slo.Option{slo.WithHistory(24*time.Hour, 10)}, true},
		{"history every past", []slo.Option{slo.WithHistory(24*time.Hour+1, 10)}, false},
		{"history every max", []slo.Option{slo.WithHistory(math.MaxInt64, 10)}, false},
		{"history every min", []slo.Option{slo.WithHistory(math.MinInt64, 10)}, false},

		{"shed burn at most", []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 1e6})}, true},
		{"shed burn past", []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: 1.000001e6})}, false},
		{"shed burn max", []slo.Option{slo.WithShedding(slo.ShedPolicy{Burn: math.MaxFloat64})}, false},
		{"shed release burn at most", []slo.Option{slo.WithShedding(slo.ShedPolicy{ReleaseBurn: 1e6})}, true},
		{"shed release burn past", []slo.Option{slo.WithShedding(slo.ShedPolicy{ReleaseBurn: 1.000001e6})}, false},
		{"shed min events at most", []slo.Option{slo.WithShedding(slo.ShedPolicy{MinEvents: 1e9})}, true},
		{"shed min events past", []slo.Option{slo.WithShedding(slo.ShedPolicy{MinEvents: 1e9 + 1})}, false},
		{"shed min events max", []slo.Option{slo.WithShedding(slo.ShedPolicy{MinEvents: math.MaxUint64})}, false},
		{"shed hold at most", []slo.Option{slo.WithShedding(slo.ShedPolicy{Hold: time.Hour})}, true},
		{"shed hold past", []slo.Option{slo.WithShedding(slo.ShedPolicy{Hold: time.Hour + 1})}, false},
		{"shed hold max", []slo.Option{slo.WithShedding(slo.ShedPolicy{Hold: math.MaxInt64})}, false},
		{"shed max in flight at most", []slo.Option{slo.WithShedding(slo.ShedPolicy{MaxInFlight: 1e9})}, true},
		{"shed max in flight past", []slo.Option{slo.WithShedding(slo.ShedPolicy{MaxInFlight: 1e9 + 1})}, false},
		{"shed max in flight min", []slo.Option{slo.WithShedding(slo.ShedPolicy{MaxInFlight: math.MinInt})}, false},

		{"breaker window at most", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{Window: 24 * time.Hour})}, true},
		{"breaker window past", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{Window: 24*time.Hour + 1})}, false},
		{"breaker window max", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{Window: math.MaxInt64})}, false},
		{"breaker window min", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{Window: math.MinInt64})}, false},
		{"breaker failures max", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{ConsecutiveFailures: math.MaxUint32})}, true},
		{"breaker half-open max", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{HalfOpenRequests: math.MaxUint32})}, true},
		{"breaker open timeout at most", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: 24 * time.Hour})}, true},
		{"breaker open timeout past", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: 24*time.Hour + 1})}, false},
		{"breaker open timeout max", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: math.MaxInt64})}, false},
		{"breaker open timeout min", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: math.MinInt64})}, false},
		{"breaker min events at most", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{MinEvents: 1e9})}, true},
		{"breaker min events past", []slo.Option{slo.WithBreakers(slo.BreakerPolicy{MinEvents: 1e9 + 1})}, false},

		{"gate min remaining at most", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinRemaining: 1})}, true},
		{"gate min remaining past", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinRemaining: 1.001})}, false},
		{"gate hysteresis at most", []slo.Option{slo.WithGate("g", slo.GatePolicy{Hysteresis: 1})}, true},
		{"gate hysteresis past", []slo.Option{slo.WithGate("g", slo.GatePolicy{Hysteresis: 1.001})}, false},
		{"gate min closed at most", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinClosed: 365 * 24 * time.Hour})}, true},
		{"gate min closed past", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinClosed: 365*24*time.Hour + 1})}, false},
		{"gate min closed max", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinClosed: math.MaxInt64})}, false},
		{"gate min closed min", []slo.Option{slo.WithGate("g", slo.GatePolicy{MinClosed: math.MinInt64})}, false},

		{"release freeze below at most", []slo.Option{slo.WithReleasePolicy(slo.ReleasePolicy{FreezeBelow: 1})}, true},
		{"release freeze below past", []slo.Option{slo.WithReleasePolicy(slo.ReleasePolicy{FreezeBelow: 1.001})}, false},
		{"release hysteresis at most", []slo.Option{slo.WithReleasePolicy(slo.ReleasePolicy{Hysteresis: 1})}, true},
		{"release hysteresis past", []slo.Option{slo.WithReleasePolicy(slo.ReleasePolicy{Hysteresis: math.Inf(1)})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				eng *slo.Engine
				err error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("New panicked: %v", p)
					}
				}()
				eng, err = slo.New(objs, options(tt.opts...)...)
			}()
			if tt.ok {
				if err != nil {
					t.Fatalf("New() = %v, want nil", err)
				}
				eng.Close()
				return
			}
			if err == nil {
				eng.Close()
				t.Fatal("New() = nil error, want one wrapping ErrInvalidOption")
			}
			if !errors.Is(err, slo.ErrInvalidOption) {
				t.Errorf("New() = %v, want it to wrap ErrInvalidOption", err)
			}
		})
	}
}
