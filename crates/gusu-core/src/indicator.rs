//! The indicator catalogue (the indicators of the published per-mu schemes, docs/sources.md),
//! compiled Rust. A scheme picks indicators from it by key; expressions in rule documents serve
//! conditions only (DESIGN principle 7).

use serde::{Deserialize, Serialize};

use crate::record::{EnterpriseYear, Figure};

/// Which comprehensive-energy column an energy indicator reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyBasis {
    /// 当量值: `energy_tce` only.
    #[default]
    Calorific,
    /// 等价值: `energy_tce_equivalent`, else `energy_tce` with a warning.
    Equivalent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    TaxPerMu,
    RevenuePerMu,
    ValueAddedPerMu,
    TaxPerEnergy,
    ValueAddedPerEnergy,
    TaxPerPollutant,
    ValueAddedPerPollutant,
    LabourProductivity,
    RdIntensity,
    TaxPerKwh,
}

/// The two parts of a ratio indicator for one enterprise; `None` where an input is blank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// True when the energy column fell back from 等价值 to 当量值.
    pub basis_fallback: bool,
}

impl Parts {
    /// The indicator value: computable only when both parts are present and the denominator is > 0.
    pub fn value(&self) -> Option<f64> {
        match (self.numerator, self.denominator) {
            (Some(n), Some(d)) if d > 0.0 => Some(n / d),
            _ => None,
        }
    }
}

/// Pollution load in tonnes of COD equivalent: COD ÷ 1 + NH3-N ÷ 0.8 + SO2 ÷ 0.95 + NOx ÷ 0.95.
/// The divisors are the pollution equivalents (污染当量值) of the Environmental Protection Tax Law.
/// Missing only when all four are blank; a blank among given ones counts as 0 (gusu's rule).
pub fn pollution_load(
    cod: Option<f64>,
    ammonia: Option<f64>,
    so2: Option<f64>,
    nox: Option<f64>,
) -> Option<f64> {
    if cod.is_none() && ammonia.is_none() && so2.is_none() && nox.is_none() {
        return None;
    }
    Some(
        cod.unwrap_or(0.0) / 1.0
            + ammonia.unwrap_or(0.0) / 0.8
            + so2.unwrap_or(0.0) / 0.95
            + nox.unwrap_or(0.0) / 0.95,
    )
}

