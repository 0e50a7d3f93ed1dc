package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/slo"
)

// route is one of the shop's two routes.
type route uint8

const (
	checkout route = iota
	browse
	numRoutes
)

// criticality is how the shop classifies the route (WithRouteCriticality):
// clients can not choose it.
func (r route) criticality() slo.Criticality {
	if r == browse {
		return slo.Sheddable
	}
	return slo.Critical
}

// result is how one request ended, as its client saw it.
type result uint8

const (
	ok        result = iota // a 2xx
	shed                    // a 429 from sloguard
	failed                  // a 5xx
	timedOut                // no answer within clientTimeout
	errored                 // another transport error
	dropped                 // never sent: the load generator was at maxInFlight
	cancelled               // the run was interrupted
)

// request is one request of the load generator.
type request struct {
	route   route
	sent    time.Duration // since the start of the timeline
	latency time.Duration // until the response or the error
	result  result
}

// admitted reports whether the shop served the request (well or not)
// rather than shed it, and the load generator sent it.
func (q request) admitted() bool {
	return q.result != shed && q.result != dropped && q.result != cancelled
}

// good reports whether the request succeeded within its latency objective:
// goodput.
func (q request) good() bool { return q.result == ok && q.latency <= latencyThreshold }

// done returns when the request ended, since the start of the timeline.
func (q request) done() time.Duration { return q.sent + q.latency }

// results collects requests in the order they end. It is safe for
// concurrent use.
type results struct {
	mu   sync.Mutex
	reqs []request // guarded by mu
}

func (r *results) add(q request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, q)
	r.mu.Unlock()
}

// from returns a copy of the requests that ended after the first i, and
// the new count.
func (r *results) from(i int) ([]request, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs[i:]...), len(r.reqs)
}

// load is an open-loop load generator: requests arrive as a Poisson process
// at the scenario's rates whatever the shop's answers, each on its own
// goroutine, at most maxInFlight at a time; an arrival beyond that is
// dropped and counted. It stops at the end of the timeline.
type load struct {
	sc     *scenario
	url    string
	client *http.Client
	seed   uint64
	slots  chan struct{}
	wg     sync.WaitGroup
	res    results
	issued []atomic.Int64 // arrivals per second of the timeline
}

func newLoad(sc *scenario, url string, seed uint64) *load {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
		MaxIdleConns:        maxInFlight,
		MaxIdleConnsPerHost: maxInFlight,
		IdleConnTimeout:     30 * time.Second,
	}
	return &load{
		sc:     sc,
		url:    url,
		client: &http.Client{Transport: tr, Timeout: clientTimeout},
		seed:   seed,
		slots:  make(chan struct{}, maxInFlight),
		issued: make([]atomic.Int64, int(sc.length()/time.Second)+1),
	}
}

// start sends requests until the timeline ends or ctx is done.
func (l *load) start(ctx context.Context) {
	l.wg.Go(func() { l.dispatch(ctx) })
}

func (l *load) dispatch(ctx context.Context) {
	rng := rand.New(rand.NewPCG(l.seed, 2))
	end := l.sc.length()
	var next time.Duration // the next arrival, since the start
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for next < end {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			// Arrivals are due on their schedule, not when the previous
			// ones were answered: a late tick sends everything it owes.
			for elapsed := now.Sub(l.sc.start); next <= elapsed && next < end; {
				co, br := l.sc.rates(next)
				r := browse
				if rng.Float64() < co/(co+br) {
					r = checkout
				}
				l.send(ctx, r, next)
				next += time.Duration(rng.ExpFloat64() / (co + br) * float64(time.Second))
			}
		}
	}
}

func (l *load) send(ctx context.Context, r route, at time.Duration) {
	l.issued[int(at/time.Second)].Add(1)
	select {
	case l.slots <- struct{}{}:
	default:
		l.res.add(request{route: r, sent: at, result: dropped})
		return
	}
	l.wg.Go(func() {
		defer func() { <-l.slots }()
		l.res.add(l.do(ctx, r))
	})
}

func (l *load) do(ctx context.Context, r route) request {
	method, path, body := http.MethodGet, "/browse", io.Reader(nil)
	if r == checkout {
		method, path, body = http.MethodPost, "/checkout", strings.NewReader(`{"item":42,"quantity":1}`)
	}
	start := time.Now()
	q := request{route: r, sent: start.Sub(l.sc.start)}
	req, err := http.NewRequestWithContext(ctx, method, l.url+path, body)
	if err != nil {
		q.result = errored
		return q
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	q.latency = time.Since(start)
	var nerr net.Error
	switch {
	case ctx.Err() != nil:
		q.result = cancelled
	case errors.As(err, &nerr) && nerr.Timeout():
		q.result = timedOut
	case err != nil:
		q.result = errored
	case resp.StatusCode == http.StatusTooManyRequests:
		q.result = shed
	case resp.StatusCode >= 500:
		q.result = failed
	case resp.StatusCode < 300:
		q.result = ok
	default:
		q.result = errored
	}
	return q
}

// wait waits for the dispatcher and every request to return.
func (l *load) wait() { l.wg.Wait() }

// close closes the idle client connections, and with them their goroutines.
func (l *load) close() { l.client.CloseIdleConnections() }
