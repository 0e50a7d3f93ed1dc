package statuspage

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

func TestBuild(t *testing.T) {
	eng := newEngine(t)
	now := incident(t, eng, healthy(t, eng, 30))
	st := eng.Status()
	doc := Build(eng)

	if !doc.Time.Equal(now) || !doc.Time.Equal(st.Time) {
		t.Errorf("Build().Time = %v, want %v", doc.Time, now)
	}
	if len(doc.Objectives) != 2 {
		t.Fatalf("Build() has %d objectives, want 2", len(doc.Objectives))
	}

	// The counts follow from the scenario: 30 healthy minutes, then 1100
	// checkouts of which 220 failed.
	want := []struct {
		name, kind, state string
		latencyMS, target float64
		good, bad         uint64
	}{
		{checkout, "availability", "exhausted", 0, 0.999, 30*1000 + 880, 220},
		{search, "latency", "ok", 300, 0.99, 30*498 + 500, 30 * 2},
	}
	for i, w := range want {
		got, os := doc.Objectives[i], st.Objectives[i]
		rep := os.Report
		if got.Name != w.name || got.Kind != w.kind || got.State != w.state || got.LatencyMS != w.latencyMS || got.Target != w.target {
			t.Errorf("objective %d = %s %s %s %vms %v, want %s %s %s %vms %v", i,
				got.Name, got.Kind, got.State, got.LatencyMS, got.Target, w.name, w.kind, w.state, w.latencyMS, w.target)
		}
		if got.Description != os.Objective.Description || got.PeriodS != 30*24*3600 || got.Dependency != "" {
			t.Errorf("%s: description, period, dependency = %q, %v, %q", got.Name, got.Description, got.PeriodS, got.Dependency)
		}
		if got.Good != w.good || got.Bad != w.bad || got.Shed != 0 || got.Neutral != 0 {
			t.Errorf("%s: good, bad, shed, neutral = %d, %d, %d, %d, want %d, %d, 0, 0", got.Name, got.Good, got.Bad, got.Shed, got.Neutral, w.good, w.bad)
		}
		wantRemaining := budget.Remaining(w.bad, w.good+w.bad, w.target)
		if got.Remaining == nil || *got.Remaining != wantRemaining || *got.Remaining != rep.Remaining {
			t.Errorf("%s: remaining = %v, want %v", got.Name, deref(got.Remaining), wantRemaining)
		}
		switch {
		case rep.TimeToExhaustion == budget.Never:
			if got.TimeToExhaustionS != nil {
				t.Errorf("%s: time to exhaustion = %v, want null", got.Name, *got.TimeToExhaustionS)
			}
		case got.TimeToExhaustionS == nil || *got.TimeToExhaustionS != rep.TimeToExhaustion.Seconds():
			t.Errorf("%s: time to exhaustion = %v, want %v", got.Name, deref(got.TimeToExhaustionS), rep.TimeToExhaustion.Seconds())
		}
		if os.ControlKnown != (got.ControlBurn != nil) || got.ControlBurn != nil && *got.ControlBurn != os.ControlBurn {
			t.Errorf("%s: control burn = %v, want %v (known %v)", got.Name, deref(got.ControlBurn), os.ControlBurn, os.ControlKnown)
		}

		windows := []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
		if len(got.Windows) != len(windows) {
			t.Fatalf("%s: %d windows, want %d", got.Name, len(got.Windows), len(windows))
		}
		for j, gw := range got.Windows {
			rw := rep.Windows[j]
			ww := statusjson.Window{Window: windows[j], Good: rw.Counts.Good, Bad: rw.Counts.Bad, Shed: rw.Counts.Shed, Burn: rw.Burn, AdmittedBurn: rw.AdmittedBurn}
			if gw != ww {
				t.Errorf("%s: window %d = %+v, want %+v", got.Name, j, gw, ww)
			}
		}
		rules := []struct{ name, severity, long, short string }{
			{"page-1h", "page", "1h", "5m"}, {"page-6h", "page", "6h", "30m"},
			{"ticket-1d", "ticket", "1d", "2h"}, {"ticket-3d", "ticket", "3d", "6h"},
		}
		if len(got.Rules) != len(rules) {
			t.Fatalf("%s: %d rules, want %d", got.Name, len(got.Rules), len(rules))
		}
		for j, gr := range got.Rules {
			rr := rep.Rules[j]
			wr := statusjson.Rule{Name: rules[j].name, Severity: rules[j].severity, Long: rules[j].long, Short: rules[j].short,
				Threshold: rr.Threshold, LongBurn: rr.LongBurn, ShortBurn: rr.ShortBurn, Firing: rr.Firing}
			if gr != wr {
				t.Errorf("%s: rule %d = %+v, want %+v", got.Name, j, gr, wr)
			}
		}

		hist, err := eng.History(got.Name)
		if err != nil {
			t.Fatal(err)
		}
		// One sample a minute, 12:00 to 12:30; the tick at 12:30:02 is
		// too soon for another.
		if len(got.History) != 31 || len(hist) != 31 {
			t.Fatalf("%s: %d samples, engine %d, want 31", got.Name, len(got.History), len(hist))
		}
		for j, s := range hist {
			ws := statusjson.Sample{Time: s.Time, State: s.State.String(), Remaining: s.Remaining, Burn: s.Burn,
				Good: s.Good, Bad: s.Bad, Shed: s.Shed}
			if got.History[j] != ws {
				t.Errorf("%s: sample %d = %+v, want %+v", got.Name, j, got.History[j], ws)
			}
		}
	}
	// The load history, by criticality name.
	load := eng.LoadHistory()
	if len(doc.Load) != len(load) || len(load) != 31 {
		t.Fatalf("Build().Load has %d samples, engine %d, want 31", len(doc.Load), len(load))
	}
	for j, s := range load {
		want := statusjson.LoadSample{Time: s.Time, Level: s.Level, Admitted: map[string]uint64{}, Rejected: map[string]uint64{}}
		for c := slo.Sheddable; c <= slo.CriticalPlus; c++ {
			want.Admitted[c.String()], want.Rejected[c.String()] = s.Admitted[c.Index()], s.Rejected[c.Index()]
		}
		if !reflect.DeepEqual(doc.Load[j], want) {
			t.Errorf("Build().Load[%d] = %+v, want %+v", j, doc.Load[j], want)
		}
	}
	if r := doc.Objectives[0].Rules[1]; !r.Firing || r.Threshold != 6 {
		t.Errorf("%s page-6h = %+v, want firing at 6", checkout, r)
	}

	wantShed := statusjson.Shed{
		Enabled:  true,
		Level:    st.Shedding.Level,
		Reject:   map[string]float64{"SHEDDABLE": 1, "SHEDDABLE_PLUS": 0, "CRITICAL": 0, "CRITICAL_PLUS": 0},
		Rejected: map[string]uint64{"SHEDDABLE": 0, "SHEDDABLE_PLUS": 0, "CRITICAL": 0, "CRITICAL_PLUS": 0},
	}
	if !reflect.DeepEqual(doc.Shed, wantShed) || doc.Shed.Level != 1 {
		t.Errorf("Build().Shed = %+v, want %+v", doc.Shed, wantShed)
	}
	if len(doc.Breakers) != 0 {
		t.Errorf("Build().Breakers = %+v, want none", doc.Breakers)
	}
	wantGates := []statusjson.Gate{{Name: "recommendations", Enabled: false, Reason: checkout + " is in state exhausted"}}
	if !reflect.DeepEqual(doc.Gates, wantGates) {
		t.Errorf("Build().Gates = %+v, want %+v", doc.Gates, wantGates)
	}
	wantRelease := statusjson.Release{Allowed: false, Frozen: true, Reason: st.Release.Reason, Since: start.Add(30 * time.Minute)}
	if !reflect.DeepEqual(doc.Release, wantRelease) || !strings.HasPrefix(doc.Release.Reason, checkout+" has -") {
		t.Errorf("Build().Release = %+v, want %+v", doc.Release, wantRelease)
	}
	if st.Release.RecoveryTime != budget.Never {
		t.Errorf("Status().Release.RecoveryTime = %v, want Never: the past hour's traffic burns too fast", st.Release.RecoveryTime)
	}

	events := eng.Events()
	if len(doc.Events) != len(events) {
		t.Fatalf("Build() has %d events, want %d", len(doc.Events), len(events))
	}
	for i, ev := range events {
		if got := doc.Events[i]; got.Text != ev.String() || got.Kind != ev.Kind.String() || !got.Time.Equal(ev.Time) {
			t.Errorf("event %d = %s %s %q, want %s %s %q", i, got.Time, got.Kind, got.Text, ev.Time, ev.Kind, ev.String())
		}
	}
	kinds := map[string]int{}
	for _, ev := range doc.Events {
		kinds[ev.Kind]++
	}
	if want := map[string]int{"state_changed": 3, "shed_changed": 1, "freeze_changed": 1, "gate_changed": 1}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("event kinds = %v, want %v", kinds, want)
	}
	if doc.Faults != 0 {
		t.Errorf("Build().Faults = %d, want 0", doc.Faults)
	}

	// What the JSON says is what Build returned.
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("json.Marshal(Build()) = %v", err)
	}
	var back statusjson.Document
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal = %v", err)
	}
	if !reflect.DeepEqual(back, doc) {
		t.Errorf("JSON round trip changed the document:\n got %+v\nwant %+v", back, doc)
	}
}

