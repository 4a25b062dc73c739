//! Importing an annual file: values per source with lineage, corrections into history,
//! conflicts with other sources.

use std::collections::HashMap;

use gusu_core::{Figure, Flag, SourceRow, Uscc, YearlyRecord};
use rusqlite::{Transaction, TransactionBehavior, params};

use crate::imports::{
    BatchMeta, Conflict, ImportSummary, PROGRESS_EVERY, Uploader, begin_batch, checked_meta,
    finish_batch, invalid, nothing_new, record_upload, report, source_id_or_insert,
    uscc_id_or_insert,
};
use crate::priority::{Candidate, choose, differs};
use crate::{ProgressFn, Store, StoreError, to_i64};

impl Store {
    pub(crate) fn import_annual_in(
        &self,
        meta: &BatchMeta,
        rows: &[SourceRow<YearlyRecord>],
        progress: &mut Option<ProgressFn>,
        within_transaction: bool,
        uploader: Option<&Uploader>,
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

        // Its own transaction, or the caller's (a decided objection writes and re-runs in one).
        let own = match within_transaction {
            true => None,
            false => Some(Transaction::new_unchecked(
                &self.conn,
                TransactionBehavior::Immediate,
            )?),
        };
        let tx: &rusqlite::Connection = &self.conn;
        let began = begin_batch(tx, "annual", &meta)?;
        let batch_id = began.id;
        let source_id = source_id_or_insert(tx, &meta.source)?;
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
                    visit.push((record.year, uscc_id_or_insert(tx, record.uscc.as_str())?, i));
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
                        // A file imported before brings in only values not stored: values
                        // corrected since are never put back to the file's.
                        Some(c) if c.value.value == value || began.imported_before => {
                            summary.unchanged += 1;
                        }
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
        if began.imported_before && summary.inserted == 0 {
            return nothing_new(tx, batch_id, rows.len());
        }
        summary.imported_before = began.imported_before;
        finish_batch(tx, batch_id, &summary)?;
        record_upload(tx, batch_id, "annual", &meta, &summary, uploader)?;
        if let Some(own) = own {
            own.commit()?;
        }
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
    source_names: &HashMap<i64, String>,
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
