package middleware_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

func ExampleNewServer() {
	eng, err := slo.New([]slo.Objective{
		{Name: "checkout-availability", Target: 0.999},
		{Name: "browse-availability", Target: 0.99},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()), // an application passes its own
	)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("card") == "expired" {
			http.Error(w, "payment backend unavailable", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s", r.PathValue("id"))
	})

	mw, err := middleware.NewServer(eng,
		middleware.WithRoute("POST /checkout", "checkout-availability"),
		middleware.WithRoute("GET /items/{id}", "browse-availability"),
	)
	if err != nil {
		log.Fatal(err)
	}
	h := mw.Wrap(mux)

	for _, r := range []struct{ method, target string }{
		{"GET", "/items/1"},
		{"GET", "/items/2"},
		{"GET", "/items/3"},
		{"POST", "/checkout"},
		{"POST", "/checkout?card=expired"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.target, nil))
	}

	// A started engine evaluates about once a second; here, once by hand.
	eng.Tick(time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC))
	for _, o := range eng.Status().Objectives {
		fmt.Printf("%s: good %d, bad %d\n", o.Objective.Name, o.Totals.Good, o.Totals.Bad)
	}
	// Output:
	// checkout-availability: good 1, bad 1
	// browse-availability: good 3, bad 0
}
