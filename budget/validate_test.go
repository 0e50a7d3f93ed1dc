package budget_test

import (
	"math"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

const year = 365 * 24 * time.Hour

// specAgrees fails t unless s.Validate and s.NewLedger agree: anything
// Validate accepts, NewLedger accepts, and the reverse.
func specAgrees(t *testing.T, s budget.Spec) {
	t.Helper()
	verr := s.Validate()
	_, nerr := budget.NewLedger(s.Span(), s.Windows()...)
	if (verr == nil) != (nerr == nil) {
		t.Errorf("Spec%+v: Validate() = %v, NewLedger = %v; want both nil or both errors", s, verr, nerr)
	}
	if _, err := s.NewLedger(); (err == nil) != (verr == nil) {
		t.Errorf("Spec%+v: Spec.NewLedger() = %v, Validate() = %v", s, err, verr)
	}
}

func TestSpecValidateAgreesWithNewLedger(t *testing.T) {
	rule := func(long, short time.Duration) []budget.Rule {
		return []budget.Rule{{Severity: budget.Page, Long: long, Short: short, BudgetFraction: 0.1}}
	}
	tests := []struct {
		name string
		spec budget.Spec
		ok   bool
	}{
		{"default", budget.Spec{Target: 0.999, Period: 30 * 24 * time.Hour}, true},
		{"period at 100 years", budget.Spec{Target: 0.999, Period: budget.MaxSpan}, true},
		{"period past 100 years", budget.Spec{Target: 0.999, Period: budget.MaxSpan + 1}, false},
		{"period 200 years", budget.Spec{Target: 0.999, Period: 200 * year}, false},
		{"period max duration", budget.Spec{Target: 0.999, Period: math.MaxInt64}, false},
		{"period a minute", budget.Spec{Target: 0.999, Period: time.Minute}, true},
		{"period under a minute", budget.Spec{Target: 0.999, Period: time.Minute - 1}, false},
		{"long window at 100 years", budget.Spec{Target: 0.999, Period: time.Hour, Rules: rule(budget.MaxSpan, time.Hour)}, true},
		{"long window past 100 years", budget.Spec{Target: 0.999, Period: time.Hour, Rules: rule(budget.MaxSpan+1, time.Hour)}, false},
		{"long window max duration", budget.Spec{Target: 0.999, Period: time.Hour, Rules: rule(math.MaxInt64, 0)}, false},
		{"short window past 100 years", budget.Spec{Target: 0.999, Period: time.Hour, Rules: rule(math.MaxInt64, budget.MaxSpan+1)}, false},
		{"short window a second", budget.Spec{Target: 0.999, Period: time.Hour, Rules: rule(time.Minute, time.Second)}, true},
		{"no rules", budget.Spec{Target: 0.999, Period: time.Hour, Rules: []budget.Rule{}}, true},
		{"calendar month, no period", budget.Spec{Target: 0.999, Calendar: budget.Calendar{Unit: budget.Month}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.spec.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
			specAgrees(t, tt.spec)
		})
	}
}

// FuzzSpecValidate checks that Validate and NewLedger agree on any period
// and rule windows, and that neither panics.
func FuzzSpecValidate(f *testing.F) {
	f.Add(int64(30*24*time.Hour), int64(time.Hour), int64(0))
	f.Add(int64(budget.MaxSpan+1), int64(time.Hour), int64(0))
	f.Add(int64(time.Hour), int64(math.MaxInt64), int64(0))
	f.Add(int64(time.Hour), int64(math.MaxInt64), int64(math.MaxInt64-1))
	f.Add(int64(math.MinInt64), int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, period, long, short int64) {
		specAgrees(t, budget.Spec{
			Target: 0.99,
			Period: time.Duration(period),
			Rules:  []budget.Rule{{Severity: budget.Ticket, Long: time.Duration(long), Short: time.Duration(short), BudgetFraction: 0.5}},
		})
	})
}

func TestTimeToExhaustionSaturates(t *testing.T) {
	tests := []struct {
		remaining, burn float64
		period          time.Duration
		want            time.Duration
	}{
		{math.NaN(), 1, time.Hour, budget.Never},
		{math.MaxFloat64, 1, time.Hour, budget.Never},
		{1, math.SmallestNonzeroFloat64, time.Hour, budget.Never},
		{math.Inf(1), 1, time.Hour, budget.Never},
		{1, math.NaN(), time.Hour, budget.Never},
		{0.5, 1, budget.MaxSpan, budget.MaxSpan / 2},
	}
	for _, tt := range tests {
		if got := budget.TimeToExhaustion(tt.remaining, tt.burn, tt.period); got != tt.want {
			t.Errorf("TimeToExhaustion(%v, %v, %v) = %v, want %v", tt.remaining, tt.burn, tt.period, got, tt.want)
		}
	}
}
