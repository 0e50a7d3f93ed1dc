package openfeature

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/slo"
)

// The variant and flag metadata keys of a flag forced off by its gate.
const (
	// VariantSafe is the variant of a safe value.
	VariantSafe = "sloguard-safe"
	// MetadataGate is the flag metadata key (and event metadata key) of the
	// gate's name.
	MetadataGate = "sloguard.gate"
	// MetadataReason is the flag metadata key (and event metadata key) of
	// why the gate is closed, e.g. "checkout is in state page".
	MetadataReason = "sloguard.reason"
	// MetadataEnabled is the event metadata key of whether the gate is now
	// open.
	MetadataEnabled = "sloguard.enabled"
)

var (
	_ of.FeatureProvider          = (*Provider)(nil)
	_ of.ContextAwareStateHandler = (*Provider)(nil)
	_ of.EventHandler             = (*Provider)(nil)
	_ of.Tracker                  = (*Provider)(nil)
)

// Provider is an OpenFeature FeatureProvider that evaluates flags with a
// wrapped provider, except gated flags whose sloguard gate is closed: those
// get their safe value, with reason DISABLED. See the package documentation.
//
// A Provider is safe for concurrent use.
//
// The zero Provider is not usable: use NewProvider.
type Provider struct {
	inner  of.FeatureProvider
	eng    *slo.Engine
	name   string
	flags  map[string]*gatedFlag // fixed by NewProvider
	gates  []*gateFlags          // the gates in use, for events
	poll   time.Duration
	events chan of.Event // never closed: the SDK stops reading by itself

	mu   sync.Mutex
	stop chan struct{} // closed to stop the watcher; nil when none runs; guarded by mu
	done chan struct{} // closed when the watcher returned; guarded by mu
}

type gatedFlag struct {
	gate *slo.Gate
	safe any // normalised: bool, string, float64, int64 or an object
}

type gateFlags struct {
	gate *slo.Gate
	keys []string // sorted
}

// NewProvider returns a Provider that wraps inner and closes the gated flags
// (see WithGatedFlag) of eng's gates. It reports every problem at once, each
// wrapping ErrInvalidOption, and an unknown gate also wrapping
// slo.ErrUnknownGate.
//
// The Provider's name is "sloguard(" + inner's name + ")", read once here.
func NewProvider(inner of.FeatureProvider, eng *slo.Engine, opts ...Option) (*Provider, error) {
	cfg := config{poll: time.Second}
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "option", func(o Option) { o.apply(&cfg) })
	errs := cfg.errs
	if inner == nil {
		errs = append(errs, fmt.Errorf("%w: nil inner provider", ErrInvalidOption))
	}
	if eng == nil {
		errs = append(errs, fmt.Errorf("%w: nil engine", ErrInvalidOption))
	}
	p := &Provider{
		inner:  inner,
		eng:    eng,
		flags:  make(map[string]*gatedFlag, len(cfg.flags)),
		poll:   cfg.poll,
		events: make(chan of.Event, 16),
	}
	errs = append(errs, p.addFlags(cfg.flags, eng)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, g := range p.gates {
		slices.Sort(g.keys)
	}
	p.name = "sloguard(" + inner.Metadata().Name + ")"
	return p, nil
}

// addFlags checks the gated flags and wires each to its gate; eng may be
// nil (reported by NewProvider).
func (p *Provider) addFlags(flags []flagConfig, eng *slo.Engine) (errs []error) {
	byGate := map[*slo.Gate]*gateFlags{}
	seen := map[string]bool{}
	for _, f := range flags {
		var problems []error
		if f.key == "" {
			problems = append(problems, errors.New("flag key is empty"))
		} else if seen[f.key] {
			problems = append(problems, errors.New("flag is gated twice"))
		}
		seen[f.key] = true
		safe, err := normalize(f.safe)
		if err != nil {
			problems = append(problems, err)
		}
		var gate *slo.Gate
		if eng != nil {
			if gate, err = eng.Gate(f.gate); err != nil {
				problems = append(problems, err)
			}
		}
		if len(problems) > 0 {
			errs = append(errs, fmt.Errorf("%w: flag %q: %w", ErrInvalidOption, f.key, errors.Join(problems...)))
			continue
		}
		if gate == nil {
			continue // nil engine, reported by NewProvider
		}
		p.flags[f.key] = &gatedFlag{gate: gate, safe: safe}
		g := byGate[gate]
		if g == nil {
			g = &gateFlags{gate: gate}
			byGate[gate] = g
			p.gates = append(p.gates, g)
		}
		g.keys = append(g.keys, f.key)
	}
	return errs
}

