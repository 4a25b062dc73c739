//! The policy calculator (政策计算器): support policies as dated rule documents, and the engine
//! that says for each enterprise and project whether it qualifies, for how much, and why.
//!
//! Pure: facts in, decisions out. Conditions are three-valued: a blank fact makes a condition
//! unknown, never false, and the decision then names the facts to supply. All conditions true is
//! `eligible`, any false `not_eligible`, otherwise `needs_information`; only eligible decisions
//! carry an amount, and a project that needs information counts toward no cap.

pub mod document;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::expr::{Bindings, Expr};
use document::{ConditionDoc, PolicyDocument};

/// The policies shipped with gusu (`rules/policies/`); a directory given at run time overrides
/// them by id.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "jiangsu-manufacturing-loan-interest.toml",
        include_str!("../../../../rules/policies/jiangsu-manufacturing-loan-interest.toml"),
    ),
    (
        "suzhou-zgsz-loan-interest.toml",
        include_str!("../../../../rules/policies/suzhou-zgsz-loan-interest.toml"),
    ),
    (
        "suzhou-major-project-equipment.toml",
        include_str!("../../../../rules/policies/suzhou-major-project-equipment.toml"),
    ),
];

/// The facts a condition or formula may read, with what they are.
pub const FACTS: &[(&str, &str)] = &[
    (
        "division",
        "the enterprise's GB/T 4754 division, as a number (13–43 is manufacturing)",
    ),
    (
        "established",
        "the enterprise's date of establishment, YYYY-MM-DD",
    ),
    ("district", "the enterprise's district code"),
    (
        "held",
        "designations held on the date, as `designation` and `designation:level` (e.g. 'zjtx:provincial')",
    ),
    (
        "kind",
        "the project's kind (new_build, expansion, smart_transformation, …)",
    ),
    (
        "date",
        "the project's loan date (or filing date), YYYY-MM-DD",
    ),
    ("loan_10k_yuan", "the project's loan, 万元"),
    (
        "equipment_loan_10k_yuan",
        "the equipment (and software) part of the loan, 万元",
    ),
    (
        "rate_over_lpr_bp",
        "the loan's rate above the LPR, basis points",
    ),
    ("is_new", "the project is a new project"),
    (
        "fixed_asset_investment_10k_yuan",
        "the project's fixed-asset investment, 万元",
    ),
    (
        "equipment_investment_10k_yuan",
        "the project's equipment investment, 万元",
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
];

/// Levels of a designation.
pub const LEVELS: &[(&str, &[&str])] = &[
    ("city", &["市级", "市"]),
    ("provincial", &["省级", "省"]),
    ("national", &["国家级", "国家"]),
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
        self.values
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .map(|(_, v)| *v)
    }
}

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
    When(Expr),
    Any(Vec<Condition>),
}

