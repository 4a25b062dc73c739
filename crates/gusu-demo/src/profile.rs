//! Parameters of the synthetic economy: how Suzhou's industry is spread over divisions and districts,
//! and what a typical enterprise of each division looks like (value-added share, tax rate, energy
//! intensity, emissions, R&D).
//!
//! The numbers are plausible orders of magnitude for a coastal manufacturing city, chosen so that the
//! per-mu, per-energy and per-pollutant indicators of the shipped schemes spread the way officials
//! expect (steel and chemicals heavy and land-hungry, electronics light and dense), not statistics
//! of any real year.

/// What a typical enterprise of one GB/T 4754 division looks like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// Two-digit division.
    pub division: &'static str,
    /// Relative number of enterprises city-wide (normalised when drawn).
    pub weight: f64,
    /// Probability of being above designated size (规上).
    pub above_scale: f64,
    /// Revenue multiplier of an above-size enterprise against a typical manufacturer.
    pub scale: f64,
    /// Land multiplier (steel works and power plants sprawl, electronics stack floors).
    pub land: f64,
    /// Value added as a share of revenue: low and high end of a uniform draw.
    pub va_share: (f64, f64),
    /// Tax paid as a share of revenue: low and high end.
    pub tax_rate: (f64, f64),
    /// Median comprehensive energy per 万元 of value added, tce (calorific basis).
    pub energy_intensity: f64,
    /// Median share of the energy (calorific basis) that is electricity.
    pub electricity_share: f64,
    /// Median COD discharged per 万元 of revenue, t; 0 for dry processes.
    pub cod_per_revenue: f64,
    /// Median SO₂ per tce of non-electric energy, t.
    pub so2_per_fuel: f64,
    /// Median NOx per tce of non-electric energy, t.
    pub nox_per_fuel: f64,
    /// Probability that an above-size enterprise is on the environment bureau's reporting list.
    pub reports_emissions: f64,
    /// Highest R&D spend as a share of revenue.
    pub rd_max: f64,
    /// Words that say the trade in a company name.
    pub words: &'static [&'static str],
    /// GB/T 4754-2017 class codes (4 digits) enterprises of the division are registered under.
    pub classes: &'static [&'static str],
}

/// Shorthand so the table below stays one line of numbers per division.
#[allow(clippy::too_many_arguments)]
const fn p(
    division: &'static str,
    weight: f64,
    above_scale: f64,
    scale: f64,
    land: f64,
    va_share: (f64, f64),
    tax_rate: (f64, f64),
    energy_intensity: f64,
    electricity_share: f64,
    emissions: (f64, f64, f64, f64),
    rd_max: f64,
    words: &'static [&'static str],
    classes: &'static [&'static str],
) -> Profile {
    Profile {
        division,
        weight,
        above_scale,
        scale,
        land,
        va_share,
        tax_rate,
        energy_intensity,
        electricity_share,
        cod_per_revenue: emissions.0,
        so2_per_fuel: emissions.1,
        nox_per_fuel: emissions.2,
        reports_emissions: emissions.3,
        rd_max,
        words,
        classes,
    }
}

