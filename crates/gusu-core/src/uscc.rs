//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The 31 characters a USCC may use, in value order (no I, O, S, V, Z).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1..=17: 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A validated code, stored upper case. Kept inline (18 bytes, `Copy`): a city holds millions of
/// them in records, results and indexes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc([u8; 18]);

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Uscc").field(&self.as_str()).finish()
    }
}

/// Which rule of GB 32100 a code breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("length is {found} characters, expected 18")]
    Length { found: usize },
    #[error(
        "character '{found}' at position {position} is not allowed (I, O, S, V, Z and symbols are not used)"
    )]
    Character { position: usize, found: char },
    #[error(
        "positions 3-8 must be the 6-digit administrative division code, found '{found}' at position {position}"
    )]
    DivisionDigit { position: usize, found: char },
    #[error("check character is '{found}', expected '{expected}'")]
    CheckCharacter { expected: char, found: char },
    #[error(
        "looks like a number Excel converted ('{found}'): the code was lost; format the column as text and export again"
    )]
    ScientificNotation { found: String },
}

impl UsccError {
    /// Stable code for reports.
    pub fn code(&self) -> &'static str {
        match self {
            UsccError::Length { .. } => "uscc_length",
            UsccError::Character { .. } => "uscc_character",
            UsccError::DivisionDigit { .. } => "uscc_division",
            UsccError::CheckCharacter { .. } => "uscc_check_character",
            UsccError::ScientificNotation { .. } => "uscc_excel_number",
        }
    }

    /// The same message in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            UsccError::Length { found } => format!("长度为 {found} 位，应为 18 位"),
            UsccError::Character { position, found } => {
                format!("第 {position} 位字符“{found}”不允许（不使用 I、O、S、V、Z 及符号）")
            }
            UsccError::DivisionDigit { position, found } => {
                format!("第 3-8 位应为 6 位行政区划代码，第 {position} 位为“{found}”")
            }
            UsccError::CheckCharacter { expected, found } => {
                format!("校验码为“{found}”，应为“{expected}”")
            }
            UsccError::ScientificNotation { found } => {
                format!(
                    "“{found}”是被 Excel 转成数字的代码，原值已丢失：请将该列设为文本后重新导出"
                )
            }
        }
    }
}

/// Each byte's value in the code alphabet (`u8::MAX`: not in it), built once at compile time: a
/// million codes are checked per large file.
const VALUES: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn value_of(c: u8) -> Option<u32> {
    match VALUES[c as usize] {
        u8::MAX => None,
        v => Some(u32::from(v)),
    }
}

/// The check character for the first 17 characters (already upper case and valid).
pub fn check_character(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value_of(c).unwrap_or(0) * w)
        .sum();
    ALPHABET[((31 - sum % 31) % 31) as usize] as char
}

/// What Excel writes for a long number: `9.13205E+17` (a mantissa with a decimal point or an
/// exponent with its sign, or short). An 18-character code that merely has digits around an `E`
/// (`91320583000000E017` could be real) is not taken for one.
fn is_scientific(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    let Some((mantissa, exponent)) = upper.split_once('E') else {
        return false;
    };
    let (signed, digits) = match exponent.strip_prefix(['+', '-']) {
        Some(rest) => (true, rest),
        None => (false, exponent),
    };
    let shaped = !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit());
    shaped && (mantissa.contains('.') || signed || s.chars().count() < 18)
}

