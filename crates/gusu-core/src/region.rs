//! Districts (county-level areas) of the city gusu runs for; Suzhou's 10 by default.

use serde::{Deserialize, Serialize};

/// One county-level area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct District {
    /// 6-digit administrative division code, e.g. "320583".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Other names people write in files (e.g. 苏州高新区 for 虎丘区).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The set of districts a deployment serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSet {
    /// Name of the city, e.g. 苏州市.
    pub city_zh: String,
    pub city_en: String,
    /// Prefix of the administrative division codes registered in the city (Suzhou: "3205").
    pub division_prefix: String,
    pub districts: Vec<District>,
}

fn district(code: &str, zh: &str, en: &str, aliases: &[&str]) -> District {
    District {
        code: code.to_string(),
        name_zh: zh.to_string(),
        name_en: en.to_string(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    }
}

impl RegionSet {
    /// Suzhou's ten county-level areas (methods.md 1.2).
    pub fn suzhou() -> RegionSet {
        RegionSet {
            city_zh: "苏州市".into(),
            city_en: "Suzhou".into(),
            division_prefix: "3205".into(),
            districts: vec![
                district("320508", "姑苏区", "Gusu", &["姑苏"]),
                district(
                    "320505",
                    "虎丘区",
                    "Huqiu",
                    &[
                        "苏州高新区",
                        "高新区",
                        "虎丘区(苏州高新区)",
                        "SND",
                        "Huqiu/SND",
                    ],
                ),
                district("320506", "吴中区", "Wuzhong", &["吴中"]),
                district("320507", "相城区", "Xiangcheng", &["相城"]),
                district("320509", "吴江区", "Wujiang", &["吴江"]),
                district(
                    "320571",
                    "苏州工业园区",
                    "SIP",
                    &["工业园区", "园区", "Suzhou Industrial Park"],
                ),
                district("320581", "常熟市", "Changshu", &["常熟"]),
                district("320582", "张家港市", "Zhangjiagang", &["张家港"]),
                district("320583", "昆山市", "Kunshan", &["昆山"]),
                district("320585", "太仓市", "Taicang", &["太仓"]),
            ],
        }
    }

    /// Finds a district by code, Chinese or English name, or alias. Brackets may be full or half width.
    pub fn resolve(&self, raw: &str) -> Option<&District> {
        // Fast path: the exact code or Chinese name, as files written by systems carry it.
        let exact = raw.trim();
        if let Some(d) = self
            .districts
            .iter()
            .find(|d| d.code == exact || d.name_zh == exact)
        {
            return Some(d);
        }
        let wanted = normalise(raw);
        if wanted.is_empty() {
            return None;
        }
        self.districts.iter().find(|d| {
            d.code == wanted
                || normalise(&d.name_zh) == wanted
                || normalise(&d.name_en).eq_ignore_ascii_case(&wanted)
                || d.aliases
                    .iter()
                    .any(|a| normalise(a).eq_ignore_ascii_case(&wanted))
        })
    }

    /// Reads a region set from a TOML document (the fields of this struct; unknown keys are
    /// errors), e.g. for another city. Codes must be unique.
    pub fn from_toml(text: &str, origin: &str) -> Result<RegionSet, String> {
        let set: RegionSet =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.to_string().trim_end()))?;
        if set.districts.is_empty() {
            return Err(format!(
                "{origin}: a region set needs at least one district"
            ));
        }
        for (i, d) in set.districts.iter().enumerate() {
            if d.code.trim().is_empty() || d.name_zh.trim().is_empty() {
                return Err(format!(
                    "{origin}: district {} needs a code and a Chinese name",
                    i + 1
                ));
            }
            if set.districts[..i].iter().any(|o| o.code == d.code) {
                return Err(format!(
                    "{origin}: district code {} is listed twice",
                    d.code
                ));
            }
        }
        Ok(set)
    }

    pub fn by_code(&self, code: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.code == code)
    }
}

fn normalise(s: &str) -> String {
    s.trim()
        .trim_end_matches(".0")
        .replace('（', "(")
        .replace('）', ")")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_the_default() {
        let text = include_str!("../../../docs/examples/regions-suzhou.toml");
        assert_eq!(
            RegionSet::from_toml(text, "regions-suzhou.toml").unwrap(),
            RegionSet::suzhou()
        );
    }

    #[test]
    fn another_city_from_a_document() {
        let text = "city_zh = \"无锡市\"\ncity_en = \"Wuxi\"\ndivision_prefix = \"3202\"\n\n[[districts]]\ncode = \"320214\"\nname_zh = \"新吴区\"\nname_en = \"Xinwu\"\n";
        let set = RegionSet::from_toml(text, "wuxi.toml").unwrap();
        assert_eq!(set.resolve("新吴区").unwrap().code, "320214");
        let err =
            RegionSet::from_toml(&text.replace("name_en", "nmae_en"), "wuxi.toml").unwrap_err();
        assert!(
            err.contains("wuxi.toml") && err.contains("nmae_en"),
            "{err}"
        );
        let twice =
            format!("{text}\n[[districts]]\ncode = \"320214\"\nname_zh = \"x\"\nname_en = \"x\"\n");
        assert!(
            RegionSet::from_toml(&twice, "w.toml")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn resolves_codes_names_and_aliases() {
        let r = RegionSet::suzhou();
        assert_eq!(r.districts.len(), 10);
        assert_eq!(r.resolve("320583").unwrap().name_zh, "昆山市");
        assert_eq!(r.resolve("昆山市").unwrap().code, "320583");
        assert_eq!(r.resolve("kunshan").unwrap().code, "320583");
        assert_eq!(r.resolve("虎丘区（苏州高新区）").unwrap().code, "320505");
        assert_eq!(r.resolve("320583.0").unwrap().code, "320583");
        assert!(r.resolve("南京市").is_none());
        assert!(r.resolve("").is_none());
    }
}
