// Flags runs a service whose risky feature turns itself off when its
// objective burns and back on after recovery, and shows it live. It finishes
// by itself in under 40 seconds:
//
//	go run ./examples/flags
//	go run ./examples/flags -h
//
// The service (on 127.0.0.1) recommends items two ways: a new recommender,
// the risky feature, and the old one. GET /recommendations picks with a
// sloguard gate directly (gate.Enabled()); GET /home asks OpenFeature for
// the flag "new-recommender", served by an in-memory provider wrapped by
// sloguard's OpenFeature provider, which forces the flag off while the same
// gate is closed. The gate closes while an objective pages. A load generator
// sends traffic; after a warmup the new recommender fails for a while, and
// the program prints the budget, the gate and who served the requests,
// second by second, then a summary.
//
// Real budgets span 30 days and their alert windows hours, so the demo
// compresses time: the objectives' period is two hours, and the alert rules
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
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/openfeature"
)

// Objectives, gate, flag and routes.
const (
	availability = "availability"
	latency      = "latency"

	gateName = "risky-features"
	flagKey  = "new-recommender"

	routeRecommendations = "GET /recommendations" // checks the gate directly
	routeHome            = "GET /home"            // asks OpenFeature

	latencyThreshold = 300 * time.Millisecond
	// minEvents keeps a window with fewer events from firing a rule, so the
	// first requests can not page anyone.
	minEvents = 20
	// minRemaining closes the gate for good (until the budget recovers)
	// once less than this share of the budget is left.
	minRemaining = 0.25
)

func main() {
	cfg := defaultConfig()
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage: go run ./examples/flags [flags]\n\n")
		fmt.Fprintf(out, "Runs an HTTP service on 127.0.0.1 whose new recommender (a risky feature behind a\n")
		fmt.Fprintf(out, "sloguard gate and an OpenFeature flag) fails for a while, and prints how the gate\n")
		fmt.Fprintf(out, "turns it off and back on. Time is compressed: -period stands for 30 days.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "healthy traffic before the fault")
	flag.DurationVar(&cfg.Fault, "fault", cfg.Fault, "how long the new recommender fails")
	flag.DurationVar(&cfg.Recovery, "recovery", cfg.Recovery, "healthy traffic after the fault")
	flag.Float64Var(&cfg.ErrorRate, "error-rate", cfg.ErrorRate, "share of the new recommender's answers that are a 500 during the fault (0 to 1)")
	flag.Float64Var(&cfg.SlowRate, "slow-rate", cfg.SlowRate, "share of its other answers that take 350-700ms during the fault (0 to 1)")
	cfg.RegisterFlags(flag.CommandLine) // -rps, -period, -history, -seed
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "flags: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flags:", err)
		os.Exit(1)
	}
}

// config is one run of the demo.
type config struct {
	Warmup   time.Duration // healthy traffic before the fault
	Fault    time.Duration // the new recommender fails
	Recovery time.Duration // healthy traffic after the fault

	// The load, the fault's rates and the time compression. ErrorRate is
	// the share of the new recommender's answers that are a 500 during the
	// fault, SlowRate the share of its other answers slower than the
	// threshold. Interval is also the provider's poll interval.
	demo.Config
}

func defaultConfig() config {
	cfg := config{Warmup: 10 * time.Second, Fault: 15 * time.Second, Recovery: 12 * time.Second, Config: demo.DefaultConfig()}
	cfg.ErrorRate, cfg.SlowRate = 0.30, 0.10
	cfg.Period, cfg.History = 2*time.Hour, 2*time.Hour
	return cfg
}

// validate reports every problem with the configuration.
func (c config) validate() error {
	return errors.Join(demo.ValidatePhases(c.Warmup, c.Fault, c.Recovery, "fault"), c.Config.Validate())
}

// workbookRules are two of the four rules of The Site Reliability Workbook
// for a 30-day period. The 1h & 5m page rule would shrink below the
// ledger's one-second buckets, and the 3d & 6h ticket rule would outlast the
// demo.
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

