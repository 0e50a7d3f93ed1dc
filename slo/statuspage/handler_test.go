package statuspage

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

func TestNew(t *testing.T) {
	eng := newEngine(t)
	if _, err := New(eng); err != nil {
		t.Errorf("New(eng) = %v", err)
	}
	if _, err := New(eng, WithTitle("shop"), WithEventLimit(5), WithLogger(slog.New(slog.DiscardHandler))); err != nil {
		t.Errorf("New(eng, options) = %v", err)
	}
	_, err := New(nil, WithTitle(""), WithEventLimit(0), WithLogger(nil), nil)
	if !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("New(nil, bad options) = %v, want ErrInvalidOption", err)
	}
	for _, want := range []string{"nil engine", "empty title", "event limit 0", "nil logger", "option 3 is nil"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New(nil, bad options) = %v, want it to report %q", err, want)
		}
	}
}

func TestHandlerRoutes(t *testing.T) {
	eng := newEngine(t)
	healthy(t, eng, 3)
	h, err := New(eng)
	if err != nil {
		t.Fatal(err)
	}
	const (
		html = "text/html; charset=utf-8"
		js   = "application/json"
	)
	tests := []struct {
		method, target, accept string
		code                   int
		contentType            string
	}{
		{"GET", "/", "", 200, html},
		{"GET", "", "", 200, html},
		{"GET", "/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200, html},
		{"GET", "/", "*/*", 200, html},
		{"GET", "/", "application/json", 200, js},
		{"GET", "/", "text/html;q=0.5, application/json", 200, js},
		{"GET", "/", "application/*;q=0.9, text/*;q=0.8", 200, js},
		{"GET", "/", "application/json;q=0.4, text/html;q=0.9", 200, html},
		{"GET", "/?format=json", "", 200, js},
		{"GET", "/?format=json", "text/html", 200, js},
		{"GET", "/?format=html", "application/json", 200, html},
		{"GET", "/status.json", "", 200, js},
		{"GET", "/status.json", "text/html", 200, js},
		{"GET", "/release", "", 200, js},
		{"HEAD", "/", "", 200, html},
		{"HEAD", "/status.json", "", 200, js},
		{"HEAD", "/release", "", 200, js},
		{"GET", "/nope", "", 404, ""},
		{"GET", "/status.json/", "", 404, ""},
		{"GET", "/index.html", "", 404, ""},
		{"POST", "/", "", 405, ""},
		{"PUT", "/release", "", 405, ""},
		{"DELETE", "/status.json", "", 405, ""},
		{"OPTIONS", "/", "", 405, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, "http://status.test/", nil)
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(tt.target, "?")
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		name := tt.method + " " + tt.target + " Accept: " + tt.accept
		if res.StatusCode != tt.code {
			t.Errorf("%s: status %d, want %d", name, res.StatusCode, tt.code)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, got)
		}
		if res.StatusCode == 405 && res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow %q, want GET, HEAD", name, res.Header.Get("Allow"))
		}
		if tt.contentType == "" {
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tt.contentType {
			t.Errorf("%s: Content-Type %q, want %q", name, got, tt.contentType)
		}
		body, _ := io.ReadAll(res.Body)
		if tt.method == "HEAD" {
			if len(body) != 0 || res.Header.Get("Content-Length") == "" || res.Header.Get("Content-Length") == "0" {
				t.Errorf("%s: %d body bytes, Content-Length %q, want none and the GET length", name, len(body), res.Header.Get("Content-Length"))
			}
			continue
		}
		if tt.contentType == js && !json.Valid(body) {
			t.Errorf("%s: invalid JSON: %.200s", name, body)
		}
		if tt.contentType == html {
			if !strings.HasPrefix(string(body), "<!doctype html>") {
				t.Errorf("%s: body starts %.40q, want a page", name, body)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("%s: Content-Security-Policy %q, want default-src 'none'", name, csp)
			}
		}
		if tt.target == "/" || tt.target == "" {
			if !slices.Contains(res.Header.Values("Vary"), "Accept") {
				t.Errorf("%s: Vary %q, want Accept", name, res.Header.Values("Vary"))
			}
		}
	}
}

