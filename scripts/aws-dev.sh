#!/usr/bin/env bash
# Opens the panel on the AWS backend with no AWS account: starts moto's
# server on 127.0.0.1 (S3, SageMaker Model Registry, STS, API Gateway),
# creates the three versioned buckets, the model package group and a usage
# plan (scripts/aws-provision.py), points a new workspace at them, uploads
# the bundled sample and registers a version as a trainer
# (tablero-admin/tom), then opens the panel as an ML lead who may approve it
# (tablero-admin/$USER), with jobs on AWS from then on: the ETL function on
# a local Lambda (scripts/lambda-emulator.py), training on moto's SageMaker
# (whose jobs complete at once with no model). Everything is gone when the
# panel closes.
#   --no-app   stop after the setup and print how to use the CLI on it
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/moto.sh
tablero_setup
tablero_setup_desktop
tablero_setup_moto

(cd ui && [ -d dist ] || { npm ci --no-audit --no-fund --loglevel=error && npm run build; })
cargo build --locked -q --tests $TABLERO_AWS_BUILD
app="$CARGO_TARGET_DIR/debug/tablero-desktop"
cli="$CARGO_TARGET_DIR/debug/tablero"
work=$(mktemp -d)
trap 'tablero_stop_lambda; tablero_stop_moto; rm -rf "$work"' EXIT
tablero_start_moto
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
export TABLERO_WORKSPACE="$work/ws"
"$cli" --backend local init >/dev/null
"$TABLERO_MOTO_PYTHON" scripts/aws-provision.py workspace --endpoint "$TABLERO_MOTO_URL" --workspace "$TABLERO_WORKSPACE"
(
    eval "$("$TABLERO_MOTO_PYTHON" scripts/aws-provision.py credentials --endpoint "$TABLERO_MOTO_URL" --role tablero-admin --session tom)"
    "$cli" data upload assets/sample/online_retail_sample.csv --key online_retail_sample.csv >/dev/null
    "$cli" etl clean online_retail_sample.csv >/dev/null
    "$cli" etl features online_retail_sample/transactions.parquet >/dev/null
    "$cli" train online_retail_sample/features.parquet --folds 3 >/dev/null
    echo "==> tablero-admin/tom registered a version: approve it in Models"
)
eval "$("$TABLERO_MOTO_PYTHON" scripts/aws-provision.py credentials --endpoint "$TABLERO_MOTO_URL" --role tablero-admin --session "${USER:-me}")"
"$cli" aws check
eval "$("$TABLERO_MOTO_PYTHON" scripts/aws-provision.py buckets --workspace "$TABLERO_WORKSPACE")"
tablero_start_lambda
"$TABLERO_MOTO_PYTHON" scripts/aws-provision.py compute --workspace "$TABLERO_WORKSPACE" --lambda-url "$TABLERO_LAMBDA_URL"
echo "==> jobs run on AWS: the ETL function at $TABLERO_LAMBDA_URL, training on moto's SageMaker"
if [ "${1:-}" = "--no-app" ]; then
    echo "moto is at $TABLERO_MOTO_URL; workspace $TABLERO_WORKSPACE (removed on exit)."
    exit 0
fi
if [ -z "${DISPLAY:-}" ]; then
    tablero_setup_e2e
    xvfb-run -a "$app"
else
    "$app"
fi
