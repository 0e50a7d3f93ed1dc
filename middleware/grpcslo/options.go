package grpcslo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/sloguard/sloguard/slo"
)

// ErrInvalidOption is wrapped by every error about an invalid Option or
// ClientOption, including options that name objectives or a dependency the
// engine does not have.
var ErrInvalidOption = errors.New("grpcslo: invalid option")

// CriticalityKey is the metadata key that carries a request's criticality
// (slo.Criticality.String, e.g. "SHEDDABLE") from client to server. The
// Client sets it from the context; the Server honours it only when the
// function of WithTrustedCriticality says the caller is trusted.
const CriticalityKey = "sloguard-criticality"

// Classifier decides the availability outcome of one call from its status
// code: slo.Good, slo.Bad, slo.Neutral (not counted) or slo.Shed (counted
// against the budget, but left out of the control signals that drive
// shedding and breakers). Latency objectives then count a Good call as Bad
// when it was slower than their threshold. A Classifier is called on the
// request path and must be fast and safe for concurrent use. A nil
// Classifier is refused by the options that take one.
type Classifier func(code codes.Code) slo.Outcome

// DefaultCodeClassifier classifies a call as the OpenTelemetry semantic
// conventions do for gRPC servers: UNKNOWN, DEADLINE_EXCEEDED,
// UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS are Bad (the server
// failed); CANCELLED is Neutral (the client gave up); every other code,
// including the client errors INVALID_ARGUMENT, NOT_FOUND and
// RESOURCE_EXHAUSTED, is Good.
func DefaultCodeClassifier(code codes.Code) slo.Outcome {
	switch code {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented,
		codes.Internal, codes.Unavailable, codes.DataLoss:
		return slo.Bad
	case codes.Canceled:
		return slo.Neutral
	}
	return slo.Good
}

// DefaultClientCodeClassifier classifies a call to a dependency as
// slo.CallOutcome does, the one classification of a dependency's answers
// for every transport: RESOURCE_EXHAUSTED is a refusal (slo.Shed: it spends
// the dependency's budget, but the dependency turned the call away by its
// own choice, so it is no failure for the breaker); UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS are
// failures (Bad); CANCELLED is abandoned (Neutral); every other code,
// including the caller's own errors such as INVALID_ARGUMENT, is served
// (Good).
//
// gRPC also uses RESOURCE_EXHAUSTED locally for messages over the size
// limits; those are Shed too.
func DefaultClientCodeClassifier(code codes.Code) slo.Outcome {
	return slo.CallOutcome(reply(code))
}

// reply translates a status code into a slo.Reply.
func reply(code codes.Code) slo.Reply {
	switch code {
	case codes.ResourceExhausted:
		return slo.Refused
	case codes.Canceled:
		return slo.Abandoned
	}
	if DefaultCodeClassifier(code) == slo.Bad {
		return slo.Failed
	}
	return slo.Served
}

type config struct {
	methods  map[string][]string
	order    []string // methods in the order given, for error messages
	crit     map[string]slo.Criticality
	fallback []string
	trust    func(context.Context) bool
	classify Classifier
	errs     []error
}

// Option configures a Server. Options come only from this package's With
// functions; a nil Option is refused by NewServer.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMethod records calls of the full method name (as in
// grpc.UnaryServerInfo.FullMethod, e.g. "/shop.Shop/Checkout") under the
// named objectives.
//
// By default, no method is mapped and calls go to the objectives of
// WithDefault.
func WithMethod(fullMethod string, objectives ...string) Option {
	return optionFunc(func(c *config) {
		where := fmt.Sprintf("method %q", fullMethod)
		var errs []error
		if err := checkMethod(fullMethod); err != nil {
			errs = append(errs, err)
		}
		if _, dup := c.methods[fullMethod]; dup {
			errs = append(errs, fmt.Errorf("%w: %s is given twice", ErrInvalidOption, where))
		}
		if len(objectives) == 0 {
			errs = append(errs, fmt.Errorf("%w: %s has no objectives", ErrInvalidOption, where))
		}
		if len(errs) > 0 {
			c.errs = append(c.errs, errs...)
			return
		}
		c.methods[fullMethod] = objectives
		c.order = append(c.order, fullMethod)
	})
}

