//! Energy files: Chinese or English headers, CSV (UTF-8, BOM, GBK) and XLSX, and a finding naming
//! row, column, value and reason for every bad cell.

mod common;

use common::*;
use gusu_core::Uscc;
use gusu_core::carbon::{Carrier, Unit};
use gusu_ingest::{IngestError, check_known_energy, parse_energy_bytes};

#[test]
fn english_headers_and_every_carrier_form() {
    let a = uscc(1);
    let text = csv(&[
        "uscc,year,carrier,quantity,unit,enthalpy_kj_per_kg,temperature_c",
        &format!("{a},2024,raw_coal,100,t,,"),
        &format!("{a},2024,natural_gas,\"250,000\",m3,,"),
        &format!("{a},2024,electricity,2000000,kWh,,"),
        &format!("{a},2024,steam,1000,t,2800,"),
        &format!("{a},2024,steam,500,t,,"),
        &format!("{a},2024,hot_water,2000,t,,80"),
        &format!("{a},2024,process_co2,50,tco2,,"),
    ]);
    let p = parse_energy_bytes(&text, "energy.csv", &opts()).unwrap();
    assert!(p.report.issues.is_empty(), "{:?}", p.report.issues);
    assert_eq!(p.report.rows, 7);
    let lines: Vec<_> = p.rows.iter().map(|r| &r.record.line).collect();
    assert_eq!(lines[1].carrier, Carrier::NaturalGas);
    assert_eq!((lines[1].quantity, lines[1].unit), (250_000.0, Unit::M3));
    assert_eq!(lines[3].enthalpy_kj_per_kg, Some(2800.0));
    assert_eq!(lines[4].enthalpy_kj_per_kg, None);
    assert_eq!(lines[5].temperature_c, Some(80.0));
    assert_eq!(p.rows[0].row, 2);
    assert_eq!(p.rows[0].record.year, 2024);
}

