package statuspage

import (
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

//go:embed page.html
var pageHTML string

// pageTemplate is the status page. html/template escapes everything it
// prints for its context: objective names and descriptions are
// configuration, not trusted markup.
var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// page is what the template renders: the Document, formatted. Every number
// is a string here so that the page and the tests agree on how it reads.
type page struct {
	Title      string
	Time       string // when the status was evaluated, "2006-01-02 15:04:05 UTC"
	TimeISO    string
	Evaluated  bool
	Release    releaseView
	Objectives []objectiveView
	Shed       shedView
	Breakers   []breakerView
	Gates      []gateView
	Events     []eventView // newest first
	Faults     uint64
	Load       loadChartView
}

type releaseView struct {
	Frozen   bool
	Reason   string
	Since    string
	Recovery string
}

// label is a state as a word with a symbol, and a class for its colour:
// the page must read the same without colour.
type label struct {
	Class string
	Text  string
}

type objectiveView struct {
	Name        string
	Anchor      string
	Description string
	Kind        string
	Target      string
	Period      string
	Dependency  string
	State       label
	Remaining   string // "97.1%" or "unknown"
	BarClass    string
	BarWidth    string // percent of the bar filled, "0" to "100"
	TTE         string
	Good        string
	Bad         string
	Shed        string
	Neutral     string
	ControlBurn string
	View        string // "fleet, read 12s ago", "restored from a snapshot of 3h ago", "this replica"
	LocalNote   string // this replica's own budget beside the fleet's; empty unless fleet
	Windows     []windowView
	Rules       []ruleView
	Chart       chartView
}

type windowView struct {
	Window, Burn, AdmittedBurn, Good, Bad, Shed string
}

type ruleView struct {
	Name, Severity, Threshold, Long, Short, LongBurn, ShortBurn string
	LongHot, ShortHot, Firing                                   bool
}

type shedView struct {
	Enabled bool
	Level   string
	Summary string
	Rows    []shedRow
	Scale   string // the scale signal in one sentence
}

type shedRow struct {
	Criticality string
	Reject      string
	Width       string
	Rejected    string
	Demand      string // requests per second, "—" while unknown
}

type breakerView struct {
	Dependency string
	State      label
	Burning    bool
	RetryAfter string
}

type gateView struct {
	Name   string
	State  label
	Reason string
}

type eventView struct {
	Time    string
	TimeISO string
	Kind    string
	Class   string
	Text    string
}

const (
	timeLayout = "2006-01-02 15:04:05 UTC"
	isoLayout  = time.RFC3339
)

// newPage formats doc for the template.
func newPage(title string, doc statusjson.Document) page {
	p := page{
		Title:     title,
		Evaluated: !doc.Time.IsZero(),
		Time:      doc.Time.UTC().Format(timeLayout),
		TimeISO:   doc.Time.UTC().Format(isoLayout),
		Release:   releaseViewOf(doc.Release, doc.Time),
		Shed:      shedViewOf(doc.Shed, doc.Scale),
		Faults:    doc.Faults,
		Load:      newLoadChart(doc.Load),
	}
	for i, o := range doc.Objectives {
		p.Objectives = append(p.Objectives, objectiveViewOf(i, o))
	}
	for _, b := range doc.Breakers {
		v := breakerView{Dependency: b.Dependency, Burning: b.Burning, RetryAfter: "—"}
		switch b.State {
		case "open":
			v.State = label{"s-page", "○ OPEN"}
			v.RetryAfter = human(seconds(b.RetryAfterS))
		case "half-open":
			v.State = label{"s-ticket", "◐ HALF-OPEN"}
		default:
			v.State = label{"s-ok", "● " + strings.ToUpper(b.State)}
		}
		p.Breakers = append(p.Breakers, v)
	}
	for _, g := range doc.Gates {
		v := gateView{Name: g.Name, Reason: g.Reason, State: label{"s-ok", "✓ ENABLED"}}
		if !g.Enabled {
			v.State = label{"s-page", "✖ DISABLED"}
		}
		p.Gates = append(p.Gates, v)
	}
	for i := len(doc.Events) - 1; i >= 0; i-- {
		p.Events = append(p.Events, eventViewOf(doc.Events[i], doc.Time))
	}
	return p
}

func releaseViewOf(r statusjson.Release, now time.Time) releaseView {
	v := releaseView{Frozen: r.Frozen, Reason: r.Reason}
	if !r.Frozen {
		return v
	}
	if !r.Since.IsZero() {
		v.Since = r.Since.UTC().Format(timeLayout)
		if d := now.Sub(r.Since); d > 0 {
			v.Since += " (" + human(d) + " ago)"
		}
	}
	v.Recovery = "no estimate (at the past hour's error rate the budget does not recover, or releases wait for a page to end)"
	if r.RecoveryS != nil {
		v.Recovery = "about " + human(seconds(*r.RecoveryS)) + ", if traffic goes on as over the past hour"
	}
	return v
}

var stateLabels = map[string]label{
	"unknown":   {"s-unknown", "? UNKNOWN"},
	"ok":        {"s-ok", "✓ OK"},
	"ticket":    {"s-ticket", "◆ TICKET"},
	"page":      {"s-page", "▲ PAGE"},
	"exhausted": {"s-exhausted", "✖ EXHAUSTED"},
}

func stateLabel(s string) label {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return label{"s-unknown", strings.ToUpper(s)}
}

func objectiveViewOf(i int, o statusjson.Objective) objectiveView {
	v := objectiveView{
		Name:        o.Name,
		Anchor:      "objective-" + o.Name,
		Description: o.Description,
		Kind:        o.Kind,
		Target:      percentExact(o.Target),
		Period:      budget.FormatWindow(seconds(o.PeriodS)),
		Dependency:  o.Dependency,
		State:       stateLabel(o.State),
		Remaining:   "unknown",
		BarClass:    "b-unknown",
		BarWidth:    "0",
		TTE:         "—",
		Good:        count(o.Good),
		Bad:         count(o.Bad),
		Shed:        count(o.Shed),
		Neutral:     count(o.Neutral),
		ControlBurn: "—",
	}
	if o.LatencyMS > 0 {
		v.Kind = "latency ≤ " + strconv.FormatFloat(o.LatencyMS, 'f', -1, 64) + " ms"
	}
	if r := o.Remaining; r != nil {
		v.Remaining = percent(*r)
		v.BarWidth = strconv.FormatFloat(math.Round(clamp(*r, 0, 1)*1000)/10, 'f', -1, 64)
		switch {
		case *r <= 0:
			v.BarClass = "b-spent"
		case *r < 0.25:
			v.BarClass = "b-low"
		default:
			v.BarClass = "b-ok"
		}
		v.TTE = "not burning"
		if t := o.TimeToExhaustionS; t != nil {
			v.TTE = human(seconds(*t))
			if *t <= 0 {
				v.TTE = "spent"
			}
		}
	}
	if o.ControlBurn != nil {
		v.ControlBurn = burn(*o.ControlBurn)
	}
	v.View, v.LocalNote = viewText(o)
	for _, w := range o.Windows {
		v.Windows = append(v.Windows, windowView{
			Window: w.Window, Burn: burn(w.Burn), AdmittedBurn: burn(w.AdmittedBurn),
			Good: count(w.Good), Bad: count(w.Bad), Shed: count(w.Shed),
		})
	}
	for _, r := range o.Rules {
		v.Rules = append(v.Rules, ruleView{
			Name: r.Name, Severity: r.Severity, Threshold: burn(r.Threshold),
			Long: r.Long, Short: r.Short,
			LongBurn: burn(r.LongBurn), ShortBurn: burn(r.ShortBurn),
			LongHot: r.LongBurn >= r.Threshold, ShortHot: r.ShortBurn >= r.Threshold,
			Firing: r.Firing,
		})
	}
	v.Chart = newChart(fmt.Sprintf("chart-%d", i), o)
	return v
}

func shedViewOf(s statusjson.Shed, sc statusjson.Scale) shedView {
	v := shedView{Enabled: s.Enabled, Level: strconv.FormatFloat(math.Round(s.Level*100)/100, 'f', 2, 64),
		Scale: scaleSentence(sc)}
	var shed []string
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		name := c.String()
		r := s.Reject[name]
		v.Rows = append(v.Rows, shedRow{
			Criticality: name,
			Reject:      strconv.FormatFloat(math.Round(r*1000)/10, 'f', -1, 64) + "%",
			Width:       strconv.FormatFloat(math.Round(clamp(r, 0, 1)*1000)/10, 'f', -1, 64),
			Rejected:    count(s.Rejected[name]),
			Demand:      rate(sc.DemandRPS, name),
		})
		if r > 0 {
			shed = append(shed, name)
		}
	}
	switch {
	case !s.Enabled:
		v.Summary = "Load shedding is off."
	case len(shed) == 0:
		v.Summary = "Nothing is shed."
	default:
		v.Summary = "Shedding " + strings.Join(shed, ", ") + " traffic."
	}
	return v
}

