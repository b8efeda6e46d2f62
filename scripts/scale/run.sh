#!/usr/bin/env bash
# The pipeline at scale (issue "data plane scale"): the Online Retail file
# x92 (about 50 million lines, 4.5 GB) through upload, clean, features and
# training, both presets; time and peak memory of every step, and the
# K-times count checks. Too long for CI.
#
#   scripts/scale/run.sh [--copies 92] [--data CSV.gz] [--work DIR] [--no-train]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tablero/target}"
(cd "$root" && cargo build --release --quiet -p tablero-cli)
exec python3 "$here/scale.py" --tablero "$CARGO_TARGET_DIR/release/tablero" "$@"
