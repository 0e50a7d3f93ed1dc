//go:build soak

package soak

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

var (
	requests = flag.Int("soak.requests", 300_000, "requests to send, over HTTP and gRPC together")
	workers  = flag.Int("soak.workers", 32, "concurrent clients, half HTTP and half gRPC")
	wallCap  = flag.Duration("soak.wall", 25*time.Minute, "stop sending after this long, whatever the count")
)

// The simulated clock advances with the requests sent: every
// requestsPerTick requests the engine evaluates simStep later, so the
// phases below cover the same share of the requests on any machine (about
// 10 simulated minutes per real second at 20,000 requests/s); a simulated
// hour is 120,000 requests.
const (
	requestsPerTick = 200
	simStep         = 6 * time.Second
	pollEvery       = 2 * time.Millisecond // how often the clock looks at the count
	// shedPause is how long a client waits after the service shed its
	// request, as a real one honours Retry-After (scaled down, as the
	// clock is). A client that sent again at once would loop at the cost
	// of a rejection, tens of microseconds, many times per request
	// served: the shed count would measure how fast this machine rejects,
	// not what the mix does (measured without the pause: 107 of gRPC's
	// first 128 requests shed in one run).
	shedPause = time.Millisecond
	// flipsAfter is how much simulated time a run needs for every flip:
	// the healthy first hour and most of one cycle.
	flipsAfter = 2 * time.Hour
)

// The phases of one simulated hour, repeated after a first healthy hour
// (so that no budget is spent before it holds some traffic): each service
// has an outage, and the dependencies fail twice.
const cycle = time.Hour

// phaseAt returns the time into the cycle of simulated time since; -1 in
// the first hour.
func phaseAt(since time.Duration) time.Duration {
	if since < cycle {
		return -1
	}
	return since % cycle
}

func httpOutage(at time.Duration) bool { return at >= 5*time.Minute && at < 15*time.Minute }
func grpcOutage(at time.Duration) bool { return at >= 30*time.Minute && at < 40*time.Minute }
func depFailing(at time.Duration) bool {
	return at >= 20*time.Minute && at < 25*time.Minute || at >= 45*time.Minute && at < 50*time.Minute
}

// rules page when 60% of the events of the last 5 minutes and the last 30
// seconds failed (burn 1.2 at a target of 50%). The generous budget keeps
// the outages from exhausting it, so that every objective can go back to
// ok.
var rules = []budget.Rule{{Severity: budget.Page, Long: 5 * time.Minute, Short: 30 * time.Second, Burn: 1.2}}

// serviceMinEvents is how many events the services' objectives need before
// their state is known, or a window may fire a rule: the first evaluation
// comes after 200 requests, while the gate still learns its limit from a
// cold start with every client sending at once, and judging a budget on
// the few dozen gRPC calls in it spent it in about one run in four on a
// busy machine (for example 31 of 57 shed). Half what the 30 s window
// holds of the services' traffic (about 400 gRPC calls), so that the
// rules still fire.
const serviceMinEvents = 200

var objectives = []slo.Objective{
	{Name: "http-availability", Target: 0.5, Rules: rules, MinEvents: serviceMinEvents},
	{Name: "grpc-availability", Target: 0.5, Rules: rules, MinEvents: serviceMinEvents},
	{Name: "http-dep-availability", Target: 0.5, Rules: rules, Dependency: "http-dep"},
	{Name: "grpc-dep-availability", Target: 0.5, Rules: rules, Dependency: "grpc-dep"},
}

// flips notes the state changes the engine reported.
type flips struct {
	mu        sync.Mutex
	paged     map[string]int // ok → page, by objective
	recovered map[string]int // page → ok, by objective
	exhausted map[string]int
	opened    map[string]int // → open, by dependency
	closed    map[string]int // → closed, by dependency
	shedUp    int            // the level left 0
	shedDown  int            // the level came back to 0
	maxLevel  float64
}

