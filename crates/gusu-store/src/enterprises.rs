//! Importing an enterprises file: register new USCCs, update known ones with history.

use gusu_core::{Enterprise, SourceRow};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::imports::{
    BatchMeta, ImportSummary, PROGRESS_EVERY, Uploader, begin_batch, checked_meta, finish_batch,
    invalid, nothing_new, record_upload, report, uscc_id_or_insert,
};
use crate::{ProgressFn, Store, StoreError, to_i64};

impl Store {
    pub(crate) fn import_enterprises_in(
        &self,
        meta: &BatchMeta,
        rows: &[SourceRow<Enterprise>],
        progress: &mut Option<ProgressFn>,
        uploader: Option<&Uploader>,
    ) -> Result<ImportSummary, StoreError> {
        let meta = checked_meta(meta)?;
        for row in rows {
            if let Some(v) = row.record.land_area_mu.filter(|v| !v.is_finite()) {
                return Err(invalid(row.row, &row.record.uscc, "land_area_mu", v));
            }
        }
        // The transaction is dropped (rolled back) on every early return below.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let began = begin_batch(&tx, "enterprises", &meta)?;
        let batch_id = began.id;
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
                    // A file imported before registers only enterprises new to the store:
                    // attributes changed since are never put back to the file's.
                    Some(old) if old == new_attrs || began.imported_before => {
                        summary.unchanged += 1;
                    }
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
        if began.imported_before && summary.inserted == 0 {
            return nothing_new(&tx, batch_id, rows.len());
        }
        summary.imported_before = began.imported_before;
        finish_batch(&tx, batch_id, &summary)?;
        record_upload(&tx, batch_id, "enterprises", &meta, &summary, uploader)?;
        tx.commit()?;
        report(progress, batch_id, rows.len(), rows.len());
        Ok(summary)
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
