package grpcslo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

func TestDefaultCodeClassifier(t *testing.T) {
	// The OpenTelemetry convention for servers; clients differ only in
	// RESOURCE_EXHAUSTED.
	want := map[codes.Code]slo.Outcome{
		codes.OK:                 slo.Good,
		codes.Canceled:           slo.Neutral,
		codes.Unknown:            slo.Bad,
		codes.InvalidArgument:    slo.Good,
		codes.DeadlineExceeded:   slo.Bad,
		codes.NotFound:           slo.Good,
		codes.AlreadyExists:      slo.Good,
		codes.PermissionDenied:   slo.Good,
		codes.ResourceExhausted:  slo.Good,
		codes.FailedPrecondition: slo.Good,
		codes.Aborted:            slo.Good,
		codes.OutOfRange:         slo.Good,
		codes.Unimplemented:      slo.Bad,
		codes.Internal:           slo.Bad,
		codes.Unavailable:        slo.Bad,
		codes.DataLoss:           slo.Bad,
		codes.Unauthenticated:    slo.Good,
		codes.Code(99):           slo.Good,
	}
	for code, w := range want {
		if got := grpcslo.DefaultCodeClassifier(code); got != w {
			t.Errorf("DefaultCodeClassifier(%v) = %v, want %v", code, got, w)
		}
		wc := w
		if code == codes.ResourceExhausted {
			wc = slo.Shed
		}
		if got := grpcslo.DefaultClientCodeClassifier(code); got != wc {
			t.Errorf("DefaultClientCodeClassifier(%v) = %v, want %v", code, got, wc)
		}
	}
}

// TestServerClassification sends calls through a real server and checks
// what the method's objectives recorded.
func TestServerClassification(t *testing.T) {
	type test struct {
		name     string
		method   string
		err      error // the handler's
		wantCode codes.Code
		want     map[string]tally
	}
	var tests []test
	for code := codes.OK; code <= codes.Unauthenticated; code++ {
		var err error
		if code != codes.OK {
			err = status.Error(code, "x")
		}
		o := grpcslo.DefaultCodeClassifier(code) // checked by the test above
		tests = append(tests, test{
			name: code.String(), method: mCheckout, err: err, wantCode: code,
			want: map[string]tally{checkoutAvail: one(o), checkoutLatency: one(o)},
		})
	}
	tests = append(tests,
		test{
			name: "method without WithMethod", method: mOther, wantCode: codes.OK,
			want: map[string]tally{serviceAvail: {Good: 1}},
		},
		test{
			name: "plain error is UNKNOWN", method: mCheckout, err: errors.New("boom"), wantCode: codes.Unknown,
			want: map[string]tally{checkoutAvail: {Bad: 1}, checkoutLatency: {Bad: 1}},
		},
		test{
			name: "wrapped status error", method: mCheckout, err: fmt.Errorf("lookup: %w", status.Error(codes.NotFound, "no item")), wantCode: codes.NotFound,
			want: map[string]tally{checkoutAvail: {Good: 1}, checkoutLatency: {Good: 1}},
		},
		test{
			name: "context.Canceled is CANCELLED", method: mCheckout, err: fmt.Errorf("reading: %w", context.Canceled), wantCode: codes.Canceled,
			want: map[string]tally{checkoutAvail: {Neutral: 1}, checkoutLatency: {Neutral: 1}},
		},
		test{
			name: "context.DeadlineExceeded is DEADLINE_EXCEEDED", method: mCheckout, err: context.DeadlineExceeded, wantCode: codes.DeadlineExceeded,
			want: map[string]tally{checkoutAvail: {Bad: 1}, checkoutLatency: {Bad: 1}},
		},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			s := newServer(t, eng,
				grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency),
				grpcslo.WithDefault(serviceAvail),
			)
			sh := &shop{unary: func(context.Context, string) (string, error) { return "ok", tt.err }}
			conn := serve(t, sh, withSloguard(s, true))
			_, err := call(t.Context(), conn, tt.method, "")
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("call(%s) code = %v, want %v (err %v)", tt.method, got, tt.wantCode, err)
			}
			checkTotals(t, eng, tt.want)
		})
	}
}

