//! The API's wire types: what `/api/v1` reads and answers, as their own structs with their
//! OpenAPI schemas. Domain and store types change with the methods; these change only with the
//! API, so each is built from its domain value by a `From` here, never by serialising the
//! domain type itself. One module per capability, named as the handlers' modules are.

pub mod accounts;
pub mod cycle;
pub mod energy;
pub mod imports;
pub mod nzc;
pub mod policy;
pub mod results;
pub mod schemes;
pub mod session;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error answer: a stable code for programs and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code (`not_found`, `forbidden`, `invalid_body`, …).
    pub code: String,
    pub message: String,
    /// With an internal error: the id under which the server logged the detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// A role of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CityAdmin,
    CityAnalyst,
    DistrictOfficer,
    Enterprise,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
}

impl From<gusu_core::Role> for Role {
    fn from(r: gusu_core::Role) -> Role {
        use gusu_core::Role as R;
        match r {
            R::CityAdmin => Role::CityAdmin,
            R::CityAnalyst => Role::CityAnalyst,
            R::DistrictOfficer => Role::DistrictOfficer,
            R::Enterprise => Role::Enterprise,
            R::SystemAdmin => Role::SystemAdmin,
            R::SecurityAdmin => Role::SecurityAdmin,
            R::AuditAdmin => Role::AuditAdmin,
        }
    }
}

/// The enterprise data a viewer may see: the city, one district, one enterprise, or none.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum Scope {
    City,
    /// A district code.
    District(String),
    /// A USCC.
    Enterprise(String),
    /// The administrators: no enterprise data.
    Nothing,
}

impl From<&gusu_core::Scope> for Scope {
    fn from(s: &gusu_core::Scope) -> Scope {
        use gusu_core::Scope as S;
        match s {
            S::City => Scope::City,
            S::District(d) => Scope::District(d.clone()),
            S::Enterprise(u) => Scope::Enterprise(u.to_string()),
            S::Nothing => Scope::Nothing,
        }
    }
}

/// 规上 (above designated size) or 规下.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeGroup {
    Above,
    Below,
}

impl From<gusu_core::evaluate::SizeGroup> for SizeGroup {
    fn from(g: gusu_core::evaluate::SizeGroup) -> SizeGroup {
        match g {
            gusu_core::evaluate::SizeGroup::Above => SizeGroup::Above,
            gusu_core::evaluate::SizeGroup::Below => SizeGroup::Below,
        }
    }
}

/// Whether an enterprise was graded, and if not, why.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    Graded,
    Exempt,
    OutOfScope,
    MissingData,
}

impl From<gusu_core::evaluate::Status> for ResultStatus {
    fn from(s: gusu_core::evaluate::Status) -> ResultStatus {
        use gusu_core::evaluate::Status as S;
        match s {
            S::Graded => ResultStatus::Graded,
            S::Exempt => ResultStatus::Exempt,
            S::OutOfScope => ResultStatus::OutOfScope,
            S::MissingData => ResultStatus::MissingData,
        }
    }
}

/// A USCC as text (the API never answers the domain's parsed form).
pub(crate) fn uscc(u: &gusu_core::Uscc) -> String {
    u.to_string()
}
