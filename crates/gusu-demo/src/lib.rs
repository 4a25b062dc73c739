//! A deterministic synthetic Suzhou-like city: enterprises, their yearly figures, and the files the
//! city's departments would send about them, imperfections included.
//!
//! [`generate`] makes the [`City`]; [`write_department_files`] writes it as the land, statistics, tax,
//! power and environment departments do; [`write_plain`] writes two clean CSV files for benchmarks.
//! The same seed gives byte-identical output on any machine (ChaCha8 streams, no hash-order
//! iteration, fixed XLSX timestamps); another seed gives another city. (Log-normal draws use
//! `f64::exp`, which libm may round differently in the last bit on an exotic platform; figures are
//! rounded to 2–3 decimals before they are stored, so that would only show on an exact tie.)
//!
//! # The city
//! - `enterprises` (default 16,000) over Suzhou's 10 districts, weighted by industrial weight (昆山 18,
//!   苏州工业园区 14, 吴江 14, 常熟 12, 张家港 11, 吴中 9, 虎丘 8, 相城 7, 太仓 6, 姑苏 1), with the
//!   districts' specialities (textiles in 吴江 and 常熟, steel in 张家港, pharma in SIP, autos in 太仓).
//! - Divisions weighted like Suzhou (39 electronics 13, 34 and 38 10 each, 33 9, 29 8, 17 7, 35 7,
//!   26 5, 36 4, ... 31 steel 0.8 but twenty times the revenue, 44–46 utilities a few). Most
//!   enterprises carry a 4-digit class code; 3% only the 2-digit division.
//! - USCCs: type 91, registered at the district's authority (SIP mostly 320594, 吴江 before 2012
//!   320584, 姑苏 before 2012 320503, some at the city's 320500), 0.5% outside Suzhou (310115, 320100,
//!   ...: legal). Codes issued from 2016 have "MA" organisation codes, older ones a GB 11714 code with
//!   its check digit. All valid and unique. Names are unique Chinese company names
//!   (昆山华盛电子科技有限公司, 瑞达光电（苏州）有限公司, ...).
//! - 35% above designated size (规上); land log-normal (规上 median 40 mu × division factor, 规下 8 mu,
//!   some under 3 mu); founded 1985..last year, 3% in the last two years.
//! - Revenue log-normal (规上 2000 万元 + a log-normal; 规下 under 2000), value added 12–40% of
//!   revenue by division, tax 1.5–10% (1.5% of 规上 and 5% of 规下 pay none, about 0.5% get a refund:
//!   negative tax), energy by value added × a division's intensity, electricity its share of the
//!   energy, the 等价值 energy counting that electricity at 0.300 kgce/kWh instead of 0.1229 (so the
//!   ratio to `energy_tce` is 1 + 1.44 × the electricity share: 1.04–2.43, about 2.1 for a typical
//!   electricity-driven plant), pollutants for the enterprises the environment bureau lists (most
//!   heavy ones, few light ones; wastewater (COD, NH3-N) and flue gas (SO₂, NOx) apart; never less
//!   than a plant-sized floor of tenths of a tonne, and SO₂ 0 for gas-only plants), R&D 0–8% of
//!   revenue, employees from revenue per head, main revenue 80–100% of revenue.
//! - Year on year: growth of −10%..+20% plus a personal drift, energy intensity falling ~3% a year.
//!   2.5% of enterprises close (no records from a later year on); those founded in the last year
//!   have records of that year only.
//!
//! # What the records hold
//! `City::records` are the true figures *as the departments know them*: the merge of the department
//! files by each figure's default source. A cell a department leaves blank (1% of the value cells of
//! every file, and 1% of the land areas) is `None`. The statistics bureau surveys every 规上 and 30% of
//! 规下 enterprises, so the other 规下 have revenue (from the tax file), tax, electricity and perhaps
//! pollutants, but no value added, energy, R&D or employees. Importing all department files and
//! skipping the injected rows gives exactly these records: the injected rows only carry codes that
//! are broken or belong to no enterprise, and the conflicting tax revenues lose to the statistics
//! bureau's (the default source of revenue).
//!
//! # Department files ([`write_department_files`])
//! In import order: `enterprises.csv`, then for each year `{year}_stats.xlsx`, `{year}_tax.csv`,
//! `{year}_power.csv`, `{year}_environment.csv`. The annual files have the enterprises of the year in
//! the city's order.
//!
//! | file | source | encoding | columns |
//! |---|---|---|---|
//! | `enterprises.csv` | land | UTF-8 | 统一社会信用代码,企业名称,所属区县,行业代码,用地面积(亩),是否规上,成立日期,不参评 |
//! | `{year}_stats.xlsx` | stats | XLSX, sheet `{year}年` | 2 title rows, then 统一社会信用代码,年度,营业收入(万元),主营业务收入(万元),工业增加值(万元),综合能耗(吨标准煤),综合能耗等价值(吨标准煤),研发经费支出(万元),从业人员平均人数, data, a last row 合计 (sums of the data) |
//! | `{year}_tax.csv` | tax | **GBK** | 统一社会信用代码,年度,实缴税金(元),营业收入(万元) |
//! | `{year}_power.csv` | power | UTF-8 with BOM | uscc,year,electricity_kwh; in the first year of several: uscc,year,用电量(万千瓦时) (kWh ÷ 10,000) |
//! | `{year}_environment.csv` | environment | UTF-8 | uscc,year,cod_t,ammonia_n_t,so2_t,nox_t (listed enterprises only; a blank is "not reported") |
//!
//! - Enterprises file: district as its name (60%), code (30%) or short form (园区, 苏州高新区, 吴江...:
//!   10%); industry code with the section letter (C3973) in 10% of rows; 是否规上 是/否; dates as
//!   `2019/3/5` or `2019-03-05` (half each); 不参评 `是` or blank.
//! - Above [`STATS_XLSX_MAX_ENTERPRISES`] (200,000) enterprises the statistics file is
//!   `{year}_stats.csv` instead (UTF-8 with BOM, same title rows, header, data and 合计 row): XLSX
//!   writing is slow and Excel stops at 1,048,576 rows.
//! - Tax is in yuan (the truth × 10,000, whole yuan). The tax file repeats each enterprise's revenue;
//!   for 0.5% of them ([`REVENUE_CONFLICT_SHARE`]) it differs by 1–5%: a conflict with the statistics
//!   file that the store must report.
//! - Numbers are written in Rust's shortest round-trip form (no exponent, no thousands separator).
//!
//! # Injected faults
//! Every department file gets exactly [`FAULTS_PER_FILE`] (5) extra rows at random places, each a
//! copy of a real row (names get 分公司 appended) with one cell broken; [`DepartmentFile::faults`]
//! gives each one's line (CSV line or sheet row, 1-based, title and header rows counted), column and
//! value. No file gets more (a file with no data rows, e.g. no emission reporters, gets none).
//! Besides these, every row is valid: blanks are blanks, zeros (no tax paid, no SO₂) and negative
//! tax (refunds) are real values an importer may warn about but must accept.
//!
//! | kind | enterprises.csv | annual files |
//! |---|---|---|
//! | [`FaultKind::WrongCheckCharacter`] | real code, other check character | same |
//! | [`FaultKind::BlankUscc`] | code blank | same |
//! | [`FaultKind::UnparseableNumber`] | 用地面积(亩) = `12,3a4` (code valid but unknown) | first figure column (实缴税金(元), 营业收入(万元), electricity, cod_t) = `12,3a4` (code valid but unknown) |
//! | [`FaultKind::UnknownDistrict`] | 所属区县 = `南京市` (code valid but unknown) | — |
//! | [`FaultKind::ExcelNumberUscc`] | code `9.13205E+17` | same (a number cell 9.13205e17 in XLSX) |
//! | [`FaultKind::ForbiddenCharacter`] | — | real code with `O` in the organisation code |
//!
//! # Plain files ([`write_plain`])
//! `enterprises.csv` with [`ENTERPRISE_COLUMNS`] (`uscc,name,district,industry_code,land_area_mu,
//! above_scale,established,exempt`: district code, `true`/`false`, ISO dates) and `annual.csv` with
//! `uscc,year` and the interchange keys of [`ANNUAL_FIGURES`] (`revenue_10k_yuan` ... `employees`);
//! blank = missing. UTF-8, no BOM, no faults.

