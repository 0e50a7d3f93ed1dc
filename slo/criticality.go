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
// The zero value is Critical, the default for a request that says nothing.
type Criticality uint8

const (
	// Critical is the default: traffic whose failure users see, such as a
	// checkout.
	Critical Criticality = iota
	// CriticalPlus is the most important traffic, shed last and only when
	// allowed.
	CriticalPlus
	// SheddablePlus is traffic that can wait and be retried, such as
	// prefetches.
	SheddablePlus
	// Sheddable is traffic that may fail without harm, such as
	// recommendations or batch work; shed first.
	Sheddable
)

// Criticalities lists the levels from the first shed to the last.
var Criticalities = []Criticality{Sheddable, SheddablePlus, Critical, CriticalPlus}

// band returns the shed level at which rejection of c starts: shedding
// level L rejects c with probability clamp(L − band, 0, 1).
func (c Criticality) band() float64 {
	switch c {
	case Sheddable:
		return 0
	case SheddablePlus:
		return 1
	case CriticalPlus:
		return 3
	}
	return 2
}

// bandIndex returns band as an index, 0 for SHEDDABLE to 3 for
// CRITICAL_PLUS.
func (c Criticality) bandIndex() int { return int(c.band()) }

var criticalityNames = [...]string{
	Critical:      "CRITICAL",
	CriticalPlus:  "CRITICAL_PLUS",
	SheddablePlus: "SHEDDABLE_PLUS",
	Sheddable:     "SHEDDABLE",
}

// String returns the level's name: CRITICAL_PLUS, CRITICAL, SHEDDABLE_PLUS
// or SHEDDABLE.
func (c Criticality) String() string {
	if int(c) < len(criticalityNames) {
		return criticalityNames[c]
	}
	return fmt.Sprintf("CRITICALITY(%d)", uint8(c))
}

// ParseCriticality parses a level name, in any case and with '-' or '_'.
// It is meant for values from trusted headers and configuration.
func ParseCriticality(s string) (Criticality, error) {
	for c, name := range criticalityNames {
		if len(s) == len(name) && strings.EqualFold(strings.ReplaceAll(s, "-", "_"), name) {
			return Criticality(c), nil
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
