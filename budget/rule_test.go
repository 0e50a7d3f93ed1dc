package budget_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

func closeTo(got, want float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 1e-9*math.Abs(want)
}

func TestDefaultRulesThresholds(t *testing.T) {
	tests := []struct {
		period time.Duration
		want   []float64
	}{
		{30 * day, []float64{14.4, 6, 3, 1}},
		{28 * day, []float64{13.44, 5.6, 2.8, 2.8 / 3}},
		{7 * day, []float64{3.36, 1.4, 0.7, 0.7 / 3}},
	}
	for _, tt := range tests {
		rules := budget.DefaultRules()
		if len(rules) != len(tt.want) {
			t.Fatalf("len(DefaultRules()) = %d, want %d", len(rules), len(tt.want))
		}
		for i, r := range rules {
			if got := r.Threshold(tt.period); !closeTo(got, tt.want[i]) {
				t.Errorf("DefaultRules()[%d].Threshold(%v) = %v, want %v", i, tt.period, got, tt.want[i])
			}
		}
	}
	// The rounded values of the doc.
	for _, tt := range []struct {
		period time.Duration
		want   float64
	}{{28 * day, 0.9333}, {7 * day, 0.2333}} {
		if got := budget.DefaultRules()[3].Threshold(tt.period); math.Round(got*1e4)/1e4 != tt.want {
			t.Errorf("DefaultRules()[3].Threshold(%v) = %v, want %v to 4 places", tt.period, got, tt.want)
		}
	}
}

func TestDefaultRules(t *testing.T) {
	want := []struct {
		name   string
		sev    budget.Severity
		long   time.Duration
		short  time.Duration
		budget float64
	}{
		{"page-1h", budget.Page, time.Hour, 5 * time.Minute, 0.02},
		{"page-6h", budget.Page, 6 * time.Hour, 30 * time.Minute, 0.05},
		{"ticket-1d", budget.Ticket, day, 2 * time.Hour, 0.10},
		{"ticket-3d", budget.Ticket, 3 * day, 6 * time.Hour, 0.10},
	}
	rules := budget.DefaultRules()
	if len(rules) != len(want) {
		t.Fatalf("DefaultRules() = %v, want %d rules", rules, len(want))
	}
	for i, r := range rules {
		w := want[i]
		if r.Name() != w.name || r.Severity != w.sev || r.Long != w.long || r.ShortWindow() != w.short || r.BudgetFraction != w.budget {
			t.Errorf("DefaultRules()[%d] = %s %v %v/%v %v, want %s %v %v/%v %v", i,
				r.Name(), r.Severity, r.Long, r.ShortWindow(), r.BudgetFraction, w.name, w.sev, w.long, w.short, w.budget)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("DefaultRules()[%d].Validate() = %v, want nil", i, err)
		}
	}
	// A fresh slice each time: callers may change it.
	rules[0].Long = time.Minute
	if got := budget.DefaultRules()[0].Long; got != time.Hour {
		t.Errorf("DefaultRules()[0].Long after changing an earlier result = %v, want 1h", got)
	}
}

func TestRuleThreshold(t *testing.T) {
	tests := []struct {
		name   string
		rule   budget.Rule
		period time.Duration
		want   float64
	}{
		{"fraction", budget.Rule{Long: time.Hour, BudgetFraction: 0.02}, 30 * day, 14.4},
		{"burn overrides fraction", budget.Rule{Long: time.Hour, BudgetFraction: 0.02, Burn: 10}, 30 * day, 10},
		{"burn alone", budget.Rule{Long: time.Hour, Burn: 2.5}, 7 * day, 2.5},
		{"whole budget in the period", budget.Rule{Long: 30 * day, BudgetFraction: 1}, 30 * day, 1},
		{"no long window never fires", budget.Rule{BudgetFraction: 0.02}, 30 * day, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Threshold(tt.period); !closeTo(got, tt.want) {
				t.Errorf("%+v.Threshold(%v) = %v, want %v", tt.rule, tt.period, got, tt.want)
			}
		})
	}
}

