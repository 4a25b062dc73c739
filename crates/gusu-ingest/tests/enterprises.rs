//! The enterprises file from CSV: headers, encodings, title and total rows, every cell rule.

mod common;

use chrono::NaiveDate;
use common::*;
use gusu_core::Severity;
use gusu_ingest::{IngestError, parse_enterprises_bytes, read_enterprises};

const HEADER: &str = "uscc,name,district,industry_code,land_area_mu,above_scale,established,exempt";

fn parse(lines: &[&str]) -> gusu_ingest::ParsedEnterprises {
    parse_enterprises_bytes(&csv(lines), "enterprises.csv", &opts()).expect("file reads")
}

#[test]
fn english_header_with_bom_reads_every_field() {
    let (a, b) = (uscc(1), uscc(2));
    let mut bytes = gusu_ingest::UTF8_BOM.to_vec();
    bytes.extend(csv(&[
        HEADER,
        &format!("{a},苏州甲精密机械有限公司,320583,C3484,35.5,是,2015-06-01,"),
        &format!(
            "{},乙电子有限公司,昆山市,39,,false,2019/3/5,1",
            b.to_lowercase()
        ),
    ]));
    let parsed = parse_enterprises_bytes(&bytes, "enterprises.csv", &opts()).unwrap();
    assert_eq!(parsed.report.file, "enterprises.csv");
    assert_eq!(parsed.report.rows, 2);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(parsed.rows.len(), 2);
    let first = &parsed.rows[0];
    assert_eq!(first.row, 2);
    let e = &first.record;
    assert_eq!(e.uscc.as_str(), a);
    assert_eq!(e.name, "苏州甲精密机械有限公司");
    assert_eq!(e.district, "320583");
    assert_eq!(e.industry_code, "3484");
    assert_eq!(e.division, "34");
    assert_eq!(e.land_area_mu, Some(35.5));
    assert!(e.above_scale);
    assert!(!e.exempt, "blank exempt is false");
    assert_eq!(e.established, NaiveDate::from_ymd_opt(2015, 6, 1).unwrap());
    let e = &parsed.rows[1].record;
    assert_eq!(parsed.rows[1].row, 3);
    assert_eq!(e.uscc.as_str(), b, "stored upper case");
    assert_eq!(e.district, "320583");
    assert_eq!(e.land_area_mu, None);
    assert!(!e.above_scale);
    assert!(e.exempt);
    assert_eq!(e.established, NaiveDate::from_ymd_opt(2019, 3, 5).unwrap());
    assert_eq!(parsed.sha256.len(), 64);
    assert!(parsed.rejected.rows.is_empty());
}

#[test]
fn sha256_is_of_the_file_bytes() {
    let bytes = csv(&[
        HEADER,
        &format!("{},甲,320583,3484,1,是,2015-06-01,", uscc(1)),
    ]);
    let parsed = parse_enterprises_bytes(&bytes, "e.csv", &opts()).unwrap();
    // sha256 of the same bytes computed independently.
    use sha2::{Digest, Sha256};
    let expected: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(parsed.sha256, expected);
}

#[test]
fn chinese_headers_full_width_brackets_title_rows_and_total_row() {
    let (a, b) = (uscc(1), uscc(2));
    let parsed = parse(&[
        "2024年度规上工业企业名录,,,,,,",
        "单位：亩,,,,,,",
        "统一社会信用代码,企业名称,所属区县,国民经济行业代码,用地面积（亩）,是否规上,成立日期",
        &format!("{a},甲公司,昆山市,3911,12,是,20150601"),
        ",,,,,,",
        &format!("{b},乙公司,太仓市,3911,8,否,2016-01-02"),
        "合计,,,,20,,",
    ]);
    assert_eq!(findings(&parsed.report), [(None, "skipped_rows".into())]);
    assert!(parsed.report.issues[0].reason.ends_with(": 7 (total)"));
    assert_eq!(
        parsed.report.rows, 2,
        "title, header, blank and total rows are not data rows"
    );
    let rows: Vec<u64> = parsed.rows.iter().map(|r| r.row).collect();
    assert_eq!(
        rows,
        vec![4, 6],
        "row numbers are CSV lines, title rows counted"
    );
    assert_eq!(parsed.rows[1].record.district, "320585");
}

