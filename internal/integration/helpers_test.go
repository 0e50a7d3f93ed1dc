//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/otelsdk"
)

// testTimeout bounds each test, from start to last assertion.
const testTimeout = 60 * time.Second

// requireBinary returns the executable named by the environment variable
// env. A missing one fails the test: CI must never pass by not testing.
func requireBinary(t *testing.T, env string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		t.Fatalf("%s is not set: run the integration tests through .ci/run, which installs or builds the program and exports %s", env, env)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s=%s: %v (run .ci/run, which installs or builds it)", env, path, err)
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable file (run .ci/run, which installs or builds it)", env, path)
	}
	return path
}

// freePort returns a TCP port on 127.0.0.1 that nobody listened on a moment
// ago, for programs that must be told their port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen(127.0.0.1:0) = %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("closing the port probe: %v", err)
	}
	return port
}

// syncBuffer collects a process's output; the exec package writes to it
// from its own goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is an external program run by a test. It is stopped (interrupt,
// then kill after a grace period) and waited for in t.Cleanup.
type process struct {
	name string
	out  syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the exit status; read after done is closed
}

// startProcess starts bin with args, its working directory a fresh
// temporary directory.
func startProcess(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second // then os.Kill
	p := &process{name: name, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s (%s): %v", name, bin, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if out := p.out.String(); t.Failed() && out != "" {
			t.Logf("%s output:\n%s", name, out)
		}
	})
	return p
}

// poll calls check every 100ms until it reports true. It fails the test
// when ctx ends or p exits first, with check's last error.
func poll(ctx context.Context, t *testing.T, p *process, what string, check func(context.Context) (bool, error)) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := check(ctx)
		if ok {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last error: %v", what, ctx.Err(), last)
		case <-p.done:
			t.Fatalf("%s exited while waiting for %s: %v\n%s", p.name, what, p.err, p.out.String())
		case <-tick.C:
		}
	}
}

// dialable reports whether something accepts TCP connections at addr.
func dialable(addr string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		var d net.Dialer
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, err
		}
		return true, c.Close()
	}
}

// httpGet GETs url with a per-request deadline within ctx and returns the
// body of a 200 response.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %.500s", url, resp.Status, body)
	}
	return body, nil
}

// The objectives both tests declare, as in the slo package documentation.
const (
	availability = "checkout-availability"
	latency      = "checkout-latency"

	latencyThreshold = 300 * time.Millisecond
)

var targets = map[string]float64{availability: 0.999, latency: 0.99}

// windows are the windows of the default rules, as attribute values,
// shortest first.
var windows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// counts are the events of one objective by outcome.
type counts struct {
	Good, Bad, Shed, Neutral int64
}

func (c counts) byOutcome() map[string]int64 {
	return map[string]int64{"good": c.Good, "bad": c.Bad, "shed": c.Shed, "neutral": c.Neutral}
}

// burn is the burn rate of c against target, shed counting as bad, computed
// here from the definition rather than by package budget.
func (c counts) burn(target float64) float64 {
	return float64(c.Bad+c.Shed) / float64(c.Good+c.Bad+c.Shed) / (1 - target)
}

// controlBurn is the burn rate of c's admitted events only against target:
// the control signal of load shedding, shed events left out.
func (c counts) controlBurn(target float64) float64 {
	return float64(c.Bad) / float64(c.Good+c.Bad) / (1 - target)
}

// remaining is the share of the budget left after c, from the definition.
func (c counts) remaining(target float64) float64 {
	return 1 - float64(c.Bad+c.Shed)/((1-target)*float64(c.Good+c.Bad+c.Shed))
}

// The traffic of driveTraffic, and what each objective must count.
const (
	okRequests     = 90   // 200 through the middleware: good for both
	failedRequests = 10   // 500 through the middleware: bad for both
	goneRequests   = 3    // client gone before a response: neutral for both
	shedEvents     = 2    // recorded as shed by a load shedder outside the middleware
	fastJobs       = 1990 // latency-only work recorded directly, within the threshold
	slowJobs       = 5    // the same, slower than latencyThreshold: bad
	fastJobLatency = 100 * time.Millisecond
	slowJobLatency = 450 * time.Millisecond
)

var wantCounts = map[string]counts{
	availability: {Good: okRequests, Bad: failedRequests, Shed: shedEvents, Neutral: goneRequests},
	latency:      {Good: okRequests + fastJobs, Bad: failedRequests + slowJobs, Neutral: goneRequests},
}

var wantStates = map[string]string{
	availability: "exhausted", // burn ≈ 118: the budget is spent many times over
	latency:      "ok",        // burn ≈ 0.72: under every rule's threshold
}

// testResource is the resource both tests' MeterProviders describe.
func testResource() *resource.Resource {
	return resource.NewSchemaless(attribute.String("service.name", "sloguard-integration"))
}