func TestRuleShortWindowAndName(t *testing.T) {
	tests := []struct {
		rule      budget.Rule
		wantShort time.Duration
		wantName  string
	}{
		{budget.Rule{Severity: budget.Page, Long: time.Hour}, 5 * time.Minute, "page-1h"},
		{budget.Rule{Severity: budget.Page, Long: time.Hour, Short: 10 * time.Minute}, 10 * time.Minute, "page-1h"},
		{budget.Rule{Severity: budget.Ticket, Long: 3 * day}, 6 * time.Hour, "ticket-3d"},
		{budget.Rule{Severity: budget.Ticket, Long: 90 * time.Minute}, 450 * time.Second, "ticket-90m"},
		{budget.Rule{Severity: budget.Page, Long: 1500 * time.Millisecond}, 125 * time.Millisecond, "page-1500ms"},
		{budget.Rule{Long: time.Hour}, 5 * time.Minute, "severity(0)-1h"},
	}
	for _, tt := range tests {
		if got := tt.rule.ShortWindow(); got != tt.wantShort {
			t.Errorf("%+v.ShortWindow() = %v, want %v", tt.rule, got, tt.wantShort)
		}
		if got := tt.rule.Name(); got != tt.wantName {
			t.Errorf("%+v.Name() = %q, want %q", tt.rule, got, tt.wantName)
		}
	}
}

func TestRuleValidate(t *testing.T) {
	ok := budget.Rule{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02}
	with := func(f func(*budget.Rule)) budget.Rule {
		r := ok
		f(&r)
		return r
	}
	tests := []struct {
		name string
		rule budget.Rule
		want []string // problems the error must name; nil for valid
	}{
		{"valid", ok, nil},
		{"valid ticket", with(func(r *budget.Rule) { r.Severity = budget.Ticket }), nil},
		{"valid burn without fraction", with(func(r *budget.Rule) { r.BudgetFraction, r.Burn = 0, 14.4 }), nil},
		{"valid explicit short", with(func(r *budget.Rule) { r.Short = time.Hour }), nil},
		{"valid fraction 1", with(func(r *budget.Rule) { r.BudgetFraction = 1 }), nil},
		{"no severity", with(func(r *budget.Rule) { r.Severity = 0 }), []string{"severity severity(0)"}},
		{"unknown severity", with(func(r *budget.Rule) { r.Severity = 7 }), []string{"severity severity(7)"}},
		{"short window longer than long", with(func(r *budget.Rule) { r.Short = 2 * time.Hour }), []string{"short window 2h0m0s"}},
		{"short window below a second", with(func(r *budget.Rule) { r.Long = 6 * time.Second }), []string{"short window 500ms"}},
		{"negative burn", with(func(r *budget.Rule) { r.Burn = -1 }), []string{"burn -1"}},
		{"NaN burn", with(func(r *budget.Rule) { r.Burn = math.NaN() }), []string{"burn NaN"}},
		{"infinite burn", with(func(r *budget.Rule) { r.Burn = math.Inf(1) }), []string{"burn +Inf"}},
		{"zero fraction", with(func(r *budget.Rule) { r.BudgetFraction = 0 }), []string{"budget fraction 0"}},
		{"fraction above 1", with(func(r *budget.Rule) { r.BudgetFraction = 1.5 }), []string{"budget fraction 1.5"}},
		{"NaN fraction", with(func(r *budget.Rule) { r.BudgetFraction = math.NaN() }), []string{"budget fraction NaN"}},
		{"every problem", budget.Rule{Severity: 9, Long: 500 * time.Millisecond, BudgetFraction: -1}, []string{
			"severity severity(9)", "long window 500ms", "short window 41.666666ms", "budget fraction -1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("%+v.Validate() = %v, want nil", tt.rule, err)
				}
				return
			}
			if !errors.Is(err, budget.ErrInvalid) {
				t.Fatalf("%+v.Validate() = %v, want error wrapping ErrInvalid", tt.rule, err)
			}
			checkMentions(t, err, tt.want)
		})
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		spec budget.Spec
		want []string // problems the error must name; nil for valid
	}{
		{"valid", budget.Spec{Target: 0.999, Period: 30 * day}, nil},
		{"valid no rules", budget.Spec{Target: 0.5, Period: time.Minute, Rules: []budget.Rule{}}, nil},
		{"target 0", budget.Spec{Target: 0, Period: 30 * day}, []string{"target 0"}},
		{"target 1", budget.Spec{Target: 1, Period: 30 * day}, []string{"target 1"}},
		{"target above 1", budget.Spec{Target: 99.9, Period: 30 * day}, []string{"target 99.9"}},
		{"target NaN", budget.Spec{Target: math.NaN(), Period: 30 * day}, []string{"target NaN"}},
		{"period too short", budget.Spec{Target: 0.999, Period: 59 * time.Second}, []string{"period 59s"}},
		{"bad rule", budget.Spec{Target: 0.999, Period: 30 * day, Rules: []budget.Rule{
			{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02},
			{Severity: budget.Page, Long: time.Hour},
		}}, []string{"rule 1: budget: invalid configuration: rule budget fraction 0"}},
		{"every problem", budget.Spec{Target: math.NaN(), Period: time.Second, Rules: []budget.Rule{
			{Severity: budget.Page, Long: time.Hour, Burn: -2},
			{Severity: 3, Long: time.Hour, BudgetFraction: 0.1},
		}}, []string{"target NaN", "period 1s", "rule 0: budget: invalid configuration: rule burn -2", "rule 1: budget: invalid configuration: rule severity severity(3)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("%+v.Validate() = %v, want nil", tt.spec, err)
				}
				return
			}
			if !errors.Is(err, budget.ErrInvalid) {
				t.Fatalf("%+v.Validate() = %v, want error wrapping ErrInvalid", tt.spec, err)
			}
			checkMentions(t, err, tt.want)
			if l, err := tt.spec.NewLedger(); l != nil || !errors.Is(err, budget.ErrInvalid) {
				t.Errorf("%+v.NewLedger() = %v, %v, want nil, error wrapping ErrInvalid", tt.spec, l, err)
			}
		})
	}
}

