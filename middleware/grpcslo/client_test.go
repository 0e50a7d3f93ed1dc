package grpcslo_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// withClient returns the dial options that install c.
func withClient(c *grpcslo.Client) []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(c.UnaryInterceptor()),
		grpc.WithChainStreamInterceptor(c.StreamInterceptor()),
	}
}

func breakerState(eng *slo.Engine) slo.BreakerState {
	b, _ := eng.Breaker("payments")
	return b.State()
}

// TestClientBreaker fails calls to a real server until the breaker opens,
// then checks that calls fail fast without reaching the server.
func TestClientBreaker(t *testing.T) {
	eng := newEngine(t)
	sh := &shop{
		unary: func(context.Context, string) (string, error) { return "", status.Error(codes.Unavailable, "down") },
		watch: func(context.Context, string, func(string) error) error { return nil },
	}
	conn := serve(t, sh, nil, withClient(newClient(t, eng))...)
	ctx := t.Context()
	for i := range 5 { // BreakerPolicy.ConsecutiveFailures
		if _, err := call(ctx, conn, mCheckout, ""); status.Code(err) != codes.Unavailable || errors.Is(err, slo.ErrBreakerOpen) {
			t.Fatalf("call %d error = %v, want the server's UNAVAILABLE", i+1, err)
		}
	}
	if got := breakerState(eng); got != slo.BreakerOpen {
		t.Fatalf("breaker state after 5 failures = %v, want open", got)
	}

	_, err := call(ctx, conn, mCheckout, "")
	_, _, serr := watch(ctx, conn, "")
	for _, err := range []error{err, serr} {
		if status.Code(err) != codes.Unavailable || !errors.Is(err, slo.ErrBreakerOpen) {
			t.Errorf("call with the breaker open: error = %v, want UNAVAILABLE matching slo.ErrBreakerOpen", err)
		}
		var boe *slo.BreakerError
		if !errors.As(err, &boe) || boe.Dependency != "payments" || boe.RetryAfter <= 0 {
			t.Errorf("errors.As(%v, *slo.BreakerError) = %+v, want dependency payments and a RetryAfter", err, boe)
		}
	}
	if n := sh.called.Load(); n != 5 {
		t.Errorf("server called %d times, want 5", n)
	}
	checkTotals(t, eng, map[string]tally{
		paymentsAvail:   {Bad: 5, Shed: 2},
		paymentsLatency: {Bad: 5, Shed: 2},
	})
}

// TestClientClassification calls the unary interceptor directly with an
// invoker that fails with each code.
func TestClientClassification(t *testing.T) {
	for code := codes.OK; code <= codes.Unauthenticated; code++ {
		t.Run(code.String(), func(t *testing.T) {
			eng := newEngine(t)
			intercept := newClient(t, eng).UnaryInterceptor()
			invoke := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
				if code == codes.OK {
					return nil
				}
				return status.Error(code, "x")
			}
			// Ten in a row: a Bad code opens the breaker after five.
			for range 10 {
				_ = intercept(t.Context(), mCheckout, nil, nil, nil, invoke)
			}
			want := tally{}
			switch o := grpcslo.DefaultClientCodeClassifier(code); o {
			case slo.Bad:
				want = tally{Bad: 5, Shed: 5}
			case slo.Good:
				want = tally{Good: 10}
			case slo.Shed:
				want = tally{Shed: 10}
			case slo.Neutral:
				want = tally{Neutral: 10}
			}
			checkTotals(t, eng, map[string]tally{paymentsAvail: want, paymentsLatency: want})
			wantState := slo.BreakerClosed
			if want.Bad > 0 {
				wantState = slo.BreakerOpen
			}
			if got := breakerState(eng); got != wantState {
				t.Errorf("breaker state after 10 × %v = %v, want %v", code, got, wantState)
			}
		})
	}
}

