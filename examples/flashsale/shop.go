package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/middleware"
)

// phase is a part of the timeline.
type phase int

const (
	steady phase = iota
	spike
	outage
	recovery
	numPhases
)

var phaseNames = [numPhases]string{"steady", "spike", "outage", "recovery"}

func (p phase) String() string { return phaseNames[p] }

// scenario is the timeline of one run. The request rates and the payments
// outage depend on the time alone. It is immutable and safe for concurrent
// use.
type scenario struct {
	start  time.Time
	bounds [numPhases + 1]time.Duration // start of each phase, then the end, since start
	rps    float64                      // base rate
	factor float64                      // the spike's rate over rps
	ramp   time.Duration                // the spike's growth to its peak
}

func newScenario(cfg config, start time.Time) *scenario {
	s := &scenario{start: start, rps: cfg.RPS, factor: cfg.SpikeFactor, ramp: cfg.Ramp}
	for i, d := range []time.Duration{cfg.Steady, cfg.Spike, cfg.Outage, cfg.Recovery} {
		s.bounds[i+1] = s.bounds[i] + d
	}
	return s
}

// length is the duration of the timeline.
func (s *scenario) length() time.Duration { return s.bounds[numPhases] }

// phaseAt returns the phase at offset d; the last phase goes on after the
// end.
func (s *scenario) phaseAt(d time.Duration) phase {
	for p := steady; p < numPhases-1; p++ {
		if d < s.bounds[p+1] {
			return p
		}
	}
	return numPhases - 1
}

// phaseOf returns the phase a request counts in: the one it was sent in,
// except that a request still in flight when the payments outage begins
// counts in the outage, which decided its fate (a checkout sent at the
// end of the spike fails because payments went down, not because of the
// spike).
func (s *scenario) phaseOf(q request) phase {
	p := s.phaseAt(q.sent)
	if o := s.begins(outage); p < outage && s.ends(outage) > o && q.done() > o {
		return outage
	}
	return p
}

// begins and ends return the offsets of a phase's start and end.
func (s *scenario) begins(p phase) time.Duration { return s.bounds[p] }
func (s *scenario) ends(p phase) time.Duration   { return s.bounds[p+1] }

// outageAt reports whether payments fails at time t.
func (s *scenario) outageAt(t time.Time) bool { return s.phaseAt(t.Sub(s.start)) == outage }

// rates returns the arrival rates of checkouts and of browse requests at
// offset d: the spike multiplies the total, growing linearly over the
// ramp, and adds only browse traffic.
func (s *scenario) rates(d time.Duration) (checkout, browse float64) {
	checkout = s.rps * checkoutShare
	total := s.rps
	if s.phaseAt(d) == spike {
		f := s.factor
		if in := d - s.begins(spike); in < s.ramp {
			f = 1 + (s.factor-1)*float64(in)/float64(s.ramp)
		}
		total *= f
	}
	return checkout, total - checkout
}

// overloadAt returns the offset at which the offered rate first exceeds
// capacity (requests per second), and false if it never does.
func (s *scenario) overloadAt(capacity float64) (time.Duration, bool) {
	if s.rps*s.factor <= capacity {
		return 0, false
	}
	if s.rps > capacity {
		return 0, true
	}
	// On the ramp: rps × (1 + (factor − 1) × t/ramp) = capacity.
	t := time.Duration((capacity/s.rps - 1) / (s.factor - 1) * float64(s.ramp))
	return s.begins(spike) + t, true
}

