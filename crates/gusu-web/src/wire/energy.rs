//! Energy and carbon: the dashboard of a population and one enterprise's accounts.

use std::collections::BTreeMap;

use gusu_core::carbon;
use serde::Serialize;
use utoipa::ToSchema;

use super::uscc;
use crate::energy as web;

/// The grid factor a year's accounts use.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridFactor {
    /// tCO₂/MWh.
    pub value: f64,
    /// The factor row's id (`given` when configured as a value).
    pub id: String,
    /// Set when the year had no row and an earlier year's was taken.
    pub fallback_year: Option<i32>,
}

impl From<&carbon::GridFactor> for GridFactor {
    fn from(g: &carbon::GridFactor) -> GridFactor {
        GridFactor {
            value: g.value,
            id: g.id.clone(),
            fallback_year: g.fallback_year,
        }
    }
}

/// A population: the city, a district, a division, or a district's division.
#[derive(Debug, Serialize, ToSchema)]
pub struct Population {
    pub district: Option<String>,
    pub division: Option<String>,
}

/// A population's energy (tce) and emissions (tCO₂) by scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    pub enterprises: u32,
    pub energy_tce: f64,
    pub energy_tce_equivalent: f64,
    pub combustion_tco2: f64,
    pub process_tco2: f64,
    pub scope1_tco2: f64,
    pub electricity_tco2: f64,
    pub heat_tco2: f64,
    pub scope2_tco2: f64,
    pub exported_tco2: f64,
    pub total_tco2: f64,
    pub biomass_tco2: f64,
}

/// One enterprise's carbon account of a year.
#[derive(Debug, Serialize, ToSchema)]
pub struct CarbonAccount {
    pub combustion_tco2: f64,
    pub process_tco2: f64,
    pub scope1_tco2: f64,
    pub electricity_mwh: f64,
    pub electricity_tco2: f64,
    pub heat_gj: f64,
    pub heat_tco2: f64,
    pub scope2_tco2: f64,
    pub exported_electricity_mwh: f64,
    pub exported_heat_gj: f64,
    pub exported_tco2: f64,
    pub total_tco2: f64,
    pub biomass_tco2: f64,
    pub green_electricity_mwh: f64,
    pub green_tco2: f64,
    pub efficiency_tco2: f64,
    pub energy_tce: f64,
    pub energy_tce_equivalent: f64,
    /// Ids of the factor rows used.
    pub factors: Vec<String>,
    pub warnings: Vec<String>,
}

/// The carbon-efficiency grade and what it was computed from.
#[derive(Debug, Serialize, ToSchema)]
pub struct Efficiency {
    pub l: Option<f64>,
    pub level: Option<String>,
    pub division_l: Option<f64>,
    pub k: Option<f64>,
    pub grade: Option<String>,
    pub factors: Vec<String>,
    pub warnings: Vec<String>,
}

/// One enterprise's line of a year's ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerRow {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub division: String,
    pub year: i32,
    pub account: CarbonAccount,
    /// 万元.
    pub value_added: Option<f64>,
    pub efficiency: Efficiency,
    /// tce per 万元 of value added.
    pub intensity: Option<f64>,
}

