//! The engine: every policy for every enterprise (its own policies, on the calculation date) and
//! every project (the project policies, on the project's date), then the caps and stacking.
//!
//! A city run keeps each decision compact (a [`Verdict`]: status, amount, caps, and the outcome
//! of every condition and tier in two bits each): that is the whole trace, because the facts it
//! read are the row's and re-reading them is exact. [`Calculation::decision`] renders one with
//! every condition, fact, parameter and cap named. Policies whose region does not cover an
//! enterprise are skipped before anything is evaluated.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::facts::{EnterpriseFacts, Fact, FactOf, ProjectFacts, Row, Value};
use super::formula::{Formula, Name, Scope};
use super::load::{MAX_DERIVED, MAX_PARAMETERS};
use super::{ConditionTest, Effect, Policy, PolicyLibrary, StackRule, Subject, TierMode, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Eligible,
    NotEligible,
    NeedsInformation,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::NotEligible => "not_eligible",
            Status::NeedsInformation => "needs_information",
        }
    }
}

/// True, false or unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(b: Option<bool>) -> Truth {
        match b {
            Some(true) => Truth::True,
            Some(false) => Truth::False,
            None => Truth::Unknown,
        }
    }

    fn bits(self) -> u64 {
        match self {
            Truth::True => 1,
            Truth::False => 2,
            Truth::Unknown => 3,
        }
    }

    fn from_bits(b: u64) -> Option<Truth> {
        match b & 3 {
            1 => Some(Truth::True),
            2 => Some(Truth::False),
            3 => Some(Truth::Unknown),
            _ => None,
        }
    }
}

/// Why a decision is what it is, beyond its conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// By the conditions (and the amount).
    Conditions,
    OutsideRegion,
    /// The project's date is blank.
    NoDate,
    NoVersionOnDate,
    /// No tier of the amount's table is reached.
    NoTierReached,
    /// The conditions hold but the amount's facts are blank.
    Amount,
    /// Eligible, but the source gives no amount (or none for the tier reached).
    AmountNotPublished,
}

/// Caps a verdict met (bits).
pub const CAP_PROJECT: u8 = 1;
pub const CAP_FIRM: u8 = 2;
pub const CAP_STACKING: u8 = 4;

const NONE: u32 = u32::MAX;

/// One policy decided for one enterprise or project, compactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Index in the library.
    pub policy: u16,
    /// Index in the enterprises.
    pub enterprise: u32,
    /// Index in the projects, or `u32::MAX` for the enterprise's own decision.
    pub project: u32,
    /// Index of the version, or `u8::MAX` when none covers the date.
    pub version: u8,
    pub status: Status,
    pub why: Why,
    pub caps: u8,
    /// 万元; NaN when there is none (not eligible, or not published).
    pub amount: f64,
    /// Two bits per condition then per tier: 0 not evaluated, 1 true, 2 false, 3 unknown.
    pub outcomes: u64,
}

impl Verdict {
    pub fn project(&self) -> Option<usize> {
        (self.project != NONE).then_some(self.project as usize)
    }

    pub fn amount(&self) -> Option<f64> {
        (!self.amount.is_nan()).then_some(self.amount)
    }
}

/// The facts, parameters and derived facts a policy's expressions see for one decision.
struct Env<'r, 'a> {
    row: &'r Row<'a>,
    parameters: [Option<f64>; MAX_PARAMETERS],
    derived: [Value<'a>; MAX_DERIVED],
    n_parameters: usize,
    n_derived: usize,
}

impl<'r, 'a> Env<'r, 'a> {
    fn new(policy: &'a Policy, row: &'r Row<'a>) -> Env<'r, 'a> {
        let mut env = Env {
            row,
            parameters: [None; MAX_PARAMETERS],
            derived: [Value::Null; MAX_DERIVED],
            n_parameters: policy.parameters.len(),
            n_derived: policy.derived.len(),
        };
        let date = env.row.date;
        for (slot, p) in env.parameters.iter_mut().zip(&policy.parameters) {
            *slot = p.at(date);
        }
        for &i in &policy.derived_order {
            let value = policy.derived[i as usize].formula.eval(&env.scope());
            env.derived[i as usize] = value;
        }
        env
    }

