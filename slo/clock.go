package slo

import "time"

// The engine's time.
//
// Ledgers bucket events by time and take a time before their latest as that
// latest, so that a step back can neither lose nor double count an event.
// Fed with the wall clock, that makes an NTP step back of an hour pile the
// next hour's events into one bucket, and windows stop moving; a step
// forward empties them at once. So the evaluation loop does not read the
// wall clock at each evaluation: it reads it once, at New, as an anchor,
// and from then on its time is the anchor plus the monotonic time elapsed,
// which no step moves. Windows follow elapsed time.
//
// Bucket labels (Status.Time, Event.Time, Sample.Time, and the times the
// ledgers bucket by) are therefore wall-clock times as the wall clock
// would read had it not stepped since New. After a step they differ from
// the wall clock by the step: each evaluation compares the two, and when
// their offset moves by more than stepTolerance since the previous
// evaluation, the step is logged once and counted as a fault, and
// Status.ClockOffset reports the wall clock's lead over the engine's time
// from then on. The offset is not absorbed: doing so would move windows by
// the step, which is the bug. What needs the wall clock itself, such as
// calendar periods or a snapshot restored by another process, converts
// with Status.ClockOffset; a restart re-anchors to the wall clock.
// Slewing (NTP's gradual corrections) stays below the tolerance and is
// followed by both readings alike. A system suspend, during which the
// monotonic clock stops, shows as a forward step.
//
// Engine.Tick takes the time from its caller and uses it as given.

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

// systemClock reads the process's clocks.
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
