package demo

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestPhase(t *testing.T) {
	start := time.Unix(1000, 0)
	tl := NewTimeline(start, 10*time.Second, 5*time.Second, 8*time.Second)
	if want := start.Add(23 * time.Second); !tl.End.Equal(want) {
		t.Errorf("End = %v, want %v", tl.End, want)
	}
	for _, tt := range []struct {
		at   time.Duration
		want Phase
	}{
		{-time.Second, Warmup},
		{0, Warmup},
		{10*time.Second - 1, Warmup},
		{10 * time.Second, Fault},
		{15*time.Second - 1, Fault},
		{15 * time.Second, Recovery},
		{30 * time.Second, Recovery},
	} {
		if got := tl.Phase(start.Add(tt.at)); got != tt.want {
			t.Errorf("Phase(start+%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestPhaseString(t *testing.T) {
	for p, want := range map[Phase]string{Warmup: "warmup", Fault: "fault", Recovery: "recovery", NumPhases: "unknown", -1: "unknown"} {
		if got := p.String(); got != want {
			t.Errorf("Phase(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}

func TestSteps(t *testing.T) {
	s := func(sec float64, p Phase) Step { return Step{At: time.Duration(sec * float64(time.Second)), Phase: p} }
	c := func(sec float64, p Phase) Step { st := s(sec, p); st.Change = true; return st }
	start := time.Unix(1000, 0)
	tests := []struct {
		name                    string
		warmup, fault, recovery time.Duration
		want                    []Step
	}{
		{"whole seconds: a second's end before the change", 2 * time.Second, time.Second, time.Second, []Step{
			s(1, Warmup), s(2, Warmup), c(2, Fault), s(3, Fault), c(3, Recovery), s(4, Recovery),
		}},
		{"half seconds: a second is named by its middle", 1500 * time.Millisecond, 1500 * time.Millisecond, 500 * time.Millisecond, []Step{
			s(1, Warmup), c(1.5, Fault), s(2, Fault), s(3, Fault), c(3, Recovery),
		}},
		{"no warmup", 0, time.Second, time.Second, []Step{
			c(0, Fault), s(1, Fault), c(1, Recovery), s(2, Recovery),
		}},
	}
	for _, tt := range tests {
		got := NewTimeline(start, tt.warmup, tt.fault, tt.recovery).steps()
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: steps() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFollow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		c := NewConsole(&out)
		tl := NewTimeline(time.Now(), 2*time.Second, 1500*time.Millisecond, time.Second)
		var got []Step
		interrupted := c.Follow(t.Context(), tl, func(s Step) {
			if d := time.Since(tl.Start); d != s.At {
				t.Errorf("step %+v called at %v", s, d)
			}
			got = append(got, s)
		})
		if interrupted {
			t.Errorf("Follow() = true, want false")
		}
		if want := tl.steps(); !slices.Equal(got, want) {
			t.Errorf("Follow() called step with %v, want %v", got, want)
		}
		if out.Len() > 0 {
			t.Errorf("Follow() wrote %q, want nothing", out.String())
		}
	})
}

func TestFollowInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		c := NewConsole(&out)
		tl := NewTimeline(time.Now(), 2*time.Second, 2*time.Second, 2*time.Second)
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		var steps int
		if !c.Follow(ctx, tl, func(Step) { steps++ }) {
			t.Errorf("Follow() = false, want true")
		}
		if steps != 1 {
			t.Errorf("Follow() called step %d times before the interruption, want 1", steps)
		}
		if got, want := out.String(), "   1.5s  interrupted\n"; got != want {
			t.Errorf("Follow() wrote %q, want %q", got, want)
		}
	})
}
