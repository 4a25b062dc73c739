//! Behaviour of the store through its public API.

mod common;

use common::*;
use gusu_core::Figure::{ElectricityKwh, Employees, Revenue, TaxPaid, ValueAdded};
use gusu_core::{Figure, SourceRow, YearlyRecord};
use gusu_store::{
    NewRun, SCHEMA_VERSION, SourcePriority, Store, StoreError, StoredResult, ValueLineage,
};

fn values_of(lineage: &[ValueLineage], field: Figure) -> Vec<&ValueLineage> {
    lineage.iter().filter(|l| l.field == field.key()).collect()
}

// ---------------------------------------------------------------- open and migrations

#[test]
fn fresh_file_is_migrated_and_reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");
    {
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store
            .import_enterprises(&meta("bureau", "e.csv"), &rows(&[enterprise(1, "甲")]))
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.enterprises().unwrap().len(), 1);

    // The pragmas the store relies on are in force.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let log: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(log, SCHEMA_VERSION);
}

#[test]
fn file_from_a_newer_gusu_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    match Store::open(&path) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected SchemaTooNew, got {:?}", other.map(|_| ())),
    }
}

// ---------------------------------------------------------------- imports

#[test]
fn reimporting_the_same_file_writes_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    let file = rows(&[
        record(1, 2024, &[(Revenue, 100.0), (Employees, 50.0)]),
        record(2, 2024, &[(Revenue, 200.0)]),
    ]);
    let first = store.import_annual(&meta("stats", "s.csv"), &file).unwrap();
    assert_eq!(first.inserted, 3);
    assert!(!first.already_imported);
    let before = snapshot(&store, &[(uscc(1), 2024)]);

    // Same hash, even under another file name: recognised, nothing written (not even a batch).
    let mut renamed = meta("stats", "s.csv");
    renamed.file_name = "copy of s.csv".into();
    let again = store.import_annual(&renamed, &file).unwrap();
    assert!(again.already_imported);
    assert_eq!(again.batch_id, None);
    assert_eq!(
        (again.inserted, again.corrected, again.unchanged),
        (0, 0, 0)
    );
    assert_eq!(snapshot(&store, &[(uscc(1), 2024)]), before);
    assert_eq!(store.batches().unwrap().len(), 1);
}

#[test]
fn same_source_correction_keeps_history() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_annual(
            &meta("tax", "tax-v1.csv"),
            &rows(&[record(1, 2024, &[(TaxPaid, 10.0), (Revenue, 500.0)])]),
        )
        .unwrap();
    let s = store
        .import_annual(
            &meta("tax", "tax-v2.csv"),
            &rows(&[record(1, 2024, &[(TaxPaid, 12.5), (Revenue, 500.0)])]),
        )
        .unwrap();
    assert_eq!((s.inserted, s.corrected, s.unchanged), (0, 1, 1));
    assert!(s.conflicts.is_empty());

    let records = store.yearly_records(2024).unwrap();
    assert_eq!(records[0].figures.get(TaxPaid), Some(12.5));

    let lineage = store.lineage(&uscc(1), 2024).unwrap();
    let tax = values_of(&lineage, TaxPaid);
    assert_eq!(tax.len(), 2);
    assert_eq!(
        (tax[0].value, tax[0].current, tax[0].effective),
        (12.5, true, true)
    );
    assert_eq!(tax[0].file_name, "tax-v2.csv");
    assert_eq!(
        (tax[1].value, tax[1].current, tax[1].effective),
        (10.0, false, false)
    );
    assert_eq!(tax[1].file_name, "tax-v1.csv");
    assert_eq!(tax[1].file_sha256, "sha-tax-tax-v1.csv");
    assert_eq!(tax[1].row, 2);
    assert_ne!(tax[0].batch_id, tax[1].batch_id);
    // The unchanged revenue keeps its first batch.
    let revenue = values_of(&lineage, Revenue);
    assert_eq!(revenue.len(), 1);
    assert_eq!(revenue[0].file_name, "tax-v1.csv");
}

