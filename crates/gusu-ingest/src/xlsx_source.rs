//! XLSX workbooks, read with calamine.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, Range, Reader, Xlsx};

use crate::error::IngestError;

/// One worksheet, loaded whole.
#[derive(Debug)]
pub(crate) struct XlsxTable {
    range: Range<Data>,
}

impl XlsxTable {
    pub(crate) fn row_count(&self) -> usize {
        self.range.height()
    }

    /// Opens the workbook and loads the named sheet, or the first one.
    pub(crate) fn open(
        bytes: &[u8],
        file: &str,
        sheet: Option<&str>,
    ) -> Result<XlsxTable, IngestError> {
        let workbook_error = |detail: String| IngestError::Workbook {
            file: file.to_string(),
            detail,
        };
        // calamine parses zip and XML from untrusted files: should it ever panic on a malformed
        // workbook, that becomes an error for this file instead of taking the whole run down.
        let loaded = catch_unwind(AssertUnwindSafe(|| load_sheet(bytes, sheet)));
        match loaded {
            Ok(Ok(range)) => Ok(XlsxTable { range }),
            Ok(Err(Failure::NoSuchSheet(available))) => Err(IngestError::SheetNotFound {
                file: file.to_string(),
                sheet: sheet.unwrap_or_default().to_string(),
                available,
            }),
            Ok(Err(Failure::Unreadable(detail))) => Err(workbook_error(detail)),
            Err(_) => Err(workbook_error("the workbook is malformed".to_string())),
        }
    }

    /// Rows with their 1-based sheet row numbers. The range starts at the first used cell, so
    /// its start offset is added back.
    pub(crate) fn rows(&self) -> impl Iterator<Item = (u64, &[Data])> {
        let first = self.range.start().map_or(0, |(row, _)| u64::from(row));
        self.range
            .rows()
            .enumerate()
            .map(move |(i, cells)| (first + i as u64 + 1, cells))
    }
}

enum Failure {
    NoSuchSheet(Vec<String>),
    Unreadable(String),
}

fn load_sheet(bytes: &[u8], sheet: Option<&str>) -> Result<Range<Data>, Failure> {
    let unreadable = |e: calamine::XlsxError| Failure::Unreadable(e.to_string());
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        // Exact name first; then forgiving about case and surrounding spaces.
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            })
            .cloned()
            .ok_or_else(|| Failure::NoSuchSheet(names.clone()))?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| Failure::Unreadable("the workbook has no sheets".to_string()))?,
    };
    workbook.worksheet_range(&name).map_err(unreadable)
}
