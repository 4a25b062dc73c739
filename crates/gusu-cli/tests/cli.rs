//! End-to-end tests of the `gusu` binary: real files in, exit codes and output files checked.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use gusu_core::Uscc;

fn gusu(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("gusu").unwrap();
    c.current_dir(dir)
        .env_remove("GUSU_LANG")
        .env_remove("GUSU_DB")
        .env_remove("GUSU_RULES");
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

/// The jiangsu-standard hand-computed case (rules/evaluation/jiangsu-standard.toml), as files.
fn golden_files(dir: &Path) -> (PathBuf, PathBuf) {
    let mut ents = String::from(
        "uscc,name,district,industry_code,land_area_mu,above_scale,established,exempt\n",
    );
    let mut annual = String::from(
        "uscc,year,tax_paid_10k_yuan,revenue_10k_yuan,energy_tce,cod_t,value_added_10k_yuan,employees,rd_expense_10k_yuan,electricity_kwh\n",
    );
    #[rustfmt::skip]
    let rows: &[(&str, bool, &str, &str, &str, bool, &str)] = &[
        // id, above, land, division, established, exempt, figures (tax,rev,energy,cod,va,emp,rd,kwh)
        ("a1", true, "10", "3911", "2000-01-01", false, "100,1000,50,1,300,30,50,"),
        ("a2", true, "20", "3911", "2000-01-01", false, "100,1000,100,2,300,60,20,"),
        ("a3", true, "10", "3911", "2000-01-01", false, "0,500,25,,100,10,,"),
        ("a4", true, "10", "3911", "2000-01-01", false, "100,1000,50,1,300,30,50,"),
        ("a5", true, "50", "4411", "2000-01-01", false, "900,9000,,,,,,"),
        ("a6", true, "10", "3911", "2000-01-01", false, ",1000,,,,,,"),
        ("a7", true, "10", "3911", "2023-06-01", false, "500,1000,,,,,,"),
        ("a8", true, "5", "3911", "2022/12/31", false, "10,200,0,0.5,40,8,2,"),
        ("a9", true, "10", "3911", "2000-01-01", false, ""),
        ("a10", true, "10", "3911", "2000-01-01", true, "100,,,,,,,"),
        ("b1", false, "10", "3911", "2000-01-01", false, "20,,,,,,,100000"),
        ("b2", false, "2", "3911", "2000-01-01", false, "20,,,,,,,100000"),
        ("b3", false, "", "3911", "2000-01-01", false, "20,,,,,,,100000"),
        ("b4", false, "5", "3911", "2000-01-01", false, "5,,,,,,,"),
        ("b5", false, "8", "3911", "2000-01-01", false, "-2,,,,,,,50000"),
        ("b6", false, "0", "3911", "2000-01-01", false, ""),
    ];
    for (i, (id, above, land, div, est, exempt, figs)) in rows.iter().enumerate() {
        ents.push_str(&format!(
            "{},{id},昆山市,{div},{land},{},{est},{}\n",
            uscc(i),
            if *above { "是" } else { "否" },
            exempt
        ));
        if !figs.is_empty() {
            annual.push_str(&format!("{},2024,{figs}\n", uscc(i)));
        }
    }
    (
        write(dir, "enterprises.csv", &ents),
        write(dir, "annual.csv", &annual),
    )
}

fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
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

#[test]
fn the_measures_total_names_the_enterprises_it_could_not_price() {
    // Forty below-size enterprises ranked by their tax; the two lowest have no electricity
    // figure, so the D-class electricity surcharge has no amount for them: the total must say
    // so, not count them as 0 元.
    let dir = tempfile::tempdir().unwrap();
    let mut ents =
        String::from("uscc,name,district,industry_code,land_area_mu,above_scale,established\n");
    let mut annual = String::from("uscc,year,tax_paid_10k_yuan,electricity_kwh\n");
    for i in 0..40 {
        ents.push_str(&format!("{},e{i},昆山市,3911,10,否,2000-01-01\n", uscc(i)));
        // e0 and e1 pay almost no tax and have no electricity figure; the rest pay 22 to 59.
        let (tax, kwh) = if i < 2 {
            (0.1, "")
        } else {
            ((20 + i) as f64, "100000")
        };
        annual.push_str(&format!("{},2024,{tax},{kwh}\n", uscc(i)));
    }
    let e = write(dir.path(), "e.csv", &ents);
    let a = write(dir.path(), "a.csv", &annual);
    let out = dir.path().join("out.csv");
    let run = gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    let rows = read_csv(&out);
    let unpriced: Vec<&str> = rows
        .iter()
        .filter(|r| r["class"] == "D" && ["e0", "e1"].contains(&r["name"].as_str()))
        .map(|r| r["name"].as_str())
        .collect();
    assert!(!unpriced.is_empty(), "{stdout}");
    assert!(
        stdout.contains(&format!("其中 {} 家缺少计费依据", unpriced.len())),
        "{stdout}"
    );
}

#[test]
fn evaluate_from_files_reproduces_the_hand_computed_case() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    let out = dir.path().join("out.csv");
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 16, "one row per enterprise");
    let cols: Vec<&str> = [
        "uscc",
        "name",
        "district",
        "industry_division",
        "group",
        "status",
        "class",
        "score",
        "rank",
    ]
    .to_vec();
    let first = &rows[0];
    for c in &cols {
        assert!(first.contains_key(*c), "column {c}");
    }
    for k in [
        "tax_per_mu",
        "revenue_per_mu",
        "tax_per_energy",
        "tax_per_pollutant",
        "labour_productivity",
        "rd_intensity",
        "tax_per_kwh",
    ] {
        for s in ["value", "benchmark", "score"] {
            assert!(first.contains_key(&format!("{k}_{s}")), "{k}_{s}");
        }
    }
    let by = |id: &str| rows.iter().find(|r| r["name"] == id).unwrap();
    let expect = [
        ("a1", "graded", "A", "1", 156.5975855650631),
        ("a4", "graded", "A", "1", 156.5975855650631),
        ("a2", "graded", "B", "3", 76.98731737269549),
        ("a8", "graded", "C", "4", 47.62123228972779),
        ("a3", "graded", "C", "5", 46.457072894804256),
        ("b1", "graded", "A", "1", 183.33333333333334),
        ("b4", "graded", "B", "2", 83.33333333333333),
        ("b5", "graded", "C", "3", -29.166666666666668),
    ];
    for (id, status, class, rank, score) in expect {
        let r = by(id);
        assert_eq!(r["status"], status, "{id}");
        assert_eq!(r["class"], class, "{id}");
        assert_eq!(r["rank"], rank, "{id}");
        let s: f64 = r["score"].parse().unwrap();
        assert!((s - score).abs() < 1e-9, "{id}: {s} vs {score}");
    }
    for (id, status) in [
        ("a5", "exempt"),
        ("a6", "missing_data"),
        ("a7", "exempt"),
        ("a9", "missing_data"),
        ("a10", "exempt"),
        ("b2", "out_of_scope"),
        ("b3", "missing_data"),
        ("b6", "out_of_scope"),
    ] {
        let r = by(id);
        assert_eq!(r["status"], status, "{id}");
        assert_eq!(r["class"], "", "{id}");
        assert_eq!(r["score"], "", "{id}");
        assert_eq!(r["rank"], "", "{id}");
    }
    assert_eq!(by("a1")["group"], "above");
    assert_eq!(by("b2")["group"], "below");
    assert_eq!(by("a1")["district"], "320583");
    assert_eq!(by("a1")["industry_division"], "39");
    assert!(by("a3")["warnings"].contains("imputed:tax_per_pollutant"));
    assert!(by("a6")["warnings"].contains("missing:tax_paid_10k_yuan"));
}

