#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/) with clang 14 into build-fuzz/ and
# runs each for SECONDS (default 60), two at a time, on a scratch copy of its
# seed corpus (generated from tests/data/freeswitch, plus fuzz/corpus/), so
# the repository stays clean. Prints one line per harness and exits non-zero
# when any harness found a crash, leak, timeout or out-of-memory; the input
# that did it is kept in $FUZZ_WORK/<harness>/artifacts/.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
#   FUZZ_WORK=dir  scratch directory (default: a new mktemp -d, kept)
#   FUZZ_JOBS=n    harnesses run at the same time (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
work=${FUZZ_WORK:-$(mktemp -d /tmp/cdrd-fuzz.XXXXXX)}
jobs=${FUZZ_JOBS:-2}
mkdir -p "$work"

# harness  max_len  dictionary  seed directories (generated: seeds/<name>; in the repo: fuzz/corpus/<name>)
HARNESSES=(
  "esl_frame        16384   esl.dict               esl_frame"
  "esl_event        32768   esl.dict               esl_event"
  "json_cdr         32768   json_cdr.dict          json_cdr"
  "xml_cdr          32768   xml_cdr.dict           xml_cdr"
  "form             4096    -                      form"
  "canonical_import 8192    canonical_import.dict  canonical_import"
  "cdr_csv          8192    cdr_csv.dict           cdr_csv"
  "api_query        2048    api_query.dict         api_query"
  "config           8192    config.dict            config"
  "spool_payload    4096    -                      spool_payload"
)
selected=("$@")

echo "== fuzz: build (clang 14, -fsanitize=fuzzer,address,undefined) into build-fuzz"
launcher=()
if command -v ccache >/dev/null; then  # as scripts/build.sh
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz "${launcher[@]}" -DCDRD_FUZZ=ON -DCDRD_BUILD_TESTS=OFF -DCDRD_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzzers -j"$(nproc)" >"$work/build.log" 2>&1 || {
  tail -50 "$work/build.log"
  exit 1
}
python3 fuzz/make_seeds.py tests/data/freeswitch "$work/seeds"

run_one() {
  local name=$1 max_len=$2 dict=$3
  local dir=$work/$name
  rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
  for seeds in "$work/seeds/$name" "$root/fuzz/corpus/$name"; do
    if [ -d "$seeds" ]; then cp "$seeds"/* "$dir/corpus/"; fi
  done
  local args=(-max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [ "$dict" != "-" ] && args+=(-dict="$root/fuzz/$dict")
  local rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions="$root/fuzz/ubsan.supp" \
    "$root/build-fuzz/bin/${name}_fuzzer" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  local runs cov files result
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2 || true)
  files=$(find "$dir/corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc): $(find "$dir/artifacts" -type f | head -1), log $dir/log"
  fi
  printf '%-18s execs %-10s cov %-6s corpus %-6s %s\n' "$name" "${runs:-?}" "${cov:-?}" "$files" "$result" \
    >"$dir/summary"
  return "$rc"
}

echo "== fuzz: ${seconds}s per harness, $jobs at a time, work dir $work"
names=()
for spec in "${HARNESSES[@]}"; do
  read -r name max_len dict _ <<<"$spec"
  if ((${#selected[@]})) && [[ ! " ${selected[*]} " =~ \ $name\  ]]; then continue; fi
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_one "$name" "$max_len" "$dict" &
  names+=("$name")
done
wait || true
# The verdicts come from each run's summary file, not from wait's statuses.
failed=0
for name in "${names[@]}"; do
  cat "$work/$name/summary" 2>/dev/null || echo "$name: no summary; see $work/$name/log"
  grep -qs ' ok$' "$work/$name/summary" || failed=1
done
if ((failed)); then
  echo "== fuzz: FAILED; the inputs are kept under $work/*/artifacts/"
  exit 1
fi
echo "== fuzz: every harness ran ${seconds}s without a finding"
