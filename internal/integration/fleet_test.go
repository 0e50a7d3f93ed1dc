//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promfleet"
	"github.com/sloguard/sloguard/slo/statuspage"
)

// The fleet test's service: three replicas of one checkout service, scraped
// by one Prometheus under one job, the service label of promfleet and
// promrules.
const (
	fleetJob       = "sloguard-fleet"
	fleetObjective = "checkout-availability"
	fleetTarget    = 0.99
	fleetMin       = 400 // MinEvents: more than any replica alone sees
	fleetScrape    = time.Second
	fleetGate      = "recommendations"
)

const fleetPrometheusConfig = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%s]
`

// fleetReplica is one replica: a metrics endpoint at a fixed address that
// Prometheus scrapes across restarts, and the current process behind it.
type fleetReplica struct {
	name    string
	addr    string
	metrics atomic.Pointer[http.Handler] // nil while the replica is down: 503
	store   *slo.FileStore
	proc    *fleetProcess
}

// fleetProcess is one incarnation of a replica.
type fleetProcess struct {
	eng  *slo.Engine
	mp   *sdkmetric.MeterProvider
	app  *httptest.Server // the checkout service behind sloguard's middleware
	page http.Handler     // the status handler
	sent counts           // events recorded by this process: its counter values
}

// TestFleetView runs three replicas of a loopback service exporting to one
// real Prometheus, sends each a known mix of traffic, restarts two of them
// mid-way (one with its snapshot, one without), and checks that every
// replica's fleet view matches the exact computation over all events sent,
// within the error that promfleet documents: Prometheus' increase()
// extrapolates a series up to one scrape interval (a little more when a
// scrape is late) past its last sample, so each count may read high by that
// share of the series' lifetime, never low (the test waits for every event
// to be scraped), while error ratios hardly move. It then checks that the
// release freeze, the release endpoint and a gate follow the fleet's spent
// budget although no replica alone has enough events (MinEvents) to judge.
func TestFleetView(t *testing.T) {
	promBin := requireBinary(t, "SLOGUARD_PROMETHEUS")
	promtool := requireBinary(t, "SLOGUARD_PROMTOOL")
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()

	replicas := make([]*fleetReplica, 3)
	var targets []string
	for i := range replicas {
		r := &fleetReplica{name: fmt.Sprintf("replica-%d", i)}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if h := r.metrics.Load(); h != nil {
				(*h).ServeHTTP(w, req)
				return
			}
			http.Error(w, "replica down", http.StatusServiceUnavailable)
		}), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		r.addr = l.Addr().String()
		targets = append(targets, fmt.Sprintf("'%s'", r.addr))
		store, err := slo.NewFileStore(filepath.Join(t.TempDir(), "sloguard.snap"))
		if err != nil {
			t.Fatal(err)
		}
		r.store = store
		replicas[i] = r
	}

	dir := t.TempDir()
	prom, api := startPrometheus(ctx, t, promBin, promtool, dir, fmt.Appendf(nil, fleetPrometheusConfig, fleetJob, strings.Join(targets, ", ")))
	src, err := promfleet.New(api.base, promfleet.WithService(fleetJob))
	if err != nil {
		t.Fatalf("promfleet.New = %v", err)
	}

	for _, r := range replicas {
		r.start(t, src)
	}
	t.Cleanup(func() {
		for _, r := range replicas {
			r.stop(t)
		}
	})
	first := time.Now()
	// Every series is scraped at zero before any traffic: increase() then
	// loses nothing at a series' start.
	waitScraped(ctx, t, prom, api, replicas)

	// Phase one: 5% errors on every replica, 200 events each, below
	// MinEvents alone, 600 together.
	var all counts // every event sent to the fleet
	for _, r := range replicas {
		r.send(ctx, t, 190, 10)
		all.Good, all.Bad = all.Good+190, all.Bad+10
	}
	waitScraped(ctx, t, prom, api, replicas)

	// Restart replica 1 with its snapshot (Close saves it) and replica 2
	// without (a new volume), as a deploy would.
	replicas[1].stop(t)
	replicas[2].stop(t)
	if err := os.Remove(replicas[2].store.Path()); err != nil {
		t.Fatalf("removing replica 2's snapshot: %v", err)
	}
	replicas[1].start(t, src)
	replicas[2].start(t, src)
	waitScraped(ctx, t, prom, api, replicas)
	restarted := replicas[1].proc.eng.Status()
	if o := objectiveOf(t, restarted, fleetObjective); o.Local.Period != (budget.Counts{Good: 190, Bad: 10}) || o.Totals != (budget.Counts{}) {
		t.Errorf("replica 1 after a restart with its snapshot: local period %+v, totals %+v, want the 200 restored events and no totals",
			o.Local.Period, o.Totals)
	}

	// Phase two: good traffic everywhere.
	for i, n := range []int64{100, 100, 50} {
		replicas[i].send(ctx, t, n, 0)
		all.Good += n
	}
	waitScraped(ctx, t, prom, api, replicas)
	scraped := time.Now()

	// Every replica's fleet view, read after the last scrape, holds every
	// event sent: the exact figures, up to increase()'s extrapolation.
	slack := 1 + 3*float64(fleetScrape)/float64(scraped.Sub(first)) // a late or failed scrape widens the gap
	wantRemaining := all.remaining(fleetTarget)
	wantBurn := all.burn(fleetTarget)
	t.Logf("sent %+v: remaining %.4f, burn %.4f; tolerance ×%.4f", all, wantRemaining, wantBurn, slack)
	for i, r := range replicas {
		var o slo.ObjectiveStatus
		poll(ctx, t, prom, r.name+"'s fleet view after the last scrape", func(context.Context) (bool, error) {
			o = objectiveOf(t, r.proc.eng.Status(), fleetObjective)
			return o.View == slo.ViewFleet && o.ViewTime.After(scraped), fmt.Errorf("view %v of %v", o.View, o.ViewTime)
		})
		rep := o.Report
		t.Logf("%s: fleet %+v remaining %.4f state %v; local %+v state %v", r.name, rep.Period, rep.Remaining, rep.State, o.Local.Period, o.Local.State)
		within := func(what string, got, want float64) {
			t.Helper()
			if got < want-0.5 || got > want*slack+0.5 {
				t.Errorf("%s: fleet %s = %v, want %v to %v", r.name, what, got, want, want*slack)
			}
		}
		within("good", float64(rep.Period.Good), float64(all.Good))
		within("bad", float64(rep.Period.Bad), float64(all.Bad))
		if rep.Period.Shed != 0 {
			t.Errorf("%s: fleet shed = %d, want 0", r.name, rep.Period.Shed)
		}
		// The budget spent and the burn rates are ratios: the
		// extrapolation of one replica's series cancels out.
		spent, wantSpent := 1-rep.Remaining, 1-wantRemaining
		if spent < wantSpent/slack || spent > wantSpent*slack {
			t.Errorf("%s: fleet remaining = %v, want %v (spent within ×%.3f)", r.name, rep.Remaining, wantRemaining, slack)
		}
		for _, w := range rep.Windows {
			if w.Burn < wantBurn/slack || w.Burn > wantBurn*slack {
				t.Errorf("%s: fleet burn over %v = %v, want %v", r.name, budget.FormatWindow(w.Window), w.Burn, wantBurn)
			}
		}
		if rep.State != budget.StateExhausted {
			t.Errorf("%s: fleet state = %v, want exhausted", r.name, rep.State)
		}
		// Alone, no replica can judge: too few events.
		if o.Local.State != budget.StateUnknown {
			t.Errorf("%s: local state = %v (period %+v), want unknown below %d events", r.name, o.Local.State, o.Local.Period, fleetMin)
		}
		wantLocal := map[int]budget.Counts{0: {Good: 290, Bad: 10}, 1: {Good: 290, Bad: 10}, 2: {Good: 50}}[i]
		if o.Local.Period != wantLocal {
			t.Errorf("%s: local period = %+v, want %+v", r.name, o.Local.Period, wantLocal)
		}

		// The freeze, the release endpoint (what sloguard gate reads) and
		// the gate follow the fleet.
		st := r.proc.eng.Status()
		if !st.Release.Frozen || !strings.HasPrefix(st.Release.Reason, fleetObjective) {
			t.Errorf("%s: release = %+v, want frozen by the fleet's budget", r.name, st.Release)
		}
		if g := st.Gates[0]; g.Name != fleetGate || g.Enabled {
			t.Errorf("%s: gate = %+v, want %s disabled", r.name, g, fleetGate)
		}
		rec := httptest.NewRecorder()
		r.proc.page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/release", nil))
		if rec.Code != http.StatusConflict {
			t.Errorf("%s: GET /release = %d, want 409 (frozen)", r.name, rec.Code)
		}
		doc := statuspage.Build(r.proc.eng)
		if d := doc.Objectives[0]; d.View != "fleet" || d.ViewAgeS == nil || d.Local == nil || d.Local.State != "unknown" {
			t.Errorf("%s: status document objective = view %q, age %v, local %+v, want fleet with this replica unknown", r.name, d.View, d.ViewAgeS, d.Local)
		}
	}
}

func (r *fleetReplica) start(t *testing.T, src slo.FleetSource) {
	t.Helper()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		t.Fatalf("otelprom.New = %v", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(
		resource.NewSchemaless(attribute.String("service.name", fleetJob), attribute.String("service.instance.id", r.name))))
	eng, err := slo.New([]slo.Objective{{Name: fleetObjective, Target: fleetTarget, MinEvents: fleetMin}},
		slo.WithMeterProvider(mp),
		slo.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)).With("replica", r.name)),
		slo.WithInterval(250*time.Millisecond),
		slo.WithSnapshots(r.store, time.Second),
		slo.WithFleet(src, slo.FleetPolicy{Every: time.Second, Timeout: time.Second, MaxAge: 10 * time.Second, Lag: 5 * time.Second}),
		slo.WithGate(fleetGate, slo.GatePolicy{ClosedWhenFrozen: true}),
	)
	if err != nil {
		t.Fatalf("slo.New = %v", err)
	}
	mw, err := middleware.NewServer(eng, middleware.WithRoute("POST /checkout", fleetObjective))
	if err != nil {
		t.Fatalf("middleware.NewServer = %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("fail") != "" {
			http.Error(w, "payment backend unavailable", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	page, err := statuspage.New(eng)
	if err != nil {
		t.Fatalf("statuspage.New = %v", err)
	}
	p := &fleetProcess{eng: eng, mp: mp, app: httptest.NewServer(mw.Wrap(mux)), page: page}
	if err := eng.Start(); err != nil {
		t.Fatalf("Start = %v", err)
	}
	h := http.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.proc = p
	r.metrics.Store(&h)
}

// stop stops the replica's process, as a deploy does: the final snapshot
// is saved, and the endpoint answers 503 until the next start.
func (r *fleetReplica) stop(t *testing.T) {
	t.Helper()
	p := r.proc
	if p == nil {
		return
	}
	r.proc = nil
	r.metrics.Store(nil)
	p.app.Close()
	if err := p.eng.Close(); err != nil {
		t.Errorf("%s: Engine.Close = %v", r.name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.mp.Shutdown(ctx); err != nil {
		t.Logf("%s: MeterProvider.Shutdown = %v", r.name, err)
	}
}

// send sends good requests that succeed and bad ones that fail with 500.
func (r *fleetReplica) send(ctx context.Context, t *testing.T, good, bad int64) {
	t.Helper()
	post := func(path string, want int) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.proc.app.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := r.proc.app.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: POST %s: %v", r.name, path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: POST %s = %d, want %d", r.name, path, resp.StatusCode, want)
		}
	}
	for range good {
		post("/checkout", http.StatusOK)
	}
	for range bad {
		post("/checkout?fail=1", http.StatusInternalServerError)
	}
	r.proc.sent.Good += good
	r.proc.sent.Bad += bad
}

// waitScraped waits until Prometheus holds every replica's current counter
// values, so that no event is in flight between a replica and the fleet
// view.
func waitScraped(ctx context.Context, t *testing.T, prom *process, api promAPI, replicas []*fleetReplica) {
	t.Helper()
	for _, r := range replicas {
		for outcome, want := range map[string]int64{"good": r.proc.sent.Good, "bad": r.proc.sent.Bad} {
			q := fmt.Sprintf(`sloguard_events_total{job=%q, instance=%q, objective=%q, outcome=%q}`, fleetJob, r.addr, fleetObjective, outcome)
			poll(ctx, t, prom, fmt.Sprintf("%s = %d", q, want), func(ctx context.Context) (bool, error) {
				s, err := api.query(ctx, q)
				if err != nil || len(s) != 1 {
					return false, fmt.Errorf("%v, %d samples", err, len(s))
				}
				return s[0].value == float64(want), fmt.Errorf("value %v", s[0].value)
			})
		}
	}
}

func objectiveOf(t *testing.T, st *slo.Status, name string) slo.ObjectiveStatus {
	t.Helper()
	o, ok := st.Objective(name)
	if !ok {
		t.Fatalf("Status().Objective(%q) not found", name)
	}
	return o
}
