//! One cell as read from a file, and the rules that turn its text into numbers, flags and dates.
//!
//! CSV cells are always text; XLSX cells keep their type (number, boolean, date), so a number typed
//! into Excel never goes through text and back.

use std::borrow::Cow;

use calamine::{CellErrorType, Data};
use chrono::NaiveDate;

/// A cell borrowed from its row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    /// Text as written (not yet trimmed).
    Text(&'a str),
    Number(f64),
    Bool(bool),
    /// An XLSX date cell: its serial value and, when it names a real day, that day.
    Date {
        serial: f64,
        date: Option<NaiveDate>,
    },
}

/// Texts that departments write for "nothing here".
const BLANK_MARKS: &[&str] = &["-", "—", "/", "无", "--", "——", "－", "／"];

/// True for text that counts as a blank cell: empty after trimming, or one of the blank marks.
pub(crate) fn is_blank_text(s: &str) -> bool {
    is_blank_trimmed(trim(s))
}

fn is_blank_trimmed(t: &str) -> bool {
    // The longest mark is 6 bytes (——): a figure or a name is compared with none of them.
    t.is_empty() || (t.len() <= 6 && BLANK_MARKS.contains(&t))
}

/// `str::trim`, without its Unicode scan for the usual cell that starts and ends with a visible
/// ASCII character (a figure, a code): such a cell has no white space at either end.
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

impl<'a> Cell<'a> {
    pub(crate) fn from_xlsx(data: &'a Data) -> Cell<'a> {
        match data {
            Data::Empty => Cell::Empty,
            Data::Int(i) => Cell::Number(*i as f64),
            Data::Float(f) => Cell::Number(*f),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
            Data::Bool(b) => Cell::Bool(*b),
            Data::DateTime(dt) => {
                let serial = dt.as_f64();
                // Only serials Excel itself can show are turned into dates; the conversion below
                // never fails, so the fake 1900-02-29 (serial 60) is caught by `from_ymd_opt`.
                let date = if (1.0..2_958_466.0).contains(&serial) {
                    let (y, m, d, ..) = dt.to_ymd_hms_milli();
                    NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
                } else {
                    None
                };
                Cell::Date { serial, date }
            }
            Data::Error(e) => Cell::Text(error_text(e)),
        }
    }

    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => is_blank_text(s),
            _ => false,
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Cell::Number(_))
    }

    /// The cell as a person reads it: trimmed text, or the typed value written out.
    pub(crate) fn text(&self) -> Cow<'a, str> {
        match *self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(s) => Cow::Borrowed(trim(s)),
            Cell::Number(v) => Cow::Owned(format_number(v)),
            Cell::Bool(true) => Cow::Borrowed("TRUE"),
            Cell::Bool(false) => Cow::Borrowed("FALSE"),
            Cell::Date {
                date: Some(date), ..
            } => Cow::Owned(date.format("%Y-%m-%d").to_string()),
            Cell::Date { serial, date: None } => Cow::Owned(format_number(serial)),
        }
    }

    /// Like [`Cell::text`], but a number is written as Excel's General format shows it in a
    /// column of default width (`9.13205E+17`). Used for USCC cells, so the report shows what the
    /// clerk sees in the sheet.
    pub(crate) fn text_as_displayed(&self) -> Cow<'a, str> {
        match *self {
            Cell::Number(v) => Cow::Owned(excel_general(v)),
            _ => self.text(),
        }
    }

    /// A number; `Ok(None)` for a blank, `Err(())` for anything else that is not a finite number.
    pub(crate) fn number(&self) -> Result<Option<f64>, ()> {
        match *self {
            // Trimmed once: most cells of a large file are figures or blank.
            Cell::Text(s) => {
                let t = trim(s);
                if is_blank_trimmed(t) {
                    Ok(None)
                } else {
                    number_from_text(t).map(Some).ok_or(())
                }
            }
            _ if self.is_blank() => Ok(None),
            Cell::Number(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(()),
        }
    }

    /// A yes/no value: `true/false/是/否/1/0` in any letter case, a boolean cell, or a numeric 1 or 0.
    pub(crate) fn flag(&self) -> Result<Option<bool>, ()> {
        match *self {
            _ if self.is_blank() => Ok(None),
            Cell::Bool(b) => Ok(Some(b)),
            Cell::Number(1.0) => Ok(Some(true)),
            Cell::Number(0.0) => Ok(Some(false)),
            Cell::Text(s) => flag_from_text(trim(s)).map(Some).ok_or(()),
            _ => Err(()),
        }
    }

    /// A calendar date: an XLSX date cell, a 5-digit Excel serial, or text in one of the accepted
    /// layouts (see [`date_from_text`]).
    pub(crate) fn date(&self) -> Result<Option<NaiveDate>, ()> {
        match *self {
            _ if self.is_blank() => Ok(None),
            Cell::Date { date, .. } => date.map(Some).ok_or(()),
            Cell::Number(v) => date_from_text(&format_number(v)).map(Some).ok_or(()),
            Cell::Text(s) => date_from_text(trim(s)).map(Some).ok_or(()),
            Cell::Bool(_) | Cell::Empty => Err(()),
        }
    }
}

