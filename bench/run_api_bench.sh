#!/usr/bin/env bash
# Read-API benchmark: starts cdrd (embedded PostgreSQL in a state dir, or
# BENCH_DSN) on a free port of 127.0.0.1, loads ROWS synthetic CDRs over 3
# months and 1,000 accounts with cdrd_api_bench_load (resumable; skipped when
# the data set is already there), starts ingest at BENCH_INGEST_RATE CDRs/s
# with cdrd_loadgen, runs cdrd_api_bench while it runs, prints the table,
# then stops everything. See bench/README.md, "Read API benchmark".
#
#   bench/run_api_bench.sh [ROWS]          (default 10000000; a dev run: 200000)
#
# Environment (all optional; BENCH_* rather than CDRD_*, because cdrd rejects
# any CDRD_* variable that is not one of its configuration keys):
#   BENCH_STATE_DIR     reuse this state dir (kept afterwards): a 10M load is made once
#   BENCH_DSN           use this PostgreSQL database instead of the embedded one
#   BENCH_SKIP_LOAD=1   do not run the loader (the data set must be loaded already)
#   BENCH_TRUNCATE=1    empty cdrs and load the data set from scratch
#   BENCH_TIMEOUT_S     bound on the load plus the benchmark (default 7200)
#   BENCH_INGEST_RATE   CDRs/s posted during the benchmark (default 1000; 0 = no ingest)
#   BENCH_REQUESTS      requests of each timed kind (default 2000)
#   BENCH_EXPORTS       CSV exports of a month (default 10)
#   BENCH_SEED          seed of the request choices (default 42)
#   BENCH_ACCOUNTS, BENCH_SKEW, BENCH_LOAD_JOBS, BENCH_CHUNK_ROWS   loader settings (1000, 0.8, 2, 1000000)
#   BENCH_BUILD_DIR     build directory with bin/cdrd, bin/cdrd_loadgen, bin/cdrd_api_bench* (default build)
#   BENCH_REBUILD=1     rebuild even when the binaries exist
#   BENCH_TMPDIR        parent of a temporary state dir (default ${TMPDIR:-/tmp})
#   BENCH_KEEP=1        keep a temporary state dir (cdrd.log, postgres.log, ingest.log)
#   other CDRD_*        passed on to cdrd as configuration overrides (e.g. CDRD_DATABASE_READ_POOL_SIZE)
set -euo pipefail

