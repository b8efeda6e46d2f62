#!/usr/bin/env bash
# End-to-end test of the real desktop app on the AWS backend, under Xvfb:
# moto's server on 127.0.0.1 stands in for AWS (S3, SageMaker Model
# Registry, STS, API Gateway). A trainer (role tablero-admin, session tom)
# registers a version with the CLI; the app, acting as tablero-admin/lena,
# uploads the sample, checks its AWS settings, approves tom's version,
# promotes it to the ECS service and opens the Monitor view; then, with
# jobs on AWS ([aws.compute]), runs a clean job on the ETL Lambda (this
# build's bootstrap under scripts/lambda-emulator.py, as moto does not run
# a function's code) and a SageMaker training job, which moto completes
# with no model (tests/e2e/aws.test.mjs). Expects ui/dist to be built.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/moto.sh
tablero_setup
tablero_setup_desktop
tablero_setup_e2e
tablero_setup_moto

# --tests: the feature selection of the test build (its mocks), so nothing recompiles.
cargo build --locked -q --tests $TABLERO_AWS_BUILD
app="$CARGO_TARGET_DIR/debug/tablero-desktop"
cli="$CARGO_TARGET_DIR/debug/tablero"
work=$(mktemp -d)
cleanup() {
    tablero_stop_lambda
    tablero_stop_moto
    rm -rf "$work"
}
trap cleanup EXIT
tablero_start_moto
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE
export TABLERO_WORKSPACE="$work/ws"
"$cli" --backend local init >/dev/null
"$TABLERO_MOTO_PYTHON" scripts/aws-provision.py workspace --endpoint "$TABLERO_MOTO_URL" --workspace "$TABLERO_WORKSPACE"

# Someone else trains the version the app approves.
(
    eval "$("$TABLERO_MOTO_PYTHON" scripts/aws-provision.py credentials --endpoint "$TABLERO_MOTO_URL" --role tablero-admin --session tom)"
    "$cli" data upload assets/sample/online_retail_sample.csv --key s.csv >/dev/null
    "$cli" etl clean s.csv >/dev/null
    "$cli" etl features s/transactions.parquet >/dev/null
    "$cli" train s/features.parquet --folds 3 --candidates lr --json > "$work/train.json"
)
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"]["version"])' "$work/train.json")
eval "$("$TABLERO_MOTO_PYTHON" scripts/aws-provision.py credentials --endpoint "$TABLERO_MOTO_URL" --role tablero-admin --session lena)"

# From here jobs run on AWS: the ETL function on a local Lambda.
eval "$("$TABLERO_MOTO_PYTHON" scripts/aws-provision.py buckets --workspace "$TABLERO_WORKSPACE")"
tablero_start_lambda
"$TABLERO_MOTO_PYTHON" scripts/aws-provision.py compute --workspace "$TABLERO_WORKSPACE" --lambda-url "$TABLERO_LAMBDA_URL"
export TABLERO_AWS_FEATURES=s/features.parquet

export TABLERO_APP="$app"
export TABLERO_SAMPLE="$PWD/assets/sample/online_retail_sample.csv"
export TABLERO_AWS_VERSION="$version"
export TABLERO_SCREENSHOTS="$PWD/docs/screenshots"
export TABLERO_DESKTOP_CONFIG="$work/desktop.json"
mkdir -p "$TABLERO_SCREENSHOTS"

tablero_e2e_under_xvfb test:aws "$work"
