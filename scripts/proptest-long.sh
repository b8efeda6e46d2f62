#!/usr/bin/env bash
# The property-based tests with many more cases than CI runs (default
# 50,000 per property; the workspace-upload property a twentieth of it).
# A failure is kept in tests/data/proptest/ and runs first in CI from then
# on: fix the bug, keep the file.
# Usage: scripts/proptest-long.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
export PROPTEST_CASES=${1:-50000}
cargo nextest run --locked --no-fail-fast -p tablero-core -p tablero-serve -p tablero-local \
    -E 'binary(properties) | test(refused_uploads)'
