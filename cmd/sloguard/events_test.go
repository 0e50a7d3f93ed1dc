package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

func TestEvents(t *testing.T) {
	doc := sampleDoc()
	doc.Time = t0.Add(30 * time.Minute)
	doc.Events = []statusjson.Event{
		{Time: t0.Add(-24 * time.Hour), Kind: "state_changed", Text: "checkout_api: unknown → ok (remaining 100.0%, burn 5m=0)"},
		{Time: t0, Kind: "state_changed", Text: "checkout_api: ok → page (remaining 97.1%, burn 5m=1000 1h=41.3)"},
		// No text: made up from the fields.
		{Time: t0.Add(time.Minute), Kind: "state_changed", Objective: "search", From: "ok", To: "ticket"},
		{Time: t0.Add(2 * time.Minute).In(time.FixedZone("CET", 3600)), Kind: "freeze_changed", Text: "releases frozen (a|b)"},
	}
	empty := sampleDoc()
	empty.Events = nil
	srv := serve(t, map[string]reply{
		"/status.json":       jsonReply(t, http.StatusOK, doc),
		"/empty/status.json": jsonReply(t, http.StatusOK, empty),
	})
	tests := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
	}{
		{
			name: "all",
			args: []string{"--url", srv.URL},
			wantStdout: "" +
				"2025-02-28T12:00:00Z  checkout_api: unknown → ok (remaining 100.0%, burn 5m=0)\n" +
				"2025-03-01T12:00:00Z  checkout_api: ok → page (remaining 97.1%, burn 5m=1000 1h=41.3)\n" +
				"2025-03-01T12:01:00Z  state_changed search: ok → ticket\n" +
				"2025-03-01T12:02:00Z  releases frozen (a|b)\n",
		},
		{
			name: "since an hour",
			args: []string{"--url", srv.URL, "--since", "1h"},
			wantStdout: "" +
				"2025-03-01T12:00:00Z  checkout_api: ok → page (remaining 97.1%, burn 5m=1000 1h=41.3)\n" +
				"2025-03-01T12:01:00Z  state_changed search: ok → ticket\n" +
				"2025-03-01T12:02:00Z  releases frozen (a|b)\n",
		},
		{
			name: "since the start of the window",
			args: []string{"--url", srv.URL, "--since", "29m"},
			wantStdout: "" +
				"2025-03-01T12:01:00Z  state_changed search: ok → ticket\n" +
				"2025-03-01T12:02:00Z  releases frozen (a|b)\n",
		},
		{
			name: "markdown",
			args: []string{"--url", srv.URL, "--since", "1d1h", "--markdown"},
			wantStdout: "" +
				"| Time (UTC) | Event |\n" +
				"| --- | --- |\n" +
				"| 2025-02-28T12:00:00Z | checkout\\_api: unknown → ok (remaining 100.0%, burn 5m=0) |\n" +
				"| 2025-03-01T12:00:00Z | checkout\\_api: ok → page (remaining 97.1%, burn 5m=1000 1h=41.3) |\n" +
				"| 2025-03-01T12:01:00Z | state\\_changed search: ok → ticket |\n" +
				"| 2025-03-01T12:02:00Z | releases frozen (a\\|b) |\n",
		},
		{
			name:       "none in the window",
			args:       []string{"--url", srv.URL, "--since", "10m"},
			wantStderr: "sloguard events: no events in the 10m before 2025-03-01T12:30:00Z\n",
		},
		{
			name:       "none at all",
			args:       []string{"--url", srv.URL + "/empty", "--markdown"},
			wantStderr: "sloguard events: no events\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"events"}, tt.args...)...)
			if code != exitOK {
				t.Errorf("events %q = %d, want 0", tt.args, code)
			}
			if stdout != tt.wantStdout {
				t.Errorf("events %q stdout =\n%s\nwant\n%s", tt.args, stdout, tt.wantStdout)
			}
			if stderr != tt.wantStderr {
				t.Errorf("events %q stderr = %q, want %q", tt.args, stderr, tt.wantStderr)
			}
		})
	}
}
