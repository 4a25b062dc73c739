//! Many enterprises' energy and carbon for a year: each one's account and carbon-efficiency grade,
//! and what a city, a district or an industry division adds up to (totals by scope, grade
//! distribution, top emitters, the intensity data of [`super::intensity`]). The store's lines go in,
//! values come out; the CLI (`gusu energy`) and the web dashboard both read these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::account::{
    CarbonAccount, CarbonError, EnergyLine, GridChoice, GridFactor, LineError, Method, Settings,
};
use super::efficiency::{Efficiency, EfficiencyInput, PeerArea, grade};
use super::factors::FactorLibrary;
use super::factors::{GridBasis, GridScope};
use super::intensity::EnergyYear;
use super::intensity::IntensityTarget;
use crate::uscc::Uscc;

/// The city's energy settings (`[energy]` in gusu.toml): the base year changes are measured
/// against, the intensity targets by year (none ships with gusu: without one, pages say "no target
/// set"), and how stored accounts choose the grid factor.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnergySettings {
    pub base_year: Option<i32>,
    pub targets: Vec<IntensityTarget>,
    /// `market`, `national`, `regional` or `provincial`; unset: gusu's default, the MEE/NBS
    /// national statistical average (rules/factors/grid-china.toml).
    pub grid_basis: Option<GridBasisSetting>,
    /// The basis energy intensity is measured on: `calorific` (当量值, the default) or
    /// `equivalent` (等价值, electricity and heat at the coal it took to make them). The city's
    /// target documents say which; gusu follows the setting.
    pub intensity_basis: IntensityBasis,
}

/// The basis of comprehensive energy consumption an intensity is measured on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntensityBasis {
    /// 当量值: every carrier at its own calorific value.
    #[default]
    Calorific,
    /// 等价值: electricity and heat at the primary energy used to make them.
    Equivalent,
}

impl IntensityBasis {
    /// The comprehensive energy consumption of an account on this basis, tce.
    pub fn energy_tce(self, account: &CarbonAccount) -> f64 {
        match self {
            IntensityBasis::Calorific => account.energy_tce,
            IntensityBasis::Equivalent => account.energy_tce_equivalent,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            IntensityBasis::Calorific => "当量值",
            IntensityBasis::Equivalent => "等价值",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            IntensityBasis::Calorific => "calorific-value basis",
            IntensityBasis::Equivalent => "equivalent-value basis",
        }
    }
}

/// The grid factor a city's stored accounts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GridBasisSetting {
    Market,
    National,
    Regional,
    Provincial,
}

impl EnergySettings {
    pub fn grid_choice(&self) -> GridChoice {
        let statistical = |scope| GridChoice::Select {
            basis: GridBasis::Statistical,
            scope,
        };
        match self.grid_basis {
            None => GridChoice::Default,
            Some(GridBasisSetting::Market) => GridChoice::Select {
                basis: GridBasis::CarbonMarket,
                scope: GridScope::National,
            },
            Some(GridBasisSetting::National) => statistical(GridScope::National),
            Some(GridBasisSetting::Regional) => statistical(GridScope::Regional),
            Some(GridBasisSetting::Provincial) => statistical(GridScope::Provincial),
        }
    }

    /// The target set for a year, if any.
    pub fn target(&self, year: i32) -> Option<&IntensityTarget> {
        self.targets.iter().find(|t| t.year == year)
    }
}

/// One enterprise's lines and value added in a year.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerInput {
    pub uscc: Uscc,
    pub name: String,
    pub district: String,
    pub division: String,
    pub lines: Vec<EnergyLine>,
    /// Industrial value added, 万元.
    pub value_added: Option<f64>,
}

/// One enterprise's account and grade in a year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRow {
    pub uscc: Uscc,
    pub name: String,
    pub district: String,
    pub division: String,
    pub year: i32,
    pub account: CarbonAccount,
    pub value_added: Option<f64>,
    pub efficiency: Efficiency,
    /// energy_tce ÷ value added (当量值 basis), tce per 万元.
    pub intensity: Option<f64>,
}

impl LedgerRow {
    /// Energy intensity on `basis`: tce per 万元 of value added (none without value added).
    pub fn intensity_on(&self, basis: IntensityBasis) -> Option<f64> {
        self.value_added
            .filter(|v| *v > 0.0)
            .map(|v| basis.energy_tce(&self.account) / v)
    }
}

/// An enterprise whose lines cannot be accounted (left out of every sum).
#[derive(Debug, Clone, PartialEq)]
pub struct LineFailure {
    pub uscc: Uscc,
    pub error: LineError,
}

