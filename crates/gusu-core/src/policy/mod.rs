//! The policy calculator (政策计算器): support policies as dated rule documents, and the engine
//! that says for each enterprise and project whether it qualifies, for how much, and why.
//!
//! Pure: facts in, decisions out. Conditions are three-valued: a blank fact makes a condition
//! unknown, never false, and the decision then names the facts to supply. All conditions true is
//! `eligible`, any false `not_eligible`, otherwise `needs_information`; only eligible decisions
//! carry an amount, and a project that needs information counts toward no cap.

pub mod cases;
pub mod document;
pub mod engine;
pub mod facts;
pub mod formula;
mod load;
pub mod simulate;

use chrono::NaiveDate;
use serde::Serialize;

pub use cases::run_cases;
use document::PolicyDocument;
pub use engine::{
    Calculation, ConditionTrace, Coverage, Decision, Eligible, ParameterTrace, Status, TierTrace,
    Truth, Verdict, Why, decide_projects,
};
pub use facts::{Designation, EnterpriseFacts, Fact, FactType, ProjectFacts, YearFacts};
use formula::Formula;

/// The policies shipped with gusu (`rules/policies/`); a directory given at run time overrides
/// them by id.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "changzhou-equipment-investment-award.toml",
        include_str!("../../../../rules/policies/changzhou-equipment-investment-award.toml"),
    ),
    (
        "changzhou-honours-award.toml",
        include_str!("../../../../rules/policies/changzhou-honours-award.toml"),
    ),
    (
        "jiangsu-manufacturing-loan-interest.toml",
        include_str!("../../../../rules/policies/jiangsu-manufacturing-loan-interest.toml"),
    ),
    (
        "jiangsu-producer-service-loan-interest.toml",
        include_str!("../../../../rules/policies/jiangsu-producer-service-loan-interest.toml"),
    ),
    (
        "kunshan-zgsz-large-investment-award.toml",
        include_str!("../../../../rules/policies/kunshan-zgsz-large-investment-award.toml"),
    ),
    (
        "sip-equipment-investment-support.toml",
        include_str!("../../../../rules/policies/sip-equipment-investment-support.toml"),
    ),
    (
        "sip-tech-credit-interest.toml",
        include_str!("../../../../rules/policies/sip-tech-credit-interest.toml"),
    ),
    (
        "suzhou-d-class-electricity-surcharge.toml",
        include_str!("../../../../rules/policies/suzhou-d-class-electricity-surcharge.toml"),
    ),
    (
        "suzhou-innovation-carrier-award.toml",
        include_str!("../../../../rules/policies/suzhou-innovation-carrier-award.toml"),
    ),
    (
        "suzhou-major-project-equipment.toml",
        include_str!("../../../../rules/policies/suzhou-major-project-equipment.toml"),
    ),
    (
        "suzhou-smart-demonstration-award.toml",
        include_str!("../../../../rules/policies/suzhou-smart-demonstration-award.toml"),
    ),
    (
        "suzhou-special-fund-class-gating.toml",
        include_str!("../../../../rules/policies/suzhou-special-fund-class-gating.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-changshu.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-changshu.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-gusu.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-gusu.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-huqiu.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-huqiu.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-kunshan.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-kunshan.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-sip.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-sip.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-taicang.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-taicang.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-wujiang.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-wujiang.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-wuzhong.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-wuzhong.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-xiangcheng.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-xiangcheng.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest-zhangjiagang.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest-zhangjiagang.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest.toml"),
    ),
    (
        "xiangcheng-grant-class-gating.toml",
        include_str!("../../../../rules/policies/xiangcheng-grant-class-gating.toml"),
    ),
    (
        "yangzhou-etdz-smart-benchmark-award.toml",
        include_str!("../../../../rules/policies/yangzhou-etdz-smart-benchmark-award.toml"),
    ),
];

