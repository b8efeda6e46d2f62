#!/usr/bin/env bash
# Lints the AWS stack's CloudFormation template with the pinned cfn-lint.
# Fails on any error or warning (informational findings are printed and pass).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup_cfn_lint
echo "==> cfn-lint packaging/aws/tablero.template.json"
"$TABLERO_CFN_LINT" --non-zero-exit-code warning packaging/aws/tablero.template.json
