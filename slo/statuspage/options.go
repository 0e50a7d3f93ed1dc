package statuspage

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrInvalidOption is wrapped by every error New returns: a nil engine or
// an invalid Option.
var ErrInvalidOption = errors.New("statuspage: invalid option")

type config struct {
	title      string
	eventLimit int
	logger     *slog.Logger
	errs       []error
}

// Option configures a Handler.
//
// The zero (nil) Option is an error of New, wrapping ErrInvalidOption.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTitle sets the title at the top of the page and in the browser tab,
// for example the service's name. It is printed escaped.
//
// By default, "sloguard".
func WithTitle(title string) Option {
	return optionFunc(func(c *config) {
		if title == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: empty title", ErrInvalidOption))
			return
		}
		c.title = title
	})
}

// WithEventLimit sets how many of the most recent events the page and its
// JSON show.
//
// By default, the JSON has every event the engine keeps (see
// slo.Engine.Events: what a postmortem needs), and the page the latest
// 100.
func WithEventLimit(n int) Option {
	return optionFunc(func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: event limit %d is not positive", ErrInvalidOption, n))
			return
		}
		c.eventLimit = n
	})
}

// WithLogger sets the logger for the handler's own faults, such as a page
// that fails to render; the client only sees "internal error".
//
// By default, slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil logger", ErrInvalidOption))
			return
		}
		c.logger = l
	})
}
