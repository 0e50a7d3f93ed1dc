#!/usr/bin/env bash
# Build the minimal OpenTelemetry Collector used by sloguard's integration
# tests, with the official builder (ocb), from builder-config.yaml beside this
# script.
#
# The binary is cached OUTSIDE the repository, keyed by collector version and
# a hash of the manifest:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/sloguard/otelcol-v<version>-<hash>/otelcol-sloguard
# If it already exists the build is skipped (a cold build takes ~2.5 min on a
# 2-core machine). Progress goes to stderr; the LAST line on stdout is the
# absolute path of the binary.
#
# Usage: bash .ci/otelcol/build.sh
set -euo pipefail

# Must match every component version in builder-config.yaml.
OTELCOL_VERSION=v0.165.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest=$here/builder-config.yaml
log() { printf 'otelcol/build: %s\n' "$*" >&2; }

[[ -f $manifest ]] || { log "missing $manifest"; exit 1; }
command -v go >/dev/null || { log "go not found in PATH"; exit 1; }

hash=$(sha256sum "$manifest" | cut -c1-12)
cache_root=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sloguard
out_dir=$cache_root/otelcol-$OTELCOL_VERSION-$hash
bin=$out_dir/otelcol-sloguard

mkdir -p "$cache_root"

# Serialise concurrent builds into the same cache.
if command -v flock >/dev/null; then
	exec 9>"$cache_root/otelcol.lock"
	flock 9
fi

if [[ -x $bin ]]; then
	log "cached: $bin"
	printf '%s\n' "$bin"
	exit 0
fi

# Leftovers of builds that were killed (we hold the lock, so none is live).
rm -rf "$cache_root"/.build-*

log "building collector $OTELCOL_VERSION (manifest $hash) -> $bin"
start=$SECONDS
work=$(mktemp -d "$cache_root/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# The generated module lives in $work, outside any repository or go.work;
# don't inherit GOFLAGS (e.g. -mod=vendor) meant for the project.
export GOWORK=off GOFLAGS=
export GOBIN=$work/bin

if ! go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_VERSION" >"$work/install.log" 2>&1; then
	cat "$work/install.log" >&2
	log "FAILED to install builder $OTELCOL_VERSION"
	exit 1
fi

cp "$manifest" "$work/builder-config.yaml"
if ! (cd "$work" && "$GOBIN/builder" --config=builder-config.yaml) >"$work/build.log" 2>&1; then
	tail -n 80 "$work/build.log" >&2
	log "FAILED to build the collector (last 80 log lines above)"
	exit 1
fi

built=$work/otelcol-sloguard-src/otelcol-sloguard
[[ -x $built ]] || { tail -n 40 "$work/build.log" >&2; log "builder produced no binary at $built"; exit 1; }

# Install atomically: a half-written binary is never seen at $bin.
mkdir -p "$out_dir"
cp "$manifest" "$out_dir/builder-config.yaml"
mv "$built" "$bin.tmp.$$"
mv "$bin.tmp.$$" "$bin"
log "built in $((SECONDS - start))s: $bin"
printf '%s\n' "$bin"
