"""Checks that gusu and DuckDB agree on every enterprise: the same status, class and rank, and the
same score and indicator values, benchmarks and scores within 1e-9 relative (blank where blank).

usage: python3 bench/compare.py GUSU.csv DUCKDB.csv"""
import csv
import sys

EXACT = ("status", "class", "rank")


def load(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r["uscc"]: r for r in csv.DictReader(f)}


def same_number(x, y):
    if (x or "") == "" or (y or "") == "":
        return (x or "") == (y or "")
    a, b = float(x), float(y)
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), f"different enterprises: {len(a)} vs {len(b)}"
numeric = [c for c in next(iter(b.values())).keys() if c == "score" or c.endswith(("_value", "_benchmark", "_score"))]
bad = 0
for k, x in a.items():
    y = b[k]
    wrong = [c for c in EXACT if (x[c] or "") != (y[c] or "")]
    wrong += [c for c in numeric if not same_number(x.get(c), y.get(c))]
    if wrong:
        bad += 1
        if bad <= 5:
            print("differs:", k, {c: (x.get(c), y.get(c)) for c in wrong})
print(f"{len(a)} enterprises, {len(numeric)} numeric columns compared, {bad} differ")
sys.exit(1 if bad else 0)
