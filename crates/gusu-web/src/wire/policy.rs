//! The policy calculator: the library, a situation to calculate, and decisions with their trace.

use gusu_core::policy::{self as core};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A version of a policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyVersion {
    pub id: String,
    /// YYYY-MM-DD.
    pub valid_from: String,
    /// YYYY-MM-DD, inclusive; absent while open.
    pub valid_to: Option<String>,
    /// The document, title and number as published.
    pub document: String,
    pub published: String,
    pub confidence: String,
}

/// A policy of the library.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicySummary {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub issuer: String,
    /// `project` or `enterprise`.
    pub subject: String,
    /// `apply` or `automatic` (免申即享).
    pub delivery: String,
    /// `support` or `charge`.
    pub effect: String,
    /// The division-code prefix it holds in.
    pub region: String,
    pub confidence: String,
    /// `group:rule`, or `unknown` where the sources say nothing.
    pub stacking: String,
    pub evidence: Vec<String>,
    pub versions: Vec<PolicyVersion>,
    /// What changed from each version to the next.
    pub differences: Vec<VersionDifference>,
}

/// What changed from one version to the next.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDifference {
    pub from: String,
    pub to: String,
    pub conditions_added: Vec<String>,
    pub conditions_dropped: Vec<String>,
    pub parameters_changed: Vec<ParameterChange>,
    /// The amount's formula, tiers or caps changed.
    pub amount_changed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterChange {
    pub name: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicySummary>,
}

fn day(d: chrono::NaiveDate) -> String {
    d.to_string()
}

impl From<&core::Policy> for PolicySummary {
    fn from(p: &core::Policy) -> PolicySummary {
        PolicySummary {
            id: p.id.clone(),
            title_zh: p.title_zh.clone(),
            title_en: p.title_en.clone(),
            issuer: p.issuer.clone(),
            subject: match p.subject {
                core::Subject::Project => "project",
                core::Subject::Enterprise => "enterprise",
            }
            .into(),
            delivery: p.delivery.clone(),
            effect: match p.effect {
                core::Effect::Support => "support",
                core::Effect::Charge => "charge",
            }
            .into(),
            region: p.region.clone(),
            confidence: p.confidence.clone(),
            stacking: p.stacking.as_ref().map_or_else(
                || "unknown".into(),
                |s| format!("{}:{}", s.group, s.rule.key()),
            ),
            evidence: p.evidence.clone(),
            versions: p
                .versions
                .iter()
                .map(|v| PolicyVersion {
                    id: v.id.clone(),
                    valid_from: day(v.valid_from),
                    valid_to: v.valid_to.map(day),
                    document: v.document.clone(),
                    published: v.published.clone(),
                    confidence: v.confidence.clone(),
                })
                .collect(),
            differences: p
                .differences()
                .into_iter()
                .map(|d| VersionDifference {
                    from: d.from,
                    to: d.to,
                    conditions_added: d.conditions_added,
                    conditions_dropped: d.conditions_dropped,
                    parameters_changed: d
                        .parameters_changed
                        .into_iter()
                        .map(|(name, before, after)| ParameterChange {
                            name,
                            before,
                            after,
                        })
                        .collect(),
                    amount_changed: d.amount_changed,
                })
                .collect(),
        }
    }
}

/// A designation in a situation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationInput {
    /// `zjtx`, `little_giant`, `high_tech`, … or its Chinese name.
    pub designation: String,
    /// `city`, `provincial`, `national` (or 市级, 省级, 国家级), or an assessed level.
    pub level: String,
    /// YYYY-MM-DD.
    pub recognised: String,
    /// YYYY-MM-DD; absent when it does not expire.
    pub expires: Option<String>,
}

/// An enterprise's facts of one year.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearInput {
    pub year: i32,
    /// The per-mu class of that year's evaluation (A–D).
    pub class: Option<String>,
    pub revenue_10k_yuan: Option<f64>,
    pub tax_paid_10k_yuan: Option<f64>,
    pub rd_expense_10k_yuan: Option<f64>,
    pub employees: Option<f64>,
    pub net_assets_10k_yuan: Option<f64>,
    pub electricity_kwh: Option<f64>,
    pub energy_tce: Option<f64>,
}

