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
mod file_bytes;
mod header;
mod issues;
mod merge;
mod parsed;
pub mod policy;
mod rejects;
mod seen;
mod table;
mod workbook;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use gusu_core::{Issue, RegionSet, Report, Uscc};
use sha2::{Digest, Sha256};

pub use energy::{
    EnergyRecord, ParsedEnergy, check_energy_districts, check_energy_year, check_known_energy,
    parse_energy_bytes, parse_energy_sheets, read_energy, read_energy_sheets,
};
pub use error::{FormatProblem, IngestError, WorkbookProblem};
pub use merge::merge_annual;
pub use parsed::{ParsedAnnual, ParsedEnterprises, Rejected};
pub use rejects::{
    REASONS_HEADER, rejects_path, rejects_path_for, write_rejects, write_rejects_for,
};

use file_bytes::FileBytes;
use parsed::{Source, sort_issues};
use table::{Opened, Table};

/// UTF-8 BOM bytes; every CSV gusu writes starts with it, so Excel opens it as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The workbook sheet to read; when `None`, every visible sheet whose header is recognised.
    /// Ignored for text files.
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

fn read_file(path: &Path) -> Result<(FileBytes, String), IngestError> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match FileBytes::read(path) {
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

/// The sheets of one file that were read, and those that were not.
#[derive(Debug, Clone)]
pub struct Sheets<T> {
    /// One entry per sheet read, in workbook order (one entry for a text file).
    pub parsed: Vec<T>,
    /// Sheets left out, in workbook order, with the reason.
    pub skipped: Vec<SkippedSheet>,
}

/// A sheet of a workbook that was not read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedSheet {
    pub sheet: String,
    pub reason: SkipReason,
}

/// Why a sheet was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Hidden sheets (lookup lists) are read only when named.
    Hidden,
    /// The sheet has no cells.
    Empty,
    /// No row of the sheet is a header of this kind of file (instructions, a chart's data).
    NoHeader,
}

impl SkipReason {
    pub fn message(self) -> &'static str {
        match self {
            SkipReason::Hidden => "hidden sheet; name it with --sheet to read it",
            SkipReason::Empty => "empty sheet",
            SkipReason::NoHeader => "no header row of this kind of file",
        }
    }

    pub fn message_zh(self) -> &'static str {
        match self {
            SkipReason::Hidden => "隐藏的工作表；如需读取请用 --sheet 指定",
            SkipReason::Empty => "空白工作表",
            SkipReason::NoHeader => "没有此类文件的表头行",
        }
    }
}

