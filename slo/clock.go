package slo

import "time"

// The engine's time: why the evaluation loop follows elapsed time, and what
// its labels mean after a wall-clock step, is told once, in the package
// documentation (doc.go, # Time). In short: the wall clock is read at New
// as an anchor; the loop's time is the anchor plus the monotonic time
// elapsed since, which no step moves; each evaluation compares it with the
// wall clock to detect, log and count steps and to publish the offset.
// Ledgers take a time before their latest as that latest (so that a step
// back can neither lose nor double count an event); fed with the wall
// clock that froze windows for as long as the step back, and a step
// forward emptied them.

// stepTolerance is how far the wall clock may move against elapsed time
// between two evaluations before it counts as a step.
const stepTolerance = time.Second

// clock is the engine's source of time: a wall-clock reading and a
// monotonic one. Tests inject their own (see export_engine_test.go).
type clock interface {
	// wall returns the wall-clock time.
	wall() time.Time
	// elapsed returns the monotonic time since some fixed origin.
	elapsed() time.Duration
}

// systemClock reads the process's clocks. Its origin is taken at New, not
// at package load as internal/mono's is, so that an engine made inside a
// testing/synctest bubble reads the bubble's clock consistently.
type systemClock struct{ origin time.Time }

func (c systemClock) wall() time.Time        { return time.Now().Round(0) } // strips the monotonic reading
func (c systemClock) elapsed() time.Duration { return time.Since(c.origin) }

// anchoredClock is the engine's time: the wall clock at New plus the
// monotonic time elapsed since.
type anchoredClock struct {
	c      clock
	anchor time.Time
	base   time.Duration
	// offset is the wall clock's lead over now at the previous check;
	// owned by the evaluation loop.
	offset time.Duration
}

func newAnchoredClock(c clock) *anchoredClock {
	if c == nil {
		c = systemClock{origin: time.Now()}
	}
	return &anchoredClock{c: c, anchor: c.wall(), base: c.elapsed()}
}

// now returns the engine's time.
func (a *anchoredClock) now() time.Time { return a.anchor.Add(a.c.elapsed() - a.base) }

// check compares the wall clock with now and returns the wall clock's lead
// over the engine's time, and the step since the previous check: zero when
// it moved by stepTolerance or less.
func (a *anchoredClock) check(now time.Time) (offset, step time.Duration) {
	offset = a.c.wall().Sub(now)
	if d := offset - a.offset; d > stepTolerance || d < -stepTolerance {
		step = d
	}
	a.offset = offset
	return offset, step
}
