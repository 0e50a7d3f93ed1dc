package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

var statusCommand = &command{
	name:     "status",
	synopsis: "--url URL [--json] [--events N] [--color] [--timeout DURATION]",
	summary:  "show error budgets, burn rates, protections and recent events",
	detail: `Status fetches the status document of a service (URL/status.json, where URL
is the mount point of its sloguard status handler; a URL that already ends in
/status.json is used as it is) and prints it for a terminal: the release
verdict; each objective with its target, period, state, the remaining error
budget as a bar ('#' left, '.' spent), the time until it is exhausted at
the current burn rate ('-' when it is not burning) and the view the figures
come from with its age (local, restored from a snapshot, or fleet with this
replica's own budget in brackets); the burn rate of each
objective over each alert window and its firing rules; load shedding,
circuit breakers and budget-gated feature flags when the service has them;
and the most recent events.

The output is plain text; --color adds ANSI colours to the states.`,
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		var t target
		t.define(fs)
		asJSON := fs.Bool("json", false, "print the status document as indented JSON instead")
		events := fs.Int("events", 10, "show the last `N` events; 0 for none")
		colour := fs.Bool("color", false, "colour the states with ANSI escape sequences")
		return func(args []string, stdout, stderr io.Writer) int {
			if code, ok := noArgs(stderr, c, args); !ok {
				return code
			}
			if err := t.check(); err != nil {
				return usageError(stderr, c, "%v", err)
			}
			if *events < 0 {
				return usageError(stderr, c, "--events %d must not be negative", *events)
			}
			cl := t.client()
			defer cl.close()
			doc, resp, err := fetchDocument(context.Background(), cl, t.base)
			if err != nil {
				fmt.Fprintf(stderr, "sloguard status: %v\n", err)
				return exitError
			}
			if *asJSON {
				var buf bytes.Buffer
				if err := json.Indent(&buf, resp.body, "", "  "); err != nil {
					fmt.Fprintf(stderr, "sloguard status: %v\n", err) // not reached: decoded above
					return exitError
				}
				buf.WriteByte('\n')
				stdout.Write(buf.Bytes())
				return exitOK
			}
			writeStatus(stdout, doc, resp.url, statusView{events: *events, paint: painter(*colour)})
			return exitOK
		}
	},
}

// statusView says how to print a status document.
type statusView struct {
	events int // how many of the last events to show
	paint  painter
}

// writeStatus prints doc, fetched from source, for a terminal.
func writeStatus(w io.Writer, doc *statusjson.Document, source string, v statusView) {
	p := v.paint
	fmt.Fprintf(w, "sloguard status of %s\n", clean(source))
	fmt.Fprintf(w, "time:      %s\n", formatTime(doc.Time))
	if doc.Release.Frozen {
		line := p.paint(red, "FROZEN")
		if !doc.Release.Since.IsZero() {
			line += " since " + formatTime(doc.Release.Since)
		}
		fmt.Fprintf(w, "releases:  %s: %s\n", line, freezeText(doc.Release))
	} else {
		fmt.Fprintf(w, "releases:  %s\n", p.paint(green, "allowed"))
	}
	if doc.Faults > 0 {
		fmt.Fprintf(w, "faults:    %d of sloguard's own (see the service's log)\n", doc.Faults)
	}

	fmt.Fprintln(w)
	writeObjectives(w, doc.Objectives, p)
	writeBurns(w, doc.Objectives)
	writeShed(w, doc.Shed)
	writeScale(w, doc.Scale)
	writeBreakers(w, doc.Breakers, p)
	writeGates(w, doc.Gates, p)

	if v.events > 0 {
		fmt.Fprintln(w)
		evs := doc.Events
		switch {
		case len(evs) == 0:
			fmt.Fprintln(w, "EVENTS: none yet")
			return
		case len(evs) > v.events:
			fmt.Fprintf(w, "EVENTS (last %d of %d)\n", v.events, len(evs))
			evs = evs[len(evs)-v.events:]
		default:
			fmt.Fprintln(w, "EVENTS")
		}
		for _, e := range evs {
			fmt.Fprintf(w, "%s  %s\n", formatTime(e.Time), eventText(e))
		}
	}
}