#[test]
fn conflict_between_sources_uses_priority_and_is_reported() {
    let mut store = Store::open_in_memory().unwrap();
    // The tax bureau sends revenue first (not its field), then stats sends a different one.
    let t = store
        .import_annual(
            &meta("tax", "tax.csv"),
            &rows(&[record(1, 2024, &[(TaxPaid, 30.0), (Revenue, 990.0)])]),
        )
        .unwrap();
    assert!(t.conflicts.is_empty());
    let s = store
        .import_annual(
            &meta("stats", "stats.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 1000.0), (TaxPaid, 30.0)])]),
        )
        .unwrap();
    assert_eq!(s.conflicts.len(), 1, "{:?}", s.conflicts);
    let c = &s.conflicts[0];
    assert_eq!(c.uscc, uscc(1));
    assert_eq!(c.year, 2024);
    assert_eq!(c.field, "revenue_10k_yuan");
    assert_eq!((c.used_source.as_str(), c.used_value), ("stats", 1000.0));
    assert_eq!((c.other_source.as_str(), c.other_value), ("tax", 990.0));

    // Effective value is the priority source's; both stay retrievable.
    let r = &store.yearly_records(2024).unwrap()[0];
    assert_eq!(r.figures.get(Revenue), Some(1000.0));
    assert_eq!(r.figures.get(TaxPaid), Some(30.0));
    assert_eq!(
        store.yearly_record(&uscc(1), 2024).unwrap().as_ref(),
        Some(r)
    );
    assert_eq!(store.yearly_record(&uscc(1), 2023).unwrap(), None);
    assert_eq!(store.yearly_record(&uscc(2), 2024).unwrap(), None);
    let lineage = store.lineage(&uscc(1), 2024).unwrap();
    let revenue = values_of(&lineage, Revenue);
    assert_eq!(revenue.len(), 2);
    assert!(revenue.iter().all(|l| l.current));
    let effective: Vec<_> = revenue.iter().filter(|l| l.effective).collect();
    assert_eq!(effective.len(), 1);
    assert_eq!(effective[0].source, "stats");

    // Queryable later, by year or for all years; the agreeing tax figure is no conflict.
    assert_eq!(store.conflicts(Some(2024)).unwrap(), s.conflicts);
    assert_eq!(store.conflicts(None).unwrap(), s.conflicts);
    assert!(store.conflicts(Some(2023)).unwrap().is_empty());
    assert_eq!(store.batches().unwrap()[1].conflicts, 1);

    // A priority change applies at once: tax's revenue is now used.
    store.set_priority(SourcePriority::default().with("revenue_10k_yuan", &["tax", "stats"]));
    let r = &store.yearly_records(2024).unwrap()[0];
    assert_eq!(r.figures.get(Revenue), Some(990.0));
    assert_eq!(store.conflicts(None).unwrap()[0].used_source, "tax");
}

#[test]
fn without_the_priority_source_the_ranked_then_the_most_recent_value_is_used() {
    let mut store = Store::open_in_memory().unwrap();
    store.set_priority(SourcePriority::default().with("electricity_kwh", &["power", "stats"]));
    store
        .import_annual(
            &meta("environment", "env.csv"),
            &rows(&[record(1, 2024, &[(ElectricityKwh, 7.0), (ValueAdded, 1.0)])]),
        )
        .unwrap();
    store
        .import_annual(
            &meta("tax", "tax.csv"),
            &rows(&[record(1, 2024, &[(ElectricityKwh, 8.0), (ValueAdded, 2.0)])]),
        )
        .unwrap();
    // No ranked source: the most recently imported (tax) wins.
    let r = &store.yearly_records(2024).unwrap()[0];
    assert_eq!(r.figures.get(ElectricityKwh), Some(8.0));
    assert_eq!(r.figures.get(ValueAdded), Some(2.0));

    // The second-ranked source beats recency.
    store
        .import_annual(
            &meta("stats", "stats.csv"),
            &rows(&[record(1, 2024, &[(ElectricityKwh, 9.0)])]),
        )
        .unwrap();
    store
        .import_annual(
            &meta("land", "land.csv"),
            &rows(&[record(1, 2024, &[(ElectricityKwh, 10.0)])]),
        )
        .unwrap();
    let r = &store.yearly_records(2024).unwrap()[0];
    assert_eq!(r.figures.get(ElectricityKwh), Some(9.0));

    // The first-ranked source beats both.
    let p = store
        .import_annual(
            &meta("power", "power.csv"),
            &rows(&[record(1, 2024, &[(ElectricityKwh, 11.0)])]),
        )
        .unwrap();
    let r = &store.yearly_records(2024).unwrap()[0];
    assert_eq!(r.figures.get(ElectricityKwh), Some(11.0));
    // Power's value disagrees with the four others.
    assert_eq!(p.conflicts.len(), 4);
    assert!(p.conflicts.iter().all(|c| c.used_source == "power"));
}

#[test]
fn blank_cells_do_not_delete() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_annual(
            &meta("stats", "a.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 100.0), (Employees, 40.0)])]),
        )
        .unwrap();
    // Second file: employees blank, revenue corrected.
    let s = store
        .import_annual(
            &meta("stats", "b.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 110.0)])]),
        )
        .unwrap();
    assert_eq!((s.inserted, s.corrected, s.unchanged), (0, 1, 0));
    // A row with every cell blank is counted but stores nothing.
    let s = store
        .import_annual(&meta("stats", "c.csv"), &rows(&[record(2, 2024, &[])]))
        .unwrap();
    assert_eq!((s.rows, s.inserted), (1, 0));
    let records = store.yearly_records(2024).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].figures.get(Revenue), Some(110.0));
    assert_eq!(records[0].figures.get(Employees), Some(40.0));
}

