//! Running a scheme's own test cases (inputs → expected statuses, scores, ranks and classes), for
//! `gusu rules test` and `cargo test`.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::Scheme;
use super::document::{TestCaseDoc, TestEnterpriseDoc};
use crate::evaluate::{EvaluationInput, evaluate};
use crate::record::{Enterprise, Figure, Figures, YearlyRecord};
use crate::uscc::Uscc;

/// The outcome of one test case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    pub scheme: String,
    pub case: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A valid USCC standing for a test enterprise id (deterministic, registered in Suzhou).
pub fn test_uscc(index: usize) -> Uscc {
    Uscc::with_check_character(&format!("91320500MA{index:07}")).expect("generated code is valid")
}

fn figures(map: &BTreeMap<String, f64>) -> Figures {
    let mut f = Figures::default();
    for (k, v) in map {
        if let Some(fig) = Figure::from_key(k) {
            f.set(fig, Some(*v));
        }
    }
    f
}

fn build(case: &TestCaseDoc) -> Result<(Vec<Enterprise>, Vec<YearlyRecord>), String> {
    let mut enterprises = Vec::new();
    let mut records = Vec::new();
    for (i, e) in case.enterprises.iter().enumerate() {
        let TestEnterpriseDoc {
            id,
            division,
            district,
            established,
            above_scale,
            land_area_mu,
            exempt,
            figures: this_year,
            prior,
        } = e;
        let uscc = test_uscc(i);
        let established = NaiveDate::parse_from_str(established, "%Y-%m-%d").map_err(|_| {
            format!("enterprise {id}: established '{established}' is not YYYY-MM-DD")
        })?;
        enterprises.push(Enterprise {
            uscc,
            name: id.clone(),
            district: district.clone(),
            industry_code: division.clone(),
            division: division.clone(),
            land_area_mu: *land_area_mu,
            above_scale: *above_scale,
            established,
            exempt: *exempt,
        });
        for (year, map) in [(case.year, this_year), (case.year - 1, prior)] {
            if let Some(map) = map {
                records.push(YearlyRecord {
                    figures: figures(map),
                    ..YearlyRecord::new(uscc, year)
                });
            }
        }
    }
    Ok((enterprises, records))
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}

/// Runs every test case the scheme carries.
pub fn run_cases(scheme: &Scheme) -> Vec<CaseOutcome> {
    scheme
        .tests
        .iter()
        .map(|case| run_case(scheme, case))
        .collect()
}

pub fn run_case(scheme: &Scheme, case: &TestCaseDoc) -> CaseOutcome {
    let mut failures = Vec::new();
    match build(case) {
        Err(e) => failures.push(e),
        Ok((enterprises, records)) => {
            let input = EvaluationInput {
                year: case.year,
                enterprises: &enterprises,
                records: &records,
                district: case.district.as_deref(),
            };
            match evaluate(scheme, &input) {
                Err(e) => failures.push(format!("evaluation failed: {e}")),
                Ok(eval) => {
                    for exp in &case.expect {
                        let Some(r) = eval.results.iter().find(|r| r.name == exp.id) else {
                            failures.push(format!("{}: no result", exp.id));
                            continue;
                        };
                        let id = &exp.id;
                        if r.status.key() != exp.status {
                            failures.push(format!(
                                "{id}: status {} ≠ expected {}",
                                r.status.key(),
                                exp.status
                            ));
                        }
                        if r.class.as_deref() != exp.class.as_deref() {
                            failures.push(format!(
                                "{id}: class {:?} ≠ expected {:?}",
                                r.class, exp.class
                            ));
                        }
                        if let Some(g) = &exp.group
                            && r.group.key() != g
                        {
                            failures.push(format!("{id}: group {} ≠ expected {g}", r.group.key()));
                        }
                        match (r.score, exp.score) {
                            (Some(a), Some(b)) if !close(a, b, case.tolerance) => {
                                failures.push(format!("{id}: score {a} ≠ expected {b}"))
                            }
                            (None, Some(b)) => {
                                failures.push(format!("{id}: no score, expected {b}"))
                            }
                            _ => {}
                        }
                        if exp.rank.is_some() && r.rank != exp.rank {
                            failures
                                .push(format!("{id}: rank {:?} ≠ expected {:?}", r.rank, exp.rank));
                        }
                    }
                }
            }
        }
    }
    CaseOutcome {
        scheme: scheme.id(),
        case: case.name.clone(),
        failures,
    }
}
