//! Workbooks (XLSX, Excel 97–2003 `.xls`, OpenDocument `.ods`), read with calamine.
//!
//! XLSX sheets are read as a stream of cells, never through calamine's `worksheet_range`, which
//! allocates the whole declared grid: a 1.6 KB file declaring `A1:XFD1048576` would ask for
//! 17 billion cells. The declared and the actual extent are both checked against the limits
//! below before any grid is built. `.xls` and `.ods` sheets are decoded whole by calamine when the
//! workbook is opened (BIFF8 itself stops at 65,536 × 256 cells; calamine caps ODS repeats), and
//! their extent is checked against the same limits before gusu uses them.
//!
//! Merged header cells (a group such as "主要经济指标（万元）" over three columns, or "用地面积"
//! merged down over two rows) hold their text in the top-left cell only; the text is copied into
//! every cell the merge covers in the rows where a header can be, so each column reads its
//! nearest header text above it.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{
    Cell, Data, Dimensions, Ods, Range, Reader, SheetType, SheetVisible, Xls, Xlsx,
    XlsxFormulaMetadata,
};

use crate::error::IngestError;

/// Columns a sheet may span. A department file has a few dozen; a thousand leaves room for wide
/// statistical tables while refusing a sheet that spans Excel's 16,384.
pub(crate) const MAX_COLUMNS: u64 = 1_000;
/// Rows a sheet may span: Excel's own limit.
pub(crate) const MAX_ROWS: u64 = 1_048_576;
/// Cells of the grid built from a sheet (rows × columns of its extent): 30 million is a million
/// enterprises with 30 columns, and about 1 GB in memory.
pub(crate) const MAX_GRID_CELLS: u64 = 30_000_000;

/// Uncompressed bytes a workbook's archive may declare in all: room for a sheet at the grid limit
/// (30 million cells at some tens of bytes of XML each; an estimate, not a measurement). A zip bomb (a few KB inflating to many GB of shared strings, which calamine holds
/// in memory) is refused before any part is inflated. Sizes are the archive's own declarations.
pub(crate) const MAX_UNCOMPRESSED_BYTES: u64 = 4 << 30;

/// Refuses an archive whose entries declare more than `limit` uncompressed bytes in all.
fn check_archive(bytes: &[u8], file: &str, limit: u64) -> Result<(), IngestError> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // Not a readable archive: calamine says so in its own terms below.
        return Ok(());
    };
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        if let Ok(entry) = archive.by_index_raw(i) {
            total = total.saturating_add(entry.size());
        }
        if total > limit {
            return Err(IngestError::WorkbookTooLarge {
                file: file.to_string(),
                bytes: total,
            });
        }
    }
    Ok(())
}

/// One worksheet, loaded whole.
#[derive(Debug)]
pub(crate) struct SheetTable {
    range: Range<Data>,
}

impl SheetTable {
    pub(crate) fn row_count(&self) -> usize {
        self.range.height()
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

/// A sheet of a workbook as listed in it.
#[derive(Debug, Clone)]
pub(crate) struct SheetName {
    pub(crate) name: String,
    /// Hidden sheets (lookup lists, macros' scratch space) are never read unless named.
    pub(crate) visible: bool,
}

enum Book {
    Xlsx(Xlsx<Cursor<Vec<u8>>>),
    Xls(Xls<Cursor<Vec<u8>>>),
    Ods(Ods<Cursor<Vec<u8>>>),
}

/// An open workbook of any of the three formats.
pub(crate) struct Workbook {
    book: Book,
    file: String,
}

impl std::fmt::Debug for Workbook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbook")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// The workbook formats, told apart by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BookFormat {
    /// A zip archive: XLSX, or ODS when it holds a `mimetype` entry.
    Zip,
    /// An OLE compound file: Excel 97–2003.
    Xls,
}

impl BookFormat {
    pub(crate) fn sniff(bytes: &[u8]) -> Option<BookFormat> {
        if bytes.starts_with(b"PK\x03\x04") {
            Some(BookFormat::Zip)
        } else if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            Some(BookFormat::Xls)
        } else {
            None
        }
    }
}