func TestClientCodeClassifier(t *testing.T) {
	eng := newEngine(t)
	c := newClient(t, eng, grpcslo.WithClientCodeClassifier(func(code codes.Code) slo.Outcome {
		if code == codes.ResourceExhausted {
			return slo.Bad // this dependency's quota errors are our outage
		}
		return grpcslo.DefaultClientCodeClassifier(code)
	}))
	invoke := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		return status.Error(codes.ResourceExhausted, "quota")
	}
	_ = c.UnaryInterceptor()(t.Context(), mCheckout, nil, nil, nil, invoke)
	checkTotals(t, eng, map[string]tally{paymentsAvail: {Bad: 1}, paymentsLatency: {Bad: 1}})
}

// TestClientCriticality checks that the context's criticality, and only
// it, reaches the server's metadata.
func TestClientCriticality(t *testing.T) {
	eng := newEngine(t)
	sent := func(ctx context.Context) string {
		return strings.Join(metadata.ValueFromIncomingContext(ctx, grpcslo.CriticalityKey), ",")
	}
	sh := &shop{
		unary: func(ctx context.Context, _ string) (string, error) { return sent(ctx), nil },
		watch: func(ctx context.Context, _ string, send func(string) error) error { return send(sent(ctx)) },
	}
	conn := serve(t, sh, nil, withClient(newClient(t, eng))...)
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"none", t.Context(), ""},
		{"sheddable", slo.WithCriticality(t.Context(), slo.Sheddable), "SHEDDABLE"},
		{"critical plus", slo.WithCriticality(t.Context(), slo.CriticalPlus), "CRITICAL_PLUS"},
		{"critical", slo.WithCriticality(t.Context(), slo.Critical), "CRITICAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := call(tt.ctx, conn, mCheckout, ""); got != tt.want || err != nil {
				t.Errorf("unary: server saw %s = %q, %v; want %q, nil", grpcslo.CriticalityKey, got, err, tt.want)
			}
			msgs, _, err := watch(tt.ctx, conn, "")
			if got := strings.Join(msgs, ""); got != tt.want || err != nil {
				t.Errorf("stream: server saw %s = %q, %v; want %q, nil", grpcslo.CriticalityKey, got, err, tt.want)
			}
		})
	}
}

