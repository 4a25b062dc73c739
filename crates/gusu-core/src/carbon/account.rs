//! One enterprise's energy lines into its emissions (GB/T 32150-2015 structure) and its
//! comprehensive energy consumption on both bases (GB/T 2589-2020).
//!
//! The run's factors are resolved once into a [`Method`] (grid factor, coefficients of the year);
//! [`Method::account`] then adds up each enterprise's lines. No rounding: display rounds.

use super::factors::{
    CoefficientKey, CoefficientRow, FactorError, FactorLibrary, GridBasis, GridScope, LocationRow,
};
use super::units::{Carrier, Unit, UnitMisfit, conversion};

/// One line of an energy file: a quantity of a carrier used (or sent out) in the year.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyLine {
    pub carrier: Carrier,
    pub quantity: f64,
    pub unit: Unit,
    /// Steam only: measured specific enthalpy, kJ/kg.
    pub enthalpy_kj_per_kg: Option<f64>,
    /// Hot water only: supply temperature, °C.
    pub temperature_c: Option<f64>,
}

impl EnergyLine {
    pub fn new(carrier: Carrier, quantity: f64, unit: Unit) -> EnergyLine {
        EnergyLine {
            carrier,
            quantity,
            unit,
            enthalpy_kj_per_kg: None,
            temperature_c: None,
        }
    }
}

/// How the grid factor is chosen (MEE carbon-market and MEE/NBS statistical factors,
/// rules/factors/grid-china.toml).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridChoice {
    /// No choice made: the national statistical average of the year, else the latest earlier.
    Default,
    /// A factor of this basis and scope (the enterprise's region or province where needed).
    Select { basis: GridBasis, scope: GridScope },
    /// A value given by the user, tCO₂/MWh.
    Given(f64),
}

/// The settings of one accounting run.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    pub year: i32,
    pub grid: GridChoice,
    /// Where the enterprises are (needed for regional and provincial grid factors).
    pub location: Option<&'a LocationRow>,
    /// The year's coal rate for power supply, kgce/kWh, when given (else the library's row).
    pub coal_rate: Option<f64>,
}

/// Why a run cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CarbonError {
    #[error(transparent)]
    Factor(#[from] FactorError),
    #[error(
        "a {scope} grid factor needs the enterprises' province and regional grid: no [[location]] row of the factor documents matches the region set's division codes"
    )]
    NoLocation { scope: &'static str },
    #[error("{what} must be a positive number, not {value}")]
    BadSetting { what: &'static str, value: f64 },
}

/// An energy line that cannot be accounted. `index` is the line's position in the slice given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{carrier}: {message}")]
pub struct LineError {
    pub index: usize,
    pub carrier: Carrier,
    pub message: String,
    pub message_zh: String,
}

/// The grid factor a run uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GridFactor {
    /// tCO₂/MWh.
    pub value: f64,
    /// The factor row's id (`given` when the user gave the value).
    pub id: String,
    /// Set when the accounting year had no row and an earlier year's was taken.
    pub fallback_year: Option<i32>,
}

/// A coefficient's value with the row it came from.
#[derive(Debug, Clone, PartialEq)]
struct Coef {
    value: f64,
    id: String,
    approximate: bool,
}

impl Coef {
    fn from_row(r: &CoefficientRow) -> Coef {
        Coef {
            value: r.value,
            id: r.id.clone(),
            approximate: r.approximate,
        }
    }
}

/// The factors of one run, resolved once.
#[derive(Debug, Clone)]
pub struct Method<'a> {
    library: &'a FactorLibrary,
    pub year: i32,
    pub grid: GridFactor,
    heat_tco2: Coef,
    steam_reference: Coef,
    steam_default_gj: Coef,
    hot_water_reference: Coef,
    water_specific_heat: Coef,
    electricity_calorific: Coef,
    coal_rate: Coef,
    heat_tce: Coef,
    steam_default_tce: Coef,
}

/// Id used for a grid factor given on the command line.
pub const GIVEN_GRID_ID: &str = "given:grid_factor";
/// Id used for a coal rate given on the command line.
pub const GIVEN_COAL_RATE_ID: &str = "given:power_supply_coal_rate";