#[test]
fn title_rows_shift_error_row_numbers() {
    let parsed = parse(&[
        "2024年度规上工业企业名录",
        "单位：万元",
        HEADER,
        &format!("{},甲,320583,3484,1,是,2015-06-01,", uscc(1)),
        ",乙,320583,3484,1,是,2015-06-01,",
    ]);
    assert!(has_error(&parsed.report, 5, "required_blank"));
    assert_eq!(parsed.rejected.rows[0].0, 5);
}

#[test]
fn gbk_encoded_file() {
    let text = format!(
        "统一社会信用代码,企业名称,所属区县,行业代码,用地面积(亩),是否规上,成立日期\r\n{},苏州甲有限公司,昆山市,C3911,10,是,2018-05-06\r\n",
        uscc(1)
    );
    let (bytes, _, _) = encoding_rs::GBK.encode(&text);
    assert!(std::str::from_utf8(&bytes).is_err(), "really GBK");
    let parsed = parse_enterprises_bytes(&bytes, "gbk.csv", &opts()).unwrap();
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(parsed.rows[0].record.name, "苏州甲有限公司");
}

#[test]
fn header_aliases_and_case() {
    let parsed = parse(&[
        " USCC ,单位名称,区县,行业代码,用地面积,规模以上,成立日期,不参评",
        &format!(
            "{},甲,虎丘区（苏州高新区）,3911,10,TRUE,2018-05-06,否",
            uscc(1)
        ),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(parsed.rows[0].record.district, "320505");
    let parsed = parse(&[
        "社会信用代码,企业名称,所属地区,国民经济行业代码,用地面积(亩),是否规上,成立日期",
        &format!("{},甲,SIP,3911,10,1,2018-05-06", uscc(1)),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let parsed = parse(&[
        "纳税人识别号,企业名称,所属区县,行业代码,用地面积(亩),是否规上,成立日期",
        &format!("{},甲,常熟市,3911,10,0,2018-05-06", uscc(1)),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
}

#[test]
fn every_required_cell_blank_is_an_error() {
    let u = uscc(1);
    let cases = [
        (",甲,320583,3484,1,是,2015-06-01,".to_string(), "uscc"),
        (format!("{u},,320583,3484,1,是,2015-06-01,"), "name"),
        (format!("{u},甲,,3484,1,是,2015-06-01,"), "district"),
        (format!("{u},甲,320583,,1,是,2015-06-01,"), "industry_code"),
        (format!("{u},甲,320583,3484,1,,2015-06-01,"), "above_scale"),
        (format!("{u},甲,320583,3484,1,是,,"), "established"),
        (format!("{u},甲,320583,3484,1,是,—,"), "established"),
        (format!("{u},无,320583,3484,1,是,2015-06-01,"), "name"),
    ];
    for (line, column) in cases {
        let parsed = parse(&[HEADER, &line]);
        let issue =
            finding(&parsed.report, 2, "required_blank").unwrap_or_else(|| panic!("{line}"));
        assert_eq!(issue.column.as_deref(), Some(column), "{line}");
        assert_eq!(issue.severity, Severity::Error);
        assert!(parsed.rows.is_empty());
        assert_eq!(parsed.rejected.rows.len(), 1);
        assert_eq!(
            parsed.report.error_count(),
            1,
            "{line}: {:?}",
            parsed.report.issues
        );
    }
}

#[test]
fn blank_marks_in_optional_cells_are_blank() {
    for mark in ["", "-", "—", "/", "无", "  "] {
        let parsed = parse(&[
            HEADER,
            &format!("{},甲,320583,3484,{mark},是,2015-06-01,{mark}", uscc(1)),
        ]);
        assert!(
            parsed.report.issues.is_empty(),
            "{mark:?}: {:?}",
            parsed.report.issues
        );
        assert_eq!(parsed.rows[0].record.land_area_mu, None);
        assert!(!parsed.rows[0].record.exempt);
    }
}

#[test]
fn invalid_codes_name_the_rule() {
    let good = uscc(1);
    let mut bad_check = good.clone();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let cases = [
        (good[..17].to_string(), "uscc_length"),
        (bad_check.clone(), "uscc_check_character"),
        ("9.13205E+17".to_string(), "uscc_excel_number"),
        (format!("{}I{}", &good[..10], &good[11..]), "uscc_character"),
        (format!("91A{}", &good[3..]), "uscc_division"),
    ];
    for (code, expected) in cases {
        let parsed = parse(&[HEADER, &format!("{code},甲,320583,3484,1,是,2015-06-01,")]);
        let issue = finding(&parsed.report, 2, expected)
            .unwrap_or_else(|| panic!("{code}: {:?}", parsed.report.issues));
        assert_eq!(issue.severity, Severity::Error);
        assert_eq!(issue.column.as_deref(), Some("uscc"));
        assert_eq!(issue.value.as_deref(), Some(code.as_str()));
        assert!(!issue.reason_zh.is_empty() && !issue.reason.is_empty());
        assert!(parsed.rows.is_empty());
    }
}

#[test]
fn duplicate_codes_are_errors_on_every_occurrence() {
    let a = uscc(1);
    let parsed = parse(&[
        HEADER,
        &format!("{a},甲,320583,3484,1,是,2015-06-01,"),
        &format!("{},乙,320583,3484,1,是,2015-06-01,", uscc(2)),
        &format!("{a},甲二,320583,3484,1,是,2015-06-01,"),
    ]);
    let first = finding(&parsed.report, 2, "duplicate_uscc").expect("first occurrence");
    let second = finding(&parsed.report, 4, "duplicate_uscc").expect("second occurrence");
    assert!(
        first.reason.contains('4') && first.reason_zh.contains('4'),
        "{}",
        first.reason
    );
    assert!(second.reason.contains('2'), "{}", second.reason);
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].row, 3);
    let rejected: Vec<u64> = parsed.rejected.rows.iter().map(|r| r.0).collect();
    assert_eq!(rejected, vec![2, 4]);
    assert_eq!(parsed.rejected.rows[0].1[1], "甲");
    assert_eq!(parsed.rejected.rows[1].1[1], "甲二");
}

#[test]
fn unparseable_numbers_dates_and_flags() {
    let u = uscc(1);
    let cases = [
        (
            format!("{u},甲,320583,3484,abc,是,2015-06-01,"),
            "unparseable_number",
            "land_area_mu",
        ),
        (
            format!("{u},甲,320583,3484,NaN,是,2015-06-01,"),
            "unparseable_number",
            "land_area_mu",
        ),
        (
            format!("{u},甲,320583,3484,Inf,是,2015-06-01,"),
            "unparseable_number",
            "land_area_mu",
        ),
        (
            // A unit in the cell other than the column's own (亩) is never converted.
            format!("{u},甲,320583,3484,12平方米,是,2015-06-01,"),
            "unparseable_number",
            "land_area_mu",
        ),
        (
            format!("{u},甲,320583,3484,1,是,2019,"),
            "unparseable_date",
            "established",
        ),
        (
            format!("{u},甲,320583,3484,1,是,2019-02-30,"),
            "unparseable_date",
            "established",
        ),
        (
            format!("{u},甲,320583,3484,1,是,去年,"),
            "unparseable_date",
            "established",
        ),
        (
            format!("{u},甲,320583,3484,1,有,2015-06-01,"),
            "unparseable_flag",
            "above_scale",
        ),
        (
            format!("{u},甲,320583,3484,1,是,2015-06-01,不是"),
            "unparseable_flag",
            "exempt",
        ),
        (
            format!("{u},甲,320583,3484,1,ok,2015-06-01,"),
            "unparseable_flag",
            "above_scale",
        ),
    ];
    for (line, code, column) in cases {
        let parsed = parse(&[HEADER, &line]);
        let issue = finding(&parsed.report, 2, code)
            .unwrap_or_else(|| panic!("{line}: {:?}", parsed.report.issues));
        assert_eq!(issue.column.as_deref(), Some(column), "{line}");
        assert_eq!(issue.severity, Severity::Error);
        assert!(parsed.rows.is_empty(), "{line}");
    }
}

#[test]
fn numbers_with_separators_and_flags_in_any_case() {
    let parsed = parse(&[
        HEADER,
        &format!("{},甲,320583,3484,\"1,234.5\",True,43529,FALSE", uscc(1)),
        &format!("{},乙,320583,3484,2.50,否,2019-3-5,是", uscc(2)),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let e = &parsed.rows[0].record;
    assert_eq!(e.land_area_mu, Some(1234.5));
    assert!(e.above_scale);
    assert!(!e.exempt);
    assert_eq!(
        e.established,
        NaiveDate::from_ymd_opt(2019, 3, 5).unwrap(),
        "Excel serial 43529"
    );
    assert!(parsed.rows[1].record.exempt);
}

#[test]
fn unknown_district_and_industry_division() {
    let u = uscc(1);
    let parsed = parse(&[
        HEADER,
        &format!("{u},甲,南京市,3484,1,是,2015-06-01,"),
        &format!("{},乙,320583,5111,1,是,2015-06-01,", uscc(2)),
        &format!("{},丙,320583,C,1,是,2015-06-01,", uscc(3)),
        &format!("{},丁,320583,D3911,1,是,2015-06-01,", uscc(4)),
        &format!("{},戊,320583,611,1,是,2015-06-01,", uscc(5)),
    ]);
    assert!(has_error(&parsed.report, 2, "unknown_district"));
    assert!(has_error(&parsed.report, 3, "unknown_industry_division"));
    assert!(has_error(&parsed.report, 4, "invalid_industry_code"));
    assert!(has_error(&parsed.report, 5, "industry_section_mismatch"));
    // CSV cells may be numbers Excel wrote out: 611 is 0611 (division 06).
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].record.industry_code, "0611");
    assert_eq!(parsed.rows[0].record.division, "06");
}

#[test]
fn all_errors_of_a_row_are_reported() {
    let parsed = parse(&[HEADER, "bad,,火星,99,x,有,2019,"]);
    let codes: Vec<String> = parsed
        .report
        .issues
        .iter()
        .map(|i| i.code.clone())
        .collect();
    for code in [
        "uscc_length",
        "required_blank",
        "unknown_district",
        "unknown_industry_division",
        "unparseable_number",
        "unparseable_flag",
        "unparseable_date",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }
    assert_eq!(
        parsed.rejected.rows,
        vec![(
            2,
            vec![
                "bad".to_string(),
                String::new(),
                "火星".into(),
                "99".into(),
                "x".into(),
                "有".into(),
                "2019".into(),
            ]
        )]
    );
    assert_eq!(parsed.rejected.header.len(), 8);
}

#[test]
fn warnings_never_drop_a_row() {
    let parsed = parse(&[
        "uscc,name,district,industry_code,land_area_mu,above_scale,established,remark,联系人",
        &format!("{},甲,320583,3484,0,是,2015-06-01,x,y", uscc(1)),
        &format!("{},乙,320583,3484,-3,是,2015-06-01,,", uscc(2)),
        &format!("{},丙,320583,3484,5,是,2015-06-01,,", uscc_in("110108", 3)),
    ]);
    assert_eq!(parsed.rows.len(), 3);
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert!(has_warning(&parsed.report, 2, "zero_value"));
    assert!(has_warning(&parsed.report, 3, "negative_value"));
    assert!(has_warning(&parsed.report, 4, "uscc_outside_region"));
    let unknown: Vec<_> = parsed
        .report
        .issues
        .iter()
        .filter(|i| i.code == "unknown_columns")
        .collect();
    assert_eq!(unknown.len(), 1, "one file-level warning");
    assert_eq!(unknown[0].row, None);
    assert!(unknown[0].reason.contains("remark") && unknown[0].reason.contains("联系人"));
    assert_eq!(
        parsed.report.issues[0].code, "unknown_columns",
        "file-level findings first"
    );
    assert_eq!(parsed.rows[1].record.land_area_mu, Some(-3.0));
}

#[test]
fn note_rows_under_the_table_are_skipped() {
    let parsed = parse(&[
        HEADER,
        &format!("{},甲,320583,3484,1,是,2015-06-01,", uscc(1)),
        "总计：1 户",
        "制表人：张三,,审核人：李四",
    ]);
    assert_eq!(
        parsed.report.issues[0].reason_zh,
        "表头以下有 2 行作为合计行或备注行跳过：第 3 行（合计行）、第 4 行（备注行）"
    );
    assert_eq!(parsed.report.issues.len(), 1);
    assert_eq!(parsed.report.rows, 1);
}

#[test]
fn a_name_containing_a_total_word_is_still_data() {
    let parsed = parse(&[
        HEADER,
        &format!(
            "{},苏州小计量仪器有限公司,320583,4011,1,是,2015-06-01,",
            uscc(1)
        ),
    ]);
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.report.rows, 1);
}

#[test]
fn a_malformed_code_beside_a_total_word_is_a_data_row_with_its_error() {
    // The code lost a character: the row must be reported, not skipped as a 小计 row.
    let mut code = uscc(1);
    code.pop();
    let parsed = parse(&[
        HEADER,
        &format!("{code},小计量仪器有限公司,320583,4011,1,是,2015-06-01,"),
        "小计,,,,1,,",
    ]);
    assert_eq!(parsed.report.rows, 1);
    assert!(has_error(&parsed.report, 2, "uscc_length"));
    let skipped = finding_code(&parsed.report, "skipped_rows");
    assert!(
        skipped.reason.ends_with(": 3 (total)"),
        "{}",
        skipped.reason
    );
}

fn finding_code<'a>(report: &'a gusu_core::Report, code: &str) -> &'a gusu_core::Issue {
    report.issues.iter().find(|i| i.code == code).unwrap()
}

#[test]
fn header_only_file_warns() {
    let parsed = parse(&[HEADER]);
    assert_eq!(parsed.report.rows, 0);
    assert_eq!(
        findings(&parsed.report),
        vec![(None, "no_data_rows".to_string())]
    );
}

#[test]
fn file_errors_name_the_file() {
    // Required column missing.
    let err = parse_enterprises_bytes(
        &csv(&["uscc,name,industry_code,land_area_mu,above_scale,established"]),
        "e.csv",
        &opts(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, IngestError::MissingColumn { column, .. } if column == "district"),
        "{err}"
    );
    assert!(err.to_string().starts_with("e.csv:"));
    assert!(err.message_zh().contains("所属区县"));

    // Duplicate mapped column.
    let err = parse_enterprises_bytes(
        &csv(&[
            "uscc,企业名称,单位名称,district,industry_code,land_area_mu,above_scale,established",
        ]),
        "e.csv",
        &opts(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, IngestError::DuplicateColumn { column, .. } if column == "name"),
        "{err}"
    );
    assert!(err.to_string().contains("企业名称") && err.to_string().contains("单位名称"));
    assert!(err.message_zh().starts_with("e.csv"));

    // No header row: says which columns are needed.
    let err = parse_enterprises_bytes(&csv(&["a,b,c", "1,2,3"]), "e.csv", &opts()).unwrap_err();
    assert!(matches!(err, IngestError::NoHeader { .. }), "{err}");
    assert!(
        err.to_string().contains("uscc") && err.to_string().contains("name"),
        "{err}"
    );
    assert!(err.message_zh().contains("统一社会信用代码"));

    // A damaged Excel 97-2003 file: said in words a clerk acts on, without the library's detail.
    let err = parse_enterprises_bytes(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", "old.xls", &opts())
        .unwrap_err();
    assert!(matches!(err, IngestError::Workbook { .. }), "{err}");
    assert!(err.to_string().starts_with("old.xls:"));
    assert!(err.message_zh().contains("另存为"), "{}", err.message_zh());
    let err = parse_enterprises_bytes(b"%PDF-1.4\0\0binary", "scan.pdf", &opts()).unwrap_err();
    assert!(
        matches!(err, IngestError::UnsupportedFormat { .. }),
        "{err}"
    );
    let err = parse_enterprises_bytes(b"hello\0\x01\x02", "x.csv", &opts()).unwrap_err();
    assert!(
        matches!(err, IngestError::UnsupportedFormat { .. }),
        "{err}"
    );
    let err = parse_enterprises_bytes(b"PK\x03\x04garbage", "broken.xlsx", &opts()).unwrap_err();
    assert!(matches!(err, IngestError::Workbook { .. }), "{err}");
    assert!(err.to_string().starts_with("broken.xlsx:"));

    // Cannot read.
    let err =
        read_enterprises(std::path::Path::new("/nonexistent/dir/ent.csv"), &opts()).unwrap_err();
    assert!(matches!(err, IngestError::Read { .. }));
    assert!(err.to_string().starts_with("ent.csv:"), "{err}");
    assert!(err.message_zh().contains("ent.csv"));
}

#[test]
fn read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("企业名录.csv");
    std::fs::write(
        &path,
        csv(&[
            HEADER,
            &format!("{},甲,320583,3484,1,是,2015-06-01,", uscc(1)),
        ]),
    )
    .unwrap();
    let parsed = read_enterprises(&path, &opts()).unwrap();
    assert_eq!(parsed.file_name, "企业名录.csv");
    assert_eq!(parsed.report.file, "企业名录.csv");
    assert_eq!(parsed.rows.len(), 1);
}

#[test]
fn utf16_tab_separated_unicode_text_reads_like_the_csv() {
    // Excel's "Unicode text" export: UTF-16 LE with its BOM, tab-separated, CRLF.
    let (a, b) = (uscc(1), uscc(2));
    let rows = [
        "统一社会信用代码\t企业名称\t所属区县\t行业代码\t用地面积（亩）\t是否规上\t成立日期"
            .to_string(),
        format!("{a}\t甲, 有限公司\t昆山市\t3911\t12.5\t是\t2015-06-01"),
        format!("{b}\t乙公司\t太仓市\t3911\t8\t否\t2016-01-02"),
    ];
    let mut bytes = vec![0xFF, 0xFE];
    for unit in rows.join("\r\n").encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    let parsed = parse_enterprises_bytes(&bytes, "unicode.txt", &opts()).unwrap();
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
    assert_eq!(parsed.rows.len(), 2);
    let first = &parsed.rows[0].record;
    assert_eq!(first.uscc.as_str(), a);
    // The comma inside a tab-separated cell is text, not a separator.
    assert_eq!(first.name, "甲, 有限公司");
    assert_eq!(first.district, "320583");
    assert_eq!(first.land_area_mu, Some(12.5));
    assert_eq!(parsed.rows[1].record.district, "320585");
}

#[test]
fn another_city_is_configurable() {
    use gusu_core::{District, RegionSet};
    let wuxi = RegionSet {
        city_zh: "无锡市".into(),
        city_en: "Wuxi".into(),
        division_prefix: "3202".into(),
        prefixes: vec!["无锡市".into()],
        districts: vec![District {
            code: "320214".into(),
            name_zh: "新吴区".into(),
            name_en: "Xinwu".into(),
            aliases: vec![],
        }],
    };
    let opts = gusu_ingest::ReadOptions {
        sheet: None,
        region: wuxi,
    };
    let bytes = csv(&[
        HEADER,
        &format!("{},甲,新吴区,3484,1,是,2015-06-01,", uscc_in("320214", 1)),
        &format!("{},乙,新吴区,3484,1,是,2015-06-01,", uscc(2)),
        &format!("{},丙,昆山市,3484,1,是,2015-06-01,", uscc_in("320214", 3)),
    ]);
    let parsed = parse_enterprises_bytes(&bytes, "wuxi.csv", &opts).unwrap();
    assert_eq!(parsed.rows[0].record.district, "320214");
    assert!(
        has_warning(&parsed.report, 3, "uscc_outside_region"),
        "a Suzhou code in Wuxi"
    );
    assert!(finding(&parsed.report, 2, "uscc_outside_region").is_none());
    assert!(has_error(&parsed.report, 4, "unknown_district"));
}

#[test]
fn numbered_empty_rows_are_blank() {
    let parsed = parse(&[
        "序号,uscc,name,district,industry_code,land_area_mu,above_scale,established",
        &format!("1,{},甲,320583,3484,1,是,2015-06-01", uscc(1)),
        "2,,,,,,,",
        "3,,,,,,,",
    ]);
    assert_eq!(parsed.report.rows, 1);
    assert!(!parsed.report.has_errors(), "{:?}", parsed.report.issues);
}
