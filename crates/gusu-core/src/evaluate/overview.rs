//! What a city or a district looks like in one evaluation: class counts by size group, district
//! and industry division; the totals and per-mu figures of the evaluated enterprises against the
//! year before; the D-class list; and what the measures add up to.
//!
//! The figures are like for like (同口径): the enterprises of this run, in both years. Each ratio
//! is a sum over a sum — Σ tax ÷ Σ land — over the enterprises that have both values in that
//! year, so one enterprise with no land recorded neither inflates nor dilutes it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EnterpriseResult, Status};
use crate::record::{EnterpriseYear, Figure};
use crate::uscc::Uscc;

/// Counts of one population by class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassCounts {
    /// Enterprises in the run (graded or not).
    pub total: u32,
    pub graded: u32,
    /// Graded enterprises by class, classes in the scheme's own order of names (A, B, C, D).
    pub by_class: BTreeMap<String, u32>,
}

impl ClassCounts {
    fn add(&mut self, r: &EnterpriseResult) {
        self.total += 1;
        if let Some(class) = &r.class {
            self.graded += 1;
            *self.by_class.entry(class.to_string()).or_insert(0) += 1;
        }
    }

    /// The count of one class (0 when none).
    pub fn count(&self, class: &str) -> u32 {
        self.by_class.get(class).copied().unwrap_or(0)
    }
}

/// A ratio's two sums, over the enterprises that have both values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RatioSums {
    pub numerator: f64,
    pub denominator: f64,
    pub enterprises: u32,
}

impl RatioSums {
    fn add(&mut self, numerator: Option<f64>, denominator: Option<f64>) {
        if let (Some(n), Some(d)) = (numerator, denominator)
            && d > 0.0
        {
            self.numerator += n;
            self.denominator += d;
            self.enterprises += 1;
        }
    }

    pub fn ratio(&self) -> Option<f64> {
        (self.denominator > 0.0).then(|| self.numerator / self.denominator)
    }
}

/// Totals and per-mu figures of a population in one year. Money in 万元, land in mu, energy in
/// tce (calorific basis).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FigureTotals {
    /// Enterprises with a yearly record that year.
    pub enterprises: u32,
    pub tax: f64,
    pub revenue: f64,
    pub value_added: f64,
    pub land_mu: f64,
    pub energy_tce: f64,
    pub tax_per_mu: RatioSums,
    pub revenue_per_mu: RatioSums,
    pub value_added_per_mu: RatioSums,
    pub value_added_per_tce: RatioSums,
}

impl FigureTotals {
    fn add(&mut self, ey: &EnterpriseYear<'_>) {
        if ey.figures.is_none() {
            return;
        }
        self.enterprises += 1;
        let tax = ey.figure(Figure::TaxPaid);
        let revenue = ey.figure(Figure::Revenue);
        let value_added = ey.figure(Figure::ValueAdded);
        let energy = ey.figure(Figure::EnergyTce);
        let land = ey.land_area_mu;
        self.tax += tax.unwrap_or(0.0);
        self.revenue += revenue.unwrap_or(0.0);
        self.value_added += value_added.unwrap_or(0.0);
        self.land_mu += land.unwrap_or(0.0);
        self.energy_tce += energy.unwrap_or(0.0);
        self.tax_per_mu.add(tax, land);
        self.revenue_per_mu.add(revenue, land);
        self.value_added_per_mu.add(value_added, land);
        self.value_added_per_tce.add(value_added, energy);
    }
}

/// The figures of one size group (or all) this year and the year before.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FigureComparison {
    pub this_year: FigureTotals,
    pub last_year: FigureTotals,
}

/// One line of the D-class list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassLine {
    pub uscc: Uscc,
    pub name: String,
    pub district: String,
    pub division: String,
    pub group: &'static str,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

/// What one measure adds up to over the population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureTotal {
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: Option<String>,
    pub applies_in: i32,
    /// Enterprises the measure applies to.
    pub enterprises: u32,
    /// Σ of the amounts that could be computed, in 元.
    pub amount: f64,
    /// Enterprises whose amount could not be computed (basis figure missing).
    pub without_amount: u32,
}

/// The overview of one population (a city or a district) in one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overview {
    /// Every class name seen, in order.
    pub classes: Vec<String>,
    pub all: ClassCounts,
    /// By size group key ("above", "below").
    pub by_group: BTreeMap<&'static str, ClassCounts>,
    pub by_district: BTreeMap<String, ClassCounts>,
    pub by_division: BTreeMap<String, ClassCounts>,
    /// By size group key, and "all".
    pub figures: BTreeMap<&'static str, FigureComparison>,
    /// Graded enterprises of the lowest class, lowest score first.
    pub lowest_class: Option<String>,
    pub lowest_class_list: Vec<ClassLine>,
    pub lowest_class_count: u32,
    pub measures: Vec<MeasureTotal>,
}

