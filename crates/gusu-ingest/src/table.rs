//! A file as rows of cells, whatever its format, and the walk over it: finding the header below
//! any title rows, then handing each data row on while skipping blank, total and note rows.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;

use calamine::Data;

use crate::cell::Cell;
use crate::csv_source::{self, CsvTable, TextRecord};
use crate::error::FormatProblem;
use crate::error::IngestError;
use crate::file_bytes::FileBytes;
use crate::header::{
    Column, FileKind, Layout, SheetUnit, SkippedRow, TwoRowHeader, key_column_names,
    names_key_columns,
};
use crate::workbook::{BookFormat, SheetTable, Workbook};

/// How many non-blank rows from the top may come before the header (title, unit and note rows).
pub(crate) const HEADER_SEARCH_ROWS: usize = 20;

/// A loaded file. Kept alive after parsing so rows rejected later (unknown enterprise, merge
/// conflict) can be copied into the rejects file as they were written.
#[derive(Debug)]
pub(crate) enum Table {
    Csv(CsvTable),
    Sheet(SheetTable),
}

/// One row, borrowed from the table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowRef<'a> {
    Csv(TextRecord<'a>),
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

/// Extensions that are certainly not a table gusu reads.
const OTHER_FORMATS: &[&str] = &[
    "xlsb", "et", "numbers", "pdf", "doc", "docx", "wps", "zip", "rar", "7z", "json", "xml", "png",
    "jpg", "jpeg",
];

/// The workbook extensions, whose content must be a workbook.
const WORKBOOK_EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xls", "ods"];

/// A file opened: a text table, or a workbook whose sheets are loaded one by one.
#[derive(Debug)]
pub(crate) enum Opened {
    Text(Table),
    Workbook(Box<Workbook>),
}

/// Picks the format by content first (XLSX and ODS are zip archives starting `PK`, `.xls` an OLE
/// compound file), then by extension; anything else is read as delimited text.
pub(crate) fn open(bytes: FileBytes, file: &str) -> Result<Opened, IngestError> {
    let unsupported = |detail| IngestError::UnsupportedFormat {
        file: file.to_string(),
        detail,
    };
    if bytes.is_empty() {
        return Err(IngestError::EmptyFile {
            file: file.to_string(),
        });
    }
    if let Some(format) = BookFormat::sniff(&bytes) {
        // Office encrypts a whole workbook into an OLE file holding an `EncryptedPackage`.
        if format == BookFormat::Xls && contains_utf16(&bytes, "EncryptedPackage") {
            return Err(unsupported(FormatProblem::Encrypted));
        }
        return Workbook::open(bytes.into_vec(), format, file)
            .map(|w| Opened::Workbook(Box::new(w)));
    }
    let ext = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
        return Err(unsupported(FormatProblem::NotTheNamedWorkbook(ext)));
    }
    if OTHER_FORMATS.contains(&ext.as_str()) {
        return Err(unsupported(FormatProblem::Extension(ext)));
    }
    let text = csv_source::decode(bytes).map_err(|()| unsupported(FormatProblem::Binary))?;
    Ok(Opened::Text(Table::Csv(CsvTable::new(text))))
}

fn contains_utf16(bytes: &[u8], text: &str) -> bool {
    let needle: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(needle.len()).any(|w| w == needle.as_slice())
}