fn error_text(e: &CellErrorType) -> &'static str {
    match e {
        CellErrorType::Div0 => "#DIV/0!",
        CellErrorType::NA => "#N/A",
        CellErrorType::Name => "#NAME?",
        CellErrorType::Null => "#NULL!",
        CellErrorType::Num => "#NUM!",
        CellErrorType::Ref => "#REF!",
        CellErrorType::Value => "#VALUE!",
        CellErrorType::GettingData => "#GETTING_DATA",
    }
}

/// Writes a number without losing precision and without an exponent for whole numbers (`611`,
/// `320583`, `1234.5`).
pub(crate) fn format_number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Excel's General format in a default-width column: at most 11 characters, switching to
/// scientific notation with a 5-decimal mantissa for large numbers (`9.13205E+17`).
pub(crate) fn excel_general(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 || (1e-9..1e11).contains(&a) {
        if v.fract() == 0.0 {
            return format!("{}", v as i64);
        }
        // Up to 10 significant digits, trailing zeros dropped.
        let int_digits = (a.log10().floor() as i32 + 1).max(1);
        let decimals = (10 - int_digits).max(0) as usize;
        let s = format!("{v:.decimals$}");
        return trim_fraction(&s).to_string();
    }
    let s = format!("{v:.5E}"); // e.g. "9.13205E17"
    let Some((mantissa, exponent)) = s.split_once('E') else {
        return s;
    };
    let mantissa = trim_fraction(mantissa);
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exponent),
    };
    format!("{mantissa}E{sign}{digits:0>2}")
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Numbers as written in cells: [`gusu_core::parse_figure`], the parser shared with the web
/// forms.
pub(crate) fn number_from_text(s: &str) -> Option<f64> {
    gusu_core::parse_figure(s)
}

fn flag_from_text(s: &str) -> Option<bool> {
    match s {
        "是" | "1" | "1.0" | "√" | "✓" | "✔" | "Y" | "y" => Some(true),
        "否" | "0" | "0.0" | "×" | "✗" | "✘" | "N" | "n" => Some(false),
        _ if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => Some(true),
        _ if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => Some(false),
        _ => None,
    }
}

/// Splits a unit written after the number (`12万`, `350.5万元`, `8亩`) from it: the trailing
/// letters and Chinese characters. `None` when the text ends in a digit or bracket.
pub(crate) fn unit_suffix(s: &str) -> Option<(&str, &str)> {
    let s = s.trim();
    let start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic() && !c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    let (number, unit) = s.split_at(start);
    (!number.trim().is_empty()).then(|| (number.trim_end(), unit))
}

