package slo

import (
	"fmt"
	"sync"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// Sample is one point of an objective's recent history, as charted by the
// status page.
type Sample struct {
	Time      time.Time
	State     budget.State
	Remaining float64 // remaining budget over the period
	// Burn is the objective's current burn rate (budget.Report.Burn): over
	// the long window of its fastest page rule (1h by default), or its
	// shortest window when it has no page rule.
	Burn float64
}

// history keeps a bounded ring of samples per objective, taken every
// interval by the evaluator.
type history struct {
	every time.Duration
	last  time.Time // owned by the evaluator

	mu    sync.Mutex
	rings [][]Sample // by objective index; guarded by mu
	next  int        // guarded by mu
	full  bool       // guarded by mu
}

func newHistory(every time.Duration, size, objectives int) *history {
	h := &history{every: every, rings: make([][]Sample, objectives)}
	for i := range h.rings {
		h.rings[i] = make([]Sample, size)
	}
	return h
}

// observe takes a sample of every objective if one is due at now.
func (h *history) observe(now time.Time, objs []ObjectiveStatus) {
	if !h.last.IsZero() && now.Sub(h.last) < h.every {
		return
	}
	h.last = now
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, o := range objs {
		h.rings[i][h.next] = Sample{Time: now, State: o.Report.State, Remaining: o.Report.Remaining, Burn: o.Report.Burn}
	}
	h.next++
	if h.next == len(h.rings[0]) {
		h.next, h.full = 0, true
	}
}

func (h *history) samples(i int) []Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Sample
	if h.full {
		out = append(out, h.rings[i][h.next:]...)
	}
	return append(out, h.rings[i][:h.next]...)
}

// History returns the named objective's recent samples, oldest first: one
// per history interval, as many as the history size (see WithHistory).
func (e *Engine) History(objective string) ([]Sample, error) {
	for i, r := range e.recs {
		if r.obj.Name == objective {
			return e.history.samples(i), nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownObjective, objective)
}
