package middleware_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/slo"
)

// BenchmarkServer measures one request through a ServeMux, bare and wrapped
// with an availability and a latency objective on the route; then with
// admission configured (route criticalities, a trust func: the route is
// looked up before serving, so the mux routes it twice) while nothing is
// shed; and while the engine sheds at level 1.5, a CRITICAL request and a
// SHEDDABLE one (answered 429). The request's route has no criticality of
// its own, so its context is not copied.
func BenchmarkServer(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", status(http.StatusOK))
	mux.HandleFunc("GET /recommendations/{id}", status(http.StatusOK))
	routes := []middleware.Option{
		middleware.WithRoute("GET /items/{id}", checkoutAvail, checkoutLatency),
	}
	admission := append(routes,
		middleware.WithRoute("GET /recommendations/{id}", browseAvail),
		middleware.WithRouteCriticality("GET /recommendations/{id}", slo.Sheddable),
		middleware.WithTrustedCriticality(func(*http.Request) bool { return true }),
	)
	shedding := newServer(b, newShedEngine(b, 1.5), admission...).Wrap(mux)
	for _, bm := range []struct {
		name   string
		h      http.Handler
		target string
	}{
		{"bare", mux, "/items/42"},
		{"sloguard", newServer(b, newEngine(b), routes...).Wrap(mux), "/items/42"},
		{"admission/shedding-off", newServer(b, newEngine(b), admission...).Wrap(mux), "/items/42"},
		{"admission/level-0", newServer(b, newShedEngine(b, 0), admission...).Wrap(mux), "/items/42"},
		{"admission/level-1.5/admitted", shedding, "/items/42"},
		{"admission/level-1.5/rejected", shedding, "/recommendations/42"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", bm.target, nil)
				for b.Loop() {
					bm.h.ServeHTTP(rec, req)
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					// The mux writes into the request, so one each.
					rec := httptest.NewRecorder()
					req := httptest.NewRequest("GET", bm.target, nil)
					for pb.Next() {
						bm.h.ServeHTTP(rec, req)
					}
				})
			})
		})
	}
}

// BenchmarkTransport measures one call through a Transport over a base
// RoundTripper that answers at once: the breaker and the recording.
func BenchmarkTransport(b *testing.B) {
	eng := newDepEngine(b)
	tr := newTransport(b, eng, okTransport{}, middleware.WithRetries(2, 10))
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		req := httptest.NewRequest("GET", "http://payments.internal/charges", nil)
		for b.Loop() {
			if _, err := tr.RoundTrip(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req := httptest.NewRequest("GET", "http://payments.internal/charges", nil)
			for pb.Next() {
				if _, err := tr.RoundTrip(req); err != nil && !errors.Is(err, slo.ErrBreakerOpen) {
					b.Fatal(err)
				}
			}
		})
	})
}

// okTransport answers every request with a shared 200 response.
type okTransport struct{}

var okResponse = &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(""))}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) { return okResponse, nil }
