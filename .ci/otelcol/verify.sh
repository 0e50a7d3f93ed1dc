#!/usr/bin/env bash
# Smoke-test a built collector: `validate` accepts smoke-config.yaml, the
# binary starts, listens on its OTLP gRPC and HTTP ports on loopback, accepts
# an OTLP/HTTP JSON log record and hands it to the debug exporter. Stops the
# collector before returning.
#
# Usage: bash .ci/otelcol/verify.sh /path/to/otelcol-sloguard
set -euo pipefail

bin=${1:?usage: verify.sh /path/to/otelcol-sloguard}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$here/smoke-config.yaml
log() { printf 'otelcol/verify: %s\n' "$*" >&2; }

[[ -x $bin ]] || { log "not executable: $bin"; exit 1; }

# A TCP port nobody listens on (checked against /proc/net/tcp{,6}).
listening_ports() {
	local _sl addr _rem state _rest
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		while read -r _sl addr _rem state _rest; do
			[[ $state == 0A ]] && echo $((16#${addr##*:}))
		done
	return 0
}
used=" $(listening_ports | tr '\n' ' ') "
pick_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[[ $used == *" $p "* ]] && continue
		used+="$p "
		echo "$p"
		return
	done
}
export SMOKE_OTLP_GRPC_PORT SMOKE_OTLP_HTTP_PORT SMOKE_SINK_PORT
SMOKE_OTLP_GRPC_PORT=$(pick_port)
SMOKE_OTLP_HTTP_PORT=$(pick_port)
SMOKE_SINK_PORT=$(pick_port) # nothing listens there; the exporter just retries

tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	log "FAILED: $*"
	[[ -s $tmp/collector.log ]] && { log "collector output:"; tail -n 60 "$tmp/collector.log" >&2; }
	exit 1
}

if ! "$bin" validate --config="$config" >"$tmp/validate.log" 2>&1; then
	cat "$tmp/validate.log" >&2
	fail "validate rejected $config"
fi
log "validate: ok"

"$bin" --config="$config" >"$tmp/collector.log" 2>&1 </dev/null &
pid=$!

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 200); do # up to 20s
	kill -0 "$pid" 2>/dev/null || fail "collector exited early"
	if port_open "$SMOKE_OTLP_GRPC_PORT" && port_open "$SMOKE_OTLP_HTTP_PORT"; then
		break
	fi
	sleep 0.1
done
port_open "$SMOKE_OTLP_GRPC_PORT" || fail "nothing listens on OTLP gRPC 127.0.0.1:$SMOKE_OTLP_GRPC_PORT"
port_open "$SMOKE_OTLP_HTTP_PORT" || fail "nothing listens on OTLP HTTP 127.0.0.1:$SMOKE_OTLP_HTTP_PORT"
log "listening: grpc 127.0.0.1:$SMOKE_OTLP_GRPC_PORT, http 127.0.0.1:$SMOKE_OTLP_HTTP_PORT"

if command -v curl >/dev/null; then
	marker="sloguard-smoke-$$-$RANDOM"
	body='{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"severityText":"INFO","body":{"stringValue":"'$marker'"}}]}]}]}'
	code=$(curl -sS -o "$tmp/resp" -w '%{http_code}' --max-time 10 \
		-H 'Content-Type: application/json' --data "$body" \
		"http://127.0.0.1:$SMOKE_OTLP_HTTP_PORT/v1/logs") || fail "POST /v1/logs failed"
	[[ $code == 200 ]] || fail "POST /v1/logs answered HTTP $code: $(cat "$tmp/resp")"
	for _ in $(seq 50); do
		grep -q "$marker" "$tmp/collector.log" && break
		sleep 0.1
	done
	grep -q "$marker" "$tmp/collector.log" || fail "debug exporter did not print the posted log record"
	log "OTLP/HTTP log record received and printed by the debug exporter"
fi
log "ok"