    fn scope(&self) -> Scope<'_, 'a> {
        Scope {
            row: self.row,
            parameters: &self.parameters[..self.n_parameters],
            derived: &self.derived[..self.n_derived],
        }
    }
}

/// Decides the conditions and amount of one version; caps of other decisions come later.
/// Returns the amount before the project cap (NaN when none).
fn decide<'a>(policy: &'a Policy, vi: usize, env: &Env<'_, 'a>, v: &mut Verdict) -> f64 {
    let version = &policy.versions[vi];
    let scope = env.scope();
    let mut outcomes = 0u64;
    fn truth(version: &Version, i: u16, scope: &Scope<'_, '_>, outcomes: &mut u64) -> Truth {
        let c = &version.conditions[i as usize];
        let t = match &c.test {
            ConditionTest::When(f) => Truth::of(f.truth(scope)),
            ConditionTest::Any(members) => {
                let mut t = Truth::False;
                for &m in members {
                    match truth(version, m, scope, outcomes) {
                        Truth::True => t = Truth::True,
                        Truth::Unknown if t != Truth::True => t = Truth::Unknown,
                        _ => {}
                    }
                }
                t
            }
        };
        *outcomes |= t.bits() << (2 * i as u64);
        t
    }
    let (mut failed, mut unknown) = (false, false);
    for &i in &version.top {
        match truth(version, i, &scope, &mut outcomes) {
            Truth::False => failed = true,
            Truth::Unknown => unknown = true,
            Truth::True => {}
        }
    }
    v.version = vi as u8;
    v.why = Why::Conditions;
    if failed || unknown {
        v.status = if failed {
            Status::NotEligible
        } else {
            Status::NeedsInformation
        };
        v.outcomes = outcomes;
        return f64::NAN;
    }
    let amount = &version.amount;
    let base = version.conditions.len() as u64;
    let value: Result<Option<f64>, Why> = if let Some(f) = &amount.formula {
        f.number(&scope).map(Some).ok_or(Why::Amount)
    } else if amount.tiers.is_empty() {
        Ok(None)
    } else {
        let mut reached: Option<f64> = None;
        let (mut blank, mut unpublished) = (false, false);
        for (t, tier) in amount.tiers.iter().enumerate() {
            let outcome = Truth::of(tier.when.truth(&scope));
            outcomes |= outcome.bits() << (2 * (base + t as u64));
            match outcome {
                Truth::True => match tier.amount.as_ref().map(|a| a.number(&scope)) {
                    None => unpublished = true,
                    Some(Some(x)) => {
                        reached = Some(match (reached, amount.tier_mode) {
                            (None, _) => x,
                            (Some(r), TierMode::Highest) => r.max(x),
                            (Some(r), TierMode::Cumulative) => r + x,
                        })
                    }
                    Some(None) => blank = true,
                },
                Truth::Unknown => blank = true,
                Truth::False => {}
            }
        }
        if blank {
            Err(Why::Amount)
        } else if unpublished {
            // A tier without a figure: the highest, or the sum, is not known.
            Ok(None)
        } else {
            reached.map(Some).ok_or(Why::NoTierReached)
        }
    };
    v.outcomes = outcomes;
    match value {
        Err(Why::NoTierReached) => {
            v.status = Status::NotEligible;
            v.why = Why::NoTierReached;
        }
        Err(why) => {
            v.status = Status::NeedsInformation;
            v.why = why;
        }
        Ok(x) => {
            v.status = Status::Eligible;
            let Some(mut x) = x else {
                v.why = Why::AmountNotPublished;
                return f64::NAN;
            };
            let uncapped = x;
            let cap = match amount.project_cap {
                Some(Name::Parameter(i)) => env.parameters[i as usize],
                Some(Name::Derived(i)) => match env.derived[i as usize] {
                    Value::Number(c) => Some(c),
                    _ => None,
                },
                _ => None,
            };
            if let Some(cap) = cap
                && x > cap
            {
                x = cap;
                v.caps |= CAP_PROJECT;
            }
            v.amount = x;
            return uncapped;
        }
    }
    f64::NAN
}

/// How a run treats policies outside an enterprise's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Skip them (a city run: only what can apply is decided).
    Skip,
    /// Decide them as not eligible, `outside_region` (a file calculation lists every pair).
    List,
}

/// A run of the library over enterprises and their projects.
pub struct Calculation<'a> {
    pub library: &'a PolicyLibrary,
    pub enterprises: &'a [EnterpriseFacts],
    pub projects: &'a [ProjectFacts],
    /// The date of the enterprises' own decisions.
    pub date: NaiveDate,
    /// Per enterprise in order: its own policies, then each project's.
    pub verdicts: Vec<Verdict>,
}

