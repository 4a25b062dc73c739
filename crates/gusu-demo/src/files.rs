//! The city written down the way its departments send it: each with its own encoding, headers,
//! units and habits, plus a fixed set of broken rows (see the crate documentation for the list).
//!
//! Everything a department file says that is not in the [`City`] (how a district or date is written,
//! which rows carry a conflicting revenue, where the bad rows go) is drawn from a ChaCha8 stream of
//! its own, keyed by the seed, the file's year and its source, so files do not depend on each other.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use gusu_core::{Enterprise, Figure, RegionSet, Uscc, YearlyRecord};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::generate::{STATS_ONLY, round_to, years_of};
use crate::{City, DemoConfig};

/// Above this many enterprises the statistics file is written as CSV: XLSX writing is slow and Excel
/// itself stops at 1,048,576 rows.
pub const STATS_XLSX_MAX_ENTERPRISES: usize = 200_000;
/// Number of broken rows in every department file.
pub const FAULTS_PER_FILE: usize = 5;
/// Share of revenue rows of the statistics bureau that the tax file reports differently.
pub const REVENUE_CONFLICT_SHARE: f64 = 0.005;
/// What a number cell with a typing accident looks like.
pub const UNPARSEABLE_NUMBER: &str = "12,3a4";
/// What Excel makes of an 18-digit code in a number cell.
pub const EXCEL_NUMBER_USCC: &str = "9.13205E+17";
/// A district that is not in Suzhou's region set.
pub const UNKNOWN_DISTRICT: &str = "南京市";

/// What a department file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The list of enterprises (one row per enterprise).
    Enterprises,
    /// Yearly figures (one row per enterprise and year).
    Annual,
}

/// One written department file, in the order to import it.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentFile {
    pub path: PathBuf,
    pub kind: FileKind,
    /// The sending department: "land", "tax", "stats", "power", "environment" (or "bureau").
    pub source: &'static str,
    /// The year of an annual file.
    pub year: Option<i32>,
    /// The broken rows injected into it.
    pub faults: Vec<InjectedFault>,
}

/// What is wrong with an injected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// A real enterprise's code with another check character (`uscc_check_character`).
    WrongCheckCharacter,
    /// The code cell is blank, the rest of the row filled.
    BlankUscc,
    /// A number cell reads `12,3a4`.
    UnparseableNumber,
    /// The district cell reads `南京市` (enterprises file only).
    UnknownDistrict,
    /// The code cell reads `9.13205E+17` (a number cell in XLSX).
    ExcelNumberUscc,
    /// A real enterprise's code with the letter `O` (never used) in the organisation code
    /// (`uscc_character`; annual files only).
    ForbiddenCharacter,
}

/// One injected broken row: where it is and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFault {
    /// The CSV line or sheet row, 1-based, counting title and header rows.
    pub line: u64,
    pub kind: FaultKind,
    /// The header of the broken cell.
    pub column: &'static str,
    /// The broken cell as written ("" for a blank).
    pub value: String,
}

const ENTERPRISE_FAULTS: [FaultKind; FAULTS_PER_FILE] = [
    FaultKind::WrongCheckCharacter,
    FaultKind::BlankUscc,
    FaultKind::UnparseableNumber,
    FaultKind::UnknownDistrict,
    FaultKind::ExcelNumberUscc,
];

const ANNUAL_FAULTS: [FaultKind; FAULTS_PER_FILE] = [
    FaultKind::WrongCheckCharacter,
    FaultKind::BlankUscc,
    FaultKind::UnparseableNumber,
    FaultKind::ExcelNumberUscc,
    FaultKind::ForbiddenCharacter,
];

/// A cell before it is written: CSV writes numbers with Rust's shortest round-trip formatting (never
/// an exponent), XLSX as number cells.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Blank,
}

impl Cell {
    fn opt(value: Option<f64>) -> Cell {
        value.map_or(Cell::Blank, Cell::Number)
    }

    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(x) => x.to_string(),
            Cell::Blank => String::new(),
        }
    }
}

/// A department file in memory.
struct Table {
    /// Rows above the header (a title, a unit line), one cell each.
    titles: Vec<String>,
    header: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    /// A final 合计 row.
    total: Option<Vec<Cell>>,
}