#[test]
fn flags_are_values_too() {
    let mut store = Store::open_in_memory().unwrap();
    let mut rec = record(1, 2024, &[(Revenue, 1.0)]);
    rec.exempt = Some(true);
    rec.above_scale = Some(false);
    store
        .import_annual(&meta("bureau", "flags.csv"), &rows(&[rec]))
        .unwrap();
    let r = &store.yearly_records(2024).unwrap()[0];
    assert_eq!((r.exempt, r.above_scale), (Some(true), Some(false)));
    let lineage = store.lineage(&uscc(1), 2024).unwrap();
    assert!(
        lineage
            .iter()
            .any(|l| l.field == "exempt" && l.value == 1.0)
    );
}

#[test]
fn records_and_years_are_ordered() {
    let mut store = Store::open_in_memory().unwrap();
    // Imported out of order: USCC 3 before 1, 2025 before 2023.
    store
        .import_annual(
            &meta("stats", "x.csv"),
            &rows(&[
                record(3, 2025, &[(Revenue, 3.0)]),
                record(1, 2025, &[(Revenue, 1.0)]),
                record(2, 2023, &[(Revenue, 2.0)]),
            ]),
        )
        .unwrap();
    assert_eq!(store.years().unwrap(), vec![2023, 2025]);
    let usccs: Vec<_> = store
        .yearly_records(2025)
        .unwrap()
        .into_iter()
        .map(|r| r.uscc)
        .collect();
    assert_eq!(usccs, vec![uscc(1), uscc(3)]);
    assert!(store.yearly_records(2024).unwrap().is_empty());
}

#[test]
fn a_bad_value_rejects_the_whole_file() {
    let mut store = Store::open_in_memory().unwrap();
    let file = rows(&[
        record(1, 2024, &[(Revenue, 1.0)]),
        record(2, 2024, &[(Revenue, f64::INFINITY)]),
    ]);
    let err = store
        .import_annual(&meta("stats", "bad.csv"), &file)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidValue { row: 3, .. }),
        "{err}"
    );
    assert!(store.batches().unwrap().is_empty());
    assert!(store.years().unwrap().is_empty());

    let err = store
        .import_annual(&meta(" ", "x.csv"), &file[..1])
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidBatch(_)));
}

