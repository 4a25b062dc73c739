//! The rejects file: the rows a clerk has to fix, as written, with the reasons beside them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use gusu_core::Report;

use crate::UTF8_BOM;
use crate::parsed::Rejected;

/// Header of the column that carries the reasons.
pub const REASONS_HEADER: &str = "错误原因 (reasons)";

/// `dir/annual.xlsx` → `dir/annual.rejects.csv`.
pub fn rejects_path(source_path: &Path) -> PathBuf {
    source_path.with_extension("rejects.csv")
}

/// Writes `<file stem>.rejects.csv` beside the source (UTF-8 with BOM, so Excel shows Chinese
/// correctly): the header, each rejected row's cells as written, and a last column with every
/// error of that row in Chinese and English. Fixing the cells and deleting the last column gives
/// a file that can be read again.
pub fn write_rejects(
    source_path: &Path,
    rejected: &Rejected,
    report: &Report,
) -> std::io::Result<PathBuf> {
    write_rejects_for(source_path, None, rejected, report)
}

/// `<file stem>.rejects.csv`, or `<file stem>.<sheet>.rejects.csv` for a sheet of a workbook
/// (characters a file name cannot hold replaced by `_`).
pub fn rejects_path_for(source_path: &Path, sheet: Option<&str>) -> PathBuf {
    match sheet {
        None => rejects_path(source_path),
        Some(sheet) => {
            let safe: String = sheet
                .chars()
                .map(|c| match c {
                    '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '.' => '_',
                    c if c.is_control() => '_',
                    c => c,
                })
                .collect();
            source_path.with_extension(format!("{safe}.rejects.csv"))
        }
    }
}

/// [`write_rejects`] for one sheet of a workbook: the file is [`rejects_path_for`].
pub fn write_rejects_for(
    source_path: &Path,
    sheet: Option<&str>,
    rejected: &Rejected,
    report: &Report,
) -> std::io::Result<PathBuf> {
    let mut reasons: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for issue in report.issues.iter().filter(|i| i.is_error()) {
        if let Some(row) = issue.row {
            let column = issue.column.as_deref().unwrap_or("-");
            reasons
                .entry(row)
                .or_default()
                .push(format!("{column}: {} ({})", issue.reason_zh, issue.reason));
        }
    }

    let path = rejects_path_for(source_path, sheet);
    let mut out = BufWriter::new(File::create(&path)?);
    out.write_all(UTF8_BOM)?;
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let width = rejected.header.len();
    let mut header = rejected.header.clone();
    header.push(REASONS_HEADER.to_string());
    writer.write_record(&header)?;
    for (row, cells) in &rejected.rows {
        let mut record = cells.clone();
        if record.len() < width {
            record.resize(width, String::new());
        }
        record.push(reasons.get(row).map(|r| r.join("; ")).unwrap_or_default());
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(path)
}
