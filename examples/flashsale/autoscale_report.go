package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// autoscaleDefaults returns cfg with the -autoscale timeline for the flags
// not set: a spike long enough for capacity to arrive, no payments outage,
// and a recovery long enough for the capacity to scale back.
func autoscaleDefaults(cfg config, set map[string]bool) config {
	if !set["spike"] {
		cfg.Spike = 60 * time.Second
	}
	if !set["outage"] {
		cfg.Outage = 0
	}
	if !set["recovery"] {
		cfg.Recovery = 60 * time.Second
	}
	return cfg
}

// autoscaleComparison is the outcome of -autoscale: the JSON of -json.
type autoscaleComparison struct {
	Sloguard   autoscaleReport `json:"sloguard"`   // shedding alone
	Autoscaled autoscaleReport `json:"autoscaled"` // shedding and the autoscaler
}

// autoscaleReport sums up one run of -autoscale. Times are in seconds,
// null when it did not happen.
type autoscaleReport struct {
	// SpikeDemandServed is the share of the requests sent during the spike
	// answered with a 2xx.
	SpikeDemandServed float64 `json:"spike_demand_served"`
	// CriticalSuccess is the share of CRITICAL requests answered with a
	// 2xx, over the spike and over the whole run.
	CriticalSpike float64 `json:"critical_success_spike"`
	CriticalRun   float64 `json:"critical_success_run"`
	// ShedStartS is from the load first exceeding capacity to the first
	// request shed. ShedForS is how long shedding lasted: from the spike's
	// start to the end of the first second after it began in which at
	// most 1% of the requests that ended were shed. ShedSeconds counts
	// the seconds of the run in which more than 1% were.
	ShedStartS  *float64 `json:"shed_start_s"`
	ShedForS    *float64 `json:"shed_for_s"`
	ShedSeconds int      `json:"shed_seconds"`
	// NeedPeak is the highest scale signal the engine published.
	NeedPeak float64 `json:"need_peak"`
	// With the autoscaler: from the spike's start to the first scale-up
	// asked for (ScaleAskedS), to the first added replica serving
	// (TimeToScaleS) and to the most replicas serving (TimeToPeakS); the
	// most replicas; from the spike's end to one replica again
	// (ScaleBackS); and the replicas at the end.
	ScaleAskedS  *float64 `json:"scale_asked_s,omitempty"`
	TimeToScaleS *float64 `json:"time_to_scale_s,omitempty"`
	TimeToPeakS  *float64 `json:"time_to_peak_s,omitempty"`
	PeakReplicas int      `json:"peak_replicas"`
	ScaleBackS   *float64 `json:"scale_back_s,omitempty"`
	EndReplicas  int      `json:"end_replicas"` // serving at the end of the run
	ReadErrors   int      `json:"read_errors"`
}

// runAutoscale runs the timeline twice with sloguard, without and then
// with the autoscaler, prints the live view (unless quiet) and the
// comparison (a table, or JSON), and writes the CSV and SVG files.
func runAutoscale(ctx context.Context, cfg config, w io.Writer) error {
	cfg.Autoscale = true
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	out := &console{w: w, quiet: cfg.Quiet || cfg.JSON}
	out.header(cfg)
	out.live("Autoscaling: both runs with sloguard; the second also with an autoscaler that reads %s from the\n", needSeries)
	out.live("shop's /metrics every %v and asks for ceil(replicas × need) within %d replicas of %d connections\n",
		autoscalePeriod, cfg.MaxReplicas, cfg.Conns)
	out.live("(±%.0f%% tolerance); a replica serves %v after it is asked for; it scales down to the highest\n", scaleTolerance*100, cfg.Provision)
	out.live("recommendation of the last %v.\n\n", cfg.ScaleDownWindow)
	var runs [2]*runResult
	for i, scaled := range []bool{false, true} {
		r, err := runOnceScaled(ctx, cfg, with, out, scaled)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		if r.interrupted {
			return ctx.Err()
		}
		runs[i] = r
	}
	cmp := autoscaleComparison{Sloguard: reportAutoscale(cfg, runs[0]), Autoscaled: reportAutoscale(cfg, runs[1])}
	if cfg.JSON {
		if err := writeJSON(w, cmp); err != nil {
			return err
		}
	} else {
		out.autoscaleTable(cfg, cmp)
	}
	if cfg.CSV != "" {
		if err := writeFile(cfg.CSV, func(f io.Writer) error { return writeAutoscaleCSV(f, runs) }); err != nil {
			return err
		}
		if !cfg.JSON {
			out.printf("Wrote the timeline %s\n", cfg.CSV)
		}
	}
	if cfg.SVG != "" {
		if err := writeFile(cfg.SVG, func(f io.Writer) error { return writeAutoscaleSVG(f, cfg, runs) }); err != nil {
			return err
		}
		if !cfg.JSON {
			out.printf("Wrote the chart %s\n", cfg.SVG)
		}
	}
	return out.err
}

