#!/usr/bin/env bash
# 1,000,000 secrets against 1,000 (issue 9): start-up time with a cold page
# cache, memory, reads of 1,000 hot secrets, list pages, and reads spread
# over the whole store (twice: cold, then warm). Generate the stores first:
#
#   COFFER_LARGE_STORE=/tmp/large1m COFFER_LARGE_N=1000000 go test -run TestGenerateLargeStore -v -timeout 60m ./internal/server/
#   COFFER_LARGE_STORE=/tmp/large1k COFFER_LARGE_N=1000 go test -run TestGenerateLargeStore ./internal/server/
#   scripts/bench/large-store.sh /tmp/large1k 1000
#   scripts/bench/large-store.sh /tmp/large1m 1000000
#
# Dropping the page cache needs root; without it the start is warm.
set -euo pipefail
coffer=${COFFER:-./coffer}
dir=$1
n=$2
port=${PORT:-18321}
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || echo "(page cache not dropped: not root)"
start=$(date +%s%N)
"$coffer" server --data-dir "$dir" --listen 127.0.0.1:$port >/dev/null 2>"${TMPDIR:-/tmp}/coffer-large.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:$port/healthz >/dev/null; do sleep 0.005; done
echo "ready in $(((($(date +%s%N) - start)) / 1000000)) ms"
echo "after start:" $(grep -E 'VmRSS|RssAnon|RssFile' /proc/$pid/status)
b() { "$coffer" bench --addr http://127.0.0.1:$port --token cof_root_large-store --prefix large --no-setup --server-pid $pid "$@"; }
b --secrets 1000 --scenario kv2-read-many,list --duration 6s
if ((n > 1000)); then
	b --secrets "$n" --scenario kv2-read-many --duration 10s # cold pages
	b --secrets "$n" --scenario kv2-read-many --duration 10s # warm
fi
echo "after load:" $(grep -E 'VmRSS|VmHWM|RssAnon|RssFile' /proc/$pid/status)
