// Quickstart runs a small HTTP service with two service level objectives,
// sends it traffic, breaks it for a while, and prints how sloguard's error
// budget, burn rates and alerts react, live. It finishes by itself in under
// a minute:
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -h
//
// Real budgets span 30 days and their alert windows hours, so the demo
// compresses time: the objectives' period is one hour, and the alert rules
// are two of The Site Reliability Workbook's rules with their windows shrunk
// by the same factor, which keeps their thresholds. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// Objective names and routes.
const (
	availability = "availability"
	latency      = "latency"

	routeBrowse   = "GET /items/{id}"
	routeCheckout = "POST /checkout"
)

const (
	latencyThreshold = 300 * time.Millisecond
	// minEvents keeps a window with fewer events from firing a rule, so the
	// first requests can not page anyone.
	minEvents = 20

	// A healthy service is not perfect either: a few requests fail or stall.
	baselineErrorRate = 0.0002
	baselineSlowRate  = 0.001
	// Slow requests take 350–700ms, beyond the latency threshold.
	slowMin, slowSpread = 350 * time.Millisecond, 350 * time.Millisecond
	checkoutShare       = 0.15 // of all requests; the rest browse items
)

func main() {
	cfg := defaultConfig()
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage: go run ./examples/quickstart [flags]\n\n")
		fmt.Fprintf(out, "Runs an HTTP service on 127.0.0.1 with a 99.9%% availability and a 99%% latency\n")
		fmt.Fprintf(out, "objective, sends it traffic, injects an outage and prints sloguard's budget,\n")
		fmt.Fprintf(out, "burn rates and alerts as they change. Time is compressed: -period stands for 30 days.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "healthy traffic before the outage")
	flag.DurationVar(&cfg.Outage, "outage", cfg.Outage, "how long the outage lasts")
	flag.DurationVar(&cfg.Recovery, "recovery", cfg.Recovery, "healthy traffic after the outage")
	flag.Float64Var(&cfg.RPS, "rps", cfg.RPS, "requests per second sent by the load generator (1 to 2000)")
	flag.Float64Var(&cfg.ErrorRate, "error-rate", cfg.ErrorRate, "share of requests answered with a 500 during the outage (0 to 1)")
	flag.Float64Var(&cfg.SlowRate, "slow-rate", cfg.SlowRate, "share of the other requests that take 350-700ms during the outage (0 to 1)")
	flag.DurationVar(&cfg.Period, "period", cfg.Period, "the objectives' compliance period, standing for 30 days (30m to 6h)")
	flag.DurationVar(&cfg.History, "history", cfg.History, "healthy traffic loaded into the engine before the start, at -rps; at most -period, 0 for none")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the random service times, faults and request mix")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "quickstart: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// config is one run of the demo.
type config struct {
	Warmup   time.Duration // healthy traffic before the outage
	Outage   time.Duration // faults injected
	Recovery time.Duration // healthy traffic after the outage

	RPS       float64 // target request rate of the load generator
	ErrorRate float64 // share of requests answered with a 500 during the outage
	SlowRate  float64 // share of the other requests slower than the threshold during the outage

	// Period is the objectives' compliance period. It stands for 30 days,
	// and so sets the time compression and the rules' windows.
	Period time.Duration
	// History is healthy traffic at RPS recorded into the engine before the
	// start, as a running service would have; capped at Period.
	History time.Duration

	Seed     uint64
	Clients  int           // client goroutines of the load generator
	Interval time.Duration // the engine's evaluation interval
}

func defaultConfig() config {
	return config{
		Warmup:    15 * time.Second,
		Outage:    12 * time.Second,
		Recovery:  15 * time.Second,
		RPS:       200,
		ErrorRate: 0.20,
		SlowRate:  0.20,
		Period:    time.Hour,
		History:   time.Hour,
		Seed:      1,
		Clients:   32,
		// The engine's default is 1s; the demo's windows are seconds long.
		Interval: 250 * time.Millisecond,
	}
}

// validate reports every problem with the configuration.
func (c config) validate() error {
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(c.Warmup >= 0, "warmup %v is negative", c.Warmup)
	check(c.Outage > 0, "outage %v is not positive", c.Outage)
	check(c.Recovery >= 0, "recovery %v is negative", c.Recovery)
	check(c.RPS >= 1 && c.RPS <= 2000, "rps %v is not between 1 and 2000", c.RPS)
	check(c.ErrorRate >= 0 && c.ErrorRate <= 1, "error rate %v is not between 0 and 1", c.ErrorRate)
	check(c.SlowRate >= 0 && c.SlowRate <= 1, "slow rate %v is not between 0 and 1", c.SlowRate)
	// Below 30m the shortest rule window falls under the ledger's one-second
	// buckets; above 6h the alerts outlast any sensible demo.
	check(c.Period >= 30*time.Minute && c.Period <= 6*time.Hour, "period %v is not between 30m and 6h", c.Period)
	check(c.History >= 0, "history %v is negative", c.History)
	check(c.Clients >= 1 && c.Clients <= 1000, "clients %d is not between 1 and 1000", c.Clients)
	check(c.Interval > 0 && c.Interval <= time.Second, "interval %v is not in (0, 1s]", c.Interval)
	return errors.Join(errs...)
}

// compression is how many times faster than real time the demo runs: its
// period stands for 30 days.
func (c config) compression() float64 { return float64(slo.DefaultPeriod) / float64(c.Period) }

// workbookRules are two of the four rules of The Site Reliability Workbook
// for a 30-day period. The other two do not fit a one-minute demo: the 1h &
// 5m page rule would shrink below the ledger's one-second buckets, and the
// 3d & 6h ticket rule would clear long after the demo ends.
func workbookRules() []budget.Rule {
	return []budget.Rule{
		{Severity: budget.Page, Long: 6 * time.Hour, BudgetFraction: 0.05},    // 6×, short window 30m
		{Severity: budget.Ticket, Long: 24 * time.Hour, BudgetFraction: 0.10}, // 3×, short window 2h
	}
}

// rules returns workbookRules with their windows shrunk as much as the
// period. The threshold, fraction × period / long window, stays the same.
func (c config) rules() []budget.Rule {
	rules := workbookRules()
	for i := range rules {
		rules[i].Long = c.shrink(rules[i].Long)
	}
	return rules
}

func (c config) shrink(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.compression()).Round(time.Millisecond)
}

func (c config) objectives() []slo.Objective {
	return []slo.Objective{{
		Name:        availability,
		Description: "requests answered without a 5xx",
		Target:      0.999,
		Period:      c.Period,
		Rules:       c.rules(),
		MinEvents:   minEvents,
	}, {
		Name:        latency,
		Description: "requests answered without a 5xx within 300ms",
		Target:      0.99,
		Latency:     latencyThreshold,
		Period:      c.Period,
		Rules:       c.rules(),
		MinEvents:   minEvents,
	}}
}

// run runs the demo and writes its output to w. It returns after the
// recovery phase, or early when ctx is done, with every goroutine it
// started stopped.
func run(ctx context.Context, cfg config, w io.Writer) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	out := &console{w: w}

	eng, err := slo.New(cfg.objectives(),
		slo.WithInterval(cfg.Interval),
		slo.WithEventHandler(out.event),
		// out.event prints the state changes; the engine's log would repeat them.
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		// A real service passes its OpenTelemetry SDK MeterProvider here.
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		return fmt.Errorf("creating the engine: %w", err)
	}
	defer eng.Close() // on early returns; closed explicitly below

	// Both objectives cover both routes; requests no route matched (404s)
	// count under WithDefault, so the budget sees every answer.
	mw, err := middleware.NewServer(eng,
		middleware.WithRoute(routeBrowse, availability, latency),
		middleware.WithRoute(routeCheckout, availability, latency),
		middleware.WithDefault(availability, latency),
	)
	if err != nil {
		return fmt.Errorf("creating the middleware: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening on loopback: %w", err)
	}
	history := min(cfg.History, cfg.Period)
	out.header(cfg, eng, history, ln.Addr())
	preload(eng, cfg.RPS, history, time.Now())
	before := eng.Status()

	sc := newScenario(cfg, time.Now())
	srv := &http.Server{
		Handler:           mw.Wrap(newService(sc, cfg.Seed).routes()),
		ReadHeaderTimeout: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := eng.Start(); err != nil {
		_ = srv.Close()
		<-served
		return fmt.Errorf("starting the engine: %w", err)
	}
	out.begin(sc.start, eng.Status())

	ld := newLoad(cfg, "http://"+ln.Addr().String())
	ld.start(ctx, sc)
	interrupted := out.follow(ctx, sc, ld, eng)
	ld.wait()

	// Clean shutdown: server, client connections, a last evaluation that
	// sees every request, then the engine.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	errShutdown := srv.Shutdown(shutdownCtx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errShutdown = errors.Join(errShutdown, err)
	}
	ld.close()
	awaitEvaluation(shutdownCtx, eng, time.Now(), cfg.Interval)
	errClose := eng.Close()

	out.summary(summaryInput{
		cfg: cfg, sc: sc, load: ld, before: before, after: eng.Status(),
		events: eng.Events(), interrupted: interrupted,
	})
	if err := errors.Join(errShutdown, errClose); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return out.err
}

