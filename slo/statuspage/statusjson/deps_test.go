package statusjson_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies checks the promise of the package: a client decodes the
// status documents without linking the engine, gobreaker or OpenTelemetry.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	// go test puts the go command that runs it first on PATH.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	const module = "github.com/sloguard/sloguard"
	// statuspage is listed too so that the test fails if it stops seeing
	// the engine: then the prefixes below would be wrong, not the package.
	pkgs := []string{module + "/slo/statuspage/statusjson", module + "/slo/statuspage"}
	cmd := exec.Command(goCmd, append([]string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, pkgs...)...)
	cmd.Dir = "../../.." // the module root
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	forbidden := func(dep string) bool {
		return dep == module+"/slo" || strings.HasPrefix(dep, module+"/slo/") ||
			strings.HasPrefix(dep, "github.com/sony/gobreaker") ||
			strings.HasPrefix(dep, "go.opentelemetry.io/")
	}
	deps := map[string][]string{} // forbidden packages among each package's dependencies
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var bad []string
		for _, d := range fields[1:] {
			if forbidden(d) {
				bad = append(bad, d)
			}
		}
		deps[fields[0]] = bad
	}
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
