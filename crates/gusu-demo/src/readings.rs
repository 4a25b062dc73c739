//! Hourly electricity readings for the demo city's enterprises, for benchmarks and demos: written
//! as a readings CSV (`uscc, meter_id, carrier, ts, value, unit`), streamed row by row so that a
//! billion readings need no more memory than ten.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use gusu_core::Figure;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::City;

/// Share of a day's mean load drawn in each local hour (a two-shift factory: low at night, high in
/// working hours); the 24 factors average to 1.
pub const HOURLY_SHAPE: [f64; 24] = [
    0.55, 0.5, 0.5, 0.5, 0.55, 0.65, 0.85, 1.1, 1.4, 1.45, 1.45, 1.4, 1.25, 1.4, 1.45, 1.45, 1.4,
    1.3, 1.05, 0.95, 0.85, 0.75, 0.65, 0.6,
];

/// Writes `count` hourly readings: hour after hour from 01:00 on 1 January of `first_year` (local
/// time, no offset written), one reading per enterprise and hour, enterprises in city order. An
/// enterprise's mean hourly load is its yearly electricity use of `first_year` / 8760 (1,000 kWh a
/// year when it has none), shaped by the hour of day and ±20 % noise. Deterministic for a seed.
pub fn write_readings(
    city: &City,
    first_year: i32,
    count: u64,
    seed: u64,
    path: &Path,
) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    out.write_all(b"uscc,meter_id,carrier,ts,value,unit\n")?;
    if city.enterprises.is_empty() || count == 0 {
        out.flush()?;
        return Ok(0);
    }
    let mean_hourly = mean_hourly_loads(city, first_year);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EAD_1265);
    let start: NaiveDateTime = NaiveDate::from_ymd_opt(first_year, 1, 1)
        .and_then(|d| d.and_hms_opt(1, 0, 0))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "year out of range"))?;
    let mut written = 0u64;
    let mut hour = 0i64;
    let mut line = String::with_capacity(96);
    'hours: loop {
        let ts = start + TimeDelta::hours(hour);
        let stamp = ts.format("%Y-%m-%d %H:00:00").to_string();
        // The reading at hh:00 covers the hour before it.
        let shape = HOURLY_SHAPE[(hour % 24) as usize];
        for (i, e) in city.enterprises.iter().enumerate() {
            if written == count {
                break 'hours;
            }
            let noise = 0.8 + 0.4 * rng.random::<f64>();
            let kwh = (mean_hourly[i] * shape * noise * 100.0).round() / 100.0;
            line.clear();
            line.push_str(e.uscc.as_str());
            line.push_str(",M");
            line.push_str(&i.to_string());
            line.push_str(",electricity,");
            line.push_str(&stamp);
            line.push(',');
            line.push_str(&kwh.to_string());
            line.push_str(",kwh\n");
            out.write_all(line.as_bytes())?;
            written += 1;
        }
        hour += 1;
    }
    out.flush()?;
    Ok(written)
}

/// Each enterprise's mean hourly load in kWh, in city order: its yearly electricity use of `year`
/// / 8760 (1,000 kWh a year when it has none).
pub fn mean_hourly_loads(city: &City, year: i32) -> Vec<f64> {
    let yearly: std::collections::HashMap<_, f64> = city
        .records
        .iter()
        .filter(|r| r.year == year)
        .filter_map(|r| Some((r.uscc, r.figures.get(Figure::ElectricityKwh)?)))
        .collect();
    city.enterprises
        .iter()
        .map(|e| yearly.get(&e.uscc).copied().unwrap_or(1_000.0) / 8_760.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DemoConfig, generate};

    #[test]
    fn writes_exactly_the_count_hour_after_hour() {
        let config = DemoConfig {
            enterprises: 3,
            seed: 7,
            years: vec![2024],
        };
        let city = generate(&config);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("readings.csv");
        assert_eq!(write_readings(&city, 2024, 7, 7, &path).unwrap(), 7);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8);
        assert_eq!(lines[0], "uscc,meter_id,carrier,ts,value,unit");
        // Three enterprises per hour: rows 1-3 at 01:00, 4-6 at 02:00, row 7 at 03:00.
        assert!(lines[1].contains(",2024-01-01 01:00:00,"));
        assert!(lines[4].contains(",2024-01-01 02:00:00,"));
        assert!(lines[7].contains(",2024-01-01 03:00:00,"));
        assert!(lines[7].starts_with(city.enterprises[0].uscc.as_str()));
        assert!(shape_averages_one());
    }

    fn shape_averages_one() -> bool {
        (HOURLY_SHAPE.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-9
    }
}
