//! docs/validation-codes.md lists every code this crate can report.

use std::path::PathBuf;

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The string literals passed as codes to `Issue::error`/`Issue::warning` in src/issues.rs, plus
/// the codes whose text is built from a match (industry codes).
fn codes_in_source() -> Vec<String> {
    let source = read("src/issues.rs") + &read("src/energy.rs");
    let mut codes = Vec::new();
    for marker in ["Issue::error(", "Issue::warning(", "=> (\n"] {
        for (at, _) in source.match_indices(marker) {
            let rest = &source[at + marker.len()..];
            let Some(open) = rest.find('"') else { continue };
            let rest = &rest[open + 1..];
            let Some(close) = rest.find('"') else {
                continue;
            };
            let literal = &rest[..close];
            if !literal.is_empty()
                && literal
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            {
                codes.push(literal.to_string());
            }
        }
    }
    codes.sort();
    codes.dedup();
    codes
}

#[test]
fn every_code_is_documented() {
    let doc = read("../../docs/validation-codes.md");
    let mut codes = codes_in_source();
    assert!(codes.len() >= 15, "found {codes:?}");
    // Codes that come from gusu-core's USCC errors.
    codes.extend(
        [
            "uscc_length",
            "uscc_character",
            "uscc_division",
            "uscc_check_character",
            "uscc_excel_number",
        ]
        .map(String::from),
    );
    for code in codes {
        assert!(
            doc.contains(&format!("| `{code}` |")),
            "{code} is not in docs/validation-codes.md"
        );
    }
}
