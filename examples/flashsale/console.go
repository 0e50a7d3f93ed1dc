package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo"
)

// console writes the demo's output. Lines come from the main goroutine and
// from the engine's event handler, so every write holds mu and lines never
// mix.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool      // no live view
	cfg   config    // guarded by mu
	sc    *scenario // the run being followed; nil between runs; guarded by mu
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

// live prints unless the console is quiet.
func (c *console) live(format string, a ...any) {
	if !c.quiet {
		c.printf(format, a...)
	}
}

// Short names of the objectives in the live view, in the order of
// objectives().
var shortNames = []string{"checkout avail", "checkout lat", "browse avail", "browse lat", "payments avail"}

func (c *console) header(cfg config) {
	c.mu.Lock()
	c.cfg = cfg
	c.mu.Unlock()
	if c.quiet {
		return
	}
	sc := newScenario(cfg, time.Time{})
	co, br := sc.rates(sc.ends(spike) - 1)
	c.printf("sloguard flashsale: a shop through a flash sale and a payments outage, without and with sloguard\n\n")
	c.printf("  capacity   %d database connections, each request holds one for ~%v: %.0f rps\n",
		cfg.Conns, nominalHold, cfg.capacity())
	c.printf("             (checkout: queries ~%v + the payments call ~%v; browse: a query ~%v; log-normal)\n",
		checkoutDB, paymentsTime+2*time.Millisecond, browseDB)
	c.printf("             a request that waits %v for a connection gets a 503; customers wait %v at most\n",
		queueTimeout, clientTimeout)
	c.printf("  timeline   steady %v → spike %v → payments outage %v → recovery %v\n",
		cfg.Steady, cfg.Spike, cfg.Outage, cfg.Recovery)
	c.printf("  load       open loop, Poisson arrivals: %.0f rps (%.0f%% POST /checkout, CRITICAL; the rest GET /browse,\n",
		cfg.RPS, checkoutShare*100)
	c.printf("             SHEDDABLE), %.0f%% of capacity; the spike sends %.0f× that: %.0f checkout + %.0f browse rps\n",
		cfg.RPS/cfg.capacity()*100, cfg.SpikeFactor, co, br)
	c.printf("  outage     every payments call fails with a 500 after %v\n\n", outageDelay)
	c.printf("Objectives (30 days, the SRE Workbook's alert rules)\n")
	for _, o := range objectives() {
		dep := ""
		if o.Dependency != "" {
			dep = "  (client side: drives the " + o.Dependency + " breaker)"
		}
		c.printf("  %-22s %-6s %s%s\n", o.Name, pct(o.Target), o.Description, dep)
	}
	b := breakerPolicy()
	c.printf("\nWith sloguard (slo.ShedPolicy{}: the defaults, evaluated every second)\n")
	c.printf("  gate       rejects at once (429) what would put more in flight than its criticality may have: the\n")
	c.printf("             limit is twice what the shop serves (Little's law: served rate × no-load latency), learnt\n")
	c.printf("             from each completion; checkout keeps a reservation, so browse fills only the rest\n")
	c.printf("  controller sheds browse, then checkout, and tightens the limit while admitted traffic still burns\n")
	c.printf("  breaker    payments opens after %d failures in a row or a fast burn; probes after %v\n\n",
		b.ConsecutiveFailures, b.OpenTimeout)
	c.printf("Live view: a line per second. sent: requests sent in that second; ok, shed (429), fail (5xx, timeouts),\n")
	c.printf("good (2xx within %v) and p99 (of admitted requests): those that ended in it. level: the shed level.\n", latencyThreshold)
	c.printf("Per objective: its alert (the Workbook rules firing: ok, ticket, page) and the share of a 30-day\n")
	c.printf("error budget left, the month's traffic taken at the base rate.\n\n")
}

