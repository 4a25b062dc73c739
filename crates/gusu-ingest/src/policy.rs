//! The policy calculator's files: designations (`uscc, designation, level, recognised, expires`)
//! and projects (`project_id, uscc, kind, date, loan_10k_yuan, equipment_loan_10k_yuan,
//! rate_over_lpr_bp, is_new, fixed_asset_investment_10k_yuan, equipment_investment_10k_yuan`).
//!
//! Read like every department file (CSV or workbook, Chinese or English headers, amounts in 元 or
//! 万元 by the header's unit). In a project row a blank cell is an unknown fact, which the
//! calculator asks for; a cell that is written but wrong is an error.

use std::collections::BTreeMap;
use std::path::Path;

use gusu_core::policy::{
    DESIGNATIONS, Designation, LEVELS, PROJECT_KINDS, ProjectFacts, vocabulary_key,
};
use gusu_core::{Issue, Report, SourceRow, Uscc};

use crate::error::IngestError;
use crate::fields::Fields;
use crate::header::{Column, FileKind, PolicyColumn};
use crate::parsed::{RawRows, Rejected, finish};
use crate::table::{Table, walk};
use crate::{ReadOptions, Sheets, read_file, sha256_hex};

/// One designation of an enterprise.
#[derive(Debug, Clone, PartialEq)]
pub struct DesignationRecord {
    pub uscc: Uscc,
    pub designation: Designation,
}

/// A designations or projects file, read and checked.
#[derive(Debug, Clone)]
pub struct ParsedFacts<T> {
    pub file_name: String,
    pub sheet: Option<String>,
    pub sha256: String,
    pub report: Report,
    pub rows: Vec<SourceRow<T>>,
    pub rejected: Rejected,
}

pub type ParsedDesignations = ParsedFacts<DesignationRecord>;
pub type ParsedProjects = ParsedFacts<ProjectFacts>;

const C_DESIGNATION: Column = Column::Policy(PolicyColumn::Designation);
const C_LEVEL: Column = Column::Policy(PolicyColumn::Level);

fn unknown_word(row: u64, column: Column, value: &str, words: &[(&str, &[&str])]) -> Issue {
    let keys: Vec<&str> = words.iter().map(|(k, _)| *k).collect();
    Issue::error(
        "unknown_value",
        format!(
            "`{value}` is not one of {} (or their Chinese names)",
            keys.join(", ")
        ),
        format!(
            "“{value}”不是可用的值；可用值为 {}（或其中文名称）",
            keys.join("、")
        ),
    )
    .at(row)
    .cell(column.key(), value)
}

