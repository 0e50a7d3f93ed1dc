package budget_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

const (
	day      = 24 * time.Hour
	maxBytes = 64 << 10
)

// defaultWindows are the windows of DefaultRules: 5m, 30m, 1h, 2h, 6h, 1d, 3d.
func defaultWindows() []time.Duration {
	return budget.Spec{Target: 0.999, Period: 30 * day}.Windows()
}

func TestLayoutThirtyDays(t *testing.T) {
	got, err := budget.Layout(30*day, defaultWindows()...)
	if err != nil {
		t.Fatalf("Layout(30d, defaults) error: %v", err)
	}
	want := []budget.Tier{
		{Resolution: 5 * time.Second, Buckets: 60},
		{Resolution: 30 * time.Second, Buckets: 60},
		{Resolution: time.Minute, Buckets: 60},
		{Resolution: 2 * time.Minute, Buckets: 60},
		{Resolution: 5 * time.Minute, Buckets: 72},
		{Resolution: 15 * time.Minute, Buckets: 96},
		{Resolution: time.Hour, Buckets: 720},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Layout(30d, defaults) = %v, want %v", got, want)
	}

	l, err := budget.NewLedger(30*day, defaultWindows()...)
	if err != nil {
		t.Fatalf("NewLedger(30d, defaults) error: %v", err)
	}
	if got := l.Tiers(); !slices.Equal(got, want) {
		t.Errorf("Ledger.Tiers() = %v, want %v", got, want)
	}
	if got := l.Span(); got != 30*day {
		t.Errorf("Ledger.Span() = %v, want %v", got, 30*day)
	}
	b := l.Bytes()
	t.Logf("30d ledger with default rules: %d tiers, %d bytes (%.1f KiB)", len(want), b, float64(b)/1024)
	if b < 1128*24 || b > maxBytes {
		t.Errorf("Ledger.Bytes() = %d, want in [%d, %d]", b, 1128*24, maxBytes)
	}
}

func TestLayoutPeriods(t *testing.T) {
	for _, period := range []time.Duration{time.Hour, 7 * day, 28 * day, 30 * day, 90 * day, 365 * day} {
		t.Run(budget.FormatWindow(period), func(t *testing.T) {
			windows := defaultWindows()
			tiers, err := budget.Layout(period, windows...)
			if err != nil {
				t.Fatalf("Layout(%v, defaults) error: %v", period, err)
			}
			if !slices.IsSortedFunc(tiers, func(a, b budget.Tier) int { return int(a.Resolution - b.Resolution) }) {
				t.Errorf("Layout(%v) = %v, want ordered finest first", period, tiers)
			}
			for i := 1; i < len(tiers); i++ {
				if tiers[i].Resolution == tiers[i-1].Resolution {
					t.Errorf("Layout(%v) = %v, want one tier per resolution", period, tiers)
				}
			}
			l, err := budget.NewLedger(period, windows...)
			if err != nil {
				t.Fatalf("NewLedger(%v, defaults) error: %v", period, err)
			}
			if b := l.Bytes(); b > maxBytes {
				t.Errorf("NewLedger(%v).Bytes() = %d, want ≤ %d", period, b, maxBytes)
			}
			t.Logf("%v: %v, %d bytes", period, tiers, l.Bytes())
			checkResolution(t, l, tiers, period, 720)
			for _, w := range windows {
				checkResolution(t, l, tiers, w, 60)
			}
		})
	}
}

// checkResolution checks that window w resolves to at most w/n (or 1s, the
// finest the ladder has) and that the tier serving it spans w.
func checkResolution(t *testing.T, l *budget.Ledger, tiers []budget.Tier, w time.Duration, n int) {
	t.Helper()
	r := l.Resolution(w)
	if limit := max(w/time.Duration(n), time.Second); r > limit {
		t.Errorf("Ledger.Resolution(%v) = %v, want ≤ %v", w, r, limit)
	}
	i := slices.IndexFunc(tiers, func(x budget.Tier) bool { return x.Resolution == r })
	if i < 0 {
		t.Fatalf("Ledger.Resolution(%v) = %v, want one of %v", w, r, tiers)
	}
	if span := tiers[i].Span(); span < w {
		t.Errorf("tier %v serving window %v spans %v, want ≥ %v", tiers[i], w, span, w)
	}
}

