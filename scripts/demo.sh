#!/usr/bin/env bash
# Builds Tablero and runs `tablero demo` on the bundled sample in a new demo
# workspace: upload → clean → features → train → approve (as a second user)
# → promote → endpoint → a minute of traffic with a drifted segment, then
# prints where to look. Pass --seconds N to shorten the traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup

cargo build --locked -q -p tablero-cli --bin tablero
tablero="$CARGO_TARGET_DIR/debug/tablero"
base="${XDG_DATA_HOME:-$HOME/.local/share}/tablero-demo"
mkdir -p "$base"
ws="$base/$(date +%Y%m%d-%H%M%S)"
"$tablero" --workspace "$ws" demo --port 0 "$@"
echo
echo "tablero is at $tablero"
