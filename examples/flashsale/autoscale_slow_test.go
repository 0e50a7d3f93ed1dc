//go:build slow

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestAutoscale takes about three minutes of real time, so it sits behind the
// slow build tag and CI runs it once, without -race (see .ci/run):
//
//	go test -tags slow -run TestAutoscale ./examples/flashsale

// TestAutoscale runs -autoscale scaled down, at two shapes, against its
// real loopback servers: the autoscaler reads the signal from the shop's
// /metrics over HTTP. With the autoscaler the spike's demand is served
// better and shedding ends sooner; capacity follows the signal after the
// provisioning delay and scales back after the spike. The machine may be
// busy, so only clear differences are asserted, not the demo's numbers.
func TestAutoscale(t *testing.T) {
	shapes := []struct {
		conns  int
		factor float64
		seed   uint64
	}{{4, 5, 1}, {2, 8, 2}}
	for _, sh := range shapes {
		cfg := defaultConfig()
		cfg = autoscaleDefaults(cfg, nil)
		// A spike long enough that capacity serves most of it: a stall of
		// this shared machine (the burn-rate controller then sheds for
		// about ten seconds) must not decide the comparison.
		cfg.Steady, cfg.Spike, cfg.Recovery = 2*time.Second, 20*time.Second, 20*time.Second
		cfg.Conns, cfg.SpikeFactor, cfg.Seed = sh.conns, sh.factor, sh.seed
		cfg.RPS = 0.6 * cfg.capacity()
		cfg.Provision, cfg.ScaleDownWindow, cfg.MaxReplicas = 2*time.Second, 2*time.Second, 8
		cfg.JSON = true
		dir := t.TempDir()
		cfg.CSV, cfg.SVG = filepath.Join(dir, "timeline.csv"), filepath.Join(dir, "chart.svg")

		goroutines := runtime.NumGoroutine()
		ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
		var out bytes.Buffer
		err := runAutoscale(ctx, cfg, &out)
		cancel()
		if err != nil {
			t.Fatalf("conns %d ×%v: runAutoscale() = %v; output:\n%s", sh.conns, sh.factor, err, out.String())
		}
		var cmp autoscaleComparison
		if err := json.Unmarshal(out.Bytes(), &cmp); err != nil {
			t.Fatalf("decoding %s: %v", out.String(), err)
		}
		a, b := cmp.Sloguard, cmp.Autoscaled
		// One line each, so that the end of CI's log shows both runs of
		// both shapes and what failed.
		var line bytes.Buffer
		if err := json.Compact(&line, out.Bytes()); err != nil {
			t.Fatal(err)
		}
		t.Logf("conns %d ×%v seed %d: %s", sh.conns, sh.factor, sh.seed, line.String())
		name := func() string { return fmt.Sprintf("conns %d ×%v seed %d", sh.conns, sh.factor, sh.seed) }
		if a.ShedStartS == nil || b.ShedStartS == nil {
			t.Errorf("%s: shedding started at %v and %v, want both runs to shed", name(), secText(a.ShedStartS), secText(b.ShedStartS))
		}
		if a.ScaleAskedS != nil || a.PeakReplicas != 1 {
			t.Errorf("%s: the run without the autoscaler scaled (%v, %d replicas)", name(), secText(a.ScaleAskedS), a.PeakReplicas)
		}
		want := int(math.Ceil(0.6 * sh.factor * 0.8))
		if b.ScaleAskedS == nil || b.TimeToScaleS == nil || b.PeakReplicas < want {
			t.Errorf("%s: scale asked at %v, first replica at %v, %d replicas at most; want a scale-up to at least %d",
				name(), secText(b.ScaleAskedS), secText(b.TimeToScaleS), b.PeakReplicas, want)
		} else if *b.TimeToScaleS < cfg.Provision.Seconds() || *b.TimeToScaleS < *b.ScaleAskedS {
			t.Errorf("%s: a replica served %vs after the spike began, asked at %vs; want no sooner than the %v delay after the ask",
				name(), *b.TimeToScaleS, *b.ScaleAskedS, cfg.Provision)
		}
		if b.SpikeDemandServed < a.SpikeDemandServed+0.2 {
			t.Errorf("%s: %.1f%% of the spike's demand served with the autoscaler, %.1f%% without; want 20 points more",
				name(), 100*b.SpikeDemandServed, 100*a.SpikeDemandServed)
		}
		if a.ShedForS == nil || b.ShedForS == nil || *b.ShedForS >= *a.ShedForS {
			t.Errorf("%s: shedding lasted %v with the autoscaler, %v without; want shorter", name(), secText(b.ShedForS), secText(a.ShedForS))
		}
		if b.CriticalRun < 0.98 {
			t.Errorf("%s: CRITICAL success %.2f%% over the run with the autoscaler, want at least 98%%", name(), 100*b.CriticalRun)
		}
		if b.EndReplicas >= b.PeakReplicas {
			t.Errorf("%s: %d replicas at the end, %d at most; want scaled back", name(), b.EndReplicas, b.PeakReplicas)
		}
		rows := readCSV(t, cfg.CSV)
		if want := 1 + 2*int((cfg.Steady+cfg.Spike+cfg.Recovery)/time.Second); len(rows) != want {
			t.Errorf("%s: CSV has %d rows, want %d", name(), len(rows), want)
		}
		checkSVG(t, cfg.SVG)
		checkGoroutines(t, goroutines)
	}
}
