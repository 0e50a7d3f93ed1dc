package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/openfeature"
)

// console writes the demo's output. Lines come from the main goroutine, the
// engine's event handler and OpenFeature's event handlers, so every write
// holds mu and lines never mix.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time // zero until the demo starts: history is not printed; guarded by mu
	ended bool      // no more event lines; guarded by mu
	err   error     // first write error; guarded by mu
}

func (c *console) printf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write(format, a...)
}

// write requires mu.
func (c *console) write(format string, a ...any) {
	if c.err == nil {
		_, c.err = fmt.Fprintf(c.w, format, a...)
	}
}

// live reports whether event lines are printed now; it requires mu.
func (c *console) live() bool { return !c.start.IsZero() && !c.ended }

// end stops event lines, before the summary.
func (c *console) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
}

// event is the engine's event handler: objective states and the gate.
func (c *console) event(ev slo.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live() {
		return
	}
	at := ev.Time.Sub(c.start).Seconds()
	switch ev.Kind {
	case slo.GateChanged:
		if ev.Enabled {
			c.write("%6.1fs  ◆ gate %s → ON\n", at, ev.Gate)
		} else {
			c.write("%6.1fs  ◆ gate %s → OFF: %s\n", at, ev.Gate, ev.Reason)
		}
	case slo.StateChanged:
		var b strings.Builder
		for i, wb := range ev.Burns {
			if i > 0 {
				b.WriteString(" · ")
			}
			fmt.Fprintf(&b, "%s %s", label(wb.Window), burnText(wb.Burn))
		}
		c.write("%6.1fs  ▶ %-12s %s → %s   budget %.1f%%   burn %s\n", at, ev.Objective, ev.From, ev.To, ev.Remaining*100, b.String())
	}
}

// flagChanged returns an OpenFeature event handler that prints the flag as
// the application now sees it.
func (c *console) flagChanged(client *of.Client) func(of.EventDetails) {
	return func(d of.EventDetails) {
		// Evaluated outside the lock: the console never calls out holding it.
		v, _ := client.BooleanValueDetails(context.Background(), flagKey, false, of.EvaluationContext{})
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.live() {
			return
		}
		c.write("%6.1fs  ◇ %s %v: %s = %v (%s, variant %s)\n",
			time.Since(c.start).Seconds(), of.ProviderConfigChange, d.FlagChanges, flagKey, v.Value, v.Reason, v.Variant)
	}
}

