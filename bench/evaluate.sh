#!/usr/bin/env bash
# Side-by-side benchmark: `gusu evaluate` from CSV vs the same scheme as one DuckDB query, on the
# same files and the same number of threads (2, this machine's cores). Records wall time (hyperfine)
# and peak memory (GNU time), and checks that both give the same status, class, rank and score for
# every enterprise.
#
# usage: bench/evaluate.sh [SIZES...]        (default: 300000 1000000)
#        GEN=city bench/evaluate.sh ...      files from bench/gen_city.py (independent of the demo:
#                                            blanks, warnings, exempt enterprises) instead
# needs: a release build (cargo build --release), hyperfine, GNU time, python3 with duckdb (pip install duckdb)
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}
GEN=${GEN:-demo}
DATA=${DATA:-bench/data/$GEN}
SIZES=${*:-300000 1000000}
THREADS=2
mkdir -p "$DATA"

for n in $SIZES; do
  dir="$DATA/$n"
  if [ ! -f "$dir/annual.csv" ]; then
    if [ "$GEN" = city ]; then
      python3 bench/gen_city.py "$n" "$dir" 2024
    else
      "$GUSU" demo --enterprises "$n" --years 2024 --seed 2024 --out "$dir" --plain >/dev/null
    fi
  fi
  echo "== $n enterprises ($(du -sh "$dir" | cut -f1) of CSV)"
  gusu_cmd="$GUSU evaluate --enterprises $dir/enterprises.csv --annual $dir/annual.csv --year 2024 --output $dir/gusu.csv"
  duck_cmd="python3 bench/duckdb_evaluate.py $dir/enterprises.csv $dir/annual.csv 2024 $dir/duckdb.csv $THREADS"
  hyperfine --warmup 1 --runs 5 --export-markdown "$dir/hyperfine.md" -n gusu "$gusu_cmd" -n duckdb "$duck_cmd"
  for tool in gusu duckdb; do
    cmd=$gusu_cmd; [ "$tool" = duckdb ] && cmd=$duck_cmd
    /usr/bin/time -f "$tool peak RSS: %M KB, wall %e s" $cmd >/dev/null 2>"$dir/$tool.time" || { cat "$dir/$tool.time"; exit 1; }
    tail -1 "$dir/$tool.time"
  done
  python3 bench/compare.py "$dir/gusu.csv" "$dir/duckdb.csv"
done
