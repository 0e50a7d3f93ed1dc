// Package claim reads the criticality that a trusted caller claims in a
// header or in gRPC metadata, for the HTTP and gRPC middleware.
//
// The rule, documented for users in package middleware ("Criticality and
// trust"): a claim may arrive as several values, each a comma-separated
// list, because proxies repeat or join headers and a service that forwards
// its incoming metadata adds its own value to its caller's. The least
// critical level named counts, and names that do not parse are ignored, so
// that adding a value can only lower a call's criticality, never raise it.
package claim

import (
	"strings"

	"github.com/sloguard/sloguard/slo"
)

// Least returns the least critical of the levels named in values, and
// false when none of them parses. It does not allocate for valid names.
func Least(values []string) (slo.Criticality, bool) {
	least, found := slo.CriticalPlus, false
	for _, v := range values {
		for v != "" {
			var name string
			name, v, _ = strings.Cut(v, ",")
			c, err := slo.ParseCriticality(strings.TrimSpace(name))
			if err != nil {
				continue
			}
			if !found || rank(c) < rank(least) {
				least, found = c, true
			}
		}
	}
	return least, found
}

// rank orders the levels from the first shed (0) to the last.
func rank(c slo.Criticality) int {
	switch c {
	case slo.Sheddable:
		return 0
	case slo.SheddablePlus:
		return 1
	case slo.Critical:
		return 2
	}
	return 3
}
