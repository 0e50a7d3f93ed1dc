package demo

import (
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

func TestLabel(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{300 * time.Millisecond, "300ms"},
		{2500 * time.Millisecond, "2.5s"},
		{1250 * time.Millisecond, "1.25s"},
		{30 * time.Second, "30s"},
		{2 * time.Minute, "2m"},
		{time.Hour, "1h"},
		{24 * time.Hour, "1d"},
	} {
		if got := Label(tt.d); got != tt.want {
			t.Errorf("Label(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestHuman(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{12 * time.Minute, "12m"},
		{3 * time.Hour, "3h"},
		{2*time.Hour + 24*time.Minute, "2h24m"},
		{90*time.Minute + 20*time.Second, "1h30m"},
		{40 * time.Second, "1m"},
	} {
		if got := Human(tt.d); got != tt.want {
			t.Errorf("Human(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0.999, "99.9%"},
		{0.99, "99%"},
		{0.05, "5%"},
		{0.12345, "12.35%"},
		{1, "100%"},
		{0, "0%"},
	} {
		if got := percent(tt.v); got != tt.want {
			t.Errorf("percent(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestBurnRate(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{0.04, "0.0"},
		{2, "2.0"},
		{9.94, "9.9"},
		{9.95, "10"},
		{115.4, "115"},
		{9999.4, "9999"},
		{9999.5, ">1e4"},
		{1e6, ">1e4"},
	} {
		if got := BurnRate(tt.v); got != tt.want {
			t.Errorf("BurnRate(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestBurns(t *testing.T) {
	for _, tt := range []struct {
		burns []slo.WindowBurn
		want  string
	}{
		{nil, ""},
		{[]slo.WindowBurn{{Window: 2500 * time.Millisecond, Burn: 115}}, "2.5s 115"},
		{[]slo.WindowBurn{{Window: 2500 * time.Millisecond, Burn: 115}, {Window: 10 * time.Second, Burn: 21}, {Window: 30 * time.Second, Burn: 6.8}}, "2.5s 115 · 10s 21 · 30s 6.8"},
	} {
		if got := Burns(tt.burns); got != tt.want {
			t.Errorf("Burns(%v) = %q, want %q", tt.burns, got, tt.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, tt := range []struct{ d, want time.Duration }{
		{1249 * time.Millisecond, 1200 * time.Millisecond},
		{1250 * time.Millisecond, 1300 * time.Millisecond},
		{40 * time.Millisecond, 0},
	} {
		if got := Round(tt.d); got != tt.want {
			t.Errorf("Round(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestRelative(t *testing.T) {
	ref := time.Unix(1000, 0)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{ref.Add(2500 * time.Millisecond), "2.5s after it ended"},
		{ref, "0s after it ended"},
		{ref.Add(-320 * time.Millisecond), "300ms before it ended"},
	} {
		if got := Relative(tt.t, ref, "it ended"); got != tt.want {
			t.Errorf("Relative(%v, ref, \"it ended\") = %q, want %q", tt.t.Sub(ref), got, tt.want)
		}
	}
}

func TestStateChanges(t *testing.T) {
	events := []slo.Event{
		{Kind: slo.StateChanged, Objective: "a", To: budget.StateOK},
		{Kind: slo.GateChanged, Gate: "g", Objective: "a"},
		{Kind: slo.StateChanged, Objective: "b", To: budget.StatePage},
		{Kind: slo.StateChanged, Objective: "a", To: budget.StatePage},
	}
	got := stateChanges(events, "a")
	if len(got) != 2 || got[0].To != budget.StateOK || got[1].To != budget.StatePage {
		t.Errorf("stateChanges(events, \"a\") = %v, want the ok and page changes of a", got)
	}
	if got := stateChanges(events, "c"); got != nil {
		t.Errorf("stateChanges(events, \"c\") = %v, want nil", got)
	}
}

func TestStates(t *testing.T) {
	start := time.Unix(1000, 0)
	ev := func(sec float64, to budget.State) slo.Event {
		return slo.Event{Kind: slo.StateChanged, Time: start.Add(time.Duration(sec * float64(time.Second))), To: to}
	}
	ok, ticket, page := budget.StateOK, budget.StateTicket, budget.StatePage
	tests := []struct {
		name    string
		changes []slo.Event
		now     budget.State
		want    string
	}{
		{"none", nil, ok, "ok"},
		{"history only", []slo.Event{ev(-3600, ok)}, ok, "ok (history)"},
		{"history and live", []slo.Event{ev(-3600, ok), ev(16, page), ev(29, ticket), ev(36.5, ok)}, ok,
			"ok (history) → page at 16.0s → ticket at 29.0s → ok at 36.5s"},
		{"at the start", []slo.Event{ev(0, page)}, page, "page at 0.0s"},
	}
	for _, tt := range tests {
		if got := States(tt.changes, start, tt.now); got != tt.want {
			t.Errorf("%s: States() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
