package slo

import (
	"sync"
	"sync/atomic"
)

// published holds the latest Status and the memory the next one is
// written into, so that an evaluation in the steady state allocates no
// Status, while a Status that Engine.Status returned never changes.
//
// There are two Status values. The evaluator writes the next one into the
// spare, publishes it as the latest, and keeps the Status it replaces as
// its next spare, unless Engine.Status returned it (lent): then it leaves
// that one to its callers and makes a new spare at the next evaluation.
// Engine.Status marks the latest as lent under the read lock, and the
// evaluator replaces the latest and reads the mark under the write lock,
// so a Status is either lent before it is replaced (and never written
// again) or never lent at all. The engine's own readers (telemetry) read
// the latest under the read lock without lending it: the evaluator writes
// into a replaced Status only after they are done with it.
type published struct {
	mu     sync.RWMutex
	latest *Status     // written under mu by the evaluator, which reads it without
	lent   atomic.Bool // latest was returned by Engine.Status; set under mu's read lock
	spare  *Status     // the evaluator's (tickMu); nil when it must make one
}

// lend returns the latest Status, which is never written again.
func (p *published) lend() *Status {
	p.mu.RLock()
	defer p.mu.RUnlock()
	p.lent.Store(true)
	return p.latest
}

// read calls f with the latest Status, which does not change until f
// returns. f must not keep it.
func (p *published) read(f func(*Status)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	f(p.latest)
}

// take returns the spare for the evaluator to write the next Status into,
// or nil when there is none; the evaluator then makes one.
func (p *published) take() *Status {
	st := p.spare
	p.spare = nil
	return st
}

// publish makes st the latest Status and keeps the one it replaces as the
// spare unless it was lent.
func (p *published) publish(st *Status) {
	p.mu.Lock()
	old := p.latest
	p.latest = st
	lent := p.lent.Swap(false)
	p.mu.Unlock()
	if !lent {
		p.spare = old
	}
}
