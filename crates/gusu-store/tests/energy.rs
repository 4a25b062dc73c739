//! Energy lines and metered monthly totals in the store: lineage, idempotence, corrections,
//! source priority and conflicts, all-or-nothing, the audit entry, and the migration of a
//! version-5 database.

mod common;

use common::{enterprise, meta, rows, uscc};
use gusu_core::carbon::{Carrier, EnergyLine, Unit};
use gusu_store::{EnergyRow, MeteredMonth, SourcePriority, Store, StoreError, Uploader};

fn line(i: u32, year: i32, row: u64, carrier: Carrier, quantity: f64, unit: Unit) -> EnergyRow {
    EnergyRow {
        row,
        uscc: uscc(i),
        year,
        line: EnergyLine::new(carrier, quantity, unit),
    }
}

fn registered() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_enterprises(
            &meta("land", "enterprises.csv"),
            &rows(&[enterprise(1, "甲"), enterprise(2, "乙")]),
        )
        .unwrap();
    store
}

fn uploader() -> Uploader {
    Uploader {
        actor: "cli:tester".into(),
        rejected: 0,
    }
}

#[test]
fn energy_lines_keep_lineage_and_the_same_file_twice_changes_nothing() {
    let mut store = registered();
    let file = [
        line(1, 2024, 2, Carrier::RawCoal, 100.0, Unit::T),
        line(1, 2024, 3, Carrier::Electricity, 500_000.0, Unit::Kwh),
        line(2, 2024, 4, Carrier::NaturalGas, 3.0, Unit::TenThousandNm3),
    ];
    let done = store
        .import_energy(&meta("stats", "energy_2024.csv"), &file, Some(&uploader()))
        .unwrap();
    assert_eq!((done.rows, done.inserted, done.corrected), (3, 3, 0));
    let lines = store.energy_lines_of(&uscc(1)).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].carrier, Carrier::RawCoal);
    assert_eq!(
        (
            lines[0].source.as_str(),
            lines[0].file_name.as_str(),
            lines[0].row
        ),
        ("stats", "energy_2024.csv", 2)
    );
    assert_eq!(store.energy_years().unwrap(), [2024]);
    assert_eq!(store.energy_lines_in(2024).unwrap().len(), 3);
    // The import is in the audit log, naming the batch.
    let log = store.audit_log(10).unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "import"
                && e.detail.as_deref().is_some_and(|d| d.contains("energy"))),
        "{log:?}"
    );
    let batches = store.batches().unwrap();
    assert_eq!(batches.last().unwrap().kind, "energy");

    let version = store.data_version().unwrap();
    let again = store
        .import_energy(&meta("stats", "energy_2024.csv"), &file, Some(&uploader()))
        .unwrap();
    assert!(again.already_imported);
    assert_eq!(store.data_version().unwrap(), version);
}

#[test]
fn a_later_file_of_the_same_source_replaces_an_enterprise_years_lines() {
    let mut store = registered();
    store
        .import_energy(
            &meta("stats", "v1.csv"),
            &[
                line(1, 2024, 2, Carrier::RawCoal, 100.0, Unit::T),
                line(1, 2024, 3, Carrier::Diesel, 5.0, Unit::T),
                line(2, 2024, 4, Carrier::Diesel, 7.0, Unit::T),
            ],
            None,
        )
        .unwrap();
    // v2 corrects E1 (coal only, 90 t) and repeats E2 unchanged.
    let done = store
        .import_energy(
            &meta("stats", "v2.csv"),
            &[
                line(1, 2024, 2, Carrier::RawCoal, 90.0, Unit::T),
                line(2, 2024, 3, Carrier::Diesel, 7.0, Unit::T),
            ],
            None,
        )
        .unwrap();
    assert_eq!((done.inserted, done.corrected, done.unchanged), (0, 1, 1));
    let e1 = store.energy_lines_of(&uscc(1)).unwrap();
    assert_eq!(e1.len(), 1);
    assert_eq!((e1[0].quantity, e1[0].file_name.as_str()), (90.0, "v2.csv"));
    // E2's line keeps the lineage of the file that first brought it.
    let e2 = store.energy_lines_of(&uscc(2)).unwrap();
    assert_eq!((e2[0].file_name.as_str(), e2[0].row), ("v1.csv", 4));
}

