package slo_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

const day = 24 * time.Hour

// checkMentions checks that err names every problem in want, one line each.
func checkMentions(t *testing.T, err error, want []string) {
	t.Helper()
	msg := err.Error()
	if lines := strings.Count(msg, "\n") + 1; lines != len(want) {
		t.Errorf("error %q has %d lines, want %d, one per problem", msg, lines, len(want))
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

func TestObjectiveValidate(t *testing.T) {
	badRule := budget.Rule{Severity: budget.Severity(9), Long: time.Hour, BudgetFraction: 0.02}
	tests := []struct {
		name string
		in   slo.Objective
		want []string // every problem the error must name; nil for valid
	}{
		{"minimal", slo.Objective{Name: "checkout", Target: 0.999}, nil},
		{"full", slo.Objective{
			Name: "checkout-latency.v2_p99", Description: "fast checkouts", Latency: 300 * time.Millisecond,
			Target: 0.99, Period: 7 * day, Rules: budget.DefaultRules(), MinEvents: 10, MinBadEvents: 2,
		}, nil},
		{"no rules", slo.Objective{Name: "a", Target: 0.5, Rules: []budget.Rule{}}, nil},
		{"one-minute period", slo.Objective{Name: "a", Target: 0.5, Period: time.Minute, Rules: []budget.Rule{}}, nil},
		{"name of 128", slo.Objective{Name: strings.Repeat("a", 128), Target: 0.9}, nil},

		{"empty name", slo.Objective{Target: 0.999}, []string{"name is empty"}},
		{"space in name", slo.Objective{Name: "check out", Target: 0.999}, []string{`name has ' '`}},
		{"slash in name", slo.Objective{Name: "api/checkout", Target: 0.999}, []string{`name has '/'`}},
		{"non-ASCII name", slo.Objective{Name: "café", Target: 0.999}, []string{`name has 'é'`}},
		{"name of 129", slo.Objective{Name: strings.Repeat("a", 129), Target: 0.999}, []string{"name is 129 characters long"}},
		{"long name with bad character", slo.Objective{Name: strings.Repeat("a", 128) + "{", Target: 0.999},
			[]string{"name is 129 characters long", `name has '{'`}},
		{"negative latency", slo.Objective{Name: "a", Target: 0.999, Latency: -time.Second}, []string{"latency -1s is negative"}},
		{"negative period", slo.Objective{Name: "a", Target: 0.999, Period: -time.Hour}, []string{"period -1h0m0s is negative"}},
		{"short period", slo.Objective{Name: "a", Target: 0.999, Period: 30 * time.Second}, []string{"period 30s is shorter than one minute"}},
		{"target 0", slo.Objective{Name: "a"}, []string{"target 0 must be in (0, 1)"}},
		{"target 1", slo.Objective{Name: "a", Target: 1}, []string{"target 1 must be in (0, 1)"}},
		{"target NaN", slo.Objective{Name: "a", Target: math.NaN()}, []string{"target NaN must be in (0, 1)"}},
		{"target 1.5", slo.Objective{Name: "a", Target: 1.5}, []string{"target 1.5 must be in (0, 1)"}},
		{"target -0.9", slo.Objective{Name: "a", Target: -0.9}, []string{"target -0.9 must be in (0, 1)"}},
		{"target +Inf", slo.Objective{Name: "a", Target: math.Inf(1)}, []string{"target +Inf must be in (0, 1)"}},
		{"invalid rule", slo.Objective{Name: "a", Target: 0.999, Rules: []budget.Rule{budget.DefaultRules()[0], badRule}},
			[]string{"rule 1: budget: invalid configuration: rule severity severity(9) is neither page nor ticket"}},
		{"every problem", slo.Objective{
			Name: "bad name", Latency: -time.Millisecond, Period: -day, Target: math.NaN(), Rules: []budget.Rule{badRule},
		}, []string{`name has ' '`, "latency -1ms is negative", "period -24h0m0s is negative", "target NaN", "rule 0: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("%+v.Validate() = %v, want nil", tt.in, err)
				}
				return
			}
			if !errors.Is(err, slo.ErrInvalidObjective) {
				t.Fatalf("%+v.Validate() = %v, want error wrapping ErrInvalidObjective", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("slo: invalid objective %q: ", tt.in.Name)) {
				t.Errorf("%+v.Validate() = %q, want it to start with the sentinel and the name", tt.in, err)
			}
			checkMentions(t, err, tt.want)
		})
	}
}

func TestObjectiveKind(t *testing.T) {
	tests := []struct {
		latency time.Duration
		want    string
	}{
		{0, "availability"},
		{time.Nanosecond, "latency"},
		{300 * time.Millisecond, "latency"},
	}
	for _, tt := range tests {
		o := slo.Objective{Name: "a", Target: 0.99, Latency: tt.latency}
		if got := o.Kind(); got != tt.want {
			t.Errorf("Objective{Latency: %v}.Kind() = %q, want %q", tt.latency, got, tt.want)
		}
	}
}

func TestObjectiveSpec(t *testing.T) {
	rules := []budget.Rule{{Severity: budget.Page, Long: time.Hour, Burn: 10}}
	tests := []struct {
		in   slo.Objective
		want budget.Spec
	}{
		{slo.Objective{Name: "a", Target: 0.999}, budget.Spec{Target: 0.999, Period: slo.DefaultPeriod}},
		{
			slo.Objective{Name: "a", Target: 0.99, Period: 7 * day, Rules: rules, MinEvents: 5, MinBadEvents: 2},
			budget.Spec{Target: 0.99, Period: 7 * day, Rules: rules, MinEvents: 5, MinBadEvents: 2},
		},
	}
	for _, tt := range tests {
		got := tt.in.Spec()
		if got.Target != tt.want.Target || got.Period != tt.want.Period || !slices.Equal(got.Rules, tt.want.Rules) ||
			got.MinEvents != tt.want.MinEvents || got.MinBadEvents != tt.want.MinBadEvents || got.ExcludeShed {
			t.Errorf("%+v.Spec() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if slo.DefaultPeriod != 30*day {
		t.Errorf("DefaultPeriod = %v, want 720h", slo.DefaultPeriod)
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		err  error
		want budget.Outcome
	}{
		{nil, budget.Good},
		{context.Canceled, budget.Neutral},
		{fmt.Errorf("fetch cart: %w", context.Canceled), budget.Neutral},
		{context.Cause(canceledWithCause()), budget.Bad}, // a cause replaces Canceled
		{context.DeadlineExceeded, budget.Bad},
		{fmt.Errorf("fetch cart: %w", context.DeadlineExceeded), budget.Bad},
		{errors.New("connection refused"), budget.Bad},
		{errors.Join(errors.New("retry"), context.Canceled), budget.Neutral},
	}
	for _, tt := range tests {
		if got := slo.OutcomeOf(tt.err); got != tt.want {
			t.Errorf("OutcomeOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func canceledWithCause() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("shutting down"))
	return ctx
}

// TestObjectiveValidateAgreesWithNew checks that validation is one code
// path: New accepts exactly the objectives that Validate accepts.
func TestObjectiveValidateAgreesWithNew(t *testing.T) {
	rules := func(long time.Duration) []budget.Rule {
		return []budget.Rule{{Severity: budget.Page, Long: long, BudgetFraction: 0.1}}
	}
	tests := []struct {
		name string
		in   slo.Objective
		ok   bool
	}{
		{"default", slo.Objective{Name: "a", Target: 0.999}, true},
		{"period of 100 years", slo.Objective{Name: "a", Target: 0.999, Period: budget.MaxSpan}, true},
		{"period past 100 years", slo.Objective{Name: "a", Target: 0.999, Period: budget.MaxSpan + time.Hour}, false},
		{"longest period", slo.Objective{Name: "a", Target: 0.999, Period: math.MaxInt64}, false},
		{"window of 100 years", slo.Objective{Name: "a", Target: 0.999, Rules: rules(budget.MaxSpan)}, true},
		{"window past 100 years", slo.Objective{Name: "a", Target: 0.999, Rules: rules(budget.MaxSpan + time.Hour)}, false},
		{"longest window", slo.Objective{Name: "a", Target: 0.999, Rules: rules(math.MaxInt64)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verr := tt.in.Validate()
			if (verr == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", verr, tt.ok)
			}
			e, nerr := slo.New([]slo.Objective{tt.in})
			if (nerr == nil) != (verr == nil) {
				t.Errorf("New() = %v, Validate() = %v: want both nil or both errors", nerr, verr)
			}
			if e != nil {
				e.Close()
			}
		})
	}
}
