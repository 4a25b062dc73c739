//! Signing in and out, changing one's password, and who one is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Role, Scope};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub username: String,
    pub password: String,
    /// The TOTP code (6 digits) of an account with a second factor (the administrators).
    #[serde(default)]
    pub otp: Option<String>,
}

/// A new session: the cookie is set; unsafe requests send `csrf` as `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    pub user: String,
    pub role: Role,
    pub csrf: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    pub username: String,
    /// The current password.
    pub password: String,
    pub new_password: String,
}

/// The signed-in viewer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Viewer {
    pub user: String,
    pub role: Role,
    pub scope: Scope,
}

impl From<&gusu_core::Viewer> for Viewer {
    fn from(v: &gusu_core::Viewer) -> Viewer {
        Viewer {
            user: v.user.clone(),
            role: v.role.into(),
            scope: (&v.scope).into(),
        }
    }
}
