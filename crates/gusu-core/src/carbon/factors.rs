//! Factor rule documents (TOML under `rules/factors/`) and the library that selects rows from them.
//!
//! A row has an identity (what it is about, its source, the years it is valid for, its region and
//! basis), a value with its unit and the source it cites; every result names the ids of the rows it
//! used. Documents are strict: an unknown key is an error naming the file and line. Rows of a later
//! document (an override directory) replace shipped rows with the same id.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::units::{Carrier, Unit};

/// Why a factor document was refused, or a factor could not be found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FactorError {
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: row {id}: {message}")]
    Invalid {
        origin: String,
        id: String,
        message: String,
    },
    #[error("no {what} factor valid for {year}; rows known: {known}")]
    Missing {
        what: String,
        year: i32,
        known: String,
    },
}

/// The document's header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentHeader {
    pub name: String,
    pub version: String,
    pub title_zh: String,
    pub title_en: String,
    /// H, M or L: official text or several sources agree; one credible source; unverified.
    pub confidence: String,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A factor rule document: any mix of the row kinds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorDocument {
    pub document: DocumentHeader,
    #[serde(default)]
    pub fuel: Vec<FuelRow>,
    #[serde(default)]
    pub grid: Vec<GridRow>,
    #[serde(default)]
    pub location: Vec<LocationRow>,
    #[serde(default)]
    pub coefficient: Vec<CoefficientRow>,
    #[serde(default)]
    pub efficiency_level: Vec<BandRow>,
    #[serde(default)]
    pub efficiency_grade: Vec<BandRow>,
}

/// Default parameters of one fuel (NDRC sector guides; tce from GB/T 2589-2020).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FuelRow {
    pub id: String,
    pub carrier: Carrier,
    /// The unit the row is per (`t` or `10k_nm3`).
    pub unit: Unit,
    /// Net calorific value, GJ per `unit`.
    pub ncv_gj: f64,
    /// Carbon content per unit of heat, tC/TJ.
    pub carbon_content_tc_per_tj: f64,
    /// Oxidation rate (0–1).
    pub oxidation: f64,
    /// The published tCO₂ per `unit`; must equal NCV × CC × OF × 44/12 within its rounding.
    pub tco2_per_unit: f64,
    /// The published tce per `unit` (authoritative, GB/T 2589).
    pub tce_per_unit: f64,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
    pub region: String,
    pub basis: String,
    pub source: String,
}

impl FuelRow {
    /// tCO₂ per `unit` from the parameters: NCV (GJ) × CC (tC/TJ) / 1000 × OF × 44/12.
    pub fn tco2_per_unit_computed(&self) -> f64 {
        self.ncv_gj * self.carbon_content_tc_per_tj / 1000.0 * self.oxidation * 44.0 / 12.0
    }
}

/// Scope of a grid factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridScope {
    National,
    Regional,
    Provincial,
}

/// Basis of a grid factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridBasis {
    /// For purchased electricity in mandatory (carbon-market) reporting.
    CarbonMarket,
    /// The statistical average published by MEE and NBS.
    Statistical,
}

impl GridScope {
    pub fn key(self) -> &'static str {
        match self {
            GridScope::National => "national",
            GridScope::Regional => "regional",
            GridScope::Provincial => "provincial",
        }
    }
}

impl GridBasis {
    pub fn key(self) -> &'static str {
        match self {
            GridBasis::CarbonMarket => "carbon_market",
            GridBasis::Statistical => "statistical",
        }
    }
}

/// A grid emission factor (MEE carbon-market notice, MEE/NBS electricity CO₂ factors), tCO₂/MWh.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRow {
    pub id: String,
    /// The year the factor is for.
    pub year: i32,
    pub scope: GridScope,
    /// 全国, a regional grid (华东) or a province (江苏).
    pub area: String,
    pub basis: GridBasis,
    pub value: f64,
    pub unit: String,
    pub confidence: String,
    pub source: String,
}

/// Which province and regional grid a city belongs to, by the start of its division codes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationRow {
    pub division_prefix: String,
    pub province: String,
    pub grid_region: String,
    pub source: String,
}

