//! The city itself: enterprises and the figures of each year, before any department writes them down.
//!
//! One ChaCha8 stream, seeded from the configuration, is consumed in a fixed order (enterprise by
//! enterprise, then year by year), so the same seed gives the same city on any machine. Sets are only
//! asked for membership, never iterated.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate};
use gusu_core::{Enterprise, Figure, Figures, Uscc, YearlyRecord};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::names::NameMaker;
use crate::profile::{
    ABOVE_SCALE_REVENUE, DISTRICTS, DistrictProfile, ELECTRICITY_CALORIFIC_KGCE,
    ELECTRICITY_EQUIVALENT_KGCE, OUTSIDE_REGISTRARS, OUTSIDE_SHARE, PROFILES, Profile,
};
use crate::{City, DemoConfig};

/// Share of enterprises above designated size the city aims at.
pub(crate) const ABOVE_SCALE_SHARE: f64 = 0.35;
/// Share of below-size enterprises the statistics bureau surveys (the rest only appear in the tax,
/// power and environment files).
pub(crate) const BELOW_SCALE_SURVEYED: f64 = 0.30;
/// Share of enterprises established within the last two years of the configuration (not graded).
pub(crate) const RECENT_SHARE: f64 = 0.03;
/// Share of enterprises that close during the configured years (records stop).
pub(crate) const CLOSING_SHARE: f64 = 0.025;
/// Probability that a cell a department would fill is blank.
pub(crate) const BLANK_SHARE: f64 = 0.01;
/// Share of enterprises the bureau exempts by list (不参评), e.g. relocation in progress.
pub(crate) const EXEMPT_LIST_SHARE: f64 = 0.003;
/// Share of enterprises whose register entry only gives the 2-digit division.
pub(crate) const DIVISION_ONLY_SHARE: f64 = 0.03;
/// The earliest founding year.
const FIRST_FOUNDING_YEAR: i32 = 1985;

/// Draws an index with probability proportional to its weight. Sums are formed in a fixed order,
/// so the draw is reproducible.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect::<Vec<_>>();
        assert!(total > 0.0, "at least one weight must be positive");
        Weighted { cumulative }
    }

    pub fn pick<R: RngExt>(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let x = rng.random::<f64>() * total;
        // First index whose cumulative weight exceeds x (zero weights are never picked).
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len() - 1)
    }
}

/// A standard normal draw.
fn normal<R: RngExt>(rng: &mut R) -> f64 {
    rng.sample(StandardNormal)
}

pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// Years of a configuration, sorted and without repeats.
pub(crate) fn years_of(config: &DemoConfig) -> Vec<i32> {
    let mut years = config.years.clone();
    years.sort_unstable();
    years.dedup();
    assert!(
        !years.is_empty(),
        "DemoConfig::years must name at least one year"
    );
    years
}

/// What stays fixed about an enterprise across years: its size, habits and what departments know.
struct Traits {
    above_scale: bool,
    surveyed: bool,
    /// Revenue in the first year it has a record, 万元.
    base_revenue: f64,
    va_share: f64,
    tax_rate: f64,
    /// 0 = pays normally, 1 = pays nothing, 2 = gets a refund.
    tax_kind: u8,
    energy_intensity: f64,
    electricity_share: f64,
    rd_share: f64,
    /// Revenue per employee, 万元.
    productivity: f64,
    main_share: f64,
    /// Wastewater: COD per 万元 revenue, NH3-N per t COD, the least COD a plant discharges (t).
    /// None when not reported.
    water: Option<(f64, f64, f64)>,
    /// Flue gas: SO₂ and NOx per tce of fuel, the least NOx a boiler emits (t). None when not
    /// reported.
    air: Option<(f64, f64, f64)>,
    /// Personal trend added to each year's growth.
    drift: f64,
}

