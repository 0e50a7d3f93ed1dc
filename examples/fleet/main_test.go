//go:build integration

package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRun runs the demonstration against the real Prometheus that the
// integration suite uses (SLOGUARD_PROMETHEUS; missing fails, never skips).
func TestRun(t *testing.T) {
	bin := os.Getenv("SLOGUARD_PROMETHEUS")
	if bin == "" {
		t.Fatal("SLOGUARD_PROMETHEUS is not set: run through .ci/run, which installs prometheus")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, bin, &out); err != nil {
		t.Fatalf("run = %v\n%s", err, out.String())
	}
	t.Logf("output:\n%s", out.String())
	for _, want := range []string{"replica-2  fleet", "All three replicas judge the fleet's budget"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
