//! Workbooks as districts send them, through the binary: every sheet with a header imported as
//! its own batch, skipped sheets named, rows refused once brought in by importing the same file
//! again, and the stored values checked in the database itself.

use std::path::Path;

use assert_cmd::Command;
use gusu_core::{Figure, Uscc};
use rust_xlsxwriter::Workbook;

fn code(division: &str, i: u32) -> String {
    Uscc::with_check_character(&format!("91{division}{i:09}"))
        .unwrap()
        .to_string()
}

fn gusu(dir: &Path, db: &Path, args: &[&str]) -> Command {
    let mut c = Command::cargo_bin("gusu").unwrap();
    c.current_dir(dir)
        .env_remove("GUSU_LANG")
        .env_remove("GUSU_DB")
        .env_remove("GUSU_RULES")
        .arg("--db")
        .arg(db)
        .args(args);
    c
}

fn enterprises_csv(rows: &[(&str, &str)]) -> String {
    let mut text =
        String::from("uscc,name,district,industry_code,land_area_mu,above_scale,established\n");
    for (code, district) in rows {
        text.push_str(&format!(
            "{code},企业{code},{district},3911,10,是,2010-01-01\n"
        ));
    }
    text
}

/// 填表说明, then one sheet per district, figures in 元 under a "单位：元" row.
fn districts_workbook(gusu_code: &str, wuzhong_code: &str) -> Vec<u8> {
    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("填表说明")
        .unwrap()
        .write_string(0, 0, "各区县分别填写一张工作表")
        .unwrap();
    for (name, code, revenue) in [
        ("姑苏区", gusu_code, 12_345_678.0),
        ("吴中区", wuzhong_code, 880_000.0),
    ] {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        sheet.write_string(0, 0, "单位：元").unwrap();
        for (col, header) in ["统一社会信用代码", "年份", "营业收入", "实缴税金"]
            .iter()
            .enumerate()
        {
            sheet.write_string(1, col as u16, *header).unwrap();
        }
        sheet.write_string(2, 0, code).unwrap();
        sheet.write_number(2, 1, 2024.0).unwrap();
        sheet.write_number(2, 2, revenue).unwrap();
        sheet.write_number(2, 3, revenue / 20.0).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn revenue(db: &Path, code: &str) -> Option<f64> {
    let store = gusu_store::Store::open(db).unwrap();
    store
        .yearly_records(2024)
        .unwrap()
        .into_iter()
        .find(|r| r.uscc.as_str() == code)
        .and_then(|r| r.figures.get(Figure::Revenue))
}

#[test]
fn a_workbook_with_one_sheet_per_district_imports_each_sheet_and_later_the_refused_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let (a, b) = (code("320508", 1), code("320506", 1));
    let ents = dir.path().join("名录.csv");
    // Only the 姑苏区 enterprise is registered at first.
    std::fs::write(&ents, enterprises_csv(&[(&a, "姑苏区")])).unwrap();
    let book = dir.path().join("2024年度.xlsx");
    std::fs::write(&book, districts_workbook(&a, &b)).unwrap();
    gusu(dir.path(), &db, &["init"]).assert().success();
    let import_ents = |file: &Path| {
        gusu(
            dir.path(),
            &db,
            &[
                "import",
                file.to_str().unwrap(),
                "--kind",
                "enterprises",
                "--source",
                "bureau",
            ],
        )
        .assert()
        .success();
    };
    import_ents(&ents);
    let import_book = || {
        let out = gusu(
            dir.path(),
            &db,
            &[
                "import",
                book.to_str().unwrap(),
                "--kind",
                "annual",
                "--source",
                "tax",
                "--skip-invalid",
            ],
        )
        .assert()
        .success()
        .get_output()
        .clone();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (stdout, stderr) = import_book();
    assert!(
        stderr.contains("[填表说明]: 未读取（没有此类文件的表头行）"),
        "{stderr}"
    );
    assert!(stdout.contains("[姑苏区]: 1 行"), "{stdout}");
    // The 吴中区 row names an enterprise not registered yet: refused, written to its own file.
    let rejects = dir.path().join("2024年度.吴中区.rejects.csv");
    assert!(rejects.exists(), "{stderr}");
    // 12,345,678 元 under 单位：元 is 1234.5678 万元.
    assert_eq!(revenue(&db, &a), Some(1234.5678));
    assert_eq!(revenue(&db, &b), None);

    // Register the 吴中区 enterprise and import the same workbook again.
    let more = dir.path().join("名录2.csv");
    std::fs::write(&more, enterprises_csv(&[(&b, "吴中区")])).unwrap();
    import_ents(&more);
    let (stdout, _) = import_book();
    assert!(
        stdout.contains("[姑苏区] 此前已导入，未作任何改变"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[吴中区] 此前已导入；本次补入此前未入库的 2 个值"),
        "{stdout}"
    );
    assert_eq!(revenue(&db, &b), Some(88.0));
    assert_eq!(revenue(&db, &a), Some(1234.5678));

    let store = gusu_store::Store::open(&db).unwrap();
    let sheets: Vec<_> = store
        .batches()
        .unwrap()
        .into_iter()
        .filter(|b| b.kind == "annual")
        .map(|b| (b.sheet, b.inserted))
        .collect();
    // Each sheet its own batch; the first 吴中区 batch took nothing (its row was refused), the
    // second took the row's two values.
    let sheet = |s: &str| Some(s.to_string());
    assert_eq!(
        sheets,
        [
            (sheet("姑苏区"), 2),
            (sheet("吴中区"), 0),
            (sheet("吴中区"), 2)
        ]
    );
}

#[test]
fn a_sheet_with_errors_stops_every_sheet_of_the_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let (a, b) = (code("320508", 1), code("320506", 1));
    let ents = dir.path().join("名录.csv");
    std::fs::write(&ents, enterprises_csv(&[(&a, "姑苏区")])).unwrap();
    let book = dir.path().join("2024.xlsx");
    std::fs::write(&book, districts_workbook(&a, &b)).unwrap();
    gusu(dir.path(), &db, &["init"]).assert().success();
    gusu(
        dir.path(),
        &db,
        &[
            "import",
            ents.to_str().unwrap(),
            "--kind",
            "enterprises",
            "--source",
            "bureau",
        ],
    )
    .assert()
    .success();
    gusu(
        dir.path(),
        &db,
        &[
            "import",
            book.to_str().unwrap(),
            "--kind",
            "annual",
            "--source",
            "tax",
        ],
    )
    .assert()
    .failure();
    // The good 姑苏区 sheet was not imported either.
    assert_eq!(revenue(&db, &a), None);
}

#[test]
fn evaluate_and_validate_read_a_named_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let (a, b) = (code("320508", 1), code("320506", 1));
    let book = dir.path().join("2024.xlsx");
    std::fs::write(&book, districts_workbook(&a, &b)).unwrap();
    let out = gusu(
        dir.path(),
        &db,
        &[
            "--lang",
            "en",
            "validate",
            "--annual",
            book.to_str().unwrap(),
            "--sheet",
            "吴中区",
            "--format",
            "json",
        ],
    )
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["sheet"], "吴中区");
    assert_eq!(report["rows"], 1);
}

