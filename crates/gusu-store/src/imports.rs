//! Imports: one transaction per file, lineage for every value, field-by-field merge.

use gusu_core::{Enterprise, Figure, Flag, SourceRow, Uscc, YearlyRecord};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::priority::{Candidate, choose, differs, normalise_source};
use crate::{ProgressFn, Store, StoreError, to_i64, to_u64};

/// Which file a batch of rows came from. The caller hashes the file (SHA-256, hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMeta {
    /// Sending department: `tax`, `stats`, `power`, `environment`, `land`, `bureau`, ...
    /// (kept trimmed and in lower case).
    pub source: String,
    pub file_name: String,
    pub file_sha256: String,
}

/// What an import did.
///
/// For annual files the counts are of values (one per present figure or flag of a row); for
/// enterprise files they are of enterprises.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    /// `None` when the file had been imported before.
    pub batch_id: Option<i64>,
    /// The same file (kind, source, SHA-256) was imported before: nothing was written.
    pub already_imported: bool,
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

/// An import batch as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchInfo {
    pub id: i64,
    /// `enterprises` or `annual`.
    pub kind: String,
    pub source: String,
    pub file_name: String,
    pub file_sha256: String,
    /// UTC, ISO 8601, set by SQLite when the batch was written.
    pub imported_at: String,
    pub rows: usize,
    pub inserted: usize,
    pub corrected: usize,
    pub unchanged: usize,
    pub conflicts: usize,
}

/// How far an import has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub batch_id: i64,
    pub done: usize,
    pub total: usize,
}

