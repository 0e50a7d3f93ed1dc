package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/sloguard/sloguard/internal/demo"
	"github.com/sloguard/sloguard/slo"
)

// Recommenders.
const (
	oldRec = iota
	newRec
)

// service is the demo's HTTP service. Both routes recommend items with the
// new recommender while the feature is on, and with the old one otherwise;
// they differ in how they ask.
type service struct {
	tl                  demo.Timeline
	errorRate, slowRate float64 // of the new recommender during the fault
	gate                *slo.Gate
	flags               *of.Client

	// served counts the answers of each recommender by phase; the console
	// reads them live.
	served [demo.NumPhases][2]atomic.Int64
	// disabled counts the flag evaluations of /home that sloguard's
	// provider answered with the safe value; enabled the others.
	disabled, enabled atomic.Int64

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

func newService(tl demo.Timeline, cfg config, gate *slo.Gate, flags *of.Client) *service {
	return &service{
		tl: tl, errorRate: cfg.ErrorRate, slowRate: cfg.SlowRate,
		gate: gate, flags: flags, rng: rand.New(rand.NewPCG(cfg.Seed, 1)),
	}
}

func (s *service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(routeRecommendations, s.recommendations)
	mux.HandleFunc(routeHome, s.home)
	return mux
}

// recommendations asks the gate itself: one atomic load.
func (s *service) recommendations(w http.ResponseWriter, r *http.Request) {
	if s.gate.Enabled() {
		s.recommend(w, r, newRec)
	} else {
		s.recommend(w, r, oldRec)
	}
}

// home asks OpenFeature, as code that already uses feature flags does. The
// flag service says "on"; sloguard's provider says false while the gate is
// closed, with reason DISABLED.
func (s *service) home(w http.ResponseWriter, r *http.Request) {
	user := "user-" + r.URL.Query().Get("user")
	d, _ := s.flags.BooleanValueDetails(r.Context(), flagKey, false, of.NewEvaluationContext(user, nil))
	if d.Reason == of.DisabledReason {
		s.disabled.Add(1)
	} else {
		s.enabled.Add(1)
	}
	if d.Value {
		s.recommend(w, r, newRec)
	} else {
		s.recommend(w, r, oldRec)
	}
}

// recommend simulates recommender rec: log-normal service time around its
// median, or slow, or a fast failure. The new recommender is slower, and
// fails during the fault.
func (s *service) recommend(w http.ResponseWriter, r *http.Request, rec int) {
	s.mu.Lock()
	draw, slow, spread, norm := s.rng.Float64(), s.rng.Float64(), s.rng.Float64(), s.rng.NormFloat64()
	s.mu.Unlock()

	now := time.Now()
	phase := s.tl.Phase(now)
	median, errorRate, slowRate := 6*time.Millisecond, 0.0002, 0.0005
	if rec == newRec {
		median = 15 * time.Millisecond
		if phase == demo.Fault {
			errorRate, slowRate = s.errorRate, s.slowRate
		}
	}
	var d time.Duration
	failed := draw < errorRate
	switch {
	case failed:
		d = time.Millisecond + time.Duration(spread*float64(4*time.Millisecond))
	case slow < slowRate:
		d = 350*time.Millisecond + time.Duration(spread*float64(350*time.Millisecond))
	default:
		d = time.Duration(float64(median) * math.Exp(0.5*norm))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return // the middleware records it as neutral
	}
	s.served[phase][rec].Add(1)
	if failed {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	name := "old"
	if rec == newRec {
		name = "new"
	}
	w.Header().Set("Content-Type", "application/json")
	id, _ := strconv.Atoi(r.URL.Query().Get("user"))
	fmt.Fprintf(w, "{\"recommender\":%q,\"items\":[%d,%d,%d]}\n", name, id%97, id%89+100, id%83+200)
}

// servedBy returns how many answers each recommender gave so far.
func (s *service) servedBy() (olds, news int64) {
	for p := range demo.NumPhases {
		olds += s.served[p][oldRec].Load()
		news += s.served[p][newRec].Load()
	}
	return olds, news
}

// nextRequest is the load's request mix: half the requests go to each
// route, for one of 10,000 users.
func nextRequest(rng *rand.Rand) demo.Request {
	user := strconv.Itoa(1 + rng.IntN(10_000))
	if rng.IntN(2) == 0 {
		return demo.Request{Method: http.MethodGet, Path: "/recommendations?user=" + user}
	}
	return demo.Request{Method: http.MethodGet, Path: "/home?user=" + user}
}
