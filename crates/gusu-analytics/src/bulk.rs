//! Writing readings straight into the dataset, without the import's checks: for generated
//! benchmark sets (`gusu demo --out DIR --readings N --readings-format parquet`), valid by
//! construction and too large to go through a CSV file (a billion readings are 65 GB of CSV).
//!
//! Files are staged and moved into their partitions on [`BulkWriter::finish`], like an import's,
//! but no lock is taken and nothing is compared with what is stored: use it on a fresh data
//! directory only. Several writers may work at once on different months.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use gusu_core::carbon::Carrier;

use crate::carrier::{METERED, Metered};
use crate::dataset;
use crate::import::{ImportError, PartitionSink};
use crate::time::MonthCache;

/// Rows handed to the Parquet writer at a time.
const BATCH_ROWS: usize = 65_536;

static WRITER_SEQ: AtomicU32 = AtomicU32::new(0);

/// Appends readings to new part files, one per month touched.
pub struct BulkWriter {
    dataset: PathBuf,
    staging: PathBuf,
    sorted: bool,
    months: MonthCache,
    sinks: BTreeMap<(i32, u32), PartitionSink>,
    rows: u64,
}

impl BulkWriter {
    /// A writer into the dataset of `data_dir`. With `sorted`, the caller promises rows in
    /// (uscc, meter_id, ts) order within each month, and the files say so in their metadata.
    pub fn create(data_dir: &Path, sorted: bool) -> Result<BulkWriter, ImportError> {
        let seq = WRITER_SEQ.fetch_add(1, Ordering::Relaxed);
        let staging =
            dataset::staging_root(data_dir).join(format!("bulk-{}-{seq}", std::process::id()));
        std::fs::create_dir_all(&staging).map_err(|source| ImportError::Io {
            path: staging.clone(),
            source,
        })?;
        Ok(BulkWriter {
            dataset: dataset::readings_dir(data_dir),
            staging,
            sorted,
            months: MonthCache::default(),
            sinks: BTreeMap::new(),
            rows: 0,
        })
    }

    /// One reading: `ts_micros` is the end of its interval (µs since the epoch, UTC), `value` in
    /// the carrier's stored unit. Panics if the carrier is not a metered one (a caller's bug).
    pub fn append(
        &mut self,
        uscc: &str,
        meter_id: &str,
        carrier: Carrier,
        ts_micros: i64,
        value: f64,
    ) -> Result<(), ImportError> {
        let metered: &Metered = METERED
            .iter()
            .find(|m| m.carrier == carrier)
            .expect("a metered carrier");
        let month = self.months.month(ts_micros);
        if !self.sinks.contains_key(&month) {
            let sink = PartitionSink::create(&self.staging, month, self.sorted)?;
            self.sinks.insert(month, sink);
        }
        let sink = self.sinks.get_mut(&month).expect("sink just made");
        sink.append(uscc, meter_id, metered, ts_micros, value, BATCH_ROWS)?;
        self.rows += 1;
        Ok(())
    }

    /// Closes the files and moves them into the dataset: the months written and the rows.
    pub fn finish(mut self) -> Result<(Vec<(i32, u32)>, u64), ImportError> {
        let mut months = Vec::new();
        for (month, sink) in std::mem::take(&mut self.sinks) {
            let (from, relative) = sink.close()?;
            let to = self.dataset.join(&relative);
            let dir = to.parent().expect("partition folder").to_path_buf();
            let io = |path: &Path| {
                let path = path.to_path_buf();
                move |source| ImportError::Io { path, source }
            };
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            std::fs::rename(&from, &to).map_err(io(&to))?;
            months.push(month);
        }
        let _ = std::fs::remove_dir_all(&self.staging);
        Ok((months, self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_land_in_their_accounting_months() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = BulkWriter::create(dir.path(), true).unwrap();
        // 2024-03-01 00:00 +08:00 ends an interval of February; one microsecond later is March.
        let march_1 = 1_709_222_400_000_000;
        w.append("U", "M", Carrier::Electricity, march_1, 1.0)
            .unwrap();
        w.append("U", "M", Carrier::Electricity, march_1 + 1, 2.0)
            .unwrap();
        assert_eq!(w.finish().unwrap(), (vec![(2024, 2), (2024, 3)], 2));
        let listing = dataset::listing(&dataset::readings_dir(dir.path())).unwrap();
        assert_eq!(listing.len(), 2);
        assert!(listing[0].0.starts_with("year=2024/month=02"));
        assert!(!dataset::staging_root(dir.path()).join("bulk").exists());
    }
}