// scaleSentence says the scale signal in one sentence.
func scaleSentence(sc statusjson.Scale) string {
	if !sc.Known || sc.Need == nil || sc.CapacityRPS == nil {
		return "Scale signal: not known yet (it needs shedding on and completed requests)."
	}
	var demand float64
	for _, d := range sc.DemandRPS {
		demand += d
	}
	need := strconv.FormatFloat(math.Round(*sc.Need*100)/100, 'f', 2, 64)
	s := fmt.Sprintf("Scale signal: needs %s× its capacity (demand %s/s, capacity %s/s", need,
		strconv.FormatFloat(math.Round(demand), 'f', 0, 64), strconv.FormatFloat(math.Round(*sc.CapacityRPS), 'f', 0, 64))
	if sc.Saturated {
		s += ", saturated"
	}
	return s + ")."
}

// rate formats the rate of name in m, per second, or "—" if absent.
func rate(m map[string]float64, name string) string {
	v, ok := m[name]
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

var eventKinds = map[string]string{
	"state_changed":   "state",
	"shed_changed":    "shedding",
	"breaker_changed": "breaker",
	"gate_changed":    "gate",
	"freeze_changed":  "release",

	"snapshot_restored":  "snapshot",
	"snapshot_refused":   "snapshot",
	"snapshot_failed":    "snapshot",
	"snapshot_recovered": "snapshot",
	"view_changed":       "view",
}

// viewText says where an objective's figures come from and how old they
// are, and this replica's own budget beside the fleet's.
func viewText(o statusjson.Objective) (view, local string) {
	age := func() string {
		if o.ViewAgeS == nil {
			return ""
		}
		return " " + human(seconds(*o.ViewAgeS)) + " ago"
	}
	switch o.View {
	case "fleet":
		view = "fleet, read" + age()
		if l := o.Local; l != nil {
			local = "this replica alone: " + strings.ToLower(stateLabel(l.State).Text)
			if l.Remaining != nil {
				local += ", " + percent(*l.Remaining) + " left"
			}
			local += ", " + count(l.Bad) + " bad / " + count(l.Good) + " good"
		}
	case "restored":
		view = "this replica, with a snapshot taken" + age()
	case "local", "":
		view = "this replica since it started"
	default:
		view = o.View
	}
	return view, local
}

func eventViewOf(e statusjson.Event, now time.Time) eventView {
	v := eventView{Text: e.Text, Kind: eventKinds[e.Kind], TimeISO: e.Time.UTC().Format(isoLayout)}
	if v.Kind == "" {
		v.Kind = e.Kind
	}
	v.Time = e.Time.UTC().Format("15:04:05")
	if y, m, d := e.Time.UTC().Date(); y != now.UTC().Year() || m != now.UTC().Month() || d != now.UTC().Day() {
		v.Time = e.Time.UTC().Format("Jan 2 15:04:05")
	}
	switch {
	case e.Kind == "state_changed":
		v.Class = stateLabel(e.To).Class
	case e.Kind == "snapshot_refused", e.Kind == "snapshot_failed", e.Kind == "view_changed" && e.From == "fleet":
		v.Class = "s-ticket"
	case e.Frozen != nil && *e.Frozen, e.Enabled != nil && !*e.Enabled, e.To == "open":
		v.Class = "s-page"
	case e.Level != nil && *e.Level > 0, e.To == "half-open":
		v.Class = "s-ticket"
	case e.Frozen != nil, e.Enabled != nil, e.Level != nil, e.To == "closed":
		v.Class = "s-ok"
	}
	return v
}

// percent formats a share as a percentage with one decimal: "97.1%",
// "-900.0%".
func percent(v float64) string {
	s := strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	if s == "-0.0%" {
		return "0.0%"
	}
	return s
}

// percentExact formats a target without rounding it away: "99.9%",
// "99.95%".
func percentExact(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e8)/1e6, 'f', -1, 64) + "%"
}

// burn formats a burn rate with three significant digits at most, never
// in exponent form: "0.72×", "14.4×", "118×".
func burn(v float64) string {
	var s string
	switch a := math.Abs(v); {
	case v == 0:
		s = "0"
	case a < 10:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a < 1e15:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	default:
		s = "∞"
	}
	return s + "×"
}

// count formats a count with thousands separators: "12,345".
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// human formats a duration with its two largest units: "45s", "5m 10s",
// "2h 30m", "3d 4h".
func human(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return "0s"
	}
	units := []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units {
		if d < u.d {
			continue
		}
		s := fmt.Sprintf("%d%s", d/u.d, u.s)
		if i+1 < len(units) {
			if rest := (d % u.d) / units[i+1].d; rest > 0 {
				s += fmt.Sprintf(" %d%s", rest, units[i+1].s)
			}
		}
		return s
	}
	return "0s"
}

// seconds converts seconds to a duration, saturating.
func seconds(s float64) time.Duration {
	if s >= float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }
