//! The demo city's energy file and a small set of daily electricity readings (issue 4).
//!
//! - [`write_energy`] writes `{year}_energy.csv` (`uscc,year,carrier,quantity,unit,
//!   enthalpy_kj_per_kg`) as the statistics bureau's energy survey would: every enterprise's
//!   electricity as billed, and for the energy-intensive divisions the fuels that make up the rest
//!   of its comprehensive energy consumption (`energy_tce` − electricity × 0.1229 kgce/kWh), split
//!   by the division's typical mix and converted with the published tce coefficients (so the
//!   accounted 当量值 energy equals the record's `energy_tce`), plus process CO₂ for cement and
//!   steel, and power and heat sent out by the utilities.
//! - [`write_daily_readings`] writes one electricity reading a day for a year for the given
//!   enterprises, adding up to their yearly electricity within a few per cent (the meters never
//!   match the bills exactly).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, NaiveDate, TimeDelta};
use gusu_core::Figure;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::City;

/// tce per kWh on the 当量值 basis (GB/T 2589).
const ELECTRICITY_TCE_PER_KWH: f64 = 0.000_122_9;

/// Measured enthalpy of the demo's purchased steam (saturated at about 1 MPa), kJ/kg.
const STEAM_ENTHALPY: f64 = 2_780.0;

/// A fuel of a division's mix: carrier, unit, share of the non-electric energy, tce per unit.
type Mix = &'static [(&'static str, &'static str, f64, f64)];

/// tce per t of the demo's steam: (2780 − 83.74) kJ/kg ÷ 1000 × 0.03412 tce/GJ.
const STEAM_TCE_PER_T: f64 = (STEAM_ENTHALPY - 83.74) / 1000.0 * 0.034_12;

/// The fuel mix of an energy-intensive division (GB/T 4754 two-digit code), `None` for the others.
fn mix(division: &str) -> Option<Mix> {
    Some(match division {
        // Petroleum, coking: refinery gas and fuel oil, some natural gas.
        "25" => &[
            ("refinery_gas", "t", 0.45, 1.5714),
            ("fuel_oil", "t", 0.35, 1.4286),
            ("natural_gas", "10k_nm3", 0.20, 13.3),
        ],
        // Chemicals: natural gas, purchased steam, coal.
        "26" => &[
            ("natural_gas", "10k_nm3", 0.45, 13.3),
            ("steam", "t", 0.35, STEAM_TCE_PER_T),
            ("raw_coal", "t", 0.20, 0.7143),
        ],
        // Non-metallic minerals (cement, glass): coal, natural gas, diesel for the yard.
        "30" => &[
            ("raw_coal", "t", 0.70, 0.7143),
            ("natural_gas", "10k_nm3", 0.25, 13.3),
            ("diesel", "t", 0.05, 1.4571),
        ],
        // Iron and steel: coke, coal, natural gas.
        "31" => &[
            ("coke", "t", 0.60, 0.9714),
            ("raw_coal", "t", 0.30, 0.7143),
            ("natural_gas", "10k_nm3", 0.10, 13.3),
        ],
        // Non-ferrous metals: natural gas, LPG, diesel.
        "32" => &[
            ("natural_gas", "10k_nm3", 0.75, 13.3),
            ("lpg", "t", 0.15, 1.7143),
            ("diesel", "t", 0.10, 1.4571),
        ],
        // Power and heat: coal and gas (power and heat sent out are written apart).
        "44" => &[
            ("raw_coal", "t", 0.80, 0.7143),
            ("natural_gas", "10k_nm3", 0.20, 13.3),
        ],
        _ => return None,
    })
}

/// Whether the demo writes fuels for a division.
pub fn energy_intensive(division: &str) -> bool {
    mix(division).is_some()
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Writes the energy file of `year`; returns the number of lines written.
pub fn write_energy(city: &City, year: i32, path: &Path) -> io::Result<usize> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"uscc,year,carrier,quantity,unit,enthalpy_kj_per_kg\n")?;
    let mut lines = 0usize;
    let mut line = |out: &mut BufWriter<File>,
                    uscc: &str,
                    carrier: &str,
                    q: f64,
                    unit: &str,
                    enthalpy: Option<f64>|
     -> io::Result<()> {
        lines += 1;
        let h = enthalpy.map(|h| h.to_string()).unwrap_or_default();
        writeln!(out, "{uscc},{year},{carrier},{q},{unit},{h}")
    };
    let records = city.records.iter().filter(|r| r.year == year);
    let divisions: std::collections::HashMap<_, _> = city
        .enterprises
        .iter()
        .map(|e| (e.uscc, e.division.as_str()))
        .collect();
    for r in records {
        let uscc = r.uscc.as_str();
        let kwh = r.figures.get(Figure::ElectricityKwh);
        if let Some(kwh) = kwh.filter(|k| *k > 0.0) {
            line(&mut out, uscc, "electricity", round(kwh, 0), "kwh", None)?;
        }
        let Some(mix) = divisions.get(&r.uscc).and_then(|d| mix(d)) else {
            continue;
        };
        let Some(tce) = r.figures.get(Figure::EnergyTce) else {
            continue;
        };
        let rest = tce - kwh.unwrap_or(0.0) * ELECTRICITY_TCE_PER_KWH;
        if rest <= 0.0 {
            continue;
        }
        for (carrier, unit, share, tce_per_unit) in mix {
            let q = round(rest * share / tce_per_unit, 3);
            if q > 0.0 {
                let enthalpy = (*carrier == "steam").then_some(STEAM_ENTHALPY);
                line(&mut out, uscc, carrier, q, unit, enthalpy)?;
            }
        }
        let division = divisions[&r.uscc];
        // Calcination in cement and lime, and fluxes in steel (about half and a tenth of the
        // combustion emissions): given directly in tCO₂, as a sector method would.
        let process_share = match division {
            "30" => Some(0.5),
            "31" => Some(0.1),
            _ => None,
        };
        if let Some(share) = process_share {
            // Combustion CO₂ of the mix per tce, roughly 2.6 t: enough for a plausible figure.
            line(
                &mut out,
                uscc,
                "process_co2",
                round(rest * 2.6 * share, 2),
                "tco2",
                None,
            )?;
        }
        if division == "44" {
            // A utility sends out most of what it generates: power (MWh) and heat (GJ).
            line(
                &mut out,
                uscc,
                "electricity_exported",
                round(rest * 2.5, 1),
                "mwh",
                None,
            )?;
            line(
                &mut out,
                uscc,
                "heat_exported",
                round(rest * 8.0, 1),
                "gj",
                None,
            )?;
        }
    }
    out.flush()?;
    Ok(lines)
}

