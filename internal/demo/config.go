package demo

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// Config is what the demos configure alike: the load, how hard the fault
// hits, and the time compression. A demo embeds it in its own configuration,
// beside the lengths of its phases.
type Config struct {
	// RPS is the load generator's target request rate, 1 to 2000.
	RPS float64
	// ErrorRate is the share of the faulty requests answered with a 500
	// during the fault, and SlowRate the share of the others slower than the
	// latency threshold, each 0 to 1. Which requests are faulty is the
	// demo's story.
	ErrorRate, SlowRate float64

	// Period is the objectives' compliance period, 30m to 6h. It stands for
	// 30 days, and so sets the time compression and the rules' windows.
	Period time.Duration
	// History is healthy traffic at RPS recorded into the engine before the
	// start, as a running service would have; capped at Period.
	History time.Duration

	// Seed seeds the random service times, faults and request mix.
	Seed uint64
	// Clients is the number of the load generator's client goroutines, 1 to
	// 1000.
	Clients int
	// Interval is the engine's evaluation interval, in (0, 1s].
	Interval time.Duration
}

// DefaultConfig returns what both demos start from: 200 rps from 32
// clients, seed 1, an evaluation every 250ms, and a one-hour period with
// one period of history. The fault's rates are zero: each demo sets its own.
func DefaultConfig() Config {
	return Config{
		RPS:     200,
		Period:  time.Hour,
		History: time.Hour,
		Seed:    1,
		Clients: 32,
		// The engine's default is 1s; the demo's windows are seconds long.
		Interval: 250 * time.Millisecond,
	}
}

// RegisterFlags defines -rps, -period, -history and -seed on fs, with c's
// values as defaults. The flags of the fault's rates describe what fails,
// which is each demo's story, so the demo defines them.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&c.RPS, "rps", c.RPS, "requests per second sent by the load generator (1 to 2000)")
	fs.DurationVar(&c.Period, "period", c.Period, "the objectives' compliance period, standing for 30 days (30m to 6h)")
	fs.DurationVar(&c.History, "history", c.History, "healthy traffic loaded into the engine before the start, at -rps; at most -period, 0 for none")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the random service times, faults and request mix")
}

// Validate reports every problem with c, one line each.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(c.RPS >= 1 && c.RPS <= 2000, "rps %v is not between 1 and 2000", c.RPS)
	check(c.ErrorRate >= 0 && c.ErrorRate <= 1, "error rate %v is not between 0 and 1", c.ErrorRate)
	check(c.SlowRate >= 0 && c.SlowRate <= 1, "slow rate %v is not between 0 and 1", c.SlowRate)
	// Below 30m the Workbook's 6h page rule has a short window under 1.25s,
	// close to the ledger's one-second buckets; above 6h the alerts outlast
	// any sensible demo.
	check(c.Period >= 30*time.Minute && c.Period <= 6*time.Hour, "period %v is not between 30m and 6h", c.Period)
	check(c.History >= 0, "history %v is negative", c.History)
	check(c.Clients >= 1 && c.Clients <= 1000, "clients %d is not between 1 and 1000", c.Clients)
	check(c.Interval > 0 && c.Interval <= time.Second, "interval %v is not in (0, 1s]", c.Interval)
	return errors.Join(errs...)
}

// ValidatePhases reports every problem with the lengths of a demo's phases:
// a negative warmup or recovery, a fault that is not positive. faultName is
// what the demo calls its fault, as its flag does: "outage", "fault".
func ValidatePhases(warmup, fault, recovery time.Duration, faultName string) error {
	var errs []error
	if warmup < 0 {
		errs = append(errs, fmt.Errorf("warmup %v is negative", warmup))
	}
	if fault <= 0 {
		errs = append(errs, fmt.Errorf("%s %v is not positive", faultName, fault))
	}
	if recovery < 0 {
		errs = append(errs, fmt.Errorf("recovery %v is negative", recovery))
	}
	return errors.Join(errs...)
}

// Compression is how many times faster than real time the demo runs: its
// Period stands for 30 days (slo.DefaultPeriod).
func (c Config) Compression() float64 { return float64(slo.DefaultPeriod) / float64(c.Period) }

// Shrink returns a copy of rules written for a 30-day period with their
// windows shrunk by Compression, to the millisecond. Their thresholds for
// Period, budget fraction × period / long window, stay those for 30 days.
func (c Config) Shrink(rules []budget.Rule) []budget.Rule {
	k := c.Compression()
	shrink := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) / k).Round(time.Millisecond)
	}
	out := make([]budget.Rule, len(rules))
	for i, r := range rules {
		r.Long = shrink(r.Long)
		if r.Short > 0 {
			r.Short = shrink(r.Short)
		}
		out[i] = r
	}
	return out
}

// Stands returns what d of the demo stands for at 30-day scale, to the
// minute: "12m", "3h", "2h24m".
func (c Config) Stands(d time.Duration) string {
	return Human(time.Duration(float64(d) * c.Compression()))
}

// history is what Preload records: History, at most Period.
func (c Config) history() time.Duration { return min(c.History, c.Period) }
