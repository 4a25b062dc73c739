//! Regression inputs for the fuzz targets in fuzz/: any input that once made parsing panic or
//! misbehave goes here. The fuzz runs so far (fuzz/README.md) found no crash; the inputs below
//! are hand-picked edge cases of the same kind. Each must give a report or a file error.

mod common;

use common::opts;
use gusu_ingest::{parse_annual_bytes, parse_enterprises_bytes};

fn survives(bytes: &[u8]) {
    for name in ["fuzz.csv", "fuzz.xlsx"] {
        let _ = parse_enterprises_bytes(bytes, name, &opts());
        let _ = parse_annual_bytes(bytes, name, &opts());
    }
}

#[test]
fn handpicked_edge_cases() {
    // A lone quote, an unterminated quote after the header, CR-only line ends, a row far wider
    // than its header, full-width digits, a bare BOM, a bare zip signature.
    survives(b"\"");
    survives(b"uscc,year\n\"");
    survives(b"uscc,year\r\r\r91320583000000001X,2024\r");
    survives(b"uscc,name\n,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n");
    survives("uscc,year\n９１,２０２４\n".as_bytes());
    survives(b"\xEF\xBB\xBF");
    survives(b"PK\x03\x04");
}