impl Table {
    /// Line of the data row at `index` (0-based, counting injected rows).
    fn line_of(&self, index: usize) -> u64 {
        (self.titles.len() + 2 + index) as u64
    }
}

#[derive(Clone, Copy)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Gbk,
}

pub(crate) fn write_department_files(
    city: &City,
    config: &DemoConfig,
    dir: &Path,
) -> io::Result<Vec<DepartmentFile>> {
    write_files(city, config, dir, STATS_XLSX_MAX_ENTERPRISES)
}

fn write_files(
    city: &City,
    config: &DemoConfig,
    dir: &Path,
    stats_xlsx_max: usize,
) -> io::Result<Vec<DepartmentFile>> {
    fs::create_dir_all(dir)?;
    let years = years_of(config);
    let known: HashSet<&str> = city.enterprises.iter().map(|e| e.uscc.as_str()).collect();
    let index: HashMap<&str, &Enterprise> = city
        .enterprises
        .iter()
        .map(|e| (e.uscc.as_str(), e))
        .collect();
    let mut out = Vec::new();

    let mut rng = file_rng(config.seed, 0, "land");
    let mut table = enterprises_table(&mut rng, &city.enterprises);
    let faults = inject(&mut rng, &mut table, &ENTERPRISE_FAULTS, &known, 0);
    let path = dir.join("enterprises.csv");
    write_csv(&path, &table, Encoding::Utf8)?;
    out.push(DepartmentFile {
        path,
        kind: FileKind::Enterprises,
        source: "land",
        year: None,
        faults,
    });

    for (slot, &year) in years.iter().enumerate() {
        let records: Vec<&YearlyRecord> = city.records.iter().filter(|r| r.year == year).collect();

        let mut rng = file_rng(config.seed, year, "stats");
        let mut table = stats_table(year, &records, &index);
        let faults = inject(&mut rng, &mut table, &ANNUAL_FAULTS, &known, 2);
        let path = if city.enterprises.len() > stats_xlsx_max {
            let path = dir.join(format!("{year}_stats.csv"));
            write_csv(&path, &table, Encoding::Utf8Bom)?;
            path
        } else {
            let path = dir.join(format!("{year}_stats.xlsx"));
            write_xlsx(&path, &table, year).map_err(io::Error::other)?;
            path
        };
        out.push(annual(path, "stats", year, faults));

        let mut rng = file_rng(config.seed, year, "tax");
        let mut table = tax_table(&mut rng, &records, &index);
        let faults = inject(&mut rng, &mut table, &ANNUAL_FAULTS, &known, 2);
        let path = dir.join(format!("{year}_tax.csv"));
        write_csv(&path, &table, Encoding::Gbk)?;
        out.push(annual(path, "tax", year, faults));

        // The power company switched its export from 万千瓦时 to kWh: the first of several years
        // still uses the old unit, which the importer must convert.
        let in_10k_kwh = years.len() > 1 && slot == 0;
        let mut rng = file_rng(config.seed, year, "power");
        let mut table = power_table(&records, in_10k_kwh);
        let faults = inject(&mut rng, &mut table, &ANNUAL_FAULTS, &known, 2);
        let path = dir.join(format!("{year}_power.csv"));
        write_csv(&path, &table, Encoding::Utf8Bom)?;
        out.push(annual(path, "power", year, faults));

        let mut rng = file_rng(config.seed, year, "environment");
        let mut table = environment_table(&records);
        let faults = inject(&mut rng, &mut table, &ANNUAL_FAULTS, &known, 2);
        let path = dir.join(format!("{year}_environment.csv"));
        write_csv(&path, &table, Encoding::Utf8)?;
        out.push(annual(path, "environment", year, faults));
    }
    Ok(out)
}

fn annual(
    path: PathBuf,
    source: &'static str,
    year: i32,
    faults: Vec<InjectedFault>,
) -> DepartmentFile {
    DepartmentFile {
        path,
        kind: FileKind::Annual,
        source,
        year: Some(year),
        faults,
    }
}

/// A stream of its own for each file, so adding a year or a file leaves the others as they were.
fn file_rng(seed: u64, year: i32, source: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6775_7375_6465_6d6f); // "gusudemo"
    let kind = ["land", "stats", "tax", "power", "environment"]
        .iter()
        .position(|s| *s == source)
        .expect("known source") as u64;
    rng.set_stream(((year as u64) << 8) | (kind + 1));
    rng
}

