package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// e2eVersion is linked into the binary under test, and so into its
// User-Agent.
const e2eVersion = "v0.0.0-e2e"

// buildCommand builds the sloguard binary into dir with the Go toolchain
// that runs the test.
func buildCommand(t *testing.T, dir string) string {
	t.Helper()
	// go test puts the GOROOT/bin of its toolchain first in PATH, so this is
	// the go command running the test (runtime.GOROOT is deprecated).
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	bin := filepath.Join(dir, "sloguard")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "-ldflags=-X main.version="+e2eVersion, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// result is how one run of the binary ended.
type result struct {
	code           int
	stdout, stderr string
}

// runBinary runs the binary with args and returns its exit status and
// output; it fails the test if the binary does not finish in time.
func runBinary(t *testing.T, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("sloguard %q: %v (context: %v)", args, err, ctx.Err())
	}
	r := result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	t.Logf("$ sloguard %s  # exit status %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// TestEndToEnd builds the command and runs it against a real service on
// loopback, an Engine behind the real status handler, in each state of the
// release gate: allowed, frozen (budget spent), and unreachable.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sloguard command")
	}
	bin := buildCommand(t, t.TempDir())

	eng, err := slo.New([]slo.Objective{
		{Name: "checkout-availability", Target: 0.999},
		{Name: "search-latency", Target: 0.99, Latency: 300 * time.Millisecond},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		t.Fatalf("slo.New: %v", err)
	}
	defer eng.Close()
	h, err := statuspage.New(eng)
	if err != nil {
		t.Fatalf("statuspage.New: %v", err)
	}
	var (
		mu     sync.Mutex
		agents = map[string]bool{} // guarded by mu
	)
	mux := http.NewServeMux()
	mux.Handle("/sloguard/", http.StripPrefix("/sloguard", h))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.Method+" "+r.UserAgent()] = true
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	url := srv.URL + "/sloguard"

	checkout, err := eng.Recorder("checkout-availability")
	if err != nil {
		t.Fatal(err)
	}
	search, err := eng.Recorder("search-latency")
	if err != nil {
		t.Fatal(err)
	}
	healthy := func(at time.Time) {
		for range 1000 {
			checkout.Record(budget.Good, 20*time.Millisecond)
			search.Record(budget.Good, 20*time.Millisecond)
		}
		eng.Tick(at)
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	type check struct {
		args     []string
		wantCode int
		want     []string // substrings of stdout
	}
	steps := []struct {
		name   string
		drive  func()
		checks []check
	}{
		{
			name:  "no traffic yet",
			drive: func() {},
			checks: []check{
				{[]string{"gate", "--url", url}, exitOK, []string{"releases allowed"}},
				{[]string{"gate", "--url", url, "--objective", "checkout-availability"}, exitOK,
					[]string{"releases allowed: checkout-availability has too little traffic to judge yet (state unknown)"}},
				{[]string{"status", "--url", url}, exitOK, []string{"not evaluated yet", "releases:  allowed", "unknown  no data", "EVENTS: none yet"}},
			},
		},
		{
			name:  "allowed",
			drive: func() { healthy(start) },
			checks: []check{
				{[]string{"gate", "--url", url}, exitOK, []string{"releases allowed\n"}},
				{[]string{"gate", "--url", url + "/", "--objective", "checkout-availability"}, exitOK,
					[]string{"releases allowed: checkout-availability has 100.0% of its budget left (state ok)"}},
				{[]string{"status", "--url", url + "/status.json"}, exitOK, []string{
					"time:      2025-03-01T12:00:00Z",
					"releases:  allowed",
					"checkout-availability  availability   99.9%   30d     ok     [####################] 100.0%  -",
					"search-latency         latency 300ms  99%     30d     ok",
					"checkout-availability: unknown → ok",
				}},
			},
		},
		{
			// 20 bad requests of 1020 in the budget's period: 20 times the
			// 0.1% allowed, and as fast over the last hour: no recovery.
			name: "frozen, still failing",
			drive: func() {
				for range 20 {
					checkout.Record(budget.Bad, 20*time.Millisecond)
				}
				eng.Tick(start.Add(time.Minute))
			},
			checks: []check{
				{[]string{"gate", "--url", url}, exitFrozen, []string{
					"releases frozen: checkout-availability has -1860.8% of its budget left, at most 0.0%; no recovery estimate at the current rate\n",
					"frozen since 2025-03-01T12:01:00Z\n",
				}},
				{[]string{"gate", "--url", url, "--objective", "checkout-availability"}, exitFrozen,
					[]string{"releases frozen: checkout-availability has -1860.8% of its budget left (state exhausted)"}},
				{[]string{"gate", "--url", url, "--objective", "search-latency"}, exitOK, []string{
					"releases allowed: search-latency has 100.0% of its budget left (state ok)",
					"note: the service's release policy is frozen: checkout-availability",
				}},
			},
		},
		{
			// Two healthy hours later the recent traffic would bring the
			// budget back: the verdict says when.
			name: "frozen, recovering",
			drive: func() {
				healthy(start.Add(2 * time.Hour))
			},
			checks: []check{
				{[]string{"gate", "--url", url}, exitFrozen, []string{
					"releases frozen: checkout-availability has ",
					"of its budget left, at most 5.0%; expected to recover in ",
				}},
				{[]string{"status", "--url", url}, exitOK, []string{
					"time:      2025-03-01T14:00:00Z",
					"releases:  FROZEN since 2025-03-01T12:01:00Z: checkout-availability has ",
					"exhausted  [....................]",
					"BURN RATE",
					"checkout-availability: ok → exhausted",
					"releases frozen (checkout-availability has -1860.8% of its budget left, at most 0.0%)",
				}},
				{[]string{"events", "--url", url, "--markdown"}, exitOK, []string{
					"| Time (UTC) | Event |\n| --- | --- |\n| 2025-03-01T12:00:00Z | checkout-availability: unknown → ok",
					"| 2025-03-01T12:01:00Z | releases frozen (checkout-availability has -1860.8% of its budget left, at most 0.0%) |\n",
				}},
				{[]string{"events", "--url", url, "--since", "90m"}, exitOK, nil},
			},
		},
	}
	for _, step := range steps {
		step.drive()
		for _, c := range step.checks {
			got := runBinary(t, bin, c.args...)
			if got.code != c.wantCode {
				t.Errorf("%s: sloguard %q = %d, want %d\nstdout: %s\nstderr: %s", step.name, c.args, got.code, c.wantCode, got.stdout, got.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("%s: sloguard %q stdout does not contain %q:\n%s", step.name, c.args, w, got.stdout)
				}
			}
			if c.want == nil && got.stdout != "" {
				t.Errorf("%s: sloguard %q stdout = %q, want none", step.name, c.args, got.stdout)
			}
		}
	}

	// The JSON is the handler's document.
	got := runBinary(t, bin, "status", "--url", url, "--json")
	var doc statusjson.Document
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil || got.code != exitOK {
		t.Errorf("sloguard status --json = %d, %v", got.code, err)
	} else if !doc.Release.Frozen || doc.Release.RecoveryS == nil || len(doc.Objectives) != 2 {
		t.Errorf("sloguard status --json: release %+v, %d objectives; want frozen with a recovery estimate, 2", doc.Release, len(doc.Objectives))
	}

	mu.Lock()
	for a := range agents {
		if a != "GET sloguard/"+e2eVersion {
			t.Errorf("the service saw a request %q, want only GET with User-Agent sloguard/%s", a, e2eVersion)
		}
	}
	mu.Unlock()

	// A stopped service: no decision.
	srv.Close()
	for _, args := range [][]string{
		{"gate", "--url", url, "--timeout", "5s"},
		{"gate", "--url", url, "--objective", "checkout-availability"},
		{"status", "--url", url},
	} {
		got := runBinary(t, bin, args...)
		if got.code != exitError || !strings.Contains(got.stderr, "connection refused") {
			t.Errorf("stopped service: sloguard %q = %d, stderr %q; want 2, connection refused", args, got.code, got.stderr)
		}
	}
}