// begin starts following run m.
func (c *console) begin(m mode, sc *scenario, shop, payments string, scaled bool) {
	c.mu.Lock()
	c.sc = sc
	autoscale := c.cfg.Autoscale
	c.mu.Unlock()
	switch {
	case autoscale && !scaled:
		c.live("── Run 1: sloguard alone (shedding, payments breaker), one replica ── shop %s, payments %s\n", shop, payments)
	case autoscale:
		c.live("\n── Run 2: sloguard and the autoscaler ── shop %s (/metrics read by the autoscaler), payments %s\n", shop, payments)
	case m == without:
		c.live("── Run 1: without sloguard (the engine only records) ── shop %s, payments %s\n", shop, payments)
	default:
		c.live("\n── Run 2: with sloguard (shedding, payments breaker) ── shop %s, payments %s\n", shop, payments)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%6s  %-8s %5s %5s %5s %5s %5s %6s %5s %-9s", "time", "phase", "sent", "ok", "shed", "fail", "good", "p99", "level", "breaker")
	for _, n := range shortNames {
		fmt.Fprintf(&b, "  %-14s", n)
	}
	c.live("%s\n", strings.TrimRight(b.String(), " "))
}

// end stops following a run.
func (c *console) end() {
	c.mu.Lock()
	c.sc = nil
	c.mu.Unlock()
}

// event is the engine's event handler: it prints the shed and breaker
// changes of the run being followed. The objectives' state changes are
// left out: the engine starts with no history, so its budget holds only
// the run's own requests and is exhausted within a second of the spike
// (see alertState).
func (c *console) event(ev slo.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.quiet || c.sc == nil {
		return
	}
	at := ev.Time.Sub(c.sc.start).Seconds()
	switch ev.Kind {
	case slo.SheddingChanged:
		c.write("%6.1fs  ▶ shed level %.2f → %.2f: %s\n", at, ev.FromLevel, ev.Level, shedding(ev.Level))
	case slo.BreakerChanged:
		c.write("%6.1fs  ▶ breaker %s: %v → %v\n", at, ev.Dependency, ev.BreakerFrom, ev.BreakerTo)
	}
}

// alertState returns the most severe of the report's firing alert rules
// (ok, ticket or page), leaving out budget exhaustion: the engine starts
// with no history, so its own remaining budget counts the run's requests
// only. The live view shows instead how much of a month's budget is left
// (see consumed).
func alertState(r budget.Report) budget.State {
	st := budget.StateOK
	for _, rs := range r.Rules {
		switch {
		case !rs.Firing:
		case rs.Rule.Severity == budget.Page:
			st = max(st, budget.StatePage)
		case rs.Rule.Severity == budget.Ticket:
			st = max(st, budget.StateTicket)
		}
	}
	return st
}

// shedding says what a shed level rejects.
func shedding(level float64) string {
	switch {
	case level == 0:
		return "nothing shed"
	case level <= 1:
		return fmt.Sprintf("%.0f%% of SHEDDABLE shed", level*100)
	case level <= 2:
		return "all SHEDDABLE shed"
	}
	return fmt.Sprintf("all SHEDDABLE and %.0f%% of CRITICAL shed", min(level-2, 1)*100)
}

// follow samples the engine at the end of every second of the timeline,
// prints a line for it and a banner at each phase change, until the
// timeline ends. It reports whether ctx ended it early.
func (c *console) follow(ctx context.Context, sc *scenario, ld *load, eng *slo.Engine, as *autoscaler) (samples []sample, interrupted bool) {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	objs := demo.Objectives(eng)
	timer := time.NewTimer(time.Until(sc.start))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, true
	case <-timer.C:
	}
	c.live("%6.1fs  ── %s\n", 0.0, banner(cfg, steady))
	var reqs []request
	var seen int
	n := int(sc.length() / time.Second)
	for s := 1; s <= n; s++ {
		timer.Reset(time.Until(sc.start.Add(time.Duration(s) * time.Second)))
		select {
		case <-ctx.Done():
			c.live("%6.1fs  interrupted\n", time.Since(sc.start).Seconds())
			return samples, true
		case <-timer.C:
		}
		st := eng.Status()
		smp := sample{level: st.Shedding.Level, need: math.NaN(), ready: 1, target: 1}
		if st.Scale.Known {
			smp.need = st.Scale.Need
		}
		if as != nil {
			_, smp.ready, smp.target = as.state()
		}
		if len(st.Breakers) > 0 {
			smp.breaker = st.Breakers[0].State
		}
		for i, o := range st.Objectives {
			smp.alerts = append(smp.alerts, alertState(o.Report))
			smp.consumed = append(smp.consumed, consumed(cfg, objs[i], o.Totals))
		}
		samples = append(samples, smp)

		var more []request
		more, seen = ld.res.from(seen)
		reqs = append(reqs, more...)
		if !c.quiet {
			r := second(reqs, s)
			r.offered = int(ld.issued[s-1].Load())
			c.row(s, sc.phaseAt(time.Duration(s)*time.Second-time.Millisecond), r, smp, cfg.Autoscale)
		}
		for p := spike; p < numPhases; p++ {
			if sc.begins(p) == time.Duration(s)*time.Second {
				c.live("%6.1fs  ── %s\n", float64(s), banner(cfg, p))
			}
		}
	}
	return samples, false
}

