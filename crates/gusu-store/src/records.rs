//! Reading back: the enterprise register, merged yearly records, lineage and conflicts.

use std::collections::HashSet;

use chrono::NaiveDate;
use gusu_core::{Enterprise, Figure, Flag, Uscc, YearlyRecord};
use rusqlite::{Row, Rows, params};
use serde::Serialize;

use crate::annual::conflicts_of;
use crate::imports::Conflict;
use crate::priority::{Candidate, choose};
use crate::{Store, StoreError, stored_uscc, text_at, to_u64, uscc_at};

/// One value of an enterprise and year as it was sent, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueLineage {
    /// Interchange key of the field (flags are 1.0 / 0.0).
    pub field: String,
    pub value: f64,
    pub source: String,
    pub batch_id: i64,
    pub file_name: String,
    pub file_sha256: String,
    pub row: u64,
    /// The source's latest value (`false`: a later file of the same source corrected it).
    pub current: bool,
    /// The value the merged record uses.
    pub effective: bool,
}

/// A change of an enterprise attribute by an import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeChange {
    pub attribute: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub batch_id: i64,
    pub file_name: String,
    pub row: u64,
}

/// What a field id stands for in a [`YearlyRecord`].
#[derive(Clone, Copy)]
enum Slot {
    Figure(Figure),
    Flag(Flag),
}

/// Every source's current values with what the merge needs; callers add WHERE and ORDER BY.
const MERGED_VALUES: &str = "SELECT v.uscc_id, u.uscc, v.field_id, v.source_id, v.value, v.batch_id
    FROM field_values v JOIN usccs u ON u.id = v.uscc_id";

const ENTERPRISE_COLUMNS: &str = "u.uscc, e.name, e.district, e.industry_code, e.division,
    e.land_area_mu, e.above_scale, e.established, e.exempt";