/// The name of the lowest class: the greatest name ("D" after "A").
fn lowest(classes: &[String]) -> Option<String> {
    classes.iter().max().cloned()
}

/// Summarises a population. `results` are the run's results in the population; `year_of` gives
/// an enterprise as seen in a year (`None` when it is not in the register), so figures can be
/// compared like for like with `year - 1`. The lowest-class list keeps `list_limit` lines.
pub fn summarize<'a, 'r>(
    results: impl IntoIterator<Item = &'r EnterpriseResult>,
    year_of: impl Fn(&Uscc, i32) -> Option<EnterpriseYear<'a>>,
    year: i32,
    list_limit: usize,
) -> Overview {
    let mut o = Overview::default();
    let mut graded: Vec<&EnterpriseResult> = Vec::new();
    let mut measures: BTreeMap<(String, i32), MeasureTotal> = BTreeMap::new();
    for r in results {
        let group = r.group.key();
        o.all.add(r);
        o.by_group.entry(group).or_default().add(r);
        o.by_district
            .entry(r.district.to_string())
            .or_default()
            .add(r);
        o.by_division
            .entry(r.division.to_string())
            .or_default()
            .add(r);
        for (y, last) in [(year, false), (year - 1, true)] {
            if let Some(ey) = year_of(&r.uscc, y) {
                for key in [group, "all"] {
                    let c = o.figures.entry(key).or_default();
                    if last {
                        c.last_year.add(&ey);
                    } else {
                        c.this_year.add(&ey);
                    }
                }
            }
        }
        for m in &r.measures {
            let t = measures
                .entry((m.kind.clone(), m.applies_in))
                .or_insert_with(|| MeasureTotal {
                    kind: m.kind.clone(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    unit: m.unit.clone(),
                    applies_in: m.applies_in,
                    enterprises: 0,
                    amount: 0.0,
                    without_amount: 0,
                });
            t.enterprises += 1;
            match m.amount {
                Some(a) => t.amount += a,
                None => t.without_amount += 1,
            }
        }
        if r.status == Status::Graded && r.class.is_some() {
            graded.push(r);
        }
    }
    o.classes = o.all.by_class.keys().cloned().collect();
    o.lowest_class = lowest(&o.classes);
    if let Some(lowest) = &o.lowest_class {
        let mut list: Vec<&EnterpriseResult> = graded
            .into_iter()
            .filter(|r| r.class.as_deref() == Some(lowest.as_str()))
            .collect();
        o.lowest_class_count = list.len() as u32;
        // Lowest score first; ties by code so the list is stable.
        list.sort_by(|a, b| {
            a.score
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.score.unwrap_or(f64::INFINITY))
                .then_with(|| a.uscc.as_str().cmp(b.uscc.as_str()))
        });
        o.lowest_class_list = list
            .into_iter()
            .take(list_limit)
            .map(|r| ClassLine {
                uscc: r.uscc,
                name: r.name.clone(),
                district: r.district.to_string(),
                division: r.division.to_string(),
                group: r.group.key(),
                score: r.score,
                rank: r.rank,
            })
            .collect();
    }
    o.measures = measures.into_values().collect();
    o
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::NaiveDate;

    use super::*;
    use crate::evaluate::{MeasureResult, SizeGroup};
    use crate::record::{Enterprise, YearlyRecord};

    fn enterprise(n: u8, district: &str, land: Option<f64>) -> Enterprise {
        Enterprise {
            uscc: crate::scheme::cases::test_uscc(n as usize),
            name: format!("E{n}"),
            district: district.into(),
            industry_code: "3411".into(),
            division: "34".into(),
            land_area_mu: land,
            above_scale: true,
            established: NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
            exempt: false,
        }
    }

    fn record(
        e: &Enterprise,
        year: i32,
        tax: f64,
        revenue: f64,
        va: f64,
        tce: f64,
    ) -> YearlyRecord {
        let mut r = YearlyRecord::new(e.uscc, year);
        r.figures.set(Figure::TaxPaid, Some(tax));
        r.figures.set(Figure::Revenue, Some(revenue));
        r.figures.set(Figure::ValueAdded, Some(va));
        r.figures.set(Figure::EnergyTce, Some(tce));
        r
    }

    fn result(e: &Enterprise, class: Option<&str>, score: Option<f64>) -> EnterpriseResult {
        EnterpriseResult {
            uscc: e.uscc,
            name: e.name.clone(),
            district: e.district.as_str().into(),
            division: e.division.as_str().into(),
            group: SizeGroup::Above,
            status: if class.is_some() {
                Status::Graded
            } else {
                Status::MissingData
            },
            class: class.map(Arc::from),
            score,
            rank: None,
            rank_in_district: None,
            rank_in_division: None,
            group_size: None,
            percentile: None,
            indicators: vec![],
            adjustments: vec![],
            measures: vec![],
            warnings: vec![],
        }
    }

    /// Three enterprises, hand-summed:
    ///
    /// | | land | tax 2024 | rev 2024 | VA 2024 | tce 2024 | tax 2023 |
    /// |---|---|---|---|---|---|---|
    /// | E1 (A) | 10 | 50 | 1000 | 200 | 100 | 40 |
    /// | E2 (D) | 20 | 10 | 400 | 60 | 0 (no energy) | — (no record) |
    /// | E3 (no class) | none | 5 | 100 | 20 | 10 | — |
    ///
    /// 2024: tax per mu = (50 + 10) / (10 + 20) = 2.0 (E3 has no land, so it is left out of
    /// both sums); revenue per mu = 1400 / 30 = 46.67; VA per mu = 260 / 30 = 8.667;
    /// VA per tce = (200 + 20) / (100 + 10) = 2.0 (E2's energy is 0, not a divisor).
    /// 2023: only E1 has a record: tax per mu = 40 / 10 = 4.0.
    #[test]
    fn ratios_are_sums_over_sums_of_the_enterprises_with_both_values() {
        let e1 = enterprise(1, "320505", Some(10.0));
        let e2 = enterprise(2, "320506", Some(20.0));
        let e3 = enterprise(3, "320506", None);
        let records_2024 = [
            record(&e1, 2024, 50.0, 1000.0, 200.0, 100.0),
            record(&e2, 2024, 10.0, 400.0, 60.0, 0.0),
            record(&e3, 2024, 5.0, 100.0, 20.0, 10.0),
        ];
        let records_2023 = [record(&e1, 2023, 40.0, 900.0, 180.0, 95.0)];
        let mut r2 = result(&e2, Some("D"), Some(40.0));
        r2.measures.push(MeasureResult {
            kind: "electricity_surcharge".into(),
            name_zh: "差别电价".into(),
            name_en: "differential electricity price".into(),
            rate: Some(0.1),
            unit: Some("元/kWh".into()),
            applies_in: 2025,
            amount: Some(1200.0),
            source: "test".into(),
        });
        let results = [
            result(&e1, Some("A"), Some(120.0)),
            r2,
            result(&e3, None, None),
        ];
        let enterprises = [&e1, &e2, &e3];
        let year_of = |u: &Uscc, y: i32| {
            let e = enterprises.iter().find(|e| e.uscc == *u)?;
            let records: &[YearlyRecord] = if y == 2024 {
                &records_2024
            } else {
                &records_2023
            };
            Some(EnterpriseYear::new(
                e,
                records.iter().find(|r| r.uscc == *u),
            ))
        };
        let o = summarize(&results, year_of, 2024, 10);
        assert_eq!(o.classes, ["A", "D"]);
        assert_eq!(o.all.total, 3);
        assert_eq!(o.all.graded, 2);
        assert_eq!(o.by_district["320506"].total, 2);
        assert_eq!(o.by_district["320506"].count("D"), 1);
        let all = &o.figures["all"];
        assert_eq!(all.this_year.enterprises, 3);
        assert_eq!(all.this_year.tax, 65.0);
        assert_eq!(all.this_year.tax_per_mu.ratio(), Some(2.0));
        assert!((all.this_year.revenue_per_mu.ratio().unwrap() - 1400.0 / 30.0).abs() < 1e-12);
        assert!((all.this_year.value_added_per_mu.ratio().unwrap() - 260.0 / 30.0).abs() < 1e-12);
        assert_eq!(all.this_year.value_added_per_tce.ratio(), Some(2.0));
        assert_eq!(all.last_year.enterprises, 1);
        assert_eq!(all.last_year.tax_per_mu.ratio(), Some(4.0));
        assert_eq!(o.lowest_class.as_deref(), Some("D"));
        assert_eq!(o.lowest_class_count, 1);
        assert_eq!(o.lowest_class_list[0].uscc, e2.uscc);
        assert_eq!(o.measures.len(), 1);
        assert_eq!(o.measures[0].enterprises, 1);
        assert_eq!(o.measures[0].amount, 1200.0);
    }

    #[test]
    fn the_lowest_class_list_is_capped_and_ordered_by_score() {
        let es: Vec<Enterprise> = (1..=5).map(|n| enterprise(n, "320505", None)).collect();
        let scores = [50.0, 10.0, 30.0, 20.0, 40.0];
        let results: Vec<EnterpriseResult> = es
            .iter()
            .zip(scores)
            .map(|(e, s)| result(e, Some("D"), Some(s)))
            .collect();
        let o = summarize(&results, |_, _| None, 2024, 3);
        assert_eq!(o.lowest_class_count, 5);
        let got: Vec<f64> = o.lowest_class_list.iter().filter_map(|l| l.score).collect();
        assert_eq!(got, [10.0, 20.0, 30.0]);
        assert!(o.figures.is_empty());
    }
}
