#!/bin/sh
# ratios.sh prints the ratios of BenchmarkHTTP from the medians of a
# `go test -bench` output (a file, or standard input):
#
#   added cost      subject − bare, ns/op and allocs/op, serial and parallel
#   otelhttp added / sloguard added                    (target ≥ 25)
#   parallel CPU per request = parallel ns/op × GOMAXPROCS / serial ns/op
#                                                      (target ≤ 1.5 for sloguard)
#
# GOMAXPROCS is read from the benchmark names' "-N" suffix (none means 1).
# Usage: ./ratios.sh new.txt
set -eu

awk '
$1 ~ /^BenchmarkHTTP\/(bare|otelhttp|sloguard)\/(serial|parallel)/ {
	name = $1; procs = 1
	if (match(name, /-[0-9]+$/)) {
		procs = substr(name, RSTART + 1) + 0
		name = substr(name, 1, RSTART - 1)
	}
	sub(/^BenchmarkHTTP\//, "", name)
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "ns/op") { n = ++cnt[name]; ns[name, n] = $i + 0 }
		if ($(i + 1) == "allocs/op") { na = ++acnt[name]; al[name, na] = $i + 0 }
	}
	if (procs > maxprocs) maxprocs = procs
}

# median of the n values v[key, 1..n]: sorts them in place.
function median(v, key, n,    i, j, t) {
	if (n == 0) return -1
	for (i = 2; i <= n; i++) {
		t = v[key, i]
		for (j = i - 1; j >= 1 && v[key, j] > t; j--) v[key, j + 1] = v[key, j]
		v[key, j + 1] = t
	}
	if (n % 2) return v[key, (n + 1) / 2]
	return (v[key, n / 2] + v[key, n / 2 + 1]) / 2
}

function verdict(ok) { return ok ? "met" : "MISSED" }

END {
	split("bare otelhttp sloguard", subj, " ")
	split("serial parallel", mode, " ")
	missing = 0
	for (s = 1; s <= 3; s++) for (m = 1; m <= 2; m++) {
		k = subj[s] "/" mode[m]
		if (!(k in cnt)) { printf "ratios.sh: no BenchmarkHTTP/%s results\n", k > "/dev/stderr"; missing = 1; continue }
		T[k] = median(ns, k, cnt[k]); A[k] = median(al, k, acnt[k]); runs[k] = cnt[k]
	}
	if (missing) exit 1
	p = maxprocs

	printf "BenchmarkHTTP medians (GOMAXPROCS=%d, %d runs each)\n", p, runs["bare/serial"]
	printf "  %-9s %12s %10s %14s %10s\n", "", "serial ns/op", "allocs/op", "parallel ns/op", "allocs/op"
	for (s = 1; s <= 3; s++)
		printf "  %-9s %12.1f %10g %14.1f %10g\n", subj[s], T[subj[s] "/serial"], A[subj[s] "/serial"], T[subj[s] "/parallel"], A[subj[s] "/parallel"]

	printf "\nadded cost over bare\n"
	for (s = 2; s <= 3; s++) for (m = 1; m <= 2; m++) {
		k = subj[s] "/" mode[m]; b = "bare/" mode[m]
		add[k] = T[k] - T[b]; adda[k] = A[k] - A[b]
		printf "  %-9s %-8s %9.1f ns/op %+g allocs/op\n", subj[s], mode[m], add[k], adda[k]
	}

	printf "\notelhttp added / sloguard added (target >= 25)\n"
	for (m = 1; m <= 2; m++) {
		o = add["otelhttp/" mode[m]]; g = add["sloguard/" mode[m]]
		if (g > 0) printf "  %-8s %7.1f  %s\n", mode[m], o / g, verdict(o / g >= 25)
		else printf "  %-8s sloguard added %.1f ns/op: below the noise, ratio undefined\n", mode[m], g
	}

	printf "\nsloguard added allocs/op (target 0)\n"
	for (m = 1; m <= 2; m++) {
		a = adda["sloguard/" mode[m]]
		# Parallel B/op and allocs/op are averages that may carry a
		# fraction from per-P warm-up; under 0.5 rounds to 0.
		printf "  %-8s %+g  %s\n", mode[m], a, verdict(a < 0.5)
	}

	printf "\nparallel CPU per request = parallel ns/op x %d / serial ns/op (target <= 1.5 for sloguard)\n", p
	for (s = 1; s <= 3; s++) {
		r = T[subj[s] "/parallel"] * p / T[subj[s] "/serial"]
		if (subj[s] == "sloguard") printf "  %-9s %5.2f  %s\n", subj[s], r, verdict(r <= 1.5)
		else printf "  %-9s %5.2f\n", subj[s], r
	}
	if (p > 1) {
		# The added cost alone, with the mux and harness taken out.
		r = add["sloguard/parallel"] * p / add["sloguard/serial"]
		printf "  %-9s %5.2f  (sloguard added cost only)\n", "", r
	}
}
' "${1:--}"
