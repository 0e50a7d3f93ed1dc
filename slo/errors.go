package slo

import "errors"

var (
	// ErrInvalidObjective is wrapped by every error about an invalid
	// Objective.
	ErrInvalidObjective = errors.New("slo: invalid objective")
	// ErrInvalidOption is wrapped by every error about an invalid Option.
	ErrInvalidOption = errors.New("slo: invalid option")
	// ErrUnknownObjective is returned when a name matches no objective of
	// the Engine.
	ErrUnknownObjective = errors.New("slo: unknown objective")
	// ErrUnknownGate is returned when a name matches no gate of the Engine.
	ErrUnknownGate = errors.New("slo: unknown gate")
	// ErrInvalidCriticality is returned for an unknown criticality name.
	ErrInvalidCriticality = errors.New("slo: invalid criticality")
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("slo: engine closed")
)
