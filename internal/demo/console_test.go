package demo

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

func TestConsoleEvents(t *testing.T) {
	var out strings.Builder
	c := NewConsole(&out)
	start := time.Unix(1000, 0)
	c.Eventf(start.Add(-time.Hour), "history %d\n", 1)
	c.Printf("header\n")
	c.Begin(start, "heading %s\n", "cols")
	c.Eventf(start.Add(16*time.Second), "▶ %s\n", "live")
	c.Eventf(start.Add(-500*time.Millisecond), "late %s\n", "history")
	c.End()
	c.Eventf(start.Add(40*time.Second), "after %s\n", "end")
	c.Printf("summary\n")
	want := "header\nheading cols\n  16.0s  ▶ live\n  -0.5s  late history\nsummary\n"
	if got := out.String(); got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err() = %v, want nil", err)
	}
}

type failingWriter struct{ writes int }

var errWrite = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return 0, errWrite
}

func TestConsoleWriteError(t *testing.T) {
	w := &failingWriter{}
	c := NewConsole(w)
	c.Printf("one\n")
	c.Printf("two\n")
	if err := c.Err(); !errors.Is(err, errWrite) {
		t.Errorf("Err() = %v, want %v", err, errWrite)
	}
	if w.writes != 1 {
		t.Errorf("%d writes, want 1: the console stops at the first error", w.writes)
	}
}

// TestConsoleConcurrent writes from many goroutines at once: every line
// comes out whole (and -race finds no race).
func TestConsoleConcurrent(t *testing.T) {
	var out strings.Builder
	c := NewConsole(&out)
	start := time.Unix(1000, 0)
	c.Begin(start, "")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if i%2 == 0 {
					c.Printf("printf %d %d\n", g, i)
				} else {
					c.Eventf(start.Add(time.Second), "event %d %d\n", g, i)
				}
			}
		})
	}
	wg.Wait()
	line := regexp.MustCompile(`^(printf \d+ \d+|   1\.0s  event \d+ \d+)$`)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Errorf("%d lines, want 400", len(lines))
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("line %q is mixed up", l)
		}
	}
}

func TestPrintSummary(t *testing.T) {
	for _, tt := range []struct {
		interrupted bool
		want        string
	}{
		{false, "\nSummary after 42.3s: 10 requests sent\n"},
		{true, "\nSummary after 42.3s (interrupted): 10 requests sent\n"},
	} {
		var out strings.Builder
		NewConsole(&out).PrintSummary(42345*time.Millisecond, tt.interrupted, "%d requests sent\n", 10)
		if got := out.String(); got != tt.want {
			t.Errorf("PrintSummary(interrupted %v) wrote %q, want %q", tt.interrupted, got, tt.want)
		}
	}
}

func TestPrintObjective(t *testing.T) {
	start := time.Unix(1000, 0)
	obj := slo.Objective{Name: "availability", Description: "requests answered without a 5xx", Target: 0.999, Period: time.Hour}
	before := slo.ObjectiveStatus{Objective: obj, Totals: budget.Counts{Good: 700, Bad: 2}, Report: budget.Report{Remaining: 1}}
	after := slo.ObjectiveStatus{Objective: obj, Totals: budget.Counts{Good: 8625, Bad: 476}, Report: budget.Report{Remaining: 0.341, State: budget.StateOK}}
	events := []slo.Event{
		{Kind: slo.StateChanged, Objective: "availability", Time: start.Add(-time.Hour), To: budget.StateOK},
		{Kind: slo.StateChanged, Objective: "latency", Time: start.Add(5 * time.Second), To: budget.StatePage},
		{Kind: slo.StateChanged, Objective: "availability", Time: start.Add(16 * time.Second), To: budget.StatePage},
		{Kind: slo.StateChanged, Objective: "availability", Time: start.Add(36500 * time.Millisecond), To: budget.StateOK},
	}
	for _, note := range []string{"", "(0 not counted: the client had gone)"} {
		var out strings.Builder
		NewConsole(&out).PrintObjective(before, after, events, start, note)
		events := "  events    8399 in the demo: 7925 good, 474 bad\n"
		if note != "" {
			events = fmt.Sprintf("  events    8399 in the demo: 7925 good, 474 bad %s\n", note)
		}
		want := "\navailability (99.9% of requests answered without a 5xx)\n" + events +
			"  budget    34.1% left of the 1h budget, 100.0% at the start\n" +
			"  states    ok (history) → page at 16.0s → ok at 36.5s\n"
		if got := out.String(); got != want {
			t.Errorf("PrintObjective(note %q) wrote\n%s\nwant\n%s", note, got, want)
		}
	}
}
