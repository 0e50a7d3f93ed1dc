package statuspage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// TestBuildViews: the document and the page say which view each
// objective's figures come from, how old they are, and this replica's own
// budget beside the fleet's.
func TestBuildViews(t *testing.T) {
	known := func(good, bad uint64, target float64) budget.Report {
		return budget.Report{State: budget.StateOK, Period: budget.Counts{Good: good, Bad: bad},
			Remaining: budget.Remaining(bad, good+bad, target), TimeToExhaustion: budget.Never}
	}
	st := &slo.Status{Time: start, Objectives: []slo.ObjectiveStatus{
		{
			Objective: slo.Objective{Name: "fleet", Target: 0.99}, View: slo.ViewFleet, ViewTime: start.Add(-12 * time.Second),
			Report: known(99000, 500, 0.99), Local: budget.Report{State: budget.StateUnknown, Remaining: 1},
		},
		{
			Objective: slo.Objective{Name: "restored", Target: 0.99}, View: slo.ViewRestored, ViewTime: start.Add(-3 * time.Hour),
			Report: known(100, 0, 0.99), Local: known(100, 0, 0.99),
		},
		{Objective: slo.Objective{Name: "local", Target: 0.99}, Report: known(1, 0, 0.99), Local: known(1, 0, 0.99)},
	}}
	doc := newDocument(st, []slo.Event{{Time: start, Kind: slo.ViewChanged, Objective: "fleet", FromView: slo.ViewLocal, ToView: slo.ViewFleet}})
	type row struct {
		view string
		age  *float64
		loc  bool
	}
	want := []row{{"fleet", ptr(12.0), true}, {"restored", ptr(3 * 3600.0), false}, {"local", nil, false}}
	for i, o := range doc.Objectives {
		w := want[i]
		if o.View != w.view || (o.ViewAgeS == nil) != (w.age == nil) || o.ViewAgeS != nil && *o.ViewAgeS != *w.age || (o.Local != nil) != w.loc {
			t.Errorf("objective %s: view %q, age %v, local %+v, want %q, %v, local %v", o.Name, o.View, o.ViewAgeS, o.Local, w.view, w.age, w.loc)
		}
	}
	if l := doc.Objectives[0].Local; l == nil || l.State != "unknown" || l.Remaining != nil {
		t.Errorf("fleet objective's Local = %+v, want unknown with no remaining", l)
	}
	if e := doc.Events[0]; e.Kind != "view_changed" || e.From != "local" || e.To != "fleet" {
		t.Errorf("view event = %+v, want view_changed local → fleet", e)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"view":"fleet"`, `"view_age_s":12`, `"view":"local","view_age_s":null`, `"local":{"state":"unknown","remaining":null`} {
		if !bytes.Contains(js, []byte(s)) {
			t.Errorf("JSON lacks %s:\n%s", s, js)
		}
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, newPage("t", doc)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fleet, read 12s ago", "this replica alone: ? unknown", "this replica, with a snapshot taken 3h ago", "this replica since it started"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("page lacks %q", s)
		}
	}
}
