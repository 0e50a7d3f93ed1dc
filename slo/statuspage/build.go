package statuspage

import (
	"math"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// Build returns the engine's latest Status, its events, each objective's
// history and the load history as a [statusjson.Document].
//
// Numbers the engine does not know are null: an objective's remaining
// budget while its state is unknown, the time to exhaustion while the
// budget is not burning, the control burn without enough admitted events,
// and the release's recovery estimate when releases are not frozen, are
// frozen only by a page, or do not recover at the current rate. A nil
// engine gives an empty [statusjson.Document].
//
// The status, the events and the history are read one after the other, so
// an evaluation that runs meanwhile may show in the events and history but
// not yet in the status.
func Build(eng *slo.Engine) statusjson.Document {
	if eng == nil {
		return newDocument(&slo.Status{}, nil)
	}
	st := eng.Status()
	doc := newDocument(st, eng.Events())
	doc.Load = loadOf(eng.LoadHistory())
	for i, o := range st.Objectives {
		hist, err := eng.History(o.Objective.Name)
		if err != nil {
			continue // the status names only the engine's objectives
		}
		doc.Objectives[i].History = samplesOf(hist)
	}
	return doc
}

// newDocument converts a status and events; histories stay empty.
func newDocument(st *slo.Status, events []slo.Event) statusjson.Document {
	doc := statusjson.Document{
		Time:       st.Time,
		Objectives: make([]statusjson.Objective, len(st.Objectives)),
		Shed:       shedOf(st.Shedding),
		Scale:      scaleOf(st.Scale),
		Breakers:   make([]statusjson.Breaker, len(st.Breakers)),
		Gates:      make([]statusjson.Gate, len(st.Gates)),
		Release:    releaseOf(st.Release),
		Events:     make([]statusjson.Event, len(events)),
		Faults:     st.Faults,
		Load:       []statusjson.LoadSample{},
	}
	for i, o := range st.Objectives {
		doc.Objectives[i] = objectiveOf(o)
		viewOf(&doc.Objectives[i], o, st.Time)
	}
	for i, b := range st.Breakers {
		doc.Breakers[i] = statusjson.Breaker{
			Dependency:  b.Dependency,
			State:       b.State.String(),
			Burning:     b.Burning,
			RetryAfterS: b.RetryAfter.Seconds(),
		}
	}
	for i, g := range st.Gates {
		doc.Gates[i] = statusjson.Gate{Name: g.Name, Enabled: g.Enabled, Reason: g.Reason}
	}
	for i, ev := range events {
		doc.Events[i] = eventOf(ev)
	}
	return doc
}

func objectiveOf(o slo.ObjectiveStatus) statusjson.Objective {
	def, rep := o.Objective, o.Report
	out := statusjson.Objective{
		Name:        def.Name,
		Description: def.Description,
		Kind:        def.Kind(),
		LatencyMS:   float64(def.Latency) / float64(time.Millisecond),
		Target:      def.Target,
		PeriodS:     periodOf(def, rep).Seconds(),
		Dependency:  def.Dependency,
		State:       rep.State.String(),
		Good:        rep.Period.Good,
		Bad:         rep.Period.Bad,
		Shed:        rep.Period.Shed,
		Neutral:     o.Neutral,
		Windows:     make([]statusjson.Window, len(rep.Windows)),
		Rules:       make([]statusjson.Rule, len(rep.Rules)),
		History:     []statusjson.Sample{},
	}
	if rep.State != budget.StateUnknown {
		out.Remaining = ptr(num(rep.Remaining))
		if rep.TimeToExhaustion != budget.Never {
			out.TimeToExhaustionS = ptr(rep.TimeToExhaustion.Seconds())
		}
	}
	if o.ControlKnown {
		out.ControlBurn = ptr(num(o.ControlBurn))
	}
	for i, w := range rep.Windows {
		out.Windows[i] = statusjson.Window{
			Window:       budget.FormatWindow(w.Window),
			Good:         w.Counts.Good,
			Bad:          w.Counts.Bad,
			Shed:         w.Counts.Shed,
			Burn:         num(w.Burn),
			AdmittedBurn: num(w.AdmittedBurn),
		}
	}
	for i, r := range rep.Rules {
		out.Rules[i] = statusjson.Rule{
			Name:      r.Rule.Name(),
			Severity:  r.Rule.Severity.String(),
			Long:      budget.FormatWindow(r.Rule.Long),
			Short:     budget.FormatWindow(r.Rule.ShortWindow()),
			Threshold: num(r.Threshold),
			LongBurn:  num(r.LongBurn),
			ShortBurn: num(r.ShortBurn),
			Firing:    r.Firing,
		}
	}
	return out
}

// viewOf fills in where an objective's figures come from, and how old they
// are.
func viewOf(out *statusjson.Objective, o slo.ObjectiveStatus, now time.Time) {
	out.View = o.View.String()
	if o.View == slo.ViewLocal || o.ViewTime.IsZero() {
		return
	}
	out.ViewTime = o.ViewTime
	out.ViewAgeS = ptr(max(now.Sub(o.ViewTime), 0).Seconds())
	if o.View == slo.ViewFleet {
		l := o.Local
		out.Local = &statusjson.Local{State: l.State.String(), Good: l.Period.Good, Bad: l.Period.Bad, Shed: l.Period.Shed}
		if l.State != budget.StateUnknown {
			out.Local.Remaining = ptr(num(l.Remaining))
		}
	}
}

func samplesOf(hist []slo.Sample) []statusjson.Sample {
	out := make([]statusjson.Sample, len(hist))
	for i, s := range hist {
		out[i] = statusjson.Sample{Time: s.Time, State: s.State.String(), Remaining: num(s.Remaining), Burn: num(s.Burn),
			Good: s.Good, Bad: s.Bad, Shed: s.Shed}
	}
	return out
}

func loadOf(hist []slo.LoadSample) []statusjson.LoadSample {
	out := make([]statusjson.LoadSample, len(hist))
	for i, s := range hist {
		ls := statusjson.LoadSample{
			Time:     s.Time,
			Admitted: make(map[string]uint64, len(s.Admitted)),
			Rejected: make(map[string]uint64, len(s.Rejected)),
			Level:    num(s.Level),
		}
		for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
			ls.Admitted[c.String()] = s.Admitted[c.Index()]
			ls.Rejected[c.String()] = s.Rejected[c.Index()]
		}
		if s.ScaleKnown {
			ls.Scale = ptr(num(s.Scale))
		}
		out[i] = ls
	}
	return out
}

