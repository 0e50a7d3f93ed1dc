package grpcslo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/sloguard/sloguard/internal/claim"
	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/internal/wiring"
	"github.com/sloguard/sloguard/slo"
)

// PushbackKey is the trailer that carries the server's retry hint in
// milliseconds, as gRPC's retry support reads it (gRFC A6).
const PushbackKey = "grpc-retry-pushback-ms"

// The statuses sent for rejections. They never carry internal error text.
var (
	errOverloaded = status.Error(codes.ResourceExhausted, "overloaded")
	errDependency = status.Error(codes.Unavailable, "dependency unavailable")
)

var _ tap.ServerInHandle = (*Server)(nil).TapHandle

// Server holds the gRPC server side of sloguard: admission (load shedding
// by criticality) and the recording of every call as SLI events of the
// objectives of its method.
//
// TapHandle admits or rejects a call before gRPC creates its stream or
// decodes its message; UnaryInterceptor and StreamInterceptor admit (when
// the tap did not) and record. A call admitted by this Server's TapHandle is
// not admitted again by its interceptors.
//
// Admission and recording are the engine's admission core (slo.Route),
// resolved once per method: an admitted unary call costs one map lookup,
// one or two context lookups, two clock reads and a few atomic operations
// on counters of its own processor, and one on the gate's in-flight
// count: no lock and no allocation.
//
// A Server comes from NewServer; the zero value is not usable. It is safe
// for concurrent use.
type Server struct {
	eng      *slo.Engine
	methods  *wiring.Routes
	trust    func(context.Context) bool
	classify Classifier
}

// NewServer returns the server side for eng. It checks every option and
// that every objective it names exists in eng and is not a dependency's
// objective, and reports every problem at once.
func NewServer(eng *slo.Engine, opts ...Option) (*Server, error) {
	cfg := config{
		methods:  map[string][]string{},
		crit:     map[string]slo.Criticality{},
		classify: DefaultCodeClassifier,
	}
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "option", func(o Option) { o.apply(&cfg) })
	errs := cfg.errs
	if eng == nil {
		return nil, errors.Join(append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))...)
	}
	methods, rerrs := wiring.Resolve(eng, "method", ErrInvalidOption, cfg.order, cfg.methods, cfg.crit, cfg.fallback)
	if errs = append(errs, rerrs...); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Server{eng: eng, methods: methods, trust: cfg.trust, classify: cfg.classify}, nil
}

func (s *Server) lookup(fullMethod string) *wiring.Route { return s.methods.Lookup(fullMethod) }

// admittedKey marks the context of a call that a Server's TapHandle
// admitted; its value is that *Server.
type admittedKey struct{}

// TapHandle admits or rejects a call before gRPC creates its stream and
// decodes its message, which makes shedding cheap under overload. Install
// it with grpc.InTapHandle(s.TapHandle) (an experimental gRPC API; only one
// tap handle per grpc.Server).
//
// A rejected call is recorded as slo.Shed in its method's objectives and
// ends with RESOURCE_EXHAUSTED "overloaded". gRPC gives the tap no way to
// set trailers, so, unlike a rejection by the interceptors, it carries no
// grpc-retry-pushback-ms hint.
//
// An admitted call's context is marked so that the interceptors do not
// admit it again, and carries its criticality (slo.WithCriticality) when
// it came from trusted metadata or from WithMethodCriticality. The tap
// records nothing else: install the interceptors too.
func (s *Server) TapHandle(ctx context.Context, info *tap.Info) (context.Context, error) {
	m := s.lookup(info.FullMethodName)
	c, carry := s.criticality(ctx, m, info.Header[CriticalityKey])
	t, _, ok := m.Admit(c)
	if !ok {
		return ctx, errOverloaded
	}
	tp := &tapped{s: s, t: t}
	ctx = context.WithValue(ctx, admittedKey{}, tp)
	// gRPC may end a call without running the interceptors (a message it
	// could not read, an unknown method): the stream's context then ends
	// the ticket, so that the call does not stay in flight.
	context.AfterFunc(ctx, func() {
		if tp.taken.CompareAndSwap(false, true) {
			t.Done(slo.Neutral)
		}
	})
	if carry {
		ctx = slo.WithCriticality(ctx, c)
	}
	return ctx, nil
}

// tapped is the value of admittedKey: the Server whose TapHandle admitted
// the call, and the call's ticket, which the interceptor takes and ends.
type tapped struct {
	s     *Server
	t     slo.Ticket
	taken atomic.Bool
}

