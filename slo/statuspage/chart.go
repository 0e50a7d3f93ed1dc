package statuspage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// The chart's geometry, in SVG user units: two panels over one time axis,
// remaining budget (0–100%) above and the burn rate below.
const (
	chartW     = 640
	chartH     = 322
	plotLeft   = 52.0
	plotRight  = 624.0
	remTop     = 30.0
	remBottom  = 170.0
	burnTop    = 214.0
	burnBottom = 294.0
	axisLabelY = 312.0
)

// chartView is one objective's history chart, laid out for the template.
type chartView struct {
	ID    string // unique within the page, for aria-labelledby
	Title string
	Desc  string
	Empty bool
	W, H  int

	Left, Right                            float64
	RemTop, RemBottom, BurnTop, BurnBottom float64
	AxisLabelY                             float64
	RemLegendY, BurnLegendY                float64 // the panels' titles
	LegendEnd, LegendText                  float64
	MidX, MidY                             float64 // "no history yet"

	RemTicks  []tick // y, with labels
	BurnTicks []tick
	XTicks    []tick

	RemLine  string // polyline points
	RemArea  string // polygon points: the line closed down to 0%
	BurnLine string
	RemDot   point
	BurnDot  point

	Threshold      *tick  // the page threshold in the burn panel, if any
	Last           string // the time of the last sample, "12:30"
	RemNow         string
	BurnNow        string
	BurnWindow     string
	ThresholdLabel string
}

type tick struct {
	X, Y  float64
	Label string
}

type point struct{ X, Y float64 }

// newChart lays out o's history. With no samples the chart says so; with
// one, it is a dot at the right edge.
func newChart(id string, o statusjson.Objective) chartView {
	c := chartView{
		ID: id, W: chartW, H: chartH,
		Left: plotLeft, Right: plotRight,
		RemTop: remTop, RemBottom: remBottom, BurnTop: burnTop, BurnBottom: burnBottom,
		AxisLabelY: axisLabelY,
		RemLegendY: remTop - 16, BurnLegendY: burnTop - 16,
		LegendEnd: plotLeft + 24, LegendText: plotLeft + 30,
		MidX: (plotLeft + plotRight) / 2, MidY: (remTop + remBottom) / 2,
		Title:      "Remaining error budget and burn rate of " + o.Name,
		BurnWindow: burnWindow(o),
	}
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		t := tick{Y: remY(p)}
		if p == 0 || p == 0.5 || p == 1 {
			t.Label = strconv.Itoa(int(p*100)) + "%"
		}
		c.RemTicks = append(c.RemTicks, t)
	}
	threshold := pageThreshold(o)
	hist := o.History
	maxBurn := 0.0
	for _, s := range hist {
		maxBurn = max(maxBurn, s.Burn)
	}
	top := niceCeil(max(maxBurn, threshold, 1))
	for _, f := range []float64{0, 0.5, 1} {
		c.BurnTicks = append(c.BurnTicks, tick{Y: burnY(f*top, top), Label: strconv.FormatFloat(f*top, 'f', -1, 64) + "×"})
	}
	if threshold > 0 {
		c.Threshold = &tick{Y: burnY(threshold, top), Label: "page " + burn(threshold)}
		c.ThresholdLabel = burn(threshold)
	}
	if len(hist) == 0 {
		c.Empty = true
		c.Desc = "No history yet: the engine takes its first sample at its first evaluation."
		return c
	}

	first, last := hist[0].Time, hist[len(hist)-1].Time
	x := timeAxis(first, last)
	var rem, brn []string
	for _, s := range hist {
		xs := x(s.Time)
		rem = append(rem, coord(xs, remY(s.Remaining)))
		brn = append(brn, coord(xs, burnY(s.Burn, top)))
	}
	c.RemLine = strings.Join(rem, " ")
	c.BurnLine = strings.Join(brn, " ")
	c.RemArea = coord(x(first), remBottom) + " " + c.RemLine + " " + coord(x(last), remBottom)
	end := hist[len(hist)-1]
	c.RemDot = point{x(last), remY(end.Remaining)}
	c.BurnDot = point{x(last), burnY(end.Burn, top)}
	c.Last = last.UTC().Format("15:04")
	c.RemNow = percent(end.Remaining)
	c.BurnNow = burn(end.Burn)
	c.XTicks = timeTicks(first, last, x)

	minRem, maxRem := hist[0].Remaining, hist[0].Remaining
	for _, s := range hist {
		minRem, maxRem = min(minRem, s.Remaining), max(maxRem, s.Remaining)
	}
	c.Desc = fmt.Sprintf("%d samples from %s to %s UTC. Remaining budget between %s and %s, now %s (the chart stops at 0%%). Burn rate over %s up to %s, now %s.",
		len(hist), first.UTC().Format("15:04"), last.UTC().Format("15:04"),
		percent(minRem), percent(maxRem), c.RemNow, c.BurnWindow, burn(maxBurn), c.BurnNow)
	if c.Threshold != nil {
		c.Desc += " The page threshold is " + c.ThresholdLabel + "."
	}
	return c
}