pub(crate) fn generate(config: &DemoConfig) -> City {
    let years = years_of(config);
    let first_year = years[0];
    let last_year = *years.last().expect("non-empty");
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);

    let district_pick = Weighted::new(DISTRICTS.iter().map(|d| d.weight));
    let division_picks: Vec<Weighted> = DISTRICTS
        .iter()
        .map(|d| {
            Weighted::new(
                PROFILES
                    .iter()
                    .map(|p| p.weight * speciality(d, p.division)),
            )
        })
        .collect();
    // Scale the per-division probabilities so the city as a whole lands on its target share: the
    // expected probability over the district and division mix, less the young enterprises' discount.
    let district_total: f64 = DISTRICTS.iter().map(|d| d.weight).sum();
    let mean_above: f64 = DISTRICTS
        .iter()
        .map(|d| {
            let weights = PROFILES
                .iter()
                .map(|p| p.weight * speciality(d, p.division));
            let total: f64 = weights.clone().sum();
            let mean = weights
                .zip(PROFILES)
                .map(|(w, p)| w * p.above_scale)
                .sum::<f64>()
                / total;
            d.weight / district_total * mean
        })
        .sum();
    let above_calibration = ABOVE_SCALE_SHARE / mean_above / (1.0 - RECENT_SHARE * 0.7);

    let n = config.enterprises;
    let mut names = NameMaker::with_capacity(n);
    let mut codes: HashSet<String> = HashSet::with_capacity(n);
    let mut enterprises = Vec::with_capacity(n);
    let mut by_year: Vec<Vec<YearlyRecord>> = years.iter().map(|_| Vec::with_capacity(n)).collect();

    for _ in 0..n {
        let slot = district_pick.pick(&mut rng);
        let district = &DISTRICTS[slot];
        let profile = &PROFILES[division_picks[slot].pick(&mut rng)];
        let established = founding_date(&mut rng, last_year);
        let recent = established.year() >= last_year - 1;
        let p_above = profile.above_scale * above_calibration * if recent { 0.3 } else { 1.0 };
        let above_scale = rng.random_bool(p_above.clamp(0.0, 0.95));

        let uscc = new_uscc(&mut rng, &mut codes, district, established);
        let prefix = district.name_prefixes[rng.random_range(0..district.name_prefixes.len())];
        let name = names.make(&mut rng, prefix, profile, above_scale);
        let class = profile.classes[rng.random_range(0..profile.classes.len())];
        let industry_code = if rng.random_bool(DIVISION_ONLY_SHARE) {
            profile.division
        } else {
            class
        };

        // One latent size drives both land and revenue: bigger plants sell more, but not
        // proportionally, which is what makes per-mu output differ between enterprises.
        let size: f64 = normal(&mut rng);
        let land_z = 0.7 * size + 0.71 * normal(&mut rng);
        let revenue_z = 0.7 * size + 0.71 * normal(&mut rng);
        let land = if above_scale {
            40.0 * profile.land * (0.8 * land_z).exp()
        } else {
            8.0 * profile.land.sqrt() * (0.75 * land_z).exp()
        };
        let land_area_mu = (!rng.random_bool(BLANK_SHARE)).then(|| round_to(land.max(0.3), 2));
        let exempt = rng.random_bool(EXEMPT_LIST_SHARE);

        let traits = traits(&mut rng, profile, above_scale, revenue_z);

        // Life cycle: from the founding year (or the first configured year) until it closes.
        let first_present = first_year.max(established.year());
        let later: Vec<i32> = years
            .iter()
            .copied()
            .filter(|&y| y > first_present)
            .collect();
        let closes = if !later.is_empty() && rng.random_bool(CLOSING_SHARE) {
            Some(later[rng.random_range(0..later.len())])
        } else {
            None
        };

        let mut revenue = traits.base_revenue;
        let mut intensity = traits.energy_intensity;
        let mut productivity = traits.productivity;
        let mut previous: Option<i32> = None;
        for (slot, &year) in years.iter().enumerate() {
            if year < first_present || closes.is_some_and(|c| year >= c) {
                continue;
            }
            if let Some(prev) = previous {
                // Each step between configured years is one year of growth per calendar year.
                for _ in prev..year {
                    let g: f64 = rng.random_range(-0.10..0.20) + traits.drift;
                    revenue *= 1.0 + g.clamp(-0.15, 0.25);
                    intensity *= 1.0 + rng.random_range(-0.08..0.02);
                    productivity *= 1.0 + rng.random_range(0.0..0.06);
                }
            }
            previous = Some(year);
            let figures = year_figures(&mut rng, &traits, revenue, intensity, productivity);
            let mut record = YearlyRecord::new(uscc, year);
            record.figures = figures;
            by_year[slot].push(record);
        }

        enterprises.push(Enterprise {
            uscc,
            name,
            district: district.code.to_string(),
            industry_code: industry_code.to_string(),
            division: profile.division.to_string(),
            land_area_mu,
            above_scale,
            established,
            exempt,
        });
    }

    City {
        enterprises,
        records: by_year.into_iter().flatten().collect(),
    }
}

