package middleware

import "errors"

// ErrInvalidOption is wrapped by every error about an invalid Option,
// including options that name objectives the engine does not have.
var ErrInvalidOption = errors.New("middleware: invalid option")
