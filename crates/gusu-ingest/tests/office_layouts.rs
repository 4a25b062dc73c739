//! Files laid out the way offices make them read to exactly the values of the same data in the
//! template layout: a two-row header with merged group cells, one sheet per district, an Excel
//! 97–2003 `.xls`, an OpenDocument `.ods`, a unit stated once for the sheet ("单位：元").
//!
//! The data, in the template layout (万元, 亩):
//!
//! | uscc                | year | revenue   | tax    | value added | land |
//! |---------------------|------|-----------|--------|-------------|------|
//! | 91320508000000001G  | 2024 | 1234.5678 | 56.78  | 300         | 12.5 |
//! | 91320508000000002K  | 2024 | 88        | 4.5    | (blank)     | 3    |
//! | 91320506000000001K  | 2024 | 2500      | 120.25 | 700.5       | 40   |
//!
//! In 元 the money figures are ×10,000: 12,345,678 / 567,800 / 3,000,000 and so on. gusu
//! divides by 10,000, which gives exactly the `f64` nearest the 万元 figure, so the comparison
//! below is exact.

mod common;

use std::io::Write;

use common::*;
use gusu_core::{Figure, YearlyRecord};
use gusu_ingest::{
    IngestError, ParsedAnnual, ReadOptions, SkipReason, parse_annual_bytes, parse_annual_sheets,
};
use rust_xlsxwriter::{Format, Workbook};

const TEMPLATE_HEADER: &str =
    "uscc,year,revenue_10k_yuan,tax_paid_10k_yuan,value_added_10k_yuan,land_area_mu";

fn codes() -> [String; 3] {
    [
        uscc_in("320508", 1),
        uscc_in("320508", 2),
        uscc_in("320506", 1),
    ]
}

/// The rows in the template layout.
fn template_rows() -> Vec<String> {
    let [a, b, c] = codes();
    vec![
        format!("{a},2024,1234.5678,56.78,300,12.5"),
        format!("{b},2024,88,4.5,,3"),
        format!("{c},2024,2500,120.25,700.5,40"),
    ]
}

type Values = (String, i32, Vec<Option<f64>>);

/// Records as comparable values (a missing figure is `None`), ordered by code.
fn values(records: impl IntoIterator<Item = YearlyRecord>) -> Vec<Values> {
    let mut out: Vec<Values> = records
        .into_iter()
        .map(|r| {
            let figures = Figure::ALL.iter().map(|&f| r.figures.get(f)).collect();
            (r.uscc.to_string(), r.year, figures)
        })
        .collect();
    out.sort_by(|x, y| x.0.cmp(&y.0));
    out
}

fn values_of(parsed: &[ParsedAnnual]) -> Vec<Values> {
    values(
        parsed
            .iter()
            .flat_map(|p| p.rows.iter().map(|r| r.record.clone())),
    )
}

fn expected() -> Vec<Values> {
    let mut lines = vec![TEMPLATE_HEADER.to_string()];
    lines.extend(template_rows());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let parsed = parse_annual_bytes(&csv(&refs), "template.csv", &opts()).unwrap();
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let v = values_of(&[parsed]);
    // The template itself reads as the table in the module comment says (ordered by code:
    // 320506 before 320508).
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].2[Figure::TaxPaid as usize], Some(120.25));
    assert_eq!(v[1].2[Figure::Revenue as usize], Some(1234.5678));
    assert_eq!(v[2].2[Figure::ValueAdded as usize], None);
    v
}

/// A figure cell as a number; the code and blank cells are not.
fn number(text: &str) -> Option<f64> {
    text.parse().ok().filter(|_| text.len() < 18)
}

