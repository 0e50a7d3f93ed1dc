package budget

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// State is an objective's alerting state. The order of the constants is
// their severity. The zero State is StateUnknown.
type State uint8

const (
	// StateUnknown means there is not enough data to judge: no events in
	// the period, or fewer than Spec.MinEvents. It never reads as good.
	StateUnknown State = iota
	// StateOK means budget remains and no rule fires.
	StateOK
	// StateTicket means a ticket rule fires.
	StateTicket
	// StatePage means a page rule fires.
	StatePage
	// StateExhausted means the period's budget is spent: remaining ≤ 0.
	StateExhausted
)

// String returns the state's lower-case name.
func (s State) String() string {
	return enumName(s, "state", "unknown", "ok", "ticket", "page", "exhausted")
}

// Never is the TimeToExhaustion of a budget that is not burning.
const Never = time.Duration(math.MaxInt64)

// Spec is the budget side of an objective: what the ledger's counts are
// judged against. The zero Spec is not valid (it has no Target); every other
// zero field means its documented default.
type Spec struct {
	// Target is the objective, the share of events that must be good, in
	// (0, 1): 0.999 for "three nines".
	Target float64
	// Period is the rolling compliance period, e.g. 30 days. With a
	// Calendar it is ignored.
	Period time.Duration
	// Calendar, if set, makes the period calendar-aligned: a week or a
	// month in a time zone, the budget starting afresh at its start.
	Calendar Calendar
	// Rules are the alert conditions. Nil means DefaultRules(); an empty,
	// non-nil slice means none.
	Rules []Rule
	// MinEvents is the least number of events a window must hold before a
	// rule over it may fire, and the period before its state is known.
	// Zero means 1.
	MinEvents uint64
	// MinBadEvents is the least number of bad events a window must hold
	// before a rule over it may fire. Zero means 1.
	MinBadEvents uint64
	// ExcludeShed leaves events shed by sloguard out of the reported
	// budget. By default they count as bad: the users did not get an
	// answer.
	ExcludeShed bool
}

