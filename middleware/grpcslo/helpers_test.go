package grpcslo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// The objectives of every test engine.
const (
	checkoutAvail   = "checkout-availability"
	checkoutLatency = "checkout-latency" // 300ms
	browseAvail     = "browse-availability"
	serviceAvail    = "service-availability"
	paymentsAvail   = "payments-availability" // dependency "payments"
	paymentsLatency = "payments-latency"      // dependency "payments", 100ms
	// overloadAvail is recorded into directly to drive the shed level; the
	// totals helpers leave it out.
	overloadAvail = "overload-availability"
)

var testObjectives = []slo.Objective{
	{Name: checkoutAvail, Target: 0.999},
	{Name: checkoutLatency, Target: 0.99, Latency: 300 * time.Millisecond},
	{Name: browseAvail, Target: 0.99},
	{Name: serviceAvail, Target: 0.99},
	{Name: paymentsAvail, Target: 0.99, Dependency: "payments"},
	{Name: paymentsLatency, Target: 0.99, Latency: 100 * time.Millisecond, Dependency: "payments"},
	{Name: overloadAvail, Target: 0.99},
}

// The methods of the test service.
const (
	mCheckout = "/test.Shop/Checkout" // unary
	mBrowse   = "/test.Shop/Browse"   // unary
	mOther    = "/test.Shop/Other"    // unary, never given a WithMethod
	mWatch    = "/test.Shop/Watch"    // server streaming
	mCollect  = "/test.Shop/Collect"  // client streaming
)

// t0 is the time of the first evaluation in tests that drive the engine.
var t0 = time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)

// newEngine returns an engine that is never started, logs nowhere and
// exports through a noop MeterProvider, so tests touch no globals.
func newEngine(tb testing.TB, opts ...slo.Option) *slo.Engine {
	tb.Helper()
	opts = append([]slo.Option{
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	}, opts...)
	eng, err := slo.New(testObjectives, opts...)
	if err != nil {
		tb.Fatalf("slo.New() error = %v", err)
	}
	tb.Cleanup(func() { _ = eng.Close() })
	return eng
}

func newServer(tb testing.TB, eng *slo.Engine, opts ...grpcslo.Option) *grpcslo.Server {
	tb.Helper()
	s, err := grpcslo.NewServer(eng, opts...)
	if err != nil {
		tb.Fatalf("NewServer() error = %v", err)
	}
	return s
}

func newClient(tb testing.TB, eng *slo.Engine, opts ...grpcslo.ClientOption) *grpcslo.Client {
	tb.Helper()
	c, err := grpcslo.NewClient(eng, "payments", opts...)
	if err != nil {
		tb.Fatalf("NewClient() error = %v", err)
	}
	return c
}

// overload drives eng's shed level to exactly 1 (two hot evaluations): all
// SHEDDABLE traffic rejected, everything else served. The engine's clock
// then stands at t0+1s. Ten CRITICAL_PLUS requests, half the gate's
// initial limit, stay in flight until the test ends, so that the
// concurrency gate sees a busy service: the controller sheds only then.
func overload(tb testing.TB, eng *slo.Engine) {
	tb.Helper()
	rt, err := eng.Route(slo.CriticalPlus)
	if err != nil {
		tb.Fatal(err)
	}
	for range 10 {
		tk, _, ok := rt.Admit(slo.CriticalPlus)
		if !ok {
			tb.Fatal("CRITICAL_PLUS request rejected")
		}
		tb.Cleanup(func() { tk.Done(slo.Good) })
	}
	for range 100 {
		if err := eng.Record(overloadAvail, slo.Bad, 0); err != nil {
			tb.Fatal(err)
		}
	}
	eng.Tick(t0)
	eng.Tick(t0.Add(time.Second))
	if got := eng.Status().Shedding.Level; got != 1 {
		tb.Fatalf("Status().Shedding.Level = %v, want 1", got)
	}
}

// tally is what one objective recorded.
type tally struct{ Good, Bad, Shed, Neutral uint64 }

func (c tally) String() string {
	return fmt.Sprintf("{good %d bad %d shed %d neutral %d}", c.Good, c.Bad, c.Shed, c.Neutral)
}

// one returns the tally of a single event of outcome o.
func one(o slo.Outcome) tally {
	switch o {
	case slo.Good:
		return tally{Good: 1}
	case slo.Bad:
		return tally{Bad: 1}
	case slo.Shed:
		return tally{Shed: 1}
	}
	return tally{Neutral: 1}
}

// totals evaluates eng, at the time of its latest evaluation so that the
// shed level stays where it is, and returns the objectives other than
// overloadAvail that recorded anything.
func totals(tb testing.TB, eng *slo.Engine) map[string]tally {
	tb.Helper()
	eng.Tick(eng.Status().Time)
	got := map[string]tally{}
	for _, o := range eng.Status().Objectives {
		c := tally{o.Totals.Good, o.Totals.Bad, o.Totals.Shed, o.Neutral}
		if c != (tally{}) && o.Objective.Name != overloadAvail {
			got[o.Objective.Name] = c
		}
	}
	return got
}

