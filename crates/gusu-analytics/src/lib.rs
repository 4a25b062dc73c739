//! gusu-analytics: metered energy readings at scale.
//!
//! - [`import_file`] validates a readings file (CSV or Parquet: `uscc, meter_id, carrier, ts, value,
//!   unit`) and adds its new readings to a Parquet dataset under `<data>/readings/`, partitioned
//!   Hive-style by the Asia/Shanghai month each reading counts towards (`year=2024/month=03/`);
//!   all or nothing per file.
//! - [`aggregate`] sums the dataset to monthly or yearly totals per enterprise and carrier with
//!   Apache DataFusion, inside an explicit memory pool with a spill directory.
//!
//! Kept in its own crate so that only the `gusu` binary pays DataFusion's build time.

pub mod aggregate;
pub mod bulk;
pub mod carrier;
pub mod dataset;
pub mod gaps;
pub mod import;
pub mod run_aggregate;
pub mod sort;
pub mod time;

pub use aggregate::{
    AggregateError, Granularity, Total, aggregate, aggregate_each, explain_analyze,
};
pub use gaps::Gap;
pub use import::{ImportError, ImportOptions, ImportOutcome, import_file, import_file_with};
