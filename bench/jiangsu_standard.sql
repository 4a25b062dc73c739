-- The jiangsu-standard scheme (rules/evaluation/jiangsu-standard.toml; its published sources in docs/sources.md) as one DuckDB query, for side-by-side benchmarks
-- with `gusu evaluate`. Same inputs (the plain files of `gusu demo --out DIR --plain`), same output
-- columns as far as the comparison needs. Placeholders: {ENTERPRISES}, {ANNUAL}, {YEAR}, {OUT}.
COPY (
WITH e AS (
  SELECT uscc, name, district, substr(regexp_replace(industry_code, '^[A-Za-z]', ''), 1, 2) AS division,
         TRY_CAST(land_area_mu AS DOUBLE) AS land,
         lower(trim(above_scale)) IN ('true', '1', '是') AS above,
         CAST(established AS DATE) AS established,
         coalesce(lower(trim(exempt)) IN ('true', '1', '是'), false) AS exempt
  FROM read_csv('{ENTERPRISES}', header = true, all_varchar = true)
),
a AS (
  SELECT * FROM read_csv('{ANNUAL}', header = true,
    types = {'uscc': 'VARCHAR', 'year': 'INTEGER', 'revenue_10k_yuan': 'DOUBLE', 'tax_paid_10k_yuan': 'DOUBLE',
             'value_added_10k_yuan': 'DOUBLE', 'energy_tce': 'DOUBLE', 'electricity_kwh': 'DOUBLE',
             'cod_t': 'DOUBLE', 'ammonia_n_t': 'DOUBLE', 'so2_t': 'DOUBLE', 'nox_t': 'DOUBLE',
             'rd_expense_10k_yuan': 'DOUBLE', 'employees': 'DOUBLE'})
  WHERE year = {YEAR}
),
j AS (
  SELECT e.*, a.uscc IS NOT NULL AS has_record,
         CASE WHEN above THEN 'above' ELSE 'below' END AS grp,
         a.tax_paid_10k_yuan AS tax, a.revenue_10k_yuan AS rev, a.value_added_10k_yuan AS va,
         a.energy_tce AS energy, a.electricity_kwh AS kwh, a.employees AS emp, a.rd_expense_10k_yuan AS rd,
         CASE WHEN a.cod_t IS NULL AND a.ammonia_n_t IS NULL AND a.so2_t IS NULL AND a.nox_t IS NULL THEN NULL
              ELSE coalesce(a.cod_t, 0) / 1.0 + coalesce(a.ammonia_n_t, 0) / 0.8
                 + coalesce(a.so2_t, 0) / 0.95 + coalesce(a.nox_t, 0) / 0.95 END AS load
  FROM e LEFT JOIN a USING (uscc)
),
s AS (
  SELECT *,
    CASE WHEN exempt OR division IN ('44', '45', '46') OR year(established) > {YEAR} - 2 THEN 'exempt'
         WHEN NOT above AND land IS NOT NULL AND land < 3 THEN 'out_of_scope'
         WHEN NOT has_record OR land IS NULL OR land <= 0 OR tax IS NULL THEN 'missing_data'
         ELSE 'graded' END AS status
  FROM j
),
-- Numerator and denominator of each indicator slot: above uses i1..i6, below i1 and i7.
p AS (
  SELECT *,
    tax AS n1, land AS d1,
    rev AS n2, land AS d2,
    tax AS n3, energy AS d3,
    tax AS n4, load AS d4,
    va AS n5, emp AS d5,
    rd AS n6, rev AS d6,
    tax * 10000 AS n7, kwh AS d7
  FROM s WHERE status = 'graded'
),
b AS (
  SELECT grp,
    sum(n1) FILTER (WHERE n1 IS NOT NULL AND d1 > 0) / sum(d1) FILTER (WHERE n1 IS NOT NULL AND d1 > 0) AS b1,
    sum(n2) FILTER (WHERE n2 IS NOT NULL AND d2 > 0) / sum(d2) FILTER (WHERE n2 IS NOT NULL AND d2 > 0) AS b2,
    sum(n3) FILTER (WHERE n3 IS NOT NULL AND d3 > 0) / sum(d3) FILTER (WHERE n3 IS NOT NULL AND d3 > 0) AS b3,
    sum(n4) FILTER (WHERE n4 IS NOT NULL AND d4 > 0) / sum(d4) FILTER (WHERE n4 IS NOT NULL AND d4 > 0) AS b4,
    sum(n5) FILTER (WHERE n5 IS NOT NULL AND d5 > 0) / sum(d5) FILTER (WHERE n5 IS NOT NULL AND d5 > 0) AS b5,
    sum(n6) FILTER (WHERE n6 IS NOT NULL AND d6 > 0) / sum(d6) FILTER (WHERE n6 IS NOT NULL AND d6 > 0) AS b6,
    sum(n7) FILTER (WHERE n7 IS NOT NULL AND d7 > 0) / sum(d7) FILTER (WHERE n7 IS NOT NULL AND d7 > 0) AS b7
  FROM p GROUP BY grp
),
raw AS (
  SELECT p.uscc, p.grp, b1, b2, b3, b4, b5, b6, b7,
    CASE WHEN n1 IS NOT NULL AND d1 > 0 THEN n1 / d1 END AS x1,
    CASE WHEN n2 IS NOT NULL AND d2 > 0 THEN n2 / d2 END AS x2,
    CASE WHEN n3 IS NOT NULL AND d3 > 0 THEN n3 / d3 END AS x3,
    CASE WHEN n4 IS NOT NULL AND d4 > 0 THEN n4 / d4 END AS x4,
    CASE WHEN n5 IS NOT NULL AND d5 > 0 THEN n5 / d5 END AS x5,
    CASE WHEN n6 IS NOT NULL AND d6 > 0 THEN n6 / d6 END AS x6,
    CASE WHEN n7 IS NOT NULL AND d7 > 0 THEN n7 / d7 END AS x7,
    CASE WHEN n1 IS NOT NULL AND d1 > 0 THEN CASE WHEN b1 > 0 THEN (n1 / d1) / b1 ELSE 0 END END AS r1,
    CASE WHEN n2 IS NOT NULL AND d2 > 0 THEN CASE WHEN b2 > 0 THEN (n2 / d2) / b2 ELSE 0 END END AS r2,
    CASE WHEN n3 IS NOT NULL AND d3 > 0 THEN CASE WHEN b3 > 0 THEN (n3 / d3) / b3 ELSE 0 END END AS r3,
    CASE WHEN n4 IS NOT NULL AND d4 > 0 THEN CASE WHEN b4 > 0 THEN (n4 / d4) / b4 ELSE 0 END END AS r4,
    CASE WHEN n5 IS NOT NULL AND d5 > 0 THEN CASE WHEN b5 > 0 THEN (n5 / d5) / b5 ELSE 0 END END AS r5,
    CASE WHEN n6 IS NOT NULL AND d6 > 0 THEN CASE WHEN b6 > 0 THEN (n6 / d6) / b6 ELSE 0 END END AS r6,
    CASE WHEN n7 IS NOT NULL AND d7 > 0 THEN CASE WHEN b7 > 0 THEN (n7 / d7) / b7 ELSE 0 END END AS r7
  FROM p JOIN b USING (grp)
),
w AS (
  -- Scores w·(x/B); weights by group.
  SELECT uscc, grp, b1, b2, b3, b4, b5, b6, b7, x1, x2, x3, x4, x5, x6, x7,
    CASE WHEN grp = 'above' THEN 40 ELSE 50 END * r1 AS s1,
    CASE WHEN grp = 'above' THEN 20 * r2 END AS s2,
    CASE WHEN grp = 'above' THEN 10 * r3 END AS s3,
    CASE WHEN grp = 'above' THEN 10 * r4 END AS s4,
    CASE WHEN grp = 'above' THEN 10 * r5 END AS s5,
    CASE WHEN grp = 'above' THEN 10 * r6 END AS s6,
    CASE WHEN grp = 'below' THEN 50 * r7 END AS s7
  FROM raw
),
t AS (
  -- A value that cannot be computed scores the group mean of that indicator's scores.
  SELECT uscc, grp, b1, b2, b3, b4, b5, b6, b7, x1, x2, x3, x4, x5, x6, x7,
    coalesce(s1, avg(s1) OVER g, 0) AS f1,
    CASE WHEN grp = 'above' THEN coalesce(s2, avg(s2) OVER g, 0) END AS f2,
    CASE WHEN grp = 'above' THEN coalesce(s3, avg(s3) OVER g, 0) END AS f3,
    CASE WHEN grp = 'above' THEN coalesce(s4, avg(s4) OVER g, 0) END AS f4,
    CASE WHEN grp = 'above' THEN coalesce(s5, avg(s5) OVER g, 0) END AS f5,
    CASE WHEN grp = 'above' THEN coalesce(s6, avg(s6) OVER g, 0) END AS f6,
    CASE WHEN grp = 'below' THEN coalesce(s7, avg(s7) OVER g, 0) END AS f7,
    -- Summed left to right in the scheme's indicator order, as gusu does (a tie is an exact tie).
    coalesce(s1, avg(s1) OVER g, 0) + coalesce(s2, avg(s2) OVER g, 0) + coalesce(s3, avg(s3) OVER g, 0)
      + coalesce(s4, avg(s4) OVER g, 0) + coalesce(s5, avg(s5) OVER g, 0) + coalesce(s6, avg(s6) OVER g, 0)
      + coalesce(s7, avg(s7) OVER g, 0) AS score
  FROM w WINDOW g AS (PARTITION BY grp)
),
r AS (
  SELECT *, rank() OVER (PARTITION BY grp ORDER BY score DESC) AS rank, count(*) OVER (PARTITION BY grp) AS n
  FROM t
)
SELECT s.uscc, s.name, s.district, s.division AS industry_division, s.grp AS "group", s.status,
  CASE WHEN r.uscc IS NULL THEN NULL
       WHEN (r.rank - 1) / r.n < 0.20 THEN 'A' WHEN (r.rank - 1) / r.n < 0.60 THEN 'B'
       WHEN (r.rank - 1) / r.n < 0.95 THEN 'C' ELSE 'D' END AS class,
  r.score, r.rank,
  -- The same indicator columns as gusu writes (value, benchmark, score per indicator of the group).
  r.x1 AS tax_per_mu_value, r.b1 AS tax_per_mu_benchmark, r.f1 AS tax_per_mu_score,
  CASE WHEN r.grp = 'above' THEN r.x2 END AS revenue_per_mu_value, CASE WHEN r.grp = 'above' THEN r.b2 END AS revenue_per_mu_benchmark, r.f2 AS revenue_per_mu_score,
  CASE WHEN r.grp = 'above' THEN r.x3 END AS tax_per_energy_value, CASE WHEN r.grp = 'above' THEN r.b3 END AS tax_per_energy_benchmark, r.f3 AS tax_per_energy_score,
  CASE WHEN r.grp = 'above' THEN r.x4 END AS tax_per_pollutant_value, CASE WHEN r.grp = 'above' THEN r.b4 END AS tax_per_pollutant_benchmark, r.f4 AS tax_per_pollutant_score,
  CASE WHEN r.grp = 'above' THEN r.x5 END AS labour_productivity_value, CASE WHEN r.grp = 'above' THEN r.b5 END AS labour_productivity_benchmark, r.f5 AS labour_productivity_score,
  CASE WHEN r.grp = 'above' THEN r.x6 END AS rd_intensity_value, CASE WHEN r.grp = 'above' THEN r.b6 END AS rd_intensity_benchmark, r.f6 AS rd_intensity_score,
  CASE WHEN r.grp = 'below' THEN r.x7 END AS tax_per_kwh_value, CASE WHEN r.grp = 'below' THEN r.b7 END AS tax_per_kwh_benchmark, r.f7 AS tax_per_kwh_score
FROM s LEFT JOIN r USING (uscc)
) TO '{OUT}' (HEADER, DELIMITER ',');