fn enterprises_table(rng: &mut ChaCha8Rng, enterprises: &[Enterprise]) -> Table {
    let region = RegionSet::suzhou();
    let rows = enterprises
        .iter()
        .map(|e| {
            let district = region.by_code(&e.district).expect("generated district");
            // The land bureau's staff type what they know: mostly names, sometimes the code or a
            // common short form.
            let roll: f64 = rng.random();
            let district_cell = if roll < 0.3 {
                district.code.clone()
            } else if roll < 0.4 && !district.aliases.is_empty() {
                district.aliases[0].clone()
            } else {
                district.name_zh.clone()
            };
            let section = gusu_core::division(&e.division).expect("division").section;
            let industry = if rng.random_bool(0.1) {
                format!("{section}{}", e.industry_code)
            } else {
                e.industry_code.clone()
            };
            vec![
                Cell::Text(e.uscc.to_string()),
                Cell::Text(e.name.clone()),
                Cell::Text(district_cell),
                Cell::Text(industry),
                Cell::opt(e.land_area_mu),
                Cell::Text(if e.above_scale { "是" } else { "否" }.into()),
                Cell::Text(date_cell(rng, e.established)),
                Cell::Text(if e.exempt { "是" } else { "" }.into()),
            ]
        })
        .collect();
    Table {
        titles: vec![],
        header: vec![
            "统一社会信用代码",
            "企业名称",
            "所属区县",
            "行业代码",
            "用地面积(亩)",
            "是否规上",
            "成立日期",
            "不参评",
        ],
        rows,
        total: None,
    }
}

/// Half the dates as Excel shows them in a Chinese locale (2019/3/5), half as ISO dates.
fn date_cell(rng: &mut ChaCha8Rng, date: NaiveDate) -> String {
    if rng.random_bool(0.5) {
        format!("{}/{}/{}", date.year(), date.month(), date.day())
    } else {
        date.format("%Y-%m-%d").to_string()
    }
}

fn key_cells(record: &YearlyRecord) -> [Cell; 2] {
    [
        Cell::Text(record.uscc.to_string()),
        Cell::Number(f64::from(record.year)),
    ]
}

const STATS_COLUMNS: [(&str, Figure); 7] = [
    ("营业收入(万元)", Figure::Revenue),
    ("主营业务收入(万元)", Figure::MainRevenue),
    ("工业增加值(万元)", Figure::ValueAdded),
    ("综合能耗(吨标准煤)", Figure::EnergyTce),
    ("综合能耗等价值(吨标准煤)", Figure::EnergyTceEquivalent),
    ("研发经费支出(万元)", Figure::RdExpense),
    ("从业人员平均人数", Figure::Employees),
];

/// Whether the statistics bureau reports the record: every enterprise above designated size, and
/// the surveyed ones below it (the only ones with figures that only the bureau knows).
fn in_stats(record: &YearlyRecord, index: &HashMap<&str, &Enterprise>) -> bool {
    index[record.uscc.as_str()].above_scale
        || STATS_ONLY.iter().any(|&f| record.figures.get(f).is_some())
}

fn stats_table(year: i32, records: &[&YearlyRecord], index: &HashMap<&str, &Enterprise>) -> Table {
    let mut totals = [0.0f64; STATS_COLUMNS.len()];
    let mut rows = Vec::new();
    for record in records {
        if !in_stats(record, index) {
            continue;
        }
        let mut row = key_cells(record).to_vec();
        for (i, (_, figure)) in STATS_COLUMNS.iter().enumerate() {
            let value = record.figures.get(*figure);
            totals[i] += value.unwrap_or(0.0);
            row.push(Cell::opt(value));
        }
        rows.push(row);
    }
    let mut total = vec![Cell::Text("合计".into()), Cell::Blank];
    total.extend(totals.iter().map(|&t| Cell::Number(round_to(t, 2))));
    let mut header = vec!["统一社会信用代码", "年度"];
    header.extend(STATS_COLUMNS.iter().map(|(h, _)| *h));
    Table {
        titles: vec![
            format!("{year}年规模以上工业企业主要指标（含规模以下抽样调查企业）"),
            "单位：万元、吨标准煤、人".into(),
        ],
        header,
        rows,
        total: Some(total),
    }
}