func writeObjectives(w io.Writer, objs []statusjson.Objective, p painter) {
	deps := slices.ContainsFunc(objs, func(o statusjson.Objective) bool { return o.Dependency != "" })
	head := []string{"OBJECTIVE", "KIND", "TARGET", "PERIOD"}
	if deps {
		head = append(head, "DEPENDENCY")
	}
	rows := [][]string{append(head, p.paint(neutral, "STATE"), "BUDGET LEFT", "EXHAUSTED IN", "VIEW")}
	// The percentages align on the right, after their bars.
	width := 0
	for _, o := range objs {
		if o.Remaining != nil {
			width = max(width, len(percent(*o.Remaining)))
		}
	}
	for _, o := range objs {
		kind := clean(o.Kind)
		if o.LatencyMS > 0 {
			if d, ok := seconds(o.LatencyMS / 1000); ok {
				kind += " " + d.String()
			}
		}
		period := "?"
		if d, ok := seconds(o.PeriodS); ok {
			period = budget.FormatWindow(d)
		}
		row := []string{clean(o.Name), kind, formatTarget(o.Target), period}
		if deps {
			row = append(row, orDash(clean(o.Dependency)))
		}
		left, exhausted := "no data", "-"
		if o.Remaining != nil {
			left = fmt.Sprintf("%s %*s", bar(*o.Remaining), width, percent(*o.Remaining))
			switch {
			case *o.Remaining <= 0:
				exhausted = "spent"
			case o.TimeToExhaustionS != nil:
				if d, ok := seconds(*o.TimeToExhaustionS); ok {
					exhausted = formatDuration(d)
				}
			}
		}
		state := clean(o.State)
		rows = append(rows, append(row, p.paint(stateColour(state), state), left, exhausted, viewText(o)))
	}
	writeTable(w, rows)
}

// viewText says where an objective's figures come from and how old they
// are: "fleet 12s", "restored 3h", "local"; with this replica's own budget
// beside the fleet's ("fleet 12s (here 97.1%)"); "-" from a service that
// does not say.
func viewText(o statusjson.Objective) string {
	v := clean(o.View)
	if v == "" {
		return "-"
	}
	if o.ViewAgeS != nil {
		if d, ok := seconds(*o.ViewAgeS); ok {
			v += " " + formatDuration(d)
		}
	}
	if l := o.Local; l != nil {
		here := clean(l.State)
		if l.Remaining != nil {
			here = percent(*l.Remaining)
		}
		v += " (here " + here + ")"
	}
	return v
}

