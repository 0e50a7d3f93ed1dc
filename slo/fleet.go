package slo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/budget"
)

// View says where an objective's budget figures come from: its remaining
// budget, burn rates, rule states, and the gates and release freeze judged
// on them.
//
// The zero View is ViewLocal.
type View uint8

const (
	// ViewLocal: this process's own events since it started.
	ViewLocal View = iota
	// ViewRestored: this process's own events, with those of a snapshot
	// restored at start (see WithSnapshots) while they are inside the
	// period.
	ViewRestored
	// ViewFleet: the whole fleet's events, read from a FleetSource (see
	// WithFleet).
	ViewFleet
)

var viewNames = [...]string{"local", "restored", "fleet"}

// String returns "local", "restored" or "fleet".
func (v View) String() string {
	if int(v) < len(viewNames) {
		return viewNames[v]
	}
	return fmt.Sprintf("view(%d)", uint8(v))
}

// FleetSource reads fleet-wide event counts: the events of an objective
// summed over every replica of the service. slo/promfleet reads them from
// any backend that serves the Prometheus HTTP query API (Prometheus,
// Thanos, Grafana Mimir, VictoriaMetrics).
//
// The engine calls Read from its own goroutine, one call at a time, with a
// deadline (FleetPolicy.Timeout), never on the request path.
//
// The zero (nil) FleetSource is none: WithFleet rejects it.
type FleetSource interface {
	// Read returns the fleet-wide counts of every objective of q over each
	// of its windows, ending at q.Time. A window with no events may be
	// left out, and then counts as none.
	Read(ctx context.Context, q FleetQuery) ([]FleetCounts, error)
}

// FleetSourceFunc adapts a function to a FleetSource.
//
// The zero (nil) FleetSourceFunc is no source: WithFleet rejects it.
type FleetSourceFunc func(ctx context.Context, q FleetQuery) ([]FleetCounts, error)

// Read returns f(ctx, q).
func (f FleetSourceFunc) Read(ctx context.Context, q FleetQuery) ([]FleetCounts, error) {
	return f(ctx, q)
}

// FleetQuery asks a FleetSource for counts.
//
// The zero FleetQuery asks for nothing; the engine's queries always have a
// Time and every objective.
type FleetQuery struct {
	// Time is the end of every window, by the wall clock (the backend's).
	Time time.Time
	// Objectives are the engine's objectives, in the order given to New.
	Objectives []FleetObjective
}

// FleetObjective is one objective of a FleetQuery.
//
// The zero FleetObjective names no objective and no window.
type FleetObjective struct {
	Name string
	// Windows are the objective's period and the windows of its rules,
	// shortest first.
	Windows []time.Duration
}

// FleetCounts are the fleet-wide events of one objective over one trailing
// window. They are floats because backends such as Prometheus extrapolate
// counters (increase()) to the window's edges; the engine rounds them, and
// refuses a read with one that is NaN, infinite or negative.
//
// The zero FleetCounts counts no events.
type FleetCounts struct {
	Objective string        // the objective's name
	Window    time.Duration // one of the FleetObjective's Windows
	Good      float64       // good events in the window, over every replica
	Bad       float64       // bad events
	Shed      float64       // events shed by sloguard
}

// FleetPolicy says how often the engine reads its FleetSource and how long
// it trusts an answer. Zero fields mean their documented defaults.
type FleetPolicy struct {
	// Every is how often the source is read, from a second to an hour. By
	// default, 30s.
	Every time.Duration
	// Timeout bounds each read. By default, 10s, and never more than Every.
	Timeout time.Duration
	// MaxAge is how long the latest good fleet view is kept while reads
	// fail, at most a week: beyond it, the engine falls back to its own
	// (local or restored) view. By default, 5m.
	MaxAge time.Duration
	// Lag is how far behind the backend may be: the scrape interval plus
	// ingestion and query delays. A read whose period holds fewer events
	// than this replica alone recorded in the period up to Lag before the
	// read (less 1% for the backend's extrapolation; and less the last Lag
	// of a restored snapshot, which the previous process may have recorded
	// after its last scrape) is a wrong answer, and refused. At most a
	// day; by default, 2m.
	Lag time.Duration
}

func (p FleetPolicy) withDefaults() FleetPolicy {
	if p.Every == 0 {
		p.Every = 30 * time.Second
	}
	if p.Timeout == 0 {
		p.Timeout = min(10*time.Second, p.Every)
	}
	if p.MaxAge == 0 {
		p.MaxAge = 5 * time.Minute
	}
	if p.Lag == 0 {
		p.Lag = 2 * time.Minute
	}
	return p
}

