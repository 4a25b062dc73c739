//! XLSX workbooks: typed cells (numbers, dates, booleans), title rows, total rows, named sheets.

mod common;

use chrono::NaiveDate;
use common::*;
use gusu_core::{Figure, Severity};
use gusu_ingest::{
    IngestError, ReadOptions, parse_annual_bytes, parse_enterprises_bytes, read_enterprises,
};

fn enterprise_header() -> Vec<X> {
    [
        "统一社会信用代码",
        "企业名称",
        "所属区县",
        "行业代码",
        "用地面积（亩）",
        "是否规上",
        "成立日期",
        "不参评",
    ]
    .iter()
    .map(|h| s(h))
    .collect()
}

fn enterprises_sheet() -> Vec<Vec<X>> {
    vec![
        vec![s("2024年度规上工业企业名录")],
        vec![
            s("填报单位：昆山市工信局"),
            X::Blank,
            X::Blank,
            s("单位：亩"),
        ],
        enterprise_header(),
        // Row 4: typed cells throughout.
        vec![
            s(&uscc(1)),
            s("甲公司"),
            X::N(320583.0),
            X::N(611.0),
            X::N(12.5),
            X::B(true),
            X::D(2019, 3, 5),
            X::N(0.0),
        ],
        // Row 5: a code Excel turned into a number.
        vec![
            X::N(913205000000000000.0),
            s("乙公司"),
            s("昆山市"),
            s("C3911"),
            X::N(3.0),
            s("否"),
            X::N(43529.0),
        ],
        // Row 6: a bare year as a number, a text industry code of a non-industrial group.
        vec![
            s(&uscc(3)),
            s("丙公司"),
            s("太仓市"),
            s("611"),
            X::Blank,
            X::N(1.0),
            X::N(2019.0),
        ],
        vec![],
        // Row 8: the total row.
        vec![s("合计"), X::Blank, X::Blank, X::Blank, X::N(15.5)],
    ]
}

#[test]
fn typed_cells_title_rows_total_row() {
    let bytes = xlsx(&[("名录", enterprises_sheet())]);
    let parsed = parse_enterprises_bytes(&bytes, "enterprises.xlsx", &opts()).unwrap();
    assert_eq!(parsed.report.rows, 3, "{:?}", parsed.report.issues);

    let e = &parsed.rows[0];
    assert_eq!(e.row, 4, "sheet row numbers, title rows counted");
    assert_eq!(e.record.district, "320583");
    assert_eq!(
        e.record.industry_code, "0611",
        "numeric 611 lost its leading zero"
    );
    assert_eq!(e.record.division, "06");
    assert_eq!(e.record.land_area_mu, Some(12.5));
    assert!(e.record.above_scale);
    assert!(!e.record.exempt);
    assert_eq!(
        e.record.established,
        NaiveDate::from_ymd_opt(2019, 3, 5).unwrap(),
        "date cell"
    );

    let excel = finding(&parsed.report, 5, "uscc_excel_number").expect("row 5");
    assert_eq!(excel.severity, Severity::Error);
    assert_eq!(
        excel.value.as_deref(),
        Some("9.13205E+17"),
        "as Excel displays it"
    );
    assert!(excel.reason_zh.contains("文本"));

    assert!(
        has_error(&parsed.report, 6, "unknown_industry_division"),
        "text 611 is division 61"
    );
    assert!(
        has_error(&parsed.report, 6, "unparseable_date"),
        "a bare year is not a date"
    );
    assert!(
        finding(&parsed.report, 8, "required_blank").is_none(),
        "total row skipped"
    );

    let rejected: Vec<u64> = parsed.rejected.rows.iter().map(|r| r.0).collect();
    assert_eq!(rejected, vec![5, 6]);
    assert_eq!(parsed.rejected.rows[0].1[0], "9.13205E+17");
    assert_eq!(parsed.rejected.header[0], "统一社会信用代码");
}

#[test]
fn numeric_serial_date_cell_is_a_date() {
    let bytes = xlsx(&[(
        "Sheet1",
        vec![
            enterprise_header(),
            vec![
                s(&uscc(1)),
                s("甲"),
                s("昆山"),
                s("3911"),
                X::N(1.0),
                X::N(0.0),
                X::N(43529.0),
            ],
        ],
    )]);
    let parsed = parse_enterprises_bytes(&bytes, "e.xlsx", &opts()).unwrap();
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(
        parsed.rows[0].record.established,
        NaiveDate::from_ymd_opt(2019, 3, 5).unwrap()
    );
    assert!(!parsed.rows[0].record.above_scale);
}

