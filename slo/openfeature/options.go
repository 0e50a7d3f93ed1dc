package openfeature

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidOption is wrapped by every error NewProvider returns about its
// arguments and options.
var ErrInvalidOption = errors.New("openfeature: invalid option")

type config struct {
	flags []flagConfig
	poll  time.Duration
	errs  []error
}

type flagConfig struct {
	key, gate string
	safe      any
}

// Option configures a Provider.
//
// The zero (nil) Option is an error of NewProvider, wrapping
// ErrInvalidOption.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithGatedFlag ties the flag flagKey to the engine's gate gateName: while
// the gate is closed, evaluations of the flag return safe (see the package
// documentation for its type). The key must not be empty nor given twice,
// the gate must exist and safe must not be nil; NewProvider reports every
// violation. Several flags may share one gate.
//
// By default, no flag is gated and the Provider only forwards.
func WithGatedFlag(flagKey, gateName string, safe any) Option {
	return optionFunc(func(c *config) {
		c.flags = append(c.flags, flagConfig{key: flagKey, gate: gateName, safe: safe})
	})
}

// WithPollInterval sets how often the Provider, while initialised, looks at
// its gates to emit PROVIDER_CONFIGURATION_CHANGED events. It does not
// affect evaluations, which always see the gate's current state.
//
// By default, one second: the engine's default evaluation interval.
func WithPollInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("%w: poll interval %v is not positive", ErrInvalidOption, d))
			return
		}
		c.poll = d
	})
}

// normalize returns the safe value in the type OpenFeature evaluates: Go
// integers as int64, float32 as float64; other types are object values.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("safe value is nil")
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("safe value %d does not fit an int64", x)
		}
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("safe value %d does not fit an int64", x)
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	}
	return v, nil
}
