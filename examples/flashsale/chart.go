package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// timelineRow counts one second of a run: the requests sent in it
// (offered), and the requests that ended in it.
type timelineRow struct {
	offered, ok, shed, failed, good int
	p50, p99                        time.Duration // of the admitted requests that ended in it
}

// second returns the row of second s, (s−1s, s], of reqs.
func second(reqs []request, s int) timelineRow {
	lo, hi := time.Duration(s-1)*time.Second, time.Duration(s)*time.Second
	in := func(d time.Duration) bool { return d > lo && d <= hi || s == 1 && d == 0 }
	var r timelineRow
	var lat []time.Duration
	for _, q := range reqs {
		if in(q.sent) && q.result != cancelled {
			r.offered++
		}
		if !in(q.done()) {
			continue
		}
		switch q.result {
		case ok:
			r.ok++
		case shed:
			r.shed++
		case failed, timedOut, errored, dropped:
			r.failed++
		}
		if q.good() {
			r.good++
		}
		if q.admitted() {
			lat = append(lat, q.latency)
		}
	}
	slices.Sort(lat)
	r.p50, r.p99 = percentile(lat, 0.5), percentile(lat, 0.99)
	return r
}

// timeline returns the rows of every second of a run.
func timeline(r *runResult) []timelineRow {
	n := int(r.sc.length() / time.Second)
	rows := make([]timelineRow, n)
	for s := 1; s <= n; s++ {
		rows[s-1] = second(r.reqs, s)
	}
	return rows
}

// writeCSV writes both runs' timelines, one row per run and second.
func writeCSV(w io.Writer, runs [2]*runResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"run", "t", "phase", "offered", "ok", "shed", "failed", "good", "p50_ms", "p99_ms", "shed_level", "breaker"})
	for _, r := range runs {
		for i, row := range timeline(r) {
			s := i + 1
			level, breaker := "", ""
			if i < len(r.samples) {
				level = strconv.FormatFloat(r.samples[i].level, 'f', 3, 64)
				breaker = r.samples[i].breaker.String()
			}
			_ = cw.Write([]string{
				r.mode.String(), strconv.Itoa(s), r.sc.phaseAt(time.Duration(s)*time.Second - time.Millisecond).String(),
				strconv.Itoa(row.offered), strconv.Itoa(row.ok), strconv.Itoa(row.shed), strconv.Itoa(row.failed), strconv.Itoa(row.good),
				msCSV(row.p50), msCSV(row.p99), level, breaker,
			})
		}
	}
	cw.Flush()
	return cw.Error()
}

func msCSV(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strconv.FormatFloat(ms(d), 'f', 1, 64)
}

// The chart's geometry, in SVG user units.
const (
	chartW      = 1000
	plotL       = 78  // left edge of the plots
	plotR       = 960 // right edge
	panelGap    = 46
	chartTop    = 92
	goodputH    = 220
	latencyH    = 200
	shedH       = 90
	latencyMinY = 10.0   // ms, bottom of the logarithmic axis
	latencyMaxY = 3000.0 // ms
)

// svg builds the chart's markup.
type svg struct{ strings.Builder }

func (s *svg) el(format string, a ...any) { fmt.Fprintf(&s.Builder, format+"\n", a...) }

