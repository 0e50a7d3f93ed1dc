package slo

import (
	"math"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// One evaluation is a sequence of steps, one per subsystem, in the order
// in which each needs the others' results: budgets first (every other step
// reads the objectives' reports and control signals), then shedding,
// breakers, the release freeze, gates, the scale signal, history. Each step owns its
// subsystem's state, returns its part of the Status or writes it into the
// Status's memory, and appends the events it raises. All run on the
// evaluator, under tickMu.

// evaluate runs one evaluation at now, publishes its Status and returns
// its events. It writes the Status into the frame of an earlier one that
// no caller holds (see published), so that the steady state allocates
// nothing.
func (e *Engine) evaluate(now time.Time) []Event {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	prev := e.pub.current()
	if now.Before(prev.Time) {
		now = prev.Time // as the ledgers do: time never runs backwards
	}
	f := e.pub.take()
	if f == nil {
		f = e.newFrame()
	}
	st := &f.st
	st.Time = now
	events := e.bq.drain() // breaker changes since the previous evaluation
	events = append(events, e.snap.begin(e, now)...)

	var ctl control
	ctl, events = e.stepBudgets(now, prev, st.Objectives, events)
	st.Shedding, events = e.stepShedding(now, ctl, events)
	events = e.stepBreakers(now, ctl, st.Breakers, events)
	st.Release, events = e.release.step(e, now, st.Objectives, prev.Release.Frozen, events)
	events = e.stepGates(now, st, events)
	st.Scale = e.stepScale(now, ctl, st.Breakers)
	e.history.observe(now, st, ctl.admitted)
	e.snap.end(e, now)

	st.Faults = e.faults.Load()
	st.DroppedEvents = e.dropped.Load()
	st.ClockOffset = time.Duration(e.clockOffset.Load())
	e.pub.publish(f)
	return events
}

// newFrame returns a frame to write evaluations into, with room for every
// objective's report, breaker and gate. The reports' windows and rules
// are cut from one array each.
func (e *Engine) newFrame() *frame {
	f := &frame{st: Status{
		Objectives: make([]ObjectiveStatus, len(e.recs)),
		Breakers:   make([]BreakerStatus, len(e.breakers)),
		Gates:      make([]GateStatus, len(e.gates)),
	}}
	ws := make([]budget.Window, e.windows)
	rs := make([]budget.RuleStatus, e.rules)
	for i, r := range e.recs {
		os := &f.st.Objectives[i]
		os.Local.Windows, ws = cut(ws, r.windows)
		os.Local.Rules, rs = cut(rs, r.rules)
	}
	return f
}

// control is what the budget step hands to shedding and breakers: the
// control signals of admitted traffic only, so that shedding can not feed
// on itself.
type control struct {
	sig      signal
	admitted [4]uint64 // by Criticality.Index, cumulative, read for the meter and the history
	rejected [4]uint64 // by Criticality.Index, cumulative, read for the meter
	burning  []bool    // by breaker index: its dependency burns fast
	window   window    // the gate's cumulative counts, read at the start
}

// stepBudgets folds what was recorded into the ledgers, judges every
// objective into objs (on the fleet's view where there is one) and reads
// the control signals: a dependency's over the ledger's control window,
// shedding's over the latest evaluations, exactly.
func (e *Engine) stepBudgets(now time.Time, prev *Status, objs []ObjectiveStatus, events []Event) (control, []Event) {
	ctl := control{sig: signal{calm: true}, burning: e.burning}
	clear(ctl.burning)
	// Admissions and rejections by Criticality.Index, from the gate's
	// counts by band.
	w := e.shards.window()
	ctl.window = w
	for b := range bands {
		ctl.admitted[b], ctl.rejected[b] = w.arrived[b]-w.rejected[b], w.rejected[b]
	}
	e.meter.begin(now, ctl.admitted, ctl.rejected)
	for _, r := range e.recs {
		r.fold()
		r.ledger.Advance(now)
	}
	if e.fleet != nil {
		e.faults.Add(uint64(e.fleet.judge(e, now)))
	}
	for i, r := range e.recs {
		os := &objs[i]
		if changed := e.judge(i, now, os); changed != nil {
			events = append(events, *changed)
		}
		e.controlSignal(r, i, now, os, &ctl)
		if from := prev.Objectives[i].Report.State; from != os.Report.State {
			ev := objectiveEvent(now, StateChanged, *os)
			ev.From, ev.To = from, os.Report.State
			events = append(events, ev)
		}
	}
	return ctl, events
}

// cut returns the first n elements of a, with no room to grow into the
// rest, and the rest.
func cut[T any](a []T, n int) (head, rest []T) {
	n = min(n, len(a))
	return a[:0:n], a[n:]
}

// judge evaluates objective i at now into os, which holds an earlier
// evaluation of it (or none): os.Local on its ledger (see
// budget.EvaluateInto, which reuses os.Local's arrays) and os.Report on
// the fleet's counts for the fleet's view, else the same. changed is not
// nil when the view changed.
func (e *Engine) judge(i int, now time.Time, os *ObjectiveStatus) (changed *Event) {
	r := e.recs[i]
	budget.EvaluateInto(&os.Local, r.ledger, r.spec, now)
	src, view, viewTime, changed := e.view(i, now)
	if view == ViewFleet {
		// As of the read: the fleet's windows end then. Into the arrays of
		// an earlier fleet evaluation, never into os.Local's.
		if shares(os.Report, os.Local) {
			os.Report = budget.Report{}
		}
		budget.EvaluateInto(&os.Report, src, r.spec, viewTime)
	} else {
		os.Report = os.Local
	}
	os.Objective, os.View, os.ViewTime = r.obj, view, viewTime
	os.Totals, os.Neutral = r.ledger.Totals()
	return changed
}

// shares reports whether reports a and b share the array of their
// windows or of their rules.
func shares(a, b budget.Report) bool {
	return cap(a.Windows) > 0 && cap(b.Windows) > 0 && &a.Windows[:1][0] == &b.Windows[:1][0] ||
		cap(a.Rules) > 0 && cap(b.Rules) > 0 && &a.Rules[:1][0] == &b.Rules[:1][0]
}

// controlSignal sets the control burn of objective i (recorder r) and adds
// it to ctl.
func (e *Engine) controlSignal(r *Recorder, i int, now time.Time, os *ObjectiveStatus, ctl *control) {
	if r.dep >= 0 {
		c := r.ledger.Sum(now, e.depWindow)
		os.ControlBurn = budget.Burn(c.Bad, c.Admitted(), r.spec.Target)
		os.ControlKnown = c.Admitted() >= e.depMin
		ctl.burning[r.dep] = ctl.burning[r.dep] || os.ControlKnown && os.ControlBurn >= r.controlBurn
		return
	}
	c := e.meter.add(i, os.Totals.Good, os.Totals.Bad)
	os.ControlBurn = budget.Burn(c.bad, c.good+c.bad, r.spec.Target)
	os.ControlKnown = c.good+c.bad >= e.shedMin
	if os.ControlKnown && os.ControlBurn >= r.controlBurn {
		ctl.sig.hot = true
	}
	if os.ControlKnown && os.ControlBurn >= e.releaseBurn() {
		ctl.sig.calm = false
	}
}

// stepShedding steps the burn-rate controller and publishes its decision
// to admission.
func (e *Engine) stepShedding(now time.Time, ctl control, events []Event) (SheddingStatus, []Event) {
	st := SheddingStatus{Enabled: e.shed != nil, Rejected: ctl.rejected}
	if e.shed == nil {
		return st, events
	}
	sig := ctl.sig
	_, sig.demand, _ = e.meter.rates()
	// Shedding helps only an overloaded service: while the gate sees the
	// service far from its limit, or a dependency's breaker is not closed,
	// a burn comes from elsewhere (a dependency that fails, a bug) and the
	// level holds.
	if idle := e.gate.idle(); sig.hot && (idle || e.dependencyDown()) {
		sig.hot = false
	}
	from := e.shed.level
	e.shed.step(now, sig)
	level := e.shed.level
	d := e.decision.Load()
	if !d.evaluated || d.level != level {
		d = &decision{level: level, evaluated: true}
		for c := Sheddable; c <= CriticalPlus; c++ {
			d.reject[c.Index()] = rejectProbability(level, c)
			d.retry[c.Index()] = e.shed.p.retryAfter(level, c)
		}
		e.decision.Store(d)
	}
	e.gate.setTighten(e.shed.tighten)
	st.Level, st.Reject = level, d.reject
	st.Limit, st.InFlight = e.gate.state()
	if math.Ceil(from) != math.Ceil(level) {
		events = append(events, Event{Time: now, Kind: SheddingChanged, FromLevel: from, Level: level})
	}
	return st, events
}

// stepBreakers tells each breaker whether its dependency burns fast, which
// trips it (see Breaker), and reports their states into st, by breaker.
func (e *Engine) stepBreakers(now time.Time, ctl control, st []BreakerStatus, events []Event) []Event {
	for i, b := range e.breakers {
		burning := ctl.burning[i]
		b.burning.Store(burning)
		bs := BreakerStatus{Dependency: b.name, State: b.State(), Burning: burning}
		if bs.State == BreakerOpen {
			bs.RetryAfter = b.retryAfter(now)
		}
		st[i] = bs
	}
	// State() may have moved a breaker from open to half-open just now.
	return append(events, e.bq.drain()...)
}

// stepGates moves every gate to the objectives' state and the release
// freeze, and reports them into st.Gates.
func (e *Engine) stepGates(now time.Time, st *Status, events []Event) []Event {
	for i, g := range e.gates {
		var ev *Event
		st.Gates[i], ev = g.step(now, st.Objectives, st.Release.Frozen)
		if ev != nil {
			events = append(events, *ev)
		}
	}
	return events
}

// step moves the gate to the objectives' state at now and returns its
// status, and the event when it turned on or off.
func (g *Gate) step(now time.Time, objs []ObjectiveStatus, frozen bool) (GateStatus, *Event) {
	open, culprit := g.judge(objs, frozen)
	wasOpen := g.open.Load()
	var reason string
	switch {
	case !open:
		reason = g.why.String()
		g.lastReason = reason
		if culprit >= 0 {
			g.culprit = culprit
		}
		if wasOpen {
			g.closedAt = now
		}
	case !wasOpen && now.Sub(g.closedAt) < g.policy.MinClosed:
		open = false
		g.held.reset()
		g.held.add(g.lastReason, "; held closed for at least ", g.minClosed)
		reason = g.held.String()
	}
	st := GateStatus{Name: g.name, Enabled: open, Reason: reason}
	if wasOpen == open {
		return st, nil
	}
	g.open.Store(open)
	ev := Event{Time: now, Kind: GateChanged}
	if g.culprit >= 0 {
		ev = objectiveEvent(now, GateChanged, objs[g.culprit])
	}
	ev.Gate, ev.Enabled, ev.Reason = g.name, open, reason
	return st, &ev
}

// step moves the release freeze to the objectives' state at now and
// returns it, with an event when it froze or went on again.
func (r *release) step(e *Engine, now time.Time, objs []ObjectiveStatus, wasFrozen bool, events []Event) (ReleaseStatus, []Event) {
	st := r.judge(e, objs, now)
	if st.Frozen != wasFrozen {
		// The numbers of the objective that froze releases, also when
		// they go on again: what the postmortem needs.
		ev := objectiveEvent(now, FreezeChanged, objs[r.culprit])
		ev.Frozen, ev.Reason = st.Frozen, st.Reason
		events = append(events, ev)
	}
	return st, events
}

// dependencyDown reports whether some dependency's breaker is not closed.
func (e *Engine) dependencyDown() bool {
	for _, b := range e.breakers {
		if b.State() != BreakerClosed {
			return true
		}
	}
	return false
}

func (e *Engine) releaseBurn() float64 {
	if e.shed != nil {
		return e.shed.p.ReleaseBurn
	}
	return 1
}

// objectiveEvent returns an event of the given kind with the objective's
// name, remaining budget and burn rates at now.
func objectiveEvent(now time.Time, kind EventKind, os ObjectiveStatus) Event {
	rep := os.Report
	ev := Event{
		Time:      now,
		Kind:      kind,
		Objective: os.Objective.Name,
		Remaining: rep.Remaining,
		Burns:     make([]WindowBurn, len(rep.Windows)),
	}
	for j, w := range rep.Windows {
		ev.Burns[j] = WindowBurn{Window: w.Window, Burn: w.Burn}
	}
	return ev
}

// stepScale moves the scale signal on from the gate's counts; there is
// none without shedding, whose Admit counts the demand (see ScaleStatus).
func (e *Engine) stepScale(now time.Time, ctl control, breakers []BreakerStatus) ScaleStatus {
	if e.gate == nil {
		return ScaleStatus{}
	}
	return e.scale.step(now, scaleInput{w: ctl.window, gated: e.shards.sum(offGated),
		trouble: troubled(breakers), tightened: e.shed.tighten < 1})
}