// Validate reports every problem with the spec. It checks the period and
// the rules' windows exactly as NewLedger does, so a spec that Validate
// accepts always gets a ledger.
func (s Spec) Validate() error {
	var errs []error
	if !(s.Target > 0 && s.Target < 1) {
		errs = append(errs, fmt.Errorf("%w: target %v must be in (0, 1), e.g. 0.999", ErrInvalid, s.Target))
	}
	if !s.Calendar.IsZero() {
		if err := s.Calendar.validate(); err != nil {
			errs = append(errs, err)
		}
	} else if err := checkPeriod(s.Period); err != nil {
		errs = append(errs, err)
	}
	for i, r := range s.rules() {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Span returns the longest period the spec's ledger must hold: Period, or
// the calendar's longest period: 7 days and an hour for a week, 31 days
// and an hour for a month.
func (s Spec) Span() time.Duration {
	if !s.Calendar.IsZero() {
		return s.Calendar.maxLength()
	}
	return s.Period
}

// PeriodAt returns the start and the length of the period that the budget
// at time now covers: the trailing Period for a rolling spec, the calendar
// period that holds now for a calendar one. Thresholds and exhaustion
// times scale with its length.
func (s Spec) PeriodAt(now time.Time) (start time.Time, length time.Duration) {
	if s.Calendar.IsZero() {
		return now.Add(-s.Period), s.Period
	}
	start, end := s.Calendar.Bounds(now)
	return start, end.Sub(start)
}

// periodSum returns the counts of the budget's period at now: the trailing
// Period, or the calendar period from its start (buckets that start before
// it left out, so that the previous period never counts).
func (s Spec) periodSum(l Summer, now time.Time) Counts {
	if s.Calendar.IsZero() {
		return l.Sum(now, s.Period)
	}
	start, _ := s.PeriodAt(now)
	return l.Sum(now, now.Sub(start)+1)
}

// defaultRules is DefaultRules, read only, so that evaluating a spec
// with the default rules does not build them every time.
var defaultRules = DefaultRules()

func (s Spec) rules() []Rule {
	if s.Rules == nil {
		return defaultRules
	}
	return s.Rules
}

// Windows returns the distinct windows the spec's rules look at, shortest
// first. The period is not among them.
func (s Spec) Windows() []time.Duration { return s.appendWindows(nil) }

// appendWindows appends Windows to ws, which Evaluate keeps on its stack.
func (s Spec) appendWindows(ws []time.Duration) []time.Duration {
	for _, r := range s.rules() {
		ws = append(ws, r.Long, r.ShortWindow())
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// NewLedger returns a ledger laid out for the spec's period and windows.
func (s Spec) NewLedger() (*Ledger, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return NewLedger(s.Span(), s.Windows()...)
}

// Burn returns the burn rate of a window with the given bad and total events
// against target: how many times faster than allowed the budget burns, where
// 1 spends exactly the whole budget in one period. It is 0 when total is 0.
func Burn(bad, total uint64, target float64) float64 {
	if total == 0 {
		return 0
	}
	return float64(bad) / float64(total) / (1 - target)
}

// Remaining returns the share of the budget left after bad of total events:
// 1 − bad / ((1 − target) × total). It falls below 0 when overspent and is 1
// when total is 0.
func Remaining(bad, total uint64, target float64) float64 {
	if total == 0 {
		return 1
	}
	r := 1 - float64(bad)/((1-target)*float64(total))
	if math.Abs(r) < 1e-9 {
		// 1 bad in 1000 at 99.9% is exactly spent, not 8.9e-16 left.
		return 0
	}
	return r
}

// timeToExhaustion returns how long the remaining budget lasts at burn rate
// burn: burn 1 spends a whole budget in one period. It is 0 when nothing
// remains and Never when burn is not positive.
func timeToExhaustion(remaining, burn float64, period time.Duration) time.Duration {
	switch {
	case remaining <= 0:
		return 0
	case !(burn > 0):
		return Never
	}
	d := remaining / burn * float64(period)
	if !(d < float64(Never)) { // saturates, also for NaN
		return Never
	}
	return time.Duration(d)
}

// Window is the state of one trailing window, as a Report holds it. The zero
// Window is an empty window of no length.
type Window struct {
	Window time.Duration // length of the window
	Counts Counts        // events in it
	// Burn is the reported burn rate (shed counted per Spec.ExcludeShed).
	Burn float64
	// AdmittedBurn is the burn rate of admitted traffic only, the signal
	// that drives shedding: shed events are left out of both sides.
	AdmittedBurn float64
}

// RuleStatus is the outcome of one rule at one evaluation, as a Report
// holds it. The zero RuleStatus is a rule that does not fire.
type RuleStatus struct {
	Rule      Rule
	Threshold float64 // burn rate at which it fires
	LongBurn  float64 // burn rate over Rule.Long
	ShortBurn float64 // burn rate over the short window
	// Enough says both windows held at least MinEvents events and
	// MinBadEvents bad events; without it the rule can not fire.
	Enough bool
	Firing bool
}

// Report is the state of one objective at one time, as Evaluate returns it.
// The zero Report is StateUnknown with no windows and no rules.
type Report struct {
	Time   time.Time
	State  State
	Period Counts // events over the whole period
	// Start and Length are the period's: Time − Spec.Period and
	// Spec.Period for a rolling spec, the calendar period that holds Time
	// for a calendar one (whose budget started afresh at Start).
	Start  time.Time
	Length time.Duration
	// Remaining is the share of the period's budget left; below 0 when
	// overspent, 1 with no data (see State for whether it is known).
	Remaining float64
	// Burn is the current burn rate: over the long window of the fastest
	// page rule (the highest threshold), or over the shortest window when
	// there is no page rule.
	Burn float64
	// TimeToExhaustion is how long the remaining budget lasts at Burn;
	// Never when it is not burning.
	TimeToExhaustion time.Duration
	Windows          []Window     // the spec's windows, shortest first
	Rules            []RuleStatus // in the order of Spec.Rules
}

// Window returns the report's window of length w, and false if the spec does
// not look at w.
func (r *Report) Window(w time.Duration) (Window, bool) {
	for _, x := range r.Windows {
		if x.Window == w {
			return x, true
		}
	}
	return Window{}, false
}

// Evaluate judges the counts of l at time now against spec s, which must
// be valid. l is a Ledger, or counts read from elsewhere, such as a fleet's
// (see Sums). A Ledger must not be advanced meanwhile.
func Evaluate(l Summer, s Spec, now time.Time) Report {
	var rep Report
	EvaluateInto(&rep, l, s, now)
	return rep
}

// EvaluateInto is Evaluate that writes the report into rep, reusing the
// arrays of rep.Windows and rep.Rules where their capacity suffices, so
// that an evaluator of many objectives can cut them from one allocation.
// Everything rep held before is replaced.
func EvaluateInto(rep *Report, l Summer, s Spec, now time.Time) {
	*rep = Report{Time: now, Period: s.periodSum(l, now), Windows: rep.Windows[:0], Rules: rep.Rules[:0]}
	rep.Start, rep.Length = s.PeriodAt(now)
	bad, total := rep.Period.reported(s.ExcludeShed)
	rep.Remaining = Remaining(bad, total, s.Target)
	rep.sumWindows(l, s, now)
	state := rep.judgeRules(s)
	rep.TimeToExhaustion = timeToExhaustion(rep.Remaining, rep.Burn, rep.Length)
	switch {
	case total < max(s.MinEvents, 1):
		state = StateUnknown
	case rep.Remaining <= 0:
		state = StateExhausted
	}
	rep.State = state
}

// sumWindows sets the report's windows: the counts and burn rates of every
// window of s at now.
func (rep *Report) sumWindows(l Summer, s Spec, now time.Time) {
	var buf [16]time.Duration
	windows := s.appendWindows(buf[:0])
	rep.Windows = slices.Grow(rep.Windows, len(windows))[:len(windows)]
	for i, w := range windows {
		c := l.Sum(now, w)
		b, t := c.reported(s.ExcludeShed)
		rep.Windows[i] = Window{
			Window:       w,
			Counts:       c,
			Burn:         Burn(b, t, s.Target),
			AdmittedBurn: Burn(c.Bad, c.Admitted(), s.Target),
		}
	}
}

// judgeRules sets the report's rules and current burn rate from its
// windows, and returns the state they call for.
func (rep *Report) judgeRules(s Spec) State {
	minEvents, minBad := max(s.MinEvents, 1), max(s.MinBadEvents, 1)
	enough := func(w Window) bool {
		b, t := w.Counts.reported(s.ExcludeShed)
		return t >= minEvents && b >= minBad
	}
	rules := s.rules()
	rep.Rules = slices.Grow(rep.Rules, len(rules))[:len(rules)]
	state := StateOK
	rep.Burn = math.NaN()
	fastest := 0.0
	for i, r := range rules {
		long, _ := rep.Window(r.Long)
		short, _ := rep.Window(r.ShortWindow())
		st := RuleStatus{
			Rule:      r,
			Threshold: r.Threshold(rep.Length),
			LongBurn:  long.Burn,
			ShortBurn: short.Burn,
			Enough:    enough(long) && enough(short),
		}
		st.Firing = st.Enough && long.Burn >= st.Threshold && short.Burn >= st.Threshold
		rep.Rules[i] = st
		if st.Firing {
			switch r.Severity {
			case Page:
				state = max(state, StatePage)
			case Ticket:
				state = max(state, StateTicket)
			}
		}
		if r.Severity == Page && st.Threshold > fastest {
			rep.Burn, fastest = long.Burn, st.Threshold
		}
	}
	if math.IsNaN(rep.Burn) {
		rep.Burn = 0
		if len(rep.Windows) > 0 {
			rep.Burn = rep.Windows[0].Burn
		}
	}
	return state
}

// RecoveryTime estimates how long until the remaining budget over the
// spec's period is back at goal or above, if from now on events arrive as
// they did over the trailing window w: at the same rate and with the same
// share of bad events. As time passes the oldest buckets of the period
// leave it and projected ones enter; the estimate is the first bucket
// boundary (of the period's resolution) at which the budget has recovered.
//
// It returns 0 when the budget is already at goal or above, and Never when
// it does not recover within one period, as when the projected traffic
// itself burns faster than the goal allows. It reads the ledger and so must
// not run concurrently with Advance.
//
// With a calendar period no event leaves the period before it ends: the
// budget recovers when the projected traffic dilutes the bad events enough,
// or else at the next period's start, when it starts afresh; the estimate
// is the earlier of the two.
func RecoveryTime(l *Ledger, s Spec, now time.Time, goal float64, w time.Duration) time.Duration {
	if !s.Calendar.IsZero() {
		return calendarRecovery(l, s, now, goal, w)
	}
	bad, total := l.Sum(now, s.Period).reported(s.ExcludeShed)
	if total > 0 && Remaining(bad, total, s.Target) >= goal {
		return 0
	}
	res := l.resolution(s.Period)
	if res == 0 { // the zero Ledger holds nothing that could leave
		return Never
	}
	rb, rt := l.Sum(now, w).reported(s.ExcludeShed)
	perBucket := float64(res) / float64(max(w, res))
	addBad, addTotal := float64(rb)*perBucket, float64(rt)*perBucket

	// Step k: the k oldest buckets have left, k projected ones have come.
	fb, ft := float64(bad), float64(total)
	k, recovered := 0, false
	l.each(now, s.Period, func(old Counts) bool {
		k++
		ob, ot := old.reported(s.ExcludeShed)
		fb += addBad - float64(ob)
		ft += addTotal - float64(ot)
		recovered = ft > 0 && 1-fb/((1-s.Target)*ft) >= goal-1e-9
		return !recovered
	})
	if !recovered {
		return Never
	}
	// The window edge is a bucket boundary; now is inside the newest
	// bucket, so k buckets from now is at most k·res.
	return time.Duration(k) * res
}

// calendarRecovery is RecoveryTime for a calendar period: with B bad of N
// events so far and b bad of n events per unit of time from now on, the
// budget is at goal g after x when
//
//	B + b·x ≤ (1 − g)(1 − T)(N + n·x),
//
// which is solved for x; the period's end bounds it.
func calendarRecovery(l *Ledger, s Spec, now time.Time, goal float64, w time.Duration) time.Duration {
	t := l.clamp(now)
	now = time.Unix(0, t)
	bad, total := s.periodSum(l, now).reported(s.ExcludeShed)
	if total > 0 && Remaining(bad, total, s.Target) >= goal {
		return 0
	}
	_, end := s.Calendar.Bounds(now)
	reset := end.Sub(now)
	if w <= 0 {
		return reset
	}
	rb, rt := l.Sum(now, w).reported(s.ExcludeShed)
	k := (1 - goal) * (1 - s.Target)
	perNS := 1 / float64(w)
	denom := k*float64(rt)*perNS - float64(rb)*perNS
	need := float64(bad) - k*float64(total)
	if denom > 0 {
		if x := math.Ceil(need / denom); x < float64(reset) {
			return time.Duration(max(x, 0))
		}
	}
	return reset
}