#[derive(Debug, Clone)]
pub struct Amount {
    pub formula: Expr,
    pub article: String,
    pub project_cap: Option<String>,
    pub firm_cap_per_year: Option<String>,
    pub discretionary: bool,
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
    pub conditions: Vec<Condition>,
    pub amount: Amount,
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
    pub confidence: String,
    pub region: String,
    pub stacking: String,
    pub parameters: Vec<Parameter>,
    pub versions: Vec<Version>,
    pub file: String,
    pub document: PolicyDocument,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Project,
    Enterprise,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

impl Policy {
    /// Parses and checks a policy document.
    pub fn from_toml(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let err = |offset: usize, message: String| PolicyError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let doc: PolicyDocument = toml::from_str(text).map_err(|e| {
            err(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_string(),
            )
        })?;
        let spanned_date = |s: &toml::Spanned<String>| {
            date(s.get_ref()).ok_or_else(|| {
                err(
                    s.span().start,
                    format!("`{}` is not a date (YYYY-MM-DD)", s.get_ref()),
                )
            })
        };
        let h = &doc.policy;
        let subject = match h.subject.as_str() {
            "project" => Subject::Project,
            "enterprise" => Subject::Enterprise,
            other => {
                return Err(err(
                    0,
                    format!("subject `{other}`: expected `project` or `enterprise`"),
                ));
            }
        };
        if !matches!(h.delivery.as_str(), "apply" | "automatic") {
            return Err(err(
                0,
                format!("delivery `{}`: expected `apply` or `automatic`", h.delivery),
            ));
        }
        let mut parameters = Vec::new();
        for p in &doc.parameter {
            let mut values = Vec::new();
            for v in &p.values {
                values.push((spanned_date(&v.from)?, v.value));
            }
            if values.is_empty() || values.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(err(
                    p.name.span().start,
                    format!(
                        "parameter `{}`: values must be given oldest first, one per date",
                        p.name.get_ref()
                    ),
                ));
            }
            if FACTS.iter().any(|(f, _)| f == p.name.get_ref()) {
                return Err(err(
                    p.name.span().start,
                    format!("parameter `{}` has the name of a fact", p.name.get_ref()),
                ));
            }
            parameters.push(Parameter {
                name: p.name.get_ref().clone(),
                unit: p.unit.clone(),
                article: p.article.clone(),
                confidence: p.confidence.clone(),
                illustrative: p.illustrative,
                values,
            });
        }
        let known = |name: &str| {
            FACTS.iter().any(|(f, _)| *f == name) || parameters.iter().any(|p| p.name == name)
        };
        let compile = |s: &toml::Spanned<String>| -> Result<Expr, PolicyError> {
            let expr =
                Expr::compile(s.get_ref()).map_err(|e| err(s.span().start, e.to_string()))?;
            if let Some(unknown) = expr.variables().iter().find(|v| !known(v)) {
                return Err(err(
                    s.span().start,
                    format!(
                        "`{}` reads `{unknown}`, which is neither a fact gusu knows nor a parameter of the document",
                        s.get_ref()
                    ),
                ));
            }
            Ok(expr)
        };
        let parameter = |s: &toml::Spanned<String>| -> Result<String, PolicyError> {
            if parameters.iter().any(|p| p.name == *s.get_ref()) {
                Ok(s.get_ref().clone())
            } else {
                Err(err(
                    s.span().start,
                    format!("no parameter `{}` in the document", s.get_ref()),
                ))
            }
        };
        fn condition(
            c: &ConditionDoc,
            compile: &dyn Fn(&toml::Spanned<String>) -> Result<Expr, PolicyError>,
            file: &str,
        ) -> Result<Condition, PolicyError> {
            let test = match (&c.when, c.any.is_empty()) {
                (Some(w), true) => ConditionTest::When(compile(w)?),
                (None, false) => ConditionTest::Any(
                    c.any
                        .iter()
                        .map(|c| condition(c, compile, file))
                        .collect::<Result<_, _>>()?,
                ),
                _ => {
                    // serde keeps no position for a table: the line of the version is given.
                    return Err(PolicyError {
                        file: file.to_string(),
                        line: 0,
                        message: format!(
                            "condition `{}`: give either `when` or `any`, not both or neither",
                            c.id
                        ),
                    });
                }
            };
            Ok(Condition {
                id: c.id.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                article: c.article.clone(),
                confidence: c.confidence.clone(),
                test,
            })
        }
        let mut versions: Vec<Version> = Vec::new();
        for v in &doc.version {
            let valid_from = spanned_date(&v.valid_from)?;
            let valid_to = v.valid_to.as_ref().map(spanned_date).transpose()?;
            if let Some(prev) = versions.last()
                && prev.valid_from >= valid_from
            {
                return Err(err(
                    v.valid_from.span().start,
                    format!("version `{}` must start after the one before", v.id),
                ));
            }
            let conditions = v
                .condition
                .iter()
                .map(|c| condition(c, &compile, file))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|mut e| {
                    if e.line == 0 {
                        e.line = line_of(text, v.valid_from.span().start);
                    }
                    e
                })?;
            let amount = Amount {
                formula: compile(&v.amount.formula)?,
                article: v.amount.article.clone(),
                project_cap: v.amount.project_cap.as_ref().map(parameter).transpose()?,
                firm_cap_per_year: v
                    .amount
                    .firm_cap_per_year
                    .as_ref()
                    .map(parameter)
                    .transpose()?,
                discretionary: v.amount.discretionary,
            };
            versions.push(Version {
                id: v.id.clone(),
                valid_from,
                valid_to,
                document: v.document.clone(),
                published: v.published.clone(),
                confidence: v.confidence.clone(),
                conditions,
                amount,
            });
        }
        if versions.is_empty() {
            return Err(err(0, "a policy needs at least one [[version]]".into()));
        }
        // A version ends the day before the next begins.
        for i in 0..versions.len().saturating_sub(1) {
            let next = versions[i + 1].valid_from;
            let end = next.pred_opt().unwrap_or(next);
            versions[i].valid_to = Some(versions[i].valid_to.map_or(end, |t| t.min(end)));
        }
        Ok(Policy {
            id: h.id.clone(),
            title_zh: h.title_zh.clone(),
            title_en: h.title_en.clone(),
            issuer: h.issuer.clone(),
            subject,
            delivery: h.delivery.clone(),
            confidence: h.confidence.clone(),
            region: h.region.clone(),
            stacking: h.stacking.clone(),
            parameters,
            versions,
            file: file.to_string(),
            document: doc,
        })
    }

    /// The version in force on `date`.
    pub fn version_on(&self, date: NaiveDate) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.valid_from <= date && v.valid_to.is_none_or(|t| date <= t))
    }

    fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// The policies in force: the shipped ones, or those of a directory.
