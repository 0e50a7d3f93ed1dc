package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/openfeature"
)

// console writes the demo's output: a header, the live status lines and
// events, and a summary. Lines come from the main goroutine, the engine's
// event handler and OpenFeature's event handlers; demo.Console keeps them
// apart.
type console struct{ *demo.Console }

// event is the engine's event handler: objective states and the gate.
func (c *console) event(ev slo.Event) {
	switch ev.Kind {
	case slo.GateChanged:
		if ev.Enabled {
			c.Eventf(ev.Time, "◆ gate %s → ON\n", ev.Gate)
		} else {
			c.Eventf(ev.Time, "◆ gate %s → OFF: %s\n", ev.Gate, ev.Reason)
		}
	case slo.StateChanged:
		c.Eventf(ev.Time, "▶ %-12s %s → %s   budget %.1f%%   burn %s\n",
			ev.Objective, ev.From, ev.To, ev.Remaining*100, demo.Burns(ev.Burns))
	}
}

// flagChanged returns an OpenFeature event handler that prints the flag as
// the application now sees it.
func (c *console) flagChanged(client *of.Client) func(of.EventDetails) {
	return func(d of.EventDetails) {
		// Evaluated before the console takes its lock: it never calls out
		// holding it.
		v, _ := client.BooleanValueDetails(context.Background(), flagKey, false, of.EvaluationContext{})
		c.Eventf(time.Now(), "◇ %s %v: %s = %v (%s, variant %s)\n",
			of.ProviderConfigChange, d.FlagChanges, flagKey, v.Value, v.Reason, v.Variant)
	}
}

func (c *console) header(cfg config, eng *slo.Engine, p *openfeature.Provider, addr net.Addr) {
	c.Printf("sloguard flags: a risky feature that turns itself off while its objective burns, on http://%s\n\n", addr)
	c.PrintCompression(cfg.Config)
	c.Printf("  timeline   warmup %s (%s) → fault %s (%s) → recovery %s (%s)\n",
		demo.Label(cfg.Warmup), cfg.Stands(cfg.Warmup), demo.Label(cfg.Fault), cfg.Stands(cfg.Fault),
		demo.Label(cfg.Recovery), cfg.Stands(cfg.Recovery))
	c.Printf("  fault      the new recommender answers %.0f%% of its requests with a 500 and takes 350–700ms\n", cfg.ErrorRate*100)
	c.Printf("             for %.0f%% of the others; the old one keeps working\n", cfg.SlowRate*100)
	c.Printf("  load       %.0f rps from %d clients, half GET /recommendations, half GET /home\n", cfg.RPS, cfg.Clients)
	c.Printf("  engine     evaluates every %v; a window needs %d events before it may fire\n\n", cfg.Interval, minEvents)

	c.PrintObjectives(cfg.Config, demo.Objectives(eng), workbookRules())

	c.Printf("\nThe risky feature, asked two ways\n")
	c.Printf("  gate       %s: off while an objective pages, or once %.0f%% of a budget or less is left\n", gateName, minRemaining*100)
	c.Printf("             GET /recommendations: if gate.Enabled() { new } else { old }\n")
	c.Printf("  flag       %s, on for everyone in an in-memory OpenFeature provider, wrapped by\n", flagKey)
	c.Printf("             %s, which forces it to false while the gate is off\n", p.Metadata().Name)
	c.Printf("             GET /home: if client.Boolean(ctx, %q, false, evalCtx) { new } else { old }\n", flagKey)
	c.Printf("A closed gate reopens when no objective pages any more: the page clears once its short\n")
	c.Printf("window holds no fast burn. sloguard can not see the new recommender while it is off, so\n")
	c.Printf("reopening is a probe: if it still fails, the page and the gate come back within a second.\n\n")
}

// begin starts the live part: from now on events are printed.
func (c *console) begin(start time.Time, page budget.Rule) {
	short, long := demo.Label(page.ShortWindow()), demo.Label(page.Long)
	c.Begin(start, "%24s%-28s%s\n%7s  %-8s %4s  %-9s %6s %4s %4s  %-9s %6s %4s %4s  %-4s %s\n",
		"", "availability ── burn over", "latency ── burn over",
		"time", "phase", "rps", "state", "budget", short, long, "state", "budget", short, long, "gate", "served by new")
}

// row prints the status line of the second that ended at elapsed.
func (c *console) row(elapsed time.Duration, phase demo.Phase, rps int64, st *slo.Status, gate bool, newShare string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  %-8s %4d", elapsed.Seconds(), phase, rps)
	for _, o := range st.Objectives {
		r := o.Objective.Rules[0]
		short, _ := o.Report.Window(r.ShortWindow())
		long, _ := o.Report.Window(r.Long)
		fmt.Fprintf(&b, "  %-9s %5.1f%% %4s %4s", o.Report.State, o.Report.Remaining*100, demo.BurnRate(short.Burn), demo.BurnRate(long.Burn))
	}
	onOff := "OFF"
	if gate {
		onOff = "ON"
	}
	fmt.Fprintf(&b, "  %-4s %s", onOff, newShare)
	c.Printf("%s\n", b.String())
}