// random is a seeded source of service times, safe for concurrent use.
type random struct {
	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

func newRandom(seed, stream uint64) *random {
	return &random{rng: rand.New(rand.NewPCG(seed, stream))}
}

// serviceTime draws a log-normal duration with the given mean.
func (r *random) serviceTime(mean time.Duration) time.Duration {
	r.mu.Lock()
	n := r.rng.NormFloat64()
	r.mu.Unlock()
	median := float64(mean) * math.Exp(-serviceSigma*serviceSigma/2)
	return time.Duration(min(median*math.Exp(serviceSigma*n), 10*float64(mean)))
}

// sleep waits for d, or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errPoolTimeout is the error of a request that waited queueTimeout for a
// database connection.
var errPoolTimeout = errors.New("flashsale: no database connection within the queue timeout")

// pool is the shop's database: a number of connections, handed out first
// come, first served, for at most queueTimeout of waiting. With -autoscale
// the autoscaler changes the number (resize); otherwise it is fixed. It is
// safe for concurrent use.
type pool struct {
	// slots holds a token per connection in use and per connection held
	// back (reserved): the connections are cap(slots) − reserved.
	slots chan struct{}
	sc    *scenario
	// Connection hold times by the phase in which they started, to
	// measure the capacity actually simulated.
	held, holds [numPhases]atomic.Int64

	mu       sync.Mutex
	reserved int // guarded by mu
}

// newElasticPool returns a pool of conns connections that resize may grow
// to most.
func newElasticPool(conns, most int, sc *scenario) *pool {
	p := &pool{slots: make(chan struct{}, most), sc: sc, reserved: most - conns}
	for range p.reserved {
		p.slots <- struct{}{}
	}
	return p
}

// resize moves the pool toward n connections (from 1 to its most): it adds
// connections at once, and removes them as they come free, so that a
// connection in use is never taken away; call it again until it returns n.
// It returns the connections now.
func (p *pool) resize(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n = min(max(n, 1), cap(p.slots))
	for cap(p.slots)-p.reserved < n {
		<-p.slots // a reserved token: never blocks while reserved > 0
		p.reserved--
	}
	for cap(p.slots)-p.reserved > n {
		select {
		case p.slots <- struct{}{}:
			p.reserved++
		default:
			return cap(p.slots) - p.reserved // every connection is busy: later
		}
	}
	return n
}

// acquire waits for a connection and returns the function that gives it
// back.
func (p *pool) acquire(ctx context.Context) (release func(), err error) {
	select {
	case p.slots <- struct{}{}:
	default:
		t := time.NewTimer(queueTimeout)
		defer t.Stop()
		select {
		case p.slots <- struct{}{}:
		case <-t.C:
			return nil, errPoolTimeout
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	start := time.Now()
	return func() {
		ph := p.sc.phaseAt(start.Sub(p.sc.start))
		p.held[ph].Add(int64(time.Since(start)))
		p.holds[ph].Add(1)
		<-p.slots
	}, nil
}

// meanHold returns the mean connection hold time of phase ph, or 0 if no
// connection was taken.
func (p *pool) meanHold(ph phase) time.Duration {
	n := p.holds[ph].Load()
	if n == 0 {
		return 0
	}
	return time.Duration(p.held[ph].Load() / n)
}

// errPayment is the error of a charge that payments refused.
var errPayment = errors.New("flashsale: payment failed")

// shop is the service under test: checkout and browse share the database
// pool, and checkout charges payments while it holds its connection.
type shop struct {
	db      *pool
	payURL  string
	pay     *http.Client
	failPay func(http.ResponseWriter, error) // answers a checkout whose charge failed
	rng     *random
	orders  atomic.Int64
}

// routes returns the shop's mux, each route's handler wrapped by mw, so
// that a request is routed once.
func (s *shop) routes(mw *middleware.Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(routeCheckout, mw.Handle(routeCheckout, http.HandlerFunc(s.checkout)))
	mux.Handle(routeBrowse, mw.Handle(routeBrowse, http.HandlerFunc(s.browse)))
	return mux
}

func (s *shop) browse(w http.ResponseWriter, r *http.Request) {
	release, err := s.db.acquire(r.Context())
	if err != nil {
		busy(w, err)
		return
	}
	ok := sleep(r.Context(), s.rng.serviceTime(browseDB))
	release()
	if !ok {
		return // the client went away
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintln(w, `{"items":[{"id":17,"name":"espresso cups"},{"id":42,"name":"coffee grinder"}]}`)
}

// checkout reserves stock, charges payments and commits, all inside one
// transaction: the connection is held during the charge, as in many real
// shops. When payments is slow, checkouts hold the connections that browse
// needs too.
func (s *shop) checkout(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 4<<10))
	release, err := s.db.acquire(r.Context())
	if err != nil {
		busy(w, err)
		return
	}
	defer release()
	if !sleep(r.Context(), s.rng.serviceTime(checkoutDB)) {
		return
	}
	if err := s.charge(r.Context()); err != nil {
		if r.Context().Err() == nil {
			s.failPay(w, err)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "{\"order\":%d}\n", s.orders.Add(1))
}

func (s *shop) charge(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.payURL, strings.NewReader(`{"amount":4200,"currency":"EUR"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.pay.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%w: payments answered %d", errPayment, resp.StatusCode)
	}
	return nil
}

// busy answers a request that got no database connection.
func busy(w http.ResponseWriter, err error) {
	if !errors.Is(err, errPoolTimeout) {
		return // the client went away
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "database busy", http.StatusServiceUnavailable)
}

// payFailed answers a checkout whose charge failed, in the run without
// sloguard.
func payFailed(w http.ResponseWriter, _ error) {
	http.Error(w, "payment failed", http.StatusBadGateway)
}

// payments is the payment service the shop depends on. During the outage
// every charge fails with a 500 after outageDelay.
type payments struct {
	sc  *scenario
	rng *random
}

func (p *payments) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /charges", p.charge)
	return mux
}

func (p *payments) charge(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 4<<10))
	if p.sc.outageAt(time.Now()) {
		if sleep(r.Context(), outageDelay) {
			http.Error(w, "payment processor unavailable", http.StatusInternalServerError)
		}
		return
	}
	if !sleep(r.Context(), p.rng.serviceTime(paymentsTime)) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintln(w, `{"status":"captured"}`)
}