/// Library-wide lookups made once per run.
struct Index {
    enterprise_policies: Vec<u16>,
    project_policies: Vec<u16>,
    /// Per policy: its stacking group's number and rule.
    group: Vec<Option<(u16, StackRule)>>,
    /// Per policy: some version has a firm cap.
    firm_cap: Vec<bool>,
}

impl Index {
    fn new(library: &PolicyLibrary) -> Index {
        let of = |s: Subject| {
            library
                .policies
                .iter()
                .enumerate()
                .filter(|(_, p)| p.subject == s)
                .map(|(i, p)| {
                    let _ = p;
                    i as u16
                })
                .collect()
        };
        let mut groups: Vec<&str> = Vec::new();
        let group = library
            .policies
            .iter()
            .map(|p| {
                p.stacking.as_ref().map(|s| {
                    let g = match groups.iter().position(|g| *g == s.group) {
                        Some(i) => i as u16,
                        None => {
                            groups.push(&s.group);
                            (groups.len() - 1) as u16
                        }
                    };
                    (g, s.rule)
                })
            })
            .collect();
        Index {
            enterprise_policies: of(Subject::Enterprise),
            project_policies: of(Subject::Project),
            group,
            firm_cap: library
                .policies
                .iter()
                .map(|p| {
                    p.versions
                        .iter()
                        .any(|v| v.amount.firm_cap_per_year.is_some())
                })
                .collect(),
        }
    }
}

impl<'a> Calculation<'a> {
    /// Decides every policy for every enterprise and project, on `threads` threads.
    pub fn run(
        library: &'a PolicyLibrary,
        enterprises: &'a [EnterpriseFacts],
        projects: &'a [ProjectFacts],
        date: NaiveDate,
        scope: Coverage,
        threads: usize,
    ) -> Calculation<'a> {
        let index = Index::new(library);
        // Projects grouped by enterprise, in file order within each.
        let by_uscc: HashMap<&str, u32> = enterprises
            .iter()
            .enumerate()
            .map(|(i, e)| (e.uscc.as_str(), i as u32))
            .collect();
        let mut owned: Vec<(u32, u32)> = projects
            .iter()
            .enumerate()
            .filter_map(|(j, p)| by_uscc.get(p.uscc.as_str()).map(|&i| (i, j as u32)))
            .collect();
        owned.sort_unstable();
        let mut starts = vec![0u32; enterprises.len() + 1];
        for &(i, _) in &owned {
            starts[i as usize + 1] += 1;
        }
        for i in 0..enterprises.len() {
            starts[i + 1] += starts[i];
        }
        // The policies that cover each district, found once per district.
        let mut covering: HashMap<&str, (Vec<u16>, Vec<u16>)> = HashMap::new();
        for e in enterprises {
            covering.entry(e.district.as_str()).or_insert_with(|| {
                let keep = |list: &[u16]| -> Vec<u16> {
                    list.iter()
                        .copied()
                        .filter(|&i| {
                            scope == Coverage::List
                                || library.policies[i as usize].covers(&e.district)
                        })
                        .collect()
                };
                (
                    keep(&index.enterprise_policies),
                    keep(&index.project_policies),
                )
            });
        }
        let threads = threads.clamp(1, 64).min(enterprises.len().max(1));
        let chunk = enterprises.len().div_ceil(threads).max(1);
        let work = |from: usize, to: usize| {
            let mut out = Vec::new();
            for ei in from..to {
                let e = &enterprises[ei];
                let (own, per_project) = &covering[e.district.as_str()];
                let mine = &owned[starts[ei] as usize..starts[ei + 1] as usize];
                decide_enterprise(
                    library,
                    &index,
                    ei as u32,
                    e,
                    own,
                    per_project,
                    mine,
                    projects,
                    date,
                    &mut out,
                );
            }
            out
        };
        let verdicts = if threads == 1 {
            work(0, enterprises.len())
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let from = (t * chunk).min(enterprises.len());
                        let to = ((t + 1) * chunk).min(enterprises.len());
                        let work = &work;
                        s.spawn(move || work(from, to))
                    })
                    .collect();
                let mut all = Vec::new();
                for h in handles {
                    all.append(&mut h.join().expect("a calculation thread panicked"));
                }
                all
            })
        };
        Calculation {
            library,
            enterprises,
            projects,
            date,
            verdicts,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn decide_enterprise<'a>(
    library: &'a PolicyLibrary,
    index: &Index,
    ei: u32,
    e: &'a EnterpriseFacts,
    own: &[u16],
    per_project: &[u16],
    mine: &[(u32, u32)],
    projects: &'a [ProjectFacts],
    date: NaiveDate,
    out: &mut Vec<Verdict>,
) {
    let start = out.len();
    let blank = |policy: u16, project: u32| Verdict::blank(policy, ei, project);
    let one = |pi: u16, row: &Row<'a>, project: u32, out: &mut Vec<Verdict>| {
        let policy = &library.policies[pi as usize];
        let mut v = blank(pi, project);
        if !policy.covers(&e.district) {
            v.why = Why::OutsideRegion;
        } else if let Some(vi) = policy.version_index(row.date) {
            let env = Env::new(policy, row);
            decide(policy, vi, &env, &mut v);
        } else {
            v.why = Why::NoVersionOnDate;
        }
        out.push(v);
    };
    if !own.is_empty() {
        let row = Row::enterprise(e, date);
        for &pi in own {
            one(pi, &row, NONE, out);
        }
    }
    for &(_, pj) in mine {
        let p = &projects[pj as usize];
        match p.date {
            None => {
                for &pi in per_project {
                    let mut v = blank(pi, pj);
                    if library.policies[pi as usize].covers(&e.district) {
                        v.status = Status::NeedsInformation;
                        v.why = Why::NoDate;
                    } else {
                        v.why = Why::OutsideRegion;
                    }
                    out.push(v);
                }
            }
            Some(d) => {
                let row = Row::project(e, p, d);
                for &pi in per_project {
                    one(pi, &row, pj, out);
                }
            }
        }
    }
    let mine = &mut out[start..];
    let date_of = |v: &Verdict| match v.project() {
        Some(j) => projects[j].date,
        None => Some(date),
    };
    apply_firm_caps(library, index, mine, &date_of);
    apply_stacking(library, index, mine, &date_of);
}

