//! Importing a readings file (CSV or Parquet) into the dataset, in memory bounded by a pool.
//!
//! Every row is validated (USCC, known enterprise, carrier, unit, timestamp, value) and checked
//! against the readings already stored for the same meter and time: the same value again is
//! skipped, a different one is a conflict.
//!
//! # Bounded memory: validate, then sort and walk
//! Nothing in memory grows with the number of rows; what grows with the data is bounded by the
//! pool of [`ImportOptions::memory_limit`], and the rest spills to disk:
//! 1. **Validate (one pass over the file).** Each valid row becomes a 32-byte record (meter number,
//!    carrier, time, value in the stored unit, source line; see [`crate::sort`]). Records collect
//!    in a chunk; a full chunk is appended, unsorted, to a staging file. Meters are numbered in a
//!    dictionary (one entry per meter of the file, counted against the pool) so no string is
//!    kept per row.
//! 2. **Sort.** The meters are ranked by (USCC, meter id). The file's records and the stored
//!    records of the same meters in the months the file touches (line 0) go through an external
//!    sort by (meter, time, line): sorted runs of one chunk each, spilled to the spill folder and
//!    merged k-way, in several passes when there are more runs than the merge may keep open.
//! 3. **Walk the sorted stream once.** For each (meter, time) the first record is the reference (the
//!    stored one, else the file's earliest line): a later one with the same value is
//!    `already_present`, a different one is a `conflicting_reading` naming the reference; a new
//!    reference from the file is written to its month's new part file, which therefore comes out
//!    sorted by (uscc, meter_id, ts). Gaps are found in the same walk, one meter at a time.
//!
//! This replaces a hash map of every (meter, time) of the file and of the touched months, which
//! took about 100 bytes a reading. An external sort of fixed-width records was chosen over a
//! DataFusion sort of the string columns: the keys are two integers and a line number, the memory
//! is exactly what the chunk and the merge buffers take, and there is no engine reservation to
//! tune. Outside the pool stay fixed buffers (1 MiB to read a CSV, one Parquet batch of 65,536
//! rows), one meter's timestamps during the walk (for its gaps), and the enterprises list.
//!
//! # Atomicity
//! New rows are written to Parquet files in a staging folder beside the dataset
//! (`<data>/.readings-staging/<import>/`), never inside it. Only when the whole file has been read
//! and walked with no error are the staged files synced to disk and moved into their partitions by
//! `rename`, which is atomic per file on one file system; the partitions' folders are then synced.
//! So:
//! - a file with any error (a bad last line, a truncated Parquet, a wrong column type, a conflict)
//!   leaves the dataset byte for byte as it was: the staging folder is removed and nothing moved;
//! - a reader (a query) sees each new partition file whole or not at all, never half-written;
//! - the moves of one import into several partitions are not one atomic step: a crash (power
//!   loss, kill -9) between two renames leaves some partitions with the import's rows and others
//!   without. Re-importing the same file then completes it, because rows already stored with the
//!   same value are skipped. Leftover staging folders of a crashed import are removed by the next
//!   import.
//!
//! One import runs at a time per data directory: an exclusive lock on `<data>/readings.lock` (an
//! OS file lock, released if the process dies) keeps two imports from missing each other's rows.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMicrosecondType};
use gusu_core::carbon::Unit;
use gusu_core::{Issue, Report, Uscc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::WriterProperties;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::carrier::{self, METERED, Metered};
use crate::dataset;
use crate::gaps::{Gap, find_gaps};
use crate::sort::{self, READ_BLOCK_RECORDS, RECORD_BYTES, Record, RecordReader, RecordWriter};
use crate::time::{MonthCache, local_micros, parse_ts};

/// At most this many errors are listed; the rest are counted in one closing finding.
const MAX_LISTED_ERRORS: usize = 1_000;
/// Rows read from a Parquet file at a time, and the most rows buffered per partition before they
/// are handed to the Parquet writer.
const BATCH_ROWS: usize = 65_536;
/// The pool of an import unless told otherwise.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 30;
/// A chunk smaller than this many records would make the sort all merging: below it the pool is
/// too small for the file's meters and the import stops with [`ImportError::MemoryExhausted`].
const MIN_CHUNK_RECORDS: usize = 1_024;
/// What one meter of the dictionary takes beyond its two names: the name pair and the map key
/// (three `String`s), the map entry and its rank.
const METER_OVERHEAD_BYTES: usize = 3 * 24 + 32 + 8;
/// Memory of one open run during the merge: its bytes and its decoded records.
const MERGE_READER_BYTES: usize = READ_BLOCK_RECORDS * RECORD_BYTES * 2;
/// Estimated bytes of one buffered output row (three short strings and two numbers).
const OUTPUT_ROW_BYTES: usize = 96;

/// The columns of a readings file, each with the header names accepted for it (English, Chinese).
const COLUMNS: [(&str, &[&str]); 6] = [
    ("uscc", &["uscc", "统一社会信用代码"]),
    ("meter_id", &["meter_id", "表计编号", "电表编号"]),
    ("carrier", &["carrier", "能源品种"]),
    ("ts", &["ts", "时间", "抄表时间"]),
    ("value", &["value", "用量", "读数"]),
    ("unit", &["unit", "单位"]),
];

/// How much memory an import may use for its data, and where it spills.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Bytes for the meter dictionary, the sort's chunk, the merge's buffers and the output
    /// buffers together.
    pub memory_limit: usize,
    /// Where sorted runs are written; by default the import's staging folder in the data directory.
    pub spill_dir: Option<PathBuf>,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            spill_dir: None,
        }
    }
}

