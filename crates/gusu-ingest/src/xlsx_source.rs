//! XLSX workbooks, read with calamine.
//!
//! The sheet is read as a stream of cells, never through calamine's `worksheet_range`, which
//! allocates the whole declared grid: a 1.6 KB file declaring `A1:XFD1048576` would ask for
//! 17 billion cells. The declared and the actual extent are both checked against the limits
//! below before any grid is built.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Cell, Data, Range, Reader, Xlsx, XlsxFormulaMetadata};

/// Columns a sheet may span. A department file has a few dozen; a thousand leaves room for wide
/// statistical tables while refusing a sheet that spans Excel's 16,384.
pub(crate) const MAX_COLUMNS: u64 = 1_000;
/// Rows a sheet may span: Excel's own limit.
pub(crate) const MAX_ROWS: u64 = 1_048_576;
/// Cells of the grid built from a sheet (rows × columns of its extent): 30 million is a million
/// enterprises with 30 columns, and about 1 GB in memory.
pub(crate) const MAX_GRID_CELLS: u64 = 30_000_000;

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
        // calamine parses zip and XML from untrusted files: should it ever panic on a malformed
        // workbook, that becomes an error for this file instead of taking the whole run down.
        match catch_unwind(AssertUnwindSafe(|| load_sheet(bytes, file, sheet))) {
            Ok(loaded) => loaded.map(|range| XlsxTable { range }),
            Err(_) => Err(IngestError::Workbook {
                file: file.to_string(),
                detail: "the workbook is malformed".to_string(),
            }),
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

/// Refuses an extent (first and last row and column, zero-based) beyond the limits.
fn check_extent(
    file: &str,
    sheet: &str,
    start: (u32, u32),
    end: (u32, u32),
) -> Result<(), IngestError> {
    let rows = u64::from(end.0.saturating_sub(start.0)) + 1;
    let columns = u64::from(end.1.saturating_sub(start.1)) + 1;
    if rows > MAX_ROWS || columns > MAX_COLUMNS || rows * columns > MAX_GRID_CELLS {
        return Err(IngestError::SheetTooLarge {
            file: file.to_string(),
            sheet: sheet.to_string(),
            rows,
            columns,
        });
    }
    Ok(())
}

/// `C5` for the zero-based position (4, 2).
fn cell_name((row, col): (u32, u32)) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

fn load_sheet(bytes: &[u8], file: &str, sheet: Option<&str>) -> Result<Range<Data>, IngestError> {
    let unreadable = |e: calamine::XlsxError| IngestError::Workbook {
        file: file.to_string(),
        detail: e.to_string(),
    };
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
            .ok_or_else(|| IngestError::SheetNotFound {
                file: file.to_string(),
                sheet: wanted.to_string(),
                available: names.clone(),
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| IngestError::Workbook {
                file: file.to_string(),
                detail: "the workbook has no sheets".to_string(),
            })?,
    };
    let mut reader = workbook.worksheet_cells_reader(&name).map_err(unreadable)?;
    let declared = reader.dimensions();
    check_extent(file, &name, declared.start, declared.end)?;
    let mut cells = Vec::new();
    let (mut low, mut high) = ((u32::MAX, u32::MAX), (0u32, 0u32));
    // The metadata form tells a formula cell apart without expanding each shared formula's text.
    while let Some(cell) = reader
        .next_cell_with_formula_metadata()
        .map_err(unreadable)?
    {
        let value = Data::from(cell.value);
        if value == Data::Empty {
            // A formula saved without its result (written by a program, not by Excel) would
            // read as a blank and silently lose the figure.
            let has_formula = match &cell.formula {
                Some(XlsxFormulaMetadata::Normal { formula }) => !formula.is_empty(),
                Some(_) => true,
                None => false,
            };
            if has_formula {
                return Err(IngestError::FormulaWithoutValue {
                    file: file.to_string(),
                    sheet: name,
                    cell: cell_name(cell.pos),
                });
            }
            continue;
        }
        low = (low.0.min(cell.pos.0), low.1.min(cell.pos.1));
        high = (high.0.max(cell.pos.0), high.1.max(cell.pos.1));
        // The cells themselves may lie outside the declared extent: check as they come, so a
        // sheet that lies about its size is refused before the grid is built.
        check_extent(file, &name, low, high)?;
        cells.push(Cell::new(cell.pos, value));
    }
    Ok(Range::from_sparse(cells))
}

#[cfg(test)]
mod tests {
    use super::cell_name;

    #[test]
    fn cell_names_as_excel_writes_them() {
        assert_eq!(cell_name((4, 2)), "C5");
        assert_eq!(cell_name((0, 25)), "Z1");
        assert_eq!(cell_name((0, 26)), "AA1");
        assert_eq!(cell_name((1_048_575, 16_383)), "XFD1048576");
    }
}
