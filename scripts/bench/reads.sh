#!/usr/bin/env bash
# Reads against the baseline (issue 9): a dev server (secrets in memory),
# KV2 and surface-B reads of one small secret, 32 connections, each run
# followed by the in-process baseline. Repeat it: rates move with whatever
# else the machine runs; CPU per request moves much less.
#
#   go build -o coffer ./cmd/coffer && scripts/bench/reads.sh [runs] [duration]
set -euo pipefail
coffer=${COFFER:-./coffer}
runs=${1:-3}
duration=${2:-8s}
port=${PORT:-18400}
for run in $(seq "$runs"); do
	"$coffer" server --dev --listen 127.0.0.1:$port >/dev/null 2>"${TMPDIR:-/tmp}/coffer-reads.log" &
	pid=$!
	trap 'kill $pid 2>/dev/null || true' EXIT
	until curl -sf http://127.0.0.1:$port/healthz >/dev/null; do sleep 0.05; done
	echo "run $run of $runs"
	"$coffer" bench --addr http://127.0.0.1:$port --token root --scenario kv2-read,rest-read \
		--duration "$duration" --baseline --server-pid $pid
	kill $pid
	wait $pid 2>/dev/null || true
done
