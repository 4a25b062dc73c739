//! Department files into validated gusu records.
//!
//! Departments send two kinds of files for the evaluation (docs/data-formats.md describes both):
//!
//! * the **enterprises file**, one row per enterprise: code, name, district, industry, land,
//!   size and founding date ([`read_enterprises`]);
//! * **yearly files**, one row per enterprise and year with any subset of the figures
//!   ([`read_annual`]); several of them (statistics, tax, power, environment) are combined with
//!   [`merge_annual`];
//! * the **energy file** for carbon accounting, one row per enterprise, year and carrier line
//!   ([`read_energy`]; docs/carbon.md).
//!
//! Files come as they are exported in practice: CSV in UTF-8 or GBK, or XLSX; title rows above the
//! header, Chinese or English headers with units, a 合计 row at the bottom, codes that Excel turned
//! into numbers. Reading never stops at a bad cell: every finding goes into the file's
//! [`Report`] with its row, column, value and a stable code (docs/validation-codes.md), rows with
//! errors go to [`Rejected`] (see [`write_rejects`]) and the others are returned. Only a file that
//! cannot be read as a table at all is an [`IngestError`].

mod annual;
mod cell;
mod csv_source;
mod energy;
mod enterprises;
mod error;
mod fields;
mod header;
mod issues;
mod merge;
mod parsed;
mod rejects;
mod seen;
mod table;
mod xlsx_source;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use gusu_core::{Issue, RegionSet, Report, Uscc};
use sha2::{Digest, Sha256};

pub use energy::{
    EnergyRecord, ParsedEnergy, check_energy_districts, check_energy_year, check_known_energy,
    parse_energy_bytes, read_energy,
};
pub use error::IngestError;
pub use merge::merge_annual;
pub use parsed::{ParsedAnnual, ParsedEnterprises, Rejected};
pub use rejects::{REASONS_HEADER, rejects_path, write_rejects};

use parsed::{Source, sort_issues};
use table::Table;

/// UTF-8 BOM bytes; every CSV gusu writes starts with it, so Excel opens it as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The XLSX sheet to read; the first sheet when `None`. Ignored for CSV.
    pub sheet: Option<String>,
    /// The districts enterprises may belong to, and the code prefix of the city.
    pub region: RegionSet,
}

impl Default for ReadOptions {
    /// First sheet, Suzhou.
    fn default() -> Self {
        ReadOptions {
            sheet: None,
            region: RegionSet::suzhou(),
        }
    }
}