/// Picks the grid factor for a run (rules/factors/grid-china.toml; the fallback to an earlier
/// year is gusu's rule).
pub fn resolve_grid(
    library: &FactorLibrary,
    year: i32,
    choice: GridChoice,
    location: Option<&LocationRow>,
) -> Result<GridFactor, CarbonError> {
    let (basis, scope) = match choice {
        GridChoice::Given(value) => {
            if !(value.is_finite() && value >= 0.0) {
                return Err(CarbonError::BadSetting {
                    what: "the grid factor",
                    value,
                });
            }
            return Ok(GridFactor {
                value,
                id: GIVEN_GRID_ID.to_string(),
                fallback_year: None,
            });
        }
        GridChoice::Default => (GridBasis::Statistical, GridScope::National),
        GridChoice::Select { basis, scope } => (basis, scope),
    };
    let area = match scope {
        GridScope::National => "全国",
        GridScope::Regional | GridScope::Provincial => {
            let loc = location.ok_or(CarbonError::NoLocation { scope: scope.key() })?;
            if scope == GridScope::Regional {
                loc.grid_region.as_str()
            } else {
                loc.province.as_str()
            }
        }
    };
    let pick = library.grid(year, basis, scope, area)?;
    Ok(GridFactor {
        value: pick.row.value,
        id: pick.row.id.clone(),
        fallback_year: pick.fallback_year,
    })
}

/// What one enterprise's lines add up to. Quantities in MWh and GJ, emissions in tCO₂, energy in tce.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CarbonAccount {
    pub combustion_tco2: f64,
    pub process_tco2: f64,
    /// combustion + process.
    pub scope1_tco2: f64,
    pub electricity_mwh: f64,
    pub electricity_tco2: f64,
    /// Bought heat, steam and hot water, in GJ.
    pub heat_gj: f64,
    pub heat_tco2: f64,
    /// Purchased electricity and heat, gross (green electricity included).
    pub scope2_tco2: f64,
    pub exported_electricity_mwh: f64,
    pub exported_heat_gj: f64,
    pub exported_tco2: f64,
    /// scope 1 + scope 2 − exported.
    pub total_tco2: f64,
    /// Biomass combustion, reported apart and never added.
    pub biomass_tco2: f64,
    /// Green electricity declared (part of the purchased electricity).
    pub green_electricity_mwh: f64,
    /// The emissions of the green electricity taken out for the carbon-efficiency L.
    pub green_tco2: f64,
    /// total − green: the CO₂ of the carbon-efficiency grade (Zhejiang 碳效, docs/sources.md).
    pub efficiency_tco2: f64,
    /// 综合能耗, 当量值 (calorific) basis.
    pub energy_tce: f64,
    /// 综合能耗, 等价值 (equivalent) basis.
    pub energy_tce_equivalent: f64,
    /// Ids of the factor rows used, sorted.
    pub factors: Vec<String>,
    /// Warning codes (docs/warnings.md), sorted.
    pub warnings: Vec<String>,
}

