//! Hand-computed cases of the accounting, grid selection and carbon-efficiency grade.

use proptest::prelude::*;

use super::factors::PUBLISHED_ROUNDING;
use super::*;

fn lib() -> FactorLibrary {
    FactorLibrary::builtin().expect("the shipped factor documents load")
}

fn settings(year: i32) -> Settings<'static> {
    Settings {
        year,
        grid: GridChoice::Default,
        location: None,
        coal_rate: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {
        assert!(close($a, $b), "{} = {} ≠ {}", stringify!($a), $a, $b)
    };
}

#[test]
fn every_default_fuel_row_matches_ncv_cc_of_44_12() {
    let lib = lib();
    let fuels: Vec<Carrier> = Carrier::ALL.into_iter().filter(|c| c.is_fuel()).collect();
    assert_eq!(lib.fuels().len(), fuels.len(), "one shipped row per fuel");
    for c in fuels {
        let row = lib
            .fuel(c, 2024)
            .unwrap_or_else(|| panic!("no row for {c}"));
        let computed =
            row.ncv_gj * row.carbon_content_tc_per_tj / 1000.0 * row.oxidation * 44.0 / 12.0;
        // The published column has 4–5 significant digits: it equals the product rounded there.
        let digits = if row.tco2_per_unit >= 10.0 { 3 } else { 4 };
        let rounded = (computed * 10f64.powi(digits)).round() / 10f64.powi(digits);
        assert!(
            (rounded - row.tco2_per_unit).abs() < 1e-9,
            "{}: published {} but NCV × CC × OF × 44/12 = {computed} (rounds to {rounded})",
            row.id,
            row.tco2_per_unit
        );
        assert!((computed - row.tco2_per_unit).abs() <= PUBLISHED_ROUNDING * row.tco2_per_unit);
        assert_eq!(row.unit, c.accounting_unit());
    }
}

