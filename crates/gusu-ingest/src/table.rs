//! A file as rows of cells, whatever its format, and the walk over it: finding the header below
//! any title rows, then handing each data row on while skipping blank, total and note rows.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;

use calamine::Data;
use csv::StringRecord;

use crate::cell::Cell;
use crate::csv_source::{self, CsvTable};
use crate::error::IngestError;
use crate::header::{Column, FileKind, Layout, key_column_names};
use crate::xlsx_source::XlsxTable;

/// How many non-blank rows from the top may come before the header (title, unit and note rows).
pub(crate) const HEADER_SEARCH_ROWS: usize = 20;

/// A loaded file. Kept alive after parsing so rows rejected later (unknown enterprise, merge
/// conflict) can be copied into the rejects file as they were written.
#[derive(Debug)]
pub(crate) enum Table {
    Csv(CsvTable),
    Xlsx(XlsxTable),
}

/// One row, borrowed from the table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowRef<'a> {
    Csv(&'a StringRecord),
    Xlsx(&'a [Data]),
}

impl<'a> RowRef<'a> {
    pub(crate) fn len(&self) -> usize {
        match self {
            RowRef::Csv(r) => r.len(),
            RowRef::Xlsx(r) => r.len(),
        }
    }

    pub(crate) fn cell(&self, i: usize) -> Cell<'a> {
        match *self {
            RowRef::Csv(r) => csv_source::cell(r, i),
            RowRef::Xlsx(r) => r.get(i).map_or(Cell::Empty, Cell::from_xlsx),
        }
    }

    fn cells(&self) -> impl Iterator<Item = Cell<'a>> + '_ {
        (0..self.len()).map(|i| self.cell(i))
    }

    fn is_blank(&self) -> bool {
        self.cells().all(|c| c.is_blank())
    }

    /// The cells as text, trailing empty cells dropped. The USCC column is written as Excel
    /// displays it, so a code Excel turned into a number reads `9.13205E+17`, as the clerk saw it.
    pub(crate) fn raw(&self, uscc_col: Option<usize>) -> Vec<String> {
        let mut out: Vec<String> = (0..self.len())
            .map(|i| {
                let cell = self.cell(i);
                if Some(i) == uscc_col {
                    cell.text_as_displayed().into_owned()
                } else {
                    cell.text().into_owned()
                }
            })
            .collect();
        while out.last().is_some_and(String::is_empty) {
            out.pop();
        }
        out
    }
}

/// Extensions that are certainly neither CSV nor XLSX.
const OTHER_FORMATS: &[&str] = &[
    "xls", "xlsb", "ods", "et", "numbers", "pdf", "doc", "docx", "wps", "zip", "rar", "7z", "json",
    "xml", "png", "jpg", "jpeg",
];

