package middleware_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/middleware"
)

// TestServerEndToEnd serves real HTTP/1.1 requests on loopback, one of them
// given up by its client before the handler answers. Real time passes here,
// so no latency objective is involved.
func TestServerEndToEnd(t *testing.T) {
	eng := newEngine(t)
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("card") == "expired" {
			http.Error(w, "payment backend unavailable", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /slow", func(_ http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // the client gives up
	})
	inner := newServer(t, eng,
		middleware.WithRoute("GET /items/{id}", browseAvail),
		middleware.WithRoute("POST /checkout", checkoutAvail),
		middleware.WithRoute("GET /slow", browseAvail),
		middleware.WithDefault(serviceAvail),
	).Wrap(mux)
	// recorded receives after each request was recorded: the client may
	// read a response before the handler returns.
	recorded := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		recorded <- struct{}{}
	}))
	defer ts.Close()
	client := ts.Client()

	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/items/1", http.StatusOK, "item 1"},
		{"GET", "/items/2", http.StatusOK, "item 2"},
		{"POST", "/checkout", http.StatusCreated, ""},
		{"POST", "/checkout?card=expired", http.StatusBadGateway, "payment backend unavailable\n"},
		{"GET", "/nowhere", http.StatusNotFound, "404 page not found\n"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, ts.URL+tt.path, strings.NewReader(""))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || string(body) != tt.body || err != nil {
			t.Errorf("%s %s = %d %q (%v), want %d %q", tt.method, tt.path, resp.StatusCode, body, err, tt.code, tt.body)
		}
		<-recorded
	}

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/slow", nil)
	if resp, err := client.Do(req); !errors.Is(err, context.Canceled) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("GET /slow with a canceled context: error = %v, want context.Canceled", err)
	}
	<-recorded

	checkTotals(t, eng, map[string]tally{
		browseAvail:   {Good: 2, Neutral: 1},
		checkoutAvail: {Good: 1, Bad: 1},
		serviceAvail:  {Good: 1},
	})
}