mod energy;
mod files;
mod generate;
mod names;
mod plain;
mod policy;
mod profile;
mod readings;

use std::io;
use std::path::{Path, PathBuf};

use gusu_core::{Enterprise, YearlyRecord};

pub use energy::{energy_intensive, write_daily_readings, write_energy};
pub use files::{
    DepartmentFile, EXCEL_NUMBER_USCC, FAULTS_PER_FILE, FaultKind, FileKind, InjectedFault,
    REVENUE_CONFLICT_SHARE, STATS_XLSX_MAX_ENTERPRISES, UNKNOWN_DISTRICT, UNPARSEABLE_NUMBER,
};
pub use plain::{ANNUAL_FIGURES, ENTERPRISE_COLUMNS};
pub use policy::{write_designations, write_projects};
pub use readings::{HOURLY_SHAPE, mean_hourly_loads, write_readings};

/// What city to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Number of enterprises (default 16,000).
    pub enterprises: usize,
    /// Seed of every random draw (default 2024).
    pub seed: u64,
    /// Years with figures (default 2023 and 2024); order and repeats do not matter.
    pub years: Vec<i32>,
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig {
            enterprises: 16_000,
            seed: 2024,
            years: vec![2023, 2024],
        }
    }
}

/// A synthetic city.
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    pub enterprises: Vec<Enterprise>,
    /// The true merged figures, ordered by year, then in the order of `enterprises`.
    pub records: Vec<YearlyRecord>,
}

/// Makes the city of a configuration: pure and deterministic.
///
/// # Panics
/// When `config.years` is empty.
pub fn generate(config: &DemoConfig) -> City {
    generate::generate(config)
}

/// Writes the city as its departments send it, into `dir` (created if missing), and returns the
/// files in the order to import them: the enterprises file first.
pub fn write_department_files(
    city: &City,
    config: &DemoConfig,
    dir: &Path,
) -> io::Result<Vec<DepartmentFile>> {
    files::write_department_files(city, config, dir)
}

/// Writes `enterprises.csv` and `annual.csv` with the interchange headers into `dir` (created if
/// missing), and returns their paths.
pub fn write_plain(city: &City, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    plain::write_plain(city, dir)
}
