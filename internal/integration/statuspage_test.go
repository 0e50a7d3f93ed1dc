//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage"
)

// The status page test's objectives and gates.
const (
	pageCheckout = "checkout-availability"
	pageSearch   = "search-latency"
	pageGateUI   = "new-checkout-flow"
	pageGateRecs = "recommendations"
)

// The page's size in the browser, and so the screenshot's.
const pageWidth, pageHeight = 1280, 1600

// TestStatusPageInChromium serves the status page of an engine in trouble
// (one objective's budget spent, releases frozen, load being shed, a gate
// closed) and renders it in headless Chromium: the browser must draw it
// (a screenshot of the full window) and its DOM must hold the objectives,
// their remaining budgets as printed, the freeze and the charts.
//
// SLOGUARD_SCREENSHOT_DIR, if set, receives a copy of the screenshot as
// statuspage.png, e.g. for the README.
func TestStatusPageInChromium(t *testing.T) {
	chromium := requireBinary(t, "SLOGUARD_CHROMIUM")
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()

	eng := statusPageEngine(t)
	st := eng.Status()
	page, err := statuspage.New(eng, statuspage.WithTitle("shop · checkout service"))
	if err != nil {
		t.Fatalf("statuspage.New = %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", page))
	srv := httptest.NewServer(mux) // 127.0.0.1
	defer srv.Close()
	url := srv.URL + "/status/"

	// The pipeline's view first: frozen means 409.
	if code := pageStatusCode(ctx, t, srv.URL+"/status/release"); code != http.StatusConflict {
		t.Errorf("GET /status/release = %d, want 409 while frozen", code)
	}
	if _, err := httpGet(ctx, srv.URL+"/status/status.json"); err != nil {
		t.Errorf("GET /status/status.json: %v", err)
	}

	dir := t.TempDir()
	shot := filepath.Join(dir, "page.png")
	runChromium(ctx, t, chromium, "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", pageWidth, pageHeight), url)
	checkScreenshot(t, shot)
	if out := os.Getenv("SLOGUARD_SCREENSHOT_DIR"); out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(out, "statuspage.png")
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", dst)
	}

	dom := runChromium(ctx, t, chromium, "--dump-dom", url)
	want := []string{
		"<svg", "</svg>", "<polyline",
		"RELEASES FROZEN",
		"✖ EXHAUSTED",
		"Recent events",
		pageGateUI, pageGateRecs, "✖ DISABLED", "✓ ENABLED",
		"◆ SHEDDING", "SHEDDABLE_PLUS",
	}
	for _, o := range st.Objectives {
		if o.Report.State == budget.StateUnknown {
			t.Fatalf("%s is unknown: the scenario went wrong", o.Objective.Name)
		}
		want = append(want, o.Objective.Name, fmt.Sprintf("%.1f%%", o.Report.Remaining*100))
	}
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("the DOM Chromium rendered lacks %q", w)
		}
	}
	// One chart per objective, and the load by criticality of a service
	// that sheds.
	if n := strings.Count(dom, "<svg"); n != len(st.Objectives)+1 || !strings.Contains(dom, `class="chart load"`) {
		t.Errorf("the DOM has %d svg charts, want one per objective (%d) and the load chart", n, len(st.Objectives))
	}
	if t.Failed() {
		t.Logf("DOM:\n%.20000s", dom)
	}
}

