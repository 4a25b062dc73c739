//! `gusu policy` through the binary: the file-based calculation of the three policies whose
//! amounts must match exactly, with files written as offices write them (Chinese headers, 元),
//! the three-valued statuses, the firm cap across files, and bad input that writes nothing.

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

/// a: manufacturing (2614), established 2001. b: software (6513), a provincial 专精特新 from
/// 2024. c: trade (5212), nothing held.
fn enterprises(dir: &Path) -> PathBuf {
    write(
        dir,
        "enterprises.csv",
        &format!(
            "uscc,name,district,industry_code,land_area_mu,above_scale,established\n\
             {},甲化工,昆山市,2614,50,是,2001-01-01\n\
             {},乙软件,320505,6513,5,是,2012-05-01\n\
             {},丙商贸,320506,5212,3,否,2015-01-01\n",
            uscc(1),
            uscc(2),
            uscc(3)
        ),
    )
}

type Rows = HashMap<(String, String), HashMap<String, String>>;

/// The output keyed by (project, policy).
fn read_output(path: &Path) -> Rows {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let row: HashMap<String, String> = headers
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').to_string())
                .zip(rec.iter().map(str::to_string))
                .collect();
            ((row["project_id"].clone(), row["policy"].clone()), row)
        })
        .collect()
}

fn amount(rows: &Rows, project: &str, policy: &str) -> Option<f64> {
    rows[&(project.to_string(), policy.to_string())]["amount_10k_yuan"]
        .parse()
        .ok()
}

const P09: &str = "jiangsu-manufacturing-loan-interest";
const P01: &str = "suzhou-zgsz-loan-interest";
const P08: &str = "suzhou-major-project-equipment";

#[test]
fn the_three_exact_policies_from_office_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = enterprises(d);
    let des = write(
        d,
        "认定.csv",
        &format!(
            "统一社会信用代码,认定类型,认定级别,认定日期,有效期至\n{},专精特新,省级,2024-01-01,2026-12-31\n",
            uscc(2)
        ),
    );
    // Chinese headers; the loan columns in 元 (3000万 = 30,000,000 元).
    let projects = write(
        d,
        "项目.csv",
        &format!(
            "项目编号,统一社会信用代码,项目类型,贷款日期,贷款金额(元),设备购置贷款(元),利率较LPR加点,是否新建项目,固定资产投资(万元),设备投资(万元)\n\
             a1,{a},新建,2024-05-10,50000000,30000000,30,是,,\n\
             a2,{a},smart_transformation,2022-06-01,300000000,,,,,\n\
             a3,{a},new_build,2025-06-01,,,,是,400000,250000\n\
             b1,{b},innovation_carrier,2025-06-01,,20000000,,,,\n\
             c1,{c},expansion,2025-06-01,,20000000,,,,\n\
             a4,{a},upgrade,,,10000000,,,,\n",
            a = uscc(1),
            b = uscc(2),
            c = uscc(3)
        ),
    );
    let out = d.join("out.csv");
    let assert = gusu(d)
        .args(["policy", "calculate", "--enterprises"])
        .arg(&e)
        .arg("--designations")
        .arg(&des)
        .arg("--projects")
        .arg(&projects)
        .args(["--date", "2025-12-31", "--output"])
        .arg(&out)
        .assert();
    let output = assert.get_output();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = read_output(&out);
    // Six projects × each project policy; the three exact ones among them.
    let exact = rows
        .keys()
        .filter(|(project, policy)| {
            !project.is_empty() && [P09, P01, P08].contains(&policy.as_str())
        })
        .count();
    assert_eq!(exact, 18);
    // The enterprises' own policies follow, without a project (the D-class surcharge for one).
    assert!(
        rows.keys().any(|(project, policy)| project.is_empty()
            && policy == "suzhou-d-class-electricity-surcharge")
    );
    // a1, 2024-05: P09 2024.03, 0.02 × 3000 = 60; P01 has no version in 2024.
    assert_eq!(rows[&("a1".into(), P09.into())]["version"], "2024.03");
    assert_eq!(amount(&rows, "a1", P09), Some(60.0));
    assert_eq!(rows[&("a1".into(), P01.into())]["status"], "not_eligible");
    assert_eq!(rows[&("a1".into(), P01.into())]["version"], "");
    // a2, 2022: P01, 1% × 30000 = 300 → the firm cap 200.
    assert_eq!(amount(&rows, "a2", P01), Some(200.0));
    assert_eq!(rows[&("a2".into(), P01.into())]["capped"], "true");
    // a3: P08, 10% × 250000 = 25000 → 10000 per project.
    assert_eq!(amount(&rows, "a3", P08), Some(10000.0));
    // b1: software with a provincial zjtx in 2025: P09 2025.02, 0.02 × 2000 = 40.
    assert_eq!(amount(&rows, "b1", P09), Some(40.0));
    // c1: trade, nothing held (the designations file is given): not eligible.
    assert_eq!(rows[&("c1".into(), P09.into())]["status"], "not_eligible");
    // a4: no date: needs information, the date named.
    let a4 = &rows[&("a4".into(), P09.into())];
    assert_eq!(
        (
            a4["status"].as_str(),
            a4["unknown_facts"].as_str(),
            a4["amount_10k_yuan"].as_str()
        ),
        ("needs_information", "date", "")
    );
    // a1 is dated before P08 begins: no version.
    assert_eq!(rows[&("a1".into(), P08.into())]["status"], "not_eligible");
    assert_eq!(rows[&("a1".into(), P08.into())]["version"], "");
    // a3 qualifies for P09 2025.02 but gives no equipment loan: the amount's fact is asked for.
    let a3 = &rows[&("a3".into(), P09.into())];
    assert_eq!(
        (a3["status"].as_str(), a3["unknown_facts"].as_str()),
        ("needs_information", "equipment_loan_10k_yuan")
    );
}

