"""Runs bench/jiangsu_standard.sql in DuckDB on the same files and threads as `gusu evaluate`.

usage: python3 bench/duckdb_evaluate.py ENTERPRISES ANNUAL YEAR OUT [THREADS]
"""
import pathlib
import sys

import duckdb

enterprises, annual, year, out = sys.argv[1:5]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
sql = (pathlib.Path(__file__).with_name("jiangsu_standard.sql").read_text()
       .replace("{ENTERPRISES}", enterprises).replace("{ANNUAL}", annual)
       .replace("{YEAR}", str(int(year))).replace("{OUT}", out))
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(sql)