// preload records history of healthy traffic at rate events per second
// into every objective, ending at end, evaluating once a second as the
// engine's loop would. It must run before the engine starts.
func preload(eng *slo.Engine, rate float64, history time.Duration, end time.Time) {
	var recs []*slo.Recorder
	for _, o := range eng.Objectives() {
		if r, err := eng.Recorder(o.Name); err == nil {
			recs = append(recs, r)
		}
	}
	var carry float64
	for i := int(history / time.Second); i > 0; i-- {
		carry += rate
		n := int(carry)
		carry -= float64(n)
		for range n {
			for _, r := range recs {
				r.Record(slo.Good, 5*time.Millisecond)
			}
		}
		eng.Tick(end.Add(-time.Duration(i-1) * time.Second))
	}
}

// awaitEvaluation waits until the engine has evaluated after t, so that its
// status counts every request served before t.
func awaitEvaluation(ctx context.Context, eng *slo.Engine, t time.Time, interval time.Duration) {
	tick := time.NewTicker(interval / 4)
	defer tick.Stop()
	for !eng.Status().Time.After(t) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// scenario is the demo's timeline; faults depend on the time alone.
type scenario struct {
	start, outageStart, outageEnd, end time.Time
	errorRate, slowRate                float64
}

func newScenario(cfg config, start time.Time) *scenario {
	s := &scenario{start: start, errorRate: cfg.ErrorRate, slowRate: cfg.SlowRate}
	s.outageStart = start.Add(cfg.Warmup)
	s.outageEnd = s.outageStart.Add(cfg.Outage)
	s.end = s.outageEnd.Add(cfg.Recovery)
	return s
}

func (s *scenario) outage(t time.Time) bool {
	return !t.Before(s.outageStart) && t.Before(s.outageEnd)
}

func (s *scenario) phase(t time.Time) string {
	switch {
	case t.Before(s.outageStart):
		return "warmup"
	case t.Before(s.outageEnd):
		return "outage"
	}
	return "recovery"
}

// service is the demo's HTTP service: it simulates service time and fails
// as the scenario says.
type service struct {
	sc     *scenario
	orders atomic.Int64

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

func newService(sc *scenario, seed uint64) *service {
	return &service{sc: sc, rng: rand.New(rand.NewPCG(seed, 1))}
}

func (s *service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(routeBrowse, s.browse)
	mux.HandleFunc(routeCheckout, s.checkout)
	return mux
}

func (s *service) browse(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 {
		http.Error(w, "invalid item id", http.StatusBadRequest)
		return
	}
	if !s.work(w, r, 4*time.Millisecond) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"id\":%d,\"name\":\"item %d\"}\n", id, id)
}

func (s *service) checkout(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 4<<10))
	if !s.work(w, r, 12*time.Millisecond) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "{\"order\":%d}\n", s.orders.Add(1))
}

