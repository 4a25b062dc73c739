//! Energy intensity (能耗强度): comprehensive energy consumption per 万元 of value added, for an
//! enterprise, a district, an industry division and the city, its change against the previous
//! year and a base year, and whether a year's target is met.
//!
//! - Intensity of a population in a year = Σ tce ÷ Σ value added over its enterprises with both
//!   figures (value added above 0) that year.
//! - Changes are like for like (同口径): over the enterprises with both figures in both years,
//!   change = intensity(year) ÷ intensity(other year) − 1 (negative: the intensity fell).
//! - Value added is taken as given: a city that compares at constant prices (可比价) supplies
//!   constant-price value added; gusu applies no deflator (none is published in the sources).
//! - Targets are the city's own, per year (`IntensityTarget`): no target ships with gusu.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::uscc::Uscc;

/// One enterprise's figures in one year.
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyYear {
    pub uscc: Uscc,
    pub district: String,
    pub division: String,
    pub year: i32,
    /// Comprehensive energy consumption, tce, on the basis the caller chose.
    pub energy_tce: f64,
    /// 万元.
    pub value_added: f64,
}

/// A city's target for a year: the largest allowed change of intensity against the previous year
/// (e.g. −0.03: at least 3% lower), optionally also against the base year.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntensityTarget {
    pub year: i32,
    pub max_change_vs_previous: Option<f64>,
    pub max_change_vs_base: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    Division,
    Enterprise,
}

/// A population's intensity in a year and its changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntensityRow {
    pub level: Level,
    /// District or division code, USCC, or "city".
    pub key: String,
    pub year: i32,
    pub enterprises: u32,
    pub energy_tce: f64,
    pub value_added: f64,
    /// tce per 万元.
    pub intensity: Option<f64>,
    pub change_vs_previous: Option<f64>,
    pub change_vs_base: Option<f64>,
    /// Whether the year's target holds (None without a target or without the change it needs).
    pub target_met: Option<bool>,
}

#[derive(Default, Clone, Copy)]
struct Sums {
    tce: f64,
    va: f64,
    n: u32,
}

impl Sums {
    fn add(&mut self, tce: f64, va: f64) {
        self.tce += tce;
        self.va += va;
        self.n += 1;
    }

    fn ratio(&self) -> Option<f64> {
        (self.va > 0.0).then(|| self.tce / self.va)
    }
}

fn usable(e: &EnergyYear) -> bool {
    e.value_added > 0.0 && e.energy_tce.is_finite() && e.energy_tce >= 0.0
}

/// The keys an enterprise counts under.
fn keys(e: &EnergyYear) -> [(Level, String); 4] {
    [
        (Level::City, "city".to_string()),
        (Level::District, e.district.clone()),
        (Level::Division, e.division.clone()),
        (Level::Enterprise, e.uscc.to_string()),
    ]
}

/// Usable figures by year, then enterprise.
type ByYear<'a> = BTreeMap<i32, BTreeMap<Uscc, &'a EnergyYear>>;

/// Like-for-like change of intensity from `from` to `to`: over enterprises usable in both.
fn changes(data: &ByYear<'_>, from: i32, to: i32) -> BTreeMap<(Level, String), Option<f64>> {
    let mut pairs: BTreeMap<(Level, String), (Sums, Sums)> = BTreeMap::new();
    let (Some(then), Some(now_year)) = (data.get(&from), data.get(&to)) else {
        return BTreeMap::new();
    };
    for (uscc, now) in now_year {
        if let Some(before) = then.get(uscc) {
            for key in keys(now) {
                let (a, b) = pairs.entry(key).or_default();
                a.add(before.energy_tce, before.value_added);
                b.add(now.energy_tce, now.value_added);
            }
        }
    }
    pairs
        .into_iter()
        .map(|(key, (before, now))| {
            let change = match (before.ratio(), now.ratio()) {
                (Some(b), Some(n)) if b > 0.0 => Some(n / b - 1.0),
                _ => None,
            };
            (key, change)
        })
        .collect()
}

