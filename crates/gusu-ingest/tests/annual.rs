//! Yearly files from CSV: value columns, units, overrides, years, duplicates, unknown enterprises.

mod common;

use std::collections::HashSet;

use common::*;
use gusu_core::{Figure, Flag, Severity, Uscc};
use gusu_ingest::{IngestError, ParsedAnnual, check_known_enterprises, parse_annual_bytes};

fn parse(lines: &[&str]) -> ParsedAnnual {
    parse_annual_bytes(&csv(lines), "annual.csv", &opts()).expect("file reads")
}

#[test]
fn english_keys_all_columns() {
    let u = uscc(1);
    let header = "uscc,year,revenue_10k_yuan,main_revenue_10k_yuan,tax_paid_10k_yuan,value_added_10k_yuan,\
energy_tce,energy_tce_equivalent,electricity_kwh,cod_t,ammonia_n_t,so2_t,nox_t,rd_expense_10k_yuan,employees,\
land_area_mu,above_scale,exempt";
    let parsed = parse(&[
        header,
        &format!("{u},2024,1000,900,80,300,50,120,1000000,1.5,0.2,0.3,0.4,30,120,25,是,0"),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let r = &parsed.rows[0].record;
    assert_eq!(r.uscc.as_str(), u);
    assert_eq!(r.year, 2024);
    let expect = [
        (Figure::Revenue, 1000.0),
        (Figure::MainRevenue, 900.0),
        (Figure::TaxPaid, 80.0),
        (Figure::ValueAdded, 300.0),
        (Figure::EnergyTce, 50.0),
        (Figure::EnergyTceEquivalent, 120.0),
        (Figure::ElectricityKwh, 1_000_000.0),
        (Figure::Cod, 1.5),
        (Figure::AmmoniaN, 0.2),
        (Figure::So2, 0.3),
        (Figure::Nox, 0.4),
        (Figure::RdExpense, 30.0),
        (Figure::Employees, 120.0),
        (Figure::LandAreaMu, 25.0),
    ];
    for (f, v) in expect {
        assert_eq!(r.figures.get(f), Some(v), "{f:?}");
    }
    assert_eq!(r.above_scale, Some(true));
    assert_eq!(r.exempt, Some(false));
    assert_eq!(parsed.figures, Figure::ALL.to_vec());
    assert_eq!(parsed.flags, vec![Flag::AboveScale, Flag::Exempt]);
}

#[test]
fn chinese_headers_units_convert_and_subset_of_columns() {
    let u = uscc(1);
    let parsed = parse(&[
        "2024年度企业用电及税收统计表",
        "统一社会信用代码,年度,实缴税金（元）,用电量(万千瓦时),年平均职工人数,营业收入",
        &format!("{u},2024,\"1,234,500\",\"1,234.5\",56.5,800"),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let r = &parsed.rows[0];
    assert_eq!(r.row, 3);
    assert_eq!(
        r.record.figures.get(Figure::TaxPaid),
        Some(123.45),
        "元 ÷ 10,000"
    );
    assert_eq!(
        r.record.figures.get(Figure::ElectricityKwh),
        Some(12_345_000.0),
        "万千瓦时 × 10,000"
    );
    assert_eq!(r.record.figures.get(Figure::Employees), Some(56.5));
    assert_eq!(
        r.record.figures.get(Figure::Revenue),
        Some(800.0),
        "no unit = 万元"
    );
    assert_eq!(r.record.figures.get(Figure::ValueAdded), None);
    assert_eq!(
        parsed.figures,
        vec![
            Figure::TaxPaid,
            Figure::ElectricityKwh,
            Figure::Employees,
            Figure::Revenue
        ],
        "in file order"
    );
    assert!(parsed.flags.is_empty());
}

#[test]
fn more_header_aliases() {
    let u = uscc(1);
    let parsed = parse(&[
        "纳税人识别号,年份,销售收入（万元）,主营业务收入(万元),税收实际贡献(万元),工业增加值(万元),综合能耗(吨标准煤),\
综合能耗等价值(吨标准煤),用电量(千瓦时),化学需氧量(吨),氨氮(吨),二氧化硫(吨),氮氧化物(吨),研发经费支出(万元),从业人员平均人数,\
用地面积(亩),是否规上,不参评",
        &format!("{u},2023,1,2,3,4,5,6,7,8,9,10,11,12,13,14,否,是"),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(parsed.figures, Figure::ALL.to_vec());
    let r = &parsed.rows[0].record;
    for (i, f) in Figure::ALL.into_iter().enumerate() {
        assert_eq!(r.figures.get(f), Some((i + 1) as f64), "{f:?}");
    }
    assert_eq!((r.above_scale, r.exempt), (Some(false), Some(true)));
}

#[test]
fn money_in_yuan_matches_the_same_value_in_10k_yuan() {
    let u = uscc(1);
    let a = parse(&["uscc,year,实缴税金(元)", &format!("{u},2024,12345")]);
    let b = parse(&["uscc,year,tax_paid_10k_yuan", &format!("{u},2024,1.2345")]);
    assert_eq!(
        a.rows[0].record.figures.get(Figure::TaxPaid),
        b.rows[0].record.figures.get(Figure::TaxPaid)
    );
}

#[test]
fn blank_overrides_and_values_are_none() {
    let u = uscc(1);
    let parsed = parse(&[
        "uscc,year,revenue_10k_yuan,land_area_mu,above_scale,exempt",
        &format!("{u},2024,-,,/,无"),
    ]);
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let r = &parsed.rows[0].record;
    assert_eq!(r.figures.get(Figure::Revenue), None);
    assert_eq!(r.figures.get(Figure::LandAreaMu), None);
    assert_eq!((r.above_scale, r.exempt), (None, None));
}

#[test]
fn years() {
    let u = uscc(1);
    let parsed = parse(&[
        "uscc,year,revenue_10k_yuan",
        &format!("{u},2024.0,1"),
        &format!("{},2024年,1", uscc(2)),
        &format!("{},2024.5,1", uscc(3)),
        &format!("{},1900,1", uscc(4)),
        &format!("{},2101,1", uscc(5)),
        &format!("{},明年,1", uscc(6)),
        &format!("{},,1", uscc(7)),
    ]);
    assert_eq!(
        parsed
            .rows
            .iter()
            .map(|r| r.record.year)
            .collect::<Vec<_>>(),
        vec![2024, 2024]
    );
    for row in 4..=7 {
        assert!(
            has_error(&parsed.report, row, "invalid_year"),
            "row {row}: {:?}",
            parsed.report.issues
        );
    }
    assert!(has_error(&parsed.report, 8, "required_blank"));
}

#[test]
fn value_errors_and_warnings() {
    let u = uscc(1);
    let parsed = parse(&[
        "uscc,year,revenue_10k_yuan,tax_paid_10k_yuan,energy_tce,employees",
        &format!("{u},2024,abc,1,1,1"),
        &format!("{},2024,NaN,1,1,1", uscc(2)),
        &format!("{},2024,1,inf,1,1", uscc(3)),
        &format!("{},2024,0,0,0,0", uscc(4)),
        &format!("{},2024,-5,1,1,1", uscc(5)),
        &format!("{},2024,\"1,23\",1,1,1", uscc(6)),
    ]);
    assert!(has_error(&parsed.report, 2, "unparseable_number"));
    assert!(has_error(&parsed.report, 3, "unparseable_number"));
    let inf = finding(&parsed.report, 4, "unparseable_number").unwrap();
    assert_eq!(inf.column.as_deref(), Some("tax_paid_10k_yuan"));
    assert_eq!(inf.value.as_deref(), Some("inf"));
    assert!(has_warning(&parsed.report, 5, "zero_value"));
    assert!(has_warning(&parsed.report, 6, "negative_value"));
    assert!(has_error(&parsed.report, 7, "unparseable_number"));
    let kept: Vec<u64> = parsed.rows.iter().map(|r| r.row).collect();
    assert_eq!(kept, vec![5, 6], "warnings keep rows, errors drop them");
    assert_eq!(
        parsed.rows[0].record.figures.get(Figure::EnergyTce),
        Some(0.0),
        "0 is a value"
    );
    // Zero energy is plausible: only the chosen columns warn.
    let zero_cols: Vec<_> = parsed
        .report
        .issues
        .iter()
        .filter(|i| i.code == "zero_value")
        .filter_map(|i| i.column.clone())
        .collect();
    assert_eq!(
        zero_cols,
        vec!["revenue_10k_yuan", "tax_paid_10k_yuan", "employees"]
    );
}

#[test]
fn override_flag_errors() {
    let parsed = parse(&[
        "uscc,exempt,year,above_scale",
        &format!("{},,2024,maybe", uscc(1)),
    ]);
    assert_eq!(
        parsed.flags,
        vec![Flag::Exempt, Flag::AboveScale],
        "in file order"
    );
    assert!(has_error(&parsed.report, 2, "unparseable_flag"));
}

#[test]
fn two_rows_for_one_enterprise_and_year() {
    let (a, b) = (uscc(1), uscc(2));
    let parsed = parse(&[
        "uscc,year,revenue_10k_yuan",
        &format!("{a},2024,1"),
        &format!("{a},2023,1"),
        &format!("{b},2024,1"),
        &format!("{a},2024,2"),
    ]);
    let first = finding(&parsed.report, 2, "duplicate_enterprise_year").unwrap();
    assert!(first.reason.contains('5'));
    assert_eq!(first.severity, Severity::Error);
    assert!(
        finding(&parsed.report, 5, "duplicate_enterprise_year")
            .unwrap()
            .reason
            .contains('2')
    );
    assert_eq!(
        parsed.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(
        parsed.rejected.rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![2, 5]
    );
    assert_eq!(
        parsed.rejected.rows[1].1,
        vec![a.clone(), "2024".into(), "2".into()]
    );
}

#[test]
fn unknown_enterprises_are_rejected() {
    let (a, b) = (uscc(1), uscc(2));
    let mut parsed = parse(&[
        "uscc,year,revenue_10k_yuan",
        &format!("{a},2024,1"),
        &format!("{b},2024,2"),
    ]);
    let known: HashSet<Uscc> = [Uscc::parse(&a).unwrap()].into_iter().collect();
    check_known_enterprises(&mut parsed, &known);
    assert_eq!(parsed.rows.len(), 1);
    let issue = finding(&parsed.report, 3, "unknown_enterprise").unwrap();
    assert_eq!(issue.severity, Severity::Error);
    assert_eq!(issue.value.as_deref(), Some(b.as_str()));
    assert_eq!(
        parsed.rejected.rows,
        vec![(3, vec![b, "2024".into(), "2".into()])]
    );
}

#[test]
fn file_errors() {
    let err =
        parse_annual_bytes(&csv(&["uscc,revenue_10k_yuan", "x,1"]), "a.csv", &opts()).unwrap_err();
    assert!(matches!(err, IngestError::NoHeader { .. }), "{err}");
    assert!(err.to_string().contains("year"));
    let err = parse_annual_bytes(
        &csv(&["uscc,year,营业收入,销售收入(万元)"]),
        "a.csv",
        &opts(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, IngestError::DuplicateColumn { column, .. } if column == "revenue_10k_yuan"),
        "{err}"
    );
}

#[test]
fn a_unit_gusu_cannot_convert_refuses_the_file_naming_the_column() {
    // Ignoring the column would drop every revenue figure of the file while the import "works".
    let err = parse_annual_bytes(
        &csv(&[
            "uscc,year,营业收入(美元),备注",
            &format!("{},2024,5,", uscc(1)),
        ]),
        "annual.csv",
        &opts(),
    )
    .unwrap_err();
    match &err {
        IngestError::UnknownUnit {
            header,
            unit,
            accepted,
            row,
            ..
        } => {
            assert_eq!(header, "营业收入(美元)");
            assert_eq!(unit, "美元");
            assert_eq!(accepted, &["万元", "元", "千元", "亿元"]);
            assert_eq!(*row, 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.message_zh().contains("“美元”"), "{}", err.message_zh());
}

#[test]
fn a_file_with_no_figure_gusu_reads_is_refused_listing_its_columns() {
    let err = parse_annual_bytes(
        &csv(&["uscc,year,备注,联系人", &format!("{},2024,x,y", uscc(1))]),
        "annual.csv",
        &opts(),
    )
    .unwrap_err();
    match &err {
        IngestError::NoValueColumns { ignored, .. } => {
            assert_eq!(ignored, &["uscc", "year", "备注", "联系人"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_name_column_in_a_yearly_file_is_ignored_with_a_warning() {
    let parsed = parse(&[
        "统一社会信用代码,企业名称,年份,营业收入",
        &format!("{},甲,2024,5", uscc(1)),
    ]);
    assert_eq!(parsed.rows.len(), 1);
    assert!(
        parsed
            .report
            .issues
            .iter()
            .any(|i| i.code == "unknown_columns" && i.reason.contains("企业名称"))
    );
    assert_eq!(parsed.report.ignored_columns, ["企业名称"]);
}

#[test]
fn crlf_lf_and_blank_lines_give_editor_line_numbers() {
    let u = uscc(1);
    let text = format!(
        "uscc,year,employees\n\n{u},2024,5\r\n\r\n{},bad,6\n",
        uscc(2)
    );
    let parsed = parse_annual_bytes(text.as_bytes(), "a.csv", &opts()).unwrap();
    assert_eq!(parsed.rows[0].row, 3);
    assert!(
        has_error(&parsed.report, 5, "invalid_year"),
        "{:?}",
        parsed.report.issues
    );
}

#[test]
fn quoted_multi_line_cells_keep_line_numbers() {
    let text = format!(
        "uscc,year,remark,employees\n{},2024,\"two\nlines\",5\n{},x,,6\n",
        uscc(1),
        uscc(2)
    );
    let parsed = parse_annual_bytes(text.as_bytes(), "a.csv", &opts()).unwrap();
    assert_eq!(parsed.rows[0].row, 2);
    assert!(has_error(&parsed.report, 4, "invalid_year"));
}

#[test]
fn lone_carriage_returns_end_lines() {
    let text = format!(
        "uscc,year,employees\r{},2024,5\r{},bad,6\r",
        uscc(1),
        uscc(2)
    );
    let parsed = parse_annual_bytes(text.as_bytes(), "mac.csv", &opts()).unwrap();
    assert_eq!(parsed.rows[0].row, 2);
    assert!(
        has_error(&parsed.report, 3, "invalid_year"),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(parsed.rejected.rows.len(), 1);
}
