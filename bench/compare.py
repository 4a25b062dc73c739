"""Checks that gusu and DuckDB agree on every enterprise: the same status, class and rank, and the
same score and indicator values, benchmarks and scores within 1e-9 relative (blank where blank).

Two enterprises whose scores agree within that tolerance are tied for the comparison: the two
programs sum in different orders, so their last bits (1e-15) can order such a pair either way. A
rank that differs by no more than the number of enterprises tied with it in its group is counted
as a tie, reported apart, and not as a difference.

usage: python3 bench/compare.py GUSU.csv DUCKDB.csv"""
import bisect
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
# Graded scores by group, sorted, to count the enterprises tied with one.
scores = {}
for x in a.values():
    if x["score"]:
        scores.setdefault(x["group"], []).append(float(x["score"]))
for v in scores.values():
    v.sort()


def tied_with(x):
    s = float(x["score"])
    group = scores[x["group"]]
    tol = 1e-9 * max(1.0, abs(s))
    return bisect.bisect_right(group, s + tol) - bisect.bisect_left(group, s - tol) - 1


bad = ties = 0
for k, x in a.items():
    y = b[k]
    wrong = [c for c in EXACT if (x[c] or "") != (y[c] or "")]
    if wrong == ["rank"] and x["score"] and abs(int(x["rank"]) - int(y["rank"])) <= tied_with(x):
        ties += 1
        wrong = []
    wrong += [c for c in numeric if not same_number(x.get(c), y.get(c))]
    if wrong:
        bad += 1
        if bad <= 5:
            print("differs:", k, {c: (x.get(c), y.get(c)) for c in wrong})
print(f"{len(a)} enterprises, {len(numeric)} numeric columns compared, {bad} differ"
      f" ({ties} ranks among scores tied within 1e-9 ordered differently)")
sys.exit(1 if bad else 0)