/// Progress is reported after this many rows.
const PROGRESS_EVERY: usize = 10_000;

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
        let result = self.import_enterprises_in(meta, rows, &mut progress);
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
        let mut progress = self.progress.take();
        let result = self.import_annual_in(meta, rows, &mut progress);
        self.progress = progress;
        result
    }

    /// All import batches, oldest first.
    pub fn batches(&self) -> Result<Vec<BatchInfo>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, source, file_name, file_sha256, imported_at, rows, inserted,
                    corrected, unchanged, conflicts
             FROM import_batches ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(BatchInfo {
                id: r.get(0)?,
                kind: r.get(1)?,
                source: r.get(2)?,
                file_name: r.get(3)?,
                file_sha256: r.get(4)?,
                imported_at: r.get(5)?,
                rows: to_usize(r.get(6)?),
                inserted: to_usize(r.get(7)?),
                corrected: to_usize(r.get(8)?),
                unchanged: to_usize(r.get(9)?),
                conflicts: to_usize(r.get(10)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn import_enterprises_in(
        &self,
        meta: &BatchMeta,
        rows: &[SourceRow<Enterprise>],
        progress: &mut Option<ProgressFn>,
    ) -> Result<ImportSummary, StoreError> {
        let meta = checked_meta(meta)?;
        for row in rows {
            if let Some(v) = row.record.land_area_mu.filter(|v| !v.is_finite()) {
                return Err(invalid(row.row, &row.record.uscc, "land_area_mu", v));
            }
        }
        // The transaction is dropped (rolled back) on every early return below.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let Some(batch_id) = begin_batch(&tx, "enterprises", &meta)? else {
            return Ok(already_imported(rows.len()));
        };
        let mut summary = ImportSummary {
            batch_id: Some(batch_id),
            rows: rows.len(),
            ..ImportSummary::default()
        };
        report(progress, batch_id, 0, rows.len());
        {
            let mut select = tx.prepare_cached(
                "SELECT name, district, industry_code, division, land_area_mu, above_scale,
                        established, exempt
                 FROM enterprises WHERE uscc_id = ?1",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO enterprises (uscc_id, name, district, industry_code, division,
                     land_area_mu, above_scale, established, exempt, created_batch, created_row,
                     updated_batch, updated_row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?11)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE enterprises SET name = ?2, district = ?3, industry_code = ?4,
                     division = ?5, land_area_mu = ?6, above_scale = ?7, established = ?8,
                     exempt = ?9, updated_batch = ?10, updated_row = ?11
                 WHERE uscc_id = ?1",
            )?;
            let mut history = tx.prepare_cached(
                "INSERT INTO enterprise_history (uscc_id, attribute, old_value, new_value,
                     batch_id, row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (i, SourceRow { row, record: e }) in rows.iter().enumerate() {
                let uscc_id = uscc_id_or_insert(&tx, e.uscc.as_str())?;
                let established = e.established.format("%Y-%m-%d").to_string();
                let new_attrs = attributes(
                    &e.name,
                    &e.district,
                    &e.industry_code,
                    &e.division,
                    e.land_area_mu,
                    e.above_scale,
                    &established,
                    e.exempt,
                );
                let old = select
                    .query_row([uscc_id], |r| {
                        Ok(attributes(
                            &r.get::<_, String>(0)?,
                            &r.get::<_, String>(1)?,
                            &r.get::<_, String>(2)?,
                            &r.get::<_, String>(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            &r.get::<_, String>(6)?,
                            r.get(7)?,
                        ))
                    })
                    .optional()?;
                let values = params![
                    uscc_id,
                    e.name,
                    e.district,
                    e.industry_code,
                    e.division,
                    e.land_area_mu,
                    e.above_scale,
                    established,
                    e.exempt,
                    batch_id,
                    to_i64(*row),
                ];
                match old {
                    None => {
                        insert.execute(values)?;
                        summary.inserted += 1;
                    }
                    Some(old) if old == new_attrs => summary.unchanged += 1,
                    Some(old) => {
                        update.execute(values)?;
                        for ((name, old_value), (_, new_value)) in old.iter().zip(&new_attrs) {
                            if old_value != new_value {
                                history.execute(params![
                                    uscc_id,
                                    name,
                                    old_value,
                                    new_value,
                                    batch_id,
                                    to_i64(*row)
                                ])?;
                            }
                        }
                        summary.corrected += 1;
                    }
                }
                if (i + 1) % PROGRESS_EVERY == 0 {
                    report(progress, batch_id, i + 1, rows.len());
                }
            }
        }
        finish_batch(&tx, batch_id, &summary)?;
        tx.commit()?;
        report(progress, batch_id, rows.len(), rows.len());
        Ok(summary)
    }

    fn import_annual_in(
        &self,
        meta: &BatchMeta,
        rows: &[SourceRow<YearlyRecord>],
        progress: &mut Option<ProgressFn>,
    ) -> Result<ImportSummary, StoreError> {
        let meta = checked_meta(meta)?;
        // Field ids once, in the order values are taken from a record.
        let mut figure_ids = Vec::with_capacity(Figure::ALL.len());
        for f in Figure::ALL {
            figure_ids.push((f, self.field_id(f.key())?));
        }
        let mut flag_ids = Vec::with_capacity(Flag::ALL.len());
        for f in Flag::ALL {
            flag_ids.push((f, self.field_id(f.key())?));
        }
        // Refuse the whole file before writing anything if a value cannot be stored.
        for row in rows {
            if let Some((f, v)) = row.record.figures.present().find(|(_, v)| !v.is_finite()) {
                return Err(invalid(row.row, &row.record.uscc, f.key(), v));
            }
        }

        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let Some(batch_id) = begin_batch(&tx, "annual", &meta)? else {
            return Ok(already_imported(rows.len()));
        };
        let source_id = source_id_or_insert(&tx, &meta.source)?;
        // After the source is registered, so that a source new to the store is ranked too.
        let ranks = self.ranks()?;
        let source_names = self.source_names()?;
        let mut summary = ImportSummary {
            batch_id: Some(batch_id),
            rows: rows.len(),
            ..ImportSummary::default()
        };
        report(progress, batch_id, 0, rows.len());
        {
            let mut select = tx.prepare_cached(
                "SELECT field_id, source_id, value, batch_id, row FROM field_values
                 WHERE year = ?1 AND uscc_id = ?2",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO field_values (year, uscc_id, field_id, source_id, value, batch_id, row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE field_values SET value = ?5, batch_id = ?6, row = ?7
                 WHERE year = ?1 AND uscc_id = ?2 AND field_id = ?3 AND source_id = ?4",
            )?;
            let mut history = tx.prepare_cached(
                "INSERT INTO value_history (year, uscc_id, field_id, source_id, value, batch_id,
                     row, replaced_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut values: Vec<(i64, f64)> = Vec::with_capacity(16);
            let mut current: Vec<Current> = Vec::with_capacity(32);
            let mut touched: Vec<i64> = Vec::with_capacity(16);
            // Resolve every USCC first, then visit the rows in primary-key order (year, USCC id)
            // so that the value table's pages are touched in sequence. A file in arbitrary order
            // otherwise hits them at random, several times slower at a million rows (see
            // docs/store.md). The row index breaks ties, so duplicate rows keep file order.
            let mut visit: Vec<(i32, i64, usize)> = Vec::with_capacity(rows.len());
            for (i, SourceRow { record, .. }) in rows.iter().enumerate() {
                let has_values = record.figures.present().next().is_some()
                    || Flag::ALL.iter().any(|&f| record.flag(f).is_some());
                if has_values {
                    visit.push((
                        record.year,
                        uscc_id_or_insert(&tx, record.uscc.as_str())?,
                        i,
                    ));
                }
            }
            visit.sort_unstable();
            for (n, &(_, uscc_id, i)) in visit.iter().enumerate() {
                if n > 0 && n % PROGRESS_EVERY == 0 {
                    report(progress, batch_id, n, rows.len());
                }
                let SourceRow { row, record } = &rows[i];
                let row = to_i64(*row);
                values.clear();
                for &(f, id) in &figure_ids {
                    if let Some(v) = record.figures.get(f) {
                        values.push((id, v));
                    }
                }
                for &(f, id) in &flag_ids {
                    if let Some(b) = record.flag(f) {
                        values.push((id, if b { 1.0 } else { 0.0 }));
                    }
                }
                // Every source's current values for this enterprise and year: what this row
                // corrects, and what it may conflict with.
                current.clear();
                let mut q = select.query(params![record.year, uscc_id])?;
                while let Some(r) = q.next()? {
                    let field_id: i64 = r.get(0)?;
                    let src: i64 = r.get(1)?;
                    current.push(Current {
                        field_id,
                        row: r.get(4)?,
                        value: Candidate {
                            source_id: src,
                            value: r.get(2)?,
                            batch_id: r.get(3)?,
                            rank: ranks.get(field_id, src),
                        },
                    });
                }
                touched.clear();
                for &(field_id, value) in &values {
                    let new = params![
                        record.year,
                        uscc_id,
                        field_id,
                        source_id,
                        value,
                        batch_id,
                        row
                    ];
                    let mine = current
                        .iter_mut()
                        .find(|c| c.field_id == field_id && c.value.source_id == source_id);
                    match mine {
                        None => {
                            insert.execute(new)?;
                            current.push(Current {
                                field_id,
                                row,
                                value: Candidate {
                                    source_id,
                                    value,
                                    batch_id,
                                    rank: ranks.get(field_id, source_id),
                                },
                            });
                            summary.inserted += 1;
                            touched.push(field_id);
                        }
                        // Exact comparison: a restated value is unchanged, any other is a
                        // correction by the same department.
                        Some(c) if c.value.value == value => summary.unchanged += 1,
                        Some(c) => {
                            history.execute(params![
                                record.year,
                                uscc_id,
                                field_id,
                                source_id,
                                c.value.value,
                                c.value.batch_id,
                                c.row,
                                batch_id
                            ])?;
                            update.execute(new)?;
                            c.value.value = value;
                            c.value.batch_id = batch_id;
                            c.row = row;
                            summary.corrected += 1;
                            touched.push(field_id);
                        }
                    }
                }
                for &field_id in &touched {
                    let candidates: Vec<Candidate> = current
                        .iter()
                        .filter(|c| c.field_id == field_id)
                        .map(|c| c.value)
                        .collect();
                    conflicts_of(
                        &candidates,
                        &record.uscc,
                        record.year,
                        self.field_key(field_id)?,
                        &source_names,
                        &mut summary.conflicts,
                    );
                }
            }
        }
        finish_batch(&tx, batch_id, &summary)?;
        tx.commit()?;
        report(progress, batch_id, rows.len(), rows.len());
        Ok(summary)
    }
}

/// One source's current value of a field, with the row it came from.
struct Current {
    field_id: i64,
    row: i64,
    value: Candidate,
}

/// Appends the conflicts of one field: every candidate whose value differs from the effective one.
pub(crate) fn conflicts_of(
    candidates: &[Candidate],
    uscc: &Uscc,
    year: i32,
    field: &str,
    source_names: &std::collections::HashMap<i64, String>,
    out: &mut Vec<Conflict>,
) {
    let Some(used) = choose(candidates).map(|i| candidates[i]) else {
        return;
    };
    let name = |id: i64| {
        source_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    for other in candidates {
        if other.source_id != used.source_id && differs(other.value, used.value) {
            out.push(Conflict {
                uscc: *uscc,
                year,
                field: field.to_string(),
                used_source: name(used.source_id),
                used_value: used.value,
                other_source: name(other.source_id),
                other_value: other.value,
            });
        }
    }
}

/// The eight attributes of an enterprise as (name, text) pairs, for comparison and history.
#[allow(clippy::too_many_arguments)]
fn attributes(
    name: &str,
    district: &str,
    industry_code: &str,
    division: &str,
    land_area_mu: Option<f64>,
    above_scale: bool,
    established: &str,
    exempt: bool,
) -> [(&'static str, Option<String>); 8] {
    [
        ("name", Some(name.to_string())),
        ("district", Some(district.to_string())),
        ("industry_code", Some(industry_code.to_string())),
        ("division", Some(division.to_string())),
        // Rust's float formatting is the shortest text that parses back to the same value.
        ("land_area_mu", land_area_mu.map(|v| v.to_string())),
        ("above_scale", Some(above_scale.to_string())),
        ("established", Some(established.to_string())),
        ("exempt", Some(exempt.to_string())),
    ]
}

fn checked_meta(meta: &BatchMeta) -> Result<BatchMeta, StoreError> {
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
        file_sha256,
    })
}

/// Writes the batch row, or returns `None` when the same file was imported before.
fn begin_batch(tx: &Connection, kind: &str, meta: &BatchMeta) -> Result<Option<i64>, StoreError> {
    let seen: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM import_batches WHERE kind = ?1 AND source = ?2 AND file_sha256 = ?3",
        )?
        .query_row(params![kind, meta.source, meta.file_sha256], |r| r.get(0))
        .optional()?;
    if seen.is_some() {
        return Ok(None);
    }
    tx.prepare_cached(
        "INSERT INTO import_batches (kind, source, file_name, file_sha256) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![kind, meta.source, meta.file_name, meta.file_sha256])?;
    Ok(Some(tx.last_insert_rowid()))
}

fn finish_batch(tx: &Connection, batch_id: i64, s: &ImportSummary) -> Result<(), StoreError> {
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

fn already_imported(rows: usize) -> ImportSummary {
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

fn source_id_or_insert(conn: &Connection, name: &str) -> Result<i64, StoreError> {
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

fn report(progress: &mut Option<ProgressFn>, batch_id: i64, done: usize, total: usize) {
    if let Some(f) = progress {
        f(ImportProgress {
            batch_id,
            done,
            total,
        });
    }
}

fn invalid(row: u64, uscc: &Uscc, field: &str, value: f64) -> StoreError {
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
