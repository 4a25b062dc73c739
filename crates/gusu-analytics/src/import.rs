//! Importing a readings file (CSV or Parquet) into the dataset.
//!
//! Every row is validated (USCC, known enterprise, carrier, unit, timestamp, value) and checked
//! against the readings already stored for the same meter and time: the same value again is
//! skipped, a different one is a conflict.
//!
//! # Atomicity
//! New rows are written, as they are read, to Parquet files in a staging folder beside the dataset
//! (`<data>/.readings-staging/<import>/`), never inside it. Only when the whole file has been read
//! with no error are the staged files synced to disk and moved into their partitions by `rename`,
//! which is atomic per file on one file system; the partitions' folders are then synced. So:
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

use std::collections::BTreeMap;
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
use gusu_core::{Issue, Report, Uscc};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::carrier::{self, CarrierUnits};
use crate::dataset;
use crate::gaps::{Gap, find_gaps};
use crate::time::{accounting_month, local_micros, parse_ts};

/// At most this many errors are listed; the rest are counted in one closing finding.
const MAX_LISTED_ERRORS: usize = 1_000;
/// Rows buffered per partition before they are written as one row group batch.
const BATCH_ROWS: usize = 65_536;

/// The columns of a readings file, each with the header names accepted for it (English, Chinese).
const COLUMNS: [(&str, &[&str]); 6] = [
    ("uscc", &["uscc", "统一社会信用代码"]),
    ("meter_id", &["meter_id", "表计编号", "电表编号"]),
    ("carrier", &["carrier", "能源品种"]),
    ("ts", &["ts", "时间", "抄表时间"]),
    ("value", &["value", "用量", "读数"]),
    ("unit", &["unit", "单位"]),
];

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
}

impl ImportOutcome {
    pub fn committed(&self) -> bool {
        !self.report.has_errors()
    }
}

/// A failure of the machine rather than of the data: the data directory cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Imports one CSV or Parquet file (by extension: `.parquet` is Parquet, anything else CSV) into the
/// dataset under `data_dir`. With `known_enterprises`, a USCC outside it is an error.
pub fn import_file(
    path: &Path,
    data_dir: &Path,
    known_enterprises: Option<&FxHashSet<String>>,
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
    let mut importer = Importer::new(path, data_dir, staging, known_enterprises);
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let read = if is_parquet {
        importer.read_parquet(path)
    } else {
        importer.read_csv(path)
    };
    let outcome = read.and_then(|()| importer.finish());
    let _ = std::fs::remove_dir_all(&staging_root);
    drop(lock);
    outcome
}

/// Where a reading's time comes from.
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

struct PartitionSink {
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
        let batch = RecordBatch::try_new(dataset::stored_schema(), columns).map_err(|e| {
            ImportError::Write {
                path: self.staged.clone(),
                source: e.into(),
            }
        })?;
        self.writer
            .write(&batch)
            .map_err(|source| ImportError::Write {
                path: self.staged.clone(),
                source,
            })?;
        self.buffered = 0;
        Ok(())
    }
}

struct Importer<'k> {
    dataset: PathBuf,
    staging: PathBuf,
    known: Option<&'k FxHashSet<String>>,
    report: Report,
    errors: usize,
    valid_uscc: FxHashSet<String>,
    /// `uscc` + U+001F + `meter_id` → meter number (one string, so a lookup needs no allocation).
    meters: FxHashMap<String, u32>,
    meter_key: String,
    meter_names: Vec<(String, String)>,
    meter_times: Vec<Vec<i64>>,
    meter_in_file: Vec<bool>,
    /// (meter, ts) → (value, line it came from; 0 = already stored).
    seen: FxHashMap<(u32, i64), (f64, u64)>,
    loaded: FxHashSet<(i32, u32)>,
    sinks: BTreeMap<(i32, u32), PartitionSink>,
    imported: u64,
    already_present: u64,
    file_seq: u32,
}

