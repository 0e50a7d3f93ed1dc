package demo

import (
	"cmp"
	"slices"
	"time"
)

// Phase is one of a Timeline's three phases.
type Phase int

// The phases, in order. NumPhases sizes arrays indexed by Phase.
const (
	Warmup Phase = iota
	Fault
	Recovery
	NumPhases
)

var phaseNames = [NumPhases]string{"warmup", "fault", "recovery"}

// String returns "warmup", "fault" or "recovery".
func (p Phase) String() string {
	if p < 0 || p >= NumPhases {
		return "unknown"
	}
	return phaseNames[p]
}

// Timeline is a demo's three phases in wall-clock time: a healthy warmup
// from Start, a fault from FaultStart to FaultEnd, and a healthy recovery
// until End. Faults depend on the time alone. A Timeline is a value: safe
// for concurrent use.
type Timeline struct {
	Start, FaultStart, FaultEnd, End time.Time
}

// NewTimeline returns the timeline that starts at start with phases of the
// given lengths.
func NewTimeline(start time.Time, warmup, fault, recovery time.Duration) Timeline {
	tl := Timeline{Start: start, FaultStart: start.Add(warmup)}
	tl.FaultEnd = tl.FaultStart.Add(fault)
	tl.End = tl.FaultEnd.Add(recovery)
	return tl
}

// Phase returns the phase at t; before Start it is Warmup, from End on
// Recovery.
func (tl Timeline) Phase(t time.Time) Phase {
	switch {
	case t.Before(tl.FaultStart):
		return Warmup
	case t.Before(tl.FaultEnd):
		return Fault
	}
	return Recovery
}

// Step is a moment of a Timeline that Console.Follow reports.
type Step struct {
	// At is the time since the timeline's start.
	At time.Duration
	// Change says the step is a phase change: Phase begins at At, and is
	// Fault or Recovery. Otherwise the step ends the second before At, and
	// Phase is that second's phase (at its middle).
	Change bool
	Phase  Phase
}

// steps returns the steps of tl in order: the end of every whole second and
// the two phase changes. At the same instant the end of a second comes
// before a change.
func (tl Timeline) steps() []Step {
	var steps []Step
	total := tl.End.Sub(tl.Start)
	for s := time.Second; s <= total; s += time.Second {
		steps = append(steps, Step{At: s, Phase: tl.Phase(tl.Start.Add(s - time.Second/2))})
	}
	steps = append(steps,
		Step{At: tl.FaultStart.Sub(tl.Start), Change: true, Phase: Fault},
		Step{At: tl.FaultEnd.Sub(tl.Start), Change: true, Phase: Recovery})
	slices.SortStableFunc(steps, func(a, b Step) int {
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		switch {
		case a.Change == b.Change:
			return 0
		case a.Change:
			return 1
		}
		return -1
	})
	return steps
}
