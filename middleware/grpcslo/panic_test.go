package grpcslo_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// TestClientPanicReleasesBreaker opens the payments breaker, lets it go
// half-open and panics during the probe: in the invoker or streamer, or in
// the classifier when the call or stream ends. The panic reaches the caller
// unchanged, the probe is recorded once, as Bad (the breaker opens again),
// and after the breaker's timeout a probe goes through and closes it.
func TestClientPanicReleasesBreaker(t *testing.T) {
	const boom = codes.DataLoss // the classifier panics on it
	classify := func(code codes.Code) budget.Outcome {
		if code == boom {
			panic("classifier exploded")
		}
		return grpcslo.DefaultClientCodeClassifier(code)
	}
	// call makes one call through c that fails with code, or panics with
	// "invoker exploded" when code is codes.Code(99); it returns what the
	// call panicked with and its error.
	type caller func(c *grpcslo.Client, code codes.Code) (any, error)
	result := func(code codes.Code) error {
		switch code {
		case codes.Code(99):
			panic("invoker exploded")
		case codes.OK:
			return nil
		}
		return status.Error(code, "x")
	}
	unary := func(c *grpcslo.Client, code codes.Code) (p any, err error) {
		defer func() { p = recover() }()
		return nil, c.UnaryInterceptor()(context.Background(), mCheckout, nil, nil, nil,
			func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
				return result(code)
			})
	}
	// streamStart fails in the streamer, unless code is OK: then the
	// stream ends at once, with io.EOF.
	streamStart := func(c *grpcslo.Client, code codes.Code) (p any, err error) {
		defer func() { p = recover() }()
		st, err := c.StreamInterceptor()(context.Background(), &grpc.StreamDesc{ServerStreams: true}, nil, mWatch,
			func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
				if err := result(code); err != nil {
					return nil, err
				}
				return &fakeClientStream{}, nil
			})
		if err != nil {
			return nil, err
		}
		if err := st.RecvMsg(nil); err != io.EOF {
			return nil, err
		}
		return nil, nil
	}
	// streamEnd starts a stream that ends with code at the first RecvMsg.
	streamEnd := func(c *grpcslo.Client, code codes.Code) (p any, err error) {
		defer func() { p = recover() }()
		if code == codes.Code(99) {
			code = boom
		}
		var recv []error
		if code != codes.OK {
			recv = []error{status.Error(code, "x")}
		}
		st, err := c.StreamInterceptor()(context.Background(), &grpc.StreamDesc{ServerStreams: true}, nil, mWatch,
			func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
				return &fakeClientStream{recv: recv}, nil
			})
		if err != nil {
			return nil, err
		}
		if err := st.RecvMsg(nil); err != io.EOF {
			return nil, err
		}
		return nil, nil
	}
	tests := []struct {
		name  string
		call  caller
		probe codes.Code // the probe's code
		want  any        // what the probe panics with
	}{
		{"unary invoker", unary, codes.Code(99), "invoker exploded"},
		{"unary classifier", unary, boom, "classifier exploded"},
		{"streamer", streamStart, codes.Code(99), "invoker exploded"},
		{"streamer classifier", streamStart, boom, "classifier exploded"},
		{"stream end classifier", streamEnd, boom, "classifier exploded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t) // open after 5 failures, for 10s, 1 probe
				c := newClient(t, eng, grpcslo.WithClientCodeClassifier(classify))
				for range 5 {
					if p, err := tt.call(c, codes.Internal); p != nil || status.Code(err) != codes.Internal {
						t.Fatalf("call = panic %v, error %v, want INTERNAL", p, err)
					}
				}
				checkBreaker := func(want slo.BreakerState) {
					t.Helper()
					if got := breakerState(eng); got != want {
						t.Fatalf("breaker state = %v, want %v", got, want)
					}
				}
				checkBreaker(slo.BreakerOpen)
				time.Sleep(10*time.Second + time.Millisecond)
				checkBreaker(slo.BreakerHalfOpen)

				if p, err := tt.call(c, tt.probe); p != tt.want || err != nil {
					t.Fatalf("probe = panic %v, error %v, want panic %q", p, err, tt.want)
				}
				checkBreaker(slo.BreakerOpen) // the probe failed
				if _, err := tt.call(c, codes.OK); !errors.Is(err, slo.ErrBreakerOpen) {
					t.Fatalf("call right after = %v, want ErrBreakerOpen", err)
				}
				time.Sleep(10*time.Second + time.Millisecond)
				if p, err := tt.call(c, codes.OK); p != nil || err != nil {
					t.Fatalf("next probe = panic %v, error %v, want OK", p, err)
				}
				checkBreaker(slo.BreakerClosed)
				want := tally{Good: 1, Bad: 6, Shed: 1}
				checkTotals(t, eng, map[string]tally{paymentsAvail: want, paymentsLatency: want})
			})
		})
	}
}

// TestClientStreamClassifierPanicAside: a classifier that panics for a
// stream ended by its context runs on context.AfterFunc's goroutine, where
// a panic would end the process; the stream is recorded as Bad and the
// panic is logged instead.
func TestClientStreamClassifierPanicAside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		c := newClient(t, eng, grpcslo.WithClientCodeClassifier(func(code codes.Code) budget.Outcome {
			if code == codes.Canceled {
				panic("classifier exploded")
			}
			return grpcslo.DefaultClientCodeClassifier(code)
		}))
		ctx, cancel := context.WithCancel(context.Background())
		_, err := c.StreamInterceptor()(ctx, &grpc.StreamDesc{ServerStreams: true}, nil, mWatch,
			func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
				return &fakeClientStream{}, nil
			})
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		cancel() // ends the stream on the AfterFunc goroutine
		synctest.Wait()
		want := tally{Bad: 1}
		checkTotals(t, eng, map[string]tally{paymentsAvail: want, paymentsLatency: want})
	})
}
