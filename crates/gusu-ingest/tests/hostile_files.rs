//! Files that used to give wrong results or take the process down: shifted CSV rows, a workbook
//! whose sheet declares Excel's whole grid, a formula saved without its value.

mod common;

use std::io::Write;
use std::time::Instant;

use common::*;
use gusu_core::Figure;
use gusu_ingest::{IngestError, parse_annual_bytes};

/// An unquoted thousands comma splits "1,131254.63" into two fields: the row is refused and
/// named, and no value of it reaches the records (it used to shift every later column).
#[test]
fn a_csv_row_with_more_or_fewer_fields_is_refused_by_row() {
    let (a, b, c) = (uscc(1), uscc(2), uscc(3));
    let bytes = csv(&[
        "uscc,year,revenue_10k_yuan,tax_paid_10k_yuan",
        &format!("{a},2024,1131254.63,55"),
        &format!("{b},2024,1,131254.63,55"),
        &format!("{c},2024,12"),
    ]);
    let parsed = parse_annual_bytes(&bytes, "tax.csv", &opts()).unwrap();
    let stored: Vec<(String, Option<f64>, Option<f64>)> = parsed
        .rows
        .iter()
        .map(|r| {
            (
                r.record.uscc.to_string(),
                r.record.figures.get(Figure::Revenue),
                r.record.figures.get(Figure::TaxPaid),
            )
        })
        .collect();
    assert_eq!(stored, vec![(a, Some(1131254.63), Some(55.0))]);
    let more = finding(&parsed.report, 3, "field_count").expect("row 3 named");
    assert!(
        more.reason.contains("5 fields") && more.reason.contains("has 4"),
        "{}",
        more.reason
    );
    assert!(
        more.reason_zh.contains("该行有 5 个字段"),
        "{}",
        more.reason_zh
    );
    let fewer = finding(&parsed.report, 4, "field_count").expect("row 4 named");
    assert!(fewer.reason.contains("3 fields"), "{}", fewer.reason);
    let rejected: Vec<u64> = parsed.rejected.rows.iter().map(|(n, _)| *n).collect();
    assert_eq!(rejected, vec![3, 4]);
}

/// Trailing empty header cells (a sheet saved with a wider used range) do not make rows of the
/// table's own width wrong.
#[test]
fn rows_as_wide_as_the_used_header_are_fine() {
    let a = uscc(1);
    let bytes = csv(&[
        "uscc,year,revenue_10k_yuan,,",
        &format!("{a},2024,10"),
        &format!("{a},2023,11,,"),
    ]);
    let parsed = parse_annual_bytes(&bytes, "tax.csv", &opts()).unwrap();
    assert_eq!(parsed.rows.len(), 2, "{:?}", findings(&parsed.report));
}

/// The review's bomb: two cells at A1 and XFD1048576 make a tiny file whose sheet declares
/// 17 billion cells. It is refused at once, without building the grid.
#[test]
fn a_sheet_spanning_the_whole_grid_is_refused_quickly() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "uscc").unwrap();
    sheet.write_string(0, 1, "year").unwrap();
    sheet.write_number(1_048_575, 16_383, 1.0).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    assert!(bytes.len() < 10_000, "a small file: {} bytes", bytes.len());
    let started = Instant::now();
    let err = parse_annual_bytes(&bytes, "bomb.xlsx", &opts()).unwrap_err();
    assert!(
        started.elapsed().as_secs_f64() < 1.0,
        "{:?}",
        started.elapsed()
    );
    match &err {
        IngestError::SheetTooLarge {
            rows,
            columns,
            sheet,
            ..
        } => {
            assert_eq!((*rows, *columns), (1_048_576, 16_384));
            assert_eq!(sheet, "Sheet1");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.message_zh().contains("超出可读取的范围"),
        "{}",
        err.message_zh()
    );
}

/// A sheet whose `<dimension>` is honest but whose cells lie far apart (A1 and ALL1048576: a
/// thousand columns by a million rows) is refused too: the grid, not the file, is the cost.
#[test]
fn cells_far_apart_are_refused_even_with_few_columns() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "uscc").unwrap();
    sheet.write_number(1_048_575, 999, 1.0).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let err = parse_annual_bytes(&bytes, "wide.xlsx", &opts()).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::SheetTooLarge {
                rows: 1_048_576,
                columns: 1_000,
                ..
            }
        ),
        "{err:?}"
    );
}

/// A workbook written by a program (not Excel) may keep a formula without its result: read as
/// blank it would lose the figure, so the file is refused naming the cell.
#[test]
fn a_formula_without_a_cached_value_is_an_error_naming_the_cell() {
    let a = uscc(1);
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C2"/><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>uscc</t></is></c><c r="B1" t="inlineStr"><is><t>year</t></is></c><c r="C1" t="inlineStr"><is><t>revenue_10k_yuan</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>{a}</t></is></c><c r="B2"><v>2024</v></c><c r="C2"><f>100*2</f></c></row>
</sheetData></worksheet>"#
    );
    let bytes = minimal_xlsx(&sheet);
    let err = parse_annual_bytes(&bytes, "formula.xlsx", &opts()).unwrap_err();
    match &err {
        IngestError::FormulaWithoutValue { cell, .. } => assert_eq!(cell, "C2"),
        other => panic!("{other:?}"),
    }
    assert!(
        err.message_zh().contains("单元格 C2"),
        "{}",
        err.message_zh()
    );
}

/// The smallest XLSX package around one sheet's XML, stored uncompressed.
fn minimal_xlsx(sheet_xml: &str) -> Vec<u8> {
    let files = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
        ),
        ("xl/worksheets/sheet1.xml", sheet_xml.to_string()),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in files {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