func TestLayoutWindows(t *testing.T) {
	tests := []struct {
		period  time.Duration
		windows []time.Duration
		want    []budget.Tier
	}{
		// The period alone: period/720, rounded down the ladder.
		{time.Minute, nil, []budget.Tier{{time.Second, 60}}},
		{time.Hour, nil, []budget.Tier{{5 * time.Second, 720}}},
		{7 * day, nil, []budget.Tier{{10 * time.Minute, 1008}}},
		{28 * day, nil, []budget.Tier{{30 * time.Minute, 1344}}},
		{90 * day, nil, []budget.Tier{{3 * time.Hour, 720}}},
		{365 * day, nil, []budget.Tier{{12 * time.Hour, 730}}},
		// Beyond the ladder: whole days.
		{3 * 365 * day, nil, []budget.Tier{{day, 1095}}},
		// A window shorter than a minute still gets 1s buckets.
		{time.Minute, []time.Duration{10 * time.Second}, []budget.Tier{{time.Second, 60}}},
		// A window sharing the period's resolution extends nothing.
		{time.Hour, []time.Duration{5 * time.Minute}, []budget.Tier{{5 * time.Second, 720}}},
		// A window longer than the period gets its own tier.
		{time.Hour, []time.Duration{3 * day}, []budget.Tier{{5 * time.Second, 720}, {time.Hour, 72}}},
		// A window that its resolution does not divide is rounded up.
		{time.Hour, []time.Duration{301 * time.Second, 7*time.Hour + time.Second}, []budget.Tier{
			{5 * time.Second, 720}, {5 * time.Minute, 85},
		}},
		// Duplicates are harmless.
		{time.Hour, []time.Duration{time.Hour, time.Hour, 2 * time.Hour}, []budget.Tier{
			{5 * time.Second, 720}, {time.Minute, 60}, {2 * time.Minute, 60},
		}},
	}
	for _, tt := range tests {
		got, err := budget.Layout(tt.period, tt.windows...)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Layout(%v, %v) = %v, %v, want %v, nil", tt.period, tt.windows, got, err, tt.want)
		}
	}
}

func TestLayoutInvalid(t *testing.T) {
	tests := []struct {
		name    string
		period  time.Duration
		windows []time.Duration
		want    []string // every problem the error must name
	}{
		{"zero period", 0, nil, []string{"period 0s"}},
		{"short period", 59 * time.Second, nil, []string{"period 59s"}},
		{"negative period", -time.Hour, nil, []string{"period -1h0m0s"}},
		{"long period", 101 * 365 * day, nil, []string{"period 884760h0m0s"}},
		{"short window", time.Hour, []time.Duration{time.Minute, 999 * time.Millisecond}, []string{"window 999ms"}},
		{"zero window", time.Hour, []time.Duration{0}, []string{"window 0s"}},
		{"every problem", 30 * time.Second, []time.Duration{-time.Second, time.Minute, 500 * time.Millisecond},
			[]string{"period 30s", "window -1s", "window 500ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tiers, err := budget.Layout(tt.period, tt.windows...)
			if !errors.Is(err, budget.ErrInvalid) {
				t.Fatalf("Layout(%v, %v) = %v, %v, want error wrapping ErrInvalid", tt.period, tt.windows, tiers, err)
			}
			checkMentions(t, err, tt.want)
			if l, err := budget.NewLedger(tt.period, tt.windows...); !errors.Is(err, budget.ErrInvalid) || l != nil {
				t.Errorf("NewLedger(%v, %v) = %v, %v, want nil, error wrapping ErrInvalid", tt.period, tt.windows, l, err)
			}
		})
	}
}

// checkMentions checks that err names every problem in want, each on a line
// of its own.
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

func TestTierSpan(t *testing.T) {
	tests := []struct {
		in   budget.Tier
		want time.Duration
	}{
		{budget.Tier{}, 0},
		{budget.Tier{Resolution: 5 * time.Second, Buckets: 60}, 5 * time.Minute},
		{budget.Tier{Resolution: time.Hour, Buckets: 720}, 30 * day},
	}
	for _, tt := range tests {
		if got := tt.in.Span(); got != tt.want {
			t.Errorf("%+v.Span() = %v, want %v", tt.in, got, tt.want)
		}
	}
}
