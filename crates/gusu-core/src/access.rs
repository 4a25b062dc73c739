//! Who may see what: roles, their scope (the city, one district, one enterprise) and the checks
//! every query goes through (DESIGN principle 5). Also the password policy accounts must meet.
//!
//! The three administrators that 等保 2.0 level 3 separates (三员分立) see no enterprise data: the
//! system administrator manages accounts, the security administrator permissions and policies, the
//! audit administrator reads the audit log. On accounts that means: the system administrator
//! creates ordinary accounts (city analyst, district officer, enterprise user) and resets their
//! passwords; only the security administrator grants the roles above them (city administrator
//! and the three administrators: [`Role::is_elevated`]) and resets those accounts' passwords, and
//! it locks and unlocks accounts (disable, enable); both list them; the audit administrator changes
//! nothing. So no single administrator can make itself, or a partner, another administrator and
//! act as them. No role can change its own account's standing, and every change is audited by the
//! store.

use serde::{Deserialize, Serialize};

use crate::uscc::Uscc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl Role {
    pub const ALL: [Role; 7] = [
        Role::CityAdmin,
        Role::CityAnalyst,
        Role::DistrictOfficer,
        Role::Enterprise,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::CityAdmin => "city_admin",
            Role::CityAnalyst => "city_analyst",
            Role::DistrictOfficer => "district_officer",
            Role::Enterprise => "enterprise",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    /// The roles above the ordinary ones: the city administrator (who publishes results) and
    /// the three separated administrators. Only the security administrator grants them.
    pub fn is_elevated(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::CityAdmin => "市级管理员",
            Role::CityAnalyst => "市级分析人员",
            Role::DistrictOfficer => "区县工作人员",
            Role::Enterprise => "企业用户",
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
        }
    }
}

/// The enterprise data a viewer may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum Scope {
    City,
    District(String),
    Enterprise(Uscc),
    /// Administrators: no enterprise data at all.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("a district officer needs a district")]
    DistrictRequired,
    #[error("an enterprise user needs the enterprise's USCC")]
    UsccRequired,
    #[error("role {0} takes neither a district nor a USCC")]
    NoScopeExpected(&'static str),
}

/// Someone looking at data: every query takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: String,
    pub role: Role,
    pub scope: Scope,
}

impl Viewer {
    /// A viewer from an account's role and scope fields; a role with the wrong scope is refused.
    pub fn new(
        user: &str,
        role: Role,
        district: Option<&str>,
        uscc: Option<Uscc>,
    ) -> Result<Viewer, AccessError> {
        let scope = match role {
            Role::DistrictOfficer => match (district, uscc) {
                (Some(d), None) if !d.trim().is_empty() => Scope::District(d.to_string()),
                _ => return Err(AccessError::DistrictRequired),
            },
            Role::Enterprise => match (district, uscc) {
                (None, Some(u)) => Scope::Enterprise(u),
                _ => return Err(AccessError::UsccRequired),
            },
            other => {
                if district.is_some() || uscc.is_some() {
                    return Err(AccessError::NoScopeExpected(other.key()));
                }
                match other {
                    Role::CityAdmin | Role::CityAnalyst => Scope::City,
                    _ => Scope::Nothing,
                }
            }
        };
        Ok(Viewer {
            user: user.to_string(),
            role,
            scope,
        })
    }

    /// May this viewer read the data of the enterprise with this code, registered in this district?
    pub fn may_see(&self, uscc: &Uscc, district: &str) -> bool {
        match &self.scope {
            Scope::City => true,
            Scope::District(d) => d == district,
            Scope::Enterprise(u) => u == uscc,
            Scope::Nothing => false,
        }
    }

    /// May this viewer see figures summed over a district (no single enterprise's data)?
    pub fn may_see_district(&self, district: &str) -> bool {
        match &self.scope {
            Scope::City => true,
            Scope::District(d) => d == district,
            Scope::Enterprise(_) | Scope::Nothing => false,
        }
    }

