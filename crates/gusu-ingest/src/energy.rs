//! The energy file: one row per enterprise, year and carrier line (`uscc, year, carrier, quantity,
//! unit` and, optionally, `enthalpy_kj_per_kg` for steam and `temperature_c` for hot water), for
//! GHG accounting (docs/carbon.md). Several rows of one carrier add up.
//!
//! Carriers and units are read by gusu-core's carbon tables (English keys or Chinese names); a unit
//! that does not fit its carrier is an error naming both.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use gusu_core::carbon::{Carrier, EnergyLine, Unit, conversion};
use gusu_core::{Issue, Report, SourceRow, Uscc};

use crate::error::IngestError;
use crate::fields::Fields;
use crate::header::{Column, FileKind};
use crate::parsed::{RawRows, Rejected, finish};
use crate::table::{Table, walk};
use crate::{ReadOptions, issues, read_file, sha256_hex};

/// One line of the energy file.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyRecord {
    pub uscc: Uscc,
    pub year: i32,
    pub line: EnergyLine,
}

/// An energy file, read and checked.
#[derive(Debug, Clone)]
pub struct ParsedEnergy {
    pub file_name: String,
    /// The workbook sheet read, when the file is a workbook.
    pub sheet: Option<String>,
    pub sha256: String,
    pub report: Report,
    /// The rows without errors, in file order.
    pub rows: Vec<SourceRow<EnergyRecord>>,
    pub rejected: Rejected,
}

/// Reads an energy file (delimited text or a workbook): the named sheet, or the one sheet whose
/// header is recognised (see [`crate::read_annual`]).
pub fn read_energy(path: &Path, opts: &ReadOptions) -> Result<ParsedEnergy, IngestError> {
    let (bytes, name) = read_file(path)?;
    crate::single(read_energy_sheets_from(bytes, &name, opts)?, &name)
}

