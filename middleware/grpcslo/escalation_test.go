package grpcslo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// seen reports what a handler saw of its criticality: the context's, and
// the values of CriticalityKey in its incoming metadata.
func seen(ctx context.Context) string {
	c := "none"
	if v, ok := slo.CriticalityFrom(ctx); ok {
		c = v.String()
	}
	return fmt.Sprintf("ctx=%s md=%s", c, strings.Join(metadata.ValueFromIncomingContext(ctx, grpcslo.CriticalityKey), ","))
}

// TestForwardedCriticality chains three parties over real gRPC: an
// anonymous caller sends a forged CRITICAL_PLUS to a front end that does
// not trust it; the front end forwards its incoming metadata to a back end
// that trusts the front end. The back end must see what the front end's
// own context says, never the caller's claim.
func TestForwardedCriticality(t *testing.T) {
	tests := []struct {
		name string
		// own is the front end's criticality for the call; nil: none.
		own *slo.Criticality
		// forward makes the outgoing context from the incoming metadata.
		forward func(ctx context.Context, md metadata.MD) context.Context
		want    string // what the back end sees
	}{
		{
			name: "own SHEDDABLE, metadata forwarded whole", own: ptr(slo.Sheddable),
			forward: metadata.NewOutgoingContext,
			want:    "ctx=SHEDDABLE md=SHEDDABLE",
		},
		{
			name: "own SHEDDABLE, forged value appended", own: ptr(slo.Sheddable),
			forward: func(ctx context.Context, md metadata.MD) context.Context {
				return metadata.AppendToOutgoingContext(ctx, grpcslo.CriticalityKey, md.Get(grpcslo.CriticalityKey)[0])
			},
			want: "ctx=SHEDDABLE md=SHEDDABLE",
		},
		{
			name:    "none of its own, metadata forwarded whole",
			forward: metadata.NewOutgoingContext,
			want:    "ctx=none md=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			backend := newServer(t, eng,
				grpcslo.WithMethod(mCheckout, checkoutAvail),
				grpcslo.WithTrustedCriticality(func(context.Context) bool { return true }), // the front end is ours
			)
			backendConn := serve(t, &shop{
				unary: func(ctx context.Context, _ string) (string, error) { return seen(ctx), nil },
			}, withSloguard(backend, false), withClient(newClient(t, eng))...)

			frontend := newServer(t, eng, grpcslo.WithDefault(serviceAvail)) // trusts nobody
			frontendConn := serve(t, &shop{
				unary: func(ctx context.Context, _ string) (string, error) {
					if got := seen(ctx); got != "ctx=none md=CRITICAL_PLUS" {
						t.Errorf("front end saw %s, want the untrusted claim in its metadata only", got)
					}
					md, _ := metadata.FromIncomingContext(ctx)
					if tt.own != nil {
						ctx = slo.WithCriticality(ctx, *tt.own)
					}
					return call(tt.forward(ctx, md), backendConn, mCheckout, "")
				},
			}, withSloguard(frontend, true))

			forged := metadata.AppendToOutgoingContext(t.Context(), grpcslo.CriticalityKey, "CRITICAL_PLUS")
			got, err := call(forged, frontendConn, mOther, "")
			if err != nil || got != tt.want {
				t.Errorf("back end saw %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

// TestServerCriticalityValues sends several values of CriticalityKey from a
// trusted caller: the least critical valid one counts, so that nobody
// promotes a call by adding a value.
func TestServerCriticalityValues(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{[]string{"CRITICAL_PLUS", "SHEDDABLE"}, "SHEDDABLE"},
		{[]string{"SHEDDABLE", "CRITICAL_PLUS"}, "SHEDDABLE"},
		{[]string{"CRITICAL", "SHEDDABLE_PLUS", "CRITICAL_PLUS"}, "SHEDDABLE_PLUS"},
		{[]string{"CRITICAL_PLUS, SHEDDABLE"}, "SHEDDABLE"}, // joined by a proxy
		{[]string{"CRITICAL_PLUS", "URGENT"}, "CRITICAL_PLUS"},
		{[]string{"URGENT", "SHEDDABLE"}, "SHEDDABLE"},
		{[]string{"URGENT"}, "none"},
	}
	for _, withTap := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("tap=%v/%s", withTap, strings.Join(tt.values, "+")), func(t *testing.T) {
				eng := newEngine(t)
				s := newServer(t, eng,
					grpcslo.WithDefault(serviceAvail),
					grpcslo.WithTrustedCriticality(func(context.Context) bool { return true }))
				conn := serve(t, &shop{unary: func(ctx context.Context, _ string) (string, error) {
					if c, ok := slo.CriticalityFrom(ctx); ok {
						return c.String(), nil
					}
					return "none", nil
				}}, withSloguard(s, withTap))
				var kv []string
				for _, v := range tt.values {
					kv = append(kv, grpcslo.CriticalityKey, v)
				}
				got, err := call(metadata.AppendToOutgoingContext(t.Context(), kv...), conn, mOther, "")
				if err != nil || got != tt.want {
					t.Errorf("handler's criticality = %q, %v; want %q, nil", got, err, tt.want)
				}
			})
		}
	}
}

