//! Any bytes, read as a yearly file, then checked against an empty enterprise list and merged
//! with themselves: never a panic.
#![no_main]

use std::collections::HashSet;

use gusu_ingest::{ReadOptions, check_known_enterprises, merge_annual, parse_annual_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions::default();
    if let Ok(parsed) = parse_annual_bytes(data, "fuzz.csv", &opts) {
        let rejected = parsed.report.rejected_rows();
        assert!(parsed.rows.iter().all(|r| !rejected.contains(&r.row)));
        assert_eq!(parsed.rows.len() + parsed.rejected.rows.len(), parsed.report.rows as usize);
        let mut twice = [parsed.clone(), parsed.clone()];
        merge_annual(&mut twice);
        let mut unknown = parsed;
        check_known_enterprises(&mut unknown, &HashSet::new());
        assert!(unknown.rows.is_empty());
    }
});