/// The enterprise of a situation. With `uscc` in the situation, each field given replaces the
/// stored one; without, these are all the facts.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseInput {
    /// District code (6 digits).
    pub district: Option<String>,
    /// GB/T 4754 division (13–43 manufacturing).
    pub division: Option<u32>,
    /// YYYY-MM-DD.
    pub established: Option<String>,
    pub above_scale: Option<bool>,
    /// The designations; absent: unknown (or the stored ones).
    pub designations: Option<Vec<DesignationInput>>,
    /// Yearly facts; a year given replaces the stored year.
    pub years: Option<Vec<YearInput>>,
}

/// A loan or investment project; absent facts are unknown.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    pub project_id: String,
    /// `new_build`, `expansion`, `smart_transformation`, `upgrade`, … or its Chinese name.
    pub kind: Option<String>,
    /// The loan (or filing) date, YYYY-MM-DD.
    pub date: Option<String>,
    pub loan_10k_yuan: Option<f64>,
    pub equipment_loan_10k_yuan: Option<f64>,
    pub rate_over_lpr_bp: Option<f64>,
    pub lpr_percent: Option<f64>,
    pub is_new: Option<bool>,
    pub fixed_asset_investment_10k_yuan: Option<f64>,
    pub equipment_investment_10k_yuan: Option<f64>,
    pub catalogue_investment_10k_yuan: Option<f64>,
    pub strategic_industry: Option<bool>,
    pub first_time: Option<bool>,
    pub years_subsidised: Option<f64>,
}

/// A situation: an enterprise (stored, hypothetical, or stored with changes), projects and a date.
/// Nothing of it is stored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Situation {
    /// An enterprise the viewer may see: its stored facts and projects are the starting point.
    pub uscc: Option<String>,
    /// The date of the enterprise's own decisions, YYYY-MM-DD.
    pub date: String,
    pub enterprise: Option<EnterpriseInput>,
    /// Projects added to the stored ones (a stored project of the same id is replaced).
    #[serde(default)]
    pub projects: Vec<ProjectInput>,
    /// `full` (default): every decision with its trace; `summary`: statuses, amounts, caps,
    /// reasons and facts to supply, without the traces (ask `/api/v1/trace` for one).
    pub detail: Option<DecisionDetail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionDetail {
    #[default]
    Full,
    Summary,
}

/// A situation and the one decision whose trace is wanted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    pub situation: Situation,
    pub policy: String,
    /// The project decided; absent for the enterprise's own decision.
    pub project_id: Option<String>,
}