func (c *console) header(cfg config, eng *slo.Engine, p *openfeature.Provider, history time.Duration, addr net.Addr) {
	k := cfg.compression()
	stands := func(d time.Duration) string { return human(time.Duration(float64(d) * k)) }

	c.printf("sloguard flags: a risky feature that turns itself off while its objective burns, on http://%s\n\n", addr)
	c.printf("Time is compressed %.0f×: one second here stands for %s of a 30-day SLO.\n", k, stands(time.Second))
	c.printf("  period     %-9s the rolling window of the error budget (stands for 30d)\n", label(cfg.Period))
	if history > 0 {
		c.printf("  history    %-9s of healthy traffic at %.0f rps, recorded before the start, so the\n", label(history), cfg.RPS)
		c.printf("             budget has the base a running service would have\n")
	} else {
		c.printf("  history    none: the budget holds only the demo's own requests\n")
	}
	c.printf("  timeline   warmup %s (%s) → fault %s (%s) → recovery %s (%s)\n",
		label(cfg.Warmup), stands(cfg.Warmup), label(cfg.Fault), stands(cfg.Fault), label(cfg.Recovery), stands(cfg.Recovery))
	c.printf("  fault      the new recommender answers %.0f%% of its requests with a 500 and takes 350–700ms\n", cfg.ErrorRate*100)
	c.printf("             for %.0f%% of the others; the old one keeps working\n", cfg.SlowRate*100)
	c.printf("  load       %.0f rps from %d clients, half GET /recommendations, half GET /home\n", cfg.RPS, cfg.Clients)
	c.printf("  engine     evaluates every %v; a window needs %d events before it may fire\n\n", cfg.Interval, minEvents)

	c.printf("Objectives, each over both routes\n")
	objs := eng.Objectives()
	for _, o := range objs {
		c.printf("  %-13s %-6s of %s\n", o.Name, percent(o.Target), o.Description)
	}
	c.printf("\nAlert rules: the SRE Workbook's, windows shrunk %.0f×; threshold = budget fraction × period / long window\n", k)
	c.printf("  %-8s %-6s %-6s %-7s %-10s %s\n", "severity", "long", "short", "budget", "threshold", "for a 30-day period")
	prod := workbookRules()
	for i, r := range objs[0].Rules {
		c.printf("  %-8s %-6s %-6s %-7s %-10s %s & %s\n", r.Severity, label(r.Long), label(r.ShortWindow()),
			percent(r.BudgetFraction), fmt.Sprintf("%.3g×", r.Threshold(cfg.Period)),
			budget.FormatWindow(prod[i].Long), budget.FormatWindow(prod[i].ShortWindow()))
	}

	c.printf("\nThe risky feature, asked two ways\n")
	c.printf("  gate       %s: off while an objective pages, or once %.0f%% of a budget or less is left\n", gateName, minRemaining*100)
	c.printf("             GET /recommendations: if gate.Enabled() { new } else { old }\n")
	c.printf("  flag       %s, on for everyone in an in-memory OpenFeature provider, wrapped by\n", flagKey)
	c.printf("             %s, which forces it to false while the gate is off\n", p.Metadata().Name)
	c.printf("             GET /home: if client.Boolean(ctx, %q, false, evalCtx) { new } else { old }\n", flagKey)
	c.printf("A closed gate reopens when no objective pages any more: the page clears once its short\n")
	c.printf("window holds no fast burn. sloguard can not see the new recommender while it is off, so\n")
	c.printf("reopening is a probe: if it still fails, the page and the gate come back within a second.\n\n")
}

// begin starts the live part: from now on events are printed.
func (c *console) begin(start time.Time, page budget.Rule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = start
	short, long := label(page.ShortWindow()), label(page.Long)
	c.write("%24s%-28s%s\n", "", "availability ── burn over", "latency ── burn over")
	c.write("%7s  %-8s %4s  %-9s %6s %4s %4s  %-9s %6s %4s %4s  %-4s %s\n",
		"time", "phase", "rps", "state", "budget", short, long, "state", "budget", short, long, "gate", "served by new")
}

// row prints the status line of the second that ended at elapsed.
func (c *console) row(elapsed time.Duration, phase string, rps int64, st *slo.Status, gate bool, newShare string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  %-8s %4d", elapsed.Seconds(), phase, rps)
	for _, o := range st.Objectives {
		r := o.Objective.Rules[0]
		short, _ := o.Report.Window(r.ShortWindow())
		long, _ := o.Report.Window(r.Long)
		fmt.Fprintf(&b, "  %-9s %5.1f%% %4s %4s", o.Report.State, o.Report.Remaining*100, burnText(short.Burn), burnText(long.Burn))
	}
	onOff := "OFF"
	if gate {
		onOff = "ON"
	}
	fmt.Fprintf(&b, "  %-4s %s", onOff, newShare)
	c.printf("%s\n", b.String())
}

