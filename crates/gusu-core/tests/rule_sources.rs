//! The rule documents and the docs cite published sources only: never the team's internal notes
//! (methods.md, policies.md, chains.md, ../shared), which users of gusu do not have. The published
//! sources are listed in docs/sources.md.

use std::fs;
use std::path::{Path, PathBuf};

/// What a citation of the internal notes looks like (compared in lower case).
const INTERNAL: [&str; 4] = ["methods.md", "policies.md", "chains.md", "../shared"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir`, depth first, in name order.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn rules_and_docs_cite_no_internal_notes() {
    let root = workspace();
    let mut scanned = Vec::new();
    for dir in ["rules", "docs"] {
        files(&root.join(dir), &mut scanned);
    }
    // The walk found the documents (a wrong root would pass vacuously).
    for expected in [
        "rules/evaluation/jiangsu-standard.toml",
        "rules/factors/grid-china.toml",
        "rules/nzc/suzhou-2023.toml",
        "docs/carbon.md",
        "docs/sources.md",
    ] {
        assert!(
            scanned.iter().any(|p| p.ends_with(expected)),
            "{expected} was not found under {}",
            root.display()
        );
    }

    let mut found = Vec::new();
    for path in &scanned {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            for needle in INTERNAL {
                if lower.contains(needle) {
                    let shown = path.strip_prefix(&root).unwrap_or(path);
                    found.push(format!(
                        "{}:{}: cites {needle}: {}",
                        shown.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite the published source instead (see docs/sources.md):\n{}",
        found.join("\n")
    );
}
