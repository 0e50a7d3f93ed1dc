package budget

import "fmt"

// Outcome is what one SLI event counted as.
//
// The zero value is Neutral, which is not counted: an Outcome that was never
// set can not spend budget.
type Outcome uint8

const (
	// Neutral events are not counted in the budget: for example a client
	// that cancelled its request before a response was written.
	Neutral Outcome = iota
	// Good events met the objective.
	Good
	// Bad events did not.
	Bad
	// Shed events were rejected by sloguard itself to protect the service.
	// They count as bad in the reported budget unless Spec.ExcludeShed is
	// set, and never in the admitted-traffic signal that drives shedding.
	Shed
)

// String returns the outcome's lower-case name, as used in metric
// attributes.
func (o Outcome) String() string {
	return enumName(o, "outcome", "neutral", "good", "bad", "shed")
}

// enumName returns names[v], or kind(v) for a value without a name: the
// String of the package's small enumerations.
func enumName[T ~uint8](v T, kind string, names ...string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", kind, uint8(v))
}

// Counts are event counts over some span of time. The zero Counts holds no
// events.
type Counts struct {
	Good uint64 // events that met the objective
	Bad  uint64 // events that did not
	Shed uint64 // events rejected by sloguard
}

// Admitted returns the events that were let through: Good + Bad.
func (c Counts) Admitted() uint64 { return c.Good + c.Bad }

// Total returns all counted events: Good + Bad + Shed.
func (c Counts) Total() uint64 { return c.Good + c.Bad + c.Shed }

// Add returns the element-wise sum of c and d.
func (c Counts) Add(d Counts) Counts {
	return Counts{Good: c.Good + d.Good, Bad: c.Bad + d.Bad, Shed: c.Shed + d.Shed}
}

// Sub returns the element-wise difference c − d. Callers use it on
// cumulative counts, where every field of d is at most the one of c.
func (c Counts) Sub(d Counts) Counts {
	return Counts{Good: c.Good - d.Good, Bad: c.Bad - d.Bad, Shed: c.Shed - d.Shed}
}

// reported returns the bad and total events of the reported budget: shed
// events count as bad unless excludeShed.
func (c Counts) reported(excludeShed bool) (bad, total uint64) {
	if excludeShed {
		return c.Bad, c.Admitted()
	}
	return c.Bad + c.Shed, c.Total()
}
