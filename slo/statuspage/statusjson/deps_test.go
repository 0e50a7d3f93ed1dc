package statusjson_test

import (
	"strings"
	"testing"

	"github.com/sloguard/sloguard/internal/godeps"
)

// TestDependencies checks the promise of the package: a client decodes the
// status documents without linking the engine, gobreaker or OpenTelemetry.
func TestDependencies(t *testing.T) {
	const module = godeps.Module
	// statuspage is listed too so that the test fails if it stops seeing
	// the engine: then the prefixes below would be wrong, not the package.
	pkgs := []string{module + "/slo/statuspage/statusjson", module + "/slo/statuspage"}
	deps := godeps.Matching(t, func(dep string) bool {
		return dep == module+"/slo" || strings.HasPrefix(dep, module+"/slo/") ||
			strings.HasPrefix(dep, "github.com/sony/gobreaker") ||
			strings.HasPrefix(dep, "go.opentelemetry.io/")
	}, pkgs...)
	for _, p := range pkgs {
		got, listed := deps[p]
		switch {
		case !listed:
			t.Errorf("go list did not list %s", p)
		case strings.HasSuffix(p, "/statusjson"):
			if len(got) > 0 {
				t.Errorf("%s depends on %s; it must decode without the engine", p, strings.Join(got, ", "))
			}
		case len(got) == 0:
			t.Errorf("%s depends on none of slo, gobreaker, go.opentelemetry.io; the test is not looking right", p)
		}
	}
}