#[derive(Debug, Clone, Default)]
pub struct PolicyLibrary {
    pub policies: Vec<Policy>,
}

impl PolicyLibrary {
    pub fn embedded() -> Result<PolicyLibrary, PolicyError> {
        let policies = EMBEDDED
            .iter()
            .map(|(file, text)| Policy::from_toml(text, &format!("rules/policies/{file}")))
            .collect::<Result<Vec<_>, _>>()?;
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
}

// ----------------------------------------------------------------------------------- facts

/// What gusu knows of an enterprise for the calculator.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseFacts {
    pub uscc: String,
    pub district: String,
    /// GB/T 4754 division number (13–43 manufacturing).
    pub division: Option<u32>,
    pub established: Option<NaiveDate>,
    /// `None` when no designations are known at all (no file given): conditions on them are
    /// unknown. An enterprise absent from a given file holds none.
    pub designations: Option<Vec<Designation>>,
}

/// A designation (专精特新, 小巨人, 高新技术企业 …) with its dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Designation {
    pub designation: String,
    pub level: String,
    pub recognised: NaiveDate,
    pub expires: Option<NaiveDate>,
}

impl Designation {
    /// Holds on a date when recognised on or before it and not expired before it.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.recognised <= date && self.expires.is_none_or(|e| date <= e)
    }
}

/// A loan or investment project; blank cells are unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectFacts {
    pub project_id: String,
    pub uscc: String,
    pub kind: Option<String>,
    pub date: Option<NaiveDate>,
    pub loan_10k_yuan: Option<f64>,
    pub equipment_loan_10k_yuan: Option<f64>,
    pub rate_over_lpr_bp: Option<f64>,
    pub is_new: Option<bool>,
    pub fixed_asset_investment_10k_yuan: Option<f64>,
    pub equipment_investment_10k_yuan: Option<f64>,
}

/// The facts of a project and its enterprise on the project's date, the same for every policy.
fn fact_bindings(e: &EnterpriseFacts, p: &ProjectFacts, date: NaiveDate) -> Bindings {
    let mut b = Bindings::default();
    let held: Option<Vec<String>> = e.designations.as_ref().map(|ds| {
        ds.iter()
            .filter(|d| d.holds_on(date))
            .flat_map(|d| {
                [
                    d.designation.clone(),
                    format!("{}:{}", d.designation, d.level),
                ]
            })
            .collect()
    });
    let date_text = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    b.number("division", e.division.map(f64::from))
        .maybe_text("established", date_text(e.established).as_deref())
        .text("district", &e.district)
        .maybe_texts("held", held.as_deref())
        .maybe_text("kind", p.kind.as_deref())
        .maybe_text("date", date_text(p.date).as_deref())
        .number("loan_10k_yuan", p.loan_10k_yuan)
        .number("equipment_loan_10k_yuan", p.equipment_loan_10k_yuan)
        .number("rate_over_lpr_bp", p.rate_over_lpr_bp)
        .maybe_boolean("is_new", p.is_new)
        .number(
            "fixed_asset_investment_10k_yuan",
            p.fixed_asset_investment_10k_yuan,
        )
        .number(
            "equipment_investment_10k_yuan",
            p.equipment_investment_10k_yuan,
        );
    b
}

