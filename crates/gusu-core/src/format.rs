//! Numbers for people, as every page, report and export shows them: thousands separators, decimals a
//! reader compares, units, and percentages where a ratio means one (R&D intensity 1.57%, not
//! 0.0157). The JSON API and data files keep plain numbers; only what people read goes through
//! here (the web pages, the CLI's reports).

use crate::Indicator;

/// Money and counts with thousands separators, to `decimals` places.
pub fn amount(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && !text.trim_matches(['0', '.']).is_empty() {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// A figure as sent (万元, mu, tce, tonnes, people): two decimals at most, four below one (small
/// tonnages), trailing zeros dropped, so `385083059.99999994` reads `385,083,060`.
pub fn figure(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let decimals = if v.abs() < 1.0 { 4 } else { 2 };
    let text = amount(v, decimals);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A ratio as a percentage: 0.0157 → "1.57%".
pub fn percent(ratio: f64, decimals: usize) -> String {
    format!("{}%", amount(ratio * 100.0, decimals))
}

/// An indicator's value (or benchmark) with its unit; a share as a percentage.
pub fn indicator(key: &str, v: Option<f64>) -> String {
    let Some(v) = v else { return "—".into() };
    match Indicator::from_key(key) {
        Some(Indicator::RdIntensity) => percent(v, 2),
        Some(i) if !i.unit().is_empty() => format!("{} {}", figure(v), i.unit()),
        _ => figure(v),
    }
}

/// A stored field's value: flags as yes/no, figures as [`figure`].
pub fn field(key: &str, v: f64, zh: bool) -> String {
    if matches!(key, "above_scale" | "exempt") {
        return match (v != 0.0, zh) {
            (true, true) => "是",
            (false, true) => "否",
            (true, false) => "yes",
            (false, false) => "no",
        }
        .into();
    }
    if key == "rd_intensity" {
        return percent(v, 2);
    }
    figure(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands_and_keep_their_sign() {
        assert_eq!(amount(0.0, 0), "0");
        assert_eq!(amount(999.4, 0), "999");
        assert_eq!(amount(1234567.891, 2), "1,234,567.89");
        assert_eq!(amount(-1234.5, 1), "-1,234.5");
        // A value that rounds to zero shows no minus sign.
        assert_eq!(amount(-0.001, 2), "0.00");
    }

    #[test]
    fn figures_drop_float_noise_and_trailing_zeros() {
        assert_eq!(figure(385083059.99999994), "385,083,060");
        assert_eq!(figure(1131254.63), "1,131,254.63");
        assert_eq!(figure(12.5), "12.5");
        assert_eq!(figure(7.0), "7");
        assert_eq!(figure(0.0032), "0.0032");
        assert_eq!(figure(-42.0), "-42");
        assert_eq!(figure(f64::NAN), "—");
    }

    #[test]
    fn indicators_carry_their_unit_and_shares_are_percentages() {
        assert_eq!(indicator("rd_intensity", Some(0.0157)), "1.57%");
        assert_eq!(indicator("tax_per_mu", Some(12.3456)), "12.35 万元/亩");
        assert_eq!(indicator("tax_per_kwh", Some(0.1234)), "0.1234 元/kWh");
        assert_eq!(indicator("tax_per_mu", None), "—");
        assert_eq!(indicator("unknown", Some(3.0)), "3");
    }

    #[test]
    fn flags_read_as_words() {
        assert_eq!(field("above_scale", 1.0, true), "是");
        assert_eq!(field("exempt", 0.0, false), "no");
        assert_eq!(field("tax_paid_10k_yuan", 1234.5, true), "1,234.5");
    }
}
