package claim

import (
	"slices"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/slo"
)

func TestLeast(t *testing.T) {
	tests := []struct {
		values []string
		want   slo.Criticality
		ok     bool
	}{
		{nil, slo.CriticalPlus, false},
		{[]string{""}, slo.CriticalPlus, false},
		{[]string{"URGENT", " , ,"}, slo.CriticalPlus, false},
		{[]string{"CRITICAL_PLUS"}, slo.CriticalPlus, true},
		{[]string{"critical-plus"}, slo.CriticalPlus, true},
		{[]string{"CRITICAL_PLUS", "SHEDDABLE"}, slo.Sheddable, true},
		{[]string{"SHEDDABLE", "CRITICAL_PLUS"}, slo.Sheddable, true},
		{[]string{"CRITICAL_PLUS, CRITICAL"}, slo.Critical, true},
		{[]string{"CRITICAL_PLUS,SHEDDABLE_PLUS", "CRITICAL"}, slo.SheddablePlus, true},
		{[]string{"URGENT", "CRITICAL_PLUS"}, slo.CriticalPlus, true},
		{[]string{"CRITICAL_PLUS,URGENT"}, slo.CriticalPlus, true},
	}
	for _, tt := range tests {
		if got, ok := Least(tt.values); got != tt.want || ok != tt.ok {
			t.Errorf("Least(%q) = %v, %v, want %v, %v", tt.values, got, ok, tt.want, tt.ok)
		}
	}
}

// levels are the criticalities in shed order.
var levels = []slo.Criticality{slo.Sheddable, slo.SheddablePlus, slo.Critical, slo.CriticalPlus}

// TestLeastNeverRaises checks the rule's point over every pair of levels:
// adding a value never raises the result.
func TestLeastNeverRaises(t *testing.T) {
	for _, a := range levels {
		for _, b := range levels {
			got, _ := Least([]string{a.String(), b.String()})
			if ia, ig := slices.Index(levels, a), slices.Index(levels, got); ig > ia {
				t.Errorf("Least(%v, %v) = %v, more critical than %v", a, b, got, a)
			}
		}
	}
}

func TestLeastAllocs(t *testing.T) {
	values := []string{"CRITICAL_PLUS", "SHEDDABLE, CRITICAL"}
	if n := testing.AllocsPerRun(100, func() { Least(values) }); n != 0 {
		t.Errorf("Least(%q) allocates %v times, want 0", strings.Join(values, "|"), n)
	}
}

func FuzzLeast(f *testing.F) {
	f.Add("CRITICAL_PLUS", "sheddable, critical")
	f.Fuzz(func(t *testing.T, a, b string) {
		one, okA := Least([]string{a})
		both, ok := Least([]string{a, b})
		if okA && (!ok || slices.Index(levels, both) > slices.Index(levels, one)) {
			t.Errorf("Least(%q, %q) = %v, %v, raised above Least(%q) = %v", a, b, both, ok, a, one)
		}
	})
}
