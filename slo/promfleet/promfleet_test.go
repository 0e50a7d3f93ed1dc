package promfleet_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/promfleet"
)

// The end-to-end test against a real Prometheus is in internal/integration;
// these tests check what is sent and how answers are read, against a
// server that answers as the Prometheus HTTP API documents.

type request struct {
	query, time, tenant string
}

func fakeAPI(t *testing.T, answer func(query string) (status int, body string)) (*httptest.Server, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var reqs []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm = %v", err)
		}
		if r.URL.Path != "/prefix/api/v1/query" {
			t.Errorf("request to %s, want /prefix/api/v1/query", r.URL.Path)
		}
		q := r.Form.Get("query")
		mu.Lock()
		reqs = append(reqs, request{query: q, time: r.Form.Get("time"), tenant: r.Header.Get("X-Scope-OrgID")})
		mu.Unlock()
		status, body := answer(q)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request { mu.Lock(); defer mu.Unlock(); return append([]request(nil), reqs...) }
}

func vector(samples ...string) string {
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(samples, ",") + `]}}`
}

func sample(objective, outcome, value string) string {
	return fmt.Sprintf(`{"metric":{"objective":%q,"outcome":%q},"value":[1764900000,%q]}`, objective, outcome, value)
}

func TestRead(t *testing.T) {
	srv, reqs := fakeAPI(t, func(q string) (int, string) {
		if strings.Contains(q, "[5m]") {
			return 200, vector(sample("checkout.availability", "good", "990.5"), sample("checkout.availability", "bad", "10"),
				sample("checkout.availability", "shed", "NaN"), sample("other", "bad", "7"))
		}
		return 200, vector(sample("checkout.availability", "good", "5000"), sample("latency", "bad", "3"))
	})
	src, err := promfleet.New(srv.URL+"/prefix", promfleet.WithService("checkout"), promfleet.WithSelector(`namespace=~"shop|store"`),
		promfleet.WithHeader("X-Scope-OrgID", "team-a"))
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	at := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	got, err := src.Read(context.Background(), slo.FleetQuery{Time: at, Objectives: []slo.FleetObjective{
		{Name: "checkout.availability", Windows: []time.Duration{5 * time.Minute, time.Hour}},
		{Name: "latency", Windows: []time.Duration{time.Hour}},
	}})
	if err != nil {
		t.Fatalf("Read = %v", err)
	}
	want := []slo.FleetCounts{
		{Objective: "checkout.availability", Window: 5 * time.Minute, Good: 990.5, Bad: 10},
		{Objective: "checkout.availability", Window: time.Hour, Good: 5000},
		{Objective: "latency", Window: time.Hour, Bad: 3},
	}
	if len(got) != len(want) {
		t.Fatalf("Read = %+v, want %+v", got, want)
	}
	for i := range want {
		g := got[i]
		if g.Objective != want[i].Objective || g.Window != want[i].Window || g.Good != want[i].Good || g.Bad != want[i].Bad {
			t.Errorf("Read()[%d] = %+v, want %+v", i, g, want[i])
		}
	}
	// NaN is passed on for the engine to refuse.
	if g := got[0].Shed; g == g {
		t.Errorf("Read()[0].Shed = %v, want NaN passed on", g)
	}
	rs := reqs()
	wantQueries := []string{
		`sum by (objective, outcome) (increase(sloguard_events_total{objective=~"checkout\\.availability", outcome=~"good|bad|shed", job="checkout", namespace=~"shop|store"}[5m]))`,
		`sum by (objective, outcome) (increase(sloguard_events_total{objective=~"checkout\\.availability|latency", outcome=~"good|bad|shed", job="checkout", namespace=~"shop|store"}[1h]))`,
	}
	if len(rs) != len(wantQueries) {
		t.Fatalf("sent %d queries, want %d: %+v", len(rs), len(wantQueries), rs)
	}
	for i, r := range rs {
		if wantTime := strconv.FormatInt(at.Unix(), 10); r.query != wantQueries[i] || r.tenant != "team-a" || r.time != wantTime {
			t.Errorf("request %d = %+v, want query %s at %s for tenant team-a", i, r, wantQueries[i], wantTime)
		}
	}
}

func TestReadErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"bad query", 400, `{"status":"error","errorType":"bad_data","error":"parse error"}`, "parse error"},
		{"server error", 503, `unavailable`, "503"},
		{"not a vector", 200, `{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`, "want a vector"},
		{"not JSON", 200, `<html>`, "promfleet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeAPI(t, func(string) (int, string) { return tt.status, tt.body })
			src, err := promfleet.New(srv.URL + "/prefix")
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Read(context.Background(), slo.FleetQuery{Time: time.Now(), Objectives: []slo.FleetObjective{{Name: "a", Windows: []time.Duration{time.Hour}}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestReadDeadline: a backend that does not answer ends with the context.
func TestReadDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	src, err := promfleet.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.Read(ctx, slo.FleetQuery{Time: time.Now(), Objectives: []slo.FleetObjective{{Name: "a", Windows: []time.Duration{time.Hour}}}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestNewInvalid(t *testing.T) {
	for _, tt := range []struct {
		name string
		addr string
		opts []promfleet.Option
		want string
	}{
		{"empty address", "", nil, "empty address"},
		{"braces", "http://p", []promfleet.Option{promfleet.WithSelector(`{job="a"}`)}, "not a list of label matchers"},
		{"injection", "http://p", []promfleet.Option{promfleet.WithSelector(`job="a"}[5m])) or vector(1) #`)}, "not a list of label matchers"},
		{"objective", "http://p", []promfleet.Option{promfleet.WithSelector(`objective="x"`)}, "names the objective label"},
		{"instance", "http://p", []promfleet.Option{promfleet.WithSelector(`job="a", instance="b"`)}, "names the instance label"},
		{"metric", "http://p", []promfleet.Option{promfleet.WithMetric("a b")}, "metric name"},
		{"nil rt", "http://p", []promfleet.Option{promfleet.WithRoundTripper(nil)}, "nil RoundTripper"},
		{"nil option", "http://p", []promfleet.Option{nil}, "option 0 is nil"},
		{"header", "http://p", []promfleet.Option{promfleet.WithHeader("", "x")}, "empty header name"},
		{"service", "http://p", []promfleet.Option{promfleet.WithService("")}, "empty service name"},
		{"service label", "http://p", []promfleet.Option{promfleet.WithServiceLabel("service.name")}, "not a Prometheus label name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := promfleet.New(tt.addr, tt.opts...)
			if !errors.Is(err, promfleet.ErrInvalidOption) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want ErrInvalidOption mentioning %q", err, tt.want)
			}
		})
	}
}

// TestQueryRange: any window becomes a PromQL range, such as a calendar
// period's time since its start.
func TestQueryRange(t *testing.T) {
	src, err := promfleet.New("http://p")
	if err != nil {
		t.Fatal(err)
	}
	for w, want := range map[time.Duration]string{
		5 * time.Minute:                          "[5m]",
		30 * 24 * time.Hour:                      "[30d]",
		90*time.Second + 1:                       "[90001ms]",
		25*time.Hour + time.Minute + time.Second: "[90061s]",
		0:                                        "[1ms]",
	} {
		if q := src.Query([]string{"a"}, w); !strings.HasSuffix(q, want+"))") {
			t.Errorf("Query(a, %v) = %s, want the range %s", w, q, want)
		}
	}
}

// TestReadUnreachable: with nothing listening at the address, Read fails
// at once with the connection's error, which the engine counts as a fault
// (its fallback is tested in package slo).
func TestReadUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	src, err := promfleet.New("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Read(context.Background(), slo.FleetQuery{Time: time.Now(), Objectives: []slo.FleetObjective{{Name: "a", Windows: []time.Duration{time.Hour}}}})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "promfleet: sum by") {
		t.Errorf("Read from %s = %v, want connection refused, naming the query", addr, err)
	}
}