#[test]
fn documents_are_strict() {
    let mut lib = FactorLibrary::default();
    let bad_key = "[document]\nname='x'\nversion='1'\ntitle_zh='x'\ntitle_en='x'\nconfidence='L'\nsurprise=1\n";
    let e = lib.add_toml(bad_key, "x.toml").unwrap_err().to_string();
    assert!(e.contains("x.toml") && e.contains("surprise"), "{e}");
    let wrong_product = "[document]\nname='x'\nversion='1'\ntitle_zh='x'\ntitle_en='x'\nconfidence='L'\n\
        [[fuel]]\nid='f'\ncarrier='diesel'\nunit='t'\nncv_gj=42.652\ncarbon_content_tc_per_tj=20.2\noxidation=0.98\n\
        tco2_per_unit=3.2\ntce_per_unit=1.4571\nregion='CN'\nbasis='x'\nsource='x'\n";
    let e = lib
        .add_toml(wrong_product, "y.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("y.toml") && e.contains("row f"), "{e}");
    let wrong_unit = "[document]\nname='x'\nversion='1'\ntitle_zh='x'\ntitle_en='x'\nconfidence='L'\n\
        [[coefficient]]\nid='c'\nkey='heat_tco2_per_gj'\nvalue=0.11\nunit='kgco2/gj'\nsource='x'\n";
    assert!(
        lib.add_toml(wrong_unit, "z.toml")
            .unwrap_err()
            .to_string()
            .contains("tco2/gj")
    );
}

#[test]
fn an_override_row_replaces_the_shipped_one() {
    let mut lib = lib();
    let text = "[document]\nname='local'\nversion='1'\ntitle_zh='x'\ntitle_en='x'\nconfidence='H'\n\
        [[coefficient]]\nid='local:coal_rate:2024'\nkey='power_supply_coal_rate'\nvalue=0.301\nunit='kgce/kwh'\n\
        valid_from=2024\nvalid_to=2024\nsource='published 2024 value'\n";
    lib.add_toml(text, "local.toml").unwrap();
    let m = Method::new(&lib, &settings(2024)).unwrap();
    let a = m
        .account(&[EnergyLine::new(Carrier::Electricity, 1000.0, Unit::Mwh)])
        .unwrap();
    assert_close!(a.energy_tce_equivalent, 301.0);
    assert!(a.factors.contains(&"local:coal_rate:2024".to_string()));
    assert!(!a.warnings.contains(&"coal_rate_approximate".to_string()));
    // Other years still take the approximate row.
    let m = Method::new(&lib, &settings(2023)).unwrap();
    let a = m
        .account(&[EnergyLine::new(Carrier::Electricity, 1000.0, Unit::Mwh)])
        .unwrap();
    assert_close!(a.energy_tce_equivalent, 300.0);
    assert!(a.warnings.contains(&"coal_rate_approximate".to_string()));
}

// The hand-computed case (year 2023, grid factor by default: national statistical 2023 = 0.5306).
//
// Scope 1 (NCV × CC / 1000 × OF × 44/12 per unit):
//   raw coal 100 t × 20.908 × 26.37 / 1000 × 0.94 × 44/12 = 100 × 1.9002988488 = 190.02988488
//   natural gas 250,000 m³ = 25 × 10⁴Nm³ × 389.31 × 15.3 / 1000 × 0.99 × 44/12 = 540.54720225
//   diesel 10 t × 42.652 × 20.2 / 1000 × 0.98 × 44/12 = 30.959096373
//   process CO₂ 50 t                                   → scope 1 = 811.5361835033
// Scope 2:
//   electricity 2,000,000 kWh = 2000 MWh × 0.5306 = 1061.2
//   steam 1000 t at 2800 kJ/kg: 1000 × (2800 − 83.74) / 1000 = 2716.26 GJ
//   steam 500 t, no enthalpy: 500 × 3.769 = 1884.5 GJ (warning)
//   hot water 2000 t at 80 °C: 2000 × (80 − 20) × 4.1868 / 1000 = 502.416 GJ
//   heat 100 GJ                        → heat 5203.176 GJ × 0.11 = 572.34936
//                                      → scope 2 = 1633.54936
// Exported: 100 MWh × 0.5306 + 50 GJ × 0.11 = 53.06 + 5.5 = 58.56
// Total = 811.5361835033 + 1633.54936 − 58.56 = 2386.5255435033
// Biomass 30 tCO₂: reported apart (not in the total).
// Green electricity 500 MWh × 0.5306 = 265.3 out for the grade: 2121.2255435033
// Energy, 当量值: 71.43 (coal 100 × 0.7143) + 332.5 (gas 25 × 13.3) + 14.571 (diesel 10 × 1.4571)
//   + (2716.26 + 502.416 + 100 − 50 exported) GJ × 0.03412 = 111.52723512
//   + 500 t steam × 0.1286 = 64.3 + (2000 − 100) MWh × 0.1229 = 233.51   → 827.83822512
// Energy, 等价值: the same with (2000 − 100) × 0.30 = 570 for electricity  → 1164.32822512
fn golden_lines() -> Vec<EnergyLine> {
    let steam_measured = EnergyLine {
        enthalpy_kj_per_kg: Some(2800.0),
        ..EnergyLine::new(Carrier::Steam, 1000.0, Unit::T)
    };
    let hot_water = EnergyLine {
        temperature_c: Some(80.0),
        ..EnergyLine::new(Carrier::HotWater, 2000.0, Unit::T)
    };
    vec![
        EnergyLine::new(Carrier::RawCoal, 100.0, Unit::T),
        EnergyLine::new(Carrier::NaturalGas, 250_000.0, Unit::M3),
        EnergyLine::new(Carrier::Diesel, 10.0, Unit::T),
        EnergyLine::new(Carrier::ProcessCo2, 50.0, Unit::Tco2),
        EnergyLine::new(Carrier::Electricity, 2_000_000.0, Unit::Kwh),
        steam_measured,
        EnergyLine::new(Carrier::Steam, 500.0, Unit::T),
        hot_water,
        EnergyLine::new(Carrier::Heat, 100.0, Unit::Gj),
        EnergyLine::new(Carrier::ElectricityExported, 100.0, Unit::Mwh),
        EnergyLine::new(Carrier::HeatExported, 50.0, Unit::Gj),
        EnergyLine::new(Carrier::Biomass, 30.0, Unit::Tco2),
        EnergyLine::new(Carrier::GreenElectricity, 500_000.0, Unit::Kwh),
    ]
}

#[test]
fn hand_computed_ghg_case() {
    let lib = lib();
    let m = Method::new(&lib, &settings(2023)).unwrap();
    assert_eq!(m.grid.id, "mee-nbs:statistical:national:2023");
    assert_eq!(m.grid.fallback_year, None);
    let a = m.account(&golden_lines()).unwrap();
    assert_close!(a.combustion_tco2, 761.5361835033333);
    assert_close!(a.scope1_tco2, 811.5361835033333);
    assert_close!(a.heat_gj, 5203.176);
    assert_close!(a.electricity_tco2, 1061.2);
    assert_close!(a.scope2_tco2, 1633.54936);
    assert_close!(a.exported_tco2, 58.56);
    assert_close!(a.total_tco2, 2386.525543503333);
    assert_close!(a.biomass_tco2, 30.0);
    assert_close!(a.green_tco2, 265.3);
    assert_close!(a.efficiency_tco2, 2121.225543503333);
    assert_close!(a.energy_tce, 827.83822512);
    assert_close!(a.energy_tce_equivalent, 1164.32822512);
    assert_eq!(
        a.warnings,
        [
            "biomass_energy_not_counted",
            "coal_rate_approximate",
            "steam_default_enthalpy"
        ]
    );
    for id in [
        "ndrc:raw_coal",
        "ndrc:natural_gas",
        "ndrc:diesel",
        "mee-nbs:statistical:national:2023",
        "gbt32150:heat",
        "gbt32150:steam_reference_enthalpy",
        "gb2589:steam_default_heat",
        "gb2589:steam_low_pressure",
        "gbt32150:hot_water_reference",
        "gbt32150:water_specific_heat",
        "gb2589:electricity_calorific",
        "gb2589:heat",
        "approx:power_supply_coal_rate",
    ] {
        assert!(
            a.factors.iter().any(|f| f == id),
            "{id} not in {:?}",
            a.factors
        );
    }
    assert!(!a.factors.iter().any(|f| f == "ndrc:coke"));
}

#[test]
fn grid_factor_selection_and_fallback() {
    let lib = lib();
    let suzhou = lib.location("3205").expect("Suzhou is located").clone();
    assert_eq!(
        (suzhou.province.as_str(), suzhou.grid_region.as_str()),
        ("江苏", "华东")
    );
    let pick = |year, choice| resolve_grid(&lib, year, choice, Some(&suzhou));
    let select = |basis, scope| GridChoice::Select { basis, scope };
    // The accounting year's national statistical average.
    let g = pick(2022, GridChoice::Default).unwrap();
    assert_eq!((g.value, g.fallback_year), (0.5366, None));
    // 2024 is not published: the latest earlier year, 2023, with its year named.
    let g = pick(2024, GridChoice::Default).unwrap();
    assert_eq!((g.value, g.fallback_year), (0.5306, Some(2023)));
    let m = Method::new(&lib, &settings(2024)).unwrap();
    let a = m
        .account(&[EnergyLine::new(Carrier::Electricity, 10.0, Unit::Mwh)])
        .unwrap();
    assert!(
        a.warnings
            .contains(&"grid_factor_earlier_year:2023".to_string())
    );
    assert_close!(a.total_tco2, 5.306);
    // A year before any publication is an error, never a later year's factor.
    let e = pick(2020, GridChoice::Default).unwrap_err().to_string();
    assert!(
        e.contains("2020") && e.contains("mee-nbs:statistical:national:2021"),
        "{e}"
    );
    // Regional, provincial, carbon market.
    let g = pick(2022, select(GridBasis::Statistical, GridScope::Regional)).unwrap();
    assert_eq!(
        (g.value, g.id.as_str()),
        (0.5617, "mee-nbs:statistical:regional:华东:2022")
    );
    let g = pick(2023, select(GridBasis::Statistical, GridScope::Provincial)).unwrap();
    assert_eq!(g.value, 0.5827);
    assert!(pick(2022, select(GridBasis::Statistical, GridScope::Provincial)).is_err());
    let g = pick(2023, select(GridBasis::CarbonMarket, GridScope::National)).unwrap();
    assert_eq!((g.value, g.fallback_year), (0.5703, Some(2022)));
    // Regional without a location is an error; a given value is taken as is.
    assert!(
        resolve_grid(
            &lib,
            2022,
            select(GridBasis::Statistical, GridScope::Regional),
            None
        )
        .is_err()
    );
    let g = pick(2024, GridChoice::Given(0.6)).unwrap();
    assert_eq!(
        (g.value, g.id.as_str(), g.fallback_year),
        (0.6, "given:grid_factor", None)
    );
    assert!(pick(2024, GridChoice::Given(-1.0)).is_err());
}

#[test]
fn unit_misfits_and_bad_lines_name_carrier_and_unit() {
    let lib = lib();
    let m = Method::new(&lib, &settings(2023)).unwrap();
    let lines = [
        EnergyLine::new(Carrier::Diesel, 1.0, Unit::T),
        EnergyLine::new(Carrier::Electricity, 5.0, Unit::T),
    ];
    let e = m.account(&lines).unwrap_err();
    assert_eq!((e.index, e.carrier), (1, Carrier::Electricity));
    assert!(
        e.message.contains("unit t") && e.message.contains("electricity"),
        "{}",
        e.message
    );
    assert!(e.message_zh.contains("外购电力"));
    let hot = [EnergyLine::new(Carrier::HotWater, 1.0, Unit::T)];
    assert!(
        m.account(&hot)
            .unwrap_err()
            .message
            .contains("temperature_c")
    );
    let cold = [EnergyLine {
        temperature_c: Some(15.0),
        ..EnergyLine::new(Carrier::HotWater, 1.0, Unit::T)
    }];
    assert!(m.account(&cold).is_err());
    let wet = [EnergyLine {
        enthalpy_kj_per_kg: Some(80.0),
        ..EnergyLine::new(Carrier::Steam, 1.0, Unit::T)
    }];
    assert!(m.account(&wet).is_err());
    assert!(
        m.account(&[EnergyLine::new(Carrier::Coke, -1.0, Unit::T)])
            .is_err()
    );
}

#[test]
fn steam_and_hot_water_in_gj_and_biomass_without_factor() {
    let lib = lib();
    let m = Method::new(&lib, &settings(2023)).unwrap();
    let a = m
        .account(&[
            EnergyLine::new(Carrier::Steam, 10.0, Unit::Gj),
            EnergyLine::new(Carrier::HotWater, 5.0, Unit::Gj),
            EnergyLine::new(Carrier::Biomass, 7.0, Unit::T),
        ])
        .unwrap();
    // 15 GJ × 0.11 = 1.65 tCO₂; 15 GJ × 0.03412 = 0.5118 tce; no electricity, so both bases agree.
    assert_close!(a.scope2_tco2, 1.65);
    assert_close!(a.energy_tce, 0.5118);
    assert_close!(a.energy_tce_equivalent, 0.5118);
    assert_eq!(a.biomass_tco2, 0.0);
    assert_eq!(a.warnings, ["biomass_factor_missing"]);
    // Green electricity beyond the purchased electricity is capped there, with a warning.
    let a = m
        .account(&[
            EnergyLine::new(Carrier::Electricity, 10.0, Unit::Mwh),
            EnergyLine::new(Carrier::GreenElectricity, 12.0, Unit::Mwh),
        ])
        .unwrap();
    assert_close!(a.efficiency_tco2, 0.0);
    assert!(a.warnings.contains(&"green_exceeds_purchased".to_string()));
}

/// Carbon efficiency, worked by hand (division 26 in the city, division 39 alone):
///   e1: 600 t / 1000 万元 → L 0.6 (low, the band includes its max)
///   e2: 3000 t / 1000 万元 → L 3.0 (high)
///   e3: 1500 t / 1000 万元 → L 1.5 (medium)
///   e4: no value added → no L, left out of the sums
///   division 26 L = (600 + 3000 + 1500) / 3000 = 1.7
///   K: e1 0.6/1.7 = 0.3529 → 1; e2 3.0/1.7 = 1.7647 → 4; e3 1.5/1.7 = 0.8824 → 3
///   e5 (division 39, alone): L = 2.0 (medium), K = 1 → 3
///   e6 (division 39, net exporter, −100 t / 100 万元): L −1 low; division 39 L = (200 − 100)/200
///   = 0.5, so e5 K = 4 → grade 5 and e6 K = −2 → grade 1.
#[test]
fn carbon_efficiency_grade_by_hand() {
    let lib = lib();
    let input = |division, co2_t, value_added| EfficiencyInput {
        division,
        district: "320583",
        co2_t,
        value_added,
    };
    let inputs = [
        input("26", 600.0, Some(1000.0)),
        input("26", 3000.0, Some(1000.0)),
        input("26", 1500.0, Some(1000.0)),
        input("26", 999.0, None),
        input("39", 200.0, Some(100.0)),
        input("39", -100.0, Some(100.0)),
    ];
    let g = grade(&lib, &inputs, PeerArea::City);
    let got: Vec<(Option<&str>, Option<&str>)> = g
        .iter()
        .map(|e| (e.level.as_deref(), e.grade.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (Some("low"), Some("1")),
            (Some("high"), Some("4")),
            (Some("medium"), Some("3")),
            (None, None),
            (Some("medium"), Some("5")),
            (Some("low"), Some("1")),
        ]
    );
    assert_close!(g[0].division_l.unwrap(), 1.7);
    assert_close!(g[1].k.unwrap(), 3.0 / 1.7);
    assert_close!(g[4].k.unwrap(), 4.0);
    assert_eq!(g[3].warnings, ["value_added_missing"]);
    assert_eq!(g[0].factors, ["zj:level:low", "zj:grade:1"]);
    // By district: another district's enterprise of division 26 is its own peer.
    let mut other = inputs.clone();
    other[1].district = "320505";
    let g = grade(&lib, &other, PeerArea::District);
    assert_close!(g[0].division_l.unwrap(), 2100.0 / 2000.0);
    assert_eq!(g[1].grade.as_deref(), Some("3"));
    // A division whose CO₂ sums to ≤ 0 has no K.
    let g = grade(&lib, &[input("17", -5.0, Some(10.0))], PeerArea::City);
    assert_eq!(
        (g[0].k, g[0].warnings.clone()),
        (None, vec!["division_l_not_positive".to_string()])
    );
}

fn line_strategy() -> impl Strategy<Value = EnergyLine> {
    let fits: Vec<(Carrier, Unit)> = units::CONVERSIONS
        .iter()
        .map(|(c, u, _)| (*c, *u))
        .collect();
    (
        prop::sample::select(fits),
        0.0..1e6f64,
        100.0..4000.0f64,
        21.0..150.0f64,
    )
        .prop_map(|((carrier, unit), quantity, h, t)| EnergyLine {
            carrier,
            quantity,
            unit,
            enthalpy_kj_per_kg: (carrier == Carrier::Steam).then_some(h),
            temperature_c: (carrier == Carrier::HotWater).then_some(t),
        })
}

proptest! {
    /// Scaling every quantity scales every total by the same factor.
    #[test]
    fn totals_scale_with_quantities(lines in prop::collection::vec(line_strategy(), 0..12), k in 0.1..10.0f64) {
        let lib = lib();
        let m = Method::new(&lib, &settings(2023)).unwrap();
        let a = m.account(&lines).unwrap();
        let scaled: Vec<EnergyLine> = lines.iter().map(|l| EnergyLine { quantity: l.quantity * k, ..l.clone() }).collect();
        let b = m.account(&scaled).unwrap();
        for (x, y) in [
            (a.scope1_tco2, b.scope1_tco2),
            (a.scope2_tco2, b.scope2_tco2),
            (a.exported_tco2, b.exported_tco2),
            (a.biomass_tco2, b.biomass_tco2),
            (a.energy_tce, b.energy_tce),
            (a.energy_tce_equivalent, b.energy_tce_equivalent),
        ] {
            prop_assert!((x * k - y).abs() <= 1e-9 * (x * k).abs().max(1.0), "{} × {} ≠ {}", x, k, y);
        }
    }

    /// Sending energy out never increases the total; biomass never changes it.
    #[test]
    fn exported_never_increases_and_biomass_never_enters(
        lines in prop::collection::vec(line_strategy(), 0..12),
        mwh in 0.0..1e5f64,
        gj in 0.0..1e5f64,
        bio in 0.0..1e5f64,
    ) {
        let lib = lib();
        let m = Method::new(&lib, &settings(2023)).unwrap();
        let a = m.account(&lines).unwrap();
        let mut more = lines.clone();
        more.push(EnergyLine::new(Carrier::ElectricityExported, mwh, Unit::Mwh));
        more.push(EnergyLine::new(Carrier::HeatExported, gj, Unit::Gj));
        more.push(EnergyLine::new(Carrier::Biomass, bio, Unit::Tco2));
        let b = m.account(&more).unwrap();
        prop_assert!(b.total_tco2 <= a.total_tco2 + 1e-9 * a.total_tco2.abs().max(1.0));
        prop_assert!((b.scope1_tco2 - a.scope1_tco2).abs() <= 1e-9 * a.scope1_tco2.abs().max(1.0));
        prop_assert!((b.scope2_tco2 - a.scope2_tco2).abs() <= 1e-9 * a.scope2_tco2.abs().max(1.0));
    }
}

/// Every warning code the accounting and the grade can give is in docs/warnings.md.
#[test]
fn every_warning_code_is_documented() {
    let doc = include_str!("../../../../docs/warnings.md");
    let sources = [include_str!("account.rs"), include_str!("efficiency.rs")];
    let mut codes = Vec::new();
    for source in sources {
        for (at, _) in source.match_indices("warnings.push(") {
            let rest = &source[at..];
            let Some(open) = rest.find('"') else { continue };
            let literal = &rest[open + 1..];
            let end = literal.find(['"', ':', '{']).unwrap_or(0);
            codes.push(literal[..end].to_string());
        }
    }
    assert!(codes.len() >= 8, "{codes:?}");
    for code in codes {
        assert!(
            doc.contains(&format!("`{code}")),
            "{code} is not in docs/warnings.md"
        );
    }
}