fn tax_table(
    rng: &mut ChaCha8Rng,
    records: &[&YearlyRecord],
    index: &HashMap<&str, &Enterprise>,
) -> Table {
    let rows = records
        .iter()
        .map(|record| {
            let tax_yuan = record
                .figures
                .get(Figure::TaxPaid)
                .map(|t| (t * 10_000.0).round());
            // The tax bureau's revenue (from declarations) agrees with the statistics bureau's,
            // except for a few enterprises: a conflict the store must report. Where the bureau
            // does not survey, the tax file is the only source and is right by definition.
            let surveyed = in_stats(record, index);
            let revenue = record.figures.get(Figure::Revenue).map(|r| {
                if surveyed && rng.random_bool(REVENUE_CONFLICT_SHARE) {
                    let off = rng.random_range(0.01..0.05);
                    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                    round_to(r * (1.0 + sign * off), 2)
                } else {
                    r
                }
            });
            let mut row = key_cells(record).to_vec();
            row.push(Cell::opt(tax_yuan));
            row.push(Cell::opt(revenue));
            row
        })
        .collect();
    Table {
        titles: vec![],
        header: vec!["统一社会信用代码", "年度", "实缴税金(元)", "营业收入(万元)"],
        rows,
        total: None,
    }
}

fn power_table(records: &[&YearlyRecord], in_10k_kwh: bool) -> Table {
    let rows = records
        .iter()
        .map(|record| {
            let kwh = record.figures.get(Figure::ElectricityKwh);
            let value = if in_10k_kwh {
                kwh.map(|k| k / 10_000.0)
            } else {
                kwh
            };
            let mut row = key_cells(record).to_vec();
            row.push(Cell::opt(value));
            row
        })
        .collect();
    Table {
        titles: vec![],
        header: vec![
            "uscc",
            "year",
            if in_10k_kwh {
                "用电量(万千瓦时)"
            } else {
                "electricity_kwh"
            },
        ],
        rows,
        total: None,
    }
}

const POLLUTANTS: [Figure; 4] = [Figure::Cod, Figure::AmmoniaN, Figure::So2, Figure::Nox];

fn environment_table(records: &[&YearlyRecord]) -> Table {
    let rows = records
        .iter()
        .filter(|r| POLLUTANTS.iter().any(|&f| r.figures.get(f).is_some()))
        .map(|record| {
            let mut row = key_cells(record).to_vec();
            row.extend(POLLUTANTS.iter().map(|&f| Cell::opt(record.figures.get(f))));
            row
        })
        .collect();
    Table {
        titles: vec![],
        header: vec!["uscc", "year", "cod_t", "ammonia_n_t", "so2_t", "nox_t"],
        rows,
        total: None,
    }
}