/// A year's accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct YearLedger {
    pub year: i32,
    pub grid: GridFactor,
    pub rows: Vec<LedgerRow>,
    pub failures: Vec<LineFailure>,
}

/// Accounts every input for `settings.year` and grades the carbon efficiency of those with value
/// added (the division's L over the peer area).
pub fn account_year(
    library: &FactorLibrary,
    settings: &Settings<'_>,
    inputs: &[LedgerInput],
    peer: PeerArea,
) -> Result<YearLedger, CarbonError> {
    let method = Method::new(library, settings)?;
    let mut accounted: Vec<(&LedgerInput, CarbonAccount)> = Vec::with_capacity(inputs.len());
    let mut failures = Vec::new();
    for input in inputs {
        match method.account(&input.lines) {
            Ok(a) => accounted.push((input, a)),
            Err(error) => failures.push(LineFailure {
                uscc: input.uscc,
                error,
            }),
        }
    }
    let grade_inputs: Vec<EfficiencyInput<'_>> = accounted
        .iter()
        .map(|(i, a)| EfficiencyInput {
            division: &i.division,
            district: &i.district,
            co2_t: a.efficiency_tco2,
            value_added: i.value_added,
        })
        .collect();
    let grades = grade(library, &grade_inputs, peer);
    let rows = accounted
        .into_iter()
        .zip(grades)
        .map(|((i, account), efficiency)| LedgerRow {
            uscc: i.uscc,
            name: i.name.clone(),
            district: i.district.clone(),
            division: i.division.clone(),
            year: settings.year,
            intensity: i
                .value_added
                .filter(|v| *v > 0.0)
                .map(|v| account.energy_tce / v),
            account,
            value_added: i.value_added,
            efficiency,
        })
        .collect();
    Ok(YearLedger {
        year: settings.year,
        grid: method.grid.clone(),
        rows,
        failures,
    })
}

/// Which enterprises a figure is over: the city, a district, a division, or a division within a
/// district.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Population {
    pub district: Option<String>,
    pub division: Option<String>,
}

impl Population {
    pub fn city() -> Population {
        Population::default()
    }

    pub fn holds(&self, district: &str, division: &str) -> bool {
        self.district.as_deref().is_none_or(|d| d == district)
            && self.division.as_deref().is_none_or(|d| d == division)
    }
}

/// Sums over a population's accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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

impl Totals {
    pub fn add(&mut self, a: &CarbonAccount) {
        self.enterprises += 1;
        self.energy_tce += a.energy_tce;
        self.energy_tce_equivalent += a.energy_tce_equivalent;
        self.combustion_tco2 += a.combustion_tco2;
        self.process_tco2 += a.process_tco2;
        self.scope1_tco2 += a.scope1_tco2;
        self.electricity_tco2 += a.electricity_tco2;
        self.heat_tco2 += a.heat_tco2;
        self.scope2_tco2 += a.scope2_tco2;
        self.exported_tco2 += a.exported_tco2;
        self.total_tco2 += a.total_tco2;
        self.biomass_tco2 += a.biomass_tco2;
    }
}

/// What a population adds up to in a year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationSummary {
    pub population: Population,
    pub year: i32,
    pub totals: Totals,
    /// Enterprises by carbon-efficiency grade ("1" to "5"; "none" where no grade could be
    /// given: no value added, or no division L).
    pub grades: BTreeMap<String, u32>,
    /// The largest emitters by total tCO₂, largest first (ties by USCC).
    pub top_emitters: Vec<LedgerRow>,
}

/// Key of enterprises without a grade in [`PopulationSummary::grades`].
pub const NO_GRADE: &str = "none";

/// Totals, grade counts and the `top` largest emitters of a population.
pub fn summarize(ledger: &YearLedger, population: &Population, top: usize) -> PopulationSummary {
    let mut totals = Totals::default();
    let mut grades: BTreeMap<String, u32> = BTreeMap::new();
    let mut members: Vec<&LedgerRow> = Vec::new();
    for row in ledger
        .rows
        .iter()
        .filter(|r| population.holds(&r.district, &r.division))
    {
        totals.add(&row.account);
        let key = row.efficiency.grade.as_deref().unwrap_or(NO_GRADE);
        *grades.entry(key.to_string()).or_default() += 1;
        members.push(row);
    }
    members.sort_by(|a, b| {
        b.account
            .total_tco2
            .total_cmp(&a.account.total_tco2)
            .then_with(|| a.uscc.cmp(&b.uscc))
    });
    PopulationSummary {
        population: population.clone(),
        year: ledger.year,
        totals,
        grades,
        top_emitters: members.into_iter().take(top).cloned().collect(),
    }
}

