// Quickstart runs an HTTP service on 127.0.0.1 with two objectives, sends
// it traffic, breaks it for a while and prints its error budget and states
// as they change; then it asks the status page for the release verdict and
// stops. Copy this file into a module of your own, or run it here with
// "go run ./examples/quickstart [-duration 30s]". Time is compressed: the
// period is one hour standing for 30 days (see README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage"
)

func main() {
	d := flag.Duration("duration", 30*time.Second, "how long to run: a third healthy, a third outage, a third recovery")
	flag.Parse()
	if err := run(*d, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// objectives are 99.9% of requests without a 5xx and 99% within 100ms, with
// two of The Site Reliability Workbook's rules for 30 days (page 6h & 30m,
// ticket 1d & 2h) shrunk 720 times, which keeps their thresholds.
func objectives() []slo.Objective {
	rules := []budget.Rule{
		{Severity: budget.Page, Long: 30 * time.Second, BudgetFraction: 0.05},
		{Severity: budget.Ticket, Long: 2 * time.Minute, BudgetFraction: 0.10},
	}
	return []slo.Objective{
		{Name: "availability", Target: 0.999, Period: time.Hour, Rules: rules, MinEvents: 20},
		{Name: "latency", Target: 0.99, Latency: 100 * time.Millisecond, Period: time.Hour, Rules: rules, MinEvents: 20},
	}
}

// run runs the service for d and writes what happens to out.
func run(d time.Duration, out io.Writer) error {
	var mu sync.Mutex // serialises the engine's events and the status lines
	say := func(format string, args ...any) { mu.Lock(); fmt.Fprintf(out, format, args...); mu.Unlock() }
	start := time.Now()
	eng, err := slo.New(objectives(), slo.WithInterval(250*time.Millisecond),
		slo.WithLogger(slog.New(slog.DiscardHandler)), // the handler below prints the events
		slo.WithEventHandler(func(ev slo.Event) {
			if ev.Time.After(start) { // not the history below
				say("%5.1fs  ▶ %s\n", ev.Time.Sub(start).Seconds(), ev)
			}
		}))
	if err != nil {
		return err
	}
	defer eng.Close()
	// An hour of history, as a running service has: else the outage spends a few seconds' budget.
	avail, _ := eng.Recorder("availability") // New checked that both exist
	lat, _ := eng.Recorder("latency")
	for i := 3600; i > 0; i-- {
		for range 200 {
			avail.Record(budget.Good, time.Millisecond)
			lat.Record(budget.Good, time.Millisecond)
		}
		eng.Tick(start.Add(-time.Duration(i-1) * time.Second))
	}

	// The service: during the outage, 20% of requests fail, 20% are slow.
	var outage atomic.Bool
	app := http.NewServeMux()
	app.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if p := rand.Float64(); outage.Load() && p < 0.2 {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		} else if outage.Load() && p < 0.4 {
			time.Sleep(150 * time.Millisecond)
		}
		fmt.Fprintf(w, "item %s\n", r.PathValue("id"))
	})
	mw, err := middleware.NewServer(eng, middleware.WithRoute("GET /items/{id}", "availability", "latency"))
	page, err2 := statuspage.New(eng)
	if err := errors.Join(err, err2); err != nil {
		return err
	}
	app.Handle("/status/", http.StripPrefix("/status", page)) // no route of mw: not counted
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mw.Wrap(app), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	if err := eng.Start(); err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	say("service on %s, status page on %s/status/\n", base, base)

	// Load: 8 clients, 200 requests a second in all, until d is over.
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	defer http.DefaultClient.CloseIdleConnections()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for tick := time.NewTicker(40 * time.Millisecond); ctx.Err() == nil; <-tick.C {
				if res, err := http.Get(fmt.Sprintf("%s/items/%d", base, rand.IntN(100))); err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			}
		})
	}
	// Every second, the budget and state of each objective.
	for tick := time.NewTicker(time.Second); ctx.Err() == nil; <-tick.C {
		el := time.Since(start)
		if on := el > d/3 && el < 2*d/3; on != outage.Swap(on) {
			say("%5.1fs  ── outage %v\n", el.Seconds(), map[bool]string{true: "begins", false: "ends"}[on])
		}
		line := fmt.Sprintf("%5.1fs ", el.Seconds())
		for _, o := range eng.Status().Objectives {
			line += fmt.Sprintf("  %s %-9s budget %6.1f%%", o.Objective.Name, o.Report.State, o.Report.Remaining*100)
		}
		say("%s\n", line)
	}
	wg.Wait()

	// The release gate a deployment pipeline would ask.
	res, err := http.Get(base + "/status/release")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	say("GET /status/release: %s\n%s", res.Status, body)
	return err
}