// TestHandlerDisclosesNothing sends a request full of data and checks that
// none of it comes back, on any route, in any answer.
func TestHandlerDisclosesNothing(t *testing.T) {
	eng := newEngine(t)
	healthy(t, eng, 2)
	h, err := New(eng)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-token"
	for _, target := range []string{"/", "/status.json", "/release", "/" + secret, "/?q=" + secret} {
		for _, method := range []string{"GET", "POST"} {
			req := httptest.NewRequest(method, "http://status.test"+target, strings.NewReader(secret))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Cookie", "session="+secret)
			req.Header.Set("X-Forwarded-For", secret)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if strings.Contains(rec.Body.String(), secret) || strings.Contains(strings.Join(rec.Header().Values("Location"), ""), secret) {
				t.Errorf("%s %s: the response echoes request data", method, target)
			}
		}
	}
}

func TestRelease(t *testing.T) {
	eng := newEngine(t)
	h, err := New(eng)
	if err != nil {
		t.Fatal(err)
	}
	get := func(method string) (int, map[string]any, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/release", nil))
		if method == "HEAD" {
			return rec.Code, nil, rec.Body.String()
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("GET /release: %v: %s", err, rec.Body)
		}
		return rec.Code, m, rec.Body.String()
	}

	now := healthy(t, eng, 5)
	code, m, body := get("GET")
	if code != http.StatusOK || m["allowed"] != true || m["frozen"] != false || m["recovery_s"] != nil {
		t.Errorf("GET /release while healthy = %d %s, want 200, allowed", code, body)
	}
	if _, ok := m["since"]; ok {
		t.Errorf("GET /release while healthy = %s, want no since", body)
	}
	if code, _, _ := get("HEAD"); code != http.StatusOK {
		t.Errorf("HEAD /release while healthy = %d, want 200", code)
	}

	incident(t, eng, now)
	code, m, body = get("GET")
	if code != http.StatusConflict || m["allowed"] != false || m["frozen"] != true || m["recovery_s"] != nil ||
		m["since"] != "2025-03-01T12:05:00Z" || !strings.HasPrefix(m["reason"].(string), checkout+" has -") {
		t.Errorf("GET /release while frozen = %d %s, want 409, frozen since 12:05 because of %s", code, body, checkout)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"allowed", "frozen", "reason", "recovery_s", "since"}; !slices.Equal(keys, want) {
		t.Errorf("GET /release keys = %v, want %v", keys, want)
	}
	if code, _, body := get("HEAD"); code != http.StatusConflict || body != "" {
		t.Errorf("HEAD /release while frozen = %d %q, want 409 and no body", code, body)
	}
}

// TestMounted serves the handler under a prefix, as the package
// documentation shows.
func TestMounted(t *testing.T) {
	eng := newEngine(t)
	healthy(t, eng, 2)
	h, err := New(eng)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/status/", http.StripPrefix("/status", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for path, want := range map[string]int{
		"/status/":            200,
		"/status/status.json": 200,
		"/status/release":     200,
		"/status/other":       404,
		"/release":            404,
	} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
}

func TestEventLimit(t *testing.T) {
	eng := newEngine(t)
	incident(t, eng, healthy(t, eng, 3))
	all := eng.Events()
	h, err := New(eng, WithEventLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/status.json", nil))
	var doc statusjson.Document
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(all) <= 2 || len(doc.Events) != 2 {
		t.Fatalf("/status.json with limit 2 has %d of %d events, want 2", len(doc.Events), len(all))
	}
	for i, ev := range doc.Events {
		if want := all[len(all)-2+i].String(); ev.Text != want {
			t.Errorf("event %d = %q, want %q (the newest)", i, ev.Text, want)
		}
	}
}

func TestQuality(t *testing.T) {
	tests := []struct {
		accept   string
		typ, sub string
		want     float64
	}{
		{"", "text", "html", 0},
		{"text/html", "text", "html", 1},
		{"TEXT/HTML", "text", "html", 1},
		{"text/*;q=0.3", "text", "html", 0.3},
		{"*/*;q=0.1, text/*;q=0.3, text/html;q=0.7", "text", "html", 0.7},
		{"text/html;q=0.7, text/*;q=0.9", "text", "html", 0.7},
		{"application/json;q=0", "application", "json", 0},
		{"application/json;q=2, */*;q=0.5", "application", "json", 0.5},
		{"application/json;q=x", "application", "json", 0},
		{"garbage;;, application/json", "application", "json", 1},
		{"image/png", "text", "html", 0},
	}
	for _, tt := range tests {
		if got := quality(tt.accept, tt.typ, tt.sub); got != tt.want {
			t.Errorf("quality(%q, %s/%s) = %v, want %v", tt.accept, tt.typ, tt.sub, got, tt.want)
		}
	}
}
