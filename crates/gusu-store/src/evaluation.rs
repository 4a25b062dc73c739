//! Evaluating the stored data and saving the run: the one path the CLI's `evaluate` and the web's
//! evaluation cycle share. Also the correction imports that staff decide (an accepted objection,
//! a correction with its reason), which outrank every department's values.

use gusu_core::evaluate::tally::Tally;
use gusu_core::evaluate::{EvaluationSummary, evaluate_each};
use gusu_core::{EvaluationInput, Scheme, SourceRow, YearlyRecord};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::accounts::audit;
use crate::imports::BatchMeta;
use crate::runs::save_run_in;
use crate::{NewRun, Store, StoreError, StoredResult};

/// Sources whose values were decided by staff after review: `objection` (an accepted objection's
/// corrections) and `correction` (a correction with its reason). They outrank the departments'
/// priority, the latest of them first, and no department file may use their names.
pub const REVIEWED_SOURCES: [&str; 2] = ["objection", "correction"];

/// A run just evaluated and saved.
#[derive(Debug, Clone)]
pub struct SavedEvaluation {
    pub run_id: i64,
    pub summary: EvaluationSummary,
    pub tally: Tally,
}

pub(crate) fn refuse_reviewed_source(source: &str) -> Result<(), StoreError> {
    let source = crate::priority::normalise_source(source);
    if REVIEWED_SOURCES.contains(&source.as_str()) {
        return Err(StoreError::InvalidBatch(format!(
            "the source “{source}” is reserved for corrections decided in the evaluation cycle"
        )));
    }
    Ok(())
}

/// Now, as the runs table writes it.
pub(crate) fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Evaluates the stored data of `year` (and the year before where the scheme needs it) for
    /// the city or one district, saves the run and audits it, in one transaction.
    pub fn evaluate_and_save(
        &mut self,
        scheme: &Scheme,
        year: i32,
        district: Option<&str>,
        actor: &str,
    ) -> Result<SavedEvaluation, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let saved = self.evaluate_in(&tx, scheme, year, district, chrono::Utc::now())?;
        audit(
            &tx,
            actor,
            "evaluation_run",
            Some(&format!("run {}", saved.run_id)),
            Some(&scheme.id()),
        )?;
        tx.commit()?;
        Ok(saved)
    }

    /// Evaluates and saves inside the caller's transaction (reads see its uncommitted writes).
    pub(crate) fn evaluate_in(
        &self,
        conn: &Connection,
        scheme: &Scheme,
        year: i32,
        district: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SavedEvaluation, StoreError> {
        let enterprises = self.enterprises()?;
        let mut records = self.yearly_records(year)?;
        if scheme.needs_prior_year() {
            records.extend(self.yearly_records(year - 1)?);
        }
        let input = EvaluationInput {
            year,
            enterprises: &enterprises,
            records: &records,
            district,
        };
        let mut tally = Tally::default();
        let mut results: Vec<StoredResult> = Vec::new();
        let mut encoding: Option<serde_json::Error> = None;
        let summary = evaluate_each(scheme, &input, |r| {
            tally.add(&r);
            let detail_json = serde_json::to_string(&r).unwrap_or_else(|e| {
                encoding.get_or_insert(e);
                String::new()
            });
            results.push(StoredResult {
                uscc: r.uscc,
                group: Some(r.group.key().to_string()),
                status: r.status.key().to_string(),
                class: r.class.as_deref().map(str::to_string),
                score: r.score,
                rank: r.rank,
                detail_json,
            });
        })?;
        if let Some(e) = encoding {
            return Err(StoreError::Corrupt(format!("result not encodable: {e}")));
        }
        let run = NewRun {
            year,
            scheme: scheme.name.clone(),
            scheme_version: scheme.version.clone(),
            region: district.map(str::to_string),
            created_at: timestamp(now),
        };
        let run_id = save_run_in(conn, &run, &results)?;
        Ok(SavedEvaluation {
            run_id,
            summary,
            tally,
        })
    }

    /// Writes one enterprise's corrected values for a year as an import batch of a reviewed
    /// source, inside the caller's transaction. `label` names the batch (it is the lineage's
    /// "file": e.g. `objection 12, decided by analyst`); the batch hash is the SHA-256 of the
    /// label and the values, so the same correction is never written twice.
    pub(crate) fn write_reviewed_values(
        &self,
        source: &str,
        label: &str,
        record: YearlyRecord,
    ) -> Result<i64, StoreError> {
        debug_assert!(REVIEWED_SOURCES.contains(&source));
        let mut hasher = Sha256::new();
        hasher.update(label.as_bytes());
        hasher.update(
            serde_json::to_string(&record)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                .as_bytes(),
        );
        let file_sha256: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let meta = BatchMeta {
            source: source.to_string(),
            file_name: label.to_string(),
            sheet: None,
            file_sha256,
        };
        let summary = self.import_annual_in(
            &meta,
            &[SourceRow { row: 1, record }],
            &mut None,
            true,
            None,
        )?;
        summary
            .batch_id
            .ok_or_else(|| StoreError::InvalidBatch(format!("{label} was written before")))
    }
}
