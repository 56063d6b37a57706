#!/usr/bin/env bash
# Quick start: install what is missing, build, and run cdrd in the foreground
# on config/cdrd.yaml (embedded PostgreSQL under ./state, HTTP on 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DCDRD_BUILD_TESTS=OFF
exec build/bin/cdrd --config config/cdrd.yaml "$@"
