#!/usr/bin/env bash
# Scripted timings of the desktop app (numbers for the issue note, not
# assertions): start-up to an interactive window, listing 10,000 objects,
# previewing the head of a 500 MB CSV, and the app's idle memory.
# Usage: scripts/measure-desktop.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
tablero_setup_desktop
tablero_apt_install xvfb xauth
profile=debug; flag=
if [ "${1:-}" = "--release" ]; then profile=release; flag=--release; fi
[ -d ui/dist ] || (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
cargo build --locked -q $flag -p tablero-desktop -p tablero-cli
app="$CARGO_TARGET_DIR/$profile/tablero-desktop"
cli="$CARGO_TARGET_DIR/$profile/tablero"
work=$(mktemp -d)
Xvfb :97 -screen 0 1440x900x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; rm -rf "$work"' EXIT
export DISPLAY=:97
sleep 1
export TABLERO_WORKSPACE="$work/ws"
"$cli" init >/dev/null

echo "== start-up to interactive window ($profile build; first UI call answered)"
"$app" >/dev/null 2>&1 & pid=$!; sleep 5; kill $pid 2>/dev/null; wait $pid 2>/dev/null || true  # warm the page cache
for i in 1 2 3 4 5; do
    TABLERO_STARTUP_PROBE=exit "$app" 2>/dev/null | grep startup_ms
done

echo "== idle memory (RSS of the app and its WebKit processes, 10 s after start)"
"$app" >/dev/null 2>&1 & pid=$!
sleep 10
python3 - "$pid" <<'PY'
import os, sys
root = int(sys.argv[1])
def children(p):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except Exception:
                continue
            if ppid == p:
                out.append(int(d)); out += children(int(d))
    return out
total = 0
for p in [root] + children(root):
    try:
        rss = [l for l in open(f"/proc/{p}/status") if l.startswith("VmRSS")][0].split()[1]
        name = open(f"/proc/{p}/comm").read().strip()
    except Exception:
        continue
    total += int(rss)
    print(f"  {name:<24} {int(rss)/1024:7.1f} MiB")
print(f"  total                    {total/1024:7.1f} MiB")
PY
kill $pid 2>/dev/null; wait $pid 2>/dev/null || true

echo "== listing 10,000 objects (what data_list does: first page of 500, then all)"
# One real upload, then 9,999 copies of it (object and metadata) under the
# workspace layout (docs/workspace.md): 10,000 uploads would time the upload.
printf 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n' > "$work/one.csv"
"$cli" data upload "$work/one.csv" --key many/f00000.csv --json >/dev/null
python3 -c '
import shutil, sys
ws = sys.argv[1]
for i in range(1, 10_000):
    shutil.copyfile(f"{ws}/buckets/raw/many/f00000.csv", f"{ws}/buckets/raw/many/f{i:05d}.csv")
    shutil.copyfile(f"{ws}/meta/raw/many/f00000.csv.json", f"{ws}/meta/raw/many/f{i:05d}.csv.json")
' "$TABLERO_WORKSPACE"
for i in 1 2 3; do
    /usr/bin/time -f "  first page (500): %e s, %M KB" "$cli" data ls raw many/ --page-size 500 --page-token "" --json >/dev/null
done
for i in 1 2 3; do
    /usr/bin/time -f "  all 10,000: %e s, %M KB" "$cli" data ls raw many/ --page-size 500 --json >/dev/null
done

echo "== preview of the head of a 500 MB CSV"
python3 - "$work/big.csv" <<'PY'
import sys
head = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
row = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n"
with open(sys.argv[1], "w") as f:
    f.write(head)
    n = 500 * 1024 * 1024 // len(row)
    chunk = row * 10_000
    for _ in range(n // 10_000):
        f.write(chunk)
PY
ls -l "$work/big.csv" | awk '{printf "  file: %.0f MB\n", $5/1e6}'
# Stored as it is uploaded (the upload validates it whole), then previewed.
/usr/bin/time -f "  upload (validates every row): %e s, %M KB" "$cli" data upload "$work/big.csv" --key big.csv --json >/dev/null
for i in 1 2 3; do
    /usr/bin/time -f "  preview (head only): %e s, %M KB" "$cli" data preview raw big.csv --json >/dev/null
done