// gateName is the gate of the test's engine: a feature flag that a spent
// budget turns off.
const gateName = "checkout-recommendations"

// newEngine returns an engine of the two checkout objectives exporting
// through mp (nil: the global MeterProvider), with load shedding on (so
// that its metrics are exported; one evaluation leaves the level at 0) and
// one gate. It is not started: the test drives it with Tick.
func newEngine(t *testing.T, mp metric.MeterProvider) *slo.Engine {
	t.Helper()
	opts := []slo.Option{
		slo.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))),
		slo.WithShedding(slo.ShedPolicy{}),
		slo.WithGate(gateName, slo.GatePolicy{ClosedOnPage: true}),
	}
	if mp != nil {
		opts = append(opts, slo.WithMeterProvider(mp))
	}
	eng, err := slo.New([]slo.Objective{
		{Name: availability, Target: targets[availability]},
		{Name: latency, Target: targets[latency], Latency: latencyThreshold},
	}, opts...)
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("Engine.Close = %v", err)
		}
	})
	return eng
}

// exportPaths are the two ways an engine's metrics reach OpenTelemetry:
// its observable instruments on an SDK MeterProvider, and an
// otelsdk.Producer given to the reader. Both must export the same.
var exportPaths = []string{"instruments", "producer"}

// exportingEngine returns newEngine's engine, exporting through the reader
// that newReader returns by path: newReader is given the Producer to pass
// the reader, or nil on the instruments path. The reader's MeterProvider
// is newMeterProvider's.
func exportingEngine(t *testing.T, path string, newReader func(sdkmetric.Producer) sdkmetric.Reader) *slo.Engine {
	t.Helper()
	var eng *slo.Engine
	var producer sdkmetric.Producer
	switch path {
	case "instruments":
	case "producer":
		eng = newEngine(t, nil)
		p, err := otelsdk.New(eng)
		if err != nil {
			t.Fatalf("otelsdk.New = %v", err)
		}
		producer = p
	default:
		t.Fatalf("unknown export path %q", path)
	}
	mp := newMeterProvider(t, newReader(producer))
	if eng == nil {
		eng = newEngine(t, mp)
	}
	return eng
}

// newMeterProvider returns an SDK MeterProvider of reader that describes
// testResource, shut down at cleanup.
func newMeterProvider(t *testing.T, reader sdkmetric.Reader) *sdkmetric.MeterProvider {
	t.Helper()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(testResource()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := mp.Shutdown(ctx); err != nil {
			t.Logf("MeterProvider.Shutdown = %v", err)
		}
	})
	return mp
}