/// Designations a file may name: the key, then the Chinese names offices write.
pub const DESIGNATIONS: &[(&str, &[&str])] = &[
    ("innovative_sme", &["创新型中小企业"]),
    ("zjtx", &["专精特新", "专精特新中小企业", "专精特新企业"]),
    (
        "little_giant",
        &[
            "小巨人",
            "专精特新小巨人",
            "专精特新“小巨人”企业",
            "专精特新小巨人企业",
        ],
    ),
    ("high_tech", &["高新技术企业", "高企"]),
    ("single_champion", &["单项冠军", "制造业单项冠军"]),
    ("green_factory", &["绿色工厂"]),
    (
        "smart_workshop",
        &["智能制造示范车间", "智能车间", "示范智能车间"],
    ),
    (
        "smart_factory",
        &["智能制造示范工厂", "智能工厂", "示范智能工厂"],
    ),
    ("tech_center", &["企业技术中心"]),
    ("nzc_factory", &["近零碳工厂"]),
    ("green_supply_chain", &["绿色供应链管理企业", "绿色供应链"]),
    ("lighthouse_factory", &["灯塔工厂"]),
    (
        "smart_benchmark",
        &["智能制造标杆", "数字领航", "智改数转网联标杆"],
    ),
    ("smart_scenario", &["智能制造优秀场景"]),
    ("factory_5g", &["5G工厂", "5G 工厂"]),
    ("industrial_internet_benchmark", &["工业互联网标杆工厂"]),
    ("quality_benchmark", &["质量标杆"]),
    ("tech_innovation_demo", &["技术创新示范企业"]),
    ("industrial_design_center", &["工业设计中心"]),
    ("innovation_center", &["制造业创新中心"]),
    ("tech_sme", &["科技型中小企业"]),
    ("gazelle", &["瞪羚企业", "瞪羚"]),
    ("unicorn", &["独角兽企业", "独角兽"]),
    ("cmmm", &["智能制造能力成熟度", "CMMM"]),
];

/// Levels of a designation.
pub const LEVELS: &[(&str, &[&str])] = &[
    ("city", &["市级", "市"]),
    ("provincial", &["省级", "省"]),
    ("national", &["国家级", "国家"]),
    // Assessed levels (智能制造能力成熟度 GB/T 39116: 一级 … 五级).
    ("level1", &["一级"]),
    ("level2", &["二级"]),
    ("level3", &["三级"]),
    ("level4", &["四级"]),
    ("level5", &["五级"]),
];

/// Kinds of project.
pub const PROJECT_KINDS: &[(&str, &[&str])] = &[
    ("new_build", &["新建"]),
    ("expansion", &["扩建", "增资扩产"]),
    (
        "smart_transformation",
        &["智能化改造", "智改数转", "智能化改造和数字化转型"],
    ),
    ("upgrade", &["技术改造", "技改", "改造升级"]),
    ("innovation_carrier", &["创新载体"]),
    ("policy_finance_tool", &["新型政策性金融工具"]),
    ("working_capital", &["流动资金", "流动资金贷款"]),
    ("other", &["其他"]),
];