func TestBuildUnknown(t *testing.T) {
	eng := newEngine(t)
	doc := Build(eng)
	for _, o := range doc.Objectives {
		if o.State != "unknown" || o.Remaining != nil || o.TimeToExhaustionS != nil || o.ControlBurn != nil {
			t.Errorf("%s before any evaluation = %s, %v, %v, %v, want unknown and nulls", o.Name, o.State, o.Remaining, o.TimeToExhaustionS, o.ControlBurn)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"remaining":null`, `"time_to_exhaustion_s":null`, `"control_burn":null`, `"history":[]`, `"events":[]`, `"breakers":[]`, `"windows":[]`, `"rules":[]`, `"recovery_s":null`, `"allowed":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON of an unevaluated engine lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), `"since"`) {
		t.Errorf("JSON of an unfrozen release has a since:\n%s", b)
	}
}

func TestBuildNil(t *testing.T) {
	b, err := json.Marshal(Build(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"objectives":[]`, `"events":[]`, `"gates":[]`, `"allowed":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON of Build(nil) lacks %s:\n%s", want, b)
		}
	}
}

// TestBuildRecovery freezes releases and then serves good traffic for long
// enough that the past hour no longer holds the incident: the budget then
// recovers at that rate, and the recovery estimate is a number.
func TestBuildRecovery(t *testing.T) {
	eng := newEngine(t)
	now := incident(t, eng, healthy(t, eng, 30))
	for range 90 {
		now = now.Add(time.Minute)
		record(t, eng, checkout, budget.Good, 0, 1000)
		eng.Tick(now)
	}
	st := eng.Status()
	rel := Build(eng).Release
	if !rel.Frozen || rel.Allowed {
		t.Fatalf("Build().Release = %+v, want frozen", rel)
	}
	d := st.Release.RecoveryTime
	if d <= 0 || d == budget.Never {
		t.Fatalf("Status().Release.RecoveryTime = %v, want a finite estimate", d)
	}
	if rel.RecoveryS == nil || *rel.RecoveryS != d.Seconds() {
		t.Errorf("Build().Release.RecoveryS = %v, want %v", deref(rel.RecoveryS), d.Seconds())
	}
}

