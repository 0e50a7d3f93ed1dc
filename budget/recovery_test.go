package budget_test

import (
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// fill records good and bad events every hour from → to (hours from base),
// in hourly Advances.
func fill(l *budget.Ledger, from, to int, good, bad uint64) {
	for h := from; h < to; h++ {
		l.Add(budget.Good, good)
		l.Add(budget.Bad, bad)
		l.Advance(base.Add(time.Duration(h) * time.Hour))
	}
}

func TestRecoveryTime(t *testing.T) {
	const period = 30 * day
	spec := budget.Spec{Target: 0.999, Period: period}
	tests := []struct {
		name    string
		build   func(l *budget.Ledger) time.Time // returns now
		goal    float64
		want    time.Duration
		slack   time.Duration
		explain string
	}{
		{
			name: "within budget",
			build: func(l *budget.Ledger) time.Time {
				fill(l, 0, 48, 1000, 0)
				return base.Add(47 * time.Hour)
			},
			goal: 0, want: 0,
		},
		{
			// A full month of 1000 good events an hour; ten days ago an
			// hour-long outage spent twice the budget (720 allowed, 1440
			// bad). Traffic is clean again, so the budget is back once that
			// hour leaves the period: 20 days from now.
			name: "outage ages out",
			build: func(l *budget.Ledger) time.Time {
				fill(l, 0, 20*24, 1000, 0)
				fill(l, 20*24, 20*24+1, 0, 1440)
				fill(l, 20*24+1, 30*24, 1000, 0)
				return base.Add((30*24 - 1) * time.Hour)
			},
			goal: 0, want: 20 * day, slack: 2 * time.Hour,
		},
		{
			// A day-old service whose first hour had 48 bad events has
			// spent twice its allowance of about 24; clean traffic at the
			// same rate grows the allowance: back at 0 after another day,
			// long before that hour leaves the period.
			name: "young ledger grows its allowance",
			build: func(l *budget.Ledger) time.Time {
				fill(l, 0, 1, 1000, 48)
				fill(l, 1, 24, 1000, 0)
				return base.Add(23 * time.Hour)
			},
			goal: 0, want: 24 * time.Hour, slack: 2 * time.Hour,
		},
		{
			name: "still burning",
			build: func(l *budget.Ledger) time.Time {
				fill(l, 0, 48, 990, 10) // 1% bad: burn 10
				return base.Add(47 * time.Hour)
			},
			goal: 0, want: budget.Never,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSpecLedger(t, spec)
			now := tt.build(l)
			got := budget.RecoveryTime(l, spec, now, tt.goal, time.Hour)
			if got < tt.want-tt.slack || got > tt.want+tt.slack {
				t.Errorf("RecoveryTime(goal %v) = %v, want %v ± %v", tt.goal, got, tt.want, tt.slack)
			}
		})
	}
}