// work simulates the handler's service time: log-normal around median, or
// slow, or a fast failure, more often during the outage. It reports whether
// the handler should answer; when it does not, work has answered with a 500
// or the client has gone away.
func (s *service) work(w http.ResponseWriter, r *http.Request, median time.Duration) bool {
	s.mu.Lock()
	fault, slow, spread, norm := s.rng.Float64(), s.rng.Float64(), s.rng.Float64(), s.rng.NormFloat64()
	s.mu.Unlock()

	errorRate, slowRate := baselineErrorRate, baselineSlowRate
	if s.sc.outage(time.Now()) {
		errorRate, slowRate = s.sc.errorRate, s.sc.slowRate
	}
	var d time.Duration
	failed := fault < errorRate
	switch {
	case failed:
		d = time.Millisecond + time.Duration(spread*float64(2*time.Millisecond))
	case slow < slowRate:
		d = slowMin + time.Duration(spread*float64(slowSpread))
	default:
		d = time.Duration(float64(median) * math.Exp(0.5*norm))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return false // the middleware records it as neutral
	}
	if failed {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return false
	}
	return true
}

// load is an open-loop load generator: a dispatcher hands requests to a
// bounded pool of clients at a fixed rate, and skips a request when every
// client is busy rather than slow down.
type load struct {
	url     string
	rate    float64
	clients int
	seed    uint64
	client  *http.Client
	wg      sync.WaitGroup

	sent, skipped, answered, status5xx, failed atomic.Int64
}