// TestClientStream checks that streams to a real server are recorded
// exactly once, when they end.
func TestClientStream(t *testing.T) {
	eng := newEngine(t)
	sh := &shop{watch: func(ctx context.Context, in string, send func(string) error) error {
		switch in {
		case "ok":
			for i := range 3 {
				if err := send(strconv.Itoa(i)); err != nil {
					return err
				}
			}
			return nil
		case "hang":
			if err := send("first"); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		case "internal":
			_ = send("first")
			return status.Error(codes.Internal, "x")
		}
		return status.Error(codes.ResourceExhausted, "overloaded")
	}}
	conn := serve(t, sh, nil, withClient(newClient(t, eng))...)

	open := func(ctx context.Context, in string) grpc.ClientStream {
		t.Helper()
		st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, mWatch)
		if err != nil {
			t.Fatalf("NewStream() error = %v", err)
		}
		if err := st.SendMsg(wrapperspb.String(in)); err != nil {
			t.Fatalf("SendMsg() error = %v", err)
		}
		if err := st.CloseSend(); err != nil {
			t.Fatalf("CloseSend() error = %v", err)
		}
		return st
	}
	recvAll := func(st grpc.ClientStream) error {
		for {
			if err := st.RecvMsg(new(wrapperspb.StringValue)); err != nil {
				return err
			}
		}
	}
	want := map[string]tally{}
	check := func(o slo.Outcome) {
		t.Helper()
		w := want[paymentsAvail]
		switch o {
		case slo.Good:
			w.Good++
		case slo.Bad:
			w.Bad++
		case slo.Shed:
			w.Shed++
		case slo.Neutral:
			w.Neutral++
		}
		want[paymentsAvail], want[paymentsLatency] = w, w
		checkTotals(t, eng, want)
	}

	// Read to the end, then once more.
	st := open(t.Context(), "ok")
	if err := recvAll(st); err != io.EOF {
		t.Errorf("RecvMsg() error = %v, want io.EOF", err)
	}
	if err := st.RecvMsg(new(wrapperspb.StringValue)); err != io.EOF {
		t.Errorf("RecvMsg() after the end error = %v, want io.EOF", err)
	}
	check(slo.Good)

	if err := recvAll(open(t.Context(), "internal")); status.Code(err) != codes.Internal {
		t.Errorf("RecvMsg() error = %v, want INTERNAL", err)
	}
	check(slo.Bad)

	if err := recvAll(open(t.Context(), "exhausted")); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("RecvMsg() error = %v, want RESOURCE_EXHAUSTED", err)
	}
	check(slo.Shed)

	// Cancelled by the caller mid-stream: the context's callback and
	// RecvMsg race to record it; once.
	ctx, cancel := context.WithCancel(t.Context())
	st = open(ctx, "hang")
	if err := st.RecvMsg(new(wrapperspb.StringValue)); err != nil {
		t.Fatalf("RecvMsg() error = %v", err)
	}
	cancel()
	if err := recvAll(st); status.Code(err) != codes.Canceled {
		t.Errorf("RecvMsg() after cancel error = %v, want CANCELLED", err)
	}
	check(slo.Neutral)

	// Client streaming: the one response ends the stream.
	st, err := conn.NewStream(t.Context(), &grpc.StreamDesc{ClientStreams: true}, mCollect)
	if err != nil {
		t.Fatalf("NewStream(%s) error = %v", mCollect, err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := st.SendMsg(wrapperspb.String(v)); err != nil {
			t.Fatalf("SendMsg() error = %v", err)
		}
	}
	if err := st.CloseSend(); err != nil {
		t.Fatalf("CloseSend() error = %v", err)
	}
	got := new(wrapperspb.StringValue)
	if err := st.RecvMsg(got); err != nil || got.GetValue() != "abc" {
		t.Errorf("RecvMsg() = %q, %v; want \"abc\", nil", got.GetValue(), err)
	}
	check(slo.Good)
}

// fakeClientStream is a grpc.ClientStream whose RecvMsg returns recv, in
// order, then io.EOF, and whose SendMsg returns send.
type fakeClientStream struct {
	grpc.ClientStream
	recv []error
	send error
}

func (f *fakeClientStream) RecvMsg(any) error {
	if len(f.recv) == 0 {
		return io.EOF
	}
	err := f.recv[0]
	f.recv = f.recv[1:]
	return err
}

func (f *fakeClientStream) SendMsg(any) error { return f.send }