#[test]
fn evaluate_writes_json_and_xlsx_with_the_same_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    for ext in ["json", "xlsx"] {
        let out = dir.path().join(format!("out.{ext}"));
        gusu(dir.path())
            .args(["evaluate", "--enterprises"])
            .arg(&e)
            .arg("--annual")
            .arg(&a)
            .args(["--year", "2024", "--output"])
            .arg(&out)
            .assert()
            .success();
        assert!(out.metadata().unwrap().len() > 0);
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).unwrap()).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), 16);
    let a1 = arr.iter().find(|o| o["name"] == "a1").unwrap();
    assert_eq!(a1["class"], "A");
    assert_eq!(a1["rank"], 1);
    let a5 = arr.iter().find(|o| o["name"] == "a5").unwrap();
    assert!(a5["class"].is_null() && a5["score"].is_null());
    use calamine::{Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(dir.path().join("out.xlsx")).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 17, "header and 16 enterprises");
    // The workbook is for people: Chinese headings and words by default…
    assert_eq!(
        &rows[0][..9],
        &[
            "统一社会信用代码",
            "企业名称",
            "区县代码",
            "行业大类",
            "规模",
            "评价状态",
            "类别",
            "得分",
            "组内排名"
        ]
    );
    assert!(
        rows[0].contains(&"亩均税收（值）".to_string()),
        "{:?}",
        rows[0]
    );
    let a1 = rows.iter().find(|r| r[1] == "a1").unwrap();
    assert_eq!(
        (
            a1[4].as_str(),
            a1[5].as_str(),
            a1[6].as_str(),
            a1[8].as_str()
        ),
        ("规上", "已评价", "A", "1")
    );
    // …and the interchange keys with --lang en.
    let en = dir.path().join("out-en.xlsx");
    gusu(dir.path())
        .args(["--lang", "en", "evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&en)
        .assert()
        .success();
    let mut book: Xlsx<_> = open_workbook(&en).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(&header[..3], &["uscc", "name", "district"]);
    assert!((a1[7].parse::<f64>().unwrap() - 156.5975855650631).abs() < 1e-9);
}

#[test]
fn a_district_ranks_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    let out = dir.path().join("out.csv");
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--district", "320571", "--output"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(read_csv(&out).len(), 0, "no enterprise is in SIP");
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--district", "昆山市", "--output"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(read_csv(&out).len(), 16);
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--district", "南京市", "--output"])
        .arg(&out)
        .assert()
        .code(2);
}

