//! Uploads of department files: past imports, validation reports, commits.

use serde::Serialize;
use utoipa::ToSchema;

use crate::imports::StagedLine;

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about a file, a row or a cell.
#[derive(Debug, Serialize, ToSchema)]
pub struct Finding {
    /// The workbook sheet, when the upload has several.
    pub sheet: Option<String>,
    /// The sheet row or CSV line; none for the whole file.
    pub row: Option<u64>,
    /// Interchange column name, when one cell is at fault.
    pub column: Option<String>,
    /// The cell as it was written.
    pub value: Option<String>,
    /// Stable snake_case code.
    pub code: String,
    pub reason: String,
    pub reason_zh: String,
    pub severity: Severity,
}

impl From<&gusu_core::validation::Issue> for Finding {
    fn from(i: &gusu_core::validation::Issue) -> Finding {
        Finding {
            sheet: None,
            row: i.row,
            column: i.column.clone(),
            value: i.value.clone(),
            code: i.code.clone(),
            reason: i.reason.clone(),
            reason_zh: i.reason_zh.clone(),
            severity: match i.severity {
                gusu_core::validation::Severity::Warning => Severity::Warning,
                gusu_core::validation::Severity::Error => Severity::Error,
            },
        }
    }
}

impl Finding {
    /// The finding named by its sheet.
    pub fn in_sheet(mut self, sheet: Option<&str>) -> Finding {
        self.sheet = sheet.map(str::to_string);
        self
    }

    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error)
    }
}

/// Two sources disagree on a field of an enterprise and year.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conflict {
    pub uscc: String,
    pub year: i32,
    pub field: String,
    /// The source whose value is effective, by priority.
    pub used_source: String,
    pub used_value: f64,
    pub other_source: String,
    pub other_value: f64,
}

impl From<&gusu_store::Conflict> for Conflict {
    fn from(c: &gusu_store::Conflict) -> Conflict {
        Conflict {
            uscc: super::uscc(&c.uscc),
            year: c.year,
            field: c.field.clone(),
            used_source: c.used_source.clone(),
            used_value: c.used_value,
            other_source: c.other_source.clone(),
            other_value: c.other_value,
        }
    }
}

/// An import batch as recorded (its lineage).
#[derive(Debug, Serialize, ToSchema)]
pub struct Batch {
    pub id: i64,
    /// `enterprises`, `annual`, `energy`, `designations` or `projects`.
    pub kind: String,
    pub source: String,
    pub file_name: String,
    /// The workbook sheet; none for a text file.
    pub sheet: Option<String>,
    pub file_sha256: String,
    /// UTC, ISO 8601.
    pub imported_at: String,
    pub rows: usize,
    pub inserted: usize,
    pub corrected: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub uploaded_by: Option<String>,
    /// Rows of the file left out as wrong, when known.
    pub rejected: Option<usize>,
}

impl From<&gusu_store::BatchInfo> for Batch {
    fn from(b: &gusu_store::BatchInfo) -> Batch {
        Batch {
            id: b.id,
            kind: b.kind.clone(),
            source: b.source.clone(),
            file_name: b.file_name.clone(),
            sheet: b.sheet.clone(),
            file_sha256: b.file_sha256.clone(),
            imported_at: b.imported_at.clone(),
            rows: b.rows,
            inserted: b.inserted,
            corrected: b.corrected,
            unchanged: b.unchanged,
            conflicts: b.conflicts,
            uploaded_by: b.uploaded_by.clone(),
            rejected: b.rejected,
        }
    }
}

/// Past imports and one's uploads waiting for commit.
#[derive(Debug, Serialize, ToSchema)]
pub struct Imports {
    pub batches: Vec<Batch>,
    pub staged: Vec<StagedLine>,
}

/// `POST /api/v1/imports`: a multipart form.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form for the document; the handler reads the parts
pub struct UploadForm {
    /// The file (CSV, TSV, XLSX, XLS or ODS).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// `enterprises`, `annual`, `energy`, `designations` or `projects`.
    pub kind: String,
    /// The department that sent it (`tax`, `stats`, `power`, `env`, `land`, …).
    pub source: Option<String>,
    /// The year of an annual or energy file.
    pub year: Option<i32>,
    /// The workbook sheet to read (default: every recognised sheet).
    pub sheet: Option<String>,
}