/// What an import did. The dataset changed only when `report.has_errors()` is false.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// Every finding with file, row, column, value and reason.
    pub report: Report,
    /// New readings stored (0 when the file was refused).
    pub imported: u64,
    /// Readings that were already stored with the same value (or repeated in the file).
    pub already_present: u64,
    /// The months (Asia/Shanghai) that received new files.
    pub partitions: Vec<(i32, u32)>,
    /// Gaps of the file's meters, over the readings of the months the file touches.
    pub gaps: Vec<Gap>,
    /// Bytes of records the sort wrote to disk (0 when everything fitted in the pool).
    pub spilled_bytes: u64,
}

impl ImportOutcome {
    pub fn committed(&self) -> bool {
        !self.report.has_errors()
    }
}

/// A failure of the machine rather than of the data: the data directory cannot be written, or the
/// memory pool is too small for the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error(
        "the import needs more memory than the pool of {pool_bytes} bytes allows ({detail}): give a larger --memory-limit; nothing was stored"
    )]
    MemoryExhausted { pool_bytes: usize, detail: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Imports one CSV or Parquet file (by extension: `.parquet` is Parquet, anything else CSV) into the
/// dataset under `data_dir`, with the default pool. With `known_enterprises`, a USCC outside it is
/// an error.
pub fn import_file(
    path: &Path,
    data_dir: &Path,
    known_enterprises: Option<&FxHashSet<String>>,
) -> Result<ImportOutcome, ImportError> {
    import_file_with(path, data_dir, known_enterprises, &ImportOptions::default())
}

/// [`import_file`] with an explicit memory pool and spill folder.
pub fn import_file_with(
    path: &Path,
    data_dir: &Path,
    known_enterprises: Option<&FxHashSet<String>>,
    options: &ImportOptions,
) -> Result<ImportOutcome, ImportError> {
    std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
    let lock_path = data_dir.join("readings.lock");
    let lock = File::create(&lock_path).map_err(io_err(&lock_path))?;
    lock.lock().map_err(io_err(&lock_path))?;
    let staging_root = dataset::staging_root(data_dir);
    // Any staging folder left now belongs to a crashed import (we hold the lock): it never moved.
    if staging_root.exists() {
        std::fs::remove_dir_all(&staging_root).map_err(io_err(&staging_root))?;
    }
    let staging = staging_root.join(format!("import-{}", std::process::id()));
    let spill = match &options.spill_dir {
        Some(dir) => dir.join(format!("gusu-import-{}", std::process::id())),
        None => staging.join("spill"),
    };
    let outcome = (|| {
        std::fs::create_dir_all(&staging).map_err(io_err(&staging))?;
        std::fs::create_dir_all(&spill).map_err(io_err(&spill))?;
        let mut importer = Importer::new(path, data_dir, staging, spill.clone(), known_enterprises);
        importer.pool = options.memory_limit;
        let is_parquet = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if is_parquet {
            importer.read_parquet(path)?;
        } else {
            importer.read_csv(path)?;
        }
        importer.finish()
    })();
    let _ = std::fs::remove_dir_all(&spill);
    let _ = std::fs::remove_dir_all(&staging_root);
    drop(lock);
    outcome
}

/// Where a reading's time comes from.
#[derive(Clone, Copy)]
enum TsField<'a> {
    Text(&'a str),
    Instant(i64),
    Local(i64),
    Null,
}

/// One row as read, before validation.
struct RowFields<'a> {
    uscc: Option<&'a str>,
    meter_id: Option<&'a str>,
    carrier: Option<&'a str>,
    ts: TsField<'a>,
    value_text: Option<&'a str>,
    value: Option<f64>,
    unit: Option<&'a str>,
}

struct Importer<'k> {
    dataset: PathBuf,
    staging: PathBuf,
    spill: PathBuf,
    known: Option<&'k FxHashSet<String>>,
    /// The memory pool in bytes.
    pool: usize,
    report: Report,
    errors: usize,
    valid_uscc: FxHashSet<String>,
    /// `uscc` + U+001F + `meter_id` → meter number (one string, so a lookup needs no allocation).
    meters: FxHashMap<String, u32>,
    meter_key: String,
    meter_names: Vec<(String, String)>,
    /// Estimated bytes of the meter dictionary and the valid-USCC set, counted against the pool.
    dictionary_bytes: usize,
    /// Carrier text as written → its metered code (`None`: not a metered carrier).
    carriers: FxHashMap<String, Option<u8>>,
    /// Unit text as written → the unit (`None`: not a unit).
    units: FxHashMap<String, Option<Unit>>,
    /// The last timestamp text and its instant: rows of one hour usually follow each other.
    last_ts: Option<(String, i64)>,
    months: MonthCache,
    touched: BTreeSet<(i32, u32)>,
    /// Valid rows not yet written to the staging file of step 1.
    chunk: Vec<Record>,
    stage: Option<RecordWriter>,
}

