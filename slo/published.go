package slo

import (
	"sync"
	"sync/atomic"
)

// published holds the latest Status and the memory the next one is
// written into, so that an evaluation in the steady state allocates no
// Status, while a Status that Engine.Status returned never changes.
//
// Each Status lives in a frame that records whether Engine.Status returned
// (lent) it. The evaluator writes the next Status into the spare frame,
// publishes it as the latest, and keeps the frame it replaced as its next
// spare unless that one was lent: then it leaves it to the callers and
// makes a new frame at the next evaluation. Engine.Status marks the latest
// frame lent and then checks that it is still the latest, else it tries
// again; the evaluator replaces the latest and then reads the mark. So
// either the evaluator sees the mark, or Engine.Status sees the
// replacement and does not return that frame's Status; Engine.Status takes
// no lock. The engine's own readers (telemetry) read the latest frame
// under the read lock without lending it, and the evaluator replaces it
// under the write lock, so it writes into a replaced frame only after
// they are done with it.
type published struct {
	latest atomic.Pointer[frame] // replaced under mu, by the evaluator only
	mu     sync.RWMutex
	spare  *frame // the evaluator's (tickMu); nil when it must make one
}

// frame is a Status and whether Engine.Status returned it.
type frame struct {
	st   Status
	lent atomic.Bool
}

// lend returns the latest Status, which is never written again.
func (p *published) lend() *Status {
	for {
		f := p.latest.Load()
		f.lent.Store(true)
		if p.latest.Load() == f {
			return &f.st
		}
	}
}

// read calls fn with the latest Status, which does not change until fn
// returns. fn must not keep it.
func (p *published) read(fn func(*Status)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	fn(&p.latest.Load().st)
}

// current returns the latest Status to the evaluator, which alone
// replaces it.
func (p *published) current() *Status { return &p.latest.Load().st }

// take returns the spare frame for the evaluator to write the next Status
// into, or nil when there is none; the evaluator then makes one.
func (p *published) take() *frame {
	f := p.spare
	p.spare = nil
	return f
}

// publish makes f's Status the latest and keeps the frame it replaces as
// the spare unless it was lent.
func (p *published) publish(f *frame) {
	p.mu.Lock()
	old := p.latest.Swap(f)
	p.mu.Unlock()
	if old != nil && !old.lent.Load() {
		p.spare = old
	}
}
