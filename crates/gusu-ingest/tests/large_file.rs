//! Speed on a large yearly file. Ignored by default (it is meant for release builds):
//! `cargo test -p gusu-ingest --release --test large_file -- --ignored --nocapture`.

mod common;

use std::fmt::Write;
use std::time::Instant;

use common::*;
use gusu_ingest::parse_annual_bytes;

#[test]
#[ignore = "run in release: 1,000,000 rows"]
fn a_million_rows_parse_in_seconds() {
    let n = 1_000_000u32;
    let codes: Vec<String> = (0..10_000).map(uscc).collect();
    let mut text = String::from(
        "uscc,year,revenue_10k_yuan,tax_paid_10k_yuan,value_added_10k_yuan,energy_tce,electricity_kwh,cod_t,employees\n",
    );
    for i in 0..n {
        let code = &codes[(i % 10_000) as usize];
        let year = 1950 + i / 10_000;
        let _ = writeln!(
            text,
            "{code},{year},{}.5,12.25,300,45.5,\"1,234,567\",0.75,{}",
            i % 9_000 + 1,
            i % 500 + 1
        );
    }
    let started = Instant::now();
    let parsed = parse_annual_bytes(text.as_bytes(), "big.csv", &opts()).unwrap();
    let took = started.elapsed();
    eprintln!(
        "{} rows ({} MB) in {:.2?}",
        parsed.report.rows,
        text.len() / 1_000_000,
        took
    );
    assert_eq!(parsed.report.rows, u64::from(n));
    assert_eq!(
        parsed.rows.len(),
        n as usize,
        "{:?}",
        &parsed.report.issues[..parsed.report.issues.len().min(3)]
    );
}