impl<'k> Importer<'k> {
    fn new(
        path: &Path,
        data_dir: &Path,
        staging: PathBuf,
        spill: PathBuf,
        known: Option<&'k FxHashSet<String>>,
    ) -> Importer<'k> {
        Importer {
            dataset: dataset::readings_dir(data_dir),
            staging,
            spill,
            known,
            pool: DEFAULT_MEMORY_LIMIT,
            report: Report::new(path.display().to_string()),
            errors: 0,
            valid_uscc: FxHashSet::default(),
            meters: FxHashMap::default(),
            meter_key: String::new(),
            meter_names: Vec::new(),
            dictionary_bytes: 0,
            carriers: FxHashMap::default(),
            units: FxHashMap::default(),
            last_ts: None,
            months: MonthCache::default(),
            touched: BTreeSet::new(),
            chunk: Vec::new(),
            stage: None,
        }
    }

    fn error(&mut self, issue: Issue) {
        self.errors += 1;
        if self.errors <= MAX_LISTED_ERRORS {
            self.report.issues.push(issue);
        }
    }

    fn cell_error(
        &mut self,
        line: u64,
        column: &str,
        value: &str,
        code: &str,
        en: String,
        zh: String,
    ) {
        self.error(Issue::error(code, en, zh).at(line).cell(column, value));
    }

    fn file_error(&mut self, code: &str, en: String, zh: String) {
        self.error(Issue::error(code, en, zh));
    }

    // ---------------------------------------------------------------- CSV

    fn read_csv(&mut self, path: &Path) -> Result<(), ImportError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                self.file_error(
                    "unreadable_file",
                    format!("cannot open the file: {e}"),
                    format!("无法打开文件：{e}"),
                );
                return Ok(());
            }
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .buffer_capacity(1 << 20)
            .from_reader(io::BufReader::with_capacity(1 << 20, file));
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                self.file_error(
                    "unreadable_file",
                    format!("cannot read the header line: {e}"),
                    format!("无法读取表头：{e}"),
                );
                return Ok(());
            }
        };
        let names: Vec<String> = headers
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let Some(index) = self.column_indexes(&names) else {
            return Ok(());
        };
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(0, |p| p.line());
                    let get = |i: usize| record.get(i).map(str::trim);
                    let value_text = get(index[4]);
                    let row = RowFields {
                        uscc: get(index[0]),
                        meter_id: get(index[1]),
                        carrier: get(index[2]),
                        ts: get(index[3]).map_or(TsField::Null, TsField::Text),
                        value_text,
                        value: None,
                        unit: get(index[5]),
                    };
                    self.accept(line, row)?;
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    let (en, zh) = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => (
                            format!("the line has {len} fields, the header has {expected_len}"),
                            format!("该行有 {len} 个字段，表头有 {expected_len} 个"),
                        ),
                        csv::ErrorKind::Utf8 { .. } => (
                            "the line is not valid UTF-8 (save the file as UTF-8)".to_string(),
                            "该行不是有效的 UTF-8 编码（请另存为 UTF-8）".to_string(),
                        ),
                        _ => (
                            format!("cannot read the line: {e}"),
                            format!("无法读取该行：{e}"),
                        ),
                    };
                    self.report.rows += 1;
                    self.error(Issue::error("malformed_row", en, zh).at(line));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Positions of the six columns in the header, or a finding for each one missing.
    fn column_indexes(&mut self, names: &[String]) -> Option<[usize; 6]> {
        let mut index = [0usize; 6];
        let mut missing = false;
        for (k, (column, aliases)) in COLUMNS.iter().enumerate() {
            match names
                .iter()
                .position(|n| aliases.iter().any(|a| n.eq_ignore_ascii_case(a)))
            {
                Some(i) => index[k] = i,
                None => {
                    missing = true;
                    self.error(Issue::error(
                        "missing_column",
                        format!(
                            "no column “{column}” (accepted headers: {})",
                            aliases.join(", ")
                        ),
                        format!("缺少列“{column}”（可用表头：{}）", aliases.join("、")),
                    ));
                }
            }
        }
        (!missing).then_some(index)
    }

    // ---------------------------------------------------------------- Parquet

    fn read_parquet(&mut self, path: &Path) -> Result<(), ImportError> {
        let opened = File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string()));
        let builder = match opened {
            Ok(b) => b,
            Err(e) => {
                self.file_error(
                    "unreadable_file",
                    format!("not a readable Parquet file: {e}"),
                    format!("不是可读的 Parquet 文件：{e}"),
                );
                return Ok(());
            }
        };
        let schema = builder.schema().clone();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let Some(index) = self.column_indexes(&names) else {
            return Ok(());
        };
        // Types are checked once, for the whole file, before any row.
        for (k, (column, _)) in COLUMNS.iter().enumerate() {
            let ty = schema.field(index[k]).data_type();
            let fits = match *column {
                "ts" => is_text(ty) || matches!(ty, DataType::Timestamp(..)),
                "value" => ty.is_numeric(),
                _ => is_text(ty),
            };
            if !fits {
                let expected = match *column {
                    "ts" => "text or timestamp",
                    "value" => "a number",
                    _ => "text",
                };
                self.error(
                    Issue::error(
                        "wrong_type",
                        format!("column “{column}” has type {ty}, expected {expected}"),
                        format!("列“{column}”的类型为 {ty}，应为{}", zh_type(column)),
                    )
                    .cell(column, &ty.to_string()),
                );
            }
        }
        if self.errors > 0 {
            return Ok(());
        }
        let reader = match builder.with_batch_size(BATCH_ROWS).build() {
            Ok(r) => r,
            Err(e) => {
                self.file_error(
                    "unreadable_file",
                    format!("not a readable Parquet file: {e}"),
                    format!("不是可读的 Parquet 文件：{e}"),
                );
                return Ok(());
            }
        };
        let mut row_base = 0u64;
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    self.error(
                        Issue::error(
                            "unreadable_file",
                            format!("the file is damaged after row {row_base}: {e}"),
                            format!("文件在第 {row_base} 行之后损坏：{e}"),
                        )
                        .at(row_base + 1),
                    );
                    return Ok(());
                }
            };
            self.accept_batch(&batch, &index, row_base)?;
            row_base += batch.num_rows() as u64;
        }
        Ok(())
    }

    fn accept_batch(
        &mut self,
        batch: &RecordBatch,
        index: &[usize; 6],
        row_base: u64,
    ) -> Result<(), ImportError> {
        let text = |i: usize| cast(batch.column(index[i]), &DataType::Utf8);
        let casted = (|| {
            Ok::<_, arrow::error::ArrowError>((
                text(0)?,
                text(1)?,
                text(2)?,
                text(5)?,
                cast(batch.column(index[4]), &DataType::Float64)?,
            ))
        })();
        let (uscc, meter, carrier, unit, value) = match casted {
            Ok(c) => c,
            Err(e) => {
                self.file_error(
                    "wrong_type",
                    format!("a column cannot be read as its type: {e}"),
                    format!("某列无法按其类型读取：{e}"),
                );
                return Ok(());
            }
        };
        let ts_column = batch.column(index[3]);
        let (ts_text, ts_micros, ts_is_local) = match ts_column.data_type() {
            DataType::Timestamp(_, tz) => {
                let micros = cast(
                    ts_column,
                    &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
                )
                .map_err(|e| ImportError::Write {
                    path: self.staging.clone(),
                    source: e.into(),
                })?;
                (None, Some(micros), tz.is_none())
            }
            _ => (
                Some(
                    cast(ts_column, &DataType::Utf8).map_err(|e| ImportError::Write {
                        path: self.staging.clone(),
                        source: e.into(),
                    })?,
                ),
                None,
                false,
            ),
        };
        let (uscc, meter, carrier, unit) = (
            uscc.as_string::<i32>(),
            meter.as_string::<i32>(),
            carrier.as_string::<i32>(),
            unit.as_string::<i32>(),
        );
        let value = value.as_primitive::<Float64Type>();
        let ts_text = ts_text.as_ref().map(|a| a.as_string::<i32>().clone());
        let ts_micros = ts_micros
            .as_ref()
            .map(|a| a.as_primitive::<TimestampMicrosecondType>().clone());
        for i in 0..batch.num_rows() {
            let ts = match (&ts_text, &ts_micros) {
                (Some(t), _) => opt(t, i).map_or(TsField::Null, TsField::Text),
                (None, Some(m)) if !m.is_null(i) => {
                    if ts_is_local {
                        TsField::Local(m.value(i))
                    } else {
                        TsField::Instant(m.value(i))
                    }
                }
                _ => TsField::Null,
            };
            let row = RowFields {
                uscc: opt(uscc, i),
                meter_id: opt(meter, i),
                carrier: opt(carrier, i),
                ts,
                value_text: None,
                value: (!value.is_null(i)).then(|| value.value(i)),
                unit: opt(unit, i),
            };
            self.accept(row_base + i as u64 + 1, row)?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- rows

    /// Validates one row and, when it is valid, adds its record to step 1's chunk.
    fn accept(&mut self, line: u64, row: RowFields<'_>) -> Result<(), ImportError> {
        self.report.rows += 1;
        let errors_before = self.errors;
        let uscc = self.required(line, "uscc", row.uscc);
        let meter_id = self.required(line, "meter_id", row.meter_id);
        let carrier_name = self.required(line, "carrier", row.carrier);
        let unit = self.required(line, "unit", row.unit);

        if let Some(u) = uscc {
            self.check_uscc(line, u);
        }
        let carrier = carrier_name.and_then(|c| {
            let found = self.carrier(c);
            if found.is_none() {
                let known = carrier::metered_keys();
                self.cell_error(
                    line,
                    "carrier",
                    c,
                    "unknown_carrier",
                    format!("unknown carrier; metered carriers are {known}"),
                    format!("未知能源品种；可计量的品种为 {known}"),
                );
            }
            found
        });
        let factor = match (carrier, unit) {
            (Some((_, c)), Some(u)) => {
                let f = self.unit(u).and_then(|unit| c.factor(unit));
                if f.is_none() {
                    self.cell_error(
                        line,
                        "unit",
                        u,
                        "unit_mismatch",
                        format!(
                            "unit {u} does not fit {}; use {}",
                            c.carrier,
                            c.accepted_units()
                        ),
                        format!(
                            "单位 {u} 不适用于 {}；应为 {}",
                            c.carrier,
                            c.accepted_units()
                        ),
                    );
                }
                f
            }
            _ => None,
        };
        let ts = self.timestamp(line, row.ts);
        let value = self.value(
            line,
            row.value_text,
            row.value,
            carrier.map(|(_, c)| c),
            factor,
        );

        if self.errors > errors_before {
            return Ok(());
        }
        let (Some(uscc), Some(meter_id), Some((code, _)), Some(ts), Some(value)) =
            (uscc, meter_id, carrier, ts, value)
        else {
            return Ok(());
        };
        self.place(line, uscc, meter_id, code, ts, value)
    }

    /// The trimmed text of a required cell, or a `missing_value` finding.
    fn required<'a>(&mut self, line: u64, column: &str, v: Option<&'a str>) -> Option<&'a str> {
        let v = v.map(str::trim).filter(|s| !s.is_empty());
        if v.is_none() {
            self.cell_error(
                line,
                column,
                "",
                "missing_value",
                format!("{column} is empty"),
                format!("{column} 为空"),
            );
        }
        v
    }

    fn carrier(&mut self, raw: &str) -> Option<(u8, &'static Metered)> {
        let code = match self.carriers.get(raw) {
            Some(code) => *code,
            None => {
                let code = carrier::metered(raw).map(|(code, _)| code);
                self.carriers.insert(raw.to_string(), code);
                code
            }
        };
        code.map(|c| (c, &METERED[c as usize]))
    }

    fn unit(&mut self, raw: &str) -> Option<Unit> {
        match self.units.get(raw) {
            Some(unit) => *unit,
            None => {
                let unit = Unit::parse(raw);
                self.units.insert(raw.to_string(), unit);
                unit
            }
        }
    }

    fn check_uscc(&mut self, line: u64, raw: &str) {
        if self.valid_uscc.contains(raw) {
            return;
        }
        if let Err(e) = Uscc::parse(raw) {
            self.cell_error(line, "uscc", raw, e.code(), e.to_string(), e.message_zh());
            return;
        }
        if let Some(known) = self.known
            && !known.contains(raw)
        {
            self.cell_error(
                line,
                "uscc",
                raw,
                "unknown_enterprise",
                "not in the enterprises list".to_string(),
                "不在企业名录中".to_string(),
            );
            return;
        }
        self.dictionary_bytes += raw.len() + 32;
        self.valid_uscc.insert(raw.to_string());
    }

    fn timestamp(&mut self, line: u64, ts: TsField<'_>) -> Option<i64> {
        if let TsField::Text(t) = ts
            && let Some((text, micros)) = &self.last_ts
            && text == t
        {
            return Some(*micros);
        }
        let parsed = match ts {
            TsField::Text(t) => parse_ts(t).map_err(|e| (t.to_string(), e)),
            TsField::Instant(m) => Ok(m),
            TsField::Local(m) => chrono::DateTime::from_timestamp_micros(m)
                .ok_or_else(|| (m.to_string(), "out of range".to_string()))
                .and_then(|d| local_micros(d.naive_utc()).map_err(|e| (m.to_string(), e))),
            TsField::Null => Err((String::new(), "ts is empty".to_string())),
        };
        match parsed {
            Ok(m) => {
                if let TsField::Text(t) = ts {
                    let (text, micros) = self.last_ts.get_or_insert_with(|| (String::new(), 0));
                    text.clear();
                    text.push_str(t);
                    *micros = m;
                }
                Some(m)
            }
            Err((text, reason)) => {
                let zh = if text.is_empty() {
                    "时间为空".to_string()
                } else {
                    format!(
                        "无法识别的时间（应为 YYYY-MM-DD HH:MM[:SS]，可带 +08:00 等时差）：{reason}"
                    )
                };
                self.cell_error(line, "ts", &text, "invalid_timestamp", reason, zh);
                None
            }
        }
    }

    fn value(
        &mut self,
        line: u64,
        text: Option<&str>,
        number: Option<f64>,
        carrier: Option<&Metered>,
        factor: Option<f64>,
    ) -> Option<f64> {
        let (raw, v) = match (text, number) {
            (Some(t), _) => match t.trim().parse::<f64>() {
                Ok(v) => (t, v),
                Err(_) => {
                    let (en, zh) = if t.trim().is_empty() {
                        ("value is empty".to_string(), "用量为空".to_string())
                    } else {
                        ("not a number".to_string(), "不是数字".to_string())
                    };
                    let code = if t.trim().is_empty() {
                        "missing_value"
                    } else {
                        "invalid_number"
                    };
                    self.cell_error(line, "value", t, code, en, zh);
                    return None;
                }
            },
            (None, Some(v)) => ("", v),
            (None, None) => {
                self.cell_error(
                    line,
                    "value",
                    "",
                    "missing_value",
                    "value is empty".to_string(),
                    "用量为空".to_string(),
                );
                return None;
            }
        };
        let shown = || {
            if raw.is_empty() {
                v.to_string()
            } else {
                raw.to_string()
            }
        };
        if !v.is_finite() {
            self.cell_error(
                line,
                "value",
                &shown(),
                "impossible_value",
                "not a finite number".to_string(),
                "不是有限数值".to_string(),
            );
            return None;
        }
        if v < 0.0 {
            self.cell_error(
                line,
                "value",
                &shown(),
                "negative_value",
                "consumption cannot be negative".to_string(),
                "用量不能为负".to_string(),
            );
            return None;
        }
        let (carrier, factor) = (carrier?, factor?);
        let stored = v * factor;
        if stored > carrier.ceiling {
            let unit = carrier.stored.key();
            self.cell_error(
                line,
                "value",
                &shown(),
                "impossible_value",
                format!(
                    "{stored} {unit} in one reading is more than a factory meter can record (limit {} {unit})",
                    carrier.ceiling
                ),
                format!(
                    "单次读数 {stored} {unit} 超出工厂表计可能的范围（上限 {} {unit}）",
                    carrier.ceiling
                ),
            );
            return None;
        }
        Some(stored)
    }

    /// The meter's number in the dictionary, adding it when new.
    fn meter(&mut self, uscc: &str, meter_id: &str) -> u32 {
        self.meter_key.clear();
        self.meter_key.push_str(uscc);
        self.meter_key.push('\u{1f}');
        self.meter_key.push_str(meter_id);
        if let Some(&m) = self.meters.get(self.meter_key.as_str()) {
            return m;
        }
        let m = self.meter_names.len() as u32;
        self.meter_names
            .push((uscc.to_string(), meter_id.to_string()));
        self.meters.insert(self.meter_key.clone(), m);
        self.dictionary_bytes += 2 * (uscc.len() + meter_id.len()) + METER_OVERHEAD_BYTES;
        m
    }

    /// The records step 1 may hold in memory beside the dictionary.
    fn chunk_limit(&self) -> usize {
        self.pool.saturating_sub(self.dictionary_bytes) / RECORD_BYTES
    }

    fn exhausted(&self, what: &str) -> ImportError {
        ImportError::MemoryExhausted {
            pool_bytes: self.pool,
            detail: format!(
                "{what}: the dictionary of {} meters takes about {} bytes and the sort needs at least {} more",
                self.meter_names.len(),
                self.dictionary_bytes,
                MIN_CHUNK_RECORDS * RECORD_BYTES
            ),
        }
    }

    fn place(
        &mut self,
        line: u64,
        uscc: &str,
        meter_id: &str,
        carrier: u8,
        ts: i64,
        value: f64,
    ) -> Result<(), ImportError> {
        let month = self.months.month(ts);
        self.touched.insert(month);
        let meter = self.meter(uscc, meter_id);
        let limit = self.chunk_limit();
        if self.chunk.len() >= limit {
            self.stage_chunk()?;
            if limit < MIN_CHUNK_RECORDS {
                return Err(self.exhausted("reading the file"));
            }
            if self.chunk.capacity() > limit {
                self.chunk.shrink_to(limit);
            }
        }
        if self.chunk.capacity() == 0 {
            // All at once: growing by doubling would briefly hold the old and the new buffer,
            // half as much again as the pool. Pages never written take no memory.
            self.chunk.reserve_exact(limit);
        }
        self.chunk.push(Record {
            meter,
            carrier,
            ts,
            value,
            line,
        });
        Ok(())
    }

    /// Appends step 1's chunk, unsorted, to the staging file of records.
    fn stage_chunk(&mut self) -> Result<(), ImportError> {
        if self.stage.is_none() {
            let path = self.spill.join("stage.bin");
            self.stage = Some(RecordWriter::create(path.clone()).map_err(io_err(&path))?);
        }
        let stage = self.stage.as_mut().expect("stage just made");
        for r in &self.chunk {
            stage.write(r).map_err(io_err(&stage.path))?;
        }
        self.chunk.clear();
        Ok(())
    }

    // ---------------------------------------------------------------- sort and walk

    fn finish(mut self) -> Result<ImportOutcome, ImportError> {
        let mut walk = Walk::default();
        // Past the listing limit the report is full: the sort would only add uncounted conflicts.
        if self.errors <= MAX_LISTED_ERRORS {
            walk = self.sort_and_walk()?;
        }
        if self.errors > MAX_LISTED_ERRORS {
            let more = self.errors - MAX_LISTED_ERRORS;
            // Validation findings come in file order, conflicts in meter order: list all by row.
            self.report.issues.sort_by_key(|i| i.row.unwrap_or(0));
            self.report.issues.push(Issue::error(
                "too_many_errors",
                format!("{more} more errors not listed"),
                format!("另有 {more} 个错误未列出"),
            ));
        } else {
            self.report.issues.sort_by_key(|i| i.row.unwrap_or(0));
        }
        if self.report.has_errors() {
            // Nothing moves: the staging folder is removed by the caller.
            return Ok(ImportOutcome {
                report: self.report,
                imported: 0,
                already_present: walk.already_present,
                partitions: Vec::new(),
                gaps: walk.gaps,
                spilled_bytes: walk.spilled_bytes,
            });
        }
        let mut staged = Vec::new();
        for (key, sink) in std::mem::take(&mut walk.sinks) {
            let (from, relative) = sink.close()?;
            dataset::sync_file(&from).map_err(io_err(&from))?;
            staged.push((key, from, relative));
        }
        let mut partitions = Vec::new();
        for (key, from, relative) in staged {
            let to = self.dataset.join(&relative);
            let dir = to.parent().expect("partition folder").to_path_buf();
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            std::fs::rename(&from, &to).map_err(io_err(&to))?;
            dataset::sync_dir(&dir).map_err(io_err(&dir))?;
            partitions.push(key);
        }
        Ok(ImportOutcome {
            report: self.report,
            imported: walk.imported,
            already_present: walk.already_present,
            partitions,
            gaps: walk.gaps,
            spilled_bytes: walk.spilled_bytes,
        })
    }

    /// Steps 2 and 3: sorts the file's and the stored records of its meters and walks them once.
    fn sort_and_walk(&mut self) -> Result<Walk, ImportError> {
        if self.meter_names.is_empty() {
            return Ok(Walk::default());
        }
        // Rank the meters by (uscc, meter_id): the sort's order, and so the new files' order.
        let mut by_rank: Vec<u32> = (0..self.meter_names.len() as u32).collect();
        by_rank.sort_unstable_by(|a, b| {
            self.meter_names[*a as usize].cmp(&self.meter_names[*b as usize])
        });
        let mut rank = vec![0u32; by_rank.len()];
        for (r, m) in by_rank.iter().enumerate() {
            rank[*m as usize] = r as u32;
        }
        let budget = self.pool.saturating_sub(self.dictionary_bytes);
        let chunk_records = budget / RECORD_BYTES;
        if chunk_records < MIN_CHUNK_RECORDS {
            return Err(self.exhausted("sorting"));
        }
        // During the walk the merge's buffers (or the records kept in memory, at most half the
        // chunk) and the output's share what the dictionary leaves.
        let fan_in = (budget / 2 / MERGE_READER_BYTES).clamp(2, 512);
        let mut chunk = std::mem::take(&mut self.chunk);
        for r in &mut chunk {
            r.meter = rank[r.meter as usize];
        }
        let mut sorter = sort::Sorter::new(self.spill.clone(), chunk, chunk_records, fan_in);
        if let Some(stage) = self.stage.take() {
            let (path, records) = stage.finish().map_err(io_err(&self.spill))?;
            let mut reader = RecordReader::open(&path, records).map_err(io_err(&path))?;
            while let Some(mut r) = reader.next_record().map_err(io_err(&path))? {
                r.meter = rank[r.meter as usize];
                sorter.push(r).map_err(io_err(&self.spill))?;
            }
            drop(reader);
            std::fs::remove_file(&path).map_err(io_err(&path))?;
        }
        let months: Vec<(i32, u32)> = self.touched.iter().copied().collect();
        for &(year, month) in &months {
            self.load_stored(year, month, &rank, &mut sorter)?;
        }
        let (mut sorted, spilled_bytes) = sorter.finish().map_err(io_err(&self.spill))?;
        let mut walk = Walk {
            spilled_bytes,
            output_budget: budget / 2,
            batch_rows: (budget / 2 / months.len().max(1) / 2 / OUTPUT_ROW_BYTES)
                .clamp(256, BATCH_ROWS),
            ..Walk::default()
        };
        let mut reference: Option<Record> = None;
        let mut times: Vec<i64> = Vec::new();
        while let Some(r) = sorted.next_record().map_err(io_err(&self.spill))? {
            if reference.is_none_or(|g| g.meter != r.meter) {
                if let Some(g) = reference {
                    self.meter_gaps(by_rank[g.meter as usize], &mut times, &mut walk);
                }
                reference = None;
            }
            if let Some(g) = reference.filter(|g| g.ts == r.ts) {
                if r.line == 0 {
                    // Two stored readings of one instant cannot come from an import: ignore.
                    continue;
                }
                if g.carrier == r.carrier && same_value(g.value, r.value) {
                    walk.already_present += 1;
                } else {
                    self.conflict(&g, &r, by_rank[r.meter as usize]);
                }
                continue;
            }
            reference = Some(r);
            times.push(r.ts);
            if r.line != 0 {
                walk.imported += 1;
                if self.errors == 0 {
                    let names = &self.meter_names[by_rank[r.meter as usize] as usize];
                    let month = self.months.month(r.ts);
                    walk.write(&self.staging, month, names, &r)?;
                }
            }
        }
        if let Some(g) = reference {
            self.meter_gaps(by_rank[g.meter as usize], &mut times, &mut walk);
        }
        Ok(walk)
    }

    fn meter_gaps(&self, meter: u32, times: &mut Vec<i64>, walk: &mut Walk) {
        let (uscc, meter_id) = &self.meter_names[meter as usize];
        walk.gaps.extend(find_gaps(uscc, meter_id, times));
        times.clear();
    }

    fn conflict(&mut self, reference: &Record, r: &Record, meter: u32) {
        let (uscc, meter_id) = &self.meter_names[meter as usize];
        let when = crate::time::format_local(r.ts);
        let (where_en, where_zh) = if reference.line == 0 {
            ("in the dataset".to_string(), "数据集中".to_string())
        } else {
            (
                format!("on row {} of this file", reference.line),
                format!("本文件第 {} 行", reference.line),
            )
        };
        let earlier = METERED[reference.carrier as usize];
        let unit = earlier.stored.key();
        let mut en = format!(
            "meter {meter_id} of {uscc} at {when} already has {} {unit} {where_en}",
            reference.value
        );
        let mut zh = format!(
            "{uscc} 的表计 {meter_id} 在 {when} 已有读数 {} {unit}（{where_zh}）",
            reference.value
        );
        if reference.carrier != r.carrier {
            en.push_str(&format!(" of {}", earlier.carrier));
            zh.push_str(&format!("，品种为 {}", earlier.carrier.name_zh()));
        }
        self.cell_error(
            r.line,
            "value",
            &r.value.to_string(),
            "conflicting_reading",
            en,
            zh,
        );
    }

    /// Feeds the stored readings of one month whose meters are in the file to the sort (line 0).
    fn load_stored(
        &mut self,
        year: i32,
        month: u32,
        rank: &[u32],
        sorter: &mut sort::Sorter,
    ) -> Result<(), ImportError> {
        let files =
            dataset::partition_files(&self.dataset, year, month).map_err(io_err(&self.dataset))?;
        for path in files {
            let damaged = |path: &Path, source| ImportError::Write {
                path: path.to_path_buf(),
                source,
            };
            let file = File::open(&path).map_err(io_err(&path))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|source| damaged(&path, source))?;
            // uscc, meter_id, carrier, ts, value: the stored unit follows from the carrier.
            let mask = ProjectionMask::roots(builder.parquet_schema(), [0, 1, 2, 3, 4]);
            let reader = builder
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|source| damaged(&path, source))?;
            for batch in reader {
                let batch = batch.map_err(|e| damaged(&path, e.into()))?;
                let uscc = batch.column(0).as_string::<i32>();
                let meter = batch.column(1).as_string::<i32>();
                let carrier = batch.column(2).as_string::<i32>();
                let ts = batch.column(3).as_primitive::<TimestampMicrosecondType>();
                let value = batch.column(4).as_primitive::<Float64Type>();
                for i in 0..batch.num_rows() {
                    self.meter_key.clear();
                    self.meter_key.push_str(uscc.value(i));
                    self.meter_key.push('\u{1f}');
                    self.meter_key.push_str(meter.value(i));
                    let Some(&m) = self.meters.get(self.meter_key.as_str()) else {
                        continue;
                    };
                    let Some((code, _)) = self.carrier(carrier.value(i)) else {
                        return Err(damaged(
                            &path,
                            parquet::errors::ParquetError::General(format!(
                                "stored carrier “{}” is not a metered carrier",
                                carrier.value(i)
                            )),
                        ));
                    };
                    sorter
                        .push(Record {
                            meter: rank[m as usize],
                            carrier: code,
                            ts: ts.value(i),
                            value: value.value(i),
                            line: 0,
                        })
                        .map_err(io_err(&self.spill))?;
                }
            }
        }
        Ok(())
    }
}

