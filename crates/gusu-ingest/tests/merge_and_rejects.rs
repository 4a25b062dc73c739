//! Several yearly files merged cell by cell, and the rejects file.

mod common;

use common::*;
use gusu_core::{Figure, Severity};
use gusu_ingest::{
    ParsedAnnual, UTF8_BOM, merge_annual, parse_annual_bytes, parse_enterprises_bytes,
    write_rejects,
};

fn parse(name: &str, lines: &[&str]) -> ParsedAnnual {
    parse_annual_bytes(&csv(lines), name, &opts()).unwrap()
}

#[test]
fn files_merge_cell_by_cell() {
    let (a, b) = (uscc(1), uscc(2));
    let stats = parse(
        "stats.csv",
        &[
            "uscc,year,revenue_10k_yuan,employees,above_scale",
            &format!("{a},2024,1000,50,是"),
            &format!("{b},2024,2000,,"),
        ],
    );
    let tax = parse(
        "tax.csv",
        &[
            "uscc,year,tax_paid_10k_yuan,revenue_10k_yuan,employees",
            &format!("{a},2024,80,,"),
            &format!("{b},2024,90,2000,70"),
            &format!("{b},2023,85,,"),
        ],
    );
    let mut files = vec![stats, tax];
    let merged = merge_annual(&mut files);
    assert!(files.iter().all(|f| !f.report.has_errors()));
    assert_eq!(merged.len(), 3);
    let find = |u: &str, y: i32| {
        merged
            .iter()
            .find(|r| r.uscc.as_str() == u && r.year == y)
            .unwrap()
    };
    let ra = find(&a, 2024);
    assert_eq!(
        ra.figures.get(Figure::Revenue),
        Some(1000.0),
        "a blank never overrides"
    );
    assert_eq!(ra.figures.get(Figure::TaxPaid), Some(80.0));
    assert_eq!(ra.figures.get(Figure::Employees), Some(50.0));
    assert_eq!(ra.above_scale, Some(true));
    let rb = find(&b, 2024);
    assert_eq!(
        rb.figures.get(Figure::Revenue),
        Some(2000.0),
        "the same value twice is fine"
    );
    assert_eq!(
        rb.figures.get(Figure::Employees),
        Some(70.0),
        "filled from the later file"
    );
    assert_eq!(find(&b, 2023).figures.get(Figure::TaxPaid), Some(85.0));
}

#[test]
fn conflicting_values_reject_the_later_row() {
    let (a, b) = (uscc(1), uscc(2));
    let stats = parse(
        "stats.csv",
        &[
            "uscc,year,revenue_10k_yuan,exempt",
            &format!("{a},2024,1000,否"),
            &format!("{b},2024,5,否"),
        ],
    );
    let power = parse(
        "power.csv",
        &[
            "uscc,year,revenue_10k_yuan,electricity_kwh,exempt",
            &format!("{b},2024,5,100,是"),
            &format!("{a},2024,1001,200,"),
        ],
    );
    let mut files = vec![stats, power];
    let merged = merge_annual(&mut files);
    assert!(!files[0].report.has_errors());
    let issue = finding(&files[1].report, 3, "merge_conflict").expect("revenue conflict");
    assert_eq!(issue.severity, Severity::Error);
    assert_eq!(issue.column.as_deref(), Some("revenue_10k_yuan"));
    assert!(
        issue.reason.contains("stats.csv") && issue.reason.contains("row 2"),
        "{}",
        issue.reason
    );
    assert!(issue.reason_zh.contains("stats.csv"));
    // The exempt override conflicts for b.
    let flag = finding(&files[1].report, 2, "merge_conflict").expect("exempt conflict");
    assert_eq!(flag.column.as_deref(), Some("exempt"));
    assert!(flag.reason.contains("row 3"));

    assert!(files[1].rows.is_empty());
    assert_eq!(
        files[1]
            .rejected
            .rows
            .iter()
            .map(|r| r.0)
            .collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(
        files[1].rejected.rows[1].1,
        vec![a.clone(), "2024".into(), "1001".into(), "200".into()]
    );

    // The rejected rows contributed nothing.
    let ra = merged.iter().find(|r| r.uscc.as_str() == a).unwrap();
    assert_eq!(ra.figures.get(Figure::Revenue), Some(1000.0));
    assert_eq!(ra.figures.get(Figure::ElectricityKwh), None);
}

#[test]
fn same_value_in_different_units_is_not_a_conflict() {
    let a = uscc(1);
    let tax = parse(
        "tax.csv",
        &["uscc,year,实缴税金(元)", &format!("{a},2024,12345.6")],
    );
    let stats = parse(
        "stats.csv",
        &["uscc,year,tax_paid_10k_yuan", &format!("{a},2024,1.23456")],
    );
    let mut files = vec![tax, stats];
    merge_annual(&mut files);
    assert!(
        !files[1].report.has_errors(),
        "{:?}",
        files[1].report.issues
    );
}

#[test]
fn rejects_file_has_bom_header_rows_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("enterprises.csv");
    let bytes = csv(&[
        "统一社会信用代码,企业名称,所属区县,行业代码,用地面积(亩),是否规上,成立日期",
        &format!("{},甲,昆山市,3911,10,是,2018-05-06", uscc(1)),
        "bad,\"乙,有限公司\",火星,3911,10,是,2018-05-06",
    ]);
    std::fs::write(&source, &bytes).unwrap();
    let parsed = parse_enterprises_bytes(&bytes, "enterprises.csv", &opts()).unwrap();
    let out = write_rejects(&source, &parsed.rejected, &parsed.report).unwrap();
    assert_eq!(out, dir.path().join("enterprises.rejects.csv"));
    let written = std::fs::read(&out).unwrap();
    assert!(written.starts_with(UTF8_BOM));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&written[UTF8_BOM.len()..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].len(), 8);
    assert_eq!(&records[0][0], "统一社会信用代码");
    assert!(records[0][7].contains("reasons"));
    assert_eq!(&records[1][1], "乙,有限公司");
    let reasons = &records[1][7];
    assert!(
        reasons.contains("uscc") && reasons.contains("district"),
        "{reasons}"
    );
    assert!(
        reasons.contains("长度") && reasons.contains("length"),
        "{reasons}"
    );

    // The rejects file reads again (its reasons column is ignored with a warning).
    let again = parse_enterprises_bytes(&written, "enterprises.rejects.csv", &opts()).unwrap();
    assert_eq!(again.report.rows, 1);
    assert!(
        again
            .report
            .issues
            .iter()
            .any(|i| i.code == "unknown_columns")
    );
}

#[test]
fn parsed_files_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ParsedAnnual>();
    send_sync::<gusu_ingest::ParsedEnterprises>();
    send_sync::<gusu_ingest::IngestError>();
}