// gatePolicy closes the gate while an objective pages, and for good once
// less than a quarter of a budget is left: what is left is kept for what
// matters more than the new recommender.
func gatePolicy() slo.GatePolicy {
	return slo.GatePolicy{ClosedOnPage: true, MinRemaining: minRemaining}
}

// run runs the demo and writes its output to w. It returns after the
// recovery phase, or early when ctx is done, with every goroutine it
// started stopped. It uses the process's global OpenFeature API and shuts
// it down before returning.
func run(ctx context.Context, cfg config, w io.Writer) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	out := &console{demo.NewConsole(w)}

	eng, err := slo.New(cfg.objectives(),
		slo.WithGate(gateName, gatePolicy()),
		slo.WithInterval(cfg.Interval),
		slo.WithEventHandler(out.event),
		// out.event prints the changes; the engine's log would repeat them.
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		// A real service passes its OpenTelemetry SDK MeterProvider here.
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		return fmt.Errorf("creating the engine: %w", err)
	}
	defer eng.Close() // on early returns; closed explicitly below
	gate, err := eng.Gate(gateName)
	if err != nil {
		return err
	}

	// The flag as a flag service would serve it: on for everyone. sloguard's
	// provider wraps it and forces it to false while the gate is closed.
	flags := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		flagKey: {
			State:          memprovider.Enabled,
			DefaultVariant: "on",
			Variants:       map[string]any{"on": true, "off": false},
		},
	})
	provider, err := openfeature.NewProvider(flags, eng,
		openfeature.WithGatedFlag(flagKey, gateName, false),
		openfeature.WithPollInterval(cfg.Interval),
	)
	if err != nil {
		return fmt.Errorf("creating the OpenFeature provider: %w", err)
	}
	if err := of.SetProviderWithContextAndWait(ctx, provider); err != nil {
		return fmt.Errorf("setting the OpenFeature provider: %w", err)
	}
	defer of.Shutdown() // on early returns; shut down explicitly below, and a second reset is harmless
	client := of.NewDefaultClient()
	configChanged := out.flagChanged(client)
	of.AddHandler(of.ProviderConfigChange, &configChanged)

	mw, err := middleware.NewServer(eng,
		middleware.WithRoute(routeRecommendations, availability, latency),
		middleware.WithRoute(routeHome, availability, latency),
		middleware.WithDefault(availability, latency),
	)
	if err != nil {
		return fmt.Errorf("creating the middleware: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening on loopback: %w", err)
	}
	out.header(cfg, eng, provider, ln.Addr())
	demo.Preload(eng, cfg.Config, 10*time.Millisecond, time.Now())
	before := eng.Status()

	tl := demo.NewTimeline(time.Now(), cfg.Warmup, cfg.Fault, cfg.Recovery)
	svc := newService(tl, cfg, gate, client)
	srv := &http.Server{
		Handler:           mw.Wrap(svc.routes()),
		ReadHeaderTimeout: 5 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := eng.Start(); err != nil {
		_ = srv.Close()
		<-served
		return fmt.Errorf("starting the engine: %w", err)
	}
	out.begin(tl.Start, cfg.Shrink(workbookRules())[0])

	ld := demo.NewLoad("http://"+ln.Addr().String(), cfg.Config, nextRequest)
	ld.Start(ctx, tl)
	interrupted := out.follow(ctx, cfg, tl, ld, svc, eng)
	ld.Wait()

	// Clean shutdown: server, client connections, a last evaluation that
	// sees every request, OpenFeature, then the engine.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	errShutdown := srv.Shutdown(shutdownCtx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errShutdown = errors.Join(errShutdown, err)
	}
	ld.Close()
	demo.AwaitEvaluation(shutdownCtx, eng, time.Now(), cfg.Interval)
	out.End() // OpenFeature's handlers may still run: they print nothing from now on
	errOF := of.ShutdownWithContext(shutdownCtx)
	errClose := eng.Close()

	out.summary(summaryInput{
		tl: tl, load: ld, svc: svc, before: before, after: eng.Status(),
		events: eng.Events(), interrupted: interrupted,
	})
	if err := errors.Join(errShutdown, errOF, errClose); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return out.Err()
}
