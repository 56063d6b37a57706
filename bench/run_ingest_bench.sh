#!/usr/bin/env bash
# Ingest benchmark: starts a fresh cdrd (embedded PostgreSQL, temp state dir,
# free port on 127.0.0.1), posts COUNT CDRs over CONCURRENCY keep-alive
# connections with cdrd_loadgen, waits until every acknowledged row is visible
# in PostgreSQL, prints the report, stops cdrd and removes the state dir.
#
#   bench/run_ingest_bench.sh [COUNT] [CONCURRENCY]      (default 200000 32)
#
# Environment (all optional; BENCH_* rather than CDRD_*, because cdrd rejects
# any CDRD_* variable that is not one of its configuration keys):
#   CDRD_BATCH_MAX_ROWS, CDRD_BATCH_MAX_DELAY_MS  batch settings (default 1000, 200);
#                          cdrd reads any other CDRD_* override from the environment too
#   BENCH_BUILD_DIR   build directory holding bin/cdrd and bin/cdrd_loadgen (default build)
#   BENCH_REBUILD=1   rebuild even when both binaries exist
#   BENCH_TMPDIR      where the temp state dir goes (default ${TMPDIR:-/tmp})
#   BENCH_KEEP=1      keep the state dir (cdrd.log, postgres.log) for inspection
#   BENCH_TIMEOUT_S   bound on the load plus the visibility wait (default 1800)
#   BENCH_THREADS     generator threads (default 1)
#   BENCH_RATED=1     rate every CDR: imports bench/data/rated_decks.sh's decks
#   BENCH_RATE=N      send N CDRs per second on a fixed schedule (loadgen --rate; default unpaced)
#                     (a 100,000-prefix customer deck and a vendor deck), assigns
#                     them to the run's account and trunk, and posts
#                     bench/data/json_cdr_rated.json (an E.164 callee, a gateway)
#   BENCH_SAMPLE      the mod_json_cdr document to post (default: the loadgen's)
#   BENCH_COPY=0      skip the plain-COPY comparison below
# After the load it dumps the rows cdrd stored and loads them back into the
# emptied cdrs table with plain binary COPY, on one connection and on two,
# and prints those rates beside the end-to-end one and the two ratios
# (issue 14's targets: >= 1.0 and >= 0.8).
# At the end it prints the writer threads' CPU time (utime + stime of the
# threads named cdrd-writer*) per row, the figure rating is held to.
set -euo pipefail

