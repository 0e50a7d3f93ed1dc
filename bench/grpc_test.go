package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

const (
	method = "/shop.Items/Get"
	// otelgrpc's server call duration histogram (the semantic
	// conventions' name): one data point count per call.
	otelRPCDurationMetric = "rpc.server.call.duration"
)

// call is one unary call as the gRPC server makes it, in process: what a
// subject adds around the handler, called directly so that only the
// instrumentation is timed, not the transport.
type call func(ctx context.Context) error

// handler is the method's handler: it only answers.
func handler(_ context.Context, req any) (any, error) { return req, nil }

// incoming is what gRPC puts in a call's context, roughly.
func incoming() context.Context {
	md := metadata.Pairs(":authority", "shop", "content-type", "application/grpc", "user-agent", "grpc-go/1.84.0")
	ctx := metadata.NewIncomingContext(context.Background(), md)
	return peer.NewContext(ctx, &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50051}})
}

// calls returns the source of one call of c: each goroutine reuses its
// own incoming context.
func calls(c call) func() op {
	return func() op {
		ctx := incoming()
		return func() error { return c(ctx) }
	}
}

// sloguardGRPC is sloguard's server interceptor on the method, with its
// availability and latency objectives, and shedding as given.
func sloguardGRPC(opts ...slo.Option) func(b *testing.B) (func() op, func(*testing.B, int)) {
	return func(b *testing.B) (func() op, func(*testing.B, int)) {
		eng, reader := newEngine(b, itemsObjectives(), opts...)
		if err := eng.Start(); err != nil {
			b.Fatalf("Engine.Start: %v", err)
		}
		s, err := grpcslo.NewServer(eng, grpcslo.WithMethod(method, availObj, latObj))
		if err != nil {
			b.Fatalf("grpcslo.NewServer: %v", err)
		}
		i := s.UnaryInterceptor()
		info := &grpc.UnaryServerInfo{FullMethod: method}
		return calls(func(ctx context.Context) error {
			_, err := i(ctx, info, info, handler)
			return err
		}), countsEvents(reader)
	}
}

var grpcSubjects = []subject{
	{"bare", func(*testing.B) (func() op, func(*testing.B, int)) {
		return calls(func(ctx context.Context) error {
			_, err := handler(ctx, nil)
			return err
		}), nothing
	}},
	{"otelgrpc", func(b *testing.B) (func() op, func(*testing.B, int)) {
		mp, reader := newMeterProvider(b)
		h := otelgrpc.NewServerHandler(otelgrpc.WithMeterProvider(mp), otelgrpc.WithTracerProvider(noop.NewTracerProvider()))
		tag := &stats.RPCTagInfo{FullMethodName: method}
		// The events gRPC reports to a stats handler for one unary call,
		// built per call as gRPC builds them.
		return calls(func(ctx context.Context) error {
			begin := time.Now()
			ctx = h.TagRPC(ctx, tag)
			h.HandleRPC(ctx, &stats.Begin{BeginTime: begin})
			h.HandleRPC(ctx, &stats.InHeader{FullMethod: method})
			h.HandleRPC(ctx, &stats.InPayload{Length: 16, RecvTime: begin})
			_, err := handler(ctx, nil)
			h.HandleRPC(ctx, &stats.OutHeader{})
			h.HandleRPC(ctx, &stats.OutPayload{Length: 16, SentTime: time.Now()})
			h.HandleRPC(ctx, &stats.OutTrailer{})
			h.HandleRPC(ctx, &stats.End{BeginTime: begin, EndTime: time.Now(), Error: err})
			return err
		}), countsHistogram(reader, "otelgrpc", otelRPCDurationMetric)
	}},
	{"sloguard", sloguardGRPC()},
	{"sloguard-shed", sloguardGRPC(slo.WithShedding(slo.ShedPolicy{}))},
}

// BenchmarkGRPC compares the cost of one unary call, in process: the
// handler alone, behind otelgrpc's server stats handler (metrics to an SDK
// MeterProvider, no-op tracing; the events gRPC would report, in order),
// and behind sloguard's server interceptor, without and with shedding (the
// concurrency gate). See the package doc for how to read the results.
func BenchmarkGRPC(b *testing.B) { runSubjects(b, grpcSubjects) }