type job struct {
	method, path, body string
}

func newLoad(cfg config, url string) *load {
	tr := &http.Transport{
		MaxIdleConns:        cfg.Clients,
		MaxIdleConnsPerHost: cfg.Clients,
		IdleConnTimeout:     30 * time.Second,
	}
	return &load{
		url:     url,
		rate:    cfg.RPS,
		clients: cfg.Clients,
		seed:    cfg.Seed,
		client:  &http.Client{Transport: tr, Timeout: 2 * time.Second},
	}
}

// start sends requests until the scenario ends or ctx is done.
func (l *load) start(ctx context.Context, sc *scenario) {
	jobs := make(chan job) // unbuffered: a send succeeds only when a client is idle
	for range l.clients {
		l.wg.Go(func() {
			for j := range jobs {
				l.do(ctx, j)
			}
		})
	}
	l.wg.Go(func() {
		defer close(jobs)
		rng := rand.New(rand.NewPCG(l.seed, 2))
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var issued int64
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if !now.Before(sc.end) {
					return
				}
				for due := int64(now.Sub(sc.start).Seconds() * l.rate); issued < due; issued++ {
					select {
					case jobs <- nextJob(rng):
						l.sent.Add(1)
					default:
						l.skipped.Add(1)
					}
				}
			}
		}
	})
}

func nextJob(rng *rand.Rand) job {
	if rng.Float64() < checkoutShare {
		return job{http.MethodPost, "/checkout", fmt.Sprintf(`{"item":%d,"quantity":1}`, 1+rng.IntN(1000))}
	}
	return job{method: http.MethodGet, path: "/items/" + strconv.Itoa(1+rng.IntN(1000))}
}

func (l *load) do(ctx context.Context, j job) {
	var body io.Reader
	if j.body != "" {
		body = strings.NewReader(j.body)
	}
	req, err := http.NewRequestWithContext(ctx, j.method, l.url+j.path, body)
	if err != nil {
		l.failed.Add(1)
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			l.failed.Add(1)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	l.answered.Add(1)
	if resp.StatusCode >= 500 {
		l.status5xx.Add(1)
	}
}

// wait waits for the dispatcher and every client to return.
func (l *load) wait() { l.wg.Wait() }

// close closes the idle client connections, and with them their goroutines.
func (l *load) close() { l.client.CloseIdleConnections() }

// console writes the demo's output. Lines come from the main goroutine and
// from the engine's event handler, so every write holds mu and lines never
// mix.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time // zero until the demo starts: history is not printed; guarded by mu
	err   error     // first write error; guarded by mu
}

