package budget_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time.LoadLocation(%q) = %v", name, err)
	}
	return loc
}

func TestCalendarBounds(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	ny := mustZone(t, "America/New_York")
	month := func(loc *time.Location) budget.Calendar { return budget.Calendar{Unit: budget.Month, Location: loc} }
	week := func(loc *time.Location) budget.Calendar { return budget.Calendar{Unit: budget.Week, Location: loc} }
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	tests := []struct {
		cal        budget.Calendar
		t          time.Time
		wantStart  time.Time
		wantLength time.Duration
	}{
		// Months of 28 to 31 days.
		{month(nil), at(time.UTC, 2025, 2, 14, 12, 0), at(time.UTC, 2025, 2, 1, 0, 0), 28 * day},
		{month(nil), at(time.UTC, 2024, 2, 29, 23, 59), at(time.UTC, 2024, 2, 1, 0, 0), 29 * day},
		{month(nil), at(time.UTC, 2025, 4, 30, 0, 0), at(time.UTC, 2025, 4, 1, 0, 0), 30 * day},
		{month(nil), at(time.UTC, 2025, 1, 1, 0, 0), at(time.UTC, 2025, 1, 1, 0, 0), 31 * day}, // the first instant
		{month(nil), at(time.UTC, 2025, 1, 1, 0, 0).Add(-time.Nanosecond), at(time.UTC, 2024, 12, 1, 0, 0), 31 * day},
		// Daylight saving time: Berlin's March loses an hour, October gains one.
		{month(berlin), at(berlin, 2025, 3, 30, 12, 0), at(berlin, 2025, 3, 1, 0, 0), 31*day - time.Hour},
		{month(berlin), at(berlin, 2025, 10, 26, 2, 30), at(berlin, 2025, 10, 1, 0, 0), 31*day + time.Hour},
		// Midnight in Berlin (summer time) is 22:00 UTC the day before.
		{month(berlin), at(time.UTC, 2025, 4, 30, 21, 59), at(berlin, 2025, 4, 1, 0, 0), 30 * day},
		{month(berlin), at(time.UTC, 2025, 4, 30, 22, 0), at(berlin, 2025, 5, 1, 0, 0), 31 * day},
		// Weeks from Monday 00:00.
		{week(nil), at(time.UTC, 2025, 6, 11, 9, 0), at(time.UTC, 2025, 6, 9, 0, 0), 7 * day},   // a Wednesday
		{week(nil), at(time.UTC, 2025, 6, 15, 23, 59), at(time.UTC, 2025, 6, 9, 0, 0), 7 * day}, // Sunday night
		{week(nil), at(time.UTC, 2025, 6, 16, 0, 0), at(time.UTC, 2025, 6, 16, 0, 0), 7 * day},  // Monday
		{week(ny), at(ny, 2025, 3, 9, 12, 0), at(ny, 2025, 3, 3, 0, 0), 7*day - time.Hour},      // DST starts on Sunday 9 March
		{week(ny), at(ny, 2025, 11, 2, 12, 0), at(ny, 2025, 10, 27, 0, 0), 7*day + time.Hour},   // and ends on Sunday 2 November
	}
	for _, tt := range tests {
		start, end := tt.cal.Bounds(tt.t)
		if !start.Equal(tt.wantStart) || end.Sub(start) != tt.wantLength {
			t.Errorf("%v.Bounds(%v) = %v, %v (length %v), want start %v, length %v",
				tt.cal, tt.t, start, end, end.Sub(start), tt.wantStart, tt.wantLength)
		}
		if tt.t.Before(start) || !tt.t.Before(end) {
			t.Errorf("%v.Bounds(%v) = [%v, %v): does not hold the time", tt.cal, tt.t, start, end)
		}
		if l := end.Sub(start); l > tt.cal.MaxLength() {
			t.Errorf("%v: period of %v is longer than MaxLength %v", tt.cal, l, tt.cal.MaxLength())
		}
	}
}