/// What the walk of step 3 found and wrote.
#[derive(Default)]
struct Walk {
    imported: u64,
    already_present: u64,
    gaps: Vec<Gap>,
    spilled_bytes: u64,
    sinks: BTreeMap<(i32, u32), PartitionSink>,
    /// Bytes the output may buffer (rows not yet encoded, and row groups being encoded).
    output_budget: usize,
    batch_rows: usize,
}

impl Walk {
    fn write(
        &mut self,
        staging: &Path,
        month: (i32, u32),
        (uscc, meter_id): &(String, String),
        r: &Record,
    ) -> Result<(), ImportError> {
        let sink = match self.sinks.entry(month) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(PartitionSink::create(staging, month, true)?)
            }
        };
        let metered = &METERED[r.carrier as usize];
        sink.append(uscc, meter_id, metered, r.ts, r.value, self.batch_rows)?;
        if sink.buffered == 0 {
            // Row groups being encoded live in memory until closed: close the largest while the
            // output is over its budget.
            let in_memory = |s: &PartitionSink| s.writer.memory_size();
            while self.sinks.values().map(in_memory).sum::<usize>() > self.output_budget {
                let largest = self
                    .sinks
                    .values_mut()
                    .max_by_key(|s| s.writer.memory_size())
                    .expect("at least one sink");
                if largest.writer.in_progress_rows() == 0 {
                    break;
                }
                largest
                    .writer
                    .flush()
                    .map_err(|source| ImportError::Write {
                        path: largest.staged.clone(),
                        source,
                    })?;
            }
        }
        Ok(())
    }
}

