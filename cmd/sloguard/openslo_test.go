package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/slo/promrules"
)

const (
	validFile   = "../../slo/openslo/testdata/checkout.yaml"
	invalidFile = "../../slo/openslo/testdata/invalid.yaml"
)

func TestValidate(t *testing.T) {
	code, stdout, stderr := runCmd(t, "validate", validFile)
	if code != exitOK || stderr != "" {
		t.Fatalf("validate valid = %d, stderr %q, want 0 and none", code, stderr)
	}
	for _, want := range []string{
		"checkout/checkout-availability: availability 99.9%, rolling 30d, default rules",
		"checkout/checkout-latency: latency 99%, month Europe/Berlin, 2 rules",
		"2 objective(s), valid",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate valid stdout = %q, want it to contain %q", stdout, want)
		}
	}

	code, stdout, stderr = runCmd(t, "validate", validFile, invalidFile)
	if code != exitInvalid || stdout != "" {
		t.Fatalf("validate invalid = %d, stdout %q, want 1 and none", code, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 10 || lines[9] != "sloguard validate: 9 problem(s)" {
		t.Errorf("validate invalid stderr has %d lines, want 9 problems and a count:\n%s", len(lines), stderr)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, invalidFile+":") || !strings.Contains(l, ": document ") {
			t.Errorf("problem %q does not start with the file and line and name the document", l)
		}
	}

	if code, _, stderr := runCmd(t, "validate", filepath.Join(t.TempDir(), "missing.yaml")); code != exitError || !strings.Contains(stderr, "no such file") {
		t.Errorf("validate missing = %d, %q, want 2 and the cause", code, stderr)
	}
	if code, _, stderr := runCmd(t, "validate"); code != exitError || !strings.Contains(stderr, "no files") {
		t.Errorf("validate = %d, %q, want 2 and usage", code, stderr)
	}
}

func TestRules(t *testing.T) {
	code, stdout, stderr := runCmd(t, "rules", "--interval", "30s", validFile)
	if code != exitOK || stderr != "" {
		t.Fatalf("rules = %d, stderr %q, want 0 and none", code, stderr)
	}
	var f promrules.File
	if err := yaml.Unmarshal([]byte(stdout), &f); err != nil {
		t.Fatalf("rules output is not YAML: %v", err)
	}
	var alerts []string
	for _, g := range f.Groups {
		if g.Interval != "30s" {
			t.Errorf("group %s interval %q, want 30s", g.Name, g.Interval)
		}
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r.Alert+"/"+r.For)
			}
		}
	}
	// Availability: the default page and ticket; latency: its page
	// condition with alertAfter 2m and its ticket condition.
	want := "CheckoutAvailabilityPage/ CheckoutAvailabilityTicket/ CheckoutLatencyPage/2m CheckoutLatencyTicket/"
	if got := strings.Join(alerts, " "); got != want {
		t.Errorf("rules alerts = %s, want %s", got, want)
	}

	out := filepath.Join(t.TempDir(), "rules.yml")
	if code, stdout, stderr := runCmd(t, "rules", "--out", out, "--service-label", "service_name", validFile); code != exitOK || stdout != "" || stderr != "" {
		t.Fatalf("rules --out = %d, %q, %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `sloguard_events_total{service_name="checkout",objective="checkout-latency"`) {
		t.Errorf("rules --out wrote %v, %.300s", err, b)
	}

	// Pyrra and Sloth derive their own rules: the latency SLO's custom
	// rules and calendar month are refused, with every reason.
	code, stdout, stderr = runCmd(t, "rules", "--format", "pyrra", validFile)
	if code != exitInvalid || stdout != "" || !strings.Contains(stderr, "custom rules") || !strings.Contains(stderr, "calendar period month Europe/Berlin") {
		t.Errorf("rules --format pyrra = %d, %q, %q, want 1 and the latency objective refused", code, stdout, stderr)
	}
	// The availability SLO alone (the file's first document) translates.
	data, err := os.ReadFile(validFile)
	if err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(t.TempDir(), "availability.yaml")
	if err := os.WriteFile(first, []byte(strings.Split(string(data), "\n---\n")[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	for format, want := range map[string]string{
		"sloth": "version: prometheus/v1",
		"pyrra": "kind: ServiceLevelObjective",
	} {
		code, stdout, stderr := runCmd(t, "rules", "--format", format, first)
		if code != exitOK || stderr != "" || !strings.Contains(stdout, want) || !strings.Contains(stdout, `objective="checkout-availability"`) {
			t.Errorf("rules --format %s = %d, %q, %q, want 0 and %q", format, code, stdout, stderr, want)
		}
	}
	if code, _, stderr := runCmd(t, "rules", "--format", "nagios", validFile); code != exitError || !strings.Contains(stderr, `--format "nagios"`) {
		t.Errorf("rules --format nagios = %d, %q, want 2", code, stderr)
	}

	if code, _, stderr := runCmd(t, "rules", invalidFile); code != exitInvalid || !strings.Contains(stderr, "9 problem(s)") {
		t.Errorf("rules invalid = %d, %q, want 1 and every problem", code, stderr)
	}
	if code, _, stderr := runCmd(t, "rules", "--service-label", "service.name", validFile); code != exitInvalid || !strings.Contains(stderr, "service label") {
		t.Errorf("rules --service-label service.name = %d, %q, want 1", code, stderr)
	}
}