#[test]
fn source_names_are_normalised() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_annual(
            &meta(" Stats", "a.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 1.0)])]),
        )
        .unwrap();
    assert_eq!(store.batches().unwrap()[0].source, "stats");
    assert_eq!(store.lineage(&uscc(1), 2024).unwrap()[0].source, "stats");
}

#[test]
fn enterprises_update_with_history_and_are_never_deleted() {
    let mut store = Store::open_in_memory().unwrap();
    let s = store
        .import_enterprises(
            &meta("bureau", "e1.csv"),
            &rows(&[enterprise(1, "甲公司"), enterprise(2, "乙公司")]),
        )
        .unwrap();
    assert_eq!((s.inserted, s.corrected, s.unchanged), (2, 0, 0));

    let mut renamed = enterprise(1, "甲有限公司");
    renamed.land_area_mu = Some(30.0);
    let s = store
        .import_enterprises(
            &meta("bureau", "e2.csv"),
            &rows(&[enterprise(3, "丙公司"), renamed.clone()]),
        )
        .unwrap();
    assert_eq!((s.inserted, s.corrected, s.unchanged), (1, 1, 0));

    let all = store.enterprises().unwrap();
    assert_eq!(all.len(), 3, "enterprise 2 is not in e2.csv but stays");
    assert_eq!(all[0], renamed);
    assert_eq!(store.enterprise(&uscc(1)).unwrap(), Some(renamed));
    assert_eq!(store.known_usccs().unwrap().len(), 3);

    let history = store.enterprise_history(&uscc(1)).unwrap();
    let changed: Vec<_> = history
        .iter()
        .map(|h| {
            (
                h.attribute.as_str(),
                h.old_value.as_deref(),
                h.new_value.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            ("name", Some("甲公司"), Some("甲有限公司")),
            ("land_area_mu", Some("25.5"), Some("30")),
        ]
    );
    assert!(
        history
            .iter()
            .all(|h| h.file_name == "e2.csv" && h.row == 3)
    );
    assert!(store.enterprise_history(&uscc(2)).unwrap().is_empty());

    // Known USCCs are the register's: a USCC only in an annual file is not one.
    store
        .import_annual(
            &meta("stats", "a.csv"),
            &rows(&[record(9, 2024, &[(Revenue, 1.0)])]),
        )
        .unwrap();
    assert!(!store.known_usccs().unwrap().contains(&uscc(9)));
}

#[test]
fn duplicate_row_in_one_file_corrects_the_earlier_one() {
    let mut store = Store::open_in_memory().unwrap();
    let s = store
        .import_annual(
            &meta("stats", "dup.csv"),
            &rows(&[
                record(1, 2024, &[(Revenue, 1.0)]),
                record(1, 2024, &[(Revenue, 2.0)]),
            ]),
        )
        .unwrap();
    assert_eq!((s.inserted, s.corrected), (1, 1));
    let lineage = store.lineage(&uscc(1), 2024).unwrap();
    assert_eq!((lineage[0].value, lineage[0].row), (2.0, 3));
    assert_eq!((lineage[1].value, lineage[1].row), (1.0, 2));
}

#[test]
fn progress_is_reported_inside_the_import() {
    use std::sync::{Arc, Mutex};
    let mut store = Store::open_in_memory().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    store.set_progress(Some(Box::new(move |p| {
        sink.lock().unwrap().push((p.done, p.total))
    })));
    let file: Vec<SourceRow<YearlyRecord>> = rows(
        &(0..25_000)
            .map(|i| record(i, 2024, &[(Revenue, 1.0)]))
            .collect::<Vec<_>>(),
    );
    store.import_annual(&meta("stats", "p.csv"), &file).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (0, 25_000),
            (10_000, 25_000),
            (20_000, 25_000),
            (25_000, 25_000)
        ]
    );
}

// ---------------------------------------------------------------- runs and results

