//! The route an application takes (申报流程), shared by every kind of application gusu takes
//! (near-zero-carbon factories, support policies): the enterprise (or the bureau for it) records
//! its evidence and submits; the district reviews and recommends it to the city, or returns it;
//! the city decides (certifies or grants), returns it, or rejects it. Pure rules: who may do what
//! at which status, and that nothing moves on while something it needs is open. What "open"
//! means (a criterion unmet, evidence missing, a condition not holding) is the caller's.
//!
//! Decisions written down here (the documents give the route, not its roles):
//! - Evidence is recorded by the enterprise itself or by staff whose scope holds it (the city's
//!   administrators and analysts, the district's officer), while the application is a draft or
//!   returned. Whoever may record may submit.
//! - The district step belongs to the officer of the enterprise's district; the city step to the
//!   city administrator (deciding is an act of authority, like publishing a grade). Analysts
//!   prepare and read but do not decide.
//! - Submitting, recommending and approving each need nothing open on the evidence as it stands;
//!   returning and rejecting need a reason. Rejection is final; a returned application can be
//!   corrected and submitted again.

use serde::{Deserialize, Serialize};

use crate::access::{Role, Scope, Viewer};
use crate::uscc::Uscc;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Being prepared; only its author's side sees it move.
    Draft,
    /// With the district.
    Submitted,
    /// Recommended by the district, with the city.
    Recommended,
    /// Sent back to the enterprise with a reason; editable again.
    Returned,
    /// Certified by the city.
    Approved,
    /// Refused by the district or the city; final.
    Rejected,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 6] = [
        ApplicationStatus::Draft,
        ApplicationStatus::Submitted,
        ApplicationStatus::Recommended,
        ApplicationStatus::Returned,
        ApplicationStatus::Approved,
        ApplicationStatus::Rejected,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Recommended => "recommended",
            ApplicationStatus::Returned => "returned",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }

    pub fn from_key(key: &str) -> Option<ApplicationStatus> {
        ApplicationStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "草稿",
            ApplicationStatus::Submitted => "区县审核中",
            ApplicationStatus::Recommended => "市级审核中",
            ApplicationStatus::Returned => "已退回",
            ApplicationStatus::Approved => "已认定",
            ApplicationStatus::Rejected => "未通过",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "Draft",
            ApplicationStatus::Submitted => "With the district",
            ApplicationStatus::Recommended => "With the city",
            ApplicationStatus::Returned => "Returned",
            ApplicationStatus::Approved => "Certified",
            ApplicationStatus::Rejected => "Rejected",
        }
    }

    /// Whether the evidence may still change.
    pub fn editable(self) -> bool {
        matches!(self, ApplicationStatus::Draft | ApplicationStatus::Returned)
    }
}

/// A step of the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Enterprise (or staff for it) → district.
    Submit,
    /// District → city.
    Recommend,
    /// The city certifies.
    Approve,
    /// Back to the enterprise, with a reason (district or city).
    Return,
    /// Refused for good, with a reason (district or city).
    Reject,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Submit,
        Action::Recommend,
        Action::Approve,
        Action::Return,
        Action::Reject,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Recommend => "recommend",
            Action::Approve => "approve",
            Action::Return => "return",
            Action::Reject => "reject",
        }
    }

    pub fn from_key(key: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Action::Submit => "提交区县审核",
            Action::Recommend => "推荐至市级",
            Action::Approve => "认定",
            Action::Return => "退回修改",
            Action::Reject => "不予通过",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Action::Submit => "Submit to the district",
            Action::Recommend => "Recommend to the city",
            Action::Approve => "Certify",
            Action::Return => "Return for changes",
            Action::Reject => "Reject",
        }
    }

    /// Whether the action needs a written reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Return | Action::Reject)
    }

    /// Whether the action needs every criterion met.
    pub fn needs_all_met(self) -> bool {
        matches!(self, Action::Submit | Action::Recommend | Action::Approve)
    }
}

/// What the rules need to know about an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationState {
    pub uscc: Uscc,
    /// The enterprise's registered district.
    pub district: String,
    pub status: ApplicationStatus,
}

