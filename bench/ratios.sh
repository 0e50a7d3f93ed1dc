#!/bin/sh
# ratios.sh prints the ratios of BenchmarkHTTP, BenchmarkGRPC and
# BenchmarkCollect from the medians of a `go test -bench` output (a file, or
# standard input). For each request group (HTTP: bare, otelhttp, sloguard,
# sloguard-shed; gRPC: bare, otelgrpc, sloguard, sloguard-shed):
#
#   added cost      subject − bare, ns/op and allocs/op, serial and parallel
#   peer added / sloguard added         (target ≥ 25 for HTTP, ≥ 15 for gRPC)
#   parallel CPU per request of sloguard's added cost
#                   = added parallel ns/op × GOMAXPROCS / added serial ns/op
#                                                    (target ≤ 1.5)
#
# For BenchmarkCollect, by number of objectives: ns/objective and
# allocs/op of the instruments path and of the producer (slo/otelsdk), their
# ratio, the producer against its target (<= 2000 ns/objective), the floor
# (a producer that only copies the same data points, see floorReader) and
# the producer's own cost above that floor.
#
# Groups without results are left out. GOMAXPROCS is read from the
# benchmark names' "-N" suffix (none means 1).
# Usage: ./ratios.sh new.txt
set -eu

awk '
$1 ~ /^Benchmark(HTTP|GRPC)\/[a-z-]+\/(serial|parallel)/ {
	name = $1; procs = 1
	if (match(name, /-[0-9]+$/)) {
		procs = substr(name, RSTART + 1) + 0
		name = substr(name, 1, RSTART - 1)
	}
	sub(/^Benchmark/, "", name)
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "ns/op") { n = ++cnt[name]; ns[name, n] = $i + 0 }
		if ($(i + 1) == "allocs/op") { na = ++acnt[name]; al[name, na] = $i + 0 }
	}
	if (procs > maxprocs) maxprocs = procs
	split(name, part, "/"); seen[part[1]] = 1
}

