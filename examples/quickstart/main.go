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
//
// The plumbing it shares with the other examples (time compression, the
// load generator, console output) is in internal/demo; the sloguard wiring
// is all here.
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
	"github.com/sloguard/sloguard/internal/demo"
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
	flag.Float64Var(&cfg.ErrorRate, "error-rate", cfg.ErrorRate, "share of requests answered with a 500 during the outage (0 to 1)")
	flag.Float64Var(&cfg.SlowRate, "slow-rate", cfg.SlowRate, "share of the other requests that take 350-700ms during the outage (0 to 1)")
	cfg.RegisterFlags(flag.CommandLine) // -rps, -period, -history, -seed
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

	// The load, the outage's rates and the time compression. ErrorRate is
	// the share of requests answered with a 500 during the outage, SlowRate
	// the share of the others slower than the threshold.
	demo.Config
}

func defaultConfig() config {
	cfg := config{Warmup: 15 * time.Second, Outage: 12 * time.Second, Recovery: 15 * time.Second, Config: demo.DefaultConfig()}
	cfg.ErrorRate, cfg.SlowRate = 0.20, 0.20
	return cfg
}

// validate reports every problem with the configuration.
func (c config) validate() error {
	return errors.Join(demo.ValidatePhases(c.Warmup, c.Outage, c.Recovery, "outage"), c.Config.Validate())
}

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

