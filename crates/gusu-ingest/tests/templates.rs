//! The templates in docs/templates read without a single finding.

mod common;

use std::path::PathBuf;

use common::opts;
use gusu_ingest::{UTF8_BOM, read_annual, read_enterprises};

fn template(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/templates")
        .join(name)
}

#[test]
fn enterprise_templates_parse_cleanly() {
    for name in ["enterprises.csv", "enterprises.xlsx"] {
        let parsed = read_enterprises(&template(name), &opts()).unwrap();
        assert!(
            parsed.report.issues.is_empty(),
            "{name}: {:?}",
            parsed.report.issues
        );
        assert_eq!(parsed.rows.len(), 2, "{name}");
        assert_eq!(parsed.rows[0].record.industry_code, "3484", "{name}");
    }
}

#[test]
fn annual_templates_parse_cleanly() {
    for name in ["annual.csv", "annual.xlsx"] {
        let parsed = read_annual(&template(name), &opts()).unwrap();
        assert!(
            parsed.report.issues.is_empty(),
            "{name}: {:?}",
            parsed.report.issues
        );
        assert_eq!(parsed.rows.len(), 2, "{name}");
        assert_eq!(parsed.figures, gusu_core::Figure::ALL.to_vec(), "{name}");
    }
}

#[test]
fn csv_templates_start_with_the_bom() {
    for name in ["enterprises.csv", "annual.csv"] {
        assert!(
            std::fs::read(template(name)).unwrap().starts_with(UTF8_BOM),
            "{name}"
        );
    }
}
