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

fn account_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Account, String)> {
    let role: String = row.get(1)?;
    let uscc: Option<String> = row.get(3)?;
    Ok((
        Account {
            username: row.get(0)?,
            role: Role::from_key(&role).unwrap_or(Role::CityAnalyst),
            district: row.get(2)?,
            uscc: uscc.and_then(|u| Uscc::parse(&u).ok()),
            disabled: row.get::<_, i64>(4)? != 0,
            created_at: row.get(5)?,
            password_changed_at: row.get(6)?,
        },
        row.get(7)?,
    ))
}

const ACCOUNT_COLUMNS: &str =
    "username, role, district, uscc, disabled, created_at, password_changed_at, password_hash";

impl Store {
    /// Creates an account; its role and scope must make a valid viewer. Audited as `actor`.
    pub fn create_account(
        &mut self,
        actor: &str,
        username: &str,
        role: Role,
        district: Option<&str>,
        uscc: Option<Uscc>,
        password: &str,
    ) -> Result<(), StoreError> {
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
            "INSERT INTO accounts (username, role, district, uscc, password_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![username, role.key(), district, uscc.map(|u| u.to_string()), hash],
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

    /// The account, if the password is right and the account is enabled. Audited either way
    /// (without the password).
    pub fn sign_in(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<Option<Account>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?1"),
                [username],
                account_from,
            )
            .optional()?;
        let ok = match &found {
            Some((account, hash)) => !account.disabled && verify_password(password, hash),
            None => false,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit(
            &tx,
            username,
            if ok { "sign_in" } else { "sign_in_failed" },
            Some(username),
            None,
        )?;
        tx.commit()?;
        Ok(if ok { found.map(|(a, _)| a) } else { None })
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
            "UPDATE accounts SET password_hash = ?1,
                 password_changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE username = ?2",
            params![hash, username],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("account {username}")));
        }
        audit(&tx, actor, "password_reset", Some(username), None)?;
        tx.commit()?;
        Ok(())
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

fn audit(
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
                "sign_in_failed",
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