// ---------------------------------------------------------------------------------- engine

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

/// One condition as decided, with the facts it read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionTrace {
    pub id: String,
    pub article: String,
    pub outcome: Truth,
    /// The facts and parameters it read, as the condition saw them (`null` when unknown).
    pub facts: Vec<(String, String)>,
}

/// One policy's decision for one project (or enterprise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub uscc: String,
    pub project_id: Option<String>,
    pub policy: String,
    /// Empty when no version covers the date.
    pub version: String,
    pub status: Status,
    /// 万元; only for eligible decisions.
    pub amount_10k_yuan: Option<f64>,
    /// The amount before any cap.
    pub uncapped_10k_yuan: Option<f64>,
    /// A cap (project or firm) lowered the amount.
    pub capped: bool,
    /// Which caps bound: `project_cap`, `firm_cap_per_year`.
    pub caps: Vec<String>,
    pub discretionary: bool,
    /// Facts to supply for a decision that needs information.
    pub unknown_facts: Vec<String>,
    /// Conditions that failed (not eligible) or are unknown (needs information).
    pub reasons: Vec<String>,
    pub trace: Vec<ConditionTrace>,
}

struct Outcome {
    truth: Truth,
    unknown_facts: Vec<String>,
}

fn decide(
    c: &Condition,
    b: &Bindings,
    context: &cel::Context<'_, '_>,
    trace: &mut Vec<ConditionTrace>,
) -> Outcome {
    match &c.test {
        ConditionTest::When(expr) => {
            let vars = expr.variables();
            let unknown: Vec<String> = vars.iter().filter(|v| b.is_unknown(v)).cloned().collect();
            let truth = if !unknown.is_empty() {
                Truth::Unknown
            } else {
                // A condition that cannot be evaluated on known facts (a type slip in the
                // document) is not a yes: it is reported as unknown with its facts.
                match expr.eval_bool_in(context) {
                    Ok(true) => Truth::True,
                    Ok(false) => Truth::False,
                    Err(_) => Truth::Unknown,
                }
            };
            trace.push(ConditionTrace {
                id: c.id.clone(),
                article: c.article.clone(),
                outcome: truth,
                facts: vars.iter().map(|v| (v.clone(), b.show(v))).collect(),
            });
            Outcome {
                truth,
                unknown_facts: unknown,
            }
        }
        ConditionTest::Any(options) => {
            let mut unknown_facts = Vec::new();
            let mut truth = Truth::False;
            for o in options {
                let out = decide(o, b, context, trace);
                match out.truth {
                    Truth::True => truth = Truth::True,
                    Truth::Unknown if truth != Truth::True => {
                        truth = Truth::Unknown;
                        unknown_facts.extend(out.unknown_facts);
                    }
                    _ => {}
                }
            }
            if truth == Truth::True {
                unknown_facts.clear();
            }
            trace.push(ConditionTrace {
                id: c.id.clone(),
                article: c.article.clone(),
                outcome: truth,
                facts: Vec::new(),
            });
            Outcome {
                truth,
                unknown_facts,
            }
        }
    }
}

/// A project's facts, bound once and shared by every policy decided for it.
struct ProjectScope<'r> {
    facts: Bindings,
    context: cel::Context<'r, 'static>,
}