func shedOf(s slo.SheddingStatus) statusjson.Shed {
	out := statusjson.Shed{
		Enabled:  s.Enabled,
		Level:    num(s.Level),
		Reject:   make(map[string]float64, len(s.Reject)),
		Rejected: make(map[string]uint64, len(s.Rejected)),
	}
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		out.Reject[c.String()] = num(s.Reject[c.Index()])
		out.Rejected[c.String()] = s.Rejected[c.Index()]
	}
	return out
}

func scaleOf(s slo.ScaleStatus) statusjson.Scale {
	if !s.Known {
		return statusjson.Scale{}
	}
	out := statusjson.Scale{
		Known:       true,
		Need:        ptr(num(s.Need)),
		CapacityRPS: ptr(num(s.Capacity)),
		Saturated:   s.Saturated,
		DemandRPS:   make(map[string]float64, len(s.Demand)),
		ServedRPS:   make(map[string]float64, len(s.Served)),
	}
	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
		out.DemandRPS[c.String()] = num(s.Demand[c.Index()])
		out.ServedRPS[c.String()] = num(s.Served[c.Index()])
	}
	return out
}

func releaseOf(r slo.ReleaseStatus) statusjson.Release {
	out := statusjson.Release{Allowed: !r.Frozen, Frozen: r.Frozen, Reason: r.Reason, Since: r.Since}
	// 0 while frozen means frozen by a page only: no budget to recover.
	if r.Frozen && r.RecoveryTime > 0 && r.RecoveryTime != budget.Never {
		out.RecoveryS = ptr(r.RecoveryTime.Seconds())
	}
	return out
}

func eventOf(ev slo.Event) statusjson.Event {
	out := statusjson.Event{Time: ev.Time, Kind: ev.Kind.String(), Text: ev.String()}
	if ev.Objective != "" {
		// State changes, and the gate and freeze changes an objective
		// caused: its budget and burn rates at that moment.
		out.Objective = ev.Objective
		out.Remaining = ptr(num(ev.Remaining))
		for _, b := range ev.Burns {
			out.Burns = append(out.Burns, statusjson.Window{Window: budget.FormatWindow(b.Window), Burn: num(b.Burn)})
		}
	}
	switch ev.Kind {
	case slo.StateChanged:
		out.From, out.To = ev.From.String(), ev.To.String()
	case slo.SheddingChanged:
		out.Level = ptr(num(ev.Level))
	case slo.BreakerChanged:
		out.Dependency = ev.Dependency
		out.From, out.To = ev.BreakerFrom.String(), ev.BreakerTo.String()
	case slo.GateChanged:
		out.Gate = ev.Gate
		out.Enabled = ptr(ev.Enabled)
		out.Reason = ev.Reason
	case slo.FreezeChanged:
		out.Frozen = ptr(ev.Frozen)
		out.Reason = ev.Reason
	case slo.ViewChanged:
		out.From, out.To = ev.FromView.String(), ev.ToView.String()
		out.Reason = ev.Reason
	case slo.SnapshotRestored, slo.SnapshotRefused, slo.SnapshotFailed:
		out.Reason = ev.Reason
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// num keeps a number encodable: encoding/json rejects NaN and ±Inf, which
// valid objectives never produce but a Document must never fail on.
func num(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return math.MaxFloat64
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	}
	return v
}

// periodOf returns the objective's period: the rolling one, or the length
// of the calendar period of the report.
func periodOf(def slo.Objective, rep budget.Report) time.Duration {
	if def.Calendar.IsZero() {
		return def.Spec().Period
	}
	return rep.Length
}
