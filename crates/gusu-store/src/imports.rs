//! Imports: the public entry points and types, and what both kinds of file share (the batch
//! row, already-imported detection, USCC and source ids, progress). One transaction per file.

use gusu_core::{Enterprise, SourceRow, Uscc, YearlyRecord};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::priority::normalise_source;
use crate::{ProgressFn, Store, StoreError, to_i64, to_u64};

/// Which file a batch of rows came from. The caller hashes the file (SHA-256, hex).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchMeta {
    /// Sending department: `tax`, `stats`, `power`, `environment`, `land`, `bureau`, ...
    /// (kept trimmed and in lower case).
    pub source: String,
    pub file_name: String,
    /// The workbook sheet the rows came from; `None` for a text file.
    pub sheet: Option<String>,
    pub file_sha256: String,
}

/// What an import did.
///
/// For annual files the counts are of values (one per present figure or flag of a row); for
/// enterprise files they are of enterprises.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// `None` when the file had been imported before and nothing was new.
    pub batch_id: Option<i64>,
    /// The same file and sheet (kind, source, SHA-256, sheet) was imported before and every
    /// row of it is stored: nothing was written.
    pub already_imported: bool,
    /// The same file and sheet was imported before, and this import took only what was not
    /// stored then (rows refused the first time, say for an enterprise not yet registered);
    /// values stored since are never put back to the file's.
    pub imported_before: bool,
    pub rows: usize,
    /// Values (or enterprises) the store did not have from this source.
    pub inserted: usize,
    /// Values this source had sent before with a different value (or enterprises with changed
    /// attributes); the old values stay in history.
    pub corrected: usize,
    pub unchanged: usize,
    /// Disagreements with other sources on the values this file inserted or corrected.
    pub conflicts: Vec<Conflict>,
}

/// Two sources disagree on a field of an enterprise and year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub uscc: Uscc,
    pub year: i32,
    /// Interchange key of the field (flags are 1.0 / 0.0).
    pub field: String,
    /// The source whose value is effective, by priority.
    pub used_source: String,
    pub used_value: f64,
    pub other_source: String,
    pub other_value: f64,
}

/// Who brought a file in, written with the batch (as its `import` audit entry, in the import's
/// transaction) so that the batch's lineage names a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uploader {
    /// The account (or `cli:` operator) that imported the file.
    pub actor: String,
    /// Rows of the file found wrong and left out.
    pub rejected: usize,
}

/// An import batch as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchInfo {
    pub id: i64,
    /// `enterprises` or `annual`.
    pub kind: String,
    pub source: String,
    pub file_name: String,
    /// The workbook sheet, `None` for a text file.
    pub sheet: Option<String>,
    pub file_sha256: String,
    /// UTC, ISO 8601, set by SQLite when the batch was written.
    pub imported_at: String,
    pub rows: usize,
    pub inserted: usize,
    pub corrected: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    /// Who imported it, when the import named someone ([`Store::import_enterprises_by`]).
    pub uploaded_by: Option<String>,
    /// Rows of the file left out as wrong, when known.
    pub rejected: Option<usize>,
}

/// The audit entry of an import: target `batch <id>`, detail a JSON object.
const IMPORT_ACTION: &str = "import";

#[derive(Serialize, serde::Deserialize)]
struct ImportDetail {
    kind: String,
    source: String,
    file: String,
    /// The workbook sheet; absent for text files (and in entries written before sheets were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sheet: Option<String>,
    rows: usize,
    rejected: usize,
}

/// How far an import has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub batch_id: i64,
    pub done: usize,
    pub total: usize,
}

/// Progress is reported after this many rows.
pub(crate) const PROGRESS_EVERY: usize = 10_000;

impl Store {
    /// Imports an enterprises file: new USCCs are registered, known ones get their changed
    /// attributes (each change kept in history with its batch and row). Nothing is deleted.
    /// A USCC appearing twice in one file ends with the later row's attributes.
    pub fn import_enterprises(
        &mut self,
        meta: &BatchMeta,
        rows: &[SourceRow<Enterprise>],
    ) -> Result<ImportSummary, StoreError> {
        let mut progress = self.progress.take();
        let result = self.import_enterprises_in(meta, rows, &mut progress, None);
        self.progress = progress;
        result
    }

