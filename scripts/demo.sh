#!/usr/bin/env bash
# Builds Tablero, seeds a new demo workspace with `tablero demo` (upload →
# clean → features → train → approve as a second user → promote → endpoint →
# traffic with a drifted segment) and opens the desktop panel on it.
# `--no-app` stops after the CLI demo (no display needed); other arguments
# go to `tablero demo` (e.g. --seconds 20).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
app=1
args=()
for a in "$@"; do
    if [ "$a" = "--no-app" ]; then app=0; else args+=("$a"); fi
done

if [ $app -eq 1 ]; then
    tablero_setup_desktop
    (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
    cargo build --locked -q -p tablero-cli -p tablero-desktop
else
    cargo build --locked -q -p tablero-cli --bin tablero
fi
tablero="$CARGO_TARGET_DIR/debug/tablero"
base="${XDG_DATA_HOME:-$HOME/.local/share}/tablero-demo"
mkdir -p "$base"
ws="$base/$(date +%Y%m%d-%H%M%S)"
"$tablero" --workspace "$ws" demo --port 0 ${args[@]+"${args[@]}"}
echo
echo "tablero is at $tablero"
if [ $app -eq 1 ]; then
    echo "Opening the desktop panel on $ws"
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        echo "(no display: running it under Xvfb; use --no-app to skip the panel)"
        tablero_apt_install xvfb xauth
        exec xvfb-run -a "$CARGO_TARGET_DIR/debug/tablero-desktop" --workspace "$ws"
    fi
    exec "$CARGO_TARGET_DIR/debug/tablero-desktop" --workspace "$ws"
fi
