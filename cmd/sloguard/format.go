package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// formatDuration formats an estimate for people with its two largest units,
// rounded: "19d4h", "3h12m", "45s".
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return "<1s"
	case d >= day:
		d = d.Round(time.Hour)
	case d >= time.Hour:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Second)
	}
	units := []struct {
		d time.Duration
		s string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units {
		if d < u.d {
			continue
		}
		s := strconv.FormatInt(int64(d/u.d), 10) + u.s
		if i+1 < len(units) {
			if lo := (d % u.d) / units[i+1].d; lo > 0 {
				s += strconv.FormatInt(int64(lo), 10) + units[i+1].s
			}
		}
		return s
	}
	return "0s" // not reached: d ≥ 1s
}

// seconds converts a number of seconds from the status document to a
// Duration, and false when it is not a finite, representable duration.
func seconds(s float64) (time.Duration, bool) {
	if math.IsNaN(s) || s < 0 || s >= float64(math.MaxInt64)/float64(time.Second) {
		return 0, false
	}
	return time.Duration(s * float64(time.Second)), true
}

// percent formats a share such as a remaining budget: "-12.0%".
func percent(r float64) string {
	return strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
}

// formatTarget formats an objective's target with the digits it has:
// "99.9%", "99%", "99.95%".
func formatTarget(t float64) string {
	return strconv.FormatFloat(math.Round(t*100*1e4)/1e4, 'f', -1, 64) + "%"
}

// formatBurn formats a burn rate with three significant digits or fewer.
func formatBurn(b float64) string {
	switch {
	case math.IsNaN(b) || math.IsInf(b, 0):
		return "?"
	case b == 0:
		return "0"
	case b >= 100:
		return strconv.FormatFloat(b, 'f', 0, 64)
	case b >= 10:
		return strconv.FormatFloat(b, 'f', 1, 64)
	}
	return strconv.FormatFloat(b, 'f', 2, 64)
}

// barWidth is the number of cells of a budget bar.
const barWidth = 20

// bar draws a remaining budget as text, readable without colour: "#" for
// what is left, "." for what is spent. An overspent budget is all dots.
func bar(r float64) string {
	if math.IsNaN(r) {
		r = 0
	}
	n := int(math.Round(min(max(r, 0), 1) * barWidth))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", barWidth-n) + "]"
}

// sinceFlag is a duration flag that also takes days, as postmortems count
// them: "7d", "1d12h", "90m".
type sinceFlag struct{ d time.Duration }

func (f *sinceFlag) String() string {
	if f == nil || f.d == 0 {
		return ""
	}
	return formatDuration(f.d)
}

func (f *sinceFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	if d <= 0 {
		return errors.New("must be positive")
	}
	f.d = d
	return nil
}

// parseDuration parses a Go duration with an optional leading number of
// days: "3d", "1d12h", "36h".
func parseDuration(s string) (time.Duration, error) {
	orig := s
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		days, s = time.Duration(n)*day, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q", orig)
	}
	return days + d, nil
}

// painter colours text with ANSI escapes when it is on. Every code has the
// same length, so that a table column painted in full stays aligned.
type painter bool

const (
	red     = "31"
	green   = "32"
	yellow  = "33"
	neutral = "39" // the terminal's default colour
)

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// stateColour is the colour of an objective state.
func stateColour(state string) string {
	switch state {
	case "ok":
		return green
	case "ticket":
		return yellow
	case "page", "exhausted":
		return red
	}
	return neutral
}