// TestClientStreamEnds calls the stream interceptor directly in a synctest
// bubble: streams that end by their context, by SendMsg, by the streamer,
// slowly. The bubble also checks that no goroutine outlives the streams.
func TestClientStreamEnds(t *testing.T) {
	streamer := func(fake *fakeClientStream, err error) grpc.Streamer {
		return func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
			if err != nil {
				return nil, err
			}
			return fake, nil
		}
	}
	tests := []struct {
		name string
		fake *fakeClientStream
		err  error // the streamer's
		// use uses the stream; cancel cancels its context.
		use  func(t *testing.T, st grpc.ClientStream, cancel func())
		want map[string]tally
	}{
		{
			name: "cancelled without reading",
			fake: &fakeClientStream{},
			use:  func(_ *testing.T, _ grpc.ClientStream, cancel func()) { cancel() },
			want: map[string]tally{paymentsAvail: {Neutral: 1}, paymentsLatency: {Neutral: 1}},
		},
		{
			name: "deadline without reading",
			fake: &fakeClientStream{},
			use:  func(*testing.T, grpc.ClientStream, func()) { time.Sleep(2 * time.Second) }, // past the 1s deadline
			want: map[string]tally{paymentsAvail: {Bad: 1}, paymentsLatency: {Bad: 1}},
		},
		{
			name: "EOF, then cancelled",
			fake: &fakeClientStream{recv: []error{nil}},
			use: func(t *testing.T, st grpc.ClientStream, cancel func()) {
				for st.RecvMsg(nil) == nil {
				}
				cancel()
			},
			want: map[string]tally{paymentsAvail: {Good: 1}, paymentsLatency: {Good: 1}},
		},
		{
			name: "slow",
			fake: &fakeClientStream{},
			use: func(t *testing.T, st grpc.ClientStream, _ func()) {
				time.Sleep(150 * time.Millisecond) // over payments-latency's 100ms
				_ = st.RecvMsg(nil)
			},
			want: map[string]tally{paymentsAvail: {Good: 1}, paymentsLatency: {Bad: 1}},
		},
		{
			name: "SendMsg fails",
			fake: &fakeClientStream{send: status.Error(codes.Internal, "marshal")},
			use: func(t *testing.T, st grpc.ClientStream, cancel func()) {
				_ = st.SendMsg(nil)
				cancel()
			},
			want: map[string]tally{paymentsAvail: {Bad: 1}, paymentsLatency: {Bad: 1}},
		},
		{
			name: "SendMsg io.EOF, status from RecvMsg",
			fake: &fakeClientStream{send: io.EOF, recv: []error{status.Error(codes.NotFound, "x")}},
			use: func(t *testing.T, st grpc.ClientStream, _ func()) {
				if err := st.SendMsg(nil); err != io.EOF {
					t.Errorf("SendMsg() error = %v, want io.EOF", err)
				}
				_ = st.RecvMsg(nil)
			},
			want: map[string]tally{paymentsAvail: {Good: 1}, paymentsLatency: {Good: 1}},
		},
		{
			name: "streamer fails",
			err:  status.Error(codes.Unavailable, "no connection"),
			want: map[string]tally{paymentsAvail: {Bad: 1}, paymentsLatency: {Bad: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				intercept := newClient(t, eng).StreamInterceptor()
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				st, err := intercept(ctx, &grpc.StreamDesc{ServerStreams: true}, nil, mWatch, streamer(tt.fake, tt.err))
				if (err != nil) != (tt.err != nil) {
					t.Fatalf("interceptor error = %v, want %v", err, tt.err)
				}
				if tt.use != nil {
					tt.use(t, st, cancel)
				}
				synctest.Wait() // for the context's callback
				checkTotals(t, eng, tt.want)
			})
		})
	}
}

// TestServerMapsClientError chains the two sides: a handler whose call to
// its dependency fails fast, because the breaker is open, answers its own
// caller UNAVAILABLE with a retry hint and no internal text.
func TestServerMapsClientError(t *testing.T) {
	eng := newEngine(t)
	payments := &shop{unary: func(context.Context, string) (string, error) {
		return "", status.Error(codes.Internal, "ledger locked")
	}}
	paymentsConn := serve(t, payments, nil, withClient(newClient(t, eng))...)
	checkout := &shop{unary: func(ctx context.Context, _ string) (string, error) {
		return call(ctx, paymentsConn, mCheckout, "")
	}}
	s := newServer(t, eng, grpcslo.WithMethod(mCheckout, checkoutAvail))
	conn := serve(t, checkout, withSloguard(s, true))

	for i := range 6 {
		var trailer metadata.MD
		_, err := call(t.Context(), conn, mCheckout, "", grpc.Trailer(&trailer))
		st := status.Convert(err)
		if i < 5 {
			// The dependency's own error passes on unchanged, as any
			// status error does.
			if st.Code() != codes.Internal || st.Message() != "ledger locked" {
				t.Errorf("call %d error = %v, want INTERNAL \"ledger locked\"", i+1, err)
			}
			continue
		}
		if st.Code() != codes.Unavailable || st.Message() != "dependency unavailable" {
			t.Errorf("call %d error = %v, want UNAVAILABLE \"dependency unavailable\"", i+1, err)
		}
		ms, _ := strconv.Atoi(strings.Join(trailer[grpcslo.PushbackKey], ","))
		if ms <= 0 || ms > 10000 {
			t.Errorf("call %d trailer %s = %q, want (0, 10000] ms: the breaker's RetryAfter", i+1, grpcslo.PushbackKey, trailer[grpcslo.PushbackKey])
		}
	}
	if n := payments.called.Load(); n != 5 {
		t.Errorf("dependency called %d times, want 5", n)
	}
	checkTotals(t, eng, map[string]tally{
		checkoutAvail:   {Bad: 5, Shed: 1}, // the last call failed fast downstream
		paymentsAvail:   {Bad: 5, Shed: 1},
		paymentsLatency: {Bad: 5, Shed: 1},
	})
}

