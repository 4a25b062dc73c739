"""Checks that gusu and DuckDB agree: same status, class and rank for every enterprise, and scores
within 1e-9 relative. usage: python3 bench/compare.py GUSU.csv DUCKDB.csv"""
import csv
import sys


def load(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r["uscc"]: r for r in csv.DictReader(f)}


a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), f"different enterprises: {len(a)} vs {len(b)}"
bad = 0
for k, x in a.items():
    y = b[k]
    same = x["status"] == y["status"] and (x["class"] or "") == (y["class"] or "") and (x["rank"] or "") == (y["rank"] or "")
    if x["score"] and y["score"]:
        sx, sy = float(x["score"]), float(y["score"])
        same = same and abs(sx - sy) <= 1e-9 * max(1.0, abs(sy))
    elif (x["score"] or "") != (y["score"] or ""):
        same = False
    if not same:
        bad += 1
        if bad <= 5:
            print("differs:", k, {c: (x[c], y[c]) for c in ("status", "class", "rank", "score")})
print(f"{len(a)} enterprises, {bad} differ")
sys.exit(1 if bad else 0)
