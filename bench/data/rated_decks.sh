#!/usr/bin/env bash
# Writes DIR/retail.csv (a customer deck of N prefixes: every prefix of
# 3 to 8 digits drawn at random, plus 33 and 331 for France, the bench
# sample's callee +33170363950) and DIR/carrier.csv (a small vendor deck),
# for bench/run_ingest_bench.sh BENCH_RATED=1.
#   bench/data/rated_decks.sh DIR [N]
set -euo pipefail
dir=${1:?usage: rated_decks.sh DIR [N]}
n=${2:-100000}
python3 - "$dir" "$n" <<'PY'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(12)
prefixes = {"33", "331"}
while len(prefixes) < n:
    prefixes.add(str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(2, 7))))
with open(d + "/retail.csv", "w") as f:
    f.write("prefix,name,initial_interval,initial_rate,next_interval,next_rate,connect_fee\n")
    for p in sorted(prefixes):
        name = "France Paris" if p == "331" else "France" if p == "33" else "Zone " + p
        f.write(f"{p},{name},60,0.0{rng.randint(10, 99)},6,0.0{rng.randint(10, 99)},0.005\n")
with open(d + "/carrier.csv", "w") as f:
    f.write("prefix,name,initial_interval,initial_rate,next_interval,next_rate\n33,France,1,0.009,1,0.009\n331,France Paris,1,0.006,1,0.006\n")
PY
