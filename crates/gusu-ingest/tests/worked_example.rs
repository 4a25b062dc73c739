//! The worked example of docs/data-formats.md, checked.

mod common;

use common::*;
use gusu_core::Figure;
use gusu_ingest::{parse_annual_bytes, write_rejects};

const EXAMPLE: &str = "2024年度重点企业税收情况表,,,
单位：元,,,
统一社会信用代码,企业名称,年度,实缴税金（元）
91320583MA1N2K3L4X,苏州示例精密机械有限公司,2024,\"18,600,000\"
9.13205E+17,苏州某某电子有限公司,2024,960000
91320585MA20ABCD1Y,苏州示例电子科技有限公司,2024年,无
合 计,,,\"19,560,000\"
";

#[test]
fn worked_example_as_documented() {
    let (gbk, _, _) = encoding_rs::GBK.encode(EXAMPLE);
    let parsed = parse_annual_bytes(&gbk, "2024税收.csv", &opts()).unwrap();
    assert_eq!(parsed.report.rows, 3);
    assert_eq!(
        findings(&parsed.report),
        vec![
            (None, "unknown_columns".to_string()),
            (None, "skipped_rows".to_string()),
            (Some(5), "uscc_excel_number".to_string()),
        ]
    );
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(parsed.rows[0].row, 4);
    assert_eq!(
        parsed.rows[0].record.figures.get(Figure::TaxPaid),
        Some(1860.0)
    );
    assert_eq!(parsed.rows[1].row, 6);
    assert_eq!(parsed.rows[1].record.figures.get(Figure::TaxPaid), None);

    let dir = tempfile::tempdir().unwrap();
    let out = write_rejects(
        &dir.path().join("2024税收.csv"),
        &parsed.rejected,
        &parsed.report,
    )
    .unwrap();
    assert_eq!(out.file_name().unwrap(), "2024税收.rejects.csv");
    let text = std::fs::read_to_string(out).unwrap();
    let expected = "\u{feff}统一社会信用代码,企业名称,年度,实缴税金（元）,错误原因 (reasons)\n\
9.13205E+17,苏州某某电子有限公司,2024,960000,uscc: 统一社会信用代码无效：“9.13205E+17”是被 Excel 转成数字的代码，原值已丢失：请将该列设为文本后重新导出 (invalid unified social credit code: looks like a number Excel converted ('9.13205E+17'): the code was lost; format the column as text and export again)\n";
    assert_eq!(text, expected);
}
