// Package options applies the functional options of sloguard's
// constructors the same way everywhere: in order, a nil option reported in
// its place rather than called.
package options

import "fmt"

// Apply calls apply with every option of opts in order. For a nil option
// it appends instead an error wrapping sentinel, "<what> <index> is nil",
// to *errs, where the options append their own problems, so that the
// errors keep the order of the options.
func Apply[O comparable](opts []O, errs *[]error, sentinel error, what string, apply func(O)) {
	var none O
	for i, o := range opts {
		if o == none {
			*errs = append(*errs, fmt.Errorf("%w: %s %d is nil", sentinel, what, i))
			continue
		}
		apply(o)
	}
}
