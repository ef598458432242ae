#!/usr/bin/env bash
# The olops demo (make demo builds bin/olops first): serve a default model
# on free loopback ports, replay a synthetic SEA stream with a concept
# drift halfway into it, print the scores and the drifts the server
# detected, and stop the server. Exits non-zero when any step fails.
set -euo pipefail

cd "$(dirname "$0")/.."
OLOPS=${OLOPS:-bin/olops}
if [[ ! -x $OLOPS ]]; then
	echo "demo: $OLOPS is missing: run 'make demo' (it builds first) or 'make build'" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/olops-demo.XXXXXX")
server_pid=""
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every command below finds the server through this context file, which
# `olops serve` writes with the addresses it bound.
export OLOPS_CONTEXT=$work/contexts.json
unset OLOPS_URL OLOPS_MANAGEMENT_URL OLOPS_PUBLIC_TOKEN OLOPS_MANAGEMENT_TOKEN

echo "==> olops serve --model logreg --target y --task binary (loopback, free ports)"
"$OLOPS" serve --model logreg --target y --task binary \
	--data-dir "$work/data" --public-addr 127.0.0.1:0 --management-addr 127.0.0.1:0 \
	>"$work/serve.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 300); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "demo: the server exited; its log:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	if [[ -s $OLOPS_CONTEXT ]] && "$OLOPS" status -o json 2>/dev/null | grep -q '"ready": true'; then
		ready=1
		break
	fi
	sleep 0.1
done
if [[ -z $ready ]]; then
	echo "demo: the server was not ready after 30s; its log:" >&2
	cat "$work/serve.log" >&2
	exit 1
fi
"$OLOPS" status

echo
echo "==> olops replay --synth sea --rows 20000 --drift-at 10000 --drift-width 500 --seed 42"
"$OLOPS" replay --synth sea --rows 20000 --drift-at 10000 --drift-width 500 --seed 42

echo
echo "==> olops drift"
"$OLOPS" drift

echo
echo "==> stopping the server"
kill -TERM "$server_pid"
wait "$server_pid" || { echo "demo: the server did not stop cleanly; its log:" >&2; cat "$work/serve.log" >&2; exit 1; }
server_pid=""
echo "done"
