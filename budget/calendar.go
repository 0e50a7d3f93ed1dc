package budget

import (
	"fmt"
	"time"
)

// CalendarUnit is the length of a calendar period. The zero CalendarUnit is
// none: a rolling period (see Calendar).
type CalendarUnit uint8

const (
	// Week periods start on Monday at 00:00.
	Week CalendarUnit = iota + 1
	// Month periods start on the 1st at 00:00.
	Month
)

// String returns "week" or "month".
func (u CalendarUnit) String() string {
	return enumName(u, "calendarunit", "", "week", "month") // 0 is rolling
}

// Calendar is a calendar-aligned compliance period: every week or every
// month in a time zone, with the budget starting afresh at the period's
// start, as OpenSLO's timeWindow with isRolling: false. The zero Calendar
// means a rolling period (Spec.Period).
//
// A period's length is its wall-clock length in the zone: 28 to 31 days for
// a month, and an hour less or more for a week or month in which daylight
// saving time starts or ends. Burn-rate thresholds follow it: 2% of the
// budget in one hour is 14.4× in a 30-day month and 13.44× in February.
type Calendar struct {
	Unit CalendarUnit // Week or Month; zero for a rolling period
	// Location is the time zone whose midnight starts a period. Nil means
	// UTC.
	Location *time.Location
}

// IsZero reports whether c is the zero Calendar: a rolling period.
func (c Calendar) IsZero() bool { return c.Unit == 0 }

// String returns "week" or "month" followed by the zone, e.g.
// "month Europe/Berlin".
func (c Calendar) String() string {
	if c.IsZero() {
		return "rolling"
	}
	return c.Unit.String() + " " + c.location().String()
}

func (c Calendar) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// Bounds returns the start and end of the calendar period that holds t:
// start ≤ t < end.
func (c Calendar) Bounds(t time.Time) (start, end time.Time) {
	lt := t.In(c.location())
	y, m, d := lt.Date()
	switch c.Unit {
	case Week:
		// Monday is day 0.
		back := (int(lt.Weekday()) + 6) % 7
		start = time.Date(y, m, d-back, 0, 0, 0, 0, lt.Location())
		end = time.Date(y, m, d-back+7, 0, 0, 0, 0, lt.Location())
	default:
		start = time.Date(y, m, 1, 0, 0, 0, 0, lt.Location())
		end = time.Date(y, m+1, 1, 0, 0, 0, 0, lt.Location())
	}
	return start, end
}

// maxLength returns the longest period of the calendar: 7 days and an hour
// for a week, 31 days and an hour for a month (the hour for a change of
// daylight saving time). Ledgers hold this much.
func (c Calendar) maxLength() time.Duration {
	if c.Unit == Week {
		return 7*24*time.Hour + time.Hour
	}
	return 31*24*time.Hour + time.Hour
}

// validate reports a unit out of range.
func (c Calendar) validate() error {
	if c.Unit > Month {
		return fmt.Errorf("%w: calendar unit %v is neither week nor month", ErrInvalid, c.Unit)
	}
	return nil
}
