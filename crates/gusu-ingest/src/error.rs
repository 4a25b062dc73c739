//! File-level failures: the file as a whole cannot be read as an interchange file.
//!
//! Problems with single rows or cells are never errors of this kind: they are findings in the
//! file's [`gusu_core::Report`]. Every message says what is wrong and what to do, in words an
//! office worker knows (Excel, WPS, 另存为), never a library's own detail.

use crate::workbook::{MAX_COLUMNS, MAX_GRID_CELLS, MAX_ROWS};

/// Why a workbook could not be opened, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkbookProblem {
    /// The archive or its parts are damaged, or it is not a workbook at all.
    Malformed,
    /// The workbook asks for a password to open.
    Password,
    /// The workbook lists no sheets.
    NoSheets,
}

impl WorkbookProblem {
    pub(crate) fn from_xlsx(e: &calamine::XlsxError) -> WorkbookProblem {
        match e {
            calamine::XlsxError::Password => WorkbookProblem::Password,
            _ => WorkbookProblem::Malformed,
        }
    }

    pub(crate) fn from_xls(e: &calamine::XlsError) -> WorkbookProblem {
        match e {
            calamine::XlsError::Password => WorkbookProblem::Password,
            _ => WorkbookProblem::Malformed,
        }
    }

    pub(crate) fn from_ods(e: &calamine::OdsError) -> WorkbookProblem {
        match e {
            calamine::OdsError::Password => WorkbookProblem::Password,
            _ => WorkbookProblem::Malformed,
        }
    }

    fn en(&self) -> &'static str {
        match self {
            WorkbookProblem::Malformed => {
                "the workbook is damaged or not a real Excel file; open it in Excel or WPS and save it again as .xlsx"
            }
            WorkbookProblem::Password => {
                "the workbook is protected by a password; remove the password (File > Info > Protect Workbook) and save it again"
            }
            WorkbookProblem::NoSheets => "the workbook has no sheets",
        }
    }

    fn zh(&self) -> &'static str {
        match self {
            WorkbookProblem::Malformed => {
                "文件已损坏，或并不是真正的 Excel 工作簿；请用 Excel 或 WPS 打开后另存为 .xlsx 再试"
            }
            WorkbookProblem::Password => {
                "工作簿设置了打开密码；请取消密码（文件 → 信息 → 保护工作簿）后另存再试"
            }
            WorkbookProblem::NoSheets => "工作簿中没有任何工作表",
        }
    }
}

/// Why a file is not read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatProblem {
    /// A format gusu does not read, by its extension (without the dot, lower case).
    Extension(String),
    /// The name ends `.xlsx` (or `.xls`, `.ods`) but the content is something else.
    NotTheNamedWorkbook(String),
    /// Bytes that are not text (a PDF, an image, an unknown binary).
    Binary,
    /// An Excel file encrypted as a whole (it asks for a password to open).
    Encrypted,
}

impl FormatProblem {
    fn en(&self) -> String {
        match self {
            FormatProblem::Extension(ext) => format!(
                "gusu does not read .{ext} files; save the table as .xlsx, .xls, .ods or .csv"
            ),
            FormatProblem::NotTheNamedWorkbook(ext) => format!(
                "the name ends .{ext} but the content is not such a workbook; open it in Excel or WPS and save it again as .xlsx"
            ),
            FormatProblem::Binary => {
                "the file is not a table (it holds binary data); save the table as .xlsx or .csv".into()
            }
            FormatProblem::Encrypted => {
                "the workbook is protected by a password; remove the password (File > Info > Protect Workbook) and save it again".into()
            }
        }
    }

    fn zh(&self) -> String {
        match self {
            FormatProblem::Extension(ext) => {
                format!("不能读取 .{ext} 文件；请将表格另存为 .xlsx、.xls、.ods 或 .csv")
            }
            FormatProblem::NotTheNamedWorkbook(ext) => format!(
                "文件名以 .{ext} 结尾，但内容不是这种工作簿；请用 Excel 或 WPS 打开后另存为 .xlsx 再试"
            ),
            FormatProblem::Binary => {
                "文件不是表格（含有二进制数据）；请将表格另存为 .xlsx 或 .csv".into()
            }
            FormatProblem::Encrypted => {
                "工作簿设置了打开密码；请取消密码（文件 → 信息 → 保护工作簿）后另存再试".into()
            }
        }
    }
}

