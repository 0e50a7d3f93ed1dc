package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

var postmortemCommand = &command{
	name:     "postmortem",
	synopsis: "--url URL [--since T] [--timeout DURATION]",
	summary:  "write a Markdown postmortem draft of an incident",
	detail: `Postmortem reads the status document of a service and writes a Markdown
draft of the postmortem of its latest incident to standard output: the
incident's window (from the first interval that burned error budget or shed
load to recovery, or "still burning"), the budget each objective spent in
it (as a share of its period's budget, and in minutes of full outage), the
timeline of what sloguard did (objective states, shed levels, circuit
breakers, gates, the release freeze, the scale signal), the demand it shed
by criticality, and headings for the parts people write: summary, impact,
root cause, action items.

It works from the history that the service keeps (by default one sample
every two minutes for a day, across restarts with snapshots); see the package
documentation for how the window is found. --since picks the first incident
from a time on, in RFC 3339 (2025-03-01T12:00:00Z) or as a duration back
from the time of the status document (2h, 90m, 1d12h); without it, the
latest incident. With no incident in that range, it says so on standard
error and exits 0. A status document with no history (a service whose
sloguard is older than this command, or one that has run less than a
history interval) or with no traffic in range is an error (exit status 2).`,
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		var t target
		t.define(fs)
		var since startFlag
		fs.Var(&since, "since", "the first incident from `T` on: an RFC 3339 time, or a duration back from the status document's time such as 2h or 1d12h (default the latest incident)")
		return func(args []string, stdout, stderr io.Writer) int {
			cl, code, ok := t.open(c, args, stderr)
			if !ok {
				return code
			}
			defer cl.close()
			doc, resp, err := fetchDocument(context.Background(), cl, t.base)
			if err != nil {
				fmt.Fprintf(stderr, "sloguard postmortem: %v\n", err)
				return exitError
			}
			inc, err := findIncident(doc, since)
			switch {
			case errors.Is(err, errNoIncident):
				fmt.Fprintf(stderr, "sloguard postmortem: %v\n", err)
				return exitOK
			case err != nil:
				fmt.Fprintf(stderr, "sloguard postmortem: %v\n", err)
				return exitError
			}
			writePostmortem(stdout, doc, resp.url, inc)
			return exitOK
		}
	},
}

// startFlag is --since of postmortem: a time, or a duration back from the
// status document's time.
type startFlag struct {
	at   time.Time
	back time.Duration
}

func (f *startFlag) String() string {
	switch {
	case f == nil:
		return ""
	case !f.at.IsZero():
		return formatTime(f.at)
	case f.back > 0:
		return formatDuration(f.back)
	}
	return ""
}

func (f *startFlag) Set(s string) error {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		f.at, f.back = t, 0
		return nil
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return errors.New("want an RFC 3339 time such as 2025-03-01T12:00:00Z or a positive duration such as 2h or 1d12h")
	}
	f.at, f.back = time.Time{}, d
	return nil
}

// from returns the start of the range, given the document's time; zero
// when the flag is not set.
func (f startFlag) from(now time.Time) time.Time {
	if f.back > 0 {
		return now.Add(-f.back)
	}
	return f.at
}

// set reports whether the flag was given.
func (f startFlag) set() bool { return f.back > 0 || !f.at.IsZero() }

var (
	errNoIncident = errors.New("no incident")
	errNoHistory  = errors.New("the status document has no history: the service's sloguard keeps none (it is older than this command), or it has run for less than a history interval")
)

// mergeGap is how far apart two burning intervals may be and still belong
// to one incident.
const mergeGap = 10 * time.Minute

// afterRecovery is how long after recovery the timeline goes on, so that
// the alerts and protections going back show.
const afterRecovery = time.Hour

// incident is the window found in a status document, and the samples
// behind it.
type incident struct {
	times      []time.Time // of every sample, in order
	first      int         // index in times of the first burning sample
	last       int         // of the last one
	start, end time.Time   // from the start of the first burning interval to the end of the last
	ongoing    bool        // the last sample still burns
	later      int         // incidents after this one in range
}