    /// [`Store::import_enterprises`], naming who imported the file: the batch and its `import`
    /// audit entry are written in one transaction (a file imported before writes neither).
    pub fn import_enterprises_by(
        &mut self,
        meta: &BatchMeta,
        rows: &[SourceRow<Enterprise>],
        uploader: &Uploader,
    ) -> Result<ImportSummary, StoreError> {
        let mut progress = self.progress.take();
        let result = self.import_enterprises_in(meta, rows, &mut progress, Some(uploader));
        self.progress = progress;
        result
    }

    /// [`Store::import_annual`], naming who imported the file (as for
    /// [`Store::import_enterprises_by`]).
    pub fn import_annual_by(
        &mut self,
        meta: &BatchMeta,
        rows: &[SourceRow<YearlyRecord>],
        uploader: &Uploader,
    ) -> Result<ImportSummary, StoreError> {
        let mut progress = self.progress.take();
        let result = self.import_annual_in(meta, rows, &mut progress, false, Some(uploader));
        self.progress = progress;
        result
    }

    /// Imports an annual file: every present figure and every `Some` flag of each record is a
    /// value from `meta.source`. Blank cells are not values: they never delete anything.
    pub fn import_annual(
        &mut self,
        meta: &BatchMeta,
        rows: &[SourceRow<YearlyRecord>],
    ) -> Result<ImportSummary, StoreError> {
        crate::evaluation::refuse_reviewed_source(&meta.source)?;
        let mut progress = self.progress.take();
        let result = self.import_annual_in(meta, rows, &mut progress, false, None);
        self.progress = progress;
        result
    }

    /// All import batches, oldest first, with who imported each when that was recorded.
    pub fn batches(&self) -> Result<Vec<BatchInfo>, StoreError> {
        let mut uploads = std::collections::HashMap::new();
        let mut stmt = self.conn.prepare(
            "SELECT target, actor, detail FROM audit_log WHERE action = ?1 AND target LIKE 'batch %'",
        )?;
        let found = stmt.query_map([IMPORT_ACTION], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for entry in found {
            let (target, actor, detail) = entry?;
            if let Some(id) = target
                .strip_prefix("batch ")
                .and_then(|n| n.parse::<i64>().ok())
            {
                let rejected = detail
                    .and_then(|d| serde_json::from_str::<ImportDetail>(&d).ok())
                    .map(|d| d.rejected);
                uploads.insert(id, (actor, rejected));
            }
        }
        let mut batches = self.batch_rows()?;
        for b in &mut batches {
            if let Some((actor, rejected)) = uploads.remove(&b.id) {
                b.uploaded_by = Some(actor);
                b.rejected = rejected;
            }
        }
        Ok(batches)
    }

    fn batch_rows(&self) -> Result<Vec<BatchInfo>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, source, file_name, file_sha256, imported_at, rows, inserted,
                    corrected, unchanged, conflicts, sheet
             FROM import_batches ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(BatchInfo {
                id: r.get(0)?,
                kind: r.get(1)?,
                source: r.get(2)?,
                file_name: r.get(3)?,
                sheet: r.get(11)?,
                file_sha256: r.get(4)?,
                imported_at: r.get(5)?,
                rows: to_usize(r.get(6)?),
                inserted: to_usize(r.get(7)?),
                corrected: to_usize(r.get(8)?),
                unchanged: to_usize(r.get(9)?),
                conflicts: to_usize(r.get(10)?),
                uploaded_by: None,
                rejected: None,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

pub(crate) fn checked_meta(meta: &BatchMeta) -> Result<BatchMeta, StoreError> {
    let source = normalise_source(&meta.source);
    let file_sha256 = meta.file_sha256.trim().to_ascii_lowercase();
    if source.is_empty() {
        return Err(StoreError::InvalidBatch(
            "the source department is empty".into(),
        ));
    }
    if file_sha256.is_empty() {
        return Err(StoreError::InvalidBatch("the file hash is empty".into()));
    }
    Ok(BatchMeta {
        source,
        file_name: meta.file_name.clone(),
        sheet: meta.sheet.clone(),
        file_sha256,
    })
}

/// A batch row just written.
pub(crate) struct Began {
    pub(crate) id: i64,
    /// The same file and sheet was imported before: take only what is not stored yet.
    pub(crate) imported_before: bool,
}

/// Writes the batch row, saying whether the same file and sheet was imported before.
pub(crate) fn begin_batch(
    tx: &Connection,
    kind: &str,
    meta: &BatchMeta,
) -> Result<Began, StoreError> {
    let seen: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM import_batches
             WHERE kind = ?1 AND source = ?2 AND file_sha256 = ?3 AND sheet IS ?4 LIMIT 1",
        )?
        .query_row(
            params![kind, meta.source, meta.file_sha256, meta.sheet],
            |r| r.get(0),
        )
        .optional()?;
    tx.prepare_cached(
        "INSERT INTO import_batches (kind, source, file_name, sheet, file_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        kind,
        meta.source,
        meta.file_name,
        meta.sheet,
        meta.file_sha256
    ])?;
    Ok(Began {
        id: tx.last_insert_rowid(),
        imported_before: seen.is_some(),
    })
}

/// Ends a re-import that found nothing new: its batch row goes (inside the import's
/// transaction, which may be the caller's), and the answer says the file was imported before.
pub(crate) fn nothing_new(
    tx: &Connection,
    batch_id: i64,
    rows: usize,
) -> Result<ImportSummary, StoreError> {
    tx.execute("DELETE FROM import_batches WHERE id = ?1", [batch_id])?;
    Ok(already_imported(rows))
}

pub(crate) fn finish_batch(
    tx: &Connection,
    batch_id: i64,
    s: &ImportSummary,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE import_batches SET rows = ?2, inserted = ?3, corrected = ?4, unchanged = ?5,
             conflicts = ?6
         WHERE id = ?1",
        params![
            batch_id,
            to_i64(s.rows as u64),
            to_i64(s.inserted as u64),
            to_i64(s.corrected as u64),
            to_i64(s.unchanged as u64),
            to_i64(s.conflicts.len() as u64)
        ],
    )?;
    Ok(())
}

/// Writes the `import` audit entry of a batch, inside the import's transaction.
pub(crate) fn record_upload(
    tx: &Connection,
    batch_id: i64,
    kind: &str,
    meta: &BatchMeta,
    summary: &ImportSummary,
    uploader: Option<&Uploader>,
) -> Result<(), StoreError> {
    let Some(uploader) = uploader else {
        return Ok(());
    };
    let detail = ImportDetail {
        kind: kind.to_string(),
        source: meta.source.clone(),
        file: meta.file_name.clone(),
        sheet: meta.sheet.clone(),
        rows: summary.rows,
        rejected: uploader.rejected,
    };
    let detail = serde_json::to_string(&detail)
        .map_err(|e| StoreError::InvalidBatch(format!("cannot record the import: {e}")))?;
    crate::accounts::audit(
        tx,
        &uploader.actor,
        IMPORT_ACTION,
        Some(&format!("batch {batch_id}")),
        Some(&detail),
    )
}

pub(crate) fn already_imported(rows: usize) -> ImportSummary {
    ImportSummary {
        batch_id: None,
        already_imported: true,
        rows,
        ..ImportSummary::default()
    }
}

pub(crate) fn uscc_id_or_insert(conn: &Connection, uscc: &str) -> Result<i64, StoreError> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM usccs WHERE uscc = ?1")?
        .query_row([uscc], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO usccs (uscc) VALUES (?1)")?
        .execute([uscc])?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn source_id_or_insert(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM sources WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    conn.execute("INSERT INTO sources (name) VALUES (?1)", [name])?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn report(progress: &mut Option<ProgressFn>, batch_id: i64, done: usize, total: usize) {
    if let Some(f) = progress {
        f(ImportProgress {
            batch_id,
            done,
            total,
        });
    }
}

pub(crate) fn invalid(row: u64, uscc: &Uscc, field: &str, value: f64) -> StoreError {
    StoreError::InvalidValue {
        row,
        uscc: uscc.to_string(),
        field: field.to_string(),
        value,
    }
}

pub(crate) fn to_usize(n: i64) -> usize {
    usize::try_from(to_u64(n)).unwrap_or(usize::MAX)
}
