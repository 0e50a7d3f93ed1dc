package slo

import (
	"cmp"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

type config struct {
	shed          *ShedPolicy // WithShedding; nil when shedding is off
	shedPolicy    ShedPolicy  // *shed, or the defaults (control burn, minimum events)
	breaker       BreakerPolicy
	meterProvider metric.MeterProvider
	logger        *slog.Logger
	handlers      []func(Event)
	interval      time.Duration
	timeline      int
	gates         []gateConfig
	release       ReleasePolicy
	historyEvery  time.Duration
	historySize   int
	clock         clock           // nil: the system's; tests inject their own
	queueSize     int             // of the event dispatcher; 0: queueSize
	changes       int             // changes the timeline keeps; 0: keptChanges
	snapshots     *snapshotConfig // WithSnapshots; nil for none
	fleet         *fleetConfig    // WithFleet; nil for none
	errs          []error
}

// newConfig applies opts over the defaults: the one place where the
// engine's defaults are set (the policies' own in their withDefaults).
func newConfig(opts []Option) config {
	c := config{
		interval:     time.Second,
		timeline:     256,
		historyEvery: 2 * time.Minute,
		historySize:  720,
	}
	for i, o := range opts {
		if o == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: option %d is nil", ErrInvalidOption, i))
			continue
		}
		o.apply(&c)
	}
	c.queueSize = cmp.Or(c.queueSize, queueSize)
	c.breaker = c.breaker.withDefaults()
	c.shedPolicy = ShedPolicy{}.withDefaults()
	if c.shed != nil {
		c.shedPolicy = *c.shed
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	return c
}

type gateConfig struct {
	name   string
	policy GatePolicy
}

// Option configures an Engine.
//
// The zero (nil) Option is an error of New, wrapping ErrInvalidOption.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMeterProvider sets the OpenTelemetry MeterProvider through which the
// engine exports its metrics.
//
// Objective names are the only attribute that tells series apart, so give
// each MeterProvider one Engine, or engines with distinct objective names.
//
// Each objective has up to eight sloguard.burn_rate series with the
// default rules (one per window) and five sloguard.state series. The
// OpenTelemetry Go SDK keeps at most 2000 series per instrument by
// default and folds the rest into one overflow series, so with more than
// 250 objectives raise its limit (sdk/metric.WithCardinalityLimit), or
// export through package slo/otelsdk instead, which takes the metrics
// over from the MeterProvider and knows no such limit.
//
// By default, the global MeterProvider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil MeterProvider", ErrInvalidOption))
			return
		}
		c.meterProvider = mp
	})
}

// WithLogger sets the logger for state changes and for the engine's own
// faults. Its handler is called like an event handler (see
// WithEventHandler): once the engine is started, from the dispatcher
// goroutine only, so a logger that blocks does not stall the engine.
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

// WithEventHandler adds a function called with every Event, in order, and
// never while a lock is held. Once the engine is started, the handlers and
// the logger are called from one dispatcher goroutine, fed through a queue
// of 1024 events, so that a handler that is slow, blocks or panics never
// delays the evaluation loop, admission or Close: when the queue is full,
// events are dropped for the handlers and the logger (they stay in the
// timeline), counted in Status.DroppedEvents and as faults, and logged at
// most once per interval. A panic in a handler is recovered, logged and
// counted. (Without Start, Engine.Tick calls them itself.) A handler must
// not modify the event (its Burns are shared with the timeline), and
// should not call Engine.Close, which would wait out its grace for the
// dispatcher. Several handlers are called in the order they were added.
//
// By default, events go only to the logger and the timeline.
func WithEventHandler(f func(Event)) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil event handler", ErrInvalidOption))
			return
		}
		c.handlers = append(c.handlers, f)
	})
}

