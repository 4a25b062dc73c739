//! Accounts (who may sign in, with which role and scope) and the append-only audit log.
//!
//! Passwords are hashed here, at the only place accounts are written, with argon2id; the store
//! keeps the PHC string and never a password. Every change to an account writes its audit entry in
//! the same transaction.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use gusu_core::{Role, Uscc, Viewer};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::{Store, StoreError};

/// An account as listed (without its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub username: String,
    pub role: Role,
    pub district: Option<String>,
    pub uscc: Option<Uscc>,
    pub disabled: bool,
    pub created_at: String,
    pub password_changed_at: String,
    /// The page language the person chose ("zh" or "en"), if any.
    pub language: Option<String>,
    /// The password was set by an administrator (a new account's, or a reset): it must be
    /// changed at the next sign-in before anything else.
    pub must_change_password: bool,
}

impl Account {
    /// The viewer this account signs in as.
    pub fn viewer(&self) -> Result<Viewer, StoreError> {
        Viewer::new(
            &self.username,
            self.role,
            self.district.as_deref(),
            self.uscc,
        )
        .map_err(|e| StoreError::InvalidAccount(format!("account {}: {e}", self.username)))
    }
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub name: String,
    pub created_at: String,
    /// After this instant (UTC, RFC 3339) the token no longer signs in.
    pub expires_at: Option<String>,
    pub revoked: bool,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// Hashes a password to an argon2id PHC string with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::InvalidAccount(format!("cannot hash the password: {e}")))
}

/// True when `password` matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An account with its password hash, for a sign-in or password change to verify against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub account: Account,
    hash: String,
    /// The TOTP secret, when the account enrolled a second factor.
    totp_secret: Option<Vec<u8>>,
}

impl Credentials {
    /// True when the password is right and the account enabled (argon2: tens of milliseconds,
    /// run it off the async workers).
    pub fn verify(&self, password: &str) -> bool {
        // The hash is checked even for a disabled account, so both take the same time.
        let right = verify_password(password, &self.hash);
        right && !self.account.disabled
    }

    /// The account's TOTP secret, if it enrolled a second factor.
    pub fn totp_secret(&self) -> Option<&[u8]> {
        self.totp_secret.as_deref()
    }
}

/// A hash of the same cost as every account's, made once: a sign-in with a name that has no
/// account verifies against it, so it takes as long as a wrong password for a real account and
/// the answer time does not tell who has one.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("gusu: no account has this password").expect("argon2 hashes a fixed text")
    })
}

/// Verifies a password for a name with no account, at the cost of a real check; always false.
pub fn verify_unknown(password: &str) -> bool {
    verify_password(password, dummy_hash());
    false
}

/// Makes the dummy hash now (a server calls it at start, so the first unknown name is not slower).
pub fn prepare_verify_unknown() {
    dummy_hash();
}

/// Revokes every live API token of an account; how many.
fn revoke_tokens(tx: &rusqlite::Transaction<'_>, username: &str) -> Result<usize, StoreError> {
    Ok(tx.execute(
        "UPDATE api_tokens SET revoked = 1
         WHERE revoked = 0 AND account_id = (SELECT id FROM accounts WHERE username = ?1)",
        [username],
    )?)
}

fn account_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Account, String)> {
    let role: String = row.get(1)?;
    let uscc: Option<String> = row.get(3)?;
    Ok((
        Account {
            username: row.get(0)?,
            // A role this binary does not know (a newer version wrote it) grants nothing: the
            // account cannot be read, so it cannot sign in, rather than fall back to a role.
            role: Role::from_key(&role).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    format!("unknown role {role:?}").into(),
                )
            })?,
            district: row.get(2)?,
            uscc: uscc.and_then(|u| Uscc::parse(&u).ok()),
            disabled: row.get::<_, i64>(4)? != 0,
            created_at: row.get(5)?,
            password_changed_at: row.get(6)?,
            language: row.get(7)?,
            must_change_password: row.get::<_, i64>(9)? != 0,
        },
        row.get(8)?,
    ))
}

const ACCOUNT_COLUMNS: &str = "username, role, district, uscc, disabled, created_at, \
     password_changed_at, language, password_hash, must_change_password";