/// The decision of one project policy for one project, before the firm caps. `scope` is `None`
/// when the project's date is unknown.
fn decide_project(
    policy: &Policy,
    e: &EnterpriseFacts,
    p: &ProjectFacts,
    scope: Option<&ProjectScope<'_>>,
) -> Decision {
    let mut d = Decision {
        uscc: e.uscc.clone(),
        project_id: Some(p.project_id.clone()),
        policy: policy.id.clone(),
        version: String::new(),
        status: Status::NotEligible,
        amount_10k_yuan: None,
        uncapped_10k_yuan: None,
        capped: false,
        caps: Vec::new(),
        discretionary: false,
        unknown_facts: Vec::new(),
        reasons: Vec::new(),
        trace: Vec::new(),
    };
    // A policy holds in its own jurisdiction only (a Suzhou award is nothing to a Wuxi firm).
    if !e.district.starts_with(&policy.region) {
        d.reasons.push("outside_region".into());
        return d;
    }
    let (Some(date), Some(scope)) = (p.date, scope) else {
        d.status = Status::NeedsInformation;
        d.unknown_facts.push("date".into());
        d.reasons.push("date".into());
        return d;
    };
    let Some(version) = policy.version_on(date) else {
        d.reasons.push("no_version_on_date".into());
        return d;
    };
    d.version = version.id.clone();
    d.discretionary = version.amount.discretionary;
    // The policy's parameters on the date, over the project's facts.
    let mut b = scope.facts.clone();
    let mut context = scope.context.new_inner_scope();
    for param in &policy.parameters {
        let value = param.at(date);
        b.named_number(param.name.clone(), value);
        match value {
            Some(v) => context.add_variable_from_value(param.name.as_str(), v),
            None => context.add_variable_from_value(param.name.as_str(), cel::Value::Null),
        }
    }
    let (mut failed, mut unknown) = (Vec::new(), Vec::new());
    for c in &version.conditions {
        let out = decide(c, &b, &context, &mut d.trace);
        match out.truth {
            Truth::False => failed.push(c.id.clone()),
            Truth::Unknown => {
                unknown.push(c.id.clone());
                d.unknown_facts.extend(out.unknown_facts);
            }
            Truth::True => {}
        }
    }
    if !failed.is_empty() {
        // Not eligible whatever the unknown facts are: only the failures are reasons.
        d.status = Status::NotEligible;
        d.unknown_facts.clear();
        d.reasons = failed;
        return d;
    }
    d.reasons = unknown;
    // The amount's own facts must be known too.
    let formula = &version.amount.formula;
    let missing: Vec<String> = formula
        .variables()
        .iter()
        .filter(|v| b.is_unknown(v))
        .cloned()
        .collect();
    if !d.reasons.is_empty() || !missing.is_empty() {
        d.status = Status::NeedsInformation;
        if !missing.is_empty() {
            d.reasons.push("amount".into());
        }
        d.unknown_facts.extend(missing);
        d.unknown_facts.sort();
        d.unknown_facts.dedup();
        return d;
    }
    let Ok(mut amount) = formula.eval_number_in(&context) else {
        d.status = Status::NeedsInformation;
        d.reasons.push("amount".into());
        return d;
    };
    d.status = Status::Eligible;
    d.uncapped_10k_yuan = Some(amount);
    if let Some(cap) = version
        .amount
        .project_cap
        .as_deref()
        .and_then(|name| policy.parameter(name))
        .and_then(|p| p.at(date))
        && amount > cap
    {
        amount = cap;
        d.capped = true;
        d.caps.push("project_cap".into());
    }
    d.amount_10k_yuan = Some(amount);
    d
}

/// Every project policy of the library for every project, with the firm caps applied: for each
/// policy, enterprise and calendar year of the projects' dates, eligible amounts above the cap of
/// the latest version among those projects are reduced pro rata to sum to it.
pub fn decide_projects(
    library: &PolicyLibrary,
    enterprises: &BTreeMap<String, EnterpriseFacts>,
    projects: &[ProjectFacts],
) -> Vec<Decision> {
    let policies: Vec<&Policy> = library
        .policies
        .iter()
        .filter(|p| p.subject == Subject::Project)
        .collect();
    // The standard library once; each project a scope of it, each policy a scope of that.
    let root = cel::Context::default();
    let mut by_policy: Vec<Vec<Decision>> = policies
        .iter()
        .map(|_| Vec::with_capacity(projects.len()))
        .collect();
    for p in projects {
        let Some(e) = enterprises.get(&p.uscc) else {
            continue;
        };
        let scope = p.date.map(|date| {
            let facts = fact_bindings(e, p, date);
            let mut context = root.new_inner_scope();
            facts.add_to(&mut context);
            ProjectScope { facts, context }
        });
        for (policy, out) in policies.iter().zip(&mut by_policy) {
            out.push(decide_project(policy, e, p, scope.as_ref()));
        }
    }
    let mut out = Vec::with_capacity(by_policy.iter().map(Vec::len).sum());
    for (policy, mut decisions) in policies.into_iter().zip(by_policy) {
        apply_firm_caps(policy, &mut decisions, projects);
        out.append(&mut decisions);
    }
    out
}

