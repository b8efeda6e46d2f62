#!/usr/bin/env bash
# End-to-end tests of the real desktop app under Xvfb: tauri-driver drives
# the built binary through WebKitWebDriver; tests/e2e/journey.test.mjs walks
# upload → clean → features → train → approve (second user) → promote →
# traffic → Monitor, plus a refused upload and an analyst who cannot approve,
# and saves a screenshot of each view to docs/screenshots/.
# Expects ui/dist to be built (scripts/test.sh builds it first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
tablero_setup_desktop
tablero_setup_e2e

cargo build --locked -q -p tablero-desktop -p tablero-cli
app="$CARGO_TARGET_DIR/debug/tablero-desktop"
cli="$CARGO_TARGET_DIR/debug/tablero"
work=$(mktemp -d)
export TABLERO_WORKSPACE="$work/ws"
cleanup() {
    "$cli" endpoint stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The workspace the app opens: this user holds every role, lead2 is a
# second ML lead (four eyes), ana only an analyst; switching users is on.
"$cli" init >/dev/null
me=$("$cli" init --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')
cat > "$TABLERO_WORKSPACE/tablero.toml" <<TOML
[roles]
$me = ["analyst", "ml_lead", "ops"]
lead2 = ["ml_lead", "ops"]
ana = ["analyst"]

[policy]
four_eyes = true
allow_as = true
TOML
key=$("$cli" keys create --name e2e --rate 100000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

# Feature records for traffic: the same pipeline in a scratch workspace.
scratch="$work/scratch"
TABLERO_WORKSPACE="$scratch" "$cli" init >/dev/null
TABLERO_WORKSPACE="$scratch" "$cli" data upload assets/sample/online_retail_sample.csv --key s.csv >/dev/null
TABLERO_WORKSPACE="$scratch" "$cli" etl clean s.csv >/dev/null
TABLERO_WORKSPACE="$scratch" "$cli" etl features s/transactions.parquet >/dev/null
TABLERO_WORKSPACE="$scratch" "$cli" data get clean s/features.parquet --out "$work/features.csv" --format csv >/dev/null
python3 - "$work/features.csv" "$work/records.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))[:50]
def value(k, v):
    if k in ("CustomerID", "RFM_Score"):
        return v
    try:
        return float(v)
    except ValueError:
        return v
json.dump({"records": [{k: value(k, v) for k, v in r.items()} for r in rows]}, open(sys.argv[2], "w"))
PY
printf 'Name,Amount\nwidget,3\n' > "$work/bad.csv"

export TABLERO_APP="$app"
export TABLERO_SAMPLE="$PWD/assets/sample/online_retail_sample.csv"
export TABLERO_BAD_CSV="$work/bad.csv"
export TABLERO_SECOND_USER=lead2
export TABLERO_ANALYST=ana
export TABLERO_API_KEY="$key"
export TABLERO_RECORDS_JSON="$work/records.json"
export TABLERO_SCREENSHOTS="$PWD/docs/screenshots"
export TABLERO_METRICS_INTERVAL=1
# Settings opens a new workspace here; the app remembers it in a scratch file.
export TABLERO_OTHER_WORKSPACE="$work/other-ws"
export TABLERO_DESKTOP_CONFIG="$work/desktop.json"
mkdir -p "$TABLERO_SCREENSHOTS"

tablero_e2e_under_xvfb test "$work"