// WithDefault records calls of every method without WithMethod under the
// named objectives: all of them share this one bucket, and the method name
// never becomes an attribute, so callers can not create series by calling
// made-up methods.
//
// By default, such calls are not recorded (they are still admitted).
func WithDefault(objectives ...string) Option {
	return optionFunc(func(c *config) {
		if len(objectives) == 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: WithDefault with no objectives", ErrInvalidOption))
			return
		}
		c.fallback = objectives
	})
}

// WithMethodCriticality sets the criticality of calls of the full method
// name that carry none in their context or in trusted metadata. The
// handler's context then carries it, so the Client's outgoing calls pass it
// on. The method need not have a WithMethod.
//
// By default, slo.Critical.
func WithMethodCriticality(fullMethod string, crit slo.Criticality) Option {
	return optionFunc(func(c *config) {
		where := fmt.Sprintf("method %q", fullMethod)
		var errs []error
		if err := checkMethod(fullMethod); err != nil {
			errs = append(errs, err)
		}
		if _, dup := c.crit[fullMethod]; dup {
			errs = append(errs, fmt.Errorf("%w: %s criticality is given twice", ErrInvalidOption, where))
		}
		if !crit.Valid() {
			errs = append(errs, fmt.Errorf("%w: %s criticality %v is not a level", ErrInvalidOption, where, crit))
		}
		if len(errs) > 0 {
			c.errs = append(c.errs, errs...)
			return
		}
		c.crit[fullMethod] = crit
	})
}

// WithTrustedCriticality makes the Server honour the criticality a caller
// sends in the metadata key CriticalityKey when trust returns true for the
// call. trust is called only for calls that carry the key, with the
// incoming context: peer.FromContext gives the caller's address and
// credentials, metadata.FromIncomingContext its metadata. With TapHandle
// installed it runs there, in the connection's reading goroutine, so it
// must be fast and must not block. Of several values, the least critical
// counts. An honoured level reaches the handler's context
// (slo.CriticalityFrom), and from there the Client's outgoing calls.
//
// By default, the key is ignored: nobody outside can promote their own
// traffic.
func WithTrustedCriticality(trust func(ctx context.Context) bool) Option {
	return optionFunc(func(c *config) {
		if trust == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil trust func", ErrInvalidOption))
			return
		}
		c.trust = trust
	})
}

// WithCodeClassifier sets how a call's status code is judged for the
// availability SLI.
//
// By default, DefaultCodeClassifier.
func WithCodeClassifier(f Classifier) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil code classifier", ErrInvalidOption))
			return
		}
		c.classify = f
	})
}

type clientConfig struct {
	classify Classifier
	errs     []error
}

// ClientOption configures a Client. ClientOptions come only from this
// package's With functions; a nil one is refused by NewClient.
type ClientOption interface {
	applyClient(*clientConfig)
}

type clientOptionFunc func(*clientConfig)

func (f clientOptionFunc) applyClient(c *clientConfig) { f(c) }

// WithClientCodeClassifier sets how a call's status code is judged for the
// dependency's objectives and its breaker: slo.Bad counts as a failure,
// slo.Neutral is ignored, slo.Good and slo.Shed count as successes for the
// breaker.
//
// By default, DefaultClientCodeClassifier.
func WithClientCodeClassifier(f Classifier) ClientOption {
	return clientOptionFunc(func(c *clientConfig) {
		if f == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil client code classifier", ErrInvalidOption))
			return
		}
		c.classify = f
	})
}

// checkMethod reports a full method name that is not "/service/method".
func checkMethod(m string) error {
	service, method, ok := strings.Cut(strings.TrimPrefix(m, "/"), "/")
	if !strings.HasPrefix(m, "/") || !ok || service == "" || method == "" || strings.Contains(method, "/") {
		return fmt.Errorf("%w: method %q is not a full method name such as \"/shop.Shop/Checkout\"", ErrInvalidOption, m)
	}
	return nil
}