#[test]
fn the_preferred_source_counts_and_disagreements_are_conflicts() {
    let mut store = registered();
    store.set_priority(SourcePriority::default().with("energy_tce", &["stats", "bureau"]));
    store
        .import_energy(
            &meta("bureau", "bureau.csv"),
            &[line(1, 2024, 2, Carrier::RawCoal, 120.0, Unit::T)],
            None,
        )
        .unwrap();
    assert_eq!(store.energy_lines_of(&uscc(1)).unwrap()[0].source, "bureau");
    let done = store
        .import_energy(
            &meta("stats", "stats.csv"),
            &[line(1, 2024, 2, Carrier::RawCoal, 100.0, Unit::T)],
            None,
        )
        .unwrap();
    assert_eq!(done.conflicts.len(), 1);
    let c = &done.conflicts[0];
    assert_eq!(
        (
            c.field.as_str(),
            c.used_source.as_str(),
            c.used_value,
            c.other_source.as_str(),
            c.other_value
        ),
        ("energy:raw_coal", "stats", 100.0, "bureau", 120.0)
    );
    let lines = store.energy_lines_of(&uscc(1)).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].source.as_str(), lines[0].quantity),
        ("stats", 100.0)
    );
}

/// Sources are chosen per carrier: the power company's electricity and the enterprise's own
/// fuels both count; where both give electricity, the bill wins (the priority of
/// `electricity_kwh`), and the difference is a conflict.
#[test]
fn each_carrier_counts_from_its_own_preferred_source() {
    let mut store = registered();
    // Defaults: electricity_kwh from power, then metered; energy_tce from stats.
    store
        .import_energy(
            &meta("enterprise", "own.csv"),
            &[
                line(1, 2024, 2, Carrier::NaturalGas, 30.0, Unit::TenThousandNm3),
                line(1, 2024, 3, Carrier::Electricity, 900_000.0, Unit::Kwh),
            ],
            None,
        )
        .unwrap();
    let done = store
        .import_energy(
            &meta("power", "power.csv"),
            &[line(
                1,
                2024,
                2,
                Carrier::Electricity,
                1_000_000.0,
                Unit::Kwh,
            )],
            None,
        )
        .unwrap();
    assert_eq!(done.conflicts.len(), 1, "{:?}", done.conflicts);
    let c = &done.conflicts[0];
    assert_eq!(
        (
            c.field.as_str(),
            c.used_source.as_str(),
            c.used_value,
            c.other_source.as_str(),
            c.other_value
        ),
        // Totals in the carrier's accounting unit, MWh.
        ("energy:electricity", "power", 1_000.0, "enterprise", 900.0)
    );
    let mut lines: Vec<(Carrier, String, f64)> = store
        .energy_lines_in(2024)
        .unwrap()
        .into_iter()
        .map(|l| (l.carrier, l.source, l.quantity))
        .collect();
    lines.sort_by_key(|a| a.0);
    let mut expected = vec![
        (Carrier::NaturalGas, "enterprise".to_string(), 30.0),
        (Carrier::Electricity, "power".to_string(), 1_000_000.0),
    ];
    expected.sort_by_key(|a| a.0);
    assert_eq!(lines, expected);
}

