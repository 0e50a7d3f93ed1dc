//go:build soak

package soak

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/sloguard/sloguard/middleware"
	"github.com/sloguard/sloguard/middleware/grpcslo"
	"github.com/sloguard/sloguard/slo"
)

// tally counts results by outcome, indexed by slo.Outcome.
type tally [4]atomic.Uint64

func (t *tally) add(o slo.Outcome) { t[o].Add(1) }

// counts returns the tally as the ledger reports it.
func (t *tally) counts() (good, bad, shed, neutral uint64) {
	return t[slo.Good].Load(), t[slo.Bad].Load(), t[slo.Shed].Load(), t[slo.Neutral].Load()
}

// deadlineAfter is the server-side deadline of the deadline routes: far
// shorter than a handler that waits for its context, so that the deadline
// always ends it.
const deadlineAfter = 2 * time.Millisecond

// idHeader and idKey carry a cancel request's id, with which its handler
// tells the client that it runs: the client cancels only then, so the
// cancellation never races the admission or the response.
const (
	idHeader = "Soak-Id"
	idKey    = "soak-id"
)

// arrivals maps the id of a cancel request to the channel its handler
// closes when it runs.
type arrivals struct{ m sync.Map }

func (a *arrivals) arrive(id string) {
	if ch, ok := a.m.LoadAndDelete(id); ok {
		close(ch.(chan struct{}))
	}
}

// stack is everything the soak runs: a dependency of each protocol that
// fails in phases, and an HTTP and a gRPC service with sloguard, each
// calling its dependency through sloguard's client side.
type stack struct {
	eng *slo.Engine

	depFailing atomic.Bool // both dependencies fail while set
	// httpDown and grpcDown are the services' outages: their SHEDDABLE
	// browse route fails, as when a recommendations backend is down.
	httpDown, grpcDown atomic.Bool

	// inflight counts the service handlers running (outside sloguard's
	// middleware, so that a handler counted out has been recorded).
	inflight atomic.Int64

	// What the handlers saw of their dependency calls, per protocol.
	httpDep, grpcDep tally
	// unexpected dependency results, which the check reports.
	depUnexpected atomic.Uint64

	arrivals arrivals

	httpURL   string
	grpcCC    *grpc.ClientConn
	depClient *http.Client
	conns     atomic.Int64 // open connections of the HTTP servers

	closers []func()
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// serveHTTP serves h on loopback and returns its base URL.
func (s *stack) serveHTTP(h http.Handler) (string, error) {
	ln, err := listen()
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// net/http logs every recovered handler panic; the soak makes
		// thousands on purpose.
		ErrorLog: log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, cs http.ConnState) {
			switch cs {
			case http.StateNew:
				s.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.conns.Add(-1)
			}
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String(), nil
}

// serveGRPC serves srv on loopback and returns its address.
func (s *stack) serveGRPC(srv *grpc.Server) (string, error) {
	ln, err := listen()
	if err != nil {
		return "", err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	s.closers = append(s.closers, func() {
		srv.GracefulStop()
		<-done
	})
	return ln.Addr().String(), nil
}

func (s *stack) dial(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	cc, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = cc.Close() })
	return cc, nil
}

// The gRPC methods of the soak service and of its dependency.
const (
	grpcService = "soak.Soak"
	mOK         = "/soak.Soak/OK"
	mBrowse     = "/soak.Soak/Browse" // SHEDDABLE
	mFail       = "/soak.Soak/Fail"
	mInvalid    = "/soak.Soak/Invalid"
	mPanic      = "/soak.Soak/Panic"
	mCancel     = "/soak.Soak/Cancel"
	mDeadline   = "/soak.Soak/Deadline"
	mDep        = "/soak.Soak/Dep"
	mWatch      = "/soak.Soak/Watch" // server streaming
	mDepCall    = "/soak.Dep/Call"
)

// A stream sends streamMessages messages: over HTTP as flushed chunks
// that make streamBody.
const (
	streamMessages = 3
	streamBody     = "a\nb\nc\n"
)

