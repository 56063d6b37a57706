#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the normal build,
# then the ASan+UBSan build, plus the clang-format check. Exits non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== clang-format check"
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror

echo "== build (RelWithDebInfo, -Werror)"
scripts/build.sh build -DCDRD_WERROR=ON
echo "== tests"
(cd build && ctest --output-on-failure --timeout 900)

echo "== build (ASan+UBSan)"
scripts/build.sh build-asan -DCDRD_SANITIZE=ON -DCDRD_BUILD_BENCH=OFF -DCDRD_WERROR=ON
echo "== tests under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --timeout 1200)

echo "== fuzz: every libFuzzer harness for 60 s, two at a time (fuzz/, scripts/fuzz.sh)"
scripts/fuzz.sh 60
