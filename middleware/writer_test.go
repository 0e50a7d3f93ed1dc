package middleware_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/middleware"
)

func TestWriterFlush(t *testing.T) {
	tests := []struct {
		name  string
		flush func(w http.ResponseWriter) error
	}{
		{"Flusher", func(w http.ResponseWriter) error {
			w.(http.Flusher).Flush()
			return nil
		}},
		{"ResponseController", func(w http.ResponseWriter) error {
			return http.NewResponseController(w).Flush()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			var err error
			h := newServer(t, eng, middleware.WithDefault(serviceAvail)).Wrap(
				http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					io.WriteString(w, "part")
					err = tt.flush(w)
				}))
			rec := serve(h, "GET", "/")
			if err != nil {
				t.Errorf("Flush() = %v, want nil", err)
			}
			if !rec.Flushed {
				t.Errorf("ResponseRecorder.Flushed = false, want true")
			}
			if rec.Code != http.StatusOK || rec.Body.String() != "part" {
				t.Errorf("response = %d %q, want 200 %q", rec.Code, rec.Body, "part")
			}
			checkTotals(t, eng, map[string]tally{serviceAvail: {Good: 1}})
		})
	}
}

// plainWriter is a ResponseWriter with none of the optional interfaces.
type plainWriter struct {
	header http.Header
	code   int
}

func (w *plainWriter) Header() http.Header         { return w.header }
func (w *plainWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *plainWriter) WriteHeader(code int)        { w.code = code }

// TestWriterNotSupported: the wrapper has every optional method, but what
// the underlying writer can not do still fails with http.ErrNotSupported,
// as it would without the middleware.
func TestWriterNotSupported(t *testing.T) {
	tests := []struct {
		name string
		call func(w http.ResponseWriter) error
	}{
		{"Flush", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
		{"Hijack", func(w http.ResponseWriter) error {
			_, _, err := http.NewResponseController(w).Hijack()
			return err
		}},
		{"Hijacker", func(w http.ResponseWriter) error {
			_, _, err := w.(http.Hijacker).Hijack()
			return err
		}},
		{"SetWriteDeadline", func(w http.ResponseWriter) error {
			return http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
		}},
		{"EnableFullDuplex", func(w http.ResponseWriter) error { return http.NewResponseController(w).EnableFullDuplex() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			h := newServer(t, newEngine(t)).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				err = tt.call(w)
			}))
			h.ServeHTTP(&plainWriter{header: http.Header{}}, httptest.NewRequest("GET", "/", nil))
			if !errors.Is(err, http.ErrNotSupported) {
				t.Errorf("%s through the middleware = %v, want http.ErrNotSupported", tt.name, err)
			}
		})
	}
}

func TestWriterReadFrom(t *testing.T) {
	body := strings.Repeat("sloguard ", 1000)
	tests := []struct {
		name string
		copy func(w http.ResponseWriter) (int64, error)
	}{
		{"ReadFrom", func(w http.ResponseWriter) (int64, error) {
			return w.(io.ReaderFrom).ReadFrom(strings.NewReader(body))
		}},
		{"io.Copy", func(w http.ResponseWriter) (int64, error) {
			// Hide strings.Reader's WriteTo, so io.Copy uses ReadFrom.
			return io.Copy(w, struct{ io.Reader }{strings.NewReader(body)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			type result struct {
				n   int64
				err error
			}
			results := make(chan result, 1)
			h := newServer(t, eng, middleware.WithDefault(serviceAvail)).Wrap(
				http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					n, err := tt.copy(w)
					results <- result{n, err}
				}))
			checkResult := func(t *testing.T) {
				t.Helper()
				if r := <-results; r.n != int64(len(body)) || r.err != nil {
					t.Errorf("%s() = %d, %v, want %d, nil", tt.name, r.n, r.err, len(body))
				}
			}

			// Through a recorder, which has no ReadFrom of its own.
			rec := serve(h, "GET", "/")
			checkResult(t)
			if rec.Code != http.StatusOK || rec.Body.String() != body {
				t.Errorf("recorder got %d and %d bytes, want 200 and %d bytes", rec.Code, rec.Body.Len(), len(body))
			}

			// Through a real server, whose ResponseWriter has ReadFrom.
			ts := httptest.NewServer(h)
			defer ts.Close()
			resp, err := ts.Client().Get(ts.URL)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(got) != body || err != nil {
				t.Errorf("server sent %d and %d bytes (%v), want 200 and %d bytes", resp.StatusCode, len(got), err, len(body))
			}
			checkResult(t)
			ts.Close() // waits for the handler, and so for the record
			checkTotals(t, eng, map[string]tally{serviceAvail: {Good: 2}})
		})
	}
}