// Metadata returns the provider's name, "sloguard(" + the wrapped
// provider's name + ")".
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: p.name} }

// Hooks returns the wrapped provider's hooks.
func (p *Provider) Hooks() []of.Hook { return p.inner.Hooks() }

// closed returns the gated flag if flag is gated and its gate closed.
func (p *Provider) closed(flag string) *gatedFlag {
	if f, ok := p.flags[flag]; ok && !f.gate.Enabled() {
		return f
	}
	return nil
}

// BooleanEvaluation implements of.FeatureProvider.
func (p *Provider) BooleanEvaluation(ctx context.Context, flag string, defaultValue bool, flatCtx of.FlattenedContext) of.BoolResolutionDetail {
	if f := p.closed(flag); f != nil {
		return forced(p, f, flag, defaultValue, f.safe)
	}
	return p.inner.BooleanEvaluation(ctx, flag, defaultValue, flatCtx)
}

// StringEvaluation implements of.FeatureProvider.
func (p *Provider) StringEvaluation(ctx context.Context, flag string, defaultValue string, flatCtx of.FlattenedContext) of.StringResolutionDetail {
	if f := p.closed(flag); f != nil {
		return forced(p, f, flag, defaultValue, f.safe)
	}
	return p.inner.StringEvaluation(ctx, flag, defaultValue, flatCtx)
}

// FloatEvaluation implements of.FeatureProvider. An integer safe value is
// converted to float64.
func (p *Provider) FloatEvaluation(ctx context.Context, flag string, defaultValue float64, flatCtx of.FlattenedContext) of.FloatResolutionDetail {
	if f := p.closed(flag); f != nil {
		safe := f.safe
		if i, ok := safe.(int64); ok {
			safe = float64(i)
		}
		return forced(p, f, flag, defaultValue, safe)
	}
	return p.inner.FloatEvaluation(ctx, flag, defaultValue, flatCtx)
}

// IntEvaluation implements of.FeatureProvider.
func (p *Provider) IntEvaluation(ctx context.Context, flag string, defaultValue int64, flatCtx of.FlattenedContext) of.IntResolutionDetail {
	if f := p.closed(flag); f != nil {
		return forced(p, f, flag, defaultValue, f.safe)
	}
	return p.inner.IntEvaluation(ctx, flag, defaultValue, flatCtx)
}

// ObjectEvaluation implements of.FeatureProvider. Any safe value fits an
// object flag.
func (p *Provider) ObjectEvaluation(ctx context.Context, flag string, defaultValue any, flatCtx of.FlattenedContext) of.InterfaceResolutionDetail {
	if f := p.closed(flag); f != nil {
		return forced(p, f, flag, defaultValue, f.safe)
	}
	return p.inner.ObjectEvaluation(ctx, flag, defaultValue, flatCtx)
}

// forced returns the resolution of a flag whose gate is closed: safe if it
// is a T, else defaultValue with a TYPE_MISMATCH error.
func forced[T any](p *Provider, f *gatedFlag, flag string, defaultValue T, safe any) of.GenericResolutionDetail[T] {
	meta := of.FlagMetadata{
		MetadataGate:   f.gate.Name(),
		MetadataReason: p.reason(f.gate),
	}
	v, ok := safe.(T)
	if !ok {
		msg := fmt.Sprintf("sloguard gate %q is closed and the safe value of flag %q is a %T, not a %T", f.gate.Name(), flag, safe, defaultValue)
		return of.GenericResolutionDetail[T]{
			Value: defaultValue,
			ProviderResolutionDetail: of.ProviderResolutionDetail{
				ResolutionError: of.NewTypeMismatchResolutionError(msg),
				Reason:          of.ErrorReason,
				FlagMetadata:    meta,
			},
		}
	}
	return of.GenericResolutionDetail[T]{
		Value: v,
		ProviderResolutionDetail: of.ProviderResolutionDetail{
			Reason:       of.DisabledReason,
			Variant:      VariantSafe,
			FlagMetadata: meta,
		},
	}
}

// reason returns why the engine closed g, from its latest Status.
func (p *Provider) reason(g *slo.Gate) string {
	for _, s := range p.eng.Status().Gates {
		if s.Name == g.Name() && s.Reason != "" {
			return s.Reason
		}
	}
	// The gate is switched just before the Status that explains it is
	// published.
	return "the gate is closed"
}

// Track forwards to the wrapped provider if it implements of.Tracker.
func (p *Provider) Track(ctx context.Context, trackingEventName string, evalCtx of.EvaluationContext, details of.TrackingEventDetails) {
	if t, ok := p.inner.(of.Tracker); ok {
		t.Track(ctx, trackingEventName, evalCtx, details)
	}
}
