package statuspage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// TestScale checks the scale signal in the document and on the page:
// null while unknown, then the Status's numbers.
func TestScale(t *testing.T) {
	eng := newEngine(t)
	eng.Tick(start)
	doc := Build(eng)
	raw, err := json.Marshal(doc.Scale)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"known":false,"need":null,"capacity_rps":null,"saturated":false}`; string(raw) != want {
		t.Errorf("Build().Scale before traffic = %s, want %s", raw, want)
	}
	if html := render(t, "shop", doc); !strings.Contains(html, "Scale signal: not known yet") {
		t.Errorf("page before traffic does not say the scale signal is unknown")
	}

	r, err := eng.Route(slo.Sheddable, checkout)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		for range 40 {
			tk, _, ok := r.Admit(slo.Sheddable)
			if !ok {
				t.Fatal("Admit rejected a request on an idle service")
			}
			tk.Done(budget.Good)
		}
		eng.Tick(start.Add(time.Duration(i) * time.Second))
	}
	st := eng.Status().Scale
	doc = Build(eng)
	sc := doc.Scale
	if !sc.Known || sc.Need == nil || *sc.Need != st.Need || sc.CapacityRPS == nil || *sc.CapacityRPS != st.Capacity ||
		sc.DemandRPS["SHEDDABLE"] != st.Demand[slo.Sheddable.Index()] || sc.ServedRPS["SHEDDABLE"] != st.Served[slo.Sheddable.Index()] {
		t.Errorf("Build().Scale = %+v, want the numbers of %+v", sc, st)
	}
	html := render(t, "shop", doc)
	for _, want := range []string{"Scale signal: needs 1.00× its capacity (demand 40/s, capacity 40/s)", "<td class=\"num\">40</td>"} {
		if !strings.Contains(html, want) {
			t.Errorf("page does not contain %q", want)
		}
	}
}
