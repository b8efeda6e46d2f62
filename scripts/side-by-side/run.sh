#!/usr/bin/env bash
# The side-by-side benchmark: Tablero's CLI, Python polars and DuckDB on the
# standard clean + features pipeline, in one session, alternating.
#
#   scripts/side-by-side/run.sh [--sizes 1,10] [--runs 5] [--data CSV.gz] [--json OUT]
#
# Builds the release CLI into the shared target dir and the pinned venv
# (requirements.txt) into ~/.cache/tablero, then runs run.py. See README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tablero/target}"

venv="$HOME/.cache/tablero/side-by-side-venv"
want="$(sha256sum "$here/requirements.txt" | cut -c1-16)"
if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
    echo "$want" > "$venv/.requirements"
fi

(cd "$root" && cargo build --release --quiet -p tablero-cli)
exec "$venv/bin/python" "$here/run.py" --tablero "$CARGO_TARGET_DIR/release/tablero" "$@"
