// Flashsale runs an online shop through a flash sale twice, on loopback,
// first without and then with sloguard, and compares what its customers
// got. It finishes by itself in about a minute:
//
//	go run ./examples/flashsale
//	go run ./examples/flashsale -json
//	go run ./examples/flashsale -h
//
// The shop's capacity is a database pool of a few connections with
// realistic service times. Checkout (POST /checkout, CRITICAL) reserves
// stock and charges the payments service while it holds a connection;
// browse (GET /browse, SHEDDABLE) reads recommendations. The timeline:
// steady traffic, a tenfold spike of mostly browse traffic, an outage of the
// payments service, recovery. With sloguard, the engine sheds browse traffic
// when the admitted traffic burns the latency budget too fast, and the
// payments breaker opens when payments fails, so checkouts fail fast
// instead of holding the connections browse needs.
//
// The program prints a live view of each run, a comparison table with the
// targets, and writes the timeline as CSV and as an SVG chart. See
// README.md.
//
// With -autoscale it closes the loop instead: both runs with sloguard, a
// minute-long spike and no outage, the second run with a simulated
// autoscaler that reads sloguard's scale signal from the shop's Prometheus
// endpoint and adds capacity after a provisioning delay (about four
// minutes in all):
//
//	go run ./examples/flashsale -autoscale
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// Objective names, routes and the payments dependency.
const (
	checkoutAvailability = "checkout-availability"
	checkoutLatency      = "checkout-latency"
	browseAvailability   = "browse-availability"
	browseLatency        = "browse-latency"
	paymentsAvailability = "payments-availability"

	routeCheckout = "POST /checkout"
	routeBrowse   = "GET /browse"

	dependency = "payments"
)

// The shop's simulated costs. Both routes hold a database connection for
// about 40ms on average, so the capacity does not depend on the mix:
// connections / 40ms.
const (
	checkoutDB   = 30 * time.Millisecond // checkout's queries, before and after the charge
	paymentsTime = 8 * time.Millisecond  // the payments service's own service time
	browseDB     = 40 * time.Millisecond // browse's recommendation query
	// nominalHold is the mean time a request holds a connection: checkout
	// also waits for payments (8ms plus about 2ms of HTTP) inside its
	// transaction.
	nominalHold = 40 * time.Millisecond
	// serviceSigma is the spread of the log-normal service times: a p99
	// about three times the median, as databases have.
	serviceSigma = 0.5

	latencyThreshold = 250 * time.Millisecond // of both latency objectives
	// queueTimeout is the pool's acquire timeout: a request that can not get
	// a connection within the latency objective fails fast with a 503
	// rather than pile up. It is the same in both runs.
	queueTimeout    = 250 * time.Millisecond
	clientTimeout   = 2 * time.Second        // the customers' patience
	paymentsTimeout = time.Second            // the shop's patience with payments
	outageDelay     = 300 * time.Millisecond // a failing payments call takes this long to fail

	checkoutShare = 0.6  // of the base traffic; the spike adds browse traffic only
	maxInFlight   = 2000 // the load generator's bound on requests in flight
)