/// Runs calamine on untrusted bytes: should it ever panic on a malformed workbook, that becomes
/// an error for this file instead of taking the whole run down.
fn guarded<T>(file: &str, f: impl FnOnce() -> Result<T, IngestError>) -> Result<T, IngestError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(_) => Err(IngestError::Workbook {
            file: file.to_string(),
            detail: crate::error::WorkbookProblem::Malformed,
        }),
    }
}

impl Workbook {
    pub(crate) fn open(
        bytes: Vec<u8>,
        format: BookFormat,
        file: &str,
    ) -> Result<Workbook, IngestError> {
        let unreadable = |detail| IngestError::Workbook {
            file: file.to_string(),
            detail,
        };
        if format == BookFormat::Zip {
            check_archive(&bytes, file, MAX_UNCOMPRESSED_BYTES)?;
        }
        let book = guarded(file, || match format {
            BookFormat::Xls => Xls::new(Cursor::new(bytes))
                .map(Book::Xls)
                .map_err(|e| unreadable(crate::error::WorkbookProblem::from_xls(&e))),
            BookFormat::Zip => {
                if is_ods(&bytes) {
                    Ods::new(Cursor::new(bytes))
                        .map(Book::Ods)
                        .map_err(|e| unreadable(crate::error::WorkbookProblem::from_ods(&e)))
                } else {
                    Xlsx::new(Cursor::new(bytes))
                        .map(Book::Xlsx)
                        .map_err(|e| unreadable(crate::error::WorkbookProblem::from_xlsx(&e)))
                }
            }
        })?;
        Ok(Workbook {
            book,
            file: file.to_string(),
        })
    }

    /// The sheets in workbook order.
    pub(crate) fn sheets(&self) -> Vec<SheetName> {
        let sheets = match &self.book {
            Book::Xlsx(b) => b.sheets_metadata(),
            Book::Xls(b) => b.sheets_metadata(),
            Book::Ods(b) => b.sheets_metadata(),
        };
        sheets
            .iter()
            // Chart and macro sheets hold no cells.
            .filter(|s| s.typ == SheetType::WorkSheet)
            .map(|s| SheetName {
                name: s.name.clone(),
                visible: s.visible == SheetVisible::Visible,
            })
            .collect()
    }

    /// Finds a sheet by its exact name, then forgiving about case and surrounding spaces.
    pub(crate) fn find_sheet(&self, wanted: &str) -> Result<String, IngestError> {
        let names: Vec<String> = self.sheets().into_iter().map(|s| s.name).collect();
        names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            })
            .cloned()
            .ok_or_else(|| IngestError::SheetNotFound {
                file: self.file.clone(),
                sheet: wanted.to_string(),
                available: names.clone(),
            })
    }

    /// Loads one sheet, with merged header cells filled in.
    pub(crate) fn load(&mut self, sheet: &str) -> Result<SheetTable, IngestError> {
        let file = self.file.clone();
        let range = guarded(&file, || {
            let (mut range, merged) = match &mut self.book {
                Book::Xlsx(book) => {
                    let range = xlsx_sheet(book, &file, sheet)?;
                    // A sheet whose merge list cannot be read is still read; its headers then
                    // need to be one row.
                    let merged = book.merge_cells_by_sheet_name(sheet).unwrap_or_default();
                    (range, merged)
                }
                Book::Xls(book) => {
                    let range = book
                        .worksheet_range(sheet)
                        .map_err(|e| IngestError::Workbook {
                            file: file.clone(),
                            detail: crate::error::WorkbookProblem::from_xls(&e),
                        })?;
                    #[allow(deprecated)]
                    let merged = book.worksheet_merge_cells(sheet).unwrap_or_default();
                    (range, merged)
                }
                Book::Ods(book) => {
                    let range = book
                        .worksheet_range(sheet)
                        .map_err(|e| IngestError::Workbook {
                            file: file.clone(),
                            detail: crate::error::WorkbookProblem::from_ods(&e),
                        })?;
                    (range, Vec::new())
                }
            };
            if let (Some(start), Some(end)) = (range.start(), range.end()) {
                check_extent(&file, sheet, start, end)?;
            }
            fill_merged(&mut range, &merged);
            Ok(range)
        })?;
        Ok(SheetTable { range })
    }
}