// follow prints a status line every second and a banner at each phase
// change until the scenario ends. It reports whether ctx ended it early.
func (c *console) follow(ctx context.Context, sc *scenario, ld *load, svc *service, eng *slo.Engine) (interrupted bool) {
	type mark struct {
		at     time.Duration
		banner bool
	}
	var marks []mark
	total := sc.end.Sub(sc.start)
	for s := time.Second; s <= total; s += time.Second {
		marks = append(marks, mark{at: s})
	}
	marks = append(marks, mark{sc.faultStart.Sub(sc.start), true}, mark{sc.faultEnd.Sub(sc.start), true})
	// At the same instant the line of the second that ended comes first.
	slices.SortStableFunc(marks, func(a, b mark) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		if a.banner == b.banner {
			return 0
		}
		if a.banner {
			return 1
		}
		return -1
	})

	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var lastSent, lastOld, lastNew int64
	for _, m := range marks {
		timer.Reset(time.Until(sc.start.Add(m.at)))
		select {
		case <-ctx.Done():
			c.printf("%6.1fs  interrupted\n", time.Since(sc.start).Seconds())
			return true
		case <-timer.C:
		}
		if m.banner {
			if m.at == sc.faultStart.Sub(sc.start) {
				c.printf("%6.1fs  ── fault: the new recommender fails %.0f%% of its requests, is slow for %.0f%% of the others\n",
					m.at.Seconds(), sc.errorRate*100, sc.slowRate*100)
			} else {
				c.printf("%6.1fs  ── recovery: the new recommender is fixed\n", m.at.Seconds())
			}
			continue
		}
		sent := ld.sent.Load()
		olds, news := svc.servedBy()
		share := "-"
		if n := (olds - lastOld) + (news - lastNew); n > 0 {
			share = fmt.Sprintf("%3.0f%%", float64(news-lastNew)*100/float64(n))
		}
		c.row(m.at, phaseNames[sc.phase(sc.start.Add(m.at-time.Second/2))], sent-lastSent, eng.Status(), eng.Status().Gates[0].Enabled, share)
		lastSent, lastOld, lastNew = sent, olds, news
	}
	return false
}

type summaryInput struct {
	cfg           config
	sc            *scenario
	load          *load
	svc           *service
	before, after *slo.Status
	events        []slo.Event
	interrupted   bool
}

func (c *console) summary(in summaryInput) {
	sc, ld, svc := in.sc, in.load, in.svc
	c.printf("\nSummary after %.1fs", time.Since(sc.start).Seconds())
	if in.interrupted {
		c.printf(" (interrupted)")
	}
	c.printf(": %d requests sent, %d answered, %d skipped with every client busy, %d client errors\n",
		ld.sent.Load(), ld.answered.Load(), ld.skipped.Load(), ld.failed.Load())

	c.printf("\nThe new recommender (gate %s, flag %s)\n", gateName, flagKey)
	var served, errs []string
	for p := range phases {
		olds, news := svc.served[p][oldRec].Load(), svc.served[p][newRec].Load()
		share := "-"
		if olds+news > 0 {
			share = fmt.Sprintf("%.0f%%", float64(news)*100/float64(olds+news))
		}
		served = append(served, fmt.Sprintf("%s %s of %d", phaseNames[p], share, olds+news))
		errs = append(errs, fmt.Sprintf("%s %d", phaseNames[p], ld.status5xx[p].Load()))
	}
	c.printf("  served      %s answers\n", strings.Join(served, " · "))
	c.printf("  5xx         %s\n", strings.Join(errs, " · "))
	var gateEvents []slo.Event
	for _, ev := range in.events {
		if ev.Kind == slo.GateChanged && !ev.Time.Before(sc.start) {
			gateEvents = append(gateEvents, ev)
		}
	}
	for i, line := range gateStory(gateEvents, sc) {
		head := ""
		if i == 0 {
			head = "gate"
		}
		c.printf("  %-11s %s\n", head, line)
	}
	c.printf("  OpenFeature GET /home evaluated %s %d times: %d answered by the flag service,\n",
		flagKey, svc.enabled.Load()+svc.disabled.Load(), svc.enabled.Load())
	c.printf("              %d forced to false by sloguard (reason DISABLED, variant %s)\n", svc.disabled.Load(), openfeature.VariantSafe)

	for i, o := range in.after.Objectives {
		obj := o.Objective
		c.printf("\n%s (%s of %s)\n", obj.Name, percent(obj.Target), obj.Description)
		demo := o.Totals.Sub(in.before.Objectives[i].Totals)
		c.printf("  events    %d in the demo: %d good, %d bad\n", demo.Total(), demo.Good, demo.Bad)
		c.printf("  budget    %.1f%% left of the %s budget, %.1f%% at the start\n",
			o.Report.Remaining*100, label(obj.Period), in.before.Objectives[i].Report.Remaining*100)
		var states []string
		for _, ev := range in.events {
			if ev.Kind != slo.StateChanged || ev.Objective != obj.Name {
				continue
			}
			if ev.Time.Before(sc.start) {
				states = append(states, ev.To.String()+" (history)")
				continue
			}
			states = append(states, fmt.Sprintf("%s at %.1fs", ev.To, ev.Time.Sub(sc.start).Seconds()))
		}
		if len(states) == 0 {
			states = []string{o.Report.State.String()}
		}
		c.printf("  states    %s\n", strings.Join(states, " → "))
	}
	c.printf("\nServer shut down, OpenFeature shut down, engine closed.\n")
}