func banner(cfg config, p phase) string {
	switch p {
	case steady:
		return fmt.Sprintf("steady: %.0f rps, %.0f%% of capacity", cfg.RPS, cfg.RPS/cfg.capacity()*100)
	case spike:
		return fmt.Sprintf("spike: %.0f rps, %.0f× the base, nearly all GET /browse", cfg.RPS*cfg.SpikeFactor, cfg.SpikeFactor)
	case outage:
		return fmt.Sprintf("payments outage: every charge fails with a 500 after %v; back to %.0f rps", outageDelay, cfg.RPS)
	}
	return "recovery: payments is back"
}

// row prints the live line of second s.
func (c *console) row(s int, p phase, r timelineRow, smp sample, autoscale bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "%5ds  %-8s %5d %5d %5d %5d %5d %6s %5.2f %-9s", s, p, r.offered, r.ok, r.shed, r.failed, r.good,
		msText(r.p99), smp.level, smp.breaker)
	for i, st := range smp.alerts {
		fmt.Fprintf(&b, "  %-6s %7s", st, pct2(1-smp.consumed[i]))
	}
	if autoscale {
		need := "—"
		if !math.IsNaN(smp.need) {
			need = strconv.FormatFloat(smp.need, 'f', 2, 64)
		}
		fmt.Fprintf(&b, "  need %5s  replicas %d", need, smp.ready)
		if smp.target != smp.ready {
			fmt.Fprintf(&b, "→%d", smp.target)
		}
	}
	c.printf("%s\n", b.String())
}