// checkTotals fails the test unless eng recorded exactly want.
func checkTotals(tb testing.TB, eng *slo.Engine, want map[string]tally) {
	tb.Helper()
	got := totals(tb, eng)
	for name, w := range want {
		if got[name] != w {
			tb.Errorf("Status().Objective(%q) totals = %v, want %v", name, got[name], w)
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			tb.Errorf("Status().Objective(%q) totals = %v, want nothing recorded", name, g)
		}
	}
}

// shop is the test service. Its unary methods (Checkout, Browse, Other)
// call unary; Watch sends what watch sends; Collect answers with the
// messages it received, joined. Like generated code, the unary methods
// decode the request before the interceptor runs.
type shop struct {
	decoded atomic.Int64 // requests decoded, by the unary methods
	called  atomic.Int64 // handler calls, of every method
	unary   func(ctx context.Context, in string) (string, error)
	watch   func(ctx context.Context, in string, send func(string) error) error
}

func (s *shop) desc() *grpc.ServiceDesc {
	d := &grpc.ServiceDesc{
		ServiceName: "test.Shop",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{
			{StreamName: "Watch", ServerStreams: true, Handler: watchHandler},
			{StreamName: "Collect", ClientStreams: true, Handler: collectHandler},
		},
	}
	for _, name := range []string{"Checkout", "Browse", "Other"} {
		d.Methods = append(d.Methods, grpc.MethodDesc{MethodName: name, Handler: unaryHandler("/test.Shop/" + name)})
	}
	return d
}

func unaryHandler(fullMethod string) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		s := srv.(*shop)
		in := new(wrapperspb.StringValue)
		s.decoded.Add(1)
		if err := dec(in); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, req any) (any, error) {
			s.called.Add(1)
			out, err := s.unary(ctx, req.(*wrapperspb.StringValue).GetValue())
			if err != nil {
				return nil, err
			}
			return wrapperspb.String(out), nil
		}
		if interceptor == nil {
			return h(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}, h)
	}
}

func watchHandler(srv any, stream grpc.ServerStream) error {
	s := srv.(*shop)
	s.called.Add(1)
	in := new(wrapperspb.StringValue)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	return s.watch(stream.Context(), in.GetValue(), func(v string) error {
		return stream.SendMsg(wrapperspb.String(v))
	})
}

func collectHandler(srv any, stream grpc.ServerStream) error {
	s := srv.(*shop)
	s.called.Add(1)
	var all string
	for {
		in := new(wrapperspb.StringValue)
		err := stream.RecvMsg(in)
		if err == io.EOF {
			return stream.SendMsg(wrapperspb.String(all))
		}
		if err != nil {
			return err
		}
		all += in.GetValue()
	}
}

// serve starts a grpc.Server with sh on an in-memory listener and returns a
// connection to it. Both are closed when the test ends.
func serve(tb testing.TB, sh *shop, srvOpts []grpc.ServerOption, dialOpts ...grpc.DialOption) *grpc.ClientConn {
	tb.Helper()
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer(srvOpts...)
	srv.RegisterService(sh.desc(), sh)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient("passthrough:///bufconn", append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, dialOpts...)...)
	if err != nil {
		tb.Fatalf("grpc.NewClient() error = %v", err)
	}
	tb.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return conn
}

// withSloguard returns the server options that install s: its interceptors,
// and its tap handle if tap.
func withSloguard(s *grpcslo.Server, tap bool) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.StreamInterceptor()),
	}
	if tap {
		opts = append(opts, grpc.InTapHandle(s.TapHandle))
	}
	return opts
}

// call makes one unary call of method with in.
func call(ctx context.Context, conn *grpc.ClientConn, method, in string, opts ...grpc.CallOption) (string, error) {
	out := new(wrapperspb.StringValue)
	err := conn.Invoke(ctx, method, wrapperspb.String(in), out, opts...)
	return out.GetValue(), err
}

// watch calls Watch with in and reads the stream to its end. It returns the
// messages received, the trailer, and the stream's final error (nil for
// io.EOF).
func watch(ctx context.Context, conn *grpc.ClientConn, in string) ([]string, metadata.MD, error) {
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, mWatch)
	if err != nil {
		return nil, nil, err
	}
	if err := st.SendMsg(wrapperspb.String(in)); err != nil && err != io.EOF {
		return nil, st.Trailer(), err
	}
	if err := st.CloseSend(); err != nil {
		return nil, st.Trailer(), err
	}
	var got []string
	for {
		m := new(wrapperspb.StringValue)
		err := st.RecvMsg(m)
		if err == io.EOF {
			return got, st.Trailer(), nil
		}
		if err != nil {
			return got, st.Trailer(), err
		}
		got = append(got, m.GetValue())
	}
}