func (c *console) printf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.write(format, a...)
}

// write requires mu.
func (c *console) write(format string, a ...any) {
	if c.err == nil {
		_, c.err = fmt.Fprintf(c.w, format, a...)
	}
}

// event is the engine's event handler.
func (c *console) event(ev slo.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.start.IsZero() {
		return
	}
	var b strings.Builder
	for i, wb := range ev.Burns {
		if i > 0 {
			b.WriteString(" · ")
		}
		fmt.Fprintf(&b, "%s %s", label(wb.Window), burnText(wb.Burn))
	}
	c.write("%6.1fs  ▶ %-13s %s → %s   budget %.1f%%   burn %s\n",
		ev.Time.Sub(c.start).Seconds(), ev.Objective, ev.From, ev.To, ev.Remaining*100, b.String())
}

func (c *console) header(cfg config, eng *slo.Engine, history time.Duration, addr net.Addr) {
	k := cfg.compression()
	stands := func(d time.Duration) string { return human(time.Duration(float64(d) * k)) }
	objs := eng.Objectives()

	c.printf("sloguard quickstart: an HTTP service on http://%s, two objectives, an outage and its alerts\n\n", addr)
	c.printf("Time is compressed %.0f×: one second here stands for %s of a 30-day SLO.\n", k, stands(time.Second))
	c.printf("  period     %-9s the rolling window of the error budget (stands for 30d)\n", label(cfg.Period))
	if history > 0 {
		c.printf("  history    %-9s of healthy traffic at %.0f rps, recorded before the start, so the\n", label(history), cfg.RPS)
		c.printf("             budget has the base a running service would have\n")
	} else {
		c.printf("  history    none: the budget holds only the demo's own requests\n")
	}
	c.printf("  timeline   warmup %s (%s) → outage %s (%s) → recovery %s (%s)\n",
		label(cfg.Warmup), stands(cfg.Warmup), label(cfg.Outage), stands(cfg.Outage), label(cfg.Recovery), stands(cfg.Recovery))
	c.printf("  outage     %.0f%% of requests fail with a 500, %.0f%% of the others take 350–700ms\n",
		cfg.ErrorRate*100, cfg.SlowRate*100)
	c.printf("  load       %.0f rps from %d clients: %.0f%% GET /items/{id}, %.0f%% POST /checkout\n",
		cfg.RPS, cfg.Clients, (1-checkoutShare)*100, checkoutShare*100)
	c.printf("  engine     evaluates every %v; a window needs %d events before it may fire\n\n", cfg.Interval, minEvents)

	c.printf("Objectives, each over both routes\n")
	for _, o := range objs {
		c.printf("  %-13s %-6s of %s\n", o.Name, percent(o.Target), o.Description)
	}
	c.printf("\nAlert rules: the SRE Workbook's, windows shrunk %.0f×; threshold = budget fraction × period / long window\n", k)
	c.printf("  %-8s %-6s %-6s %-7s %-10s %s\n", "severity", "long", "short", "budget", "threshold", "for a 30-day period")
	prod := workbookRules()
	for i, r := range objs[0].Rules {
		c.printf("  %-8s %-6s %-6s %-7s %-10s %s & %s\n", r.Severity, label(r.Long), label(r.ShortWindow()),
			percent(r.BudgetFraction), fmt.Sprintf("%.3g×", r.Threshold(cfg.Period)),
			budget.FormatWindow(prod[i].Long), budget.FormatWindow(prod[i].ShortWindow()))
	}
	c.printf("budget: share of the period's error budget left. burn rate: how fast it is spent, where 1\n")
	c.printf("spends exactly the budget in one period. A rule fires when the burn rate over both its\n")
	c.printf("windows reaches its threshold. States: ok, ticket, page, exhausted (budget spent).\n\n")
}

