#!/usr/bin/env bash
# The "2 GB CSV with one bad line at the end" of issue 4: builds a dataset from a first readings
# file, then writes a second file of about 2 GB whose last line is cut off in the middle, imports
# it, shows the error and proves the dataset is byte for byte as it was (listing and SHA-256 of
# every file before and after).
#
# usage: bench/readings_bad_line.sh            (needs: cargo build --release -p gusu-cli)
#   DATA (default /tmp/gusu-bad-line), ROWS of the big file (default 26000000 ≈ 2 GB),
#   POOL (default 1GiB); the data is deleted unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
GUSU=${GUSU:-${CARGO_TARGET_DIR:-target}/release/gusu}
DATA=${DATA:-/tmp/gusu-bad-line}
ROWS=${ROWS:-26000000}
POOL=${POOL:-1GiB}
export GUSU_LANG=en
rm -rf "$DATA"; mkdir -p "$DATA"

# A first, good file: 1 million readings, imported.
"$GUSU" demo --enterprises 16000 --years 2024 --seed 7 --out "$DATA/first" --plain --readings 1000000 >/dev/null
"$GUSU" readings import "$DATA/first/readings.csv" --data "$DATA/data" --memory-limit "$POOL"

# The big file: the same city and seed with more rows (it repeats the first file's million readings,
# which are already stored, and adds the rest), cut in the middle of its last line.
"$GUSU" demo --enterprises 16000 --years 2024 --seed 7 --out "$DATA/big" --plain --readings "$ROWS" >/dev/null
big="$DATA/big/readings.csv"
size=$(stat -c %s "$big")
truncate -s $((size - 20)) "$big"
echo "== $(du -h "$big" | cut -f1) ($size bytes before the cut), last line now: $(tail -c 60 "$big")"

snapshot() { (cd "$DATA/data/readings" && find . -type f | sort | xargs sha256sum); }
snapshot > "$DATA/before.sha256"
echo "dataset before: $(wc -l < "$DATA/before.sha256") files"

set +e
/usr/bin/time -f "import: wall %e s, peak RSS %M KB, exit %x" \
  "$GUSU" readings import "$big" --data "$DATA/data" --memory-limit "$POOL" 2>&1 | tail -8
status=${PIPESTATUS[0]}
set -e
snapshot > "$DATA/after.sha256"
if cmp -s "$DATA/before.sha256" "$DATA/after.sha256" && [ ! -e "$DATA/data/.readings-staging" ]; then
  echo "dataset after: $(wc -l < "$DATA/after.sha256") files, identical listing and SHA-256; no staging left (import exit $status)"
else
  echo "DATASET CHANGED"; diff "$DATA/before.sha256" "$DATA/after.sha256" | head; exit 1
fi
[ "${KEEP:-0}" = 1 ] || rm -rf "$DATA"