impl Verdict {
    fn blank(policy: u16, enterprise: u32, project: u32) -> Verdict {
        Verdict {
            policy,
            enterprise,
            project,
            version: u8::MAX,
            status: Status::NotEligible,
            why: Why::Conditions,
            caps: 0,
            amount: f64::NAN,
            outcomes: 0,
        }
    }
}

/// For each policy and calendar year, an enterprise's eligible amounts above the firm cap of the
/// latest version among them (at its date) are reduced pro rata to sum to it.
fn apply_firm_caps(
    library: &PolicyLibrary,
    index: &Index,
    verdicts: &mut [Verdict],
    date_of: &dyn Fn(&Verdict) -> Option<NaiveDate>,
) {
    // (policy, year, date, verdict) of the eligible amounts a firm cap may bind.
    let mut members: Vec<(u16, i32, NaiveDate, usize)> = Vec::new();
    for (i, v) in verdicts.iter().enumerate() {
        if v.status != Status::Eligible || v.amount.is_nan() || !index.firm_cap[v.policy as usize] {
            continue;
        }
        if let Some(date) = date_of(v) {
            members.push((v.policy, date.year(), date, i));
        }
    }
    if members.is_empty() {
        return;
    }
    members.sort_unstable();
    for run in members.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let policy = &library.policies[run[0].0 as usize];
        let latest = run.iter().map(|m| m.2).max().expect("a run has members");
        let Some(cap) = policy
            .version_on(latest)
            .and_then(|v| v.amount.firm_cap_per_year)
            .and_then(|p| policy.parameters[p as usize].at(latest))
        else {
            continue;
        };
        let sum: f64 = run.iter().map(|m| verdicts[m.3].amount).sum();
        if sum > cap {
            for m in run {
                verdicts[m.3].amount *= cap / sum;
                verdicts[m.3].caps |= CAP_FIRM;
            }
        }
    }
}

