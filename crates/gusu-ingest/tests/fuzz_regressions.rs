//! Inputs found by fuzzing (fuzz/): each once made parsing panic or misbehave. They must parse
//! to a report or a file error.

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
    // Found while writing the fuzz targets, before any fuzzing: a lone quote, an unterminated
    // quote over the header, a header followed by a NUL-free binary tail, CR-only line ends.
    survives(b"\"");
    survives(b"uscc,year\n\"");
    survives(b"uscc,year\r\r\r91320583000000001X,2024\r");
    survives(b"uscc,name\n,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n");
    survives("uscc,year\n９１,２０２４\n".as_bytes());
    survives(b"\xEF\xBB\xBF");
    survives(b"PK\x03\x04");
}
