package demo

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one request a Load sends.
type Request struct {
	Method, Path string // Path is relative to the Load's URL
	// Body, if not empty, is sent with Content-Type application/json.
	Body string
}

// Load is an open-loop load generator: a dispatcher hands requests to a
// bounded pool of client goroutines at a fixed rate, and skips a request
// when every client is busy rather than slow down.
//
// Start starts the goroutines, Wait waits for them, and Close closes the
// idle connections. Counts is safe to call at any time, from any goroutine.
type Load struct {
	url     string
	rate    float64
	clients int
	seed    uint64
	next    func(*rand.Rand) Request
	client  *http.Client
	wg      sync.WaitGroup
	tl      Timeline // set by Start, before its goroutines start

	sent, skipped, answered, failed atomic.Int64
	status5xx                       [NumPhases]atomic.Int64
}

// LoadCounts are a Load's counters at one moment.
type LoadCounts struct {
	Sent     int64 // handed to a client
	Skipped  int64 // not sent: every client was busy
	Answered int64 // answered by the service, whatever the status
	Failed   int64 // neither answered nor cancelled: connection errors, timeouts
	// Status5xx counts the answers with a 5xx status by the phase they
	// arrived in.
	Status5xx [NumPhases]int64
}

// Total5xx returns the answers with a 5xx status in every phase.
func (c LoadCounts) Total5xx() int64 {
	var n int64
	for _, v := range c.Status5xx {
		n += v
	}
	return n
}

// NewLoad returns a load generator that sends cfg.RPS requests a second
// from cfg.Clients clients to url. next picks each request; it is called
// from one goroutine only, with a random source seeded from cfg.Seed.
func NewLoad(url string, cfg Config, next func(rng *rand.Rand) Request) *Load {
	tr := &http.Transport{
		MaxIdleConns:        cfg.Clients,
		MaxIdleConnsPerHost: cfg.Clients,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Load{
		url:     url,
		rate:    cfg.RPS,
		clients: cfg.Clients,
		seed:    cfg.Seed,
		next:    next,
		client:  &http.Client{Transport: tr, Timeout: 2 * time.Second},
	}
}

// Start sends requests from tl.Start until tl.End or until ctx is done,
// whichever comes first. Call it once.
func (l *Load) Start(ctx context.Context, tl Timeline) {
	l.tl = tl
	jobs := make(chan Request) // unbuffered: a send succeeds only when a client is idle
	for range l.clients {
		l.wg.Go(func() {
			for r := range jobs {
				l.do(ctx, r)
			}
		})
	}
	l.wg.Go(func() {
		defer close(jobs)
		rng := rand.New(rand.NewPCG(l.seed, 2))
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var issued int64
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if !now.Before(tl.End) {
					return
				}
				for due := int64(now.Sub(tl.Start).Seconds() * l.rate); issued < due; issued++ {
					select {
					case jobs <- l.next(rng):
						l.sent.Add(1)
					default:
						l.skipped.Add(1)
					}
				}
			}
		}
	})
}

func (l *Load) do(ctx context.Context, r Request) {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, l.url+r.Path, body)
	if err != nil {
		l.failed.Add(1)
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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
		l.status5xx[l.tl.Phase(time.Now())].Add(1)
	}
}

// Counts returns the counters so far.
func (l *Load) Counts() LoadCounts {
	c := LoadCounts{
		Sent:     l.sent.Load(),
		Skipped:  l.skipped.Load(),
		Answered: l.answered.Load(),
		Failed:   l.failed.Load(),
	}
	for p := range NumPhases {
		c.Status5xx[p] = l.status5xx[p].Load()
	}
	return c
}

// Wait waits for the dispatcher and every client to return.
func (l *Load) Wait() { l.wg.Wait() }

// Close closes the idle client connections, and with them their
// goroutines. Call it after Wait, once the server has shut down.
func (l *Load) Close() { l.client.CloseIdleConnections() }
