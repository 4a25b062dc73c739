//! Importing a file (and sheet) again: rows refused the first time come in, stored values are
//! never put back to the file's, and each sheet of a workbook is its own batch.

mod common;

use common::*;
use gusu_core::Figure::{Revenue, TaxPaid};
use gusu_store::Store;

fn revenue(store: &Store, i: u32) -> Option<f64> {
    store
        .yearly_records(2024)
        .unwrap()
        .into_iter()
        .find(|r| r.uscc == uscc(i))
        .and_then(|r| r.figures.get(Revenue))
}

#[test]
fn rows_refused_the_first_time_come_in_when_the_same_file_is_imported_again() {
    let mut store = Store::open_in_memory().unwrap();
    let all = rows(&[
        record(1, 2024, &[(Revenue, 100.0), (TaxPaid, 5.0)]),
        record(2, 2024, &[(Revenue, 200.0)]),
    ]);
    // The first time, row 3 (enterprise 2) was refused: only row 2 was passed to the store.
    let first = store
        .import_annual(&meta("tax", "tax.csv"), &all[..1])
        .unwrap();
    assert_eq!((first.inserted, first.imported_before), (2, false));
    assert_eq!(revenue(&store, 2), None);

    // Enterprise 2 registered, the same file again: its row is taken, the rest left alone.
    let again = store.import_annual(&meta("tax", "tax.csv"), &all).unwrap();
    assert!(!again.already_imported);
    assert!(again.imported_before);
    assert_eq!(
        (again.inserted, again.corrected, again.unchanged),
        (1, 0, 2)
    );
    assert_eq!(revenue(&store, 2), Some(200.0));
    assert_eq!(revenue(&store, 1), Some(100.0));
    let batches = store.batches().unwrap();
    assert_eq!(batches.len(), 2);
    // The value that came in names the second batch and its row.
    let lineage = store.lineage(&uscc(2), 2024).unwrap();
    let taken = lineage
        .iter()
        .find(|l| l.field == "revenue_10k_yuan")
        .unwrap();
    assert_eq!(taken.batch_id, batches[1].id);
    assert_eq!(taken.row, 3);

    // A third time there is nothing new: nothing is written, not even a batch.
    let third = store.import_annual(&meta("tax", "tax.csv"), &all).unwrap();
    assert!(third.already_imported);
    assert_eq!(third.batch_id, None);
    assert_eq!(store.batches().unwrap().len(), 2);
}

#[test]
fn an_old_file_imported_again_never_undoes_a_later_correction() {
    let mut store = Store::open_in_memory().unwrap();
    let v1 = rows(&[record(1, 2024, &[(Revenue, 100.0)])]);
    store.import_annual(&meta("tax", "v1.csv"), &v1).unwrap();
    let v2 = rows(&[record(1, 2024, &[(Revenue, 110.0)])]);
    let corrected = store.import_annual(&meta("tax", "v2.csv"), &v2).unwrap();
    assert_eq!(corrected.corrected, 1);

    // v1 again, now with a row it could not bring in before.
    let v1_full = rows(&[
        record(1, 2024, &[(Revenue, 100.0)]),
        record(3, 2024, &[(Revenue, 300.0)]),
    ]);
    let again = store
        .import_annual(&meta("tax", "v1.csv"), &v1_full)
        .unwrap();
    assert!(again.imported_before);
    assert_eq!((again.inserted, again.corrected), (1, 0));
    assert_eq!(revenue(&store, 1), Some(110.0), "the correction stands");
    assert_eq!(revenue(&store, 3), Some(300.0));
}

#[test]
fn each_sheet_of_a_workbook_is_its_own_batch() {
    let mut store = Store::open_in_memory().unwrap();
    let sheet = |name: &str| {
        let mut m = meta("stats", "districts.xlsx");
        m.sheet = Some(name.to_string());
        m
    };
    let gusu = store
        .import_annual(
            &sheet("姑苏区"),
            &rows(&[record(1, 2024, &[(Revenue, 1.0)])]),
        )
        .unwrap();
    let wuzhong = store
        .import_annual(
            &sheet("吴中区"),
            &rows(&[record(2, 2024, &[(Revenue, 2.0)])]),
        )
        .unwrap();
    assert!(!gusu.already_imported && !gusu.imported_before);
    assert!(!wuzhong.already_imported && !wuzhong.imported_before);
    let sheets: Vec<_> = store
        .batches()
        .unwrap()
        .into_iter()
        .map(|b| (b.file_name, b.sheet))
        .collect();
    assert_eq!(
        sheets,
        [
            ("districts.xlsx".to_string(), Some("姑苏区".to_string())),
            ("districts.xlsx".to_string(), Some("吴中区".to_string()))
        ]
    );
    assert_eq!(revenue(&store, 2), Some(2.0));
    // The same sheet again is the one already imported.
    let again = store
        .import_annual(
            &sheet("吴中区"),
            &rows(&[record(2, 2024, &[(Revenue, 2.0)])]),
        )
        .unwrap();
    assert!(again.already_imported);
}

#[test]
fn an_enterprises_file_imported_again_registers_only_the_new_ones() {
    let mut store = Store::open_in_memory().unwrap();
    let first = rows(&[enterprise(1, "甲公司")]);
    store
        .import_enterprises(&meta("bureau", "e.csv"), &first)
        .unwrap();
    // Renamed since by a later file.
    store
        .import_enterprises(
            &meta("bureau", "e2.csv"),
            &rows(&[enterprise(1, "甲股份公司")]),
        )
        .unwrap();
    let both = rows(&[enterprise(1, "甲公司"), enterprise(2, "乙公司")]);
    let again = store
        .import_enterprises(&meta("bureau", "e.csv"), &both)
        .unwrap();
    assert!(again.imported_before);
    assert_eq!(
        (again.inserted, again.corrected, again.unchanged),
        (1, 0, 1)
    );
    let names: Vec<_> = store
        .enterprises()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["甲股份公司", "乙公司"]);
}