/// The coefficients of the method that are not per fuel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoefficientKey {
    /// tCO₂ per GJ of bought heat (GB/T 32150: 0.11).
    HeatTco2PerGj,
    /// kJ/kg subtracted from steam enthalpy (feed water at 20 °C: 83.74).
    SteamReferenceEnthalpy,
    /// GJ per t of steam without a measured enthalpy (3.769).
    SteamDefaultGjPerT,
    /// °C the hot water's heat is counted from (20).
    HotWaterReferenceC,
    /// kJ per kg and K for water (4.1868).
    WaterSpecificHeat,
    /// kgce per kWh of electricity on the 当量值 basis (0.1229).
    ElectricityCalorific,
    /// kgce per kWh of electricity on the 等价值 basis: the year's coal rate for power supply.
    PowerSupplyCoalRate,
    /// tce per GJ of heat (0.03412).
    HeatTcePerGj,
    /// kgce per kg of steam without a measured enthalpy (0.1286).
    SteamDefaultKgcePerKg,
}

impl CoefficientKey {
    /// The unit a row must state (so a document cannot give a value in another unit).
    pub fn unit(self) -> &'static str {
        match self {
            CoefficientKey::HeatTco2PerGj => "tco2/gj",
            CoefficientKey::SteamReferenceEnthalpy => "kj/kg",
            CoefficientKey::SteamDefaultGjPerT => "gj/t",
            CoefficientKey::HotWaterReferenceC => "c",
            CoefficientKey::WaterSpecificHeat => "kj/(kg·k)",
            CoefficientKey::ElectricityCalorific | CoefficientKey::PowerSupplyCoalRate => {
                "kgce/kwh"
            }
            CoefficientKey::HeatTcePerGj => "tce/gj",
            CoefficientKey::SteamDefaultKgcePerKg => "kgce/kg",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            CoefficientKey::HeatTco2PerGj => "heat_tco2_per_gj",
            CoefficientKey::SteamReferenceEnthalpy => "steam_reference_enthalpy",
            CoefficientKey::SteamDefaultGjPerT => "steam_default_gj_per_t",
            CoefficientKey::HotWaterReferenceC => "hot_water_reference_c",
            CoefficientKey::WaterSpecificHeat => "water_specific_heat",
            CoefficientKey::ElectricityCalorific => "electricity_calorific",
            CoefficientKey::PowerSupplyCoalRate => "power_supply_coal_rate",
            CoefficientKey::HeatTcePerGj => "heat_tce_per_gj",
            CoefficientKey::SteamDefaultKgcePerKg => "steam_default_kgce_per_kg",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoefficientRow {
    pub id: String,
    pub key: CoefficientKey,
    pub value: f64,
    pub unit: String,
    pub valid_from: Option<i32>,
    pub valid_to: Option<i32>,
    /// True when the value is not a published figure for the year but an approximation
    /// (results that use it carry a warning).
    #[serde(default)]
    pub approximate: bool,
    pub source: String,
}

/// A band of the carbon-efficiency grade (Zhejiang 碳效): the label applies up to and including
/// `max`; the last band (no `max`) takes the rest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandRow {
    pub id: String,
    pub label: String,
    pub max: Option<f64>,
    pub source: String,
}

/// The factors gusu knows: the shipped documents plus any from an override directory.
#[derive(Debug, Clone, Default)]
pub struct FactorLibrary {
    fuels: Vec<FuelRow>,
    grid: Vec<GridRow>,
    locations: Vec<LocationRow>,
    coefficients: Vec<CoefficientRow>,
    efficiency_levels: Vec<BandRow>,
    efficiency_grades: Vec<BandRow>,
    /// `name@version` of each document added, in order.
    documents: Vec<String>,
}

/// The shipped factor documents, embedded at build time.
pub const BUILTIN_DOCUMENTS: &[(&str, &str)] = &[
    (
        "fuels-ndrc.toml",
        include_str!("../../../../rules/factors/fuels-ndrc.toml"),
    ),
    (
        "grid-china.toml",
        include_str!("../../../../rules/factors/grid-china.toml"),
    ),
    (
        "standard-coal-gb2589.toml",
        include_str!("../../../../rules/factors/standard-coal-gb2589.toml"),
    ),
    (
        "ghg-gbt32150.toml",
        include_str!("../../../../rules/factors/ghg-gbt32150.toml"),
    ),
    (
        "carbon-efficiency-zhejiang.toml",
        include_str!("../../../../rules/factors/carbon-efficiency-zhejiang.toml"),
    ),
];

fn valid_in(from: Option<i32>, to: Option<i32>, year: i32) -> bool {
    from.is_none_or(|f| year >= f) && to.is_none_or(|t| year <= t)
}

/// Replaces the row with the same id, else appends.
fn upsert<T>(rows: &mut Vec<T>, row: T, id: impl Fn(&T) -> &str) {
    match rows.iter().position(|r| id(r) == id(&row)) {
        Some(i) => rows[i] = row,
        None => rows.push(row),
    }
}

impl FactorLibrary {
    pub fn builtin() -> Result<FactorLibrary, FactorError> {
        let mut lib = FactorLibrary::default();
        for (file, text) in BUILTIN_DOCUMENTS {
            lib.add_toml(text, &format!("builtin:{file}"))?;
        }
        Ok(lib)
    }

