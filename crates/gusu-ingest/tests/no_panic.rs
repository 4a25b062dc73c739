//! Parsing arbitrary input never panics: it gives a report or a file error.

mod common;

use common::*;
use gusu_ingest::{parse_annual_bytes, parse_enterprises_bytes};
use proptest::prelude::*;

fn both(bytes: &[u8], name: &str) {
    if let Ok(parsed) = parse_enterprises_bytes(bytes, name, &opts()) {
        accounted(
            &parsed.report,
            parsed.rows.iter().map(|r| r.row),
            &parsed.rejected,
        );
    }
    if let Ok(mut parsed) = parse_annual_bytes(bytes, name, &opts()) {
        accounted(
            &parsed.report,
            parsed.rows.iter().map(|r| r.row),
            &parsed.rejected,
        );
        let known: std::collections::HashSet<gusu_core::Uscc> = Default::default();
        gusu_ingest::check_known_enterprises(&mut parsed, &known);
        assert!(parsed.rows.is_empty(), "nothing is known");
        gusu_ingest::merge_annual(std::slice::from_mut(&mut parsed));
    }
}

/// Every data row is either accepted or rejected, and an accepted row has no error.
fn accounted(
    report: &gusu_core::Report,
    accepted: impl Iterator<Item = u64>,
    rejected: &gusu_ingest::Rejected,
) {
    let with_errors = report.rejected_rows();
    let accepted: Vec<u64> = accepted.collect();
    assert!(
        accepted.iter().all(|r| !with_errors.contains(r)),
        "{:?}",
        report.issues
    );
    assert_eq!(accepted.len() + rejected.rows.len(), report.rows as usize);
    assert!(rejected.rows.iter().all(|(r, _)| with_errors.contains(r)));
}

/// Cells a department file might hold, good and bad.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(uscc(1)),
        Just(uscc(2)),
        Just("9.13205E+17".to_string()),
        Just("合计".to_string()),
        Just("2024".to_string()),
        Just("43529".to_string()),
        Just("是".to_string()),
        Just("\"".to_string()),
        Just("1,234.5".to_string()),
        "[0-9.,eE+-]{0,8}",
        "\\PC{0,12}",
    ]
}

const HEADERS: &[&str] = &[
    "uscc",
    "name",
    "district",
    "industry_code",
    "land_area_mu",
    "above_scale",
    "established",
    "exempt",
    "year",
    "revenue_10k_yuan",
    "实缴税金(元)",
    "用电量(万千瓦时)",
    "营业收入",
    "备注",
    "",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        both(&bytes, "x.csv");
        both(&bytes, "x.xlsx");
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend(&bytes);
        both(&zip, "x.xlsx");
    }

    #[test]
    fn arbitrary_tables_never_panic(
        header in proptest::collection::vec(proptest::sample::select(HEADERS), 0..10),
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..10), 0..8),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = header.join(",");
        for row in rows {
            text.push_str(end);
            text.push_str(&row.join(","));
        }
        both(text.as_bytes(), "t.csv");
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        both(&gbk, "t.csv");
    }

    #[test]
    fn arbitrary_workbooks_never_panic(
        rows in proptest::collection::vec(proptest::collection::vec(
            prop_oneof![
                cell().prop_map(X::S),
                any::<f64>().prop_map(X::N),
                any::<bool>().prop_map(X::B),
                (1900u16..2100, 1u8..13, 1u8..29).prop_map(|(y, m, d)| X::D(y, m, d)),
                Just(X::Blank),
            ], 0..9), 0..6),
    ) {
        let mut sheet = vec![
            ["uscc", "name", "district", "industry_code", "land_area_mu", "above_scale", "established", "year", "revenue_10k_yuan"]
                .iter().map(|h| s(h)).collect::<Vec<_>>(),
        ];
        sheet.extend(rows);
        let bytes = xlsx(&[("Sheet1", sheet)]);
        both(&bytes, "w.xlsx");
    }
}
