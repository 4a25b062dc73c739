//! Monthly and yearly totals per enterprise and carrier, computed by Apache DataFusion over the
//! Parquet dataset.
//!
//! The engine always runs inside an explicit memory pool (`FairSpillPool` of the given size) with a
//! spill directory: operators that can spill (the grouping and the sort) write to disk when their
//! share of the pool is used up, and when even that is not enough the query ends with
//! [`AggregateError::MemoryExhausted`] instead of growing until the kernel kills the process.
//! The plan goes through `SessionContext` and SQL only, so the same query can later run on a
//! Ballista cluster (DESIGN.md principle 6). One physical-optimizer rule of ours,
//! [`RunAggregation`](crate::run_aggregate::RunAggregation), swaps the partial stage of the
//! grouping for one that sums runs of equal keys, since the files are sorted by enterprise; it
//! changes the speed, never the result, and a cluster without it runs DataFusion's own stage.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use serde::Serialize;

use crate::dataset;
use crate::run_aggregate::RunAggregation;

/// The period of a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Month,
    Year,
}

/// Consumption of one enterprise and carrier in one month or year (Asia/Shanghai calendar).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Total {
    pub uscc: String,
    pub carrier: String,
    pub year: i32,
    /// `None` for a yearly total.
    pub month: Option<u32>,
    /// In `unit`, the carrier's stored unit.
    pub total: f64,
    pub unit: String,
    /// How many readings the total sums.
    pub readings: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error(
        "the query needs more memory than the pool of {pool_bytes} bytes allows, even spilling to {spill_dir}: give a larger --memory-limit ({detail})"
    )]
    MemoryExhausted {
        pool_bytes: usize,
        spill_dir: PathBuf,
        detail: String,
    },
    #[error("{path}: {message}")]
    Dataset { path: PathBuf, message: String },
    #[error("query failed: {0}")]
    Engine(String),
    #[error("writing the totals failed: {0}")]
    Output(String),
}

/// The SQL of a granularity, over the table `readings` with partition columns `year` and `month`.
pub fn sql(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Month => {
            "SELECT uscc, carrier, unit, year, month, SUM(value) AS total, COUNT(*) AS readings \
             FROM readings GROUP BY uscc, carrier, unit, year, month \
             ORDER BY uscc, carrier, year, month"
        }
        Granularity::Year => {
            "SELECT uscc, carrier, unit, year, SUM(value) AS total, COUNT(*) AS readings \
             FROM readings GROUP BY uscc, carrier, unit, year \
             ORDER BY uscc, carrier, year"
        }
    }
}

/// Totals of the dataset under `data_dir`, with at most `pool_bytes` of query memory and spill
/// files in `spill_dir`. Uses as many threads as the machine has cores.
pub fn aggregate(
    data_dir: &Path,
    pool_bytes: usize,
    spill_dir: &Path,
    granularity: Granularity,
) -> Result<Vec<Total>, AggregateError> {
    let mut totals = Vec::new();
    aggregate_each(data_dir, pool_bytes, spill_dir, granularity, &mut |t| {
        totals.push(t);
        Ok(())
    })?;
    Ok(totals)
}