/// Stacking between the policies of one group, within one enterprise's decisions.
fn apply_stacking(
    library: &PolicyLibrary,
    index: &Index,
    verdicts: &mut [Verdict],
    date_of: &dyn Fn(&Verdict) -> Option<NaiveDate>,
) {
    // (group, project or NONE, year, verdict).
    let mut members: Vec<(u16, u32, i32, usize)> = Vec::new();
    for (i, v) in verdicts.iter().enumerate() {
        let Some((g, rule)) = index.group[v.policy as usize] else {
            continue;
        };
        if v.status != Status::Eligible || v.amount.is_nan() || rule == StackRule::Cumulative {
            continue;
        }
        // 就高 and 不重复享受 are per project (or per enterprise for projectless policies);
        // a cumulative cap is per enterprise and calendar year.
        let key = match rule {
            StackRule::CumulativeCap => (g, NONE, date_of(v).map_or(0, |d| d.year())),
            _ => (g, v.project, 0),
        };
        members.push((key.0, key.1, key.2, i));
    }
    if members.len() < 2 {
        return;
    }
    members.sort_unstable();
    for run in members.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
        if run.len() < 2 {
            continue;
        }
        let ids: Vec<usize> = run.iter().map(|m| m.3).collect();
        let Some((_, rule)) = index.group[verdicts[ids[0]].policy as usize] else {
            continue;
        };
        match rule {
            StackRule::Highest | StackRule::Exclusive => {
                let best = *ids
                    .iter()
                    .max_by(|&&a, &&b| {
                        verdicts[a]
                            .amount
                            .partial_cmp(&verdicts[b].amount)
                            .unwrap_or(std::cmp::Ordering::Equal)
                            // The first in library order wins a tie.
                            .then(verdicts[b].policy.cmp(&verdicts[a].policy))
                    })
                    .expect("a group has members");
                for &i in &ids {
                    if i != best {
                        verdicts[i].amount = 0.0;
                        verdicts[i].caps |= CAP_STACKING;
                    }
                }
            }
            StackRule::Cumulative => {}
            StackRule::CumulativeCap => {
                // The smallest cap any member names, at the latest date among them.
                let latest = ids.iter().filter_map(|&i| date_of(&verdicts[i])).max();
                let cap = ids
                    .iter()
                    .filter_map(|&i| {
                        let p = &library.policies[verdicts[i].policy as usize];
                        let c = p.stacking.as_ref()?.cap?;
                        p.parameters[c as usize].at(latest?)
                    })
                    .fold(f64::INFINITY, f64::min);
                let sum: f64 = ids.iter().map(|&i| verdicts[i].amount).sum();
                if sum > cap {
                    for &i in &ids {
                        verdicts[i].amount *= cap / sum;
                        verdicts[i].caps |= CAP_STACKING;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------- explanations

/// One condition as decided, with the facts it read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionTrace {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub confidence: String,
    /// 0 for a condition of the version, 1 for a member of a group (`any`).
    pub depth: u8,
    pub outcome: Truth,
    /// The facts and parameters it read, as it saw them (`null` when unknown).
    pub facts: Vec<(String, String)>,
}

/// A tier of the amount's table as decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierTrace {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub outcome: Truth,
    pub amount_10k_yuan: Option<f64>,
}

/// A parameter the decision used, with its value in force on the date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterTrace {
    pub name: String,
    pub value: Option<f64>,
    pub unit: String,
    /// The date that value took effect.
    pub from: Option<NaiveDate>,
    pub article: String,
    pub illustrative: bool,
}

/// One policy's decision for one project (or enterprise), explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub uscc: String,
    pub project_id: Option<String>,
    pub policy: String,
    /// Empty when no version covers the date.
    pub version: String,
    pub date: Option<NaiveDate>,
    pub status: Status,
    pub effect: Effect,
    /// 万元; only for eligible decisions whose amount is published.
    pub amount_10k_yuan: Option<f64>,
    /// The amount before any cap.
    pub uncapped_10k_yuan: Option<f64>,
    /// False when the policy's amount is not published (eligibility only).
    pub amount_published: bool,
    /// A cap (project, firm or stacking) lowered the amount.
    pub capped: bool,
    /// Which caps bound: `project_cap`, `firm_cap_per_year`, `stacking`.
    pub caps: Vec<String>,
    pub discretionary: bool,
    /// How it combines with other policies: the group and rule, or `unknown`.
    pub stacking: String,
    /// Facts to supply for a decision that needs information.
    pub unknown_facts: Vec<String>,
    /// Conditions that failed (not eligible) or are unknown (needs information), or what else
    /// decided it (`outside_region`, `no_version_on_date`, `date`, `no_tier_reached`, `amount`).
    pub reasons: Vec<String>,
    pub trace: Vec<ConditionTrace>,
    pub tiers: Vec<TierTrace>,
    pub parameters: Vec<ParameterTrace>,
    /// The version's document and the amount's article.
    pub document: String,
    pub amount_article: String,
}

/// An eligible decision, named (what a notice or a payment list is made of).
#[derive(Debug, Clone, PartialEq)]
pub struct Eligible<'a> {
    pub uscc: &'a str,
    pub policy: &'a str,
    pub project_id: Option<&'a str>,
    pub version: &'a str,
    pub amount_10k_yuan: Option<f64>,
}

