#!/usr/bin/env bash
# Builds Tablero and runs the pipeline on the bundled sample data in a demo
# workspace: upload → clean → features, for both presets.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup

cargo build --locked -q -p tablero-cli --bin tablero
tablero="$CARGO_TARGET_DIR/debug/tablero"
export TABLERO_WORKSPACE="${TABLERO_WORKSPACE:-${XDG_DATA_HOME:-$HOME/.local/share}/tablero-demo}"
sample=assets/sample/online_retail_sample.csv

"$tablero" init
echo
"$tablero" data upload "$sample" --key online_retail.csv --replace
echo
"$tablero" etl clean online_retail.csv
echo
"$tablero" etl features online_retail/transactions.parquet
echo
"$tablero" etl clean online_retail.csv --preset parity
echo
"$tablero" etl features online_retail/transactions.parity.parquet --preset parity
echo
"$tablero" data preview clean online_retail/features.parquet --rows 5
echo
"$tablero" train online_retail/features.parquet
echo
"$tablero" train online_retail/features.parity.parquet --candidates lr,forest,gbm
echo
"$tablero" models ls
echo
echo "Demo workspace: $TABLERO_WORKSPACE"
echo "Try:  TABLERO_WORKSPACE=$TABLERO_WORKSPACE $tablero data ls clean"
echo "      TABLERO_WORKSPACE=$TABLERO_WORKSPACE $tablero jobs ls"
echo "      TABLERO_WORKSPACE=$TABLERO_WORKSPACE $tablero models compare 1 2"