// statusPageEngine returns an engine driven through three hours of
// traffic: checkout healthy until an error storm spends its budget and
// freezes releases, search slightly slow throughout, and at the end a burst
// that makes the engine shed SHEDDABLE traffic. History is sampled every
// minute, so the charts have 180 points.
func statusPageEngine(t *testing.T) *slo.Engine {
	t.Helper()
	eng, err := slo.New([]slo.Objective{
		{Name: pageCheckout, Description: "POST /checkout answers without a server error (5xx).", Target: 0.999},
		{Name: pageSearch, Description: "GET /search answers within 300 ms.", Target: 0.99, Latency: 300 * time.Millisecond},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithHistory(time.Minute, 240),
		slo.WithShedding(slo.ShedPolicy{Burn: 40}),
		slo.WithGate(pageGateUI, slo.GatePolicy{ClosedWhenFrozen: true}),
		slo.WithGate(pageGateRecs, slo.GatePolicy{Objectives: []string{pageSearch}, MinRemaining: 0.25}),
	)
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("Engine.Close = %v", err)
		}
	})
	rec := func(name string, o budget.Outcome, latency time.Duration, n int) {
		rec, err := eng.Recorder(name)
		if err != nil {
			t.Fatalf("Engine.Recorder(%q) = %v", name, err)
		}
		for range n {
			rec.Record(o, latency)
		}
	}
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	const minutes = 180
	var now time.Time
	for m := range minutes {
		now = start.Add(time.Duration(m) * time.Minute)
		// Checkout: 2000 a minute, an error now and then; from 2h30 an
		// error storm fails 3% of them (burn 30).
		bad := 0
		switch {
		case m >= 150:
			bad = 60
		case m%7 == 3:
			bad = 1
		}
		rec(pageCheckout, budget.Good, 0, 2000-bad)
		rec(pageCheckout, budget.Bad, 0, bad)
		// Search: 600 a minute, 1 slow; 4 slow in the second hour.
		slow := 1
		if m >= 60 && m < 120 {
			slow = 4
		}
		rec(pageSearch, budget.Good, 40*time.Millisecond, 600-slow)
		rec(pageSearch, budget.Good, 450*time.Millisecond, slow)
		eng.Tick(now)
	}
	// A burst (5% errors, burn 50 over the 2s control window) makes the
	// shed level rise half a band at each evaluation that sees it.
	for _, step := range []time.Duration{5 * time.Second, 2 * time.Second} {
		rec(pageCheckout, budget.Good, 0, 95)
		rec(pageCheckout, budget.Bad, 0, 5)
		now = now.Add(step)
		eng.Tick(now)
	}
	rt, err := eng.Route(slo.Sheddable, pageCheckout)
	if err != nil {
		t.Fatal(err)
	}
	for range 240 {
		if _, _, ok := rt.Admit(slo.Sheddable); ok { // the core records the rejection as Shed
			t.Fatalf("Route.Admit(SHEDDABLE) admitted at shed level %v", eng.Status().Shedding.Level)
		}
	}
	now = now.Add(time.Second)
	eng.Tick(now)

	st := eng.Status()
	if !st.Release.Frozen {
		t.Fatalf("releases are not frozen: %+v", st.Release)
	}
	if ob, _ := st.Objective(pageCheckout); ob.Report.State != budget.StateExhausted {
		t.Fatalf("%s is %v, want exhausted", pageCheckout, ob.Report.State)
	}
	if st.Shedding.Level < 1 {
		t.Fatalf("shed level %v, want at least 1", st.Shedding.Level)
	}
	return eng
}

// runChromium runs headless Chromium on url with the extra arguments and
// returns its standard output; a failure or a timeout fails the test with
// its output.
func runChromium(ctx context.Context, t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	args = append([]string{
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--disable-quic",
		"--user-data-dir=" + t.TempDir(),
	}, args...)
	cmd := exec.CommandContext(ctx, chromium, args...)
	cmd.Dir = t.TempDir()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%.5000s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// checkScreenshot checks that path is a PNG of the window's size with
// enough different colours to be a drawn page rather than a blank one.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("Chromium wrote no screenshot: %v", err)
	}
	if len(data) < 20<<10 {
		t.Errorf("screenshot is %d bytes, want a drawn page of at least 20 KiB", len(data))
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != pageWidth || b.Dy() != pageHeight {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), pageWidth, pageHeight)
	}
	if n := pageColours(img, 1000); n < 64 {
		t.Errorf("screenshot has %d colours, want at least 64: a blank or unstyled page?", n)
	}
}

// pageColours counts the distinct colours of img, stopping at limit.
func pageColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return limit
			}
		}
	}
	return len(seen)
}

// pageStatusCode returns the status of GET url.
func pageStatusCode(ctx context.Context, t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