/// [`aggregate`], handing each total to `each` as the engine produces it (sorted by enterprise,
/// carrier and period) instead of collecting them, so that memory does not grow with the number
/// of totals. Returns how many there were. An error from `each` stops the query
/// ([`AggregateError::Output`]).
pub fn aggregate_each(
    data_dir: &Path,
    pool_bytes: usize,
    spill_dir: &Path,
    granularity: Granularity,
    each: &mut dyn FnMut(Total) -> Result<(), String>,
) -> Result<u64, AggregateError> {
    let dataset = dataset::readings_dir(data_dir);
    let has_files = dataset::has_files(&dataset).map_err(|e| AggregateError::Dataset {
        path: dataset.clone(),
        message: e.to_string(),
    })?;
    if !has_files {
        return Ok(0);
    }
    std::fs::create_dir_all(spill_dir).map_err(|e| AggregateError::Dataset {
        path: spill_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .build()
        .map_err(|e| AggregateError::Engine(e.to_string()))?;
    runtime.block_on(async {
        let ctx = session(&dataset, pool_bytes, spill_dir).await?;
        run(&ctx, pool_bytes, spill_dir, granularity, each).await
    })
}

/// The physical plan of a granularity's query after running it, with DataFusion's metrics (rows,
/// time and memory per operator): `EXPLAIN ANALYZE`, for profiling (`gusu readings aggregate
/// --explain`).
pub fn explain_analyze(
    data_dir: &Path,
    pool_bytes: usize,
    spill_dir: &Path,
    granularity: Granularity,
) -> Result<String, AggregateError> {
    let dataset = dataset::readings_dir(data_dir);
    std::fs::create_dir_all(spill_dir).map_err(|e| AggregateError::Dataset {
        path: spill_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .build()
        .map_err(|e| AggregateError::Engine(e.to_string()))?;
    runtime.block_on(async {
        let ctx = session(&dataset, pool_bytes, spill_dir).await?;
        let engine = |e: DataFusionError| classify(e, pool_bytes, spill_dir);
        let frame = ctx
            .sql(&format!("EXPLAIN ANALYZE {}", sql(granularity)))
            .await
            .map_err(engine)?;
        let batches = frame.collect().await.map_err(engine)?;
        // Two text columns: the plan's kind and the plan with its metrics.
        let mut text = String::new();
        for batch in &batches {
            let plan = cast(batch.column(1), &DataType::Utf8)
                .map_err(|e| AggregateError::Engine(e.to_string()))?;
            for line in plan.as_string::<i32>().iter().flatten() {
                text.push_str(line);
                text.push('\n');
            }
        }
        Ok(text)
    })
}

/// A session over the dataset as table `readings`, inside the pool. DataFusion's own settings can
/// be given in `DATAFUSION_*` environment variables (e.g. `DATAFUSION_EXECUTION_BATCH_SIZE`), for
/// profiling; the pool, spill folder and sort reservations are always ours.
async fn session(
    dataset: &Path,
    pool_bytes: usize,
    spill_dir: &Path,
) -> Result<SessionContext, AggregateError> {
    let env = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(pool_bytes)))
        .with_disk_manager_builder(
            DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![spill_dir.to_path_buf()])),
        )
        .build_arc()
        .map_err(|e| AggregateError::Engine(e.to_string()))?;
    // A sort reserves this much up front to merge its spill files (10 MiB by default): more than a
    // small pool holds. An eighth of the pool leaves the rest for the grouping and the sort itself.
    let merge_reserve = (pool_bytes / 8).clamp(64 << 10, 10 << 20);
    let config = SessionConfig::from_env()
        .map_err(|e| AggregateError::Engine(e.to_string()))?
        .with_sort_spill_reservation_bytes(merge_reserve)
        .with_sort_in_place_threshold_bytes(merge_reserve);
    // Partial aggregations over runs of equal keys (the files are sorted by enterprise):
    // see `run_aggregate`. DataFusion's own rules run first; this one only swaps the operator.
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(env)
        .with_default_features()
        .with_physical_optimizer_rule(Arc::new(RunAggregation))
        .build();
    let ctx = SessionContext::new_with_state(state);
    let engine = |e: DataFusionError| classify(e, pool_bytes, spill_dir);
    let url = format!("{}/", dataset.display());
    ctx.register_parquet(
        "readings",
        &url,
        ParquetReadOptions::default().table_partition_cols(vec![
            ("year".to_string(), DataType::Int32),
            ("month".to_string(), DataType::Int32),
        ]),
    )
    .await
    .map_err(engine)?;
    Ok(ctx)
}

async fn run(
    ctx: &SessionContext,
    pool_bytes: usize,
    spill_dir: &Path,
    granularity: Granularity,
    each: &mut dyn FnMut(Total) -> Result<(), String>,
) -> Result<u64, AggregateError> {
    let engine = |e: DataFusionError| classify(e, pool_bytes, spill_dir);
    let frame = ctx.sql(sql(granularity)).await.map_err(engine)?;
    let mut batches = frame.execute_stream().await.map_err(engine)?;
    let mut count = 0u64;
    let text = |a: &Arc<dyn Array>| {
        cast(a, &DataType::Utf8).map_err(|e| AggregateError::Engine(e.to_string()))
    };
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(engine)?;
        let uscc = text(batch.column(0))?;
        let carrier = text(batch.column(1))?;
        let unit = text(batch.column(2))?;
        let year = cast(batch.column(3), &DataType::Int32)
            .map_err(|e| AggregateError::Engine(e.to_string()))?;
        let (month, rest) = match granularity {
            Granularity::Month => (
                Some(
                    cast(batch.column(4), &DataType::Int32)
                        .map_err(|e| AggregateError::Engine(e.to_string()))?,
                ),
                5,
            ),
            Granularity::Year => (None, 4),
        };
        let total = batch.column(rest).as_primitive::<Float64Type>();
        let readings = batch.column(rest + 1).as_primitive::<Int64Type>();
        let (uscc, carrier, unit) = (
            uscc.as_string::<i32>(),
            carrier.as_string::<i32>(),
            unit.as_string::<i32>(),
        );
        let year = year.as_primitive::<Int32Type>();
        let month = month
            .as_ref()
            .map(|m| m.as_primitive::<Int32Type>().clone());
        for i in 0..batch.num_rows() {
            count += 1;
            each(Total {
                uscc: uscc.value(i).to_string(),
                carrier: carrier.value(i).to_string(),
                year: year.value(i),
                month: month.as_ref().map(|m| m.value(i) as u32),
                total: total.value(i),
                unit: unit.value(i).to_string(),
                readings: readings.value(i) as u64,
            })
            .map_err(AggregateError::Output)?;
        }
    }
    Ok(count)
}

/// A DataFusion error in the words of this crate: running out of the pool is its own error.
fn classify(error: DataFusionError, pool_bytes: usize, spill_dir: &Path) -> AggregateError {
    let root = error.find_root();
    if matches!(root, DataFusionError::ResourcesExhausted(_)) {
        return AggregateError::MemoryExhausted {
            pool_bytes,
            spill_dir: spill_dir.to_path_buf(),
            detail: root.to_string(),
        };
    }
    AggregateError::Engine(error.to_string())
}