#[test]
fn errors_stop_the_evaluation_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = golden_files(dir.path());
    // Row 3 has a bad number; row 4 an unknown enterprise.
    let a = write(
        dir.path(),
        "bad.csv",
        &format!(
            "uscc,year,tax_paid_10k_yuan,electricity_kwh\n{},2024,20,100000\n{},2024,12a,1\n{},2024,5,1\n",
            uscc(10),
            uscc(13),
            Uscc::with_check_character("91320583MA9999999").unwrap()
        ),
    );
    let out = dir.path().join("out.csv");
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .code(1);
    assert!(!out.exists(), "nothing written on errors");
    gusu(dir.path())
        .args(["evaluate", "--skip-invalid", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 16);
    // b4's yearly row was rejected: it counts as absent → missing data.
    assert_eq!(
        rows.iter().find(|r| r["name"] == "b4").unwrap()["status"],
        "missing_data"
    );
}

#[test]
fn a_failed_evaluation_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "old").unwrap();
    // Huai'an benchmarks on 2023, which these files do not have: a data error.
    gusu(dir.path())
        .args([
            "evaluate",
            "--scheme",
            "jiangsu-huaian-2024",
            "--enterprises",
        ])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .code(1);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "old",
        "the old file is untouched"
    );
    assert!(!dir.path().join("out.csv.partial").exists());
}

#[test]
fn two_annual_files_merge_cell_by_cell_and_disagreements_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = golden_files(dir.path());
    let tax = write(
        dir.path(),
        "tax.csv",
        &format!("uscc,year,tax_paid_10k_yuan\n{},2024,20\n", uscc(10)),
    );
    let power = write(
        dir.path(),
        "power.csv",
        &format!(
            "uscc,year,electricity_kwh,tax_paid_10k_yuan\n{},2024,100000,\n",
            uscc(10)
        ),
    );
    let out = dir.path().join("out.csv");
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .args(["--annual"])
        .arg(&tax)
        .arg("--annual")
        .arg(&power)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out);
    let b1 = rows.iter().find(|r| r["name"] == "b1").unwrap();
    assert_eq!(b1["status"], "graded");
    assert_eq!(b1["tax_per_kwh_value"], "2");
    let power2 = write(
        dir.path(),
        "power2.csv",
        &format!(
            "uscc,year,electricity_kwh,tax_paid_10k_yuan\n{},2024,100000,21\n",
            uscc(10)
        ),
    );
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .args(["--annual"])
        .arg(&tax)
        .arg("--annual")
        .arg(&power2)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .code(1);
}

