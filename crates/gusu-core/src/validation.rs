//! Validation findings: what is wrong with which cell, in words a department clerk can act on.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about a file, a row or a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// The real sheet row or CSV line (header row = its own line number); `None` for the whole file.
    pub row: Option<u64>,
    /// Interchange column name (e.g. `uscc`), when one cell is at fault.
    pub column: Option<String>,
    /// The cell as it was written.
    pub value: Option<String>,
    /// Stable snake_case code, listed in docs/validation-codes.md.
    pub code: String,
    /// Reason in English.
    pub reason: String,
    /// Reason in Chinese.
    pub reason_zh: String,
    pub severity: Severity,
}

impl Issue {
    pub fn error(code: &str, reason: impl Into<String>, reason_zh: impl Into<String>) -> Issue {
        Issue {
            row: None,
            column: None,
            value: None,
            code: code.to_string(),
            reason: reason.into(),
            reason_zh: reason_zh.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(code: &str, reason: impl Into<String>, reason_zh: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(code, reason, reason_zh)
        }
    }

    pub fn at(mut self, row: u64) -> Issue {
        self.row = Some(row);
        self
    }

    pub fn cell(mut self, column: &str, value: &str) -> Issue {
        self.column = Some(column.to_string());
        self.value = Some(value.to_string());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Everything found in one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub file: String,
    /// The workbook sheet the findings are about, when the file is a workbook read sheet by sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Header cells that name no column gusu reads from this kind of file: their cells were not
    /// read (also said in an `unknown_columns` warning).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
    /// Number of data rows (not counting title, header or total rows).
    pub rows: u64,
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn new(file: impl Into<String>) -> Report {
        Report {
            file: file.into(),
            ..Report::default()
        }
    }

    /// The file as a person names it: `报表.xlsx`, or `报表.xlsx [姑苏区]` for one of its sheets.
    pub fn source_name(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("{} [{sheet}]", self.file),
            None => self.file.clone(),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.issues.len() - self.error_count()
    }

    /// Rows that carry at least one error.
    pub fn rejected_rows(&self) -> std::collections::BTreeSet<u64> {
        self.issues
            .iter()
            .filter(|i| i.is_error())
            .filter_map(|i| i.row)
            .collect()
    }
}

/// A record together with the row of the file it came from (lineage down to the row).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow<T> {
    pub row: u64,
    pub record: T,
}