impl Calculation<'_> {
    /// The eligible decisions, in run order.
    pub fn eligible(&self) -> impl Iterator<Item = Eligible<'_>> {
        self.verdicts
            .iter()
            .filter(|v| v.status == Status::Eligible)
            .map(|v| {
                let policy = &self.library.policies[v.policy as usize];
                Eligible {
                    uscc: &self.enterprises[v.enterprise as usize].uscc,
                    policy: &policy.id,
                    project_id: v.project().map(|j| self.projects[j].project_id.as_str()),
                    version: policy
                        .versions
                        .get(v.version as usize)
                        .map_or("", |x| x.id.as_str()),
                    amount_10k_yuan: v.amount(),
                }
            })
    }

    /// Every verdict explained.
    pub fn decisions(&self) -> Vec<Decision> {
        self.verdicts.iter().map(|v| self.decision(v)).collect()
    }

    /// One verdict explained: each condition with the facts it read, each tier, parameter and
    /// cap. Re-reads the facts the verdict was made from, so it says exactly what was decided.
    pub fn decision(&self, v: &Verdict) -> Decision {
        self.explain(v, true)
    }

    /// One verdict with its status, amount, caps, reasons and facts to supply, without the trace
    /// (conditions, tiers, parameters): what a list of decisions shows.
    pub fn brief(&self, v: &Verdict) -> Decision {
        self.explain(v, false)
    }

    fn explain(&self, v: &Verdict, full: bool) -> Decision {
        let policy = &self.library.policies[v.policy as usize];
        let e = &self.enterprises[v.enterprise as usize];
        let project = v.project().map(|j| &self.projects[j]);
        let mut d = Decision {
            uscc: e.uscc.clone(),
            project_id: project.map(|p| p.project_id.clone()),
            policy: policy.id.clone(),
            version: String::new(),
            date: match project {
                Some(p) => p.date,
                None => Some(self.date),
            },
            status: v.status,
            effect: policy.effect,
            amount_10k_yuan: None,
            uncapped_10k_yuan: None,
            amount_published: true,
            capped: v.caps != 0,
            caps: [
                (CAP_PROJECT, "project_cap"),
                (CAP_FIRM, "firm_cap_per_year"),
                (CAP_STACKING, "stacking"),
            ]
            .iter()
            .filter(|(bit, _)| v.caps & bit != 0)
            .map(|(_, name)| name.to_string())
            .collect(),
            discretionary: false,
            stacking: policy.stacking.as_ref().map_or_else(
                || "unknown".to_string(),
                |s| format!("{}:{}", s.group, s.rule.key()),
            ),
            unknown_facts: Vec::new(),
            reasons: Vec::new(),
            trace: Vec::new(),
            tiers: Vec::new(),
            parameters: Vec::new(),
            document: String::new(),
            amount_article: String::new(),
        };
        match v.why {
            Why::OutsideRegion => {
                d.reasons.push("outside_region".into());
                return d;
            }
            Why::NoDate => {
                d.unknown_facts.push("date".into());
                d.reasons.push("date".into());
                return d;
            }
            Why::NoVersionOnDate => {
                d.reasons.push("no_version_on_date".into());
                return d;
            }
            _ => {}
        }
        let (Some(date), Some(version)) = (d.date, policy.versions.get(v.version as usize)) else {
            return d;
        };
        let row = match project {
            Some(p) => Row::project(e, p, date),
            None => Row::enterprise(e, date),
        };
        let env = Env::new(policy, &row);
        // The amount before the caps, decided again from the same facts.
        let uncapped = decide(
            policy,
            v.version as usize,
            &env,
            &mut Verdict::blank(v.policy, v.enterprise, v.project),
        );
        d.version = version.id.clone();
        d.discretionary = version.amount.discretionary;
        d.amount_published = version.amount.published() && v.why != Why::AmountNotPublished;
        d.document = version.document.clone();
        d.amount_article = version.amount.article.clone();
        if v.status == Status::Eligible {
            d.amount_10k_yuan = v.amount();
            d.uncapped_10k_yuan = (!uncapped.is_nan()).then_some(uncapped);
        }
        let outcome = |i: usize| Truth::from_bits(v.outcomes >> (2 * i as u64));
        // Conditions in document order, members after their group's place.
        let mut depth = vec![0u8; version.conditions.len()];
        for c in &version.conditions {
            if let ConditionTest::Any(members) = &c.test {
                for &m in members {
                    depth[m as usize] = 1;
                }
            }
        }
        let base = version.conditions.len();
        if full {
            let mut used: Vec<Name> = Vec::new();
            for (i, c) in version.conditions.iter().enumerate() {
                let Some(o) = outcome(i) else { continue };
                let facts = match &c.test {
                    ConditionTest::When(f) => {
                        used.extend_from_slice(f.names());
                        shown(policy, &env, f)
                    }
                    ConditionTest::Any(_) => Vec::new(),
                };
                d.trace.push(ConditionTrace {
                    id: c.id.clone(),
                    name_zh: c.name_zh.clone(),
                    name_en: c.name_en.clone(),
                    article: c.article.clone(),
                    confidence: c.confidence.clone(),
                    depth: depth[i],
                    outcome: o,
                    facts,
                });
            }
            // Group members are pushed before their group: put each group first.
            reorder_groups(version, &mut d.trace);
            for (t, tier) in version.amount.tiers.iter().enumerate() {
                let Some(o) = outcome(base + t) else { continue };
                used.extend_from_slice(tier.when.names());
                if let Some(a) = &tier.amount {
                    used.extend_from_slice(a.names());
                }
                d.tiers.push(TierTrace {
                    id: tier.id.clone(),
                    name_zh: tier.name_zh.clone(),
                    name_en: tier.name_en.clone(),
                    article: tier.article.clone(),
                    outcome: o,
                    amount_10k_yuan: (o == Truth::True)
                        .then(|| tier.amount.as_ref().and_then(|a| a.number(&env.scope())))
                        .flatten(),
                });
            }
            if let Some(f) = &version.amount.formula {
                used.extend_from_slice(f.names());
            }
            if let Some(cap) = version.amount.project_cap {
                used.push(cap);
            }
            let caps = [
                version.amount.firm_cap_per_year,
                policy.stacking.as_ref().and_then(|s| s.cap),
            ];
            for p in caps.into_iter().flatten() {
                used.push(Name::Parameter(p));
            }
            used.sort_by_key(|n| match n {
                Name::Parameter(i) => *i as i32,
                _ => -1,
            });
            used.dedup();
            for n in &used {
                if let Name::Parameter(i) = n {
                    let p = &policy.parameters[*i as usize];
                    let dated = p.dated(date);
                    d.parameters.push(ParameterTrace {
                        name: p.name.clone(),
                        value: dated.map(|(_, x)| x),
                        unit: p.unit.clone(),
                        from: dated.map(|(f, _)| f),
                        article: p.article.clone(),
                        illustrative: p.illustrative,
                    });
                }
            }
        }
        // Reasons: the failures, else the unknowns and what they need.
        let top_outcome = |want: Truth| -> Vec<String> {
            version
                .top
                .iter()
                .filter(|&&i| outcome(i as usize) == Some(want))
                .map(|&i| version.conditions[i as usize].id.clone())
                .collect()
        };
        match v.status {
            Status::NotEligible => {
                d.reasons = top_outcome(Truth::False);
                if v.why == Why::NoTierReached {
                    d.reasons.push("no_tier_reached".into());
                }
            }
            Status::NeedsInformation => {
                d.reasons = top_outcome(Truth::Unknown);
                let mut facts = Vec::new();
                for &i in &version.top {
                    if outcome(i as usize) == Some(Truth::Unknown) {
                        unknown_facts_of(policy, version, i, &env, &outcome, &mut facts);
                    }
                }
                // The amount's own facts must be known too.
                let mut amount_facts = Vec::new();
                if let Some(f) = &version.amount.formula {
                    null_facts(policy, &env, f, &mut amount_facts);
                }
                for (t, tier) in version.amount.tiers.iter().enumerate() {
                    if matches!(outcome(base + t), Some(Truth::True | Truth::Unknown)) {
                        null_facts(policy, &env, &tier.when, &mut amount_facts);
                        if outcome(base + t) == Some(Truth::True)
                            && let Some(a) = &tier.amount
                        {
                            null_facts(policy, &env, a, &mut amount_facts);
                        }
                    }
                }
                if v.why == Why::Amount || !amount_facts.is_empty() {
                    d.reasons.push("amount".into());
                }
                facts.extend(amount_facts);
                facts.sort();
                facts.dedup();
                d.unknown_facts = facts;
            }
            Status::Eligible => {}
        }
        d
    }
}