#[test]
fn validate_reports_json_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    gusu(dir.path())
        .args(["validate", "--enterprises"])
        .arg(&e)
        .assert()
        .success();
    gusu(dir.path())
        .args(["validate", "--annual"])
        .arg(&a)
        .assert()
        .success();
    let bad = write(
        dir.path(),
        "bad.csv",
        &format!(
            "uscc,name,district,industry_code,land_area_mu,above_scale,established\n{},x,昆山市,3911,10,是,2019\n91320583MA0000000X,y,昆山市,3911,10,是,2019-01-01\n",
            uscc(1)
        ),
    );
    let output = gusu(dir.path())
        .args(["validate", "--format", "json", "--enterprises"])
        .arg(&bad)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(v["rows"], 2);
    let errors = v["errors"].as_array().unwrap();
    let est = errors
        .iter()
        .find(|e| e["column"] == "established")
        .unwrap();
    assert_eq!(est["row"], 2);
    assert_eq!(est["value"], "2019");
    assert_eq!(est["severity"], "error");
    let code = errors.iter().find(|e| e["column"] == "uscc").unwrap();
    assert_eq!(code["row"], 3);
    // Missing file: a usage error.
    gusu(dir.path())
        .args(["validate", "--enterprises", "nope.csv"])
        .assert()
        .code(2);
    // No input at all: clap's usage error.
    gusu(dir.path()).args(["validate"]).assert().code(2);
    // As the README writes it: the yearly file checked against the register in the enterprises
    // file, one report per file; a code the register lacks is named.
    gusu(dir.path())
        .args(["validate", "--annual"])
        .arg(&a)
        .arg("--enterprises")
        .arg(&e)
        .assert()
        .success();
    let stray = write(
        dir.path(),
        "stray.csv",
        &format!("uscc,year,tax_paid_10k_yuan\n{},2024,7\n", uscc(9_999_999)),
    );
    let output = gusu(dir.path())
        .args(["validate", "--format", "json", "--annual"])
        .arg(&stray)
        .arg("--enterprises")
        .arg(&e)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&output).unwrap();
    let reports = v.as_array().expect("one report per file");
    assert_eq!(reports.len(), 2);
    let unknown = reports[1]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "unknown_enterprise")
        .expect("the stray code is named");
    assert_eq!(unknown["row"], 2);
}