/// An OpenDocument spreadsheet is a zip whose first entry, `mimetype`, is stored uncompressed
/// right after its local header, so its text sits at a fixed offset.
fn is_ods(bytes: &[u8]) -> bool {
    bytes.len() > 38 + 46
        && &bytes[30..38] == b"mimetype"
        && bytes[38..].starts_with(b"application/vnd.oasis.opendocument.spreadsheet")
}

/// Copies the text of each merged region into every cell it covers: a group header over its
/// columns, a header merged down over two rows, a district merged down over its enterprises'
/// rows. The copies are bounded by the grid limit, so a file listing huge overlapping merges
/// cannot make this loop long.
fn fill_merged(range: &mut Range<Data>, merged: &[Dimensions]) {
    let (Some(range_start), Some(range_end)) = (range.start(), range.end()) else {
        return;
    };
    let mut budget = MAX_GRID_CELLS;
    for region in merged {
        let Some(value) = range.get_value(region.start).cloned() else {
            continue;
        };
        if value == Data::Empty {
            continue;
        }
        // Only positions inside the (already checked) range are written.
        for row in region.start.0.max(range_start.0)..=region.end.0.min(range_end.0) {
            for col in region.start.1.max(range_start.1)..=region.end.1.min(range_end.1) {
                if budget == 0 {
                    return;
                }
                budget -= 1;
                if (row, col) != region.start {
                    range.set_value((row, col), value.clone());
                }
            }
        }
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

/// Streams one XLSX sheet's cells into a sparse grid, checking its extent as the cells come.
fn xlsx_sheet(
    workbook: &mut Xlsx<Cursor<Vec<u8>>>,
    file: &str,
    name: &str,
) -> Result<Range<Data>, IngestError> {
    let unreadable = |e: calamine::XlsxError| IngestError::Workbook {
        file: file.to_string(),
        detail: crate::error::WorkbookProblem::from_xlsx(&e),
    };
    let mut reader = workbook.worksheet_cells_reader(name).map_err(unreadable)?;
    let declared = reader.dimensions();
    check_extent(file, name, declared.start, declared.end)?;
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
                    sheet: name.to_string(),
                    cell: cell_name(cell.pos),
                });
            }
            continue;
        }
        low = (low.0.min(cell.pos.0), low.1.min(cell.pos.1));
        high = (high.0.max(cell.pos.0), high.1.max(cell.pos.1));
        // The cells themselves may lie outside the declared extent: check as they come, so a
        // sheet that lies about its size is refused before the grid is built.
        check_extent(file, name, low, high)?;
        cells.push(Cell::new(cell.pos, value));
    }
    Ok(Range::from_sparse(cells))
}

#[cfg(test)]
mod tests {
    use super::{cell_name, check_archive};

    #[test]
    fn an_archive_declaring_more_than_the_limit_is_refused_before_inflating() {
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet()
            .write_string(0, 0, "统一社会信用代码")
            .unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert!(check_archive(&bytes, "a.xlsx", super::MAX_UNCOMPRESSED_BYTES).is_ok());
        match check_archive(&bytes, "a.xlsx", 1_000) {
            Err(crate::IngestError::WorkbookTooLarge { bytes, .. }) => assert!(bytes > 1_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cell_names_as_excel_writes_them() {
        assert_eq!(cell_name((4, 2)), "C5");
        assert_eq!(cell_name((0, 25)), "Z1");
        assert_eq!(cell_name((0, 26)), "AA1");
        assert_eq!(cell_name((1_048_575, 16_383)), "XFD1048576");
    }
}