count=${1:-200000}
concurrency=${2:-32}
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD_DIR:-build}
[[ $build == /* ]] || build=$repo/$build
cdrd_bin=$build/bin/cdrd
loadgen_bin=$build/bin/cdrd_loadgen

if [[ ${BENCH_REBUILD:-0} == 1 || ! -x $cdrd_bin || ! -x $loadgen_bin ]]; then
  echo "building into $build"
  "$repo/scripts/build.sh" "$build" -DCDRD_BUILD_BENCH=ON
fi

state=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/cdrd-bench.XXXXXX")
# As root, the embedded PostgreSQL runs as user postgres, which must enter the state dir.
chmod 755 "$state"
cdrd_pid=

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

cleanup() {
  stop_cdrd
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "state kept in $state"
  else
    rm -rf "$state"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(pick_free_port)
cat >"$state/cdrd.yaml" <<EOF
state_dir: $state
node_name: bench
listen:
  http: 127.0.0.1:$port
database:
  dsn: embedded
batch:
  max_rows: ${CDRD_BATCH_MAX_ROWS:-1000}
  max_delay_ms: ${CDRD_BATCH_MAX_DELAY_MS:-200}
log:
  level: info
EOF

echo "cdrd: $cdrd_bin on 127.0.0.1:$port, state $state," \
  "batch max_rows ${CDRD_BATCH_MAX_ROWS:-1000} max_delay_ms ${CDRD_BATCH_MAX_DELAY_MS:-200}"
"$cdrd_bin" --config "$state/cdrd.yaml" >"$state/cdrd.log" 2>&1 &
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

dsn=$(sed -n 's/.*embedded PostgreSQL is up (pid [0-9]*, \(host=[^)]*\)).*/\1/p' "$state/cdrd.log" | tail -n 1)
[[ -n $dsn ]] || dsn="host=$state/run port=5432 dbname=cdrd user=cdrd"
echo "database: $dsn"

sample_args=()
account=bench-$$-$(date +%s)
if [[ ${BENCH_RATED:-0} == 1 ]]; then
  "$repo/bench/data/rated_decks.sh" "$state" 100000
  "$cdrd_bin" rates import --deck bench-retail --currency USD --duration-rounding up "$state/retail.csv" \
    -c "$state/cdrd.yaml"
  "$cdrd_bin" rates import --deck bench-carrier --currency EUR "$state/carrier.csv" -c "$state/cdrd.yaml"
  "$cdrd_bin" rates assign --side customer --account "$account" --deck bench-retail -c "$state/cdrd.yaml"
  "$cdrd_bin" rates assign --side vendor --trunk bench-carrier --deck bench-carrier -c "$state/cdrd.yaml"
  sample_args=(--sample "${BENCH_SAMPLE:-$repo/bench/data/json_cdr_rated.json}")
  # The idle writer loads the decks within about a second of the change; the
  # load (once per change) is kept out of the per-row figure below.
  for _ in $(seq 1 300); do
    grep -q "rating: 2 rate deck(s) loaded" "$state/cdrd.log" && break
    sleep 0.2
  done
  grep "rating: 2 rate deck(s) loaded" "$state/cdrd.log" | tail -n 1
elif [[ -n ${BENCH_SAMPLE:-} ]]; then
  sample_args=(--sample "$BENCH_SAMPLE")
fi

# utime + stime (clock ticks) of cdrd's writer threads (cdrd-writer and
# its lanes cdrd-writer-1...).
writer_ticks() {
  local task sum=0
  for task in /proc/"$cdrd_pid"/task/*; do
    if [[ $(cat "$task/comm" 2>/dev/null) == cdrd-writer* ]]; then
      sum=$((sum + $(awk '{print $14 + $15}' "$task/stat")))
    fi
  done
  echo "$sum"
}
ticks_before=$(writer_ticks)

# CPU ticks (utime + stime) by part: cdrd's threads by name (cdrd = the
# HTTP loop, cdrd-spool, cdrd-writer*, anything else) and every process of
# the embedded PostgreSQL (the postmaster, its live children and the ones it
# has reaped), one line each.
postmaster_pid=$(head -n 1 "$state/pgdata/postmaster.pid" 2>/dev/null || echo 0)
cpu_ticks() {
  local task comm ticks loop=0 spool=0 writer=0 other=0 pg=0 p
  for task in /proc/"$cdrd_pid"/task/*; do
    comm=$(cat "$task/comm" 2>/dev/null) || continue
    ticks=$(awk '{print $14 + $15}' "$task/stat" 2>/dev/null) || continue
    case $comm in
      cdrd) loop=$((loop + ticks)) ;;
      cdrd-spool) spool=$((spool + ticks)) ;;
      cdrd-writer*) writer=$((writer + ticks)) ;;
      *) other=$((other + ticks)) ;;
    esac
  done
  for p in /proc/[0-9]*; do
    [[ -r $p/stat ]] || continue
    # Fields after the ") ": state ppid ...; utime and stime are 14 and 15 overall.
    read -r -a f < <(sed 's/.*) //' "$p/stat" 2>/dev/null) || continue
    [[ ${#f[@]} -gt 13 ]] || continue
    if [[ ${p#/proc/} == "$postmaster_pid" ]]; then
      # Its own CPU and that of the backends it has reaped (cutime, cstime):
      # a COPY's backend exits with its psql.
      pg=$((pg + f[11] + f[12] + f[13] + f[14]))
    elif [[ ${f[1]} == "$postmaster_pid" ]]; then
      pg=$((pg + f[11] + f[12]))
    fi
  done
  echo "$loop $spool $writer $other $pg"
}
cpu_before=$(cpu_ticks)

echo "machine load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) cores"
loadgen_rc=0
"$loadgen_bin" --port "$port" --count "$count" --concurrency "$concurrency" \
  --threads "${BENCH_THREADS:-1}" --rate "${BENCH_RATE:-0}" --dsn "$dsn" --cdrd-pid "$cdrd_pid" --account "$account" "${sample_args[@]}" \
  --timeout-s "${BENCH_TIMEOUT_S:-1800}" | tee "$state/loadgen.out" || loadgen_rc=$?

ticks_after=$(writer_ticks)
cpu_after=$(cpu_ticks)
awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$(getconf CLK_TCK)" -v n="$count" 'BEGIN {
  split(a, x, " "); split(b, y, " ")
  split("cdrd loop (HTTP and normalize);cdrd-spool;cdrd-writer*;other cdrd threads;PostgreSQL (all processes)", name, ";")
  total = 0
  for (i = 1; i <= 5; i++) { d[i] = (y[i] - x[i]) / hz; total += d[i] }
  printf "CPU by part, us per CDR (seconds):\n"
  for (i = 1; i <= 5; i++) printf "  %-30s %7.1f  (%.2f s)\n", name[i], d[i] / n * 1e6, d[i]
  printf "  %-30s %7.1f  (%.2f s)\n", "total", total / n * 1e6, total
}'
hz=$(getconf CLK_TCK)
awk -v t=$((ticks_after - ticks_before)) -v hz="$hz" -v n="$count" \
  'BEGIN { printf "writer threads CPU: %.2f s, %.1f us per row\n", t / hz, t / hz / n * 1e6 }'
# Where the batches' wall time went (the writer's steps, from /metrics), per
# row, with the batch count and the rows written straight by COPY.
curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | awk -v n="$count" '
  /^cdrd_writer_step_seconds_total\{/ { split($1, k, "\""); step[k[2]] = $2; order[++steps] = k[2] }
  /^cdrd_batches_total / { batches = $2 }
  /^cdrd_writer_share_seconds_total\{/ { split($1, k, "\""); share_s[k[2]] = $2 }
  /^cdrd_writer_connection0_share / { share0 = $2 }
  /^cdrd_rows_copied_direct_total / { direct = $2 }
  /^cdrd_calls_relinked_total / { relinked = $2 }
  # The ack path as cdrd sees it: request arrival to durable ack, and
  # one spool group commit (write + fdatasync), as the bucket whose upper
  # bound holds the 50th and 99th percentile.
  /^cdrd_(ack|spool_sync)_seconds_bucket/ {
    split($1, k, "\""); h = ($1 ~ /^cdrd_ack/) ? "ack" : "sync"
    nb[h]++; le[h, nb[h]] = k[2]; cum[h, nb[h]] = $2
  }
  /^cdrd_ack_seconds_count / { count["ack"] = $2 }
  /^cdrd_spool_sync_seconds_count / { count["sync"] = $2 }
  END {
    if (steps == 0) exit
    printf "writer steps, wall us per row (%d batches, %d rows copied direct, %d re-linked):\n", batches, direct, relinked
    for (i = 1; i <= steps; i++) printf "  %-12s %7.1f  (%.2f s)\n", order[i], step[order[i]] / n * 1e6, step[order[i]]
    if (("0" in share_s) && share_s["others"] > 0) {
      printf "  shares: connection 0 %.1f, slowest other %.1f us per row; connection 0 writes %.0f%% of the rows now\n",
        share_s["0"] / n * 1e6, share_s["others"] / n * 1e6, share0 * 100
    }
    split("ack sync", hs, " ")
    for (j = 1; j <= 2; j++) {
      h = hs[j]
      if (count[h] == 0) continue
      p50 = ""; p99 = ""
      for (i = 1; i <= nb[h]; i++) {
        if (p50 == "" && cum[h, i] >= 0.5 * count[h]) p50 = le[h, i]
        if (p99 == "" && cum[h, i] >= 0.99 * count[h]) p99 = le[h, i]
      }
      printf "cdrd %-20s %d, p50 <= %s s, p99 <= %s s\n", (h == "ack" ? "acks (in cdrd)" : "spool group commits"), count[h], p50, p99
    }
  }' || true
if [[ ${BENCH_RATED:-0} == 1 ]]; then
  psql "$dsn" -Atc "SELECT 'rated rows: customer ' || count(customer_charge) || ', vendor ' || count(vendor_charge) || ' of ' || count(*) FROM cdrs" || true
fi

# The ceiling: the very rows cdrd stored, dumped and loaded back into the
# same (emptied) cdrs table with plain binary COPY, on one connection and on
# two (each half of the rows), while cdrd sits idle. The columns are the ones
# the writer sends; row_seq and received_at take their defaults as they did.
if [[ $loadgen_rc == 0 && ${BENCH_COPY:-1} == 1 ]]; then
  cols="record, raw, raw_format, id, ts, gregorian_ts, account_id, call_id, started_at, answered_at,
    duration_seconds, billing_seconds, ringing_seconds, call_direction, hangup_cause, hangup_code, billing_status,
    caller_id_number, callee_id_number, from_uri, to_uri, other_leg_call_id, interaction_id, media_server, leg, source,
    imported, is_loopback, sip_call_id, trunk, direction_class, caller_e164, callee_e164, destination_country,
    leg_interaction_id, customer_charge, customer_currency, vendor_charge, vendor_currency, call_root"
  cols=$(tr -s ' \n' ' ' <<<"$cols")
  psql "$dsn" -qAt -c "SELECT 'stored: ' || count(*) || ' rows, ' ||
      (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'cdrs'::regclass) / count(*) ||
      ' bytes per row in cdrs (heap, TOAST and indexes), ' ||
      pg_total_relation_size('cdr_links') / count(*) || ' in cdr_links' FROM cdrs"
  psql "$dsn" -qc "\\copy (SELECT $cols FROM cdrs) TO '$state/rows.bin' WITH (FORMAT binary)"
  psql "$dsn" -qc "\\copy (SELECT $cols FROM cdrs WHERE row_seq % 2 = 0) TO '$state/rows0.bin' WITH (FORMAT binary)"
  psql "$dsn" -qc "\\copy (SELECT $cols FROM cdrs WHERE row_seq % 2 = 1) TO '$state/rows1.bin' WITH (FORMAT binary)"
  copy_rows=$(psql "$dsn" -qAt -c "SELECT count(*) FROM cdrs")
  echo "binary COPY file: $(du -m "$state/rows.bin" | cut -f1) MB for $copy_rows rows"
  load() {  # load FILE...: one psql per file, in parallel; prints the wall seconds
    psql "$dsn" -qc "TRUNCATE cdrs" -c "CHECKPOINT" >/dev/null
    local start end pids=() f pg_before pg_after
    pg_before=$(cpu_ticks | cut -d' ' -f5)
    start=$(date +%s.%N)
    for f in "$@"; do
      psql "$dsn" -qc "\\copy cdrs ($cols) FROM '$f' WITH (FORMAT binary)" &
      pids+=($!)
    done
    for f in "${pids[@]}"; do wait "$f"; done
    end=$(date +%s.%N)
    pg_after=$(cpu_ticks | cut -d' ' -f5)
    awk -v s="$start" -v e="$end" -v t=$((pg_after - pg_before)) -v hz="$(getconf CLK_TCK)" -v n="$copy_rows" \
      'BEGIN { printf "%.3f %.1f\n", e - s, t / hz / n * 1e6 }'
  }
  read -r one_s one_pg < <(load "$state/rows.bin")
  read -r two_s two_pg < <(load "$state/rows0.bin" "$state/rows1.bin")
  e2e=$(sed -n 's/^committed rows\/s *//p' "$state/loadgen.out")
  awk -v n="$copy_rows" -v one="$one_s" -v two="$two_s" -v e2e="$e2e" -v one_pg="$one_pg" -v two_pg="$two_pg" 'BEGIN {
    c1 = n / one; c2 = n / two
    printf "plain binary COPY, 1 connection   %.1f rows/s (%.2f s, PostgreSQL CPU %.1f us per row)\n", c1, one, one_pg
    printf "plain binary COPY, 2 connections  %.1f rows/s (%.2f s, PostgreSQL CPU %.1f us per row)\n", c2, two, two_pg
    printf "end to end committed              %.1f rows/s\n", e2e
    printf "ratio e2e / COPY 1 connection     %.2f (target >= 1.0)\n", e2e / c1
    printf "ratio e2e / COPY 2 connections    %.2f (target >= 0.8)\n", e2e / c2
  }'
  echo "machine load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

stop_cdrd
if [[ $loadgen_rc != 0 ]]; then
  echo "cdrd_loadgen exited with status $loadgen_rc (not every CDR was acknowledged and visible)" >&2
  exit "$loadgen_rc"
fi