/// Inserts the broken rows at random places and says where they went. Each is a copy of a real
/// row with one cell broken; rows that keep a valid-looking code get a code no enterprise has, so
/// an import that skips invalid rows gives exactly the city.
fn inject(
    rng: &mut ChaCha8Rng,
    table: &mut Table,
    kinds: &[FaultKind],
    known: &HashSet<&str>,
    number_column: usize,
) -> Vec<InjectedFault> {
    if table.rows.is_empty() {
        // Nothing to copy from (a tiny city may have no emission reporters).
        return Vec::new();
    }
    let district_column = table.header.iter().position(|h| *h == "所属区县");
    let land_column = table.header.iter().position(|h| *h == "用地面积(亩)");
    let name_column = table.header.iter().position(|h| *h == "企业名称");
    let number_column = land_column.unwrap_or(number_column);

    // (position among the real rows, the row, what is wrong with it)
    let mut planned: Vec<(usize, Vec<Cell>, InjectedFault)> = Vec::new();
    for &kind in kinds {
        let donor = table.rows[rng.random_range(0..table.rows.len())].clone();
        let real = match &donor[0] {
            Cell::Text(s) => s.clone(),
            _ => unreachable!("codes are text"),
        };
        let mut row = donor;
        if let Some(c) = name_column
            && let Cell::Text(name) = &row[c]
        {
            // A branch of a real company, so the row does not duplicate a real name either.
            row[c] = Cell::Text(format!("{name}分公司"));
        }
        let (column, value) = match kind {
            FaultKind::WrongCheckCharacter => {
                let mut code = real.into_bytes();
                let alphabet = gusu_core::uscc::ALPHABET;
                let at = alphabet.iter().position(|&a| a == code[17]).expect("valid");
                code[17] = alphabet[(at + 1 + rng.random_range(0..29)) % alphabet.len()];
                (0, String::from_utf8(code).expect("ascii"))
            }
            FaultKind::BlankUscc => (0, String::new()),
            FaultKind::ExcelNumberUscc => (0, EXCEL_NUMBER_USCC.to_string()),
            FaultKind::ForbiddenCharacter => {
                let mut code = real.into_bytes();
                code[rng.random_range(9..17)] = b'O';
                (0, String::from_utf8(code).expect("ascii"))
            }
            FaultKind::UnparseableNumber => {
                row[0] = Cell::Text(unknown_code(rng, known));
                (number_column, UNPARSEABLE_NUMBER.to_string())
            }
            FaultKind::UnknownDistrict => {
                row[0] = Cell::Text(unknown_code(rng, known));
                (
                    district_column.expect("enterprises file"),
                    UNKNOWN_DISTRICT.to_string(),
                )
            }
        };
        row[column] = if value.is_empty() {
            Cell::Blank
        } else {
            Cell::Text(value.clone())
        };
        let at = rng.random_range(0..=table.rows.len());
        let fault = InjectedFault {
            line: 0,
            kind,
            column: table.header[column],
            value,
        };
        planned.push((at, row, fault));
    }
    // Merge the broken rows in before the real row they were drawn for; several at one place keep
    // their planned order.
    planned.sort_by_key(|(at, _, _)| *at);
    let real = std::mem::take(&mut table.rows);
    let mut rows = Vec::with_capacity(real.len() + planned.len());
    let mut faults = Vec::with_capacity(planned.len());
    let mut planned = planned.into_iter().peekable();
    for (i, row) in real.into_iter().map(Some).chain([None]).enumerate() {
        while let Some((_, bad, mut fault)) = planned.next_if(|(at, _, _)| *at == i) {
            fault.line = table.line_of(rows.len());
            rows.push(bad);
            faults.push(fault);
        }
        rows.extend(row);
    }
    table.rows = rows;
    faults
}

/// A valid code that no enterprise of the city has.
fn unknown_code(rng: &mut ChaCha8Rng, known: &HashSet<&str>) -> String {
    const ALPHABET: &[u8] = gusu_core::uscc::ALPHABET;
    loop {
        let mut body = String::from("91320500MA");
        for _ in 0..7 {
            body.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
        }
        let code = Uscc::with_check_character(&body).expect("from the alphabet");
        if !known.contains(code.as_str()) {
            return code.to_string();
        }
    }
}

fn write_csv(path: &Path, table: &Table, encoding: Encoding) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(64 * (table.rows.len() + 4));
    if let Encoding::Utf8Bom = encoding {
        buffer.extend_from_slice("\u{feff}".as_bytes());
    }
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut buffer);
        for title in &table.titles {
            w.write_record([title])?;
        }
        w.write_record(&table.header)?;
        let mut fields: Vec<String> = Vec::with_capacity(table.header.len());
        for row in table.rows.iter().chain(table.total.iter()) {
            fields.clear();
            fields.extend(row.iter().map(Cell::csv));
            w.write_record(&fields)?;
        }
        w.flush()?;
    }
    let bytes = match encoding {
        Encoding::Gbk => {
            let text = std::str::from_utf8(&buffer).map_err(io::Error::other)?;
            let (encoded, _, unmappable) = encoding_rs::GBK.encode(text);
            if unmappable {
                return Err(io::Error::other("a cell cannot be written in GBK"));
            }
            encoded.into_owned()
        }
        _ => buffer,
    };
    let mut file = BufWriter::new(fs::File::create(path)?);
    file.write_all(&bytes)?;
    file.flush()
}

