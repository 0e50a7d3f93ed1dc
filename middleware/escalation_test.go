package middleware_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// TestReverseProxyCriticality chains real servers over loopback: an
// anonymous client sends CRITICAL_PLUS to a front end that does not trust
// it, a Server around an httputil.ReverseProxy whose transport is a
// Transport; the proxy copies the client's headers to a back end whose
// Server trusts the front end. What arrives must come from the front end's
// own judgement (its route's criticality), never from the client.
func TestReverseProxyCriticality(t *testing.T) {
	eng := newDepEngine(t)
	backend := httptest.NewServer(newServer(t, eng,
		middleware.WithDefault(serviceAvail),
		middleware.WithTrustedCriticality(func(*http.Request) bool { return true }), // the front end is ours
	).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := "none"
		if v, ok := slo.CriticalityFrom(r.Context()); ok {
			c = v.String()
		}
		fmt.Fprintf(w, "ctx=%s header=%s", c, strings.Join(r.Header.Values(middleware.CriticalityHeader), ","))
	})))
	t.Cleanup(backend.Close)
	target, _ := url.Parse(backend.URL)

	proxy := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: newTransport(t, eng, backend.Client().Transport),
	}
	mux := http.NewServeMux()
	mux.Handle("GET /browse/", proxy)
	mux.Handle("GET /vip/", proxy)
	mux.Handle("/", proxy)
	frontend := httptest.NewServer(newServer(t, eng, // trusts nobody
		middleware.WithDefault(serviceAvail),
		middleware.WithRouteCriticality("GET /browse/", slo.Sheddable),
		middleware.WithRouteCriticality("GET /vip/", slo.CriticalPlus),
	).Wrap(mux))
	t.Cleanup(frontend.Close)

	tests := []struct {
		path   string
		header []string // the anonymous client's
		want   string   // what the back end saw
	}{
		{"/other", []string{"CRITICAL_PLUS"}, "ctx=none header="},
		{"/other", []string{"CRITICAL_PLUS", "CRITICAL"}, "ctx=none header="},
		{"/browse/1", []string{"CRITICAL_PLUS"}, "ctx=SHEDDABLE header=SHEDDABLE"},
		{"/browse/1", nil, "ctx=SHEDDABLE header=SHEDDABLE"},
		{"/vip/1", []string{"SHEDDABLE"}, "ctx=CRITICAL_PLUS header=CRITICAL_PLUS"},
		{"/other", nil, "ctx=none header="},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", frontend.URL+tt.path, nil)
		for _, v := range tt.header {
			req.Header.Add(middleware.CriticalityHeader, v)
		}
		resp, err := frontend.Client().Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(body); resp.StatusCode != http.StatusOK || got != tt.want {
			t.Errorf("GET %s with %s %q: back end saw %d %q, want 200 %q", tt.path, middleware.CriticalityHeader, tt.header, resp.StatusCode, got, tt.want)
		}
	}
}
