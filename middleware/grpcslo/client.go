package grpcslo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/slo"
)

// Client holds the gRPC client side of sloguard for one outbound
// dependency: every call goes through the dependency's circuit breaker
// (slo.Engine.Breaker) and is recorded in the dependency's objectives, and
// the criticality of the calling context travels to the server in the
// metadata key CriticalityKey.
//
// A Client comes from NewClient; the zero value is not usable. It is safe
// for concurrent use.
type Client struct {
	breaker  *slo.Breaker
	classify Classifier
}

// NewClient returns the client side for the named dependency of eng: some
// objective of eng must have it as its Dependency. It checks every option
// and reports every problem at once.
func NewClient(eng *slo.Engine, dependency string, opts ...ClientOption) (*Client, error) {
	cfg := clientConfig{classify: DefaultClientCodeClassifier}
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "client option", func(o ClientOption) { o.applyClient(&cfg) })
	errs := cfg.errs
	if eng == nil {
		return nil, errors.Join(append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))...)
	}
	b, err := eng.Breaker(dependency)
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidOption, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Client{breaker: b, classify: cfg.classify}, nil
}

// UnaryInterceptor returns the unary client interceptor. A call the breaker
// rejects is not sent: it fails at once with UNAVAILABLE and an error that
// matches slo.ErrBreakerOpen (errors.As gives the *slo.BreakerError
// with its RetryAfter). Other calls carry the context's criticality, and
// their status code, classified, and latency are recorded when they
// return. An invoker or classifier that panics is recorded as Bad, in the
// objectives and the breaker (so a panicking probe never leaves the breaker
// half-open), and the panic goes on unchanged. The interceptor sees one
// call however often gRPC's own retry policy retries it underneath; chain
// it inside a retrying interceptor to see every attempt.
func (c *Client) UnaryInterceptor() grpc.UnaryClientInterceptor { return c.unary }

func (c *Client) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) (err error) {
	tk, err := c.breaker.Admit()
	if err != nil {
		return &breakerError{method: method, err: err}
	}
	ctx = outgoing(ctx)
	// The invoker or the classifier may panic: the ticket still ends,
	// once, as Bad, before the panic goes on.
	outcome := slo.Bad
	defer tk.Settle(&outcome)
	err = invoker(ctx, method, req, reply, cc, opts...)
	outcome = c.classify(codeOf(err))
	return err
}

// StreamInterceptor returns the stream client interceptor. Admission and
// the error of a rejected stream are as for UnaryInterceptor. The outcome
// is recorded exactly once, when the stream ends: RecvMsg returns io.EOF
// (OK) or an error (its code), the single response of a stream without
// server streaming arrives, SendMsg fails with an error other than io.EOF,
// or the stream's context ends (CANCELLED or DEADLINE_EXCEEDED), whichever
// comes first. The context's end is watched with context.AfterFunc, so no
// goroutine waits on a stream. As gRPC requires anyway, a caller must read
// a stream to its end or cancel its context; a stream that ends otherwise,
// for example because its grpc.ClientConn closed, is recorded when gRPC
// finishes it (grpc.OnFinish). A
// streamer or classifier that panics is recorded as Bad and the panic goes
// on to the caller of the interceptor, RecvMsg or SendMsg; for a stream
// ended by its context or by gRPC, where no caller is there to receive it,
// the panic is logged with slog.Default instead of ending the process.
func (c *Client) StreamInterceptor() grpc.StreamClientInterceptor { return c.stream }

func (c *Client) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (_ grpc.ClientStream, err error) {
	tk, err := c.breaker.Admit()
	if err != nil {
		return nil, &breakerError{method: method, err: err}
	}
	ctx = outgoing(ctx)
	w := &clientStream{ticket: tk, classify: c.classify, single: !desc.ServerStreams}
	returned := false
	defer func() {
		if !returned {
			// The streamer panicked: see unary.
			w.once.Do(func() { tk.Done(slo.Bad) })
		}
	}()
	// gRPC calls OnFinish once when the stream ends, however it ends: also
	// when its ClientConn closes, which nothing else here sees. The
	// callback may run on another goroutine, before the streamer returns:
	// end touches neither ClientStream nor stop. opts is copied, not
	// appended to in place.
	opts = append(opts[:len(opts):len(opts)], grpc.OnFinish(func(err error) { w.endAside(err) }))
	cs, err := streamer(ctx, desc, cc, method, opts...)
	returned = true
	if err != nil {
		w.end(err)
		return nil, err
	}
	w.ClientStream = cs
	// The callback may run at once, before stop is set, so it must not
	// touch stop; the stream's methods run later and may.
	w.stop = context.AfterFunc(ctx, func() { w.endAside(ctx.Err()) })
	return w, nil
}