// admit decides whether the interceptor serves a call of method m. It
// returns the context for the handler and the call's ticket, or the
// rejection's retry hint and false.
func (s *Server) admit(ctx context.Context, m *wiring.Route) (context.Context, slo.Ticket, time.Duration, bool) {
	if tp, _ := ctx.Value(admittedKey{}).(*tapped); tp != nil && tp.s == s && tp.taken.CompareAndSwap(false, true) {
		return ctx, tp.t, 0, true
	}
	var claimed []string
	if s.trust != nil {
		claimed = metadata.ValueFromIncomingContext(ctx, CriticalityKey)
	}
	c, carry := s.criticality(ctx, m, claimed)
	t, retry, ok := m.Admit(c)
	if !ok {
		return ctx, t, retry, false
	}
	if carry {
		ctx = slo.WithCriticality(ctx, c)
	}
	return ctx, t, 0, true
}

// criticality resolves a call's criticality, as package middleware
// documents it ("Criticality and trust"): from its context, else from
// claimed (the metadata values of CriticalityKey, the least critical of
// them) if the caller is trusted, else the method's. carry says that the
// handler's context must carry it: it came from claimed or from
// WithMethodCriticality.
func (s *Server) criticality(ctx context.Context, m *wiring.Route, claimed []string) (c slo.Criticality, carry bool) {
	if c, ok := slo.CriticalityFrom(ctx); ok {
		return c, false
	}
	if len(claimed) > 0 && s.trust != nil && s.trust(ctx) {
		if c, ok := claim.Least(claimed); ok {
			return c, true
		}
	}
	return m.Criticality(), m.Own
}

// UnaryInterceptor returns the unary server interceptor: it admits the call
// (unless TapHandle did), runs the handler, maps breaker errors and records
// the outcome. Install it first in grpc.ChainUnaryInterceptor, so that the
// time and outcome of the other interceptors count too.
func (s *Server) UnaryInterceptor() grpc.UnaryServerInterceptor { return s.unary }

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	ctx, t, retry, ok := s.admit(ctx, s.lookup(info.FullMethod))
	if !ok {
		_ = grpc.SetTrailer(ctx, pushback(retry)) // fails only without a gRPC stream, as in tests
		return nil, errOverloaded
	}
	outcome := slo.Bad // a panic on its way up: counted as Bad, and not caught
	defer t.Settle(&outcome)
	resp, err = handler(ctx, req)
	outcome, retry = slo.HandlerOutcome(err, s.classify(codeOf(err)))
	if outcome == slo.Shed && errors.Is(err, slo.ErrBreakerOpen) {
		if retry > 0 {
			_ = grpc.SetTrailer(ctx, pushback(retry))
		}
		return resp, errDependency
	}
	return resp, err
}

// StreamInterceptor returns the stream server interceptor: it admits the
// stream (unless TapHandle did), runs the handler, maps breaker errors and
// records the outcome when the handler returns. Latency objectives measure
// the whole stream, so long-lived streams belong to availability objectives
// only.
func (s *Server) StreamInterceptor() grpc.StreamServerInterceptor { return s.stream }

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx := ss.Context()
	ctx2, t, retry, ok := s.admit(ctx, s.lookup(info.FullMethod))
	if !ok {
		ss.SetTrailer(pushback(retry))
		return errOverloaded
	}
	if ctx2 != ctx {
		ss = &serverStream{ServerStream: ss, ctx: ctx2}
	}
	outcome := slo.Bad // see unary
	defer t.Settle(&outcome)
	err = handler(srv, ss)
	outcome, retry = slo.HandlerOutcome(err, s.classify(codeOf(err)))
	if outcome == slo.Shed && errors.Is(err, slo.ErrBreakerOpen) {
		if retry > 0 {
			ss.SetTrailer(pushback(retry))
		}
		return errDependency
	}
	return err
}

// serverStream gives a handler the context with its criticality.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

func pushback(d time.Duration) metadata.MD {
	return metadata.MD{PushbackKey: {strconv.FormatInt(d.Milliseconds(), 10)}}
}

// codeOf returns the status code gRPC sends for err: the code of a status
// error, CANCELLED or DEADLINE_EXCEEDED for context errors, else UNKNOWN.
func codeOf(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if se, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		if st := se.GRPCStatus(); st != nil {
			return st.Code()
		}
		return codes.Unknown
	}
	if st, ok := status.FromError(err); ok {
		return st.Code() // a wrapped status error
	}
	return status.FromContextError(err).Code()
}