// Columns: division, weight, P(规上), revenue scale, land scale, VA share, tax rate,
// tce per 万元 VA, electricity share, (COD t/万元 revenue, SO₂ t/tce fuel, NOx t/tce fuel,
// P(reports emissions)), R&D max, name words, class codes.
#[rustfmt::skip]
pub(crate) const PROFILES: &[Profile] = &[
    p("10", 0.10, 0.40, 1.0, 3.0, (0.25, 0.35), (0.03, 0.08), 0.50, 0.50, (0.0, 0.0002, 0.0004, 0.6), 0.01, &["矿业", "石料"], &["1011", "1019"]),
    p("13", 1.00, 0.35, 1.5, 1.0, (0.15, 0.22), (0.02, 0.05), 0.30, 0.45, (0.0010, 0.0002, 0.0004, 0.6), 0.02, &["食品", "粮油", "农产品"], &["1310", "1331", "1391"]),
    p("14", 1.00, 0.30, 1.0, 1.0, (0.20, 0.30), (0.03, 0.07), 0.30, 0.50, (0.0008, 0.0001, 0.0003, 0.5), 0.03, &["食品", "烘焙", "营养品"], &["1411", "1431", "1491"]),
    p("15", 0.40, 0.35, 1.2, 1.2, (0.25, 0.35), (0.05, 0.10), 0.25, 0.50, (0.0012, 0.0001, 0.0003, 0.6), 0.02, &["饮料", "酒业", "茶业"], &["1515", "1524", "1530"]),
    p("17", 7.00, 0.30, 1.0, 1.2, (0.18, 0.24), (0.02, 0.05), 0.80, 0.60, (0.0015, 0.0002, 0.0004, 0.8), 0.02, &["纺织", "织造", "丝绸", "印染"], &["1711", "1712", "1713", "1742", "1751", "1752", "1761"]),
    p("18", 3.00, 0.30, 0.8, 0.9, (0.20, 0.28), (0.02, 0.05), 0.15, 0.80, (0.0002, 0.0001, 0.0002, 0.2), 0.02, &["服饰", "制衣", "时装"], &["1811", "1819", "1821", "1830"]),
    p("19", 0.50, 0.30, 0.8, 0.9, (0.20, 0.28), (0.02, 0.05), 0.20, 0.70, (0.0008, 0.0001, 0.0002, 0.5), 0.02, &["鞋业", "皮具"], &["1952", "1954"]),
    p("20", 0.50, 0.25, 0.7, 1.0, (0.20, 0.28), (0.02, 0.05), 0.30, 0.60, (0.0, 0.0002, 0.0003, 0.3), 0.02, &["木业", "木制品"], &["2021", "2032", "2039"]),
    p("21", 1.00, 0.25, 0.8, 1.0, (0.20, 0.28), (0.02, 0.05), 0.15, 0.75, (0.0, 0.0001, 0.0002, 0.3), 0.03, &["家具", "家居"], &["2110", "2130"]),
    p("22", 1.50, 0.35, 1.2, 1.3, (0.18, 0.25), (0.02, 0.05), 1.00, 0.40, (0.0020, 0.0003, 0.0005, 0.9), 0.02, &["纸业", "包装材料", "纸制品"], &["2221", "2231"]),
    p("23", 1.50, 0.25, 0.7, 0.8, (0.22, 0.30), (0.03, 0.06), 0.12, 0.80, (0.0001, 0.0001, 0.0002, 0.3), 0.02, &["印务", "彩印", "包装印刷"], &["2311", "2312", "2319"]),
    p("24", 1.00, 0.25, 0.7, 0.8, (0.20, 0.28), (0.02, 0.05), 0.10, 0.80, (0.0, 0.0001, 0.0002, 0.2), 0.03, &["文体用品", "工艺品", "玩具"], &["2411", "2439", "2452"]),
    p("25", 0.20, 0.60, 6.0, 4.0, (0.12, 0.20), (0.04, 0.10), 2.50, 0.15, (0.0003, 0.0005, 0.0008, 0.95), 0.01, &["能源", "石化"], &["2511", "2521"]),
    p("26", 5.00, 0.40, 2.0, 1.5, (0.20, 0.30), (0.03, 0.07), 1.20, 0.35, (0.0006, 0.0002, 0.0004, 0.9), 0.04, &["化工", "新材料", "涂料", "精细化工"], &["2614", "2641", "2651", "2661", "2662", "2669"]),
    p("27", 2.00, 0.55, 2.0, 1.2, (0.30, 0.40), (0.05, 0.10), 0.20, 0.60, (0.0008, 0.0001, 0.0003, 0.9), 0.08, &["生物医药", "制药", "生物科技", "医药"], &["2710", "2720", "2761", "2770"]),
    p("28", 1.50, 0.50, 3.0, 2.0, (0.15, 0.22), (0.02, 0.05), 1.00, 0.55, (0.0004, 0.0002, 0.0004, 0.9), 0.02, &["化纤", "化学纤维", "纤维"], &["2821", "2822", "2829"]),
    p("29", 8.00, 0.35, 1.0, 1.0, (0.18, 0.26), (0.02, 0.06), 0.35, 0.80, (0.0001, 0.0001, 0.0003, 0.4), 0.03, &["塑胶", "橡塑", "塑料制品", "高分子"], &["2911", "2919", "2921", "2922", "2926", "2929"]),
    p("30", 3.00, 0.35, 1.2, 1.5, (0.20, 0.28), (0.03, 0.06), 1.50, 0.40, (0.0, 0.0008, 0.0015, 0.9), 0.02, &["建材", "玻璃", "陶瓷", "新型建材"], &["3011", "3021", "3042", "3062"]),
    p("31", 0.80, 0.70, 20.0, 8.0, (0.15, 0.22), (0.015, 0.04), 3.00, 0.25, (0.00005, 0.0006, 0.0010, 1.0), 0.015, &["钢铁", "特钢", "钢业", "钢管"], &["3110", "3120", "3130", "3140"]),
    p("32", 2.00, 0.40, 2.5, 1.5, (0.12, 0.20), (0.02, 0.05), 0.80, 0.55, (0.0001, 0.0004, 0.0006, 0.8), 0.02, &["铜业", "铝业", "有色金属"], &["3211", "3216", "3251", "3252"]),
    p("33", 9.00, 0.30, 0.8, 1.0, (0.20, 0.28), (0.02, 0.06), 0.25, 0.75, (0.0002, 0.0001, 0.0003, 0.5), 0.03, &["金属制品", "五金", "钢结构", "精密"], &["3311", "3331", "3360", "3389", "3399"]),
    p("34", 10.00, 0.35, 1.2, 1.0, (0.22, 0.30), (0.03, 0.07), 0.12, 0.85, (0.0, 0.0001, 0.0002, 0.15), 0.05, &["机械", "精密机械", "阀门", "泵业", "轴承"], &["3441", "3443", "3451", "3484", "3491"]),
    p("35", 7.00, 0.35, 1.2, 1.0, (0.22, 0.30), (0.03, 0.07), 0.10, 0.85, (0.0, 0.0001, 0.0002, 0.15), 0.06, &["装备", "自动化设备", "智能装备", "机电"], &["3523", "3562", "3581", "3599"]),
    p("36", 4.00, 0.50, 3.0, 1.5, (0.18, 0.25), (0.03, 0.07), 0.12, 0.80, (0.0001, 0.0001, 0.0002, 0.3), 0.04, &["汽车部件", "汽车零部件", "汽配"], &["3612", "3670", "3670", "3670"]),
    p("37", 1.00, 0.40, 2.0, 2.0, (0.18, 0.26), (0.02, 0.06), 0.15, 0.75, (0.0, 0.0001, 0.0003, 0.3), 0.04, &["船舶", "轨道交通设备", "车业"], &["3731", "3720", "3771"]),
    p("38", 10.00, 0.35, 1.5, 1.0, (0.18, 0.26), (0.02, 0.06), 0.12, 0.85, (0.0, 0.0001, 0.0002, 0.15), 0.05, &["电气", "电机", "电器", "新能源", "线缆"], &["3811", "3812", "3821", "3831", "3841", "3851", "3872"]),
    p("39", 13.00, 0.40, 2.5, 0.8, (0.15, 0.24), (0.015, 0.05), 0.06, 0.92, (0.0001, 0.00005, 0.0001, 0.3), 0.07, &["电子", "光电", "微电子", "半导体", "通讯"], &["3911", "3912", "3914", "3921", "3972", "3973", "3974", "3976", "3981", "3982", "3985", "3989"]),
    p("40", 2.00, 0.35, 1.0, 0.8, (0.28, 0.36), (0.03, 0.07), 0.05, 0.90, (0.0, 0.00005, 0.0001, 0.1), 0.07, &["仪器", "仪表", "检测设备", "光学"], &["4011", "4014", "4021", "4040"]),
    p("41", 0.50, 0.25, 0.7, 0.9, (0.20, 0.28), (0.02, 0.05), 0.15, 0.75, (0.0, 0.0001, 0.0002, 0.1), 0.02, &["实业", "制品"], &["4190"]),
    p("42", 0.50, 0.30, 1.0, 1.5, (0.12, 0.20), (0.01, 0.04), 0.40, 0.60, (0.0003, 0.0002, 0.0003, 0.7), 0.01, &["再生资源", "环保科技", "资源利用"], &["4210", "4220"]),
    p("43", 0.30, 0.25, 0.7, 0.8, (0.25, 0.35), (0.03, 0.06), 0.10, 0.85, (0.0, 0.0001, 0.0002, 0.1), 0.02, &["设备维修", "机电维修"], &["4320", "4330"]),
    p("44", 0.30, 0.80, 6.0, 3.0, (0.20, 0.30), (0.03, 0.07), 4.00, 0.10, (0.00005, 0.0003, 0.0005, 1.0), 0.005, &["热电", "电力", "能源"], &["4411", "4412", "4430"]),
    p("45", 0.10, 0.80, 4.0, 1.0, (0.15, 0.22), (0.03, 0.06), 0.20, 0.50, (0.0, 0.0001, 0.0002, 0.5), 0.005, &["燃气", "天然气"], &["4511"]),
    p("46", 0.10, 0.80, 2.0, 2.0, (0.30, 0.40), (0.03, 0.06), 0.60, 0.95, (0.0002, 0.0, 0.0, 0.8), 0.005, &["水务", "自来水", "污水处理"], &["4610", "4620"]),
];

