//! Industrial divisions of GB/T 4754-2017 (国民经济行业分类): sections B, C and D, 41 divisions.

use serde::Serialize;

/// One division (大类).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Division {
    /// Two digits, e.g. "39".
    pub code: &'static str,
    /// Section letter: B mining, C manufacturing, D utilities.
    pub section: char,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

macro_rules! divisions {
    ($(($code:literal, $section:literal, $zh:literal, $en:literal)),* $(,)?) => {
        /// All 41 industrial divisions in code order.
        pub const DIVISIONS: &[Division] = &[
            $(Division { code: $code, section: $section, name_zh: $zh, name_en: $en }),*
        ];
    };
}

divisions![
    ("06", 'B', "煤炭开采和洗选业", "Mining and washing of coal"),
    (
        "07",
        'B',
        "石油和天然气开采业",
        "Extraction of petroleum and natural gas"
    ),
    (
        "08",
        'B',
        "黑色金属矿采选业",
        "Mining and processing of ferrous metal ores"
    ),
    (
        "09",
        'B',
        "有色金属矿采选业",
        "Mining and processing of non-ferrous metal ores"
    ),
    (
        "10",
        'B',
        "非金属矿采选业",
        "Mining and processing of non-metal ores"
    ),
    (
        "11",
        'B',
        "开采专业及辅助性活动",
        "Professional and support activities for mining"
    ),
    ("12", 'B', "其他采矿业", "Other mining"),
    (
        "13",
        'C',
        "农副食品加工业",
        "Processing of food from agricultural products"
    ),
    ("14", 'C', "食品制造业", "Manufacture of foods"),
    (
        "15",
        'C',
        "酒、饮料和精制茶制造业",
        "Manufacture of liquor, beverages and refined tea"
    ),
    ("16", 'C', "烟草制品业", "Manufacture of tobacco"),
    ("17", 'C', "纺织业", "Manufacture of textiles"),
    (
        "18",
        'C',
        "纺织服装、服饰业",
        "Manufacture of textile wearing apparel and accessories"
    ),
    (
        "19",
        'C',
        "皮革、毛皮、羽毛及其制品和制鞋业",
        "Manufacture of leather, fur, feathers and footwear"
    ),
    (
        "20",
        'C',
        "木材加工和木、竹、藤、棕、草制品业",
        "Processing of timber; wood, bamboo, rattan, palm and straw products"
    ),
    ("21", 'C', "家具制造业", "Manufacture of furniture"),
    (
        "22",
        'C',
        "造纸和纸制品业",
        "Manufacture of paper and paper products"
    ),
    (
        "23",
        'C',
        "印刷和记录媒介复制业",
        "Printing and reproduction of recording media"
    ),
    (
        "24",
        'C',
        "文教、工美、体育和娱乐用品制造业",
        "Manufacture of articles for culture, education, arts and crafts, sport and entertainment"
    ),
    (
        "25",
        'C',
        "石油、煤炭及其他燃料加工业",
        "Processing of petroleum, coal and other fuels"
    ),
    (
        "26",
        'C',
        "化学原料和化学制品制造业",
        "Manufacture of raw chemical materials and chemical products"
    ),
    ("27", 'C', "医药制造业", "Manufacture of medicines"),
    (
        "28",
        'C',
        "化学纤维制造业",
        "Manufacture of chemical fibres"
    ),
    (
        "29",
        'C',
        "橡胶和塑料制品业",
        "Manufacture of rubber and plastic products"
    ),
    (
        "30",
        'C',
        "非金属矿物制品业",
        "Manufacture of non-metallic mineral products"
    ),
    (
        "31",
        'C',
        "黑色金属冶炼和压延加工业",
        "Smelting and pressing of ferrous metals"
    ),
    (
        "32",
        'C',
        "有色金属冶炼和压延加工业",
        "Smelting and pressing of non-ferrous metals"
    ),
    ("33", 'C', "金属制品业", "Manufacture of metal products"),
    (
        "34",
        'C',
        "通用设备制造业",
        "Manufacture of general-purpose machinery"
    ),
    (
        "35",
        'C',
        "专用设备制造业",
        "Manufacture of special-purpose machinery"
    ),
    ("36", 'C', "汽车制造业", "Manufacture of automobiles"),
    (
        "37",
        'C',
        "铁路、船舶、航空航天和其他运输设备制造业",
        "Manufacture of railway, ship, aerospace and other transport equipment"
    ),
    (
        "38",
        'C',
        "电气机械和器材制造业",
        "Manufacture of electrical machinery and apparatus"
    ),
    (
        "39",
        'C',
        "计算机、通信和其他电子设备制造业",
        "Manufacture of computers, communication and other electronic equipment"
    ),
    (
        "40",
        'C',
        "仪器仪表制造业",
        "Manufacture of measuring instruments and meters"
    ),
    ("41", 'C', "其他制造业", "Other manufacturing"),
    (
        "42",
        'C',
        "废弃资源综合利用业",
        "Utilisation of waste resources"
    ),
    (
        "43",
        'C',
        "金属制品、机械和设备修理业",
        "Repair of metal products, machinery and equipment"
    ),
    (
        "44",
        'D',
        "电力、热力生产和供应业",
        "Production and supply of electricity and heat"
    ),
    (
        "45",
        'D',
        "燃气生产和供应业",
        "Production and supply of gas"
    ),
    (
        "46",
        'D',
        "水的生产和供应业",
        "Production and supply of water"
    ),
];

