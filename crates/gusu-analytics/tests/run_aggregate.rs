//! The run aggregation gives the totals DataFusion's own hash aggregation gives, whatever the
//! order of the rows, their nulls and how they are cut into batches and partitions; and it is the
//! operator the readings queries actually run.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StringViewArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use gusu_analytics::run_aggregate::RunAggregation;
use proptest::prelude::*;

/// A row: two string keys (one short enough to sit inside a view, one not), an integer key, and
/// a float and an integer value; `None` is NULL.
type Row = (
    Option<&'static str>,
    Option<&'static str>,
    i32,
    Option<f64>,
    Option<i64>,
);

const SHORT: [&str; 3] = ["kwh", "m3", "t"];
const LONG: [&str; 3] = [
    "91320500MA1XXXXXX1",
    "91320500MA1XXXXXX2",
    "a key longer than twelve bytes",
];

fn row() -> impl Strategy<Value = Row> {
    (
        prop::option::weighted(0.9, prop::sample::select(&LONG[..])),
        prop::option::weighted(0.9, prop::sample::select(&SHORT[..])),
        2023..2025i32,
        prop::option::weighted(0.9, -1e6..1e6f64),
        prop::option::weighted(0.9, -1000..1000i64),
    )
}

/// The rows as a table of `partitions` partitions of batches of at most `batch` rows, the
/// string keys as views (as Parquet is read) or as plain strings.
fn table(rows: &[Row], partitions: usize, batch: usize, views: bool) -> MemTable {
    let string_type = if views {
        DataType::Utf8View
    } else {
        DataType::Utf8
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("who", string_type.clone(), true),
        Field::new("unit", string_type.clone(), true),
        Field::new("year", DataType::Int32, false),
        Field::new("value", DataType::Float64, true),
        Field::new("n", DataType::Int64, true),
    ]));
    let strings = |values: Vec<Option<&str>>| -> ArrayRef {
        let plain: ArrayRef = Arc::new(StringArray::from(values));
        if views {
            Arc::new(StringViewArray::from(plain.as_string::<i32>()))
        } else {
            plain
        }
    };
    let mut parts = vec![Vec::new(); partitions];
    for (i, chunk) in rows.chunks(batch.max(1)).enumerate() {
        let columns: Vec<ArrayRef> = vec![
            strings(chunk.iter().map(|r| r.0).collect()),
            strings(chunk.iter().map(|r| r.1).collect()),
            Arc::new(Int32Array::from_iter_values(chunk.iter().map(|r| r.2))),
            Arc::new(Float64Array::from_iter(chunk.iter().map(|r| r.3))),
            Arc::new(Int64Array::from_iter(chunk.iter().map(|r| r.4))),
        ];
        parts[i % partitions].push(RecordBatch::try_new(schema.clone(), columns).unwrap());
    }
    MemTable::try_new(schema, parts).unwrap()
}

const SQL: &str = "SELECT who, unit, year, SUM(value) AS s, SUM(n) AS si, COUNT(*) AS c, \
                   COUNT(value) AS cv FROM t GROUP BY who, unit, year ORDER BY who, unit, year";

/// A session of two partitions over `table` as `t`, with or without the rule.
fn session(table: MemTable, with_rule: bool) -> SessionContext {
    let mut builder = SessionStateBuilder::new()
        .with_config(SessionConfig::new().with_target_partitions(2))
        .with_default_features();
    if with_rule {
        builder = builder.with_physical_optimizer_rule(Arc::new(RunAggregation));
    }
    let ctx = SessionContext::new_with_state(builder.build());
    ctx.register_table("t", Arc::new(table)).unwrap();
    ctx
}

/// The query's result as text rows, and the physical plan, with or without the rule.
fn run(table: MemTable, with_rule: bool) -> (Vec<String>, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let ctx = session(table, with_rule);
        let frame = ctx.sql(SQL).await.unwrap();
        let plan = frame.clone().create_physical_plan().await.unwrap();
        let plan = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        let batches = frame.collect().await.unwrap();
        let mut rows = Vec::new();
        for b in &batches {
            let text = |c: usize| cast(b.column(c), &DataType::Utf8).unwrap();
            let (who, unit) = (text(0), text(1));
            let (who, unit) = (who.as_string::<i32>(), unit.as_string::<i32>());
            let year = b.column(2).as_primitive::<arrow::datatypes::Int32Type>();
            let s = b.column(3).as_primitive::<Float64Type>();
            let si = b.column(4).as_primitive::<Int64Type>();
            let c = b.column(5).as_primitive::<Int64Type>();
            let cv = b.column(6).as_primitive::<Int64Type>();
            for i in 0..b.num_rows() {
                // Sums are rounded to 6 significant digits: the two operators add in different
                // orders.
                let sum = (!s.is_null(i)).then(|| format!("{:.6e}", s.value(i)));
                rows.push(format!(
                    "{:?} {:?} {} {:?} {:?} {} {}",
                    (!who.is_null(i)).then(|| who.value(i)),
                    (!unit.is_null(i)).then(|| unit.value(i)),
                    year.value(i),
                    sum,
                    (!si.is_null(i)).then(|| si.value(i)),
                    c.value(i),
                    cv.value(i),
                ));
            }
        }
        (rows, plan)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Sorted or not, in views or plain strings, in any batches: the same groups and totals.
    /// (Two partitions at least: a single one is aggregated in one stage, with no partial one.)
    #[test]
    fn runs_total_what_the_hash_table_totals(
        mut rows in prop::collection::vec(row(), 1..400),
        sorted in any::<bool>(),
        views in any::<bool>(),
        partitions in 2..5usize,
        batch in 1..64usize,
    ) {
        if sorted {
            rows.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        }
        let (expected, plain_plan) = run(table(&rows, partitions, batch, views), false);
        let (got, run_plan) = run(table(&rows, partitions, batch, views), true);
        prop_assert!(!plain_plan.contains("RunAggregateExec"));
        prop_assert!(run_plan.contains("RunAggregateExec"), "{}", run_plan);
        prop_assert_eq!(got, expected);
    }
}

/// Grouping the rule does not cover keeps DataFusion's operator.
#[test]
fn other_aggregates_keep_the_hash_aggregation() {
    let rows: Vec<Row> = vec![(Some(LONG[0]), Some(SHORT[0]), 2024, Some(1.0), Some(1))];
    for sql in [
        "SELECT who, MAX(value) FROM t GROUP BY who",
        "SELECT who, AVG(value) FROM t GROUP BY who",
        "SELECT who, SUM(value) FILTER (WHERE n > 0) FROM t GROUP BY who",
        "SELECT SUM(value) FROM t",
    ] {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let plan = runtime.block_on(async {
            let plan = session(table(&rows, 2, 1, true), true)
                .sql(sql)
                .await
                .unwrap()
                .create_physical_plan()
                .await
                .unwrap();
            datafusion::physical_plan::displayable(plan.as_ref())
                .indent(false)
                .to_string()
        });
        assert!(!plan.contains("RunAggregateExec"), "{sql}:\n{plan}");
        assert!(plan.contains("AggregateExec"), "{sql}:\n{plan}");
    }
}
