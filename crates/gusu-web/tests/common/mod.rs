//! The test city shared by the API and page tests: 400 enterprises graded and published, and
//! one account per kind of viewer.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use axum::Router;
use gusu_core::evaluate::evaluate;
use gusu_core::{EvaluationInput, Role, SchemeLibrary, SourceRow, Uscc};
use gusu_store::{BatchMeta, NewRun, Store, StoredResult};
use gusu_web::{AppState, WebConfig, router};

pub const PASSWORD: &str = "Gusu-Test-2026";

pub struct City {
    pub app: Router,
    pub dir: tempfile::TempDir,
    /// Two enterprises in different districts, both graded.
    pub a: (Uscc, String),
    pub b: (Uscc, String),
}

pub fn city() -> City {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let demo = gusu_demo::generate(&gusu_demo::DemoConfig {
        enterprises: 400,
        seed: 7,
        years: vec![2024],
    });
    let mut store = Store::open(&db).unwrap();
    let meta = |n: &str| BatchMeta {
        source: "stats".into(),
        file_name: n.into(),
        sheet: None,
        file_sha256: n.into(),
    };
    fn rows<T: Clone>(v: &[T]) -> Vec<SourceRow<T>> {
        v.iter()
            .cloned()
            .enumerate()
            .map(|(i, record)| SourceRow {
                row: i as u64 + 2,
                record,
            })
            .collect()
    }
    store
        .import_enterprises(&meta("e"), &rows(&demo.enterprises))
        .unwrap();
    store
        .import_annual(&meta("a"), &rows(&demo.records))
        .unwrap();
    let lib = SchemeLibrary::builtin().unwrap();
    let scheme = lib.select("jiangsu-standard", 2024).unwrap();
    let eval = evaluate(
        scheme,
        &EvaluationInput {
            year: 2024,
            enterprises: &demo.enterprises,
            records: &demo.records,
            district: None,
        },
    )
    .unwrap();
    let results: Vec<StoredResult> = eval
        .results
        .iter()
        .map(|r| StoredResult {
            uscc: r.uscc,
            group: Some(r.group.key().into()),
            status: r.status.key().into(),
            class: r.class.as_deref().map(str::to_string),
            score: r.score,
            rank: r.rank,
            detail_json: serde_json::to_string(r).unwrap(),
        })
        .collect();
    let run = store
        .save_run(
            &NewRun {
                year: 2024,
                scheme: scheme.name.clone(),
                scheme_version: scheme.version.clone(),
                region: None,
                created_at: "2026-11-29T00:00:00Z".into(),
            },
            &results,
        )
        .unwrap();
    store.publish_run(run).unwrap();
    let graded: Vec<_> = eval.results.iter().filter(|r| r.class.is_some()).collect();
    let a = graded[0];
    let b = graded.iter().find(|r| r.district != a.district).unwrap();
    let (a, b) = (
        (a.uscc, a.district.to_string()),
        (b.uscc, b.district.to_string()),
    );
    // Energy lines of a and b (2024: a burns coal and buys power, b buys power and gas), and a's
    // metered months, so the energy pages and their sweeps have something to show or hide.
    let line = |uscc: Uscc, row: u64, carrier, quantity, unit| gusu_store::EnergyRow {
        row,
        uscc,
        year: 2024,
        line: gusu_core::carbon::EnergyLine::new(carrier, quantity, unit),
    };
    use gusu_core::carbon::{Carrier, Unit};
    store
        .import_energy(
            &meta("energy_2024.csv"),
            &[
                line(a.0, 2, Carrier::RawCoal, 100.0, Unit::T),
                line(a.0, 3, Carrier::Electricity, 500_000.0, Unit::Kwh),
                line(b.0, 4, Carrier::Electricity, 200_000.0, Unit::Kwh),
                line(b.0, 5, Carrier::NaturalGas, 2.0, Unit::TenThousandNm3),
            ],
            None,
        )
        .unwrap();
    let months: Vec<gusu_store::MeteredMonth> = (1..=12)
        .map(|month| gusu_store::MeteredMonth {
            uscc: a.0,
            carrier: "electricity".into(),
            year: 2024,
            month,
            total: 40_000.0 + f64::from(month) * 100.0,
            unit: "kwh".into(),
            readings: 30,
        })
        .collect();
    store
        .import_metered_months(&months, "test readings", None)
        .unwrap();
    let accounts = [
        ("ent_a", Role::Enterprise, None, Some(a.0)),
        ("officer_a", Role::DistrictOfficer, Some(a.1.as_str()), None),
        ("analyst", Role::CityAnalyst, None, None),
        ("auditor", Role::AuditAdmin, None, None),
        ("sysadmin", Role::SystemAdmin, None, None),
    ];
    for (name, role, district, uscc) in accounts {
        store
            .create_account("test", name, role, district, uscc, PASSWORD)
            .unwrap();
    }
    drop(store);
    let mut config = WebConfig::new(db);
    config.max_failures = 3;
    let app = router(AppState::open(config).unwrap());
    City { app, dir, a, b }
}

/// Opens near-zero-carbon application 1 for `uscc`, as the city's analyst would, so the sweeps
/// have another enterprise's application to hide.
pub fn open_nzc_application(db: &std::path::Path, uscc: &Uscc) {
    let criteria = gusu_core::carbon::nzc::builtin().unwrap().remove(0);
    let analyst = gusu_core::Viewer::new("analyst", Role::CityAnalyst, None, None).unwrap();
    let id = Store::open(db)
        .unwrap()
        .open_nzc_application(
            &analyst,
            uscc,
            &criteria,
            2025,
            &Default::default(),
            chrono::Utc::now(),
        )
        .unwrap();
    assert_eq!(id, 1);
}
