//! The on-disk shape of a support policy (TOML). Strict like every rule document: an unknown key,
//! a bad date, a condition that reads a fact or parameter gusu does not know, or a formula that
//! does not parse is an error naming the file and line.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    pub policy: Header,
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
    /// Policies this one may not be combined with, when the sources say; `unknown` when they
    /// are silent (the calculator then says so instead of guessing).
    #[serde(default = "unknown")]
    pub stacking: String,
}

fn unknown() -> String {
    "unknown".to_string()
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
    /// CEL giving the amount in 万元 before caps.
    pub formula: Spanned<String>,
    pub article: String,
    /// Parameter capping each project's amount.
    pub project_cap: Option<Spanned<String>>,
    /// Parameter capping the sum of one enterprise's amounts from projects dated in one calendar
    /// year; above it each is reduced pro rata.
    pub firm_cap_per_year: Option<Spanned<String>>,
    /// An "up to" amount that the bureau decides case by case.
    #[serde(default)]
    pub discretionary: bool,
}

/// A case the document must compute as written; run by `gusu policy test` and the test command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDoc {
    pub name: String,
    pub enterprise: TestEnterprise,
    #[serde(default)]
    pub designations: Option<Vec<TestDesignation>>,
    pub projects: Vec<TestProject>,
    pub expect: Vec<TestExpect>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEnterprise {
    pub division: u32,
    pub established: String,
    #[serde(default = "default_district")]
    pub district: String,
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
    pub is_new: Option<bool>,
    pub fixed_asset_investment_10k_yuan: Option<f64>,
    pub equipment_investment_10k_yuan: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestExpect {
    pub project: String,
    pub status: String,
    #[serde(default)]
    pub version: String,
    pub amount: Option<f64>,
    #[serde(default)]
    pub capped: bool,
    #[serde(default)]
    pub unknown_facts: Vec<String>,
}
