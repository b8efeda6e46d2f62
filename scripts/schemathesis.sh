#!/usr/bin/env bash
# Fuzzes the local endpoint's HTTP API from its own OpenAPI document with
# schemathesis (pinned, in a virtualenv): a workspace trained on the
# sample, a version promoted, a key; then schemathesis generates requests
# for every documented route for a bounded time and fails on any 5xx
# (`not_a_server_error`; 503 is excluded only when documented, which
# schemathesis does itself). Prints schemathesis's summary.
# Usage: scripts/schemathesis.sh [MAX_EXAMPLES_PER_ROUTE (default 200)] [SECONDS (default 300)]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
examples=${1:-200}; seconds=${2:-300}
version=4.32.5
venv="$HOME/.cache/tablero/schemathesis-$version"
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv" || { tablero_apt_install python3-venv; rm -rf "$venv"; python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi
cargo build --locked -q -p tablero-cli --bin tablero
t="$CARGO_TARGET_DIR/debug/tablero"
ws=$(mktemp -d); export TABLERO_WORKSPACE="$ws/ws"
trap '"$t" endpoint stop >/dev/null 2>&1 || true; rm -rf "$ws"' EXIT
"$t" init >/dev/null
"$t" policy four-eyes off >/dev/null
"$t" data upload assets/sample/online_retail_sample.csv --key s.csv >/dev/null
"$t" etl clean s.csv >/dev/null
"$t" etl features s/transactions.parquet >/dev/null
"$t" train s/features.parquet --folds 3 --candidates lr,tree --json >/dev/null
"$t" models approve 1 --comment fuzz >/dev/null
key=$("$t" keys create --name fuzz --rate 100000000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
url=$("$t" endpoint start --port 0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
"$t" deploy promote 1 >/dev/null
echo "==> schemathesis $version on $url/openapi.json: up to $examples examples per route, ${seconds}s"
"$venv/bin/st" run "$url/openapi.json" \
    --url "$url" \
    --header "x-api-key: $key" \
    --checks not_a_server_error \
    --max-examples "$examples" \
    --phases examples,coverage,fuzzing \
    --max-time "$seconds" \
    --no-color