    /// Staff of the bureau or a district (imports, runs, lists of enterprises).
    pub fn is_staff(&self) -> bool {
        matches!(
            self.role,
            Role::CityAdmin | Role::CityAnalyst | Role::DistrictOfficer
        )
    }

    /// May import rows for enterprises of this district.
    pub fn may_import_for(&self, district: &str) -> bool {
        self.is_staff() && self.may_see_district(district)
    }

    /// May run an evaluation cycle of this region (`None`: the city): city administrators and
    /// analysts any, a district officer its own district's.
    pub fn may_manage_cycle(&self, region: Option<&str>) -> bool {
        match (self.role, &self.scope, region) {
            (Role::CityAdmin | Role::CityAnalyst, Scope::City, _) => true,
            (Role::DistrictOfficer, Scope::District(d), Some(r)) => d == r,
            _ => false,
        }
    }

    /// May publish a cycle's result (and correct it after publication): the city administrator,
    /// or for a district's own run also that district's officer. Analysts do not publish.
    pub fn may_publish_cycle(&self, region: Option<&str>) -> bool {
        match (self.role, &self.scope, region) {
            (Role::CityAdmin, Scope::City, _) => true,
            (Role::DistrictOfficer, Scope::District(d), Some(r)) => d == r,
            _ => false,
        }
    }

    /// May see that a cycle of this region exists (what of it is shown is still filtered by
    /// [`Viewer::may_see`]): the city all, a district officer the city's and its own district's,
    /// an enterprise the cycles its own result is in (checked by the caller).
    pub fn may_see_cycle(&self, region: Option<&str>) -> bool {
        match &self.scope {
            Scope::City | Scope::Enterprise(_) => true,
            Scope::District(d) => region.is_none_or(|r| r == d),
            Scope::Nothing => false,
        }
    }

    /// Create ordinary accounts and reset their passwords (the system administrator).
    pub fn may_manage_accounts(&self) -> bool {
        self.role == Role::SystemAdmin
    }

    /// Create accounts of some role: the system administrator ordinary ones, the security
    /// administrator elevated ones.
    pub fn may_create_accounts(&self) -> bool {
        matches!(self.role, Role::SystemAdmin | Role::SecurityAdmin)
    }

    /// May this viewer give an account `role` (create it with that role)? Elevated roles only
    /// the security administrator, ordinary roles only the system administrator.
    pub fn may_grant(&self, role: Role) -> bool {
        if role.is_elevated() {
            self.role == Role::SecurityAdmin
        } else {
            self.role == Role::SystemAdmin
        }
    }

    /// May this viewer set a new password for `username`, an account of `role`? Whoever may
    /// grant the role, and never for its own account (its own password it changes itself, with
    /// the current one).
    pub fn may_reset_password(&self, username: &str, role: Role) -> bool {
        self.may_grant(role) && self.user != username
    }

    /// Disable and enable accounts (the security administrator: locking is a security policy).
    pub fn may_lock_accounts(&self) -> bool {
        self.role == Role::SecurityAdmin
    }

    /// See the list of accounts (without any secret): whoever manages or locks them.
    pub fn may_list_accounts(&self) -> bool {
        self.may_create_accounts() || self.may_lock_accounts()
    }

    /// May this viewer disable or enable `username`? Never its own account: an administrator
    /// who locks itself out, or unlocks itself, would be acting on its own standing.
    pub fn may_lock_account(&self, username: &str) -> bool {
        self.may_lock_accounts() && self.user != username
    }

    /// Bring files into the store (for the districts `may_import_for` allows).
    pub fn may_import(&self) -> bool {
        self.is_staff()
    }

    pub fn may_read_audit_log(&self) -> bool {
        self.role == Role::AuditAdmin
    }
}

