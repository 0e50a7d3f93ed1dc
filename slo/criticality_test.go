package slo_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sloguard/sloguard/slo"
)

func TestCriticalityString(t *testing.T) {
	tests := []struct {
		in   slo.Criticality
		want string
	}{
		{slo.Critical, "CRITICAL"},
		{slo.CriticalPlus, "CRITICAL_PLUS"},
		{slo.SheddablePlus, "SHEDDABLE_PLUS"},
		{slo.Sheddable, "SHEDDABLE"},
		{slo.Criticality(4), "CRITICALITY(4)"},
		{slo.Criticality(-3), "CRITICALITY(-3)"},
		{slo.Criticality(-128), "CRITICALITY(-128)"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Criticality(%d).String() = %q, want %q", int8(tt.in), got, tt.want)
		}
	}
}

func TestCriticalityZero(t *testing.T) {
	var c slo.Criticality
	if c != slo.Critical {
		t.Errorf("zero Criticality = %v, want %v", c, slo.Critical)
	}
}

// levels are the criticalities in shed order.
var levels = []slo.Criticality{slo.Sheddable, slo.SheddablePlus, slo.Critical, slo.CriticalPlus}

// TestCriticalityOrder checks that the order means importance: the loop
// the docs show visits the levels in shed order, Index numbers them from
// 0, and Valid holds for them alone.
func TestCriticalityOrder(t *testing.T) {
	var got []slo.Criticality
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		got = append(got, c)
	}
	if !slices.Equal(got, levels) {
		t.Errorf("Sheddable to CriticalPlus = %v, want %v (first shed first)", got, levels)
	}
	for i, c := range levels {
		if c.Index() != i || !c.Valid() {
			t.Errorf("%v.Index(), Valid() = %d, %v, want %d, true", c, c.Index(), c.Valid(), i)
		}
	}
	for _, c := range []slo.Criticality{slo.Sheddable - 1, slo.CriticalPlus + 1, -128, 127} {
		if c.Valid() {
			t.Errorf("Criticality(%d).Valid() = true, want false", int8(c))
		}
	}
}

func TestParseCriticality(t *testing.T) {
	tests := []struct {
		in   string
		want slo.Criticality
		ok   bool
	}{
		{"CRITICAL", slo.Critical, true},
		{"critical", slo.Critical, true},
		{"Critical", slo.Critical, true},
		{"CRITICAL_PLUS", slo.CriticalPlus, true},
		{"critical-plus", slo.CriticalPlus, true},
		{"Critical_Plus", slo.CriticalPlus, true},
		{"SHEDDABLE_PLUS", slo.SheddablePlus, true},
		{"sheddable-plus", slo.SheddablePlus, true},
		{"SHEDDABLE", slo.Sheddable, true},
		{"sheddable", slo.Sheddable, true},

		{"", slo.Critical, false},
		{"CRITICALPLUS", slo.Critical, false},
		{"CRITICAL PLUS", slo.Critical, false},
		{"CRITICAL__PLUS", slo.Critical, false},
		{" CRITICAL", slo.Critical, false},
		{"CRITICAL ", slo.Critical, false},
		{"SHEDDABLE_PLUS_PLUS", slo.Critical, false},
		{"0", slo.Critical, false},
		{"CRITICALITY(1)", slo.Critical, false},
		{"ſheddable", slo.Critical, false}, // U+017F folds to 's' but is no criticality
		{"\xff", slo.Critical, false},
	}
	for _, tt := range tests {
		got, err := slo.ParseCriticality(tt.in)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("ParseCriticality(%q) = %v, %v, want %v, nil", tt.in, got, err, tt.want)
		case !tt.ok && (!errors.Is(err, slo.ErrInvalidCriticality) || got != slo.Critical):
			t.Errorf("ParseCriticality(%q) = %v, %v, want CRITICAL, error wrapping ErrInvalidCriticality", tt.in, got, err)
		}
	}
}

// TestParseCriticalityRoundTrip checks that every level parses back from
// its name.
func TestParseCriticalityRoundTrip(t *testing.T) {
	for _, c := range levels {
		if got, err := slo.ParseCriticality(c.String()); err != nil || got != c {
			t.Errorf("ParseCriticality(%q) = %v, %v, want %v, nil", c.String(), got, err, c)
		}
	}
}

func FuzzParseCriticality(f *testing.F) {
	for _, s := range []string{"CRITICAL", "critical-plus", "SHEDDABLE_PLUS", "sheddable", "", "ſ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := slo.ParseCriticality(s)
		if err != nil {
			if !errors.Is(err, slo.ErrInvalidCriticality) || c != slo.Critical {
				t.Errorf("ParseCriticality(%q) = %v, %v, want CRITICAL, error wrapping ErrInvalidCriticality", s, c, err)
			}
			return
		}
		if !slices.Contains(levels, c) || len(s) != len(c.String()) {
			t.Errorf("ParseCriticality(%q) = %v, nil, want a level whose name is as long as the input", s, c)
		}
	})
}

func TestWithCriticality(t *testing.T) {
	ctx := context.Background()
	if c, ok := slo.CriticalityFrom(ctx); ok || c != slo.Critical {
		t.Errorf("CriticalityFrom(Background) = %v, %v, want CRITICAL, false", c, ok)
	}
	for _, want := range levels {
		got, ok := slo.CriticalityFrom(slo.WithCriticality(ctx, want))
		if !ok || got != want {
			t.Errorf("CriticalityFrom(WithCriticality(ctx, %v)) = %v, %v, want %v, true", want, got, ok, want)
		}
	}
	// The innermost value wins; the outer context is unchanged.
	outer := slo.WithCriticality(ctx, slo.Sheddable)
	inner := slo.WithCriticality(outer, slo.CriticalPlus)
	if got, _ := slo.CriticalityFrom(inner); got != slo.CriticalPlus {
		t.Errorf("CriticalityFrom(inner) = %v, want CRITICAL_PLUS", got)
	}
	if got, _ := slo.CriticalityFrom(outer); got != slo.Sheddable {
		t.Errorf("CriticalityFrom(outer) = %v, want SHEDDABLE", got)
	}
	// A value stored under another key of the same type is not read.
	type otherKey struct{}
	if _, ok := slo.CriticalityFrom(context.WithValue(ctx, otherKey{}, slo.Sheddable)); ok {
		t.Errorf("CriticalityFrom(ctx with another key) = _, true, want false")
	}
}
