#!/usr/bin/env bash
# Runs every check and test, exactly as CI does. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup
tablero_setup_tests
tablero_setup_desktop
export CARGO_INCREMENTAL=0
tablero_prune_target

# The desktop app embeds the built UI, so the UI comes first.
echo "==> UI: npm ci, type check, unit tests (Vitest), build, format check"
(
    cd ui
    npm ci --no-audit --no-fund --loglevel=error
    npm run check
    npm run test
    npm run build
    npm run format:check
)

echo "==> the AWS stack's CloudFormation template: cfn-lint"
bash scripts/cfn-lint.sh
echo "==> the three images' Dockerfiles: hadolint"
bash scripts/hadolint.sh

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> supply chain: cargo deny (licenses, sources, duplicates)"
bash scripts/deny.sh
# The AWS backend (crates/aws, the AWS SDK, and the ETL Lambda over it)
# builds and runs in its own step below, so these never wait for the SDK.
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --exclude tablero-aws --exclude tablero-lambda --all-targets --locked -- -D warnings
echo "==> cargo nextest run"
cargo nextest run --workspace --exclude tablero-aws --exclude tablero-lambda --locked --no-fail-fast
# Tests on the full dataset live in test binaries named full_dataset and are
# ignored unless asked for: they run when ../shared/data has the file, and
# show as skipped otherwise.
if [ -f ../shared/data/online_retail.csv.gz ] || [ -n "${TABLERO_FULL_DATASET:-}" ]; then
    echo "==> cargo nextest run: the full-dataset tests (../shared/data is present)"
    cargo nextest run --workspace --exclude tablero-aws --exclude tablero-lambda --locked --no-fail-fast --run-ignored only -E 'binary(full_dataset)'
else
    echo "==> the full-dataset tests are skipped: ../shared/data/online_retail.csv.gz is absent"
fi
echo "==> doc tests"
cargo test --workspace --exclude tablero-aws --exclude tablero-lambda --doc --locked

echo "==> the AWS backend: clippy and tests with --features aws, against moto's server"
source scripts/setup.sh
tablero_setup_moto
# One package set and feature set for every AWS build (here and in
# e2e-aws.sh): the SDK's dependencies then resolve to the same features
# and the SDK is compiled once.
cargo clippy $TABLERO_AWS_BUILD --all-targets --locked -- -D warnings
cargo nextest run $TABLERO_AWS_BUILD --locked --no-fail-fast -E 'package(tablero-aws) | package(tablero-lambda) | binary(aws)'
if [ -f ../shared/data/online_retail.csv.gz ] || [ -n "${TABLERO_FULL_DATASET:-}" ]; then
    echo "==> the ETL Lambda on the full dataset (../shared/data is present)"
    cargo nextest run $TABLERO_AWS_BUILD --locked --no-fail-fast --run-ignored only -E 'package(tablero-aws) & binary(full_dataset)'
fi

echo "==> desktop app: end-to-end tests under Xvfb"
bash scripts/e2e.sh
echo "==> desktop app on the AWS backend (moto): end-to-end test under Xvfb"
bash scripts/e2e-aws.sh
echo "==> desktop app: .deb built, installed and started"
bash scripts/package.sh
