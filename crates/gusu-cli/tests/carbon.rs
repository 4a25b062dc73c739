//! `gusu carbon` through the binary: the hand-computed case of gusu-core's carbon tests as files,
//! grid choices, output formats and the exit codes of docs/cli.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use gusu_core::Uscc;

fn gusu(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("gusu").unwrap();
    c.current_dir(dir)
        .env_remove("GUSU_LANG")
        .env_remove("GUSU_DB")
        .env_remove("GUSU_RULES")
        .env_remove("GUSU_REGIONS")
        .env_remove("GUSU_CONFIG");
    c
}

fn uscc(i: usize) -> String {
    Uscc::with_check_character(&format!("91320583MA{i:07}"))
        .unwrap()
        .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Enterprise a: the hand-computed case (crates/gusu-core/src/carbon/tests.rs `golden_lines`),
/// written with Chinese carrier names and units on some rows. b: 1000 MWh of electricity only.
/// c: no energy data. All three in division 26.
fn files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (a, b, c) = (uscc(1), uscc(2), uscc(3));
    let enterprises = format!(
        "uscc,name,district,industry_code,land_area_mu,above_scale,established\n\
         {a},甲化工,昆山市,2614,50,是,2001-01-01\n\
         {b},乙化工,昆山市,2614,20,是,2005-01-01\n\
         {c},丙化工,太仓市,2614,10,是,2010-01-01\n"
    );
    let energy = format!(
        "统一社会信用代码,年份,能源品种,数量,计量单位,蒸汽焓值(kJ/kg),热水温度(℃)\n\
         {a},2023,原煤,100,吨,,\n\
         {a},2023,natural_gas,250000,m3,,\n\
         {a},2023,diesel,10,t,,\n\
         {a},2023,process_co2,50,tco2,,\n\
         {a},2023,外购电力,2000000,千瓦时,,\n\
         {a},2023,steam,1000,t,2800,\n\
         {a},2023,蒸汽,500,吨,,\n\
         {a},2023,hot_water,2000,t,,80\n\
         {a},2023,heat,100,gj,,\n\
         {a},2023,electricity_exported,100,mwh,,\n\
         {a},2023,heat_exported,50,GJ,,\n\
         {a},2023,biomass,30,tco2,,\n\
         {a},2023,green_electricity,500000,kwh,,\n\
         {b},2023,electricity,1000,MWh,,\n\
         {b},2022,electricity,999,MWh,,\n\
         {b},2024,electricity,10,MWh,,\n"
    );
    let annual =
        format!("uscc,year,value_added_10k_yuan\n{a},2023,1000\n{b},2023,1000\n{c},2023,800\n");
    (
        write(dir, "enterprises.csv", &enterprises),
        write(dir, "energy.csv", &energy),
        write(dir, "annual.csv", &annual),
    )
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV output starts with a BOM"
    );
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = '{}'", row[column]))
}