impl Store {
    /// The enterprise register, ordered by USCC.
    pub fn enterprises(&self) -> Result<Vec<Enterprise>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ENTERPRISE_COLUMNS} FROM enterprises e JOIN usccs u ON u.id = e.uscc_id
             ORDER BY u.uscc"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(enterprise_from(r)?);
        }
        Ok(out)
    }

    /// One enterprise of the register.
    pub fn enterprise(&self, uscc: &Uscc) -> Result<Option<Enterprise>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ENTERPRISE_COLUMNS} FROM enterprises e JOIN usccs u ON u.id = e.uscc_id
             WHERE u.uscc = ?1"
        ))?;
        let mut rows = stmt.query([uscc.as_str()])?;
        match rows.next()? {
            Some(r) => Ok(Some(enterprise_from(r)?)),
            None => Ok(None),
        }
    }

    /// USCCs of the enterprise register (not those only seen in annual files).
    pub fn known_usccs(&self) -> Result<HashSet<Uscc>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT u.uscc FROM enterprises e JOIN usccs u ON u.id = e.uscc_id")?;
        let mut rows = stmt.query([])?;
        let mut out = HashSet::new();
        while let Some(r) = rows.next()? {
            out.insert(uscc_at(r, 0)?);
        }
        Ok(out)
    }

    /// Attribute changes of one enterprise, oldest first.
    pub fn enterprise_history(&self, uscc: &Uscc) -> Result<Vec<AttributeChange>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT h.attribute, h.old_value, h.new_value, h.batch_id, b.file_name, h.row
             FROM enterprise_history h
             JOIN usccs u ON u.id = h.uscc_id
             JOIN import_batches b ON b.id = h.batch_id
             WHERE u.uscc = ?1 ORDER BY h.id",
        )?;
        let rows = stmt.query_map([uscc.as_str()], |r| {
            Ok(AttributeChange {
                attribute: r.get(0)?,
                old_value: r.get(1)?,
                new_value: r.get(2)?,
                batch_id: r.get(3)?,
                file_name: r.get(4)?,
                row: to_u64(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Merged records of a year, ordered by USCC: per field, the value of the source the
    /// priority prefers (see [`crate::SourcePriority`]).
    pub fn yearly_records(&self, year: i32) -> Result<Vec<YearlyRecord>, StoreError> {
        // The primary key (year, uscc_id, field_id, source_id) delivers the rows already grouped:
        // one pass, no sort in SQLite.
        let mut stmt = self.conn.prepare_cached(&format!(
            "{MERGED_VALUES} WHERE v.year = ?1 ORDER BY v.uscc_id, v.field_id, v.source_id"
        ))?;
        let mut out = self.merge(stmt.query([year])?, year)?;
        out.sort_unstable_by_key(|r| r.uscc);
        Ok(out)
    }

    /// The merged record of one enterprise and year (`None` when no source sent a value).
    pub fn yearly_record(
        &self,
        uscc: &Uscc,
        year: i32,
    ) -> Result<Option<YearlyRecord>, StoreError> {
        let Some(uscc_id) = self.uscc_id(uscc.as_str())? else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "{MERGED_VALUES} WHERE v.year = ?1 AND v.uscc_id = ?2 ORDER BY v.field_id, v.source_id"
        ))?;
        Ok(self.merge(stmt.query(params![year, uscc_id])?, year)?.pop())
    }

    /// Folds rows of [`MERGED_VALUES`], grouped by enterprise then field, into records.
    fn merge(&self, mut rows: Rows<'_>, year: i32) -> Result<Vec<YearlyRecord>, StoreError> {
        let slots = self.slots();
        let ranks = self.ranks()?;
        let mut out: Vec<YearlyRecord> = Vec::new();
        let mut current_uscc: Option<i64> = None;
        let mut current_field: Option<i64> = None;
        let mut candidates: Vec<Candidate> = Vec::with_capacity(4);
        while let Some(r) = rows.next()? {
            let uscc_id: i64 = r.get(0)?;
            let field_id: i64 = r.get(2)?;
            if current_uscc != Some(uscc_id) || current_field != Some(field_id) {
                if let Some(record) = out.last_mut() {
                    settle(record, current_field, &candidates, &slots);
                }
                candidates.clear();
                current_field = Some(field_id);
            }
            if current_uscc != Some(uscc_id) {
                out.push(YearlyRecord::new(uscc_at(r, 1)?, year));
                current_uscc = Some(uscc_id);
            }
            let source_id: i64 = r.get(3)?;
            candidates.push(Candidate {
                source_id,
                value: r.get(4)?,
                batch_id: r.get(5)?,
                rank: ranks.get(field_id, source_id),
            });
        }
        if let Some(record) = out.last_mut() {
            settle(record, current_field, &candidates, &slots);
        }
        Ok(out)
    }

    /// Years that have values, ascending.
    pub fn years(&self) -> Result<Vec<i32>, StoreError> {
        // Hop from year to year through the primary key instead of scanning every value.
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE y(year) AS (
                 SELECT MIN(year) FROM field_values
                 UNION ALL
                 SELECT (SELECT MIN(year) FROM field_values WHERE year > y.year)
                 FROM y WHERE y.year IS NOT NULL
             )
             SELECT year FROM y WHERE year IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every value sent for an enterprise and year: the current one of each source and the
    /// corrected ones, ordered by field, then current before history, newest first.
    pub fn lineage(&self, uscc: &Uscc, year: i32) -> Result<Vec<ValueLineage>, StoreError> {
        let Some(uscc_id) = self.uscc_id(uscc.as_str())? else {
            return Ok(Vec::new());
        };
        let ranks = self.ranks()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.field_id, v.source_id, s.name, v.value, v.batch_id, b.file_name,
                    b.file_sha256, v.row, 1 AS current
             FROM field_values v
             JOIN sources s ON s.id = v.source_id
             JOIN import_batches b ON b.id = v.batch_id
             WHERE v.year = ?1 AND v.uscc_id = ?2
             UNION ALL
             SELECT h.field_id, h.source_id, s.name, h.value, h.batch_id, b.file_name,
                    b.file_sha256, h.row, 0 AS current
             FROM value_history h
             JOIN sources s ON s.id = h.source_id
             JOIN import_batches b ON b.id = h.batch_id
             WHERE h.year = ?1 AND h.uscc_id = ?2
             ORDER BY 1, 9 DESC, 5 DESC, 2",
        )?;
        let mut rows = stmt.query(params![year, uscc_id])?;
        let mut out = Vec::new();
        let mut candidates: Vec<(usize, i64, Candidate)> = Vec::new();
        while let Some(r) = rows.next()? {
            let field_id: i64 = r.get(0)?;
            let source_id: i64 = r.get(1)?;
            let current: bool = r.get(8)?;
            let value: f64 = r.get(3)?;
            let batch_id: i64 = r.get(4)?;
            if current {
                candidates.push((
                    out.len(),
                    field_id,
                    Candidate {
                        source_id,
                        value,
                        batch_id,
                        rank: ranks.get(field_id, source_id),
                    },
                ));
            }
            out.push(ValueLineage {
                field: self.field_key(field_id)?.to_string(),
                value,
                source: r.get(2)?,
                batch_id,
                file_name: r.get(5)?,
                file_sha256: r.get(6)?,
                row: to_u64(r.get(7)?),
                current,
                effective: false,
            });
        }
        let fields: Vec<i64> = {
            let mut f: Vec<i64> = candidates.iter().map(|(_, f, _)| *f).collect();
            f.dedup();
            f
        };
        for field_id in fields {
            let group: Vec<&(usize, i64, Candidate)> = candidates
                .iter()
                .filter(|(_, f, _)| *f == field_id)
                .collect();
            let values: Vec<Candidate> = group.iter().map(|(_, _, c)| *c).collect();
            if let Some(i) = choose(&values) {
                out[group[i].0].effective = true;
            }
        }
        Ok(out)
    }

    /// Current disagreements between sources, for one year or all, ordered by year, USCC, field.
    /// Computed from the current values with the current priority, so a correction that
    /// resolves a disagreement removes it.
    pub fn conflicts(&self, year: Option<i32>) -> Result<Vec<Conflict>, StoreError> {
        let ranks = self.ranks()?;
        let names = self.source_names()?;
        let sql = "SELECT v.year, v.uscc_id, u.uscc, v.field_id, v.source_id, v.value, v.batch_id
             FROM field_values v JOIN usccs u ON u.id = v.uscc_id";
        let mut stmt = match year {
            Some(_) => self.conn.prepare_cached(&format!(
                "{sql} WHERE v.year = ?1 ORDER BY v.year, v.uscc_id, v.field_id, v.source_id"
            ))?,
            None => self.conn.prepare_cached(&format!(
                "{sql} ORDER BY v.year, v.uscc_id, v.field_id, v.source_id"
            ))?,
        };
        let mut rows = match year {
            Some(y) => stmt.query([y])?,
            None => stmt.query([])?,
        };
        let mut out = Vec::new();
        let mut key: Option<(i32, i64, i64)> = None;
        let mut uscc_text = String::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        let flush = |key: Option<(i32, i64, i64)>,
                     uscc_text: &str,
                     candidates: &[Candidate],
                     out: &mut Vec<Conflict>|
         -> Result<(), StoreError> {
            if let Some((y, _, field_id)) = key
                && candidates.len() > 1
            {
                let uscc = stored_uscc(uscc_text)?;
                conflicts_of(candidates, &uscc, y, self.field_key(field_id)?, &names, out);
            }
            Ok(())
        };
        while let Some(r) = rows.next()? {
            let k: (i32, i64, i64) = (r.get(0)?, r.get(1)?, r.get(3)?);
            if key != Some(k) {
                flush(key, &uscc_text, &candidates, &mut out)?;
                candidates.clear();
                key = Some(k);
                uscc_text.clear();
                uscc_text.push_str(text_at(r, 2)?);
            }
            let source_id: i64 = r.get(4)?;
            candidates.push(Candidate {
                source_id,
                value: r.get(5)?,
                batch_id: r.get(6)?,
                rank: ranks.get(k.2, source_id),
            });
        }
        flush(key, &uscc_text, &candidates, &mut out)?;
        out.sort_by(|a, b| {
            (a.year, &a.uscc, &a.field, &a.other_source).cmp(&(
                b.year,
                &b.uscc,
                &b.field,
                &b.other_source,
            ))
        });
        Ok(out)
    }

    /// What each field id stands for, indexed by id.
    fn slots(&self) -> Vec<Option<Slot>> {
        let mut slots = Vec::new();
        let mut put = |key: &str, slot: Slot| {
            if let Some(i) = self
                .field_ids
                .get(key)
                .and_then(|&id| usize::try_from(id).ok())
            {
                if slots.len() <= i {
                    slots.resize(i + 1, None);
                }
                slots[i] = Some(slot);
            }
        };
        for f in Figure::ALL {
            put(f.key(), Slot::Figure(f));
        }
        for f in Flag::ALL {
            put(f.key(), Slot::Flag(f));
        }
        slots
    }
}

/// Puts the effective value of one field into the record.
fn settle(
    record: &mut YearlyRecord,
    field_id: Option<i64>,
    candidates: &[Candidate],
    slots: &[Option<Slot>],
) {
    let (Some(field_id), Some(i)) = (field_id, choose(candidates)) else {
        return;
    };
    let value = candidates[i].value;
    let slot = usize::try_from(field_id)
        .ok()
        .and_then(|i| slots.get(i).copied().flatten());
    match slot {
        Some(Slot::Figure(f)) => record.figures.set(f, Some(value)),
        Some(Slot::Flag(f)) => record.set_flag(f, Some(value != 0.0)),
        // A field added by a newer migration that this build's core does not know.
        None => {}
    }
}

fn enterprise_from(r: &Row<'_>) -> Result<Enterprise, StoreError> {
    let uscc = uscc_at(r, 0)?;
    let established: String = r.get(7)?;
    let established = NaiveDate::parse_from_str(&established, "%Y-%m-%d").map_err(|e| {
        StoreError::Corrupt(format!("established date {established} of {uscc}: {e}"))
    })?;
    Ok(Enterprise {
        uscc,
        name: r.get(1)?,
        district: r.get(2)?,
        industry_code: r.get(3)?,
        division: r.get(4)?,
        land_area_mu: r.get(5)?,
        above_scale: r.get(6)?,
        established,
        exempt: r.get(8)?,
    })
}