// driveTraffic sends the traffic that wantCounts describes: real HTTP
// requests through the middleware on a loopback server, requests whose
// client has gone, shed events and latency-only jobs recorded directly.
// Then it evaluates the engine once and checks its Status, so that a
// disagreement further on is the exporter's or the backend's.
func driveTraffic(ctx context.Context, t *testing.T, eng *slo.Engine) *slo.Status {
	t.Helper()
	mw, err := middleware.NewServer(eng, middleware.WithRoute("POST /checkout", availability, latency))
	if err != nil {
		t.Fatalf("middleware.NewServer = %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Err() != nil {
			return // the client is gone: write nothing
		}
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "payment backend unavailable", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	h := mw.Wrap(mux)
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(path string, want int) {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodPost, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// The middleware times each request inside this span; a request
		// slower than the threshold would turn good into bad for the
		// latency objective, and the exact counts below would be wrong.
		if d := time.Since(start); d >= latencyThreshold {
			t.Fatalf("POST %s took %v, not under the latency threshold %v: the machine is too loaded for exact latency counts", path, d, latencyThreshold)
		}
		if resp.StatusCode != want {
			t.Fatalf("POST %s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
	for i := range okRequests + failedRequests {
		if i%10 == 9 {
			send("/checkout?fail=1", http.StatusInternalServerError)
		} else {
			send("/checkout", http.StatusOK)
		}
	}

	gone, cancel := context.WithCancel(ctx)
	cancel()
	for range goneRequests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(gone, http.MethodPost, "/checkout", nil))
	}

	record := func(name string, o budget.Outcome, d time.Duration, n int) {
		t.Helper()
		rec, err := eng.Recorder(name)
		if err != nil {
			t.Fatalf("Engine.Recorder(%q) = %v", name, err)
		}
		for range n {
			rec.Record(o, d)
		}
	}
	record(availability, budget.Shed, 0, shedEvents)
	record(latency, budget.Good, fastJobLatency, fastJobs)
	record(latency, budget.Good, slowJobLatency, slowJobs)

	eng.Tick(time.Now())
	st := eng.Status()

	for name, want := range wantCounts {
		ob, ok := st.Objective(name)
		if !ok {
			t.Fatalf("Status().Objective(%q) not found", name)
		}
		got := counts{Good: int64(ob.Totals.Good), Bad: int64(ob.Totals.Bad), Shed: int64(ob.Totals.Shed), Neutral: int64(ob.Neutral)}
		if got != want {
			t.Fatalf("Status().Objective(%q) totals = %+v, want %+v", name, got, want)
		}
		if s := ob.Report.State.String(); s != wantStates[name] {
			t.Errorf("Status().Objective(%q) state = %s, want %s", name, s, wantStates[name])
		}
		target := targets[name]
		if !near(ob.Report.Remaining, want.remaining(target)) {
			t.Errorf("Status().Objective(%q) remaining = %v, want %v", name, ob.Report.Remaining, want.remaining(target))
		}
		if len(ob.Report.Windows) != len(windows) {
			t.Fatalf("Status().Objective(%q) has %d windows, want %d (%v)", name, len(ob.Report.Windows), len(windows), windows)
		}
		for _, w := range ob.Report.Windows {
			// Every event falls in every window: one Tick, just now.
			if !near(w.Burn, want.burn(target)) {
				t.Errorf("Status().Objective(%q) burn over %v = %v, want %v", name, w.Window, w.Burn, want.burn(target))
			}
		}
		// The control window (5s) holds every event too, and far more
		// than the 20 admitted events the signal needs.
		if !ob.ControlKnown || !near(ob.ControlBurn, want.controlBurn(target)) {
			t.Errorf("Status().Objective(%q) ControlKnown, ControlBurn = %v, %v, want true, %v", name, ob.ControlKnown, ob.ControlBurn, want.controlBurn(target))
		}
	}
	// The first evaluation moves no level: no time has passed. The gate
	// has its initial limit, and nothing is in flight after the traffic.
	if sh := st.Shedding; !sh.Enabled || sh.Level != 0 || sh.Reject != [4]float64{} ||
		sh.Rejected != [4]uint64{} || sh.InFlight != 0 || sh.Limit <= 0 {
		t.Errorf("Status().Shedding = %+v, want enabled, level 0, nothing rejected or in flight, a limit > 0", sh)
	}
	// The spent availability budget freezes releases and turns the gate
	// off.
	if !st.Release.Frozen || !strings.HasPrefix(st.Release.Reason, availability+" has ") {
		t.Errorf("Status().Release = %+v, want frozen by %s", st.Release, availability)
	}
	if len(st.Gates) != 1 || st.Gates[0].Name != gateName || st.Gates[0].Enabled {
		t.Errorf("Status().Gates = %+v, want %s disabled", st.Gates, gateName)
	}
	if t.Failed() {
		t.FailNow()
	}
	return st
}

// engineValues are what the engine itself reports, keyed like the
// exported series.
type engineValues struct {
	remaining   map[string]float64            // by objective
	burn        map[string]map[string]float64 // by objective, window
	state       map[string]string             // by objective
	controlBurn map[string]float64            // by objective, where known
	shedLevel   float64
	gates       map[string]float64 // 1 for enabled, by gate
	frozen      float64            // 1 for frozen
}

func valuesOf(st *slo.Status) engineValues {
	v := engineValues{
		remaining:   map[string]float64{},
		burn:        map[string]map[string]float64{},
		state:       map[string]string{},
		controlBurn: map[string]float64{},
		shedLevel:   st.Shedding.Level,
		gates:       map[string]float64{},
	}
	for _, g := range st.Gates {
		v.gates[g.Name] = boolValue(g.Enabled)
	}
	v.frozen = boolValue(st.Release.Frozen)
	for _, o := range st.Objectives {
		name := o.Objective.Name
		v.remaining[name] = o.Report.Remaining
		v.state[name] = o.Report.State.String()
		if o.ControlKnown {
			v.controlBurn[name] = o.ControlBurn
		}
		v.burn[name] = map[string]float64{}
		for _, w := range o.Report.Windows {
			v.burn[name][budget.FormatWindow(w.Window)] = w.Burn
		}
	}
	return v
}

// near reports whether a and b are equal up to rounding in a text format.
func near(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// startPrometheus writes config as dir/prometheus.yml, checks it with
// promtool, starts Prometheus on a free loopback port with its data in dir,
// and waits until it is ready.
func startPrometheus(ctx context.Context, t *testing.T, promBin, promtool, dir string, config []byte) (*process, promAPI) {
	t.Helper()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, config, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, promtool, "check", "config", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	prom := startProcess(t, "prometheus", promBin,
		"--config.file="+path,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	api := promAPI{base: "http://" + addr}
	poll(ctx, t, prom, "Prometheus to be ready at "+addr, func(ctx context.Context) (bool, error) {
		_, err := httpGet(ctx, api.base+"/-/ready")
		return err == nil, err
	})
	return prom, api
}