// WithInterval sets how often the evaluation loop folds new events into the
// ledgers, evaluates the rules and publishes a new Status. Shorter reacts
// sooner and costs more CPU; events are attributed to the bucket of the
// evaluation that follows them, so the interval should stay well below the
// finest bucket (5s for the default rules). The burn-rate controller of
// load shedding steps once per evaluation; the concurrency gate does not
// wait for evaluations. It must be from 1ms to one minute.
//
// By default, one second.
func WithInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		switch {
		case d <= 0:
			c.errs = append(c.errs, fmt.Errorf("%w: interval %v is not positive", ErrInvalidOption, d))
			return
		case d < minInterval || d > maxInterval:
			c.errs = append(c.errs, fmt.Errorf("%w: interval %v is not from %v to %v", ErrInvalidOption, d, minInterval, maxInterval))
			return
		}
		c.interval = d
	})
}

// WithTimelineSize sets how many recent events the engine keeps for Events;
// older ones are dropped. It must be from 1 to 65536.
//
// By default, 256.
func WithTimelineSize(n int) Option {
	return optionFunc(func(c *config) {
		switch {
		case n <= 0:
			c.errs = append(c.errs, fmt.Errorf("%w: timeline size %d is not positive", ErrInvalidOption, n))
			return
		case n > maxTimeline:
			c.errs = append(c.errs, fmt.Errorf("%w: timeline size %d is more than %d", ErrInvalidOption, n, maxTimeline))
			return
		}
		c.timeline = n
	})
}

// WithShedding turns on overload protection with policy p (see
// ShedPolicy; zero fields mean their defaults, and ShedPolicy{} is meant to
// be enough): admission (Route.Admit, and the server middleware) then
// rejects what would put more in flight than the concurrency gate allows,
// and the least critical requests while admitted traffic still burns the
// budget too fast.
//
// By default, shedding is off and Route.Admit admits everything.
func WithShedding(p ShedPolicy) Option {
	return optionFunc(func(c *config) {
		p = p.withDefaults()
		if err := p.validate(); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.shed = &p
	})
}

// WithBreakers sets the policy of the dependencies' circuit breakers (see
// BreakerPolicy; zero fields mean their defaults).
//
// By default, BreakerPolicy{}: open after 5 failures in a row or a fast
// burn, for 10s, then one probe.
func WithBreakers(p BreakerPolicy) Option {
	return optionFunc(func(c *config) {
		p = p.withDefaults()
		if err := p.validate(); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.breaker = p
	})
}

// WithGate adds a Gate, a feature flag that the error budget turns off and
// on (see GatePolicy), retrieved with Engine.Gate. Gate names must be
// unique, with the same characters as objective names.
//
// By default, there are no gates.
func WithGate(name string, p GatePolicy) Option {
	return optionFunc(func(c *config) {
		c.gates = append(c.gates, gateConfig{name: name, policy: p})
	})
}

// WithReleasePolicy sets the error budget policy that freezes releases (see
// ReleasePolicy and Status.Release).
//
// By default, ReleasePolicy{}: releases freeze when a service objective's
// budget is spent and go on once every one is back above 5%.
func WithReleasePolicy(p ReleasePolicy) Option {
	return optionFunc(func(c *config) { c.release = p })
}

// WithHistory sets how often the engine samples each objective and the
// service's load for Engine.History and Engine.LoadHistory, and how many
// samples it keeps: every at most a day, size at most 65536. Each sample
// takes 24 bytes per objective and 56 bytes for the load (see History in
// the package documentation).
//
// By default, every two minutes, 720 samples: a day, 16.9 KiB per
// objective. One a minute for a day, WithHistory(time.Minute, 1440), takes
// an objective's memory from about 52 KiB to 69 KiB.
func WithHistory(every time.Duration, size int) Option {
	return optionFunc(func(c *config) {
		switch {
		case every <= 0 || size <= 0:
			c.errs = append(c.errs, fmt.Errorf("%w: history every %v, size %d: both must be positive", ErrInvalidOption, every, size))
			return
		case every > maxHistoryEvery || size > maxHistorySize:
			c.errs = append(c.errs, fmt.Errorf("%w: history every %v, size %d: at most %v and %d", ErrInvalidOption, every, size, maxHistoryEvery, maxHistorySize))
			return
		}
		c.historyEvery, c.historySize = every, size
	})
}
