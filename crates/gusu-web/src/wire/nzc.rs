//! Near-zero-carbon factory applications: criteria, evidence, assessment, the route.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gusu_core::carbon::nzc::{self as core};
use gusu_core::carbon::nzc_application as route;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One criterion of a criteria document.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionName {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A dated criteria document applications are assessed under.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriteriaDocument {
    /// `name@version`.
    pub id: String,
    pub name: String,
    pub version: String,
    pub year: i32,
    pub title_zh: String,
    pub title_en: String,
    pub confidence: String,
    pub source: String,
    /// The application's route, where the source gives one.
    pub route: Vec<String>,
    pub criteria: Vec<CriterionName>,
}

impl From<&core::Criteria> for CriteriaDocument {
    fn from(c: &core::Criteria) -> CriteriaDocument {
        CriteriaDocument {
            id: c.id(),
            name: c.name.clone(),
            version: c.version.clone(),
            year: c.year,
            title_zh: c.title_zh.clone(),
            title_en: c.title_en.clone(),
            confidence: c.confidence.clone(),
            source: c.source.clone(),
            route: c.route.clone(),
            criteria: c
                .criteria
                .iter()
                .map(|k| CriterionName {
                    id: k.id.clone(),
                    name_zh: k.name_zh.clone(),
                    name_en: k.name_en.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CriteriaList {
    pub criteria: Vec<CriteriaDocument>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GreenFactoryLevel {
    Municipal,
    Provincial,
    National,
}

/// A management-system certificate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// `quality`, `environment`, `ohs` or `energy`.
    pub system: String,
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// An offset retired for a year.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Offset {
    /// `green_certificate`, `ccer` or `other`.
    pub kind: String,
    /// The certificate or credit number.
    pub reference: String,
    pub amount_tco2: f64,
    pub retired_on: NaiveDate,
    pub for_year: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub date: NaiveDate,
    pub kind: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnergyQuota {
    /// Whether a quota standard covers the enterprise's product.
    pub applicable: bool,
    #[serde(default)]
    pub standard: Option<String>,
    /// Unit energy, in the standard's unit.
    #[serde(default)]
    pub value: Option<f64>,
    /// The standard's advanced value, same unit.
    #[serde(default)]
    pub advanced: Option<f64>,
}

/// What an enterprise (or the bureau for it) recorded; anything absent is missing evidence.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    #[serde(default)]
    pub flags: BTreeMap<String, bool>,
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    /// Scope 1 + 2 emissions by year, tCO₂ (keys are years, as JSON keys are: `"2024"`).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, f64>)]
    pub emissions: BTreeMap<i32, f64>,
    /// Years whose emissions the applicant entered instead of gusu's own accounts. Set by the
    /// platform; ignored in a request.
    #[serde(default)]
    pub emissions_entered: Vec<i32>,
    #[serde(default)]
    pub offsets: Vec<Offset>,
    #[serde(default)]
    pub green_factory: Option<GreenFactoryLevel>,
    #[serde(default)]
    pub incidents: Vec<Incident>,
    /// The incident record is complete (no entry then means none happened).
    #[serde(default)]
    pub incidents_checked: bool,
    #[serde(default)]
    pub energy_quota: Option<EnergyQuota>,
}

impl From<Evidence> for core::Evidence {
    fn from(e: Evidence) -> core::Evidence {
        core::Evidence {
            flags: e.flags,
            certificates: e
                .certificates
                .into_iter()
                .map(|c| core::Certificate {
                    system: c.system,
                    number: c.number,
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                })
                .collect(),
            emissions: e.emissions,
            emissions_entered: e.emissions_entered,
            offsets: e
                .offsets
                .into_iter()
                .map(|o| core::Offset {
                    kind: o.kind,
                    reference: o.reference,
                    amount_tco2: o.amount_tco2,
                    retired_on: o.retired_on,
                    for_year: o.for_year,
                })
                .collect(),
            green_factory: e.green_factory.map(|g| match g {
                GreenFactoryLevel::Municipal => core::GreenFactoryLevel::Municipal,
                GreenFactoryLevel::Provincial => core::GreenFactoryLevel::Provincial,
                GreenFactoryLevel::National => core::GreenFactoryLevel::National,
            }),
            incidents: e
                .incidents
                .into_iter()
                .map(|i| core::Incident {
                    date: i.date,
                    kind: i.kind,
                    description: i.description,
                })
                .collect(),
            incidents_checked: e.incidents_checked,
            energy_quota: e.energy_quota.map(|q| core::EnergyQuota {
                applicable: q.applicable,
                standard: q.standard,
                value: q.value,
                advanced: q.advanced,
            }),
        }
    }
}

impl From<&core::Evidence> for Evidence {
    fn from(e: &core::Evidence) -> Evidence {
        Evidence {
            flags: e.flags.clone(),
            certificates: e
                .certificates
                .iter()
                .map(|c| Certificate {
                    system: c.system.clone(),
                    number: c.number.clone(),
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                })
                .collect(),
            emissions: e.emissions.clone(),
            emissions_entered: e.emissions_entered.clone(),
            offsets: e
                .offsets
                .iter()
                .map(|o| Offset {
                    kind: o.kind.clone(),
                    reference: o.reference.clone(),
                    amount_tco2: o.amount_tco2,
                    retired_on: o.retired_on,
                    for_year: o.for_year,
                })
                .collect(),
            green_factory: e.green_factory.map(|g| match g {
                core::GreenFactoryLevel::Municipal => GreenFactoryLevel::Municipal,
                core::GreenFactoryLevel::Provincial => GreenFactoryLevel::Provincial,
                core::GreenFactoryLevel::National => GreenFactoryLevel::National,
            }),
            incidents: e
                .incidents
                .iter()
                .map(|i| Incident {
                    date: i.date,
                    kind: i.kind.clone(),
                    description: i.description.clone(),
                })
                .collect(),
            incidents_checked: e.incidents_checked,
            energy_quota: e.energy_quota.as_ref().map(|q| EnergyQuota {
                applicable: q.applicable,
                standard: q.standard.clone(),
                value: q.value,
                advanced: q.advanced,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Draft,
    Submitted,
    Recommended,
    Returned,
    Approved,
    Rejected,
}

impl From<route::ApplicationStatus> for ApplicationStatus {
    fn from(s: route::ApplicationStatus) -> ApplicationStatus {
        use route::ApplicationStatus as S;
        match s {
            S::Draft => ApplicationStatus::Draft,
            S::Submitted => ApplicationStatus::Submitted,
            S::Recommended => ApplicationStatus::Recommended,
            S::Returned => ApplicationStatus::Returned,
            S::Approved => ApplicationStatus::Approved,
            S::Rejected => ApplicationStatus::Rejected,
        }
    }
}

/// A step of the route.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Recommend,
    Approve,
    Return,
    Reject,
}

impl From<route::Action> for Action {
    fn from(a: route::Action) -> Action {
        use route::Action as A;
        match a {
            A::Submit => Action::Submit,
            A::Recommend => Action::Recommend,
            A::Approve => Action::Approve,
            A::Return => Action::Return,
            A::Reject => Action::Reject,
        }
    }
}

/// An application, with the enterprise's name and district from the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct Application {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub district: String,
    /// The criteria document's `name@version`.
    pub criteria: String,
    pub year: i32,
    pub status: ApplicationStatus,
    pub evidence: Evidence,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<&gusu_store::NzcApplication> for Application {
    fn from(a: &gusu_store::NzcApplication) -> Application {
        Application {
            id: a.id,
            uscc: super::uscc(&a.uscc),
            name: a.name.clone(),
            district: a.district.clone(),
            criteria: a.criteria.clone(),
            year: a.year,
            status: a.status.into(),
            evidence: (&a.evidence).into(),
            created_by: a.created_by.clone(),
            created_at: a.created_at.clone(),
            updated_by: a.updated_by.clone(),
            updated_at: a.updated_at.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    Met,
    Unmet,
    MissingEvidence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionResult {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub status: CriterionStatus,
    /// What was seen or is missing (English; codes and figures).
    pub detail: String,
}

/// The evidence assessed criterion by criterion.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    /// `name@version` of the criteria.
    pub criteria: String,
    pub assessment_year: i32,
    /// Offsets for the assessment year ÷ the base emissions.
    pub offset_ratio: Option<f64>,
    pub results: Vec<CriterionResult>,
}

impl From<&core::Assessment> for Assessment {
    fn from(a: &core::Assessment) -> Assessment {
        Assessment {
            criteria: a.criteria.clone(),
            assessment_year: a.assessment_year,
            offset_ratio: a.offset_ratio,
            results: a
                .results
                .iter()
                .map(|r| CriterionResult {
                    id: r.id.clone(),
                    name_zh: r.name_zh.clone(),
                    name_en: r.name_en.clone(),
                    status: match r.status {
                        core::Status::Met => CriterionStatus::Met,
                        core::Status::Unmet => CriterionStatus::Unmet,
                        core::Status::MissingEvidence => CriterionStatus::MissingEvidence,
                    },
                    detail: r.detail.clone(),
                })
                .collect(),
        }
    }
}

/// One step of an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// `opened`, `evidence_saved`, or an action.
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    /// The assessment the step was judged on (route steps only).
    #[schema(value_type = Option<Assessment>)]
    pub assessment: Option<serde_json::Value>,
}

impl From<&gusu_store::NzcEvent> for Event {
    fn from(e: &gusu_store::NzcEvent) -> Event {
        Event {
            id: e.id,
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            from_status: e.from_status.clone(),
            to_status: e.to_status.clone(),
            reason: e.reason.clone(),
            assessment: e.assessment.clone(),
        }
    }
}

/// An application with its assessment, history and what the viewer may do now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDetail {
    pub application: Application,
    pub assessment: Assessment,
    pub events: Vec<Event>,
    pub actions: Vec<Action>,
    pub may_edit: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    pub uscc: String,
    /// The document's `name@version`, or its name for the shipped version.
    pub criteria: String,
    /// The assessment year.
    pub year: i32,
    #[serde(default)]
    pub evidence: Evidence,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    /// `submit`, `recommend`, `approve`, `return` or `reject`.
    pub action: String,
    #[serde(default)]
    pub reason: String,
}
