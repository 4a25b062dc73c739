//! `simulate`: another scheme on the same data, and the class migration matrix between the two.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EnterpriseResult, Evaluation};

/// The label of a result in a migration matrix: its class, or T / – for enterprises not graded.
pub fn label(r: &EnterpriseResult) -> String {
    match (&r.class, r.status) {
        (Some(c), _) => c.to_string(),
        (None, super::Status::Exempt) => "T".into(),
        (None, super::Status::OutOfScope) => "-".into(),
        (None, _) => "?".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Migration {
    pub base: String,
    pub other: String,
    /// Labels in display order (classes, then T, -, ?).
    pub labels: Vec<String>,
    /// (base label, other label) → number of enterprises.
    pub counts: BTreeMap<(String, String), u32>,
    /// Enterprises whose label changed.
    pub changed: u32,
}

impl Migration {
    pub fn count(&self, from: &str, to: &str) -> u32 {
        self.counts
            .get(&(from.to_string(), to.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

/// Compares two evaluations of the same enterprises (matched by USCC).
pub fn migration(base: &Evaluation, other: &Evaluation) -> Migration {
    let other_by: BTreeMap<&str, &EnterpriseResult> =
        other.results.iter().map(|r| (r.uscc.as_str(), r)).collect();
    let mut counts = BTreeMap::new();
    let mut changed = 0;
    let mut labels: Vec<String> = Vec::new();
    for r in &base.results {
        let Some(o) = other_by.get(r.uscc.as_str()) else {
            continue;
        };
        let (a, b) = (label(r), label(o));
        if a != b {
            changed += 1;
        }
        for l in [&a, &b] {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
        *counts.entry((a, b)).or_insert(0) += 1;
    }
    labels.sort_by_key(|l| match l.as_str() {
        "T" => (1, l.clone()),
        "-" => (2, l.clone()),
        "?" => (3, l.clone()),
        _ => (0, l.clone()),
    });
    Migration {
        base: format!("{}@{}", base.scheme, base.scheme_version),
        other: format!("{}@{}", other.scheme, other.scheme_version),
        labels,
        counts,
        changed,
    }
}
