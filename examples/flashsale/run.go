package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// runResult is what one run of the timeline produced.
type runResult struct {
	mode        mode
	sc          *scenario
	conns       int
	reqs        []request                // in the order they ended
	samples     []sample                 // one at the end of each second of the timeline
	events      []slo.Event              // the engine's events, in order
	final       *slo.Status              // after every request was evaluated
	holds       [numPhases]time.Duration // mean connection hold time by phase
	interrupted bool
	// With -autoscale: whether the autoscaler ran, its replica changes
	// and its failed reads.
	autoscaled bool
	replicas   []replicaEvent
	readErrs   int
}

// sample is the engine's state at the end of one second of the timeline.
type sample struct {
	level    float64
	breaker  slo.BreakerState
	alerts   []budget.State // by objective, as in objectives(); see alertState
	consumed []float64      // budget consumed so far, by objective; see consumed
	// The scale signal (NaN while absent) and, with the autoscaler, the
	// replicas serving and asked for.
	need          float64
	ready, target int
}

// events collects the engine's events; it is the engine's event handler.
type events struct {
	mu  sync.Mutex
	evs []slo.Event // guarded by mu
	tee func(slo.Event)
}

func (e *events) add(ev slo.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	e.tee(ev)
}

func (e *events) all() []slo.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]slo.Event(nil), e.evs...)
}

// runOnce runs the timeline once, in mode m: it starts the payments
// service and the shop on loopback, the engine and the load, follows them,
// and shuts everything down.
func runOnce(ctx context.Context, cfg config, m mode, out *console) (*runResult, error) {
	return runOnceScaled(ctx, cfg, m, out, false)
}

// runOnceScaled is runOnce, with the autoscaler if scaled. With
// cfg.Autoscale the engine exports through the OpenTelemetry Prometheus
// exporter, served by the shop at GET /metrics, which the autoscaler
// reads.
func runOnceScaled(ctx context.Context, cfg config, m mode, out *console, scaled bool) (*runResult, error) {
	evs := &events{tee: out.event}
	var mp metric.MeterProvider = noop.NewMeterProvider()
	var metrics http.Handler
	if cfg.Autoscale {
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, fmt.Errorf("creating the Prometheus exporter: %w", err)
		}
		sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
		defer func() { _ = sdk.Shutdown(context.WithoutCancel(ctx)) }()
		mp, metrics = sdk, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	opts := []slo.Option{
		slo.WithEventHandler(evs.add),
		// out.event prints what matters; the engine's log would repeat it.
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		// A real service passes its OpenTelemetry SDK MeterProvider here.
		slo.WithMeterProvider(mp),
	}
	if m == with {
		opts = append(opts, slo.WithShedding(shedPolicy()), slo.WithBreakers(breakerPolicy()))
	}
	eng, err := slo.New(objectives(), opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the engine: %w", err)
	}
	defer eng.Close() // on early returns; closed explicitly below

	// The timeline starts once both servers listen.
	sc := newScenario(cfg, time.Now().Add(300*time.Millisecond))
	srvs := &servers{}
	defer srvs.close() // on early returns

	pay := &payments{sc: sc, rng: newRandom(cfg.Seed, 3)}
	payURL, err := srvs.serve(pay.routes())
	if err != nil {
		return nil, err
	}
	base := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}
	defer base.CloseIdleConnections()
	tr, err := paymentsTransport(eng, m, base)
	if err != nil {
		return nil, err
	}
	most := cfg.Conns
	if scaled {
		most *= cfg.MaxReplicas
	}
	sh := &shop{
		db:      newElasticPool(cfg.Conns, most, sc),
		payURL:  payURL + "/charges",
		pay:     &http.Client{Transport: tr, Timeout: paymentsTimeout},
		failPay: payFailed,
		rng:     newRandom(cfg.Seed, 1),
	}
	if m == with {
		sh.failPay = middleware.WriteError // 503 and Retry-After while the breaker is open
	}
	// Both runs record through the same middleware, so their budgets are
	// measured alike; without WithShedding the engine admits everything.
	mw, err := middleware.NewServer(eng,
		middleware.WithRoute(routeCheckout, checkoutAvailability, checkoutLatency),
		middleware.WithRoute(routeBrowse, browseAvailability, browseLatency),
		middleware.WithRouteCriticality(routeCheckout, slo.Critical),
		middleware.WithRouteCriticality(routeBrowse, slo.Sheddable),
	)
	if err != nil {
		return nil, fmt.Errorf("creating the middleware: %w", err)
	}
	mux := sh.routes(mw)
	if metrics != nil {
		mux.Handle("GET /metrics", metrics) // what Prometheus would scrape
	}
	shopURL, err := srvs.serve(mux)
	if err != nil {
		return nil, err
	}
	if err := eng.Start(); err != nil {
		return nil, fmt.Errorf("starting the engine: %w", err)
	}

	res := &runResult{mode: m, sc: sc, conns: cfg.Conns, autoscaled: scaled}
	var as *autoscaler
	if scaled {
		as = newAutoscaler(shopURL+"/metrics", sh.db, sc, cfg)
		as.start(ctx)
	}
	out.begin(m, sc, shopURL, payURL, scaled)
	ld := newLoad(sc, shopURL, cfg.Seed)
	ld.start(ctx)
	res.samples, res.interrupted = out.follow(ctx, sc, ld, eng, as)
	ld.wait()
	if as != nil {
		as.stop()
		res.replicas, res.readErrs = as.history()
	}

	// Clean shutdown: servers, client connections, a last evaluation that
	// sees every request, then the engine.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	errShutdown := srvs.shutdown(shutdownCtx)
	ld.close()
	base.CloseIdleConnections()
	awaitEvaluation(shutdownCtx, eng, time.Now(), time.Second)
	res.final = eng.Status()
	if err := eng.Close(); err != nil {
		errShutdown = errors.Join(errShutdown, err)
	}
	res.reqs, _ = ld.res.from(0)
	res.events = evs.all()
	for p := range numPhases {
		res.holds[p] = sh.db.meanHold(p)
	}
	if errShutdown != nil {
		return nil, fmt.Errorf("shutting down: %w", errShutdown)
	}
	out.end()
	return res, nil
}

