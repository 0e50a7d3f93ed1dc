package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// -autoscale closes the loop: a simulated autoscaler reads sloguard's
// scale signal from the shop's Prometheus endpoint, as a real metrics
// pipeline would, and adds capacity after a provisioning delay.

// needSeries is the scale signal as the OpenTelemetry Prometheus exporter
// names it (sloguard.scale.need, unit 1); see examples/autoscaling.
const needSeries = "sloguard_scale_need_ratio"

// The autoscaler's constants, those of a Kubernetes HPA where it has them.
const (
	// autoscalePeriod is how often it reads the signal. An HPA syncs every
	// 15s and Prometheus scrapes every 15–30s; here every second, so that
	// a minute-long spike shows the loop: the provisioning delay, like a
	// new pod's start, dominates anyway.
	autoscalePeriod = time.Second
	// scaleTolerance: an HPA does nothing while the ratio is within 10%
	// of 1.
	scaleTolerance = 0.1
	// autoscaleSettle is how long after replicas became ready the signal
	// still measures (partly) the capacity before them: it smooths its
	// rates over 2s, about three evaluations. Meanwhile the autoscaler
	// multiplies the signal by the replicas it measures, not by those
	// ready (ceil(ready × need) would multiply the new replicas by the old
	// need), and does not scale down. An HPA waits out new pods likewise
	// (its initial readiness delay).
	autoscaleSettle = 3 * time.Second
)

// replicaEvent is a change of the autoscaler's replicas: ready (serving)
// and target (asked for, including those being provisioned).
type replicaEvent struct {
	at            time.Duration // since the start of the timeline
	ready, target int
}

// autoscaler is an HPA in miniature. Each period it GETs the shop's
// Prometheus endpoint over loopback, parses the text exposition and reads
// the scale signal: the need relative to the replicas it measures. It
// scales to ceil(measured × need) when the need is off 1 by more than the
// tolerance, within 1 and max replicas. The replicas measured are those
// serving, except for autoscaleSettle after some became ready, when the
// signal still measures those before them. It scales up at any read, the
// new replicas serving after the provisioning delay (a new pod's start);
// down once the signal has seen every replica, nothing is being
// provisioned and the highest recommendation of the stabilisation window
// allows it. A replica is the shop's capacity at -conns: that many
// database connections. An absent signal changes nothing.
//
// Its goroutine belongs to run, which start starts and stop stops.
type autoscaler struct {
	url      string
	client   *http.Client
	db       *pool
	sc       *scenario
	unit     int // connections per replica
	max      int
	delay    time.Duration
	window   time.Duration
	done     chan struct{}
	cancel   context.CancelFunc
	mu       sync.Mutex
	ready    int            // guarded by mu
	target   int            // guarded by mu
	need     float64        // the latest reading; NaN when absent; guarded by mu
	events   []replicaEvent // guarded by mu
	pending  []replicaEvent // arrivals due at .at, of .ready more replicas; guarded by mu
	recs     []replicaEvent // desired replicas (.target) by time, over the window; guarded by mu
	readErrs int            // guarded by mu
	measured int            // the replicas the signal measures; guarded by mu
	settled  time.Duration  // from when it measures those ready; guarded by mu
}

func newAutoscaler(url string, db *pool, sc *scenario, cfg config) *autoscaler {
	return &autoscaler{
		url:    url,
		client: &http.Client{Timeout: autoscalePeriod},
		db:     db, sc: sc,
		unit: cfg.Conns, max: cfg.MaxReplicas, delay: cfg.Provision, window: cfg.ScaleDownWindow,
		ready: 1, target: 1, measured: 1, need: math.NaN(),
		done: make(chan struct{}),
	}
}

// start starts the autoscaler's goroutine.
func (a *autoscaler) start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(ctx)
	a.mu.Lock()
	a.events = append(a.events, replicaEvent{at: time.Since(a.sc.start), ready: 1, target: 1})
	a.mu.Unlock()
	go a.run(ctx)
}

// stop stops the goroutine and waits for it.
func (a *autoscaler) stop() {
	a.cancel()
	<-a.done
	a.client.CloseIdleConnections()
}

func (a *autoscaler) run(ctx context.Context) {
	defer close(a.done)
	t := time.NewTicker(autoscalePeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			need, err := a.read(ctx)
			a.step(now.Sub(a.sc.start), need, err)
		}
	}
}

// read returns the scale signal from the exposition, NaN when absent.
func (a *autoscaler) read(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url, nil)
	if err != nil {
		return math.NaN(), err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return math.NaN(), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return math.NaN(), err
	}
	if resp.StatusCode != http.StatusOK {
		return math.NaN(), fmt.Errorf("flashsale: %s answered %s", a.url, resp.Status)
	}
	return needOf(body)
}

// needOf returns the scale signal in a text exposition: the sum over its
// series (one per replica scraped; here one), NaN when absent.
func needOf(exposition []byte) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(exposition))
	if err != nil {
		return math.NaN(), fmt.Errorf("flashsale: parsing the exposition: %w", err)
	}
	mf, ok := fams[needSeries]
	if !ok || len(mf.GetMetric()) == 0 {
		return math.NaN(), nil
	}
	var sum float64
	for _, m := range mf.GetMetric() {
		sum += m.GetGauge().GetValue()
	}
	return sum, nil
}

// step is one period at offset now with the signal need (NaN when absent).
func (a *autoscaler) step(now time.Duration, need float64, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.readErrs++
	}
	a.need = need
	changed := false
	// Provisioned replicas that are ready now.
	for len(a.pending) > 0 && a.pending[0].at <= now {
		a.ready += a.pending[0].ready
		a.pending = a.pending[1:]
		a.settled = now + autoscaleSettle
		changed = true
	}
	settled := now >= a.settled
	if settled {
		a.measured = a.ready
	}
	if !math.IsNaN(need) {
		desired := a.measured
		if math.Abs(need-1) > scaleTolerance {
			desired = int(math.Ceil(float64(a.measured) * need))
		}
		desired = min(max(desired, 1), a.max)
		if settled {
			a.recs = append(a.recs, replicaEvent{at: now, target: desired})
		}
		for len(a.recs) > 0 && a.recs[0].at < now-a.window {
			a.recs = a.recs[1:]
		}
		stable := 0
		for _, r := range a.recs {
			stable = max(stable, r.target)
		}
		switch {
		case desired > a.target:
			a.pending = append(a.pending, replicaEvent{at: now + a.delay, ready: desired - a.target})
			a.target = desired
			changed = true
		case settled && stable < a.target && len(a.pending) == 0:
			a.target, a.ready, a.measured = stable, stable, stable
			changed = true
		}
	}
	a.db.resize(a.ready * a.unit)
	if changed {
		a.events = append(a.events, replicaEvent{at: now, ready: a.ready, target: a.target})
	}
}

// state returns the latest reading and the replicas.
func (a *autoscaler) state() (need float64, ready, target int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.need, a.ready, a.target
}

// history returns the changes of replicas, in order, and how many reads
// failed.
func (a *autoscaler) history() ([]replicaEvent, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]replicaEvent(nil), a.events...), a.readErrs
}
