//! Metered electricity totals as source `metered`: they fill a missing bill, lose to a bill, and a
//! bill and a total that differ beyond the tolerance are reported.

mod common;

use common::{enterprise, meta, record, rows, uscc};
use gusu_core::Figure;
use gusu_store::Store;

#[test]
fn metered_totals_fill_gaps_below_the_bills_and_differences_are_reported() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_enterprises(
            &meta("land", "enterprises.csv"),
            &rows(&[
                enterprise(1, "甲"),
                enterprise(2, "乙"),
                enterprise(3, "丙"),
            ]),
        )
        .unwrap();
    // The power company billed E1 1,000 kWh and E2 2,000 kWh; E3 has no bill.
    store
        .import_annual(
            &meta("power", "2024_power.csv"),
            &rows(&[
                record(1, 2024, &[(Figure::ElectricityKwh, 1000.0)]),
                record(2, 2024, &[(Figure::ElectricityKwh, 2000.0)]),
            ]),
        )
        .unwrap();
    // The meters: E1 1,020 (+2%, within 5%), E2 2,300 (+15%), E3 500, and a meter of an
    // enterprise the register does not know.
    let totals = [
        (uscc(1), 1020.0),
        (uscc(2), 2300.0),
        (uscc(3), 500.0),
        (uscc(9), 42.0),
    ];
    let uploader = gusu_store::Uploader {
        actor: "cli:ops".into(),
        rejected: 0,
    };
    let done = store
        .import_metered_electricity(2024, &totals, "readings 2024", 0.05, Some(&uploader))
        .unwrap();
    assert_eq!(done.summary.rows, 3);
    assert_eq!(done.unknown, [uscc(9)]);
    assert_eq!(done.differences.len(), 1, "{:?}", done.differences);
    let d = &done.differences[0];
    assert_eq!(
        (d.uscc, d.billed_kwh, d.metered_kwh),
        (uscc(2), 2000.0, 2300.0)
    );
    assert!((d.relative - 0.15).abs() < 1e-12);
    let kwh = |i: u32| {
        store
            .yearly_record(&uscc(i), 2024)
            .unwrap()
            .unwrap()
            .figures
            .get(Figure::ElectricityKwh)
    };
    assert_eq!(kwh(1), Some(1000.0), "the bill wins");
    assert_eq!(kwh(2), Some(2000.0), "the bill wins");
    assert_eq!(kwh(3), Some(500.0), "the meters fill the gap");
    let lineage = store.lineage(&uscc(3), 2024).unwrap();
    assert!(
        lineage
            .iter()
            .any(|v| v.source == "metered" && v.file_name == "readings 2024" && v.effective)
    );
    // The same totals again change nothing.
    let again = store
        .import_metered_electricity(2024, &totals, "readings 2024", 0.05, Some(&uploader))
        .unwrap();
    assert!(again.summary.already_imported);
    let batches = store.batches().unwrap();
    assert_eq!(batches.len(), 3);
    // The metered batch names who brought it in, from the audit entry of its own transaction.
    let metered = batches.iter().find(|b| b.source == "metered").unwrap();
    assert_eq!(metered.uploaded_by.as_deref(), Some("cli:ops"));
    let imports: Vec<_> = store
        .audit_log(100)
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.action == "import" && e.target.as_deref() == Some(&format!("batch {}", metered.id))
        })
        .collect();
    assert_eq!(imports.len(), 1, "one entry, not one per attempt");
}
