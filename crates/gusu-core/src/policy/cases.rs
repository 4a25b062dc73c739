//! A policy document's own cases (`[[test]]`): each enterprise, its designations and projects,
//! and the decisions expected. Run by `gusu policy test` and the test command.

use chrono::NaiveDate;

use super::document::TestDoc;
use super::engine::{Calculation, Coverage};
use super::facts::{Designation, EnterpriseFacts, ProjectFacts};
use super::{Policy, PolicyLibrary};

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn enterprise(case: &TestDoc) -> EnterpriseFacts {
    let e = &case.enterprise;
    EnterpriseFacts {
        uscc: "case".into(),
        district: e.district.clone(),
        division: e.division,
        established: e.established.as_deref().and_then(day),
        above_scale: e.above_scale,
        designations: case.designations.as_ref().map(|ds| {
            ds.iter()
                .filter_map(|d| {
                    Some(Designation {
                        designation: d.designation.clone(),
                        level: d.level.clone(),
                        recognised: day(&d.recognised)?,
                        expires: d.expires.as_deref().and_then(day),
                    })
                })
                .collect()
        }),
        years: e.years.clone(),
    }
}

fn projects(case: &TestDoc) -> Vec<ProjectFacts> {
    case.projects
        .iter()
        .map(|p| ProjectFacts {
            project_id: p.id.clone(),
            uscc: "case".into(),
            kind: p.kind.clone(),
            date: p.date.as_deref().and_then(day),
            loan_10k_yuan: p.loan_10k_yuan,
            equipment_loan_10k_yuan: p.equipment_loan_10k_yuan,
            rate_over_lpr_bp: p.rate_over_lpr_bp,
            lpr_percent: p.lpr_percent,
            is_new: p.is_new,
            fixed_asset_investment_10k_yuan: p.fixed_asset_investment_10k_yuan,
            equipment_investment_10k_yuan: p.equipment_investment_10k_yuan,
            catalogue_investment_10k_yuan: p.catalogue_investment_10k_yuan,
            strategic_industry: p.strategic_industry,
            first_time: p.first_time,
            years_subsidised: p.years_subsidised,
        })
        .collect()
}

/// Runs a policy's own cases (with the library's policies a case names in `with`); returns one
/// line per expectation that does not compute as written.
pub fn run_cases(policy: &Policy, library: &PolicyLibrary) -> Vec<String> {
    let mut failures = Vec::new();
    for case in &policy.document.test {
        let fail = |m: String| format!("{} [{}]: {m}", policy.id, case.name);
        let mut one = PolicyLibrary {
            policies: vec![policy.clone()],
        };
        for id in &case.with {
            match library.get(id) {
                Some(p) => one.policies.push(p.clone()),
                None => failures.push(fail(format!("`with` names {id}, not in the library"))),
            }
        }
        let enterprises = [enterprise(case)];
        let projects = projects(case);
        let date = case.date.as_deref().and_then(day).unwrap_or(NaiveDate::MIN);
        let calc = Calculation::run(&one, &enterprises, &projects, date, Coverage::List, 1);
        let decisions = calc.decisions();
        for x in &case.expect {
            let wanted = x.policy.as_deref().unwrap_or(&policy.id);
            let Some(d) = decisions
                .iter()
                .find(|d| d.project_id == x.project && d.policy == wanted)
            else {
                failures.push(fail(format!(
                    "no decision of {wanted} for {}",
                    x.project.as_deref().unwrap_or("the enterprise")
                )));
                continue;
            };
            let amount_ok = match (x.amount, d.amount_10k_yuan) {
                (None, None) => true,
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                _ => false,
            };
            let reasons_ok = x.reasons.as_ref().is_none_or(|r| *r == d.reasons)
                && x.caps.as_ref().is_none_or(|c| *c == d.caps)
                && x.stacking.as_ref().is_none_or(|s| *s == d.stacking);
            if d.status.key() != x.status
                || d.version != x.version
                || !amount_ok
                || d.capped != x.capped
                || (!x.unknown_facts.is_empty() && d.unknown_facts != x.unknown_facts)
                || !reasons_ok
            {
                failures.push(fail(format!(
                    "{} {}: expected {} {} {:?} capped={} unknown={:?} reasons={:?} caps={:?} stacking={:?}, got {} {} {:?} capped={} unknown={:?} reasons={:?} caps={:?} stacking={}",
                    wanted,
                    x.project.as_deref().unwrap_or("(enterprise)"),
                    x.status,
                    x.version,
                    x.amount,
                    x.capped,
                    x.unknown_facts,
                    x.reasons,
                    x.caps,
                    x.stacking,
                    d.status.key(),
                    d.version,
                    d.amount_10k_yuan,
                    d.capped,
                    d.unknown_facts,
                    d.reasons,
                    d.caps,
                    d.stacking
                )));
            }
        }
    }
    failures
}
