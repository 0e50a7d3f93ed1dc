package demo

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// Console writes a demo's output. Lines come from the main goroutine and
// from event handlers, so every write holds a lock and lines never mix; it
// is safe for concurrent use. Event lines (Eventf) are printed only between
// Begin and End: the history recorded before the start is not shown.
//
// A write error stops the output; Err returns it.
type Console struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time // zero until Begin; guarded by mu
	ended bool      // no more event lines; guarded by mu
	err   error     // first write error; guarded by mu
}

// NewConsole returns a console that writes to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Printf writes a formatted line, or part of one.
func (c *Console) Printf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write(format, a...)
}

// write requires mu.
func (c *Console) write(format string, a ...any) {
	if c.err == nil {
		_, c.err = fmt.Fprintf(c.w, format, a...)
	}
}

// Begin starts the live part at start: it writes the formatted heading,
// and from then on event lines are printed, after the heading.
func (c *Console) Begin(start time.Time, format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = start
	c.write(format, a...)
}

// End stops event lines, before the summary.
func (c *Console) End() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
}

// Eventf writes an event line that happened at t, prefixed with the time
// since Begin's start ("  16.0s  "), if between Begin and End; it writes
// nothing otherwise.
func (c *Console) Eventf(t time.Time, format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.start.IsZero() || c.ended {
		return
	}
	c.write("%6.1fs  "+format, append([]any{t.Sub(c.start).Seconds()}, a...)...)
}

// Err returns the first write error, or nil.
func (c *Console) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Follow calls step at every Step of tl in turn, each when its time comes,
// until tl ends. If ctx is done first, it writes an "interrupted" line and
// returns true.
func (c *Console) Follow(ctx context.Context, tl Timeline, step func(Step)) (interrupted bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for _, s := range tl.steps() {
		timer.Reset(time.Until(tl.Start.Add(s.At)))
		select {
		case <-ctx.Done():
			c.Printf("%6.1fs  interrupted\n", time.Since(tl.Start).Seconds())
			return true
		case <-timer.C:
		}
		step(s)
	}
	return false
}

// PrintCompression writes how cfg compresses time: the factor, the period
// and the history recorded before the start.
func (c *Console) PrintCompression(cfg Config) {
	c.Printf("Time is compressed %.0f×: one second here stands for %s of a 30-day SLO.\n", cfg.Compression(), cfg.Stands(time.Second))
	c.Printf("  period     %-9s the rolling window of the error budget (stands for 30d)\n", Label(cfg.Period))
	if h := cfg.history(); h > 0 {
		c.Printf("  history    %-9s of healthy traffic at %.0f rps, recorded before the start, so the\n", Label(h), cfg.RPS)
		c.Printf("             budget has the base a running service would have\n")
	} else {
		c.Printf("  history    none: the budget holds only the demo's own requests\n")
	}
}

// PrintObjectives writes the objectives, which cover every route, and the
// alert rules of the first one as a table: their shrunk windows, budget
// fractions and thresholds for cfg.Period beside the windows of workbook,
// the rules for 30 days they were shrunk from by cfg.Shrink.
func (c *Console) PrintObjectives(cfg Config, objs []slo.Objective, workbook []budget.Rule) {
	c.Printf("Objectives, each over both routes\n")
	for _, o := range objs {
		c.Printf("  %-13s %-6s of %s\n", o.Name, percent(o.Target), o.Description)
	}
	c.Printf("\nAlert rules: the SRE Workbook's, windows shrunk %.0f×; threshold = budget fraction × period / long window\n", cfg.Compression())
	c.Printf("  %-8s %-6s %-6s %-7s %-10s %s\n", "severity", "long", "short", "budget", "threshold", "for a 30-day period")
	for i, r := range objs[0].Rules {
		c.Printf("  %-8s %-6s %-6s %-7s %-10s %s & %s\n", r.Severity, Label(r.Long), Label(r.ShortWindow()),
			percent(r.BudgetFraction), fmt.Sprintf("%.3g×", r.Threshold(cfg.Period)),
			budget.FormatWindow(workbook[i].Long), budget.FormatWindow(workbook[i].ShortWindow()))
	}
}

// PrintSummary writes the first line of the summary: "Summary after 42.3s",
// "(interrupted)" if so, and the formatted rest after a colon. It starts
// with an empty line.
func (c *Console) PrintSummary(elapsed time.Duration, interrupted bool, format string, a ...any) {
	c.Printf("\nSummary after %.1fs", elapsed.Seconds())
	if interrupted {
		c.Printf(" (interrupted)")
	}
	c.Printf(": "+format, a...)
}

// PrintObjective writes an objective's part of the summary: a heading, its
// events since before (good, bad, then note if not empty), its budget
// before and after, and its states since start (see States).
func (c *Console) PrintObjective(before, after slo.ObjectiveStatus, events []slo.Event, start time.Time, note string) {
	obj := after.Objective
	c.Printf("\n%s (%s of %s)\n", obj.Name, percent(obj.Target), obj.Description)
	demo := after.Totals.Sub(before.Totals)
	if note != "" {
		note = " " + note
	}
	c.Printf("  events    %d in the demo: %d good, %d bad%s\n", demo.Total(), demo.Good, demo.Bad, note)
	c.Printf("  budget    %.1f%% left of the %s budget, %.1f%% at the start\n",
		after.Report.Remaining*100, Label(obj.Period), before.Report.Remaining*100)
	c.Printf("  states    %s\n", States(stateChanges(events, obj.Name), start, after.Report.State))
}