func TestSpecWindows(t *testing.T) {
	tests := []struct {
		name string
		spec budget.Spec
		want []time.Duration
	}{
		{"default rules", budget.Spec{Target: 0.999, Period: 30 * day}, []time.Duration{
			5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, day, 3 * day,
		}},
		{"no rules", budget.Spec{Target: 0.999, Period: 30 * day, Rules: []budget.Rule{}}, nil},
		{"shared and unsorted", budget.Spec{Target: 0.999, Period: 30 * day, Rules: []budget.Rule{
			{Severity: budget.Ticket, Long: 6 * time.Hour, Short: time.Hour, BudgetFraction: 0.1},
			{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02},
		}}, []time.Duration{5 * time.Minute, time.Hour, 6 * time.Hour}},
	}
	for _, tt := range tests {
		if got := tt.spec.Windows(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Windows() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSpecNewLedger(t *testing.T) {
	l, err := budget.Spec{Target: 0.999, Period: 30 * day}.NewLedger()
	if err != nil {
		t.Fatalf("Spec{0.999, 30d}.NewLedger() error: %v", err)
	}
	want, _ := budget.Layout(30*day, defaultWindows()...)
	if got := l.Tiers(); !slices.Equal(got, want) {
		t.Errorf("Spec{0.999, 30d}.NewLedger().Tiers() = %v, want %v", got, want)
	}
}

func TestFormatWindow(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Hour, "0s"},
		{time.Second, "1s"},
		{90 * time.Second, "90s"},
		{5 * time.Minute, "5m"},
		{90 * time.Minute, "90m"},
		{time.Hour, "1h"},
		{36 * time.Hour, "36h"},
		{day, "1d"},
		{3 * day, "3d"},
		{30 * day, "30d"},
		{time.Hour + time.Second, "3601s"},
		{1500 * time.Millisecond, "1500ms"},
		{250 * time.Millisecond, "250ms"},
		{time.Second + 1, "1.000000001s"},
		{1500 * time.Nanosecond, "1.5µs"},
	}
	for _, tt := range tests {
		if got := budget.FormatWindow(tt.in); got != tt.want {
			t.Errorf("FormatWindow(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSeverityString(t *testing.T) {
	tests := []struct {
		in   budget.Severity
		want string
	}{
		{budget.Page, "page"},
		{budget.Ticket, "ticket"},
		{0, "severity(0)"},
		{9, "severity(9)"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Severity(%d).String() = %q, want %q", uint8(tt.in), got, tt.want)
		}
	}
}