// burnWindow names the window of the history's burn rate: the long window
// of the first page rule, or the shortest window without one (see
// slo.Sample).
func burnWindow(o statusjson.Objective) string {
	for _, r := range o.Rules {
		if r.Severity == "page" {
			return r.Long
		}
	}
	if len(o.Windows) > 0 {
		return o.Windows[0].Window
	}
	return "?"
}

// pageThreshold is the threshold of the rule whose long window the history
// charts, or 0 without a page rule.
func pageThreshold(o statusjson.Objective) float64 {
	for _, r := range o.Rules {
		if r.Severity == "page" && r.Threshold < math.MaxFloat64 {
			return r.Threshold
		}
	}
	return 0
}

func remY(r float64) float64 {
	return round1(remBottom - clamp(r, 0, 1)*(remBottom-remTop))
}

func burnY(b, top float64) float64 {
	return round1(burnBottom - clamp(b/top, 0, 1)*(burnBottom-burnTop))
}

func coord(x, y float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64) + "," + strconv.FormatFloat(y, 'f', -1, 64)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// niceCeil returns the least of 1, 2, 2.5 and 5 times a power of ten that
// is at least v > 0.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) || v > 1e300 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// timeTicks returns labelled ticks at round times between first and last:
// at most six, or one at last when they are the same.
func timeTicks(first, last time.Time, x func(time.Time) float64) []tick {
	span := last.Sub(first)
	layout := "15:04"
	if span > 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	if span <= 0 {
		return []tick{{X: x(last), Label: last.UTC().Format(layout)}}
	}
	steps := []time.Duration{
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
	}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 5 {
			step = s
			break
		}
	}
	var ticks []tick
	t := first.UTC().Truncate(step)
	if t.Before(first) {
		t = t.Add(step)
	}
	for ; !t.After(last); t = t.Add(step) {
		ticks = append(ticks, tick{X: x(t), Label: t.Format(layout)})
	}
	if len(ticks) == 0 {
		ticks = append(ticks, tick{X: x(last), Label: last.UTC().Format(layout)})
	}
	return ticks
}

// The load chart's geometry: two panels over one time axis, the demand
// by criticality above and what was shed of it below, in requests per
// history interval.
const (
	loadH          = 330
	demandTop      = 48.0
	demandBottom   = 160.0
	shedTop        = 210.0
	shedBottom     = 300.0
	loadAxisLabelY = 318.0
)

// loadCriticalities are the criticalities the load chart draws, most
// critical first, with the class of their line.
var loadCriticalities = []struct{ name, class string }{
	{"CRITICAL_PLUS", "c0"}, {"CRITICAL", "c1"}, {"SHEDDABLE_PLUS", "c2"}, {"SHEDDABLE", "c3"},
}

// loadChartView is the service's load history chart, laid out for the
// template.
type loadChartView struct {
	Title, Desc string
	Empty       bool
	W, H        int

	Left, Right                                  float64
	DemandTop, DemandBottom, ShedTop, ShedBottom float64
	DemandLegendY, ShedLegendY, AxisLabelY       float64
	MidX, MidY                                   float64

	DemandTicks, ShedTicks, XTicks []tick
	Series                         []loadSeries
}