fn result(i: u32, score: Option<f64>, rank: Option<u32>) -> StoredResult {
    StoredResult {
        uscc: uscc(i),
        group: Some("A".into()),
        status: "evaluated".into(),
        class: Some("A".into()),
        score,
        rank,
        detail_json: format!(r#"{{"i":{i}}}"#),
    }
}

fn new_run(year: i32) -> NewRun {
    NewRun {
        year,
        scheme: "suzhou-industrial".into(),
        scheme_version: "2024.1".into(),
        region: None,
        created_at: "2025-03-01T08:00:00Z".into(),
    }
}

#[test]
fn results_round_trip_and_publish() {
    let mut store = Store::open_in_memory().unwrap();
    let results = vec![
        result(2, Some(91.123_456_789_012_34), Some(1)),
        result(1, Some(80.0), Some(2)),
        StoredResult {
            group: None,
            class: None,
            score: None,
            rank: None,
            status: "excluded".into(),
            ..result(3, None, None)
        },
    ];
    let id = store.save_run(&new_run(2024), &results).unwrap();
    assert_eq!(store.results(id).unwrap(), results);

    let mut district = new_run(2024);
    district.region = Some("320505".into());
    let id2 = store.save_run(&district, &results[..1]).unwrap();

    let runs = store.runs(Some(2024)).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].enterprises, 3);
    assert_eq!(runs[1].region.as_deref(), Some("320505"));
    assert!(store.runs(Some(2023)).unwrap().is_empty());
    assert_eq!(store.runs(None).unwrap().len(), 2);

    assert_eq!(store.latest_run(2024, false).unwrap().unwrap().id, id2);
    assert_eq!(store.latest_run(2024, true).unwrap(), None);
    store.publish_run(id).unwrap();
    store.publish_run(id).unwrap();
    let published = store.latest_run(2024, true).unwrap().unwrap();
    assert_eq!((published.id, published.published), (id, true));
    assert!(matches!(
        store.publish_run(999),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(store.results(999), Err(StoreError::NotFound(_))));

    // A USCC twice in one run is refused, and the failed run leaves nothing behind.
    let dup = vec![result(1, None, None), result(1, None, None)];
    assert!(store.save_run(&new_run(2025), &dup).is_err());
    assert!(store.runs(Some(2025)).unwrap().is_empty());
}

// ---------------------------------------------------------------- backup

#[test]
fn backup_opens_with_the_same_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");
    let mut store = Store::open(&path).unwrap();
    store
        .import_enterprises(&meta("bureau", "e.csv"), &rows(&[enterprise(1, "甲")]))
        .unwrap();
    store
        .import_annual(
            &meta("stats", "s.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 1.0 / 3.0), (TaxPaid, 2.0)])]),
        )
        .unwrap();
    store
        .import_annual(
            &meta("tax", "t.csv"),
            &rows(&[record(1, 2024, &[(TaxPaid, 2.5)])]),
        )
        .unwrap();
    let run = store
        .save_run(&new_run(2024), &[result(1, Some(1.5), Some(1))])
        .unwrap();
    store.publish_run(run).unwrap();

    let dest = dir.path().join("backup.db");
    store.backup(&dest).unwrap();
    // Writes after the backup are not in it.
    store
        .import_annual(
            &meta("stats", "later.csv"),
            &rows(&[record(2, 2024, &[(Revenue, 5.0)])]),
        )
        .unwrap();

    let copy = Store::open(&dest).unwrap();
    assert_eq!(copy.integrity_check().unwrap(), "ok");
    let key = [(uscc(1), 2024)];
    let mut expected = snapshot(&store, &key);
    expected.batches.pop();
    expected.records[0].retain(|r| r.uscc == uscc(1));
    assert_eq!(snapshot(&copy, &key), expected);
    assert_eq!(copy.results(run).unwrap(), store.results(run).unwrap());
    assert_eq!(copy.latest_run(2024, true).unwrap().unwrap().id, run);
    // Full precision survived.
    assert_eq!(
        copy.yearly_records(2024).unwrap()[0].figures.get(Revenue),
        Some(1.0 / 3.0)
    );
    assert!(!dir.path().join("backup.db.partial").exists());

    // Backing up onto the database itself is refused.
    let err = store.backup(&path).unwrap_err();
    assert!(matches!(err, StoreError::BackupTarget(_)), "{err}");
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn backup_runs_while_another_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");
    let mut store = Store::open(&path).unwrap();
    store
        .import_annual(
            &meta("stats", "s.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 1.0)])]),
        )
        .unwrap();
    // Another connection holds the write lock with an uncommitted import in progress.
    let mut writer = Store::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT INTO import_batches (kind, source, file_name, file_sha256)
         VALUES ('annual', 'tax', 'pending.csv', 'x');",
    )
    .unwrap();
    let dest = dir.path().join("backup.db");
    store.backup(&dest).unwrap();
    conn.execute_batch("COMMIT").unwrap();
    // The writer's lock is gone: the other store can import again.
    writer
        .import_annual(
            &meta("tax", "t.csv"),
            &rows(&[record(1, 2024, &[(TaxPaid, 1.0)])]),
        )
        .unwrap();

    let copy = Store::open(&dest).unwrap();
    let batches: Vec<_> = copy
        .batches()
        .unwrap()
        .into_iter()
        .map(|b| b.file_name)
        .collect();
    assert_eq!(batches, vec!["s.csv"]);
    assert_eq!(store.batches().unwrap().len(), 3);
}