#[test]
fn a_header_only_file_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let file = dir.path().join("空表.csv");
    std::fs::write(&file, "统一社会信用代码,年份,营业收入\n").unwrap();
    gusu(dir.path(), &db, &["init"]).assert().success();
    let out = gusu(
        dir.path(),
        &db,
        &[
            "import",
            file.to_str().unwrap(),
            "--kind",
            "annual",
            "--source",
            "tax",
        ],
    )
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("只有表头，没有数据行；未导入任何数据")
    );
    let store = gusu_store::Store::open(&db).unwrap();
    assert!(store.batches().unwrap().is_empty());
}

#[test]
fn evaluate_from_files_reads_every_sheet_of_a_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    let (a, b) = (code("320508", 1), code("320506", 1));
    let ents = dir.path().join("名录.csv");
    std::fs::write(&ents, enterprises_csv(&[(&a, "姑苏区"), (&b, "吴中区")])).unwrap();
    let book = dir.path().join("2024.xlsx");
    std::fs::write(&book, districts_workbook(&a, &b)).unwrap();
    let out = dir.path().join("结果.csv");
    let run = gusu(
        dir.path(),
        &db,
        &[
            "evaluate",
            "--enterprises",
            ents.to_str().unwrap(),
            "--annual",
            book.to_str().unwrap(),
            "--year",
            "2024",
            "--output",
            out.to_str().unwrap(),
        ],
    )
    .assert()
    .get_output()
    .clone();
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("[填表说明]: 未读取"), "{stderr}");
    let results = std::fs::read_to_string(&out).unwrap();
    // Both districts' enterprises are in the results: one from each sheet.
    for code in [&a, &b] {
        assert!(results.contains(code.as_str()), "{code} in\n{results}");
    }
}
