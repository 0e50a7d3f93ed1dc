//go:build soak

package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/sloguard/sloguard/budget"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// kind is what a request asks the service to do.
type kind int

const (
	kOK       kind = iota // answer 2xx: good
	kBrowse               // answer 2xx on a SHEDDABLE route: good, shed first
	kFail                 // answer 5xx / INTERNAL: bad
	kInvalid              // answer 400 / INVALID_ARGUMENT: good
	kPanic                // panic: bad
	kCancel               // wait until the client cancels: neutral
	kDeadline             // wait until a deadline passes: bad
	kDep                  // call the dependency: good, bad, or shed by its breaker
	kStream               // stream three messages (flushed chunks, a server stream): good
	nKinds
)

var kindNames = [nKinds]string{"ok", "browse", "fail", "invalid", "panic", "cancel", "deadline", "dep", "stream"}

func (k kind) String() string { return kindNames[k] }

// The request mix in per mille, while the service is healthy and during
// its outage, when its browse route fails and gets most of the traffic:
// enough to page, and curable by shedding (browse is SHEDDABLE).
var (
	healthyMix = [nKinds]int{kOK: 370, kBrowse: 250, kFail: 30, kInvalid: 50, kPanic: 5, kCancel: 30, kDeadline: 15, kDep: 220, kStream: 30}
	outageMix  = [nKinds]int{kOK: 130, kBrowse: 700, kFail: 20, kInvalid: 30, kPanic: 5, kCancel: 30, kDeadline: 15, kDep: 50, kStream: 20}
)

func pick(mix *[nKinds]int, r *rand.Rand) kind {
	n := r.IntN(1000)
	for k, w := range mix {
		if n < w {
			return kind(k)
		}
		n -= w
	}
	return kOK
}

// client is the load generator's side of one protocol: what it sent and
// what each result must have counted as, by its own reading of the
// answers.
type client struct {
	sent        [nKinds]atomic.Uint64
	expect      tally
	shedSeen    atomic.Uint64 // 429 / RESOURCE_EXHAUSTED, a subset of expect[Shed]
	unexplained atomic.Uint64 // results no rule explains
	mu          sync.Mutex
	oddities    []string // the first few of them, guarded by mu
}

func (c *client) odd(format string, args ...any) {
	if c.unexplained.Add(1) <= 10 {
		c.mu.Lock()
		c.oddities = append(c.oddities, fmt.Sprintf(format, args...))
		c.mu.Unlock()
	}
}

var httpPaths = [nKinds]string{"/ok", "/browse", "/fail", "/invalid", "/panic", "/cancel", "/deadline", "/dep", "/stream"}

// doHTTP sends one request of kind k and tallies the outcome it must have
// been recorded with; it reports whether the service shed it (429). POST,
// with no body: net/http's client retries a replayable request (GET)
// whenever a reused connection closes before the answer, as the server's
// does after a handler panic, and again on the next reused one, so the
// service rightly counts several requests for one (measured: about 8
// panics per panicking GET with 16 clients).
func (s *stack) doHTTP(ctx context.Context, hc *http.Client, c *client, k kind, id uint64) (shed bool) {
	c.sent[k].Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.httpURL+httpPaths[k], nil)
	if err != nil {
		panic(err)
	}
	if k == kCancel {
		sid := strconv.FormatUint(id, 10)
		req.Header.Set(idHeader, sid)
		arrived := make(chan struct{})
		s.arrivals.m.Store(sid, arrived)
		defer s.arrivals.m.Delete(sid)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		req = req.WithContext(cctx)
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-arrived: // the handler runs: admitted, and it can not answer any more
				cancel()
			case <-done: // answered without running the handler: shed
			}
		}()
	}
	resp, err := hc.Do(req)
	if err != nil {
		switch {
		case k == kPanic && !errors.Is(err, context.Canceled):
			c.expect.add(budget.Bad) // net/http recovered the panic and closed the connection
		case k == kCancel && errors.Is(err, context.Canceled):
			c.expect.add(budget.Neutral)
		default:
			c.odd("http %v: error %v", k, err)
		}
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests:
		c.expect.add(budget.Shed)
		c.shedSeen.Add(1)
		return true
	case (k == kOK || k == kBrowse) && code == http.StatusOK && string(body) == "ok",
		k == kInvalid && code == http.StatusBadRequest,
		k == kDep && code == http.StatusOK,
		k == kStream && code == http.StatusOK && string(body) == streamBody:
		c.expect.add(budget.Good)
	case (k == kFail || k == kBrowse) && code == http.StatusInternalServerError,
		k == kDep && code == http.StatusInternalServerError,
		// Nothing written before the deadline: net/http sends an empty
		// 200, and the middleware counts the deadline as bad.
		k == kDeadline && code == http.StatusOK && len(body) == 0:
		c.expect.add(budget.Bad)
	case k == kDep && code == http.StatusServiceUnavailable:
		c.expect.add(budget.Shed) // the dependency's breaker is open
	default:
		c.odd("http %v: status %d, body %q", k, code, body)
	}
	return false
}

var grpcMethods = [nKinds]string{mOK, mBrowse, mFail, mInvalid, mPanic, mCancel, mDeadline, mDep, mWatch}

// doGRPC sends one call of kind k and tallies the outcome it must have
// been recorded with; it reports whether the service shed it
// (RESOURCE_EXHAUSTED).
func (s *stack) doGRPC(ctx context.Context, c *client, k kind, id uint64) (shed bool) {
	c.sent[k].Add(1)
	if k == kCancel {
		sid := strconv.FormatUint(id, 10)
		arrived := make(chan struct{})
		s.arrivals.m.Store(sid, arrived)
		defer s.arrivals.m.Delete(sid)
		cctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(ctx, idKey, sid))
		defer cancel()
		ctx = cctx
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-arrived:
				cancel()
			case <-done:
			}
		}()
	}
	var err error
	if k == kStream {
		err = s.watch(ctx)
	} else {
		err = s.grpcCC.Invoke(ctx, grpcMethods[k], new(emptypb.Empty), new(emptypb.Empty), grpc.WaitForReady(true))
	}
	code := status.Code(err)
	switch {
	case code == codes.ResourceExhausted:
		c.expect.add(budget.Shed)
		c.shedSeen.Add(1)
		return true
	case (k == kOK || k == kBrowse || k == kDep || k == kStream) && code == codes.OK,
		k == kInvalid && code == codes.InvalidArgument:
		c.expect.add(budget.Good)
	case (k == kFail || k == kBrowse || k == kPanic || k == kDep) && code == codes.Internal,
		k == kDeadline && code == codes.DeadlineExceeded:
		c.expect.add(budget.Bad)
	case k == kCancel && code == codes.Canceled:
		c.expect.add(budget.Neutral)
	case k == kDep && code == codes.Unavailable:
		c.expect.add(budget.Shed) // the dependency's breaker is open
	default:
		c.odd("grpc %v: %v", k, err)
	}
	return false
}

// watch makes one server-streaming call and reads it to the end: nil when
// it got streamMessages messages and then the end of the stream.
func (s *stack) watch(ctx context.Context) error {
	cs, err := s.grpcCC.NewStream(ctx, &watchDesc, mWatch, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	if err := cs.SendMsg(new(emptypb.Empty)); err != nil && err != io.EOF {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		err := cs.RecvMsg(new(emptypb.Empty))
		switch {
		case err == io.EOF && n == streamMessages:
			return nil
		case err == io.EOF:
			return status.Errorf(codes.DataLoss, "soak: %d messages, want %d", n, streamMessages)
		case err != nil:
			return err
		}
	}
}