func TestServerCodeClassifier(t *testing.T) {
	eng := newEngine(t)
	s := newServer(t, eng,
		grpcslo.WithMethod(mCheckout, checkoutAvail),
		grpcslo.WithCodeClassifier(func(c codes.Code) slo.Outcome {
			if c == codes.NotFound {
				return slo.Bad // say, a catalogue that must have every item
			}
			return grpcslo.DefaultCodeClassifier(c)
		}),
	)
	sh := &shop{unary: func(_ context.Context, in string) (string, error) {
		if in == "missing" {
			return "", status.Error(codes.NotFound, "no item")
		}
		return "ok", nil
	}}
	conn := serve(t, sh, withSloguard(s, false))
	for _, in := range []string{"missing", "present", "missing"} {
		_, _ = call(t.Context(), conn, mCheckout, in)
	}
	checkTotals(t, eng, map[string]tally{checkoutAvail: {Good: 1, Bad: 2}})
}

// TestServerLatency checks latency objectives on the wire, with the
// handler's time faked by testing/synctest: the whole server, client and
// in-memory connection live in the bubble.
func TestServerLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		s := newServer(t, eng, grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency))
		sh := &shop{unary: func(_ context.Context, in string) (string, error) {
			d, err := time.ParseDuration(in)
			time.Sleep(d)
			return "ok", err
		}}
		conn := serve(t, sh, withSloguard(s, true))
		for _, d := range []string{"0s", "299ms", "300ms", "301ms", "2s"} {
			if _, err := call(t.Context(), conn, mCheckout, d); err != nil {
				t.Fatalf("call(%s) error = %v", d, err)
			}
		}
		checkTotals(t, eng, map[string]tally{
			checkoutAvail:   {Good: 5},
			checkoutLatency: {Good: 3, Bad: 2},
		})
	})
}

// TestUnaryServerInterceptorLatency calls the interceptor directly, as
// go-grpc-middleware tests its interceptors.
func TestUnaryServerInterceptorLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		s := newServer(t, eng, grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency))
		intercept := s.UnaryInterceptor()
		info := &grpc.UnaryServerInfo{FullMethod: mCheckout}
		for _, d := range []time.Duration{0, 300 * time.Millisecond, 301 * time.Millisecond} {
			_, err := intercept(t.Context(), "req", info, func(context.Context, any) (any, error) {
				time.Sleep(d)
				return "resp", nil
			})
			if err != nil {
				t.Fatalf("interceptor error = %v", err)
			}
		}
		checkTotals(t, eng, map[string]tally{
			checkoutAvail:   {Good: 3},
			checkoutLatency: {Good: 2, Bad: 1},
		})
	})
}

// fakeServerStream is the least of a grpc.ServerStream the interceptors
// use.
type fakeServerStream struct {
	grpc.ServerStream
	ctx     context.Context
	trailer metadata.MD
}

func (f *fakeServerStream) Context() context.Context  { return f.ctx }
func (f *fakeServerStream) SetTrailer(md metadata.MD) { f.trailer = metadata.Join(f.trailer, md) }

func TestServerInterceptorPanic(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			eng := newEngine(t)
			s := newServer(t, eng, grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency))
			boom := errors.New("boom")
			var got any
			func() {
				defer func() { got = recover() }()
				if stream {
					_ = s.StreamInterceptor()(nil, &fakeServerStream{ctx: t.Context()}, &grpc.StreamServerInfo{FullMethod: mCheckout},
						func(any, grpc.ServerStream) error { panic(boom) })
				} else {
					_, _ = s.UnaryInterceptor()(t.Context(), nil, &grpc.UnaryServerInfo{FullMethod: mCheckout},
						func(context.Context, any) (any, error) { panic(boom) })
				}
			}()
			if got != boom {
				t.Errorf("recovered %v, want the handler's panic %v", got, boom)
			}
			checkTotals(t, eng, map[string]tally{checkoutAvail: {Bad: 1}, checkoutLatency: {Bad: 1}})
		})
	}
}

