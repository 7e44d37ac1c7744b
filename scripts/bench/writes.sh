#!/usr/bin/env bash
# Durable writes on the embedded store (issue 9): 32 writers, fsync on,
# KV2 with and without CAS, surface B, and the 90/10 mix; the server's
# memory when idle and after the load; the disk's own fsync rate.
#
#   go build -o coffer ./cmd/coffer && scripts/bench/writes.sh [duration]
set -euo pipefail
coffer=${COFFER:-./coffer}
duration=${1:-10s}
port=${PORT:-18401}
dir=$(mktemp -d)
"$coffer" server --data-dir "$dir/data" --listen 127.0.0.1:$port >"$dir/out.txt" 2>"$dir/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
until curl -sf http://127.0.0.1:$port/healthz >/dev/null; do sleep 0.05; done
token=$(grep -o 'cof_root_[A-Za-z0-9_-]*' "$dir/out.txt" | head -n 1) # printed once, on the first start
echo "idle: $(grep -E 'VmRSS' /proc/$pid/status)"
"$coffer" bench --addr http://127.0.0.1:$port --token "$token" \
	--scenario kv2-write,kv2-write-cas,rest-write,mixed --duration "$duration" --server-pid $pid
echo "after:" $(grep -E 'VmRSS|VmHWM|RssAnon|RssFile' /proc/$pid/status)
# The disk: 4 KiB write + fsync, for 3 seconds, in the same directory.
python3 - "$dir" <<'PY'
import os, sys, time
fd = os.open(os.path.join(sys.argv[1], "fsync-test"), os.O_WRONLY | os.O_CREAT, 0o600)
n, start, b = 0, time.time(), b"\0" * 4096
while time.time() - start < 3:
    os.pwrite(fd, b, (n % 256) * 4096); os.fsync(fd); n += 1
print(f"disk: {n / (time.time() - start):.0f} fsyncs/s")
PY
