#!/usr/bin/env bash
# Quick start: install what is missing, build, and run cdrd in the foreground
# on config/cdrd.yaml (embedded PostgreSQL under ./state, HTTP on 127.0.0.1:8080).
#
#   scripts/run.sh [--build-only] [cdrd arguments...]
#
# It shares build/ with scripts/test.sh and sets every option it relies on,
# so either may run first: test.sh turns the tests back on, run.sh only
# leaves them unbuilt (CI checks the order run.sh, then test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi
scripts/install-deps.sh
scripts/build.sh build -DCDRD_BUILD_TESTS=OFF -DCDRD_BUILD_BENCH=OFF -DCDRD_SANITIZE=OFF -DCDRD_TSAN=OFF \
  -DCDRD_WERROR=ON --target cdrd
if ((build_only)); then
  echo "built build/bin/cdrd (--build-only: not started)"
  exit 0
fi
exec build/bin/cdrd --config config/cdrd.yaml "$@"
