#!/usr/bin/env bash
# Authorization with 1,000 policies (issue 9): KV2 reads of one secret as
# root (no policy evaluated) and as a user whose one policy grants it,
# before and after 999 more policies for other users and secrets.
#
#   go build -o coffer ./cmd/coffer && scripts/bench/policies.sh
set -euo pipefail
coffer=${COFFER:-./coffer}
port=${PORT:-18330}
export COFFER_ADDR=http://127.0.0.1:$port COFFER_TOKEN=root
"$coffer" server --dev --listen 127.0.0.1:$port >/dev/null 2>"${TMPDIR:-/tmp}/coffer-policies.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:$port/healthz >/dev/null; do sleep 0.05; done
domain=$("$coffer" domain list --format json | jq -r '.[0].id')
"$coffer" user create reader >/dev/null
pat=$("$coffer" token create reader bench --format json | jq -r .token)
urn() { echo "urn:v1:eu:resource:okms:$domain/secret/$1"; }
echo "{\"name\":\"p0000\",\"identities\":[\"urn:v1:eu:identity:user:coffer/reader\"],\"resources\":[{\"urn\":\"$(urn 'bench%2F*')\"}],
 \"permissions\":{\"allow\":[{\"action\":\"okms:apikms:secret/get\"},{\"action\":\"okms:apikms:secret/version/getData\"}]}}" |
	"$coffer" policy create - >/dev/null
# The secret read, bench/p/r/0, is created by root: the reader may only read.
"$coffer" bench --prefix bench/p --scenario kv2-read --requests 100 >/dev/null
b() { "$coffer" bench --token "$1" --prefix bench/p --no-setup --scenario kv2-read --duration 6s --server-pid $pid 2>/dev/null | grep kv2-read; }
echo "1 policy:"
echo "  root    $(b root)"
echo "  reader  $(b "$pat")"
for i in $(seq 1 999); do
	printf '{"name":"p%04d","identities":["urn:v1:eu:identity:user:coffer/user%d"],"resources":[{"urn":"%s"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}' \
		"$i" $((i % 100)) "$(urn "app$i%2F*")" | "$coffer" policy create - >/dev/null
done
echo "$("$coffer" policy list --format json | jq length) policies:"
for _ in 1 2; do
	echo "  root    $(b root)"
	echo "  reader  $(b "$pat")"
done
