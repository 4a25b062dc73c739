#!/usr/bin/env bash
# Metered readings at scale: import rows/s (CSV → partitioned Parquet), then monthly and yearly
# aggregation by gusu (DataFusion, explicit memory pool) side by side with DuckDB running the same
# SQL on the same files with the same threads; peak RSS of each (GNU time) against gusu's pool.
#
# usage: bench/readings.sh [ROWS...]        (default: 10000000)
#   ENTERPRISES (default 2000: 10M hourly readings then span about 7 months), POOL (default 4GiB)
# needs: a release build (cargo build --release -p gusu-cli), hyperfine, GNU time, python3 with duckdb
# The CSV is about 80 bytes a reading (10M ≈ 0.8 GB); the data is deleted unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}
DATA=${DATA:-/tmp/gusu-bench-readings}
SIZES=${*:-10000000}
ENTERPRISES=${ENTERPRISES:-2000}
POOL=${POOL:-4GiB}
THREADS=2
export GUSU_LANG=en

for n in $SIZES; do
  dir="$DATA/$n"
  rm -rf "$dir"; mkdir -p "$dir"
  "$GUSU" demo --enterprises "$ENTERPRISES" --years 2024 --seed 2024 --out "$dir/src" --plain --readings "$n" >/dev/null
  echo "== $n readings of $ENTERPRISES enterprises ($(du -h "$dir/src/readings.csv" | cut -f1) of CSV)"

  /usr/bin/time -f "import: wall %e s, peak RSS %M KB" \
    "$GUSU" readings import "$dir/src/readings.csv" --data "$dir/data" 2>"$dir/import.log"
  tail -2 "$dir/import.log"
  wall=$(tail -1 "$dir/import.log" | sed -E 's/.*wall ([0-9.]+) s.*/\1/')
  python3 -c "print(f'import: {$n / $wall:,.0f} rows/s')"
  echo "dataset: $(du -sh "$dir/data/readings" | cut -f1) of Parquet in $(find "$dir/data/readings" -name '*.parquet' | wc -l) files"

  for by in year month; do
    gusu_cmd="$GUSU readings aggregate --data $dir/data --by $by --memory-limit $POOL --spill $dir/spill --output $dir/gusu-$by.csv"
    duck_cmd="python3 bench/duckdb_readings.py $dir/data $by $dir/duckdb-$by.csv $THREADS"
    hyperfine --warmup 1 --runs 5 --export-markdown "$dir/hyperfine-$by.md" -n "gusu $by" "$gusu_cmd" -n "duckdb $by" "$duck_cmd"
    for tool in gusu duckdb; do
      cmd=$gusu_cmd; [ "$tool" = duckdb ] && cmd=$duck_cmd
      /usr/bin/time -f "$tool $by: peak RSS %M KB, wall %e s" $cmd >/dev/null 2>"$dir/$tool-$by.time" || { cat "$dir/$tool-$by.time"; exit 1; }
      tail -1 "$dir/$tool-$by.time"
    done
    python3 bench/compare_readings.py "$dir/gusu-$by.csv" "$dir/duckdb-$by.csv"
  done

  # A pool far below the data: the query must spill or stop with the clear error, never be killed.
  for small in 64MiB 8MiB; do
    /usr/bin/time -f "gusu month, pool $small: peak RSS %M KB, wall %e s, exit %x" \
      "$GUSU" readings aggregate --data "$dir/data" --by month --memory-limit "$small" --spill "$dir/spill" \
      --output "$dir/small.csv" 2>"$dir/small.log" || true
    grep -E "gusu:|peak RSS" "$dir/small.log" | cut -c1-300
  done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
done
