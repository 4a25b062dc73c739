//! Simulating a draft policy (or a change of one parameter) over the city before it is
//! published: who qualifies, the total, its spread by district, industry section and size, who
//! gains and who loses against the version in force, and what a budget ceiling does.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::engine::{Calculation, Coverage};
use super::facts::{EnterpriseFacts, Fact, ProjectFacts, Row, Value};
use super::{Policy, PolicyLibrary, Status};

/// How a budget ceiling is shared when the eligible amounts exceed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetRule {
    /// Every amount × ceiling ÷ total.
    ProRata,
    /// Enterprises in order (largest amount first, or by a numeric fact, highest first), each
    /// paid in full while the budget lasts; the first that does not fit gets the remainder.
    Ranking(Option<Fact>),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    pub ceiling_10k_yuan: f64,
    pub rule: BudgetRule,
}

/// Count and total of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub key: String,
    pub enterprises: usize,
    pub total_10k_yuan: f64,
}

/// An enterprise whose amount changes against the version in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub uscc: String,
    pub before_10k_yuan: f64,
    pub after_10k_yuan: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Simulation {
    pub policy: String,
    pub date: NaiveDate,
    pub decisions: usize,
    pub eligible: usize,
    pub needs_information: usize,
    pub not_eligible: usize,
    /// Enterprises with at least one eligible decision.
    pub qualifying_enterprises: usize,
    /// The eligible amounts before any budget.
    pub total_10k_yuan: f64,
    /// After the budget ceiling (the total when there is none).
    pub paid_10k_yuan: f64,
    pub budget: Option<Budget>,
    /// Enterprises paid in full under the budget (all qualifying ones without a ceiling).
    pub funded_in_full: usize,
    pub by_district: Vec<Group>,
    pub by_section: Vec<Group>,
    /// `above_scale` or `below_scale` (`unknown` when not known).
    pub by_size: Vec<Group>,
    /// Against the version in force (none when the policy is new): counts and the largest.
    pub gainers: usize,
    pub losers: usize,
    pub largest_gains: Vec<Change>,
    pub largest_losses: Vec<Change>,
    /// Eligible under the draft and not under the version in force: who would be notified.
    pub newly_eligible: Vec<String>,
    /// Per enterprise after the budget (uscc, 万元), largest first.
    pub paid: Vec<(String, f64)>,
}

