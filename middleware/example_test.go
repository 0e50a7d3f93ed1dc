package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

func ExampleWithRouteCriticality() {
	eng, err := slo.New([]slo.Objective{{Name: "service-availability", Target: 0.99}},
		slo.WithShedding(slo.ShedPolicy{}), // the defaults
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /recommendations", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "you may also like")
	})
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mw, err := middleware.NewServer(eng,
		middleware.WithRouteCriticality("GET /recommendations", slo.Sheddable),
		middleware.WithDefault("service-availability"),
	)
	if err != nil {
		log.Fatal(err)
	}
	h := mw.Wrap(mux)

	// An overload that the concurrency gate can not see: every request
	// fails at once. A started engine evaluates by itself; here, by hand.
	// Each evaluation at which admitted traffic still burns moves the shed
	// level up half a band: SHEDDABLE goes first.
	start := time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		for range 50 {
			eng.Record("service-availability", slo.Bad, 10*time.Millisecond)
		}
		eng.Tick(start.Add(time.Duration(i) * time.Second))
	}
	fmt.Println("shed level:", eng.Status().Shedding.Level)

	for _, r := range []struct{ method, target string }{
		{"GET", "/recommendations"},
		{"POST", "/checkout"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.method, r.target, nil))
		fmt.Printf("%s %s: %d %q, Retry-After %q\n", r.method, r.target, rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
	}
	// Output:
	// shed level: 1.5
	// GET /recommendations: 429 "Too Many Requests\n", Retry-After "8"
	// POST /checkout: 201 "", Retry-After ""
}

func ExampleNewTransport() {
	eng, err := slo.New([]slo.Objective{
		{Name: "payments-availability", Target: 0.99, Dependency: "payments"},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	// The payments service, which fails while down.
	var down atomic.Bool
	payments := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "database unreachable", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "charged (%s)", r.Header.Get(middleware.CriticalityHeader))
	}))
	defer payments.Close()

	tr, err := middleware.NewTransport(eng, "payments", payments.Client().Transport)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: tr}

	// The checkout handler calls payments, passing its request's
	// criticality on.
	checkout := func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "POST", payments.URL+"/charges", nil)
		resp, err := client.Do(req)
		if err != nil {
			middleware.WriteError(w, err) // 503 while the breaker is open
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			http.Error(w, http.StatusText(http.StatusBadGateway), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
	}
	call := func() {
		req := httptest.NewRequest("POST", "/checkout", nil)
		req = req.WithContext(slo.WithCriticality(context.Background(), slo.CriticalPlus))
		rec := httptest.NewRecorder()
		checkout(rec, req)
		fmt.Printf("checkout: %d %s\n", rec.Code, strings.TrimSpace(rec.Body.String()))
	}

	call()
	down.Store(true)
	for range 5 { // five failures in a row open the breaker
		call()
	}
	call() // fails fast: payments is not called

	_, err = client.Get(payments.URL)
	fmt.Println("breaker open:", errors.Is(err, slo.ErrBreakerOpen))

	eng.Tick(time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC))
	o := eng.Status().Objectives[0]
	fmt.Printf("%s: good %d, bad %d, shed %d\n", o.Objective.Name, o.Totals.Good, o.Totals.Bad, o.Totals.Shed)
	// Output:
	// checkout: 200 charged (CRITICAL_PLUS)
	// checkout: 502 Bad Gateway
	// checkout: 502 Bad Gateway
	// checkout: 502 Bad Gateway
	// checkout: 502 Bad Gateway
	// checkout: 502 Bad Gateway
	// checkout: 503 Service Unavailable
	// breaker open: true
	// payments-availability: good 1, bad 5, shed 2
}