#[test]
fn chinese_headers_in_gbk_with_a_title_row_and_a_total_row() {
    let a = uscc(2);
    let text = [
        "2024年企业能源消费表,,,,,".to_string(),
        "统一社会信用代码,年份,能源品种,实物量,计量单位,蒸汽焓值(kJ/kg)".to_string(),
        format!("{a},2024年,原煤,12.5,吨,"),
        format!("{a},2024,外购电力,1.5,兆瓦时,"),
        format!("{a},2024,蒸汽,3,吨,3000"),
        "合计,,,,,".to_string(),
    ]
    .join("\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let p = parse_energy_bytes(&gbk, "能源.csv", &opts()).unwrap();
    let found: Vec<_> = p
        .report
        .issues
        .iter()
        .map(|i| i.reason_zh.as_str())
        .collect();
    assert_eq!(
        found,
        ["表头以下有 1 行作为合计行或备注行跳过：第 6 行（合计行）"]
    );
    assert_eq!(p.rows.len(), 3);
    assert_eq!(p.rows[0].row, 3);
    assert_eq!(p.rows[0].record.line.carrier, Carrier::RawCoal);
    assert_eq!(p.rows[1].record.line.unit, Unit::Mwh);
    assert_eq!(p.rows[2].record.line.enthalpy_kj_per_kg, Some(3000.0));
}

#[test]
fn xlsx_with_typed_cells() {
    let a = uscc(3);
    let book = xlsx(&[(
        "能源",
        vec![
            vec![
                s("统一社会信用代码"),
                s("年度"),
                s("能源品种"),
                s("数量"),
                s("单位"),
                s("热水温度"),
            ],
            vec![
                s(&a),
                X::N(2024.0),
                s("天然气"),
                X::N(3.2),
                s("万立方米"),
                X::Blank,
            ],
            vec![
                s(&a),
                X::N(2024.0),
                s("热水"),
                X::N(100.0),
                s("t"),
                X::N(60.0),
            ],
        ],
    )]);
    let p = parse_energy_bytes(&book, "energy.xlsx", &opts()).unwrap();
    assert!(p.report.issues.is_empty(), "{:?}", p.report.issues);
    assert_eq!(p.rows[0].record.line.unit, Unit::TenThousandNm3);
    assert_eq!(p.rows[1].record.line.temperature_c, Some(60.0));
}

#[test]
fn bad_rows_are_reported_with_row_column_value_and_reason() {
    let a = uscc(4);
    let text = csv(&[
        "uscc,year,carrier,quantity,unit,enthalpy_kj_per_kg,temperature_c",
        &format!("{a},2024,petrol,1,t,,"),      // 2 unknown carrier
        &format!("{a},2024,diesel,1,kwh,,"),    // 3 unit misfit
        &format!("{a},2024,diesel,1,barrel,,"), // 4 unknown unit
        &format!("{a},2024,coke,-3,t,,"),       // 5 negative
        &format!("{a},2024,hot_water,10,t,,"),  // 6 no temperature
        &format!("{a},2024,coke,,t,,"),         // 7 blank quantity
        &format!("{a},2024,coke,abc,t,,"),      // 8 not a number
        &format!("{a},2024,coke,1,t,3000,"),    // 9 enthalpy on coke: warning, kept
        &format!("{a},2024,steam,1,t,-5,"),     // 10 bad enthalpy
        "9132058300000000XX,2024,coke,1,t,,",   // 11 bad code
        &format!("{a},2024,hot_water,1,gj,,"),  // 12 GJ needs no temperature: kept
    ]);
    let p = parse_energy_bytes(&text, "energy.csv", &opts()).unwrap();
    assert!(has_error(&p.report, 2, "unknown_carrier"));
    let misfit = finding(&p.report, 3, "unit_misfit").unwrap();
    assert_eq!(misfit.column.as_deref(), Some("unit"));
    assert_eq!(misfit.value.as_deref(), Some("kwh"));
    assert!(
        misfit.reason.contains("diesel") && misfit.reason.contains("kwh"),
        "{}",
        misfit.reason
    );
    assert!(misfit.reason_zh.contains("柴油"));
    assert!(has_error(&p.report, 4, "unknown_energy_unit"));
    assert!(has_error(&p.report, 5, "negative_quantity"));
    assert!(has_error(&p.report, 6, "temperature_required"));
    assert!(has_error(&p.report, 7, "required_blank"));
    assert!(has_error(&p.report, 8, "unparseable_number"));
    assert!(has_warning(&p.report, 9, "energy_value_ignored"));
    assert!(has_error(&p.report, 10, "invalid_enthalpy"));
    assert!(finding(&p.report, 11, "required_blank").is_none());
    assert!(
        p.report
            .issues
            .iter()
            .any(|i| i.row == Some(11) && i.is_error())
    );
    let kept: Vec<u64> = p.rows.iter().map(|r| r.row).collect();
    assert_eq!(kept, [9, 12]);
    assert_eq!(
        p.rows[0].record.line.enthalpy_kj_per_kg, None,
        "ignored off steam"
    );
    assert_eq!(p.rejected.rows.len(), 9);
}

#[test]
fn unknown_enterprises_and_missing_columns() {
    let (a, b) = (uscc(5), uscc(6));
    let text = csv(&[
        "uscc,year,carrier,quantity,unit",
        &format!("{a},2024,coke,1,t"),
        &format!("{b},2024,coke,1,t"),
    ]);
    let mut p = parse_energy_bytes(&text, "energy.csv", &opts()).unwrap();
    let known: std::collections::HashSet<Uscc> = [Uscc::parse(&a).unwrap()].into();
    check_known_energy(&mut p, &known);
    assert!(has_error(&p.report, 3, "unknown_enterprise"));
    assert_eq!(p.rows.len(), 1);

    let no_unit = csv(&["uscc,year,carrier,quantity", &format!("{a},2024,coke,1")]);
    match parse_energy_bytes(&no_unit, "e.csv", &opts()) {
        Err(IngestError::MissingColumn { column, .. }) => assert_eq!(column, "unit"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_template_parses_cleanly() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/templates/energy.csv");
    let parsed = gusu_ingest::read_energy(&path, &opts()).unwrap();
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    assert_eq!(parsed.rows.len(), 7);
}