/// One of Suzhou's districts as the generator sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DistrictProfile {
    /// The district's code in `RegionSet::suzhou()`.
    pub code: &'static str,
    /// Relative number of enterprises (roughly by industrial weight).
    pub weight: f64,
    /// How company names of the district start.
    pub name_prefixes: &'static [&'static str],
    /// Divisions the district is known for, with a multiplier on their weight.
    pub specialities: &'static [(&'static str, f64)],
    /// A registration code used before a boundary change, and the year it stopped: codes issued by
    /// the old authority stay valid, so older enterprises still carry them.
    pub historic: Option<(&'static str, i32)>,
    /// Registration authorities other than the district's code, with the share of enterprises
    /// registered there (SIP registers under its own authority code 320594).
    pub registrars: &'static [(&'static str, f64)],
}

pub(crate) const DISTRICTS: &[DistrictProfile] = &[
    DistrictProfile {
        code: "320583",
        weight: 18.0,
        name_prefixes: &["昆山"],
        specialities: &[("39", 2.0), ("36", 1.3), ("38", 1.2), ("17", 0.3)],
        historic: None,
        registrars: &[("320500", 0.05)],
    },
    DistrictProfile {
        code: "320571",
        weight: 14.0,
        name_prefixes: &["苏州"],
        specialities: &[
            ("39", 1.8),
            ("27", 4.0),
            ("40", 2.0),
            ("35", 1.3),
            ("26", 0.3),
            ("17", 0.1),
            ("31", 0.0),
        ],
        historic: None,
        registrars: &[("320594", 0.7)],
    },
    DistrictProfile {
        code: "320509",
        weight: 14.0,
        name_prefixes: &["苏州", "吴江"],
        specialities: &[("17", 4.0), ("18", 2.0), ("28", 3.0), ("38", 1.3)],
        historic: Some(("320584", 2012)),
        registrars: &[("320500", 0.03)],
    },
    DistrictProfile {
        code: "320581",
        weight: 12.0,
        name_prefixes: &["常熟"],
        specialities: &[
            ("17", 2.0),
            ("18", 3.0),
            ("36", 1.5),
            ("37", 2.0),
            ("26", 1.3),
        ],
        historic: None,
        registrars: &[("320500", 0.03)],
    },
    DistrictProfile {
        code: "320582",
        weight: 11.0,
        name_prefixes: &["张家港"],
        specialities: &[
            ("31", 6.0),
            ("26", 2.0),
            ("28", 2.0),
            ("32", 1.5),
            ("44", 2.0),
        ],
        historic: None,
        registrars: &[("320500", 0.03)],
    },
    DistrictProfile {
        code: "320506",
        weight: 9.0,
        name_prefixes: &["苏州"],
        specialities: &[("34", 1.3), ("35", 1.3), ("27", 1.5)],
        historic: None,
        registrars: &[("320500", 0.08)],
    },
    DistrictProfile {
        code: "320505",
        weight: 8.0,
        name_prefixes: &["苏州"],
        specialities: &[("39", 1.5), ("40", 1.5), ("38", 1.2), ("31", 0.0)],
        historic: None,
        registrars: &[("320500", 0.08)],
    },
    DistrictProfile {
        code: "320507",
        weight: 7.0,
        name_prefixes: &["苏州"],
        specialities: &[("33", 1.3), ("29", 1.3), ("21", 1.5)],
        historic: None,
        registrars: &[("320500", 0.08)],
    },
    DistrictProfile {
        code: "320585",
        weight: 6.0,
        name_prefixes: &["太仓"],
        specialities: &[("36", 2.0), ("34", 1.5), ("26", 1.5), ("44", 1.5)],
        historic: None,
        registrars: &[("320500", 0.03)],
    },
    DistrictProfile {
        code: "320508",
        weight: 1.0,
        name_prefixes: &["苏州"],
        specialities: &[
            ("23", 3.0),
            ("14", 2.0),
            ("24", 2.0),
            ("31", 0.0),
            ("26", 0.2),
            ("25", 0.0),
        ],
        historic: Some(("320503", 2012)),
        registrars: &[("320500", 0.15)],
    },
];