/// Password rules. The numbers are parameters (no method document gives them): the defaults follow
/// common practice for 等保 2.0 level 3 and can be changed by configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// Of lower case, upper case, digits and other characters.
    pub min_classes: usize,
    /// A password older than this must be changed (0: never).
    pub max_age_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 12,
            min_classes: 3,
            max_age_days: 90,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password has {found} characters; at least {min} are required")]
    TooShort { found: usize, min: usize },
    #[error(
        "the password mixes {found} kinds of characters (lower case, upper case, digits, others); at least {min} are required"
    )]
    TooSimple { found: usize, min: usize },
    #[error("the password contains the user name")]
    ContainsUser,
    #[error("the new password is the same as the current one")]
    Unchanged,
}

impl PasswordPolicy {
    /// Has a password changed at `changed_at` (UTC, RFC 3339 as the store writes it) expired at
    /// `now`? A date that cannot be read counts as expired: the safe side is a new password.
    pub fn expired(&self, changed_at: &str, now: chrono::NaiveDateTime) -> bool {
        if self.max_age_days == 0 {
            return false;
        }
        match chrono::DateTime::parse_from_rfc3339(changed_at) {
            Ok(changed) => {
                now - changed.naive_utc() > chrono::TimeDelta::days(i64::from(self.max_age_days))
            }
            Err(_) => true,
        }
    }

    pub fn check(&self, user: &str, password: &str) -> Result<(), PasswordError> {
        let length = password.chars().count();
        if length < self.min_length {
            return Err(PasswordError::TooShort {
                found: length,
                min: self.min_length,
            });
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ]
        .iter()
        .filter(|&&b| b)
        .count();
        if classes < self.min_classes {
            return Err(PasswordError::TooSimple {
                found: classes,
                min: self.min_classes,
            });
        }
        if !user.is_empty() && password.to_lowercase().contains(&user.to_lowercase()) {
            return Err(PasswordError::ContainsUser);
        }
        Ok(())
    }
}

