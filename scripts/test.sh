#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test; exits non-zero on
# any failure. The stages, each timed in the summary printed at the end:
#   format     clang-format check of every tracked source
#   build      RelWithDebInfo, -Werror (build/)
#   tests      every ctest test: unit, pg, e2e, faults
#   tidy       clang-tidy on the files changed since .ci/tidy-base (scripts/tidy.sh)
#   asan       ASan+UBSan build (build-asan/) and every ctest test again
#   tsan       ThreadSanitizer build of the unit and pg tests (build-tsan/) and those tests
#   fuzz       every libFuzzer harness for CDRD_FUZZ_SECONDS (default 30) s (scripts/fuzz.sh)
# CDRD_TEST_JOBS sets ctest's parallelism (default: the number of cores).
# Every ctest call fails when it finds no test (--no-tests=error).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CDRD_TEST_JOBS:-$(nproc)}
fuzz_seconds=${CDRD_FUZZ_SECONDS:-30}

summary=()
passed_total=0
failed_total=0
stage_name=""
stage_start=0
begin() {
  stage_name=$1
  stage_start=$SECONDS
  echo "== $1: $2"
}
end() { summary+=("$(printf '%-8s %5d s  %s' "$stage_name" $((SECONDS - stage_start)) "${1:-}")"); }
print_summary() {
  local rc=$?
  echo "== summary (total $SECONDS s)"
  printf '  %s\n' "${summary[@]}"
  if ((rc != 0)) && [ -n "$stage_name" ]; then
    echo "  $stage_name: FAILED after $((SECONDS - stage_start)) s"
  fi
  echo "tests: $passed_total passed, $failed_total failed"
}
trap print_summary EXIT

# ctest in DIR with extra arguments; adds its counts to the totals.
run_ctest() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  local rc=0
  (cd "$dir" && ctest -j"$jobs" --no-tests=error --output-on-failure --timeout 900 "$@") 2>&1 | tee "$log" || rc=$?
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "ctest in $dir printed no result line (exit $rc)"
    return 1
  fi
  local failed total
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
  passed_total=$((passed_total + total - failed))
  failed_total=$((failed_total + failed))
  ctest_result="$total tests, $failed failed"
  return "$rc"
}

scripts/install-deps.sh

begin format "clang-format --dry-run -Werror"
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror
end

begin build "RelWithDebInfo, -Werror (build/)"
scripts/build.sh build -DCDRD_WERROR=ON -DCDRD_BUILD_TESTS=ON -DCDRD_BUILD_BENCH=ON -DCDRD_SANITIZE=OFF -DCDRD_TSAN=OFF
end

begin tests "ctest -j$jobs in build/ (labels unit, pg, e2e, faults)"
run_ctest build
end "$ctest_result"

begin tidy "clang-tidy, warnings as errors (scripts/tidy.sh)"
scripts/tidy.sh build
end

begin asan "ASan+UBSan build (build-asan/) and every test"
scripts/build.sh build-asan -DCDRD_WERROR=ON -DCDRD_BUILD_TESTS=ON -DCDRD_BUILD_BENCH=OFF -DCDRD_SANITIZE=ON \
  -DCDRD_TSAN=OFF
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build-asan
end "$ctest_result"
unset ASAN_OPTIONS UBSAN_OPTIONS

begin tsan "ThreadSanitizer build (build-tsan/) and the unit and pg tests"
scripts/build.sh build-tsan -DCDRD_WERROR=ON -DCDRD_BUILD_TESTS=ON -DCDRD_BUILD_BENCH=OFF -DCDRD_SANITIZE=OFF \
  -DCDRD_TSAN=ON --target unit_and_pg_tests
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
run_ctest build-tsan -L 'unit|pg'
end "$ctest_result"
unset TSAN_OPTIONS

begin fuzz "every libFuzzer harness for ${fuzz_seconds} s, two at a time (scripts/fuzz.sh)"
scripts/fuzz.sh "$fuzz_seconds"
end
stage_name=""
