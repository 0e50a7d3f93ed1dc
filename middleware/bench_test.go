package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sloguard/sloguard/middleware"
)

// BenchmarkServer measures one request through a ServeMux, bare and wrapped
// with an availability and a latency objective on the route.
func BenchmarkServer(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", status(http.StatusOK))
	mw := newServer(b, newEngine(b),
		middleware.WithRoute("GET /items/{id}", checkoutAvail, checkoutLatency),
	)
	for _, bm := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", mux},
		{"sloguard", mw.Wrap(mux)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/items/42", nil)
				for b.Loop() {
					bm.h.ServeHTTP(rec, req)
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					// The mux writes into the request, so one each.
					rec := httptest.NewRecorder()
					req := httptest.NewRequest("GET", "/items/42", nil)
					for pb.Next() {
						bm.h.ServeHTTP(rec, req)
					}
				})
			})
		})
	}
}
