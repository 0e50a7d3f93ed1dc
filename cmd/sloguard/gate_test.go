package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

func TestGate(t *testing.T) {
	frozen := statusjson.Release{
		Frozen:    true,
		Reason:    "checkout-availability has -12.0% of its budget left, at most 0.0%",
		Since:     t0,
		RecoveryS: ptr(float64(19*86400 + 4*3600)),
	}
	never := frozen
	never.RecoveryS = nil
	srv := serve(t, map[string]reply{
		"/allowed/release":       jsonReply(t, http.StatusOK, statusjson.Release{Allowed: true}),
		"/frozen/release":        jsonReply(t, http.StatusConflict, frozen),
		"/never/release":         jsonReply(t, http.StatusConflict, never),
		"/broken/release":        {http.StatusInternalServerError, "engine on fire"},
		"/unavailable/release":   {http.StatusServiceUnavailable, ""},
		"/garbage/release":       {http.StatusOK, "allowed"},
		"/conflict-html/release": {http.StatusConflict, "<html>conflict</html>"},
		"/contradiction/release": jsonReply(t, http.StatusOK, frozen),
		"/empty/release":         {http.StatusOK, "{}"},
		"/allowed-409/release":   jsonReply(t, http.StatusConflict, statusjson.Release{Allowed: true}),
		"/doc/status.json":       jsonReply(t, http.StatusOK, sampleDoc()),
		"/broken/status.json":    {http.StatusInternalServerError, "engine on fire"},
	})
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // the whole of it
		wantStderr string // substring
	}{
		{
			name:       "allowed",
			args:       []string{"--url", srv.URL + "/allowed"},
			wantCode:   exitOK,
			wantStdout: "releases allowed\n",
		},
		{
			name:     "frozen",
			args:     []string{"--url", srv.URL + "/frozen/"},
			wantCode: exitFrozen,
			wantStdout: "releases frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h\n" +
				"frozen since 2025-03-01T12:00:00Z\n",
		},
		{
			name:     "frozen without recovery",
			args:     []string{"--url", srv.URL + "/never/status.json"},
			wantCode: exitFrozen,
			wantStdout: "releases frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; no recovery estimate at the current rate\n" +
				"frozen since 2025-03-01T12:00:00Z\n",
		},
		{
			name:       "unreachable",
			args:       []string{"--url", closedPort(t) + "/sloguard"},
			wantCode:   exitError,
			wantStderr: "connection refused",
		},
		{
			name:       "timeout",
			args:       []string{"--url", hangingServer(t).URL, "--timeout", "100ms"},
			wantCode:   exitError,
			wantStderr: "/release: no answer within 100ms",
		},
		{
			name:       "500",
			args:       []string{"--url", srv.URL + "/broken"},
			wantCode:   exitError,
			wantStderr: "no decision: GET " + srv.URL + "/broken/release: 500 Internal Server Error: engine on fire\n",
		},
		{
			name:       "503",
			args:       []string{"--url", srv.URL + "/unavailable"},
			wantCode:   exitError,
			wantStderr: "503 Service Unavailable\n",
		},
		{
			name:       "404",
			args:       []string{"--url", srv.URL + "/nowhere"},
			wantCode:   exitError,
			wantStderr: "404 Not Found",
		},
		{
			name:       "invalid JSON",
			args:       []string{"--url", srv.URL + "/garbage"},
			wantCode:   exitError,
			wantStderr: "invalid JSON",
		},
		{
			name:       "409 with HTML",
			args:       []string{"--url", srv.URL + "/conflict-html"},
			wantCode:   exitError,
			wantStderr: "got HTML, not JSON",
		},
		{
			name:       "200 saying frozen",
			args:       []string{"--url", srv.URL + "/contradiction"},
			wantCode:   exitError,
			wantStderr: "status 200 contradicts the body (allowed false, frozen true)",
		},
		{
			name:       "200 with empty object",
			args:       []string{"--url", srv.URL + "/empty"},
			wantCode:   exitError,
			wantStderr: "status 200 contradicts the body",
		},
		{
			name:       "409 saying allowed",
			args:       []string{"--url", srv.URL + "/allowed-409"},
			wantCode:   exitError,
			wantStderr: "status 409 contradicts the body",
		},
		{
			name:     "objective exhausted",
			args:     []string{"--url", srv.URL + "/doc", "--objective", "checkout-availability"},
			wantCode: exitFrozen,
			wantStdout: "releases frozen: checkout-availability has -12.0% of its budget left (state exhausted)\n" +
				"note: the service's release policy is frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h\n",
		},
		{
			name:     "objective paging with its budget spent",
			args:     []string{"--url", srv.URL + "/doc", "--objective", "cart-availability"},
			wantCode: exitFrozen,
			wantStdout: "releases frozen: cart-availability has -1.0% of its budget left (state page)\n" +
				"note: the service's release policy is frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h\n",
		},
		{
			name:     "objective ok",
			args:     []string{"--url", srv.URL + "/doc", "--objective", "search-latency"},
			wantCode: exitOK,
			wantStdout: "releases allowed: search-latency has 80.0% of its budget left (state ok)\n" +
				"note: the service's release policy is frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h\n",
		},
		{
			name:     "objective unknown",
			args:     []string{"--url", srv.URL + "/doc", "--objective", "payments-availability"},
			wantCode: exitOK,
			wantStdout: "releases allowed: payments-availability has too little traffic to judge yet (state unknown)\n" +
				"note: the service's release policy is frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h\n",
		},
		{
			name:       "no such objective",
			args:       []string{"--url", srv.URL + "/doc", "--objective", "checkout"},
			wantCode:   exitError,
			wantStderr: `/doc/status.json has no objective "checkout"; it has checkout-availability, search-latency, payments-availability, cart-availability`,
		},
		{
			name:       "objective of a failing service",
			args:       []string{"--url", srv.URL + "/broken", "--objective", "checkout-availability"},
			wantCode:   exitError,
			wantStderr: "500 Internal Server Error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, stdout, stderr := runCmd(t, append([]string{"gate"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("gate %q = %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			if stdout != tt.wantStdout {
				t.Errorf("gate %q stdout = %q, want %q", tt.args, stdout, tt.wantStdout)
			}
			if tt.wantStderr == "" && stderr != "" || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("gate %q stderr = %q, want %q in it", tt.args, stderr, tt.wantStderr)
			}
			if tt.wantCode == exitError && !strings.HasPrefix(stderr, "sloguard gate: no decision: ") {
				t.Errorf("gate %q stderr = %q, want it to start with %q", tt.args, stderr, "sloguard gate: no decision: ")
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("gate %q took %v", tt.args, d)
			}
		})
	}
	// Without --objective the gate asks the release endpoint alone; with
	// it, the status document alone.
	paths := srv.requested()
	for _, p := range paths {
		if !strings.HasSuffix(p, "/release") && !strings.HasSuffix(p, "/status.json") {
			t.Errorf("gate requested %s", p)
		}
	}
	if !slices.Contains(paths, "/frozen/release") || !slices.Contains(paths, "/never/release") {
		t.Errorf("gate requested %q, want /frozen/release and /never/release among them", paths)
	}
}