fn speciality(district: &DistrictProfile, division: &str) -> f64 {
    district
        .specialities
        .iter()
        .find(|(d, _)| *d == division)
        .map_or(1.0, |(_, m)| *m)
}

/// Founding dates from 1985 on, more of them in later years (the city kept attracting plants), with
/// a fixed share in the last two years so the "established less than two years ago" exemption bites.
fn founding_date<R: RngExt>(rng: &mut R, last_year: i32) -> NaiveDate {
    let (from, days) = if rng.random_bool(RECENT_SHARE) {
        let from = NaiveDate::from_ymd_opt(last_year - 1, 1, 1).expect("valid year");
        (from, days_between(from, last_year))
    } else {
        let end_year = (last_year - 2).max(FIRST_FOUNDING_YEAR);
        let span = (end_year - FIRST_FOUNDING_YEAR + 1) as f64;
        let year = FIRST_FOUNDING_YEAR + (span * rng.random::<f64>().sqrt()).floor() as i32;
        let year = year.min(end_year);
        let from = NaiveDate::from_ymd_opt(year, 1, 1).expect("valid year");
        (from, days_between(from, year))
    };
    from + Days::new(rng.random_range(0..days))
}

/// Days from `from` to the end of `to_year`, inclusive.
fn days_between(from: NaiveDate, to_year: i32) -> u64 {
    let end = NaiveDate::from_ymd_opt(to_year, 12, 31).expect("valid year");
    (end - from).num_days() as u64 + 1
}

/// A new USCC: type 91 (company), the registration authority's division, an organisation code, the
/// check character. Codes issued since the 2015 reform start "MA"; older ones carry the enterprise's
/// former 9-character organisation code (GB 11714) with its own check digit.
fn new_uscc<R: RngExt>(
    rng: &mut R,
    codes: &mut HashSet<String>,
    district: &DistrictProfile,
    established: NaiveDate,
) -> Uscc {
    const ALPHABET: &[u8] = gusu_core::uscc::ALPHABET;
    loop {
        let registrar = if rng.random_bool(OUTSIDE_SHARE) {
            OUTSIDE_REGISTRARS[rng.random_range(0..OUTSIDE_REGISTRARS.len())]
        } else if let Some((code, until)) = district.historic
            && established.year() < until
            && rng.random_bool(0.8)
        {
            code
        } else {
            let roll: f64 = rng.random();
            let mut acc = 0.0;
            let mut chosen = district.code;
            for (code, share) in district.registrars {
                acc += share;
                if roll < acc {
                    chosen = code;
                    break;
                }
            }
            chosen
        };
        let mut body = String::with_capacity(18);
        body.push_str("91");
        body.push_str(registrar);
        if established.year() >= 2016 {
            body.push_str("MA");
            for _ in 0..7 {
                body.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
            }
        } else {
            body.push_str(&old_organisation_code(rng));
        }
        let uscc = Uscc::with_check_character(&body).expect("generated from the alphabet");
        if codes.insert(uscc.as_str().to_string()) {
            return uscc;
        }
    }
}

