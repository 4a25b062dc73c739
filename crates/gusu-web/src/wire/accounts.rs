//! Accounts (without secrets) and the audit log.

use serde::Serialize;
use utoipa::ToSchema;

use super::Role;

#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub district: Option<String>,
    pub uscc: Option<String>,
    pub disabled: bool,
    pub created_at: String,
    pub password_changed_at: String,
    /// The page language the person chose (`zh` or `en`), if any.
    pub language: Option<String>,
    /// An administrator set the password: it must be changed at the next sign-in.
    pub must_change_password: bool,
}

impl From<&gusu_store::Account> for Account {
    fn from(a: &gusu_store::Account) -> Account {
        Account {
            username: a.username.clone(),
            role: a.role.into(),
            district: a.district.clone(),
            uscc: a.uscc.as_ref().map(super::uscc),
            disabled: a.disabled,
            created_at: a.created_at.clone(),
            password_changed_at: a.password_changed_at.clone(),
            language: a.language.clone(),
            must_change_password: a.must_change_password,
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

impl From<&gusu_store::AuditEntry> for AuditEntry {
    fn from(e: &gusu_store::AuditEntry) -> AuditEntry {
        AuditEntry {
            id: e.id,
            at: e.at.clone(),
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            detail: e.detail.clone(),
        }
    }
}
