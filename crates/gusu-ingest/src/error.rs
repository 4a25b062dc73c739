//! File-level failures: the file as a whole cannot be read as an interchange file.
//!
//! Problems with single rows or cells are never errors of this kind: they are findings in the
//! file's [`gusu_core::Report`].

/// Why a whole file could not be read. Every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: cannot read the file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a CSV or XLSX file: {detail}")]
    UnsupportedFormat { file: String, detail: String },
    #[error("{file}: cannot read the workbook: {detail}")]
    Workbook { file: String, detail: String },
    #[error("{file}: there is no sheet named '{sheet}'; the workbook has: {}", available.join(", "))]
    SheetNotFound {
        file: String,
        sheet: String,
        available: Vec<String>,
    },
    #[error(
        "{file}: sheet '{sheet}' spans {rows} rows and {columns} columns, more than gusu reads \
         (at most {max_rows} rows, {max_columns} columns and {max_cells} cells); \
         delete the empty rows and columns beyond the table, or split the file",
        max_rows = crate::xlsx_source::MAX_ROWS,
        max_columns = crate::xlsx_source::MAX_COLUMNS,
        max_cells = crate::xlsx_source::MAX_GRID_CELLS
    )]
    SheetTooLarge {
        file: String,
        sheet: String,
        rows: u64,
        columns: u64,
    },
    #[error(
        "{file}: cell {cell} of sheet '{sheet}' holds a formula saved without its value; \
         open the file in Excel or WPS, let it calculate, and save it again"
    )]
    FormulaWithoutValue {
        file: String,
        sheet: String,
        cell: String,
    },
    #[error(
        "{file}: no header row found in the first {scanned} rows; the header must name at least the columns {}",
        required.join(", ")
    )]
    NoHeader {
        file: String,
        /// The key columns, as `key (中文名)`.
        required: Vec<String>,
        scanned: usize,
    },
    #[error(
        "{file}: the header (row {row}) has no column '{column}' ({column_zh}), which is required"
    )]
    MissingColumn {
        file: String,
        column: String,
        column_zh: String,
        row: u64,
    },
    #[error(
        "{file}: the header (row {row}) has two columns for '{column}': '{first}' and '{second}'"
    )]
    DuplicateColumn {
        file: String,
        column: String,
        first: String,
        second: String,
        row: u64,
    },
}

impl IngestError {
    /// The file the error is about, as it was named.
    pub fn file(&self) -> &str {
        match self {
            IngestError::Read { file, .. }
            | IngestError::UnsupportedFormat { file, .. }
            | IngestError::Workbook { file, .. }
            | IngestError::SheetNotFound { file, .. }
            | IngestError::SheetTooLarge { file, .. }
            | IngestError::FormulaWithoutValue { file, .. }
            | IngestError::NoHeader { file, .. }
            | IngestError::MissingColumn { file, .. }
            | IngestError::DuplicateColumn { file, .. } => file,
        }
    }

    /// The same message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            IngestError::Read { file, source } => format!("{file}：无法读取文件：{source}"),
            IngestError::UnsupportedFormat { file, detail } => {
                format!("{file}：不是 CSV 或 XLSX 文件：{detail}")
            }
            IngestError::Workbook { file, detail } => {
                format!("{file}：无法读取该 Excel 工作簿：{detail}")
            }
            IngestError::SheetNotFound {
                file,
                sheet,
                available,
            } => format!(
                "{file}：没有名为“{sheet}”的工作表；该工作簿中的工作表有：{}",
                available.join("、")
            ),
            IngestError::SheetTooLarge {
                file,
                sheet,
                rows,
                columns,
            } => format!(
                "{file}：工作表“{sheet}”占 {rows} 行 {columns} 列，超出可读取的范围（至多 {} 行、{} 列、{} 个单元格）；请删除表格以外的空行空列，或将文件拆分",
                crate::xlsx_source::MAX_ROWS,
                crate::xlsx_source::MAX_COLUMNS,
                crate::xlsx_source::MAX_GRID_CELLS
            ),
            IngestError::FormulaWithoutValue { file, sheet, cell } => format!(
                "{file}：工作表“{sheet}”的单元格 {cell} 是公式，但文件中没有保存其计算结果；请用 Excel 或 WPS 打开、重新计算后另存"
            ),
            IngestError::NoHeader {
                file,
                required,
                scanned,
            } => format!(
                "{file}：前 {scanned} 行中找不到表头行；表头至少应包含以下列：{}",
                required.join("、")
            ),
            IngestError::MissingColumn {
                file,
                column,
                column_zh,
                row,
            } => format!("{file}：表头（第 {row} 行）缺少必需的列“{column_zh}”（{column}）"),
            IngestError::DuplicateColumn {
                file,
                column,
                first,
                second,
                row,
            } => format!(
                "{file}：表头（第 {row} 行）中“{first}”和“{second}”两列都表示“{column}”，只能保留一列"
            ),
        }
    }
}