// writeSVG draws both runs' goodput, p99 latency and, for the run with
// sloguard, the shed level and the breaker, over the phases. Lines differ
// by dash pattern as well as colour, so the chart reads in grey too.
func writeSVG(w io.Writer, cfg config, runs [2]*runResult) error {
	sc := runs[with].sc
	total := sc.length().Seconds()
	x := func(t float64) float64 { return plotL + (plotR-plotL)*t/total }
	rows := [2][]timelineRow{timeline(runs[without]), timeline(runs[with])}
	capacity := cfg.capacity()
	if h := runs[with].holds[spike]; h > 0 {
		capacity = float64(cfg.Conns) / h.Seconds()
	}

	top1 := float64(chartTop)
	top2 := top1 + goodputH + panelGap
	top3 := top2 + latencyH + panelGap
	bottom := top3 + shedH
	height := bottom + 70

	var s svg
	s.el(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" font-family="Helvetica, Arial, sans-serif" font-size="12">`, chartW, height, chartW, height)
	s.el(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/></pattern></defs>`)
	s.el(`<rect width="100%%" height="100%%" fill="white"/>`)
	s.el(`<text x="%d" y="28" font-size="17" font-weight="bold">Flash sale: the same timeline without and with sloguard</text>`, plotL)
	s.el(`<text x="%d" y="48" fill="#333">%d database connections (~%.0f rps); base %.0f rps; spike %.0f× of mostly SHEDDABLE browse; then payments fails; seed %d</text>`,
		plotL, cfg.Conns, capacity, cfg.RPS, cfg.SpikeFactor, cfg.Seed)
	// Legend.
	lx := float64(plotL)
	lx = s.legend(lx, "without sloguard", colorWithout, dashWithout, 2)
	lx = s.legend(lx, "with sloguard", colorWith, "none", 2.5)
	lx = s.legend(lx, "capacity, latency objective", "#000", "2 3", 1)
	s.el(`<rect x="%.1f" y="59" width="24" height="14" fill="url(#hatch)" stroke="#555"/>`, lx)
	s.el(`<text x="%.1f" y="70">breaker open (with)</text>`, lx+30)

	// Phase bands across all panels, labelled above the first.
	for p := range numPhases {
		x0, x1 := x(sc.begins(p).Seconds()), x(sc.ends(p).Seconds())
		fill := "#ffffff"
		if p%2 == 1 {
			fill = "#ececec"
		}
		for _, band := range [][2]float64{{top1, goodputH}, {top2, latencyH}, {top3, shedH}} {
			s.el(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x0, band[0], x1-x0, band[1], fill)
		}
		label := fmt.Sprintf("%s, %.0f rps", p, cfg.RPS)
		switch p {
		case spike:
			label = fmt.Sprintf("spike %.0f×, %.0f rps", cfg.SpikeFactor, cfg.RPS*cfg.SpikeFactor)
		case outage:
			label = fmt.Sprintf("payments outage, %.0f rps", cfg.RPS)
		}
		s.el(`<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold" fill="#333">%s</text>`, (x0+x1)/2, top1+16, label)
	}

	// Panel 1: goodput.
	maxG := capacity * 1.15
	for _, rs := range rows {
		for _, r := range rs {
			maxG = max(maxG, float64(r.good)*1.05)
		}
	}
	maxG = niceCeil(maxG)
	yG := func(v float64) float64 { return top1 + goodputH - goodputH*v/maxG }
	s.axes(top1, goodputH, "goodput (rps)", linearTicks(maxG), func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }, yG)
	s.el(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000" stroke-width="1" stroke-dasharray="2 3"/>`, plotL, yG(capacity), plotR, yG(capacity))
	s.el(`<text x="%d" y="%.1f" text-anchor="end" font-size="11">capacity %.0f rps</text>`, plotR-4, yG(capacity)-5, capacity)
	for m, rs := range rows {
		pts := make([][2]float64, 0, len(rs))
		for i, r := range rs {
			pts = append(pts, [2]float64{x(float64(i) + 0.5), yG(float64(r.good))})
		}
		s.polyline(pts, mode(m))
	}

	// Panel 2: admitted p99 latency, logarithmic.
	yL := func(v float64) float64 {
		v = min(max(v, latencyMinY), latencyMaxY)
		return top2 + latencyH - latencyH*math.Log(v/latencyMinY)/math.Log(latencyMaxY/latencyMinY)
	}
	s.axes(top2, latencyH, "p99 of admitted (ms, log)", []float64{10, 30, 100, 300, 1000, 3000},
		func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }, yL)
	thr := ms(latencyThreshold)
	s.el(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000" stroke-width="1" stroke-dasharray="2 3"/>`, plotL, yL(thr), plotR, yL(thr))
	s.el(`<text x="%d" y="%.1f" text-anchor="end" font-size="11">latency objective %v</text>`, plotR-4, yL(thr)-5, latencyThreshold)
	for m, rs := range rows {
		var seg [][2]float64
		for i, r := range rs {
			if r.p99 == 0 {
				s.polyline(seg, mode(m))
				seg = seg[:0]
				continue
			}
			seg = append(seg, [2]float64{x(float64(i) + 0.5), yL(ms(r.p99))})
		}
		s.polyline(seg, mode(m))
	}

	// Panel 3: the shed level and the breaker of the run with sloguard.
	smp := runs[with].samples
	maxL := 1.0
	for _, v := range smp {
		maxL = max(maxL, math.Ceil(v.level))
	}
	yS := func(v float64) float64 { return top3 + shedH - shedH*v/maxL }
	var lt []float64
	for v := 0.0; v <= maxL; v++ {
		lt = append(lt, v)
	}
	s.axes(top3, shedH, "shed level (with)", lt, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }, yS)
	open := -1
	for i := 0; i <= len(smp); i++ {
		isOpen := i < len(smp) && smp[i].breaker != slo.BreakerClosed
		switch {
		case isOpen && open < 0:
			open = i
		case !isOpen && open >= 0:
			s.el(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#hatch)" opacity="0.55"/>`, x(float64(open)), top3, x(float64(i))-x(float64(open)), float64(shedH))
			open = -1
		}
	}
	pts := [][2]float64{{x(0), yS(0)}}
	for i, v := range smp {
		pts = append(pts, [2]float64{x(float64(i + 1)), yS(v.level)})
	}
	for _, b := range []struct {
		level float64
		label string
	}{{1, "all SHEDDABLE shed"}, {2, "CRITICAL shed above"}} {
		if b.level < maxL {
			s.el(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000" stroke-width="1" stroke-dasharray="2 3"/>`, plotL, yS(b.level), plotR, yS(b.level))
			s.el(`<text x="%d" y="%.1f" text-anchor="end" font-size="11">%s</text>`, plotR-4, yS(b.level)-3, b.label)
		}
	}
	s.polyline(pts, with)

	// The time axis.
	for t := 0.0; t <= total+1e-9; t += 5 {
		s.el(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000"/>`, x(t), bottom, x(t), bottom+5)
		s.el(`<text x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`, x(t), bottom+18, t)
	}
	s.el(`<text x="%.1f" y="%.1f" text-anchor="middle">seconds since the start of the timeline (each run)</text>`, (plotL+plotR)/2.0, bottom+40)
	s.el(`</svg>`)
	_, err := io.WriteString(w, s.String())
	return err
}

const (
	colorWith    = "#1f5fbf"
	colorWithout = "#c0392b"
	dashWithout  = "7 4"
)

// polyline draws one run's line: solid for the run with sloguard, dashed
// for the run without.
func (s *svg) polyline(pts [][2]float64, m mode) {
	if len(pts) == 0 {
		return
	}
	if m == with {
		s.el(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round"/>`, points(pts), colorWith)
		return
	}
	s.el(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" stroke-linejoin="round"/>`, points(pts), colorWithout, dashWithout)
}

// line draws a polyline in the given stroke.
func (s *svg) line(pts [][2]float64, stroke, dash string, width float64) {
	if len(pts) == 0 {
		return
	}
	s.el(`<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-dasharray="%s"/>`, points(pts), stroke, width, dash)
}

// points formats pts as a polyline's points.
func points(pts [][2]float64) []byte {
	var b []byte
	for i, p := range pts {
		if i > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%.1f,%.1f", p[0], p[1])
	}
	return b
}

// legend writes an entry of a chart's legend at x, a sample of its line
// and its label, and returns where the next entry starts.
func (s *svg) legend(x float64, label, stroke, dash string, width float64) float64 {
	s.el(`<line x1="%.1f" y1="66" x2="%.1f" y2="66" stroke="%s" stroke-width="%.1f" stroke-dasharray="%s"/>`, x, x+34, stroke, width, dash)
	s.el(`<text x="%.1f" y="70">%s</text>`, x+40, label)
	return x + 48 + 7*float64(len(label))
}

// axes draws a panel's frame, its horizontal grid lines at ticks, and its
// vertical title.
func (s *svg) axes(top, height float64, title string, ticks []float64, label func(float64) string, y func(float64) float64) {
	for _, v := range ticks {
		s.el(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#bbb" stroke-width="0.5"/>`, plotL, y(v), plotR, y(v))
		s.el(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`, plotL-6, y(v)+4, label(v))
	}
	s.el(`<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="none" stroke="#000"/>`, plotL, top, plotR-plotL, height)
	cy := top + height/2
	s.el(`<text x="22" y="%.1f" text-anchor="middle" transform="rotate(-90 22 %.1f)">%s</text>`, cy, cy, title)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// linearTicks returns about five ticks from 0 to top.
func linearTicks(top float64) []float64 {
	step := niceCeil(top / 5)
	var ts []float64
	for v := 0.0; v <= top+1e-9; v += step {
		ts = append(ts, v)
	}
	return ts
}