// TestCalendarEvaluate steps a monthly budget across month ends: the budget
// starts afresh at each month's start (in the zone), and the thresholds
// follow the month's length.
func TestCalendarEvaluate(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	spec := budget.Spec{
		Target:   0.99,
		Calendar: budget.Calendar{Unit: budget.Month, Location: berlin},
		Rules:    []budget.Rule{{Severity: budget.Page, Long: time.Hour, BudgetFraction: 0.02}},
	}
	l := newSpecLedger(t, spec)
	b := func(m time.Month, d, h int) time.Time { return time.Date(2025, m, d, h, 0, 0, 0, berlin) }

	steps := []struct {
		at            time.Time
		add           budget.Counts
		wantPeriod    budget.Counts
		wantRemaining float64
		wantLength    time.Duration
		wantThreshold float64 // of the page rule: 0.02 × length / 1h
	}{
		// February: 28 days.
		{b(2, 10, 12), budget.Counts{Good: 990, Bad: 10}, budget.Counts{Good: 990, Bad: 10}, 0, 28 * day, 13.44},
		{b(2, 28, 23), budget.Counts{Good: 1000}, budget.Counts{Good: 1990, Bad: 10}, 1 - 10/(0.01*2000), 28 * day, 13.44},
		// 1 March 00:00 Berlin: February's events are gone.
		{b(3, 1, 0), budget.Counts{}, budget.Counts{}, 1, 31*day - time.Hour, 14.86},
		{b(3, 1, 1), budget.Counts{Good: 95, Bad: 5}, budget.Counts{Good: 95, Bad: 5}, 1 - 5/(0.01*100), 31*day - time.Hour, 14.86},
		// After the DST change on 30 March, still March.
		{b(3, 31, 23), budget.Counts{Good: 900}, budget.Counts{Good: 995, Bad: 5}, 1 - 5/(0.01*1000), 31*day - time.Hour, 14.86},
		// April: 30 days, fresh.
		{b(4, 1, 0).Add(time.Minute), budget.Counts{Good: 10}, budget.Counts{Good: 10}, 1, 30 * day, 14.4},
	}
	for i, st := range steps {
		record(l, st.at, st.add)
		rep := budget.Evaluate(l, spec, st.at)
		thr := rep.Rules[0].Threshold
		if rep.Period != st.wantPeriod || math.Abs(rep.Remaining-st.wantRemaining) > 1e-9 || rep.Length != st.wantLength ||
			math.Abs(thr-st.wantThreshold) > 1e-9 {
			t.Errorf("step %d at %v: period %+v remaining %v length %v threshold %v, want %+v %v %v %v",
				i, st.at, rep.Period, rep.Remaining, rep.Length, thr, st.wantPeriod, st.wantRemaining, st.wantLength, st.wantThreshold)
		}
		if start, _ := spec.Calendar.Bounds(st.at); !rep.Start.Equal(start) {
			t.Errorf("step %d: Start = %v, want %v", i, rep.Start, start)
		}
	}
}

// TestCalendarLayout checks that a calendar ledger's memory is fixed by the
// longest period, whatever the month.
func TestCalendarLayout(t *testing.T) {
	for _, c := range []struct {
		cal       budget.Calendar
		wantBytes int // of the period tier
		wantRes   time.Duration
	}{
		{budget.Calendar{Unit: budget.Month}, 745 * 24, time.Hour},        // 31 days and an hour in 1h buckets
		{budget.Calendar{Unit: budget.Week}, 1014 * 24, 10 * time.Minute}, // 7 days and an hour in 10m buckets
	} {
		spec := budget.Spec{Target: 0.999, Calendar: c.cal, Rules: []budget.Rule{}}
		l := newSpecLedger(t, spec)
		tiers := l.Tiers()
		if len(tiers) != 1 || tiers[0].Resolution != c.wantRes || tiers[0].Buckets*24 != c.wantBytes {
			t.Errorf("%v: tiers %+v, want one of %v with %d bytes", c.cal, tiers, c.wantRes, c.wantBytes)
		}
		if l.Span() < c.cal.MaxLength() {
			t.Errorf("%v: span %v shorter than the longest period %v", c.cal, l.Span(), c.cal.MaxLength())
		}
	}
}

