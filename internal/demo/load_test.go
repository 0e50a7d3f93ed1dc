package demo

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// handlerTransport serves requests in memory, so that the load runs in a
// synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody // as a server sees it
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// faultyService answers with a 500 during the fault, and counts what it
// answers.
type faultyService struct {
	tl                    Timeline
	requests, errors, bad atomic.Int64
}

func (s *faultyService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost && (r.Header.Get("Content-Type") != "application/json" || string(body) != `{"n":1}`) {
		s.bad.Add(1)
	}
	if s.tl.Phase(time.Now()) == Fault {
		s.errors.Add(1)
		http.Error(w, "fault", http.StatusInternalServerError)
	}
}

func alternate() func(*rand.Rand) Request {
	var n int
	return func(*rand.Rand) Request {
		n++
		if n%2 == 0 {
			return Request{Method: http.MethodPost, Path: "/post", Body: `{"n":1}`}
		}
		return Request{Method: http.MethodGet, Path: "/get"}
	}
}

func TestLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{RPS: 100, Clients: 4, Seed: 1}
		tl := NewTimeline(time.Now(), time.Second, time.Second, time.Second)
		svc := &faultyService{tl: tl}
		l := NewLoad("http://demo", cfg, alternate())
		l.client.Transport = handlerTransport{svc}
		l.Start(t.Context(), tl)
		l.Wait()
		l.Close()
		if d := time.Since(tl.Start); d != 3*time.Second {
			t.Errorf("Wait() returned after %v, want at the end of the timeline, 3s", d)
		}

		// One tick every 5ms until the end: the last, at 2.995s, is due the
		// 299th request.
		got := l.Counts()
		want := LoadCounts{Sent: 299, Answered: 299}
		want.Status5xx[Fault] = svc.errors.Load()
		if got != want {
			t.Errorf("Counts() = %+v, want %+v", got, want)
		}
		if got.Total5xx() != want.Status5xx[Fault] || want.Status5xx[Fault] < 90 {
			t.Errorf("Total5xx() = %d, want the %d errors of the fault, about 100", got.Total5xx(), want.Status5xx[Fault])
		}
		if n := svc.requests.Load(); n != 299 {
			t.Errorf("the service got %d requests, want 299", n)
		}
		if n := svc.bad.Load(); n != 0 {
			t.Errorf("%d POST requests without their JSON body", n)
		}
	})
}

// TestLoadSkips keeps every client busy: requests due meanwhile are
// skipped, not queued.
func TestLoadSkips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{RPS: 100, Clients: 2, Seed: 1}
		tl := NewTimeline(time.Now(), time.Second, time.Second, 0)
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(100 * time.Millisecond) })
		l := NewLoad("http://demo", cfg, alternate())
		l.client.Transport = handlerTransport{slow}
		l.Start(t.Context(), tl)
		l.Wait()
		got := l.Counts()
		if got.Sent+got.Skipped != 199 || got.Skipped == 0 {
			t.Errorf("Counts() = %+v, want 199 requests due, some skipped", got)
		}
		// Two clients, 100ms each: at most 20 a second.
		if got.Sent > 41 || got.Answered != got.Sent {
			t.Errorf("Counts() = %+v, want at most 41 sent and every one answered", got)
		}
	})
}

func TestLoadStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 502*time.Millisecond)
		defer cancel()
		tl := NewTimeline(time.Now(), time.Minute, time.Minute, time.Minute)
		l := NewLoad("http://demo", Config{RPS: 100, Clients: 2}, alternate())
		l.client.Transport = handlerTransport{http.NotFoundHandler()}
		l.Start(ctx, tl)
		l.Wait()
		if d := time.Since(tl.Start); d != 502*time.Millisecond {
			t.Errorf("Wait() returned after %v, want when ctx is done, 502ms", d)
		}
		if got := l.Counts(); got.Sent != 50 || got.Failed != 0 {
			t.Errorf("Counts() = %+v, want 50 sent by 500ms, none failed", got)
		}
	})
}
