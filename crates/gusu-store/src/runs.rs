//! Evaluation runs and their per-enterprise results.

use gusu_core::Uscc;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::imports::{to_usize, uscc_id_or_insert};
use crate::{Store, StoreError, to_i64, uscc_at};

/// A run about to be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub year: i32,
    pub scheme: String,
    pub scheme_version: String,
    /// District code, or `None` for the whole city.
    pub region: Option<String>,
    pub created_at: String,
}

/// A saved run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub year: i32,
    pub scheme: String,
    pub scheme_version: String,
    pub region: Option<String>,
    pub created_at: String,
    pub published: bool,
    /// Number of results saved with the run.
    pub enterprises: usize,
}

/// One enterprise's result in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredResult {
    pub uscc: Uscc,
    pub group: Option<String>,
    pub status: String,
    pub class: Option<String>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    /// The explanation, as the engine serialised it.
    pub detail_json: String,
}

const RUN_COLUMNS: &str =
    "id, year, scheme, scheme_version, region, created_at, published, enterprises";

impl Store {
    /// Saves a run and all its results in one transaction; returns the run id. Results come back
    /// from [`Store::results`] in the order given here. A USCC may appear once per run.
    pub fn save_run(&mut self, run: &NewRun, results: &[StoredResult]) -> Result<i64, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let run_id = save_run_in(&tx, run, results)?;
        tx.commit()?;
        Ok(run_id)
    }

    /// Marks a run as published (idempotent). Earlier published runs stay published: the latest
    /// published run of a year is the one in force.
    pub fn publish_run(&mut self, run_id: i64) -> Result<(), StoreError> {
        publish_run_in(&self.conn, run_id)
    }

    /// A number that changes whenever data a page summarises may have changed: a new import
    /// batch, a new run, a publication. Readers cache summaries under it.
    pub fn data_version(&self) -> Result<(i64, i64, i64), StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM import_batches),
                        (SELECT COALESCE(MAX(id), 0) FROM runs),
                        (SELECT COUNT(*) FROM runs WHERE published = 1)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
    }

    /// Runs, oldest first, for one year or all.
    pub fn runs(&self, year: Option<i32>) -> Result<Vec<RunInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR year = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([year], run_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The most recent run of a year (any region), optionally only among published runs.
    pub fn latest_run(
        &self,
        year: i32,
        published_only: bool,
    ) -> Result<Option<RunInfo>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE year = ?1 AND (published = 1 OR NOT ?2)
             ORDER BY id DESC LIMIT 1"
        ))?;
        Ok(stmt
            .query_row(params![year, published_only], run_from)
            .optional()?)
    }

    /// The results of a run, in the order they were saved. An unknown run is an error.
    /// One enterprise's result in a run, if the run has it.
    pub fn result_for(&self, run_id: i64, uscc: &Uscc) -> Result<Option<StoredResult>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.uscc, r.grp, r.status, r.class, r.score, r.rank, r.detail_json
             FROM results r JOIN usccs u ON u.id = r.uscc_id
             WHERE r.run_id = ?1 AND u.uscc = ?2",
        )?;
        let mut rows = stmt.query(rusqlite::params![run_id, uscc.as_str()])?;
        match rows.next()? {
            None => Ok(None),
            Some(r) => Ok(Some(StoredResult {
                uscc: uscc_at(r, 0)?,
                group: r.get(1)?,
                status: r.get(2)?,
                class: r.get(3)?,
                score: r.get(4)?,
                rank: r.get(5)?,
                detail_json: r.get(6)?,
            })),
        }
    }

    pub fn results(&self, run_id: i64) -> Result<Vec<StoredResult>, StoreError> {
        let exists: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM runs WHERE id = ?1")?
            .query_row([run_id], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("run {run_id}")));
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT u.uscc, r.grp, r.status, r.class, r.score, r.rank, r.detail_json
             FROM results r JOIN usccs u ON u.id = r.uscc_id
             WHERE r.run_id = ?1 ORDER BY r.seq",
        )?;
        let mut rows = stmt.query([run_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(StoredResult {
                uscc: uscc_at(r, 0)?,
                group: r.get(1)?,
                status: r.get(2)?,
                class: r.get(3)?,
                score: r.get(4)?,
                rank: r.get(5)?,
                detail_json: r.get(6)?,
            });
        }
        Ok(out)
    }
}

fn run_from(r: &Row<'_>) -> rusqlite::Result<RunInfo> {
    Ok(RunInfo {
        id: r.get(0)?,
        year: r.get(1)?,
        scheme: r.get(2)?,
        scheme_version: r.get(3)?,
        region: r.get(4)?,
        created_at: r.get(5)?,
        published: r.get(6)?,
        enterprises: to_usize(r.get(7)?),
    })
}

/// See [`Store::save_run`]; inside the caller's transaction.
pub(crate) fn save_run_in(
    tx: &Connection,
    run: &NewRun,
    results: &[StoredResult],
) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO runs (year, scheme, scheme_version, region, created_at, enterprises)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            run.year,
            run.scheme,
            run.scheme_version,
            run.region,
            run.created_at,
            to_i64(results.len() as u64)
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO results (run_id, seq, uscc_id, grp, status, class, score, rank,
                     detail_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (seq, r) in results.iter().enumerate() {
            if let Some(score) = r.score.filter(|s| !s.is_finite()) {
                return Err(StoreError::InvalidValue {
                    row: seq as u64,
                    uscc: r.uscc.to_string(),
                    field: "score".into(),
                    value: score,
                });
            }
            let uscc_id = uscc_id_or_insert(tx, r.uscc.as_str())?;
            insert.execute(params![
                run_id,
                to_i64(seq as u64),
                uscc_id,
                r.group,
                r.status,
                r.class,
                r.score,
                r.rank,
                r.detail_json
            ])?;
        }
    }
    Ok(run_id)
}

/// See [`Store::publish_run`]; inside the caller's transaction.
pub(crate) fn publish_run_in(conn: &Connection, run_id: i64) -> Result<(), StoreError> {
    let changed = conn.execute(
        "UPDATE runs SET published = 1,
                 published_at = COALESCE(published_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             WHERE id = ?1",
        [run_id],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("run {run_id}")));
    }
    Ok(())
}