// sampleKey identifies a sample time across the objectives and the load.
type sampleKey = int64

// findIncident finds the incident to write: the first from since on when
// since is set, else the latest. See doc.go, "Postmortem", for the rules.
func findIncident(doc *statusjson.Document, since startFlag) (incident, error) {
	set := map[sampleKey]time.Time{}
	for _, o := range doc.Objectives {
		for _, s := range o.History {
			set[s.Time.UnixNano()] = s.Time
		}
	}
	for _, s := range doc.Load {
		set[s.Time.UnixNano()] = s.Time
	}
	if len(set) == 0 {
		return incident{}, errNoHistory
	}
	var times []time.Time
	for _, t := range set {
		times = append(times, t)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })

	from := since.from(doc.Time)
	burning := make([]bool, len(times))
	alerting := make([]bool, len(times))
	var traffic bool
	at := index(times)
	for _, o := range doc.Objectives {
		for _, s := range o.History {
			i := at[s.Time.UnixNano()]
			if n := s.Good + s.Bad + s.Shed; n > 0 {
				traffic = traffic || !s.Time.Before(from)
				// Faster than the budget accrues: a burn rate above 1.
				if float64(s.Bad+s.Shed) > float64(n)*(1-o.Target) {
					burning[i] = true
				}
			}
			switch s.State {
			case "ticket", "page", "exhausted":
				alerting[i] = true
			}
		}
	}
	for _, s := range doc.Load {
		i := at[s.Time.UnixNano()]
		var demand, shed uint64
		for _, v := range s.Admitted {
			demand += v
		}
		for _, v := range s.Rejected {
			shed += v
		}
		traffic = traffic || demand+shed > 0 && !s.Time.Before(from)
		if s.Level > 0 || shed > 0 {
			burning[i], alerting[i] = true, true
		}
	}
	if !traffic {
		if since.set() {
			return incident{}, fmt.Errorf("no traffic in the history from %s to %s: nothing to judge", formatTime(from), formatTime(doc.Time))
		}
		return incident{}, fmt.Errorf("no traffic in the history from %s to %s: nothing to judge", formatTime(times[0]), formatTime(doc.Time))
	}
	// The timeline's changes count as sloguard acting.
	for _, e := range doc.Events {
		switch e.Kind {
		case "state_changed", "shed_changed", "breaker_changed", "gate_changed", "freeze_changed":
			if i, ok := at[e.Time.UnixNano()]; ok {
				alerting[i] = true
			} else if j := sort.Search(len(times), func(k int) bool { return !times[k].Before(e.Time) }); j < len(times) {
				alerting[j] = true // an event between samples: the interval that holds it
			}
		}
	}

	// Runs of burning samples, merged across short gaps; an incident is a
	// run in which sloguard alerted or acted.
	var runs [][2]int
	for i, b := range burning {
		if !b {
			continue
		}
		if n := len(runs); n > 0 && times[i].Sub(times[runs[n-1][1]]) <= mergeGap {
			runs[n-1][1] = i
			continue
		}
		runs = append(runs, [2]int{i, i})
	}
	var incidents [][2]int
	for _, r := range runs {
		// An incident that started before from is not in range.
		if slices.Contains(alerting[r[0]:r[1]+1], true) && !times[r[0]].Before(from) {
			incidents = append(incidents, r)
		}
	}
	if len(incidents) == 0 {
		if since.set() {
			return incident{}, fmt.Errorf("%w from %s to %s", errNoIncident, formatTime(from), formatTime(doc.Time))
		}
		return incident{}, fmt.Errorf("%w in the history, from %s to %s", errNoIncident, formatTime(times[0]), formatTime(doc.Time))
	}
	pick := len(incidents) - 1
	if since.set() {
		pick = 0
	}
	r := incidents[pick]
	inc := incident{times: times, first: r[0], last: r[1], end: times[r[1]], later: len(incidents) - 1 - pick}
	step := typicalStep(times)
	inc.start = times[r[0]].Add(-step)
	if r[0] > 0 && times[r[0]].Sub(times[r[0]-1]) <= 2*step {
		inc.start = times[r[0]-1]
	}
	inc.ongoing = r[1] == len(times)-1
	return inc, nil
}

