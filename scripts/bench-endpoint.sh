#!/usr/bin/env bash
# Load benchmark of the local endpoint on loopback (needs wrk: apt-get install wrk).
# Builds tablero in release, trains on the sample, deploys, then measures
# /v1/predict with one record per request, and /predict with a batch CSV.
# Usage: scripts/bench-endpoint.sh [SECONDS] [CONNECTIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
command -v wrk >/dev/null || tablero_apt_install wrk
duration=${1:-10}; conns=${2:-32}; threads=${3:-2}

cargo build --release --locked -q -p tablero-cli --bin tablero
t="$CARGO_TARGET_DIR/release/tablero"
ws=$(mktemp -d); export TABLERO_WORKSPACE="$ws/ws"
trap 'cp "$TABLERO_WORKSPACE/logs/endpoint.log" /tmp/bench-endpoint.log 2>/dev/null; "$t" endpoint stop >/dev/null 2>&1 || true; rm -rf "$ws"' EXIT

"$t" init >/dev/null
"$t" policy four-eyes off >/dev/null
"$t" data upload assets/sample/online_retail_sample.csv --key s.csv >/dev/null
"$t" etl clean s.csv >/dev/null
"$t" etl features s/transactions.parquet >/dev/null
"$t" train s/features.parquet --json >/dev/null
"$t" models approve 1 --comment bench >/dev/null
key=$("$t" keys create --name bench --rate 10000000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
url=$("$t" endpoint start --port 0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
"$t" deploy promote 1 >/dev/null
winner=$("$t" models show 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["card"]["winner"])')

# One record: the first customer of the features table (extra columns such
# as CustomerID are ignored by the endpoint).
"$t" data get clean s/features.parquet --out "$ws/features.csv" --format csv >/dev/null
record=$(python3 - "$ws/features.csv" <<'PY'
import csv, json, sys
r = next(csv.DictReader(open(sys.argv[1])))
out = {}
for k, v in r.items():
    try:
        out[k] = float(v)
    except ValueError:
        out[k] = v
print(json.dumps({"records": [out]}))
PY
)
cat > "$ws/post.lua" <<LUA
wrk.method = "POST"
wrk.body   = [[$record]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "$key"
LUA
echo "== /v1/predict, one record per request, model: $winner, $conns connections, ${duration}s"
wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$ws/post.lua" "$url/v1/predict"

echo "== /predict, batch of 100,000 customers"
python3 - "$ws/features.csv" "$ws/batch.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
head, rows = lines[0], lines[1:]
out = [head] + [rows[i % len(rows)] for i in range(100_000)]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
ls -l "$ws/batch.csv" | awk '{print "batch file:", $5, "bytes"}'
for i in 1 2 3; do
  curl -s -o /dev/null -w "batch /predict: %{time_total} s (HTTP %{http_code})\n" \
    -H "x-api-key: $key" -F "file=@$ws/batch.csv" "$url/predict"
done