// paymentsTransport returns the shop's transport to payments. With
// sloguard it is the middleware's Transport: payments' objective and
// breaker. Without, a plain transport that records the same objective, so
// that the budgets of both runs are measured alike.
func paymentsTransport(eng *slo.Engine, m mode, base http.RoundTripper) (http.RoundTripper, error) {
	if m == with {
		tr, err := middleware.NewTransport(eng, dependency, base)
		if err != nil {
			return nil, fmt.Errorf("creating the payments transport: %w", err)
		}
		return tr, nil
	}
	rec, err := eng.Recorder(paymentsAvailability)
	if err != nil {
		return nil, err
	}
	return recording{base: base, rec: rec}, nil
}

// recording is an http.RoundTripper that records each call in one
// objective, as middleware.DefaultTransportClassifier judges it, and has no
// breaker.
type recording struct {
	base http.RoundTripper
	rec  *slo.Recorder
}

func (r recording) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := r.base.RoundTrip(req)
	r.rec.Record(middleware.DefaultTransportClassifier(resp, err), time.Since(start))
	return resp, err
}

// servers are the run's HTTP servers, each on its own loopback port.
type servers struct {
	list   []*http.Server
	served []chan error
}

// serve serves h on a new loopback port and returns its base URL.
func (s *servers) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listening on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	s.list = append(s.list, srv)
	s.served = append(s.served, done)
	return "http://" + ln.Addr().String(), nil
}

// shutdown shuts the servers down gracefully, shop first, and waits for
// them.
func (s *servers) shutdown(ctx context.Context) error {
	var errs []error
	for i := len(s.list) - 1; i >= 0; i-- {
		errs = append(errs, s.list[i].Shutdown(ctx))
		if err := <-s.served[i]; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	s.list, s.served = nil, nil
	return errors.Join(errs...)
}

// close closes any server still running, at once.
func (s *servers) close() {
	for i, srv := range s.list {
		_ = srv.Close()
		<-s.served[i]
	}
	s.list, s.served = nil, nil
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
