package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

var eventsCommand = &command{
	name:     "events",
	synopsis: "--url URL [--since DURATION] [--markdown] [--timeout DURATION]",
	summary:  "print the event timeline, for a postmortem",
	detail: `Events prints the timeline that the service keeps in memory (state changes
of its objectives, load shedding, circuit breakers, feature gates and release
freezes), oldest first, one line per event: its time in RFC 3339 (UTC) and
what happened. With --markdown it prints a Markdown table to paste into a
postmortem document.

--since keeps the events of that last stretch of time, counted back from
the time of the status document (the service's clock, not this machine's);
it takes Go durations and days: 90m, 36h, 7d, 1d12h. The service keeps a
bounded number of events (by default the latest 256, and besides them the
first 1024 and the latest 3072 changes of what sloguard does in an
incident), so some may be gone on a service that changes a lot; 'sloguard
postmortem' drafts the whole postmortem.`,
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		var t target
		t.define(fs)
		var since sinceFlag
		fs.Var(&since, "since", "only the events of the last `DURATION`, e.g. 90m, 36h or 7d (default all)")
		markdown := fs.Bool("markdown", false, "print a Markdown table")
		return func(args []string, stdout, stderr io.Writer) int {
			cl, code, ok := t.open(c, args, stderr)
			if !ok {
				return code
			}
			defer cl.close()
			doc, _, err := fetchDocument(context.Background(), cl, t.base)
			if err != nil {
				fmt.Fprintf(stderr, "sloguard events: %v\n", err)
				return exitError
			}
			evs := eventsSince(doc, since.d)
			if len(evs) == 0 {
				// A note, not output: a script reading the lines gets none.
				if since.d > 0 {
					fmt.Fprintf(stderr, "sloguard events: no events in the %s before %s\n", formatDuration(since.d), formatTime(doc.Time))
				} else {
					fmt.Fprintln(stderr, "sloguard events: no events")
				}
				return exitOK
			}
			writeEvents(stdout, evs, *markdown)
			return exitOK
		}
	},
}

// eventsSince returns the document's events of the last d before its time;
// all of them when d is 0.
func eventsSince(doc *statusjson.Document, d time.Duration) []statusjson.Event {
	if d <= 0 || doc.Time.IsZero() {
		return doc.Events
	}
	from := doc.Time.Add(-d)
	var out []statusjson.Event
	for _, e := range doc.Events {
		if !e.Time.Before(from) {
			out = append(out, e)
		}
	}
	return out
}

// writeEvents prints events one a line, or as a Markdown table.
func writeEvents(w io.Writer, evs []statusjson.Event, markdown bool) {
	if !markdown {
		for _, e := range evs {
			fmt.Fprintf(w, "%s  %s\n", formatTime(e.Time), eventText(e))
		}
		return
	}
	fmt.Fprintln(w, "| Time (UTC) | Event |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, e := range evs {
		fmt.Fprintf(w, "| %s | %s |\n", formatTime(e.Time), markdownEscaper.Replace(eventText(e)))
	}
}

// markdownEscaper keeps an event's text literal in a Markdown table cell:
// a '|' would end the cell, and '_' or '*' in objective names would turn
// into emphasis.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`",
	"<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`,
)
