//! Forward-only schema migrations, applied at open.
//!
//! The schema version is SQLite's `user_version` (in the file header, so it is read and written
//! inside the same transaction as the migration it records); `schema_migrations` keeps a readable
//! log of what was applied when. A database whose version is newer than the last migration this
//! binary knows is refused rather than guessed at.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::StoreError;

/// (version, name, SQL). Versions are 1, 2, 3, ... without gaps; never edit a released entry.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "accounts",
        include_str!("../migrations/0002_accounts.sql"),
    ),
    (
        3,
        "api_tokens",
        include_str!("../migrations/0003_api_tokens.sql"),
    ),
    (4, "cycle", include_str!("../migrations/0004_cycle.sql")),
    (
        5,
        "account_language",
        include_str!("../migrations/0005_account_language.sql"),
    ),
    (6, "energy", include_str!("../migrations/0006_energy.sql")),
    (
        7,
        "nzc_applications",
        include_str!("../migrations/0007_nzc_applications.sql"),
    ),
    (
        8,
        "import_sheets",
        include_str!("../migrations/0008_import_sheets.sql"),
    ),
    (
        9,
        "security",
        include_str!("../migrations/0009_security.sql"),
    ),
    (
        10,
        "token_expiry",
        include_str!("../migrations/0010_token_expiry.sql"),
    ),
    (
        11,
        "cycle_version_enterprise",
        include_str!("../migrations/0011_cycle_version_enterprise.sql"),
    ),
    (12, "totp", include_str!("../migrations/0012_totp.sql")),
    (
        13,
        "audit_action_index",
        include_str!("../migrations/0013_audit_action_index.sql"),
    ),
    (
        14,
        "policy_facts",
        include_str!("../migrations/0014_policy_facts.sql"),
    ),
    (
        15,
        "policy_workflow",
        include_str!("../migrations/0015_policy_workflow.sql"),
    ),
    (
        16,
        "policy_applications",
        include_str!("../migrations/0016_policy_applications.sql"),
    ),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Brings the database up to [`SCHEMA_VERSION`]. Each migration runs in its own transaction, so a
/// crash between two leaves a database at a known earlier version that the next open continues.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // A migration may rebuild a table others refer to (SQLite's 12-step procedure): foreign keys
    // are off while migrations run (the pragma is a no-op inside a transaction, so it is set
    // here) and each migration's result is checked with foreign_key_check before it commits.
    let enforced: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = apply(conn);
    conn.pragma_update(None, "foreign_keys", enforced)?;
    result
}

fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    for &(version, name, sql) in MIGRATIONS {
        // IMMEDIATE takes the write lock before the version is read: two processes opening a
        // fresh file at once cannot both apply the same migration.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = user_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        if current >= version {
            continue;
        }
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             );",
        )?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            params![version, name],
        )?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!(
                "migration {version} ({name}) leaves rows of {table} without the row they refer to"
            )));
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn user_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, (v, _, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1);
        }
    }

    #[test]
    fn fresh_database_reaches_latest_version_and_reapplying_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        migrate(&mut conn).unwrap();
        let logged: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(logged, MIGRATIONS.len() as i64);
    }

    #[test]
    fn newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1)
        );
        // Nothing was created in the refused file.
        let tables: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
