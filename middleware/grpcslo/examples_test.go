package grpcslo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

func ExampleNewServer() {
	eng, err := slo.New([]slo.Objective{
		{Name: "health-availability", Target: 0.999},
		{Name: "service-availability", Target: 0.99},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()), // an application passes its own
	)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	s, err := grpcslo.NewServer(eng,
		grpcslo.WithMethod("/grpc.health.v1.Health/Check", "health-availability"),
		grpcslo.WithMethodCriticality("/grpc.health.v1.Health/List", slo.Sheddable),
		grpcslo.WithDefault("service-availability"),
	)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.InTapHandle(s.TapHandle),
		grpc.ChainUnaryInterceptor(s.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(s.StreamInterceptor()),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis := bufconn.Listen(1 << 16) // in memory; a service listens on a port
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///health",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx := context.Background()

	for _, service := range []string{"", "payments"} {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			fmt.Printf("Check %q: %v\n", service, status.Code(err))
			continue
		}
		fmt.Printf("Check %q: %v\n", service, resp.GetStatus())
	}
	if resp, err := client.List(ctx, &healthpb.HealthListRequest{}); err == nil {
		fmt.Printf("List: %d services\n", len(resp.GetStatuses()))
	}

	// A started engine evaluates about once a second; here, once by hand.
	eng.Tick(time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC))
	for _, o := range eng.Status().Objectives {
		fmt.Printf("%s: good %d, bad %d\n", o.Objective.Name, o.Totals.Good, o.Totals.Bad)
	}
	// Output:
	// Check "": SERVING
	// Check "payments": NotFound
	// List: 1 services
	// health-availability: good 2, bad 0
	// service-availability: good 1, bad 0
}

func ExampleNewClient() {
	eng, err := slo.New([]slo.Objective{
		{Name: "inventory-availability", Target: 0.99, Dependency: "inventory"},
	},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	// The inventory service is restarting: every call fails.
	var reached atomic.Int64
	var criticality atomic.Value
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		reached.Add(1)
		criticality.Store(metadata.ValueFromIncomingContext(stream.Context(), grpcslo.CriticalityKey))
		return status.Error(codes.Unavailable, "restarting")
	}))
	lis := bufconn.Listen(1 << 16)
	go srv.Serve(lis)
	defer srv.Stop()

	c, err := grpcslo.NewClient(eng, "inventory")
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient("passthrough:///inventory",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(c.UnaryInterceptor()),
		grpc.WithChainStreamInterceptor(c.StreamInterceptor()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	inventory := healthpb.NewHealthClient(conn) // any generated client

	// A prefetch: the server may shed it first.
	ctx := slo.WithCriticality(context.Background(), slo.Sheddable)
	for i := 1; i <= 7; i++ {
		_, err := inventory.Check(ctx, &healthpb.HealthCheckRequest{})
		fmt.Printf("call %d: %v, breaker open: %v\n", i, status.Code(err), errors.Is(err, slo.ErrBreakerOpen))
	}
	fmt.Printf("inventory reached %d times, with %s %v\n", reached.Load(), grpcslo.CriticalityKey, criticality.Load())
	// Output:
	// call 1: Unavailable, breaker open: false
	// call 2: Unavailable, breaker open: false
	// call 3: Unavailable, breaker open: false
	// call 4: Unavailable, breaker open: false
	// call 5: Unavailable, breaker open: false
	// call 6: Unavailable, breaker open: true
	// call 7: Unavailable, breaker open: true
	// inventory reached 5 times, with sloguard-criticality [SHEDDABLE]
}