/// Registration places outside Suzhou (a company may register in Shanghai and build its plant in
/// Kunshan; that is legal and the importer must accept it).
pub(crate) const OUTSIDE_REGISTRARS: &[&str] = &[
    "310115", "310112", "310000", "320100", "320200", "330100", "440300", "110000",
];

/// Share of enterprises registered outside Suzhou.
pub(crate) const OUTSIDE_SHARE: f64 = 0.005;

/// kgce per kWh of electricity on the calorific (当量值) basis, GB/T 2589-2020; tce per kWh is / 1000.
pub(crate) const ELECTRICITY_CALORIFIC_KGCE: f64 = 0.1229;

/// Coal rate for power supply used for the equivalent (等价值) basis, kgce/kWh (approximate, as
/// rules/factors/standard-coal-gb2589.toml; not a published yearly value).
pub(crate) const ELECTRICITY_EQUIVALENT_KGCE: f64 = 0.300;

/// Revenue above which an enterprise is above designated size: 2000 万元 of main business revenue.
pub(crate) const ABOVE_SCALE_REVENUE: f64 = 2000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_names_a_real_division_and_its_classes() {
        for p in PROFILES {
            let d = gusu_core::division(p.division).expect(p.division);
            assert!(
                !p.words.is_empty() && !p.classes.is_empty(),
                "{}",
                p.division
            );
            for c in p.classes {
                let parsed = gusu_core::parse_industry_code(c, false).unwrap();
                assert_eq!(parsed.division.code, d.code, "{c}");
            }
            assert!(p.va_share.0 < p.va_share.1 && p.tax_rate.0 < p.tax_rate.1);
        }
    }

    #[test]
    fn every_district_is_in_the_suzhou_region_set() {
        let region = gusu_core::RegionSet::suzhou();
        assert_eq!(DISTRICTS.len(), region.districts.len());
        for d in DISTRICTS {
            assert!(region.by_code(d.code).is_some(), "{}", d.code);
            for (div, _) in d.specialities {
                assert!(PROFILES.iter().any(|p| p.division == *div), "{div}");
            }
            for (code, _) in d.registrars {
                assert!(code.starts_with("3205"));
            }
        }
    }
}