fn assert_close(row: &HashMap<String, String>, column: &str, expected: f64) {
    let got = number(row, column);
    assert!(
        (got - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{column}: {got} ≠ {expected}"
    );
}

#[test]
fn the_hand_computed_case_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (e, en, an) = files(dir.path());
    let out = dir.path().join("carbon.csv");
    gusu(dir.path())
        .args(["carbon", "--enterprises"])
        .arg(&e)
        .arg("--energy")
        .arg(&en)
        .arg("--annual")
        .arg(&an)
        .args(["--year", "2023", "--output"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 3, "one row per enterprise");
    let a = &rows[0];
    // The working is in crates/gusu-core/src/carbon/tests.rs (hand_computed_ghg_case).
    assert_close(a, "scope1_tco2", 811.5361835033333);
    assert_close(a, "scope2_tco2", 1633.54936);
    assert_close(a, "exported_tco2", 58.56);
    assert_close(a, "total_tco2", 2386.525543503333);
    assert_close(a, "biomass_tco2", 30.0);
    assert_close(a, "energy_tce", 827.83822512);
    assert_close(a, "energy_tce_equivalent", 1164.32822512);
    assert_close(a, "grid_factor_tco2_per_mwh", 0.5306);
    assert_eq!(a["grid_factor_id"], "mee-nbs:statistical:national:2023");
    assert_eq!(a["year"], "2023");
    assert!(a["factors"].contains("ndrc:raw_coal"), "{}", a["factors"]);
    assert_eq!(
        a["warnings"],
        "biomass_energy_not_counted;coal_rate_approximate;steam_default_enthalpy"
    );
    // Carbon efficiency: a's CO₂ for L = 2386.5255435 − 500 MWh × 0.5306 = 2121.2255435;
    // L = 2.1212255 (high). b: 1000 × 0.5306 = 530.6, L = 0.5306 (low). c has no energy data.
    // Division 26 L = (2121.2255435 + 530.6) / (1000 + 1000) = 1.3259127718;
    // K: a 1.59983 → grade 4, b 0.40018 → grade 1.
    assert_close(a, "carbon_efficiency_l", 2.121225543503333);
    assert_eq!(a["carbon_efficiency_level"], "high");
    assert_close(a, "division_l", 1.3259127717516665);
    assert_close(a, "carbon_efficiency_k", 1.5998228455865742);
    assert_eq!(a["carbon_efficiency_grade"], "4");
    let b = &rows[1];
    assert_close(b, "total_tco2", 530.6);
    assert_close(b, "energy_tce", 122.9);
    assert_eq!(b["carbon_efficiency_level"], "low");
    assert_eq!(b["carbon_efficiency_grade"], "1");
    let c = &rows[2];
    assert_eq!(c["total_tco2"], "");
    assert_eq!(c["carbon_efficiency_grade"], "");
    assert_eq!(c["warnings"], "no_energy_data");
}

#[test]
fn grid_choices_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (e, en, _) = files(dir.path());
    let run = |extra: &[&str], out: &str| {
        let out = dir.path().join(out);
        gusu(dir.path())
            .args(["carbon", "--enterprises"])
            .arg(&e)
            .arg("--energy")
            .arg(&en)
            .args(extra)
            .arg("--output")
            .arg(&out)
            .assert()
            .success();
        out
    };
    // A given factor: b's 1000 MWh × 0.6; no value added, so no grade.
    let rows = read_csv(&run(
        &["--year", "2023", "--grid-factor", "0.6"],
        "given.csv",
    ));
    assert_close(&rows[1], "total_tco2", 600.0);
    assert_eq!(rows[1]["grid_factor_id"], "given:grid_factor");
    assert_eq!(rows[1]["carbon_efficiency_l"], "");
    // 2024 has no published national average: 2023's, with the warning naming the year.
    let json = run(&["--year", "2024", "--coal-rate", "0.31"], "fallback.json");
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    let rows = value.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["warnings"], "no_energy_data");
    assert_eq!(rows[1]["grid_factor_tco2_per_mwh"], 0.5306);
    let json_number = |column: &str| rows[1][column].as_f64().unwrap();
    assert!((json_number("total_tco2") - 5.306).abs() < 1e-9);
    assert!((json_number("energy_tce_equivalent") - 3.1).abs() < 1e-9);
    assert_eq!(rows[1]["warnings"], "grid_factor_earlier_year:2023");
    // The regional (华东) 2022 factor for b's 2022 line: 999 × 0.5617; 等价值 at 0.31.
    let rows = read_csv(&run(
        &[
            "--year",
            "2022",
            "--grid-basis",
            "regional",
            "--coal-rate",
            "0.31",
        ],
        "regional.csv",
    ));
    assert_close(&rows[1], "total_tco2", 999.0 * 0.5617);
    assert_close(&rows[1], "energy_tce_equivalent", 999.0 * 0.31);
    assert_eq!(rows[1]["warnings"], "");
    assert_eq!(
        rows[1]["grid_factor_id"],
        "mee-nbs:statistical:regional:华东:2022"
    );
    // XLSX.
    let xlsx = run(&["--year", "2023", "--grid-basis", "market"], "out.xlsx");
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.get((0, 0)).unwrap().to_string(), "uscc");
    assert_eq!(range.height(), 4);
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (e, en, _) = files(dir.path());
    let base = |energy: &Path, year: &str| {
        let mut c = gusu(dir.path());
        c.args(["--lang", "en", "carbon", "--enterprises"])
            .arg(&e)
            .arg("--energy")
            .arg(energy)
            .args(["--year", year, "--output"])
            .arg(dir.path().join("x.csv"));
        c
    };
    // No grid factor published for 2020 or earlier: a configuration error (2), nothing written.
    let assert = base(&en, "2020").assert().code(2);
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("2020"));
    assert!(!dir.path().join("x.csv").exists());
    // A unit that does not fit its carrier: a data error (1) naming row, carrier and unit.
    let bad = write(
        dir.path(),
        "bad.csv",
        &format!(
            "uscc,year,carrier,quantity,unit\n{},2023,diesel,5,kwh\n",
            uscc(1)
        ),
    );
    let assert = base(&bad, "2023").assert().code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("row 2") && stderr.contains("diesel") && stderr.contains("kwh"),
        "{stderr}"
    );
    assert!(!dir.path().join("x.csv").exists());
    // Steam enthalpy below the feed-water reference: found while accounting, still exit 1.
    let wet = write(
        dir.path(),
        "wet.csv",
        &format!(
            "uscc,year,carrier,quantity,unit,enthalpy_kj_per_kg\n{},2023,steam,5,t,50\n",
            uscc(1)
        ),
    );
    let assert = base(&wet, "2023").assert().code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("row 2") && stderr.contains("83.74"),
        "{stderr}"
    );
    // Unknown enterprise in the energy file.
    let stranger = write(
        dir.path(),
        "stranger.csv",
        &format!(
            "uscc,year,carrier,quantity,unit\n{},2023,coke,1,t\n",
            uscc(9)
        ),
    );
    let assert = base(&stranger, "2023").assert().code(1);
    assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("unknown_enterprise"));
    // Both grid options at once: usage (2).
    base(&en, "2023")
        .args(["--grid-factor", "0.5", "--grid-basis", "national"])
        .assert()
        .code(2);
}