// TestShedding drives the shed level to 1 (SHEDDABLE rejected, the rest
// served) and sends calls over the wire, through the interceptors alone
// and through the tap and the interceptors.
func TestShedding(t *testing.T) {
	const (
		trustedKey = "test-trusted" // the trust func trusts callers that send it
		pushback   = "7000"         // Hold 5s + level excess 1 / half a band per second
	)
	tests := []struct {
		name       string
		trust      bool     // the Server has WithTrustedCriticality
		method     string   // mWatch is a stream, the others unary
		md         []string // outgoing metadata, key and value pairs
		served     bool
		wantCrit   string // criticality in the handler's context, when served
		objective  string // where the call is recorded
		trustCalls int64
	}{
		{name: "sheddable method shed", method: mBrowse, objective: browseAvail},
		{name: "critical method served", method: mCheckout, served: true, wantCrit: "none", objective: checkoutAvail},
		{name: "default method served", method: mOther, served: true, wantCrit: "none", objective: serviceAvail},
		{
			name: "untrusted CRITICAL_PLUS ignored", trust: true, method: mBrowse,
			md: []string{grpcslo.CriticalityKey, "CRITICAL_PLUS"}, objective: browseAvail, trustCalls: 1,
		},
		{
			name: "metadata ignored without a trust func", method: mBrowse,
			md: []string{grpcslo.CriticalityKey, "CRITICAL_PLUS", trustedKey, "yes"}, objective: browseAvail,
		},
		{
			name: "trusted CRITICAL_PLUS admitted", trust: true, method: mBrowse,
			md:     []string{grpcslo.CriticalityKey, "CRITICAL_PLUS", trustedKey, "yes"},
			served: true, wantCrit: "CRITICAL_PLUS", objective: browseAvail, trustCalls: 1,
		},
		{
			name: "trusted sheddable-plus admitted", trust: true, method: mBrowse,
			md:     []string{grpcslo.CriticalityKey, "sheddable-plus", trustedKey, "yes"},
			served: true, wantCrit: "SHEDDABLE_PLUS", objective: browseAvail, trustCalls: 1,
		},
		{
			name: "trusted SHEDDABLE on a critical method shed", trust: true, method: mCheckout,
			md: []string{grpcslo.CriticalityKey, "SHEDDABLE", trustedKey, "yes"}, objective: checkoutAvail, trustCalls: 1,
		},
		{
			name: "trusted invalid level ignored", trust: true, method: mBrowse,
			md: []string{grpcslo.CriticalityKey, "URGENT", trustedKey, "yes"}, objective: browseAvail, trustCalls: 1,
		},
		{
			name: "trust func not called without the key", trust: true, method: mCheckout,
			md: []string{trustedKey, "yes"}, served: true, wantCrit: "none", objective: checkoutAvail,
		},
		{name: "sheddable stream shed", method: mWatch, objective: serviceAvail},
		{
			name: "trusted stream admitted", trust: true, method: mWatch,
			md:     []string{grpcslo.CriticalityKey, "CRITICAL_PLUS", trustedKey, "yes"},
			served: true, wantCrit: "CRITICAL_PLUS", objective: serviceAvail, trustCalls: 1,
		},
	}
	for _, withTap := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("tap=%v/%s", withTap, tt.name), func(t *testing.T) {
				eng := newEngine(t, slo.WithShedding(slo.ShedPolicy{}))
				overload(t, eng)
				var trustCalls atomic.Int64
				opts := []grpcslo.Option{
					grpcslo.WithMethod(mCheckout, checkoutAvail),
					grpcslo.WithMethod(mBrowse, browseAvail),
					grpcslo.WithMethodCriticality(mBrowse, slo.Sheddable),
					grpcslo.WithMethodCriticality(mWatch, slo.Sheddable),
					grpcslo.WithDefault(serviceAvail),
				}
				if tt.trust {
					opts = append(opts, grpcslo.WithTrustedCriticality(func(ctx context.Context) bool {
						trustCalls.Add(1)
						v := metadata.ValueFromIncomingContext(ctx, trustedKey)
						return len(v) == 1 && v[0] == "yes"
					}))
				}
				s := newServer(t, eng, opts...)
				critOf := func(ctx context.Context) string {
					if c, ok := slo.CriticalityFrom(ctx); ok {
						return c.String()
					}
					return "none"
				}
				sh := &shop{
					unary: func(ctx context.Context, _ string) (string, error) { return critOf(ctx), nil },
					watch: func(ctx context.Context, _ string, send func(string) error) error { return send(critOf(ctx)) },
				}
				conn := serve(t, sh, withSloguard(s, withTap))
				ctx := metadata.AppendToOutgoingContext(t.Context(), tt.md...)

				var (
					got     string
					trailer metadata.MD
					err     error
				)
				if tt.method == mWatch {
					var msgs []string
					msgs, trailer, err = watch(ctx, conn, "")
					got = strings.Join(msgs, ",")
				} else {
					got, err = call(ctx, conn, tt.method, "", grpc.Trailer(&trailer))
				}

				wantShed, wantDecoded, wantPushback := tally{Shed: 1}, int64(1), pushback
				if withTap {
					wantDecoded, wantPushback = 0, "" // rejected before decoding, and without trailers
				}
				if tt.served {
					if err != nil || got != tt.wantCrit {
						t.Errorf("call(%s) = %q, %v; want %q, nil", tt.method, got, err, tt.wantCrit)
					}
					wantShed, wantDecoded, wantPushback = tally{Good: 1}, 1, ""
				} else {
					if st := status.Convert(err); st.Code() != codes.ResourceExhausted || st.Message() != "overloaded" {
						t.Errorf("call(%s) error = %v, want status RESOURCE_EXHAUSTED \"overloaded\"", tt.method, err)
					}
					if n := sh.called.Load(); n != 0 {
						t.Errorf("handler called %d times, want 0", n)
					}
				}
				if tt.method == mWatch {
					wantDecoded = 0 // the stream handler counts no decoding
				}
				if n := sh.decoded.Load(); n != wantDecoded {
					t.Errorf("requests decoded = %d, want %d", n, wantDecoded)
				}
				if got := strings.Join(trailer[grpcslo.PushbackKey], ","); got != wantPushback {
					t.Errorf("trailer %s = %q, want %q", grpcslo.PushbackKey, got, wantPushback)
				}
				if n := trustCalls.Load(); n != tt.trustCalls {
					t.Errorf("trust func called %d times, want %d", n, tt.trustCalls)
				}
				checkTotals(t, eng, map[string]tally{tt.objective: wantShed})
				// One admission decision per call, whoever made it.
				var rejected uint64
				for _, n := range eng.Status().Shedding.Rejected {
					rejected += n
				}
				if want := wantShed.Shed; rejected != want {
					t.Errorf("Status().Shedding.Rejected sum = %d, want %d", rejected, want)
				}
			})
		}
	}
}