impl<'k> Importer<'k> {
    fn new(
        path: &Path,
        data_dir: &Path,
        staging: PathBuf,
        known: Option<&'k FxHashSet<String>>,
    ) -> Importer<'k> {
        Importer {
            dataset: dataset::readings_dir(data_dir),
            staging,
            known,
            report: Report::new(path.display().to_string()),
            errors: 0,
            valid_uscc: FxHashSet::default(),
            meters: FxHashMap::default(),
            meter_key: String::new(),
            meter_names: Vec::new(),
            meter_times: Vec::new(),
            meter_in_file: Vec::new(),
            seen: FxHashMap::default(),
            loaded: FxHashSet::default(),
            sinks: BTreeMap::new(),
            imported: 0,
            already_present: 0,
            file_seq: 0,
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

    /// Validates one row and, when it is new and the file is so far clean, stages it.
    fn accept(&mut self, line: u64, row: RowFields<'_>) -> Result<(), ImportError> {
        self.report.rows += 1;
        let errors_before = self.errors;
        let required = |column: &str, v: Option<&str>, this: &mut Self| -> Option<String> {
            match v.map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => Some(s.to_string()),
                None => {
                    this.cell_error(
                        line,
                        column,
                        "",
                        "missing_value",
                        format!("{column} is empty"),
                        format!("{column} 为空"),
                    );
                    None
                }
            }
        };
        let uscc = required("uscc", row.uscc, self);
        let meter_id = required("meter_id", row.meter_id, self);
        let carrier_name = required("carrier", row.carrier, self);
        let unit = required("unit", row.unit, self);

        if let Some(u) = &uscc {
            self.check_uscc(line, u);
        }
        let carrier = carrier_name.as_deref().and_then(|c| {
            let found = carrier::carrier(c);
            if found.is_none() {
                let known = carrier::CARRIERS
                    .iter()
                    .map(|c| c.carrier)
                    .collect::<Vec<_>>()
                    .join(", ");
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
        let factor = match (carrier, &unit) {
            (Some(c), Some(u)) => {
                let f = c.factor(u);
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
        let value = self.value(line, row.value_text, row.value, carrier, factor);

        if self.errors > errors_before {
            return Ok(());
        }
        let (Some(uscc), Some(meter_id), Some(carrier), Some(ts), Some(value)) =
            (uscc, meter_id, carrier, ts, value)
        else {
            return Ok(());
        };
        self.place(line, uscc, meter_id, carrier, ts, value)
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
        self.valid_uscc.insert(raw.to_string());
    }

    fn timestamp(&mut self, line: u64, ts: TsField<'_>) -> Option<i64> {
        let parsed = match ts {
            TsField::Text(t) => parse_ts(t).map_err(|e| (t.to_string(), e)),
            TsField::Instant(m) => Ok(m),
            TsField::Local(m) => chrono::DateTime::from_timestamp_micros(m)
                .ok_or_else(|| (m.to_string(), "out of range".to_string()))
                .and_then(|d| local_micros(d.naive_utc()).map_err(|e| (m.to_string(), e))),
            TsField::Null => Err((String::new(), "ts is empty".to_string())),
        };
        match parsed {
            Ok(m) => Some(m),
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
        carrier: Option<&CarrierUnits>,
        factor: Option<f64>,
    ) -> Option<f64> {
        let (raw, v) = match (text, number) {
            (Some(t), _) => match t.trim().parse::<f64>() {
                Ok(v) => (t.to_string(), v),
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
            (None, Some(v)) => (v.to_string(), v),
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
        if !v.is_finite() {
            self.cell_error(
                line,
                "value",
                &raw,
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
                &raw,
                "negative_value",
                "consumption cannot be negative".to_string(),
                "用量不能为负".to_string(),
            );
            return None;
        }
        let (carrier, factor) = (carrier?, factor?);
        let stored = v * factor;
        if stored > carrier.ceiling {
            self.cell_error(
                line,
                "value",
                &raw,
                "impossible_value",
                format!(
                    "{stored} {} in one reading is more than a factory meter can record (limit {} {})",
                    carrier.stored_unit, carrier.ceiling, carrier.stored_unit
                ),
                format!(
                    "单次读数 {stored} {} 超出工厂表计可能的范围（上限 {} {}）",
                    carrier.stored_unit, carrier.ceiling, carrier.stored_unit
                ),
            );
            return None;
        }
        Some(stored)
    }

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
        self.meter_times.push(Vec::new());
        self.meter_in_file.push(false);
        m
    }

    /// Loads the keys of the readings already stored in a month, once per import.
    fn load_partition(&mut self, year: i32, month: u32) -> Result<(), ImportError> {
        if !self.loaded.insert((year, month)) {
            return Ok(());
        }
        let files =
            dataset::partition_files(&self.dataset, year, month).map_err(io_err(&self.dataset))?;
        for path in files {
            let file = File::open(&path).map_err(io_err(&path))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
                .map_err(|source| ImportError::Write {
                    path: path.clone(),
                    source,
                })?;
            for batch in reader {
                let batch = batch.map_err(|e| ImportError::Write {
                    path: path.clone(),
                    source: e.into(),
                })?;
                let uscc = batch.column(0).as_string::<i32>();
                let meter = batch.column(1).as_string::<i32>();
                let ts = batch.column(3).as_primitive::<TimestampMicrosecondType>();
                let value = batch.column(4).as_primitive::<Float64Type>();
                for i in 0..batch.num_rows() {
                    let m = self.meter(uscc.value(i), meter.value(i));
                    self.meter_times[m as usize].push(ts.value(i));
                    self.seen.insert((m, ts.value(i)), (value.value(i), 0));
                }
            }
        }
        Ok(())
    }

    fn place(
        &mut self,
        line: u64,
        uscc: String,
        meter_id: String,
        carrier: &'static CarrierUnits,
        ts: i64,
        value: f64,
    ) -> Result<(), ImportError> {
        let (year, month) = accounting_month(ts);
        self.load_partition(year, month)?;
        let m = self.meter(&uscc, &meter_id);
        self.meter_in_file[m as usize] = true;
        if let Some(&(earlier, from)) = self.seen.get(&(m, ts)) {
            if same_value(earlier, value) {
                self.already_present += 1;
            } else {
                let (name_uscc, name_meter) = &self.meter_names[m as usize];
                let when = crate::time::format_local(ts);
                let (where_en, where_zh) = if from == 0 {
                    ("in the dataset".to_string(), "数据集中".to_string())
                } else {
                    (
                        format!("on row {from} of this file"),
                        format!("本文件第 {from} 行"),
                    )
                };
                let en = format!(
                    "meter {name_meter} of {name_uscc} at {when} already has {earlier} {} {where_en}",
                    carrier.stored_unit
                );
                let zh = format!(
                    "{name_uscc} 的表计 {name_meter} 在 {when} 已有读数 {earlier} {}（{where_zh}）",
                    carrier.stored_unit
                );
                self.cell_error(
                    line,
                    "value",
                    &value.to_string(),
                    "conflicting_reading",
                    en,
                    zh,
                );
            }
            return Ok(());
        }
        self.seen.insert((m, ts), (value, line));
        self.meter_times[m as usize].push(ts);
        if self.errors > 0 {
            // The file will be refused: keep validating, stop writing.
            return Ok(());
        }
        let key = self.sink(year, month)?;
        let (u, mid) = &self.meter_names[m as usize];
        let sink = self.sinks.get_mut(&key).expect("sink just made");
        sink.uscc.append_value(u);
        sink.meter_id.append_value(mid);
        sink.carrier.append_value(carrier.carrier);
        sink.ts.append_value(ts);
        sink.value.append_value(value);
        sink.unit.append_value(carrier.stored_unit);
        sink.buffered += 1;
        self.imported += 1;
        if sink.buffered >= BATCH_ROWS {
            sink.flush()?;
        }
        Ok(())
    }

    fn sink(&mut self, year: i32, month: u32) -> Result<(i32, u32), ImportError> {
        if self.sinks.contains_key(&(year, month)) {
            return Ok((year, month));
        }
        let relative = dataset::partition_path(year, month);
        let dir = self.staging.join(&relative);
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        self.file_seq += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "part-{nanos}-{}-{}.parquet",
            std::process::id(),
            self.file_seq
        );
        let staged = dir.join(&name);
        let file = File::create(&staged).map_err(io_err(&staged))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(1 << 20))
            .build();
        let writer = ArrowWriter::try_new(file, dataset::stored_schema(), Some(props)).map_err(
            |source| ImportError::Write {
                path: staged.clone(),
                source,
            },
        )?;
        self.sinks.insert(
            (year, month),
            PartitionSink {
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
            },
        );
        Ok((year, month))
    }

    fn finish(mut self) -> Result<ImportOutcome, ImportError> {
        if self.errors > MAX_LISTED_ERRORS {
            let more = self.errors - MAX_LISTED_ERRORS;
            self.report.issues.push(Issue::error(
                "too_many_errors",
                format!("{more} more errors not listed"),
                format!("另有 {more} 个错误未列出"),
            ));
        }
        let mut gaps = Vec::new();
        for (m, times) in self.meter_times.iter_mut().enumerate() {
            if self.meter_in_file[m] {
                let (uscc, meter) = &self.meter_names[m];
                gaps.extend(find_gaps(uscc, meter, times));
            }
        }
        if self.report.has_errors() {
            // Nothing moves: the staging folder is removed by the caller.
            return Ok(ImportOutcome {
                report: self.report,
                imported: 0,
                already_present: self.already_present,
                partitions: Vec::new(),
                gaps,
            });
        }
        let mut staged = Vec::new();
        for (key, mut sink) in std::mem::take(&mut self.sinks) {
            sink.flush()?;
            sink.writer.close().map_err(|source| ImportError::Write {
                path: sink.staged.clone(),
                source,
            })?;
            dataset::sync_file(&sink.staged).map_err(io_err(&sink.staged))?;
            staged.push((key, sink.staged, sink.relative));
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
            imported: self.imported,
            already_present: self.already_present,
            partitions,
            gaps,
        })
    }
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