fn apply_firm_caps(policy: &Policy, decisions: &mut [Decision], projects: &[ProjectFacts]) {
    let date_of: BTreeMap<&str, NaiveDate> = projects
        .iter()
        .filter_map(|p| Some((p.project_id.as_str(), p.date?)))
        .collect();
    // (enterprise, year) → indices of its eligible decisions.
    let mut groups: BTreeMap<(String, i32), Vec<usize>> = BTreeMap::new();
    for (i, d) in decisions.iter().enumerate() {
        if d.status != Status::Eligible {
            continue;
        }
        let Some(date) = d.project_id.as_deref().and_then(|id| date_of.get(id)) else {
            continue;
        };
        groups
            .entry((d.uscc.clone(), date.year()))
            .or_default()
            .push(i);
    }
    for members in groups.values() {
        // The cap of the latest version among the group's projects: the one of its latest date.
        let latest = members
            .iter()
            .filter_map(|&i| {
                decisions[i]
                    .project_id
                    .as_deref()
                    .and_then(|id| date_of.get(id))
            })
            .max()
            .copied();
        let Some(latest) = latest else { continue };
        let Some(version) = policy.version_on(latest) else {
            continue;
        };
        let Some(cap) = version
            .amount
            .firm_cap_per_year
            .as_deref()
            .and_then(|name| policy.parameter(name))
            .and_then(|p| p.at(latest))
        else {
            continue;
        };
        let sum: f64 = members
            .iter()
            .filter_map(|&i| decisions[i].amount_10k_yuan)
            .sum();
        if sum > cap {
            for &i in members {
                let d = &mut decisions[i];
                d.amount_10k_yuan = d.amount_10k_yuan.map(|a| a * cap / sum);
                d.capped = true;
                d.caps.push("firm_cap_per_year".into());
            }
        }
    }
}

// ------------------------------------------------------------------------------ test cases

/// Runs a policy's own test cases; returns one line per case that does not compute as written.
pub fn run_cases(policy: &Policy) -> Vec<String> {
    let one = PolicyLibrary {
        policies: vec![policy.clone()],
    };
    let day = |s: &str| date(s);
    let mut failures = Vec::new();
    for case in &policy.document.test {
        let fail = |m: String| format!("{} [{}]: {m}", policy.id, case.name);
        let e = EnterpriseFacts {
            uscc: "case".into(),
            district: case.enterprise.district.clone(),
            division: Some(case.enterprise.division),
            established: day(&case.enterprise.established),
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
        };
        let projects: Vec<ProjectFacts> = case
            .projects
            .iter()
            .map(|p| ProjectFacts {
                project_id: p.id.clone(),
                uscc: "case".into(),
                kind: p.kind.clone(),
                date: p.date.as_deref().and_then(day),
                loan_10k_yuan: p.loan_10k_yuan,
                equipment_loan_10k_yuan: p.equipment_loan_10k_yuan,
                rate_over_lpr_bp: p.rate_over_lpr_bp,
                is_new: p.is_new,
                fixed_asset_investment_10k_yuan: p.fixed_asset_investment_10k_yuan,
                equipment_investment_10k_yuan: p.equipment_investment_10k_yuan,
            })
            .collect();
        let enterprises = BTreeMap::from([("case".to_string(), e)]);
        let decisions = decide_projects(&one, &enterprises, &projects);
        for x in &case.expect {
            let Some(d) = decisions
                .iter()
                .find(|d| d.project_id.as_deref() == Some(x.project.as_str()))
            else {
                failures.push(fail(format!("no decision for project {}", x.project)));
                continue;
            };
            let amount_ok = match (x.amount, d.amount_10k_yuan) {
                (None, None) => true,
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                _ => false,
            };
            if d.status.key() != x.status
                || d.version != x.version
                || !amount_ok
                || d.capped != x.capped
                || (!x.unknown_facts.is_empty() && d.unknown_facts != x.unknown_facts)
            {
                failures.push(fail(format!(
                    "project {}: expected {} {} {:?} capped={} unknown={:?}, got {} {} {:?} capped={} unknown={:?} (reasons {:?})",
                    x.project,
                    x.status,
                    x.version,
                    x.amount,
                    x.capped,
                    x.unknown_facts,
                    d.status.key(),
                    d.version,
                    d.amount_10k_yuan,
                    d.capped,
                    d.unknown_facts,
                    d.reasons
                )));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests;