func (c config) objectives() []slo.Objective {
	return []slo.Objective{{
		Name:        availability,
		Description: "requests answered without a 5xx",
		Target:      0.999,
		Period:      c.Period,
		// The windows shrink as much as the period, so the thresholds,
		// fraction × period / long window, stay the Workbook's.
		Rules:     c.Shrink(workbookRules()),
		MinEvents: minEvents,
	}, {
		Name:        latency,
		Description: "requests answered without a 5xx within 300ms",
		Target:      0.99,
		Latency:     latencyThreshold,
		Period:      c.Period,
		Rules:       c.Shrink(workbookRules()),
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
	out := &console{demo.NewConsole(w)}

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
	out.header(cfg, eng, ln.Addr())
	demo.Preload(eng, cfg.Config, 5*time.Millisecond, time.Now())
	before := eng.Status()

	tl := demo.NewTimeline(time.Now(), cfg.Warmup, cfg.Outage, cfg.Recovery)
	srv := &http.Server{
		Handler:           mw.Wrap(newService(tl, cfg).routes()),
		ReadHeaderTimeout: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := eng.Start(); err != nil {
		_ = srv.Close()
		<-served
		return fmt.Errorf("starting the engine: %w", err)
	}
	out.begin(tl.Start, eng.Status())

	ld := demo.NewLoad("http://"+ln.Addr().String(), cfg.Config, nextRequest)
	ld.Start(ctx, tl)
	interrupted := out.follow(ctx, cfg, tl, ld, eng)
	ld.Wait()

	// Clean shutdown: server, client connections, a last evaluation that
	// sees every request, then the engine.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	errShutdown := srv.Shutdown(shutdownCtx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errShutdown = errors.Join(errShutdown, err)
	}
	ld.Close()
	demo.AwaitEvaluation(shutdownCtx, eng, time.Now(), cfg.Interval)
	errClose := eng.Close()

	out.summary(summaryInput{
		tl: tl, load: ld, before: before, after: eng.Status(),
		events: eng.Events(), interrupted: interrupted,
	})
	if err := errors.Join(errShutdown, errClose); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return out.Err()
}

// service is the demo's HTTP service: it simulates service time and fails
// during the outage.
type service struct {
	tl                  demo.Timeline
	errorRate, slowRate float64 // during the outage
	orders              atomic.Int64

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

func newService(tl demo.Timeline, cfg config) *service {
	return &service{tl: tl, errorRate: cfg.ErrorRate, slowRate: cfg.SlowRate, rng: rand.New(rand.NewPCG(cfg.Seed, 1))}
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
	if s.tl.Phase(time.Now()) == demo.Fault {
		errorRate, slowRate = s.errorRate, s.slowRate
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

// nextRequest is the load's request mix: mostly browsing, some checkouts.
func nextRequest(rng *rand.Rand) demo.Request {
	if rng.Float64() < checkoutShare {
		return demo.Request{Method: http.MethodPost, Path: "/checkout", Body: fmt.Sprintf(`{"item":%d,"quantity":1}`, 1+rng.IntN(1000))}
	}
	return demo.Request{Method: http.MethodGet, Path: "/items/" + strconv.Itoa(1+rng.IntN(1000))}
}

// phaseNames are the phases as the status lines name them.
var phaseNames = [demo.NumPhases]string{"warmup", "outage", "recovery"}

// console writes the demo's output: a header, the live status lines and
// state changes, and a summary.
type console struct{ *demo.Console }

// event is the engine's event handler.
func (c *console) event(ev slo.Event) {
	c.Eventf(ev.Time, "▶ %-13s %s → %s   budget %.1f%%   burn %s\n",
		ev.Objective, ev.From, ev.To, ev.Remaining*100, demo.Burns(ev.Burns))
}

func (c *console) header(cfg config, eng *slo.Engine, addr net.Addr) {
	c.Printf("sloguard quickstart: an HTTP service on http://%s, two objectives, an outage and its alerts\n\n", addr)
	c.PrintCompression(cfg.Config)
	c.Printf("  timeline   warmup %s (%s) → outage %s (%s) → recovery %s (%s)\n",
		demo.Label(cfg.Warmup), cfg.Stands(cfg.Warmup), demo.Label(cfg.Outage), cfg.Stands(cfg.Outage),
		demo.Label(cfg.Recovery), cfg.Stands(cfg.Recovery))
	c.Printf("  outage     %.0f%% of requests fail with a 500, %.0f%% of the others take 350–700ms\n",
		cfg.ErrorRate*100, cfg.SlowRate*100)
	c.Printf("  load       %.0f rps from %d clients: %.0f%% GET /items/{id}, %.0f%% POST /checkout\n",
		cfg.RPS, cfg.Clients, (1-checkoutShare)*100, checkoutShare*100)
	c.Printf("  engine     evaluates every %v; a window needs %d events before it may fire\n\n", cfg.Interval, minEvents)

	c.PrintObjectives(cfg.Config, eng.Objectives(), workbookRules())
	c.Printf("budget: share of the period's error budget left. burn rate: how fast it is spent, where 1\n")
	c.Printf("spends exactly the budget in one period. A rule fires when the burn rate over both its\n")
	c.Printf("windows reaches its threshold. States: ok, ticket, page, exhausted (budget spent).\n\n")
}

// begin starts the live part: from now on events are printed.
func (c *console) begin(start time.Time, st *slo.Status) {
	var top, cols strings.Builder
	fmt.Fprintf(&top, "%-22s", "")
	fmt.Fprintf(&cols, "%7s  %-8s %4s", "time", "phase", "rps")
	for _, o := range st.Objectives {
		var ws strings.Builder
		for _, w := range o.Objective.Spec().Windows() {
			fmt.Fprintf(&ws, " %*s", column(w), demo.Label(w))
		}
		title := fmt.Sprintf("%s %s", o.Objective.Name, demo.Percent(o.Objective.Target))
		if o.Objective.Latency > 0 {
			title += " < " + demo.Label(o.Objective.Latency)
		}
		width := 2 + 9 + 1 + 7 + ws.Len()
		fmt.Fprintf(&top, "  %-*s", width-2, title+" ── burn rate over")
		fmt.Fprintf(&cols, "  %-9s %7s%s", "state", "budget", ws.String())
	}
	c.Begin(start, "%s\n%s\n", strings.TrimRight(top.String(), " "), cols.String())
}

// row prints the status line of the second that ended at elapsed.
func (c *console) row(elapsed time.Duration, phase string, rps int64, st *slo.Status) {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  %-8s %4d", elapsed.Seconds(), phase, rps)
	for _, o := range st.Objectives {
		fmt.Fprintf(&b, "  %-9s %6.1f%%", o.Report.State, o.Report.Remaining*100)
		for _, w := range o.Report.Windows {
			fmt.Fprintf(&b, " %*s", column(w.Window), demo.BurnRate(w.Burn))
		}
	}
	c.Printf("%s\n", b.String())
}

// column is the width of a window's burn-rate column: its label or a burn
// rate, whichever is wider.
func column(w time.Duration) int { return max(4, len(demo.Label(w))) }

// follow prints a status line every second and a banner at each phase
// change until the timeline ends. It reports whether ctx ended it early.
func (c *console) follow(ctx context.Context, cfg config, tl demo.Timeline, ld *demo.Load, eng *slo.Engine) (interrupted bool) {
	var lastSent int64
	return c.Follow(ctx, tl, func(s demo.Step) {
		switch {
		case s.Change && s.Phase == demo.Fault:
			c.Printf("%6.1fs  ── outage: %.0f%% of requests fail with a 500, %.0f%% of the others take 350–700ms\n",
				s.At.Seconds(), cfg.ErrorRate*100, cfg.SlowRate*100)
		case s.Change:
			c.Printf("%6.1fs  ── recovery: the faults stop\n", s.At.Seconds())
		default:
			sent := ld.Counts().Sent
			c.row(s.At, phaseNames[s.Phase], sent-lastSent, eng.Status())
			lastSent = sent
		}
	})
}

type summaryInput struct {
	tl            demo.Timeline
	load          *demo.Load
	before, after *slo.Status
	events        []slo.Event
	interrupted   bool
}

func (c *console) summary(in summaryInput) {
	n := in.load.Counts()
	c.PrintSummary(time.Since(in.tl.Start), in.interrupted,
		"%d requests sent, %d answered (%d with a 5xx), %d skipped with every client busy, %d client errors\n",
		n.Sent, n.Answered, n.Total5xx(), n.Skipped, n.Failed)
	for i, o := range in.after.Objectives {
		b := in.before.Objectives[i]
		c.PrintObjective(b, o, in.events, in.tl.Start, fmt.Sprintf("(%d not counted: the client had gone)", o.Neutral-b.Neutral))
		c.Printf("  alerting  %s\n", alerting(demo.StateChanges(in.events, o.Objective.Name), in.tl))
	}
	c.Printf("\nServer shut down, engine closed.\n")
}

// alerting describes, from an objective's state changes in order, when it
// paged after the outage began and when it recovered after the outage
// ended.
func alerting(evs []slo.Event, tl demo.Timeline) string {
	alert := slices.IndexFunc(evs, func(ev slo.Event) bool {
		return !ev.Time.Before(tl.FaultStart) && ev.To >= budget.StatePage
	})
	if alert < 0 {
		return "no page"
	}
	s := fmt.Sprintf("%s %v after the outage began", pastTense(evs[alert].To), demo.Round(evs[alert].Time.Sub(tl.FaultStart)))
	rest := evs[alert+1:]
	cleared := slices.IndexFunc(rest, func(ev slo.Event) bool { return ev.To < budget.StatePage })
	if cleared < 0 {
		return s + fmt.Sprintf("; still %v at the end", evs[len(evs)-1].To)
	}
	s += "; page cleared " + demo.Relative(rest[cleared].Time, tl.FaultEnd, "it ended")
	ok := slices.IndexFunc(rest[cleared:], func(ev slo.Event) bool { return ev.To == budget.StateOK })
	if ok < 0 {
		return s + fmt.Sprintf("; still %v at the end", evs[len(evs)-1].To)
	}
	if ok > 0 {
		s += "; ok " + demo.Relative(rest[cleared+ok].Time, tl.FaultEnd, "it ended")
	}
	return s
}

func pastTense(s budget.State) string {
	if s == budget.StatePage {
		return "paged"
	}
	return "went " + s.String()
}