fn write_xlsx(path: &Path, table: &Table, year: i32) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    // A fixed creation time: the file must be byte-identical for the same seed.
    let created = ExcelDateTime::from_ymd((year + 1) as u16, 1, 15)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = workbook.add_worksheet();
    sheet.set_name(format!("{year}年"))?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let mut row: u32 = 0;
    for title in &table.titles {
        sheet.write_string_with_format(row, 0, title, &bold)?;
        row += 1;
    }
    for (c, h) in table.header.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, *h, &bold)?;
    }
    row += 1;
    for cells in table.rows.iter().chain(table.total.iter()) {
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u16;
            match cell {
                // The code column is formatted as text, as a careful clerk does; the Excel-number
                // fault is the one cell where that care was lost.
                Cell::Text(s) if c == 0 && s == EXCEL_NUMBER_USCC => {
                    sheet.write_number(row, c, 9.13205e17)?;
                }
                Cell::Text(s) if c == 0 => {
                    sheet.write_string_with_format(row, c, s, &text)?;
                }
                Cell::Text(s) => {
                    sheet.write_string(row, c, s)?;
                }
                Cell::Number(x) => {
                    sheet.write_number(row, c, *x)?;
                }
                Cell::Blank => {}
            }
        }
        row += 1;
    }
    sheet.set_column_width(0, 22)?;
    workbook.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate;

    #[test]
    fn a_large_city_gets_its_statistics_as_csv_with_the_same_layout() {
        let config = DemoConfig {
            enterprises: 300,
            seed: 5,
            years: vec![2024],
        };
        let city = generate(&config);
        let dir = tempfile::tempdir().unwrap();
        let files = write_files(&city, &config, dir.path(), 100).unwrap();
        let stats = files.iter().find(|f| f.source == "stats").unwrap();
        assert_eq!(stats.path.file_name().unwrap(), "2024_stats.csv");
        let text = fs::read_to_string(&stats.path).unwrap();
        let text = text.strip_prefix('\u{feff}').expect("BOM");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("2024年"));
        assert!(lines[1].starts_with("单位"));
        assert!(lines[2].starts_with("统一社会信用代码,年度,营业收入(万元)"));
        assert!(lines.last().unwrap().starts_with("合计,,"));
        for fault in &stats.faults {
            let line = lines[fault.line as usize - 1];
            if fault.kind == FaultKind::ExcelNumberUscc {
                assert!(line.starts_with("9.13205E+17,2024,"), "{line}");
            }
        }
        // A single year: the power file is in kWh.
        let power = files.iter().find(|f| f.source == "power").unwrap();
        let text = fs::read_to_string(&power.path).unwrap();
        assert!(text.starts_with("\u{feff}uscc,year,electricity_kwh\n"));
    }

    #[test]
    fn injected_rows_land_on_the_lines_they_report() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for n in [1usize, 2, 7, 50] {
            let mut table = Table {
                titles: vec!["t".into()],
                header: vec!["uscc", "year", "x"],
                rows: (0..n)
                    .map(|i| {
                        let code =
                            Uscc::with_check_character(&format!("91320583MA{i:07}")).unwrap();
                        vec![
                            Cell::Text(code.to_string()),
                            Cell::Number(2024.0),
                            Cell::Number(i as f64),
                        ]
                    })
                    .collect(),
                total: None,
            };
            let original = table.rows.clone();
            let faults = inject(&mut rng, &mut table, &ANNUAL_FAULTS, &HashSet::new(), 2);
            assert_eq!(faults.len(), FAULTS_PER_FILE);
            assert_eq!(table.rows.len(), n + FAULTS_PER_FILE);
            for f in &faults {
                let row = &table.rows[(f.line - 3) as usize];
                let column = table.header.iter().position(|h| *h == f.column).unwrap();
                let cell = match &row[column] {
                    Cell::Text(s) => s.clone(),
                    Cell::Blank => String::new(),
                    Cell::Number(x) => x.to_string(),
                };
                assert_eq!(cell, f.value);
            }
            // Without the injected lines, the real rows are all there, in their order.
            let injected: HashSet<u64> = faults.iter().map(|f| f.line).collect();
            let rest: Vec<Vec<Cell>> = table
                .rows
                .iter()
                .enumerate()
                .filter(|(i, _)| !injected.contains(&table.line_of(*i)))
                .map(|(_, r)| r.clone())
                .collect();
            assert_eq!(rest, original);
        }
    }
}
