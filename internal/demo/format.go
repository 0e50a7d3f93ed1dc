package demo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// Label formats a duration compactly: "300ms", "2.5s", "30s", "2m", "1h".
func Label(d time.Duration) string {
	if d%time.Second == 0 || d < time.Second {
		return budget.FormatWindow(d)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// Human formats a long duration to the minute: "12m", "3h", "2h24m".
func Human(d time.Duration) string {
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// percent formats a share as a percentage to two decimals at most: "99.9%".
func percent(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/100, 'f', -1, 64) + "%"
}

// BurnRate formats a burn rate in at most four characters: "0", "2.5",
// "115", ">1e4".
func BurnRate(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 9.95:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v < 9999.5:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return ">1e4"
}

// Burns formats an event's burn rates, shortest window first:
// "2.5s 115 · 10s 21 · 30s 6.8".
func Burns(burns []slo.WindowBurn) string {
	var b strings.Builder
	for i, wb := range burns {
		if i > 0 {
			b.WriteString(" · ")
		}
		fmt.Fprintf(&b, "%s %s", Label(wb.Window), BurnRate(wb.Burn))
	}
	return b.String()
}

// Round rounds d to the 100ms the summaries print.
func Round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// Relative says how long after or before ref t was, ref being what
// happened then: Relative(t, end, "it ended") is "2.5s after it ended" or
// "300ms before it ended".
func Relative(t, ref time.Time, what string) string {
	if d := t.Sub(ref); d >= 0 {
		return fmt.Sprintf("%v after %s", Round(d), what)
	}
	return fmt.Sprintf("%v before %s", Round(ref.Sub(t)), what)
}

// stateChanges returns the StateChanged events of the named objective, in
// order.
func stateChanges(events []slo.Event, objective string) []slo.Event {
	var out []slo.Event
	for _, ev := range events {
		if ev.Kind == slo.StateChanged && ev.Objective == objective {
			out = append(out, ev)
		}
	}
	return out
}

// States tells the states an objective went through, from its state
// changes in order: "ok (history) → page at 16.0s → ok at 36.5s", where a
// change before start came from the history and the others are timed from
// start. With no changes it is the current state, now.
func States(changes []slo.Event, start time.Time, now budget.State) string {
	if len(changes) == 0 {
		return now.String()
	}
	states := make([]string, len(changes))
	for i, ev := range changes {
		if ev.Time.Before(start) {
			states[i] = ev.To.String() + " (history)"
		} else {
			states[i] = fmt.Sprintf("%s at %.1fs", ev.To, ev.Time.Sub(start).Seconds())
		}
	}
	return strings.Join(states, " → ")
}