// index maps each time to its place in times.
func index(times []time.Time) map[sampleKey]int {
	m := make(map[sampleKey]int, len(times))
	for i, t := range times {
		m[t.UnixNano()] = i
	}
	return m
}

// typicalStep returns the median gap between samples: the history
// interval, unless the history is a single sample (a minute, the default).
func typicalStep(times []time.Time) time.Duration {
	if len(times) < 2 {
		return time.Minute
	}
	gaps := make([]time.Duration, len(times)-1)
	for i := range gaps {
		gaps[i] = times[i+1].Sub(times[i])
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// in reports whether a sample at t is one of the incident's intervals.
func (inc incident) in(t time.Time) bool {
	return !t.Before(inc.times[inc.first]) && !t.After(inc.end)
}

// spend is what one objective spent in the incident.
type spend struct {
	name, kind      string
	target, periodS float64
	good, bad, shed uint64
	share           float64 // of the period's budget; NaN when unknown
	outage          time.Duration
	lowest          float64 // lowest remaining budget sampled in the window
	hasLowest       bool
	worst           string // worst state sampled in the window
	total           uint64 // events in the period
}

func spendOf(o statusjson.Objective, inc incident) spend {
	sp := spend{name: o.Name, kind: o.Kind, target: o.Target, periodS: o.PeriodS, share: math.NaN()}
	for _, s := range o.History {
		if !inc.in(s.Time) {
			continue
		}
		sp.good += s.Good
		sp.bad += s.Bad
		sp.shed += s.Shed
		if !sp.hasLowest || s.Remaining < sp.lowest {
			sp.lowest, sp.hasLowest = s.Remaining, true
		}
		if stateRank(s.State) > stateRank(sp.worst) {
			sp.worst = s.State
		}
	}
	// The period's budget: 1 − target of its events so far.
	sp.total = o.Good + o.Bad + o.Shed
	if allowed := float64(sp.total) * (1 - o.Target); allowed > 0 {
		sp.share = float64(sp.bad+sp.shed) / allowed
		if d, ok := seconds(sp.share * o.PeriodS * (1 - o.Target)); ok {
			sp.outage = d
		}
	}
	return sp
}

// stateRank orders objective states by how bad they are.
func stateRank(s string) int {
	switch s {
	case "ok":
		return 1
	case "ticket":
		return 2
	case "page":
		return 3
	case "exhausted":
		return 4
	}
	return 0
}

// criticalities are the names of the criticalities, most critical first.
var criticalities = []string{"CRITICAL_PLUS", "CRITICAL", "SHEDDABLE_PLUS", "SHEDDABLE"}

// writePostmortem writes the Markdown draft of inc, found in doc, fetched
// from source.
func writePostmortem(w io.Writer, doc *statusjson.Document, source string, inc incident) {
	md := markdownEscaper.Replace
	fmt.Fprintf(w, "# Postmortem draft: incident of %s\n\n", inc.start.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "_Drafted by `sloguard postmortem` from %s as of %s. The figures are sloguard's; the sections in italics are for people to write._\n\n",
		md(clean(source)), formatTime(doc.Time))

	fmt.Fprint(w, "## Summary\n\n_What happened, in two or three sentences: what users saw, for how long, and what ended it._\n\n")

	fmt.Fprint(w, "## Impact\n\n")
	if inc.ongoing {
		fmt.Fprintf(w, "- **Window:** from %s, **still burning** as of %s (%s so far).\n",
			formatTime(inc.start), formatTime(inc.end), formatDuration(inc.end.Sub(inc.start)))
	} else {
		fmt.Fprintf(w, "- **Window:** %s to %s (%s), from the first interval that burned error budget or shed load to recovery.\n",
			formatTime(inc.start), formatTime(inc.end), formatDuration(inc.end.Sub(inc.start)))
	}
	if inc.later > 0 {
		fmt.Fprintf(w, "- %d later incident(s) in range: run with --since after %s for them.\n", inc.later, formatTime(inc.end))
	}
	if first, ok := firstAlert(doc.Events, inc); ok {
		fmt.Fprintf(w, "- **First alert:** %s, %s after the window opened: %s.\n", formatTime(first.Time),
			formatDuration(first.Time.Sub(inc.start)), md(eventText(first)))
	} else {
		fmt.Fprint(w, "- **First alert:** none of the objectives paged or opened a ticket in the window.\n")
	}
	fmt.Fprint(w, "\n_Who was affected and how: users, regions, features, revenue._\n\n")

	fmt.Fprint(w, "### Error budget spent\n\n")
	fmt.Fprint(w, "| Objective | Target | Period | Good | Bad | Shed | Budget spent | Full outage equivalent | Lowest budget left | Worst state |\n")
	fmt.Fprint(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, o := range doc.Objectives {
		sp := spendOf(o, inc)
		share, outage, lowest := "unknown", "unknown", "unknown"
		if !math.IsNaN(sp.share) {
			share = percent(sp.share) + " of the period's"
			outage = outageText(sp.outage)
		}
		if sp.hasLowest {
			lowest = percent(sp.lowest)
		}
		period := "unknown"
		if d, ok := seconds(o.PeriodS); ok {
			period = formatDuration(d)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %s | %s | %s | %s |\n", md(clean(o.Name)), formatTarget(o.Target), period,
			sp.good, sp.bad, sp.shed, share, outage, lowest, md(cmpOr(clean(sp.worst), "unknown")))
	}
	fmt.Fprint(w, "\nBudget spent: the window's bad and shed events over the budget of the period (1 − target of its events so far); "+
		"full outage equivalent: that share × period × (1 − target), the time a complete outage would take to spend as much.\n\n")

	writeShedDemand(w, doc, inc)

	fmt.Fprint(w, "## Timeline\n\nWhat sloguard saw and did, in UTC")
	fmt.Fprintf(w, " (until %s after recovery).\n\n", formatDuration(afterRecovery))
	fmt.Fprint(w, "| Time (UTC) | Event |\n| --- | --- |\n")
	lines, scaleKnown := timelineOf(doc, inc)
	for _, l := range lines {
		fmt.Fprintf(w, "| %s | %s |\n", formatTime(l.at), l.text)
	}
	if !scaleKnown {
		fmt.Fprint(w, "\nThe scale signal is not in the history: unknown for the whole window, or not computed by this service's sloguard.\n")
	}
	fmt.Fprint(w, "\n_What people did, and when: who was paged, what they tried, what fixed it._\n\n")

	fmt.Fprint(w, "## Root cause\n\n_Why it happened: the trigger, and why the system let it become an incident._\n\n")
	fmt.Fprint(w, "## Action items\n\n_What will prevent it or shorten the next one; what sloguard could do automatically next time._\n\n")
	fmt.Fprint(w, "| Action | Kind (prevent, detect, mitigate) | Owner | Due |\n| --- | --- | --- | --- |\n|  |  |  |  |\n")
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// outageText formats minutes of full outage.
func outageText(d time.Duration) string {
	m := d.Minutes()
	switch {
	case m == 0:
		return "0 min"
	case m < 0.1:
		return "<0.1 min"
	case m < 100:
		return strconv.FormatFloat(m, 'f', 1, 64) + " min"
	}
	return strconv.FormatFloat(m, 'f', 0, 64) + " min"
}

// firstAlert returns the first event in the window (or just before it
// opened) that moved an objective to ticket, page or exhausted.
func firstAlert(events []statusjson.Event, inc incident) (statusjson.Event, bool) {
	for _, e := range events {
		if e.Kind != "state_changed" || e.Time.Before(inc.start) || e.Time.After(inc.end) {
			continue
		}
		if stateRank(e.To) >= stateRank("ticket") && stateRank(e.To) > stateRank(e.From) {
			return e, true
		}
	}
	return statusjson.Event{}, false
}

// writeShedDemand writes the demand that reached admission in the window,
// and what was shed, by criticality.
func writeShedDemand(w io.Writer, doc *statusjson.Document, inc incident) {
	admitted, rejected := map[string]uint64{}, map[string]uint64{}
	var names []string
	seen := map[string]bool{}
	for _, c := range criticalities {
		names, seen[c] = append(names, c), true
	}
	var counted bool
	for _, s := range doc.Load {
		if !inc.in(s.Time) {
			continue
		}
		for c, v := range s.Admitted {
			admitted[c] += v
			counted = true
			if !seen[c] {
				names, seen[c] = append(names, c), true
			}
		}
		for c, v := range s.Rejected {
			rejected[c] += v
			if !seen[c] {
				names, seen[c] = append(names, c), true
			}
		}
	}
	fmt.Fprint(w, "### Demand shed by criticality\n\n")
	if !counted {
		fmt.Fprint(w, "The history has no admission counts for the window: the service does not admit requests through sloguard.\n\n")
		return
	}
	fmt.Fprint(w, "| Criticality | Demand | Admitted | Shed | Shed share |\n| --- | --- | --- | --- | --- |\n")
	var td, ta, tr uint64
	for _, c := range names {
		a, r := admitted[c], rejected[c]
		td, ta, tr = td+a+r, ta+a, tr+r
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s |\n", markdownEscaper.Replace(clean(c)), a+r, a, r, shareText(r, a+r))
	}
	fmt.Fprintf(w, "| all | %d | %d | %d | %s |\n\n", td, ta, tr, shareText(tr, td))
}

func shareText(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return percent(float64(part) / float64(whole))
}

// line is one row of the timeline.
type line struct {
	at   time.Time
	text string
}

// timelineOf returns the incident's timeline: the window's start and
// recovery, sloguard's changes, and the scale signal's moves; and whether
// the scale signal was known at some sample.
func timelineOf(doc *statusjson.Document, inc incident) ([]line, bool) {
	until := inc.end.Add(afterRecovery)
	md := markdownEscaper.Replace
	lines := []line{{inc.start, "**Window opens:** error budget starts burning faster than it accrues, or load is shed"}}
	for _, e := range doc.Events {
		if e.Time.Before(inc.start) || e.Time.After(until) {
			continue
		}
		switch e.Kind {
		case "state_changed", "shed_changed", "breaker_changed", "gate_changed", "freeze_changed":
			lines = append(lines, line{e.Time, md(eventText(e))})
		}
	}
	// The scale signal, from the load history: when it first asked for
	// more capacity, its highest, and when it was back to 1 or below.
	var known, above bool
	var peak float64
	var peakAt time.Time
	for _, s := range doc.Load {
		if s.Time.Before(inc.start) || s.Time.After(until) || s.Scale == nil {
			continue
		}
		known = true
		v := *s.Scale
		switch {
		case v > 1 && !above:
			above = true
			lines = append(lines, line{s.Time, "scale signal above 1: " + formatBurn(v) + "× the current capacity needed"})
		case v <= 1 && above:
			above = false
			lines = append(lines, line{s.Time, "scale signal back to " + formatBurn(v) + ": the capacity serves the demand"})
		}
		if v > peak {
			peak, peakAt = v, s.Time
		}
	}
	if peak > 1 {
		lines = append(lines, line{peakAt, "scale signal at its highest: " + formatBurn(peak) + "×"})
	}
	if inc.ongoing {
		lines = append(lines, line{inc.end, "**Still burning** as of the latest sample"})
	} else {
		lines = append(lines, line{inc.end, "**Recovery:** no budget burning faster than it accrues and no load shed from here on"})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	return lines, known
}
