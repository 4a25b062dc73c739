#!/usr/bin/env bash
# Metered readings at scale (issue 4): import rows/s (CSV → partitioned Parquet), then monthly and
# yearly aggregation by gusu (DataFusion, explicit memory pool) and by DuckDB running the same SQL on
# the same files with the same threads, interleaved run by run so both see the same machine load;
# wall time and peak RSS (GNU time) of every run, each under an address-space cap (prlimit --as) so
# that going over is a failed allocation, never the kernel's OOM killer.
#
# usage: bench/readings.sh [ROWS...]                                      (default: 10000000)
#   FORMAT      csv (default: write a CSV with `gusu demo`, import it, measure the import, delete
#               the CSV) or parquet (write the dataset directly: `--readings-format parquet`)
#   ENTERPRISES default 16000 (the demo city); RUNS default 3; POOL default 4GiB (gusu's pool and
#               DuckDB's memory_limit); IMPORT_POOL default 1GiB; CAP default 8G (prlimit --as)
#   SMALL_POOLS pools for the spill/limit runs of gusu, default "256MiB 64MiB 16MiB 1MiB"
# needs: cargo build --release -p gusu-cli, GNU time, prlimit, python3 with duckdb.
# The data is deleted at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}
DATA=${DATA:-/tmp/gusu-bench-readings}
SIZES=${*:-10000000}
FORMAT=${FORMAT:-csv}
ENTERPRISES=${ENTERPRISES:-16000}
RUNS=${RUNS:-3}
POOL=${POOL:-4GiB}
IMPORT_POOL=${IMPORT_POOL:-1GiB}
CAP=${CAP:-8G}
SMALL_POOLS=${SMALL_POOLS:-256MiB 64MiB 16MiB 1MiB}
THREADS=2
export GUSU_LANG=en
capped() { prlimit --as="$(numfmt --from=iec "$CAP")" -- "$@"; }
load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) cores · $(free -g | awk '/Mem:/{print $2}') GiB · $("$GUSU" --version 2>/dev/null || echo gusu) · duckdb $(python3 -c 'import duckdb; print(duckdb.__version__)')"
for n in $SIZES; do
  dir="$DATA/$n"
  rm -rf "$dir"; mkdir -p "$dir"
  echo "== $n readings of $ENTERPRISES enterprises, $FORMAT, pool $POOL, cap $CAP ($(load))"
  if [ "$FORMAT" = csv ]; then
    /usr/bin/time -f "write CSV: wall %e s" "$GUSU" demo --enterprises "$ENTERPRISES" --years 2024 --seed 2024 \
      --out "$dir/src" --plain --readings "$n" >/dev/null
    echo "CSV: $(du -h "$dir/src/readings.csv" | cut -f1) ($(load))"
    capped /usr/bin/time -f "import: wall %e s, peak RSS %M KB, exit %x" \
      "$GUSU" readings import "$dir/src/readings.csv" --data "$dir/data" --memory-limit "$IMPORT_POOL" \
      --spill "$dir/spill" 2>"$dir/import.log" || { cat "$dir/import.log"; exit 1; }
    tail -3 "$dir/import.log"
    wall=$(tail -1 "$dir/import.log" | sed -E 's/.*wall ([0-9.]+) s.*/\1/')
    python3 -c "print(f'import: {$n / $wall:,.0f} rows/s')"
    rm -rf "$dir/src"
  else
    /usr/bin/time -f "write Parquet dataset: wall %e s, peak RSS %M KB" "$GUSU" demo --enterprises "$ENTERPRISES" \
      --years 2024 --seed 2024 --out "$dir" --plain --readings "$n" --readings-format parquet >/dev/null
  fi
  echo "dataset: $(du -sh "$dir/data/readings" | cut -f1) of Parquet in $(find "$dir/data/readings" -name '*.parquet' | wc -l) files"

  for by in year month; do
    gusu_cmd=("$GUSU" readings aggregate --data "$dir/data" --by "$by" --memory-limit "$POOL" --spill "$dir/spill" --output "$dir/gusu-$by.csv")
    duck_cmd=(python3 bench/duckdb_readings.py "$dir/data" "$by" "$dir/duckdb-$by.csv" "$THREADS" "$POOL")
    : > "$dir/$by.runs"
    for run in $(seq "$RUNS"); do
      for tool in gusu duckdb; do
        if [ "$tool" = gusu ]; then cmd=("${gusu_cmd[@]}"); else cmd=("${duck_cmd[@]}"); fi
        l=$(cut -d' ' -f1 /proc/loadavg)
        capped /usr/bin/time -f "$tool %e %M" "${cmd[@]}" >/dev/null 2>"$dir/run.log" || { cat "$dir/run.log"; exit 1; }
        echo "$(tail -1 "$dir/run.log") $l" | tee -a "$dir/$by.runs" | awk -v by="$by" -v r="$run" '{printf "%s %s run %s: %.2f s, peak RSS %d MB (load %s)\n", $1, by, r, $2, $3/1024, $4}'
      done
    done
    python3 - "$dir/$by.runs" "$by" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for tool in ("gusu", "duckdb"):
    t = [float(r[1]) for r in rows if r[0] == tool]
    m = [int(r[2]) / 1024 for r in rows if r[0] == tool]
    sd = statistics.stdev(t) if len(t) > 1 else 0.0
    print(f"{tool} {sys.argv[2]}: mean {statistics.mean(t):.2f} s ± {sd:.2f} (min {min(t):.2f}, {len(t)} runs), peak RSS max {max(m):.0f} MB")
PY
    python3 bench/compare_readings.py "$dir/gusu-$by.csv" "$dir/duckdb-$by.csv"
  done

  # Pools far below the data: the query spills, or stops with the clear error and exit 1, never killed.
  for small in $SMALL_POOLS; do
    capped /usr/bin/time -f "gusu month, pool $small: wall %e s, peak RSS %M KB, exit %x" \
      "$GUSU" readings aggregate --data "$dir/data" --by month --memory-limit "$small" --spill "$dir/spill" \
      --output "$dir/small.csv" 2>"$dir/small.log" || true
    grep -E "gusu:|error|peak RSS" "$dir/small.log" | cut -c1-400
    [ -s "$dir/small.csv" ] && python3 bench/compare_readings.py "$dir/small.csv" "$dir/duckdb-month.csv"
    rm -f "$dir/small.csv"
  done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
done