func main() {
	cfg := defaultConfig()
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage: go run ./examples/flashsale [flags]\n\n")
		fmt.Fprintf(out, "Runs a shop on 127.0.0.1 through steady traffic, a tenfold spike of browse traffic,\n")
		fmt.Fprintf(out, "an outage of its payments dependency and recovery, first without and then with\n")
		fmt.Fprintf(out, "sloguard (load shedding by criticality, a payments circuit breaker), and compares them.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.DurationVar(&cfg.Steady, "steady", cfg.Steady, "steady traffic at -rps before the spike")
	flag.DurationVar(&cfg.Spike, "spike", cfg.Spike, "the spike: -spike-factor times -rps, the extra all browse")
	flag.DurationVar(&cfg.Outage, "outage", cfg.Outage, "the payments outage, at -rps; 0 for none")
	flag.DurationVar(&cfg.Recovery, "recovery", cfg.Recovery, "steady traffic after the outage")
	flag.Float64Var(&cfg.RPS, "rps", cfg.RPS, "base request rate, 60% checkout (1 to 500)")
	flag.Float64Var(&cfg.SpikeFactor, "spike-factor", cfg.SpikeFactor, "how many times -rps the spike sends (1 to 20)")
	flag.DurationVar(&cfg.Ramp, "ramp", cfg.Ramp, "the spike grows linearly to its peak over this time; 0 for a step")
	flag.IntVar(&cfg.Conns, "conns", cfg.Conns, "database connections: capacity is conns / 40ms (1 to 64)")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of arrivals, request mix and service times")
	flag.BoolVar(&cfg.JSON, "json", cfg.JSON, "print only the comparison, as one JSON object")
	flag.BoolVar(&cfg.Quiet, "quiet", cfg.Quiet, "print no live view, only the comparison")
	flag.StringVar(&cfg.CSV, "csv", cfg.CSV, "where to write the timeline as CSV; empty for nowhere")
	flag.StringVar(&cfg.SVG, "svg", cfg.SVG, "where to write the timeline as an SVG chart; empty for nowhere")
	flag.BoolVar(&cfg.Autoscale, "autoscale", cfg.Autoscale, "run the spike twice with sloguard, without and with a simulated autoscaler that reads the scale signal from the shop's /metrics (sets -spike 60s -outage 0 -recovery 60s unless given)")
	flag.DurationVar(&cfg.Provision, "provision", cfg.Provision, "with -autoscale: how long a new replica takes to serve, like a new pod's start")
	flag.IntVar(&cfg.MaxReplicas, "max-replicas", cfg.MaxReplicas, "with -autoscale: the most replicas, each of -conns connections (1 to 16)")
	flag.DurationVar(&cfg.ScaleDownWindow, "scale-down-window", cfg.ScaleDownWindow, "with -autoscale: the autoscaler scales down to the highest recommendation of this window")
	matrix := flag.Bool("matrix", false, "run issue 8's matrix of shapes (each without and with sloguard; the spike cells with -outage, the no-spike cell without; -seed and the phases apply) and print one table")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "flashsale: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}

	if cfg.Autoscale {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg = autoscaleDefaults(cfg, set)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	var err error
	switch {
	case *matrix:
		err = runMatrix(ctx, cfg, os.Stdout, os.Stderr)
	case cfg.Autoscale:
		err = runAutoscale(ctx, cfg, os.Stdout)
	default:
		err = run(ctx, cfg, os.Stdout)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flashsale:", err)
		os.Exit(1)
	}
}

// config is one invocation of the demo: two runs of the same timeline.
type config struct {
	Steady   time.Duration // steady traffic before the spike
	Spike    time.Duration // SpikeFactor × RPS, the extra all browse
	Outage   time.Duration // payments fails
	Recovery time.Duration // steady traffic after the outage

	RPS         float64       // base request rate
	SpikeFactor float64       // the spike's rate over RPS
	Ramp        time.Duration // the spike grows linearly to its peak over Ramp
	Conns       int           // database connections: the shop's capacity
	Seed        uint64

	JSON  bool   // print the comparison as JSON, and no live view
	Quiet bool   // print no live view
	CSV   string // path of the CSV timeline; "" for none
	SVG   string // path of the SVG chart; "" for none

	// -autoscale: both runs with sloguard, the second with the autoscaler.
	Autoscale       bool
	Provision       time.Duration // a new replica's start
	MaxReplicas     int           // of Conns connections each
	ScaleDownWindow time.Duration // the autoscaler's scale-down stabilisation
}

func defaultConfig() config {
	return config{
		Steady:      6 * time.Second,
		Spike:       10 * time.Second,
		Outage:      8 * time.Second,
		Recovery:    8 * time.Second,
		RPS:         120,
		SpikeFactor: 10,
		Conns:       8,
		Seed:        1,

		Provision:       15 * time.Second,
		MaxReplicas:     8,
		ScaleDownWindow: 15 * time.Second,
		CSV:             filepath.Join(os.TempDir(), "flashsale-timeline.csv"),
		SVG:             filepath.Join(os.TempDir(), "flashsale.svg"),
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
	const maxPhase = 10 * time.Minute
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"steady", c.Steady}, {"spike", c.Spike}, {"recovery", c.Recovery}} {
		check(p.d >= time.Second && p.d <= maxPhase, "%s %v is not between 1s and %v", p.name, p.d, maxPhase)
	}
	// No outage (0) measures the spike alone.
	check(c.Outage == 0 || c.Outage >= time.Second && c.Outage <= maxPhase, "outage %v is not 0 or between 1s and %v", c.Outage, maxPhase)
	check(c.RPS >= 1 && c.RPS <= 500, "rps %v is not between 1 and 500", c.RPS)
	check(c.SpikeFactor >= 1 && c.SpikeFactor <= 20, "spike factor %v is not between 1 and 20", c.SpikeFactor)
	check(c.Conns >= 1 && c.Conns <= 64, "conns %d is not between 1 and 64", c.Conns)
	check(c.Ramp >= 0 && c.Ramp <= c.Spike, "ramp %v is not between 0 and the spike's %v", c.Ramp, c.Spike)
	if c.Autoscale {
		check(c.Provision >= 0 && c.Provision <= maxPhase, "provision %v is not between 0 and %v", c.Provision, maxPhase)
		check(c.MaxReplicas >= 1 && c.MaxReplicas <= 16, "max replicas %d is not between 1 and 16", c.MaxReplicas)
		check(c.ScaleDownWindow >= 0 && c.ScaleDownWindow <= maxPhase, "scale-down window %v is not between 0 and %v", c.ScaleDownWindow, maxPhase)
	}
	return errors.Join(errs...)
}

// capacity is the nominal capacity of the shop: each connection serves one
// request per nominalHold.
func (c config) capacity() float64 { return float64(c.Conns) / nominalHold.Seconds() }

// objectives are the shop's service level objectives over the default
// 30-day period, with the default alert rules. The payments objective is a
// client-side one: it drives the payments breaker.
func objectives() []slo.Objective {
	return []slo.Objective{
		{Name: checkoutAvailability, Description: "checkouts answered without a 5xx", Target: 0.999},
		{Name: checkoutLatency, Description: "checkouts answered without a 5xx within 250ms", Target: 0.99, Latency: latencyThreshold},
		{Name: browseAvailability, Description: "recommendations answered without a 5xx", Target: 0.99},
		{Name: browseLatency, Description: "recommendations answered without a 5xx within 250ms", Target: 0.95, Latency: latencyThreshold},
		{Name: paymentsAvailability, Description: "payment calls that succeed", Target: 0.995, Dependency: dependency},
	}
}

// shedPolicy is the overload protection of the run with sloguard: the
// defaults, with nothing tuned to this shop.
func shedPolicy() slo.ShedPolicy { return slo.ShedPolicy{} }

// breakerPolicy is the payments breaker of the run with sloguard.
func breakerPolicy() slo.BreakerPolicy {
	return slo.BreakerPolicy{ConsecutiveFailures: 5, OpenTimeout: 3 * time.Second}
}

// mode is one of the two runs.
type mode int

const (
	without mode = iota // the engine only records; no shedding, no breaker
	with                // shedding and the payments breaker
)

func (m mode) String() string {
	if m == with {
		return "with"
	}
	return "without"
}

// run runs the timeline without and then with sloguard, prints the live
// view (unless cfg.Quiet or cfg.JSON) and the comparison (a table, or JSON
// with cfg.JSON) to w, and writes the CSV and SVG files. It returns early
// when ctx is done, with every goroutine it started stopped.
func run(ctx context.Context, cfg config, w io.Writer) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	out := &console{w: w, quiet: cfg.Quiet || cfg.JSON}
	out.header(cfg)

	var runs [2]*runResult
	for _, m := range []mode{without, with} {
		r, err := runOnce(ctx, cfg, m, out)
		if err != nil {
			return fmt.Errorf("run %s sloguard: %w", m, err)
		}
		if r.interrupted {
			return ctx.Err()
		}
		runs[m] = r
	}

	cmp := compare(cfg, runs)
	if cfg.JSON {
		if err := writeJSON(w, cmp); err != nil {
			return err
		}
	} else {
		out.table(cfg, cmp)
	}
	var files []string
	if cfg.CSV != "" {
		if err := writeFile(cfg.CSV, func(f io.Writer) error { return writeCSV(f, runs) }); err != nil {
			return err
		}
		files = append(files, "timeline "+cfg.CSV)
	}
	if cfg.SVG != "" {
		if err := writeFile(cfg.SVG, func(f io.Writer) error { return writeSVG(f, cfg, runs) }); err != nil {
			return err
		}
		files = append(files, "chart "+cfg.SVG)
	}
	if !cfg.JSON {
		for _, f := range files {
			out.printf("Wrote the %s\n", f)
		}
	}
	return out.err
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