func (p FleetPolicy) validate() error {
	var errs []string
	if p.Every < time.Second || p.Every > time.Hour {
		errs = append(errs, fmt.Sprintf("every %v must be from a second to an hour", p.Every))
	}
	if p.Timeout <= 0 || p.Timeout > p.Every {
		errs = append(errs, fmt.Sprintf("timeout %v must be positive and at most every (%v)", p.Timeout, p.Every))
	}
	if p.MaxAge < p.Every || p.MaxAge > 7*24*time.Hour {
		errs = append(errs, fmt.Sprintf("max age %v must be from every (%v) to a week", p.MaxAge, p.Every))
	}
	if p.Lag < 0 || p.Lag > 24*time.Hour {
		errs = append(errs, fmt.Sprintf("lag %v must be from 0 to a day", p.Lag))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: fleet policy: %s", ErrInvalidOption, strings.Join(errs, "; "))
	}
	return nil
}

type fleetConfig struct {
	src    FleetSource
	policy FleetPolicy
}

// WithFleet makes the engine judge its objectives on the whole fleet's
// events, read from src every p.Every on a goroutine of its own (started by
// Start, stopped by Close) and never on the request path: the remaining
// budget, burn rates, rule states, gates, the release freeze and the
// exported gauges follow the fleet (View ViewFleet), while load shedding
// and breakers keep deciding on this replica's seconds-scale signal, which
// the fleet, minutes late by construction, can not replace. The first read
// runs at Start, so a new replica judges on the fleet's budget within one
// Timeout instead of starting from nothing.
//
// A read that fails, times out or gives a wrong answer (NaN, infinite or
// negative counts, or fewer events than this replica alone recorded, see
// FleetPolicy.Lag) is refused and counted as a fault; the latest good view
// is kept up to p.MaxAge, then the engine falls back to its own view. Each
// change of an objective's view is a ViewChanged event, logged, whose
// Reason gives the latest refusal. Close
// cancels a read in flight and waits for it at most p.Timeout. The
// release's recovery estimate needs the period's buckets and is given only
// on the local or restored view.
//
// By default, there is no fleet source and every objective is judged on
// this process's events alone.
func WithFleet(src FleetSource, p FleetPolicy) Option {
	return optionFunc(func(c *config) {
		p = p.withDefaults()
		err := p.validate()
		if f, isFunc := src.(FleetSourceFunc); src == nil || isFunc && f == nil {
			err = errors.Join(fmt.Errorf("%w: nil fleet source", ErrInvalidOption), err)
		}
		if err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.fleet = &fleetConfig{src: src, policy: p}
	})
}

// fleetRead is the outcome of one read.
type fleetRead struct {
	at     time.Time // the end of the windows read
	counts []FleetCounts
	err    error
}

// fleetView is the view of one objective; owned by the evaluator.
type fleetView struct {
	sums   budget.Sums // the latest good fleet counts; nil for none
	at     time.Time   // the time they were read for
	view   View        // the view used by the latest evaluation
	reason string      // why the latest read was refused; empty if it was not
	known  bool        // whether view was set
}

// fleet reads a FleetSource on its own goroutine and keeps each objective's
// fleet view.
type fleet struct {
	src   FleetSource
	p     FleetPolicy
	names []string         // by objective index
	specs []budget.Spec    // by objective index
	now   func() time.Time // the engine's time (see clock.go)

	latest atomic.Pointer[fleetRead] // the latest read, published by the reader
	seen   *fleetRead                // the latest read judged; owned by the evaluator
	views  []fleetView               // by objective index; owned by the evaluator

	ctx    context.Context // cancelled by close, which ends a read in flight
	cancel context.CancelFunc
	done   chan struct{} // closed when the reader returns; nil if never started
}

func newFleet(cfg *fleetConfig, recs []*Recorder, now func() time.Time) *fleet {
	if cfg == nil {
		return nil
	}
	f := &fleet{src: cfg.src, p: cfg.policy, views: make([]fleetView, len(recs)), now: now}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	for _, r := range recs {
		f.names = append(f.names, r.obj.Name)
		f.specs = append(f.specs, r.spec)
	}
	return f
}