/// Looks up a division by its two digits.
pub fn division(code: &str) -> Option<&'static Division> {
    DIVISIONS.iter().find(|d| d.code == code)
}

/// An industry code as given in a file, normalised, with its division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndustryCode {
    /// Digits only: 2 (division), 3 (group) or 4 (class), e.g. "3911".
    pub code: String,
    pub division: &'static Division,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndustryCodeError {
    #[error(
        "'{0}' is not an industry code (expected 2-4 digits, optionally after a section letter, e.g. C3911)"
    )]
    Malformed(String),
    #[error(
        "division {division} of '{raw}' is not an industrial division of GB/T 4754-2017 (06-46)"
    )]
    NotIndustrial { raw: String, division: String },
    #[error(
        "section letter {letter} of '{raw}' does not match division {division} (section {expected})"
    )]
    SectionMismatch {
        raw: String,
        letter: char,
        division: String,
        expected: char,
    },
}

/// Parses `C3911`, `3911`, `39`, and numeric cells that lost their leading zero (`611` → `0611`,
/// `6` → `06`). Only a cell that may have been a number (`from_number`: an XLSX number cell, or any
/// CSV cell, since Excel drops zeros on export) gets its zero back; a 3-digit code gets it only when
/// read as is it would not name an industrial division: the two readings can never both be industrial
/// (a padded code starts 06-09, so read as is it would start 60-99).
/// The GB/T 4754-2017 section of any division (01–97), industrial or not: what the policy
/// calculator needs for enterprises of every industry (a software firm holding 专精特新).
pub fn section_of_division(division: u32) -> Option<char> {
    Some(match division {
        1..=5 => 'A',
        6..=12 => 'B',
        13..=43 => 'C',
        44..=46 => 'D',
        47..=50 => 'E',
        51..=52 => 'F',
        53..=60 => 'G',
        61..=62 => 'H',
        63..=65 => 'I',
        66..=69 => 'J',
        70 => 'K',
        71..=72 => 'L',
        73..=75 => 'M',
        76..=79 => 'N',
        80..=82 => 'O',
        83 => 'P',
        84..=85 => 'Q',
        86..=90 => 'R',
        91..=96 => 'S',
        97 => 'T',
        _ => return None,
    })
}

/// An industry code of any GB/T 4754-2017 section: the normalised code and its division. The
/// industrial divisions are read as [`parse_industry_code`] reads them; any other division of the
/// standard is taken as written.
pub fn parse_any_industry_code(
    raw: &str,
    from_number: bool,
) -> Result<(String, String), IndustryCodeError> {
    match parse_industry_code(raw, from_number) {
        Ok(c) => Ok((c.code, c.division.code.to_string())),
        Err(IndustryCodeError::NotIndustrial { raw, division }) => {
            let trimmed = raw.trim();
            let (letter, digits) = match trimmed.chars().next() {
                Some(c) if c.is_ascii_alphabetic() => (Some(c.to_ascii_uppercase()), &trimmed[1..]),
                _ => (None, trimmed),
            };
            let digits = digits.strip_suffix(".0").unwrap_or(digits);
            let code = if from_number && digits.len() % 2 == 1 {
                format!("0{digits}")
            } else {
                digits.to_string()
            };
            let section = division
                .parse::<u32>()
                .ok()
                .and_then(section_of_division)
                .ok_or_else(|| IndustryCodeError::NotIndustrial {
                    raw: trimmed.to_string(),
                    division: division.clone(),
                })?;
            if let Some(letter) = letter
                && letter != section
            {
                return Err(IndustryCodeError::SectionMismatch {
                    raw: trimmed.to_string(),
                    letter,
                    division: division.clone(),
                    expected: section,
                });
            }
            let division = code[..2].to_string();
            Ok((code, division))
        }
        Err(e) => Err(e),
    }
}