// reportAutoscale sums up one run of -autoscale.
func reportAutoscale(cfg config, r *runResult) autoscaleReport {
	sc := r.sc
	rep := autoscaleReport{
		ShedStartS:   shedReaction(r.reqs, sc, cfg.capacity()),
		PeakReplicas: 1,
		EndReplicas:  1,
		ReadErrors:   r.readErrs,
	}
	var sent, served, crit, critOK, critRun, critRunOK int
	for _, q := range r.reqs {
		if q.result == cancelled {
			continue
		}
		inSpike := sc.phaseOf(q) == spike
		if inSpike {
			sent++
			if q.result == ok {
				served++
			}
		}
		if q.route == checkout {
			critRun++
			if q.result == ok {
				critRunOK++
			}
			if inSpike {
				crit++
				if q.result == ok {
					critOK++
				}
			}
		}
	}
	share := func(a, b int) float64 {
		if b == 0 {
			return math.NaN()
		}
		return round(float64(a)/float64(b), 5)
	}
	rep.SpikeDemandServed, rep.CriticalSpike, rep.CriticalRun = share(served, sent), share(critOK, crit), share(critRunOK, critRun)
	began := false
	for i, row := range timeline(r) {
		end := time.Duration(i+1) * time.Second
		ended := row.ok + row.shed + row.failed
		shedding := ended > 0 && float64(row.shed) > 0.01*float64(ended)
		if shedding {
			rep.ShedSeconds++
		}
		switch {
		case end <= sc.begins(spike) || rep.ShedForS != nil:
		case shedding:
			began = true
		case began:
			rep.ShedForS = seconds(end - sc.begins(spike))
		}
	}
	for _, s := range r.samples {
		if !math.IsNaN(s.need) {
			rep.NeedPeak = round(max(rep.NeedPeak, s.need), 2)
		}
	}
	if !r.autoscaled {
		return rep
	}
	for _, ev := range r.replicas {
		rep.PeakReplicas = max(rep.PeakReplicas, ev.ready)
		rep.EndReplicas = ev.ready
	}
	start, end := sc.begins(spike), sc.ends(spike)
	for _, ev := range r.replicas {
		if ev.at < start {
			continue
		}
		if ev.target > 1 && rep.ScaleAskedS == nil {
			rep.ScaleAskedS = seconds(ev.at - start)
		}
		if ev.ready > 1 && rep.TimeToScaleS == nil {
			rep.TimeToScaleS = seconds(ev.at - start)
		}
		if ev.ready == rep.PeakReplicas && rep.TimeToPeakS == nil {
			rep.TimeToPeakS = seconds(ev.at - start)
		}
		if ev.at >= end && ev.ready == 1 && ev.target == 1 && rep.ScaleBackS == nil && rep.PeakReplicas > 1 {
			rep.ScaleBackS = seconds(ev.at - end)
		}
	}
	return rep
}

// autoscaleTable prints the comparison of -autoscale.
func (c *console) autoscaleTable(cfg config, cmp autoscaleComparison) {
	a, b := cmp.Sloguard, cmp.Autoscaled
	c.printf("\nComparison. Spike: %v of %.0f rps against %.0f rps per replica (%d connections).\n\n",
		cfg.Spike, cfg.RPS*cfg.SpikeFactor, cfg.capacity(), cfg.Conns)
	const f = "  %-52s %12s %14s\n"
	c.printf(f, "", "sloguard", "+ autoscaler")
	line := func(label, x, y string) { c.printf(f, label, x, y) }
	line("share of the spike's demand served (2xx)", pct(a.SpikeDemandServed), pct(b.SpikeDemandServed))
	line("CRITICAL success, spike", pct(a.CriticalSpike), pct(b.CriticalSpike))
	line("CRITICAL success, whole run", pct(a.CriticalRun), pct(b.CriticalRun))
	line("shedding from the load exceeding capacity", secText(a.ShedStartS), secText(b.ShedStartS))
	line("shedding lasted (until a second ≤ 1% shed)", secText(a.ShedForS), secText(b.ShedForS))
	line("seconds with more than 1% shed", strconv.Itoa(a.ShedSeconds), strconv.Itoa(b.ShedSeconds))
	line("highest scale signal", strconv.FormatFloat(a.NeedPeak, 'f', 2, 64), strconv.FormatFloat(b.NeedPeak, 'f', 2, 64))
	line("scale-up asked for, from the spike's start", "—", secText(b.ScaleAskedS))
	line("first replica added serving (time to scale)", "—", secText(b.TimeToScaleS))
	line("most replicas serving, from the spike's start", "—", fmt.Sprintf("%d at %s", b.PeakReplicas, secText(b.TimeToPeakS)))
	line("back to one replica, from the spike's end", "—", secText(b.ScaleBackS))
	line("replicas serving at the end", "1", strconv.Itoa(b.EndReplicas))
	if b.ReadErrors > 0 {
		c.printf("\n  the autoscaler failed to read /metrics %d times\n", b.ReadErrors)
	}
	c.printf("\n")
}