/// A condition as decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionTrace {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub confidence: String,
    /// 0 for a condition of the version, 1 for a member of a group (any of).
    pub depth: u8,
    /// `true`, `false` or `unknown`.
    pub outcome: String,
    /// The facts and parameters it read, as it saw them (`null` when unknown).
    pub facts: Vec<FactSeen>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FactSeen {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierTrace {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub outcome: String,
    pub amount_10k_yuan: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterTrace {
    pub name: String,
    pub value: Option<f64>,
    pub unit: String,
    /// The date the value took effect.
    pub from: Option<String>,
    pub article: String,
    /// No source gives the figure: it stands until one does.
    pub illustrative: bool,
}

/// One policy decided for the enterprise or one of its projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    pub uscc: String,
    pub project_id: Option<String>,
    pub policy: String,
    pub title_zh: String,
    pub title_en: String,
    /// Empty when no version covers the date.
    pub version: String,
    pub date: Option<String>,
    /// `eligible`, `not_eligible` or `needs_information`.
    pub status: String,
    /// `support` or `charge`.
    pub effect: String,
    /// 万元; only for eligible decisions whose amount is published.
    pub amount_10k_yuan: Option<f64>,
    pub uncapped_10k_yuan: Option<f64>,
    pub amount_published: bool,
    pub capped: bool,
    pub caps: Vec<String>,
    pub discretionary: bool,
    pub stacking: String,
    pub delivery: String,
    pub unknown_facts: Vec<String>,
    pub reasons: Vec<String>,
    /// The first reason as a reader says it (the condition's name, or what else decided it).
    pub first_reason_zh: Option<String>,
    pub first_reason_en: Option<String>,
    pub trace: Vec<ConditionTrace>,
    pub tiers: Vec<TierTrace>,
    pub parameters: Vec<ParameterTrace>,
    pub document: String,
    pub amount_article: String,
}

fn truth(t: core::Truth) -> String {
    match t {
        core::Truth::True => "true",
        core::Truth::False => "false",
        core::Truth::Unknown => "unknown",
    }
    .into()
}

/// A reason code as a reader says it: a condition by its name, else the engine's own words.
fn reason_names(d: &core::Decision, code: &str) -> (String, String) {
    if let Some(c) = d.trace.iter().find(|c| c.id == code) {
        return (c.name_zh.clone(), c.name_en.clone());
    }
    let (zh, en) = match code {
        "outside_region" => ("不在政策适用地区", "outside the policy's region"),
        "no_version_on_date" => (
            "该日期不在任何版本的有效期内",
            "no version in force on the date",
        ),
        "date" => ("缺少项目日期", "the project's date is missing"),
        "no_tier_reached" => ("未达到任何档次", "no tier reached"),
        "amount" => ("计算金额所需的数据不全", "the amount's facts are missing"),
        other => (other, other),
    };
    (zh.to_string(), en.to_string())
}

impl Decision {
    pub fn new(d: &core::Decision, policy: &core::Policy) -> Decision {
        let first = d.reasons.first().map(|r| reason_names(d, r));
        Decision {
            first_reason_zh: first.as_ref().map(|f| f.0.clone()),
            first_reason_en: first.map(|f| f.1),
            uscc: d.uscc.clone(),
            project_id: d.project_id.clone(),
            policy: d.policy.clone(),
            title_zh: policy.title_zh.clone(),
            title_en: policy.title_en.clone(),
            version: d.version.clone(),
            date: d.date.map(day),
            status: d.status.key().into(),
            effect: match d.effect {
                core::Effect::Support => "support",
                core::Effect::Charge => "charge",
            }
            .into(),
            amount_10k_yuan: d.amount_10k_yuan,
            uncapped_10k_yuan: d.uncapped_10k_yuan,
            amount_published: d.amount_published,
            capped: d.capped,
            caps: d.caps.clone(),
            discretionary: d.discretionary,
            stacking: d.stacking.clone(),
            delivery: policy.delivery.clone(),
            unknown_facts: d.unknown_facts.clone(),
            reasons: d.reasons.clone(),
            trace: d
                .trace
                .iter()
                .map(|c| ConditionTrace {
                    id: c.id.clone(),
                    name_zh: c.name_zh.clone(),
                    name_en: c.name_en.clone(),
                    article: c.article.clone(),
                    confidence: c.confidence.clone(),
                    depth: c.depth,
                    outcome: truth(c.outcome),
                    facts: c
                        .facts
                        .iter()
                        .map(|(name, value)| FactSeen {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect(),
                })
                .collect(),
            tiers: d
                .tiers
                .iter()
                .map(|t| TierTrace {
                    id: t.id.clone(),
                    name_zh: t.name_zh.clone(),
                    name_en: t.name_en.clone(),
                    article: t.article.clone(),
                    outcome: truth(t.outcome),
                    amount_10k_yuan: t.amount_10k_yuan,
                })
                .collect(),
            parameters: d
                .parameters
                .iter()
                .map(|p| ParameterTrace {
                    name: p.name.clone(),
                    value: p.value,
                    unit: p.unit.clone(),
                    from: p.from.map(day),
                    article: p.article.clone(),
                    illustrative: p.illustrative,
                })
                .collect(),
            document: d.document.clone(),
            amount_article: d.amount_article.clone(),
        }
    }
}

/// The decisions of a situation: the enterprise's own policies, then each project's.
#[derive(Debug, Serialize, ToSchema)]
pub struct Calculation {
    pub uscc: Option<String>,
    pub date: String,
    pub eligible: usize,
    pub needs_information: usize,
    pub not_eligible: usize,
    /// The sum of the eligible supports (万元; charges and unpublished amounts not included).
    pub support_10k_yuan: f64,
    pub decisions: Vec<Decision>,
}

// ------------------------------------------------------------------------------- workflow

/// A notice in an enterprise's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyNotice {
    pub id: i64,
    pub policy: String,
    pub title_zh: String,
    pub title_en: String,
    pub project_id: Option<String>,
    pub version: String,
    pub amount_10k_yuan: Option<f64>,
    /// `published` (a policy was published) or `facts` (the enterprise's facts changed).
    pub cause: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyNoticeList {
    pub notices: Vec<PolicyNotice>,
}

/// How far a policy reached, in the viewer's scope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TakeUp {
    pub policy: String,
    pub title_zh: String,
    pub title_en: String,
    pub delivery: String,
    pub notified: usize,
    pub read: usize,
    /// Applications past the draft.
    pub applied: usize,
    /// Applications granted, and rows of the latest confirmed list of each date.
    pub granted: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TakeUpList {
    pub policies: Vec<TakeUp>,
}

/// A draft to save: a policy document (TOML).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    pub text: String,
}

/// A draft as stored, with its check and its cases run.
#[derive(Debug, Serialize, ToSchema)]
pub struct Draft {
    pub id: i64,
    pub policy_id: String,
    pub author: String,
    pub created_at: String,
    pub published_at: Option<String>,
    pub published_by: Option<String>,
    pub text: String,
    /// The load error with its line, if the document no longer loads.
    pub error: Option<String>,
    /// The cases that do not compute as written.
    pub failing_cases: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DraftList {
    pub drafts: Vec<Draft>,
}

/// A simulation's settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationBody {
    /// YYYY-MM-DD; default today.
    pub date: Option<String>,
    /// The budget ceiling, 万元.
    pub ceiling_10k_yuan: Option<f64>,
    /// `pro_rata` (default) or `ranking` (by the draft's own ranking).
    pub rule: Option<BudgetRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetRule {
    ProRata,
    Ranking,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    pub key: String,
    pub enterprises: usize,
    pub total_10k_yuan: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    pub uscc: String,
    pub before_10k_yuan: f64,
    pub after_10k_yuan: f64,
}

/// A draft over the city.
#[derive(Debug, Serialize, ToSchema)]
pub struct Simulation {
    pub policy: String,
    pub date: String,
    pub decisions: usize,
    pub eligible: usize,
    pub needs_information: usize,
    pub not_eligible: usize,
    pub qualifying_enterprises: usize,
    pub total_10k_yuan: f64,
    pub paid_10k_yuan: f64,
    pub funded_in_full: usize,
    pub by_district: Vec<Group>,
    pub by_section: Vec<Group>,
    pub by_size: Vec<Group>,
    pub gainers: usize,
    pub losers: usize,
    pub largest_gains: Vec<Change>,
    pub largest_losses: Vec<Change>,
    /// Eligible under the draft, not under the version in force: who would be notified.
    pub newly_eligible: Vec<String>,
}

impl From<gusu_core::policy::simulate::Simulation> for Simulation {
    fn from(s: gusu_core::policy::simulate::Simulation) -> Simulation {
        let groups = |g: Vec<gusu_core::policy::simulate::Group>| {
            g.into_iter()
                .map(|g| Group {
                    key: g.key,
                    enterprises: g.enterprises,
                    total_10k_yuan: g.total_10k_yuan,
                })
                .collect()
        };
        let changes = |c: Vec<gusu_core::policy::simulate::Change>| {
            c.into_iter()
                .map(|c| Change {
                    uscc: c.uscc,
                    before_10k_yuan: c.before_10k_yuan,
                    after_10k_yuan: c.after_10k_yuan,
                })
                .collect()
        };
        Simulation {
            policy: s.policy,
            date: s.date.to_string(),
            decisions: s.decisions,
            eligible: s.eligible,
            needs_information: s.needs_information,
            not_eligible: s.not_eligible,
            qualifying_enterprises: s.qualifying_enterprises,
            total_10k_yuan: s.total_10k_yuan,
            paid_10k_yuan: s.paid_10k_yuan,
            funded_in_full: s.funded_in_full,
            by_district: groups(s.by_district),
            by_section: groups(s.by_section),
            by_size: groups(s.by_size),
            gainers: s.gainers,
            losers: s.losers,
            largest_gains: changes(s.largest_gains),
            largest_losses: changes(s.largest_losses),
            newly_eligible: s.newly_eligible,
        }
    }
}

/// Publishing on a date (default today): who newly qualifies then.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    pub date: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub draft: i64,
    pub policy: String,
    /// Notices sent to the newly qualifying enterprises.
    pub notices: usize,
}

/// One row of an automatic policy's payment list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ListRow {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub project_id: String,
    pub version: String,
    pub amount_10k_yuan: f64,
}

/// An automatic policy's list on a date, as computed now, and the versions confirmed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub policy: String,
    pub date: String,
    pub rows: Vec<ListRow>,
    pub total_10k_yuan: f64,
    pub confirmed: Vec<ConfirmedList>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmedList {
    pub date: String,
    pub seq: i64,
    pub rows: usize,
    pub total_10k_yuan: f64,
    pub confirmed_by: String,
    pub confirmed_at: String,
}

/// Confirming the list of a date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListConfirmBody {
    /// YYYY-MM-DD.
    pub date: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListConfirmation {
    pub policy: String,
    pub date: String,
    /// The version of the date's list this confirmation made (1, 2, …).
    pub seq: i64,
    pub rows: usize,
    pub total_10k_yuan: f64,
}

// ---------------------------------------------------------------------------- applications

/// An application for a policy delivered on application.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyApplication {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub policy: String,
    pub project_id: Option<String>,
    /// `draft`, `submitted`, `recommended`, `returned`, `approved` (granted) or `rejected`.
    pub status: String,
    /// Each evidence item the policy names, with the applicant's reference.
    pub evidence: std::collections::BTreeMap<String, String>,
    pub amount_10k_yuan: Option<f64>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<&gusu_store::PolicyApplication> for PolicyApplication {
    fn from(a: &gusu_store::PolicyApplication) -> PolicyApplication {
        PolicyApplication {
            id: a.id,
            uscc: a.uscc.to_string(),
            name: a.name.clone(),
            district: a.district.clone(),
            policy: a.policy_id.clone(),
            project_id: a.project_id.clone(),
            status: a.status.key().to_string(),
            evidence: a.evidence.clone(),
            amount_10k_yuan: a.amount_10k_yuan,
            created_by: a.created_by.clone(),
            created_at: a.created_at.clone(),
            updated_by: a.updated_by.clone(),
            updated_at: a.updated_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyApplicationList {
    pub applications: Vec<PolicyApplication>,
}

/// A step of an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyApplicationEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
}

/// An application with the decision on the stored facts now, what is still open, the actions
/// the viewer may take, and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyApplicationDetail {
    pub application: PolicyApplication,
    pub evidence_items: Vec<String>,
    pub decision: Decision,
    pub open: Vec<String>,
    pub actions: Vec<String>,
    pub history: Vec<PolicyApplicationEvent>,
}

/// Opening an application.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenApplicationBody {
    pub uscc: String,
    pub policy: String,
    /// The project applied for; absent for the enterprise's own decision.
    pub project_id: Option<String>,
}

/// The evidence: each item the policy names, with a reference.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    pub evidence: std::collections::BTreeMap<String, String>,
}

/// A step of the route: `submit`, `recommend`, `approve`, `return`, `reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub action: String,
    #[serde(default)]
    pub reason: String,
}