func (f *flips) handle(ev slo.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch ev.Kind {
	case slo.StateChanged:
		switch {
		case ev.To == budget.StatePage:
			f.paged[ev.Objective]++
		case ev.From == budget.StatePage && ev.To == budget.StateOK:
			f.recovered[ev.Objective]++
		case ev.To == budget.StateExhausted:
			f.exhausted[ev.Objective]++
		}
	case slo.BreakerChanged:
		switch ev.BreakerTo {
		case slo.BreakerOpen:
			f.opened[ev.Dependency]++
		case slo.BreakerClosed:
			f.closed[ev.Dependency]++
		}
	case slo.SheddingChanged:
		f.maxLevel = max(f.maxLevel, ev.Level)
		switch {
		case ev.FromLevel == 0 && ev.Level > 0:
			f.shedUp++
		case ev.FromLevel > 0 && ev.Level == 0:
			f.shedDown++
		}
	}
}

// sample is the heap and goroutines at one quiet point of the run.
type sample struct {
	sent       int64 // requests sent before it
	heapAlloc  uint64
	heapInuse  uint64
	goroutines int
}

// TestSoak sends -soak.requests requests through an HTTP and a gRPC
// service with sloguard while the engine, on a simulated clock, pages and
// recovers, sheds and stops, and opens and closes the breakers of the
// failing dependencies. At the end the ledgers hold exactly what the
// clients' own tallies say they must, and heap and goroutines are flat.
func TestSoak(t *testing.T) {
	total := int64(*requests)
	if total < 1000 || *workers < 2 {
		t.Fatalf("-soak.requests %d, -soak.workers %d: want at least 1000 and 2", total, *workers)
	}
	goroutinesBefore := runtime.NumGoroutine()

	f := &flips{paged: map[string]int{}, recovered: map[string]int{}, exhausted: map[string]int{},
		opened: map[string]int{}, closed: map[string]int{}}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	eng, err := slo.New(objectives,
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(mp),
		slo.WithEventHandler(f.handle),
		// A short timeline fills in the first seconds: the heap's growth
		// after that is not the ring filling up.
		slo.WithTimelineSize(32),
		slo.WithInterval(simStep), // the controller steps once an evaluation
		slo.WithShedding(slo.ShedPolicy{Burn: 1.2, Hold: 30 * time.Second}),
		// The breakers time their open state on the real clock (gobreaker):
		// a short timeout lets them probe several times per failing phase.
		slo.WithBreakers(slo.BreakerPolicy{Window: time.Minute, OpenTimeout: 100 * time.Millisecond}),
	)
	if err != nil {
		t.Fatalf("slo.New() error = %v", err)
	}
	s, err := newStack(eng)
	if err != nil {
		t.Fatalf("newStack() error = %v", err)
	}

	// The clock: the engine is never started; this goroutine evaluates it.
	t0 := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	simNow := t0
	phase := func(now time.Time) {
		at := phaseAt(now.Sub(t0))
		s.httpDown.Store(httpOutage(at))
		s.grpcDown.Store(grpcOutage(at))
		s.depFailing.Store(depFailing(at))
	}
	phase(simNow)
	eng.Tick(simNow)
	var sent atomic.Int64 // requests sent, which drive the clock
	stopClock, clockDone := make(chan struct{}), make(chan struct{})
	var collectErr atomic.Value
	go func() {
		defer close(clockDone)
		poll := time.NewTicker(pollEvery)
		defer poll.Stop()
		var last int64
		for n := 1; ; {
			select {
			case <-stopClock:
				return
			case <-poll.C:
			}
			k := sent.Load() / requestsPerTick
			if k == last {
				continue
			}
			last = k
			simNow = t0.Add(time.Duration(k) * simStep)
			phase(simNow)
			eng.Tick(simNow)
			if n++; n%100 == 0 { // OpenTelemetry collects while requests are recorded
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					collectErr.Store(err)
				}
			}
		}
	}()

	// The clients.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers, DisableCompression: true}}
	var httpC, grpcC client
	var (
		quiet   sync.RWMutex // held for reading per request; a sample holds it to pause the load
		smu     sync.Mutex
		samples []sample
	)
	every := max(total/100, 1)
	takeSample := func(n int64) {
		quiet.Lock()
		defer quiet.Unlock()
		if err := waitIdle(s); err != nil {
			t.Errorf("sample after %d requests: %v", n, err)
			return
		}
		// Idle connections come and go with the peaks of concurrency:
		// close them, so that the count measures what requests leave.
		hc.CloseIdleConnections()
		s.depClient.CloseIdleConnections()
		if err := waitClosed(s); err != nil {
			t.Errorf("sample after %d requests: %v", n, err)
			return
		}
		runtime.GC()
		runtime.GC() // the second clears the pools' victim caches
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		smu.Lock()
		samples = append(samples, sample{sent: n, heapAlloc: ms.HeapAlloc, heapInuse: ms.HeapInuse, goroutines: runtime.NumGoroutine()})
		smu.Unlock()
	}
	start := time.Now()
	stopAt := start.Add(*wallCap)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 0x50a6))
			useHTTP := w%2 == 0
			ctx := context.Background()
			for {
				n := sent.Add(1)
				if n > total || time.Now().After(stopAt) {
					return
				}
				if n%every == 0 {
					takeSample(n)
				}
				quiet.RLock()
				var shed bool
				if useHTTP {
					mix := &healthyMix
					if s.httpDown.Load() {
						mix = &outageMix
					}
					shed = s.doHTTP(ctx, hc, &httpC, pick(mix, r), uint64(n))
				} else {
					mix := &healthyMix
					if s.grpcDown.Load() {
						mix = &outageMix
					}
					shed = s.doGRPC(ctx, &grpcC, pick(mix, r), uint64(n))
				}
				quiet.RUnlock()
				if shed {
					time.Sleep(shedPause)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := waitIdle(s); err != nil {
		t.Fatal(err)
	}
	close(stopClock)
	<-clockDone
	eng.Tick(simNow.Add(simStep)) // folds the last events
	sentN := min(sent.Load(), total)
	if sentN < total {
		t.Logf("the wall-clock cap %v stopped the run after %d of %d requests", *wallCap, sentN, total)
	}

	var sumSent uint64
	for k := range nKinds {
		sumSent += httpC.sent[k].Load() + grpcC.sent[k].Load()
	}
	t.Logf("requests: %d (http %d, grpc %d) in %v: %.0f requests/s; simulated %v",
		sumSent, sumOf(&httpC.sent), sumOf(&grpcC.sent), elapsed.Round(time.Millisecond),
		float64(sumSent)/elapsed.Seconds(), simNow.Sub(t0))
	for k := range nKinds {
		t.Logf("  %-8v http %8d  grpc %8d", kind(k), httpC.sent[k].Load(), grpcC.sent[k].Load())
	}

	// Every result is explained, and the ledgers hold exactly the tallies.
	for name, c := range map[string]*client{"http": &httpC, "grpc": &grpcC} {
		if n := c.unexplained.Load(); n > 0 {
			t.Errorf("%s: %d results no rule explains, e.g. %q", name, n, c.oddities)
		}
	}
	if n := s.depUnexpected.Load(); n > 0 {
		t.Errorf("%d dependency calls ended in a way the dependency never answers", n)
	}
	st := eng.Status()
	want := map[string]*tally{
		"http-availability":     &httpC.expect,
		"grpc-availability":     &grpcC.expect,
		"http-dep-availability": &s.httpDep,
		"grpc-dep-availability": &s.grpcDep,
	}
	exported := eventsExported(t, reader)
	for _, o := range objectives {
		os, _ := st.Objective(o.Name)
		good, bad, shed, neutral := want[o.Name].counts()
		got := [4]uint64{os.Totals.Good, os.Totals.Bad, os.Totals.Shed, os.Neutral}
		exp := [4]uint64{good, bad, shed, neutral}
		t.Logf("%-22s good %8d bad %8d shed %8d neutral %8d (ledger); want %8d %8d %8d %8d (clients)",
			o.Name, got[0], got[1], got[2], got[3], exp[0], exp[1], exp[2], exp[3])
		if got != exp {
			t.Errorf("%s: ledger totals good, bad, shed, neutral = %v, want %v", o.Name, got, exp)
		}
		for i, out := range []budget.Outcome{budget.Good, budget.Bad, budget.Shed, budget.Neutral} {
			if e := exported[[2]string{o.Name, out.String()}]; uint64(e) != got[i] {
				t.Errorf("%s: sloguard.events{outcome=%v} = %d, want %d", o.Name, out, e, got[i])
			}
		}
	}
	if c := sumOf(&httpC.sent); httpC.expect.sum() != c {
		t.Errorf("http: %d results tallied of %d sent", httpC.expect.sum(), c)
	}
	if c := sumOf(&grpcC.sent); grpcC.expect.sum() != c {
		t.Errorf("grpc: %d results tallied of %d sent", grpcC.expect.sum(), c)
	}
	var rejected uint64
	for _, n := range st.Shedding.Rejected {
		rejected += n
	}
	seen := httpC.shedSeen.Load() + grpcC.shedSeen.Load()
	t.Logf("shed by admission: %d (clients saw %d); engine faults %d", rejected, seen, st.Faults)
	if rejected != seen {
		t.Errorf("Status.Shedding.Rejected sums to %d, clients saw %d 429 / RESOURCE_EXHAUSTED", rejected, seen)
	}
	if err, _ := collectErr.Load().(error); err != nil {
		t.Errorf("ManualReader.Collect() error = %v", err)
	}

	// The states flipped, in both directions.
	f.mu.Lock()
	t.Logf("paged %v, back to ok %v, exhausted %v; breakers opened %v, closed %v; shed started %d, stopped %d times, highest level %.2f",
		f.paged, f.recovered, f.exhausted, f.opened, f.closed, f.shedUp, f.shedDown, f.maxLevel)
	if simNow.Sub(t0) < flipsAfter {
		t.Logf("simulated %v, less than the %v every flip needs: flips not checked", simNow.Sub(t0), flipsAfter)
	} else {
		for _, o := range []string{"http-availability", "grpc-availability"} {
			if f.paged[o] == 0 || f.recovered[o] == 0 {
				t.Errorf("%s paged %d times and came back to ok %d times, want both", o, f.paged[o], f.recovered[o])
			}
		}
		for _, d := range []string{"http-dep", "grpc-dep"} {
			if f.opened[d] == 0 || f.closed[d] == 0 {
				t.Errorf("breaker %s opened %d times and closed %d times, want both", d, f.opened[d], f.closed[d])
			}
		}
		if f.shedUp == 0 || f.shedDown == 0 || seen == 0 {
			t.Errorf("shedding started %d times, stopped %d times and shed %d requests, want all", f.shedUp, f.shedDown, seen)
		}
	}
	if len(f.exhausted) > 0 {
		t.Errorf("budgets exhausted: %v; the mix must leave every objective able to recover", f.exhausted)
	}
	f.mu.Unlock()

	// Heap and goroutines are flat between the first and the last 10%.
	smu.Lock()
	first, last := segment(samples, 0, sentN/10), segment(samples, sentN-sentN/10, sentN)
	smu.Unlock()
	if len(first) == 0 || len(last) == 0 {
		t.Errorf("samples: %d in the first 10%%, %d in the last: too few to compare", len(first), len(last))
	} else {
		h1, h2 := median(first, func(s sample) uint64 { return s.heapAlloc }), median(last, func(s sample) uint64 { return s.heapAlloc })
		i1, i2 := median(first, func(s sample) uint64 { return s.heapInuse }), median(last, func(s sample) uint64 { return s.heapInuse })
		g1, g2 := median(first, func(s sample) uint64 { return uint64(s.goroutines) }), median(last, func(s sample) uint64 { return uint64(s.goroutines) })
		t.Logf("heap after GC (HeapAlloc, median of %d and %d samples): first 10%% %d B, last 10%% %d B (%+.1f%%); HeapInuse %d B, %d B",
			len(first), len(last), h1, h2, 100*(float64(h2)/float64(h1)-1), i1, i2)
		t.Logf("goroutines (median): first 10%% %d, last 10%% %d (%+d)", g1, g2, int(g2)-int(g1))
		if float64(h2) > 1.1*float64(h1) || float64(h2) < 0.9*float64(h1) {
			t.Errorf("heap after GC went from %d B to %d B: more than 10%%", h1, h2)
		}
		if d := int(g2) - int(g1); d > 5 || d < -5 {
			t.Errorf("goroutines went from %d to %d: more than ±5", g1, g2)
		}
	}

	// Everything the soak started ends.
	hc.CloseIdleConnections()
	s.close()
	if err := eng.Close(); err != nil {
		t.Errorf("Engine.Close() error = %v", err)
	}
	if err := mp.Shutdown(context.Background()); err != nil {
		t.Errorf("MeterProvider.Shutdown() error = %v", err)
	}
	after := runtime.NumGoroutine()
	for end := time.Now().Add(5 * time.Second); after > goroutinesBefore+2 && time.Now().Before(end); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond) // connections close asynchronously
	}
	t.Logf("goroutines before the soak %d, after it %d", goroutinesBefore, after)
	if after > goroutinesBefore+2 {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before the soak, %d after it; stacks:\n%s", goroutinesBefore, after, buf[:runtime.Stack(buf, true)])
	}
}

