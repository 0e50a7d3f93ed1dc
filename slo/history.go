package slo

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// The history: what it keeps, at what resolution and for how long is in
// the package documentation (History and timeline).

// Sample is one point of an objective's history, as charted by the status
// page. Remaining and Burn are kept at float32 precision.
//
// The zero Sample is an objective in budget.StateUnknown with no events, at
// the zero Time.
type Sample struct {
	Time      time.Time
	State     budget.State
	Remaining float64 // remaining budget over the period
	// Burn is the objective's current burn rate (budget.Report.Burn): over
	// the long window of its fastest page rule (1h by default), or its
	// shortest window when it has no page rule.
	Burn float64
	// Good, Bad and Shed count the events of the objective since the
	// previous sample (for the first sample after the engine started,
	// since it started), as Status Totals count them.
	Good, Bad, Shed uint64
}

// LoadSample is one point of the service's load history: the demand that
// reached admission, by Criticality, and what became of it.
//
// The zero LoadSample counts no requests, at level 0 with the scale unknown,
// at the zero Time.
type LoadSample struct {
	Time time.Time
	// Admitted and Rejected count the requests that admission admitted and
	// rejected (shed) since the previous sample, by Criticality.Index (for
	// the first sample after the engine started, since it started).
	Admitted, Rejected [4]uint64
	// Level is the shed level at Time (see ShedPolicy); 0 when shedding
	// is off.
	Level float64
	// Scale is the scale signal at Time, valid when ScaleKnown: how many
	// times the current capacity the demand needs.
	Scale      float64
	ScaleKnown bool
}

// objSample is a Sample as kept: 24 bytes.
type objSample struct {
	remaining, burn float32
	good, bad, shed uint32
	state           budget.State // absent when the objective was not configured then
}

// absent marks the samples of an objective that a restored snapshot did not
// have.
const absent budget.State = math.MaxUint8

// loadSample is a LoadSample as kept, with the time that every objective's
// sample of the same index shares: 56 bytes.
type loadSample struct {
	time               int64 // Unix nanoseconds
	level, scale       float32
	admitted, rejected [4]uint32
	scaleKnown         bool
}

// history keeps the samples, taken every interval by the evaluator.
type history struct {
	every time.Duration
	size  int

	// Owned by the evaluator (tickMu): when the latest sample was taken,
	// and the cumulative counts at that sample.
	last    time.Time
	prev    []budget.Counts
	prevAdm [4]uint64
	prevRej [4]uint64

	mu   sync.Mutex
	load ring[loadSample]  // guarded by mu
	objs []ring[objSample] // by objective index, aligned with load; guarded by mu
}

func newHistory(every time.Duration, size, objectives int) *history {
	h := &history{every: every, size: size, prev: make([]budget.Counts, objectives), load: newRing[loadSample](size),
		objs: make([]ring[objSample], objectives)}
	for i := range h.objs {
		h.objs[i] = newRing[objSample](size)
	}
	return h
}

// scaleOf returns the scale signal of st, and whether it is known.
func scaleOf(st *Status) (float64, bool) { return st.Scale.Need, st.Scale.Known }

// observe takes a sample of every objective and of the load if one is due
// at now, with st the status of this evaluation and admitted the cumulative
// admissions by Criticality.Index (the rejections are
// st.Shedding.Rejected).
func (h *history) observe(now time.Time, st *Status, admitted [4]uint64) {
	if !h.last.IsZero() && now.Sub(h.last) < h.every {
		return
	}
	h.last = now
	scale, known := scaleOf(st)
	ls := loadSample{time: now.UnixNano(), level: float32(st.Shedding.Level), scale: float32(scale), scaleKnown: known}
	for c := range admitted {
		ls.admitted[c] = delta32(admitted[c], h.prevAdm[c])
		ls.rejected[c] = delta32(st.Shedding.Rejected[c], h.prevRej[c])
	}
	h.prevAdm, h.prevRej = admitted, st.Shedding.Rejected
	h.mu.Lock()
	defer h.mu.Unlock()
	h.load.push(ls)
	for i, o := range st.Objectives {
		t, p := o.Totals, h.prev[i]
		h.objs[i].push(objSample{
			state:     o.Report.State,
			remaining: float32(o.Report.Remaining),
			burn:      float32(o.Report.Burn),
			good:      delta32(t.Good, p.Good),
			bad:       delta32(t.Bad, p.Bad),
			shed:      delta32(t.Shed, p.Shed),
		})
		h.prev[i] = t
	}
}

// delta32 returns cur − prev, saturated to 32 bits; a count that went back
// (it never does) counts from 0.
func delta32(cur, prev uint64) uint32 {
	d := cur
	if cur >= prev {
		d = cur - prev
	}
	return uint32(min(d, math.MaxUint32))
}

func (h *history) samples(i int) []Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Sample
	for k := range h.load.len() {
		s := h.objs[i].at(k)
		if s.state == absent {
			continue
		}
		out = append(out, Sample{
			Time:  time.Unix(0, h.load.at(k).time).UTC(),
			State: s.state, Remaining: float64(s.remaining), Burn: float64(s.burn),
			Good: uint64(s.good), Bad: uint64(s.bad), Shed: uint64(s.shed),
		})
	}
	return out
}

func (h *history) loadSamples() []LoadSample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]LoadSample, h.load.len())
	for k := range out {
		s := h.load.at(k)
		out[k] = LoadSample{Time: time.Unix(0, s.time).UTC(), Level: float64(s.level),
			Scale: float64(s.scale), ScaleKnown: s.scaleKnown}
		for c := range s.admitted {
			out[k].Admitted[c], out[k].Rejected[c] = uint64(s.admitted[c]), uint64(s.rejected[c])
		}
	}
	return out
}

// snapshot returns the history as kept, with the objectives' names.
func (h *history) snapshot(recs []*Recorder) historySnapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := historySnapshot{load: h.load.appendTo(nil), objs: make([]objectiveHistory, len(recs))}
	for i, r := range recs {
		hs.objs[i] = objectiveHistory{name: r.obj.Name, samples: h.objs[i].appendTo(nil)}
	}
	return hs
}

// restore fills the empty history with a snapshot's, its latest samples
// if it has more than the history holds, matching objectives by name: an
// objective the snapshot does not have is absent from those samples. It
// returns how many samples it restored. It runs in the evaluator, before
// the first sample.
func (h *history) restore(hs historySnapshot, recs []*Recorder) int {
	skip := max(len(hs.load)-h.size, 0)
	from := make([][]objSample, len(recs))
	for i, r := range recs {
		if j := slices.IndexFunc(hs.objs, func(o objectiveHistory) bool { return o.name == r.obj.Name }); j >= 0 {
			from[i] = hs.objs[j].samples
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := skip; k < len(hs.load); k++ {
		h.load.push(hs.load[k])
		for i := range recs {
			s := objSample{state: absent}
			if from[i] != nil {
				s = from[i][k]
			}
			h.objs[i].push(s)
		}
	}
	if n := len(hs.load); n > skip {
		h.last = time.Unix(0, hs.load[n-1].time)
	}
	return len(hs.load) - skip
}

// History returns the named objective's samples, oldest first: one per
// history interval, as many as the history size (see WithHistory), with
// those restored from a snapshot first.
func (e *Engine) History(objective string) ([]Sample, error) {
	for i, r := range e.recs {
		if r.obj.Name == objective {
			return e.history.samples(i), nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownObjective, objective)
}

// LoadHistory returns the service's load samples, oldest first: one per
// history interval, taken with the objectives' samples (see History).
func (e *Engine) LoadHistory() []LoadSample { return e.history.loadSamples() }
