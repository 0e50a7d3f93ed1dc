package promrules_test

import (
	"strings"
	"testing"

	"github.com/sloguard/sloguard/slo/promrules"
)

// TestZeroFile checks that the zero File marshals as a file with no groups.
func TestZeroFile(t *testing.T) {
	var f promrules.File
	got, err := f.Marshal()
	if err != nil || !strings.HasSuffix(string(got), "\ngroups: []\n") {
		t.Errorf("zero File: Marshal() = %q, %v, want it to end with %q", got, err, "groups: []\n")
	}
}