impl Table {
    /// An upper bound on the number of rows, to size the row vectors once: growing a vector of a
    /// million records by doubling costs more in fresh pages than the parse itself.
    pub(crate) fn row_capacity(&self) -> usize {
        match self {
            Table::Csv(t) => t.line_count(),
            Table::Sheet(t) => t.row_count(),
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
            // The reader is flexible about field counts and reads decoded text, so the only error
            // it can give is an I/O one from a slice, which cannot happen.
            Table::Csv(t) => t.for_each_row(|n, r| f(n, RowRef::Csv(r))).map_err(|_| {
                IngestError::UnsupportedFormat {
                    file: file.to_string(),
                    detail: FormatProblem::Binary,
                }
            }),
            Table::Sheet(t) => {
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

/// Where the walk is: looking for the header, holding a header row until the next row says
/// whether the header has a second row, or reading data.
enum WalkState {
    Searching,
    Header {
        row: u64,
        cells: Vec<String>,
        /// The row just above, when it may be the upper half of the header (group cells).
        above: Option<Vec<String>>,
    },
    Reading(Box<Layout>),
}

/// Walks the table: finds the header among the first rows (one row, or two with group cells
/// above the column names), notes a unit stated for the whole sheet above it, then calls
/// `on_row` for each data row with its row number. Returns the layout.
pub(crate) fn walk(
    table: &Table,
    kind: FileKind,
    file: &str,
    mut on_row: impl FnMut(&Layout, u64, RowRef<'_>),
) -> Result<Layout, IngestError> {
    let mut state = WalkState::Searching;
    let mut failure: Option<IngestError> = None;
    let mut scanned = 0;
    let mut sheet_unit: Option<SheetUnit> = None;
    // The last non-blank row before the header, with its number.
    let mut previous: Option<(u64, Vec<String>)> = None;
    let mut skipped: Vec<(u64, SkippedRow)> = Vec::new();
    table.for_each_row(file, |n, row| {
        if let WalkState::Header { .. } = state {
            let WalkState::Header {
                row: header_row,
                cells,
                above,
            } = std::mem::replace(&mut state, WalkState::Searching)
            else {
                unreachable!("matched above");
            };
            let lower = (n == header_row + 1 && !row.is_blank())
                .then(|| texts(row))
                .filter(|next| {
                    TwoRowHeader::is_lower_row(next) && !next.iter().any(|c| looks_like_code(c))
                });
            let consumed = lower.is_some();
            let built = header_layout(
                header_row,
                cells,
                above,
                lower.as_deref(),
                sheet_unit.take(),
                kind,
                file,
            )
            .map(|l| (l, consumed));
            match built {
                Ok((Some(layout), consumed)) => {
                    state = WalkState::Reading(Box::new(layout));
                    if consumed {
                        return ControlFlow::Continue(());
                    }
                }
                // The key columns were found in the row, so a layout always comes back.
                Ok((None, _)) => return ControlFlow::Break(()),
                Err(e) => {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        match &state {
            WalkState::Reading(l) => {
                if is_blank_row(l, row) {
                } else if is_total_row(l, row) {
                    skipped.push((n, SkippedRow::Total));
                } else if is_note_row(l, row) {
                    skipped.push((n, SkippedRow::Note));
                } else {
                    on_row(l, n, row);
                }
            }
            WalkState::Searching => {
                if row.is_blank() {
                    return ControlFlow::Continue(());
                }
                scanned += 1;
                let cells = texts(row);
                if names_key_columns(&cells, kind) {
                    let above = previous
                        .take()
                        .filter(|(p, top)| *p + 1 == n && is_group_row(top, &cells))
                        .map(|(_, top)| top);
                    state = WalkState::Header {
                        row: n,
                        cells,
                        above,
                    };
                    return ControlFlow::Continue(());
                }
                if let Some(unit) = SheetUnit::find(n, &cells) {
                    sheet_unit = Some(unit);
                }
                if scanned >= HEADER_SEARCH_ROWS {
                    return ControlFlow::Break(());
                }
                previous = Some((n, cells));
            }
            WalkState::Header { .. } => unreachable!("resolved above"),
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    // A header in the last row of the file.
    if let WalkState::Header { row, cells, above } = state {
        let built = header_layout(row, cells, above, None, sheet_unit.take(), kind, file)?;
        state = built.map_or(WalkState::Searching, |l| WalkState::Reading(Box::new(l)));
    }
    match state {
        WalkState::Reading(mut layout) => {
            layout.skipped_rows = skipped;
            Ok(*layout)
        }
        _ => Err(IngestError::NoHeader {
            file: file.to_string(),
            required: key_column_names(kind),
            scanned,
        }),
    }
}

/// The layout of a header row: alone, with the row below it when that is the header's lower half,
/// or with the row above when that is its upper half (group cells).
fn header_layout(
    row: u64,
    cells: Vec<String>,
    above: Option<Vec<String>>,
    below: Option<&[String]>,
    sheet_unit: Option<SheetUnit>,
    kind: FileKind,
    file: &str,
) -> Result<Option<Layout>, IngestError> {
    let (first_row, two) = match (below, above) {
        (Some(next), _) => (row, TwoRowHeader::combine(&cells, next)),
        (None, Some(top)) => (row - 1, TwoRowHeader::combine(&top, &cells)),
        (None, None) => return Layout::from_header(row, cells, None, sheet_unit, kind, file),
    };
    Layout::from_header(
        first_row,
        two.cells.clone(),
        Some(&two),
        sheet_unit,
        kind,
        file,
    )
}

fn texts(row: RowRef<'_>) -> Vec<String> {
    row.cells().map(|c| c.text().into_owned()).collect()
}

/// The row above a header row is its upper half when it holds group cells: at least two
/// different texts (a title has one, copied across when merged), all standing over the header's
/// columns, none of them a column name itself, a code, or a `label：text` note (填报单位：…).
fn is_group_row(top: &[String], header: &[String]) -> bool {
    let width = header
        .iter()
        .rposition(|h| !h.trim().is_empty())
        .map_or(0, |i| i + 1);
    let filled: Vec<(usize, &str)> = top
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.trim()))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let mut distinct: Vec<&str> = filled.iter().map(|(_, c)| *c).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() >= 2
        && filled.iter().all(|&(i, c)| {
            i < width
                && !looks_like_code(c)
                && !c.contains([':', '：'])
                && !TwoRowHeader::is_lower_row(&[c.to_string()])
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

/// A 合计/总计/小计 row: a cell is the total marker (`合计`, `合 计`, `小计：`, `总计(万元)`), and
/// the code cell is blank or the marker itself. A company whose name starts with 小计 (小计量仪器)
/// is not a marker, and a row with a code, even a malformed one, is data: its code is reported.
fn is_total_row(layout: &Layout, row: RowRef<'_>) -> bool {
    let code = uscc_cell(layout, row);
    if !(code.is_blank() || is_total_marker(&code.text())) {
        return false;
    }
    row.cells().any(|c| is_total_marker(&c.text()))
}

fn is_total_marker(text: &str) -> bool {
    // Every marker has 计; a data row's cells are checked without building a string.
    if !text.contains('计') {
        return false;
    }
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    ["合计", "总计", "小计", "总合计"].iter().any(|t| {
        squeezed.strip_prefix(t).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| matches!(c, ':' | '：' | '(' | '（' | '[' | '【' | '-' | '—'))
        })
    })
}

/// A signature or note line under the table (`制表人：张三`, `注：…`): no code, and every
/// non-blank cell is a `label：text` note.
fn is_note_row(layout: &Layout, row: RowRef<'_>) -> bool {
    // The cells first: a data row's first filled cell (its code) settles it.
    row.cells()
        .filter(|c| !c.is_blank())
        .all(|c| matches!(c, Cell::Text(t) if t.contains(['：', ':'])))
        && !looks_like_code(&uscc_cell(layout, row).text())
}