/// Why an application step is refused. `code()` is the stable code the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    #[error("your role may not {0} this application")]
    NotPermitted(&'static str),
    #[error("cannot {action} an application that is {status}", status = .status.key())]
    WrongStatus {
        action: &'static str,
        status: ApplicationStatus,
    },
    #[error("criteria not met yet: {}", .0.join(", "))]
    CriteriaNotMet(Vec<String>),
    #[error("a reason is required to {0}")]
    ReasonRequired(&'static str),
    /// What exists already (e.g. "an application of this enterprise under these criteria for 2025").
    #[error("{0} exists already")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
}

impl ApplicationError {
    pub fn code(&self) -> &'static str {
        match self {
            ApplicationError::NotPermitted(_) => "forbidden",
            ApplicationError::WrongStatus { .. } => "wrong_status",
            ApplicationError::CriteriaNotMet(_) => "criteria_not_met",
            ApplicationError::ReasonRequired(_) => "reason_required",
            ApplicationError::Exists(_) => "application_exists",
            ApplicationError::Invalid(_) => "invalid",
        }
    }
}

/// May this viewer read the application at all? Whoever may see the enterprise's data.
pub fn may_view(viewer: &Viewer, state: &ApplicationState) -> bool {
    viewer.may_see(&state.uscc, &state.district)
}

/// May this viewer record evidence for (and submit) the enterprise's applications?
pub fn may_record(viewer: &Viewer, uscc: &Uscc, district: &str) -> bool {
    match &viewer.scope {
        Scope::Enterprise(own) => own == uscc,
        _ => viewer.is_staff() && viewer.may_see(uscc, district),
    }
}

fn reviews_district(viewer: &Viewer, district: &str) -> bool {
    viewer.role == Role::DistrictOfficer && viewer.may_see_district(district)
}

fn certifies(viewer: &Viewer) -> bool {
    viewer.role == Role::CityAdmin && viewer.scope == Scope::City
}

/// Opening a new application for an enterprise.
pub fn create(viewer: &Viewer, uscc: &Uscc, district: &str) -> Result<(), ApplicationError> {
    if may_record(viewer, uscc, district) {
        Ok(())
    } else {
        Err(ApplicationError::NotPermitted("open"))
    }
}

/// Changing the evidence: by whoever may record it, while a draft or returned.
pub fn edit(viewer: &Viewer, state: &ApplicationState) -> Result<(), ApplicationError> {
    if !may_record(viewer, &state.uscc, &state.district) {
        return Err(ApplicationError::NotPermitted("edit"));
    }
    if !state.status.editable() {
        return Err(ApplicationError::WrongStatus {
            action: "edit",
            status: state.status,
        });
    }
    Ok(())
}

/// Whether the status and the viewer's role allow `action` now; the status it leads to. The
/// reason and the criteria are checked by [`act`].
pub fn step(
    viewer: &Viewer,
    state: &ApplicationState,
    action: Action,
) -> Result<ApplicationStatus, ApplicationError> {
    use ApplicationStatus as S;
    let district = state.district.as_str();
    let (allowed, next) = match (action, state.status) {
        (Action::Submit, S::Draft | S::Returned) => (
            may_record(viewer, &state.uscc, district),
            ApplicationStatus::Submitted,
        ),
        (Action::Recommend, S::Submitted) => (reviews_district(viewer, district), S::Recommended),
        (Action::Approve, S::Recommended) => (certifies(viewer), S::Approved),
        (Action::Return, S::Submitted) => (reviews_district(viewer, district), S::Returned),
        (Action::Return, S::Recommended) => (certifies(viewer), S::Returned),
        (Action::Reject, S::Submitted) => (reviews_district(viewer, district), S::Rejected),
        (Action::Reject, S::Recommended) => (certifies(viewer), S::Rejected),
        (_, status) => {
            return Err(ApplicationError::WrongStatus {
                action: action.key(),
                status,
            });
        }
    };
    if !allowed {
        return Err(ApplicationError::NotPermitted(action.key()));
    }
    Ok(next)
}

/// One step of the route: checks the viewer and the status ([`step`]), the reason, and that
/// nothing is `open` (unmet criteria, missing evidence: what the caller found) for the steps that
/// move an application on; returns the new status.
pub fn act(
    viewer: &Viewer,
    state: &ApplicationState,
    action: Action,
    reason: &str,
    open: &[String],
) -> Result<ApplicationStatus, ApplicationError> {
    let next = step(viewer, state, action)?;
    if action.needs_reason() && reason.trim().is_empty() {
        return Err(ApplicationError::ReasonRequired(action.key()));
    }
    if action.needs_all_met() && !open.is_empty() {
        return Err(ApplicationError::CriteriaNotMet(open.to_vec()));
    }
    Ok(next)
}

/// The actions this viewer could take now (the reason and the criteria are checked on acting).
pub fn available(viewer: &Viewer, state: &ApplicationState) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| step(viewer, state, *a).is_ok())
        .collect()
}