/// An organisation code of GB 11714-1997: 8 digits and a check character (0-9 or X).
fn old_organisation_code<R: RngExt>(rng: &mut R) -> String {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let digits: Vec<u32> = (0..8).map(|_| rng.random_range(0..10)).collect();
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from_digit(c, 10).expect("below 10"),
    };
    let mut code: String = digits
        .iter()
        .map(|&d| char::from_digit(d, 10).expect("digit"))
        .collect();
    code.push(check);
    code
}

fn traits<R: RngExt>(
    rng: &mut R,
    profile: &'static Profile,
    above_scale: bool,
    revenue_z: f64,
) -> Traits {
    let base_revenue = if above_scale {
        ABOVE_SCALE_REVENUE + 8000.0 * profile.scale * (1.2 * revenue_z).exp()
    } else {
        let r = 500.0 * (0.9 * revenue_z).exp();
        if r < ABOVE_SCALE_REVENUE * 0.99 {
            r
        } else {
            // Folded back under the threshold rather than clamped, so there is no pile-up at 2000.
            ABOVE_SCALE_REVENUE * rng.random_range(0.3..0.99)
        }
    };
    let surveyed = above_scale || rng.random_bool(BELOW_SCALE_SURVEYED);
    let (zero_tax, refund) = if above_scale {
        (0.015, 0.004)
    } else {
        (0.05, 0.006)
    };
    let roll: f64 = rng.random();
    let tax_kind = if roll < zero_tax {
        1
    } else if roll < zero_tax + refund {
        2
    } else {
        0
    };
    let rd_share = if rng.random_bool(if above_scale { 0.25 } else { 0.6 }) {
        0.0
    } else {
        profile.rd_max * rng.random::<f64>().powf(1.5)
    };
    let productivity = if above_scale {
        120.0 * profile.scale.powf(0.3) * (0.5 * normal(rng)).exp()
    } else {
        50.0 * (0.5 * normal(rng)).exp()
    };

    // The environment bureau lists the heavy polluters and a few others with permits.
    let p_reports = profile.reports_emissions * if above_scale { 1.0 } else { 0.35 };
    let (mut water, mut air) = (None, None);
    // Whoever is on the list runs real equipment: a boiler or a treatment plant emits tenths of a
    // tonne a year at least, growing with the plant. Without this floor a light manufacturer would
    // report grams and its tax per pollution load would dwarf everyone's.
    let plant = (base_revenue / 5000.0).powf(0.4);
    if rng.random_bool(p_reports) {
        if profile.cod_per_revenue > 0.0 && rng.random_bool(0.9) {
            water = Some((
                profile.cod_per_revenue * (0.8 * normal(rng)).exp(),
                rng.random_range(0.05..0.15),
                0.8 * plant * (0.7 * normal(rng)).exp(),
            ));
        }
        if (profile.so2_per_fuel > 0.0 || profile.nox_per_fuel > 0.0)
            && (water.is_none() || rng.random_bool(0.85))
        {
            // A plant burning only natural gas reports no SO₂.
            let so2 = if rng.random_bool(0.2) {
                0.0
            } else {
                profile.so2_per_fuel * (0.6 * normal(rng)).exp()
            };
            air = Some((
                so2,
                profile.nox_per_fuel * (0.6 * normal(rng)).exp(),
                0.3 * plant * (0.7 * normal(rng)).exp(),
            ));
        }
    }

    Traits {
        above_scale,
        surveyed,
        base_revenue,
        va_share: rng.random_range(profile.va_share.0..profile.va_share.1),
        tax_rate: rng.random_range(profile.tax_rate.0..profile.tax_rate.1),
        tax_kind,
        energy_intensity: profile.energy_intensity * (0.6 * normal(rng)).exp(),
        electricity_share: (profile.electricity_share + 0.08 * normal(rng)).clamp(0.03, 0.99),
        rd_share,
        productivity,
        main_share: 1.0 - 0.2 * rng.random::<f64>().powi(2),
        water,
        air,
        drift: 0.03 * normal(rng),
    }
}