/// Why a whole file could not be read. Every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{file}: cannot read the file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {}", detail.en())]
    UnsupportedFormat { file: String, detail: FormatProblem },
    #[error("{file}: {}", detail.en())]
    Workbook {
        file: String,
        detail: WorkbookProblem,
    },
    #[error("{file}: the file is empty (0 bytes); export the table again")]
    EmptyFile { file: String },
    #[error("{file}: there is no sheet named '{sheet}'; the workbook has: {}", available.join(", "))]
    SheetNotFound {
        file: String,
        sheet: String,
        available: Vec<String>,
    },
    #[error(
        "{file}: {} sheets of the workbook have a header ({}); name the one to read (the sheet \
         field of the upload; on the command line --sheet, and without it every sheet is read)",
        sheets.len(), sheets.join(", ")
    )]
    SeveralSheets { file: String, sheets: Vec<String> },
    #[error(
        "{file}: sheet '{sheet}' spans {rows} rows and {columns} columns, more than gusu reads \
         (at most {MAX_ROWS} rows, {MAX_COLUMNS} columns and {MAX_GRID_CELLS} cells); \
         delete the empty rows and columns beyond the table, or split the file"
    )]
    SheetTooLarge {
        file: String,
        sheet: String,
        rows: u64,
        columns: u64,
    },
    #[error(
        "{file}: the workbook unpacks to {bytes} bytes, more than gusu reads ({}); \
         delete what the table does not need (pictures, other sheets) or split the file",
        crate::workbook::MAX_UNCOMPRESSED_BYTES
    )]
    WorkbookTooLarge { file: String, bytes: u64 },
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
        "{file}: none of the sheets ({}) has a header row naming the columns {}; \
         is this the right file? (a sheet of instructions only is not read)",
        sheets.join(", "), required.join(", ")
    )]
    NoSheetWithHeader {
        file: String,
        sheets: Vec<String>,
        required: Vec<String>,
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
    #[error(
        "{file}: column '{header}' (header row {row}) is in unit '{unit}', which gusu does not \
         convert; write the figures in one of: {}", accepted.join(", ")
    )]
    UnknownUnit {
        file: String,
        header: String,
        unit: String,
        accepted: Vec<String>,
        row: u64,
    },
    #[error(
        "{file}: column '{header}' under '{group}' (header rows {row} and {}) names no figure \
         gusu knows; rename it to a column of the template (docs/data-formats.md) or delete it",
        row + 1
    )]
    UnplacedColumn {
        file: String,
        group: String,
        header: String,
        row: u64,
    },
    #[error(
        "{file}: the header (row {row}) names no figure gusu reads, so the file would bring \
         nothing in; the columns were: {}", ignored.join(", ")
    )]
    NoValueColumns {
        file: String,
        ignored: Vec<String>,
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
            | IngestError::EmptyFile { file }
            | IngestError::SheetNotFound { file, .. }
            | IngestError::SeveralSheets { file, .. }
            | IngestError::SheetTooLarge { file, .. }
            | IngestError::WorkbookTooLarge { file, .. }
            | IngestError::FormulaWithoutValue { file, .. }
            | IngestError::NoHeader { file, .. }
            | IngestError::NoSheetWithHeader { file, .. }
            | IngestError::MissingColumn { file, .. }
            | IngestError::DuplicateColumn { file, .. }
            | IngestError::UnknownUnit { file, .. }
            | IngestError::UnplacedColumn { file, .. }
            | IngestError::NoValueColumns { file, .. } => file,
        }
    }

    /// The same message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            IngestError::Read { file, source } => {
                let why = match source.kind() {
                    std::io::ErrorKind::NotFound => "文件不存在，请检查路径和文件名".to_string(),
                    std::io::ErrorKind::PermissionDenied => {
                        "没有读取该文件的权限（文件可能正被 Excel 打开）".to_string()
                    }
                    std::io::ErrorKind::IsADirectory => "这是一个文件夹，不是文件".to_string(),
                    _ => format!("无法读取文件（{source}）"),
                };
                format!("{file}：{why}")
            }
            IngestError::UnsupportedFormat { file, detail } => format!("{file}：{}", detail.zh()),
            IngestError::Workbook { file, detail } => format!("{file}：{}", detail.zh()),
            IngestError::EmptyFile { file } => {
                format!("{file}：文件是空的（0 字节）；请重新导出表格")
            }
            IngestError::SheetNotFound {
                file,
                sheet,
                available,
            } => format!(
                "{file}：没有名为“{sheet}”的工作表；该工作簿中的工作表有：{}",
                available.join("、")
            ),
            IngestError::SeveralSheets { file, sheets } => format!(
                "{file}：工作簿中有 {} 个工作表都有表头（{}）；请指定要读取的工作表（上传时填写工作表名称；命令行用 --sheet，不指定时命令行逐表全部读取）",
                sheets.len(),
                sheets.join("、")
            ),
            IngestError::SheetTooLarge {
                file,
                sheet,
                rows,
                columns,
            } => format!(
                "{file}：工作表“{sheet}”占 {rows} 行 {columns} 列，超出可读取的范围（至多 {MAX_ROWS} 行、{MAX_COLUMNS} 列、{MAX_GRID_CELLS} 个单元格）；请删除表格以外的空行空列，或将文件拆分"
            ),
            IngestError::WorkbookTooLarge { file, bytes } => format!(
                "{file}：工作簿解压后达 {bytes} 字节，超出可读取的范围（{}）；请删除不需要的内容（图片、其他工作表）或将文件拆分",
                crate::workbook::MAX_UNCOMPRESSED_BYTES
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
            IngestError::NoSheetWithHeader {
                file,
                sheets,
                required,
            } => format!(
                "{file}：所有工作表（{}）中都找不到包含以下列的表头行：{}；请确认文件是否选对（只有填表说明的工作表不会被读取）",
                sheets.join("、"),
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
            IngestError::UnknownUnit {
                file,
                header,
                unit,
                accepted,
                row,
            } => format!(
                "{file}：表头（第 {row} 行）的列“{header}”使用单位“{unit}”，无法换算；请改用以下单位之一填写：{}",
                accepted.join("、")
            ),
            IngestError::UnplacedColumn {
                file,
                group,
                header,
                row,
            } => format!(
                "{file}：表头（第 {row}、{} 行）中“{group}”下的列“{header}”不是可识别的指标；请按模板（docs/data-formats.md）改列名，或删除该列",
                row + 1
            ),
            IngestError::NoValueColumns { file, ignored, row } => format!(
                "{file}：表头（第 {row} 行）中没有任何可读取的指标列，导入不会带入任何数据；表头中的列为：{}",
                ignored.join("、")
            ),
        }
    }
}