// follow prints a status line every second and a banner at each phase
// change until the timeline ends. It reports whether ctx ended it early.
func (c *console) follow(ctx context.Context, cfg config, tl demo.Timeline, ld *demo.Load, svc *service, eng *slo.Engine) (interrupted bool) {
	var lastSent, lastOld, lastNew int64
	return c.Follow(ctx, tl, func(s demo.Step) {
		switch {
		case s.Change && s.Phase == demo.Fault:
			c.Printf("%6.1fs  ── fault: the new recommender fails %.0f%% of its requests, is slow for %.0f%% of the others\n",
				s.At.Seconds(), cfg.ErrorRate*100, cfg.SlowRate*100)
		case s.Change:
			c.Printf("%6.1fs  ── recovery: the new recommender is fixed\n", s.At.Seconds())
		default:
			sent := ld.Counts().Sent
			olds, news := svc.servedBy()
			share := "-"
			if n := (olds - lastOld) + (news - lastNew); n > 0 {
				share = fmt.Sprintf("%3.0f%%", float64(news-lastNew)*100/float64(n))
			}
			c.row(s.At, s.Phase, sent-lastSent, eng.Status(), eng.Status().Gates[0].Enabled, share)
			lastSent, lastOld, lastNew = sent, olds, news
		}
	})
}

type summaryInput struct {
	tl            demo.Timeline
	load          *demo.Load
	svc           *service
	before, after *slo.Status
	events        []slo.Event
	interrupted   bool
}

func (c *console) summary(in summaryInput) {
	tl, svc := in.tl, in.svc
	n := in.load.Counts()
	c.PrintSummary(time.Since(tl.Start), in.interrupted,
		"%d requests sent, %d answered, %d skipped with every client busy, %d client errors\n",
		n.Sent, n.Answered, n.Skipped, n.Failed)

	c.Printf("\nThe new recommender (gate %s, flag %s)\n", gateName, flagKey)
	var served, errs []string
	for p := range demo.NumPhases {
		olds, news := svc.served[p][oldRec].Load(), svc.served[p][newRec].Load()
		share := "-"
		if olds+news > 0 {
			share = fmt.Sprintf("%.0f%%", float64(news)*100/float64(olds+news))
		}
		served = append(served, fmt.Sprintf("%s %s of %d", p, share, olds+news))
		errs = append(errs, fmt.Sprintf("%s %d", p, n.Status5xx[p]))
	}
	c.Printf("  served      %s answers\n", strings.Join(served, " · "))
	c.Printf("  5xx         %s\n", strings.Join(errs, " · "))
	var gateEvents []slo.Event
	for _, ev := range in.events {
		if ev.Kind == slo.GateChanged && !ev.Time.Before(tl.Start) {
			gateEvents = append(gateEvents, ev)
		}
	}
	for i, line := range gateStory(gateEvents, tl) {
		head := ""
		if i == 0 {
			head = "gate"
		}
		c.Printf("  %-11s %s\n", head, line)
	}
	c.Printf("  OpenFeature GET /home evaluated %s %d times: %d answered by the flag service,\n",
		flagKey, svc.enabled.Load()+svc.disabled.Load(), svc.enabled.Load())
	c.Printf("              %d forced to false by sloguard (reason DISABLED, variant %s)\n", svc.disabled.Load(), openfeature.VariantSafe)

	for i, o := range in.after.Objectives {
		c.PrintObjective(in.before.Objectives[i], o, in.events, tl.Start, "")
	}
	c.Printf("\nServer shut down, OpenFeature shut down, engine closed.\n")
}

// gateStory tells, in lines, how the gate followed the fault, from its
// GateChanged events in order: when it first closed after the fault began,
// how often it reopened and closed again (probes), and when it reopened for
// good.
func gateStory(evs []slo.Event, tl demo.Timeline) []string {
	inFault := slices.IndexFunc(evs, func(ev slo.Event) bool { return !ev.Time.Before(tl.FaultStart) })
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
		lines = []string{fmt.Sprintf("closed %v after the fault began: %s", demo.Round(evs[first].Time.Sub(tl.FaultStart)), evs[first].Reason)}
	}
	var probes []string
	rest := evs[first+1:]
	for i := 0; i < len(rest); i++ {
		if !rest[i].Enabled {
			continue
		}
		if i+1 < len(rest) && !rest[i+1].Enabled {
			probes = append(probes, demo.Round(rest[i+1].Time.Sub(rest[i].Time)).String())
			i++
			continue
		}
		return append(probed(lines, probes), "reopened "+demo.Relative(rest[i].Time, tl.FaultEnd, "the fault ended")+", and stayed open")
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