func TestNewClientErrors(t *testing.T) {
	eng := newEngine(t)
	tests := []struct {
		name string
		eng  *slo.Engine
		dep  string
		opts []grpcslo.ClientOption
		want []string
	}{
		{name: "nil engine", dep: "payments", want: []string{"nil engine"}},
		{name: "unknown dependency", eng: eng, dep: "ledger", want: []string{`no objective has dependency "ledger"`}},
		{name: "empty dependency", eng: eng, want: []string{`no objective has dependency ""`}},
		{
			name: "options", eng: eng, dep: "ledger",
			opts: []grpcslo.ClientOption{nil, grpcslo.WithClientCodeClassifier(nil)},
			want: []string{"client option 0 is nil", "nil client code classifier", `dependency "ledger"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := grpcslo.NewClient(tt.eng, tt.dep, tt.opts...)
			if c != nil || !errors.Is(err, grpcslo.ErrInvalidOption) {
				t.Fatalf("NewClient() = %v, %v; want nil, an error wrapping ErrInvalidOption", c, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewClient() error = %q, want it to mention %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.want) {
				t.Errorf("NewClient() reported %d problems, want %d:\n%v", got, len(tt.want), err)
			}
		})
	}
}

// TestClientStreamConnClosed ends streams only by closing their
// grpc.ClientConn: the caller neither reads them to their end nor cancels
// their context, which gRPC allows. Each is recorded once, as gRPC ends it
// (CANCELLED: neutral), so a half-open breaker's probe slot is released:
// the next call is a new probe, not ErrBreakerOpen.
func TestClientStreamConnClosed(t *testing.T) {
	eng := newEngine(t, slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: time.Nanosecond}))
	for range 5 { // open the breaker; it is half-open as soon as it is read
		done, err := mustBreaker(t, eng).Allow()
		if err != nil {
			t.Fatal(err)
		}
		done(slo.Bad, 0)
	}
	sh := &shop{watch: func(ctx context.Context, _ string, send func(string) error) error {
		if err := send("first"); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}}
	conn := serve(t, sh, nil, withClient(newClient(t, eng))...)
	st, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, mWatch)
	if err != nil {
		t.Fatalf("NewStream() (the probe) error = %v", err)
	}
	if err := st.SendMsg(wrapperspb.String("")); err != nil {
		t.Fatalf("SendMsg() error = %v", err)
	}
	if err := st.RecvMsg(new(wrapperspb.StringValue)); err != nil {
		t.Fatalf("RecvMsg() error = %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	<-st.Context().Done() // gRPC has finished the stream
	want := tally{Bad: 5, Neutral: 1}
	checkTotals(t, eng, map[string]tally{paymentsAvail: want, paymentsLatency: want})
	if done, err := mustBreaker(t, eng).Allow(); err != nil {
		t.Errorf("Allow() after the probe's stream ended = %v, want a new probe allowed", err)
	} else {
		done(slo.Good, 0)
	}
}

func mustBreaker(t *testing.T, eng *slo.Engine) *slo.Breaker {
	t.Helper()
	b, err := eng.Breaker("payments")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
