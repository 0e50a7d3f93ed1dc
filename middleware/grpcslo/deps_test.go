package grpcslo_test

import (
	"strings"
	"testing"

	"github.com/sloguard/sloguard/internal/godeps"
)

// TestDependencies checks the promise of the layout: a service that uses
// only net/http never imports gRPC; gRPC comes with this package alone.
func TestDependencies(t *testing.T) {
	const module = godeps.Module
	pkgs := []string{module + "/middleware", module + "/slo", module + "/budget", module + "/middleware/grpcslo"}
	imports := godeps.Matching(t, func(dep string) bool {
		return strings.HasPrefix(dep, "google.golang.org/grpc")
	}, pkgs...)
	for _, p := range pkgs {
		got, listed := imports[p]
		switch {
		case !listed:
			t.Errorf("go list did not list %s", p)
		case strings.HasSuffix(p, "/grpcslo"):
			if len(got) == 0 {
				t.Errorf("%s depends on no google.golang.org/grpc package; the test is not looking right", p)
			}
		case len(got) > 0:
			t.Errorf("%s depends on %s; a service using only net/http must not import gRPC", p, strings.Join(got, ", "))
		}
	}
}