/// Writes one electricity reading a day for `year` for each of `enterprises` (indexes into
/// `city.enterprises`), at local midnight ending the day; the day's value is the year's
/// electricity ÷ the days, shaped by a weekly rhythm and ±10 % noise, and an enterprise's meter
/// reads 0.97–1.03 of its bill in all. Returns the readings written.
pub fn write_daily_readings(
    city: &City,
    year: i32,
    enterprises: &[usize],
    seed: u64,
    path: &Path,
) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    out.write_all(b"uscc,meter_id,carrier,ts,value,unit\n")?;
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "year out of range"))?;
    let days = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xDA11_E1EC);
    let mut written = 0u64;
    for &i in enterprises {
        let e = &city.enterprises[i];
        let Some(kwh) = city
            .records
            .iter()
            .find(|r| r.uscc == e.uscc && r.year == year)
            .and_then(|r| r.figures.get(Figure::ElectricityKwh))
            .filter(|k| *k > 0.0)
        else {
            continue;
        };
        let drift = 0.97 + 0.06 * rng.random::<f64>();
        let daily = kwh * drift / f64::from(days);
        for d in 0..days {
            let day = start + TimeDelta::days(i64::from(d));
            // Weekends run at 60 %; the working days carry the rest, so a week averages 1.
            let weekday = day.weekday().num_days_from_monday();
            let shape = if weekday >= 5 { 0.6 } else { 1.16 };
            let noise = 0.9 + 0.2 * rng.random::<f64>();
            let value = round(daily * shape * noise, 2);
            // The reading at 24:00 (the next day's 00:00) covers the day.
            let ts = day + TimeDelta::days(1);
            writeln!(
                out,
                "{},D{i},electricity,{} 00:00:00,{value},kwh",
                e.uscc,
                ts.format("%Y-%m-%d")
            )?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuels written for an energy-intensive enterprise, converted back with the same
    /// coefficients, plus its electricity, give back its energy_tce (rounding aside).
    #[test]
    fn the_energy_file_adds_up_to_the_records() {
        let city = crate::generate(&crate::DemoConfig {
            enterprises: 400,
            seed: 3,
            years: vec![2024],
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        let n = write_energy(&city, 2024, &path).unwrap();
        assert!(n > 100, "{n}");
        let text = std::fs::read_to_string(&path).unwrap();
        let heavy = city
            .enterprises
            .iter()
            .find(|e| {
                energy_intensive(&e.division)
                    && city
                        .records
                        .iter()
                        .any(|r| r.uscc == e.uscc && r.figures.get(Figure::EnergyTce).is_some())
            })
            .expect("the demo has an energy-intensive enterprise with energy");
        let record = city.records.iter().find(|r| r.uscc == heavy.uscc).unwrap();
        let mut tce = 0.0;
        for l in text.lines().filter(|l| l.starts_with(heavy.uscc.as_str())) {
            let cells: Vec<&str> = l.split(',').collect();
            let q: f64 = cells[3].parse().unwrap();
            tce += match cells[2] {
                "electricity" => q * ELECTRICITY_TCE_PER_KWH,
                "process_co2" | "electricity_exported" | "heat_exported" => 0.0,
                c => {
                    let (_, _, _, per) = mix(&heavy.division)
                        .unwrap()
                        .iter()
                        .find(|(k, ..)| *k == c)
                        .unwrap();
                    q * per
                }
            };
        }
        let expected = record.figures.get(Figure::EnergyTce).unwrap();
        assert!(
            (tce - expected).abs() < 0.01 * expected.max(1.0),
            "{tce} vs {expected}"
        );
    }

    #[test]
    fn daily_readings_cover_the_year() {
        let city = crate::generate(&crate::DemoConfig {
            enterprises: 50,
            seed: 3,
            years: vec![2024],
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let with_power = (0..city.enterprises.len())
            .filter(|&i| {
                city.records.iter().any(|r| {
                    r.uscc == city.enterprises[i].uscc
                        && r.figures
                            .get(Figure::ElectricityKwh)
                            .is_some_and(|k| k > 0.0)
                })
            })
            .count() as u64;
        let n = write_daily_readings(
            &city,
            2024,
            &(0..city.enterprises.len()).collect::<Vec<_>>(),
            1,
            &path,
        )
        .unwrap();
        assert_eq!(n, with_power * 366, "2024 is a leap year");
    }
}