#[test]
fn a_two_row_header_with_merged_group_cells_reads_as_the_template() {
    // 统一社会信用代码 | 年份 | 主要经济指标（万元）            | 用地面积（亩）
    //                  |      | 营业收入 | 实缴税金 | 工业增加值 |
    let mut workbook = Workbook::new();
    let merged = Format::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "2024年度企业主要指标").unwrap();
    sheet
        .merge_range(1, 0, 2, 0, "统一社会信用代码", &merged)
        .unwrap();
    sheet.merge_range(1, 1, 2, 1, "年份", &merged).unwrap();
    sheet
        .merge_range(1, 2, 1, 4, "主要经济指标（万元）", &merged)
        .unwrap();
    sheet
        .merge_range(1, 5, 2, 5, "用地面积（亩）", &merged)
        .unwrap();
    for (col, name) in ["营业收入", "实缴税金", "工业增加值"].iter().enumerate() {
        sheet.write_string(2, col as u16 + 2, *name).unwrap();
    }
    for (r, line) in template_rows().iter().enumerate() {
        let row = r as u32 + 3;
        for (col, cell) in line.split(',').enumerate() {
            let col = col as u16;
            match (col, number(cell)) {
                (0, _) => sheet.write_string(row, col, cell).map(|_| ()).unwrap(),
                (_, Some(v)) => sheet.write_number(row, col, v).map(|_| ()).unwrap(),
                (_, None) => {}
            }
        }
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let parsed = parse_annual_bytes(&bytes, "two_rows.xlsx", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert_eq!(values_of(&[parsed]), expected());
}

#[test]
fn a_two_row_header_in_csv_carries_the_group_over_its_blank_cells() {
    // A CSV export of the same sheet: a merged cell's text stands in its first cell only.
    let mut lines = vec![
        "统一社会信用代码,年份,主要经济指标（元）,,,用地面积（亩）".to_string(),
        ",,营业收入,实缴税金,工业增加值,".to_string(),
    ];
    for line in template_rows() {
        // The group says 元: write the money figures ×10,000.
        let cells: Vec<String> = line
            .split(',')
            .enumerate()
            .map(|(i, c)| match (i, number(c)) {
                (2..=4, Some(v)) => format!("{}", (v * 10_000.0).round()),
                _ => c.to_string(),
            })
            .collect();
        lines.push(cells.join(","));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let parsed = parse_annual_bytes(&csv(&refs), "two_rows.csv", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert_eq!(
        parsed.rejected.header,
        [
            "统一社会信用代码",
            "年份",
            "营业收入(元)",
            "实缴税金(元)",
            "工业增加值(元)",
            "用地面积（亩）"
        ]
    );
    assert_eq!(values_of(&[parsed]), expected());
}

#[test]
fn a_column_under_a_figure_group_that_gusu_cannot_place_refuses_the_file() {
    let lines = [
        "统一社会信用代码,年份,主要经济指标（万元）,".to_string(),
        ",,营业收入,其中：出口".to_string(),
        format!("{},2024,100,20", codes()[0]),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let err = parse_annual_bytes(&csv(&refs), "two_rows.csv", &opts()).unwrap_err();
    match &err {
        IngestError::UnplacedColumn {
            group, header, row, ..
        } => {
            assert_eq!(group, "主要经济指标（万元）");
            assert_eq!(header, "其中：出口(万元)");
            assert_eq!(*row, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_sheet_per_district_reads_every_sheet_and_lists_the_skipped() {
    let [a, b, c] = codes();
    let header = || {
        vec![
            s("统一社会信用代码"),
            s("年份"),
            s("营业收入（万元）"),
            s("实缴税金（万元）"),
            s("工业增加值（万元）"),
            s("用地面积（亩）"),
        ]
    };
    let gusu = vec![
        vec![s("姑苏区 2024年度")],
        header(),
        vec![
            s(&a),
            X::N(2024.0),
            X::N(1234.5678),
            X::N(56.78),
            X::N(300.0),
            X::N(12.5),
        ],
        vec![
            s(&b),
            X::N(2024.0),
            X::N(88.0),
            X::N(4.5),
            X::Blank,
            X::N(3.0),
        ],
    ];
    let wuzhong = vec![
        header(),
        vec![
            s(&c),
            X::N(2024.0),
            X::N(2500.0),
            X::N(120.25),
            X::N(700.5),
            X::N(40.0),
        ],
        vec![s("合计"), X::Blank, X::N(2500.0)],
    ];
    let bytes = xlsx(&[
        ("填表说明", vec![vec![s("请按区县分别填写")]]),
        ("姑苏区", gusu),
        ("吴中区", wuzhong),
        ("Sheet4", vec![]),
    ]);
    let sheets = parse_annual_sheets(&bytes, "districts.xlsx", &opts()).unwrap();
    let names: Vec<_> = sheets.parsed.iter().map(|p| p.sheet.clone()).collect();
    assert_eq!(names, [Some("姑苏区".into()), Some("吴中区".into())]);
    assert_eq!(sheets.parsed[0].report.rows, 2);
    assert_eq!(sheets.parsed[1].report.rows, 1);
    let skipped: Vec<_> = sheets
        .skipped
        .iter()
        .map(|s| (s.sheet.as_str(), s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            ("填表说明", SkipReason::NoHeader),
            ("Sheet4", SkipReason::Empty)
        ]
    );
    assert_eq!(values_of(&sheets.parsed), expected());

    // The one-table reader does not pick a sheet silently.
    let err = parse_annual_bytes(&bytes, "districts.xlsx", &opts()).unwrap_err();
    match &err {
        IngestError::SeveralSheets { sheets, .. } => assert_eq!(sheets, &["姑苏区", "吴中区"]),
        other => panic!("{other:?}"),
    }
    assert!(
        err.message_zh().contains("（姑苏区、吴中区）"),
        "{}",
        err.message_zh()
    );
    // Named, one sheet is read.
    let named = ReadOptions {
        sheet: Some("吴中区".into()),
        ..opts()
    };
    let one = parse_annual_bytes(&bytes, "districts.xlsx", &named).unwrap();
    assert_eq!(values_of(&[one]), expected()[..1]);
}

#[test]
fn an_excel_97_workbook_with_a_sheet_unit_reads_as_the_template() {
    // fixtures/make_xls.py wrote it with xlwt: merged title, "单位：元", figures in 元, 合计 row.
    let bytes = include_bytes!("fixtures/annual_2024_yuan.xls");
    let parsed = parse_annual_bytes(bytes, "annual_2024_yuan.xls", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert_eq!(parsed.report.rows, 3, "the 合计 row is not data");
    let unit = parsed
        .report
        .issues
        .iter()
        .find(|i| i.code == "sheet_unit")
        .expect("the sheet unit is reported");
    assert_eq!(
        unit.reason_zh,
        "第 2 行注明全表单位为“元”，已用于以下未注明单位的列：营业收入、实缴税金、工业增加值"
    );
    assert_eq!(values_of(&[parsed]), expected());
}

#[test]
fn a_sheet_unit_in_a_csv_title_converts_the_columns_without_their_own_unit() {
    let mut lines = vec![
        "2024年度税收数据（金额单位：元）".to_string(),
        "统一社会信用代码,年份,营业收入,实缴税金,工业增加值（万元）,用地面积".to_string(),
    ];
    for line in template_rows() {
        let cells: Vec<String> = line
            .split(',')
            .enumerate()
            .map(|(i, c)| match (i, number(c)) {
                (2..=3, Some(v)) => format!("{}", (v * 10_000.0).round()),
                _ => c.to_string(),
            })
            .collect();
        lines.push(cells.join(","));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let parsed = parse_annual_bytes(&csv(&refs), "tax.csv", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    // "金额单位" is for money only: land (亩 by default) is untouched.
    let unit = parsed
        .report
        .issues
        .iter()
        .find(|i| i.code == "sheet_unit")
        .unwrap();
    assert!(
        unit.reason.ends_with("applied to 营业收入, 实缴税金"),
        "{}",
        unit.reason
    );
    assert_eq!(values_of(&[parsed]), expected());
}

/// A one-sheet OpenDocument spreadsheet, as LibreOffice writes it (the `mimetype` entry first
/// and stored).
fn ods(rows: &[Vec<String>]) -> Vec<u8> {
    let mut table = String::new();
    for row in rows {
        table.push_str("<table:table-row>");
        for cell in row {
            match cell.parse::<f64>() {
                Ok(v) if cell.len() < 15 => table.push_str(&format!(
                    r#"<table:table-cell office:value-type="float" office:value="{v}"><text:p>{cell}</text:p></table:table-cell>"#
                )),
                _ if cell.is_empty() => table.push_str("<table:table-cell/>"),
                _ => table.push_str(&format!(
                    r#"<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>"#
                )),
            }
        }
        table.push_str("</table:table-row>");
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="数据">{table}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("content.xml", stored).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.start_file("META-INF/manifest.xml", stored).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#).unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn an_open_document_spreadsheet_reads_as_the_template() {
    let mut rows = vec![
        TEMPLATE_HEADER
            .split(',')
            .map(String::from)
            .collect::<Vec<_>>(),
    ];
    rows.extend(
        template_rows()
            .iter()
            .map(|l| l.split(',').map(String::from).collect()),
    );
    let parsed = parse_annual_bytes(&ods(&rows), "annual.ods", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert_eq!(parsed.sheet.as_deref(), Some("数据"));
    assert_eq!(values_of(&[parsed]), expected());
}

#[test]
fn a_tax_export_in_office_words_reads_as_the_template() {
    // The tax bureau's words (税款所属期, 入库税收合计), a year written 2024年度, codes with Excel's
    // text prefix and a zero-width space pasted in, full-width figures, a 万元 unit repeated in
    // the cells of a 万元 column, an accountant's bracketed figure.
    let [a, b, c] = codes();
    let lines = [
        "税款所属期,统一社会信用代码,营业收入（万元）,入库税收合计（万元）,工业增加值,用地面积"
            .to_string(),
        format!("2024年度,'{a},１，２３４．５６７８,56.78,300万元,12.5亩"),
        format!("2024年,\u{200B}{b},88万,4.5,,3"),
        format!("2024,{c},\"2,500\",120.25,700.5,40"),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let parsed = parse_annual_bytes(&csv(&refs), "tax.csv", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert_eq!(values_of(&[parsed]), expected());

    // A bracketed figure is negative (a refund exceeding the tax paid), and flagged as such.
    let refund = [
        "统一社会信用代码,年份,实缴税额".to_string(),
        format!("{a},2024,(1.5)"),
    ];
    let refs: Vec<&str> = refund.iter().map(String::as_str).collect();
    let parsed = parse_annual_bytes(&csv(&refs), "refund.csv", &opts()).unwrap();
    assert_eq!(
        parsed.rows[0].record.figures.get(Figure::TaxPaid),
        Some(-1.5)
    );
    assert!(
        parsed
            .report
            .issues
            .iter()
            .any(|i| i.code == "negative_value")
    );

    // A unit in a cell that is not the column's is an error, never a conversion.
    let wrong = [
        "统一社会信用代码,年份,营业收入（万元）".to_string(),
        format!("{a},2024,12345678元"),
    ];
    let refs: Vec<&str> = wrong.iter().map(String::as_str).collect();
    let parsed = parse_annual_bytes(&csv(&refs), "wrong.csv", &opts()).unwrap();
    assert!(has_error(&parsed.report, 2, "unparseable_number"));
    assert!(parsed.rows.is_empty());
}