/// The new part file of one month, being written in the staging folder.
pub(crate) struct PartitionSink {
    staged: PathBuf,
    relative: PathBuf,
    writer: ArrowWriter<File>,
    uscc: StringBuilder,
    meter_id: StringBuilder,
    carrier: StringBuilder,
    ts: TimestampMicrosecondBuilder,
    value: Float64Builder,
    unit: StringBuilder,
    buffered: usize,
}

impl PartitionSink {
    /// `sorted`: the rows will come in (uscc, meter_id, ts) order, and the file says so.
    pub(crate) fn create(
        staging: &Path,
        (year, month): (i32, u32),
        sorted: bool,
    ) -> Result<PartitionSink, ImportError> {
        let relative = dataset::partition_path(year, month);
        let dir = staging.join(&relative);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("part-{nanos}-{}.parquet", std::process::id());
        let staged = dir.join(&name);
        let file = File::create(&staged).map_err(io_err(&staged))?;
        let props = writer_properties(sorted);
        let writer = ArrowWriter::try_new(file, dataset::stored_schema(), Some(props)).map_err(
            |source| ImportError::Write {
                path: staged.clone(),
                source,
            },
        )?;
        Ok(PartitionSink {
            staged,
            relative: relative.join(name),
            writer,
            uscc: StringBuilder::new(),
            meter_id: StringBuilder::new(),
            carrier: StringBuilder::new(),
            ts: TimestampMicrosecondBuilder::new(),
            value: Float64Builder::new(),
            unit: StringBuilder::new(),
            buffered: 0,
        })
    }