// TestTapHandle calls the tap and the interceptor directly: a call the tap
// admitted is not admitted again by the interceptor, even when the shed
// level rose in between, and the tap passes a trusted criticality on.
func TestTapHandle(t *testing.T) {
	eng := newEngine(t, slo.WithShedding(slo.ShedPolicy{}))
	opts := []grpcslo.Option{
		grpcslo.WithMethod(mBrowse, browseAvail),
		grpcslo.WithMethodCriticality(mBrowse, slo.Sheddable),
		grpcslo.WithTrustedCriticality(func(context.Context) bool { return true }),
	}
	s := newServer(t, eng, opts...)
	other := newServer(t, eng, opts...)
	ctx := t.Context()
	info := &grpc.UnaryServerInfo{FullMethod: mBrowse}
	intercept := func(s *grpcslo.Server, ctx context.Context) (called bool, err error) {
		_, err = s.UnaryInterceptor()(ctx, nil, info, func(context.Context, any) (any, error) {
			called = true
			return nil, nil
		})
		return called, err
	}

	admitted, err := s.TapHandle(ctx, &tap.Info{FullMethodName: mBrowse})
	if err != nil {
		t.Fatalf("TapHandle(%s) before overload: error = %v", mBrowse, err)
	}
	overload(t, eng)
	if _, err := s.TapHandle(ctx, &tap.Info{FullMethodName: mBrowse}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("TapHandle(%s) in overload: error = %v, want RESOURCE_EXHAUSTED", mBrowse, err)
	}
	if called, err := intercept(s, admitted); !called || err != nil {
		t.Errorf("interceptor after the tap admitted: called %v, error %v; want true, nil", called, err)
	}
	if called, err := intercept(other, admitted); called || status.Code(err) != codes.ResourceExhausted {
		t.Errorf("another Server's interceptor after the tap admitted: called %v, error %v; want false, RESOURCE_EXHAUSTED", called, err)
	}

	md := metadata.Pairs(grpcslo.CriticalityKey, "CRITICAL")
	trusted, err := s.TapHandle(ctx, &tap.Info{FullMethodName: mBrowse, Header: md})
	if err != nil {
		t.Fatalf("TapHandle(%s, %v) error = %v", mBrowse, md, err)
	}
	if c, ok := slo.CriticalityFrom(trusted); !ok || c != slo.Critical {
		t.Errorf("CriticalityFrom(TapHandle ctx) = %v, %v; want CRITICAL, true", c, ok)
	}
	checkTotals(t, eng, map[string]tally{browseAvail: {Good: 1, Shed: 2}})
}