/// Reads a designations file: every sheet whose header is recognised, or the named one.
pub fn read_designations(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedDesignations>, IngestError> {
    read_facts(path, opts, designations_from)
}

/// Reads a projects file: every sheet whose header is recognised, or the named one. A project
/// is unique within a sheet; across sheets the caller, which joins them, checks.
pub fn read_projects(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedProjects>, IngestError> {
    read_facts(path, opts, projects_from)
}

/// [`read_designations`] from bytes already in memory (an upload).
pub fn parse_designations(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedDesignations>, IngestError> {
    parse_facts(bytes, file_name, opts, designations_from)
}

/// [`read_projects`] from bytes already in memory (an upload).
pub fn parse_projects(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedProjects>, IngestError> {
    parse_facts(bytes, file_name, opts, projects_from)
}

fn parse_facts<T>(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
    parse: SheetParser<T>,
) -> Result<Sheets<ParsedFacts<T>>, IngestError> {
    let sha256 = sha256_hex(bytes);
    crate::each_sheet(bytes.to_vec().into(), file_name, opts, |table, sheet| {
        parse(table, file_name, sheet, &sha256)
    })
}

/// Refuses, row by row, the rows of an enterprise not registered (`registered`: USCC →
/// district code) and those of an enterprise in a district `allowed` refuses (a district
/// officer's upload). `uscc_of` gives a row's enterprise.
pub fn check_fact_enterprises<T, S: std::hash::BuildHasher>(
    parsed: &mut ParsedFacts<T>,
    registered: &std::collections::HashMap<Uscc, String, S>,
    region: &gusu_core::RegionSet,
    allowed: impl Fn(&str) -> bool,
    uscc_of: impl Fn(&T) -> Option<Uscc>,
) {
    let mut refused = std::collections::BTreeSet::new();
    let mut found = Vec::new();
    let mut known = Vec::new();
    for r in &parsed.rows {
        match uscc_of(&r.record) {
            Some(u) if registered.contains_key(&u) => known.push((r.row, u)),
            Some(u) => {
                found.push(crate::issues::unknown_enterprise(r.row, u.as_str()));
                refused.insert(r.row);
            }
            None => {}
        }
    }
    let (outside_issues, outside) = crate::outside_district_rows(
        known.iter().map(|(row, u)| (*row, u)),
        registered,
        region,
        allowed,
    );
    found.extend(outside_issues);
    refused.extend(outside);
    parsed.report.issues.extend(found);
    parsed.rows.retain(|r| !refused.contains(&r.row));
    parsed.report.issues.sort_by_key(|i| i.row);
}

type SheetParser<T> = fn(Table, &str, Option<String>, &str) -> Result<ParsedFacts<T>, IngestError>;

fn read_facts<T>(
    path: &Path,
    opts: &ReadOptions,
    parse: SheetParser<T>,
) -> Result<Sheets<ParsedFacts<T>>, IngestError> {
    let (bytes, name) = read_file(path)?;
    let sha256 = sha256_hex(&bytes);
    crate::each_sheet(bytes, &name, opts, |table, sheet| {
        parse(table, &name, sheet, &sha256)
    })
}

/// A sheet's rows and findings once read: the late errors added and their rows moved out.
#[allow(clippy::too_many_arguments)]
fn facts<T>(
    table: &Table,
    layout: crate::header::Layout,
    report: Report,
    rows: Vec<SourceRow<T>>,
    rejected: RawRows,
    late_errors: Vec<Issue>,
    file_name: &str,
    sheet: Option<String>,
    sha256: &str,
) -> ParsedFacts<T> {
    let mut outcome = finish(table, layout, report, rows, rejected, late_errors);
    outcome.report.sheet.clone_from(&sheet);
    ParsedFacts {
        file_name: file_name.to_string(),
        sheet,
        sha256: sha256.to_string(),
        report: outcome.report,
        rows: outcome.rows,
        rejected: outcome.rejected,
    }
}

fn designations_from(
    table: Table,
    file_name: &str,
    sheet: Option<String>,
    sha256: &str,
) -> Result<ParsedDesignations, IngestError> {
    let mut report = Report::new(file_name);
    let mut rows = Vec::with_capacity(table.row_capacity());
    let mut rejected: RawRows = BTreeMap::new();
    let is_csv = table.is_csv();
    let layout = walk(
        &table,
        FileKind::Designations,
        file_name,
        |layout, n, cells| {
            report.rows += 1;
            let mut f = Fields::new(n, cells, layout, is_csv, &mut report.issues);
            let uscc = f.uscc();
            let designation = f.text(C_DESIGNATION).and_then(|raw| {
                let key = vocabulary_key(DESIGNATIONS, &raw);
                if key.is_none() {
                    f.reject(unknown_word(n, C_DESIGNATION, &raw, DESIGNATIONS));
                }
                key
            });
            let level = f.text(C_LEVEL).and_then(|raw| {
                let key = vocabulary_key(LEVELS, &raw);
                if key.is_none() {
                    f.reject(unknown_word(n, C_LEVEL, &raw, LEVELS));
                }
                key
            });
            let recognised = f.date(Column::Policy(PolicyColumn::Recognised));
            let expires = f.optional_date(Column::Policy(PolicyColumn::Expires));
            if let (Some(r), Some(e)) = (recognised, expires)
                && e < r
            {
                f.reject(
                    Issue::error(
                        "expires_before_recognised",
                        format!("expires {e} before it was recognised ({r})"),
                        format!("有效期至 {e} 早于认定日期 {r}"),
                    )
                    .at(n)
                    .cell("expires", &e.to_string()),
                );
            }
            let failed = f.failed();
            match (uscc, designation, level, recognised) {
                (Some(uscc), Some(designation), Some(level), Some(recognised)) if !failed => {
                    rows.push(SourceRow {
                        row: n,
                        record: DesignationRecord {
                            uscc,
                            designation: Designation {
                                designation: designation.to_string(),
                                level: level.to_string(),
                                recognised,
                                expires,
                            },
                        },
                    });
                }
                _ => {
                    let uscc_col = layout.slot(Column::Uscc).map(|(i, _)| i);
                    rejected.insert(n, cells.raw(uscc_col));
                }
            }
        },
    )?;
    Ok(facts(
        &table,
        layout,
        report,
        rows,
        rejected,
        Vec::new(),
        file_name,
        sheet,
        sha256,
    ))
}

fn projects_from(
    table: Table,
    file_name: &str,
    sheet: Option<String>,
    sha256: &str,
) -> Result<ParsedProjects, IngestError> {
    let mut report = Report::new(file_name);
    let mut rows = Vec::with_capacity(table.row_capacity());
    let mut rejected: RawRows = BTreeMap::new();
    let mut seen: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let is_csv = table.is_csv();
    let c = |p| Column::Policy(p);
    let layout = walk(&table, FileKind::Projects, file_name, |layout, n, cells| {
        report.rows += 1;
        let mut f = Fields::new(n, cells, layout, is_csv, &mut report.issues);
        let id = f.text(c(PolicyColumn::ProjectId));
        let uscc = f.uscc();
        let kind = f.optional_text(c(PolicyColumn::Kind)).and_then(|raw| {
            let key = vocabulary_key(PROJECT_KINDS, &raw);
            if key.is_none() {
                f.reject(unknown_word(n, c(PolicyColumn::Kind), &raw, PROJECT_KINDS));
            }
            key
        });
        let date = f.optional_date(c(PolicyColumn::Date));
        let mut amount = |p| {
            let v = f.number(c(p));
            if let Some(x) = v
                && x < 0.0
            {
                f.reject(
                    Issue::error(
                        "negative_amount",
                        format!("{} cannot be negative ({x})", c(p).key()),
                        format!("{}不能为负数（{x}）", c(p).name_zh()),
                    )
                    .at(n)
                    .cell(c(p).key(), &x.to_string()),
                );
            }
            v
        };
        let loan = amount(PolicyColumn::Loan);
        let equipment_loan = amount(PolicyColumn::EquipmentLoan);
        let fixed_asset = amount(PolicyColumn::FixedAssetInvestment);
        let equipment = amount(PolicyColumn::EquipmentInvestment);
        let rate = f.number(c(PolicyColumn::RateOverLprBp));
        let is_new = f.flag(c(PolicyColumn::IsNew), false);
        if let Some(id) = &id {
            seen.entry(id.clone()).or_default().push(n);
        }
        let failed = f.failed();
        match (id, uscc) {
            (Some(project_id), Some(uscc)) if !failed => rows.push(SourceRow {
                row: n,
                record: ProjectFacts {
                    project_id,
                    uscc: uscc.to_string(),
                    kind: kind.map(str::to_string),
                    date,
                    loan_10k_yuan: loan,
                    equipment_loan_10k_yuan: equipment_loan,
                    rate_over_lpr_bp: rate,
                    is_new,
                    fixed_asset_investment_10k_yuan: fixed_asset,
                    equipment_investment_10k_yuan: equipment,
                    ..ProjectFacts::default()
                },
            }),
            _ => {
                let uscc_col = layout.slot(Column::Uscc).map(|(i, _)| i);
                rejected.insert(n, cells.raw(uscc_col));
            }
        }
    })?;
    // The same project twice: every occurrence is an error, as for codes.
    let mut doubled = Vec::new();
    for (id, at) in seen.iter().filter(|(_, at)| at.len() > 1) {
        for &row in at {
            let others: Vec<String> = at
                .iter()
                .filter(|&&r| r != row)
                .map(u64::to_string)
                .collect();
            doubled.push(
                Issue::error(
                    "duplicate_project",
                    format!("project {id} is also in row {}", others.join(", ")),
                    format!("项目 {id} 在第 {} 行重复出现", others.join("、")),
                )
                .at(row)
                .cell("project_id", id),
            );
        }
    }
    Ok(facts(
        &table, layout, report, rows, rejected, doubled, file_name, sheet, sha256,
    ))
}
