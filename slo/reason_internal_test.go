package slo

import (
	"fmt"
	"math"
	"testing"
)

func TestReasonPercent(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), -0.0004, 0.00049, 0.00051, 0.27, 1, -999, math.NaN(), math.Inf(1), math.Inf(-1)} {
		var r reason
		r.percent(v)
		if got, want := r.String(), fmt.Sprintf("%.1f%%", v*100); got != want {
			t.Errorf("percent(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestReasonString checks that a reason is a new string only when its
// text changed, and that building the same text again allocates nothing.
func TestReasonString(t *testing.T) {
	var r reason
	build := func(remaining float64) string {
		r.reset()
		r.addBudgetLeft("checkout", remaining, 0.25)
		r.add("checkout", " pages")
		return r.String()
	}
	first := build(0.1)
	if want := "checkout has 10.0% of its budget left, at most 25.0%; checkout pages"; first != want {
		t.Fatalf("String() = %q, want %q", first, want)
	}
	if n := testing.AllocsPerRun(100, func() { build(0.1) }); n != 0 {
		t.Errorf("building the same reason allocates %v times, want 0", n)
	}
	if got := build(0.2); got == first {
		t.Errorf("String() after a change = %q, want a new text", got)
	}
	if got := build(0.1); got != first {
		t.Errorf("String() = %q, want %q", got, first)
	}
}
