//! Writing results and reports: CSV (UTF-8 with BOM, so Chinese Excel opens it), XLSX, JSON, and
//! human tables on a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use gusu_core::evaluate::{EnterpriseResult, Status};
use gusu_core::{Report, Scheme, Severity};
use serde_json::{Map, Value};

use crate::failure::Failure;
use crate::i18n::Lang;

/// Appends the shortest text that reads back as exactly `n`, never in exponent form (Excel and
/// people read it as written). `ryu` does the common case several times faster than `{n}`; where
/// two shortest texts exist it may pick the other one (as serde_json does), which is the same number.
fn write_number(out: &mut String, n: f64) {
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format(n);
    if text.contains(['e', 'E']) || !n.is_finite() {
        let _ = write!(out, "{n}");
    } else {
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
    }
}

/// One cell of a result table, borrowing from the result where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Number(f64),
    Integer(i64),
}

impl<'a> Cell<'a> {
    fn opt_num(v: Option<f64>) -> Cell<'a> {
        v.map_or(Cell::Empty, Cell::Number)
    }

    pub fn text(v: &'a str) -> Cell<'a> {
        Cell::Text(Cow::Borrowed(v))
    }

    /// Text as written to CSV: numbers at full precision (shortest round-trip form).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }

    /// Appends the text to `out` (no allocation for text cells, one reused buffer for numbers).
    fn write_text(&self, out: &mut String) {
        match self {
            Cell::Empty => {}
            Cell::Text(t) => out.push_str(t),
            Cell::Number(n) => write_number(out, *n),
            Cell::Integer(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(t) => Value::String(t.to_string()),
            Cell::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Cell::Integer(n) => Value::Number((*n).into()),
        }
    }
}

/// Indicator keys of a scheme, in the scheme's order across groups.
pub fn indicator_keys(scheme: &Scheme) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for g in &scheme.groups {
        for i in &g.indicators {
            if !keys.iter().any(|k| **k == *i.key) {
                keys.push(i.key.to_string());
            }
        }
    }
    keys
}

/// The columns every result row starts with, whatever the scheme.
pub use gusu_core::evaluate::RESULT_COLUMNS as BASE_COLUMNS;

/// The result columns: `uscc, name, district, industry_division, group, status, class, score, rank`,
/// then `<indicator>_value, _benchmark, _score` per indicator, then `warnings`.
pub fn result_columns(indicators: &[String]) -> Vec<String> {
    let mut columns: Vec<String> = BASE_COLUMNS.iter().map(|s| s.to_string()).collect();
    for k in indicators {
        columns.push(format!("{k}_value"));
        columns.push(format!("{k}_benchmark"));
        columns.push(format!("{k}_score"));
    }
    columns.push("warnings".into());
    columns
}

/// A result column's heading in an XLSX workbook, which people open: Chinese by default, the
/// interchange key with `--lang en` (CSV and JSON always carry the keys, for programs).
pub fn column_label(key: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return key.to_string();
    }
    let base = match key {
        "uscc" => Some("统一社会信用代码"),
        "name" => Some("企业名称"),
        "district" => Some("区县代码"),
        "industry_division" => Some("行业大类"),
        "group" => Some("规模"),
        "status" => Some("评价状态"),
        "class" => Some("类别"),
        "score" => Some("得分"),
        "rank" => Some("组内排名"),
        "warnings" => Some("提示"),
        _ => None,
    };
    if let Some(label) = base {
        return label.to_string();
    }
    for (suffix, what) in [
        ("_value", "值"),
        ("_benchmark", "基准值"),
        ("_score", "得分"),
    ] {
        if let Some(k) = key.strip_suffix(suffix) {
            let name = gusu_core::Indicator::from_key(k).map_or(k, |i| i.name_zh());
            return format!("{name}（{what}）");
        }
    }
    key.to_string()
}

/// A result cell's text as people read it in Chinese (group and status; other cells as they are).
fn cell_label(column: usize, text: &str) -> Option<&'static str> {
    match (column, text) {
        (4, "above") => Some("规上"),
        (4, "below") => Some("规下"),
        (5, "graded") => Some(Status::Graded.name_zh()),
        (5, "exempt") => Some(Status::Exempt.name_zh()),
        (5, "out_of_scope") => Some(Status::OutOfScope.name_zh()),
        (5, "missing_data") => Some(Status::MissingData.name_zh()),
        _ => None,
    }
}