impl From<&carbon::ledger::LedgerRow> for LedgerRow {
    fn from(r: &carbon::ledger::LedgerRow) -> LedgerRow {
        let a = &r.account;
        let e = &r.efficiency;
        LedgerRow {
            uscc: uscc(&r.uscc),
            name: r.name.clone(),
            district: r.district.clone(),
            division: r.division.clone(),
            year: r.year,
            account: CarbonAccount {
                combustion_tco2: a.combustion_tco2,
                process_tco2: a.process_tco2,
                scope1_tco2: a.scope1_tco2,
                electricity_mwh: a.electricity_mwh,
                electricity_tco2: a.electricity_tco2,
                heat_gj: a.heat_gj,
                heat_tco2: a.heat_tco2,
                scope2_tco2: a.scope2_tco2,
                exported_electricity_mwh: a.exported_electricity_mwh,
                exported_heat_gj: a.exported_heat_gj,
                exported_tco2: a.exported_tco2,
                total_tco2: a.total_tco2,
                biomass_tco2: a.biomass_tco2,
                green_electricity_mwh: a.green_electricity_mwh,
                green_tco2: a.green_tco2,
                efficiency_tco2: a.efficiency_tco2,
                energy_tce: a.energy_tce,
                energy_tce_equivalent: a.energy_tce_equivalent,
                factors: a.factors.clone(),
                warnings: a.warnings.clone(),
            },
            value_added: r.value_added,
            efficiency: Efficiency {
                l: e.l,
                level: e.level.clone(),
                division_l: e.division_l,
                k: e.k,
                grade: e.grade.clone(),
                factors: e.factors.clone(),
                warnings: e.warnings.clone(),
            },
            intensity: r.intensity,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PopulationSummary {
    pub population: Population,
    pub year: i32,
    pub totals: Totals,
    /// Enterprises by carbon-efficiency grade.
    pub grades: BTreeMap<String, u32>,
    pub top_emitters: Vec<LedgerRow>,
}

impl From<&carbon::ledger::PopulationSummary> for PopulationSummary {
    fn from(s: &carbon::ledger::PopulationSummary) -> PopulationSummary {
        let t = &s.totals;
        PopulationSummary {
            population: Population {
                district: s.population.district.clone(),
                division: s.population.division.clone(),
            },
            year: s.year,
            totals: Totals {
                enterprises: t.enterprises,
                energy_tce: t.energy_tce,
                energy_tce_equivalent: t.energy_tce_equivalent,
                combustion_tco2: t.combustion_tco2,
                process_tco2: t.process_tco2,
                scope1_tco2: t.scope1_tco2,
                electricity_tco2: t.electricity_tco2,
                heat_tco2: t.heat_tco2,
                scope2_tco2: t.scope2_tco2,
                exported_tco2: t.exported_tco2,
                total_tco2: t.total_tco2,
                biomass_tco2: t.biomass_tco2,
            },
            grades: s.grades.clone(),
            top_emitters: s.top_emitters.iter().map(LedgerRow::from).collect(),
        }
    }
}

/// The city's energy-intensity target of a year (changes as fractions: −0.03 is −3 %).
#[derive(Debug, Serialize, ToSchema)]
pub struct IntensityTarget {
    pub year: i32,
    pub max_change_vs_previous: Option<f64>,
    pub max_change_vs_base: Option<f64>,
}

/// One year of a population's energy intensity, against the target.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntensityPoint {
    pub year: i32,
    pub enterprises: u32,
    pub energy_tce: f64,
    /// 万元.
    pub value_added: f64,
    /// tce per 万元.
    pub intensity: Option<f64>,
    pub change_vs_previous: Option<f64>,
    pub change_vs_base: Option<f64>,
    pub target: Option<IntensityTarget>,
    pub target_met: Option<bool>,
    pub allowed_intensity: Option<f64>,
}

/// A year left out, with the reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearSkipped {
    pub year: i32,
    pub reason: String,
}

/// The energy and carbon dashboard of a population.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub year: i32,
    pub years: Vec<i32>,
    pub base_year: Option<i32>,
    pub grid_factor: GridFactor,
    pub summary: PopulationSummary,
    pub intensity: Vec<IntensityPoint>,
    pub target_set: bool,
    /// Enterprises whose lines could not be accounted (left out).
    pub not_accounted: usize,
    pub years_skipped: Vec<YearSkipped>,
}

