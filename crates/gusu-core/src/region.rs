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
    /// Written before a district's name in full addresses and dropped before matching
    /// (江苏省, 苏州市: "江苏省苏州市相城区" is 相城区).
    #[serde(default)]
    pub prefixes: Vec<String>,
    pub districts: Vec<District>,
}

impl RegionSet {
    /// Suzhou's ten county-level areas, with the names people write for them: the region
    /// document `rules/regions/suzhou.toml`, built in.
    pub fn suzhou() -> RegionSet {
        RegionSet::from_toml(
            include_str!("../../../rules/regions/suzhou.toml"),
            "builtin:rules/regions/suzhou.toml",
        )
        .expect("the built-in region document is valid (tested)")
    }

    /// Finds a district by code, Chinese or English name, or alias, written alone or after the
    /// region's prefixes (province, city). Brackets may be full or half width.
    pub fn resolve(&self, raw: &str) -> Option<&District> {
        self.resolve_exactly(raw).or_else(|| {
            let mut rest = raw.trim();
            let mut stripped = false;
            while let Some(r) = self
                .prefixes
                .iter()
                .find_map(|p| rest.strip_prefix(p.as_str()))
                .filter(|r| !r.is_empty())
            {
                rest = r;
                stripped = true;
            }
            stripped.then(|| self.resolve_exactly(rest)).flatten()
        })
    }

    fn resolve_exactly(&self, raw: &str) -> Option<&District> {
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
    fn the_documented_example_names_the_same_districts() {
        let text = include_str!("../../../docs/examples/regions-suzhou.toml");
        let example = RegionSet::from_toml(text, "regions-suzhou.toml").unwrap();
        let codes = |r: &RegionSet| -> Vec<(String, String)> {
            r.districts
                .iter()
                .map(|d| (d.code.clone(), d.name_zh.clone()))
                .collect()
        };
        assert_eq!(codes(&example), codes(&RegionSet::suzhou()));
    }

    #[test]
    fn full_addresses_and_former_names() {
        let r = RegionSet::suzhou();
        for (written, code) in [
            ("苏州市姑苏区", "320508"),
            ("江苏省苏州市相城区", "320507"),
            ("苏州高新区（虎丘区）", "320505"),
            ("吴江市", "320509"),
            ("江苏省吴江市", "320509"),
            ("苏州工业园区", "320571"),
            ("苏州市昆山市", "320583"),
            ("原平江区", "-"),
        ] {
            assert_eq!(
                r.resolve(written).map_or("-", |d| d.code.as_str()),
                code,
                "{written}"
            );
        }
        // A prefix alone is no district.
        assert!(r.resolve("苏州市").is_none());
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