// writeAutoscaleCSV writes both runs' timelines with the signal and the
// replicas, one row per run and second.
func writeAutoscaleCSV(w io.Writer, runs [2]*runResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"run", "t", "phase", "offered", "ok", "shed", "failed", "shed_level", "scale_need", "replicas", "replicas_asked"})
	for i, r := range runs {
		name := [...]string{"sloguard", "autoscaled"}[i]
		for j, row := range timeline(r) {
			s := j + 1
			rec := []string{name, strconv.Itoa(s), r.sc.phaseAt(time.Duration(s)*time.Second - time.Millisecond).String(),
				strconv.Itoa(row.offered), strconv.Itoa(row.ok), strconv.Itoa(row.shed), strconv.Itoa(row.failed), "", "", "", ""}
			if j < len(r.samples) {
				smp := r.samples[j]
				rec[7] = strconv.FormatFloat(smp.level, 'f', 3, 64)
				if !math.IsNaN(smp.need) {
					rec[8] = strconv.FormatFloat(smp.need, 'f', 3, 64)
				}
				rec[9], rec[10] = strconv.Itoa(smp.ready), strconv.Itoa(smp.target)
			}
			_ = cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeAutoscaleSVG draws both runs of -autoscale: what was sent and what
// was served against the capacity serving, the scale signal and the
// replicas, and the share shed. The run without the autoscaler is dashed.
func writeAutoscaleSVG(w io.Writer, cfg config, runs [2]*runResult) error {
	sc := runs[1].sc
	total := sc.length().Seconds()
	x := func(t float64) float64 { return plotL + (plotR-plotL)*t/total }
	rows := [2][]timelineRow{timeline(runs[0]), timeline(runs[1])}
	const rpsH, needH, shedPanelH = 220.0, 160.0, 110.0
	top1 := float64(chartTop)
	top2 := top1 + rpsH + panelGap
	top3 := top2 + needH + panelGap
	bottom := top3 + shedPanelH
	height := bottom + 70

	var s svg
	s.el(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="Helvetica, Arial, sans-serif" font-size="12">`, chartW, height, chartW, height)
	s.el(`<rect width="100%%" height="100%%" fill="white"/>`)
	s.el(`<text x="%d" y="28" font-size="17" font-weight="bold">Flash sale with sloguard: shedding alone, and with an autoscaler on the scale signal</text>`, plotL)
	s.el(`<text x="%d" y="48" fill="#333">replicas of %d connections (~%.0f rps each), at most %d; base %.0f rps; spike %.0f× for %v; a replica serves %v after it is asked for; seed %d</text>`,
		plotL, cfg.Conns, cfg.capacity(), cfg.MaxReplicas, cfg.RPS, cfg.SpikeFactor, cfg.Spike, cfg.Provision, cfg.Seed)
	lx := float64(plotL)
	lx = s.legend(lx, "sloguard alone", colorWithout, dashWithout, 2)
	lx = s.legend(lx, "sloguard + autoscaler", colorWith, "none", 2.5)
	lx = s.legend(lx, "sent", "#888", "none", 1)
	s.legend(lx, "capacity serving (autoscaled)", "#000", "2 3", 1.5)

	for p := range numPhases {
		x0, x1 := x(sc.begins(p).Seconds()), x(sc.ends(p).Seconds())
		if x1 <= x0 {
			continue
		}
		fill := "#ffffff"
		if p == spike {
			fill = "#ececec"
		}
		for _, band := range [][2]float64{{top1, rpsH}, {top2, needH}, {top3, shedPanelH}} {
			s.el(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x0, band[0], x1-x0, band[1], fill)
		}
		s.el(`<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold" fill="#333">%s</text>`, (x0+x1)/2, top1+16, p)
	}

	// Panel 1: sent, served (2xx) and the capacity serving.
	maxR := cfg.capacity()
	for _, rs := range rows {
		for _, r := range rs {
			maxR = max(maxR, float64(r.offered)*1.05)
		}
	}
	for _, smp := range runs[1].samples {
		maxR = max(maxR, float64(smp.ready)*cfg.capacity()*1.05)
	}
	maxR = niceCeil(maxR)
	yR := func(v float64) float64 { return top1 + rpsH - rpsH*v/maxR }
	s.axes(top1, rpsH, "requests per second", linearTicks(maxR), func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }, yR)
	sent := make([][2]float64, 0, len(rows[1]))
	for i, r := range rows[1] {
		sent = append(sent, [2]float64{x(float64(i) + 0.5), yR(float64(r.offered))})
	}
	s.line(sent, "#888", "none", 1)
	capPts := [][2]float64{{x(0), yR(cfg.capacity())}}
	for i, smp := range runs[1].samples {
		v := yR(float64(smp.ready) * cfg.capacity())
		capPts = append(capPts, [2]float64{x(float64(i)), capPts[len(capPts)-1][1]}, [2]float64{x(float64(i)), v})
		if i == len(runs[1].samples)-1 {
			capPts = append(capPts, [2]float64{x(float64(i + 1)), v})
		}
	}
	s.line(capPts, "#000", "2 3", 1.5)
	for m, rs := range rows {
		pts := make([][2]float64, 0, len(rs))
		for i, r := range rs {
			pts = append(pts, [2]float64{x(float64(i) + 0.5), yR(float64(r.ok))})
		}
		s.polyline(pts, mode(m))
	}

	// Panel 2: the scale signal of both runs and the replicas serving.
	maxN := 2.0
	for _, r := range runs {
		for _, smp := range r.samples {
			if !math.IsNaN(smp.need) {
				maxN = max(maxN, smp.need*1.1)
			}
			maxN = max(maxN, float64(smp.target)*1.1)
		}
	}
	maxN = niceCeil(maxN)
	yN := func(v float64) float64 { return top2 + needH - needH*v/maxN }
	s.axes(top2, needH, "need, replicas", linearTicks(maxN), func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, yN)
	s.el(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000" stroke-width="1" stroke-dasharray="1 2"/>`, plotL, yN(1), plotR, yN(1))
	s.el(`<text x="%d" y="%.1f" text-anchor="end" font-size="11">need 1: enough</text>`, plotR-4, yN(1)-4)
	for m, r := range runs {
		var seg [][2]float64
		for i, smp := range r.samples {
			if math.IsNaN(smp.need) {
				s.polyline(seg, mode(m))
				seg = seg[:0]
				continue
			}
			seg = append(seg, [2]float64{x(float64(i + 1)), yN(smp.need)})
		}
		s.polyline(seg, mode(m))
	}
	reps := [][2]float64{{x(0), yN(1)}}
	for i, smp := range runs[1].samples {
		v := yN(float64(smp.ready))
		reps = append(reps, [2]float64{x(float64(i)), reps[len(reps)-1][1]}, [2]float64{x(float64(i)), v})
	}
	s.line(reps, "#000", "2 3", 1.5)
	s.el(`<text x="%d" y="%.1f" font-size="11">dotted: replicas serving (autoscaled)</text>`, plotL+6, top2+14)

	// Panel 3: the share of requests shed, per second.
	yS := func(v float64) float64 { return top3 + shedPanelH - shedPanelH*v }
	s.axes(top3, shedPanelH, "share shed (429)", []float64{0, 0.5, 1}, func(v float64) string { return pct(v) }, yS)
	for m, rs := range rows {
		pts := make([][2]float64, 0, len(rs))
		for i, r := range rs {
			v := 0.0
			if ended := r.ok + r.shed + r.failed; ended > 0 {
				v = float64(r.shed) / float64(ended)
			}
			pts = append(pts, [2]float64{x(float64(i) + 0.5), yS(v)})
		}
		s.polyline(pts, mode(m))
	}

	for t := 0.0; t <= total+1e-9; t += 10 {
		s.el(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>`, x(t), bottom, x(t), bottom+5)
		s.el(`<text x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`, x(t), bottom+18, t)
	}
	s.el(`<text x="%.1f" y="%.1f" text-anchor="middle">seconds since the start of the timeline (each run)</text>`, (plotL+plotR)/2.0, bottom+40)
	s.el(`</svg>`)
	_, err := io.WriteString(w, s.String())
	return err
}
