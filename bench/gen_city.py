"""A second generator of evaluation inputs, independent of `gusu demo`: N enterprises and their
2024 figures as the interchange CSV files, with what real files have and the demo's files have
less of: blank cells (a department that did not send a figure), zeros and negative tax that gusu
warns about, exempt enterprises, below-scale enterprises with few figures, enterprises with no
yearly row at all, districts written by name or alias. Every value is one that
bench/jiangsu_standard.sql reads the same way, so the DuckDB side of the benchmark runs on the
same files.

usage: python3 bench/gen_city.py N OUT_DIR [SEED]
writes OUT_DIR/enterprises.csv and OUT_DIR/annual.csv (UTF-8 with BOM, as Excel writes)
"""
import csv
import os
import random
import sys

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# (code, ways the district is written)
DISTRICTS = [
    ("320508", ["320508", "姑苏区", "姑苏"]),
    ("320505", ["320505", "虎丘区", "苏州高新区"]),
    ("320506", ["320506", "吴中区"]),
    ("320507", ["320507", "相城区"]),
    ("320509", ["320509", "吴江区"]),
    ("320571", ["320571", "苏州工业园区", "工业园区"]),
    ("320581", ["320581", "常熟市"]),
    ("320582", ["320582", "张家港市"]),
    ("320583", ["320583", "昆山市", "Kunshan"]),
    ("320585", ["320585", "太仓市"]),
]
# Four-digit GB/T 4754-2017 manufacturing classes common in the city.
CLASSES = ["3911", "3982", "3411", "3484", "2614", "2651", "3311", "3340", "1713", "1751",
           "2929", "3821", "3562", "3663", "4011", "2710", "3130", "3670", "3976", "2438"]


def uscc(division, i):
    body = f"91{division}{i:09d}"
    total = sum(CHARS.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHARS[(31 - total % 31) % 31]


def figure(rng, value, blank=0.04, zero=0.005):
    r = rng.random()
    if r < blank:
        return ""
    if r < blank + zero:
        return "0"
    return f"{value:.2f}"


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "enterprises.csv"), "w", newline="", encoding="utf-8-sig") as ef, \
            open(os.path.join(out, "annual.csv"), "w", newline="", encoding="utf-8-sig") as af:
        ew = csv.writer(ef)
        aw = csv.writer(af)
        ew.writerow(["uscc", "name", "district", "industry_code", "land_area_mu", "above_scale",
                     "established", "exempt"])
        aw.writerow(["uscc", "year", "tax_paid_10k_yuan", "revenue_10k_yuan", "energy_tce",
                     "cod_t", "value_added_10k_yuan", "employees", "rd_expense_10k_yuan",
                     "electricity_kwh", "ammonia_n_t", "so2_t", "nox_t"])
        for i in range(n):
            division, names = DISTRICTS[rng.randrange(len(DISTRICTS))]
            code = uscc(division, i + 1)
            above = rng.random() < 0.6
            land = rng.lognormvariate(2.6 if above else 1.6, 0.8)
            year = rng.randrange(1990, 2023)
            month, day = rng.randrange(1, 13), rng.randrange(1, 29)
            established = f"{year}-{month:02d}-{day:02d}"
            exempt = "是" if rng.random() < 0.02 else rng.choice(["", "否", "0"])
            ew.writerow([code, f"苏州测试{i + 1}号制造有限公司", rng.choice(names),
                         rng.choice(CLASSES), figure(rng, land, blank=0.01, zero=0.003),
                         "是" if above else rng.choice(["否", "0", "false"]), established, exempt])
            # One enterprise in a hundred has no yearly row: missing data.
            if rng.random() < 0.01:
                continue
            scale = land * rng.lognormvariate(0.0, 0.7)
            revenue = scale * rng.lognormvariate(5.5, 0.6)
            tax = revenue * rng.uniform(0.01, 0.08)
            # A refund larger than the tax paid: negative, which gusu warns about.
            if rng.random() < 0.003:
                tax = -tax * 0.1
            if above:
                row = [code, "2024", figure(rng, tax), figure(rng, revenue),
                       figure(rng, revenue * rng.uniform(0.002, 0.05)),
                       figure(rng, revenue * rng.uniform(0.00001, 0.0005), blank=0.15),
                       figure(rng, revenue * rng.uniform(0.15, 0.35)),
                       str(max(1, int(revenue / rng.uniform(50, 200)))),
                       figure(rng, revenue * rng.uniform(0.0, 0.06), blank=0.1),
                       figure(rng, revenue * rng.uniform(20, 400)),
                       figure(rng, revenue * rng.uniform(0.000001, 0.00005), blank=0.3),
                       figure(rng, revenue * rng.uniform(0.00001, 0.0002), blank=0.3),
                       figure(rng, revenue * rng.uniform(0.00001, 0.0002), blank=0.3)]
            else:
                row = [code, "2024", figure(rng, tax, blank=0.06), "", "", "", "", "", "",
                       figure(rng, revenue * rng.uniform(20, 400), blank=0.2), "", "", ""]
            aw.writerow(row)


if __name__ == "__main__":
    main()
