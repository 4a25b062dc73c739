//! Numbers: [`parse_figure`], the one strict reader of figures written by people (files and
//! forms alike), and `MaybeF64`, an optional number in 8 bytes (NaN marks "none"), for results
//! held by the million.

use serde::{Deserialize, Serialize};

/// Parses `1234.5`, `1,234.5`, `-3`, `1e3`, and numbers as accountants and Chinese input methods
/// write them: `(123.4)` for −123.4, full-width digits, points and commas (`１，２３４．５`).
/// Text such as `NaN`, `inf` or `12万` is not a number (units in cells are the caller's matter).
pub fn parse_figure(s: &str) -> Option<f64> {
    plain_number(s).or_else(|| accountant_number(s))
}

/// The forms [`plain_number`] does not take; only tried when it has failed, so files of plain
/// numbers never pay for it.
fn accountant_number(s: &str) -> Option<f64> {
    if s.is_ascii() && !s.starts_with('(') {
        return None;
    }
    let half: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '，' => ',',
            '．' | '。' => '.',
            '－' | '−' => '-',
            '＋' => '+',
            // Full-width digits sit 0xFEE0 above the ASCII ones.
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect();
    match half.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        // A bracketed figure is negative; a sign inside as well would be a typing error.
        Some(inner) if !inner.starts_with(['-', '+']) => plain_number(inner).map(|v| -v),
        Some(_) => None,
        None => plain_number(&half),
    }
}

/// `1234.5`, `1,234.5`, `-3`, `1e3` in ASCII.
fn plain_number(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let first = body.bytes().next()?;
    if !(first.is_ascii_digit() || first == b'.') {
        return None;
    }
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let value: f64 = if body.contains(',') {
        if !thousands_grouping_ok(body) {
            return None;
        }
        // Drop the separators on the stack: large files have them in every row.
        let mut buf = [0u8; 64];
        let mut len = 0;
        for b in s.bytes().filter(|&b| b != b',') {
            *buf.get_mut(len)? = b;
            len += 1;
        }
        std::str::from_utf8(&buf[..len]).ok()?.parse().ok()?
    } else {
        s.parse().ok()?
    };
    value.is_finite().then_some(value)
}

/// Commas may only separate groups of three digits in the integer part: `1,234,567.8`.
fn thousands_grouping_ok(body: &str) -> bool {
    let end = body.find(['.', 'e', 'E']).unwrap_or(body.len());
    let (int_part, rest) = body.split_at(end);
    if rest.contains(',') {
        return false;
    }
    let mut groups = int_part.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    first_ok && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// An `Option<f64>` packed into one `f64`: NaN is `None`. Serialises as `null` or a number.
#[derive(Clone, Copy, Default)]
pub struct MaybeF64(f64);

impl MaybeF64 {
    pub const NONE: MaybeF64 = MaybeF64(f64::NAN);

    pub fn get(self) -> Option<f64> {
        (!self.0.is_nan()).then_some(self.0)
    }

    pub fn is_some(self) -> bool {
        !self.0.is_nan()
    }
}

impl From<Option<f64>> for MaybeF64 {
    fn from(value: Option<f64>) -> MaybeF64 {
        MaybeF64(value.unwrap_or(f64::NAN))
    }
}

impl From<f64> for MaybeF64 {
    fn from(value: f64) -> MaybeF64 {
        MaybeF64(value)
    }
}

impl PartialEq for MaybeF64 {
    fn eq(&self, other: &MaybeF64) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for MaybeF64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for MaybeF64 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MaybeF64 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<MaybeF64, D::Error> {
        Ok(Option::<f64>::deserialize(deserializer)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_round_trips() {
        assert_eq!(MaybeF64::from(Some(1.5)).get(), Some(1.5));
        assert_eq!(MaybeF64::from(None).get(), None);
        assert_eq!(MaybeF64::NONE, MaybeF64::from(None));
        let json = serde_json::to_string(&[MaybeF64::from(Some(2.0)), MaybeF64::NONE]).unwrap();
        assert_eq!(json, "[2.0,null]");
        let back: Vec<MaybeF64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[1].get(), None);
    }
}

#[cfg(test)]
mod figure_tests {
    use super::parse_figure;

    #[test]
    fn figures_as_people_write_them() {
        assert_eq!(parse_figure("1,234.5"), Some(1234.5));
        assert_eq!(parse_figure("(123.4)"), Some(-123.4));
        assert_eq!(parse_figure("１，２３４．５"), Some(1234.5));
        // A decimal comma ("1,5" in European notation) is not a thousands group: refused, never 15.
        for bad in ["1,5", "1,23", "12,3456", "NaN", "inf", "12万", "1e999", ""] {
            assert_eq!(parse_figure(bad), None, "{bad}");
        }
    }
}
