package main

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"text/tabwriter"
	"time"
)

// cell is one shape of the matrix.
type cell struct {
	conns  int
	rps    float64
	factor float64
	ramp   time.Duration
}

// matrixCells are the shapes of issue 8: 4, 8 and 16 connections × spikes
// of 2, 5, 10 and 20 times a base load of 60% of capacity; a 10× spike on
// a 5s ramp; 90% of capacity with no spike.
func matrixCells() []cell {
	var cells []cell
	for _, c := range []int{4, 8, 16} {
		for _, f := range []float64{2, 5, 10, 20} {
			cells = append(cells, cell{conns: c, rps: float64(c) * 15, factor: f})
		}
	}
	return append(cells,
		cell{conns: 8, rps: 120, factor: 10, ramp: 5 * time.Second},
		cell{conns: 8, rps: 180, factor: 1},
	)
}

// matrixRow is what the matrix reports of one cell: the run with sloguard
// against the targets, and the run without for context.
type matrixRow struct {
	cell
	without, with runReport
	sheddedShare  float64 // of all requests of the run with sloguard
	criticalShed  int     // CRITICAL requests shed in the run with sloguard
	cpu           float64 // cores the process used during the run with sloguard
}

// runMatrix runs every cell of the matrix, without and then with sloguard,
// each with cfg's seed and phases (the run without a spike also without
// the outage), and prints one table to w; progress goes to progress.
func runMatrix(ctx context.Context, cfg config, w, progress io.Writer) error {
	var rows []matrixRow
	for i, c := range matrixCells() {
		cc := cfg
		cc.Conns, cc.RPS, cc.SpikeFactor, cc.Ramp = c.conns, c.rps, c.factor, c.ramp
		if c.factor <= 1 {
			cc.Outage = 0 // the run at 90% of capacity: no spike, no outage
		}
		cc.Quiet, cc.JSON, cc.CSV, cc.SVG = true, true, "", ""
		if err := cc.validate(); err != nil {
			return fmt.Errorf("cell %d: %w", i+1, err)
		}
		fmt.Fprintf(progress, "cell %d of %d: -conns %d -rps %g -spike-factor %g -ramp %v\n",
			i+1, len(matrixCells()), c.conns, c.rps, c.factor, c.ramp)
		out := &console{w: io.Discard, quiet: true}
		var runs [2]*runResult
		var cpu float64
		for _, m := range []mode{without, with} {
			before, wall := cpuTime(), time.Now()
			r, err := runOnce(ctx, cc, m, out)
			if err != nil {
				return fmt.Errorf("cell %d, run %s sloguard: %w", i+1, m, err)
			}
			if r.interrupted {
				return ctx.Err()
			}
			runs[m] = r
			cpu = (cpuTime() - before).Seconds() / time.Since(wall).Seconds()
		}
		cmp := compare(cc, runs)
		row := matrixRow{cell: c, without: cmp.Without, with: cmp.With, cpu: cpu}
		var total int
		for _, q := range runs[with].reqs {
			if q.result == cancelled {
				continue
			}
			total++
			if q.result == shed && q.route == checkout {
				row.criticalShed++
			}
		}
		if total > 0 {
			row.sheddedShare = float64(cmp.With.ShedRequests) / float64(total)
		}
		rows = append(rows, row)
	}
	printMatrix(w, cfg, rows)
	return nil
}

// cpuTime returns the CPU time the process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// printMatrix prints the matrix as a Markdown table, with sloguard on its
// defaults; ✓ marks a cell that met every target.
func printMatrix(w io.Writer, cfg config, rows []matrixRow) {
	fmt.Fprintf(w, "Matrix: seed %d, steady %v, spike %v, outage %v (none without a spike), recovery %v; sloguard on slo.ShedPolicy{} (defaults).\n",
		cfg.Seed, cfg.Steady, cfg.Spike, cfg.Outage, cfg.Recovery)
	fmt.Fprintf(w, "Spike cells: CRITICAL ≥ 99.9%%, goodput ≥ 90%% of capacity, admitted p99 ≤ 2 × unloaded, shedding from ≤ 1s after\n")
	fmt.Fprintf(w, "the load first exceeds capacity, released ≤ 30s after the spike. No spike: < 1%% shed, no CRITICAL shed,\n")
	fmt.Fprintf(w, "CRITICAL success no worse than without. CPU: cores the whole process (load, shop, payments) used, of 2.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "conns\trps\tspike\tramp\tcapacity\tCRITICAL without\tCRITICAL with\tgoodput\tp99 / unloaded\tshed from\treleased\tshed\tbrowse in outage\tCPU\tmet\t")
	for _, r := range rows {
		met := "✓"
		if !rowMet(r) {
			met = "✗"
		}
		ramp := "—"
		if r.ramp > 0 {
			ramp = r.ramp.String()
		}
		outage := "—"
		if v, ok := r.with.Phases.Outage.SuccessRatio["SHEDDABLE"]; ok {
			outage = pct(v)
		}
		fmt.Fprintf(tw, "%d\t%g\t%g×\t%s\t%.0f rps\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n",
			r.conns, r.rps, r.factor, ramp, r.with.CapacityRPS,
			pct2(r.without.SuccessRatio["CRITICAL"]), pct2(r.with.SuccessRatio["CRITICAL"]),
			pct(r.with.GoodputRPS/r.with.CapacityRPS), ratio(r.with.AdmittedP99MS, r.with.UnloadedP99MS),
			secText(r.with.ShedReactionS), secText(r.with.ShedReleaseS), pct2(r.sheddedShare), outage, r.cpu, met)
	}
	_ = tw.Flush()
}

// rowMet reports whether a cell met its targets.
func rowMet(r matrixRow) bool {
	if r.factor <= 1 {
		return r.sheddedShare < 0.01 && r.criticalShed == 0 &&
			r.with.SuccessRatio["CRITICAL"] >= r.without.SuccessRatio["CRITICAL"]
	}
	for _, t := range targets(r.with) {
		if !t.met {
			return false
		}
	}
	return true
}
