package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

func TestStatus(t *testing.T) {
	srv := serve(t, map[string]reply{
		"/sloguard/status.json": jsonReply(t, http.StatusOK, sampleDoc()),
	})
	code, stdout, stderr := runCmd(t, "status", "--url", srv.URL+"/sloguard")
	if code != exitOK || stderr != "" {
		t.Fatalf("status = %d, stderr %q, want 0 and none", code, stderr)
	}
	t.Logf("output:\n%s", stdout)
	for _, want := range []string{
		"time:      2025-03-01T12:00:00Z",
		"releases:  FROZEN since 2025-03-01T11:58:00Z: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h",
		// objectives
		"checkout-availability  availability   99.9%   30d     -           exhausted  [....................] -12.0%  spent",
		"search-latency         latency 300ms  99%     30d     -           ok         [################....]  80.0%  12d3h",
		"payments-availability  availability   99.5%   7d      payments    unknown    no data",
		// burn rates, shortest window first, and firing rules
		"BURN RATE              5m    30m   1h    2h    6h    1d    3d    FIRING",
		"checkout-availability  1000  167   83.3  41.6  13.9  3.47  1.16  page-1h, page-6h",
		"cart-availability      -     -     -     -     -     -     -     -",
		// protections
		"SHEDDING: level 1.25",
		"SHEDDABLE       100%",
		"SHEDDABLE_PLUS  25%",
		"SCALE: needs 2.40× its capacity (demand 480/s, capacity 200/s, saturated)",
		"payments  open   yes      8s",
		"recommender  no       releases are frozen",
		// the last ten of twelve events, oldest first
		"EVENTS (last 10 of 12)",
		"2025-03-01T11:51:00Z  gate recommender: disabled (event c)",
		"2025-03-01T12:00:00Z  releases frozen (checkout-availability",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status output does not contain %q", want)
		}
	}
	for _, absent := range []string{"event b)", "\x1b["} {
		if strings.Contains(stdout, absent) {
			t.Errorf("status output contains %q", absent)
		}
	}
	// The objectives table is aligned: every state starts in one column.
	lines := strings.Split(stdout, "\n")
	head := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "OBJECTIVE") })
	col := strings.Index(lines[head], "STATE")
	for _, l := range lines[head+1 : head+5] {
		if !strings.HasPrefix(l[col:], "exhausted") && !strings.HasPrefix(l[col:], "ok") &&
			!strings.HasPrefix(l[col:], "unknown") && !strings.HasPrefix(l[col:], "page") {
			t.Errorf("row %q has no state at column %d", l, col)
		}
	}
}

func TestStatusOptions(t *testing.T) {
	doc := sampleDoc()
	srv := serve(t, map[string]reply{"/status.json": jsonReply(t, http.StatusOK, doc)})
	tests := []struct {
		name     string
		args     []string
		want     []string
		dontWant []string
	}{
		{"url naming status.json", []string{"--url", srv.URL + "/status.json"}, []string{"checkout-availability"}, nil},
		{"two events", []string{"--url", srv.URL, "--events", "2"}, []string{"EVENTS (last 2 of 12)", "event k)"}, []string{"event j)"}},
		{"no events", []string{"--url", srv.URL, "--events", "0"}, nil, []string{"EVENTS"}},
		{"colour", []string{"--url", srv.URL, "--color"}, []string{"\x1b[31mFROZEN\x1b[0m", "\x1b[32mok\x1b[0m"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"status"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("status %q = %d, stderr %q, want 0", tt.args, code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("status %q output does not contain %q", tt.args, w)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(stdout, w) {
					t.Errorf("status %q output contains %q", tt.args, w)
				}
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	srv := serve(t, map[string]reply{"/status.json": jsonReply(t, http.StatusOK, sampleDoc())})
	code, stdout, stderr := runCmd(t, "status", "--url", srv.URL, "--json")
	if code != exitOK {
		t.Fatalf("status --json = %d, stderr %q, want 0", code, stderr)
	}
	if !strings.HasPrefix(stdout, "{\n  \"time\": \"2025-03-01T12:00:00Z\",\n") {
		t.Errorf("status --json does not start with the indented document:\n%.200s", stdout)
	}
	var doc statusjson.Document
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("status --json output: %v", err)
	}
	if got := len(doc.Objectives); got != 4 {
		t.Errorf("status --json has %d objectives, want 4", got)
	}
}

func TestStatusErrors(t *testing.T) {
	srv := serve(t, map[string]reply{
		"/broken/status.json":  {http.StatusInternalServerError, "engine on fire\n"},
		"/garbage/status.json": {http.StatusOK, `{"time": 12`},
		"/html/status.json":    {http.StatusOK, "<!doctype html><title>shop</title>"},
		"/other/status.json":   {http.StatusOK, `{"items": []}`},
	})
	tests := []struct {
		name, url, want string
	}{
		{"500", srv.URL + "/broken", "status.json: 500 Internal Server Error: engine on fire"},
		{"404", srv.URL + "/nowhere", "404 Not Found: 404 page not found"},
		{"invalid JSON", srv.URL + "/garbage", "invalid JSON"},
		{"HTML", srv.URL + "/html", "got HTML, not JSON: does --url point at the sloguard status handler?"},
		{"other JSON", srv.URL + "/other", "no objectives"},
		{"unreachable", closedPort(t), "connection refused"},
		{"timeout", hangingServer(t).URL, "no answer within 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range []string{"status", "events"} {
				code, stdout, stderr := runCmd(t, cmd, "--url", tt.url, "--timeout", "100ms")
				if code != exitError || stdout != "" {
					t.Errorf("%s %s = %d, stdout %q, want 2 and none", cmd, tt.url, code, stdout)
				}
				if !strings.Contains(stderr, tt.want) {
					t.Errorf("%s %s stderr = %q, want it to contain %q", cmd, tt.url, stderr, tt.want)
				}
			}
		})
	}
}

func TestViewText(t *testing.T) {
	age := func(s float64) *float64 { return &s }
	for _, tt := range []struct {
		in   statusjson.Objective
		want string
	}{
		{statusjson.Objective{}, "-"},
		{statusjson.Objective{View: "local"}, "local"},
		{statusjson.Objective{View: "restored", ViewAgeS: age(3 * 3600)}, "restored 3h"},
		{statusjson.Objective{View: "fleet", ViewAgeS: age(12), Local: &statusjson.Local{State: "ok", Remaining: age(0.971)}}, "fleet 12s (here 97.1%)"},
		{statusjson.Objective{View: "fleet", ViewAgeS: age(12), Local: &statusjson.Local{State: "unknown"}}, "fleet 12s (here unknown)"},
		{statusjson.Objective{View: "fleet\x1b[31m"}, "fleet [31m"},
	} {
		if got := viewText(tt.in); got != tt.want {
			t.Errorf("viewText(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