$1 ~ /^BenchmarkCollect\/objectives=[0-9]+\/(instruments|producer|floor)/ {
	split($1, part, "/"); sub(/-[0-9]+$/, "", part[3])
	n = substr(part[2], 12) + 0; key = n SUBSEP part[3]
	for (i = 3; i < NF; i++) {
		if ($(i + 1) == "ns/objective") { c = ++ccnt[key]; cns[key, c] = $i + 0 }
		if ($(i + 1) == "allocs/op") { c = ++cacnt[key]; cal[key, c] = $i + 0 }
	}
	if (!(n in scale)) { scale[n] = 1; scales[++nscales] = n }
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

# group prints the ratios of one group: g is HTTP or GRPC, peer its peer,
# target the peer/sloguard target.
function group(g, peer, target,    s, m, k, b, subj, mode, T, A, add, adda, o, r, p, missing) {
	split("bare " peer " sloguard sloguard-shed", subj, " ")
	split("serial parallel", mode, " ")
	for (s = 1; s <= 4; s++) for (m = 1; m <= 2; m++) {
		k = g "/" subj[s] "/" mode[m]
		if (!(k in cnt)) { printf "ratios.sh: no Benchmark%s results\n", k > "/dev/stderr"; missing = 1; continue }
		T[k] = median(ns, k, cnt[k]); A[k] = median(al, k, acnt[k])
	}
	if (missing) { bad = 1; return }
	p = maxprocs
	printf "Benchmark%s medians (GOMAXPROCS=%d, %d runs each)\n", g, p, cnt[g "/bare/serial"]
	printf "  %-14s %12s %10s %14s %10s\n", "", "serial ns/op", "allocs/op", "parallel ns/op", "allocs/op"
	for (s = 1; s <= 4; s++)
		printf "  %-14s %12.1f %10g %14.1f %10g\n", subj[s], T[g "/" subj[s] "/serial"], A[g "/" subj[s] "/serial"], T[g "/" subj[s] "/parallel"], A[g "/" subj[s] "/parallel"]

	printf "\n  added cost over bare\n"
	for (s = 2; s <= 4; s++) for (m = 1; m <= 2; m++) {
		k = g "/" subj[s] "/" mode[m]; b = g "/bare/" mode[m]
		add[k] = T[k] - T[b]; adda[k] = A[k] - A[b]
		printf "    %-14s %-8s %9.1f ns/op %+g allocs/op\n", subj[s], mode[m], add[k], adda[k]
	}

	printf "\n  %s added / sloguard added (target >= %d)\n", peer, target
	for (s = 3; s <= 4; s++) for (m = 1; m <= 2; m++) {
		o = add[g "/" peer "/" mode[m]]; k = g "/" subj[s] "/" mode[m]
		if (add[k] > 0) printf "    %-14s %-8s %7.1f  %s\n", subj[s], mode[m], o / add[k], verdict(o / add[k] >= target)
		else printf "    %-14s %-8s sloguard added %.1f ns/op: below the noise, ratio undefined\n", subj[s], mode[m], add[k]
	}

	printf "\n  sloguard added allocs/op (target 0)\n"
	for (s = 3; s <= 4; s++) for (m = 1; m <= 2; m++) {
		# Parallel allocs/op are averages that may carry a fraction from
		# per-P warm-up; under 0.5 rounds to 0.
		printf "    %-14s %-8s %+g  %s\n", subj[s], mode[m], adda[g "/" subj[s] "/" mode[m]], verdict(adda[g "/" subj[s] "/" mode[m]] < 0.5)
	}

	printf "\n  parallel CPU per request of the added cost = added parallel ns/op x %d / added serial ns/op (target <= 1.5)\n", p
	for (s = 2; s <= 4; s++) {
		r = add[g "/" subj[s] "/parallel"] * p / add[g "/" subj[s] "/serial"]
		if (subj[s] ~ /^sloguard/) printf "    %-14s %5.2f  %s\n", subj[s], r, verdict(r <= 1.5)
		else printf "    %-14s %5.2f\n", subj[s], r
	}
	printf "\n"
}

# collect prints BenchmarkCollect by number of objectives, both paths.
function collect(    i, j, t, n, ki, kp, kf, ti, tp, tf, ai, ap) {
	for (i = 2; i <= nscales; i++) {
		t = scales[i]
		for (j = i - 1; j >= 1 && scales[j] > t; j--) scales[j + 1] = scales[j]
		scales[j + 1] = t
	}
	printf "BenchmarkCollect medians, per objective (%d runs each)\n", ccnt[scales[1], "producer"]
	printf "  %10s %18s %9s %18s %9s %13s %30s %15s %15s\n", "objectives", "instruments ns/obj", "allocs/op", "producer ns/obj", "allocs/op", "instr./prod.", "producer <= 2000 ns/objective", "floor ns/obj", "prod. - floor"
	for (i = 1; i <= nscales; i++) {
		n = scales[i]; ki = n SUBSEP "instruments"; kp = n SUBSEP "producer"; kf = n SUBSEP "floor"
		if (!(ki in ccnt) || !(kp in ccnt)) { printf "ratios.sh: BenchmarkCollect/objectives=%d lacks a path\n", n > "/dev/stderr"; bad = 1; continue }
		ti = median(cns, ki, ccnt[ki]); tp = median(cns, kp, ccnt[kp])
		ai = median(cal, ki, cacnt[ki]); ap = median(cal, kp, cacnt[kp])
		printf "  %10d %18.0f %9g %18.0f %9g %13.1f %30s", n, ti, ai, tp, ap, ti / tp, verdict(tp <= 2000)
		if (kf in ccnt) { tf = median(cns, kf, ccnt[kf]); printf " %15.0f %15.0f", tf, tp - tf }
		printf "\n"
	}
	printf "\n"
}

END {
	if ("HTTP" in seen) group("HTTP", "otelhttp", 25)
	if ("GRPC" in seen) group("GRPC", "otelgrpc", 15)
	if (nscales) collect()
	if (!("HTTP" in seen) && !("GRPC" in seen) && !nscales) { print "ratios.sh: no BenchmarkHTTP, BenchmarkGRPC or BenchmarkCollect results" > "/dev/stderr"; bad = 1 }
	if (bad) exit 1
}
' "${1:--}"
