//! A district officer's uploads: rows of other districts' enterprises are rejected row by row.

mod common;

use std::collections::HashMap;

use common::*;
use gusu_core::Uscc;
use gusu_ingest::{
    check_annual_districts, check_annual_year, check_enterprise_districts, parse_annual_bytes,
    parse_enterprises_bytes,
};

const HEADER: &str = "uscc,name,district,industry_code,land_area_mu,above_scale,established,exempt";

fn code(i: u32) -> Uscc {
    Uscc::parse(&uscc_in("320583", i)).unwrap()
}

#[test]
fn enterprise_rows_of_other_districts_are_rejected_each_with_its_reason() {
    let (mine, moved, theirs, new_mine) = (code(1), code(2), code(3), code(4));
    let mut parsed = parse_enterprises_bytes(
        &csv(&[
            HEADER,
            // row 2: registered in Kunshan (320583), written as Kunshan: kept.
            &format!("{mine},甲,320583,C3484,10,是,2015-06-01,"),
            // row 3: registered in Wuzhong (320506), written as Kunshan: a move out of another
            // district is refused.
            &format!("{moved},乙,320583,C3484,10,是,2015-06-01,"),
            // row 4: new, written as Wuzhong: refused.
            &format!("{theirs},丙,吴中区,C3484,10,是,2015-06-01,"),
            // row 5: new, written as Kunshan: kept.
            &format!("{new_mine},丁,昆山市,C3484,10,是,2015-06-01,"),
        ]),
        "e.csv",
        &opts(),
    )
    .unwrap();
    assert!(
        parsed.report.issues.is_empty(),
        "{:?}",
        parsed.report.issues
    );
    let registered: HashMap<Uscc, String> =
        [(mine, "320583".to_string()), (moved, "320506".to_string())].into();
    check_enterprise_districts(&mut parsed, &registered, &opts().region, |d| d == "320583");
    let kept: Vec<u64> = parsed.rows.iter().map(|r| r.row).collect();
    assert_eq!(kept, [2, 5]);
    let rejected: Vec<u64> = parsed.rejected.rows.iter().map(|(n, _)| *n).collect();
    assert_eq!(rejected, [3, 4]);
    assert_eq!(
        parsed.rejected.rows[1].1[1], "丙",
        "rejected rows keep their cells"
    );
    let row3 = finding(&parsed.report, 3, "outside_district").unwrap();
    assert_eq!(row3.column.as_deref(), Some("uscc"));
    assert!(row3.reason.contains("registered in") && row3.reason.contains("320506"));
    let row4 = finding(&parsed.report, 4, "outside_district").unwrap();
    assert_eq!(
        (row4.column.as_deref(), row4.value.as_deref()),
        (Some("district"), Some("320506"))
    );
    assert!(row4.reason_zh.contains("吴中区"), "{}", row4.reason_zh);
}

#[test]
fn yearly_rows_of_other_districts_and_other_years_are_rejected() {
    let (mine, theirs, unknown) = (code(1), code(2), code(3));
    let mut parsed = parse_annual_bytes(
        &csv(&[
            "uscc,year,revenue_10k_yuan",
            &format!("{mine},2024,10"),
            &format!("{theirs},2024,20"),
            &format!("{unknown},2024,30"),
            &format!("{mine},2023,40"),
        ]),
        "a.csv",
        &opts(),
    )
    .unwrap();
    let registered: HashMap<Uscc, String> =
        [(mine, "320583".to_string()), (theirs, "320506".to_string())].into();
    check_annual_districts(&mut parsed, &registered, &opts().region, |d| d == "320583");
    check_annual_year(&mut parsed, 2024);
    let kept: Vec<u64> = parsed.rows.iter().map(|r| r.row).collect();
    // Row 4 (unknown code) is left to check_known_enterprises.
    assert_eq!(kept, [2, 4]);
    assert!(has_error(&parsed.report, 3, "outside_district"));
    let year = finding(&parsed.report, 5, "other_year").unwrap();
    assert_eq!(
        (year.column.as_deref(), year.value.as_deref()),
        (Some("year"), Some("2023"))
    );
    let order: Vec<Option<u64>> = parsed.report.issues.iter().map(|i| i.row).collect();
    assert_eq!(order, [Some(3), Some(5)], "findings stay in row order");
}