#[test]
fn unknown_scheme_is_a_usage_error_and_help_speaks_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    gusu(dir.path())
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args([
            "--year",
            "2024",
            "--scheme",
            "no-such-scheme",
            "--output",
            "x.csv",
        ])
        .assert()
        .code(2);
    let zh = gusu(dir.path())
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(zh).unwrap().contains("评价"));
    let en = gusu(dir.path())
        .args(["--lang", "en", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(en).unwrap().contains("Evaluate"));
    let en = gusu(dir.path())
        .env("GUSU_LANG", "en")
        .args(["evaluate", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(en).unwrap().contains("Evaluation year"));
}

#[test]
fn store_workflow_import_evaluate_results_explain_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (e, a) = golden_files(dir.path());
    let db = dir.path().join("g.db");
    let g = |args: &[&str]| {
        let mut c = gusu(dir.path());
        c.arg("--db").arg(&db).args(args);
        c
    };
    g(&["init"]).assert().success();
    g(&[
        "import",
        e.to_str().unwrap(),
        "--kind",
        "enterprises",
        "--source",
        "land",
    ])
    .assert()
    .success();
    g(&[
        "import",
        a.to_str().unwrap(),
        "--kind",
        "annual",
        "--source",
        "stats",
    ])
    .assert()
    .success();
    let again = g(&[
        "--lang",
        "en",
        "import",
        a.to_str().unwrap(),
        "--kind",
        "annual",
        "--source",
        "stats",
    ])
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    assert!(
        String::from_utf8(again)
            .unwrap()
            .contains("nothing changed")
    );
    g(&["evaluate", "--year", "2024", "--publish"])
        .assert()
        .success();
    let log = g(&["audit"]).assert().success().get_output().stdout.clone();
    let log = String::from_utf8(log).unwrap();
    for action in ["import", "evaluation_run", "publication"] {
        assert!(log.contains(action), "{action} in\n{log}");
    }
    assert_eq!(
        log.matches("┆ import ").count(),
        2,
        "the repeated import changed nothing and is not logged:\n{log}"
    );
    let out = dir.path().join("res.csv");
    g(&[
        "results",
        "--year",
        "2024",
        "--class",
        "A",
        "--output",
        out.to_str().unwrap(),
    ])
    .assert()
    .success();
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 3, "a1, a4 and b1 are A");
    // A later district run (SIP has none of these enterprises) does not hide the city's results.
    g(&["evaluate", "--year", "2024", "--district", "320571"])
        .assert()
        .success();
    g(&[
        "results",
        "--year",
        "2024",
        "--class",
        "A",
        "--output",
        out.to_str().unwrap(),
    ])
    .assert()
    .success();
    assert_eq!(read_csv(&out).len(), 3, "still the city run");
    g(&[
        "results",
        "--year",
        "2024",
        "--district",
        "320571",
        "--output",
        out.to_str().unwrap(),
    ])
    .assert()
    .success();
    assert_eq!(read_csv(&out).len(), 0, "the district's own run");
    let worst = uscc(2); // a3, class C
    let ex = g(&["explain", &worst, "--year", "2024", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&ex).unwrap();
    assert_eq!(v["next_class"], "B");
    assert!(v["best"]["to"].is_number());
    g(&[
        "simulate",
        "--year",
        "2024",
        "--scheme",
        "zhejiang-huangyan-2022",
    ])
    .assert()
    .code(2);
    let backup = dir.path().join("backup.db");
    g(&["backup", backup.to_str().unwrap()]).assert().success();
    let mut c = gusu(dir.path());
    c.arg("--db").arg(&backup).args([
        "results",
        "--year",
        "2024",
        "--class",
        "A",
        "--output",
        out.to_str().unwrap(),
    ]);
    c.assert().success();
    assert_eq!(read_csv(&out).len(), 3, "the backup holds the same results");
    // An annual file naming an enterprise the store does not know is refused whole.
    let stranger = write(
        dir.path(),
        "s.csv",
        &format!(
            "uscc,year,tax_paid_10k_yuan\n{},2024,1\n",
            Uscc::with_check_character("91320583MA7777777").unwrap()
        ),
    );
    g(&[
        "import",
        stranger.to_str().unwrap(),
        "--kind",
        "annual",
        "--source",
        "tax",
    ])
    .assert()
    .code(1);
}