// writeBurns prints the burn rate of every objective over every window that
// any objective has, shortest first, and the rules that fire.
func writeBurns(w io.Writer, objs []statusjson.Objective) {
	var windows []string
	for _, o := range objs {
		for _, win := range o.Windows {
			if !slices.Contains(windows, win.Window) {
				windows = append(windows, win.Window)
			}
		}
	}
	if len(windows) == 0 {
		return
	}
	slices.SortStableFunc(windows, func(a, b string) int {
		da, errA := parseDuration(a)
		db, errB := parseDuration(b)
		switch {
		case errA != nil || errB != nil:
			return boolCmp(errA != nil, errB != nil) // unknown forms last
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	head := []string{"BURN RATE"}
	for _, win := range windows {
		head = append(head, clean(win))
	}
	rows := [][]string{append(head, "FIRING")}
	for _, o := range objs {
		row := []string{clean(o.Name)}
		for _, win := range windows {
			cell := "-"
			if i := slices.IndexFunc(o.Windows, func(x statusjson.Window) bool { return x.Window == win }); i >= 0 {
				cell = formatBurn(o.Windows[i].Burn)
			}
			row = append(row, cell)
		}
		var firing []string
		for _, r := range o.Rules {
			if r.Firing {
				firing = append(firing, clean(r.Name))
			}
		}
		rows = append(rows, append(row, orDash(strings.Join(firing, ", "))))
	}
	fmt.Fprintln(w)
	writeTable(w, rows)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// criticalityOrder is the order in which sloguard sheds.
var criticalityOrder = []string{"SHEDDABLE", "SHEDDABLE_PLUS", "CRITICAL", "CRITICAL_PLUS"}

// writeScale prints the scale signal, if known.
func writeScale(w io.Writer, s statusjson.Scale) {
	if !s.Known || s.Need == nil || s.CapacityRPS == nil {
		return
	}
	var demand float64
	for _, d := range s.DemandRPS {
		demand += d
	}
	sat := ""
	if s.Saturated {
		sat = ", saturated"
	}
	fmt.Fprintf(w, "\nSCALE: needs %.2f× its capacity (demand %.0f/s, capacity %.0f/s%s)\n", *s.Need, demand, *s.CapacityRPS, sat)
}

func writeShed(w io.Writer, s statusjson.Shed) {
	if !s.Enabled {
		return
	}
	fmt.Fprintln(w)
	var total uint64
	for _, n := range s.Rejected {
		total += n
	}
	if s.Level == 0 && total == 0 {
		fmt.Fprintln(w, "SHEDDING: level 0, nothing shed")
		return
	}
	fmt.Fprintf(w, "SHEDDING: level %.2f\n", s.Level)
	var names []string
	for n := range s.Reject {
		names = append(names, n)
	}
	for n := range s.Rejected {
		if _, dup := s.Reject[n]; !dup {
			names = append(names, n)
		}
	}
	rank := func(n string) int {
		if i := slices.Index(criticalityOrder, n); i >= 0 {
			return i
		}
		return len(criticalityOrder)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	rows := [][]string{{"CRITICALITY", "REJECTING", "REJECTED SINCE START"}}
	for _, n := range names {
		rows = append(rows, []string{clean(n), formatTarget(s.Reject[n]), fmt.Sprint(s.Rejected[n])})
	}
	writeTable(w, rows)
}

func writeBreakers(w io.Writer, bs []statusjson.Breaker, p painter) {
	if len(bs) == 0 {
		return
	}
	rows := [][]string{{"BREAKER", p.paint(neutral, "STATE"), "BURNING", "RETRY AFTER"}}
	for _, b := range bs {
		colour := green
		switch b.State {
		case "open":
			colour = red
		case "half-open":
			colour = yellow
		}
		retry := "-"
		if d, ok := seconds(b.RetryAfterS); ok && d > 0 {
			retry = formatDuration(d)
		}
		rows = append(rows, []string{clean(b.Dependency), p.paint(colour, clean(b.State)), yesNo(b.Burning), retry})
	}
	fmt.Fprintln(w)
	writeTable(w, rows)
}

func writeGates(w io.Writer, gs []statusjson.Gate, p painter) {
	if len(gs) == 0 {
		return
	}
	rows := [][]string{{"GATE", p.paint(neutral, "ENABLED"), "REASON"}}
	for _, g := range gs {
		colour := green
		if !g.Enabled {
			colour = red
		}
		rows = append(rows, []string{clean(g.Name), p.paint(colour, yesNo(g.Enabled)), orDash(clean(g.Reason))})
	}
	fmt.Fprintln(w)
	writeTable(w, rows)
}

// writeTable prints rows as aligned columns, two spaces apart.
func writeTable(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// freezeText says why releases are frozen and when they may go on:
// "checkout has -12.0% of its budget left, at most 0.0%; expected to
// recover in 19d4h".
func freezeText(r statusjson.Release) string {
	s := clean(r.Reason)
	if s == "" {
		s = "no reason given"
	}
	// Null means the budget does not recover at the current rate, or only
	// a page holds the freeze, which ends with the burn: no estimate.
	if r.RecoveryS != nil && *r.RecoveryS > 0 {
		if d, ok := seconds(*r.RecoveryS); ok {
			return s + "; expected to recover in " + formatDuration(d)
		}
	}
	return s + "; no recovery estimate at the current rate"
}

// eventText is an event's line for people, made up from its fields when the
// service sent none.
func eventText(e statusjson.Event) string {
	if t := clean(e.Text); t != "" {
		return t
	}
	s := clean(e.Kind)
	if e.Objective != "" {
		s += " " + clean(e.Objective)
	}
	if e.From != "" || e.To != "" {
		s += ": " + clean(e.From) + " → " + clean(e.To)
	}
	return s
}

// formatTime formats a time of the service in UTC, to the second.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "not evaluated yet"
	}
	return t.UTC().Format(time.RFC3339)
}

// clean makes text from the service safe to print: control characters,
// such as escape sequences or tabs that would break a table, become spaces.
func clean(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
