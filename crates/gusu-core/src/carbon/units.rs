//! Energy carriers and units, with the one table that says which unit fits which carrier and how
//! a quantity converts to the carrier's accounting unit (openLCA's "units are data").

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an energy line is about (issue 4's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    RawCoal,
    Coke,
    CrudeOil,
    FuelOil,
    Gasoline,
    Kerosene,
    Diesel,
    Lpg,
    RefineryGas,
    NaturalGas,
    Electricity,
    Heat,
    Steam,
    HotWater,
    ElectricityExported,
    HeatExported,
    GreenElectricity,
    Biomass,
    ProcessCo2,
}

/// A unit a quantity may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// tonne
    T,
    /// 10⁴ normal cubic metres (万标准立方米)
    #[serde(rename = "10k_nm3")]
    TenThousandNm3,
    /// normal cubic metre (gas volumes are Nm³, as in the NDRC sector guides)
    M3,
    Kwh,
    Mwh,
    Gj,
    Tco2,
}

impl Carrier {
    pub const ALL: [Carrier; 19] = [
        Carrier::RawCoal,
        Carrier::Coke,
        Carrier::CrudeOil,
        Carrier::FuelOil,
        Carrier::Gasoline,
        Carrier::Kerosene,
        Carrier::Diesel,
        Carrier::Lpg,
        Carrier::RefineryGas,
        Carrier::NaturalGas,
        Carrier::Electricity,
        Carrier::Heat,
        Carrier::Steam,
        Carrier::HotWater,
        Carrier::ElectricityExported,
        Carrier::HeatExported,
        Carrier::GreenElectricity,
        Carrier::Biomass,
        Carrier::ProcessCo2,
    ];