/// The key a word of `vocabulary` names (its key in any letter case, or a Chinese name).
pub fn vocabulary_key(vocabulary: &[(&'static str, &[&str])], word: &str) -> Option<&'static str> {
    let w = word.trim();
    vocabulary
        .iter()
        .find(|(key, names)| key.eq_ignore_ascii_case(w) || names.contains(&w))
        .map(|(key, _)| *key)
}

/// A rule document that cannot be loaded, with where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A dated series: the value in force on a date is the last whose date is on or before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    pub name: String,
    pub unit: String,
    pub article: String,
    pub confidence: String,
    pub illustrative: bool,
    pub values: Vec<(NaiveDate, f64)>,
}

impl Parameter {
    pub fn at(&self, date: NaiveDate) -> Option<f64> {
        self.dated(date).map(|(_, v)| v)
    }

    /// The value in force on `date` with the date it took effect.
    pub fn dated(&self, date: NaiveDate) -> Option<(NaiveDate, f64)> {
        self.values
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .copied()
    }
}

/// A fact the document derives from others.
#[derive(Debug, Clone)]
pub struct Derived {
    pub name: String,
    pub formula: Formula,
    pub article: String,
}

/// A condition of a version. Conditions are kept flat: a group (`any`) lists its members by
/// index, so a decision's outcomes are one small array.
#[derive(Debug, Clone)]
pub struct Condition {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub confidence: String,
    pub test: ConditionTest,
}

#[derive(Debug, Clone)]
pub enum ConditionTest {
    When(Formula),
    /// Holds when any member holds (indices into the version's conditions).
    Any(Vec<u16>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMode {
    /// The best tier reached only.
    Highest,
    /// Every tier reached adds.
    Cumulative,
}

/// A row of a tier table.
#[derive(Debug, Clone)]
pub struct Tier {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub article: String,
    pub when: Formula,
    /// `None` when the source gives no figure for the tier.
    pub amount: Option<Formula>,
}

#[derive(Debug, Clone)]
pub struct Amount {
    /// `None` with no tiers: the amount is not published (the decision says so).
    pub formula: Option<Formula>,
    pub tiers: Vec<Tier>,
    pub tier_mode: TierMode,
    pub article: String,
    /// Parameter or derived fact capping each decision's amount.
    pub project_cap: Option<formula::Name>,
    /// Parameter (index) capping one enterprise's amounts of one calendar year.
    pub firm_cap_per_year: Option<u16>,
    pub discretionary: bool,
}

impl Amount {
    pub fn published(&self) -> bool {
        self.formula.is_some() || !self.tiers.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Version {
    pub id: String,
    pub valid_from: NaiveDate,
    /// Inclusive; the day before the next version, or the document's last day, or open.
    pub valid_to: Option<NaiveDate>,
    pub document: String,
    pub published: String,
    pub confidence: String,
    /// Every condition, members of groups included.
    pub conditions: Vec<Condition>,
    /// The conditions that must all hold (indices; group members are not among them).
    pub top: Vec<u16>,
    pub amount: Amount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Project,
    Enterprise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The enterprise receives the amount.
    Support,
    /// The enterprise pays it (a surcharge).
    Charge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackRule {
    Highest,
    Exclusive,
    CumulativeCap,
    /// The sources say the group's amounts add up.
    Cumulative,
}

impl StackRule {
    pub fn key(self) -> &'static str {
        match self {
            StackRule::Highest => "highest",
            StackRule::Exclusive => "exclusive",
            StackRule::CumulativeCap => "cumulative_cap",
            StackRule::Cumulative => "cumulative",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Stacking {
    pub group: String,
    pub rule: StackRule,
    /// The parameter (index) capping a `cumulative_cap` group.
    pub cap: Option<u16>,
    pub article: String,
}

/// A loaded policy: every condition and formula compiled once.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub issuer: String,
    pub subject: Subject,
    pub delivery: String,
    pub effect: Effect,
    pub confidence: String,
    pub region: String,
    pub evidence: Vec<String>,
    /// `None` when the sources say nothing of combining it with others.
    pub stacking: Option<Stacking>,
    /// How a simulated budget ceiling is shared (pro rata unless the document names a ranking).
    pub budget_rule: simulate::BudgetRule,
    /// In document order; computed in `derived_order`, each after what it reads.
    pub derived: Vec<Derived>,
    pub derived_order: Vec<u16>,
    pub parameters: Vec<Parameter>,
    pub versions: Vec<Version>,
    pub file: String,
    pub document: PolicyDocument,
}

/// What changed from one version to the next: the conditions added and dropped (by id), the
/// parameters whose value on the new version's first day differs from the old one's, the
/// amount's formula or tiers when they differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionDifference {
    pub from: String,
    pub to: String,
    pub conditions_added: Vec<String>,
    pub conditions_dropped: Vec<String>,
    /// (parameter, value under the old version, value under the new).
    pub parameters_changed: Vec<(String, Option<f64>, Option<f64>)>,
    pub amount_changed: bool,
}

impl Policy {
    /// The differences between each version and the next.
    pub fn differences(&self) -> Vec<VersionDifference> {
        self.versions
            .windows(2)
            .map(|w| {
                let (old, new) = (&w[0], &w[1]);
                let ids = |v: &Version| -> Vec<String> {
                    v.conditions.iter().map(|c| c.id.clone()).collect()
                };
                let (a, b) = (ids(old), ids(new));
                let amount = |v: &Version| -> Vec<String> {
                    let mut parts: Vec<String> = v
                        .amount
                        .formula
                        .iter()
                        .map(|f| f.source().to_string())
                        .collect();
                    parts.extend(v.amount.tiers.iter().map(|t| t.when.source().to_string()));
                    parts
                };
                VersionDifference {
                    from: old.id.clone(),
                    to: new.id.clone(),
                    conditions_added: b.iter().filter(|c| !a.contains(c)).cloned().collect(),
                    conditions_dropped: a.iter().filter(|c| !b.contains(c)).cloned().collect(),
                    parameters_changed: self
                        .parameters
                        .iter()
                        .filter_map(|p| {
                            let (x, y) = (p.at(old.valid_from), p.at(new.valid_from));
                            (x != y).then(|| (p.name.clone(), x, y))
                        })
                        .collect(),
                    amount_changed: amount(old) != amount(new)
                        || old.amount.project_cap != new.amount.project_cap
                        || old.amount.firm_cap_per_year != new.amount.firm_cap_per_year,
                }
            })
            .collect()
    }

    /// The version in force on `date`.
    pub fn version_on(&self, date: NaiveDate) -> Option<&Version> {
        self.version_index(date).map(|i| &self.versions[i])
    }

    pub fn version_index(&self, date: NaiveDate) -> Option<usize> {
        self.versions
            .iter()
            .rposition(|v| v.valid_from <= date && v.valid_to.is_none_or(|t| date <= t))
    }

    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Holds in the enterprise's district (a Suzhou award is nothing to a Wuxi firm).
    pub fn covers(&self, district: &str) -> bool {
        district.starts_with(&self.region)
    }
}

/// The policies in force: the shipped ones, or those of a directory.
#[derive(Debug, Clone, Default)]
pub struct PolicyLibrary {
    pub policies: Vec<Policy>,
}

impl PolicyLibrary {
    pub fn embedded() -> Result<PolicyLibrary, PolicyError> {
        let mut policies = EMBEDDED
            .iter()
            .map(|(file, text)| Policy::from_toml(text, &format!("rules/policies/{file}")))
            .collect::<Result<Vec<_>, _>>()?;
        policies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(PolicyLibrary { policies })
    }

    /// The shipped policies with those of `files` (name, text) replacing them by id or added.
    pub fn with_files(files: &[(String, String)]) -> Result<PolicyLibrary, PolicyError> {
        let mut library = PolicyLibrary::embedded()?;
        for (file, text) in files {
            let policy = Policy::from_toml(text, file)?;
            library.policies.retain(|p| p.id != policy.id);
            library.policies.push(policy);
        }
        library.policies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(library)
    }

    /// This library with the documents of `files` (name, text) replacing its policies by id or
    /// added, in order (a later one of the same id wins).
    pub fn overlay(&self, files: &[(String, String)]) -> Result<PolicyLibrary, PolicyError> {
        let mut library = self.clone();
        for (file, text) in files {
            let policy = Policy::from_toml(text, file)?;
            library.policies.retain(|p| p.id != policy.id);
            library.policies.push(policy);
        }
        library.policies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(library)
    }

    /// The text of a shipped document by policy id.
    pub fn shipped_text(id: &str) -> Option<&'static str> {
        EMBEDDED
            .iter()
            .find(|(file, _)| file.strip_suffix(".toml") == Some(id))
            .map(|(_, text)| *text)
    }

    pub fn get(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests;