// loadSeries is one criticality's lines.
type loadSeries struct {
	Name, Class          string
	LegendX, LegendEnd   float64 // of its legend line
	LegendText           float64
	DemandLine, ShedLine string
}

// newLoadChart lays out the load history: per criticality, the demand
// (admitted and shed) and the shed requests of each sample.
func newLoadChart(load []statusjson.LoadSample) loadChartView {
	c := loadChartView{
		Title: "Demand and shed requests by criticality", W: chartW, H: loadH,
		Left: plotLeft, Right: plotRight,
		DemandTop: demandTop, DemandBottom: demandBottom, ShedTop: shedTop, ShedBottom: shedBottom,
		DemandLegendY: demandTop - 30, ShedLegendY: shedTop - 16, AxisLabelY: loadAxisLabelY,
		MidX: (plotLeft + plotRight) / 2, MidY: (demandTop + demandBottom) / 2,
	}
	for i, lc := range loadCriticalities {
		x := plotLeft + float64(i)*143
		c.Series = append(c.Series, loadSeries{Name: lc.name, Class: lc.class, LegendX: x, LegendEnd: x + 24, LegendText: x + 30})
	}
	var maxDemand, maxShed uint64
	var requests bool
	for _, s := range load {
		for _, lc := range loadCriticalities {
			a, r := s.Admitted[lc.name], s.Rejected[lc.name]
			maxDemand, maxShed = max(maxDemand, a+r), max(maxShed, r)
			requests = requests || a+r > 0
		}
	}
	demandTopV, shedTopV := niceCeil(max(float64(maxDemand), 1)), niceCeil(max(float64(maxShed), 1))
	for _, f := range []float64{0, 0.5, 1} {
		c.DemandTicks = append(c.DemandTicks, tick{Y: scaleY(f*demandTopV, demandTopV, demandTop, demandBottom), Label: axisCount(f * demandTopV)})
		c.ShedTicks = append(c.ShedTicks, tick{Y: scaleY(f*shedTopV, shedTopV, shedTop, shedBottom), Label: axisCount(f * shedTopV)})
	}
	if len(load) == 0 || !requests {
		c.Empty = true
		c.Desc = "No requests through admission in the history yet."
		return c
	}
	first, last := load[0].Time, load[len(load)-1].Time
	x := timeAxis(first, last)
	var totals []string
	for i, lc := range loadCriticalities {
		var demand, shed []string
		var sumD, sumS uint64
		for _, s := range load {
			a, r := s.Admitted[lc.name], s.Rejected[lc.name]
			sumD, sumS = sumD+a+r, sumS+r
			demand = append(demand, coord(x(s.Time), scaleY(float64(a+r), demandTopV, demandTop, demandBottom)))
			shed = append(shed, coord(x(s.Time), scaleY(float64(r), shedTopV, shedTop, shedBottom)))
		}
		c.Series[i].DemandLine, c.Series[i].ShedLine = strings.Join(demand, " "), strings.Join(shed, " ")
		totals = append(totals, fmt.Sprintf("%s %d requests, %d shed", lc.name, sumD, sumS))
	}
	c.XTicks = timeTicks(first, last, x)
	c.Desc = fmt.Sprintf("%d samples from %s to %s UTC, requests per sample. In all: %s.",
		len(load), first.UTC().Format("15:04"), last.UTC().Format("15:04"), strings.Join(totals, "; "))
	return c
}

// scaleY places v of an axis topped at top between the pixels yTop and
// yBottom.
func scaleY(v, top, yTop, yBottom float64) float64 {
	return round1(yBottom - clamp(v/top, 0, 1)*(yBottom-yTop))
}

// axisCount formats an axis label of requests: "2500", "12k", "1.5M".
func axisCount(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// timeAxis maps the times from first to last onto the plot's width; with
// no span between them, every time is at its right edge.
func timeAxis(first, last time.Time) func(time.Time) float64 {
	span := last.Sub(first)
	return func(t time.Time) float64 {
		if span <= 0 {
			return plotRight
		}
		return round1(plotLeft + float64(t.Sub(first))/float64(span)*(plotRight-plotLeft))
	}
}