rows=${1:-10000000}
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD_DIR:-build}
[[ $build == /* ]] || build=$repo/$build
cdrd_bin=$build/bin/cdrd
loadgen_bin=$build/bin/cdrd_loadgen
load_bin=$build/bin/cdrd_api_bench_load
bench_bin=$build/bin/cdrd_api_bench
timeout_s=${BENCH_TIMEOUT_S:-7200}
ingest_rate=${BENCH_INGEST_RATE:-1000}
started_at=$SECONDS

if [[ ${BENCH_REBUILD:-0} == 1 || ! -x $cdrd_bin || ! -x $loadgen_bin || ! -x $load_bin || ! -x $bench_bin ]]; then
  echo "building into $build"
  cmake -S "$repo" -B "$build" -DCDRD_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" --target cdrd cdrd_loadgen cdrd_api_bench_load cdrd_api_bench -j"$(nproc)"
fi

remaining() {
  local left=$((timeout_s - (SECONDS - started_at)))
  ((left > 0)) || left=1
  echo "$left"
}

if [[ -n ${BENCH_STATE_DIR:-} ]]; then
  state=$BENCH_STATE_DIR
  mkdir -p "$state"
  keep_state=1
else
  state=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/cdrd-api-bench.XXXXXX")
  keep_state=${BENCH_KEEP:-0}
fi
# As root, the embedded PostgreSQL runs as user postgres, which must enter the state dir.
chmod 755 "$state"
cdrd_pid=
ingest_pid=

pick_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    # A refused connection means nobody listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

stop_ingest() {
  [[ -n $ingest_pid ]] || return 0
  # cdrd_loadgen stops sending on SIGTERM, waits for the replies in flight and reports.
  kill -TERM "$ingest_pid" 2>/dev/null || true
  wait "$ingest_pid" || true
  ingest_pid=
}

stop_cdrd() {
  [[ -n $cdrd_pid ]] || return 0
  if kill -0 "$cdrd_pid" 2>/dev/null; then
    kill -TERM "$cdrd_pid"
    for _ in $(seq 1 600); do
      kill -0 "$cdrd_pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$cdrd_pid" 2>/dev/null; then
      echo "cdrd did not stop within 120 s; killing it" >&2
      kill -KILL "$cdrd_pid"
    fi
  fi
  local rc=0
  wait "$cdrd_pid" || rc=$?
  echo "cdrd exited with status $rc"
  cdrd_pid=
  # cdrd stops its PostgreSQL itself; only a killed cdrd leaves the postmaster behind.
  local postmaster=$state/pgdata/postmaster.pid
  if [[ -f $postmaster ]]; then
    local pg_pid
    pg_pid=$(head -n 1 "$postmaster")
    if [[ $pg_pid =~ ^[0-9]+$ ]] && kill -0 "$pg_pid" 2>/dev/null; then kill -TERM "$pg_pid"; fi
  fi
}

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  stop_ingest
  stop_cdrd
  if [[ $keep_state == 1 ]]; then
    echo "state kept in $state"
  else
    rm -rf "$state"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(pick_free_port)
api_key=bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cat >"$state/cdrd.yaml" <<EOF
state_dir: $state
node_name: bench
listen:
  http: 127.0.0.1:$port
database:
  dsn: ${BENCH_DSN:-embedded}
api:
  keys:
    - key: "$api_key"
      accounts: ["*"]
log:
  level: info
EOF

echo "command: bench/run_api_bench.sh $rows (BENCH_INGEST_RATE=$ingest_rate BENCH_REQUESTS=${BENCH_REQUESTS:-2000}" \
  "BENCH_EXPORTS=${BENCH_EXPORTS:-10} BENCH_SEED=${BENCH_SEED:-42})"
echo "cdrd: $cdrd_bin on 127.0.0.1:$port, state $state"
"$cdrd_bin" --config "$state/cdrd.yaml" >>"$state/cdrd.log" 2>&1 &
cdrd_pid=$!

# The first start runs initdb, which takes a while on a loaded machine.
ready=0
for _ in $(seq 1 600); do
  if ! kill -0 "$cdrd_pid" 2>/dev/null; then break; fi
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ $ready != 1 ]]; then
  echo "cdrd did not become ready; the end of its log:" >&2
  tail -n 40 "$state/cdrd.log" >&2
  exit 1
fi

if [[ -n ${BENCH_DSN:-} ]]; then
  dsn=$BENCH_DSN
else
  dsn=$(sed -n 's/.*embedded PostgreSQL is up (pid [0-9]*, \(host=[^)]*\)).*/\1/p' "$state/cdrd.log" | tail -n 1)
  [[ -n $dsn ]] || dsn="host=$state/run port=5432 dbname=cdrd user=cdrd"
fi
echo "database: $dsn"

if [[ ${BENCH_SKIP_LOAD:-0} != 1 ]]; then
  load_args=(--dsn "$dsn" --rows "$rows" --accounts "${BENCH_ACCOUNTS:-1000}" --skew "${BENCH_SKEW:-0.8}"
    --jobs "${BENCH_LOAD_JOBS:-2}" --chunk-rows "${BENCH_CHUNK_ROWS:-1000000}")
  if [[ ${BENCH_TRUNCATE:-0} == 1 ]]; then load_args+=(--truncate); fi
  echo "loading: cdrd_api_bench_load ${load_args[*]}"
  timeout -s TERM "$(remaining)" "$load_bin" "${load_args[@]}"
fi

if [[ $ingest_rate != 0 ]]; then
  ingest_count=$((ingest_rate * $(remaining)))
  ((ingest_count <= 100000000)) || ingest_count=100000000
  echo "ingest: cdrd_loadgen --rate $ingest_rate (log in $state/ingest.log)"
  # Started directly, not in a subshell: $! must be cdrd_loadgen itself for its graceful SIGTERM.
  "$loadgen_bin" --port "$port" --rate "$ingest_rate" --count "$ingest_count" --concurrency 16 \
    --timeout-s "$(remaining)" --account "bench-ingest-$$" >"$state/ingest.log" 2>&1 &
  ingest_pid=$!
  # Let the ingest reach its steady rate before the first timed request.
  sleep 3
fi

bench_rc=0
timeout -s TERM "$(remaining)" "$bench_bin" --port "$port" --dsn "$dsn" --key "$api_key" \
  --requests "${BENCH_REQUESTS:-2000}" --exports "${BENCH_EXPORTS:-10}" --seed "${BENCH_SEED:-42}" \
  --timeout-s "$(remaining)" || bench_rc=$?

if [[ -n $ingest_pid ]]; then
  stop_ingest
  echo
  echo "ingest during the benchmark (cdrd_loadgen --rate $ingest_rate):"
  grep -E '^(sent|acknowledged|other statuses|transport errors|wall to last ack|acks/s|ack latency|first error)' \
    "$state/ingest.log" | sed 's/^/  /'
fi
stop_cdrd
exit "$bench_rc"
