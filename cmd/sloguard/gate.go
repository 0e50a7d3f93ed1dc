package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

var gateCommand = &command{
	name:     "gate",
	synopsis: "--url URL [--objective NAME] [--timeout DURATION]",
	summary:  "exit 0 if releases may go on, 1 if the error budget froze them",
	detail: `Gate asks the release gate of a service whether releases may go on, for a
CI/CD pipeline step. URL is the mount point of the service's sloguard status
handler; gate reads URL/release, the verdict of the service's error budget
policy. The exit status is

	0  releases are allowed
	1  releases are frozen: the reason and the expected recovery are printed
	2  no decision: the service could not be reached within the timeout,
	   answered with another status than 200 or 409, or with invalid JSON;
	   the cause is printed on standard error

With --objective NAME, gate decides on that objective alone, from the status
document (URL/status.json): frozen when its budget is spent (state exhausted
or no budget left), allowed otherwise, and allowed with a note while the
objective has too little traffic to know (state unknown). An objective the
service does not have is exit status 2.`,
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		var t target
		t.define(fs)
		objective := fs.String("objective", "", "decide on the objective `NAME` alone instead of the service's release policy")
		return func(args []string, stdout, stderr io.Writer) int {
			cl, code, ok := t.open(c, args, stderr)
			if !ok {
				return code
			}
			defer cl.close()
			var err error
			if *objective != "" {
				code, err = gateObjective(context.Background(), cl, t.base, *objective, stdout)
			} else {
				code, err = gateRelease(context.Background(), cl, t.base, stdout)
			}
			if err != nil {
				fmt.Fprintf(stderr, "sloguard gate: no decision: %v\n", err)
				return exitError
			}
			return code
		}
	},
}

// gateRelease decides from the release endpoint. Its status code and its
// body must agree: a gate does not guess.
func gateRelease(ctx context.Context, cl *client, base *url.URL, stdout io.Writer) (int, error) {
	r, err := cl.get(ctx, endpoint(base, pageRelease))
	if err != nil {
		return exitError, err
	}
	if r.status != http.StatusOK && r.status != http.StatusConflict {
		return exitError, r.unexpected()
	}
	var rel statusjson.Release
	if err := r.decode(&rel); err != nil {
		return exitError, err
	}
	switch {
	case r.status == http.StatusOK && rel.Allowed && !rel.Frozen:
		fmt.Fprintln(stdout, "releases allowed")
		return exitOK, nil
	case r.status == http.StatusConflict && rel.Frozen && !rel.Allowed:
		fmt.Fprintf(stdout, "releases frozen: %s\n", freezeText(rel))
		if !rel.Since.IsZero() {
			fmt.Fprintf(stdout, "frozen since %s\n", formatTime(rel.Since))
		}
		return exitFrozen, nil
	}
	return exitError, fmt.Errorf("GET %s: status %d contradicts the body (allowed %t, frozen %t)", r.url, r.status, rel.Allowed, rel.Frozen)
}

// gateObjective decides on one objective of the status document.
func gateObjective(ctx context.Context, cl *client, base *url.URL, name string, stdout io.Writer) (int, error) {
	doc, r, err := fetchDocument(ctx, cl, base)
	if err != nil {
		return exitError, err
	}
	i := slices.IndexFunc(doc.Objectives, func(o statusjson.Objective) bool { return o.Name == name })
	if i < 0 {
		names := make([]string, len(doc.Objectives))
		for j, o := range doc.Objectives {
			names[j] = clean(o.Name)
		}
		return exitError, fmt.Errorf("%s has no objective %q; it has %s", r.url, name, strings.Join(names, ", "))
	}
	o := doc.Objectives[i]
	state := clean(o.State)
	code := exitOK
	switch {
	case o.Remaining != nil && (o.State == "exhausted" || *o.Remaining <= 0):
		fmt.Fprintf(stdout, "releases frozen: %s has %s of its budget left (state %s)\n", clean(name), percent(*o.Remaining), state)
		code = exitFrozen
	case o.State == "exhausted":
		fmt.Fprintf(stdout, "releases frozen: %s is in state %s\n", clean(name), state)
		code = exitFrozen
	case o.State == "unknown" || o.Remaining == nil:
		fmt.Fprintf(stdout, "releases allowed: %s has too little traffic to judge yet (state %s)\n", clean(name), state)
	default:
		fmt.Fprintf(stdout, "releases allowed: %s has %s of its budget left (state %s)\n", clean(name), percent(*o.Remaining), state)
	}
	// The objective alone decides, but a frozen service is worth knowing.
	if doc.Release.Frozen {
		fmt.Fprintf(stdout, "note: the service's release policy is frozen: %s\n", freezeText(doc.Release))
	}
	return code, nil
}
