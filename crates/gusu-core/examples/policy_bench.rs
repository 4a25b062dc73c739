//! The policy engine on a synthetic city: N enterprises with one project each, every shipped
//! project policy decided for every project (statuses, amounts, traces, firm caps).
//!
//! `cargo run --release -p gusu-core --example policy_bench -- 160000`

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use gusu_core::policy::{EnterpriseFacts, PolicyLibrary, ProjectFacts, decide_projects};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(160_000);
    let library = PolicyLibrary::embedded().expect("the shipped policies load");
    let kinds = [
        "new_build",
        "expansion",
        "smart_transformation",
        "upgrade",
        "other",
    ];
    let base = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let mut enterprises = BTreeMap::new();
    let mut projects = Vec::with_capacity(n);
    for i in 0..n {
        let uscc = format!("E{i:08}");
        enterprises.insert(
            uscc.clone(),
            EnterpriseFacts {
                uscc: uscc.clone(),
                district: "320583".into(),
                division: Some([26, 34, 39, 65, 52][i % 5]),
                established: NaiveDate::from_ymd_opt(2000 + (i % 25) as i32, 1, 1),
                designations: Some(Vec::new()),
            },
        );
        projects.push(ProjectFacts {
            project_id: format!("P{i:08}"),
            uscc,
            kind: Some(kinds[i % kinds.len()].to_string()),
            date: base.checked_add_days(chrono::Days::new((i * 7 % 2500) as u64)),
            loan_10k_yuan: Some((i % 900) as f64 * 37.0),
            equipment_loan_10k_yuan: (i % 7 != 0).then_some((i % 800) as f64 * 25.0),
            rate_over_lpr_bp: Some((i % 90) as f64),
            is_new: Some(i % 3 == 0),
            fixed_asset_investment_10k_yuan: Some((i % 500) as f64 * 1000.0),
            equipment_investment_10k_yuan: Some((i % 500) as f64 * 400.0),
        });
    }
    let start = Instant::now();
    let decisions = decide_projects(&library, &enterprises, &projects);
    let took = start.elapsed();
    let eligible = decisions
        .iter()
        .filter(|d| d.status == gusu_core::policy::Status::Eligible)
        .count();
    println!(
        "{n} projects × {} policies: {} decisions ({eligible} eligible) in {:.3} s",
        library.policies.len(),
        decisions.len(),
        took.as_secs_f64()
    );
}