#[test]
fn factor_documents_of_the_rules_directory_add_and_override() {
    let dir = tempfile::tempdir().unwrap();
    let (e, en, _) = files(dir.path());
    let factors = dir.path().join("rules/factors");
    std::fs::create_dir_all(&factors).unwrap();
    // A test value for 2024 (not a published one): it is chosen over the fallback to 2023.
    let doc = "[document]\nname = \"local\"\nversion = \"1\"\ntitle_zh = \"本地\"\ntitle_en = \"local\"\n\
        confidence = \"L\"\n\n[[grid]]\nid = \"test:national:2024\"\nyear = 2024\nscope = \"national\"\n\
        area = \"全国\"\nbasis = \"statistical\"\nvalue = 0.5\nunit = \"tco2/mwh\"\nconfidence = \"L\"\n\
        source = \"test\"\n";
    write(&factors, "local.toml", doc);
    let out = dir.path().join("o.csv");
    let run = || {
        let mut c = gusu(dir.path());
        c.args(["carbon", "--rules", "rules", "--enterprises"])
            .arg(&e)
            .arg("--energy")
            .arg(&en)
            .args(["--year", "2024", "--output"])
            .arg(&out);
        c
    };
    run().assert().success();
    let rows = read_csv(&out);
    assert_eq!(rows[1]["grid_factor_id"], "test:national:2024");
    assert_close(&rows[1], "total_tco2", 5.0);
    assert_eq!(rows[1]["warnings"], "coal_rate_approximate");
    // A document with an unknown key is refused, naming the file and the key.
    write(
        &factors,
        "local.toml",
        &doc.replace("source = \"test\"", "sauce = \"test\""),
    );
    let assert = run().assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("local.toml") && stderr.contains("sauce"),
        "{stderr}"
    );
}

#[test]
fn provincial_factors_follow_the_region_and_need_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let (e, en, _) = files(dir.path());
    let out = dir.path().join("p.csv");
    let run = |regions: Option<&Path>| {
        let mut c = gusu(dir.path());
        if let Some(r) = regions {
            c.arg("--regions").arg(r);
        }
        c.args(["carbon", "--grid-basis", "provincial", "--enterprises"])
            .arg(&e)
            .arg("--energy")
            .arg(&en)
            .args(["--year", "2023", "--output"])
            .arg(&out);
        c
    };
    // Suzhou (3205…) is in 江苏: the 2023 Jiangsu average, 0.5827.
    run(None).assert().success();
    let rows = read_csv(&out);
    assert_close(&rows[1], "total_tco2", 1000.0 * 0.5827);
    assert_eq!(
        rows[1]["grid_factor_id"],
        "mee-nbs:statistical:provincial:江苏:2023"
    );
    // A city whose codes match no location row cannot take a provincial factor: exit 2.
    std::fs::remove_file(&out).unwrap();
    let regions = write(
        dir.path(),
        "hangzhou.toml",
        "city_zh = \"杭州市\"\ncity_en = \"Hangzhou\"\ndivision_prefix = \"3301\"\n\n\
         [[districts]]\ncode = \"320583\"\nname_zh = \"昆山市\"\nname_en = \"Kunshan\"\n",
    );
    let assert = run(Some(&regions)).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("location"), "{stderr}");
    assert!(!out.exists());
}

/// docs/carbon.md describes every output column.
#[test]
fn every_output_column_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let (e, en, _) = files(dir.path());
    let out = dir.path().join("c.csv");
    gusu(dir.path())
        .args(["carbon", "--enterprises"])
        .arg(&e)
        .arg("--energy")
        .arg(&en)
        .args(["--year", "2023", "--output"])
        .arg(&out)
        .assert()
        .success();
    let bytes = std::fs::read(&out).unwrap();
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/carbon.md"),
    )
    .unwrap();
    let headers = r.headers().unwrap().clone();
    assert!(headers.len() >= 30);
    for h in headers.iter() {
        assert!(
            doc.contains(&format!("`{h}`")),
            "{h} is not in docs/carbon.md"
        );
    }
}
