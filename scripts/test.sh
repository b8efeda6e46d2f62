#!/usr/bin/env bash
# Runs every check and test, exactly as CI does. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
tablero_setup_tests
export CARGO_INCREMENTAL=0

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo nextest run"
cargo nextest run --workspace --locked --no-fail-fast
echo "==> doc tests"
cargo test --workspace --doc --locked
