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
    fn summer_time_of_1988_is_refused_without_an_offset() {
        // Clocks went forward on 1988-04-17 02:00 → 03:00 in China.
        assert!(parse_ts("1988-04-17 02:30").is_err());
        assert!(parse_ts("1988-04-17 02:30+08:00").is_ok());
    }
}
