#!/usr/bin/env bash
# Lints the three images' Dockerfiles (packaging/aws/*.Dockerfile: the
# endpoint, the trainer, the ETL Lambda) with the pinned hadolint and
# packaging/aws/.hadolint.yaml. Fails on any warning. Docker itself is not
# needed (the images are built where Docker is: packaging/aws/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
tablero_setup_hadolint
echo "==> hadolint packaging/aws/*.Dockerfile"
"$TABLERO_HADOLINT" --config packaging/aws/.hadolint.yaml --failure-threshold warning packaging/aws/*.Dockerfile
