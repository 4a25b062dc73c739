//! `gusu nzc` through the binary: an evidence file in TOML and JSON against the shipped criteria.

use assert_cmd::Command;

/// The Suzhou case of gusu-core's tests: 8,200 tCO₂ retired for 2024 ÷ 10,000 tCO₂ in 2022 =
/// 0.82 ≥ 0.8, emissions 10,000 → 9,500 → 9,100, everything else in order.
const EVIDENCE: &str = r#"
green_factory = "provincial"
incidents_checked = true

[flags]
independent_legal_person = true
ghg_inventory = true
product_footprint = true
on_cultivation_list = true

[emissions]
2022 = 10000.0
2023 = 9500.0
2024 = 9100.0

[[certificates]]
system = "quality"
number = "Q-1"
valid_from = "2022-03-01"
valid_to = "2025-02-28"

[[certificates]]
system = "environment"
number = "E-1"
valid_from = "2022-03-01"
valid_to = "2025-02-28"

[[certificates]]
system = "ohs"
number = "O-1"
valid_from = "2022-03-01"
valid_to = "2025-02-28"

[[certificates]]
system = "energy"
number = "N-1"
valid_from = "2022-03-01"
valid_to = "2025-02-28"

[[offsets]]
kind = "green_certificate"
reference = "GEC-2024-001"
amount_tco2 = 5000.0
retired_on = "2025-01-15"
for_year = 2024

[[offsets]]
kind = "ccer"
reference = "CCER-2024-17"
amount_tco2 = 3200.0
retired_on = "2025-01-20"
for_year = 2024
"#;

fn gusu(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("gusu").unwrap();
    c.current_dir(dir).env_remove("GUSU_LANG");
    c
}

#[test]
fn a_factory_meeting_the_suzhou_criteria_and_one_lacking_evidence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("evidence.toml"), EVIDENCE).unwrap();
    let out = gusu(dir.path())
        .args([
            "nzc",
            "--year",
            "2024",
            "--district",
            "320583",
            "--evidence",
            "evidence.toml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("全部条件达到") && text.contains("0.8200"),
        "{text}"
    );

    // JSON: the same figures; without the incident confirmation that criterion lacks evidence.
    let json = serde_json::json!({
        "green_factory": "national",
        "emissions": { "2022": 10000.0, "2023": 9500.0, "2024": 9100.0 },
        "offsets": [{ "kind": "ccer", "reference": "C-1", "amount_tco2": 8000.0,
                      "retired_on": "2025-01-20", "for_year": 2024 }]
    });
    std::fs::write(dir.path().join("evidence.json"), json.to_string()).unwrap();
    let out = gusu(dir.path())
        .args([
            "nzc",
            "--year",
            "2024",
            "--district",
            "320583",
            "--evidence",
            "evidence.json",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["offset_ratio"], 0.8);
    let status = |id: &str| {
        a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("offset_ratio"), "met");
    assert_eq!(status("no_incidents"), "missing_evidence");
    assert_eq!(status("management_systems"), "missing_evidence");
}

#[test]
fn a_bad_evidence_file_or_unknown_criteria_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "green_factory = \"galactic\"\n",
    )
    .unwrap();
    let out = gusu(dir.path())
        .args([
            "--lang",
            "en",
            "nzc",
            "--year",
            "2024",
            "--district",
            "320583",
            "--evidence",
            "bad.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("galactic"),
        "{err}"
    );
    let out = gusu(dir.path())
        .args([
            "nzc",
            "--criteria",
            "nowhere",
            "--year",
            "2024",
            "--district",
            "320583",
            "--evidence",
            "bad.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sip-nzc@2026.1"));
}

/// A city's own criteria document in `<rules>/nzc/` is used without a new binary: here a 2027
/// document asking only for a municipal green factory.
#[test]
fn a_criteria_document_from_the_rules_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules/nzc")).unwrap();
    std::fs::write(
        dir.path().join("rules/nzc/city-2027.toml"),
        r#"name = "city-nzc"
version = "2027.1"
year = 2027
title_zh = "市级近零碳工厂（2027）"
title_en = "City near-zero-carbon factory (2027)"
confidence = "test"
source = "a test document"

[[criterion]]
id = "green_factory"
kind = "green_factory"
min_level = "municipal"
name_zh = "市级及以上绿色工厂"
name_en = "green factory at municipal level or above"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("evidence.toml"),
        "green_factory = \"municipal\"\n",
    )
    .unwrap();
    let out = gusu(dir.path())
        .args([
            "--rules",
            "rules",
            "nzc",
            "--criteria",
            "city-nzc",
            "--year",
            "2027",
            "--district",
            "320583",
            "--evidence",
            "evidence.toml",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["criteria"], "city-nzc@2027.1");
    assert_eq!(a["results"][0]["status"], "met");
}