impl Indicator {
    pub const ALL: [Indicator; 10] = [
        Indicator::TaxPerMu,
        Indicator::RevenuePerMu,
        Indicator::ValueAddedPerMu,
        Indicator::TaxPerEnergy,
        Indicator::ValueAddedPerEnergy,
        Indicator::TaxPerPollutant,
        Indicator::ValueAddedPerPollutant,
        Indicator::LabourProductivity,
        Indicator::RdIntensity,
        Indicator::TaxPerKwh,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Indicator::TaxPerMu => "tax_per_mu",
            Indicator::RevenuePerMu => "revenue_per_mu",
            Indicator::ValueAddedPerMu => "value_added_per_mu",
            Indicator::TaxPerEnergy => "tax_per_energy",
            Indicator::ValueAddedPerEnergy => "value_added_per_energy",
            Indicator::TaxPerPollutant => "tax_per_pollutant",
            Indicator::ValueAddedPerPollutant => "value_added_per_pollutant",
            Indicator::LabourProductivity => "labour_productivity",
            Indicator::RdIntensity => "rd_intensity",
            Indicator::TaxPerKwh => "tax_per_kwh",
        }
    }

    pub fn from_key(key: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Indicator::TaxPerMu => "亩均税收",
            Indicator::RevenuePerMu => "亩均销售收入",
            Indicator::ValueAddedPerMu => "亩均增加值",
            Indicator::TaxPerEnergy => "单位能耗税收",
            Indicator::ValueAddedPerEnergy => "单位能耗增加值",
            Indicator::TaxPerPollutant => "单位主要污染物税收",
            Indicator::ValueAddedPerPollutant => "单位排放增加值",
            Indicator::LabourProductivity => "全员劳动生产率",
            Indicator::RdIntensity => "研发经费占比",
            Indicator::TaxPerKwh => "单位电耗税收",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Indicator::TaxPerMu => "tax per mu",
            Indicator::RevenuePerMu => "revenue per mu",
            Indicator::ValueAddedPerMu => "value added per mu",
            Indicator::TaxPerEnergy => "tax per tce of energy",
            Indicator::ValueAddedPerEnergy => "value added per tce of energy",
            Indicator::TaxPerPollutant => "tax per unit of pollution load",
            Indicator::ValueAddedPerPollutant => "value added per unit of pollution load",
            Indicator::LabourProductivity => "labour productivity",
            Indicator::RdIntensity => "R&D intensity",
            Indicator::TaxPerKwh => "tax per kWh",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Indicator::TaxPerMu | Indicator::RevenuePerMu | Indicator::ValueAddedPerMu => "万元/亩",
            Indicator::TaxPerEnergy | Indicator::ValueAddedPerEnergy => "万元/tce",
            Indicator::TaxPerPollutant | Indicator::ValueAddedPerPollutant => "万元/t当量",
            Indicator::LabourProductivity => "万元/人",
            Indicator::RdIntensity => "",
            Indicator::TaxPerKwh => "元/kWh",
        }
    }

    /// The figure in the numerator (raising it raises the indicator).
    pub fn numerator_figure(self) -> Figure {
        match self {
            Indicator::TaxPerMu
            | Indicator::TaxPerEnergy
            | Indicator::TaxPerPollutant
            | Indicator::TaxPerKwh => Figure::TaxPaid,
            Indicator::RevenuePerMu => Figure::Revenue,
            Indicator::ValueAddedPerMu
            | Indicator::ValueAddedPerEnergy
            | Indicator::ValueAddedPerPollutant
            | Indicator::LabourProductivity => Figure::ValueAdded,
            Indicator::RdIntensity => Figure::RdExpense,
        }
    }

    /// The figures in the denominator (cutting them raises the indicator; for rd_intensity the
    /// denominator is revenue, which nobody would cut to improve).
    pub fn denominator_figures(self, basis: EnergyBasis) -> &'static [Figure] {
        match self {
            Indicator::TaxPerMu | Indicator::RevenuePerMu | Indicator::ValueAddedPerMu => {
                &[Figure::LandAreaMu]
            }
            Indicator::TaxPerEnergy | Indicator::ValueAddedPerEnergy => match basis {
                EnergyBasis::Calorific => &[Figure::EnergyTce],
                EnergyBasis::Equivalent => &[Figure::EnergyTceEquivalent, Figure::EnergyTce],
            },
            Indicator::TaxPerPollutant | Indicator::ValueAddedPerPollutant => {
                &[Figure::Cod, Figure::AmmoniaN, Figure::So2, Figure::Nox]
            }
            Indicator::LabourProductivity => &[Figure::Employees],
            Indicator::RdIntensity => &[Figure::Revenue],
            Indicator::TaxPerKwh => &[Figure::ElectricityKwh],
        }
    }

    /// Numerator and denominator for one enterprise-year.
    pub fn parts(self, ey: &EnterpriseYear<'_>, basis: EnergyBasis) -> Parts {
        let f = |figure| ey.figure(figure);
        let mut basis_fallback = false;
        let (numerator, denominator) = match self {
            Indicator::TaxPerMu => (f(Figure::TaxPaid), ey.land_area_mu),
            Indicator::RevenuePerMu => (f(Figure::Revenue), ey.land_area_mu),
            Indicator::ValueAddedPerMu => (f(Figure::ValueAdded), ey.land_area_mu),
            Indicator::TaxPerEnergy | Indicator::ValueAddedPerEnergy => {
                let energy = match basis {
                    EnergyBasis::Calorific => f(Figure::EnergyTce),
                    EnergyBasis::Equivalent => match f(Figure::EnergyTceEquivalent) {
                        Some(v) => Some(v),
                        None => {
                            let calorific = f(Figure::EnergyTce);
                            basis_fallback = calorific.is_some();
                            calorific
                        }
                    },
                };
                let numerator = if self == Indicator::TaxPerEnergy {
                    f(Figure::TaxPaid)
                } else {
                    f(Figure::ValueAdded)
                };
                (numerator, energy)
            }
            Indicator::TaxPerPollutant | Indicator::ValueAddedPerPollutant => {
                let load = pollution_load(
                    f(Figure::Cod),
                    f(Figure::AmmoniaN),
                    f(Figure::So2),
                    f(Figure::Nox),
                );
                let numerator = if self == Indicator::TaxPerPollutant {
                    f(Figure::TaxPaid)
                } else {
                    f(Figure::ValueAdded)
                };
                (numerator, load)
            }
            Indicator::LabourProductivity => (f(Figure::ValueAdded), f(Figure::Employees)),
            Indicator::RdIntensity => (f(Figure::RdExpense), f(Figure::Revenue)),
            // 元/kWh: 万元 × 10⁴ ÷ kWh.
            Indicator::TaxPerKwh => (
                f(Figure::TaxPaid).map(|t| t * 10_000.0),
                f(Figure::ElectricityKwh),
            ),
        };
        Parts {
            numerator,
            denominator,
            basis_fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pollution_load_weights_and_blanks() {
        // 2 t COD + 0.8 t NH3-N + 0.95 t SO2 + 1.9 t NOx = 2 + 1 + 1 + 2 = 6 t equivalent.
        assert_eq!(
            pollution_load(Some(2.0), Some(0.8), Some(0.95), Some(1.9)),
            Some(6.0)
        );
        // A blank among given ones counts as 0.
        assert_eq!(pollution_load(Some(3.0), None, None, None), Some(3.0));
        assert_eq!(pollution_load(None, None, None, None), None);
    }

    #[test]
    fn keys_round_trip() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::from_key(i.key()), Some(i));
        }
    }

    #[test]
    fn zero_denominator_is_not_computable() {
        let p = Parts {
            numerator: Some(1.0),
            denominator: Some(0.0),
            basis_fallback: false,
        };
        assert_eq!(p.value(), None);
        let p = Parts {
            numerator: Some(-1.0),
            denominator: Some(2.0),
            basis_fallback: false,
        };
        assert_eq!(p.value(), Some(-0.5));
    }
}
