"""Checks that gusu's and DuckDB's readings totals agree: the same keys, totals within 1e-9 relative,
the same reading counts.

usage: python3 bench/compare_readings.py GUSU.csv DUCKDB.csv"""
import csv
import sys


def load(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {
            (r["uscc"], r["carrier"], int(r["year"]), int(r["month"]) if r.get("month") else None): (
                float(r["total"]),
                int(r["readings"]),
            )
            for r in csv.DictReader(f)
        }


a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), f"different keys: {len(a)} vs {len(b)}"
bad = [k for k in a if a[k][1] != b[k][1] or abs(a[k][0] - b[k][0]) > 1e-9 * max(1.0, abs(b[k][0]))]
for k in bad[:5]:
    print("differs:", k, a[k], b[k])
print(f"{len(a)} totals compared, {len(bad)} differ")
sys.exit(1 if bad else 0)