#[test]
fn named_sheet_and_first_sheet_by_default() {
    let annual = vec![
        vec![s("2024年度企业税收统计")],
        vec![
            s("统一社会信用代码"),
            s("年份"),
            s("实缴税金(元)"),
            s("用电量（万千瓦时）"),
            s("不参评"),
        ],
        vec![
            s(&uscc(1)),
            X::N(2024.0),
            X::N(1_234_500.0),
            X::N(2.5),
            X::B(false),
        ],
        vec![s(&uscc(2)), s("2024"), s("1,000"), X::Blank, X::N(1.0)],
        vec![s("总计"), X::Blank, X::N(1_235_500.0)],
    ];
    let bytes = xlsx(&[("说明", vec![vec![s("本表说明")]]), ("税收", annual)]);

    // The first sheet is instructions: without a sheet named, the one with a header is read and
    // the instructions are listed as skipped.
    let sheets = gusu_ingest::parse_annual_sheets(&bytes, "tax.xlsx", &opts()).unwrap();
    assert_eq!(sheets.parsed.len(), 1);
    assert_eq!(sheets.parsed[0].sheet.as_deref(), Some("税收"));
    assert_eq!(sheets.parsed[0].report.sheet.as_deref(), Some("税收"));
    assert_eq!(
        sheets.skipped,
        vec![gusu_ingest::SkippedSheet {
            sheet: "说明".into(),
            reason: gusu_ingest::SkipReason::NoHeader
        }]
    );
    let by_default = parse_annual_bytes(&bytes, "tax.xlsx", &opts()).unwrap();
    assert_eq!(by_default.rows.len(), 2);
    assert_eq!(by_default.sheet.as_deref(), Some("税收"));

    // A workbook of instructions only.
    let only = xlsx(&[("说明", vec![vec![s("本表说明")]]), ("Sheet2", vec![])]);
    let err = parse_annual_bytes(&only, "tax.xlsx", &opts()).unwrap_err();
    match &err {
        IngestError::NoSheetWithHeader { sheets, .. } => assert_eq!(sheets, &["说明", "Sheet2"]),
        other => panic!("{other:?}"),
    }
    assert!(
        err.message_zh().contains("填表说明"),
        "{}",
        err.message_zh()
    );

    let opts = ReadOptions {
        sheet: Some("税收".into()),
        ..ReadOptions::default()
    };
    let parsed = parse_annual_bytes(&bytes, "tax.xlsx", &opts).unwrap();
    assert_eq!(findings(&parsed.report), [(None, "skipped_rows".into())]);
    assert_eq!(parsed.report.rows, 2);
    let r = &parsed.rows[0];
    assert_eq!(r.row, 3);
    assert_eq!(r.record.year, 2024);
    assert_eq!(r.record.figures.get(Figure::TaxPaid), Some(123.45));
    assert_eq!(r.record.figures.get(Figure::ElectricityKwh), Some(25_000.0));
    assert_eq!(r.record.exempt, Some(false));
    assert_eq!(
        parsed.rows[1].record.figures.get(Figure::TaxPaid),
        Some(0.1)
    );
    assert_eq!(parsed.rows[1].record.exempt, Some(true));

    let missing = ReadOptions {
        sheet: Some("电力".into()),
        ..ReadOptions::default()
    };
    let err = parse_annual_bytes(&bytes, "tax.xlsx", &missing).unwrap_err();
    match &err {
        IngestError::SheetNotFound {
            sheet, available, ..
        } => {
            assert_eq!(sheet, "电力");
            assert_eq!(available, &vec!["说明".to_string(), "税收".to_string()]);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("说明") && err.to_string().starts_with("tax.xlsx:"));
    assert!(err.message_zh().contains("税收"));
}

#[test]
fn typed_cells_of_the_wrong_kind_are_errors() {
    let bytes = xlsx(&[(
        "Sheet1",
        vec![
            vec![
                s("uscc"),
                s("year"),
                s("revenue_10k_yuan"),
                s("above_scale"),
            ],
            vec![s(&uscc(1)), X::N(2024.5), X::B(true), X::N(2.0)],
        ],
    )]);
    let parsed = parse_annual_bytes(&bytes, "a.xlsx", &opts()).unwrap();
    assert!(has_error(&parsed.report, 2, "invalid_year"));
    assert!(has_error(&parsed.report, 2, "unparseable_number"));
    assert!(has_error(&parsed.report, 2, "unparseable_flag"));
}

#[test]
fn read_xlsx_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("名录.xlsx");
    std::fs::write(&path, xlsx(&[("名录", enterprises_sheet())])).unwrap();
    let parsed = read_enterprises(&path, &opts()).unwrap();
    assert_eq!(parsed.file_name, "名录.xlsx");
    assert_eq!(parsed.rows.len(), 1);
}

#[test]
fn empty_workbook_sheet_has_no_header() {
    let bytes = xlsx(&[("Sheet1", vec![])]);
    let err = parse_enterprises_bytes(&bytes, "empty.xlsx", &opts()).unwrap_err();
    assert!(matches!(err, IngestError::NoHeader { .. }), "{err}");
}
