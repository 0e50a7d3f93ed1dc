// Command fleet runs three replicas of a checkout service with sloguard and
// one real Prometheus that scrapes them, and shows every replica judging
// the error budget on the fleet's events, read back from Prometheus with
// slo/promfleet: each replica alone has too little traffic to judge, one is
// restarted without its snapshot, and all three still agree on the fleet's
// budget, freeze releases together and print the same numbers as the exact
// count of what was sent.
//
//	go run ./examples/fleet                          # finds prometheus on PATH
//	go run ./examples/fleet -prometheus /usr/bin/prometheus
//
// Everything listens on 127.0.0.1 and stops at the end (about 15 seconds,
// most of them Prometheus discovering its targets).
package main

import (
	"context"
	"errors"
	"flag"
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
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promfleet"
)

const (
	job       = "checkout"
	objective = "checkout-availability"
	target    = 0.99
	minEvents = 400 // more than any replica sees alone
)

func main() {
	bin := flag.String("prometheus", os.Getenv("SLOGUARD_PROMETHEUS"), "path of the prometheus `binary`; by default $SLOGUARD_PROMETHEUS, else prometheus on PATH")
	flag.Parse()
	if *bin == "" {
		p, err := exec.LookPath("prometheus")
		if err != nil {
			fmt.Fprintln(os.Stderr, "fleet: no prometheus binary: install it (apt-get install prometheus) or pass -prometheus")
			os.Exit(2)
		}
		*bin = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, *bin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// run runs the demonstration and returns an error if the replicas do not
// agree with the exact count.
func run(ctx context.Context, promBin string, out io.Writer) error {
	dir, err := os.MkdirTemp("", "sloguard-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	replicas := make([]*replica, 3)
	var targets []string
	for i := range replicas {
		r, err := newReplica(fmt.Sprintf("replica-%d", i), filepath.Join(dir, fmt.Sprintf("replica-%d.snap", i)))
		if err != nil {
			return err
		}
		defer r.close()
		replicas[i] = r
		targets = append(targets, "'"+r.addr+"'")
	}
	prom, err := startPrometheus(ctx, promBin, dir, targets)
	if err != nil {
		return err
	}
	defer prom.stop()
	src, err := promfleet.New(prom.url, promfleet.WithService(job))
	if err != nil {
		return err
	}
	for _, r := range replicas {
		if err := r.start(src); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "Prometheus at %s scrapes %s every second.\n", prom.url, strings.Join(targets, ", "))
	// Every series is scraped at zero before any traffic, so that
	// increase() sees all of it.
	if err := prom.wait(ctx, `count(sloguard_events_total{job="checkout", outcome="good"} == 0)`, 3); err != nil {
		return err
	}

	var sent budget.Counts
	send := func(i int, good, bad int) error {
		sent.Good, sent.Bad = sent.Good+uint64(good), sent.Bad+uint64(bad)
		return replicas[i].send(ctx, good, bad)
	}
	fmt.Fprintln(out, "\nEach replica serves 200 requests, 10 of them failing (5% errors against a 1% budget).")
	for i := range replicas {
		if err := send(i, 190, 10); err != nil {
			return err
		}
	}
	if err := prom.scraped(ctx, replicas, 600); err != nil {
		return err
	}
	show(out, replicas)

	fmt.Fprintln(out, "\nreplica-2 is redeployed without its snapshot, then serves 50 good requests.")
	replicas[2].stopProcess()
	os.Remove(replicas[2].snapshot)
	if err := replicas[2].start(src); err != nil {
		return err
	}
	if err := prom.wait(ctx, `count(sloguard_events_total{job="checkout", outcome="good"} == 0)`, 1); err != nil {
		return err
	}
	if err := send(2, 50, 0); err != nil {
		return err
	}
	if err := prom.scraped(ctx, replicas, 450); err != nil { // the counters of the processes running now
		return err
	}
	show(out, replicas)

	want := budget.Remaining(sent.Bad, sent.Total(), target)
	fmt.Fprintf(out, "\nExact, over all %d events sent: %.1f%% of the budget left.\n", sent.Total(), want*100)
	var errs []error
	for _, r := range replicas {
		o, _ := r.eng.Status().Objective(objective)
		// increase() extrapolates each series up to a scrape interval
		// past its last sample: over a run this short the fleet's counts
		// read high, but each replica's error ratio, and so the budget,
		// hardly moves.
		spent, wantSpent := 1-o.Report.Remaining, 1-want
		if o.View != slo.ViewFleet || !r.eng.Status().Release.Frozen || math.Abs(spent-wantSpent) > 0.05*wantSpent {
			errs = append(errs, fmt.Errorf("%s: view %v, remaining %.1f%%, frozen %v: does not agree", r.name, o.View, o.Report.Remaining*100, r.eng.Status().Release.Frozen))
		}
	}
	if len(errs) == 0 {
		fmt.Fprintln(out, "All three replicas judge the fleet's budget and freeze releases, although none could alone.")
		fmt.Fprintln(out, "(The fleet's event counts read high: Prometheus' increase() extrapolates each series by up to one")
		fmt.Fprintln(out, "scrape interval, a large share of series this young; the error ratios, and so the budget, agree.)")
	}
	return errors.Join(errs...)
}

// show prints every replica's view of the budget.
func show(out io.Writer, replicas []*replica) {
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tVIEW\tFLEET EVENTS\tFLEET BUDGET LEFT\tSTATE\tTHIS REPLICA ALONE\tRELEASES")
	for _, r := range replicas {
		st := r.eng.Status()
		o, _ := st.Objective(objective)
		left := "unknown"
		if o.Report.State != budget.StateUnknown {
			left = fmt.Sprintf("%.1f%%", o.Report.Remaining*100)
		}
		release := "allowed"
		if st.Release.Frozen {
			release = "FROZEN"
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%s\t%v\t%d events, %v\t%s\n", r.name, o.View, o.Report.Period.Total(), left, o.Report.State,
			o.Local.Period.Total(), o.Local.State, release)
	}
	tw.Flush()
}

// wait polls query until it returns one sample of value want.
func (p *prometheusProc) wait(ctx context.Context, query string, want float64) error {
	var last string
	for {
		v, _, _, err := p.api.Query(ctx, query, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && float64(vec[0].Value) == want {
			return nil
		}
		last = fmt.Sprint(v, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s == %v: %w; last %s", query, want, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// scraped waits until Prometheus holds n events in the counters of the
// running processes, and then for every replica's next fleet read.
func (p *prometheusProc) scraped(ctx context.Context, replicas []*replica, n float64) error {
	if err := p.wait(ctx, `sum(sloguard_events_total{job="checkout", outcome=~"good|bad|shed"})`, n); err != nil {
		return err
	}
	at := time.Now()
	for _, r := range replicas {
		for {
			if o, _ := r.eng.Status().Objective(objective); o.View == slo.ViewFleet && o.ViewTime.After(at) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s's fleet view: %w", r.name, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// replica is a metrics endpoint at a fixed address, which Prometheus
// scrapes across restarts, and the process behind it.
type replica struct {
	name     string
	addr     string
	snapshot string
	srv      *http.Server
	metrics  atomic.Pointer[http.Handler] // nil while down

	eng *slo.Engine
	mp  *sdkmetric.MeterProvider
	app *httptest.Server
}

func newReplica(name, snapshot string) (*replica, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &replica{name: name, addr: l.Addr().String(), snapshot: snapshot}
	r.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h := r.metrics.Load(); h != nil {
			(*h).ServeHTTP(w, req)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	})}
	go r.srv.Serve(l)
	return r, nil
}

// start starts a process: an engine with snapshots and the fleet view,
// exporting through its own Prometheus registry, behind the checkout
// service.
func (r *replica) start(src slo.FleetSource) error {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	store, err := slo.NewFileStore(r.snapshot)
	if err != nil {
		return err
	}
	r.eng, err = slo.New([]slo.Objective{{Name: objective, Target: target, MinEvents: minEvents}},
		slo.WithMeterProvider(r.mp),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithInterval(250*time.Millisecond),
		slo.WithSnapshots(store, 5*time.Second),
		slo.WithFleet(src, slo.FleetPolicy{Every: time.Second, Timeout: time.Second, MaxAge: 10 * time.Second, Lag: 5 * time.Second}),
	)
	if err != nil {
		return err
	}
	mw, err := middleware.NewServer(r.eng, middleware.WithRoute("POST /checkout", objective))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("fail") != "" {
			http.Error(w, "payment backend unavailable", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok\n")
	})
	r.app = httptest.NewServer(mw.Wrap(mux))
	if err := r.eng.Start(); err != nil {
		return err
	}
	h := http.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.metrics.Store(&h)
	return nil
}

func (r *replica) send(ctx context.Context, good, bad int) error {
	for i := range good + bad {
		path := "/checkout"
		if i >= good {
			path += "?fail=1"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.app.URL+path, nil)
		if err != nil {
			return err
		}
		resp, err := r.app.Client().Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return nil
}

// stopProcess stops the process as a deploy does; Close saves the final
// snapshot.
func (r *replica) stopProcess() {
	if r.eng == nil {
		return
	}
	r.metrics.Store(nil)
	r.app.Close()
	r.eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.mp.Shutdown(ctx)
	r.eng = nil
}

func (r *replica) close() {
	r.stopProcess()
	r.srv.Close()
}

// prometheusProc is the Prometheus server of the demonstration.
type prometheusProc struct {
	url  string
	api  v1.API
	cmd  *exec.Cmd
	done chan struct{}
}

func startPrometheus(ctx context.Context, bin, dir string, targets []string) (*prometheusProc, error) {
	config := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: %s\n    static_configs:\n      - targets: [%s]\n",
		job, strings.Join(targets, ", "))
	if err := os.WriteFile(config, []byte(yml), 0o644); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		return nil, err
	}
	p := &prometheusProc{url: "http://" + addr, api: v1.NewAPI(c), cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			p.stop()
			return nil, fmt.Errorf("prometheus at %s not ready: %w", addr, ctx.Err())
		case <-p.done:
			return nil, fmt.Errorf("prometheus exited: %v", cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *prometheusProc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}
