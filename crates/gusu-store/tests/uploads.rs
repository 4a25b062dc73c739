//! Imports that name who brought the file in: the batch and its audit entry are one write.

mod common;

use common::*;
use gusu_core::Figure::Revenue;
use gusu_store::{Store, Uploader};

#[test]
fn a_named_import_records_its_uploader_with_the_batch() {
    let mut s = Store::open_in_memory().unwrap();
    let by = |actor: &str, rejected| Uploader {
        actor: actor.to_string(),
        rejected,
    };
    let e = s
        .import_enterprises_by(
            &meta("bureau", "e.csv"),
            &rows(&[enterprise(1, "A"), enterprise(2, "B")]),
            &by("officer", 3),
        )
        .unwrap();
    let a = s
        .import_annual_by(
            &meta("tax", "t.csv"),
            &rows(&[record(1, 2024, &[(Revenue, 10.0)])]),
            &by("analyst", 0),
        )
        .unwrap();
    // An unnamed import (as before) has no uploader.
    s.import_annual(
        &meta("stats", "s.csv"),
        &rows(&[record(2, 2024, &[(Revenue, 5.0)])]),
    )
    .unwrap();
    let batches = s.batches().unwrap();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[0].id, e.batch_id.unwrap());
    assert_eq!(
        (batches[0].uploaded_by.as_deref(), batches[0].rejected),
        (Some("officer"), Some(3))
    );
    assert_eq!(batches[1].id, a.batch_id.unwrap());
    assert_eq!(
        (batches[1].uploaded_by.as_deref(), batches[1].rejected),
        (Some("analyst"), Some(0))
    );
    assert_eq!(
        (batches[2].uploaded_by.as_deref(), batches[2].rejected),
        (None, None)
    );

    // The same file again writes neither a batch nor an audit entry.
    let before = s.audit_log(100).unwrap().len();
    let again = s
        .import_enterprises_by(
            &meta("bureau", "e.csv"),
            &rows(&[enterprise(1, "A")]),
            &by("officer", 0),
        )
        .unwrap();
    assert!(again.already_imported);
    assert_eq!(s.audit_log(100).unwrap().len(), before);
    let entry = &s.audit_log(100).unwrap()[0]; // newest first: the annual file's
    assert_eq!(entry.action, "import");
    assert_eq!(
        entry.target.as_deref(),
        Some(format!("batch {}", a.batch_id.unwrap()).as_str())
    );
}

#[test]
fn a_failed_named_import_leaves_no_audit_entry() {
    let mut s = Store::open_in_memory().unwrap();
    let mut bad = enterprise(1, "A");
    bad.land_area_mu = Some(f64::NAN);
    let refused = s.import_enterprises_by(
        &meta("bureau", "e.csv"),
        &rows(&[bad]),
        &Uploader {
            actor: "x".into(),
            rejected: 0,
        },
    );
    assert!(refused.is_err());
    assert!(s.batches().unwrap().is_empty());
    assert!(s.audit_log(10).unwrap().is_empty());
}