// TestBreakerErrors checks what a caller sees when a handler fails because
// a dependency's breaker is open, and that other errors pass unchanged.
func TestBreakerErrors(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		wantCode     codes.Code
		wantMsg      string
		wantPushback string
		want         slo.Outcome
	}{
		{
			name: "breaker open",
			err:  fmt.Errorf("charging card at payments.internal:8443: %w", &slo.BreakerError{Dependency: "payments", RetryAfter: 7 * time.Second}),
			// Shed: it spends the budget but does not drive load shedding.
			wantCode: codes.Unavailable, wantMsg: "dependency unavailable", wantPushback: "7000", want: slo.Shed,
		},
		{
			name:     "sentinel only",
			err:      fmt.Errorf("charging card: %w", slo.ErrBreakerOpen),
			wantCode: codes.Unavailable, wantMsg: "dependency unavailable", want: slo.Shed,
		},
		{
			name:     "plain error unchanged",
			err:      errors.New("boom"),
			wantCode: codes.Unknown, wantMsg: "boom", want: slo.Bad,
		},
		{
			name:     "status error unchanged",
			err:      status.Error(codes.NotFound, "no item"),
			wantCode: codes.NotFound, wantMsg: "no item", want: slo.Good,
		},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				eng := newEngine(t)
				s := newServer(t, eng, grpcslo.WithMethod(mCheckout, checkoutAvail), grpcslo.WithMethod(mWatch, serviceAvail))
				sh := &shop{
					unary: func(context.Context, string) (string, error) { return "", tt.err },
					watch: func(context.Context, string, func(string) error) error { return tt.err },
				}
				conn := serve(t, sh, withSloguard(s, true))
				var (
					trailer metadata.MD
					err     error
				)
				objective := checkoutAvail
				if stream {
					_, trailer, err = watch(t.Context(), conn, "")
					objective = serviceAvail
				} else {
					_, err = call(t.Context(), conn, mCheckout, "", grpc.Trailer(&trailer))
				}
				if st := status.Convert(err); st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
					t.Errorf("call error = %v, want status %v %q", err, tt.wantCode, tt.wantMsg)
				}
				if got := strings.Join(trailer[grpcslo.PushbackKey], ","); got != tt.wantPushback {
					t.Errorf("trailer %s = %q, want %q", grpcslo.PushbackKey, got, tt.wantPushback)
				}
				checkTotals(t, eng, map[string]tally{objective: one(tt.want)})
			})
		}
	}
}

