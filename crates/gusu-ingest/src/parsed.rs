//! What parsing a file gives back, and the bookkeeping shared by both file kinds: rows found
//! wrong after the walk (duplicates, unknown enterprises, merge conflicts) move to the rejected
//! rows with the cells they had in the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use gusu_core::{Enterprise, Figure, Flag, Issue, Report, SourceRow, YearlyRecord};

use crate::header::{Column, Layout};
use crate::issues;
use crate::seen::Seen;
use crate::table::Table;

/// An enterprises file, read and checked.
#[derive(Debug, Clone)]
pub struct ParsedEnterprises {
    /// The file name as given.
    pub file_name: String,
    /// The workbook sheet read, when the file is a workbook.
    pub sheet: Option<String>,
    /// SHA-256 of the file's bytes, lower-case hex: which file a record came from.
    pub sha256: String,
    /// Every finding, errors and warnings.
    pub report: Report,
    /// The rows without errors.
    pub rows: Vec<SourceRow<Enterprise>>,
    /// The rows with errors, as written.
    pub rejected: Rejected,
    /// The loaded file, so rows rejected later can be copied out as written.
    pub(crate) source: Source,
}

/// A yearly file, read and checked.
#[derive(Debug, Clone)]
pub struct ParsedAnnual {
    pub file_name: String,
    /// The workbook sheet read, when the file is a workbook.
    pub sheet: Option<String>,
    pub sha256: String,
    pub report: Report,
    /// The rows without errors.
    pub rows: Vec<SourceRow<YearlyRecord>>,
    /// The value columns the file has (including the `land_area_mu` override), in file order.
    pub figures: Vec<Figure>,
    /// The override columns the file has, in file order.
    pub flags: Vec<Flag>,
    pub rejected: Rejected,
    /// The loaded file, so rows rejected later can be copied out as written.
    pub(crate) source: Source,
}

/// The rows of a file that have errors, cell by cell as they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejected {
    /// The header row's cells.
    pub header: Vec<String>,
    /// Row number and cells, in file order.
    pub rows: Vec<(u64, Vec<String>)>,
}

/// A loaded file kept for later rejections.
#[derive(Clone)]
pub(crate) struct Source {
    pub(crate) table: Arc<Table>,
    pub(crate) uscc_col: Option<usize>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The table can be the whole file: never print it.
        f.debug_struct("Source").finish_non_exhaustive()
    }
}

pub(crate) type RawRows = BTreeMap<u64, Vec<String>>;

/// One file's rows after the walk and the whole-file checks.
pub(crate) struct Outcome<T> {
    pub(crate) report: Report,
    pub(crate) rows: Vec<SourceRow<T>>,
    pub(crate) rejected: Rejected,
    pub(crate) uscc_col: Option<usize>,
}

/// An error on every occurrence of each key seen in more than one row, naming the other rows.
pub(crate) fn duplicates<K: Copy + Ord>(
    seen: Seen<K>,
    issue: impl Fn(K, u64, &[u64]) -> Issue,
) -> Vec<Issue> {
    let mut found = Vec::new();
    for (key, rows) in seen.repeated() {
        for &row in &rows {
            let others: Vec<u64> = rows.iter().copied().filter(|&r| r != row).collect();
            found.push(issue(key, row, &others));
        }
    }
    found
}

/// Adds the file-level findings and the late errors, moves late-rejected rows out, and orders
/// findings by row (file-level ones first).
pub(crate) fn finish<T>(
    table: &Table,
    layout: Layout,
    mut report: Report,
    mut rows: Vec<SourceRow<T>>,
    rejected: RawRows,
    late_errors: Vec<Issue>,
) -> Outcome<T> {
    let mut file_level = Vec::new();
    if !layout.ignored.is_empty() {
        file_level.push(issues::unknown_columns(&layout.ignored));
        report.ignored_columns.clone_from(&layout.ignored);
    }
    // Said only where it changed a column: a title's "单位：亩" over columns that all name
    // their unit changes nothing.
    if let Some(unit) = layout
        .sheet_unit
        .as_ref()
        .filter(|u| !u.applied_to.is_empty())
    {
        file_level.push(issues::sheet_unit(unit));
    }
    if !layout.skipped_rows.is_empty() {
        file_level.push(issues::skipped_rows(&layout.skipped_rows));
    }
    if report.rows == 0 {
        file_level.push(issues::no_data_rows());
    }
    report.issues.splice(0..0, file_level);

    let uscc_col = layout.slot(Column::Uscc).map(|(i, _)| i);
    let late_rows: BTreeSet<u64> = late_errors.iter().filter_map(|i| i.row).collect();
    report.issues.extend(late_errors);
    let mut rejected = Rejected {
        header: layout.header,
        rows: rejected.into_iter().collect(),
    };
    move_to_rejected(&mut rows, &mut rejected, table, uscc_col, &late_rows);
    sort_issues(&mut report);
    Outcome {
        report,
        rows,
        rejected,
        uscc_col,
    }
}

/// Moves the given rows from `rows` to `rejected`, reading their cells from the table.
pub(crate) fn move_to_rejected<T>(
    rows: &mut Vec<SourceRow<T>>,
    rejected: &mut Rejected,
    table: &Table,
    uscc_col: Option<usize>,
    which: &BTreeSet<u64>,
) {
    if which.is_empty() {
        return;
    }
    rows.retain(|r| !which.contains(&r.row));
    let already: BTreeSet<u64> = rejected.rows.iter().map(|(n, _)| *n).collect();
    let missing: BTreeSet<u64> = which.difference(&already).copied().collect();
    let mut raw = table.raw_rows(&missing, uscc_col);
    for n in missing {
        let cells = raw.remove(&n).unwrap_or_default();
        rejected.rows.push((n, cells));
    }
    rejected.rows.sort_by_key(|(n, _)| *n);
}

/// File-level findings first, then by row; findings of one row keep their order.
pub(crate) fn sort_issues(report: &mut Report) {
    report.issues.sort_by_key(|i| i.row);
}

impl ParsedEnterprises {
    /// Moves rows found wrong after parsing to the rejected rows.
    pub(crate) fn reject_rows(&mut self, which: &BTreeSet<u64>) {
        move_to_rejected(
            &mut self.rows,
            &mut self.rejected,
            &self.source.table,
            self.source.uscc_col,
            which,
        );
        sort_issues(&mut self.report);
    }
}

impl ParsedAnnual {
    /// Moves rows found wrong after parsing to the rejected rows.
    pub(crate) fn reject_rows(&mut self, which: &BTreeSet<u64>) {
        move_to_rejected(
            &mut self.rows,
            &mut self.rejected,
            &self.source.table,
            self.source.uscc_col,
            which,
        );
        sort_issues(&mut self.report);
    }
}