fn read_file(path: &Path) -> Result<(Vec<u8>, String), IngestError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match std::fs::read(path) {
        Ok(bytes) => Ok((bytes, name)),
        Err(source) => Err(IngestError::Read { file: name, source }),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(bytes);
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Reads an enterprises file (CSV or XLSX).
pub fn read_enterprises(path: &Path, opts: &ReadOptions) -> Result<ParsedEnterprises, IngestError> {
    let (bytes, name) = read_file(path)?;
    enterprises_from(bytes, &name, opts)
}

/// Reads a yearly file (CSV or XLSX).
pub fn read_annual(path: &Path, opts: &ReadOptions) -> Result<ParsedAnnual, IngestError> {
    let (bytes, name) = read_file(path)?;
    annual_from(bytes, &name, opts)
}

/// Parses an enterprises file held in memory. The format comes from the content (XLSX is a zip
/// archive starting `PK`) and then the name's extension; anything else is read as CSV.
pub fn parse_enterprises_bytes(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedEnterprises, IngestError> {
    enterprises_from(bytes.to_vec(), file_name, opts)
}

/// Parses a yearly file held in memory (format as for [`parse_enterprises_bytes`]).
pub fn parse_annual_bytes(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedAnnual, IngestError> {
    annual_from(bytes.to_vec(), file_name, opts)
}

fn enterprises_from(
    bytes: Vec<u8>,
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedEnterprises, IngestError> {
    let sha256 = sha256_hex(&bytes);
    let table = Table::load(bytes, file_name, opts.sheet.as_deref())?;
    let outcome = enterprises::parse(&table, file_name, &opts.region)?;
    Ok(ParsedEnterprises {
        file_name: file_name.to_string(),
        sha256,
        report: outcome.report,
        rows: outcome.rows,
        rejected: outcome.rejected,
        source: Source {
            table: Arc::new(table),
            uscc_col: outcome.uscc_col,
        },
    })
}

fn annual_from(
    bytes: Vec<u8>,
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedAnnual, IngestError> {
    let sha256 = sha256_hex(&bytes);
    let table = Table::load(bytes, file_name, opts.sheet.as_deref())?;
    let (outcome, layout) = annual::parse(&table, file_name)?;
    Ok(ParsedAnnual {
        file_name: file_name.to_string(),
        sha256,
        report: outcome.report,
        rows: outcome.rows,
        figures: layout.figures(),
        flags: layout.flags(),
        rejected: outcome.rejected,
        source: Source {
            table: Arc::new(table),
            uscc_col: outcome.uscc_col,
        },
    })
}

/// Adds an error for each yearly row whose code is not among `known` (the enterprises file's
/// codes) and moves the row to the rejected rows.
pub fn check_known_enterprises<S: std::hash::BuildHasher>(
    parsed: &mut ParsedAnnual,
    known: &HashSet<Uscc, S>,
) {
    let mut unknown = BTreeSet::new();
    for row in parsed
        .rows
        .iter()
        .filter(|r| !known.contains(&r.record.uscc))
    {
        parsed.report.issues.push(issues::unknown_enterprise(
            row.row,
            row.record.uscc.as_str(),
        ));
        unknown.insert(row.row);
    }
    parsed.reject_rows(&unknown);
}

/// Rejects, row by row, the enterprises-file rows an importer may not write: those whose
/// district (as written) `allowed` refuses, and those of an enterprise `registered` (USCC →
/// district code) in a district `allowed` refuses: moving an enterprise out of another district
/// is that district's business. Used for a district officer's uploads.
pub fn check_enterprise_districts<S: std::hash::BuildHasher>(
    parsed: &mut ParsedEnterprises,
    registered: &HashMap<Uscc, String, S>,
    region: &RegionSet,
    allowed: impl Fn(&str) -> bool,
) {
    let mut outside = BTreeSet::new();
    for r in &parsed.rows {
        let e = &r.record;
        if let Some(district) = registered.get(&e.uscc).filter(|d| !allowed(d)) {
            parsed
                .report
                .issues
                .push(issues::registered_outside_district(
                    r.row,
                    e.uscc.as_str(),
                    district,
                    region,
                ));
            outside.insert(r.row);
        } else if !allowed(&e.district) {
            parsed
                .report
                .issues
                .push(issues::outside_district(r.row, &e.district, region));
            outside.insert(r.row);
        }
    }
    parsed.reject_rows(&outside);
}

/// Rejects, row by row, the yearly rows of enterprises `registered` (USCC → district code) in a
/// district `allowed` refuses. Codes not registered are left to [`check_known_enterprises`].
pub fn check_annual_districts<S: std::hash::BuildHasher>(
    parsed: &mut ParsedAnnual,
    registered: &HashMap<Uscc, String, S>,
    region: &RegionSet,
    allowed: impl Fn(&str) -> bool,
) {
    let rows = parsed.rows.iter().map(|r| (r.row, &r.record.uscc));
    let (found, outside) = outside_district_rows(rows, registered, region, allowed);
    parsed.report.issues.extend(found);
    parsed.reject_rows(&outside);
}

/// Of `rows` (row number, USCC), those of enterprises registered in a district the importer may
/// not import for, each with its finding: the check of yearly and energy files alike.
pub(crate) fn outside_district_rows<'a, S: std::hash::BuildHasher>(
    rows: impl Iterator<Item = (u64, &'a Uscc)>,
    registered: &HashMap<Uscc, String, S>,
    region: &RegionSet,
    allowed: impl Fn(&str) -> bool,
) -> (Vec<Issue>, BTreeSet<u64>) {
    let mut found = Vec::new();
    let mut outside = BTreeSet::new();
    for (row, uscc) in rows {
        if let Some(district) = registered.get(uscc).filter(|d| !allowed(d)) {
            found.push(issues::registered_outside_district(
                row,
                uscc.as_str(),
                district,
                region,
            ));
            outside.insert(row);
        }
    }
    (found, outside)
}

/// Rejects, row by row, the yearly rows of a year other than `year` (an upload made for one
/// year that carries another's figures is most likely the wrong file, in part).
pub fn check_annual_year(parsed: &mut ParsedAnnual, year: i32) {
    let mut other = BTreeSet::new();
    for r in &parsed.rows {
        if r.record.year != year {
            parsed
                .report
                .issues
                .push(issues::other_year(r.row, r.record.year, year));
            other.insert(r.row);
        }
    }
    parsed.reject_rows(&other);
}

/// The report's findings in a stable order: file-level first, then by row. Exposed for callers
/// that add their own findings to a report.
pub fn sort_report(report: &mut Report) {
    sort_issues(report);
}