// begin starts the live part: from now on events are printed.
func (c *console) begin(start time.Time, st *slo.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start = start
	var top, cols strings.Builder
	fmt.Fprintf(&top, "%-22s", "")
	fmt.Fprintf(&cols, "%7s  %-8s %4s", "time", "phase", "rps")
	for _, o := range st.Objectives {
		var ws strings.Builder
		for _, w := range o.Objective.Spec().Windows() {
			fmt.Fprintf(&ws, " %*s", column(w), label(w))
		}
		title := fmt.Sprintf("%s %s", o.Objective.Name, percent(o.Objective.Target))
		if o.Objective.Latency > 0 {
			title += " < " + label(o.Objective.Latency)
		}
		width := 2 + 9 + 1 + 7 + ws.Len()
		fmt.Fprintf(&top, "  %-*s", width-2, title+" ── burn rate over")
		fmt.Fprintf(&cols, "  %-9s %7s%s", "state", "budget", ws.String())
	}
	c.write("%s\n%s\n", strings.TrimRight(top.String(), " "), cols.String())
}

// row prints the status line of the second that ended at elapsed.
func (c *console) row(elapsed time.Duration, phase string, rps int64, st *slo.Status) {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  %-8s %4d", elapsed.Seconds(), phase, rps)
	for _, o := range st.Objectives {
		fmt.Fprintf(&b, "  %-9s %6.1f%%", o.Report.State, o.Report.Remaining*100)
		for _, w := range o.Report.Windows {
			fmt.Fprintf(&b, " %*s", column(w.Window), burnText(w.Burn))
		}
	}
	c.printf("%s\n", b.String())
}

// follow prints a status line every second and a banner at each phase
// change until the scenario ends. It reports whether ctx ended it early.
func (c *console) follow(ctx context.Context, sc *scenario, ld *load, eng *slo.Engine) (interrupted bool) {
	type mark struct {
		at     time.Duration
		banner bool
	}
	var marks []mark
	total := sc.end.Sub(sc.start)
	for s := time.Second; s <= total; s += time.Second {
		marks = append(marks, mark{at: s})
	}
	marks = append(marks, mark{sc.outageStart.Sub(sc.start), true}, mark{sc.outageEnd.Sub(sc.start), true})
	// At the same instant the line of the second that ended comes first.
	slices.SortStableFunc(marks, func(a, b mark) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		if a.banner == b.banner {
			return 0
		}
		if a.banner {
			return 1
		}
		return -1
	})

	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var lastSent int64
	for _, m := range marks {
		timer.Reset(time.Until(sc.start.Add(m.at)))
		select {
		case <-ctx.Done():
			c.printf("%6.1fs  interrupted\n", time.Since(sc.start).Seconds())
			return true
		case <-timer.C:
		}
		if m.banner {
			if m.at == sc.outageStart.Sub(sc.start) {
				c.printf("%6.1fs  ── outage: %.0f%% of requests fail with a 500, %.0f%% of the others take 350–700ms\n",
					m.at.Seconds(), sc.errorRate*100, sc.slowRate*100)
			} else {
				c.printf("%6.1fs  ── recovery: the faults stop\n", m.at.Seconds())
			}
			continue
		}
		sent := ld.sent.Load()
		c.row(m.at, sc.phase(sc.start.Add(m.at-time.Second/2)), sent-lastSent, eng.Status())
		lastSent = sent
	}
	return false
}

type summaryInput struct {
	cfg           config
	sc            *scenario
	load          *load
	before, after *slo.Status
	events        []slo.Event
	interrupted   bool
}

