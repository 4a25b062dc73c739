//! gusu's embedded store: one SQLite file holding the enterprise register, every value each
//! department sent (with its import batch, file, hash and row), the merged yearly records the
//! engines read, and the evaluation runs with their results.
//!
//! - **Open** ([`Store::open`]) sets WAL mode, `synchronous = NORMAL`, a busy timeout and foreign
//!   keys, then applies the forward-only migrations in `migrations/`; a file from a newer gusu is
//!   refused ([`StoreError::SchemaTooNew`]).
//! - **Imports** ([`Store::import_enterprises`], [`Store::import_annual`]) each run in one
//!   transaction: a crash mid-import leaves the previous state. The same file (kind, source,
//!   SHA-256) imported again writes nothing.
//! - **Merging**: values are kept per enterprise, year, field and source; a later file of the same
//!   source corrects (the old value goes to history), another source's differing value is a
//!   conflict, and [`SourcePriority`] decides the effective value at read time.
//!
//! `docs/store.md` describes the schema, the merge rules, backup and restore.

mod accounts;
mod annual;
mod cycle;
mod energy;
mod enterprises;
mod error;
mod evaluation;
mod imports;
mod metered;
mod migrate;
mod nzc;
mod policy;
mod priority;
mod records;
mod runs;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

pub use accounts::{
    Account, ApiToken, AuditEntry, Credentials, hash_password, prepare_verify_unknown,
    verify_password, verify_unknown,
};
pub use cycle::{
    Attachment, Confirmation, CycleInfo, CycleVersion, FieldValue, NewObjection, Notice, Objection,
};
pub use energy::{
    ENERGY_KIND, EnergyRow, METERED_MONTHS_KIND, MeteredMonth, MeteredMonthsImport,
    StoredEnergyLine,
};
pub use error::StoreError;
pub use evaluation::{REVIEWED_SOURCES, SavedEvaluation};
pub use imports::{BatchInfo, BatchMeta, Conflict, ImportProgress, ImportSummary, Uploader};
pub use metered::{METERED, MeteredDifference, MeteredImport};
pub use migrate::SCHEMA_VERSION;
pub use nzc::{NzcApplication, NzcEvent};
pub use policy::{
    DesignationRow, NewNotice, NoticeCounts, PolicyApplication, PolicyApplicationEvent,
    PolicyDraft, PolicyListInfo, PolicyNotice, ProjectRow,
};
pub use priority::SourcePriority;
pub use records::{AttributeChange, ValueLineage};
pub use runs::{NewRun, RunInfo, StoredResult};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A callback told how far an import has got (for progress bars).
type ProgressFn = Box<dyn FnMut(ImportProgress) + Send>;

/// An open gusu database.
pub struct Store {
    conn: Connection,
    priority: SourcePriority,
    /// Field ids by interchange key, and keys by id, loaded once at open.
    field_ids: HashMap<String, i64>,
    field_keys: HashMap<i64, String>,
    progress: Option<ProgressFn>,
}

/// Creates a database file that does not exist yet readable and writable by its owner only
/// (0600): it holds enterprises' tax and energy data. SQLite gives its -wal and -shm files the
/// same mode. An existing file keeps the mode its administrator gave it; a path that cannot be
/// created (a missing directory) is left for SQLite to report.
fn create_owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
    }
    #[cfg(not(unix))]
    let _ = path;
}