#[test]
fn rules_test_runs_every_shipped_case() {
    let dir = tempfile::tempdir().unwrap();
    let out = gusu(dir.path())
        .args(["rules", "test"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("3 passed, 0 failed"), "{text}");
    gusu(dir.path()).args(["rules", "check"]).assert().success();
    // A rules directory with a broken document is a configuration error naming the file and line.
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("evaluation")).unwrap();
    std::fs::write(
        rules.join("evaluation/bad.toml"),
        "[scheme]\nname = \"x\"\nfoo = 1\n",
    )
    .unwrap();
    let err = gusu(dir.path())
        .arg("--rules")
        .arg(&rules)
        .args(["rules", "check"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("bad.toml") && err.contains("line"), "{err}");
}

#[test]
fn demo_builds_a_small_city() {
    let dir = tempfile::tempdir().unwrap();
    let out = gusu(dir.path())
        .args(["demo", "--enterprises", "600", "--no-serve"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("jiangsu-standard"), "{text}");
    for account in [
        "admin", "analyst", "kunshan", "qiye", "sysadmin", "security", "auditor",
    ] {
        assert!(text.contains(account), "demo account {account} listed");
    }
    assert!(dir.path().join("gusu-demo.db").exists());
    let files = dir.path().join("files");
    gusu(dir.path())
        .args(["demo", "--enterprises", "300", "--out"])
        .arg(&files)
        .assert()
        .success();
    assert!(std::fs::read_dir(&files).unwrap().count() >= 5);
}

#[test]
fn another_city_through_a_region_file() {
    let dir = tempfile::tempdir().unwrap();
    let regions = write(
        dir.path(),
        "wuxi.toml",
        "city_zh = \"无锡市\"\ncity_en = \"Wuxi\"\ndivision_prefix = \"3202\"\n\n[[districts]]\ncode = \"320214\"\nname_zh = \"新吴区\"\nname_en = \"Xinwu\"\n",
    );
    let code = Uscc::with_check_character("91320214MA0000001")
        .unwrap()
        .to_string();
    let e = write(
        dir.path(),
        "e.csv",
        &format!(
            "uscc,name,district,industry_code,land_area_mu,above_scale,established\n{code},x,新吴区,3911,10,是,2000-01-01\n"
        ),
    );
    let a = write(
        dir.path(),
        "a.csv",
        &format!("uscc,year,tax_paid_10k_yuan\n{code},2024,10\n"),
    );
    let out = dir.path().join("out.csv");
    // Unknown in Suzhou ...
    gusu(dir.path())
        .args(["validate", "--enterprises"])
        .arg(&e)
        .assert()
        .code(1);
    // ... known with the region file.
    gusu(dir.path())
        .arg("--regions")
        .arg(&regions)
        .args(["evaluate", "--enterprises"])
        .arg(&e)
        .arg("--annual")
        .arg(&a)
        .args(["--year", "2024", "--output"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(read_csv(&out)[0]["district"], "320214");
    gusu(dir.path())
        .args(["--regions", "missing.toml", "rules", "list"])
        .assert()
        .code(2);
}

#[test]
fn accounts_from_the_console_and_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let g = |args: &[&str]| {
        let mut c = gusu(dir.path());
        c.arg("--db").arg(&db).arg("--lang").arg("en").args(args);
        c
    };
    g(&[
        "user",
        "add",
        "kunshan",
        "--role",
        "district_officer",
        "--district",
        "昆山市",
        "--password-stdin",
    ])
    .write_stdin("Suzhou-Office-2026\n")
    .assert()
    .success();
    // A generated password is shown once and meets the policy.
    let out = g(&[
        "user",
        "add",
        "ent1",
        "--role",
        "enterprise",
        "--uscc",
        &uscc(1),
    ])
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let out = String::from_utf8(out).unwrap();
    let shown = out
        .lines()
        .find(|l| l.contains("shown once"))
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    assert!(
        gusu_core::PasswordPolicy::default()
            .check("ent1", &shown)
            .is_ok(),
        "{shown}"
    );
    // Weak passwords and wrong scopes are refused.
    g(&[
        "user",
        "add",
        "weak",
        "--role",
        "city_analyst",
        "--password-stdin",
    ])
    .write_stdin("password\n")
    .assert()
    .code(2);
    g(&[
        "user",
        "add",
        "e2",
        "--role",
        "enterprise",
        "--district",
        "320583",
    ])
    .assert()
    .code(2);
    g(&["user", "disable", "ent1"]).assert().success();
    g(&["user", "reset-password", "kunshan", "--password-stdin"])
        .write_stdin("Another-Office-2026\n")
        .assert()
        .success();
    g(&["user", "disable", "nobody"]).assert().code(2);
    let list = g(&["user", "list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let list = String::from_utf8(list).unwrap();
    assert!(
        list.contains("kunshan") && list.contains("320583") && list.contains("district_officer")
    );
    assert!(
        !list.contains("argon2") && !list.contains("Suzhou-Office"),
        "no hash or password listed"
    );
    let out = g(&["token", "create", "kunshan", "nightly"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let token = String::from_utf8(out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    assert!(token.starts_with("gusu_"));
    g(&["token", "create", "kunshan", "nightly"])
        .assert()
        .code(2);
    g(&["token", "revoke", "kunshan", "nightly"])
        .assert()
        .success();
    let listed = g(&["token", "list", "kunshan"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let listed = String::from_utf8(listed).unwrap();
    assert!(listed.contains("nightly") && listed.contains("revoked") && !listed.contains(&token));
    // A second factor: the secret is shown once, as base32 and as an authenticator's URI.
    let enrolled = g(&["user", "totp", "kunshan"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let enrolled = String::from_utf8(enrolled).unwrap();
    let secret = enrolled
        .lines()
        .find(|l| l.starts_with("secret (shown once):"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .to_string();
    assert!(
        secret.len() >= 32
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "{enrolled}"
    );
    assert!(
        enrolled.contains("otpauth://totp/") && enrolled.contains(&secret),
        "{enrolled}"
    );
    g(&["user", "totp", "nobody"]).assert().code(2);
    g(&["user", "totp", "kunshan", "--remove"])
        .assert()
        .success();
    let log = g(&["audit"]).assert().success().get_output().stdout.clone();
    let log = String::from_utf8(log).unwrap();
    assert!(!log.contains(&token), "no token in the audit log");
    assert!(
        !log.contains(&secret),
        "no second-factor secret in the audit log"
    );
    for action in [
        "account_created",
        "account_disabled",
        "password_reset",
        "token_created",
        "token_revoked",
        "totp_enrolled",
        "totp_removed",
    ] {
        assert!(log.contains(action), "{action} in\n{log}");
    }
    assert!(
        !log.contains("Suzhou-Office") && !log.contains(&shown),
        "no password in the audit log"
    );
}

#[test]
fn serve_answers_on_its_address() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    gusu(dir.path())
        .arg("--db")
        .arg(&db)
        .arg("init")
        .assert()
        .success();
    // A free port: bind, note it, release.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gusu"))
        .current_dir(dir.path())
        .arg("--db")
        .arg(&db)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut answer = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .unwrap();
            s.read_to_string(&mut answer).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("\"unauthenticated\""), "{answer}");
}

#[test]
fn configuration_from_a_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    std::fs::write(
        dir.path().join("gusu.toml"),
        format!("[store]\ndb = {:?}\n\n[password]\nmin_length = 16\n", db),
    )
    .unwrap();
    // gusu.toml in the working directory is read: the database comes from it ...
    gusu(dir.path()).arg("init").assert().success();
    assert!(db.exists());
    // ... and its password policy applies (18 characters pass, a 30 from the environment does not).
    gusu(dir.path())
        .args([
            "user",
            "add",
            "a1",
            "--role",
            "city_analyst",
            "--password-stdin",
        ])
        .write_stdin("Suzhou-Office-2026\n")
        .assert()
        .success();
    gusu(dir.path())
        .env("GUSU__PASSWORD__MIN_LENGTH", "30")
        .args([
            "user",
            "add",
            "a2",
            "--role",
            "city_analyst",
            "--password-stdin",
        ])
        .write_stdin("Suzhou-Office-2026\n")
        .assert()
        .code(2);
    // An unknown key is a configuration error, from the environment too.
    gusu(dir.path())
        .env("GUSU__SESSION__IDLE_TIMOUT", "5")
        .args(["rules", "list"])
        .assert()
        .code(2);
}

/// `gusu validate … 2>&1 | head`: the reader stops, the pipe closes, and gusu ends quietly
/// (exit 0, or its own code; no panic), however much it still had to say. Without the fix `eprintln!` panics and
/// the exit code is 101.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut annual = String::from("uscc,year,tax_paid_10k_yuan\n");
    for i in 0..5_000 {
        // Every row has an invalid code and a bad figure: a report of 10,000 lines, far over a
        // pipe's 64 KiB buffer.
        annual.push_str(&format!("bad{i},2024,not-a-number-{i}\n"));
    }
    write(dir.path(), "annual.csv", &annual);
    let bin = assert_cmd::cargo::cargo_bin("gusu");
    let mut child = std::process::Command::new(bin)
        .current_dir(dir.path())
        .env_remove("GUSU_LANG")
        .args(["validate", "--annual", "annual.csv"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, as `head -c` would, then close the pipe.
    let mut report = child.stderr.take().unwrap();
    let mut first = [0u8; 100];
    std::io::Read::read_exact(&mut report, &mut first).unwrap();
    drop(report);
    let status = child.wait().unwrap();
    // 0 when the closed pipe ended the report, 1 (the file has errors) when gusu had written
    // its capped report before the pipe closed: either is the command's own end, never 101.
    assert!(
        matches!(status.code(), Some(0) | Some(1)),
        "{:?}",
        status.code()
    );
}