/// One enterprise's row, in the order of [`result_columns`]. Rows are made one at a time while
/// writing, so a million results never sit in memory twice.
pub fn result_row<'a>(r: &'a EnterpriseResult, indicators: &[String]) -> Vec<Cell<'a>> {
    let mut row = Vec::with_capacity(10 + 3 * indicators.len());
    row.extend([
        Cell::text(r.uscc.as_str()),
        Cell::text(&r.name),
        Cell::text(&r.district),
        Cell::text(&r.division),
        Cell::text(r.group.key()),
        Cell::text(r.status.key()),
        r.class.as_deref().map_or(Cell::Empty, Cell::text),
        Cell::opt_num(r.score),
        r.rank.map_or(Cell::Empty, |k| Cell::Integer(k.into())),
    ]);
    for k in indicators {
        match r.indicators.iter().find(|i| *i.key == **k) {
            Some(i) => {
                row.push(Cell::opt_num(i.value.get()));
                row.push(Cell::opt_num(i.benchmark.get()));
                row.push(Cell::Number(i.score));
            }
            None => row.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
        }
    }
    row.push(Cell::Text(Cow::Owned(r.warnings.join(";"))));
    row
}

/// Writes results to `path`; the extension picks the format (csv, xlsx, json).
pub fn write_results(
    results: &[EnterpriseResult],
    indicators: &[String],
    path: &Path,
    lang: Lang,
) -> Result<(), Failure> {
    let mut w = ResultWriter::create(path, indicators, lang)?;
    for r in results {
        w.write(r);
    }
    w.finish()
}

/// Formats results as CSV rows into bytes, independently of any file: several threads can each
/// format a batch while one writes them out in order.
pub struct CsvRows {
    indicators: Vec<String>,
    scratch: String,
}

impl CsvRows {
    pub fn new(indicators: &[String]) -> CsvRows {
        CsvRows {
            indicators: indicators.to_vec(),
            scratch: String::new(),
        }
    }

    /// Appends the CSV text of `results` to `out`, the same bytes as the csv crate writes for
    /// [`result_row`] (quoting only where needed), but written straight into the buffer: at a
    /// million results the row vectors, the per-field quoting scan of numbers and the joined
    /// warnings were most of the time of writing.
    pub fn format(&mut self, results: &[EnterpriseResult], mut out: Vec<u8>) -> Vec<u8> {
        let mut numbers = ryu::Buffer::new();
        let mut integers = itoa::Buffer::new();
        for r in results {
            push_field(&mut out, r.uscc.as_str());
            out.push(b',');
            push_field(&mut out, &r.name);
            out.push(b',');
            push_field(&mut out, &r.district);
            out.push(b',');
            push_field(&mut out, &r.division);
            out.push(b',');
            out.extend_from_slice(r.group.key().as_bytes());
            out.push(b',');
            out.extend_from_slice(r.status.key().as_bytes());
            out.push(b',');
            if let Some(class) = &r.class {
                push_field(&mut out, class);
            }
            out.push(b',');
            if let Some(score) = r.score {
                push_number(&mut out, score, &mut numbers);
            }
            out.push(b',');
            if let Some(rank) = r.rank {
                out.extend_from_slice(integers.format(rank).as_bytes());
            }
            for k in &self.indicators {
                out.push(b',');
                match r.indicators.iter().find(|i| *i.key == **k) {
                    Some(i) => {
                        if let Some(v) = i.value.get() {
                            push_number(&mut out, v, &mut numbers);
                        }
                        out.push(b',');
                        if let Some(b) = i.benchmark.get() {
                            push_number(&mut out, b, &mut numbers);
                        }
                        out.push(b',');
                        push_number(&mut out, i.score, &mut numbers);
                    }
                    None => out.extend_from_slice(b",,"),
                }
            }
            out.push(b',');
            self.scratch.clear();
            for (n, w) in r.warnings.iter().enumerate() {
                if n > 0 {
                    self.scratch.push(';');
                }
                self.scratch.push_str(w);
            }
            push_field(&mut out, &self.scratch);
            out.push(b'\n');
        }
        out
    }
}