/// Intensity rows for every year in `years`, at every level, with changes against the previous
/// year and `base_year`, and the targets applied. Enterprises without value added above 0 (or
/// with an unusable energy figure) are left out of every sum.
pub fn intensity(
    data: &[EnergyYear],
    years: &[i32],
    base_year: Option<i32>,
    targets: &[IntensityTarget],
) -> Vec<IntensityRow> {
    let mut usable_data: ByYear<'_> = BTreeMap::new();
    for e in data.iter().filter(|e| usable(e)) {
        usable_data.entry(e.year).or_default().insert(e.uscc, e);
    }
    let mut rows = Vec::new();
    for &year in years {
        let mut sums: BTreeMap<(Level, String), Sums> = BTreeMap::new();
        for e in usable_data.get(&year).into_iter().flat_map(|m| m.values()) {
            for key in keys(e) {
                sums.entry(key)
                    .or_default()
                    .add(e.energy_tce, e.value_added);
            }
        }
        let previous = changes(&usable_data, year - 1, year);
        let base = base_year
            .filter(|b| *b != year)
            .map(|b| changes(&usable_data, b, year))
            .unwrap_or_default();
        let target = targets.iter().find(|t| t.year == year);
        for ((level, key), s) in sums {
            let change_vs_previous = previous.get(&(level, key.clone())).copied().flatten();
            let change_vs_base = base.get(&(level, key.clone())).copied().flatten();
            let target_met = target.and_then(|t| {
                let checks: Vec<Option<bool>> = [
                    t.max_change_vs_previous
                        .map(|m| change_vs_previous.map(|c| c <= m)),
                    t.max_change_vs_base.map(|m| change_vs_base.map(|c| c <= m)),
                ]
                .into_iter()
                .flatten()
                .collect();
                if checks.is_empty() || checks.iter().any(Option::is_none) {
                    None
                } else {
                    Some(checks.iter().all(|c| *c == Some(true)))
                }
            });
            rows.push(IntensityRow {
                level,
                key,
                year,
                enterprises: s.n,
                energy_tce: s.tce,
                value_added: s.va,
                intensity: s.ratio(),
                change_vs_previous,
                change_vs_base,
                target_met,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::cases::test_uscc;

    fn e(n: usize, district: &str, year: i32, tce: f64, va: f64) -> EnergyYear {
        EnergyYear {
            uscc: test_uscc(n),
            district: district.into(),
            division: "26".into(),
            year,
            energy_tce: tce,
            value_added: va,
        }
    }

    fn row<'a>(rows: &'a [IntensityRow], level: Level, key: &str, year: i32) -> &'a IntensityRow {
        rows.iter()
            .find(|r| r.level == level && r.key == key && r.year == year)
            .unwrap()
    }

    /// Worked by hand:
    ///
    /// | | 2022 tce / VA | 2023 tce / VA | 2024 tce / VA |
    /// |---|---|---|---|
    /// | E1 (320505) | 100 / 200 | 90 / 200 | 80 / 200 |
    /// | E2 (320506) | — | 50 / 100 | 60 / 150 |
    /// | E3 (320506) | — | — | 30 / 0 (no VA: left out) |
    ///
    /// City 2024: (80 + 60) ÷ (200 + 150) = 0.4. Against 2023, like for like (E1, E2):
    /// 2023 = (90 + 50) ÷ (200 + 100) = 0.466667, so 0.4 ÷ 0.466667 − 1 = −0.142857.
    /// Against the base year 2022 (E1 only): 2022 = 0.5, 2024 = 0.4: −0.2.
    /// Target 2024: at most −0.10 against 2023 and −0.25 against 2022: the first holds, the
    /// second does not, so not met.
    #[test]
    fn intensities_and_changes_worked_by_hand() {
        let data = [
            e(1, "320505", 2022, 100.0, 200.0),
            e(1, "320505", 2023, 90.0, 200.0),
            e(1, "320505", 2024, 80.0, 200.0),
            e(2, "320506", 2023, 50.0, 100.0),
            e(2, "320506", 2024, 60.0, 150.0),
            e(3, "320506", 2024, 30.0, 0.0),
        ];
        let targets = [IntensityTarget {
            year: 2024,
            max_change_vs_previous: Some(-0.10),
            max_change_vs_base: Some(-0.25),
        }];
        let rows = intensity(&data, &[2023, 2024], Some(2022), &targets);
        let city = row(&rows, Level::City, "city", 2024);
        assert_eq!(city.enterprises, 2);
        assert!((city.intensity.unwrap() - 0.4).abs() < 1e-12);
        assert!((city.change_vs_previous.unwrap() - (0.4 / (140.0 / 300.0) - 1.0)).abs() < 1e-12);
        assert!((city.change_vs_previous.unwrap() + 0.142857).abs() < 1e-6);
        assert!((city.change_vs_base.unwrap() + 0.2).abs() < 1e-12);
        assert_eq!(city.target_met, Some(false));
        // E2's district: 2024 60 ÷ 150 = 0.4 against 2023 50 ÷ 100 = 0.5: −0.2; no base (E2
        // has no 2022), so the target cannot be judged.
        let d = row(&rows, Level::District, "320506", 2024);
        assert!((d.change_vs_previous.unwrap() + 0.2).abs() < 1e-12);
        assert_eq!(d.change_vs_base, None);
        assert_eq!(d.target_met, None);
        // An enterprise: E1 2024 against 2023: 0.4 ÷ 0.45 − 1.
        let e1 = row(&rows, Level::Enterprise, &test_uscc(1).to_string(), 2024);
        assert!((e1.change_vs_previous.unwrap() - (0.4 / 0.45 - 1.0)).abs() < 1e-12);
        // 2023 has no target: nothing judged.
        assert_eq!(row(&rows, Level::City, "city", 2023).target_met, None);
    }

    #[test]
    fn an_enterprise_without_value_added_counts_nowhere() {
        let rows = intensity(&[e(3, "320506", 2024, 30.0, 0.0)], &[2024], None, &[]);
        assert!(rows.is_empty());
    }

    proptest::proptest! {
        /// Doubling every enterprise's energy doubles every intensity and leaves every change
        /// as it was (changes are ratios of ratios).
        #[test]
        fn scaling_energy_scales_intensity_not_its_change(
            figures in proptest::collection::vec((1.0f64..1e4, 1.0f64..1e5, 1.0f64..1e4, 1.0f64..1e5), 1..20),
        ) {
            let data: Vec<EnergyYear> = figures
                .iter()
                .enumerate()
                .flat_map(|(n, (t0, v0, t1, v1))| {
                    let district = if n % 2 == 0 { "320505" } else { "320506" };
                    [e(n, district, 2023, *t0, *v0), e(n, district, 2024, *t1, *v1)]
                })
                .collect();
            let doubled: Vec<EnergyYear> = data
                .iter()
                .map(|x| EnergyYear { energy_tce: x.energy_tce * 2.0, ..x.clone() })
                .collect();
            let a = intensity(&data, &[2024], None, &[]);
            let b = intensity(&doubled, &[2024], None, &[]);
            proptest::prop_assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                let (ix, iy) = (x.intensity.unwrap(), y.intensity.unwrap());
                proptest::prop_assert!((iy - 2.0 * ix).abs() <= 1e-9 * iy.abs());
                let (cx, cy) = (x.change_vs_previous.unwrap(), y.change_vs_previous.unwrap());
                proptest::prop_assert!((cx - cy).abs() <= 1e-9 * (1.0 + cx.abs()));
            }
        }
    }
}