impl Table {
    /// Picks the format by content first (an XLSX file is a zip archive and starts `PK`), then by
    /// extension; anything else is read as CSV.
    pub(crate) fn load(
        bytes: Vec<u8>,
        file: &str,
        sheet: Option<&str>,
    ) -> Result<Table, IngestError> {
        let unsupported = |detail: &str| IngestError::UnsupportedFormat {
            file: file.to_string(),
            detail: detail.to_string(),
        };
        if bytes.starts_with(b"PK\x03\x04") {
            return XlsxTable::open(&bytes, file, sheet).map(Table::Xlsx);
        }
        if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
            return Err(unsupported(
                "this is an old Excel 97-2003 (.xls) workbook; open it in Excel and save as .xlsx",
            ));
        }
        let ext = Path::new(file)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if ext == "xlsx" || ext == "xlsm" {
            return Err(unsupported(
                "the name ends .xlsx but the content is not an Excel workbook",
            ));
        }
        if OTHER_FORMATS.contains(&ext.as_str()) {
            return Err(unsupported(&format!(
                ".{ext} files are not read; save as .xlsx or .csv"
            )));
        }
        let text = csv_source::decode(bytes).map_err(|detail| unsupported(&detail))?;
        Ok(Table::Csv(CsvTable::new(text)))
    }

    /// An upper bound on the number of rows, to size the row vectors once: growing a vector of a
    /// million records by doubling costs more in fresh pages than the parse itself.
    pub(crate) fn row_capacity(&self) -> usize {
        match self {
            Table::Csv(t) => t.line_count(),
            Table::Xlsx(t) => t.row_count(),
        }
    }

    /// CSV cells are all text, so any of them may be a number Excel wrote out (an industry code
    /// that lost its leading zero, say).
    pub(crate) fn is_csv(&self) -> bool {
        matches!(self, Table::Csv(_))
    }

    fn for_each_row(
        &self,
        file: &str,
        mut f: impl FnMut(u64, RowRef<'_>) -> ControlFlow<()>,
    ) -> Result<(), IngestError> {
        match self {
            Table::Csv(t) => t.for_each_row(|n, r| f(n, RowRef::Csv(r))).map_err(|e| {
                IngestError::UnsupportedFormat {
                    file: file.to_string(),
                    detail: format!("the CSV cannot be read: {e}"),
                }
            }),
            Table::Xlsx(t) => {
                for (n, r) in t.rows() {
                    if f(n, RowRef::Xlsx(r)).is_break() {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// The raw cells of the given rows, found in one pass.
    pub(crate) fn raw_rows(
        &self,
        wanted: &BTreeSet<u64>,
        uscc_col: Option<usize>,
    ) -> BTreeMap<u64, Vec<String>> {
        let mut found = BTreeMap::new();
        if wanted.is_empty() {
            return found;
        }
        let last = wanted.last().copied().unwrap_or(0);
        // The file was read once already, so this pass cannot fail; an error would only leave
        // rows without their raw cells.
        let _ = self.for_each_row("", |n, row| {
            if wanted.contains(&n) {
                found.insert(n, row.raw(uscc_col));
            }
            if n >= last {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        found
    }
}

/// Walks the table: finds the header among the first rows, then calls `on_row` for each data
/// row with its row number. Returns the layout.
pub(crate) fn walk(
    table: &Table,
    kind: FileKind,
    file: &str,
    mut on_row: impl FnMut(&Layout, u64, RowRef<'_>),
) -> Result<Layout, IngestError> {
    let mut layout: Option<Layout> = None;
    let mut failure: Option<IngestError> = None;
    let mut scanned = 0;
    table.for_each_row(file, |n, row| {
        match &layout {
            Some(l) => {
                if !(is_blank_row(l, row) || is_total_row(l, row) || is_note_row(l, row)) {
                    on_row(l, n, row);
                }
            }
            None => {
                if row.is_blank() {
                    return ControlFlow::Continue(());
                }
                scanned += 1;
                let cells = row.cells().map(|c| c.text().into_owned()).collect();
                match Layout::from_row(n, cells, kind, file) {
                    Ok(Some(found)) => layout = Some(found),
                    Ok(None) if scanned >= HEADER_SEARCH_ROWS => return ControlFlow::Break(()),
                    Ok(None) => {}
                    Err(e) => {
                        failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    layout.ok_or_else(|| IngestError::NoHeader {
        file: file.to_string(),
        required: key_column_names(kind),
        scanned,
    })
}

/// A row with nothing in the columns the file uses: blank, or only a 序号 (sequence number)
/// or a remark, as in templates with numbered empty rows at the bottom.
fn is_blank_row(layout: &Layout, row: RowRef<'_>) -> bool {
    layout.used_positions().all(|i| row.cell(i).is_blank())
}

/// True when the text could be a code: 18 letters and digits once spaces and hyphens are gone.
fn looks_like_code(text: &str) -> bool {
    let mut n = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
        if !c.is_ascii_alphanumeric() {
            return false;
        }
        n += 1;
    }
    n == 18
}

fn uscc_cell<'a>(layout: &Layout, row: RowRef<'a>) -> Cell<'a> {
    layout
        .slot(Column::Uscc)
        .map_or(Cell::Empty, |(i, _)| row.cell(i))
}

/// A 合计/总计/小计 row: one cell says so and the row has no code (a company whose name happens
/// to contain 小计, as in 小计量仪器, still has its code and stays a data row).
fn is_total_row(layout: &Layout, row: RowRef<'_>) -> bool {
    if looks_like_code(&uscc_cell(layout, row).text()) {
        return false;
    }
    row.cells().any(|c| {
        let text = c.text();
        let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        ["合计", "总计", "小计"]
            .iter()
            .any(|t| squeezed.contains(t))
    })
}

/// A signature or note line under the table (`制表人：张三`, `注：…`): no code, and every
/// non-blank cell is a `label：text` note.
fn is_note_row(layout: &Layout, row: RowRef<'_>) -> bool {
    !looks_like_code(&uscc_cell(layout, row).text())
        && row
            .cells()
            .filter(|c| !c.is_blank())
            .all(|c| matches!(c, Cell::Text(t) if t.contains(['：', ':'])))
}