// fleetWindows returns the windows that Evaluate sums at time now: the
// period's and the rules'. The fleet's counts are judged at the time they
// were read for, so that a period whose window depends on the time (a
// calendar period's, from its start) asks for the window it will sum.
func fleetWindows(s budget.Spec, now time.Time) []time.Duration {
	ws := append(s.Windows(), periodWindow(s, now))
	slices.Sort(ws)
	return slices.Compact(ws)
}

// periodWindow returns the window of the budget's period that Evaluate sums
// at now: the rolling period, or the time since the calendar period's
// start (as budget.Evaluate sums it).
func periodWindow(s budget.Spec, now time.Time) time.Duration {
	if s.Calendar.IsZero() {
		return s.Period
	}
	start, _ := s.PeriodAt(now)
	return now.Sub(start) + 1
}

func (f *fleet) start() {
	if f == nil {
		return
	}
	f.done = make(chan struct{})
	go f.run()
}

func (f *fleet) run() {
	defer close(f.done)
	t := time.NewTicker(f.p.Every)
	defer t.Stop()
	for {
		f.read()
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// read reads the source once, with its deadline, and publishes the result.
// The query ends at the wall-clock time, the backend's; the read is dated
// by the engine's time, against which the evaluations judge its age.
func (f *fleet) read() {
	now := f.now()
	q := FleetQuery{Time: time.Now(), Objectives: make([]FleetObjective, len(f.names))}
	for i, name := range f.names {
		q.Objectives[i] = FleetObjective{Name: name, Windows: fleetWindows(f.specs[i], now)}
	}
	ctx, cancel := context.WithTimeout(f.ctx, f.p.Timeout)
	defer cancel()
	counts, err := f.call(ctx, q)
	if f.ctx.Err() != nil {
		return // closing: the engine will not judge it
	}
	f.latest.Store(&fleetRead{at: now, counts: counts, err: err})
}

// call calls the source, turning a panic into an error.
func (f *fleet) call(ctx context.Context, q FleetQuery) (counts []FleetCounts, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fleet source panicked: %v", p)
		}
	}()
	return f.src.Read(ctx, q)
}

// close cancels a read in flight and waits for the reader to return, for
// at most Timeout: a source that ignores its context keeps the reader's
// goroutine until it returns, and then the goroutine exits.
func (f *fleet) close() {
	if f == nil {
		return
	}
	f.cancel()
	if f.done == nil {
		return
	}
	t := time.NewTimer(f.p.Timeout)
	defer t.Stop()
	select {
	case <-f.done:
	case <-t.C:
	}
}

// judge takes in the latest read, if it is new, once the ledgers have
// advanced to now. It returns the number of objectives whose counts it
// refused, or 1 when the read failed: faults to count.
func (f *fleet) judge(e *Engine, now time.Time) (faults int) {
	rd := f.latest.Load()
	if rd == nil || rd == f.seen {
		return 0
	}
	f.seen = rd
	if rd.err != nil {
		for i := range f.views {
			f.views[i].reason = "reading the fleet failed: " + rd.err.Error()
		}
		return 1
	}
	byObj, bad := fleetSums(rd.counts)
	refused := 0
	for i, r := range e.recs {
		v := &f.views[i]
		name := r.obj.Name
		if err := bad[name]; err != nil {
			v.reason = "wrong answer from the fleet: " + err.Error()
			refused++
			continue
		}
		sums := byObj[name]
		if sums == nil {
			sums = budget.Sums{}
		}
		if reason := f.short(e, i, sums, rd.at, now); reason != "" {
			v.reason = reason
			refused++
			continue
		}
		v.sums, v.at, v.reason = sums, rd.at, ""
	}
	return refused
}

// fleetSums groups a read's counts by objective, and returns the first
// wrong count of each objective apart.
func fleetSums(counts []FleetCounts) (byObj map[string]budget.Sums, bad map[string]error) {
	byObj, bad = map[string]budget.Sums{}, map[string]error{}
	for _, c := range counts {
		sums := byObj[c.Objective]
		if sums == nil {
			sums = budget.Sums{}
			byObj[c.Objective] = sums
		}
		good, err1 := fleetCount(c.Good)
		bd, err2 := fleetCount(c.Bad)
		shed, err3 := fleetCount(c.Shed)
		if err := errors.Join(err1, err2, err3); err != nil {
			if bad[c.Objective] == nil {
				bad[c.Objective] = fmt.Errorf("%s over %s: %w", c.Objective, budget.FormatWindow(c.Window), err)
			}
			continue
		}
		sums[c.Window] = budget.Counts{Good: good, Bad: bd, Shed: shed}
	}
	return byObj, bad
}