func (c *console) summary(in summaryInput) {
	sc, ld := in.sc, in.load
	c.printf("\nSummary after %.1fs", time.Since(sc.start).Seconds())
	if in.interrupted {
		c.printf(" (interrupted)")
	}
	c.printf(": %d requests sent, %d answered (%d with a 5xx), %d skipped with every client busy, %d client errors\n",
		ld.sent.Load(), ld.answered.Load(), ld.status5xx.Load(), ld.skipped.Load(), ld.failed.Load())

	for i, o := range in.after.Objectives {
		obj := o.Objective
		c.printf("\n%s (%s of %s)\n", obj.Name, percent(obj.Target), obj.Description)
		demo := o.Totals.Sub(in.before.Objectives[i].Totals)
		c.printf("  events    %d in the demo: %d good, %d bad (%d not counted: the client had gone)\n",
			demo.Total(), demo.Good, demo.Bad, o.Neutral-in.before.Objectives[i].Neutral)
		c.printf("  budget    %.1f%% left of the %s budget, %.1f%% at the start\n",
			o.Report.Remaining*100, label(obj.Period), in.before.Objectives[i].Report.Remaining*100)

		var evs []slo.Event
		for _, ev := range in.events {
			if ev.Objective == obj.Name {
				evs = append(evs, ev)
			}
		}
		var states []string
		for _, ev := range evs {
			if ev.Time.Before(sc.start) {
				states = append(states, ev.To.String()+" (history)")
				continue
			}
			states = append(states, fmt.Sprintf("%s at %.1fs", ev.To, ev.Time.Sub(sc.start).Seconds()))
		}
		if len(states) == 0 {
			states = []string{o.Report.State.String()}
		}
		c.printf("  states    %s\n", strings.Join(states, " → "))
		c.printf("  alerting  %s\n", alerting(evs, sc))
	}
	c.printf("\nServer shut down, engine closed.\n")
}

// alerting describes when the objective paged after the outage began and
// when it recovered after the outage ended.
func alerting(evs []slo.Event, sc *scenario) string {
	alert := slices.IndexFunc(evs, func(ev slo.Event) bool {
		return !ev.Time.Before(sc.outageStart) && ev.To >= budget.StatePage
	})
	if alert < 0 {
		return "no page"
	}
	s := fmt.Sprintf("%s %v after the outage began", pastTense(evs[alert].To), round(evs[alert].Time.Sub(sc.outageStart)))
	rest := evs[alert+1:]
	cleared := slices.IndexFunc(rest, func(ev slo.Event) bool { return ev.To < budget.StatePage })
	if cleared < 0 {
		return s + fmt.Sprintf("; still %v at the end", evs[len(evs)-1].To)
	}
	s += fmt.Sprintf("; page cleared %s", relative(rest[cleared].Time, sc.outageEnd))
	ok := slices.IndexFunc(rest[cleared:], func(ev slo.Event) bool { return ev.To == budget.StateOK })
	if ok < 0 {
		return s + fmt.Sprintf("; still %v at the end", evs[len(evs)-1].To)
	}
	if ok > 0 {
		s += fmt.Sprintf("; ok %s", relative(rest[cleared+ok].Time, sc.outageEnd))
	}
	return s
}

func pastTense(s budget.State) string {
	if s == budget.StatePage {
		return "paged"
	}
	return "went " + s.String()
}

// relative says how long after (or before) the outage ended t was.
func relative(t, outageEnd time.Time) string {
	if d := t.Sub(outageEnd); d >= 0 {
		return fmt.Sprintf("%v after it ended", round(d))
	}
	return fmt.Sprintf("%v before it ended", round(outageEnd.Sub(t)))
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// label formats a duration compactly: "300ms", "2.5s", "30s", "2m", "1h".
func label(d time.Duration) string {
	if d%time.Second == 0 || d < time.Second {
		return budget.FormatWindow(d)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// human formats a long duration to the minute: "12m", "3h", "2h24m".
func human(d time.Duration) string {
	s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// percent formats a share as a percentage to two decimals at most: "99.9%".
func percent(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/100, 'f', -1, 64) + "%"
}

// column is the width of a window's burn-rate column: its label or a burn
// rate, whichever is wider.
func column(w time.Duration) int { return max(4, len(label(w))) }

// burnText formats a burn rate in at most four characters.
func burnText(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 9.95:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v < 9999.5:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return ">1e4"
}