/// A text field as the csv crate writes it by default: quoted, with quotes doubled, when it holds
/// a comma, a quote or a line break.
fn push_field(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for &b in bytes {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// [`write_number`]'s text, appended to bytes (numbers never need quoting).
fn push_number(out: &mut Vec<u8>, n: f64, buffer: &mut ryu::Buffer) {
    let text = buffer.format(n);
    if text.contains(['e', 'E']) || !n.is_finite() {
        let _ = write!(out, "{n}");
    } else {
        out.extend_from_slice(text.strip_suffix(".0").unwrap_or(text).as_bytes());
    }
}

enum Target {
    Csv(std::io::BufWriter<std::fs::File>),
    Json(std::io::BufWriter<std::fs::File>),
    Xlsx(
        Box<rust_xlsxwriter::Workbook>,
        Box<rust_xlsxwriter::Worksheet>,
    ),
}

/// Writes results one at a time as the engine hands them over; the first error is kept and
/// reported by `finish`. Rows go to `<path>.partial`, renamed to `path` by `finish`: a failed run
/// never leaves a truncated or stale-looking output file (dropping the writer removes the partial).
pub struct ResultWriter {
    target: Option<Target>,
    partial: std::path::PathBuf,
    indicators: Vec<String>,
    columns: Vec<String>,
    path: std::path::PathBuf,
    lang: Lang,
    rows: u32,
    csv_rows: CsvRows,
    buffer: Vec<u8>,
    error: Option<String>,
}

impl ResultWriter {
    pub fn create(path: &Path, indicators: &[String], lang: Lang) -> Result<ResultWriter, Failure> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default();
        let failed = |e: String| {
            Failure::usage(format!(
                "{} {}: {e}",
                lang.t("无法写入", "cannot write"),
                path.display()
            ))
        };
        let columns = result_columns(indicators);
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let create = || {
            std::fs::File::create(&partial).map(|f| std::io::BufWriter::with_capacity(1 << 20, f))
        };
        let target = match ext.as_str() {
            "csv" => {
                let mut out = create().map_err(|e| failed(e.to_string()))?;
                let mut header = csv::Writer::from_writer(Vec::from(gusu_ingest::UTF8_BOM));
                header
                    .write_record(&columns)
                    .map_err(|e| failed(e.to_string()))?;
                let header = header.into_inner().map_err(|e| failed(e.to_string()))?;
                out.write_all(&header).map_err(|e| failed(e.to_string()))?;
                Target::Csv(out)
            }
            "json" => {
                let mut out = create().map_err(|e| failed(e.to_string()))?;
                out.write_all(b"[").map_err(|e| failed(e.to_string()))?;
                Target::Json(out)
            }
            "xlsx" => {
                let mut book = rust_xlsxwriter::Workbook::new();
                // Constant memory: rows go to a temporary file as they are written.
                let mut sheet = book
                    .new_worksheet_with_constant_memory()
                    .map_err(|e| failed(e.to_string()))?;
                let bold = rust_xlsxwriter::Format::new().set_bold();
                for (c, name) in columns.iter().enumerate() {
                    sheet
                        .write_string_with_format(0, c as u16, column_label(name, lang), &bold)
                        .map_err(|e| failed(e.to_string()))?;
                }
                Target::Xlsx(Box::new(book), Box::new(sheet))
            }
            _ => {
                return Err(Failure::usage(format!(
                    "{}: {}",
                    path.display(),
                    lang.t(
                        "输出文件扩展名应为 .csv、.xlsx 或 .json",
                        "the output file's extension must be .csv, .xlsx or .json"
                    )
                )));
            }
        };
        Ok(ResultWriter {
            target: Some(target),
            partial,
            indicators: indicators.to_vec(),
            columns,
            path: path.to_path_buf(),
            lang,
            rows: 0,
            csv_rows: CsvRows::new(indicators),
            buffer: Vec::new(),
            error: None,
        })
    }

    /// True when rows may be formatted elsewhere by [`CsvRows`] and handed over as bytes.
    pub fn takes_csv_bytes(&self) -> bool {
        matches!(self.target, Some(Target::Csv(_)))
    }

    /// Appends rows already formatted by [`CsvRows`] (CSV output only).
    pub fn write_csv_bytes(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let written = match self.target.as_mut() {
            Some(Target::Csv(w)) => w
                .flush()
                .and_then(|_| w.get_mut().write_all(bytes))
                .map_err(|e| e.to_string()),
            _ => Err("not a CSV output".to_string()),
        };
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    pub fn write(&mut self, r: &EnterpriseResult) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.write_row(r) {
            self.error = Some(e);
        }
    }

    fn write_row(&mut self, r: &EnterpriseResult) -> Result<(), String> {
        let row = result_row(r, &self.indicators);
        self.rows += 1;
        match self.target.as_mut().ok_or("writer already finished")? {
            Target::Csv(out) => {
                let bytes = self
                    .csv_rows
                    .format(std::slice::from_ref(r), std::mem::take(&mut self.buffer));
                let written = out.write_all(&bytes).map_err(|e| e.to_string());
                self.buffer = bytes;
                self.buffer.clear();
                written
            }
            Target::Json(out) => {
                let mut m = Map::new();
                for (c, cell) in self.columns.iter().zip(&row) {
                    m.insert(c.clone(), cell.to_json());
                }
                out.write_all(if self.rows == 1 { b"\n  " } else { b",\n  " })
                    .map_err(|e| e.to_string())?;
                serde_json::to_writer(&mut *out, &Value::Object(m)).map_err(|e| e.to_string())
            }
            Target::Xlsx(_, sheet) => {
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    let written = match cell {
                        Cell::Empty => continue,
                        Cell::Text(t) => {
                            let shown = match self.lang {
                                Lang::Zh => cell_label(c as usize, t).unwrap_or(t.as_ref()),
                                Lang::En => t.as_ref(),
                            };
                            sheet.write_string(self.rows, c, shown).map(|_| ())
                        }
                        Cell::Number(n) => sheet.write_number(self.rows, c, *n).map(|_| ()),
                        Cell::Integer(n) => sheet.write_number(self.rows, c, *n as f64).map(|_| ()),
                    };
                    written.map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        }
    }

    pub fn finish(mut self) -> Result<(), Failure> {
        let lang = self.lang;
        let path = self.path.clone();
        let failed = |e: String| {
            Failure::usage(format!(
                "{} {}: {e}",
                lang.t("无法写入", "cannot write"),
                path.display()
            ))
        };
        if let Some(e) = self.error.take() {
            return Err(failed(e));
        }
        match self.target.take() {
            None => {}
            Some(Target::Csv(mut out)) => out.flush().map_err(|e| failed(e.to_string()))?,
            Some(Target::Json(mut out)) => out
                .write_all(b"\n]\n")
                .and_then(|_| out.flush())
                .map_err(|e| failed(e.to_string()))?,
            Some(Target::Xlsx(mut book, sheet)) => {
                book.push_worksheet(*sheet);
                book.save(&self.partial)
                    .map_err(|e| failed(e.to_string()))?;
            }
        }
        std::fs::rename(&self.partial, &path).map_err(|e| failed(e.to_string()))
    }
}

impl Drop for ResultWriter {
    fn drop(&mut self) {
        // Not finished (an error, or the evaluation failed): leave nothing behind.
        if self.target.is_some() || self.error.is_some() {
            self.target = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// A terminal table of the first `limit` results and the chosen columns.
pub fn print_results(
    results: &[EnterpriseResult],
    indicators: &[String],
    columns: &[&str],
    limit: usize,
) {
    let all = result_columns(indicators);
    let idx: Vec<usize> = columns
        .iter()
        .filter_map(|c| all.iter().position(|x| x == c))
        .collect();
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(idx.iter().map(|&i| all[i].clone()));
    for r in results.iter().take(limit) {
        let row = result_row(r, indicators);
        t.add_row(idx.iter().map(|&i| match &row[i] {
            Cell::Number(n) if n.fract() != 0.0 => format!("{n:.2}"),
            other => other.to_text(),
        }));
    }
    println!("{t}");
}

/// The JSON report of `validate --format json`.
pub fn report_json(report: &Report, lang: Lang) -> Value {
    let errors: Vec<Value> = report
        .issues
        .iter()
        .map(|i| {
            serde_json::json!({
                "row": i.row,
                "column": i.column,
                "value": i.value,
                "reason": match lang { Lang::Zh => &i.reason_zh, Lang::En => &i.reason },
                "severity": match i.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "code": i.code,
            })
        })
        .collect();
    serde_json::json!({
        "file": report.file,
        "sheet": report.sheet,
        "rows": report.rows,
        "ignored_columns": report.ignored_columns,
        "errors": errors,
    })
}

/// Prints a validation report for people: a summary line, then each finding (up to `limit`).
/// Which findings a report lists after its summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Errors and warnings (validate).
    All,
    /// Errors only: the warnings are counted (evaluate, import; `gusu validate` lists them).
    Errors,
}

pub fn print_report(report: &Report, lang: Lang, limit: usize, listing: Listing) {
    eprintln!(
        "{}: {} {}, {} {}, {} {}",
        report.source_name(),
        report.rows,
        lang.t("行数据", "data rows"),
        report.error_count(),
        lang.t("个错误", "errors"),
        report.warning_count(),
        lang.t("个警告", "warnings"),
    );
    let mut issues: Vec<_> = report
        .issues
        .iter()
        .filter(|i| listing == Listing::All || i.is_error())
        .collect();
    // Errors first: they are what blocks an import.
    issues.sort_by_key(|i| (std::cmp::Reverse(i.severity), i.row));
    for i in issues.iter().take(limit) {
        let sev = match (i.severity, lang) {
            (Severity::Error, Lang::Zh) => "错误",
            (Severity::Warning, Lang::Zh) => "警告",
            (Severity::Error, Lang::En) => "error",
            (Severity::Warning, Lang::En) => "warning",
        };
        let row = i
            .row
            .map(|r| format!("{}{r}", lang.t("第", "row ")))
            .unwrap_or_default();
        let row = if lang == Lang::Zh && i.row.is_some() {
            format!("{row}行")
        } else {
            row
        };
        let col = i
            .column
            .as_deref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        let val = i
            .value
            .as_deref()
            .map(|v| format!(" “{v}”"))
            .unwrap_or_default();
        let reason = match lang {
            Lang::Zh => &i.reason_zh,
            Lang::En => &i.reason,
        };
        eprintln!(
            "  {sev} {}:{row}{col}{val}: {reason} ({})",
            report.source_name(),
            i.code
        );
    }
    if limit > 0 && issues.len() > limit {
        eprintln!(
            "  … {} {}",
            issues.len() - limit,
            lang.t(
                "条未显示（用 --format json 查看全部）",
                "more not shown (use --format json for all)"
            )
        );
    }
}

/// Writes any table (columns and rows of cells) to `path`; the extension picks csv (with BOM),
/// xlsx or json (an array of objects keyed by column). Written to `<path>.partial` and renamed, so a
/// failure never leaves a truncated file.
pub fn write_table(
    path: &Path,
    columns: &[&str],
    rows: &[Vec<Cell<'_>>],
    lang: Lang,
) -> Result<(), Failure> {
    let failed = |e: String| {
        Failure::usage(format!(
            "{} {}: {e}",
            lang.t("无法写入", "cannot write"),
            path.display()
        ))
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let written: Result<(), String> = match ext.as_str() {
        "csv" => (|| {
            let mut out = Vec::from(gusu_ingest::UTF8_BOM);
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(columns).map_err(|e| e.to_string())?;
            let mut text = String::new();
            for row in rows {
                for cell in row {
                    text.clear();
                    cell.write_text(&mut text);
                    w.write_field(&text).map_err(|e| e.to_string())?;
                }
                w.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
            }
            drop(w);
            std::fs::write(&partial, out).map_err(|e| e.to_string())
        })(),
        "json" => {
            let array: Vec<Value> = rows
                .iter()
                .map(|row| {
                    let mut m = Map::new();
                    for (c, cell) in columns.iter().zip(row) {
                        m.insert(c.to_string(), cell.to_json());
                    }
                    Value::Object(m)
                })
                .collect();
            serde_json::to_vec_pretty(&array)
                .map_err(|e| e.to_string())
                .and_then(|bytes| std::fs::write(&partial, bytes).map_err(|e| e.to_string()))
        }
        "xlsx" => (|| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, name) in columns.iter().enumerate() {
                sheet
                    .write_string_with_format(0, c as u16, *name, &bold)
                    .map_err(|e| e.to_string())?;
            }
            for (r, row) in rows.iter().enumerate() {
                let r = r as u32 + 1;
                for (c, cell) in row.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Empty => Ok(()),
                        Cell::Text(t) => sheet.write_string(r, c, t.as_ref()).map(|_| ()),
                        Cell::Number(n) => sheet.write_number(r, c, *n).map(|_| ()),
                        Cell::Integer(n) => sheet.write_number(r, c, *n as f64).map(|_| ()),
                    }
                    .map_err(|e| e.to_string())?;
                }
            }
            book.save(&partial).map_err(|e| e.to_string())
        })(),
        _ => {
            return Err(Failure::usage(format!(
                "{}: {}",
                path.display(),
                lang.t(
                    "输出文件扩展名应为 .csv、.xlsx 或 .json",
                    "the output file's extension must be .csv, .xlsx or .json"
                )
            )));
        }
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(failed(e));
    }
    std::fs::rename(&partial, path).map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod number_tests {
    use super::write_number;
    use proptest::prelude::*;

    fn display_like(n: f64) -> String {
        let mut s = String::new();
        write_number(&mut s, n);
        s
    }

    #[test]
    fn edge_cases_read_back_and_look_like_display() {
        for n in [
            0.0,
            -0.0,
            2.0,
            -29.166666666666668,
            0.1 + 0.2,
            1e-7,
            1e16,
            1e21,
            123456.789,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            assert_eq!(display_like(n), format!("{n}"), "{n:e}");
        }
    }

    proptest! {
        /// Full precision: the text reads back as the very same number, and is plain decimal.
        #[test]
        fn reads_back_exactly(n in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
            let text = display_like(n);
            prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), n.to_bits(), "{}", text);
            prop_assert!(!text.contains(['e', 'E']));
            let display = format!("{}", n);
            prop_assert!(text.len() <= display.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gusu_core::evaluate::{IndicatorResult, SizeGroup};
    use gusu_core::number::MaybeF64;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// The rows as the csv crate writes [`result_row`]: the reference for the direct formatter.
    fn through_csv_crate(results: &[EnterpriseResult], indicators: &[String]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in results {
            let fields: Vec<String> = result_row(r, indicators)
                .iter()
                .map(Cell::to_text)
                .collect();
            w.write_record(&fields).unwrap();
        }
        w.into_inner().unwrap()
    }

    fn result(name: String, warnings: Vec<String>, numbers: [Option<f64>; 4]) -> EnterpriseResult {
        let key = |k: &str| -> Arc<str> { k.into() };
        EnterpriseResult {
            uscc: gusu_core::Uscc::parse("91320583MAMF6T7XJL").unwrap(),
            name,
            district: key("320583"),
            division: key("40"),
            group: SizeGroup::Below,
            status: Status::Graded,
            class: numbers[0].map(|_| key("A")),
            score: numbers[0],
            rank: numbers[1].map(|v| v.abs() as u32),
            rank_in_district: None,
            rank_in_division: None,
            group_size: None,
            percentile: None,
            indicators: vec![IndicatorResult {
                key: key("tax_per_mu"),
                value: MaybeF64::from(numbers[2]),
                benchmark: MaybeF64::from(numbers[3]),
                weight: 40.0,
                score: numbers[2].unwrap_or(0.0),
                imputed: false,
                fallback: None,
            }],
            adjustments: Vec::new(),
            measures: Vec::new(),
            warnings: warnings.into_iter().map(Arc::from).collect(),
        }
    }

    proptest! {
        /// Names and warnings with commas, quotes and line breaks, and numbers of every size
        /// (exponents, whole numbers, negatives), come out byte for byte as the csv crate writes them.
        #[test]
        fn direct_rows_are_the_csv_crates_bytes(
            name in "[a-z,\"\n\r 苏州]{0,12}",
            warnings in proptest::collection::vec("[a-z:,\"]{0,6}", 0..3),
            numbers in proptest::array::uniform4(proptest::option::of(
                prop_oneof![any::<f64>().prop_filter("finite", |v| v.is_finite()), -1e6..1e6f64, Just(2.0), Just(1e21), Just(1e-7)]
            )),
        ) {
            let indicators = vec!["tax_per_mu".to_string(), "rd_intensity".to_string()];
            let results = vec![result(name, warnings, numbers), result("x".into(), vec![], [None; 4])];
            let direct = CsvRows::new(&indicators).format(&results, Vec::new());
            prop_assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(through_csv_crate(&results, &indicators)).unwrap()
            );
        }
    }
}
