package statuspage_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// The example drives the engine with Tick and fixed times instead of Start,
// so that its output is the same on every run.
func Example() {
	eng, err := slo.New([]slo.Objective{
		{Name: "checkout-availability", Target: 0.999},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	page, err := statuspage.New(eng, statuspage.WithTitle("checkout"))
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", page))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// 10,000 checkouts, 20 of them failed: twice the budget of 10.
	checkout, err := eng.Recorder("checkout-availability")
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 10_000 {
		outcome := budget.Good
		if i%500 == 0 {
			outcome = budget.Bad
		}
		checkout.Record(outcome, 0)
	}
	eng.Tick(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))

	// A pipeline asks the release gate: 409 Conflict while frozen.
	res, err := srv.Client().Get(srv.URL + "/status/release")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print(res.Status, "\n", string(body))

	// The sloguard command reads the same document as the page.
	res, err = srv.Client().Get(srv.URL + "/status/status.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	var doc statusjson.Document
	err = json.NewDecoder(res.Body).Decode(&doc)
	res.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	o := doc.Objectives[0]
	fmt.Printf("%s: %s, remaining %.0f%%, %d bad of %d\n", o.Name, o.State, *o.Remaining*100, o.Bad, o.Good+o.Bad)
	// Output:
	// 409 Conflict
	// {
	//   "allowed": false,
	//   "frozen": true,
	//   "reason": "checkout-availability has -100.0% of its budget left, at most 0.0%",
	//   "since": "2025-03-01T12:00:00Z",
	//   "recovery_s": null
	// }
	// checkout-availability: exhausted, remaining -100%, 20 bad of 10000
}
