package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// load is an open-loop load generator: a dispatcher hands requests to a
// bounded pool of clients at a fixed rate, and skips a request when every
// client is busy rather than slow down. Half the requests go to each route.
type load struct {
	url     string
	rate    float64
	clients int
	seed    uint64
	client  *http.Client
	wg      sync.WaitGroup

	sent, skipped, answered, failed atomic.Int64
	status5xx                       [phases]atomic.Int64
	sc                              *scenario
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
	l.sc = sc
	paths := make(chan string) // unbuffered: a send succeeds only when a client is idle
	for range l.clients {
		l.wg.Go(func() {
			for p := range paths {
				l.do(ctx, p)
			}
		})
	}
	l.wg.Go(func() {
		defer close(paths)
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
					case paths <- nextPath(rng):
						l.sent.Add(1)
					default:
						l.skipped.Add(1)
					}
				}
			}
		}
	})
}

func nextPath(rng *rand.Rand) string {
	user := strconv.Itoa(1 + rng.IntN(10_000))
	if rng.IntN(2) == 0 {
		return "/recommendations?user=" + user
	}
	return "/home?user=" + user
}

func (l *load) do(ctx context.Context, path string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url+path, nil)
	if err != nil {
		l.failed.Add(1)
		return
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
		l.status5xx[l.sc.phase(time.Now())].Add(1)
	}
}

// wait waits for the dispatcher and every client to return.
func (l *load) wait() { l.wg.Wait() }

// close closes the idle client connections, and with them their goroutines.
func (l *load) close() { l.client.CloseIdleConnections() }