// TestClientReplacesCriticality calls the client interceptor directly with
// outgoing metadata that already holds CriticalityKey: the context's
// criticality replaces it, and without one it is removed.
func TestClientReplacesCriticality(t *testing.T) {
	tests := []struct {
		name string
		ctx  func(context.Context) context.Context
		want []string
	}{
		{"context over set value", func(ctx context.Context) context.Context {
			return slo.WithCriticality(metadata.NewOutgoingContext(ctx, metadata.Pairs(grpcslo.CriticalityKey, "CRITICAL_PLUS", "x-trace", "1")), slo.SheddablePlus)
		}, []string{"SHEDDABLE_PLUS"}},
		{"context over appended value", func(ctx context.Context) context.Context {
			return slo.WithCriticality(metadata.AppendToOutgoingContext(ctx, "Sloguard-Criticality", "CRITICAL_PLUS", "x-trace", "1"), slo.Sheddable)
		}, []string{"SHEDDABLE"}},
		{"removed without one", func(ctx context.Context) context.Context {
			ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs(grpcslo.CriticalityKey, "CRITICAL_PLUS", "x-trace", "1"))
			return metadata.AppendToOutgoingContext(ctx, grpcslo.CriticalityKey, "CRITICAL")
		}, nil},
		{"context alone", func(ctx context.Context) context.Context {
			return slo.WithCriticality(ctx, slo.Critical)
		}, []string{"CRITICAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			c := newClient(t, eng)
			var got metadata.MD
			invoke := func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
				got, _ = metadata.FromOutgoingContext(ctx)
				return nil
			}
			for _, intercept := range []func(context.Context) error{
				func(ctx context.Context) error {
					return c.UnaryInterceptor()(ctx, mCheckout, nil, nil, nil, invoke)
				},
				func(ctx context.Context) error {
					_, err := c.StreamInterceptor()(ctx, &grpc.StreamDesc{}, nil, mCollect,
						func(ctx context.Context, _ *grpc.StreamDesc, _ *grpc.ClientConn, _ string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
							return nil, invoke(ctx, "", nil, nil, nil)
						})
					return err
				},
			} {
				got = nil
				ctx, cancel := context.WithCancel(t.Context())
				if err := intercept(tt.ctx(ctx)); err != nil {
					t.Fatalf("interceptor error = %v", err)
				}
				cancel()
				if v := got.Get(grpcslo.CriticalityKey); !slices.Equal(v, tt.want) {
					t.Errorf("outgoing %s = %q, want %q", grpcslo.CriticalityKey, v, tt.want)
				}
				if v := got.Get("x-trace"); strings.Contains(tt.name, "value") && !slices.Equal(v, []string{"1"}) {
					t.Errorf("outgoing x-trace = %q, want the caller's other metadata kept", v)
				}
			}
		})
	}
}

// TestMethodCriticalityPropagates checks that a method's criticality
// (WithMethodCriticality) reaches its handler's context, so that its
// outbound calls carry it, and that a method without one puts nothing
// there.
func TestMethodCriticalityPropagates(t *testing.T) {
	for _, withTap := range []bool{false, true} {
		t.Run(fmt.Sprintf("tap=%v", withTap), func(t *testing.T) {
			eng := newEngine(t)
			s := newServer(t, eng,
				grpcslo.WithMethod(mCheckout, checkoutAvail),
				grpcslo.WithMethodCriticality(mCheckout, slo.CriticalPlus),
				grpcslo.WithMethodCriticality(mWatch, slo.SheddablePlus),
				grpcslo.WithDefault(serviceAvail),
			)
			conn := serve(t, &shop{
				unary: func(ctx context.Context, _ string) (string, error) { return seen(ctx), nil },
				watch: func(ctx context.Context, _ string, send func(string) error) error { return send(seen(ctx)) },
			}, withSloguard(s, withTap))
			for method, want := range map[string]string{mCheckout: "ctx=CRITICAL_PLUS md=", mOther: "ctx=none md="} {
				if got, err := call(t.Context(), conn, method, ""); err != nil || got != want {
					t.Errorf("call(%s) handler saw %q, %v; want %q, nil", method, got, err, want)
				}
			}
			msgs, _, err := watch(t.Context(), conn, "")
			if got, want := strings.Join(msgs, ""), "ctx=SHEDDABLE_PLUS md="; err != nil || got != want {
				t.Errorf("watch handler saw %q, %v; want %q, nil", got, err, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