pub fn parse_industry_code(
    raw: &str,
    from_number: bool,
) -> Result<IndustryCode, IndustryCodeError> {
    let trimmed = raw.trim();
    let mut chars = trimmed.chars();
    let (letter, digits) = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => (Some(c.to_ascii_uppercase()), chars.as_str()),
        _ => (None, trimmed),
    };
    // A numeric cell may arrive as "611.0".
    let digits = digits.strip_suffix(".0").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(IndustryCodeError::Malformed(trimmed.to_string()));
    }
    let as_is_industrial = digits.len() >= 2 && division(&digits[..2]).is_some();
    let code = if from_number && (digits.len() == 1 || (digits.len() == 3 && !as_is_industrial)) {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    if code.len() < 2 {
        return Err(IndustryCodeError::Malformed(trimmed.to_string()));
    }
    let division_code = &code[..2];
    let division = division(division_code).ok_or_else(|| IndustryCodeError::NotIndustrial {
        raw: trimmed.to_string(),
        division: division_code.to_string(),
    })?;
    if let Some(letter) = letter
        && letter != division.section
    {
        return Err(IndustryCodeError::SectionMismatch {
            raw: trimmed.to_string(),
            letter,
            division: division.code.to_string(),
            expected: division.section,
        });
    }
    Ok(IndustryCode { code, division })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_section_takes_every_division_of_the_standard() {
        assert_eq!(
            parse_any_industry_code("6513", true),
            Ok(("6513".into(), "65".into()))
        );
        assert_eq!(
            parse_any_industry_code("I6513", false),
            Ok(("6513".into(), "65".into()))
        );
        assert_eq!(
            parse_any_industry_code("2614", true),
            Ok(("2614".into(), "26".into()))
        );
        // A number that lost its leading zero: 511 is 0511 (section A).
        assert_eq!(
            parse_any_industry_code("511", true),
            Ok(("0511".into(), "05".into()))
        );
        assert!(matches!(
            parse_any_industry_code("A6513", false),
            Err(IndustryCodeError::SectionMismatch { .. })
        ));
        assert!(parse_any_industry_code("9813", true).is_err());
        assert_eq!(section_of_division(97), Some('T'));
        assert_eq!(section_of_division(98), None);
        assert!((13..=43).all(|d| section_of_division(d) == Some('C')));
    }

    #[test]
    fn there_are_41_divisions_in_order() {
        assert_eq!(DIVISIONS.len(), 41);
        assert!(DIVISIONS.windows(2).all(|w| w[0].code < w[1].code));
        assert_eq!(DIVISIONS.iter().filter(|d| d.section == 'C').count(), 31);
    }

    #[test]
    fn codes_in_every_accepted_form() {
        assert_eq!(parse_industry_code("C3911", false).unwrap().code, "3911");
        assert_eq!(
            parse_industry_code("3911", false).unwrap().division.code,
            "39"
        );
        assert_eq!(
            parse_industry_code("39", false).unwrap().division.name_zh,
            "计算机、通信和其他电子设备制造业"
        );
        assert_eq!(parse_industry_code("611", true).unwrap().code, "0611");
        assert_eq!(parse_industry_code("611.0", true).unwrap().code, "0611");
        assert_eq!(parse_industry_code("6", true).unwrap().code, "06");
        // A 3-digit group code whose division is industrial stays as it is.
        assert_eq!(parse_industry_code("391", true).unwrap().code, "391");
        // A text cell keeps what it says: group 611 is in division 61, not industrial.
        assert!(parse_industry_code("611", false).is_err());
        assert!(matches!(
            parse_industry_code("5111", false),
            Err(IndustryCodeError::NotIndustrial { .. })
        ));
        assert!(matches!(
            parse_industry_code("01", false),
            Err(IndustryCodeError::NotIndustrial { .. })
        ));
        assert!(matches!(
            parse_industry_code("abc", false),
            Err(IndustryCodeError::Malformed(_))
        ));
        assert!(matches!(
            parse_industry_code("D3911", false),
            Err(IndustryCodeError::SectionMismatch { .. })
        ));
    }
}
