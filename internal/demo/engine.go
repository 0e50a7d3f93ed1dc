package demo

import (
	"context"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// Objectives returns eng's objectives, with defaults applied, in the order
// given to slo.New.
func Objectives(eng *slo.Engine) []slo.Objective {
	var objs []slo.Objective
	for _, o := range eng.Status().Objectives {
		objs = append(objs, o.Objective)
	}
	return objs
}

// Preload records cfg's history of healthy traffic (History, at most
// Period) at RPS events a second into every objective of eng, each event
// good and as fast as latency, ending at end and evaluating once a second as
// the engine's loop would. It must run before the engine starts.
func Preload(eng *slo.Engine, cfg Config, latency time.Duration, end time.Time) {
	var recs []*slo.Recorder
	for _, o := range eng.Status().Objectives {
		if r, err := eng.Recorder(o.Objective.Name); err == nil {
			recs = append(recs, r)
		}
	}
	var carry float64
	for i := int(cfg.history() / time.Second); i > 0; i-- {
		carry += cfg.RPS
		n := int(carry)
		carry -= float64(n)
		for range n {
			for _, r := range recs {
				r.Record(budget.Good, latency)
			}
		}
		eng.Tick(end.Add(-time.Duration(i-1) * time.Second))
	}
}

// AwaitEvaluation waits until eng has evaluated after t, so that its status
// counts every request served before t, polling four times an interval. It
// returns early when ctx is done.
func AwaitEvaluation(ctx context.Context, eng *slo.Engine, t time.Time, interval time.Duration) {
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