// table prints the comparison.
func (c *console) table(cfg config, cmp comparison) {
	wo, wi := cmp.Without, cmp.With
	tg := targets(wi)
	c.printf("\nComparison. At the spike: %v of %.0f rps against a capacity of ~%.0f rps (%d connections, mean hold %.1fms).\n",
		cfg.Spike, cfg.RPS*cfg.SpikeFactor, wi.CapacityRPS, cfg.Conns, wi.MeanHoldMS)
	c.printf("Goodput: 2xx within %v. Success: 2xx of all requests sent. Admitted: not shed (429), whatever the answer.\n\n",
		latencyThreshold)
	const f = "  %-44s %11s %11s   %-22s %s\n"
	c.printf(f, "", "without", "with", "target, with sloguard", "")
	line := func(label, a, b string, t *target) {
		want, mark := "", ""
		if t != nil {
			want, mark = t.want, "✗"
			if t.met {
				mark = "✓"
			}
		}
		c.printf(f, label, a, b, want, mark)
	}
	rps := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " rps" }
	msf := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "ms" }
	line("capacity (connections / mean hold)", rps(wo.CapacityRPS), rps(wi.CapacityRPS), nil)
	line("goodput at the spike", rps(wo.GoodputRPS), rps(wi.GoodputRPS), &tg[1])
	line("  as a share of capacity", pct(wo.GoodputRPS/wo.CapacityRPS), pct(wi.GoodputRPS/wi.CapacityRPS), nil)
	for _, cr := range []slo.Criticality{slo.Critical, slo.Sheddable} {
		var t *target
		if cr == slo.Critical {
			t = &tg[0]
		}
		line("success at the spike, "+cr.String(), pct(ratioOf(&wo.Phases.Spike, cr)), pct(ratioOf(&wi.Phases.Spike, cr)), t)
	}
	line("admitted p50 at the spike", msf(wo.AdmittedP50MS), msf(wi.AdmittedP50MS), nil)
	line("admitted p99 at the spike", msf(wo.AdmittedP99MS), msf(wi.AdmittedP99MS), &tg[2])
	line("unloaded p99 (steady phase)", msf(wo.UnloadedP99MS), msf(wi.UnloadedP99MS), nil)
	line("  admitted p99 / unloaded p99", ratio(wo.AdmittedP99MS, wo.UnloadedP99MS), ratio(wi.AdmittedP99MS, wi.UnloadedP99MS), nil)
	line("shedding from the load exceeding capacity", secText(wo.ShedReactionS), secText(wi.ShedReactionS), &tg[3])
	line("shedding released after the spike's end", secText(wo.ShedReleaseS), secText(wi.ShedReleaseS), &tg[4])
	line("requests shed (429), whole run", strconv.Itoa(wo.ShedRequests), strconv.Itoa(wi.ShedRequests), nil)
	line("breaker open from the outage's start", secText(wo.BreakerReactionS), secText(wi.BreakerReactionS), nil)
	line("breaker closed after the outage's end", secText(wo.BreakerRecoveryS), secText(wi.BreakerRecoveryS), nil)
	for _, p := range []phase{outage, recovery} {
		for _, cr := range []slo.Criticality{slo.Critical, slo.Sheddable} {
			a, b := ratioOf(wo.Phases.at(p), cr), ratioOf(wi.Phases.at(p), cr)
			line(fmt.Sprintf("success in the %s, %s", p, cr), pct(a), pct(b), nil)
		}
	}
	c.printf("\n  budget consumed, of 30 days at the base rate\n")
	for _, o := range objectives() {
		line("  "+o.Name, budgetText(wo.BudgetConsumed[o.Name]), budgetText(wi.BudgetConsumed[o.Name]), nil)
	}
	c.printf("\n")
	var missed []string
	for _, t := range tg {
		if !t.met {
			missed = append(missed, t.name)
		}
	}
	if len(missed) == 0 {
		c.printf("Every target met with sloguard.\n")
	} else {
		c.printf("Targets missed with sloguard: %s (see README.md).\n", strings.Join(missed, ", "))
	}
}

// ratioOf returns the success ratio of criticality c in a phase, or NaN
// when it sent no such request.
func ratioOf(p *phaseReport, c slo.Criticality) float64 {
	if v, ok := p.SuccessRatio[c.String()]; ok {
		return v
	}
	return math.NaN()
}

// pct formats a share as a percentage: "99.9%", "100%".
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%"
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

func secText(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64) + "s"
}

func msText(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// pct2 formats a share as a percentage with two decimals: "99.98%".
func pct2(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }

// budgetText formats a share of a budget compactly: "0%", "0.04%", "12%".
func budgetText(v float64) string {
	switch {
	case v == 0:
		return "0%"
	case v < 0.0001:
		return "<.01%"
	case v < 0.1:
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v*100, 'f', 0, 64) + "%"
}