func TestReleaseOf(t *testing.T) {
	since := start
	tests := []struct {
		in   slo.ReleaseStatus
		want statusjson.Release
	}{
		{slo.ReleaseStatus{}, statusjson.Release{Allowed: true}},
		{slo.ReleaseStatus{Frozen: true, Reason: "r", Since: since, RecoveryTime: 2 * time.Hour}, statusjson.Release{Frozen: true, Reason: "r", Since: since, RecoveryS: ptr(7200.0)}},
		{slo.ReleaseStatus{Frozen: true, Reason: "r", Since: since, RecoveryTime: budget.Never}, statusjson.Release{Frozen: true, Reason: "r", Since: since}},
		{slo.ReleaseStatus{Frozen: true, Reason: "x pages", Since: since}, statusjson.Release{Frozen: true, Reason: "x pages", Since: since}},
	}
	for _, tt := range tests {
		if got := releaseOf(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("releaseOf(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestEventOf(t *testing.T) {
	at := start
	tests := []struct {
		in   slo.Event
		want statusjson.Event
	}{
		{
			slo.Event{Time: at, Kind: slo.StateChanged, Objective: "a", From: budget.StateOK, To: budget.StatePage, Remaining: 0.5,
				Burns: []slo.WindowBurn{{Window: 5 * time.Minute, Burn: 20}}},
			statusjson.Event{Time: at, Kind: "state_changed", Objective: "a", From: "ok", To: "page", Remaining: ptr(0.5),
				Burns: []statusjson.Window{{Window: "5m", Burn: 20}}},
		},
		{
			slo.Event{Time: at, Kind: slo.SheddingChanged, FromLevel: 0, Level: 1.25},
			statusjson.Event{Time: at, Kind: "shed_changed", Level: ptr(1.25)},
		},
		{
			slo.Event{Time: at, Kind: slo.BreakerChanged, Dependency: "payments", BreakerFrom: slo.BreakerClosed, BreakerTo: slo.BreakerOpen},
			statusjson.Event{Time: at, Kind: "breaker_changed", Dependency: "payments", From: "closed", To: "open"},
		},
		{
			slo.Event{Time: at, Kind: slo.GateChanged, Gate: "g", Enabled: false, Reason: "why"},
			statusjson.Event{Time: at, Kind: "gate_changed", Gate: "g", Enabled: ptr(false), Reason: "why"},
		},
		{
			slo.Event{Time: at, Kind: slo.FreezeChanged, Frozen: true, Reason: "why"},
			statusjson.Event{Time: at, Kind: "freeze_changed", Frozen: ptr(true), Reason: "why"},
		},
	}
	for _, tt := range tests {
		tt.want.Text = tt.in.String()
		if got := eventOf(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("eventOf(%v) = %+v, want %+v", tt.in.Kind, got, tt.want)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
