//! The first (partial) stage of a grouped `SUM`/`COUNT`, computed over runs of equal group keys
//! instead of through a hash table.
//!
//! The readings dataset is written sorted by (uscc, meter_id, ts) (see `import.rs`), so a scan
//! yields each enterprise's readings, meter by meter, one after the other. DataFusion's partial
//! aggregation still hashes and compares every row's keys (three strings here): 17 of about 24
//! CPU-seconds at a billion readings. [`RunAggregateExec`] instead walks each batch once, cuts it
//! where any key changes from the row before, and sums each run: one row out per run.
//!
//! It is a *partial* stage, so it is right for any input order: a key that comes back later
//! simply starts another run, and DataFusion's final stage (unchanged, after the hash
//! repartition) adds up every partial row of a group, as it does for the hash table's. Sorted
//! input only makes the runs long. Memory is bounded by the batch size (the runs of at most one
//! output batch are held), whatever the number of groups, so nothing here needs the pool.
//!
//! [`RunAggregation`] is the physical-optimizer rule that puts it in place of a partial
//! `AggregateExec` when everything it computes is covered: plain grouping (no grouping sets),
//! `SUM` over `Float64`/`Int64` and `COUNT`, without `DISTINCT`, `FILTER` or `ORDER BY`. Any other
//! aggregation keeps DataFusion's operator.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Builder, Int64Array, Int64Builder, RecordBatch,
    UInt32Array,
};
use arrow::compute::kernels::cmp::distinct;
use arrow::compute::{concat, take};
use arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::{
    ColumnarValue, DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, PlanProperties,
    RecordBatchStream, SendableRecordBatchStream,
};
use futures::{Stream, StreamExt};

/// Replaces every partial `AggregateExec` that [`RunAggregateExec`] can compute.
#[derive(Debug, Default)]
pub struct RunAggregation;