// gateStory tells, in lines, how the gate followed the fault, from its
// GateChanged events in order: when it first closed after the fault began,
// how often it reopened and closed again (probes), and when it reopened for
// good.
func gateStory(evs []slo.Event, sc *scenario) []string {
	inFault := slices.IndexFunc(evs, func(ev slo.Event) bool { return !ev.Time.Before(sc.faultStart) })
	if inFault < 0 {
		inFault = len(evs)
	}
	var lines []string
	first := inFault - 1
	if first >= 0 && !evs[first].Enabled {
		lines = []string{"already closed when the fault began: " + evs[first].Reason}
	} else {
		first = slices.IndexFunc(evs[inFault:], func(ev slo.Event) bool { return !ev.Enabled })
		if first < 0 {
			return []string{"stayed open: no objective paged"}
		}
		first += inFault
		lines = []string{fmt.Sprintf("closed %v after the fault began: %s", round(evs[first].Time.Sub(sc.faultStart)), evs[first].Reason)}
	}
	var probes []string
	rest := evs[first+1:]
	for i := 0; i < len(rest); i++ {
		if !rest[i].Enabled {
			continue
		}
		if i+1 < len(rest) && !rest[i+1].Enabled {
			probes = append(probes, round(rest[i+1].Time.Sub(rest[i].Time)).String())
			i++
			continue
		}
		return append(probed(lines, probes), fmt.Sprintf("reopened %s, and stayed open", relative(rest[i].Time, sc.faultEnd)))
	}
	return append(probed(lines, probes), "still closed at the end")
}

// probed adds the line about the probes, if any: how long each reopening
// lasted.
func probed(lines, probes []string) []string {
	switch len(probes) {
	case 0:
		return lines
	case 1:
		return append(lines, fmt.Sprintf("probed once: reopened as the page cleared, closed again after %s", probes[0]))
	}
	return append(lines, fmt.Sprintf("probed %d times: reopened as the page cleared, closed again after %s and %s",
		len(probes), strings.Join(probes[:len(probes)-1], ", "), probes[len(probes)-1]))
}

// relative says how long after (or before) the fault ended t was.
func relative(t, faultEnd time.Time) string {
	if d := t.Sub(faultEnd); d >= 0 {
		return fmt.Sprintf("%v after the fault ended", round(d))
	}
	return fmt.Sprintf("%v before the fault ended", round(faultEnd.Sub(t)))
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// label formats a duration compactly: "300ms", "2.5s", "30s", "2m", "1h".
func label(d time.Duration) string {
	if d%time.Second == 0 || d < time.Second {
		return budget.FormatWindow(d)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// human formats a long duration to the minute: "12m", "3h", "2h24m".
func human(d time.Duration) string {
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

// burnText formats a burn rate in at most four characters.
func burnText(v float64) string {
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