    /// Appends one row in the stored unit of its carrier; hands a full batch to the writer.
    pub(crate) fn append(
        &mut self,
        uscc: &str,
        meter_id: &str,
        metered: &Metered,
        ts: i64,
        value: f64,
        batch_rows: usize,
    ) -> Result<(), ImportError> {
        self.uscc.append_value(uscc);
        self.meter_id.append_value(meter_id);
        self.carrier.append_value(metered.carrier.key());
        self.ts.append_value(ts);
        self.value.append_value(value);
        self.unit.append_value(metered.stored.key());
        self.buffered += 1;
        if self.buffered >= batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.uscc.finish()),
            Arc::new(self.meter_id.finish()),
            Arc::new(self.carrier.finish()),
            Arc::new(self.ts.finish().with_timezone("UTC")),
            Arc::new(self.value.finish()),
            Arc::new(self.unit.finish()),
        ];
        let write_error = |source| ImportError::Write {
            path: self.staged.clone(),
            source,
        };
        let batch = RecordBatch::try_new(dataset::stored_schema(), columns)
            .map_err(|e| write_error(e.into()))?;
        self.writer.write(&batch).map_err(write_error)?;
        self.buffered = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer: the staged path and its place in the dataset.
    pub(crate) fn close(mut self) -> Result<(PathBuf, PathBuf), ImportError> {
        self.flush()?;
        self.writer.close().map_err(|source| ImportError::Write {
            path: self.staged.clone(),
            source,
        })?;
        Ok((self.staged, self.relative))
    }
}

/// How the dataset's files are written: Snappy, row groups of up to 1 Mi rows, and, when `sorted`,
/// marked as sorted by (uscc, meter_id, ts).
pub fn writer_properties(sorted: bool) -> WriterProperties {
    let ascending = |column_idx| SortingColumn {
        column_idx,
        descending: false,
        nulls_first: false,
    };
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .set_sorting_columns(sorted.then(|| vec![ascending(0), ascending(1), ascending(3)]))
        .build()
}

/// Two readings are the same when they agree to 1e-9 relative: a value given in MWh and again in
/// kWh converts with rounding in the last bit.
fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The text of a cell, `None` when null.
fn opt(a: &arrow::array::StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

fn is_text(ty: &DataType) -> bool {
    match ty {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

fn zh_type(column: &str) -> &'static str {
    match column {
        "ts" => "文本或时间戳",
        "value" => "数值",
        _ => "文本",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_tolerates_unit_rounding_only() {
        assert!(same_value(1200.0, 1.2 * 1000.0));
        assert!(!same_value(1200.0, 1200.1));
        assert!(same_value(0.0, 0.0));
    }
}