#[test]
fn without_designations_the_zjtx_route_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = enterprises(d);
    let projects = write(
        d,
        "projects.csv",
        &format!(
            "project_id,uscc,kind,date,loan_10k_yuan,equipment_loan_10k_yuan,rate_over_lpr_bp,is_new,fixed_asset_investment_10k_yuan,equipment_investment_10k_yuan\n\
             b1,{},innovation_carrier,2025-06-01,,2000,,,,\n",
            uscc(2)
        ),
    );
    let out = d.join("out.json");
    gusu(d)
        .args(["policy", "calculate", "--enterprises"])
        .arg(&e)
        .arg("--projects")
        .arg(&projects)
        .args(["--date", "2025-12-31", "--output"])
        .arg(&out)
        .assert()
        .success();
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let b1 = rows.iter().find(|r| r["policy"] == P09).unwrap();
    assert_eq!(b1["status"], "needs_information");
    assert_eq!(b1["unknown_facts"], "held");
    assert_eq!(b1["amount_10k_yuan"], serde_json::Value::Null);
}

#[test]
fn a_projects_file_with_errors_writes_nothing_and_names_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = enterprises(d);
    let projects = write(
        d,
        "projects.csv",
        &format!(
            "project_id,uscc,kind,date,loan_10k_yuan\n\
             p1,{a},new_build,2025-13-01,100\n\
             p2,{a},building,2025-01-01,100\n\
             p2,{a},new_build,2025-01-01,-5\n",
            a = uscc(1)
        ),
    );
    let out = d.join("out.csv");
    let assert = gusu(d)
        .args(["policy", "calculate", "--enterprises"])
        .arg(&e)
        .arg("--projects")
        .arg(&projects)
        .args(["--date", "2025-12-31", "--output"])
        .arg(&out)
        .args(["--lang", "en"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("2025-13-01"), "{stderr}");
    assert!(stderr.contains("building"), "{stderr}");
    assert!(
        stderr.contains("duplicate_project") || stderr.contains("p2"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn the_shipped_policies_pass_their_own_cases_and_a_bad_document_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gusu(d).args(["policy", "test"]).assert().success();
    let bad = write(
        d,
        "bad.toml",
        &include_str!("../../../rules/policies/suzhou-zgsz-loan-interest.toml")
            .replace("valid_to = \"2023-12-31\"", "valid_to = \"2023-02-30\""),
    );
    let assert = gusu(d).args(["policy", "check"]).arg(&bad).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("bad.toml:") && stderr.contains("2023-02-30"),
        "{stderr}"
    );
}

/// A projects workbook with a sheet per district: both sheets are read, and a project written in
/// both is an error naming the sheets and rows, with nothing written.
#[test]
fn projects_are_read_from_every_sheet_and_a_project_in_two_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = enterprises(d);
    let book = |second_id: &str| {
        let mut book = rust_xlsxwriter::Workbook::new();
        for (name, id, code) in [("昆山市", "k1", uscc(1)), ("姑苏区", second_id, uscc(2))] {
            let sheet = book.add_worksheet();
            sheet.set_name(name).unwrap();
            for (c, h) in [
                "项目编号",
                "统一社会信用代码",
                "项目类型",
                "贷款日期",
                "设备购置贷款(万元)",
            ]
            .iter()
            .enumerate()
            {
                sheet.write_string(0, c as u16, *h).unwrap();
            }
            sheet.write_string(1, 0, id).unwrap();
            sheet.write_string(1, 1, &code).unwrap();
            sheet.write_string(1, 2, "upgrade").unwrap();
            sheet.write_string(1, 3, "2025-06-01").unwrap();
            sheet.write_number(1, 4, 1000.0).unwrap();
        }
        book.save_to_buffer().unwrap()
    };
    let designations = write(d, "d.csv", "uscc,designation,level,recognised,expires\n");
    let run = |bytes: Vec<u8>| {
        let projects = d.join("projects.xlsx");
        std::fs::write(&projects, bytes).unwrap();
        let out = d.join("out.csv");
        let _ = std::fs::remove_file(&out);
        let output = gusu(d)
            .args(["policy", "calculate", "--enterprises"])
            .arg(&e)
            .arg("--designations")
            .arg(&designations)
            .arg("--projects")
            .arg(&projects)
            .args(["--date", "2025-12-31", "--output"])
            .arg(&out)
            .args(["--lang", "en"])
            .output()
            .unwrap();
        (output, out)
    };
    let (output, out) = run(book("g1"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = read_output(&out);
    // k1 (manufacturing) 0.02 × 1000 = 20; g1 (software, no designation) not eligible.
    assert_eq!(amount(&rows, "k1", P09), Some(20.0));
    assert_eq!(rows[&("g1".into(), P09.into())]["status"], "not_eligible");

    let (output, out) = run(book("k1"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        stderr.contains("[姑苏区] 2") && stderr.contains("[昆山市] 2") && stderr.contains("k1"),
        "{stderr}"
    );
    assert!(!out.exists());
}

/// The calculator on a database: projects imported push notices; an enterprise's policies; a
/// policy shown in full; a draft simulated over the city with a budget ceiling.
#[test]
fn match_show_and_simulate_on_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = write(
        d,
        "enterprises.csv",
        &format!(
            "uscc,name,district,industry_code,land_area_mu,above_scale,established\n{},甲化工,昆山市,2614,50,是,2001-01-01\n",
            uscc(1)
        ),
    );
    let p = write(
        d,
        "projects.csv",
        &format!(
            "project_id,uscc,kind,date,loan_10k_yuan,equipment_loan_10k_yuan,rate_over_lpr_bp,is_new,fixed_asset_investment_10k_yuan,equipment_investment_10k_yuan\n\
             a1,{},smart_transformation,2022-06-01,15000,,,,,\n",
            uscc(1)
        ),
    );
    let db = d.join("g.db");
    let run = |args: &[&str]| {
        let out = gusu(d).arg("--db").arg(&db).args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {text}");
        text
    };
    run(&[
        "import",
        e.to_str().unwrap(),
        "--kind",
        "enterprises",
        "--source",
        "bureau",
    ]);
    let imported = run(&[
        "import",
        p.to_str().unwrap(),
        "--kind",
        "projects",
        "--source",
        "bureau",
    ]);
    assert!(imported.contains("条政策通知已推送"), "{imported}");
    // 1% × 15000 = 150 (the city's part); Kunshan's part another 1% = 150.
    let matched = run(&[
        "policy",
        "match",
        "--uscc",
        &uscc(1),
        "--date",
        "2022-12-31",
    ]);
    let line = matched
        .lines()
        .find(|l| l.starts_with("suzhou-zgsz-loan-interest ") && l.contains("a1"))
        .unwrap_or_else(|| panic!("{matched}"));
    assert!(line.contains("eligible") && line.contains("150"), "{line}");
    assert!(matched.contains("suzhou-zgsz-loan-interest-kunshan"));
    let shown = run(&["policy", "show", "suzhou-zgsz-loan-interest"]);
    assert!(
        shown.contains("city_rate")
            && shown.contains("2021.1")
            && shown.contains("苏府〔2020〕120号"),
        "{shown}"
    );
    // A draft at 1.5%: 225 → the firm cap 200; a ceiling of 100 pays half.
    let draft = gusu_core::policy::PolicyLibrary::shipped_text("suzhou-zgsz-loan-interest")
        .unwrap()
        .replace(
            "values = [{ from = \"2021-01-01\", value = 0.01 }]",
            "values = [{ from = \"2021-01-01\", value = 0.015 }]",
        );
    let draft = write(d, "draft.toml", &draft);
    let out = d.join("paid.csv");
    let simulated = run(&[
        "--lang",
        "en",
        "policy",
        "simulate",
        "--draft",
        draft.to_str().unwrap(),
        "--date",
        "2022-12-31",
        "--ceiling",
        "100",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(simulated.contains("1 enterprises qualify"), "{simulated}");
    assert!(
        simulated.contains("needed 200") && simulated.contains("paid within the budget 100"),
        "{simulated}"
    );
    assert!(
        simulated.contains("gain against the version in force: 1"),
        "{simulated}"
    );
    let paid = std::fs::read_to_string(&out).unwrap();
    assert!(paid.contains(&uscc(1)) && paid.contains(",100"), "{paid}");
}