// short returns why the fleet's sums of objective i, read at, are refused
// at now, or "" when they are not: fewer events than this replica alone
// means the backend misses replicas, series or time. The replica's events
// up to Lag before the read must be there, give or take the backend's
// extrapolation; so must those of a restored snapshot, but for its last
// Lag, which a previous process may have recorded after its last scrape.
func (f *fleet) short(e *Engine, i int, sums budget.Sums, at, now time.Time) string {
	r := e.recs[i]
	period := periodWindow(r.spec, at)
	local := r.ledger.Sum(now, period).Total()
	unseen := r.ledger.Sum(now, f.p.Lag+now.Sub(at)).Total()
	if _, restored := e.snap.view(i, r.spec, now); !restored.IsZero() {
		since := now.Sub(restored)
		unseen += r.ledger.Sum(now, since+f.p.Lag).Total() - r.ledger.Sum(now, since).Total()
	}
	settled := float64(local - min(unseen, local))
	if got := sums[period].Total(); float64(got) < settled*0.99 {
		return fmt.Sprintf("wrong answer from the fleet: %d events over %s, fewer than this replica's own %d",
			got, budget.FormatWindow(period), uint64(settled))
	}
	return ""
}

// fleetCount rounds a count from a source, refusing one that no count can
// be.
func fleetCount(v float64) (uint64, error) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("count %v is not a number", v)
	case v < 0:
		return 0, fmt.Errorf("count %v is negative", v)
	case v >= 1<<63:
		return 0, fmt.Errorf("count %v is out of range", v)
	}
	return uint64(math.Round(v)), nil
}

// view returns what objective i is judged on at now, its view and how old
// that view's figures are, and an event when the view changed.
func (e *Engine) view(i int, now time.Time) (budget.Summer, View, time.Time, *Event) {
	r := e.recs[i]
	own, at := e.snap.view(i, r.spec, now)
	f := e.fleet
	if f == nil {
		return r.ledger, own, at, nil
	}
	v := &f.views[i]
	if !v.known {
		v.known, v.view = true, own // a restore has its own event
	}
	src, view := budget.Summer(r.ledger), own
	age := now.Sub(v.at)
	if v.sums != nil && age <= f.p.MaxAge {
		src, view, at = v.sums, ViewFleet, v.at
	}
	if view == v.view {
		return src, view, at, nil
	}
	from := v.view
	v.view = view
	return src, view, at, &Event{Time: now, Kind: ViewChanged, Objective: r.obj.Name, FromView: from, ToView: view,
		Reason: f.notFleet(v, view, age)}
}

// notFleet returns why an objective's view (v, now view) is not the
// fleet's, the fleet's figures being age old; "" when it is. Built only
// when the view changes: the age changes at every evaluation.
func (f *fleet) notFleet(v *fleetView, view View, age time.Duration) string {
	switch {
	case view == ViewFleet:
		return ""
	case v.sums != nil:
		reason := fmt.Sprintf("the latest fleet view is %v old, older than %v", age.Round(time.Second), f.p.MaxAge)
		if v.reason != "" {
			reason += "; " + v.reason
		}
		return reason
	case v.reason == "":
		return "no fleet view yet"
	}
	return v.reason
}

// logOwn logs the events about the engine's own state: snapshots and
// views.
func (e *Engine) logOwn(ctx context.Context, ev Event) {
	level, msg := slog.LevelInfo, ""
	switch ev.Kind {
	case SnapshotRestored:
		msg = "sloguard: snapshot restored"
	case SnapshotRefused:
		level, msg = slog.LevelWarn, "sloguard: snapshot refused"
	case SnapshotFailed:
		level, msg = slog.LevelError, "sloguard: saving the snapshot failed"
	case SnapshotRecovered:
		msg = "sloguard: snapshot saved again"
	case ViewChanged:
		msg = "sloguard: view changed"
		if ev.FromView == ViewFleet {
			level = slog.LevelWarn
		}
		e.logger.LogAttrs(ctx, level, msg,
			slog.String("objective", ev.Objective),
			slog.String("from", ev.FromView.String()),
			slog.String("to", ev.ToView.String()),
			slog.String("reason", ev.Reason),
		)
		return
	}
	attrs := []slog.Attr{slog.String("reason", ev.Reason)}
	if ev.Objective != "" {
		attrs = append(attrs, slog.String("objective", ev.Objective))
	}
	e.logger.LogAttrs(ctx, level, msg, attrs...)
}
