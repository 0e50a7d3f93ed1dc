package grpcslo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/sloguard/sloguard/internal/claim"
	"github.com/sloguard/sloguard/internal/mono"
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
// An admitted unary call costs one map lookup, one or two context lookups,
// one atomic load and one atomic add for admission, two clock reads and
// one atomic add per objective: no
// lock and no allocation.
//
// A Server comes from NewServer; the zero value is not usable. It is safe
// for concurrent use.
type Server struct {
	eng      *slo.Engine
	methods  map[string]*method
	fallback *method
	trust    func(context.Context) bool
	classify Classifier
}

// method is what the Server knows of one full method name.
type method struct {
	recs []*slo.Recorder
	crit slo.Criticality
	own  bool // crit comes from WithMethodCriticality: the handler's context carries it
}

func (m *method) record(o slo.Outcome, elapsed time.Duration) {
	for _, r := range m.recs {
		r.Record(o, elapsed)
	}
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
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("%w: option %d is nil", ErrInvalidOption, i))
			continue
		}
		o.apply(&cfg)
	}
	errs := cfg.errs
	if eng == nil {
		return nil, errors.Join(append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))...)
	}
	resolve := func(where string, names []string) []*slo.Recorder {
		recs, err := eng.Recorders(names...)
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, err := range joined.Unwrap() { // one line per problem
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidOption, where, err))
			}
		}
		return recs
	}
	s := &Server{
		eng:      eng,
		methods:  make(map[string]*method, len(cfg.methods)+len(cfg.crit)),
		fallback: &method{crit: slo.Critical},
		trust:    cfg.trust,
		classify: cfg.classify,
	}
	if cfg.fallback != nil {
		s.fallback.recs = resolve("default", cfg.fallback)
	}
	for _, name := range cfg.order {
		s.methods[name] = &method{
			recs: resolve(fmt.Sprintf("method %q", name), cfg.methods[name]),
			crit: slo.Critical,
		}
	}
	for name, c := range cfg.crit {
		m, ok := s.methods[name]
		if !ok {
			m = &method{recs: s.fallback.recs}
			s.methods[name] = m
		}
		m.crit, m.own = c, true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func (s *Server) lookup(fullMethod string) *method {
	if m, ok := s.methods[fullMethod]; ok {
		return m
	}
	return s.fallback
}

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
	if _, ok := s.eng.Admit(c); !ok {
		m.record(slo.Shed, 0)
		return ctx, errOverloaded
	}
	ctx = context.WithValue(ctx, admittedKey{}, s)
	if carry {
		ctx = slo.WithCriticality(ctx, c)
	}
	return ctx, nil
}

// admit decides whether the interceptor serves a call. It returns the
// context for the handler, or the rejection's retry hint and false.
func (s *Server) admit(ctx context.Context, m *method) (context.Context, time.Duration, bool) {
	if by, _ := ctx.Value(admittedKey{}).(*Server); by == s {
		return ctx, 0, true
	}
	var claimed []string
	if s.trust != nil {
		claimed = metadata.ValueFromIncomingContext(ctx, CriticalityKey)
	}
	c, carry := s.criticality(ctx, m, claimed)
	if retry, ok := s.eng.Admit(c); !ok {
		return ctx, retry, false
	}
	if carry {
		ctx = slo.WithCriticality(ctx, c)
	}
	return ctx, 0, true
}

// criticality resolves a call's criticality, as package middleware
// documents it ("Criticality and trust"): from its context, else from
// claimed (the metadata values of CriticalityKey, the least critical of
// them) if the caller is trusted, else the method's. carry says that the
// handler's context must carry it: it came from claimed or from
// WithMethodCriticality.
func (s *Server) criticality(ctx context.Context, m *method, claimed []string) (c slo.Criticality, carry bool) {
	if c, ok := slo.CriticalityFrom(ctx); ok {
		return c, false
	}
	if len(claimed) > 0 && s.trust != nil && s.trust(ctx) {
		if c, ok := claim.Least(claimed); ok {
			return c, true
		}
	}
	return m.crit, m.own
}

// UnaryInterceptor returns the unary server interceptor: it admits the call
// (unless TapHandle did), runs the handler, maps breaker errors and records
// the outcome. Install it first in grpc.ChainUnaryInterceptor, so that the
// time and outcome of the other interceptors count too.
func (s *Server) UnaryInterceptor() grpc.UnaryServerInterceptor { return s.unary }

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	m := s.lookup(info.FullMethod)
	ctx, retry, ok := s.admit(ctx, m)
	if !ok {
		m.record(slo.Shed, 0)
		_ = grpc.SetTrailer(ctx, pushback(retry)) // fails only without a gRPC stream, as in tests
		return nil, errOverloaded
	}
	start := mono.Now()
	returned := false
	defer func() {
		if !returned {
			// A panic is on its way up: count it and let it go on unchanged.
			m.record(slo.Bad, mono.Now()-start)
		}
	}()
	resp, err = handler(ctx, req)
	returned = true
	if retry, ok := breakerOpen(err); ok {
		if retry > 0 {
			_ = grpc.SetTrailer(ctx, pushback(retry))
		}
		// Shed, not Bad: it spends the budget like any failure, but an
		// open breaker downstream is not overload here and must not drive
		// load shedding.
		m.record(slo.Shed, mono.Now()-start)
		return resp, errDependency
	}
	m.record(s.classify(codeOf(err)), mono.Now()-start)
	return resp, err
}

// StreamInterceptor returns the stream server interceptor: it admits the
// stream (unless TapHandle did), runs the handler, maps breaker errors and
// records the outcome when the handler returns. Latency objectives measure
// the whole stream, so long-lived streams belong to availability objectives
// only.
func (s *Server) StreamInterceptor() grpc.StreamServerInterceptor { return s.stream }

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	m := s.lookup(info.FullMethod)
	ctx := ss.Context()
	ctx2, retry, ok := s.admit(ctx, m)
	if !ok {
		m.record(slo.Shed, 0)
		ss.SetTrailer(pushback(retry))
		return errOverloaded
	}
	if ctx2 != ctx {
		ss = &serverStream{ServerStream: ss, ctx: ctx2}
	}
	start := mono.Now()
	returned := false
	defer func() {
		if !returned {
			m.record(slo.Bad, mono.Now()-start)
		}
	}()
	err = handler(srv, ss)
	returned = true
	if retry, ok := breakerOpen(err); ok {
		if retry > 0 {
			ss.SetTrailer(pushback(retry))
		}
		m.record(slo.Shed, mono.Now()-start) // see unary
		return errDependency
	}
	m.record(s.classify(codeOf(err)), mono.Now()-start)
	return err
}

// serverStream gives a handler the context with its criticality.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// breakerOpen reports whether err says a dependency's breaker is open, and
// when to retry if it says.
func breakerOpen(err error) (retry time.Duration, ok bool) {
	if err == nil || !errors.Is(err, slo.ErrBreakerOpen) {
		return 0, false
	}
	var boe *slo.BreakerOpenError
	if errors.As(err, &boe) {
		return boe.RetryAfter, true
	}
	return 0, true
}

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
