package budget

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Severity says who a firing rule calls for. The zero Severity is none, which
// Rule.Validate rejects.
type Severity uint8

const (
	// Ticket rules catch slow burns that a person should look at within
	// hours or days.
	Ticket Severity = iota + 1
	// Page rules catch fast burns that need a person now.
	Page
)

// String returns "ticket" or "page".
func (s Severity) String() string {
	return enumName(s, "severity", "", "ticket", "page") // 0 is no severity
}

// Rule is one multiwindow, multi-burn-rate alert condition (The Site
// Reliability Workbook, chapter 5): it fires when the burn rate over both the
// long and the short window is at least its threshold. The long window
// makes it significant, the short one makes it reset soon after the burn
// stops.
//
// The threshold is derived from the share of the period's budget that may
// burn within the long window: Burn = BudgetFraction × period / Long. So the
// same rule rescales to any period: 2% of the budget in one hour is 14.4× for
// 30 days, 13.44× for 28 days and 3.36× for 7 days.
//
// The zero Rule is not valid: it has no Severity and no windows.
type Rule struct {
	Severity Severity      // Page or Ticket
	Long     time.Duration // long window, e.g. 1h
	// Short window; zero means Long/12, as in the Workbook.
	Short time.Duration
	// BudgetFraction is the share of the period's error budget that burns
	// within Long at the threshold, in (0, 1]. Ignored when Burn is set.
	BudgetFraction float64
	// Burn, if positive, is the threshold itself, for alert conditions
	// written as burn rates (as in OpenSLO). Leave zero to derive it from
	// BudgetFraction.
	Burn float64
}

// ShortWindow returns the short window: Short, or Long/12 when Short is zero.
func (r Rule) ShortWindow() time.Duration {
	if r.Short > 0 {
		return r.Short
	}
	return r.Long / 12
}

// Threshold returns the burn rate at which the rule fires for an objective
// with the given period.
func (r Rule) Threshold(period time.Duration) float64 {
	if r.Burn > 0 {
		return r.Burn
	}
	if r.Long <= 0 {
		return math.Inf(1)
	}
	return r.BudgetFraction * float64(period) / float64(r.Long)
}

// Name returns a short stable name such as "page-1h": the severity and the
// long window.
func (r Rule) Name() string {
	return r.Severity.String() + "-" + FormatWindow(r.Long)
}

// Validate reports every problem with the rule. Both windows must be from
// one second to MaxSpan, the short one no longer than the long one.
func (r Rule) Validate() error {
	var errs []error
	if r.Severity != Page && r.Severity != Ticket {
		errs = append(errs, fmt.Errorf("%w: rule severity %v is neither page nor ticket", ErrInvalid, r.Severity))
	}
	if err := checkWindow("rule long window", r.Long); err != nil {
		errs = append(errs, err)
	}
	if s := r.ShortWindow(); s < time.Second || s > r.Long {
		errs = append(errs, fmt.Errorf("%w: rule short window %v must be between 1s and the long window %v", ErrInvalid, s, r.Long))
	}
	switch {
	case r.Burn < 0 || math.IsNaN(r.Burn) || math.IsInf(r.Burn, 0):
		errs = append(errs, fmt.Errorf("%w: rule burn %v must be positive and finite", ErrInvalid, r.Burn))
	case r.Burn == 0 && !(r.BudgetFraction > 0 && r.BudgetFraction <= 1):
		errs = append(errs, fmt.Errorf("%w: rule budget fraction %v must be in (0, 1]", ErrInvalid, r.BudgetFraction))
	}
	return errors.Join(errs...)
}

// DefaultRules returns the Workbook's four rules, which for a 30-day period
// are: page at 14.4× over 1h and 5m (2% of the budget in an hour), page at 6×
// over 6h and 30m (5% in six hours), ticket at 3× over 1d and 2h (10% in a
// day), ticket at 1× over 3d and 6h (10% in three days). Other periods keep
// the windows and budget fractions and rescale the thresholds.
func DefaultRules() []Rule {
	return []Rule{
		{Severity: Page, Long: time.Hour, BudgetFraction: 0.02},
		{Severity: Page, Long: 6 * time.Hour, BudgetFraction: 0.05},
		{Severity: Ticket, Long: 24 * time.Hour, BudgetFraction: 0.10},
		{Severity: Ticket, Long: 72 * time.Hour, BudgetFraction: 0.10},
	}
}

// FormatWindow formats a window the way alerting tools name them: "5m",
// "1h", "3d", "90s", "1500ms": the largest unit that divides it.
func FormatWindow(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.s)
		}
	}
	return d.String() // below a millisecond: unambiguous, if not Prometheus syntax
}
