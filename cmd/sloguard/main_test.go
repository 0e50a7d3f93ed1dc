package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// runCmd runs the command line args in process.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// reply is a canned HTTP response.
type reply struct {
	status int
	body   string
}

// jsonReply is a 200 (or status) response with v as JSON.
func jsonReply(t *testing.T, status int, v any) reply {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%T) = %v", v, err)
	}
	return reply{status: status, body: string(b)}
}

// cannedServer serves replies by path (anything else is 404) on loopback
// and checks that every request is a GET with sloguard's User-Agent.
type cannedServer struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string // guarded by mu
}

func serve(t *testing.T, replies map[string]reply) *cannedServer {
	t.Helper()
	s := &cannedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("request method = %s, want GET", r.Method)
		}
		if ua := r.UserAgent(); !strings.HasPrefix(ua, "sloguard/") {
			t.Errorf("User-Agent = %q, want sloguard/<version>", ua)
		}
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		rep, ok := replies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		w.Write([]byte(rep.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *cannedServer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// closedPort returns the URL of a loopback port nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen = %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// hangingServer answers nothing until the client gives up.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(done) }) // runs first: lets Close return
	return s
}

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// sampleDoc is a status document with every section filled.
func sampleDoc() statusjson.Document {
	windows := func(burns ...float64) []statusjson.Window {
		names := []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
		ws := make([]statusjson.Window, len(burns))
		for i, b := range burns {
			ws[i] = statusjson.Window{Window: names[i], Burn: b}
		}
		return ws
	}
	return statusjson.Document{
		Time: t0,
		Objectives: []statusjson.Objective{
			{
				Name: "checkout-availability", Kind: "availability", Target: 0.999, PeriodS: 30 * 86400,
				State: "exhausted", Remaining: ptr(-0.12), TimeToExhaustionS: ptr(0.0),
				Windows: windows(1000, 166.7, 83.3, 41.65, 13.9, 3.47, 1.157),
				Rules: []statusjson.Rule{
					{Name: "page-1h", Severity: "page", Firing: true},
					{Name: "page-6h", Severity: "page", Firing: true},
					{Name: "ticket-1d", Severity: "ticket"},
				},
			},
			{
				Name: "search-latency", Kind: "latency", LatencyMS: 300, Target: 0.99, PeriodS: 30 * 86400,
				State: "ok", Remaining: ptr(0.8), TimeToExhaustionS: ptr(float64(12*86400 + 3*3600)),
				Windows: windows(0.5, 0.4, 0.3, 0.2, 0.1, 0, 0),
			},
			{
				Name: "payments-availability", Kind: "availability", Target: 0.995, PeriodS: 7 * 86400,
				Dependency: "payments", State: "unknown",
			},
			{
				Name: "cart-availability", Kind: "availability", Target: 0.999, PeriodS: 30 * 86400,
				State: "page", Remaining: ptr(-0.01), TimeToExhaustionS: ptr(0.0),
			},
		},
		Shed: statusjson.Shed{
			Enabled:  true,
			Level:    1.25,
			Reject:   map[string]float64{"SHEDDABLE": 1, "SHEDDABLE_PLUS": 0.25, "CRITICAL": 0, "CRITICAL_PLUS": 0},
			Rejected: map[string]uint64{"SHEDDABLE": 1200, "SHEDDABLE_PLUS": 40, "CRITICAL": 0, "CRITICAL_PLUS": 0},
		},
		Scale: statusjson.Scale{Known: true, Need: ptr(2.4), CapacityRPS: ptr(200.0), Saturated: true,
			DemandRPS: map[string]float64{"SHEDDABLE": 400, "SHEDDABLE_PLUS": 0, "CRITICAL": 80, "CRITICAL_PLUS": 0}},
		Breakers: []statusjson.Breaker{{Dependency: "payments", State: "open", Burning: true, RetryAfterS: 8}},
		Gates:    []statusjson.Gate{{Name: "recommender", Enabled: false, Reason: "releases are frozen"}},
		Release: statusjson.Release{
			Frozen:    true,
			Reason:    "checkout-availability has -12.0% of its budget left, at most 0.0%",
			Since:     t0.Add(-2 * time.Minute),
			RecoveryS: ptr(float64(19*86400 + 4*3600)),
		},
		Events: sampleEvents(),
	}
}

// sampleEvents are twelve events, one a minute up to t0.
func sampleEvents() []statusjson.Event {
	var evs []statusjson.Event
	for i := range 11 {
		evs = append(evs, statusjson.Event{
			Time: t0.Add(time.Duration(i-11) * time.Minute), Kind: "gate_changed",
			Text: "gate recommender: disabled (event " + string(rune('a'+i)) + ")",
		})
	}
	return append(evs, statusjson.Event{
		Time: t0, Kind: "freeze_changed",
		Text: "releases frozen (checkout-availability has -12.0% of its budget left, at most 0.0%)",
	})
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{"no arguments", nil, exitError, "", "Usage:"},
		{"unknown command", []string{"deploy"}, exitError, "", `unknown command "deploy"`},
		{"help", []string{"help"}, exitOK, "Commands:", ""},
		{"-h", []string{"-h"}, exitOK, "Commands:", ""},
		{"help gate", []string{"help", "gate"}, exitOK, "-objective NAME", ""},
		{"help unknown", []string{"help", "deploy"}, exitError, "", `unknown command "deploy"`},
		{"gate -h", []string{"gate", "-h"}, exitOK, "exit status is", ""},
		{"version", []string{"version"}, exitOK, "sloguard devel go1.", ""},
		{"--version", []string{"--version"}, exitOK, "sloguard devel", ""},
		{"version extra", []string{"version", "x"}, exitError, "", `unexpected argument "x"`},
		{"gate without url", []string{"gate"}, exitError, "", "--url is required"},
		{"status without url", []string{"status"}, exitError, "", "--url is required"},
		{"events without url", []string{"events"}, exitError, "", "--url is required"},
		{"postmortem without url", []string{"postmortem"}, exitError, "", "--url is required"},
		{"help postmortem", []string{"help", "postmortem"}, exitOK, "-since T", ""},
		{"bad flag", []string{"gate", "--url", "http://x", "--force"}, exitError, "", "flag provided but not defined: -force"},
		{"extra argument", []string{"gate", "--url", "http://x", "now"}, exitError, "", `unexpected argument "now"`},
		{"relative url", []string{"gate", "--url", "svc.internal/sloguard"}, exitError, "", "want an http:// or https:// URL"},
		{"zero timeout", []string{"gate", "--url", "http://x", "--timeout", "0s"}, exitError, "", "--timeout 0s must be positive"},
		{"negative events", []string{"status", "--url", "http://x", "--events", "-1"}, exitError, "", "--events -1 must not be negative"},
		{"bad since", []string{"events", "--url", "http://x", "--since", "yesterday"}, exitError, "", `invalid duration "yesterday"`},
		{"zero since", []string{"events", "--url", "http://x", "--since", "0s"}, exitError, "", "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("run(%q) stdout = %q, want it to contain %q", tt.args, stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("run(%q) stderr = %q, want it to contain %q", tt.args, stderr, tt.wantStderr)
			}
			if tt.wantCode == exitOK && stderr != "" {
				t.Errorf("run(%q) stderr = %q, want none", tt.args, stderr)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		base, page, want string
	}{
		{"http://svc:8080/sloguard", pageStatus, "http://svc:8080/sloguard/status.json"},
		{"http://svc:8080/sloguard/", pageRelease, "http://svc:8080/sloguard/release"},
		{"https://svc", pageStatus, "https://svc/status.json"},
		{"https://svc/", pageRelease, "https://svc/release"},
		{"https://svc/sloguard/status.json", pageStatus, "https://svc/sloguard/status.json"},
		{"https://svc/sloguard/status.json", pageRelease, "https://svc/sloguard/release"},
		{"https://svc/sloguard/release", pageStatus, "https://svc/sloguard/status.json"},
		{"https://svc/a/b?tenant=x#top", pageStatus, "https://svc/a/b/status.json?tenant=x"},
	}
	for _, tt := range tests {
		base, err := parseBase(tt.base)
		if err != nil {
			t.Errorf("parseBase(%q) = %v", tt.base, err)
			continue
		}
		if got := endpoint(base, tt.page).String(); got != tt.want {
			t.Errorf("endpoint(%q, %q) = %q, want %q", tt.base, tt.page, got, tt.want)
		}
	}
	for _, bad := range []string{"", "svc/sloguard", "ftp://svc/x", "http://", "http://a b/", "https:svc@x/y"} {
		if got, err := parseBase(bad); err == nil {
			t.Errorf("parseBase(%q) = %v, nil, want an error", bad, got)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{400 * time.Millisecond, "<1s"},
		{time.Second, "1s"},
		{59*time.Second + 600*time.Millisecond, "1m"},
		{90 * time.Second, "1m30s"},
		{time.Hour + 29*time.Second, "1h"},
		{3*time.Hour + 12*time.Minute, "3h12m"},
		{23*time.Hour + 59*time.Minute + 40*time.Second, "1d"},
		{19*day + 4*time.Hour + 10*time.Minute, "19d4h"},
		{30 * day, "30d"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.in); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90m", 90 * time.Minute, true},
		{"36h", 36 * time.Hour, true},
		{"7d", 7 * day, true},
		{"1d12h", 36 * time.Hour, true},
		{"0d", 0, true},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"-5m", 0, false},
		{"1d-5m", 0, false},
		{"1dd", 0, false},
		{"", 0, false},
		{"yesterday", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseDuration(%q) = %v, %v, want %v, ok %t", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormatNumbers(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{formatTarget(0.999), "99.9%"},
		{formatTarget(0.99), "99%"},
		{formatTarget(0.9995), "99.95%"},
		{percent(-0.12), "-12.0%"},
		{percent(0.8), "80.0%"},
		{formatBurn(0), "0"},
		{formatBurn(0.5), "0.50"},
		{formatBurn(41.65), "41.6"},
		{formatBurn(1000), "1000"},
		{bar(1), "[####################]"},
		{bar(0.5), "[##########..........]"},
		{bar(-3), "[....................]"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	if got, want := clean("a\tb\x1b[31mc\n"), "a b [31mc "; got != want {
		t.Errorf("clean() = %q, want %q", got, want)
	}
}
