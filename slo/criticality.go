package slo

import (
	"context"
	"fmt"
	"strings"
)

// Criticality is how much a request matters when the service must choose,
// as in Google's SRE practice: under overload sloguard sheds SHEDDABLE
// first, then SHEDDABLE_PLUS, then CRITICAL, and CRITICAL_PLUS only when
// WithShedding allows it.
//
// Levels are ordered by importance, so that c1 < c2 means c1 is shed
// before c2, and the zero value is Critical, the default for a request
// that says nothing. To visit every level in shed order:
//
//	for c := slo.Sheddable; c <= slo.CriticalPlus; c++ { … }
type Criticality int8

const (
	// Sheddable is traffic that may fail without harm, such as
	// recommendations or batch work; shed first.
	Sheddable Criticality = iota - 2
	// SheddablePlus is traffic that can wait and be retried, such as
	// prefetches.
	SheddablePlus
	// Critical is the default: traffic whose failure users see, such as a
	// checkout.
	Critical
	// CriticalPlus is the most important traffic, shed last and only when
	// allowed.
	CriticalPlus
)

// Valid reports whether c is one of the four levels.
func (c Criticality) Valid() bool { return c >= Sheddable && c <= CriticalPlus }

// Index returns c's position in shed order, 0 for Sheddable to 3 for
// CriticalPlus: the index of arrays by criticality, such as
// SheddingStatus.Rejected. It is meaningful only for a Valid c.
func (c Criticality) Index() int { return int(c - Sheddable) }

// band returns the shed level at which rejection of c starts: shedding
// level L rejects c with probability clamp(L − band, 0, 1).
// An unknown c counts as Critical.
func (c Criticality) band() float64 {
	if !c.Valid() {
		c = Critical
	}
	return float64(c.Index())
}

var criticalityNames = [...]string{"SHEDDABLE", "SHEDDABLE_PLUS", "CRITICAL", "CRITICAL_PLUS"}

// String returns the level's name: CRITICAL_PLUS, CRITICAL, SHEDDABLE_PLUS
// or SHEDDABLE.
func (c Criticality) String() string {
	if c.Valid() {
		return criticalityNames[c.Index()]
	}
	return fmt.Sprintf("CRITICALITY(%d)", int8(c))
}

// ParseCriticality parses a level name, in any case and with '-' or '_'.
// It is meant for values from trusted headers and configuration.
func ParseCriticality(s string) (Criticality, error) {
	for i, name := range criticalityNames {
		if len(s) == len(name) && strings.EqualFold(strings.ReplaceAll(s, "-", "_"), name) {
			return Sheddable + Criticality(i), nil
		}
	}
	return Critical, fmt.Errorf("%w: %q", ErrInvalidCriticality, s)
}

type criticalityKey struct{}

// WithCriticality returns a copy of ctx that carries c. Middleware reads it
// for admission and outbound middleware passes it on to downstream calls.
func WithCriticality(ctx context.Context, c Criticality) context.Context {
	return context.WithValue(ctx, criticalityKey{}, c)
}

// CriticalityFrom returns the criticality ctx carries, and false if none.
func CriticalityFrom(ctx context.Context) (Criticality, bool) {
	c, ok := ctx.Value(criticalityKey{}).(Criticality)
	return c, ok
}
