//! Any bytes, read as an enterprises file (CSV, or XLSX when they start like a zip archive),
//! give a report or a file error, never a panic.
#![no_main]

use gusu_ingest::{ReadOptions, parse_enterprises_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions::default();
    if let Ok(parsed) = parse_enterprises_bytes(data, "fuzz.csv", &opts) {
        // Accepted rows never carry an error.
        let rejected = parsed.report.rejected_rows();
        assert!(parsed.rows.iter().all(|r| !rejected.contains(&r.row)));
        assert_eq!(parsed.rows.len() + parsed.rejected.rows.len(), parsed.report.rows as usize);
    }
});