impl<'a> Method<'a> {
    /// Resolves the grid factor and every coefficient valid in `settings.year`.
    pub fn new(
        library: &'a FactorLibrary,
        settings: &Settings<'_>,
    ) -> Result<Method<'a>, CarbonError> {
        let year = settings.year;
        let coef = |key| library.coefficient(key, year).map(Coef::from_row);
        let coal_rate = match settings.coal_rate {
            Some(value) if value.is_finite() && value > 0.0 => Coef {
                value,
                id: GIVEN_COAL_RATE_ID.to_string(),
                approximate: false,
            },
            Some(value) => {
                return Err(CarbonError::BadSetting {
                    what: "the coal rate for power supply",
                    value,
                });
            }
            None => coef(CoefficientKey::PowerSupplyCoalRate)?,
        };
        Ok(Method {
            library,
            year,
            grid: resolve_grid(library, year, settings.grid, settings.location)?,
            heat_tco2: coef(CoefficientKey::HeatTco2PerGj)?,
            steam_reference: coef(CoefficientKey::SteamReferenceEnthalpy)?,
            steam_default_gj: coef(CoefficientKey::SteamDefaultGjPerT)?,
            hot_water_reference: coef(CoefficientKey::HotWaterReferenceC)?,
            water_specific_heat: coef(CoefficientKey::WaterSpecificHeat)?,
            electricity_calorific: coef(CoefficientKey::ElectricityCalorific)?,
            coal_rate,
            heat_tce: coef(CoefficientKey::HeatTcePerGj)?,
            steam_default_tce: coef(CoefficientKey::SteamDefaultKgcePerKg)?,
        })
    }

    /// Adds up one enterprise's lines for the year.
    pub fn account(&self, lines: &[EnergyLine]) -> Result<CarbonAccount, LineError> {
        let mut a = CarbonAccount::default();
        let mut factors: Vec<String> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        // 当量值 energy without electricity, and the electricity balance, kept apart so the
        // 等价值 basis only swaps the electricity coefficient.
        let mut energy_other = 0.0;
        // Heat counted at the heat coefficient (GJ), and steam without enthalpy counted per t.
        let mut heat_for_energy_gj = 0.0;
        let mut steam_default_t = 0.0;

        for (index, line) in self.lines_checked(lines)? {
            let q = line.quantity * conversion(line.carrier, line.unit).expect("checked");
            let fail = |en: String, zh: String| LineError {
                index,
                carrier: line.carrier,
                message: en,
                message_zh: zh,
            };
            match line.carrier {
                c if c.is_fuel() => {
                    let row = self.library.fuel(c, self.year).ok_or_else(|| {
                        fail(
                            format!("no fuel factor row for {c} valid in {}", self.year),
                            format!("没有 {} 年适用的{}排放因子", self.year, c.name_zh()),
                        )
                    })?;
                    a.combustion_tco2 += q * row.tco2_per_unit_computed();
                    energy_other += q * row.tce_per_unit;
                    factors.push(row.id.clone());
                }
                Carrier::ProcessCo2 => a.process_tco2 += q,
                Carrier::Electricity => a.electricity_mwh += q,
                Carrier::ElectricityExported => a.exported_electricity_mwh += q,
                Carrier::GreenElectricity => a.green_electricity_mwh += q,
                Carrier::Heat => {
                    a.heat_gj += q;
                    heat_for_energy_gj += q;
                }
                Carrier::HeatExported => a.exported_heat_gj += q,
                Carrier::Steam if line.unit == Unit::Gj => {
                    a.heat_gj += q;
                    heat_for_energy_gj += q;
                }
                Carrier::Steam => match line.enthalpy_kj_per_kg {
                    Some(h) => {
                        let reference = self.steam_reference.value;
                        if h <= reference {
                            return Err(fail(
                                format!(
                                    "steam enthalpy {h} kJ/kg is not above the feed-water reference {reference} kJ/kg"
                                ),
                                format!("蒸汽焓值 {h} kJ/kg 不高于给水基准 {reference} kJ/kg"),
                            ));
                        }
                        let gj = q * (h - reference) / 1000.0;
                        a.heat_gj += gj;
                        heat_for_energy_gj += gj;
                        factors.push(self.steam_reference.id.clone());
                    }
                    None => {
                        a.heat_gj += q * self.steam_default_gj.value;
                        steam_default_t += q;
                        factors.push(self.steam_default_gj.id.clone());
                        factors.push(self.steam_default_tce.id.clone());
                        warnings.push("steam_default_enthalpy".to_string());
                    }
                },
                Carrier::HotWater if line.unit == Unit::Gj => {
                    a.heat_gj += q;
                    heat_for_energy_gj += q;
                }
                Carrier::HotWater => {
                    let reference = self.hot_water_reference.value;
                    let Some(t) = line.temperature_c else {
                        return Err(fail(
                            "hot water in tonnes needs temperature_c (or give it in GJ)".into(),
                            "以吨计的热水需要填写温度 temperature_c（或以 GJ 填写）".into(),
                        ));
                    };
                    if t <= reference {
                        return Err(fail(
                            format!(
                                "hot water at {t} °C is not above the reference {reference} °C"
                            ),
                            format!("热水温度 {t} °C 不高于基准 {reference} °C"),
                        ));
                    }
                    let gj = q * (t - reference) * self.water_specific_heat.value / 1000.0;
                    a.heat_gj += gj;
                    heat_for_energy_gj += gj;
                    factors.push(self.hot_water_reference.id.clone());
                    factors.push(self.water_specific_heat.id.clone());
                }
                Carrier::Biomass if line.unit == Unit::Tco2 => {
                    a.biomass_tco2 += q;
                    warnings.push("biomass_energy_not_counted".to_string());
                }
                Carrier::Biomass => match self.library.fuel(Carrier::Biomass, self.year) {
                    Some(row) => {
                        a.biomass_tco2 += q * row.tco2_per_unit_computed();
                        energy_other += q * row.tce_per_unit;
                        factors.push(row.id.clone());
                    }
                    None => warnings.push("biomass_factor_missing".to_string()),
                },
                _ => unreachable!("every carrier is handled above"),
            }
        }

        let grid = self.grid.value;
        a.scope1_tco2 = a.combustion_tco2 + a.process_tco2;
        a.electricity_tco2 = a.electricity_mwh * grid;
        a.heat_tco2 = a.heat_gj * self.heat_tco2.value;
        a.scope2_tco2 = a.electricity_tco2 + a.heat_tco2;
        a.exported_tco2 =
            a.exported_electricity_mwh * grid + a.exported_heat_gj * self.heat_tco2.value;
        a.total_tco2 = a.scope1_tco2 + a.scope2_tco2 - a.exported_tco2;
        // Green electricity is part of the purchased electricity: at most all of it is taken out.
        let green_taken = if a.green_electricity_mwh > a.electricity_mwh {
            warnings.push("green_exceeds_purchased".to_string());
            a.electricity_mwh
        } else {
            a.green_electricity_mwh
        };
        a.green_tco2 = green_taken * grid;
        a.efficiency_tco2 = a.total_tco2 - a.green_tco2;

        let uses_grid = a.electricity_mwh > 0.0 || a.exported_electricity_mwh > 0.0;
        if uses_grid {
            factors.push(self.grid.id.clone());
            if let Some(y) = self.grid.fallback_year {
                warnings.push(format!("grid_factor_earlier_year:{y}"));
            }
            factors.push(self.electricity_calorific.id.clone());
            factors.push(self.coal_rate.id.clone());
            if self.coal_rate.approximate {
                warnings.push("coal_rate_approximate".to_string());
            }
        }
        if a.heat_gj > 0.0 || a.exported_heat_gj > 0.0 {
            factors.push(self.heat_tco2.id.clone());
        }
        if heat_for_energy_gj > 0.0 || a.exported_heat_gj > 0.0 {
            factors.push(self.heat_tce.id.clone());
        }
        energy_other += (heat_for_energy_gj - a.exported_heat_gj) * self.heat_tce.value
            + steam_default_t * self.steam_default_tce.value;
        // kgce/kWh is tce/MWh.
        let net_mwh = a.electricity_mwh - a.exported_electricity_mwh;
        a.energy_tce = energy_other + net_mwh * self.electricity_calorific.value;
        a.energy_tce_equivalent = energy_other + net_mwh * self.coal_rate.value;

        factors.sort();
        factors.dedup();
        warnings.sort();
        warnings.dedup();
        a.factors = factors;
        a.warnings = warnings;
        Ok(a)
    }

    /// Every line with a unit that fits its carrier and a finite quantity ≥ 0.
    fn lines_checked<'l>(
        &self,
        lines: &'l [EnergyLine],
    ) -> Result<impl Iterator<Item = (usize, &'l EnergyLine)>, LineError> {
        for (index, line) in lines.iter().enumerate() {
            if let Err(UnitMisfit { carrier, unit }) = conversion(line.carrier, line.unit) {
                let misfit = UnitMisfit { carrier, unit };
                return Err(LineError {
                    index,
                    carrier,
                    message: misfit.to_string(),
                    message_zh: misfit.message_zh(),
                });
            }
            if !(line.quantity.is_finite() && line.quantity >= 0.0) {
                return Err(LineError {
                    index,
                    carrier: line.carrier,
                    message: format!("quantity {} must be a number ≥ 0", line.quantity),
                    message_zh: format!("数量 {} 应为不小于 0 的数", line.quantity),
                });
            }
        }
        Ok(lines.iter().enumerate())
    }
}