func TestCalendarRecoveryTime(t *testing.T) {
	spec := budget.Spec{Target: 0.99, Calendar: budget.Calendar{Unit: budget.Month}, Rules: []budget.Rule{}}
	t0 := time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		spent budget.Counts // on 10 June at 00:00
		last  budget.Counts // in the hour up to now, 01:00: the projection
		goal  float64
		want  time.Duration
	}{
		{"within budget", budget.Counts{Good: 1000}, budget.Counts{Good: 100}, 0, 0},
		// 30 bad of 2000: remaining −0.5. Clean traffic of 1000 an hour:
		// 30 ≤ 0.01 × (2000 + 1000x) from x = 1 hour.
		{"diluted", budget.Counts{Good: 970, Bad: 30}, budget.Counts{Good: 1000}, 0, time.Hour},
		// To half the budget: 30 ≤ 0.005 × (2000 + 1000x) from x = 4.
		{"diluted to a goal", budget.Counts{Good: 970, Bad: 30}, budget.Counts{Good: 1000}, 0.5, 4 * time.Hour},
		// Traffic that burns faster than allowed: only the month's end
		// recovers the budget.
		{"reset", budget.Counts{Good: 970, Bad: 30}, budget.Counts{Good: 980, Bad: 20}, 0, end.Sub(t0.Add(time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSpecLedger(t, spec)
			record(l, t0, tt.spent)
			now := t0.Add(time.Hour)
			record(l, now, tt.last)
			if got := budget.RecoveryTime(l, spec, now, tt.goal, time.Hour); got != tt.want {
				t.Errorf("RecoveryTime = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCalendarValidate(t *testing.T) {
	spec := budget.Spec{Target: 0.99, Calendar: budget.Calendar{Unit: 7}}
	err := spec.Validate()
	if err == nil || err.Error() != fmt.Sprintf("%v: calendar unit calendarunit(7) is neither week nor month", budget.ErrInvalid) {
		t.Errorf("Validate = %v, want the unit", err)
	}
	spec.Calendar.Unit = budget.Week
	if err := spec.Validate(); err != nil {
		t.Errorf("Validate(calendar week, no period) = %v, want nil", err)
	}
}

// FuzzCalendarBounds checks the period of any time in a few zones: it holds
// the time, starts at local midnight on a Monday or the 1st, is no longer
// than MaxLength, and the next period starts where it ends.
func FuzzCalendarBounds(f *testing.F) {
	f.Add(int64(0), uint8(0), false)
	f.Add(time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC).UnixNano(), uint8(1), true)
	f.Add(time.Date(2025, 11, 2, 5, 59, 59, 0, time.UTC).UnixNano(), uint8(2), false)
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Apia"}
	f.Fuzz(func(t *testing.T, ns int64, zone uint8, week bool) {
		// Years 1900 to 2200: the zone database's range.
		ns = ns % (150 * 365 * 24 * int64(time.Hour))
		loc := mustZone(t, zones[int(zone)%len(zones)])
		c := budget.Calendar{Unit: budget.Month, Location: loc}
		if week {
			c.Unit = budget.Week
		}
		tm := time.Unix(0, ns).In(loc)
		start, end := c.Bounds(tm)
		if tm.Before(start) || !tm.Before(end) {
			t.Fatalf("%v.Bounds(%v) = [%v, %v): does not hold it", c, tm, start, end)
		}
		if l := end.Sub(start); l <= 0 || l > c.MaxLength() {
			t.Fatalf("%v.Bounds(%v): length %v not in (0, %v]", c, tm, l, c.MaxLength())
		}
		if y, m, d := start.Date(); start.Hour()+start.Minute()+start.Second() != 0 && !startsLate(start) ||
			c.Unit == budget.Week && start.Weekday() != time.Monday || c.Unit == budget.Month && d != 1 {
			t.Fatalf("%v.Bounds(%v) starts at %v (%d-%d-%d %v)", c, tm, start, y, m, d, start.Weekday())
		}
		if next, _ := c.Bounds(end); !next.Equal(end) {
			t.Fatalf("%v: the period after [%v, %v) starts at %v", c, start, end, next)
		}
	})
}

// startsLate reports whether midnight did not exist on t's day, so that the
// day starts later (as in zones that change their clocks at midnight).
func startsLate(t time.Time) bool {
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	return midnight.Hour() != 0 || !midnight.Equal(t)
}
