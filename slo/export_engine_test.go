package slo

import "time"

// TestClock is a clock with separate wall and monotonic readings, for
// tests of clock steps.
type TestClock struct {
	Wall    func() time.Time
	Elapsed func() time.Duration
}

func (c TestClock) wall() time.Time        { return c.Wall() }
func (c TestClock) elapsed() time.Duration { return c.Elapsed() }

// WithClock makes the engine read time from c instead of the system.
func WithClock(c TestClock) Option {
	return optionFunc(func(cfg *config) { cfg.clock = c })
}

// WithEventQueueSize sets the size of the event dispatcher's queue.
func WithEventQueueSize(n int) Option {
	return optionFunc(func(cfg *config) { cfg.queueSize = n })
}

// WithKeptChanges sets how many changes the timeline keeps besides the
// recent events.
func WithKeptChanges(n int) Option {
	return optionFunc(func(cfg *config) { cfg.changes = n })
}

// DispatcherDone reports whether the event dispatcher's goroutine returned.
func DispatcherDone(e *Engine) bool {
	select {
	case <-e.dispatcher.done:
		return true
	default:
		return false
	}
}

// QueueSize and CloseGrace are the dispatcher's bounds.
const (
	QueueSize  = queueSize
	CloseGrace = closeGrace
)