/// The code as typed, with what spreadsheets and copy-paste add taken off: Excel's text prefix
/// `'`, a `="…"` formula wrapper, zero-width characters, and full-width letters and digits
/// (`９１３２…`) turned half-width.
fn strip_decoration(raw: &str) -> String {
    let mut s = raw.trim();
    if let Some(inner) = s.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        s = inner;
    }
    let s = s.strip_prefix(['\'', '‘', '’']).unwrap_or(s);
    s.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
            )
        })
        .map(|c| match c {
            // Full-width ASCII forms sit 0xFEE0 above their half-width letters.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

impl Uscc {
    /// Parses a code as people type it: lower case is accepted, spaces and hyphens are stripped.
    pub fn parse(raw: &str) -> Result<Uscc, UsccError> {
        // Most cells of a large file are a clean code (18 characters of the alphabet, which is
        // upper case): checked in place, without the two allocations of the cleaning below.
        if raw.len() == 18 && raw.bytes().all(|b| value_of(b).is_some()) {
            return Uscc::checked(raw);
        }
        let undecorated = strip_decoration(raw);
        let trimmed = undecorated.trim();
        if is_scientific(trimmed) {
            return Err(UsccError::ScientificNotation {
                found: trimmed.to_string(),
            });
        }
        let cleaned: String = trimmed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{2014}' && *c != '\u{3000}')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Uscc::checked(&cleaned)
    }

    /// The checks of a cleaned code: length, alphabet, division digits, check character.
    fn checked(cleaned: &str) -> Result<Uscc, UsccError> {
        let count = cleaned.chars().count();
        if count != 18 {
            return Err(UsccError::Length { found: count });
        }
        for (i, c) in cleaned.chars().enumerate() {
            if !c.is_ascii() || value_of(c as u8).is_none() {
                return Err(UsccError::Character {
                    position: i + 1,
                    found: c,
                });
            }
        }
        for (i, c) in cleaned.chars().enumerate().take(8).skip(2) {
            if !c.is_ascii_digit() {
                return Err(UsccError::DivisionDigit {
                    position: i + 1,
                    found: c,
                });
            }
        }
        let bytes = cleaned.as_bytes();
        let expected = check_character(&bytes[..17]);
        let found = bytes[17] as char;
        if expected != found {
            return Err(UsccError::CheckCharacter { expected, found });
        }
        let mut code = [0u8; 18];
        code.copy_from_slice(bytes);
        Ok(Uscc(code))
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from the ASCII alphabet above.
        std::str::from_utf8(&self.0).expect("a USCC is ASCII")
    }

    /// The 6-digit administrative division where the code was registered (Suzhou: 3205xx).
    pub fn division_code(&self) -> &str {
        &self.as_str()[2..8]
    }

    /// Completes 17 characters with their check character (for generated data and tests).
    pub fn with_check_character(first17: &str) -> Result<Uscc, UsccError> {
        let upper = first17.to_ascii_uppercase();
        if upper.len() != 17 {
            return Err(UsccError::Length {
                found: upper.len() + 1,
            });
        }
        let c = check_character(upper.as_bytes());
        Uscc::parse(&format!("{upper}{c}"))
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Uscc {
    type Error = UsccError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Uscc::parse(&value)
    }
}

impl From<Uscc> for String {
    fn from(value: Uscc) -> Self {
        value.as_str().to_string()
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_example_is_valid() {
        // A valid code under GB 32100-2015 (法人和其他组织统一社会信用代码编码规则).
        assert_eq!(
            Uscc::parse("91110000600037341L").unwrap().as_str(),
            "91110000600037341L"
        );
    }

    #[test]
    fn lower_case_spaces_and_hyphens_are_accepted() {
        let u = Uscc::parse(" 9111 0000-6000 3734 1l ").unwrap();
        assert_eq!(u.as_str(), "91110000600037341L");
        assert_eq!(u.division_code(), "110000");
    }

    #[test]
    fn spreadsheet_decoration_is_taken_off() {
        for raw in [
            "'91110000600037341L",
            "=\"91110000600037341L\"",
            "\u{200B}91110000600037341L\u{FEFF}",
            "９１１１００００６０００３７３４１Ｌ",
        ] {
            assert_eq!(
                Uscc::parse(raw).map(|u| u.to_string()),
                Ok("91110000600037341L".to_string()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn only_what_excel_writes_is_taken_for_a_number() {
        assert!(matches!(
            Uscc::parse("9.13205E+17"),
            Err(UsccError::ScientificNotation { .. })
        ));
        assert!(matches!(
            Uscc::parse("9E17"),
            Err(UsccError::ScientificNotation { .. })
        ));
        // Eighteen characters with an E among digits: a code, checked as one.
        let body = "91320583000000E01";
        let code = format!("{body}{}", check_character(body.as_bytes()));
        assert_eq!(Uscc::parse(&code).unwrap().as_str(), code);
    }

    #[test]
    fn wrong_check_character_names_the_expected_one() {
        assert_eq!(
            Uscc::parse("91110000600037341M"),
            Err(UsccError::CheckCharacter {
                expected: 'L',
                found: 'M'
            })
        );
    }

    #[test]
    fn forbidden_letters_are_rejected_with_position() {
        for bad in ['I', 'O', 'S', 'V', 'Z'] {
            let code = format!("9111000060003734{bad}L");
            assert_eq!(
                Uscc::parse(&code),
                Err(UsccError::Character {
                    position: 17,
                    found: bad
                }),
                "{code}"
            );
        }
    }

    #[test]
    fn length_and_division_rules() {
        assert_eq!(
            Uscc::parse("9111000060003734"),
            Err(UsccError::Length { found: 16 })
        );
        assert_eq!(
            Uscc::parse("91A10000600037341L"),
            Err(UsccError::DivisionDigit {
                position: 3,
                found: 'A'
            })
        );
    }

    #[test]
    fn excel_number_is_reported_as_such() {
        assert!(matches!(
            Uscc::parse("9.13205E+17"),
            Err(UsccError::ScientificNotation { .. })
        ));
    }

    proptest! {
        #[test]
        fn completed_codes_always_parse(body in "[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{9}") {
            let u = Uscc::with_check_character(&body).unwrap();
            prop_assert_eq!(&u.as_str()[..17], body.as_str());
        }

        #[test]
        fn changing_one_character_breaks_the_check(body in "[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{9}", pos in 0usize..17, delta in 1u32..31) {
            let u = Uscc::with_check_character(&body).unwrap();
            let mut bytes = u.as_str().as_bytes().to_vec();
            let v = value_of(bytes[pos]).unwrap();
            bytes[pos] = ALPHABET[((v + delta) % 31) as usize];
            let changed = String::from_utf8(bytes).unwrap();
            // A single substitution always changes the weighted sum mod 31 (31 is prime, weights non-zero).
            prop_assert!(Uscc::parse(&changed).is_err());
        }
    }
}