func TestNewServerErrors(t *testing.T) {
	eng := newEngine(t)
	tests := []struct {
		name string
		eng  *slo.Engine
		opts []grpcslo.Option
		want []string // every problem reported
	}{
		{name: "nil engine", want: []string{"nil engine"}},
		{name: "nil option", eng: eng, opts: []grpcslo.Option{nil}, want: []string{"option 0 is nil"}},
		{
			name: "method names",
			eng:  eng,
			opts: []grpcslo.Option{
				grpcslo.WithMethod("Checkout", checkoutAvail),
				grpcslo.WithMethod("/test.Shop", checkoutAvail),
				grpcslo.WithMethod("/test.Shop/", checkoutAvail),
				grpcslo.WithMethod("//Checkout", checkoutAvail),
				grpcslo.WithMethod("/test.Shop/Checkout/x", checkoutAvail),
				grpcslo.WithMethodCriticality("test.Shop/Browse", slo.Sheddable),
			},
			want: []string{`"Checkout"`, `"/test.Shop"`, `"/test.Shop/"`, `"//Checkout"`, `"/test.Shop/Checkout/x"`, `"test.Shop/Browse"`},
		},
		{
			name: "objectives",
			eng:  eng,
			opts: []grpcslo.Option{
				grpcslo.WithMethod(mCheckout),
				grpcslo.WithMethod(mBrowse, browseAvail, browseAvail),
				grpcslo.WithMethod(mOther, "nope"),
				grpcslo.WithMethod(mWatch, paymentsAvail),
				grpcslo.WithDefault(),
			},
			want: []string{
				`method "/test.Shop/Checkout" has no objectives`,
				`objective "browse-availability" is named twice`,
				`unknown objective "nope"`,
				`objective "payments-availability" is of dependency "payments"`,
				"WithDefault with no objectives",
			},
		},
		{
			name: "twice",
			eng:  eng,
			opts: []grpcslo.Option{
				grpcslo.WithMethod(mCheckout, checkoutAvail),
				grpcslo.WithMethod(mCheckout, checkoutLatency),
				grpcslo.WithMethodCriticality(mBrowse, slo.Sheddable),
				grpcslo.WithMethodCriticality(mBrowse, slo.Critical),
			},
			want: []string{`"/test.Shop/Checkout" is given twice`, `"/test.Shop/Browse" criticality is given twice`},
		},
		{
			name: "nil funcs and a bad level",
			eng:  eng,
			opts: []grpcslo.Option{
				grpcslo.WithTrustedCriticality(nil),
				grpcslo.WithCodeClassifier(nil),
				grpcslo.WithMethodCriticality(mBrowse, slo.Criticality(9)),
			},
			want: []string{"nil trust func", "nil code classifier", "criticality CRITICALITY(9) is not a level"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := grpcslo.NewServer(tt.eng, tt.opts...)
			if s != nil || !errors.Is(err, grpcslo.ErrInvalidOption) {
				t.Fatalf("NewServer() = %v, %v; want nil, an error wrapping ErrInvalidOption", s, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewServer() error = %q, want it to mention %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.want) {
				t.Errorf("NewServer() reported %d problems, want %d:\n%v", got, len(tt.want), err)
			}
		})
	}
}

// TestUnaryServerInterceptorAllocs checks that an admitted call allocates
// nothing in the interceptor.
func TestUnaryServerInterceptorAllocs(t *testing.T) {
	eng := newEngine(t, slo.WithShedding(slo.ShedPolicy{}))
	s := newServer(t, eng,
		grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency),
		grpcslo.WithTrustedCriticality(func(context.Context) bool { return true }),
	)
	intercept := s.UnaryInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: mCheckout}
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("user-agent", "test", ":authority", "shop"))
	handler := func(_ context.Context, req any) (any, error) { return req, nil }
	allocs := testing.AllocsPerRun(100, func() { _, _ = intercept(ctx, info, info, handler) })
	if allocs != 0 {
		t.Errorf("UnaryInterceptor allocs per call = %v, want 0", allocs)
	}
}
