package demo

import (
	"flag"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// workbook are two of the SRE Workbook's rules for 30 days, as the demos
// use them.
var workbook = []budget.Rule{
	{Severity: budget.Page, Long: 6 * time.Hour, BudgetFraction: 0.05},
	{Severity: budget.Ticket, Long: 24 * time.Hour, BudgetFraction: 0.10},
}

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v, want nil", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // one line each, in order; none for valid
	}{
		{"default", func(*Config) {}, nil},
		{"bounds", func(c *Config) {
			c.RPS, c.ErrorRate, c.SlowRate, c.Period, c.History, c.Clients, c.Interval = 2000, 1, 0, 6*time.Hour, 0, 1000, time.Second
		}, nil},
		{"rps", func(c *Config) { c.RPS = 0.5 }, []string{"rps 0.5 is not between 1 and 2000"}},
		{"error rate", func(c *Config) { c.ErrorRate = 1.5 }, []string{"error rate 1.5 is not between 0 and 1"}},
		{"slow rate", func(c *Config) { c.SlowRate = -0.1 }, []string{"slow rate -0.1 is not between 0 and 1"}},
		{"short period", func(c *Config) { c.Period = 10 * time.Minute }, []string{"period 10m0s is not between 30m and 6h"}},
		{"long period", func(c *Config) { c.Period = 7 * time.Hour }, []string{"period 7h0m0s is not between 30m and 6h"}},
		{"history", func(c *Config) { c.History = -time.Second }, []string{"history -1s is negative"}},
		{"clients", func(c *Config) { c.Clients = 0 }, []string{"clients 0 is not between 1 and 1000"}},
		{"interval", func(c *Config) { c.Interval = 2 * time.Second }, []string{"interval 2s is not in (0, 1s]"}},
		{"every problem", func(c *Config) { *c = Config{} }, []string{
			"rps 0 is not between 1 and 2000",
			"period 0s is not between 30m and 6h",
			"clients 0 is not between 1 and 1000",
			"interval 0s is not in (0, 1s]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if want := strings.Join(tt.want, "\n"); err == nil || err.Error() != want {
				t.Errorf("Validate() = %v, want %q", err, want)
			}
		})
	}
}

func TestShrink(t *testing.T) {
	tests := []struct {
		period      time.Duration
		k           float64
		long, short []time.Duration
	}{
		{30 * time.Minute, 1440, []time.Duration{15 * time.Second, time.Minute}, []time.Duration{1250 * time.Millisecond, 5 * time.Second}},
		{time.Hour, 720, []time.Duration{30 * time.Second, 2 * time.Minute}, []time.Duration{2500 * time.Millisecond, 10 * time.Second}},
		{2 * time.Hour, 360, []time.Duration{time.Minute, 4 * time.Minute}, []time.Duration{5 * time.Second, 20 * time.Second}},
		{6 * time.Hour, 120, []time.Duration{3 * time.Minute, 12 * time.Minute}, []time.Duration{15 * time.Second, time.Minute}},
	}
	for _, tt := range tests {
		c := Config{Period: tt.period}
		if got := c.Compression(); got != tt.k {
			t.Errorf("Config{Period: %v}.Compression() = %v, want %v", tt.period, got, tt.k)
		}
		rules := c.Shrink(workbook)
		if len(rules) != len(workbook) {
			t.Fatalf("Shrink() returned %d rules, want %d", len(rules), len(workbook))
		}
		for i, r := range rules {
			if r.Long != tt.long[i] || r.ShortWindow() != tt.short[i] {
				t.Errorf("period %v: Shrink()[%d] windows = %v & %v, want %v & %v", tt.period, i, r.Long, r.ShortWindow(), tt.long[i], tt.short[i])
			}
			// Shrinking windows and period alike keeps the thresholds.
			if got, want := r.Threshold(tt.period), workbook[i].Threshold(slo.DefaultPeriod); math.Abs(got-want) > 1e-9 {
				t.Errorf("period %v: Shrink()[%d].Threshold() = %v, want %v", tt.period, i, got, want)
			}
			if r.Severity != workbook[i].Severity || r.BudgetFraction != workbook[i].BudgetFraction {
				t.Errorf("period %v: Shrink()[%d] = %+v, want severity and fraction of %+v", tt.period, i, r, workbook[i])
			}
		}
	}
	if workbook[0].Long != 6*time.Hour {
		t.Errorf("Shrink() changed its argument: %+v", workbook[0])
	}
}

func TestShrinkExplicitShortWindow(t *testing.T) {
	c := Config{Period: time.Hour}
	got := c.Shrink([]budget.Rule{{Severity: budget.Page, Long: time.Hour, Short: 5 * time.Minute, BudgetFraction: 0.02}})
	if got[0].Long != 5*time.Second || got[0].Short != 417*time.Millisecond {
		t.Errorf("Shrink(1h & 5m) = %v & %v, want 5s & 417ms", got[0].Long, got[0].Short)
	}
}

func TestStands(t *testing.T) {
	c := Config{Period: time.Hour}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, "12m"},
		{15 * time.Second, "3h"},
		{12 * time.Second, "2h24m"},
	} {
		if got := c.Stands(tt.d); got != tt.want {
			t.Errorf("Stands(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-rps", "50", "-period", "2h", "-history", "0", "-seed", "7"}); err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	want := DefaultConfig()
	want.RPS, want.Period, want.History, want.Seed = 50, 2*time.Hour, 0, 7
	if c != want {
		t.Errorf("after Parse, config = %+v, want %+v", c, want)
	}
	if f := fs.Lookup("rps"); f == nil || f.DefValue != "200" {
		t.Errorf("flag rps = %+v, want default 200", f)
	}
}

func TestValidatePhases(t *testing.T) {
	tests := []struct {
		warmup, fault, recovery time.Duration
		want                    string // "" for valid
	}{
		{15 * time.Second, 12 * time.Second, 15 * time.Second, ""},
		{0, time.Millisecond, 0, ""},
		{-time.Second, 0, -2 * time.Second, "warmup -1s is negative\noutage 0s is not positive\nrecovery -2s is negative"},
		{0, -time.Second, 0, "outage -1s is not positive"},
	}
	for _, tt := range tests {
		err := ValidatePhases(tt.warmup, tt.fault, tt.recovery, "outage")
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("ValidatePhases(%v, %v, %v, \"outage\") = %v, want %q", tt.warmup, tt.fault, tt.recovery, err, tt.want)
		}
	}
}