impl Store {
    /// Creates an account; its role and scope must make a valid viewer. Audited as `actor`.
    /// The password is the owner's own (set up from the command line); an account whose first
    /// password an administrator chose is made with [`Store::create_account_to_change`].
    pub fn create_account(
        &mut self,
        actor: &str,
        username: &str,
        role: Role,
        district: Option<&str>,
        uscc: Option<Uscc>,
        password: &str,
    ) -> Result<(), StoreError> {
        self.create_account_with(actor, username, role, district, uscc, password, false)
    }

    /// Creates an account whose password an administrator set: it must be changed at the first
    /// sign-in.
    pub fn create_account_to_change(
        &mut self,
        actor: &str,
        username: &str,
        role: Role,
        district: Option<&str>,
        uscc: Option<Uscc>,
        password: &str,
    ) -> Result<(), StoreError> {
        self.create_account_with(actor, username, role, district, uscc, password, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn create_account_with(
        &mut self,
        actor: &str,
        username: &str,
        role: Role,
        district: Option<&str>,
        uscc: Option<Uscc>,
        password: &str,
        must_change: bool,
    ) -> Result<(), StoreError> {
        // The same rule on every path (the command line's too): names go into URLs and logs.
        if !gusu_core::access::valid_username(username) {
            return Err(StoreError::InvalidAccount(format!(
                "the user name {username:?} must be 1 to 64 letters, digits, '_', '-' or '.'"
            )));
        }
        Viewer::new(username, role, district, uscc)
            .map_err(|e| StoreError::InvalidAccount(format!("account {username}: {e}")))?;
        let hash = hash_password(password)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT id FROM accounts WHERE username = ?1",
                [username],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::InvalidAccount(format!(
                "account {username} exists already"
            )));
        }
        tx.execute(
            "INSERT INTO accounts (username, role, district, uscc, password_hash, must_change_password)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                username,
                role.key(),
                district,
                uscc.map(|u| u.to_string()),
                hash,
                must_change as i64
            ],
        )?;
        audit(
            &tx,
            actor,
            "account_created",
            Some(username),
            Some(&format!("role {}", role.key())),
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username"
        ))?;
        let rows = stmt.query_map([], account_from)?;
        Ok(rows.map(|r| r.map(|(a, _)| a)).collect::<Result<_, _>>()?)
    }

    /// One account by name (without its hash).
    pub fn account(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?1"),
                [username],
                account_from,
            )
            .optional()?;
        Ok(found.map(|(a, _)| a))
    }

    /// What a sign-in checks, read without writing: the account and its password hash. The
    /// caller verifies the password ([`Credentials::verify`], or [`verify_unknown`] when there is
    /// no such account, which costs the same) away from the store's writer, then records the
    /// outcome with [`Store::record_sign_in`].
    pub fn credentials(&self, username: &str) -> Result<Option<Credentials>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS}, totp_secret FROM accounts WHERE username = ?1"),
                [username],
                |r| Ok((account_from(r)?, r.get::<_, Option<Vec<u8>>>(10)?)),
            )
            .optional()?;
        Ok(found.map(|((account, hash), totp_secret)| Credentials {
            account,
            hash,
            totp_secret,
        }))
    }

    /// Audits a sign-in's outcome for an existing account (a made-up name leaves no row).
    pub fn record_sign_in(&mut self, username: &str, ok: bool) -> Result<(), StoreError> {
        self.audit(
            username,
            if ok { "sign_in" } else { "sign_in_failed" },
            Some(username),
            None,
        )
    }

    /// The account, if the password is right and the account is enabled. Audited when the
    /// account exists (without the password). The web server does the same in steps, so the
    /// password check runs outside the writer.
    pub fn sign_in(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<Option<Account>, StoreError> {
        let Some(credentials) = self.credentials(username)? else {
            verify_unknown(password);
            return Ok(None);
        };
        let ok = credentials.verify(password);
        self.record_sign_in(username, ok)?;
        Ok(ok.then_some(credentials.account))
    }

    /// Remembers the page language an account chose ("zh" or "en"). A preference, not audited.
    pub fn set_language(&mut self, username: &str, language: &str) -> Result<(), StoreError> {
        if !matches!(language, "zh" | "en") {
            return Err(StoreError::InvalidAccount(format!(
                "language {language}: zh or en"
            )));
        }
        let n = self.conn.execute(
            "UPDATE accounts SET language = ?1 WHERE username = ?2",
            params![language, username],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {username}")));
        }
        Ok(())
    }

    /// Changes a password given the current one (the account's own change, e.g. when it has
    /// expired). Returns false, changing nothing, when the current password is wrong or the
    /// account is disabled. The caller checks the new password against the policy. The web
    /// server does the same in steps ([`Store::credentials`], [`Store::set_own_password`]).
    pub fn change_password(
        &mut self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let checked = match self.credentials(username)? {
            Some(credentials) if credentials.verify(current) => Some(credentials),
            Some(_) => None,
            None => {
                verify_unknown(current);
                return Ok(false);
            }
        };
        match checked {
            Some(credentials) => {
                let new_hash = hash_password(new)?;
                self.set_own_password(&credentials, &new_hash)
            }
            None => {
                self.record_password_change_failed(username)?;
                Ok(false)
            }
        }
    }

    /// Sets an account's own new password (hashed by the caller), whose current password the
    /// caller verified against `checked`. Changes nothing and answers false when the password
    /// changed in between (an administrator's reset) or the account was disabled. The account's
    /// API tokens are revoked: whoever knew the old password may have made them.
    pub fn set_own_password(
        &mut self,
        checked: &Credentials,
        new_hash: &str,
    ) -> Result<bool, StoreError> {
        let username = &checked.account.username;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE accounts SET password_hash = ?1, must_change_password = 0,
                 password_changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE username = ?2 AND password_hash = ?3 AND disabled = 0",
            params![new_hash, username, checked.hash],
        )? == 1;
        if !changed {
            audit(
                &tx,
                username,
                "password_change_failed",
                Some(username),
                None,
            )?;
            tx.commit()?;
            return Ok(false);
        }
        let revoked = revoke_tokens(&tx, username)?;
        let detail = (revoked > 0).then(|| format!("{revoked} API tokens revoked"));
        audit(
            &tx,
            username,
            "password_changed",
            Some(username),
            detail.as_deref(),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Audits a password change refused for a wrong current password.
    pub fn record_password_change_failed(&mut self, username: &str) -> Result<(), StoreError> {
        self.audit(username, "password_change_failed", Some(username), None)
    }

    pub fn set_account_disabled(
        &mut self,
        actor: &str,
        username: &str,
        disabled: bool,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE accounts SET disabled = ?1 WHERE username = ?2",
            params![disabled as i64, username],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {username}")));
        }
        audit(
            &tx,
            actor,
            if disabled {
                "account_disabled"
            } else {
                "account_enabled"
            },
            Some(username),
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (or with `None` removes) an account's TOTP secret, audited as `actor`. A new secret
    /// forgets the last accepted time step.
    pub fn set_totp_secret(
        &mut self,
        actor: &str,
        username: &str,
        secret: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE accounts SET totp_secret = ?1, totp_last_step = NULL WHERE username = ?2",
            params![secret, username],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {username}")));
        }
        let action = if secret.is_some() {
            "totp_enrolled"
        } else {
            "totp_removed"
        };
        audit(&tx, actor, action, Some(username), None)?;
        tx.commit()?;
        Ok(())
    }

    /// Takes a TOTP code's time step for the account: false when a code of this step or a later
    /// one was taken already (a replayed code), checked and written in one transaction.
    pub fn take_totp_step(&mut self, username: &str, step: i64) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE accounts SET totp_last_step = ?1
                 WHERE username = ?2 AND (totp_last_step IS NULL OR totp_last_step < ?1)",
            params![step, username],
        )?;
        Ok(n == 1)
    }

    /// An administrator sets a new password: the owner must change it at the next sign-in, and
    /// the account's API tokens are revoked (whoever held the old password may have made them).
    pub fn reset_password(
        &mut self,
        actor: &str,
        username: &str,
        password: &str,
    ) -> Result<(), StoreError> {
        let hash = hash_password(password)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE accounts SET password_hash = ?1, must_change_password = 1,
                 password_changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE username = ?2",
            params![hash, username],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {username}")));
        }
        let revoked = revoke_tokens(&tx, username)?;
        let detail = (revoked > 0).then(|| format!("{revoked} API tokens revoked"));
        audit(
            &tx,
            actor,
            "password_reset",
            Some(username),
            detail.as_deref(),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records an API token for an account by its SHA-256 (hex), valid for `valid_days` days;
    /// the caller made the token and shows it once.
    pub fn add_api_token(
        &mut self,
        actor: &str,
        username: &str,
        name: &str,
        token_sha256: &str,
        valid_days: u32,
    ) -> Result<(), StoreError> {
        if valid_days == 0 {
            return Err(StoreError::InvalidAccount(format!(
                "token {name}: it must be valid for at least one day"
            )));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM accounts WHERE username = ?1",
                [username],
                |r| r.get(0),
            )
            .optional()?;
        let id = id.ok_or_else(|| StoreError::NotFound(format!("account {username}")))?;
        tx.execute(
            "INSERT INTO api_tokens (account_id, name, token_sha256, expires_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?4))",
            params![id, name, token_sha256, format!("+{valid_days} days")],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::InvalidAccount(format!("{username} already has a token named {name}"))
            }
            other => other.into(),
        })?;
        audit(&tx, actor, "token_created", Some(username), Some(name))?;
        tx.commit()?;
        Ok(())
    }

    pub fn revoke_api_token(
        &mut self,
        actor: &str,
        username: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE api_tokens SET revoked = 1
             WHERE name = ?2 AND account_id = (SELECT id FROM accounts WHERE username = ?1)",
            params![username, name],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("token {name} of {username}")));
        }
        audit(&tx, actor, "token_revoked", Some(username), Some(name))?;
        tx.commit()?;
        Ok(())
    }

    pub fn api_tokens(&self, username: &str) -> Result<Vec<ApiToken>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT t.name, t.created_at, t.revoked, t.expires_at FROM api_tokens t
             JOIN accounts a ON a.id = t.account_id WHERE a.username = ?1 ORDER BY t.name",
        )?;
        let rows = stmt.query_map([username], |r| {
            Ok(ApiToken {
                name: r.get(0)?,
                created_at: r.get(1)?,
                expires_at: r.get(3)?,
                revoked: r.get::<_, i64>(2)? != 0,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The enabled account a live token (not revoked, not expired) belongs to. The caller also
    /// holds the account to its password rules (expired, or set by an administrator).
    pub fn account_for_token(&self, token_sha256: &str) -> Result<Option<Account>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM accounts a JOIN api_tokens t ON t.account_id = a.id
                     WHERE t.token_sha256 = ?1 AND t.revoked = 0 AND a.disabled = 0
                       AND (t.expires_at IS NULL
                            OR t.expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    ACCOUNT_COLUMNS
                        .split(", ")
                        .map(|c| format!("a.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                [token_sha256],
                account_from,
            )
            .optional()?;
        Ok(found.map(|(a, _)| a))
    }

    /// Appends an entry to the audit log (in its own transaction).
    pub fn audit(
        &mut self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit(&tx, actor, action, target, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// A page of the log, newest first: the entries of `actor` and `action` (exact, when given),
    /// skipping the newest `offset`, at most `limit`; and how many entries match in all.
    pub fn audit_page(
        &self,
        actor: Option<&str>,
        action: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<AuditEntry>, usize), StoreError> {
        let filter = "(?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR action = ?2)";
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM audit_log WHERE {filter}"),
            params![actor, action],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, at, actor, action, target, detail FROM audit_log WHERE {filter}
             ORDER BY id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt.query_map(
            params![
                actor,
                action,
                i64::try_from(limit).unwrap_or(i64::MAX),
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    detail: r.get(5)?,
                })
            },
        )?;
        let entries = rows.collect::<Result<_, _>>()?;
        Ok((entries, usize::try_from(total).unwrap_or(0)))
    }

    /// The newest `limit` entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(crate) fn audit(
    conn: &rusqlite::Connection,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (actor, action, target, detail) VALUES (?1, ?2, ?3, ?4)",
        params![actor, action, target, detail],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_changes_only_with_the_current_one() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "sysadmin",
            "analyst",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        let before = s.accounts().unwrap()[0].clone();
        assert!(
            !s.change_password("analyst", "wrong", "Gusu-2027-better")
                .unwrap()
        );
        assert!(s.sign_in("analyst", "Gusu-2026-secure").unwrap().is_some());
        assert!(
            !s.change_password("nobody", "Gusu-2026-secure", "Gusu-2027-better")
                .unwrap()
        );
        assert!(
            s.change_password("analyst", "Gusu-2026-secure", "Gusu-2027-better")
                .unwrap()
        );
        assert!(s.sign_in("analyst", "Gusu-2026-secure").unwrap().is_none());
        assert!(s.sign_in("analyst", "Gusu-2027-better").unwrap().is_some());
        assert!(s.accounts().unwrap()[0].password_changed_at >= before.password_changed_at);
        let actions: Vec<String> = s
            .audit_log(100)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"password_changed".to_string()));
        assert!(actions.contains(&"password_change_failed".to_string()));
        assert!(!format!("{actions:?}").contains("Gusu-2027"));
    }

    #[test]
    fn a_totp_step_is_taken_once_and_a_new_secret_forgets_it() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "security",
            "root",
            Role::SecurityAdmin,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        assert_eq!(s.credentials("root").unwrap().unwrap().totp_secret(), None);
        s.set_totp_secret("security", "root", Some(b"0123456789abcdefghij"))
            .unwrap();
        let credentials = s.credentials("root").unwrap().unwrap();
        assert_eq!(
            credentials.totp_secret(),
            Some(&b"0123456789abcdefghij"[..])
        );
        // Step 100 is taken once; an earlier step is refused after it, a later one taken.
        assert!(s.take_totp_step("root", 100).unwrap());
        assert!(!s.take_totp_step("root", 100).unwrap());
        assert!(!s.take_totp_step("root", 99).unwrap());
        assert!(s.take_totp_step("root", 101).unwrap());
        // A new secret starts over; removing it leaves none.
        s.set_totp_secret("security", "root", Some(b"another secret 20 by"))
            .unwrap();
        assert!(s.take_totp_step("root", 50).unwrap());
        s.set_totp_secret("security", "root", None).unwrap();
        assert_eq!(s.credentials("root").unwrap().unwrap().totp_secret(), None);
        assert!(matches!(
            s.set_totp_secret("security", "nobody", None),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn an_account_remembers_its_language() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "sysadmin",
            "analyst",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        assert_eq!(s.accounts().unwrap()[0].language, None);
        s.set_language("analyst", "en").unwrap();
        assert_eq!(s.accounts().unwrap()[0].language.as_deref(), Some("en"));
        assert!(s.set_language("analyst", "fr").is_err());
        assert!(s.set_language("nobody", "zh").is_err());
        let signed_in = s.sign_in("analyst", "Gusu-2026-secure").unwrap().unwrap();
        assert_eq!(signed_in.language.as_deref(), Some("en"));
    }

    #[test]
    fn accounts_sign_in_and_every_change_is_audited() {
        let mut s = Store::open_in_memory().unwrap();
        let code = Uscc::with_check_character("91320583MA0000001").unwrap();
        s.create_account(
            "sysadmin",
            "ent1",
            Role::Enterprise,
            None,
            Some(code),
            "Gusu-2026-secure",
        )
        .unwrap();
        s.create_account(
            "sysadmin",
            "kunshan",
            Role::DistrictOfficer,
            Some("320583"),
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        // A role with the wrong scope is refused, and so is a second account of the same name.
        assert!(
            s.create_account(
                "sysadmin",
                "bad",
                Role::Enterprise,
                Some("320583"),
                None,
                "x"
            )
            .is_err()
        );
        assert!(
            s.create_account("sysadmin", "ent1", Role::CityAnalyst, None, None, "x")
                .is_err()
        );

        let a = s
            .sign_in("ent1", "Gusu-2026-secure")
            .unwrap()
            .expect("signs in");
        assert_eq!(
            a.viewer().unwrap().scope,
            gusu_core::Scope::Enterprise(code)
        );
        assert!(s.sign_in("ent1", "wrong").unwrap().is_none());
        assert!(s.sign_in("nobody", "Gusu-2026-secure").unwrap().is_none());

        s.set_account_disabled("sysadmin", "ent1", true).unwrap();
        assert!(
            s.sign_in("ent1", "Gusu-2026-secure").unwrap().is_none(),
            "disabled"
        );
        s.set_account_disabled("sysadmin", "ent1", false).unwrap();
        s.reset_password("sysadmin", "ent1", "Another-2026-pass")
            .unwrap();
        assert!(s.sign_in("ent1", "Gusu-2026-secure").unwrap().is_none());
        assert!(s.sign_in("ent1", "Another-2026-pass").unwrap().is_some());

        let actions: Vec<String> = s
            .audit_log(100)
            .unwrap()
            .into_iter()
            .rev()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "account_created",
                "account_created",
                "sign_in",
                // ent1's wrong password; "nobody" has no account and leaves no row.
                "sign_in_failed",
                "account_disabled",
                "sign_in_failed",
                "account_enabled",
                "password_reset",
                "sign_in_failed",
                "sign_in",
            ]
        );
        // No password and no hash ever reach the log.
        for e in s.audit_log(100).unwrap() {
            let text = format!("{e:?}");
            assert!(
                !text.contains("Gusu-2026") && !text.contains("argon2"),
                "{text}"
            );
        }
    }

    #[test]
    fn api_tokens_are_kept_as_hashes_and_revocable() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "t",
            "analyst",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        s.add_api_token("t", "analyst", "nightly", "ab12", 90)
            .unwrap();
        assert!(
            s.add_api_token("t", "analyst", "nightly", "cd34", 90)
                .is_err(),
            "one name once"
        );
        assert!(s.add_api_token("t", "nobody", "x", "ef56", 90).is_err());
        assert_eq!(
            s.account_for_token("ab12").unwrap().unwrap().username,
            "analyst"
        );
        assert!(s.account_for_token("zz").unwrap().is_none());
        s.set_account_disabled("t", "analyst", true).unwrap();
        assert!(
            s.account_for_token("ab12").unwrap().is_none(),
            "a disabled account's tokens stop"
        );
        s.set_account_disabled("t", "analyst", false).unwrap();
        s.revoke_api_token("t", "analyst", "nightly").unwrap();
        assert!(s.account_for_token("ab12").unwrap().is_none(), "revoked");
        assert!(s.api_tokens("analyst").unwrap()[0].revoked);
    }

    #[test]
    fn an_admin_set_password_must_be_changed_and_a_reset_revokes_the_tokens() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "cli",
            "own",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        s.create_account_to_change(
            "sys",
            "set",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        assert!(!s.account("own").unwrap().unwrap().must_change_password);
        assert!(s.account("set").unwrap().unwrap().must_change_password);
        assert!(
            s.change_password("set", "Gusu-2026-secure", "Gusu-2027-better")
                .unwrap()
        );
        assert!(!s.account("set").unwrap().unwrap().must_change_password);

        s.add_api_token("own", "own", "nightly", "ab12", 90)
            .unwrap();
        s.add_api_token("own", "own", "weekly", "cd34", 90).unwrap();
        s.add_api_token("set", "set", "other", "ef56", 90).unwrap();
        s.reset_password("sec", "own", "Another-2026-pass").unwrap();
        let own = s.account("own").unwrap().unwrap();
        assert!(own.must_change_password);
        assert!(s.account_for_token("ab12").unwrap().is_none());
        assert!(s.account_for_token("cd34").unwrap().is_none());
        assert!(s.api_tokens("own").unwrap().iter().all(|t| t.revoked));
        assert_eq!(
            s.account_for_token("ef56").unwrap().unwrap().username,
            "set",
            "another account's token lives on"
        );
        let reset = s.audit_page(None, Some("password_reset"), 0, 10).unwrap().0;
        assert_eq!(reset[0].detail.as_deref(), Some("2 API tokens revoked"));
    }

    #[test]
    fn tokens_expire_and_an_own_password_change_revokes_them() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "t",
            "own",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        s.add_api_token("own", "own", "old", "ab12", 1).unwrap();
        s.add_api_token("own", "own", "new", "cd34", 30).unwrap();
        assert!(s.add_api_token("own", "own", "never", "ef56", 0).is_err());
        // The first token's day has passed.
        s.conn
            .execute(
                "UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE name = 'old'",
                [],
            )
            .unwrap();
        assert!(s.account_for_token("ab12").unwrap().is_none(), "expired");
        assert!(s.account_for_token("cd34").unwrap().is_some());
        let listed = s.api_tokens("own").unwrap();
        // Listed by name: "new", then "old".
        assert!(listed[0].expires_at.as_deref().unwrap() > "2026");
        assert_eq!(
            listed[1].expires_at.as_deref(),
            Some("2020-01-01T00:00:00Z")
        );

        // A change checked against the hash read before an administrator's reset changes
        // nothing: the reset's password stands.
        let before = s.credentials("own").unwrap().unwrap();
        assert!(before.verify("Gusu-2026-secure") && !before.verify("wrong"));
        s.reset_password("sec", "own", "Reset-2026-secret").unwrap();
        let late = hash_password("Mine-2026-secret").unwrap();
        assert!(!s.set_own_password(&before, &late).unwrap());
        assert!(s.sign_in("own", "Reset-2026-secret").unwrap().is_some());

        s.add_api_token("own", "own", "later", "gh78", 30).unwrap();
        assert!(
            s.change_password("own", "Reset-2026-secret", "Mine-2026-secret")
                .unwrap()
        );
        assert!(s.account_for_token("gh78").unwrap().is_none(), "revoked");
        let changed = s
            .audit_page(None, Some("password_changed"), 0, 10)
            .unwrap()
            .0;
        assert_eq!(changed[0].detail.as_deref(), Some("1 API tokens revoked"));
    }

    #[test]
    fn a_made_up_name_leaves_no_audit_row_and_costs_a_real_check() {
        let mut s = Store::open_in_memory().unwrap();
        let (before, _) = s.audit_page(None, None, 0, 100).unwrap();
        assert!(s.sign_in("nobody", "whatever").unwrap().is_none());
        assert!(
            !s.change_password("nobody", "whatever", "Other-2026-pass")
                .unwrap()
        );
        assert_eq!(s.audit_page(None, None, 0, 100).unwrap().0, before);
        // The dummy hash is an argon2id hash of the same parameters as every account's.
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            dummy_hash().split('$').nth(3),
            hash_password("x").unwrap().split('$').nth(3)
        );
    }

    #[test]
    fn an_unknown_stored_role_is_an_error_not_a_role() {
        let mut s = Store::open_in_memory().unwrap();
        s.create_account(
            "t",
            "odd",
            Role::CityAnalyst,
            None,
            None,
            "Gusu-2026-secure",
        )
        .unwrap();
        // As a newer binary might have written it (the CHECK constraint set aside).
        s.conn
            .pragma_update(None, "ignore_check_constraints", true)
            .unwrap();
        s.conn
            .execute(
                "UPDATE accounts SET role = 'superuser' WHERE username = 'odd'",
                [],
            )
            .unwrap();
        assert!(s.account("odd").is_err());
        assert!(s.credentials("odd").is_err());
        assert!(s.sign_in("odd", "Gusu-2026-secure").is_err());
    }

    #[test]
    fn a_user_name_with_spaces_or_markup_is_refused_on_every_path() {
        let mut s = Store::open_in_memory().unwrap();
        for bad in ["a b", "<b>x</b>", "a/b"] {
            let err = s
                .create_account("t", bad, Role::CityAnalyst, None, None, "Gusu-2026-secure")
                .unwrap_err();
            assert!(err.to_string().contains("user name"), "{err}");
        }
        assert!(s.accounts().unwrap().is_empty());
    }

    #[test]
    fn the_audit_log_cannot_be_changed() {
        let mut s = Store::open_in_memory().unwrap();
        s.audit("cli", "import", Some("x.csv"), None).unwrap();
        assert!(
            s.conn
                .execute("UPDATE audit_log SET actor = 'someone else'", [])
                .is_err()
        );
        assert!(s.conn.execute("DELETE FROM audit_log", []).is_err());
        assert_eq!(s.audit_log(10).unwrap().len(), 1);
    }

    #[test]
    fn the_audit_log_pages_by_actor_and_action() {
        let mut s = Store::open_in_memory().unwrap();
        for i in 0..5 {
            s.audit("a", "import", Some(&format!("f{i}")), None)
                .unwrap();
        }
        s.audit("b", "import", Some("g"), None).unwrap();
        s.audit("a", "export", Some("h"), None).unwrap();
        // 5 imports by a: newest first, the second page of two is f2, f1.
        let (page, total) = s.audit_page(Some("a"), Some("import"), 2, 2).unwrap();
        assert_eq!(total, 5);
        let targets: Vec<_> = page.iter().map(|e| e.target.clone().unwrap()).collect();
        assert_eq!(targets, ["f2", "f1"]);
        assert_eq!(s.audit_page(None, None, 0, 100).unwrap().1, 7);
        assert_eq!(s.audit_page(None, Some("import"), 0, 100).unwrap().1, 6);
        assert_eq!(
            s.audit_page(Some("nobody"), None, 0, 10).unwrap(),
            (vec![], 0)
        );
        assert!(s.account("a").unwrap().is_none());
    }

    #[test]
    fn hashes_are_salted_and_verify() {
        let (a, b) = (
            hash_password("Gusu-2026-secure").unwrap(),
            hash_password("Gusu-2026-secure").unwrap(),
        );
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.starts_with("$argon2id$"));
        assert!(
            verify_password("Gusu-2026-secure", &a) && !verify_password("gusu-2026-secure", &a)
        );
        assert!(!verify_password("x", "not a hash"));
    }
}