// clientStream records the outcome of one stream when it ends.
type clientStream struct {
	grpc.ClientStream
	ticket   slo.Ticket
	classify Classifier
	single   bool        // no server streaming: one response ends it
	once     sync.Once   // ends the ticket
	stop     func() bool // stops the AfterFunc; set before the stream is returned
}

// end records the stream's outcome from err unless it was recorded
// already. A concurrent call returns once the outcome is recorded, so that
// a caller who saw the stream end also sees it recorded. A classifier that
// panics records the stream as Bad, and its panic goes on.
func (w *clientStream) end(err error) {
	w.once.Do(func() {
		outcome := slo.Bad
		defer w.ticket.Settle(&outcome)
		outcome = w.classify(codeOf(err))
	})
}

// endAside is end for the callbacks of gRPC and context.AfterFunc, which
// run on goroutines that no caller owns: a panic there would end the
// process, so a panicking classifier is logged (after the stream was
// recorded as Bad) instead of going on.
func (w *clientStream) endAside(err error) {
	defer func() {
		if p := recover(); p != nil {
			slog.Default().LogAttrs(context.Background(), slog.LevelError,
				"sloguard: gRPC client classifier panicked; the stream counts as bad",
				slog.Any("panic", p))
		}
	}()
	w.end(err)
}

// endStop is end for the methods of the stream, which run after stop was
// set: the context's callback is no longer needed, whoever recorded the
// end (OnFinish may have, just before).
func (w *clientStream) endStop(err error) {
	w.end(err)
	w.stop()
}

func (w *clientStream) RecvMsg(m any) error {
	err := w.ClientStream.RecvMsg(m)
	switch {
	case err == io.EOF:
		w.endStop(nil)
	case err != nil:
		w.endStop(err)
	case w.single:
		w.endStop(nil)
	}
	return err
}

func (w *clientStream) SendMsg(m any) error {
	err := w.ClientStream.SendMsg(m)
	if err != nil && err != io.EOF {
		// The stream is over; io.EOF instead means RecvMsg has the status.
		w.endStop(err)
	}
	return err
}

// outgoing returns ctx whose outgoing metadata holds, under
// CriticalityKey, the context's criticality alone, or nothing when it has
// none. A value already there, such as a caller's claim that a service
// forwards with its incoming metadata, is replaced or removed, never sent
// on: the server would take the least critical of several values, but a
// forged one must not reach it at all.
func outgoing(ctx context.Context) context.Context {
	c, ok := slo.CriticalityFrom(ctx)
	if md, found := metadata.FromOutgoingContext(ctx); found && len(md[CriticalityKey]) > 0 {
		// md is a copy, merged from what the caller set and appended.
		if ok {
			md[CriticalityKey] = []string{c.String()}
		} else {
			delete(md, CriticalityKey)
		}
		return metadata.NewOutgoingContext(ctx, md)
	}
	if ok {
		return metadata.AppendToOutgoingContext(ctx, CriticalityKey, c.String())
	}
	return ctx
}

// breakerError is the error of a call that its dependency's breaker
// rejected: status UNAVAILABLE to gRPC (status.Code, status.FromError),
// and the *slo.BreakerError to errors.Is and errors.As.
type breakerError struct {
	method string
	err    error // a *slo.BreakerError
}

func (e *breakerError) Error() string {
	return fmt.Sprintf("grpcslo: %s not sent: %v", e.method, e.err)
}

// GRPCStatus returns the status UNAVAILABLE, for the status package.
func (e *breakerError) GRPCStatus() *status.Status {
	return status.New(codes.Unavailable, e.Error())
}

// Unwrap returns the *slo.BreakerError.
func (e *breakerError) Unwrap() error { return e.err }