    /// Parses, checks and adds a document; its rows replace earlier rows with the same id.
    pub fn add_toml(&mut self, text: &str, origin: &str) -> Result<(), FactorError> {
        let doc: FactorDocument = toml::from_str(text).map_err(|e| FactorError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        check(&doc, origin)?;
        self.documents
            .push(format!("{}@{}", doc.document.name, doc.document.version));
        for r in doc.fuel {
            upsert(&mut self.fuels, r, |r| &r.id);
        }
        for r in doc.grid {
            upsert(&mut self.grid, r, |r| &r.id);
        }
        for r in doc.location {
            upsert(&mut self.locations, r, |r| &r.division_prefix);
        }
        for r in doc.coefficient {
            upsert(&mut self.coefficients, r, |r| &r.id);
        }
        // Band sets replace each other whole: a partial merge of thresholds would mean nothing.
        if !doc.efficiency_level.is_empty() {
            self.efficiency_levels = doc.efficiency_level;
        }
        if !doc.efficiency_grade.is_empty() {
            self.efficiency_grades = doc.efficiency_grade;
        }
        Ok(())
    }

    pub fn documents(&self) -> &[String] {
        &self.documents
    }

    pub fn fuels(&self) -> &[FuelRow] {
        &self.fuels
    }

    pub fn grid_rows(&self) -> &[GridRow] {
        &self.grid
    }

    pub fn coefficients(&self) -> &[CoefficientRow] {
        &self.coefficients
    }

    pub fn efficiency_levels(&self) -> &[BandRow] {
        &self.efficiency_levels
    }

    pub fn efficiency_grades(&self) -> &[BandRow] {
        &self.efficiency_grades
    }

    /// The fuel row for a carrier valid in `year`: the one valid from the latest year, the one
    /// added last on a tie (so an override wins).
    pub fn fuel(&self, carrier: Carrier, year: i32) -> Option<&FuelRow> {
        self.fuels
            .iter()
            .enumerate()
            .filter(|(_, r)| r.carrier == carrier && valid_in(r.valid_from, r.valid_to, year))
            .max_by_key(|(i, r)| (r.valid_from.unwrap_or(i32::MIN), *i))
            .map(|(_, r)| r)
    }

    /// A coefficient valid in `year` (latest `valid_from`, then the one added last).
    pub fn coefficient(
        &self,
        key: CoefficientKey,
        year: i32,
    ) -> Result<&CoefficientRow, FactorError> {
        self.coefficients
            .iter()
            .enumerate()
            .filter(|(_, r)| r.key == key && valid_in(r.valid_from, r.valid_to, year))
            .max_by_key(|(i, r)| (r.valid_from.unwrap_or(i32::MIN), *i))
            .map(|(_, r)| r)
            .ok_or_else(|| FactorError::Missing {
                what: key.key().to_string(),
                year,
                known: self
                    .coefficients
                    .iter()
                    .filter(|r| r.key == key)
                    .map(|r| r.id.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The province and regional grid of a city whose division codes start with `prefix`
    /// (the longest matching location row).
    pub fn location(&self, division_prefix: &str) -> Option<&LocationRow> {
        self.locations
            .iter()
            .filter(|l| division_prefix.starts_with(&l.division_prefix))
            .max_by_key(|l| l.division_prefix.len())
    }

    /// The grid factor for `year` of the given basis, scope and area: the accounting year's row,
    /// else the latest earlier year's (`fallback_year` tells which). Later years are never used.
    pub fn grid(
        &self,
        year: i32,
        basis: GridBasis,
        scope: GridScope,
        area: &str,
    ) -> Result<GridPick<'_>, FactorError> {
        let candidates = || {
            self.grid
                .iter()
                .enumerate()
                .filter(|(_, r)| r.basis == basis && r.scope == scope && r.area == area)
        };
        let best = candidates()
            .filter(|(_, r)| r.year <= year)
            .max_by_key(|(i, r)| (r.year, *i))
            .map(|(_, r)| r);
        match best {
            Some(row) => Ok(GridPick {
                row,
                fallback_year: (row.year != year).then_some(row.year),
            }),
            None => Err(FactorError::Missing {
                what: format!("grid ({} {} {area})", basis.key(), scope.key()),
                year,
                known: candidates()
                    .map(|(_, r)| format!("{} ({})", r.id, r.year))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// A grid row and, when it is of an earlier year than the accounting year, that year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridPick<'a> {
    pub row: &'a GridRow,
    pub fallback_year: Option<i32>,
}

/// Relative tolerance of the published tCO₂ column against NCV × CC × OF × 44/12: the column is
/// given to 4–5 significant digits, so half a unit of the 4th digit (5 × 10⁻⁴ relative) bounds it.
pub const PUBLISHED_ROUNDING: f64 = 5e-4;

fn check(doc: &FactorDocument, origin: &str) -> Result<(), FactorError> {
    let invalid = |id: &str, message: String| FactorError::Invalid {
        origin: origin.to_string(),
        id: id.to_string(),
        message,
    };
    let mut ids: BTreeMap<&str, ()> = BTreeMap::new();
    let all_ids = doc
        .fuel
        .iter()
        .map(|r| r.id.as_str())
        .chain(doc.grid.iter().map(|r| r.id.as_str()))
        .chain(doc.coefficient.iter().map(|r| r.id.as_str()))
        .chain(doc.efficiency_level.iter().map(|r| r.id.as_str()))
        .chain(doc.efficiency_grade.iter().map(|r| r.id.as_str()));
    for id in all_ids {
        if id.trim().is_empty() {
            return Err(invalid(id, "every row needs an id".into()));
        }
        if ids.insert(id, ()).is_some() {
            return Err(invalid(id, "the id is used twice in this document".into()));
        }
    }
    for r in &doc.fuel {
        if !(r.carrier.is_fuel() || r.carrier == Carrier::Biomass) {
            return Err(invalid(
                &r.id,
                format!("{} is not a fuel burnt on site", r.carrier),
            ));
        }
        if r.carrier.accounting_unit() != r.unit {
            return Err(invalid(
                &r.id,
                format!(
                    "{} is accounted per {}, not per {}",
                    r.carrier,
                    r.carrier.accounting_unit(),
                    r.unit
                ),
            ));
        }
        for (name, v) in [
            ("ncv_gj", r.ncv_gj),
            ("carbon_content_tc_per_tj", r.carbon_content_tc_per_tj),
            ("tco2_per_unit", r.tco2_per_unit),
            ("tce_per_unit", r.tce_per_unit),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(&r.id, format!("{name} must be a positive number")));
            }
        }
        if !(r.oxidation > 0.0 && r.oxidation <= 1.0) {
            return Err(invalid(&r.id, "oxidation must be in (0, 1]".into()));
        }
        let computed = r.tco2_per_unit_computed();
        if (computed - r.tco2_per_unit).abs() > PUBLISHED_ROUNDING * r.tco2_per_unit {
            return Err(invalid(
                &r.id,
                format!(
                    "tco2_per_unit {} differs from NCV × CC × OF × 44/12 = {computed:.6} beyond rounding",
                    r.tco2_per_unit
                ),
            ));
        }
    }
    for r in &doc.grid {
        if !r.unit.eq_ignore_ascii_case("tco2/mwh") {
            return Err(invalid(
                &r.id,
                format!("unit must be tco2/mwh, not {}", r.unit),
            ));
        }
        if !(r.value.is_finite() && r.value >= 0.0) {
            return Err(invalid(&r.id, "value must be a number ≥ 0".into()));
        }
        if r.scope == GridScope::National && r.area != "全国" {
            return Err(invalid(&r.id, "a national factor's area is 全国".into()));
        }
    }
    for r in &doc.coefficient {
        if !r.unit.eq_ignore_ascii_case(r.key.unit()) {
            return Err(invalid(
                &r.id,
                format!("{} is in {}, not {}", r.key.key(), r.key.unit(), r.unit),
            ));
        }
        if !(r.value.is_finite() && r.value > 0.0) {
            return Err(invalid(&r.id, "value must be a positive number".into()));
        }
    }
    for bands in [&doc.efficiency_level, &doc.efficiency_grade] {
        if bands.is_empty() {
            continue;
        }
        let (last, rest) = bands.split_last().expect("not empty");
        if last.max.is_some() {
            return Err(invalid(
                &last.id,
                "the last band takes the rest: no max".into(),
            ));
        }
        let mut previous = f64::NEG_INFINITY;
        for b in rest {
            match b.max {
                Some(m) if m > previous => previous = m,
                _ => {
                    return Err(invalid(
                        &b.id,
                        "every band but the last needs a max, increasing".into(),
                    ));
                }
            }
        }
    }
    Ok(())
}