var watchDesc = grpc.StreamDesc{
	StreamName:    "Watch",
	ServerStreams: true,
	Handler: func(_ any, ss grpc.ServerStream) error {
		if err := ss.RecvMsg(new(emptypb.Empty)); err != nil {
			return err
		}
		for range streamMessages {
			if err := ss.SendMsg(new(emptypb.Empty)); err != nil {
				return err
			}
		}
		return nil
	},
}

// unary adapts f to a method with empty messages.
func unary(fullMethod string, f func(ctx context.Context) error) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: fullMethod[strings.LastIndexByte(fullMethod, '/')+1:],
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) {
				if err := f(ctx); err != nil {
					return nil, err
				}
				return new(emptypb.Empty), nil
			}
			if interceptor == nil {
				return h(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: fullMethod}, h)
		},
	}
}

func serviceDesc(name string, methods ...grpc.MethodDesc) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{ServiceName: name, HandlerType: (*any)(nil), Methods: methods}
}

// newStack starts the dependencies and the services, all on loopback.
func newStack(eng *slo.Engine) (_ *stack, err error) {
	s := &stack{eng: eng}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	// The dependencies: plain servers without sloguard.
	depURL, err := s.serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if s.depFailing.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	if err != nil {
		return nil, err
	}
	depSrv := grpc.NewServer()
	depSrv.RegisterService(serviceDesc("soak.Dep", unary(mDepCall, func(context.Context) error {
		if s.depFailing.Load() {
			return status.Error(codes.Unavailable, "down")
		}
		return nil
	})), nil)
	depAddr, err := s.serveGRPC(depSrv)
	if err != nil {
		return nil, err
	}

	// The HTTP service: its dependency calls go through the Transport.
	tr, err := middleware.NewTransport(eng, "http-dep", &http.Transport{MaxIdleConnsPerHost: 256})
	if err != nil {
		return nil, err
	}
	depClient := &http.Client{Transport: tr}
	s.depClient = depClient
	s.closers = append(s.closers, depClient.CloseIdleConnections)
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
	mux.HandleFunc("POST /ok", ok)
	mux.HandleFunc("POST /browse", func(w http.ResponseWriter, r *http.Request) {
		if s.httpDown.Load() {
			http.Error(w, "failed", http.StatusInternalServerError)
			return
		}
		ok(w, r)
	})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "failed", http.StatusInternalServerError)
	})
	mux.HandleFunc("POST /stream", func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w) // through the middleware's writer
		for _, line := range []string{"a\n", "b\n", "c\n"} {
			_, _ = io.WriteString(w, line)
			if err := rc.Flush(); err != nil {
				panic(err)
			}
		}
	})
	mux.HandleFunc("POST /invalid", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "invalid", http.StatusBadRequest)
	})
	mux.HandleFunc("POST /panic", func(http.ResponseWriter, *http.Request) {
		panic("soak: handler panic")
	})
	mux.HandleFunc("POST /cancel", func(_ http.ResponseWriter, r *http.Request) {
		s.arrivals.arrive(r.Header.Get(idHeader))
		<-r.Context().Done() // the client cancels; nothing is written
	})
	mux.HandleFunc("POST /deadline", func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the deadline passes; nothing is written
	})
	mux.HandleFunc("POST /dep", func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, depURL+"/", nil)
		if err != nil {
			panic(err)
		}
		resp, err := depClient.Do(req)
		switch {
		case errors.Is(err, slo.ErrBreakerOpen):
			s.httpDep.add(slo.Shed)
			middleware.WriteError(w, err) // 503
			return
		case err != nil:
			s.depUnexpected.Add(1)
			middleware.WriteError(w, err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			s.httpDep.add(slo.Good)
			_, _ = io.WriteString(w, "ok")
		case http.StatusInternalServerError:
			s.httpDep.add(slo.Bad)
			middleware.WriteError(w, errors.New("dependency failed")) // 500
		default:
			s.depUnexpected.Add(1)
			middleware.WriteError(w, errors.New("dependency answered strangely"))
		}
	})
	mw, err := middleware.NewServer(eng,
		middleware.WithDefault("http-availability"),
		middleware.WithRouteCriticality("POST /browse", slo.Sheddable),
	)
	if err != nil {
		return nil, err
	}
	inner := mw.Wrap(mux)
	if s.httpURL, err = s.serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1) // also while a panic goes up
		if r.URL.Path == "/deadline" {
			// A server-side deadline, as a service sets for its work;
			// set outside sloguard, which classifies by it.
			ctx, cancel := context.WithTimeout(r.Context(), deadlineAfter)
			defer cancel()
			r = r.WithContext(ctx)
		}
		inner.ServeHTTP(w, r)
	})); err != nil {
		return nil, err
	}

	// The gRPC service: its dependency calls go through the client
	// interceptor.
	gc, err := grpcslo.NewClient(eng, "grpc-dep")
	if err != nil {
		return nil, err
	}
	depCC, err := s.dial(depAddr, grpc.WithChainUnaryInterceptor(gc.UnaryInterceptor()))
	if err != nil {
		return nil, err
	}
	gs, err := grpcslo.NewServer(eng,
		grpcslo.WithDefault("grpc-availability"),
		grpcslo.WithMethodCriticality(mBrowse, slo.Sheddable),
	)
	if err != nil {
		return nil, err
	}
	track := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		return h(ctx, req)
	}
	trackStream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		return h(srv, ss)
	}
	// grpc-go does not recover handler panics; services install recovery
	// outside sloguard, which records the panic and re-raises it.
	recoverer := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				resp, err = nil, status.Error(codes.Internal, "panic")
			}
		}()
		return h(ctx, req)
	}
	srv := grpc.NewServer(
		grpc.InTapHandle(gs.TapHandle),
		grpc.ChainUnaryInterceptor(track, recoverer, gs.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(trackStream, gs.StreamInterceptor()),
	)
	desc := serviceDesc(grpcService,
		unary(mOK, func(context.Context) error { return nil }),
		unary(mBrowse, func(context.Context) error {
			if s.grpcDown.Load() {
				return status.Error(codes.Internal, "failed")
			}
			return nil
		}),
		unary(mFail, func(context.Context) error { return status.Error(codes.Internal, "failed") }),
		unary(mInvalid, func(context.Context) error { return status.Error(codes.InvalidArgument, "invalid") }),
		unary(mPanic, func(context.Context) error { panic("soak: handler panic") }),
		unary(mCancel, func(ctx context.Context) error {
			if v := metadata.ValueFromIncomingContext(ctx, idKey); len(v) > 0 {
				s.arrivals.arrive(v[0])
			}
			<-ctx.Done()
			return ctx.Err() // CANCELED
		}),
		unary(mDeadline, func(ctx context.Context) error {
			// The handler's own deadline: a client deadline would race
			// the client's RST_STREAM (CANCELED) against the server's
			// timer (DEADLINE_EXCEEDED).
			ctx, cancel := context.WithTimeout(ctx, deadlineAfter)
			defer cancel()
			<-ctx.Done()
			return status.FromContextError(ctx.Err()).Err()
		}),
		unary(mDep, func(ctx context.Context) error {
			err := depCC.Invoke(ctx, mDepCall, new(emptypb.Empty), new(emptypb.Empty))
			switch {
			case err == nil:
				s.grpcDep.add(slo.Good)
				return nil
			case errors.Is(err, slo.ErrBreakerOpen):
				s.grpcDep.add(slo.Shed)
				return err // the interceptor answers UNAVAILABLE and records Shed
			case status.Code(err) == codes.Unavailable:
				s.grpcDep.add(slo.Bad)
				return status.Error(codes.Internal, "dependency failed")
			}
			s.depUnexpected.Add(1)
			return status.Error(codes.Internal, "dependency answered strangely")
		}),
	)
	desc.Streams = []grpc.StreamDesc{watchDesc}
	srv.RegisterService(desc, nil)
	addr, err := s.serveGRPC(srv)
	if err != nil {
		return nil, err
	}
	if s.grpcCC, err = s.dial(addr); err != nil {
		return nil, err
	}
	return s, nil
}