fn reorder_groups(version: &Version, trace: &mut Vec<ConditionTrace>) {
    // Conditions are stored members first (a group is pushed after its members); a reader
    // wants the group, then its members.
    let mut out: Vec<ConditionTrace> = Vec::with_capacity(trace.len());
    fn place(version: &Version, i: u16, trace: &[ConditionTrace], out: &mut Vec<ConditionTrace>) {
        let c = &version.conditions[i as usize];
        if let Some(t) = trace
            .iter()
            .find(|t| t.id == c.id && !out.iter().any(|o| o.id == t.id))
        {
            out.push(t.clone());
        }
        if let ConditionTest::Any(members) = &c.test {
            for &m in members {
                place(version, m, trace, out);
            }
        }
    }
    for &i in &version.top {
        place(version, i, trace, &mut out);
    }
    if out.len() == trace.len() {
        *trace = out;
    }
}

/// A formula's facts, parameters and derived facts as it saw them.
fn shown(policy: &Policy, env: &Env<'_, '_>, f: &Formula) -> Vec<(String, String)> {
    f.names()
        .iter()
        .map(|n| match n {
            Name::Fact(fact) => (fact.name().to_string(), env.row.show(*fact)),
            Name::Parameter(i) => (
                policy.parameters[*i as usize].name.clone(),
                env.parameters[*i as usize].map_or_else(|| "null".into(), crate::format::figure),
            ),
            Name::Derived(i) => (
                policy.derived[*i as usize].name.clone(),
                env.derived[*i as usize].show(),
            ),
        })
        .collect()
}