/// A user name gusu accepts: 1 to 64 ASCII letters, digits, `_`, `-` or `.`. So a name is safe
/// in a URL path, a log line and a page without escaping, and two names never look alike.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(i: u32) -> Uscc {
        Uscc::with_check_character(&format!("91320583MA{i:07}")).unwrap()
    }

    #[test]
    fn user_names_are_plain_and_short() {
        for ok in ["ent_a", "li.ming-2", &"a".repeat(64)] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "<script>",
            "张三",
            "a/b",
            "a%2F",
            &"a".repeat(65),
        ] {
            assert!(!valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn a_password_expires_after_max_age_days() {
        let policy = PasswordPolicy {
            max_age_days: 90,
            ..PasswordPolicy::default()
        };
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        // Changed 2026-01-01 00:00: 90 days later is 2026-04-01 00:00 (31 + 28 + 31 = 90).
        let changed = "2026-01-01T00:00:00Z";
        assert!(!policy.expired(changed, at("2026-04-01 00:00:00")));
        assert!(policy.expired(changed, at("2026-04-01 00:00:01")));
        assert!(policy.expired("not a date", at("2026-01-01 00:00:00")));
        let never = PasswordPolicy {
            max_age_days: 0,
            ..PasswordPolicy::default()
        };
        assert!(!never.expired(changed, at("2036-01-01 00:00:00")));
    }

    #[test]
    fn each_role_sees_its_scope_and_nothing_else() {
        let (mine, theirs) = (code(1), code(2));
        let enterprise = Viewer::new("e", Role::Enterprise, None, Some(mine)).unwrap();
        assert!(enterprise.may_see(&mine, "320583"));
        assert!(!enterprise.may_see(&theirs, "320583"));
        assert!(!enterprise.may_see_district("320583"));
        assert!(!enterprise.is_staff());

        let officer = Viewer::new("d", Role::DistrictOfficer, Some("320583"), None).unwrap();
        assert!(officer.may_see(&theirs, "320583"));
        assert!(!officer.may_see(&theirs, "320571"));
        assert!(officer.may_import_for("320583") && !officer.may_import_for("320571"));

        let analyst = Viewer::new("a", Role::CityAnalyst, None, None).unwrap();
        assert!(analyst.may_see(&theirs, "320571"));
        assert!(!analyst.may_read_audit_log() && !analyst.may_manage_accounts());

        for admin in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin] {
            let v = Viewer::new("x", admin, None, None).unwrap();
            assert!(
                !v.may_see(&mine, "320583"),
                "{admin:?} sees no enterprise data"
            );
            assert!(!v.may_see_district("320583"));
        }
        assert!(
            Viewer::new("x", Role::AuditAdmin, None, None)
                .unwrap()
                .may_read_audit_log()
        );
        assert!(
            Viewer::new("x", Role::SystemAdmin, None, None)
                .unwrap()
                .may_manage_accounts()
        );
    }

    #[test]
    fn the_three_administrators_are_separate() {
        let v = |role| Viewer::new("me", role, None, None).unwrap();
        let (system, security, audit) = (
            v(Role::SystemAdmin),
            v(Role::SecurityAdmin),
            v(Role::AuditAdmin),
        );
        assert!(system.may_manage_accounts() && !system.may_lock_accounts());
        assert!(security.may_lock_accounts() && !security.may_manage_accounts());
        assert!(system.may_list_accounts() && security.may_list_accounts());
        assert!(!audit.may_list_accounts() && !audit.may_manage_accounts());
        assert!(!system.may_read_audit_log() && !security.may_read_audit_log());
        assert!(security.may_lock_account("someone") && !security.may_lock_account("me"));
        // Roles above the ordinary ones are granted, and their passwords reset, only by the
        // security administrator, never for itself; the system administrator the ordinary ones.
        for role in Role::ALL {
            let elevated = role.is_elevated();
            assert_eq!(
                elevated,
                !matches!(
                    role,
                    Role::CityAnalyst | Role::DistrictOfficer | Role::Enterprise
                ),
                "{role:?}"
            );
            assert_eq!(system.may_grant(role), !elevated, "{role:?}");
            assert_eq!(security.may_grant(role), elevated, "{role:?}");
            assert!(!audit.may_grant(role) && !v(Role::CityAdmin).may_grant(role));
            assert_eq!(security.may_reset_password("other", role), elevated);
            assert_eq!(system.may_reset_password("other", role), !elevated);
        }
        assert!(!security.may_reset_password("me", Role::SecurityAdmin));
        assert!(!system.may_reset_password("me", Role::SystemAdmin));
        assert!(system.may_create_accounts() && security.may_create_accounts());
        assert!(!audit.may_create_accounts());
        assert!(!system.may_lock_account("someone"));
        for admin in [system, security, audit] {
            assert!(!admin.may_import());
        }
        assert!(v(Role::CityAnalyst).may_import() && !v(Role::CityAnalyst).may_list_accounts());
    }

    #[test]
    fn roles_need_the_right_scope() {
        assert_eq!(
            Viewer::new("d", Role::DistrictOfficer, None, None),
            Err(AccessError::DistrictRequired)
        );
        assert_eq!(
            Viewer::new("e", Role::Enterprise, Some("320583"), None),
            Err(AccessError::UsccRequired)
        );
        assert!(Viewer::new("a", Role::CityAdmin, Some("320583"), None).is_err());
        for r in Role::ALL {
            assert_eq!(Role::from_key(r.key()), Some(r));
        }
    }

    #[test]
    fn password_policy() {
        let p = PasswordPolicy::default();
        assert!(p.check("zhang", "Gusu-2026-secure").is_ok());
        assert!(matches!(
            p.check("zhang", "Short1!"),
            Err(PasswordError::TooShort { .. })
        ));
        assert!(matches!(
            p.check("zhang", "alllowercaseletters"),
            Err(PasswordError::TooSimple { .. })
        ));
        assert_eq!(
            p.check("zhang", "Zhang-2026-secure"),
            Err(PasswordError::ContainsUser)
        );
    }
}