/// Opens a file and parses the named sheet, every visible sheet whose header is recognised, or
/// the text table. A sheet without a header is skipped (listed); any other failure of a sheet is
/// the file's failure: a sheet meant to be read but wrong must not be passed over in silence.
pub(crate) fn each_sheet<T>(
    bytes: FileBytes,
    file: &str,
    opts: &ReadOptions,
    mut parse: impl FnMut(Table, Option<String>) -> Result<T, IngestError>,
) -> Result<Sheets<T>, IngestError> {
    let mut workbook = match table::open(bytes, file)? {
        Opened::Text(table) => {
            return Ok(Sheets {
                parsed: vec![parse(table, None)?],
                skipped: Vec::new(),
            });
        }
        Opened::Workbook(workbook) => workbook,
    };
    if let Some(wanted) = &opts.sheet {
        let name = workbook.find_sheet(wanted)?;
        let table = Table::Sheet(workbook.load(&name)?);
        return Ok(Sheets {
            parsed: vec![parse(table, Some(name))?],
            skipped: Vec::new(),
        });
    }
    let sheets = workbook.sheets();
    if sheets.is_empty() {
        return Err(IngestError::Workbook {
            file: file.to_string(),
            detail: WorkbookProblem::NoSheets,
        });
    }
    let mut parsed = Vec::new();
    let mut skipped = Vec::new();
    let mut no_header = None;
    for sheet in &sheets {
        if !sheet.visible {
            skipped.push(SkippedSheet {
                sheet: sheet.name.clone(),
                reason: SkipReason::Hidden,
            });
            continue;
        }
        let table = workbook.load(&sheet.name)?;
        let empty = table.row_count() == 0;
        match parse(Table::Sheet(table), Some(sheet.name.clone())) {
            Ok(p) => parsed.push(p),
            Err(e @ IngestError::NoHeader { .. }) => {
                skipped.push(SkippedSheet {
                    sheet: sheet.name.clone(),
                    reason: if empty {
                        SkipReason::Empty
                    } else {
                        SkipReason::NoHeader
                    },
                });
                no_header.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if parsed.is_empty() {
        return Err(match no_header {
            // One sheet: its own message says what its header lacks.
            Some(e) if sheets.len() == 1 => e,
            Some(IngestError::NoHeader { required, .. }) => IngestError::NoSheetWithHeader {
                file: file.to_string(),
                sheets: sheets.iter().map(|s| s.name.clone()).collect(),
                required,
            },
            // Every sheet hidden: named by --sheet, they are read.
            _ => IngestError::NoSheetWithHeader {
                file: file.to_string(),
                sheets: sheets.iter().map(|s| s.name.clone()).collect(),
                required: Vec::new(),
            },
        });
    }
    Ok(Sheets { parsed, skipped })
}

/// The one sheet read, for callers that take one table. A workbook with several recognised
/// sheets is an error naming them, never a silent pick of the first.
pub(crate) fn single<T: HasSheet>(mut sheets: Sheets<T>, file: &str) -> Result<T, IngestError> {
    if sheets.parsed.len() == 1 {
        return Ok(sheets.parsed.remove(0));
    }
    Err(IngestError::SeveralSheets {
        file: file.to_string(),
        sheets: sheets
            .parsed
            .iter()
            .filter_map(|p| p.sheet_name().map(str::to_string))
            .collect(),
    })
}

/// A parsed sheet, which knows its name.
pub(crate) trait HasSheet {
    fn sheet_name(&self) -> Option<&str>;
}

impl HasSheet for ParsedEnterprises {
    fn sheet_name(&self) -> Option<&str> {
        self.sheet.as_deref()
    }
}

impl HasSheet for ParsedAnnual {
    fn sheet_name(&self) -> Option<&str> {
        self.sheet.as_deref()
    }
}

impl HasSheet for ParsedEnergy {
    fn sheet_name(&self) -> Option<&str> {
        self.sheet.as_deref()
    }
}

/// Reads an enterprises file (delimited text or a workbook): the named sheet, or the one sheet
/// whose header is recognised. Use [`read_enterprises_sheets`] for workbooks with several.
pub fn read_enterprises(path: &Path, opts: &ReadOptions) -> Result<ParsedEnterprises, IngestError> {
    let (bytes, name) = read_file(path)?;
    single(enterprises_sheets(bytes, &name, opts)?, &name)
}

/// Reads a yearly file: the named sheet, or the one sheet whose header is recognised. Use
/// [`read_annual_sheets`] for workbooks with several.
pub fn read_annual(path: &Path, opts: &ReadOptions) -> Result<ParsedAnnual, IngestError> {
    let (bytes, name) = read_file(path)?;
    single(annual_sheets(bytes, &name, opts)?, &name)
}

/// Reads every sheet of an enterprises file whose header is recognised (or the named one).
pub fn read_enterprises_sheets(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedEnterprises>, IngestError> {
    let (bytes, name) = read_file(path)?;
    enterprises_sheets(bytes, &name, opts)
}

/// Reads every sheet of a yearly file whose header is recognised (or the named one): one per
/// district is common.
pub fn read_annual_sheets(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedAnnual>, IngestError> {
    let (bytes, name) = read_file(path)?;
    annual_sheets(bytes, &name, opts)
}

/// Parses an enterprises file held in memory (one sheet, as for [`read_enterprises`]). The
/// format comes from the content (workbooks start `PK` or with the OLE signature) and then the
/// name's extension; anything else is read as delimited text.
pub fn parse_enterprises_bytes(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedEnterprises, IngestError> {
    single(
        enterprises_sheets(bytes.to_vec().into(), file_name, opts)?,
        file_name,
    )
}

/// Parses a yearly file held in memory (one sheet, as for [`read_annual`]).
pub fn parse_annual_bytes(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedAnnual, IngestError> {
    single(
        annual_sheets(bytes.to_vec().into(), file_name, opts)?,
        file_name,
    )
}

/// [`read_enterprises_sheets`] for a file held in memory.
pub fn parse_enterprises_sheets(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedEnterprises>, IngestError> {
    enterprises_sheets(bytes.to_vec().into(), file_name, opts)
}

/// [`read_annual_sheets`] for a file held in memory.
pub fn parse_annual_sheets(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedAnnual>, IngestError> {
    annual_sheets(bytes.to_vec().into(), file_name, opts)
}

fn enterprises_sheets(
    bytes: FileBytes,
    file_name: &str,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedEnterprises>, IngestError> {
    enterprises_sheets_of(bytes, file_name, opts, false)
}

/// Reads every sheet of an enterprises file whose header is recognised, taking enterprises of any
/// GB/T 4754 section (the per-mu evaluation takes industrial ones only): for the policy
/// calculator, whose policies reach software or service firms too.
pub fn read_enterprises_any_industry(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedEnterprises>, IngestError> {
    let (bytes, name) = read_file(path)?;
    enterprises_sheets_of(bytes, &name, opts, true)
}

fn enterprises_sheets_of(
    bytes: FileBytes,
    file_name: &str,
    opts: &ReadOptions,
    any_section: bool,
) -> Result<Sheets<ParsedEnterprises>, IngestError> {
    let sha256 = sha256_hex(&bytes);
    each_sheet(bytes, file_name, opts, |table, sheet| {
        let mut outcome = enterprises::parse(&table, file_name, &opts.region, any_section)?;
        outcome.report.sheet.clone_from(&sheet);
        Ok(ParsedEnterprises {
            file_name: file_name.to_string(),
            sheet,
            sha256: sha256.clone(),
            report: outcome.report,
            rows: outcome.rows,
            rejected: outcome.rejected,
            source: Source {
                table: Arc::new(table),
                uscc_col: outcome.uscc_col,
            },
        })
    })
}

fn annual_sheets(
    bytes: FileBytes,
    file_name: &str,
    opts: &ReadOptions,
) -> Result<Sheets<ParsedAnnual>, IngestError> {
    let sha256 = sha256_hex(&bytes);
    each_sheet(bytes, file_name, opts, |table, sheet| {
        let (mut outcome, layout) = annual::parse(&table, file_name)?;
        outcome.report.sheet.clone_from(&sheet);
        Ok(ParsedAnnual {
            file_name: file_name.to_string(),
            sheet,
            sha256: sha256.clone(),
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