/// The figures departments report for one year, with the blanks they leave.
fn year_figures<R: RngExt>(
    rng: &mut R,
    t: &Traits,
    revenue: f64,
    intensity: f64,
    productivity: f64,
) -> Figures {
    let value_added = revenue * t.va_share * rng.random_range(0.95..1.05);
    let tax_yuan = match t.tax_kind {
        0 => (revenue * t.tax_rate * rng.random_range(0.9..1.1) * 10_000.0).round(),
        1 => 0.0,
        _ => -(revenue * rng.random_range(0.001..0.01) * 10_000.0).round(),
    };
    let energy = round_to((value_added * intensity).max(0.1), 2);
    let kwh = (energy * t.electricity_share / ELECTRICITY_CALORIFIC_KGCE * 1000.0).round();
    // The equivalent basis counts electricity at the coal burnt to make it (GB/T 2589-2020).
    let energy_equivalent = round_to(
        energy + kwh * (ELECTRICITY_EQUIVALENT_KGCE - ELECTRICITY_CALORIFIC_KGCE) / 1000.0,
        2,
    );
    let fuel = energy * (1.0 - t.electricity_share);

    let mut f = Figures::default();
    // Revenue comes from the statistics bureau, or from the tax file for the enterprises it does
    // not survey; the other business figures exist only where the bureau surveys.
    put(&mut f, Figure::Revenue, round_to(revenue, 2), rng);
    if t.surveyed {
        put(
            &mut f,
            Figure::MainRevenue,
            round_to(revenue * t.main_share, 2),
            rng,
        );
        put(&mut f, Figure::ValueAdded, round_to(value_added, 2), rng);
        put(&mut f, Figure::EnergyTce, energy, rng);
        put(&mut f, Figure::EnergyTceEquivalent, energy_equivalent, rng);
        put(
            &mut f,
            Figure::RdExpense,
            round_to(revenue * t.rd_share, 2),
            rng,
        );
        let employees = (revenue / productivity).round().max(1.0);
        put(&mut f, Figure::Employees, employees, rng);
        if !t.above_scale && STATS_ONLY.iter().all(|&g| f.get(g).is_none()) {
            // A surveyed enterprise must show in the statistics file: keep one figure.
            f.set(Figure::Employees, Some(employees));
        }
    }
    put(&mut f, Figure::TaxPaid, tax_yuan / 10_000.0, rng);
    put(&mut f, Figure::ElectricityKwh, kwh, rng);
    if let Some((cod_per_revenue, nh3_per_cod, least)) = t.water {
        let cod = (revenue * cod_per_revenue).max(least * rng.random_range(0.9..1.1));
        put(&mut f, Figure::Cod, round_to(cod, 3), rng);
        put(
            &mut f,
            Figure::AmmoniaN,
            round_to(cod * nh3_per_cod, 3),
            rng,
        );
    }
    if let Some((so2, nox, least)) = t.air {
        let least = least * rng.random_range(0.9..1.1);
        // Gas-only plants (so2 = 0) report a true zero, not a floor.
        let so2 = if so2 > 0.0 {
            (fuel * so2).max(0.2 * least)
        } else {
            0.0
        };
        put(&mut f, Figure::So2, round_to(so2, 3), rng);
        put(
            &mut f,
            Figure::Nox,
            round_to((fuel * nox).max(least), 3),
            rng,
        );
    }
    f
}

/// Sets a figure, unless the department leaves the cell blank.
fn put<R: RngExt>(f: &mut Figures, figure: Figure, value: f64, rng: &mut R) {
    if !rng.random_bool(BLANK_SHARE) {
        f.set(figure, Some(value));
    }
}

/// Figures only the statistics bureau reports.
pub(crate) const STATS_ONLY: [Figure; 6] = [
    Figure::MainRevenue,
    Figure::ValueAdded,
    Figure::EnergyTce,
    Figure::EnergyTceEquivalent,
    Figure::RdExpense,
    Figure::Employees,
];
