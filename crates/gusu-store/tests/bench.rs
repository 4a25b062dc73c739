//! Timings at city scale: 1,000,000 enterprises, about ten values each. Ignored by default; run
//! in release mode:
//!
//! ```text
//! cargo test -p gusu-store --release --test bench -- --ignored --nocapture
//! ```

mod common;

use std::time::Instant;

use common::*;
use gusu_core::Figure::{self, *};
use gusu_core::{SourceRow, YearlyRecord};
use gusu_store::Store;

/// Enterprises; `GUSU_BENCH_N` overrides (e.g. a smaller run under a profiler).
fn n() -> u32 {
    std::env::var("GUSU_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    eprintln!("{what:<48} {:>8.2} s", start.elapsed().as_secs_f64());
    out
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn million_enterprises() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gusu.db");
    let mut store = Store::open(&path).unwrap();
    let n = n();

    // Files are rarely sorted by USCC, and the departments' files are not in the register's
    // order either: two different permutations (multipliers prime to 10^k).
    let order = |i: u32| ((u64::from(i) * 7_919) % u64::from(n)) as u32;
    let annual_order = |i: u32| ((u64::from(i) * 104_729) % u64::from(n)) as u32;
    let register: Vec<_> = (0..n)
        .map(|i| SourceRow {
            row: u64::from(i) + 2,
            record: enterprise(order(i), "企业"),
        })
        .collect();
    timed("import_enterprises (1M)", || {
        store
            .import_enterprises(&meta("bureau", "register.csv"), &register)
            .unwrap()
    });
    drop(register);

    let stats_fields = [
        Revenue,
        MainRevenue,
        ValueAdded,
        EnergyTce,
        EnergyTceEquivalent,
        RdExpense,
        Employees,
        ElectricityKwh,
        TaxPaid,
        LandAreaMu,
    ];
    let annual = |fields: &[Figure], bump: f64| -> Vec<SourceRow<YearlyRecord>> {
        (0..n)
            .map(|i| {
                let u = annual_order(i);
                let values: Vec<(Figure, f64)> = fields
                    .iter()
                    .enumerate()
                    .map(|(k, &f)| (f, f64::from(u) * 0.01 + k as f64 + bump))
                    .collect();
                SourceRow {
                    row: u64::from(i) + 2,
                    record: record(u, 2024, &values),
                }
            })
            .collect()
    };
    let stats = annual(&stats_fields, 0.0);
    let s = timed("import_annual stats (1M rows, 10M values)", || {
        store
            .import_annual(&meta("stats", "stats-2024.csv"), &stats)
            .unwrap()
    });
    assert_eq!(s.inserted, 10 * n as usize);
    let s = timed("re-import same file (hash known)", || {
        store
            .import_annual(&meta("stats", "stats-2024.csv"), &stats)
            .unwrap()
    });
    assert!(s.already_imported);
    drop(stats);

    // Tax sends tax paid (its own field) and a revenue that differs: 1M conflicts.
    let tax = annual(&[TaxPaid, Revenue], 0.5);
    let s = timed("import_annual tax (1M rows, 2M values, conflicts)", || {
        store
            .import_annual(&meta("tax", "tax-2024.csv"), &tax)
            .unwrap()
    });
    assert_eq!(s.conflicts.len(), 2 * n as usize);
    drop(tax);

    // A corrected stats file: every value changes (10M corrections into history).
    let stats2 = annual(&stats_fields, 0.25);
    let s = timed("import_annual stats corrections (10M changed)", || {
        store
            .import_annual(&meta("stats", "stats-2024-v2.csv"), &stats2)
            .unwrap()
    });
    assert_eq!(s.corrected, 10 * n as usize);
    drop(stats2);

    let records = timed("yearly_records(2024)", || {
        store.yearly_records(2024).unwrap()
    });
    assert_eq!(records.len(), n as usize);
    drop(records);
    let conflicts = timed("conflicts(Some(2024))", || {
        store.conflicts(Some(2024)).unwrap()
    });
    assert_eq!(conflicts.len(), 2 * n as usize);
    timed("years()", || store.years().unwrap());
    timed("lineage(one enterprise)", || {
        store.lineage(&uscc(12345), 2024).unwrap()
    });
    timed("enterprises()", || store.enterprises().unwrap());
    let dest = dir.path().join("backup.db");
    timed("backup", || store.backup(&dest).unwrap());
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!("database file: {} MiB", size / (1 << 20));
}
