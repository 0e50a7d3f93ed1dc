package main

import (
	"encoding/json"
	"io"
	"math"
	"slices"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The targets for the run with sloguard, at the spike.
const (
	targetCritical  = 0.999       // CRITICAL success ratio
	targetGoodput   = 0.90        // goodput over capacity
	targetP99Factor = 2.0         // admitted p99 over unloaded p99
	targetShedStart = time.Second // from the load first exceeding capacity to shedding
	targetShedEnd   = 30 * time.Second
)

// comparison is the outcome of both runs: the JSON of -json.
type comparison struct {
	Without runReport `json:"without"`
	With    runReport `json:"with"`
}

// runReport sums up one run. The headline numbers are those of the spike,
// where the targets apply; unloaded latency is the steady phase's, budgets
// cover the whole run, and Phases has every phase.
type runReport struct {
	// CapacityRPS is what the database can serve: connections divided by
	// the mean connection hold time measured at the spike.
	CapacityRPS float64 `json:"capacity_rps"`
	// GoodputRPS counts the spike's requests answered with a 2xx within
	// 250ms, per second of the spike.
	GoodputRPS float64 `json:"goodput_rps"`
	// SuccessRatio is the share of the spike's requests answered with a
	// 2xx, by criticality.
	SuccessRatio map[string]float64 `json:"success_ratio"`
	// Latency of the spike's admitted requests (not shed, whatever their
	// answer), and of the steady phase's.
	AdmittedP50MS float64 `json:"admitted_p50_ms"`
	AdmittedP99MS float64 `json:"admitted_p99_ms"`
	UnloadedP99MS float64 `json:"unloaded_p99_ms"`
	// BudgetConsumed is the share of each objective's 30-day error budget
	// that the run spent, taking the base rate as the month's traffic.
	BudgetConsumed map[string]float64 `json:"budget_consumed"`
	// Reaction times in seconds, null when it did not happen: from the
	// spike's start to the first shed level above 0, from the spike's end
	// to the level back at 0, and from the outage's start to the payments
	// breaker's opening and from its end to the breaker closed again.
	ShedReactionS      *float64 `json:"shed_reaction_s"`
	ShedReleaseS       *float64 `json:"shed_release_s"`
	BreakerReactionS   *float64 `json:"breaker_reaction_s"`
	BreakerRecoveryS   *float64 `json:"breaker_recovery_s"`
	ShedRequests       int      `json:"shed_requests"`
	Phases             phases   `json:"phases"`
	MeanHoldMS         float64  `json:"mean_hold_ms"`
	NominalCapacityRPS float64  `json:"nominal_capacity_rps"`
}

type phases struct {
	Steady   phaseReport `json:"steady"`
	Spike    phaseReport `json:"spike"`
	Outage   phaseReport `json:"outage"`
	Recovery phaseReport `json:"recovery"`
}

func (p *phases) at(ph phase) *phaseReport {
	return [...]*phaseReport{&p.Steady, &p.Spike, &p.Outage, &p.Recovery}[ph]
}

// phaseReport sums up the requests sent in one phase.
type phaseReport struct {
	OfferedRPS    float64            `json:"offered_rps"`
	GoodputRPS    float64            `json:"goodput_rps"`
	SuccessRatio  map[string]float64 `json:"success_ratio"`
	AdmittedP50MS float64            `json:"admitted_p50_ms"`
	AdmittedP99MS float64            `json:"admitted_p99_ms"`
}

// phaseStats counts the requests sent in one phase.
type phaseStats struct {
	seconds     float64
	offered, ok [numRoutes]int
	good        int
	admitted    []time.Duration // latencies, sorted
}

func statsOf(reqs []request, sc *scenario, p phase) phaseStats {
	st := phaseStats{seconds: (sc.ends(p) - sc.begins(p)).Seconds()}
	for _, q := range reqs {
		if q.result == cancelled || sc.phaseOf(q) != p {
			continue
		}
		st.offered[q.route]++
		if q.result == ok {
			st.ok[q.route]++
		}
		if q.good() {
			st.good++
		}
		if q.admitted() {
			st.admitted = append(st.admitted, q.latency)
		}
	}
	slices.Sort(st.admitted)
	return st
}

func (st phaseStats) report() phaseReport {
	if st.seconds == 0 {
		return phaseReport{SuccessRatio: map[string]float64{}} // a phase of no length: -outage 0
	}
	r := phaseReport{
		GoodputRPS:    round(float64(st.good)/st.seconds, 1),
		SuccessRatio:  map[string]float64{},
		AdmittedP50MS: ms(percentile(st.admitted, 0.50)),
		AdmittedP99MS: ms(percentile(st.admitted, 0.99)),
	}
	var offered int
	for rt := range numRoutes {
		offered += st.offered[rt]
		if st.offered[rt] > 0 {
			r.SuccessRatio[rt.criticality().String()] = round(float64(st.ok[rt])/float64(st.offered[rt]), 5)
		}
	}
	r.OfferedRPS = round(float64(offered)/st.seconds, 1)
	return r
}

// percentile returns the nearest-rank p-quantile (0 < p ≤ 1) of sorted
// latencies: the smallest value that at least p of them do not exceed. It
// is 0 for no latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms converts d to milliseconds with a tenth of a millisecond's precision.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e5) / 10 }

// steadyRate returns the base rate of the events of an objective: each
// checkout is one event of the checkout objectives and one payments call.
func steadyRate(cfg config, o slo.Objective) float64 {
	if o.Name == browseAvailability || o.Name == browseLatency {
		return cfg.RPS * (1 - checkoutShare)
	}
	return cfg.RPS * checkoutShare
}

// consumed returns the share of an objective's error budget over its
// period that counts c spent, when the period's traffic is the base rate:
// bad events (shed ones included, as sloguard reports them) over the bad
// events a period of base traffic allows.
func consumed(cfg config, o slo.Objective, c budget.Counts) float64 {
	allowed := (1 - o.Target) * steadyRate(cfg, o) * o.Spec().Period.Seconds()
	return float64(c.Bad+c.Shed) / allowed
}

// shedReaction returns the time from the moment the offered load first
// exceeds capacity (requests per second) to the first request shed (429)
// during the spike: 0 if shedding started before, nil if nothing was shed
// then or the load never exceeded capacity.
func shedReaction(reqs []request, sc *scenario, capacity float64) *float64 {
	over, ok := sc.overloadAt(capacity)
	if !ok {
		return nil
	}
	first := time.Duration(-1)
	for _, q := range reqs {
		if q.result == shed && q.sent >= sc.begins(spike) && q.sent < sc.ends(spike) && (first < 0 || q.sent < first) {
			first = q.sent
		}
	}
	if first < 0 {
		return nil
	}
	return seconds(max(first-over, 0))
}

// shedRelease returns how long after the spike's end shedding went on: the
// time to the last request shed (429) of the run of sheds that follows the
// end with no second free of them; 0 if none followed, nil if nothing was
// shed during the spike.
func shedRelease(reqs []request, sc *scenario) *float64 {
	var during bool
	var after []time.Duration
	for _, q := range reqs {
		switch {
		case q.result != shed:
		case q.sent >= sc.ends(spike):
			after = append(after, q.sent)
		case q.sent >= sc.begins(spike):
			during = true
		}
	}
	if !during {
		return nil
	}
	slices.Sort(after)
	last := sc.ends(spike)
	for _, t := range after {
		if t-last > time.Second {
			break
		}
		last = t
	}
	return seconds(last - sc.ends(spike))
}

// breakerChange returns the time from offset at to the first change of the
// payments breaker to state to, or nil if there was none.
func breakerChange(evs []slo.Event, sc *scenario, at time.Duration, to slo.BreakerState) *float64 {
	t := sc.start.Add(at)
	for _, ev := range evs {
		if ev.Kind == slo.BreakerChanged && ev.BreakerTo == to && !ev.Time.Before(t) {
			return seconds(ev.Time.Sub(t))
		}
	}
	return nil
}

func seconds(d time.Duration) *float64 {
	s := math.Round(d.Seconds()*100) / 100
	return &s
}

// report sums up one run.
func report(cfg config, r *runResult) runReport {
	rep := runReport{
		BudgetConsumed:     map[string]float64{},
		ShedReactionS:      shedReaction(r.reqs, r.sc, cfg.capacity()),
		ShedReleaseS:       shedRelease(r.reqs, r.sc),
		BreakerReactionS:   breakerChange(r.events, r.sc, r.sc.begins(outage), slo.BreakerOpen),
		BreakerRecoveryS:   breakerChange(r.events, r.sc, r.sc.ends(outage), slo.BreakerClosed),
		NominalCapacityRPS: round(cfg.capacity(), 1),
	}
	for p := range numPhases {
		*rep.Phases.at(p) = statsOf(r.reqs, r.sc, p).report()
	}
	if h := r.holds[spike]; h > 0 {
		rep.MeanHoldMS = ms(h)
		rep.CapacityRPS = round(float64(r.conns)/h.Seconds(), 1)
	}
	sp := rep.Phases.Spike
	rep.GoodputRPS = round(sp.GoodputRPS, 1)
	rep.SuccessRatio = sp.SuccessRatio
	rep.AdmittedP50MS, rep.AdmittedP99MS = sp.AdmittedP50MS, sp.AdmittedP99MS
	rep.UnloadedP99MS = rep.Phases.Steady.AdmittedP99MS
	for _, o := range r.final.Objectives {
		rep.BudgetConsumed[o.Objective.Name] = round(consumed(cfg, o.Objective, o.Totals), 6)
	}
	for _, q := range r.reqs {
		if q.result == shed {
			rep.ShedRequests++
		}
	}
	return rep
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func compare(cfg config, runs [2]*runResult) comparison {
	return comparison{Without: report(cfg, runs[without]), With: report(cfg, runs[with])}
}

// target is one of the targets, checked on the run with sloguard.
type target struct {
	name string
	want string // the target, e.g. "≥ 99.9%"
	met  bool
}

// targets checks the run with sloguard against the targets.
func targets(r runReport) []target {
	p99 := targetP99Factor * r.UnloadedP99MS
	within := func(v *float64, d time.Duration) bool { return v != nil && *v <= d.Seconds() }
	return []target{
		{"critical", "≥ " + pct(targetCritical), r.SuccessRatio[slo.Critical.String()] >= targetCritical},
		{"goodput", "≥ " + pct(targetGoodput) + " of capacity", r.GoodputRPS >= targetGoodput*r.CapacityRPS},
		{"p99", "≤ 2 × unloaded p99", r.AdmittedP99MS <= p99},
		{"shed start", "≤ " + targetShedStart.String(), within(r.ShedReactionS, targetShedStart)},
		{"shed end", "≤ " + targetShedEnd.String(), within(r.ShedReleaseS, targetShedEnd)},
	}
}

func writeJSON(w io.Writer, c any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}
