//! Near-zero-carbon factory assessment (近零碳工厂; Suzhou 2023 and SIP 2026, docs/sources.md):
//! dated criteria documents (`rules/nzc/*.toml`, embedded) applied to an enterprise's evidence.
//! Each criterion comes out met, unmet or missing evidence, with what was seen; the offset ratio
//! is computed.
//!
//! Offset ratio = offsets retired for the assessment year (green electricity certificates, CCER
//! and other recognised credits, tCO₂) ÷ the base emissions (scope 1 + scope 2 of the base year,
//! or of the assessment year, as the document says).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A criteria document, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    pub name: String,
    pub version: String,
    /// The year the criteria were published for.
    pub year: i32,
    pub title_zh: String,
    pub title_en: String,
    pub confidence: String,
    pub source: String,
    /// The application's route, where the source gives one.
    #[serde(default)]
    pub route: Vec<String>,
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
}

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`. The rule's own
// variants refuse unknown keys, and they receive every key this struct does not take.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(flatten)]
    pub rule: Rule,
}

/// What a criterion asks for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// A yes/no fact the enterprise declares (and the reviewer checks).
    Flag { flag: String },
    /// Several such facts, all needed.
    Flags { flags: Vec<String> },
    /// Registered in a district whose code starts so.
    RegisteredIn { district_prefix: String },
    /// A certificate of each system, valid on the last day of the assessment year.
    ManagementSystems { systems: Vec<String> },
    /// Scope 1 + 2 emissions of the `years` years ending with the assessment year, each lower
    /// than the year before.
    EmissionsFalling { years: u32 },
    /// Offsets ÷ base emissions at least `min_ratio`.
    OffsetRatio {
        base: OffsetBase,
        #[serde(default)]
        base_year: Option<i32>,
        min_ratio: f64,
    },
    /// A green-factory title at this level or above.
    GreenFactory { min_level: GreenFactoryLevel },
    /// None of these incidents within `years` years ending with the assessment year.
    NoIncidents { years: u32, incidents: Vec<String> },
    /// Unit energy at or below the advanced value of its quota standard, where one applies.
    EnergyQuota,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetBase {
    /// A fixed base year (`base_year`).
    Year,
    /// The assessment year itself.
    AssessmentYear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GreenFactoryLevel {
    Municipal,
    Provincial,
    National,
}

/// An offset retired for a year.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Offset {
    /// green_certificate, ccer, or another recognised credit.
    pub kind: String,
    pub reference: String,
    pub amount_tco2: f64,
    pub retired_on: NaiveDate,
    pub for_year: i32,
}

/// The kinds of offset the published criteria name: green electricity certificates (绿证), CCER,
/// and other recognised credits ("other", which needs its reference to say which).
pub const OFFSET_KINDS: [&str; 3] = ["green_certificate", "ccer", "other"];

/// Something wrong with a recorded offset, naming it (1-based, in the order recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetProblem {
    pub offset: usize,
    pub reason: String,
    pub reason_zh: String,
}

/// The years of `evidence.emissions` that differ from `accounts` (gusu's own scope 1 + 2 by year)
/// or that the accounts do not have: what the applicant entered rather than took over.
pub fn entered_emission_years(evidence: &Evidence, accounts: &BTreeMap<i32, f64>) -> Vec<i32> {
    evidence
        .emissions
        .iter()
        .filter(|(year, value)| {
            accounts
                .get(year)
                .is_none_or(|a| (a - *value).abs() > 1e-9 * a.abs().max(1.0))
        })
        .map(|(year, _)| *year)
        .collect()
}

/// Checks the offsets an application records, before they count: a certificate listed twice
/// would count twice, a kind outside [`OFFSET_KINDS`] is not a recognised credit, an amount must
/// be a positive number of tCO₂, and a retirement can neither lie after `today` (it has not
/// happened) nor before the year it is claimed for began (the credit was retired for something
/// else).
pub fn offset_problems(evidence: &Evidence, today: NaiveDate) -> Vec<OffsetProblem> {
    let mut found = Vec::new();
    let mut seen: Vec<(&str, String)> = Vec::new();
    for (i, o) in evidence.offsets.iter().enumerate() {
        let n = i + 1;
        let mut problem = |reason: String, reason_zh: String| {
            found.push(OffsetProblem {
                offset: n,
                reason,
                reason_zh,
            });
        };
        if !OFFSET_KINDS.contains(&o.kind.as_str()) {
            problem(
                format!(
                    "kind '{}' is not one of {}",
                    o.kind,
                    OFFSET_KINDS.join(", ")
                ),
                format!(
                    "类型“{}”不是可认可的抵消（绿证、CCER 或其他认可的减排量）",
                    o.kind
                ),
            );
        }
        let reference = o.reference.trim().to_uppercase();
        if reference.is_empty() {
            problem(
                "the certificate or credit number is missing".into(),
                "缺少证书或减排量编号".into(),
            );
        } else if let Some(first) = seen
            .iter()
            .position(|(kind, r)| *kind == o.kind.as_str() && *r == reference)
        {
            problem(
                format!(
                    "{} {} is listed twice (also offset {})",
                    o.kind,
                    o.reference,
                    first + 1
                ),
                format!(
                    "{} {} 重复填报（与第 {} 条相同），只能计一次",
                    o.kind,
                    o.reference,
                    first + 1
                ),
            );
        }
        seen.push((o.kind.as_str(), reference));
        if !(o.amount_tco2.is_finite() && o.amount_tco2 > 0.0) {
            problem(
                format!("amount {} tCO₂ is not a positive number", o.amount_tco2),
                format!("抵消量 {} tCO₂ 应为正数", o.amount_tco2),
            );
        }
        if o.retired_on > today {
            problem(
                format!("retired on {} is after today ({today})", o.retired_on),
                format!("注销日期 {} 晚于今天（{today}）", o.retired_on),
            );
        }
        let year_start = NaiveDate::from_ymd_opt(o.for_year, 1, 1).unwrap_or(NaiveDate::MIN);
        if o.retired_on < year_start {
            problem(
                format!(
                    "retired on {}, before the year it is claimed for ({}) began",
                    o.retired_on, o.for_year
                ),
                format!(
                    "注销日期 {} 早于所抵消年度 {} 的开始",
                    o.retired_on, o.for_year
                ),
            );
        }
    }
    found
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// quality, environment, ohs, energy.
    pub system: String,
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub date: NaiveDate,
    pub kind: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyQuota {
    /// Whether a quota standard covers the enterprise's product.
    pub applicable: bool,
    #[serde(default)]
    pub standard: Option<String>,
    /// Unit energy and the standard's advanced value, same unit.
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub advanced: Option<f64>,
}

/// What an enterprise (or the bureau for it) recorded. Anything absent is missing evidence.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(default)]
    pub flags: BTreeMap<String, bool>,
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    /// Scope 1 + scope 2 emissions by year, tCO₂ (e.g. from `gusu carbon`).
    #[serde(default)]
    pub emissions: BTreeMap<i32, f64>,
    /// Years whose emissions the applicant entered instead of gusu's own accounts of the stored
    /// energy lines (or where the accounts have none): reviewers see them marked. Set by the
    /// platform when the evidence is saved, never taken from the applicant.
    #[serde(default)]
    pub emissions_entered: Vec<i32>,
    #[serde(default)]
    pub offsets: Vec<Offset>,
    #[serde(default)]
    pub green_factory: Option<GreenFactoryLevel>,
    /// Incidents recorded; `incidents_checked` says the record is complete (no entry then means
    /// none happened, rather than not reported).
    #[serde(default)]
    pub incidents: Vec<Incident>,
    #[serde(default)]
    pub incidents_checked: bool,
    #[serde(default)]
    pub energy_quota: Option<EnergyQuota>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    Unmet,
    MissingEvidence,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionResult {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub status: Status,
    /// What was seen or is missing, in plain words (English; codes and figures).
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// `name@version` of the criteria.
    pub criteria: String,
    pub assessment_year: i32,
    /// Offsets for the assessment year ÷ the base emissions of the first offset criterion.
    pub offset_ratio: Option<f64>,
    pub results: Vec<CriterionResult>,
}

impl Assessment {
    /// Every criterion met.
    pub fn passes(&self) -> bool {
        self.results.iter().all(|r| r.status == Status::Met)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CriteriaError {
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: criterion {id}: {message}")]
    Invalid {
        origin: String,
        id: String,
        message: String,
    },
}

impl Criteria {
    pub fn from_toml(text: &str, origin: &str) -> Result<Criteria, CriteriaError> {
        let c: Criteria = toml::from_str(text).map_err(|e| CriteriaError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for k in &c.criteria {
            let invalid = |message: &str| CriteriaError::Invalid {
                origin: origin.to_string(),
                id: k.id.clone(),
                message: message.to_string(),
            };
            match &k.rule {
                Rule::OffsetRatio {
                    base: OffsetBase::Year,
                    base_year: None,
                    ..
                } => return Err(invalid("base = \"year\" needs base_year")),
                Rule::OffsetRatio { min_ratio, .. } if min_ratio.is_nan() || *min_ratio <= 0.0 => {
                    return Err(invalid("min_ratio must be above 0"));
                }
                Rule::EmissionsFalling { years } | Rule::NoIncidents { years, .. }
                    if *years == 0 =>
                {
                    return Err(invalid("years must be at least 1"));
                }
                _ => {}
            }
        }
        Ok(c)
    }

    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "suzhou-2023.toml",
        include_str!("../../../../rules/nzc/suzhou-2023.toml"),
    ),
    (
        "sip-2026.toml",
        include_str!("../../../../rules/nzc/sip-2026.toml"),
    ),
];

/// The shipped criteria documents.
pub fn builtin() -> Result<Vec<Criteria>, CriteriaError> {
    BUILTIN
        .iter()
        .map(|(file, text)| Criteria::from_toml(text, &format!("builtin:rules/nzc/{file}")))
        .collect()
}

/// Applies criteria to an enterprise's evidence for an assessment year. `district` is the
/// enterprise's registered district code.
pub fn assess(
    criteria: &Criteria,
    district: &str,
    assessment_year: i32,
    evidence: &Evidence,
) -> Assessment {
    let mut offset_ratio = None;
    let results = criteria
        .criteria
        .iter()
        .map(|k| {
            let (status, detail) = match &k.rule {
                Rule::Flag { flag } => flags(evidence, std::slice::from_ref(flag)),
                Rule::Flags { flags: fs } => flags(evidence, fs),
                Rule::RegisteredIn { district_prefix } => {
                    if district.starts_with(district_prefix.as_str()) {
                        (Status::Met, format!("district {district}"))
                    } else {
                        (
                            Status::Unmet,
                            format!("district {district} is not under {district_prefix}"),
                        )
                    }
                }
                Rule::ManagementSystems { systems } => {
                    management_systems(evidence, systems, assessment_year)
                }
                Rule::EmissionsFalling { years } => {
                    emissions_falling(evidence, *years, assessment_year)
                }
                Rule::OffsetRatio {
                    base,
                    base_year,
                    min_ratio,
                } => {
                    let year = match base {
                        OffsetBase::Year => base_year.unwrap_or(assessment_year),
                        OffsetBase::AssessmentYear => assessment_year,
                    };
                    let (status, detail, ratio) =
                        offsets(evidence, year, assessment_year, *min_ratio);
                    if offset_ratio.is_none() {
                        offset_ratio = ratio;
                    }
                    (status, detail)
                }
                Rule::GreenFactory { min_level } => match evidence.green_factory {
                    None => (
                        Status::MissingEvidence,
                        "no green-factory title recorded".into(),
                    ),
                    Some(level) if level >= *min_level => (Status::Met, format!("{level:?}")),
                    Some(level) => (Status::Unmet, format!("{level:?}, below {min_level:?}")),
                },
                Rule::NoIncidents { years, incidents } => {
                    no_incidents(evidence, *years, incidents, assessment_year)
                }
                Rule::EnergyQuota => energy_quota(evidence),
            };
            CriterionResult {
                id: k.id.clone(),
                name_zh: k.name_zh.clone(),
                name_en: k.name_en.clone(),
                status,
                detail,
            }
        })
        .collect();
    Assessment {
        criteria: criteria.id(),
        assessment_year,
        offset_ratio,
        results,
    }
}

fn flags(evidence: &Evidence, names: &[String]) -> (Status, String) {
    let mut missing = Vec::new();
    let mut unmet = Vec::new();
    for name in names {
        match evidence.flags.get(name) {
            None => missing.push(name.as_str()),
            Some(false) => unmet.push(name.as_str()),
            Some(true) => {}
        }
    }
    if !unmet.is_empty() {
        (Status::Unmet, format!("not so: {}", unmet.join(", ")))
    } else if !missing.is_empty() {
        (
            Status::MissingEvidence,
            format!("not declared: {}", missing.join(", ")),
        )
    } else {
        (Status::Met, names.join(", "))
    }
}

fn year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

fn management_systems(evidence: &Evidence, systems: &[String], year: i32) -> (Status, String) {
    let on = year_end(year);
    let missing: Vec<&str> = systems
        .iter()
        .filter(|s| {
            !evidence
                .certificates
                .iter()
                .any(|c| &c.system == *s && c.valid_from <= on && on <= c.valid_to)
        })
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        (Status::Met, format!("certificates valid on {on}"))
    } else {
        (
            Status::MissingEvidence,
            format!("no certificate valid on {on}: {}", missing.join(", ")),
        )
    }
}

fn emissions_falling(evidence: &Evidence, years: u32, year: i32) -> (Status, String) {
    let span: Vec<i32> = (0..years as i32).rev().map(|k| year - k).collect();
    let missing: Vec<String> = span
        .iter()
        .filter(|y| !evidence.emissions.contains_key(y))
        .map(i32::to_string)
        .collect();
    if !missing.is_empty() {
        return (
            Status::MissingEvidence,
            format!("no emissions for {}", missing.join(", ")),
        );
    }
    let series: Vec<String> = span
        .iter()
        .map(|y| format!("{y}: {}", evidence.emissions[y]))
        .collect();
    let falling = span
        .windows(2)
        .all(|w| evidence.emissions[&w[1]] < evidence.emissions[&w[0]]);
    (
        if falling { Status::Met } else { Status::Unmet },
        series.join(" → "),
    )
}

/// (status, detail, ratio)
fn offsets(
    evidence: &Evidence,
    base_year: i32,
    year: i32,
    min_ratio: f64,
) -> (Status, String, Option<f64>) {
    // Each certificate counts once, however often it was listed ([`offset_problems`] refuses the
    // repeat when the evidence is saved; evidence stored before that check is read the same way).
    let mut counted: Vec<(&str, String)> = Vec::new();
    let retired: f64 = evidence
        .offsets
        .iter()
        .filter(|o| o.for_year == year)
        .filter(|o| {
            let key = (o.kind.as_str(), o.reference.trim().to_uppercase());
            let first = !counted.contains(&key);
            counted.push(key);
            first
        })
        .map(|o| o.amount_tco2)
        .sum();
    match evidence.emissions.get(&base_year) {
        None => (
            Status::MissingEvidence,
            format!("no emissions for the base year {base_year}"),
            None,
        ),
        Some(&base) if base <= 0.0 => (
            Status::MissingEvidence,
            format!("base-year {base_year} emissions are {base}: no ratio"),
            None,
        ),
        Some(&base) => {
            let ratio = retired / base;
            let detail = format!(
                "{retired} tCO₂ retired for {year} ÷ {base} tCO₂ ({base_year}) = {:.4} (needs {min_ratio})",
                ratio
            );
            (
                if ratio >= min_ratio {
                    Status::Met
                } else {
                    Status::Unmet
                },
                detail,
                Some(ratio),
            )
        }
    }
}

fn no_incidents(evidence: &Evidence, years: u32, kinds: &[String], year: i32) -> (Status, String) {
    let from = NaiveDate::from_ymd_opt(year - years as i32 + 1, 1, 1).unwrap_or(NaiveDate::MIN);
    let to = year_end(year);
    let within: Vec<String> = evidence
        .incidents
        .iter()
        .filter(|i| kinds.contains(&i.kind) && from <= i.date && i.date <= to)
        .map(|i| format!("{} {}", i.date, i.kind))
        .collect();
    if !within.is_empty() {
        (Status::Unmet, within.join("; "))
    } else if !evidence.incidents_checked {
        (
            Status::MissingEvidence,
            "the incident record is not confirmed complete".into(),
        )
    } else {
        (Status::Met, format!("none from {from} to {to}"))
    }
}

fn energy_quota(evidence: &Evidence) -> (Status, String) {
    match &evidence.energy_quota {
        None => (Status::MissingEvidence, "no energy quota record".into()),
        Some(q) if !q.applicable => (Status::Met, "no quota standard applies".into()),
        Some(EnergyQuota {
            value: Some(v),
            advanced: Some(a),
            standard,
            ..
        }) => (
            if v <= a { Status::Met } else { Status::Unmet },
            format!(
                "{v} against the advanced value {a}{}",
                standard
                    .as_deref()
                    .map(|s| format!(" of {s}"))
                    .unwrap_or_default()
            ),
        ),
        Some(_) => (
            Status::MissingEvidence,
            "a quota standard applies but the unit energy or its advanced value is missing".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn doc(name: &str) -> Criteria {
        builtin()
            .unwrap()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
    }

    fn certificate(system: &str) -> Certificate {
        Certificate {
            system: system.into(),
            number: format!("{system}-1"),
            valid_from: date("2022-03-01"),
            valid_to: date("2025-02-28"),
        }
    }

    #[test]
    fn emissions_not_from_the_accounts_are_marked() {
        let accounts = BTreeMap::from([(2023, 9_500.0), (2024, 9_100.0)]);
        let e = Evidence {
            emissions: BTreeMap::from([(2022, 10_000.0), (2023, 9_500.0), (2024, 8_000.0)]),
            ..Evidence::default()
        };
        // 2022: no account; 2024: changed from 9,100 to 8,000; 2023 as accounted.
        assert_eq!(entered_emission_years(&e, &accounts), [2022, 2024]);
    }

    #[test]
    fn offsets_are_checked_before_they_count() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let o = |kind: &str, reference: &str, amount: f64, retired: NaiveDate, year: i32| Offset {
            kind: kind.into(),
            reference: reference.into(),
            amount_tco2: amount,
            retired_on: retired,
            for_year: year,
        };
        let e = Evidence {
            offsets: vec![
                o("ccer", "CCER-001", 100.0, d(2024, 3, 1), 2024),
                o("ccer", " ccer-001 ", 100.0, d(2024, 3, 1), 2024),
                o("carbon_coupon", "X1", 10.0, d(2024, 3, 1), 2024),
                o("green_certificate", "GEC-9", 0.0, d(2027, 1, 1), 2024),
                o("green_certificate", "GEC-10", 5.0, d(2023, 12, 31), 2024),
            ],
            ..Evidence::default()
        };
        let found: Vec<(usize, String)> = offset_problems(&e, d(2026, 12, 6))
            .into_iter()
            .map(|p| (p.offset, p.reason))
            .collect();
        assert_eq!(
            found,
            [
                (
                    2,
                    "ccer  ccer-001  is listed twice (also offset 1)".to_string()
                ),
                (
                    3,
                    "kind 'carbon_coupon' is not one of green_certificate, ccer, other".into()
                ),
                (4, "amount 0 tCO₂ is not a positive number".into()),
                (
                    4,
                    "retired on 2027-01-01 is after today (2026-12-06)".into()
                ),
                (
                    5,
                    "retired on 2023-12-31, before the year it is claimed for (2024) began".into()
                ),
            ]
        );
        // A repeat counts once in the ratio: 100 (not 200) ÷ 1,000 = 0.1.
        let mut e = e;
        e.offsets.truncate(2);
        e.emissions.insert(2024, 1_000.0);
        let (_, _, ratio) = offsets(&e, 2024, 2024, 0.8);
        assert_eq!(ratio, Some(0.1));
    }

    fn offset(amount: f64, year: i32) -> Offset {
        Offset {
            kind: "green_certificate".into(),
            // One certificate per amount and year: the same reference twice counts once.
            reference: format!("GEC-{year}-{amount}"),
            amount_tco2: amount,
            retired_on: date("2025-01-15"),
            for_year: year,
        }
    }

    /// A factory that meets every Suzhou condition for 2024.
    ///
    /// Offset ratio: offsets retired for 2024 are 5,000 + 3,200 = 8,200 tCO₂; base year 2022
    /// emitted 10,000 tCO₂; 8,200 ÷ 10,000 = 0.82 ≥ 0.8: met. Emissions 2022 → 2023 → 2024:
    /// 10,000 → 9,500 → 9,100, each lower: met.
    fn suzhou_evidence() -> Evidence {
        Evidence {
            flags: [
                ("independent_legal_person", true),
                ("ghg_inventory", true),
                ("product_footprint", true),
                ("on_cultivation_list", true),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            certificates: ["quality", "environment", "ohs", "energy"]
                .into_iter()
                .map(certificate)
                .collect(),
            emissions: [(2022, 10_000.0), (2023, 9_500.0), (2024, 9_100.0)]
                .into_iter()
                .collect(),
            emissions_entered: Vec::new(),
            offsets: vec![
                offset(5_000.0, 2024),
                offset(3_200.0, 2024),
                offset(999.0, 2023),
            ],
            green_factory: Some(GreenFactoryLevel::Provincial),
            incidents: vec![Incident {
                date: date("2021-06-01"),
                kind: "serious_safety_accident".into(),
                description: "before the window".into(),
            }],
            incidents_checked: true,
            energy_quota: None,
        }
    }

    #[test]
    fn the_shipped_criteria_load() {
        let docs = builtin().unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(doc("suzhou-nzc").criteria.len(), 9);
        assert_eq!(doc("sip-nzc").criteria.len(), 3);
    }

    #[test]
    fn a_factory_meeting_every_suzhou_condition_passes() {
        let a = assess(&doc("suzhou-nzc"), "320583", 2024, &suzhou_evidence());
        assert!(a.passes(), "{:#?}", a.results);
        assert!((a.offset_ratio.unwrap() - 0.82).abs() < 1e-12);
    }

    #[test]
    fn each_condition_fails_or_lacks_evidence_on_its_own() {
        let suzhou = doc("suzhou-nzc");
        let status = |e: &Evidence, district: &str, id: &str| {
            assess(&suzhou, district, 2024, e)
                .results
                .into_iter()
                .find(|r| r.id == id)
                .unwrap()
                .status
        };
        let base = suzhou_evidence();
        assert_eq!(
            status(&base, "320100", "registered_in_suzhou"),
            Status::Unmet
        );

        let mut e = base.clone();
        e.offsets.pop(); // the 2023 offset does not count for 2024 anyway
        e.offsets.pop(); // 5,000 ÷ 10,000 = 0.5 < 0.8
        assert_eq!(status(&e, "320583", "offset_ratio"), Status::Unmet);
        let mut e = base.clone();
        e.emissions.remove(&2022);
        assert_eq!(
            status(&e, "320583", "offset_ratio"),
            Status::MissingEvidence
        );
        assert_eq!(
            status(&e, "320583", "emissions_falling"),
            Status::MissingEvidence
        );

        let mut e = base.clone();
        e.emissions.insert(2024, 9_500.0); // level, not falling
        assert_eq!(status(&e, "320583", "emissions_falling"), Status::Unmet);

        let mut e = base.clone();
        e.certificates[3].valid_to = date("2024-06-30"); // energy system lapsed before year end
        assert_eq!(
            status(&e, "320583", "management_systems"),
            Status::MissingEvidence
        );

        let mut e = base.clone();
        e.green_factory = Some(GreenFactoryLevel::Municipal);
        assert_eq!(status(&e, "320583", "green_factory"), Status::Unmet);

        let mut e = base.clone();
        e.incidents.push(Incident {
            date: date("2022-01-01"),
            kind: "environmental_class_iii_or_above".into(),
            description: String::new(),
        });
        assert_eq!(status(&e, "320583", "no_incidents"), Status::Unmet);
        let mut e = base.clone();
        e.incidents_checked = false;
        assert_eq!(
            status(&e, "320583", "no_incidents"),
            Status::MissingEvidence
        );

        let mut e = base.clone();
        e.flags.insert("product_footprint".into(), false);
        assert_eq!(status(&e, "320583", "ghg_capability"), Status::Unmet);
        e.flags.remove("product_footprint");
        assert_eq!(
            status(&e, "320583", "ghg_capability"),
            Status::MissingEvidence
        );
    }

    /// SIP 2026: the assessment year's own emissions fully offset. 2026 emitted 8,000 tCO₂;
    /// 8,000 retired gives 1.0 (met), 7,999 gives 0.999875 (unmet).
    #[test]
    fn the_park_needs_the_assessment_years_emissions_fully_offset() {
        let sip = doc("sip-nzc");
        let mut e = Evidence {
            emissions: [(2026, 8_000.0)].into_iter().collect(),
            offsets: vec![offset(8_000.0, 2026)],
            green_factory: Some(GreenFactoryLevel::National),
            energy_quota: Some(EnergyQuota {
                applicable: true,
                standard: Some("GB 21256".into()),
                value: Some(310.0),
                advanced: Some(320.0),
            }),
            ..Evidence::default()
        };
        let a = assess(&sip, "320571", 2026, &e);
        assert!(a.passes(), "{:#?}", a.results);
        assert_eq!(a.offset_ratio, Some(1.0));
        e.offsets[0].amount_tco2 = 7_999.0;
        e.energy_quota.as_mut().unwrap().value = Some(330.0);
        let a = assess(&sip, "320571", 2026, &e);
        let unmet: Vec<&str> = a
            .results
            .iter()
            .filter(|r| r.status == Status::Unmet)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(unmet, ["offset_ratio", "energy_quota"]);
        e.energy_quota = Some(EnergyQuota {
            applicable: false,
            standard: None,
            value: None,
            advanced: None,
        });
        let quota = assess(&sip, "320571", 2026, &e)
            .results
            .into_iter()
            .find(|r| r.id == "energy_quota")
            .unwrap();
        assert_eq!(quota.status, Status::Met, "no standard applies");
    }

    #[test]
    fn a_criteria_document_with_a_mistake_is_refused_by_name() {
        let text = r#"
            name = "x"
            version = "1"
            year = 2026
            title_zh = "x"
            title_en = "x"
            confidence = "L"
            source = "test"
            [[criterion]]
            id = "offsets"
            kind = "offset_ratio"
            base = "year"
            min_ratio = 0.8
            name_zh = "x"
            name_en = "x"
        "#;
        let err = Criteria::from_toml(text, "t.toml").unwrap_err().to_string();
        assert!(err.contains("t.toml") && err.contains("base_year"), "{err}");
        let unknown = text.replace("min_ratio = 0.8", "min_ratio = 0.8\nbogus = 1");
        assert!(Criteria::from_toml(&unknown, "t.toml").is_err());
    }
}