/// Simulates `draft` over the city on `date` against `in_force` (the policy of the same id now
/// published, if any), with an optional budget ceiling.
pub fn simulate(
    draft: &Policy,
    in_force: Option<&Policy>,
    enterprises: &[EnterpriseFacts],
    projects: &[ProjectFacts],
    date: NaiveDate,
    budget: Option<Budget>,
    threads: usize,
) -> Simulation {
    let run = |p: &Policy| {
        let library = PolicyLibrary {
            policies: vec![p.clone()],
        };
        let calc = Calculation::run(
            &library,
            enterprises,
            projects,
            date,
            Coverage::Skip,
            threads,
        );
        let mut per: BTreeMap<u32, f64> = BTreeMap::new();
        let mut counts = (0, 0, 0, calc.verdicts.len());
        for v in &calc.verdicts {
            match v.status {
                Status::Eligible => {
                    counts.0 += 1;
                    *per.entry(v.enterprise).or_default() += v.amount().unwrap_or(0.0);
                }
                Status::NeedsInformation => counts.1 += 1,
                Status::NotEligible => counts.2 += 1,
            }
        }
        (per, counts)
    };
    let (after, (eligible, needs_information, not_eligible, decisions)) = run(draft);
    let before = in_force.map(|p| run(p).0).unwrap_or_default();
    let total: f64 = after.values().sum();

    // The budget: each enterprise's paid amount.
    let mut paid: BTreeMap<u32, f64> = after.clone();
    let mut funded_in_full = after.len();
    if let Some(b) = budget
        && total > b.ceiling_10k_yuan
    {
        match b.rule {
            BudgetRule::ProRata => {
                let factor = if total > 0.0 {
                    b.ceiling_10k_yuan / total
                } else {
                    0.0
                };
                for v in paid.values_mut() {
                    *v *= factor;
                }
                funded_in_full = 0;
            }
            BudgetRule::Ranking(by) => {
                let key = |i: u32, amount: f64| -> f64 {
                    match by {
                        None => amount,
                        Some(f) => match Row::enterprise(&enterprises[i as usize], date).get(f) {
                            Value::Number(n) => n,
                            _ => f64::NEG_INFINITY,
                        },
                    }
                };
                let mut order: Vec<(u32, f64)> = after.iter().map(|(&i, &a)| (i, a)).collect();
                order.sort_by(|a, b| {
                    key(b.0, b.1)
                        .partial_cmp(&key(a.0, a.1))
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then(a.0.cmp(&b.0))
                });
                let mut left = b.ceiling_10k_yuan;
                funded_in_full = 0;
                for (i, amount) in order {
                    let give = amount.min(left.max(0.0));
                    if give >= amount {
                        funded_in_full += 1;
                    }
                    left -= give;
                    paid.insert(i, give);
                }
            }
        }
    }
    let paid_total: f64 = paid.values().sum();

    let group = |key: &dyn Fn(&EnterpriseFacts) -> String| -> Vec<Group> {
        let mut groups: BTreeMap<String, (usize, f64)> = BTreeMap::new();
        for (&i, &amount) in &paid {
            let g = groups.entry(key(&enterprises[i as usize])).or_default();
            g.0 += 1;
            g.1 += amount;
        }
        groups
            .into_iter()
            .map(|(key, (n, total))| Group {
                key,
                enterprises: n,
                total_10k_yuan: total,
            })
            .collect()
    };
    let by_district = group(&|e| e.district.clone());
    let by_section = group(&|e| {
        e.division
            .and_then(crate::industry::section_of_division)
            .map_or_else(|| "unknown".to_string(), |c| c.to_string())
    });
    let by_size = group(&|e| {
        match e.above_scale {
            Some(true) => "above_scale",
            Some(false) => "below_scale",
            None => "unknown",
        }
        .to_string()
    });

    // Gainers and losers against the version in force (before any budget).
    let mut changes: Vec<Change> = Vec::new();
    if in_force.is_some() {
        let keys: std::collections::BTreeSet<u32> =
            after.keys().chain(before.keys()).copied().collect();
        for i in keys {
            let (b, a) = (
                before.get(&i).copied().unwrap_or(0.0),
                after.get(&i).copied().unwrap_or(0.0),
            );
            if (a - b).abs() > 1e-9 {
                changes.push(Change {
                    uscc: enterprises[i as usize].uscc.clone(),
                    before_10k_yuan: b,
                    after_10k_yuan: a,
                });
            }
        }
    }
    let gainers = changes
        .iter()
        .filter(|c| c.after_10k_yuan > c.before_10k_yuan)
        .count();
    let losers = changes.len() - gainers;
    let delta = |c: &Change| c.after_10k_yuan - c.before_10k_yuan;
    let mut largest_gains: Vec<Change> =
        changes.iter().filter(|c| delta(c) > 0.0).cloned().collect();
    largest_gains.sort_by(|a, b| {
        delta(b)
            .partial_cmp(&delta(a))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    largest_gains.truncate(20);
    let mut largest_losses: Vec<Change> =
        changes.iter().filter(|c| delta(c) < 0.0).cloned().collect();
    largest_losses.sort_by(|a, b| {
        delta(a)
            .partial_cmp(&delta(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    largest_losses.truncate(20);
    let newly_eligible = after
        .keys()
        .filter(|i| !before.contains_key(i))
        .map(|&i| enterprises[i as usize].uscc.clone())
        .collect();
    let mut paid_list: Vec<(String, f64)> = paid
        .iter()
        .map(|(&i, &a)| (enterprises[i as usize].uscc.clone(), a))
        .collect();
    paid_list.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(&b.0))
    });
    Simulation {
        policy: draft.id.clone(),
        date,
        decisions,
        eligible,
        needs_information,
        not_eligible,
        qualifying_enterprises: after.len(),
        total_10k_yuan: total,
        paid_10k_yuan: paid_total,
        budget,
        funded_in_full,
        by_district,
        by_section,
        by_size,
        gainers,
        losers,
        largest_gains,
        largest_losses,
        newly_eligible,
        paid: paid_list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library_policy(id: &str) -> Policy {
        PolicyLibrary::embedded().unwrap().get(id).unwrap().clone()
    }

    fn firm(i: usize, district: &str, division: u32) -> EnterpriseFacts {
        EnterpriseFacts {
            uscc: format!("E{i}"),
            district: district.into(),
            division: Some(division),
            established: NaiveDate::from_ymd_opt(2010, 1, 1),
            above_scale: Some(i.is_multiple_of(2)),
            ..EnterpriseFacts::default()
        }
    }

    fn loan(i: usize, amount: f64) -> ProjectFacts {
        ProjectFacts {
            project_id: format!("P{i}"),
            uscc: format!("E{i}"),
            kind: Some("smart_transformation".into()),
            date: NaiveDate::from_ymd_opt(2022, 6, 1),
            loan_10k_yuan: Some(amount),
            ..ProjectFacts::default()
        }
    }

    #[test]
    fn a_raised_rate_with_a_budget_ceiling() {
        // Three firms with loans of 10000, 5000 and 2000万 (the trade firm E3 is not industrial):
        // at 1%: 100, 50, 20 = 170. The draft raises the rate to 1.5%: 150, 75, 30 = 255 (E1's
        // 150 under the firm cap of 200); every firm gains.
        let enterprises = vec![
            firm(0, "320505", 34),
            firm(1, "320583", 26),
            firm(2, "320583", 39),
            firm(3, "320583", 51),
        ];
        let projects = vec![
            loan(0, 10000.0),
            loan(1, 5000.0),
            loan(2, 2000.0),
            loan(3, 9000.0),
        ];
        let in_force = library_policy("suzhou-zgsz-loan-interest");
        let text = crate::policy::EMBEDDED
            .iter()
            .find(|(f, _)| *f == "suzhou-zgsz-loan-interest.toml")
            .unwrap()
            .1
            .replace(
                "values = [{ from = \"2021-01-01\", value = 0.01 }]",
                "values = [{ from = \"2021-01-01\", value = 0.015 }]",
            );
        let draft = Policy::from_toml(&text, "draft.toml").unwrap();
        let date = NaiveDate::from_ymd_opt(2022, 12, 31).unwrap();
        let s = simulate(
            &draft,
            Some(&in_force),
            &enterprises,
            &projects,
            date,
            None,
            1,
        );
        assert_eq!(s.qualifying_enterprises, 3);
        assert!((s.total_10k_yuan - 255.0).abs() < 1e-9);
        assert_eq!((s.gainers, s.losers), (3, 0));
        assert!(s.newly_eligible.is_empty());
        assert_eq!(s.by_district[1].key, "320583");
        assert!((s.by_district[1].total_10k_yuan - 105.0).abs() < 1e-9);

        // A ceiling of 170: pro rata, each × 170/255.
        let pro_rata = Budget {
            ceiling_10k_yuan: 170.0,
            rule: BudgetRule::ProRata,
        };
        let s = simulate(
            &draft,
            Some(&in_force),
            &enterprises,
            &projects,
            date,
            Some(pro_rata),
            1,
        );
        assert!((s.paid_10k_yuan - 170.0).abs() < 1e-9);
        assert_eq!(s.paid[0], ("E0".to_string(), 100.0));
        // By ranking (largest first): E0 150 in full, E1 the remaining 20, E2 nothing.
        let ranked = Budget {
            ceiling_10k_yuan: 170.0,
            rule: BudgetRule::Ranking(None),
        };
        let s = simulate(
            &draft,
            Some(&in_force),
            &enterprises,
            &projects,
            date,
            Some(ranked),
            1,
        );
        assert_eq!(s.funded_in_full, 1);
        let paid: BTreeMap<String, f64> = s.paid.into_iter().collect();
        assert_eq!(paid["E0"], 150.0);
        assert!((paid["E1"] - 20.0).abs() < 1e-9);
        assert_eq!(paid["E2"], 0.0);
        // A new policy: everyone who qualifies is newly eligible.
        let s = simulate(&draft, None, &enterprises, &projects, date, None, 1);
        assert_eq!(s.newly_eligible.len(), 3);
        assert_eq!((s.gainers, s.losers), (0, 0));
    }
}