    /// Interchange key, as written in energy files.
    pub fn key(self) -> &'static str {
        match self {
            Carrier::RawCoal => "raw_coal",
            Carrier::Coke => "coke",
            Carrier::CrudeOil => "crude_oil",
            Carrier::FuelOil => "fuel_oil",
            Carrier::Gasoline => "gasoline",
            Carrier::Kerosene => "kerosene",
            Carrier::Diesel => "diesel",
            Carrier::Lpg => "lpg",
            Carrier::RefineryGas => "refinery_gas",
            Carrier::NaturalGas => "natural_gas",
            Carrier::Electricity => "electricity",
            Carrier::Heat => "heat",
            Carrier::Steam => "steam",
            Carrier::HotWater => "hot_water",
            Carrier::ElectricityExported => "electricity_exported",
            Carrier::HeatExported => "heat_exported",
            Carrier::GreenElectricity => "green_electricity",
            Carrier::Biomass => "biomass",
            Carrier::ProcessCo2 => "process_co2",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Carrier::RawCoal => "原煤",
            Carrier::Coke => "焦炭",
            Carrier::CrudeOil => "原油",
            Carrier::FuelOil => "燃料油",
            Carrier::Gasoline => "汽油",
            Carrier::Kerosene => "煤油",
            Carrier::Diesel => "柴油",
            Carrier::Lpg => "液化石油气",
            Carrier::RefineryGas => "炼厂干气",
            Carrier::NaturalGas => "天然气",
            Carrier::Electricity => "外购电力",
            Carrier::Heat => "外购热力",
            Carrier::Steam => "蒸汽",
            Carrier::HotWater => "热水",
            Carrier::ElectricityExported => "输出电力",
            Carrier::HeatExported => "输出热力",
            Carrier::GreenElectricity => "绿色电力",
            Carrier::Biomass => "生物质",
            Carrier::ProcessCo2 => "工业过程排放",
        }
    }

    /// Other names people write (normalised: no spaces).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Carrier::Electricity => &["电力", "电", "购入电力", "外购电"],
            Carrier::Heat => &["热力", "购入热力", "外购热"],
            Carrier::Steam => &["外购蒸汽", "购入蒸汽"],
            Carrier::HotWater => &["外购热水", "购入热水"],
            Carrier::ElectricityExported => &["外送电力", "外供电力", "输出电"],
            Carrier::HeatExported => &["外送热力", "外供热力", "输出热"],
            Carrier::GreenElectricity => &["绿电", "绿色电力交易", "购入绿电"],
            Carrier::Lpg => &["液化气"],
            Carrier::NaturalGas => &["管道天然气"],
            Carrier::ProcessCo2 => &["过程排放", "工业生产过程排放"],
            Carrier::Biomass => &["生物质燃料"],
            _ => &[],
        }
    }

    pub fn from_key(key: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.key() == key)
    }

    /// A carrier from its key, Chinese name or alias (case and spaces ignored).
    pub fn parse(raw: &str) -> Option<Carrier> {
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        Carrier::ALL
            .into_iter()
            .find(|c| c.key() == s || c.name_zh() == s || c.aliases().contains(&s.as_str()))
    }

    /// Fuels burnt on site, accounted by NCV × carbon content × oxidation × 44/12 (NDRC guides).
    pub fn is_fuel(self) -> bool {
        matches!(
            self,
            Carrier::RawCoal
                | Carrier::Coke
                | Carrier::CrudeOil
                | Carrier::FuelOil
                | Carrier::Gasoline
                | Carrier::Kerosene
                | Carrier::Diesel
                | Carrier::Lpg
                | Carrier::RefineryGas
                | Carrier::NaturalGas
        )
    }

    /// The unit the carrier is accounted in; every quantity converts to it first.
    pub fn accounting_unit(self) -> Unit {
        CONVERSIONS
            .iter()
            .find(|(c, _, factor)| *c == self && *factor == 1.0)
            .map(|(_, u, _)| *u)
            .unwrap_or(Unit::T)
    }

    /// Units this carrier may be written in.
    pub fn units(self) -> Vec<Unit> {
        CONVERSIONS
            .iter()
            .filter(|(c, _, _)| *c == self)
            .map(|(_, u, _)| *u)
            .collect()
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl Unit {
    pub const ALL: [Unit; 7] = [
        Unit::T,
        Unit::TenThousandNm3,
        Unit::M3,
        Unit::Kwh,
        Unit::Mwh,
        Unit::Gj,
        Unit::Tco2,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Unit::T => "t",
            Unit::TenThousandNm3 => "10k_nm3",
            Unit::M3 => "m3",
            Unit::Kwh => "kwh",
            Unit::Mwh => "mwh",
            Unit::Gj => "gj",
            Unit::Tco2 => "tco2",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Unit::T => &["吨", "tonne", "tonnes"],
            Unit::TenThousandNm3 => &[
                "万立方米",
                "万标准立方米",
                "万nm3",
                "万m3",
                "万nm³",
                "万m³",
                "10^4nm3",
                "10⁴nm3",
                "10⁴nm³",
            ],
            Unit::M3 => &["立方米", "标准立方米", "nm3", "nm³", "m³"],
            Unit::Kwh => &["千瓦时", "度", "kw·h", "kw.h"],
            Unit::Mwh => &["兆瓦时", "mw·h", "mw.h"],
            Unit::Gj => &["吉焦", "百万千焦"],
            Unit::Tco2 => &["吨二氧化碳", "tco₂", "tco2e", "吨二氧化碳当量"],
        }
    }

    pub fn from_key(key: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.key() == key)
    }

    /// A unit from its key or a Chinese name (case and spaces ignored).
    pub fn parse(raw: &str) -> Option<Unit> {
        let s: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        Unit::ALL
            .into_iter()
            .find(|u| u.key() == s || u.aliases().contains(&s.as_str()))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// THE conversion table: (carrier, unit, factor to the carrier's accounting unit). The row with
/// factor 1 names the accounting unit. A (carrier, unit) pair that is not here does not fit.
///
/// - Fuels are accounted per tonne, natural gas per 10⁴ Nm³ (the NDRC guides' units);
///   1 m³ (Nm³) = 1/10,000 of 10⁴ Nm³.
/// - Electricity (bought, sold, green) per MWh; 1 kWh = 1/1,000 MWh.
/// - Heat (bought, sold) in GJ. Steam and hot water in tonnes (turned into GJ by enthalpy or
///   temperature, as in the NDRC sector guides), or directly in GJ when the heat meter says so.
/// - Biomass in tonnes (needs a biomass fuel row) or directly as tCO₂; process emissions in tCO₂.
pub const CONVERSIONS: &[(Carrier, Unit, f64)] = &[
    (Carrier::RawCoal, Unit::T, 1.0),
    (Carrier::Coke, Unit::T, 1.0),
    (Carrier::CrudeOil, Unit::T, 1.0),
    (Carrier::FuelOil, Unit::T, 1.0),
    (Carrier::Gasoline, Unit::T, 1.0),
    (Carrier::Kerosene, Unit::T, 1.0),
    (Carrier::Diesel, Unit::T, 1.0),
    (Carrier::Lpg, Unit::T, 1.0),
    (Carrier::RefineryGas, Unit::T, 1.0),
    (Carrier::NaturalGas, Unit::TenThousandNm3, 1.0),
    (Carrier::NaturalGas, Unit::M3, 1.0e-4),
    (Carrier::Electricity, Unit::Mwh, 1.0),
    (Carrier::Electricity, Unit::Kwh, 1.0e-3),
    (Carrier::ElectricityExported, Unit::Mwh, 1.0),
    (Carrier::ElectricityExported, Unit::Kwh, 1.0e-3),
    (Carrier::GreenElectricity, Unit::Mwh, 1.0),
    (Carrier::GreenElectricity, Unit::Kwh, 1.0e-3),
    (Carrier::Heat, Unit::Gj, 1.0),
    (Carrier::HeatExported, Unit::Gj, 1.0),
    (Carrier::Steam, Unit::T, 1.0),
    (Carrier::Steam, Unit::Gj, 1.0),
    (Carrier::HotWater, Unit::T, 1.0),
    (Carrier::HotWater, Unit::Gj, 1.0),
    (Carrier::Biomass, Unit::T, 1.0),
    (Carrier::Biomass, Unit::Tco2, 1.0),
    (Carrier::ProcessCo2, Unit::Tco2, 1.0),
];

/// A unit written for a carrier it does not fit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unit {unit} does not fit carrier {carrier} (it takes {})", carrier.units().iter().map(|u| u.key()).collect::<Vec<_>>().join(", "))]
pub struct UnitMisfit {
    pub carrier: Carrier,
    pub unit: Unit,
}

impl UnitMisfit {
    pub fn message_zh(&self) -> String {
        format!(
            "单位 {} 不适用于能源品种 {}（{}），可用单位：{}",
            self.unit,
            self.carrier.name_zh(),
            self.carrier,
            self.carrier
                .units()
                .iter()
                .map(|u| u.key())
                .collect::<Vec<_>>()
                .join("、")
        )
    }
}

/// The factor that turns a quantity in `unit` into the carrier's accounting unit, or the misfit.
pub fn conversion(carrier: Carrier, unit: Unit) -> Result<f64, UnitMisfit> {
    CONVERSIONS
        .iter()
        .find(|(c, u, _)| *c == carrier && *u == unit)
        .map(|(_, _, f)| *f)
        .ok_or(UnitMisfit { carrier, unit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_carrier_has_exactly_one_accounting_unit() {
        for c in Carrier::ALL {
            let ones = CONVERSIONS
                .iter()
                .filter(|(cc, _, f)| *cc == c && *f == 1.0)
                .count();
            // Steam, hot water and biomass take two units at factor 1 (t and GJ / tCO₂), each
            // accounted its own way; every other carrier exactly one.
            let expected = match c {
                Carrier::Steam | Carrier::HotWater | Carrier::Biomass => 2,
                _ => 1,
            };
            assert_eq!(ones, expected, "{c}");
        }
    }

    #[test]
    fn conversions_and_misfits() {
        assert_eq!(
            conversion(Carrier::NaturalGas, Unit::M3).unwrap() * 25_000.0,
            2.5
        );
        assert_eq!(
            conversion(Carrier::Electricity, Unit::Kwh).unwrap() * 1_000.0,
            1.0
        );
        let e = conversion(Carrier::Diesel, Unit::Kwh).unwrap_err();
        assert_eq!(e.carrier, Carrier::Diesel);
        let text = e.to_string();
        assert!(text.contains("kwh") && text.contains("diesel"), "{text}");
        assert!(e.message_zh().contains("柴油") && e.message_zh().contains("kwh"));
        assert!(conversion(Carrier::ProcessCo2, Unit::T).is_err());
        assert!(conversion(Carrier::NaturalGas, Unit::T).is_err());
    }

    #[test]
    fn names_parse() {
        assert_eq!(Carrier::parse(" Natural_Gas "), Some(Carrier::NaturalGas));
        assert_eq!(Carrier::parse("天然气"), Some(Carrier::NaturalGas));
        assert_eq!(Carrier::parse("电力"), Some(Carrier::Electricity));
        assert_eq!(Carrier::parse("绿电"), Some(Carrier::GreenElectricity));
        assert_eq!(Carrier::parse("petrol"), None);
        assert_eq!(Unit::parse("万立方米"), Some(Unit::TenThousandNm3));
        assert_eq!(Unit::parse("kWh"), Some(Unit::Kwh));
        assert_eq!(Unit::parse("MWh"), Some(Unit::Mwh));
        assert_eq!(Unit::parse("吨"), Some(Unit::T));
        assert_eq!(Unit::parse("kg"), None);
        for c in Carrier::ALL {
            assert_eq!(Carrier::parse(c.key()), Some(c));
            assert_eq!(Carrier::parse(c.name_zh()), Some(c));
        }
        for u in Unit::ALL {
            assert_eq!(Unit::parse(u.key()), Some(u));
        }
    }
}