// waitIdle waits until no service handler runs, so that every request
// answered or cancelled has been recorded.
func waitIdle(s *stack) error {
	for end := time.Now().Add(10 * time.Second); s.inflight.Load() != 0; {
		if time.Now().After(end) {
			return fmt.Errorf("%d handlers still run after 10s", s.inflight.Load())
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// waitClosed waits until the HTTP servers have no connection open, after
// the clients closed theirs, and lets their goroutines end.
func waitClosed(s *stack) error {
	for end := time.Now().Add(10 * time.Second); s.conns.Load() != 0; {
		if time.Now().After(end) {
			return fmt.Errorf("%d connections still open after 10s", s.conns.Load())
		}
		time.Sleep(100 * time.Microsecond)
	}
	time.Sleep(time.Millisecond) // ConnState runs just before the connection's goroutine ends
	return nil
}

func (t *tally) sum() uint64 {
	good, bad, shed, neutral := t.counts()
	return good + bad + shed + neutral
}

func sumOf(a *[nKinds]atomic.Uint64) uint64 {
	var n uint64
	for i := range a {
		n += a[i].Load()
	}
	return n
}

// segment returns the samples taken after from and up to to requests.
func segment(ss []sample, from, to int64) []sample {
	var out []sample
	for _, s := range ss {
		if s.sent > from && s.sent <= to {
			out = append(out, s)
		}
	}
	return out
}

func median(ss []sample, v func(sample) uint64) uint64 {
	vs := make([]uint64, len(ss))
	for i, s := range ss {
		vs[i] = v(s)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// eventsExported collects sloguard.events from the reader, by objective
// and outcome.
func eventsExported(t *testing.T, r *sdkmetric.ManualReader) map[[2]string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect() error = %v", err)
	}
	out := map[[2]string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != metrics.Events {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is %T, want metricdata.Sum[int64]", m.Name, m.Data)
			}
			for _, dp := range sum.DataPoints {
				obj, _ := dp.Attributes.Value(metrics.AttrObjective)
				outcome, _ := dp.Attributes.Value(metrics.AttrOutcome)
				out[[2]string{obj.AsString(), outcome.AsString()}] = dp.Value
			}
		}
	}
	return out
}
