package budget

import "errors"

// ErrInvalid is wrapped by every error that reports an invalid Spec, Rule or
// ledger layout.
var ErrInvalid = errors.New("budget: invalid configuration")