func TestWriterHeaders(t *testing.T) {
	h := newServer(t, newEngine(t), middleware.WithDefault(serviceAvail)).Wrap(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Sloguard", "yes")
			w.Header().Add("Set-Cookie", "a=1")
			w.Header().Add("Set-Cookie", "b=2")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, "{}")
		}))
	check := func(t *testing.T, code int, header http.Header, body string) {
		t.Helper()
		if code != http.StatusAccepted || body != "{}" {
			t.Errorf("response = %d %q, want 202 %q", code, body, "{}")
		}
		if got := header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want %q", got, "application/json")
		}
		if got := header.Get("X-Sloguard"); got != "yes" {
			t.Errorf("X-Sloguard = %q, want %q", got, "yes")
		}
		if got := header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
			t.Errorf("Set-Cookie = %q, want [a=1 b=2]", got)
		}
	}
	t.Run("recorder", func(t *testing.T) {
		rec := serve(h, "GET", "/")
		check(t, rec.Code, rec.Result().Header, rec.Body.String())
	})
	t.Run("server", func(t *testing.T) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		resp, err := ts.Client().Get(ts.URL)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		check(t, resp.StatusCode, resp.Header, string(body))
	})
}

// TestWriterResponseController: on a real server, the controller's methods
// that the wrapper does not have itself reach net/http through Unwrap.
func TestWriterResponseController(t *testing.T) {
	eng := newEngine(t)
	type result struct{ read, write, duplex, flush error }
	results := make(chan result, 1)
	h := newServer(t, eng, middleware.WithDefault(serviceAvail)).Wrap(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			var res result
			res.read = rc.SetReadDeadline(time.Now().Add(time.Minute))
			res.write = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			res.duplex = rc.EnableFullDuplex()
			io.WriteString(w, "ok")
			res.flush = rc.Flush()
			results <- res
		}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("response = %d %q, want 200 %q", resp.StatusCode, body, "ok")
	}
	res := <-results
	for _, c := range []struct {
		name string
		err  error
	}{
		{"SetReadDeadline", res.read},
		{"SetWriteDeadline", res.write},
		{"EnableFullDuplex", res.duplex},
		{"Flush", res.flush},
	} {
		if c.err != nil {
			t.Errorf("ResponseController.%s() = %v, want nil", c.name, c.err)
		}
	}
	ts.Close()
	checkTotals(t, eng, map[string]tally{serviceAvail: {Good: 1}})
}

// TestWriterHijack upgrades a raw connection through the wrapper, as a
// WebSocket library would.
func TestWriterHijack(t *testing.T) {
	tests := []struct {
		name   string
		hijack func(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error)
	}{
		{"Hijacker", func(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error) {
			return w.(http.Hijacker).Hijack()
		}},
		{"ResponseController", func(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error) {
			return http.NewResponseController(w).Hijack()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			seen := make(capture, 1)
			done := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /echo", func(w http.ResponseWriter, _ *http.Request) {
				conn, brw, err := tt.hijack(w)
				if err != nil {
					t.Errorf("Hijack() error = %v", err)
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				defer conn.Close()
				brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
				brw.Flush()
				line, err := brw.ReadString('\n')
				if err != nil {
					t.Errorf("reading from the hijacked connection: %v", err)
					return
				}
				brw.WriteString("echo " + line)
				brw.Flush()
			})
			mw := newServer(t, eng,
				middleware.WithClassifier(seen.classify),
				middleware.WithRoute("GET /echo", checkoutAvail),
			)
			inner := mw.Wrap(mux)
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner.ServeHTTP(w, r)
				close(done)
			}))
			defer ts.Close()

			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer conn.Close()
			req, _ := http.NewRequest("GET", ts.URL+"/echo", nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "echo")
			if err := req.Write(conn); err != nil {
				t.Fatalf("writing the request: %v", err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "echo" {
				t.Fatalf("response = %d, Upgrade %q, want 101, %q", resp.StatusCode, resp.Header.Get("Upgrade"), "echo")
			}
			io.WriteString(conn, "ping\n")
			if line, err := br.ReadString('\n'); line != "echo ping\n" || err != nil {
				t.Errorf("read %q, %v from the upgraded connection, want %q", line, err, "echo ping\n")
			}
			<-done
			if got, want := seen.next(t), (middleware.Response{Status: 101, Written: true}); got != want {
				t.Errorf("classifier got %+v, want %+v", got, want)
			}
			checkTotals(t, eng, map[string]tally{checkoutAvail: {Good: 1}})
		})
	}
}
