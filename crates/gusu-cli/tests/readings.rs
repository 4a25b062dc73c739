//! `gusu readings` and `gusu demo --readings` end to end: exit codes, reports and totals.

use std::path::Path;

use assert_cmd::Command;

fn gusu(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("gusu").unwrap();
    c.current_dir(dir)
        .env("GUSU_LANG", "en")
        .env_remove("GUSU_DB")
        .env_remove("GUSU_RULES");
    c
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn demo_readings_import_once_and_total_to_their_sum() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gusu(d)
        .args([
            "demo",
            "--enterprises",
            "5",
            "--years",
            "2024",
            "--out",
            "src",
            "--plain",
        ])
        .args(["--readings", "60"])
        .assert()
        .success();
    let readings = csv_rows(&d.join("src/readings.csv"));
    assert_eq!(readings.len(), 60);
    let input_sum: f64 = readings.iter().map(|r| r[4].parse::<f64>().unwrap()).sum();

    let import = |expect_imported: u64, expect_present: u64| {
        let out = gusu(d)
            .args(["readings", "import", "src/readings.csv", "--data", "data"])
            .args([
                "--known-enterprises",
                "src/enterprises.csv",
                "--format",
                "json",
            ])
            .assert()
            .success();
        let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(json[0]["stored"], true);
        assert_eq!(json[0]["imported"], expect_imported);
        assert_eq!(json[0]["already_present"], expect_present);
        assert_eq!(json[0]["gaps"].as_array().unwrap().len(), 0);
    };
    import(60, 0);
    import(0, 60);

    gusu(d)
        .args([
            "readings",
            "aggregate",
            "--data",
            "data",
            "--by",
            "year",
            "--output",
            "year.csv",
        ])
        .assert()
        .success();
    let totals = csv_rows(&d.join("year.csv"));
    // 5 enterprises × 12 hours from 2024-01-01 01:00: one yearly total each, 12 readings.
    assert_eq!(totals.len(), 5);
    assert!(
        totals
            .iter()
            .all(|t| &t[2] == "2024" && t[3].is_empty() && &t[6] == "12")
    );
    let total_sum: f64 = totals.iter().map(|t| t[4].parse::<f64>().unwrap()).sum();
    assert!(
        (total_sum - input_sum).abs() < 1e-6,
        "{total_sum} vs {input_sum}"
    );

    gusu(d)
        .args([
            "readings",
            "aggregate",
            "--data",
            "data",
            "--by",
            "month",
            "--output",
            "m.json",
        ])
        .assert()
        .success();
    let months: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
    assert_eq!(months.as_array().unwrap().len(), 5);
    assert_eq!(months[0]["month"], 1);

    let out = gusu(d)
        .args(["readings", "aggregate", "--data", "data", "--by", "month"])
        .args(["--memory-limit", "4KiB", "--output", "tiny.csv"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("pool of 4096 bytes"), "{stderr}");
    // The CSV is written as the totals stream out, into a staged file that only a finished query
    // turns into the output: nothing is left behind.
    assert!(!d.join("tiny.csv").exists());
    let staged: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".gusu-totals-"))
        .collect();
    assert!(staged.is_empty(), "{staged:?}");

    gusu(d)
        .args(["readings", "aggregate", "--data", "data", "--by", "year"])
        .args(["--memory-limit", "lots", "--output", "x.csv"])
        .assert()
        .code(2);
}

#[test]
fn a_refused_file_exits_1_and_names_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let code = gusu_core::Uscc::with_check_character("91320583MA0000001")
        .unwrap()
        .to_string();
    std::fs::write(
        d.join("bad.csv"),
        format!(
            "uscc,meter_id,carrier,ts,value,unit\n{code},M,electricity,2024-01-01 01:00,5,m3\n"
        ),
    )
    .unwrap();
    let out = gusu(d)
        .args(["readings", "import", "bad.csv", "--data", "data"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("unit m3 does not fit electricity"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(!d.join("data/readings").exists());
    gusu(d)
        .args(["readings", "import", "missing.csv", "--data", "data"])
        .assert()
        .code(2);
}
