package grpcslo_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies checks the promise of the layout: a service that uses
// only net/http never imports gRPC; gRPC comes with this package alone.
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
	pkgs := []string{module + "/middleware", module + "/slo", module + "/budget", module + "/middleware/grpcslo"}
	cmd := exec.Command(goCmd, append([]string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, pkgs...)...)
	cmd.Dir = "../.." // the module root
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	imports := map[string][]string{} // gRPC packages among each package's dependencies
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var grpc []string
		for _, d := range fields[1:] {
			if strings.HasPrefix(d, "google.golang.org/grpc") {
				grpc = append(grpc, d)
			}
		}
		imports[fields[0]] = grpc
	}
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
