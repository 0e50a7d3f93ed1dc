package options_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/sloguard/sloguard/internal/options"
)

type config struct {
	seen []string
	errs []error
}

type option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func named(s string) option {
	return optionFunc(func(c *config) {
		if s == "" {
			c.errs = append(c.errs, errors.New("empty name"))
			return
		}
		c.seen = append(c.seen, s)
	})
}

func TestApply(t *testing.T) {
	errInvalid := errors.New("test: invalid option")
	var c config
	opts := []option{named("a"), nil, named(""), named("b"), nil}
	options.Apply(opts, &c.errs, errInvalid, "option", func(o option) { o.apply(&c) })

	if want := []string{"a", "b"}; !slices.Equal(c.seen, want) {
		t.Errorf("applied %v, want %v", c.seen, want)
	}
	var got []string
	for _, err := range c.errs {
		got = append(got, err.Error())
	}
	want := []string{"test: invalid option: option 1 is nil", "empty name", "test: invalid option: option 4 is nil"}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q (in the order of the options)", got, want)
	}
	if !errors.Is(c.errs[0], errInvalid) {
		t.Errorf("errors.Is(%v, sentinel) = false, want true", c.errs[0])
	}
}
