"""Monthly or yearly totals of the readings dataset with DuckDB: the same SQL as gusu's
`readings aggregate` (crates/gusu-analytics/src/aggregate.rs, fn sql) on the same Parquet files.

usage: python3 bench/duckdb_readings.py DATA_DIR month|year OUT.csv THREADS [MEMORY_LIMIT]"""
import sys

import duckdb

SQL = {
    "month": "SELECT uscc, carrier, unit, year, month, SUM(value) AS total, COUNT(*) AS readings "
    "FROM readings GROUP BY uscc, carrier, unit, year, month ORDER BY uscc, carrier, year, month",
    "year": "SELECT uscc, carrier, unit, year, SUM(value) AS total, COUNT(*) AS readings "
    "FROM readings GROUP BY uscc, carrier, unit, year ORDER BY uscc, carrier, year",
}

data, by, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
if len(sys.argv) > 5:
    con.execute(f"SET memory_limit = '{sys.argv[5]}'")
con.execute(
    "CREATE VIEW readings AS SELECT * FROM read_parquet("
    f"'{data}/readings/*/*/*.parquet', hive_partitioning = true)"
)
con.execute(f"COPY ({SQL[by]}) TO '{out}' (HEADER, DELIMITER ',')")
