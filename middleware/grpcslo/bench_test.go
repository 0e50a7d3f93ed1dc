package grpcslo_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// BenchmarkUnaryServerInterceptor measures one admitted call through the
// server interceptor, called directly, against a no-op interceptor: the
// difference is what sloguard adds. The method has an availability and a
// latency objective, and shedding is on (at level 0). The variants:
//
//   - sloguard: no WithTrustedCriticality;
//   - trust-func: with one, and a call without the metadata key (the
//     interceptor looks for it);
//   - trusted-key: with one, and a call that sends CRITICAL_PLUS;
//   - after-tap: a call that TapHandle admitted (the setup doc.go
//     recommends), with a trust func.
func BenchmarkUnaryServerInterceptor(b *testing.B) {
	eng := newEngine(b, slo.WithShedding(slo.ShedPolicy{}))
	objectives := grpcslo.WithMethod(mCheckout, checkoutAvail, checkoutLatency)
	plain := newServer(b, eng, objectives)
	trusting := newServer(b, eng, objectives,
		grpcslo.WithTrustedCriticality(func(context.Context) bool { return true }))
	noop := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(ctx, req)
	}
	info := &grpc.UnaryServerInfo{FullMethod: mCheckout}
	handler := func(_ context.Context, req any) (any, error) { return req, nil }
	// What gRPC puts in a call's context, roughly.
	md := metadata.Pairs(":authority", "shop", "content-type", "application/grpc", "user-agent", "grpc-go/1.84.0")
	ctx := metadata.NewIncomingContext(context.Background(), md)
	mdCrit := metadata.Join(md, metadata.Pairs(grpcslo.CriticalityKey, "CRITICAL_PLUS"))
	ctxCrit := metadata.NewIncomingContext(context.Background(), mdCrit)
	ctxTap, err := trusting.TapHandle(ctx, &tap.Info{FullMethodName: mCheckout, Header: md})
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name string
		ctx  context.Context
		i    grpc.UnaryServerInterceptor
	}{
		{"noop", ctx, noop},
		{"sloguard", ctx, plain.UnaryInterceptor()},
		{"trust-func", ctx, trusting.UnaryInterceptor()},
		{"trusted-key", ctxCrit, trusting.UnaryInterceptor()},
		{"after-tap", ctxTap, trusting.UnaryInterceptor()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, _ = bm.i(bm.ctx, info, info, handler)
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						_, _ = bm.i(bm.ctx, info, info, handler)
					}
				})
			})
		})
	}
}

// BenchmarkTapHandle measures the tap's admission of one call.
func BenchmarkTapHandle(b *testing.B) {
	eng := newEngine(b, slo.WithShedding(slo.ShedPolicy{}))
	s := newServer(b, eng, grpcslo.WithMethod(mCheckout, checkoutAvail))
	info := &tap.Info{FullMethodName: mCheckout, Header: metadata.Pairs(":authority", "shop")}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = s.TapHandle(ctx, info)
	}
}

// BenchmarkUnaryClientInterceptor measures one call through the client
// interceptor, with an invoker that returns at once, against a no-op
// interceptor.
func BenchmarkUnaryClientInterceptor(b *testing.B) {
	eng := newEngine(b)
	c := newClient(b, eng)
	invoke := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	noop := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	for _, bm := range []struct {
		name string
		ctx  context.Context
		i    grpc.UnaryClientInterceptor
	}{
		{"noop", context.Background(), noop},
		{"sloguard", context.Background(), c.UnaryInterceptor()},
		{"sloguard-criticality", slo.WithCriticality(context.Background(), slo.Sheddable), c.UnaryInterceptor()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = bm.i(bm.ctx, mCheckout, nil, nil, nil, invoke)
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						_ = bm.i(bm.ctx, mCheckout, nil, nil, nil, invoke)
					}
				})
			})
		})
	}
}