/// Accepted layouts: `YYYY-MM-DD`, `YYYY/M/D`, `YYYY.M.D`, `YYYY年M月D日` (each optionally followed
/// by a time, which is ignored), `YYYYMMDD`, and 5-digit Excel serials (`43529` = 2019-03-05).
/// A bare year (`2019`) is not a date.
pub(crate) fn date_from_text(s: &str) -> Option<NaiveDate> {
    // Drop a time of day: "2019-03-05 00:00:00", "2019-03-05T00:00:00".
    let s = s.split([' ', 'T']).next().unwrap_or(s);
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.len() {
            5 => s.parse().ok().and_then(excel_serial_date),
            8 => NaiveDate::from_ymd_opt(
                s[..4].parse().ok()?,
                s[4..6].parse().ok()?,
                s[6..].parse().ok()?,
            ),
            _ => None,
        };
    }
    // A serial that went through a number cell: "43529.0".
    if let Some(whole) = s.strip_suffix(".0")
        && whole.len() == 5
        && whole.bytes().all(|b| b.is_ascii_digit())
    {
        return whole.parse().ok().and_then(excel_serial_date);
    }
    let s = s.strip_suffix('日').unwrap_or(s);
    let mut parts = s.split(['-', '/', '.', '年', '月']);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || !(1..=2).contains(&m.len())
        || !(1..=2).contains(&d.len())
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A day number of Excel's 1900 date system. Excel counts 1900-02-29, which never existed, as
/// serial 60; every later serial is therefore one day ahead of a plain count from 1899-12-31, so
/// for serials above 60 the day is 1899-12-30 plus the serial.
pub(crate) fn excel_serial_date(serial: u32) -> Option<NaiveDate> {
    let epoch = match serial {
        0 | 60 => return None,
        1..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    epoch.checked_add_days(chrono::Days::new(u64::from(serial)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_trim_is_str_trim() {
        for s in [
            "",
            " ",
            "12.5",
            " 12.5",
            "12.5\u{3000}",
            "\u{3000}苏州\u{a0}",
            "a",
            "-",
            "\t1\t",
            "苏州",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_trim_is_str_trim_for_any_text(s in "\\PC*") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    #[test]
    fn every_blank_mark_is_within_the_length_checked() {
        assert!(BLANK_MARKS.iter().all(|m| m.len() <= 6));
        assert!(BLANK_MARKS.iter().all(|m| is_blank_text(&format!(" {m} "))));
    }

    #[test]
    fn numbers() {
        assert_eq!(number_from_text("1,234.5"), Some(1234.5));
        assert_eq!(number_from_text("1,234,567"), Some(1_234_567.0));
        assert_eq!(number_from_text("-3"), Some(-3.0));
        assert_eq!(number_from_text(".5"), Some(0.5));
        assert_eq!(number_from_text("1e3"), Some(1000.0));
        for bad in [
            "NaN", "inf", "-inf", "12万", "1,23", "12,3456", "1e999", "", "-", "1.2.3", "(-5)",
            "()", "(1,23)",
        ] {
            assert_eq!(number_from_text(bad), None, "{bad}");
        }
        // As accountants and Chinese input methods write them.
        assert_eq!(number_from_text("(123.4)"), Some(-123.4));
        assert_eq!(number_from_text("（1,234.5）"), Some(-1234.5));
        assert_eq!(number_from_text("１，２３４．５"), Some(1234.5));
        assert_eq!(number_from_text("－３"), Some(-3.0));
    }

    #[test]
    fn flags_and_units_after_numbers() {
        for yes in ["是", "Y", "y", "yes", "YES", "√", "✓", "1", "true"] {
            assert_eq!(flag_from_text(yes), Some(true), "{yes}");
        }
        for no in ["否", "N", "no", "×", "✗", "0", "FALSE"] {
            assert_eq!(flag_from_text(no), Some(false), "{no}");
        }
        assert_eq!(flag_from_text("有"), None);
        assert_eq!(unit_suffix("12万"), Some(("12", "万")));
        assert_eq!(unit_suffix("350.5 万元"), Some(("350.5", "万元")));
        assert_eq!(unit_suffix("1e3"), None);
        assert_eq!(unit_suffix("万元"), None);
        assert_eq!(unit_suffix("(12)"), None);
    }

    #[test]
    fn dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
        assert_eq!(date_from_text("2019-03-05"), d(2019, 3, 5));
        assert_eq!(date_from_text("2019/3/5"), d(2019, 3, 5));
        assert_eq!(date_from_text("20190305"), d(2019, 3, 5));
        assert_eq!(date_from_text("43529"), d(2019, 3, 5));
        assert_eq!(date_from_text("2019年3月5日"), d(2019, 3, 5));
        assert_eq!(date_from_text("2019-03-05 00:00:00"), d(2019, 3, 5));
        assert_eq!(date_from_text("2019"), None);
        assert_eq!(date_from_text("2019-02-30"), None);
        assert_eq!(excel_serial_date(61), d(1900, 3, 1));
        assert_eq!(excel_serial_date(59), d(1900, 2, 28));
        assert_eq!(excel_serial_date(60), None);
    }

    #[test]
    fn excel_general_format() {
        assert_eq!(excel_general(913_205_000_000_000_000.0), "9.13205E+17");
        assert_eq!(excel_general(913_205_123_456_789_012.0), "9.13205E+17");
        assert_eq!(excel_general(1e11), "1E+11");
        assert_eq!(excel_general(611.0), "611");
        assert_eq!(excel_general(0.1 + 0.2), "0.3");
    }
}