impl PhysicalOptimizerRule for RunAggregation {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(partial) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            match RunAggregateExec::try_new(Arc::new(partial.clone()))? {
                Some(runs) => Ok(Transformed::yes(Arc::new(runs) as Arc<dyn ExecutionPlan>)),
                None => Ok(Transformed::no(node)),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "run_aggregation"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// What one aggregate adds up over a run; its partial state is a single column.
#[derive(Debug, Clone)]
enum RunAggregate {
    /// `SUM` of a `Float64` argument: the sum, null when the run has no value.
    SumFloat(Arc<dyn PhysicalExpr>),
    /// `SUM` of an `Int64` argument, wrapping on overflow as DataFusion's own does.
    SumInt(Arc<dyn PhysicalExpr>),
    /// `COUNT` of the argument's non-null values (`COUNT(*)` counts a literal).
    Count(Arc<dyn PhysicalExpr>),
}

impl RunAggregate {
    fn argument(&self) -> &Arc<dyn PhysicalExpr> {
        match self {
            RunAggregate::SumFloat(e) | RunAggregate::SumInt(e) | RunAggregate::Count(e) => e,
        }
    }
}

/// The partial stage of a grouped aggregation, one output row per run of equal keys. Holds the
/// `AggregateExec` it stands for, whose output schema, partitioning and input it keeps.
#[derive(Debug)]
pub struct RunAggregateExec {
    partial: Arc<AggregateExec>,
    aggregates: Vec<RunAggregate>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl RunAggregateExec {
    /// The run aggregation for `partial`, or `None` when it computes something this operator
    /// does not (then `partial` stays as it is).
    pub fn try_new(partial: Arc<AggregateExec>) -> Result<Option<RunAggregateExec>> {
        let group_by = partial.group_expr();
        if *partial.mode() != AggregateMode::Partial
            || group_by.expr().is_empty()
            || group_by.has_grouping_set()
            || partial.filter_expr().iter().any(Option::is_some)
            || partial.limit_options().is_some()
            || !partial.dynamic_expressions_produced().is_empty()
            || *partial.input_order_mode() != InputOrderMode::Linear
            || partial.properties().output_ordering().is_some()
        {
            return Ok(None);
        }
        let input_schema = partial.input_schema();
        let mut aggregates = Vec::new();
        let mut state_types = Vec::new();
        for aggregate in partial.aggr_expr() {
            let arguments = aggregate.expressions();
            if aggregate.is_distinct() || !aggregate.order_bys().is_empty() || arguments.len() != 1
            {
                return Ok(None);
            }
            let argument = Arc::clone(&arguments[0]);
            let argument_type = argument.data_type(&input_schema)?;
            let run = match (aggregate.fun().name(), argument_type) {
                ("sum", DataType::Float64) => RunAggregate::SumFloat(argument),
                ("sum", DataType::Int64) => RunAggregate::SumInt(argument),
                ("count", _) => RunAggregate::Count(argument),
                _ => return Ok(None),
            };
            state_types.push(match run {
                RunAggregate::SumFloat(_) => DataType::Float64,
                RunAggregate::SumInt(_) | RunAggregate::Count(_) => DataType::Int64,
            });
            let states = aggregate.state_fields()?;
            if states.len() != 1 {
                return Ok(None);
            }
            aggregates.push(run);
        }
        // The partial schema is the group columns, then one state column per aggregate: they
        // must be of the types this operator writes.
        let schema = partial.schema();
        let groups = group_by.expr().len();
        if schema.fields().len() != groups + aggregates.len()
            || schema.fields()[groups..]
                .iter()
                .zip(&state_types)
                .any(|(field, t)| field.data_type() != t)
        {
            return Ok(None);
        }
        let properties = Arc::new(PlanProperties::new(
            partial.properties().eq_properties.clone(),
            partial.properties().partitioning.clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Some(RunAggregateExec {
            partial,
            aggregates,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }
}

impl DisplayAs for RunAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let groups: Vec<&str> = self
            .partial
            .group_expr()
            .expr()
            .iter()
            .map(|(_, name)| name.as_str())
            .collect();
        let aggregates: Vec<&str> = self.partial.aggr_expr().iter().map(|a| a.name()).collect();
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => write!(
                f,
                "RunAggregateExec: mode=Partial, gby=[{}], aggr=[{}]",
                groups.join(", "),
                aggregates.join(", ")
            ),
            DisplayFormatType::TreeRender => {
                writeln!(f, "gby={}", groups.join(", "))?;
                write!(f, "aggr={}", aggregates.join(", "))
            }
        }
    }
}

impl ExecutionPlan for RunAggregateExec {
    fn name(&self) -> &str {
        "RunAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.partial.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for (expr, _) in self.partial.group_expr().expr() {
            if f(expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        for aggregate in &self.aggregates {
            if f(aggregate.argument())? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    /// The aggregation rebuilt over the new input, in runs again if it still qualifies.
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        #[expect(deprecated)]
        let rebuilt = Arc::clone(&self.partial).with_new_children(children)?;
        let Some(partial) = rebuilt.downcast_ref::<AggregateExec>() else {
            return Ok(rebuilt);
        };
        match RunAggregateExec::try_new(Arc::new(partial.clone()))? {
            Some(runs) => Ok(Arc::new(runs)),
            None => Ok(rebuilt),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let batch_size = context.session_config().batch_size();
        let input = self.partial.input().execute(partition, context)?;
        Ok(Box::pin(RunAggregateStream {
            input,
            schema: self.partial.schema(),
            groups: self
                .partial
                .group_expr()
                .expr()
                .iter()
                .map(|(e, _)| Arc::clone(e))
                .collect(),
            aggregates: self.aggregates.clone(),
            batch_size,
            pending: Vec::new(),
            pending_rows: 0,
            done: false,
            metrics: BaselineMetrics::new(&self.metrics, partition),
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

struct RunAggregateStream {
    input: SendableRecordBatchStream,
    schema: SchemaRef,
    groups: Vec<Arc<dyn PhysicalExpr>>,
    aggregates: Vec<RunAggregate>,
    batch_size: usize,
    /// Partial rows not yet sent: one set of columns per input batch.
    pending: Vec<Vec<ArrayRef>>,
    pending_rows: usize,
    done: bool,
    metrics: BaselineMetrics,
}

impl RunAggregateStream {
    /// Cuts `batch` into runs and keeps one partial row per run.
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        let keys = self
            .groups
            .iter()
            .map(|e| e.evaluate(batch)?.into_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let starts = UInt32Array::from(run_starts(&keys, rows)?);
        let mut columns = Vec::with_capacity(keys.len() + self.aggregates.len());
        for key in &keys {
            columns.push(take(key, &starts, None)?);
        }
        for aggregate in &self.aggregates {
            let argument = aggregate.argument().evaluate(batch)?;
            columns.push(fold_runs(aggregate, &argument, starts.values(), rows)?);
        }
        self.pending_rows += starts.len();
        self.pending.push(columns);
        Ok(())
    }

    /// The pending partial rows as one batch.
    fn flush(&mut self) -> Result<RecordBatch> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        let columns = (0..self.schema.fields().len())
            .map(|c| {
                let parts: Vec<&dyn Array> = pending.iter().map(|p| p[c].as_ref()).collect();
                concat(&parts)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

impl Stream for RunAggregateStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            let next = match self.input.poll_next_unpin(cx) {
                Poll::Ready(next) => next,
                Poll::Pending => return Poll::Pending,
            };
            let elapsed = self.metrics.elapsed_compute().clone();
            let timer = elapsed.timer();
            let result = match next {
                Some(Ok(batch)) => match self.add(&batch) {
                    Ok(()) if self.pending_rows >= self.batch_size => self.flush(),
                    Ok(()) => continue,
                    Err(e) => Err(e),
                },
                Some(Err(e)) => Err(e),
                None => {
                    self.done = true;
                    if self.pending_rows == 0 {
                        return self.metrics.record_poll(Poll::Ready(None));
                    }
                    self.flush()
                }
            };
            timer.done();
            return self.metrics.record_poll(Poll::Ready(Some(result)));
        }
    }
}

impl RecordBatchStream for RunAggregateStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

/// The first row of every run: 0, then each row whose keys differ from the row before in any
/// column (two nulls are equal, as in `GROUP BY`).
fn run_starts(keys: &[ArrayRef], rows: usize) -> Result<Vec<u32>> {
    let mut changed = vec![false; rows];
    changed[0] = true;
    for key in keys {
        mark_changes(key, &mut changed)?;
    }
    Ok(changed
        .iter()
        .enumerate()
        .filter(|(_, c)| **c)
        .map(|(i, _)| i as u32)
        .collect())
}

/// Sets `changed[i]` where `key[i]` differs from `key[i - 1]`.
fn mark_changes(key: &ArrayRef, changed: &mut [bool]) -> Result<()> {
    let rows = key.len();
    if rows < 2 {
        return Ok(());
    }
    // Strings read from Parquet as views: equal values of one dictionary page share one view,
    // so comparing the 16-byte views settles almost every row; unequal views are checked on the
    // bytes (the same string can sit at two places).
    if *key.data_type() == DataType::Utf8View && key.null_count() == 0 {
        let strings = key.as_string_view();
        let views = strings.views();
        for i in 1..rows {
            if !changed[i] && views[i] != views[i - 1] {
                let (len, prev_len) = (views[i] as u32, views[i - 1] as u32);
                changed[i] = len != prev_len
                    || len <= 12 // inlined: the view is the whole string
                    || strings.value(i) != strings.value(i - 1);
            }
        }
        return Ok(());
    }
    let differs: BooleanArray = distinct(&key.slice(1, rows - 1), &key.slice(0, rows - 1))?;
    for (i, d) in differs.values().iter().enumerate() {
        changed[i + 1] |= d;
    }
    Ok(())
}

/// One partial state per run of `starts` (each run ends where the next starts, the last at
/// `rows`).
fn fold_runs(
    aggregate: &RunAggregate,
    argument: &ColumnarValue,
    starts: &[u32],
    rows: usize,
) -> Result<ArrayRef> {
    let ends = starts.iter().skip(1).map(|e| *e as usize).chain([rows]);
    let runs = starts.iter().map(|s| *s as usize).zip(ends);
    let values = match argument {
        ColumnarValue::Array(a) => Some(Arc::clone(a)),
        ColumnarValue::Scalar(s) if s.is_null() => None,
        // `COUNT(*)` counts a literal: every row, without making an array of it.
        ColumnarValue::Scalar(_) if matches!(aggregate, RunAggregate::Count(_)) => {
            let counts: Vec<i64> = runs.map(|(s, e)| (e - s) as i64).collect();
            return Ok(Arc::new(Int64Array::from(counts)));
        }
        ColumnarValue::Scalar(s) => Some(s.to_array_of_size(rows)?),
    };
    Ok(match aggregate {
        RunAggregate::Count(_) => {
            let mut out = Int64Builder::with_capacity(starts.len());
            for (s, e) in runs {
                let valid = match &values {
                    None => 0,
                    Some(v) if v.null_count() == 0 => e - s,
                    Some(v) => (e - s) - v.slice(s, e - s).null_count(),
                };
                out.append_value(valid as i64);
            }
            Arc::new(out.finish())
        }
        RunAggregate::SumFloat(_) => {
            let mut out = Float64Builder::with_capacity(starts.len());
            let values = values.as_ref().map(|v| v.as_primitive::<Float64Type>());
            for (s, e) in runs {
                match values {
                    Some(v) if v.null_count() == 0 => {
                        out.append_value(v.values()[s..e].iter().sum());
                    }
                    Some(v) => out.append_option(
                        v.slice(s, e - s)
                            .iter()
                            .flatten()
                            .fold(None, |acc: Option<f64>, x| Some(acc.unwrap_or(0.0) + x)),
                    ),
                    None => out.append_null(),
                }
            }
            Arc::new(out.finish())
        }
        RunAggregate::SumInt(_) => {
            let mut out = Int64Builder::with_capacity(starts.len());
            let values = values.as_ref().map(|v| v.as_primitive::<Int64Type>());
            for (s, e) in runs {
                let sum = values.and_then(|v| {
                    v.slice(s, e - s)
                        .iter()
                        .flatten()
                        .fold(None, |acc: Option<i64>, x| {
                            Some(acc.unwrap_or(0).wrapping_add(x))
                        })
                });
                out.append_option(sum);
            }
            Arc::new(out.finish())
        }
    })
}