/// The blank facts a formula reads, through derived facts to the facts they read.
fn null_facts(policy: &Policy, env: &Env<'_, '_>, f: &Formula, out: &mut Vec<String>) {
    for n in f.names() {
        match n {
            Name::Fact(fact) if env.row.get(*fact).is_null() => out.push(fact.name().to_string()),
            Name::Parameter(i) if env.parameters[*i as usize].is_none() => {
                out.push(format!("parameter:{}", policy.parameters[*i as usize].name))
            }
            Name::Derived(i) if env.derived[*i as usize].is_null() => {
                null_facts(policy, env, &policy.derived[*i as usize].formula, out)
            }
            _ => {}
        }
    }
}

fn unknown_facts_of(
    policy: &Policy,
    version: &Version,
    i: u16,
    env: &Env<'_, '_>,
    outcome: &dyn Fn(usize) -> Option<Truth>,
    out: &mut Vec<String>,
) {
    match &version.conditions[i as usize].test {
        ConditionTest::When(f) => null_facts(policy, env, f, out),
        ConditionTest::Any(members) => {
            for &m in members {
                if outcome(m as usize) == Some(Truth::Unknown) {
                    unknown_facts_of(policy, version, m, env, outcome, out);
                }
            }
        }
    }
}

/// Every project policy of the library for every project (with the firm caps), explained; the
/// projects of enterprises not given are left out.
pub fn decide_projects(
    library: &PolicyLibrary,
    enterprises: &BTreeMap<String, EnterpriseFacts>,
    projects: &[ProjectFacts],
) -> Vec<Decision> {
    let list: Vec<EnterpriseFacts> = enterprises.values().cloned().collect();
    // The enterprises' own policies are not asked for: their date is irrelevant.
    let date = NaiveDate::MIN;
    let calc = Calculation::run(library, &list, projects, date, Coverage::List, 1);
    calc.verdicts
        .iter()
        .filter(|v| v.project().is_some())
        .map(|v| calc.decision(v))
        .collect()
}

/// Facts that are the project's (for the reader of a trace).
pub fn is_project_fact(f: Fact) -> bool {
    f.of() == FactOf::Project
}