impl Store {
    /// Opens (creating if missing) the database at `path` and migrates it to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        create_owner_only(path);
        Store::setup(Connection::open(path)?)
    }

    /// A private database in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL: readers (the web server) never block the importer and vice versa; with WAL,
        // synchronous = NORMAL stays crash-safe (a power cut may lose the last commits, never
        // corrupt the file). journal_mode answers with the mode in force ("memory" in memory).
        // Switching a fresh file to WAL needs a lock SQLite does not wait for (no busy handler):
        // when another process opens the same new file at that moment, try again briefly.
        let started = std::time::Instant::now();
        let _mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => break other?,
            }
        };
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // A larger page cache keeps the B-tree pages of a million-row import in memory (64 MiB).
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        migrate::migrate(&mut conn)?;
        conn.set_prepared_statement_cache_capacity(64);

        let mut field_ids = HashMap::new();
        let mut field_keys = HashMap::new();
        {
            let mut stmt = conn.prepare("SELECT id, key FROM fields")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, key) = row?;
                field_ids.insert(key.clone(), id);
                field_keys.insert(id, key);
            }
        }
        Ok(Store {
            conn,
            priority: SourcePriority::default(),
            field_ids,
            field_keys,
            progress: None,
        })
    }

    /// Replaces the source priority. It applies to every read from now on (effective values are
    /// chosen at read time, so nothing stored goes stale).
    pub fn set_priority(&mut self, p: SourcePriority) {
        self.priority = p;
    }

    pub fn priority(&self) -> &SourcePriority {
        &self.priority
    }

    /// Registers a callback called during imports (after the transaction began, then every
    /// 10,000 rows). Pass `None` to remove it.
    pub fn set_progress(&mut self, f: Option<Box<dyn FnMut(ImportProgress) + Send>>) {
        self.progress = f;
    }

    /// Copies the whole database to `dest` with SQLite's online backup API, while other
    /// connections keep reading and writing. The copy is written next to `dest` and renamed into
    /// place, so `dest` is either the previous file or a complete backup, never half of one.
    pub fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        // Renaming a backup over the live database would destroy it (its WAL would then be
        // applied to the wrong file).
        if let Some(db) = self.conn.path().filter(|p| !p.is_empty())
            && let (Ok(a), Ok(b)) = (Path::new(db).canonicalize(), dest.canonicalize())
            && a == b
        {
            return Err(StoreError::BackupTarget(format!(
                "{} is the database itself",
                dest.display()
            )));
        }
        let mut tmp_name = dest.as_os_str().to_owned();
        tmp_name.push(".partial");
        let tmp = std::path::PathBuf::from(tmp_name);
        remove_if_exists(&tmp)?;
        {
            create_owner_only(&tmp);
            let mut dst = Connection::open(&tmp)?;
            {
                let backup = rusqlite::backup::Backup::new(&self.conn, &mut dst)?;
                // All pages in one step: one consistent read snapshot, never restarted by
                // concurrent writers (WAL lets them go on meanwhile). Busy or locked only
                // happens while another connection holds an exclusive lock: wait, within reason.
                let mut waited = Duration::ZERO;
                loop {
                    match backup.step(-1)? {
                        rusqlite::backup::StepResult::Done => break,
                        _ if waited < BUSY_TIMEOUT => {
                            std::thread::sleep(Duration::from_millis(50));
                            waited += Duration::from_millis(50);
                        }
                        _ => {
                            return Err(StoreError::BackupTarget(
                                "the database stayed locked; try again".into(),
                            ));
                        }
                    }
                }
            }
            // The copied header says WAL; a backup is better as one self-contained file.
            let _mode: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
            dst.close().map_err(|(_, e)| e)?;
        }
        std::fs::rename(&tmp, dest)?;
        Ok(())
    }

    /// SQLite's `PRAGMA integrity_check`: `"ok"` or the problems found.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.join("\n"))
    }

    /// The schema version of the open file (equals [`SCHEMA_VERSION`] after open).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::user_version(&self.conn)
    }

    fn field_id(&self, key: &str) -> Result<i64, StoreError> {
        self.field_ids.get(key).copied().ok_or_else(|| {
            StoreError::Corrupt(format!("field {key} is missing from the fields table"))
        })
    }

    fn field_key(&self, id: i64) -> Result<&str, StoreError> {
        self.field_keys
            .get(&id)
            .map(String::as_str)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown field id {id}")))
    }

    /// Source names by id.
    fn source_names(&self) -> Result<HashMap<i64, String>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, name FROM sources")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Priority rank of every (field id, source id) pair.
    fn ranks(&self) -> Result<priority::Ranks, StoreError> {
        let sources: Vec<(i64, String)> = self.source_names()?.into_iter().collect();
        Ok(priority::Ranks::build(
            self.field_keys.iter().map(|(id, key)| (*id, key.clone())),
            &sources,
            // Values staff decided after review (an accepted objection, a correction with its
            // reason) outrank every department's; among them the latest wins.
            |field, source| match REVIEWED_SOURCES.contains(&source) {
                true => Some(0),
                false => self.priority.rank(field, source).map(|r| r + 1),
            },
        ))
    }

    fn uscc_id(&self, uscc: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM usccs WHERE uscc = ?1")?
            .query_row([uscc], |r| r.get(0))
            .optional()?)
    }
}

fn remove_if_exists(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Parses a USCC read back from the database.
fn stored_uscc(s: &str) -> Result<gusu_core::Uscc, StoreError> {
    gusu_core::Uscc::parse(s).map_err(|e| StoreError::Corrupt(format!("USCC {s}: {e}")))
}

/// Row numbers and counts are u64/usize in Rust and INTEGER (i64) in SQLite.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Reads a USCC column (text) without allocating.
fn uscc_at(r: &rusqlite::Row<'_>, idx: usize) -> Result<gusu_core::Uscc, StoreError> {
    stored_uscc(text_at(r, idx)?)
}

fn text_at<'r>(r: &'r rusqlite::Row<'_>, idx: usize) -> Result<&'r str, StoreError> {
    r.get_ref(idx)?
        .as_str()
        .map_err(|e| StoreError::Corrupt(format!("column {idx}: {e}")))
}

#[cfg(test)]
mod tests {
    /// A figure or flag added to gusu-core needs a migration adding its row to `fields`: this
    /// fails until it has one.
    #[test]
    fn every_core_field_has_a_row() {
        let store = super::Store::open_in_memory().unwrap();
        let keys = gusu_core::Figure::ALL
            .iter()
            .map(|f| f.key())
            .chain(gusu_core::Flag::ALL.iter().map(|f| f.key()));
        for key in keys {
            assert!(
                store.field_id(key).is_ok(),
                "add a migration inserting field {key}"
            );
        }
    }

    /// The server shares one store between request handlers behind a mutex: it must be `Send`.
    #[test]
    fn store_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Store>();
    }
}
