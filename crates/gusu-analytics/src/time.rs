//! Reading timestamps: local time in Asia/Shanghai unless the text carries an offset, and the
//! calendar month a reading counts towards.

use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Asia::Shanghai;

/// Microseconds since the Unix epoch (UTC) of a timestamp written in a file.
///
/// Accepted: `2024-03-01 01:00[:00[.fff]]`, with `T` or a space between date and time, optionally
/// followed by `Z` or an offset (`+08:00`, `+0800`, `-05:00`). Without one, the time is local time in
/// Asia/Shanghai (no daylight saving since 1991; an ambiguous or skipped local time of the 1986–1991
/// summers is refused rather than guessed).
pub fn parse_ts(raw: &str) -> Result<i64, String> {
    let text = raw.trim();
    if let Some(micros) = fast_local(text) {
        return Ok(micros);
    }
    if text.len() < 16 {
        return Err(format!(
            "“{text}” is not a date and time (YYYY-MM-DD HH:MM[:SS])"
        ));
    }
    let mut normal = text.to_string();
    if normal.as_bytes()[10] == b' ' {
        normal.replace_range(10..11, "T");
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(&normal) {
        return Ok(dt.timestamp_micros());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(&normal, format) {
            return Ok(dt.timestamp_micros());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&normal, format) {
            return local_micros(naive);
        }
    }
    Err(format!(
        "“{text}” is not a date and time (YYYY-MM-DD HH:MM[:SS], optional offset such as +08:00)"
    ))
}

/// China has kept UTC+08:00 all year since 1992 (the last summer time was 1991).
const FIXED_OFFSET_FROM_YEAR: i32 = 1992;
const EIGHT_HOURS_MICROS: i64 = 8 * 3_600_000_000;

/// The common case without chrono's format parser: `YYYY-MM-DD HH:MM[:SS]` (or `T`), no offset,
/// no fraction, from 1992 on, where Asia/Shanghai is a fixed UTC+08:00. `None` for anything else,
/// which the general path then reads (and refuses with its message when wrong).
fn fast_local(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if !(b.len() == 16 || b.len() == 19) {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') || b[13] != b':' {
        return None;
    }
    let second = if b.len() == 19 {
        if b[16] != b':' {
            return None;
        }
        digits(17, 19)?
    } else {
        0
    };
    let year = digits(0, 4)? as i32;
    if year < FIXED_OFFSET_FROM_YEAR {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(year, digits(5, 7)?, digits(8, 10)?)?;
    let time = date.and_hms_opt(digits(11, 13)?, digits(14, 16)?, second)?;
    Some(time.and_utc().timestamp_micros() - EIGHT_HOURS_MICROS)
}

/// A local Asia/Shanghai wall-clock time as microseconds since the epoch.
pub fn local_micros(naive: NaiveDateTime) -> Result<i64, String> {
    match Shanghai.from_local_datetime(&naive) {
        LocalResult::Single(dt) => Ok(dt.timestamp_micros()),
        LocalResult::Ambiguous(..) => Err(format!(
            "{naive} is ambiguous in Asia/Shanghai (summer time ended); write the offset"
        )),
        LocalResult::None => Err(format!(
            "{naive} did not exist in Asia/Shanghai (summer time began); write the offset"
        )),
    }
}

/// The (year, month) in Asia/Shanghai that a reading ending at `ts_micros` counts towards.
///
/// A value is the consumption of the interval that *ends* at its timestamp, so a reading stamped at
/// exactly midnight on the 1st belongs to the previous month: the instant one microsecond before
/// the end decides.
pub fn accounting_month(ts_micros: i64) -> (i32, u32) {
    let instant = DateTime::from_timestamp_micros(ts_micros - 1).unwrap_or_default();
    let local = instant.with_timezone(&Shanghai);
    (local.year(), local.month())
}

/// [`accounting_month`] remembering the last month's bounds: readings of a file mostly fall in the
/// month of the reading before, and a range check is much cheaper than a time-zone conversion.
#[derive(Debug, Default, Clone)]
pub struct MonthCache {
    /// `(after, through, month)`: readings with `after < ts <= through` count towards `month`.
    last: Option<(i64, i64, (i32, u32))>,
}

impl MonthCache {
    pub fn month(&mut self, ts_micros: i64) -> (i32, u32) {
        if let Some((after, through, month)) = self.last
            && after < ts_micros
            && ts_micros <= through
        {
            return month;
        }
        let month = accounting_month(ts_micros);
        self.last = month_bounds(month).map(|(after, through)| (after, through, month));
        month
    }
}

/// The instants of local midnight on the 1st of a month and of the next month.
fn month_bounds((year, month): (i32, u32)) -> Option<(i64, i64)> {
    let start = chrono::NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let end = chrono::NaiveDate::from_ymd_opt(ny, nm, 1)?.and_hms_opt(0, 0, 0)?;
    Some((local_micros(start).ok()?, local_micros(end).ok()?))
}

/// A timestamp as local Asia/Shanghai text with its offset, for reports.
pub fn format_local(ts_micros: i64) -> String {
    DateTime::from_timestamp_micros(ts_micros)
        .map(|t| {
            t.with_timezone(&Shanghai)
                .format("%Y-%m-%d %H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_else(|| ts_micros.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-03-01 00:00:00 +08:00 = 2024-02-29 16:00:00 UTC = 1709222400 s since the epoch.
    const MARCH_1_LOCAL_MIDNIGHT: i64 = 1_709_222_400_000_000;

    #[test]
    fn local_time_is_shanghai_and_offsets_are_honoured() {
        assert_eq!(parse_ts("2024-03-01 00:00:00"), Ok(MARCH_1_LOCAL_MIDNIGHT));
        assert_eq!(parse_ts("2024-03-01T00:00"), Ok(MARCH_1_LOCAL_MIDNIGHT));
        assert_eq!(
            parse_ts("2024-03-01T00:00:00+08:00"),
            Ok(MARCH_1_LOCAL_MIDNIGHT)
        );
        assert_eq!(
            parse_ts("2024-03-01 00:00:00+0800"),
            Ok(MARCH_1_LOCAL_MIDNIGHT)
        );
        assert_eq!(parse_ts("2024-02-29T16:00:00Z"), Ok(MARCH_1_LOCAL_MIDNIGHT));
        // 00:00 at UTC+01:00 is 23:00 UTC the day before = 07:00 local on 1 March.
        assert_eq!(
            parse_ts("2024-03-01T00:00:00+01:00"),
            Ok(MARCH_1_LOCAL_MIDNIGHT + 7 * 3_600_000_000)
        );
    }

    #[test]
    fn bad_timestamps_are_refused_with_the_text() {
        assert!(
            parse_ts("2024-13-01 00:00")
                .unwrap_err()
                .contains("2024-13-01")
        );
        assert!(parse_ts("yesterday").is_err());
        assert!(parse_ts("").is_err());
    }

    #[test]
    fn a_reading_at_midnight_on_the_first_counts_towards_the_previous_month() {
        assert_eq!(accounting_month(MARCH_1_LOCAL_MIDNIGHT), (2024, 2));
        assert_eq!(accounting_month(MARCH_1_LOCAL_MIDNIGHT + 1), (2024, 3));
        assert_eq!(
            accounting_month(MARCH_1_LOCAL_MIDNIGHT + 3_600_000_000),
            (2024, 3)
        );
    }

    #[test]
    fn the_fast_path_agrees_with_chrono_tz_every_17_hours_for_ten_years() {
        let start = chrono::NaiveDate::from_ymd_opt(2019, 12, 31)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let mut months = MonthCache::default();
        for step in 0..(10 * 365 * 24 / 17) {
            let t = start + chrono::TimeDelta::minutes(step * 17 * 60 + step % 60);
            for text in [
                t.format("%Y-%m-%d %H:%M:%S").to_string(),
                t.format("%Y-%m-%dT%H:%M").to_string(),
            ] {
                let slow = local_micros(
                    NaiveDateTime::parse_from_str(
                        &text.replace('T', " "),
                        if text.len() == 16 {
                            "%Y-%m-%d %H:%M"
                        } else {
                            "%Y-%m-%d %H:%M:%S"
                        },
                    )
                    .unwrap(),
                )
                .unwrap();
                assert_eq!(fast_local(&text), Some(slow), "{text}");
                assert_eq!(parse_ts(&text), Ok(slow));
                assert_eq!(months.month(slow), accounting_month(slow), "{text}");
            }
        }
        // Not for the fast path: offsets, fractions, the summer-time years, impossible dates.
        assert_eq!(fast_local("2024-03-01 00:00:00+08:00"), None);
        assert_eq!(fast_local("2024-03-01 00:00:00.5"), None);
        assert_eq!(fast_local("1988-04-17 02:30"), None);
        assert_eq!(fast_local("2024-02-30 06:00"), None);
        assert!(parse_ts("2024-02-30 06:00").is_err());
    }

    #[test]
    fn the_month_cache_switches_exactly_at_local_midnight() {
        let mut months = MonthCache::default();
        assert_eq!(months.month(MARCH_1_LOCAL_MIDNIGHT + 1), (2024, 3));
        assert_eq!(months.month(MARCH_1_LOCAL_MIDNIGHT), (2024, 2));
        assert_eq!(months.month(MARCH_1_LOCAL_MIDNIGHT + 1), (2024, 3));
        assert_eq!(months.month(MARCH_1_LOCAL_MIDNIGHT - 1), (2024, 2));
    }

    #[test]
    fn summer_time_of_1988_is_refused_without_an_offset() {
        // Clocks went forward on 1988-04-17 02:00 → 03:00 in China.
        assert!(parse_ts("1988-04-17 02:30").is_err());
        assert!(parse_ts("1988-04-17 02:30+08:00").is_ok());
    }
}