/// Parses an energy file held in memory (one sheet, as for [`read_energy`]).
pub fn parse_energy_bytes(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<ParsedEnergy, IngestError> {
    crate::single(
        read_energy_sheets_from(bytes.to_vec().into(), file_name, opts)?,
        file_name,
    )
}

/// Reads every sheet of an energy file whose header is recognised (or the named one).
pub fn read_energy_sheets(
    path: &Path,
    opts: &ReadOptions,
) -> Result<crate::Sheets<ParsedEnergy>, IngestError> {
    let (bytes, name) = read_file(path)?;
    read_energy_sheets_from(bytes, &name, opts)
}

/// [`read_energy_sheets`] for a file held in memory.
pub fn parse_energy_sheets(
    bytes: &[u8],
    file_name: &str,
    opts: &ReadOptions,
) -> Result<crate::Sheets<ParsedEnergy>, IngestError> {
    read_energy_sheets_from(bytes.to_vec().into(), file_name, opts)
}

fn read_energy_sheets_from(
    bytes: crate::file_bytes::FileBytes,
    file_name: &str,
    opts: &ReadOptions,
) -> Result<crate::Sheets<ParsedEnergy>, IngestError> {
    let sha256 = sha256_hex(&bytes);
    crate::each_sheet(bytes, file_name, opts, |table, sheet| {
        energy_from(table, file_name, sheet, &sha256)
    })
}

fn energy_from(
    table: Table,
    file_name: &str,
    sheet: Option<String>,
    sha256: &str,
) -> Result<ParsedEnergy, IngestError> {
    let mut report = Report::new(file_name);
    let mut rows = Vec::with_capacity(table.row_capacity());
    let mut rejected: RawRows = BTreeMap::new();
    let is_csv = table.is_csv();

    let layout = walk(&table, FileKind::Energy, file_name, |layout, n, cells| {
        report.rows += 1;
        let mut f = Fields::new(n, cells, layout, is_csv, &mut report.issues);
        let uscc = f.uscc();
        let year = f.year();
        let carrier = f.text(Column::Carrier).and_then(|raw| {
            let parsed = Carrier::parse(&raw);
            if parsed.is_none() {
                f.reject(unknown_carrier(n, &raw));
            }
            parsed
        });
        let unit = f.text(Column::Unit).and_then(|raw| {
            let parsed = Unit::parse(&raw);
            if parsed.is_none() {
                f.reject(unknown_energy_unit(n, &raw));
            }
            parsed
        });
        let quantity = f.required_number(Column::Quantity);
        if let Some(q) = quantity
            && q < 0.0
        {
            f.reject(negative_quantity(n, q));
        }
        let enthalpy = f.number(Column::Enthalpy);
        let temperature = f.number(Column::Temperature);
        if let (Some(c), Some(u)) = (carrier, unit) {
            check_line(&mut f, n, c, u, enthalpy, temperature);
        }
        let failed = f.failed();
        match (uscc, year, carrier, unit, quantity) {
            (Some(uscc), Some(year), Some(carrier), Some(unit), Some(quantity)) if !failed => {
                rows.push(SourceRow {
                    row: n,
                    record: EnergyRecord {
                        uscc,
                        year,
                        line: EnergyLine {
                            carrier,
                            quantity,
                            unit,
                            enthalpy_kj_per_kg: enthalpy.filter(|_| carrier == Carrier::Steam),
                            temperature_c: temperature.filter(|_| carrier == Carrier::HotWater),
                        },
                    },
                });
            }
            _ => {
                let uscc_col = layout.slot(Column::Uscc).map(|(i, _)| i);
                rejected.insert(n, cells.raw(uscc_col));
            }
        }
    })?;
    let mut outcome = finish(&table, layout, report, rows, rejected, Vec::new());
    outcome.report.sheet.clone_from(&sheet);
    Ok(ParsedEnergy {
        file_name: file_name.to_string(),
        sheet,
        sha256: sha256.to_string(),
        report: outcome.report,
        rows: outcome.rows,
        rejected: outcome.rejected,
    })
}

/// The checks that need carrier and unit together.
fn check_line(
    f: &mut Fields<'_, '_>,
    n: u64,
    carrier: Carrier,
    unit: Unit,
    enthalpy: Option<f64>,
    temperature: Option<f64>,
) {
    if let Err(misfit) = conversion(carrier, unit) {
        f.reject(
            Issue::error("unit_misfit", misfit.to_string(), misfit.message_zh())
                .at(n)
                .cell(Column::Unit.key(), unit.key()),
        );
        return;
    }
    match (carrier, enthalpy) {
        (Carrier::Steam, Some(h)) if h <= 0.0 => f.reject(
            Issue::error(
                "invalid_enthalpy",
                format!("steam enthalpy must be a positive number of kJ/kg, not {h}"),
                format!("蒸汽焓值应为正数（kJ/kg），而不是 {h}"),
            )
            .at(n)
            .cell(Column::Enthalpy.key(), &h.to_string()),
        ),
        (Carrier::Steam, _) | (_, None) => {}
        (_, Some(h)) => f.warn(ignored(n, Column::Enthalpy, h, "steam", "蒸汽")),
    }
    match (carrier, temperature) {
        (Carrier::HotWater, None) if unit == Unit::T => f.reject(
            Issue::error(
                "temperature_required",
                "hot water in tonnes needs its temperature (temperature_c), or give it in GJ",
                "以吨计的热水须填写温度（temperature_c），或以 GJ 填写",
            )
            .at(n)
            .cell(Column::Temperature.key(), ""),
        ),
        (Carrier::HotWater, _) | (_, None) => {}
        (_, Some(t)) => f.warn(ignored(n, Column::Temperature, t, "hot_water", "热水")),
    }
}

fn ignored(n: u64, column: Column, value: f64, for_en: &str, for_zh: &str) -> Issue {
    Issue::warning(
        "energy_value_ignored",
        format!(
            "{} applies to {for_en} only and is ignored on this row",
            column.key()
        ),
        format!("“{}”只适用于{for_zh}，本行忽略该值", column.name_zh()),
    )
    .at(n)
    .cell(column.key(), &value.to_string())
}

fn unknown_carrier(n: u64, raw: &str) -> Issue {
    let known = Carrier::ALL.map(|c| c.key()).join(", ");
    Issue::error(
        "unknown_carrier",
        format!("'{raw}' is not an energy carrier gusu knows: write one of {known} (or its Chinese name)"),
        format!("“{raw}”不是可识别的能源品种：应填写 {known} 之一（或其中文名称，如 原煤、天然气、外购电力）"),
    )
    .at(n)
    .cell(Column::Carrier.key(), raw)
}

fn unknown_energy_unit(n: u64, raw: &str) -> Issue {
    let known = Unit::ALL.map(|u| u.key()).join(", ");
    Issue::error(
        "unknown_energy_unit",
        format!("'{raw}' is not a unit of energy files: write one of {known}"),
        format!("“{raw}”不是能源数据的计量单位：应填写 {known} 之一（或 吨、万立方米、千瓦时 等）"),
    )
    .at(n)
    .cell(Column::Unit.key(), raw)
}

fn negative_quantity(n: u64, q: f64) -> Issue {
    Issue::error(
        "negative_quantity",
        format!("quantity {q} is negative: energy sent out has its own carriers (electricity_exported, heat_exported)"),
        format!("数量 {q} 为负：输出的能源请用 electricity_exported、heat_exported 填报"),
    )
    .at(n)
    .cell(Column::Quantity.key(), &q.to_string())
}

/// Adds an error for each row whose code is not among `known` and drops those rows.
pub fn check_known_energy<S: std::hash::BuildHasher>(
    parsed: &mut ParsedEnergy,
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
    parsed.rows.retain(|r| !unknown.contains(&r.row));
    parsed.report.issues.sort_by_key(|i| i.row);
}

/// Refuses, row by row, lines of enterprises registered in a district the importer may not import
/// for (a district officer's file with other districts' rows): as for yearly files.
pub fn check_energy_districts<S: std::hash::BuildHasher>(
    parsed: &mut ParsedEnergy,
    registered: &std::collections::HashMap<Uscc, String, S>,
    region: &gusu_core::RegionSet,
    allowed: impl Fn(&str) -> bool,
) {
    let rows = parsed.rows.iter().map(|r| (r.row, &r.record.uscc));
    let (found, outside) = crate::outside_district_rows(rows, registered, region, allowed);
    parsed.report.issues.extend(found);
    parsed.rows.retain(|r| !outside.contains(&r.row));
    parsed.report.issues.sort_by_key(|i| i.row);
}

/// Refuses, row by row, lines of a year other than the one the file was uploaded for.
pub fn check_energy_year(parsed: &mut ParsedEnergy, year: i32) {
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
    parsed.rows.retain(|r| !other.contains(&r.row));
    parsed.report.issues.sort_by_key(|i| i.row);
}