#[test]
fn two_processes_importing_the_same_file_import_it_once() {
    // Both also open (create and migrate) the fresh file at the same time.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");
    let file = rows(
        &(0..20_000)
            .map(|i| record(i, 2024, &[(Revenue, f64::from(i))]))
            .collect::<Vec<_>>(),
    );
    let summaries: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (path, file) = (&path, &file);
                s.spawn(move || {
                    let mut store = Store::open(path).unwrap();
                    store
                        .import_annual(&meta("stats", "same.csv"), file)
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let imported: Vec<_> = summaries.iter().map(|s| s.already_imported).collect();
    assert!(
        imported.contains(&true) && imported.contains(&false),
        "{imported:?}"
    );
    let store = Store::open(&path).unwrap();
    assert_eq!(store.batches().unwrap().len(), 1);
    assert_eq!(store.yearly_records(2024).unwrap().len(), 20_000);
}

#[test]
fn a_correction_that_agrees_resolves_the_conflict() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_annual(
            &meta("stats", "s.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 100.0)])]),
        )
        .unwrap();
    let t = store
        .import_annual(
            &meta("tax", "t1.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 90.0)])]),
        )
        .unwrap();
    assert_eq!(t.conflicts.len(), 1);
    assert_eq!(store.conflicts(Some(2024)).unwrap().len(), 1);
    // Tax corrects its figure to the statistics bureau's: no disagreement is left.
    let t = store
        .import_annual(
            &meta("tax", "t2.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 100.0)])]),
        )
        .unwrap();
    assert_eq!((t.corrected, t.conflicts.len()), (1, 0));
    assert!(store.conflicts(None).unwrap().is_empty());
    // Values within the relative tolerance (unit conversion noise) are no conflict either.
    store
        .import_annual(
            &meta("power", "p.csv"),
            &rows(&[record(
                1,
                2024,
                &[(Revenue, 1_000_000.0 / 10_000.0 * (1.0 + 1e-12))],
            )]),
        )
        .unwrap();
    assert!(store.conflicts(None).unwrap().is_empty());
}

/// The database and its backups hold confidential figures: made readable by their owner only.
#[cfg(unix)]
#[test]
fn a_new_database_and_its_backup_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let store = Store::open(&db).unwrap();
    let backup = dir.path().join("copy.db");
    store.backup(&backup).unwrap();
    for path in [&db, &backup] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let wal = dir.path().join("g.db-wal");
    if wal.exists() {
        let mode = std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the WAL follows the database");
    }
    // An existing file keeps the mode it was given.
    drop(store);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
    Store::open(&db).unwrap();
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}