#[test]
fn a_bad_line_refuses_the_whole_file() {
    let mut store = registered();
    let version = store.data_version().unwrap();
    let err = store
        .import_energy(
            &meta("stats", "bad.csv"),
            &[
                line(1, 2024, 2, Carrier::RawCoal, 100.0, Unit::T),
                line(2, 2024, 3, Carrier::Diesel, f64::NAN, Unit::T),
            ],
            None,
        )
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidValue { row: 3, .. }),
        "{err}"
    );
    let err = store
        .import_energy(
            &meta("stats", "bad2.csv"),
            &[line(1, 2024, 7, Carrier::Electricity, 1.0, Unit::T)],
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("row 7"), "{err}");
    assert_eq!(store.data_version().unwrap(), version);
    assert!(store.energy_lines_in(2024).unwrap().is_empty());
}

fn month(i: u32, m: u32, total: f64) -> MeteredMonth {
    MeteredMonth {
        uscc: uscc(i),
        carrier: "electricity".into(),
        year: 2024,
        month: m,
        total,
        unit: "kwh".into(),
        readings: 720,
    }
}

#[test]
fn metered_months_are_stored_replaced_and_idempotent() {
    let mut store = registered();
    let totals = [month(1, 1, 100.0), month(1, 2, 110.0), month(9, 1, 5.0)];
    let done = store
        .import_metered_months(&totals, "data/readings", Some(&uploader()))
        .unwrap();
    assert_eq!(done.unknown, [uscc(9)]);
    assert_eq!((done.summary.rows, done.summary.inserted), (2, 2));
    let again = store
        .import_metered_months(&totals, "data/readings", Some(&uploader()))
        .unwrap();
    assert!(again.summary.already_imported);
    // A new aggregate with February changed and March added.
    let done = store
        .import_metered_months(
            &[month(1, 1, 100.0), month(1, 2, 120.0), month(1, 3, 90.0)],
            "data/readings",
            None,
        )
        .unwrap();
    assert_eq!(
        (
            done.summary.inserted,
            done.summary.corrected,
            done.summary.unchanged
        ),
        (1, 1, 1)
    );
    let months = store.metered_months_of(&uscc(1)).unwrap();
    let totals: Vec<(u32, f64)> = months.iter().map(|m| (m.month, m.total)).collect();
    assert_eq!(totals, [(1, 100.0), (2, 120.0), (3, 90.0)]);
    assert_eq!(store.metered_months_in(2024).unwrap().len(), 3);
    assert!(store.metered_months_in(2023).unwrap().is_empty());
    // A month outside 1–12 refuses the whole set.
    let version = store.data_version().unwrap();
    assert!(
        store
            .import_metered_months(&[month(1, 4, 1.0), month(1, 13, 1.0)], "x", None)
            .is_err()
    );
    assert_eq!(store.data_version().unwrap(), version);
}

/// A database written by the previous version (5) keeps every batch and value, and the rebuilt
/// batch table still anchors their lineage.
#[test]
fn a_version_5_database_migrates_with_its_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for sql in [
            include_str!("../migrations/0001_initial.sql"),
            include_str!("../migrations/0002_accounts.sql"),
            include_str!("../migrations/0003_api_tokens.sql"),
            include_str!("../migrations/0004_cycle.sql"),
            include_str!("../migrations/0005_account_language.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute_batch(
            "INSERT INTO usccs (id, uscc) VALUES (1, '91320500MA1X00001T');
             INSERT INTO sources (id, name) VALUES (1, 'stats');
             INSERT INTO import_batches (id, kind, source, file_name, file_sha256)
                 VALUES (7, 'annual', 'stats', 'a.csv', 'abc');
             INSERT INTO field_values VALUES (2024, 1, 4, 1, 12.5, 7, 2);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), gusu_store::SCHEMA_VERSION);
    let b = store.batches().unwrap();
    assert_eq!((b.len(), b[0].id, b[0].kind.as_str()), (1, 7, "annual"));
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let dangling: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
    // Foreign keys are enforced again after the migration.
    let mut store = Store::open(&path).unwrap();
    assert!(
        store
            .import_energy(
                &meta("stats", "e.csv"),
                &[line(1, 2024, 2, Carrier::RawCoal, 1.0, Unit::T)],
                None,
            )
            .is_ok()
    );
}
