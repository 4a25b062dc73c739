//! Writing results and reports: CSV (UTF-8 with BOM, so Chinese Excel opens it), XLSX, JSON, and
//! human tables on a terminal.

use std::io::Write;
use std::path::Path;

use gusu_core::evaluate::EnterpriseResult;
use gusu_core::{Report, Scheme, Severity};
use serde_json::{Map, Value};

use crate::failure::Failure;
use crate::i18n::Lang;

/// One cell of a result table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

impl Cell {
    fn opt_num(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }

    fn opt_text(v: Option<String>) -> Cell {
        v.map_or(Cell::Empty, Cell::Text)
    }

    /// Text as written to CSV: numbers at full precision (shortest round-trip form).
    pub fn to_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => format!("{n}"),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(t) => Value::String(t.clone()),
            Cell::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Indicator keys of a scheme, in the scheme's order across groups.
pub fn indicator_keys(scheme: &Scheme) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for g in &scheme.groups {
        for i in &g.indicators {
            if !keys.contains(&i.key) {
                keys.push(i.key.clone());
            }
        }
    }
    keys
}

/// The result columns: `uscc, name, district, industry_division, group, status, class, score, rank`,
/// then `<indicator>_value, _benchmark, _score` per indicator, then `warnings`.
pub fn results_table(results: &[EnterpriseResult], indicators: &[String]) -> Table {
    let mut columns: Vec<String> = [
        "uscc",
        "name",
        "district",
        "industry_division",
        "group",
        "status",
        "class",
        "score",
        "rank",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for k in indicators {
        columns.push(format!("{k}_value"));
        columns.push(format!("{k}_benchmark"));
        columns.push(format!("{k}_score"));
    }
    columns.push("warnings".into());
    let rows = results
        .iter()
        .map(|r| {
            let mut row = vec![
                Cell::Text(r.uscc.to_string()),
                Cell::Text(r.name.clone()),
                Cell::Text(r.district.clone()),
                Cell::Text(r.division.clone()),
                Cell::Text(r.group.clone()),
                Cell::Text(r.status.key().to_string()),
                Cell::opt_text(r.class.clone()),
                Cell::opt_num(r.score),
                Cell::opt_num(r.rank.map(f64::from)),
            ];
            for k in indicators {
                match r.indicators.iter().find(|i| &i.key == k) {
                    Some(i) => {
                        row.push(Cell::opt_num(i.value));
                        row.push(Cell::opt_num(i.benchmark));
                        row.push(Cell::Number(i.score));
                    }
                    None => row.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
                }
            }
            row.push(Cell::Text(r.warnings.join(";")));
            row
        })
        .collect();
    Table { columns, rows }
}

/// Writes a table to `path`; the extension picks the format (csv, xlsx, json).
pub fn write_table(table: &Table, path: &Path, lang: Lang) -> Result<(), Failure> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let io_err = |e: std::io::Error| {
        Failure::usage(format!(
            "{} {}: {e}",
            lang.t("无法写入", "cannot write"),
            path.display()
        ))
    };
    match ext.as_str() {
        "csv" => write_csv(table, path).map_err(io_err),
        "json" => {
            let array: Vec<Value> = table
                .rows
                .iter()
                .map(|row| {
                    let mut m = Map::new();
                    for (c, cell) in table.columns.iter().zip(row) {
                        m.insert(c.clone(), cell.to_json());
                    }
                    Value::Object(m)
                })
                .collect();
            let text =
                serde_json::to_string_pretty(&array).map_err(|e| Failure::data(e.to_string()))?;
            std::fs::write(path, text).map_err(io_err)
        }
        "xlsx" => write_xlsx(table, path).map_err(|e| {
            Failure::usage(format!(
                "{} {}: {e}",
                lang.t("无法写入", "cannot write"),
                path.display()
            ))
        }),
        _ => Err(Failure::usage(format!(
            "{}: {}",
            path.display(),
            lang.t(
                "输出文件扩展名应为 .csv、.xlsx 或 .json",
                "the output file's extension must be .csv, .xlsx or .json"
            )
        ))),
    }
}

fn write_csv(table: &Table, path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut buffered = std::io::BufWriter::new(file);
    buffered.write_all(gusu_ingest::UTF8_BOM)?;
    let mut w = csv::Writer::from_writer(buffered);
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row.iter().map(Cell::to_text))?;
    }
    w.flush()?;
    Ok(())
}

fn write_xlsx(table: &Table, path: &Path) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, name) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, name, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Empty => {}
                Cell::Text(t) => {
                    sheet.write_string(r, c, t)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save(path)
}

/// A terminal table of the first `limit` rows and the chosen columns.
pub fn print_table(table: &Table, columns: &[&str], limit: usize) {
    let idx: Vec<usize> = columns
        .iter()
        .filter_map(|c| table.columns.iter().position(|x| x == c))
        .collect();
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(idx.iter().map(|&i| table.columns[i].clone()));
    for row in table.rows.iter().take(limit) {
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
    serde_json::json!({ "file": report.file, "rows": report.rows, "errors": errors })
}

/// Prints a validation report for people: a summary line, then each finding (up to `limit`).
pub fn print_report(report: &Report, lang: Lang, limit: usize) {
    eprintln!(
        "{}: {} {}, {} {}, {} {}",
        report.file,
        report.rows,
        lang.t("行数据", "data rows"),
        report.error_count(),
        lang.t("个错误", "errors"),
        report.warning_count(),
        lang.t("个警告", "warnings"),
    );
    let mut issues: Vec<_> = report.issues.iter().collect();
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
            report.file, i.code
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