/// The figures [`super::intensity::intensity`] takes: each accounted enterprise's energy on
/// `basis` and value added, for every year given.
pub fn intensity_data(ledgers: &[YearLedger], basis: IntensityBasis) -> Vec<EnergyYear> {
    ledgers
        .iter()
        .flat_map(|l| l.rows.iter())
        .filter_map(|r| {
            r.value_added.map(|va| EnergyYear {
                uscc: r.uscc,
                district: r.district.clone(),
                division: r.division.clone(),
                year: r.year,
                energy_tce: basis.energy_tce(&r.account),
                value_added: va,
            })
        })
        .collect()
}

/// A factor row as a reader sees it: its id, value, unit and published source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorRef {
    pub id: String,
    pub value: f64,
    pub unit: String,
    pub source: String,
}

/// The row with this id in the library (`given:` ids are values given for the run).
pub fn describe(library: &FactorLibrary, id: &str, grid: &GridFactor) -> Option<FactorRef> {
    if id == grid.id {
        if let Some(row) = library.grid_rows().iter().find(|r| r.id == id) {
            return Some(FactorRef {
                id: id.to_string(),
                value: row.value,
                unit: row.unit.clone(),
                source: row.source.clone(),
            });
        }
        return Some(FactorRef {
            id: id.to_string(),
            value: grid.value,
            unit: "tCO2/MWh".into(),
            source: "given".into(),
        });
    }
    if let Some(f) = library.fuels().iter().find(|r| r.id == id) {
        return Some(FactorRef {
            id: id.to_string(),
            value: f.tco2_per_unit_computed(),
            unit: format!("tCO2/{}", f.unit.key()),
            source: f.source.clone(),
        });
    }
    if let Some(c) = library.coefficients().iter().find(|r| r.id == id) {
        return Some(FactorRef {
            id: id.to_string(),
            value: c.value,
            unit: c.unit.clone(),
            source: c.source.clone(),
        });
    }
    library
        .efficiency_levels()
        .iter()
        .chain(library.efficiency_grades())
        .find(|b| b.id == id)
        .map(|b| FactorRef {
            id: id.to_string(),
            value: b.max.unwrap_or(f64::INFINITY),
            unit: format!("band {} (upper bound)", b.label),
            source: b.source.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carbon::{Carrier, GridChoice, Unit};
    use crate::scheme::cases::test_uscc;

    fn input(
        n: usize,
        district: &str,
        division: &str,
        lines: Vec<EnergyLine>,
        va: f64,
    ) -> LedgerInput {
        LedgerInput {
            uscc: test_uscc(n),
            name: format!("E{n}"),
            district: district.into(),
            division: division.into(),
            lines,
            value_added: Some(va),
        }
    }

    /// Worked by hand with a given grid factor of 0.5 tCO₂/MWh (year 2024, shipped rows):
    ///
    /// - E1 (district 320505, division 26): 100 t raw coal and 1,000 MWh.
    ///   coal: 20.908 GJ/t × 26.37 tC/TJ ÷ 1000 × 0.94 × 44/12 = 1.900299 tCO₂/t → 190.02988 t;
    ///   electricity 1,000 × 0.5 = 500 t. Total 690.02988 t. Energy (当量值): 100 × 0.7143 +
    ///   1,000 × 0.1229 = 71.43 + 122.9 = 194.33 tce. Value added 1,000 万元: L = 0.690030.
    /// - E2 (320506, 26): 200 MWh: 100 t; 24.58 tce. VA 500: L = 0.2.
    /// - E3 (320506, 30): 50 t process CO₂ only: 50 t, 0 tce. VA 100: L = 0.5.
    ///
    /// Division 26's L = (690.02988 + 100) ÷ 1,500 = 0.526687; K(E1) = 1.310134 → grade 4 (≤ 2.0),
    /// K(E2) = 0.379732 → grade 1 (≤ 0.6). Division 30 has E3 alone: K = 1 → grade 3.
    /// City totals: 840.02988 tCO₂; scope 1 = 190.02988 + 50; scope 2 = 600; 218.91 tce.
    #[test]
    fn a_small_city_worked_by_hand() {
        let lib = FactorLibrary::builtin().unwrap();
        let settings = Settings {
            year: 2024,
            grid: GridChoice::Given(0.5),
            location: None,
            coal_rate: None,
        };
        let inputs = [
            input(
                1,
                "320505",
                "26",
                vec![
                    EnergyLine::new(Carrier::RawCoal, 100.0, Unit::T),
                    EnergyLine::new(Carrier::Electricity, 1000.0, Unit::Mwh),
                ],
                1000.0,
            ),
            input(
                2,
                "320506",
                "26",
                vec![EnergyLine::new(Carrier::Electricity, 200_000.0, Unit::Kwh)],
                500.0,
            ),
            input(
                3,
                "320506",
                "30",
                vec![EnergyLine::new(Carrier::ProcessCo2, 50.0, Unit::Tco2)],
                100.0,
            ),
        ];
        let ledger = account_year(&lib, &settings, &inputs, PeerArea::City).unwrap();
        assert!(ledger.failures.is_empty());
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        let e1 = &ledger.rows[0];
        assert!(
            close(e1.account.total_tco2, 690.02988),
            "{}",
            e1.account.total_tco2
        );
        assert!(close(e1.account.energy_tce, 194.33));
        assert!(close(e1.intensity.unwrap(), 0.19433));
        assert_eq!(e1.efficiency.grade.as_deref(), Some("4"));
        assert!(close(e1.efficiency.k.unwrap(), 1.310134));
        assert_eq!(ledger.rows[1].efficiency.grade.as_deref(), Some("1"));
        assert_eq!(ledger.rows[2].efficiency.grade.as_deref(), Some("3"));

        let city = summarize(&ledger, &Population::city(), 2);
        assert_eq!(city.totals.enterprises, 3);
        assert!(close(city.totals.total_tco2, 840.02988));
        assert!(close(city.totals.scope1_tco2, 240.02988));
        assert!(close(city.totals.scope2_tco2, 600.0));
        assert!(close(city.totals.energy_tce, 218.91));
        let grades: Vec<(&str, u32)> = city.grades.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(grades, [("1", 1), ("3", 1), ("4", 1)]);
        let top: Vec<Uscc> = city.top_emitters.iter().map(|r| r.uscc).collect();
        assert_eq!(top, [test_uscc(1), test_uscc(2)]);

        let district = summarize(
            &ledger,
            &Population {
                district: Some("320506".into()),
                division: None,
            },
            10,
        );
        assert_eq!(district.totals.enterprises, 2);
        assert!(close(district.totals.total_tco2, 150.0));
        let division = summarize(
            &ledger,
            &Population {
                district: None,
                division: Some("30".into()),
            },
            10,
        );
        assert_eq!(division.top_emitters.len(), 1);

        let data = intensity_data(std::slice::from_ref(&ledger), IntensityBasis::Calorific);
        assert_eq!(data.len(), 3);
        assert!(close(data[0].energy_tce, 194.33));
        assert_eq!(
            e1.intensity_on(IntensityBasis::Calorific),
            e1.intensity,
            "the row's own intensity is on the calorific basis"
        );
        // On the equivalent basis (a setting) the same rows carry their 等价值, which counts the
        // electricity bought at the coal it took to make it: never less than the 当量值.
        let equivalent = intensity_data(std::slice::from_ref(&ledger), IntensityBasis::Equivalent);
        for (row, (cal, eq)) in ledger.rows.iter().zip(data.iter().zip(&equivalent)) {
            assert_eq!(eq.energy_tce, row.account.energy_tce_equivalent);
            assert!(eq.energy_tce >= cal.energy_tce, "{}", row.uscc);
            let va = row.value_added.unwrap();
            assert!(close(
                row.intensity_on(IntensityBasis::Equivalent).unwrap(),
                row.account.energy_tce_equivalent / va
            ));
        }
        assert!(
            equivalent[0].energy_tce > data[0].energy_tce,
            "e1 buys electricity"
        );

        // Every factor named is described with its value and source.
        for id in &e1.account.factors {
            let f = describe(&lib, id, &ledger.grid).unwrap_or_else(|| panic!("{id}"));
            assert!(!f.source.is_empty());
        }
        let coal = &lib.fuel(Carrier::RawCoal, 2024).unwrap().id;
        assert!(e1.account.factors.contains(coal));
        assert!(close(
            describe(&lib, coal, &ledger.grid).unwrap().value,
            1.900299
        ));
    }

    #[test]
    fn an_enterprise_whose_lines_fail_is_left_out_and_named() {
        let lib = FactorLibrary::builtin().unwrap();
        let settings = Settings {
            year: 2024,
            grid: GridChoice::Default,
            location: None,
            coal_rate: None,
        };
        let mut bad = EnergyLine::new(Carrier::HotWater, 10.0, Unit::T);
        bad.temperature_c = None;
        let ledger = account_year(
            &lib,
            &settings,
            &[input(1, "320505", "26", vec![bad], 10.0)],
            PeerArea::City,
        )
        .unwrap();
        assert!(ledger.rows.is_empty());
        assert_eq!(ledger.failures[0].uscc, test_uscc(1));
    }
}
