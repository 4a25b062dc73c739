//! Builders shared by the integration tests.
#![allow(dead_code)]

use chrono::NaiveDate;
use gusu_core::{Enterprise, Figure, Figures, SourceRow, Uscc, YearlyRecord};
use gusu_store::{BatchMeta, Store};

/// A valid USCC registered in Suzhou, distinct for each `i`.
pub fn uscc(i: u32) -> Uscc {
    Uscc::with_check_character(&format!("91320500{i:09}")).expect("valid body")
}

/// Batch metadata whose hash is derived from the name (distinct names, distinct files).
pub fn meta(source: &str, file_name: &str) -> BatchMeta {
    BatchMeta {
        source: source.to_string(),
        file_name: file_name.to_string(),
        sheet: None,
        file_sha256: format!("sha-{source}-{file_name}"),
    }
}

pub fn enterprise(i: u32, name: &str) -> Enterprise {
    Enterprise {
        uscc: uscc(i),
        name: name.to_string(),
        district: "320505".to_string(),
        industry_code: "3411".to_string(),
        division: "34".to_string(),
        land_area_mu: Some(25.5),
        above_scale: true,
        established: NaiveDate::from_ymd_opt(2008, 3, 1).expect("valid date"),
        exempt: false,
    }
}

pub fn record(i: u32, year: i32, values: &[(Figure, f64)]) -> YearlyRecord {
    let mut figures = Figures::default();
    for &(f, v) in values {
        figures.set(f, Some(v));
    }
    YearlyRecord {
        figures,
        ..YearlyRecord::new(uscc(i), year)
    }
}

/// Rows numbered as a sheet would (header on row 1).
pub fn rows<T: Clone>(records: &[T]) -> Vec<SourceRow<T>> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| SourceRow {
            row: i as u64 + 2,
            record: r.clone(),
        })
        .collect()
}

/// Everything a reader can see, for before/after comparisons.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub enterprises: Vec<Enterprise>,
    pub years: Vec<i32>,
    pub records: Vec<Vec<YearlyRecord>>,
    pub conflicts: Vec<gusu_store::Conflict>,
    pub batches: Vec<gusu_store::BatchInfo>,
    pub lineage: Vec<Vec<gusu_store::ValueLineage>>,
}

pub fn snapshot(store: &Store, lineage_of: &[(Uscc, i32)]) -> Snapshot {
    let years = store.years().expect("years");
    Snapshot {
        enterprises: store.enterprises().expect("enterprises"),
        records: years
            .iter()
            .map(|&y| store.yearly_records(y).expect("records"))
            .collect(),
        years,
        conflicts: store.conflicts(None).expect("conflicts"),
        batches: store.batches().expect("batches"),
        lineage: lineage_of
            .iter()
            .map(|(u, y)| store.lineage(u, *y).expect("lineage"))
            .collect(),
    }
}
