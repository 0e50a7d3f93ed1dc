// Package godeps lists the dependencies of this module's packages with the
// go command, for the tests that keep the layout's promises (a service
// using only net/http never imports gRPC; the status documents decode
// without the engine).
package godeps

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is the import path of this module.
const Module = "github.com/sloguard/sloguard"

// Matching returns, for each of pkgs (import paths), its dependencies, direct
// or not, for which match is true; every package listed has an entry, even
// an empty one. It runs `go list` in the test's directory, which must be
// inside the module, and skips the test under -short.
func Matching(t testing.TB, match func(dep string) bool, pkgs ...string) map[string][]string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	// go test puts the go command that runs it first on PATH.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	cmd := exec.Command(goCmd, append([]string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, pkgs...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		matched := []string{}
		for _, d := range fields[1:] {
			if match(d) {
				matched = append(matched, d)
			}
		}
		deps[fields[0]] = matched
	}
	return deps
}