impl From<&web::Dashboard> for Dashboard {
    fn from(d: &web::Dashboard) -> Dashboard {
        Dashboard {
            year: d.year,
            years: d.years.clone(),
            base_year: d.base_year,
            grid_factor: (&d.grid_factor).into(),
            summary: (&d.summary).into(),
            intensity: d
                .intensity
                .iter()
                .map(|p| IntensityPoint {
                    year: p.year,
                    enterprises: p.enterprises,
                    energy_tce: p.energy_tce,
                    value_added: p.value_added,
                    intensity: p.intensity,
                    change_vs_previous: p.change_vs_previous,
                    change_vs_base: p.change_vs_base,
                    target: p.target.as_ref().map(|t| IntensityTarget {
                        year: t.year,
                        max_change_vs_previous: t.max_change_vs_previous,
                        max_change_vs_base: t.max_change_vs_base,
                    }),
                    target_met: p.target_met,
                    allowed_intensity: p.allowed_intensity,
                })
                .collect(),
            target_set: d.target_set,
            not_accounted: d.not_accounted,
            years_skipped: d
                .years_skipped
                .iter()
                .map(|(year, reason)| YearSkipped {
                    year: *year,
                    reason: reason.clone(),
                })
                .collect(),
        }
    }
}

/// A factor row used, with its value, unit and source.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorRef {
    pub id: String,
    pub value: f64,
    pub unit: String,
    pub source: String,
}

/// One energy line as imported, with its lineage.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnergyLine {
    pub uscc: String,
    pub year: i32,
    /// Carrier key (`electricity`, `natural_gas`, …).
    pub carrier: String,
    pub quantity: f64,
    /// Unit key.
    pub unit: String,
    pub enthalpy_kj_per_kg: Option<f64>,
    pub temperature_c: Option<f64>,
    pub source: String,
    pub batch_id: i64,
    pub file_name: String,
    pub row: u64,
    pub imported_at: String,
}

/// A metered monthly total.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeteredMonth {
    pub uscc: String,
    pub carrier: String,
    pub year: i32,
    pub month: u32,
    pub total: f64,
    pub unit: String,
    pub readings: u64,
}

/// One enterprise's energy and carbon in a year.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseYear {
    pub year: i32,
    /// None when its lines could not be accounted (`error` says why).
    pub ledger: Option<LedgerRow>,
    pub error: Option<String>,
    pub grid_factor: Option<GridFactor>,
    pub factors: Vec<FactorRef>,
    pub lines: Vec<EnergyLine>,
}

/// One enterprise's energy and carbon by year.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseEnergy {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub division: String,
    /// Newest first.
    pub years: Vec<EnterpriseYear>,
    pub monthly: Vec<MeteredMonth>,
}

impl From<&web::EnterpriseEnergy> for EnterpriseEnergy {
    fn from(e: &web::EnterpriseEnergy) -> EnterpriseEnergy {
        EnterpriseEnergy {
            uscc: uscc(&e.uscc),
            name: e.name.clone(),
            district: e.district.clone(),
            division: e.division.clone(),
            years: e
                .years
                .iter()
                .map(|y| EnterpriseYear {
                    year: y.year,
                    ledger: y.ledger.as_ref().map(LedgerRow::from),
                    error: y.error.clone(),
                    grid_factor: y.grid_factor.as_ref().map(GridFactor::from),
                    factors: y
                        .factors
                        .iter()
                        .map(|f| FactorRef {
                            id: f.id.clone(),
                            value: f.value,
                            unit: f.unit.clone(),
                            source: f.source.clone(),
                        })
                        .collect(),
                    lines: y
                        .lines
                        .iter()
                        .map(|l| EnergyLine {
                            uscc: uscc(&l.uscc),
                            year: l.year,
                            carrier: l.carrier.key().to_string(),
                            quantity: l.quantity,
                            unit: l.unit.key().to_string(),
                            enthalpy_kj_per_kg: l.enthalpy_kj_per_kg,
                            temperature_c: l.temperature_c,
                            source: l.source.clone(),
                            batch_id: l.batch_id,
                            file_name: l.file_name.clone(),
                            row: l.row,
                            imported_at: l.imported_at.clone(),
                        })
                        .collect(),
                })
                .collect(),
            monthly: e
                .monthly
                .iter()
                .map(|m| MeteredMonth {
                    uscc: uscc(&m.uscc),
                    carrier: m.carrier.clone(),
                    year: m.year,
                    month: m.month,
                    total: m.total,
                    unit: m.unit.clone(),
                    readings: m.readings,
                })
                .collect(),
        }
    }
}
