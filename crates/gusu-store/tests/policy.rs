//! Designations and projects for the policy calculator: imported as batches, idempotent, a
//! correction replaces, and a file with a wrong row stores nothing.

mod common;

use chrono::NaiveDate;
use common::*;
use gusu_core::policy::{Designation, ProjectFacts};
use gusu_store::{DesignationRow, ProjectRow, Store, StoreError};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn store_with_two() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_enterprises(
            &meta("bureau", "register.csv"),
            &rows(&[enterprise(1, "甲"), enterprise(2, "乙")]),
        )
        .unwrap();
    store
}

fn zjtx(i: u32, expires: Option<&str>) -> DesignationRow {
    DesignationRow {
        row: 2,
        uscc: uscc(i),
        designation: Designation {
            designation: "zjtx".into(),
            level: "provincial".into(),
            recognised: day("2024-01-01"),
            expires: expires.map(day),
        },
    }
}

fn loan(id: &str, i: u32, amount: Option<f64>) -> ProjectRow {
    ProjectRow {
        row: 2,
        facts: ProjectFacts {
            project_id: id.into(),
            uscc: uscc(i).to_string(),
            kind: Some("upgrade".into()),
            date: Some(day("2025-03-01")),
            equipment_loan_10k_yuan: amount,
            is_new: Some(false),
            ..ProjectFacts::default()
        },
    }
}

#[test]
fn designations_import_once_and_a_changed_expiry_corrects() {
    let mut store = store_with_two();
    let m = meta("bureau", "认定.csv");
    let s = store
        .import_designations(&m, &[zjtx(1, Some("2026-12-31"))], None)
        .unwrap();
    assert_eq!((s.inserted, s.corrected), (1, 0));
    let again = store
        .import_designations(&m, &[zjtx(1, Some("2026-12-31"))], None)
        .unwrap();
    assert!(again.already_imported);
    let mut m2 = meta("bureau", "认定-更正.csv");
    m2.file_sha256 = "other".into();
    let s = store
        .import_designations(&m2, &[zjtx(1, Some("2027-12-31"))], None)
        .unwrap();
    assert_eq!((s.inserted, s.corrected), (0, 1));
    let held = store.designations_of(&uscc(1)).unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].expires, Some(day("2027-12-31")));
    assert!(store.designations_of(&uscc(2)).unwrap().is_empty());
    assert_eq!(store.all_designations().unwrap().len(), 1);
}

#[test]
fn projects_replace_by_id_and_keep_blanks_unknown() {
    let mut store = store_with_two();
    store
        .import_projects(
            &meta("bureau", "项目.csv"),
            &[loan("a", 1, Some(3000.0)), loan("b", 1, None)],
            None,
        )
        .unwrap();
    let mut m = meta("bureau", "项目-2.csv");
    m.file_sha256 = "second".into();
    let s = store
        .import_projects(&m, &[loan("a", 1, Some(3500.0)), loan("b", 1, None)], None)
        .unwrap();
    assert_eq!((s.inserted, s.corrected, s.unchanged), (0, 1, 1));
    let projects = store.projects_of(&uscc(1)).unwrap();
    assert_eq!(projects.len(), 2);
    let a = projects.iter().find(|p| p.project_id == "a").unwrap();
    assert_eq!(a.equipment_loan_10k_yuan, Some(3500.0));
    assert_eq!(a.is_new, Some(false));
    let b = projects.iter().find(|p| p.project_id == "b").unwrap();
    assert_eq!(b.equipment_loan_10k_yuan, None);
    assert_eq!(store.all_projects().unwrap().len(), 2);
}

#[test]
fn a_wrong_row_stores_nothing() {
    let mut store = store_with_two();
    store
        .import_projects(
            &meta("bureau", "项目.csv"),
            &[loan("a", 1, Some(1.0))],
            None,
        )
        .unwrap();
    let before = store.batches().unwrap().len();
    // An enterprise not registered, after a good row.
    let mut m = meta("bureau", "认定.csv");
    m.file_sha256 = "x".into();
    let e = store
        .import_designations(&m, &[zjtx(1, None), zjtx(9, None)], None)
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::InvalidBatch(m) if m.contains("not registered")),
        "{e}"
    );
    assert!(store.designations_of(&uscc(1)).unwrap().is_empty());
    // Another enterprise's project id.
    let e = store
        .import_projects(
            &m,
            &[loan("c", 2, Some(1.0)), loan("a", 2, Some(9.0))],
            None,
        )
        .unwrap_err();
    assert!(e.to_string().contains("project a"), "{e}");
    assert!(store.projects_of(&uscc(2)).unwrap().is_empty());
    assert_eq!(store.batches().unwrap().len(), before);
}
