//! `gusu demo --out DIR --readings N --readings-format parquet`: a large readings set written
//! straight into the Parquet dataset, for the billion-row benchmarks (a billion readings would be
//! about 65 GB of CSV).
//!
//! The readings are the CSV's (`gusu_demo::write_readings`): hour after hour from 01:00 on
//! 1 January, one per enterprise and hour, the first N in that order; each enterprise's mean hourly
//! load shaped by the hour of day, with ±20 % noise. The noise is drawn from a hash of (seed,
//! enterprise, hour) instead of one random stream, so the rows can be written in the dataset's
//! order (per month, by USCC, then time) and by two threads; the values therefore differ from
//! the CSV's for the same seed, the shape and totals do not.

use std::path::Path;

use gusu_analytics::ImportError;
use gusu_analytics::bulk::BulkWriter;
use gusu_analytics::time::{MonthCache, local_micros};
use gusu_core::carbon::Carrier;

const HOUR_MICROS: i64 = 3_600_000_000;

/// Writes `count` readings of `city` from `first_year` into the dataset under `data_dir`.
pub fn write_dataset(
    city: &gusu_demo::City,
    first_year: i32,
    count: u64,
    seed: u64,
    data_dir: &Path,
) -> Result<u64, ImportError> {
    let enterprises = city.enterprises.len() as u64;
    if enterprises == 0 || count == 0 {
        return Ok(0);
    }
    let mean_hourly = gusu_demo::mean_hourly_loads(city, first_year);
    let start = chrono::NaiveDate::from_ymd_opt(first_year, 1, 1)
        .and_then(|d| d.and_hms_opt(1, 0, 0))
        .and_then(|t| local_micros(t).ok())
        .expect("a year with a 1 January");
    // Hour h holds enterprises 0..E, except the last hour, cut at the count.
    let hours = count.div_ceil(enterprises) as i64;
    let mut months: Vec<(i64, i64)> = Vec::new();
    let mut cache = MonthCache::default();
    let mut current = None;
    for h in 0..hours {
        let month = cache.month(start + h * HOUR_MICROS);
        if current != Some(month) {
            months.push((h, h + 1));
            current = Some(month);
        } else if let Some(last) = months.last_mut() {
            last.1 = h + 1;
        }
    }
    let mut order: Vec<usize> = (0..city.enterprises.len()).collect();
    order.sort_by_key(|&i| city.enterprises[i].uscc.as_str().to_string());
    let meters: Vec<String> = (0..city.enterprises.len())
        .map(|i| format!("M{i}"))
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let write_months = |part: usize| -> Result<u64, ImportError> {
        let mut written = 0;
        for &(first, end) in months.iter().skip(part).step_by(threads) {
            let mut writer = BulkWriter::create(data_dir, true)?;
            for &i in &order {
                let uscc = city.enterprises[i].uscc;
                for h in first..end {
                    if h as u64 * enterprises + i as u64 >= count {
                        break;
                    }
                    let shape = gusu_demo::HOURLY_SHAPE[(h % 24) as usize];
                    let noise = 0.8 + 0.4 * unit_hash(seed, i as u64, h as u64);
                    let kwh = (mean_hourly[i] * shape * noise * 100.0).round() / 100.0;
                    let ts = start + h * HOUR_MICROS;
                    writer.append(uscc.as_str(), &meters[i], Carrier::Electricity, ts, kwh)?;
                }
            }
            written += writer.finish()?.1;
        }
        Ok(written)
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|part| scope.spawn(move || write_months(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread"))
            .sum::<Result<u64, ImportError>>()
    })
}

/// A number in [0, 1) from (seed, enterprise, hour): SplitMix64's finaliser over their mix.
fn unit_hash(seed: u64, enterprise: u64, hour: u64) -> f64 {
    let mut z = seed
        ^ enterprise.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ hour.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_n_readings_hour_by_hour_are_written_and_the_noise_is_within_20_percent() {
        let city = gusu_demo::generate(&gusu_demo::DemoConfig {
            enterprises: 5,
            seed: 3,
            years: vec![2024],
        });
        let dir = tempfile::tempdir().unwrap();
        // 5 enterprises: 30 full hours (150) and 2 enterprises of hour 31 = 152 readings, all in
        // January (01:00 on 1 January to 07:00 on 2 January).
        assert_eq!(write_dataset(&city, 2024, 152, 3, dir.path()).unwrap(), 152);
        let spill = tempfile::tempdir().unwrap();
        let totals = gusu_analytics::aggregate(
            dir.path(),
            64 << 20,
            spill.path(),
            gusu_analytics::Granularity::Month,
        )
        .unwrap();
        let counts: u64 = totals.iter().map(|t| t.readings).sum();
        assert_eq!(counts, 152);
        assert!(totals.iter().all(|t| t.month == Some(1)));
        let mean = gusu_demo::mean_hourly_loads(&city, 2024);
        let (first, second) = (city.enterprises[0].uscc, city.enterprises[1].uscc);
        for (i, u) in [(0, first), (1, second)] {
            let t = totals.iter().find(|t| t.uscc == u.as_str()).unwrap();
            assert_eq!(t.readings, 31);
            // 31 hours: shape factors of hours 1..24 (sum 24) then 1..7 again, times ±20 %.
            let shape: f64 = (0..31).map(|h| gusu_demo::HOURLY_SHAPE[h % 24]).sum();
            let expected = mean[i] * shape;
            assert!((t.total - expected).abs() <= 0.2 * expected + 0.01 * 31.0);
        }
        let u = unit_hash(1, 2, 3);
        assert!((0.0..1.0).contains(&u) && u != unit_hash(1, 2, 4));
    }
}
