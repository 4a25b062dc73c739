//! The on-disk shape of a support policy (TOML). Strict like every rule document: an unknown key,
//! a bad date, a condition that reads a fact or parameter gusu does not know, or a formula that
//! does not parse is an error naming the file and line.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    pub policy: Header,
    /// Facts the document derives from others (a cycle between them is an error).
    #[serde(default)]
    pub fact: Vec<DerivedDoc>,
    /// Dated series of the figures the conditions and amounts use.
    #[serde(default)]
    pub parameter: Vec<ParameterDoc>,
    /// The versions, oldest first; each is in force from its date until the next one's.
    pub version: Vec<VersionDoc>,
    #[serde(default)]
    pub test: Vec<TestDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub issuer: String,
    /// `project` (per loan or investment) or `enterprise`.
    pub subject: String,
    /// `apply` or `automatic` (免申即享: the bureau confirms the list).
    pub delivery: String,
    /// Confidence of the sources (H, M, L).
    pub confidence: String,
    /// Where the policy holds (a division-code prefix: 32 Jiangsu, 3205 Suzhou).
    pub region: String,
    #[serde(default)]
    pub notes: Vec<String>,
    /// `support` (the enterprise receives the amount) or `charge` (it pays it: a surcharge).
    #[serde(default = "support")]
    pub effect: String,
    /// What an application must bring (for `apply` policies).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// How the policy combines with others; absent when the sources are silent (the calculator
    /// then says so instead of guessing).
    pub stacking: Option<StackingDoc>,
    /// How a budget ceiling is shared when a simulation sets one (default pro rata).
    pub budget: Option<BudgetDoc>,
}

/// The sharing of a budget ceiling the document names: `pro_rata`, or `ranking` by `rank_by`
/// (`amount`, or a numeric fact of the enterprise, highest first).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetDoc {
    pub rule: Spanned<String>,
    pub rank_by: Option<Spanned<String>>,
}

fn support() -> String {
    "support".to_string()
}

/// Stacking with other policies: the policies of one `group` share the rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackingDoc {
    pub group: String,
    /// `highest` (就高: of a group's amounts for one project, or one enterprise's policies
    /// without projects, only the highest is paid), `exclusive` (不重复享受: one only, the
    /// highest, the enterprise may choose another), `cumulative_cap` (the group's amounts of
    /// one enterprise in one calendar year are capped together, pro rata), `cumulative` (the
    /// sources say they add up: nothing is reduced).
    pub rule: Spanned<String>,
    /// The parameter capping the group, for `cumulative_cap`.
    pub cap: Option<Spanned<String>>,
    pub article: String,
}

/// A fact computed from others, named in the document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DerivedDoc {
    pub name: Spanned<String>,
    pub formula: Spanned<String>,
    pub article: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterDoc {
    pub name: Spanned<String>,
    pub unit: String,
    /// The article or passage the figure comes from.
    pub article: String,
    pub confidence: String,
    /// True when no source gives the figure and it stands until one does.
    #[serde(default)]
    pub illustrative: bool,
    /// The value from each date on, oldest first.
    pub values: Vec<DatedValue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedValue {
    pub from: Spanned<String>,
    pub value: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionDoc {
    pub id: String,
    /// First date (of the project's loan or filing, or of the calculation) the version governs.
    pub valid_from: Spanned<String>,
    /// Last date of the last version; a version ends where the next begins.
    pub valid_to: Option<Spanned<String>>,
    /// The document: title and number as published.
    pub document: String,
    pub published: String,
    pub confidence: String,
    #[serde(default)]
    pub condition: Vec<ConditionDoc>,
    pub amount: AmountDoc,
}

/// A condition: a CEL expression over the facts (`when`), or several, of which any or all must
/// hold (unknown facts make a condition unknown, never false).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionDoc {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    #[serde(default = "high")]
    pub confidence: String,
    pub when: Option<Spanned<String>>,
    #[serde(default)]
    pub any: Vec<ConditionDoc>,
}

fn high() -> String {
    "H".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountDoc {
    /// CEL giving the amount in 万元 before caps; absent when the amount comes from tiers, or
    /// when no source gives it (the decision then says the amount is not published).
    pub formula: Option<Spanned<String>>,
    pub article: String,
    /// `highest` (the best tier reached only) or `cumulative` (every tier reached adds).
    pub tier_mode: Option<Spanned<String>>,
    #[serde(default)]
    pub tier: Vec<TierDoc>,
    /// Parameter (or derived fact) capping each decision's amount.
    pub project_cap: Option<Spanned<String>>,
    /// Parameter capping the sum of one enterprise's amounts from projects dated in one calendar
    /// year; above it each is reduced pro rata.
    pub firm_cap_per_year: Option<Spanned<String>>,
    /// An "up to" amount that the bureau decides case by case.
    #[serde(default)]
    pub discretionary: bool,
}

/// One row of a tier table: reached when `when` holds, worth `amount` (万元).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierDoc {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub when: Spanned<String>,
    /// Absent when the source gives no figure for the tier (the decision then says so).
    pub amount: Option<Spanned<String>>,
}

/// A case the document must compute as written; run by `gusu policy test` and the test command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDoc {
    pub name: String,
    /// The calculation date for the enterprise's own (projectless) decisions.
    pub date: Option<String>,
    /// Other policies of the library decided with this one (to test stacking).
    #[serde(default)]
    pub with: Vec<String>,
    pub enterprise: TestEnterprise,
    #[serde(default)]
    pub designations: Option<Vec<TestDesignation>>,
    #[serde(default)]
    pub projects: Vec<TestProject>,
    pub expect: Vec<TestExpect>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEnterprise {
    pub division: Option<u32>,
    pub established: Option<String>,
    #[serde(default = "default_district")]
    pub district: String,
    pub above_scale: Option<bool>,
    #[serde(default)]
    pub years: Vec<super::facts::YearFacts>,
}

fn default_district() -> String {
    "320505".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDesignation {
    pub designation: String,
    pub level: String,
    pub recognised: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestProject {
    pub id: String,
    pub kind: Option<String>,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestExpect {
    /// The project decided; absent for the enterprise's own decision.
    pub project: Option<String>,
    /// The policy, when the case's library holds more than one (stacking cases).
    pub policy: Option<String>,
    pub status: String,
    #[serde(default)]
    pub version: String,
    pub amount: Option<f64>,
    #[serde(default)]
    pub capped: bool,
    #[serde(default)]
    pub unknown_facts: Vec<String>,
    /// The reasons, when the case checks them (failed or unknown conditions, caps are not).
    pub reasons: Option<Vec<String>>,
    /// The caps that bound, when the case checks them.
    pub caps: Option<Vec<String>>,
    /// How the decision says it stacks (`unknown`, or `group:rule`), when the case checks it.
    pub stacking: Option<String>,
}
