//! Energy lines and metered monthly totals (issue 4).
//!
//! - **Energy lines** come from energy files (`uscc, year, carrier, quantity, unit`, ...), one
//!   stored row per line with its batch, source and row, like annual figures. A file of the same
//!   source that names an enterprise and year again replaces that source's lines for it (the old
//!   lines go to `energy_line_history`); identical lines are left as they were. Which source's
//!   lines count is decided at read time, **per enterprise, year and carrier**, so that the power
//!   company's electricity and the enterprise's own fuels both count: for electricity the first
//!   source listed for `electricity_kwh` in the [`crate::SourcePriority`] (the bills, as for the
//!   yearly figure), then for every carrier the first listed for `energy_tce`, else the most
//!   recent batch. Two sources that disagree on a carrier's total are reported as conflicts (field
//!   `energy:<carrier>`).
//! - **Metered months** are the readings dataset's monthly totals per enterprise and carrier,
//!   stored so that the web platform needs no query engine. A new aggregate replaces a month's
//!   total; the same totals brought in again change nothing.
//!
//! Both are written in one transaction per batch, with the `import` audit entry when the caller
//! names who imported.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gusu_core::carbon::{Carrier, EnergyLine, Unit, conversion};
use gusu_core::{Figure, Uscc};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::imports::{
    BatchMeta, Conflict, ImportSummary, Uploader, already_imported, begin_batch, checked_meta,
    finish_batch, invalid, nothing_new, record_upload, source_id_or_insert, uscc_id_or_insert,
};
use crate::{METERED, Store, StoreError, text_at, to_i64, to_u64, uscc_at};

/// Batch kind of an energy file.
pub const ENERGY_KIND: &str = "energy";
/// Batch kind of a set of metered monthly totals.
pub const METERED_MONTHS_KIND: &str = "metered_months";

/// One line of an energy file, as given to [`Store::import_energy`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnergyRow {
    /// The row of the file (for lineage and error messages).
    pub row: u64,
    pub uscc: Uscc,
    pub year: i32,
    pub line: EnergyLine,
}

/// A stored energy line with its lineage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEnergyLine {
    pub uscc: Uscc,
    pub year: i32,
    #[serde(serialize_with = "carrier_key")]
    pub carrier: Carrier,
    pub quantity: f64,
    #[serde(serialize_with = "unit_key")]
    pub unit: Unit,
    pub enthalpy_kj_per_kg: Option<f64>,
    pub temperature_c: Option<f64>,
    /// The department that sent it.
    pub source: String,
    pub batch_id: i64,
    pub file_name: String,
    pub row: u64,
    /// UTC, ISO 8601.
    pub imported_at: String,
}

fn carrier_key<S: serde::Serializer>(c: &Carrier, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.key())
}

fn unit_key<S: serde::Serializer>(u: &Unit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.key())
}

impl StoredEnergyLine {
    /// The line as the accounting engine takes it.
    pub fn line(&self) -> EnergyLine {
        EnergyLine {
            carrier: self.carrier,
            quantity: self.quantity,
            unit: self.unit,
            enthalpy_kj_per_kg: self.enthalpy_kj_per_kg,
            temperature_c: self.temperature_c,
        }
    }
}

/// A metered total of one enterprise, carrier and month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeteredMonth {
    pub uscc: Uscc,
    /// The readings dataset's carrier name (`electricity`, `natural_gas`, ...).
    pub carrier: String,
    pub year: i32,
    pub month: u32,
    /// In `unit`, the dataset's stored unit of the carrier.
    pub total: f64,
    pub unit: String,
    /// How many readings the total sums.
    pub readings: u64,
}

/// What bringing in a set of monthly totals did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeteredMonthsImport {
    pub summary: ImportSummary,
    /// Totals of enterprises the register does not know: not stored.
    pub unknown: Vec<Uscc>,
}

/// An enterprise-year's lines by source, with each source's latest batch.
type BySource = BTreeMap<String, (i64, Vec<EnergyLine>)>;

/// Per source of an enterprise and year: its latest batch and the carriers it has lines of.
type SourcesOfYear = BTreeMap<String, (i64, BTreeSet<Carrier>)>;

/// Lines of one source for one enterprise and year, compared as a multiset.
fn line_signature(l: &EnergyLine) -> (String, u64, String, Option<u64>, Option<u64>) {
    (
        l.carrier.key().to_string(),
        l.quantity.to_bits(),
        l.unit.key().to_string(),
        l.enthalpy_kj_per_kg.map(f64::to_bits),
        l.temperature_c.map(f64::to_bits),
    )
}

/// A carrier's total in its accounting unit (for comparing two sources).
fn carrier_totals(lines: &[EnergyLine]) -> BTreeMap<Carrier, f64> {
    let mut totals = BTreeMap::new();
    for l in lines {
        let factor = conversion(l.carrier, l.unit).unwrap_or(f64::NAN);
        *totals.entry(l.carrier).or_insert(0.0) += l.quantity * factor;
    }
    totals
}

impl Store {
    /// Imports an energy file's lines (see the module documentation), naming who imported it
    /// when `uploader` is given. Every line is checked before anything is written: a quantity
    /// that is not a finite number ≥ 0, or a unit that does not fit its carrier, refuses the file.
    pub fn import_energy(
        &mut self,
        meta: &BatchMeta,
        rows: &[EnergyRow],
        uploader: Option<&Uploader>,
    ) -> Result<ImportSummary, StoreError> {
        let meta = checked_meta(meta)?;
        crate::evaluation::refuse_reviewed_source(&meta.source)?;
        for r in rows {
            let l = &r.line;
            if !(l.quantity.is_finite() && l.quantity >= 0.0) {
                return Err(invalid(r.row, &r.uscc, l.carrier.key(), l.quantity));
            }
            if let Err(misfit) = conversion(l.carrier, l.unit) {
                return Err(StoreError::InvalidBatch(format!(
                    "row {} ({}): {misfit}",
                    r.row, r.uscc
                )));
            }
            for v in [l.enthalpy_kj_per_kg, l.temperature_c]
                .into_iter()
                .flatten()
            {
                if !v.is_finite() {
                    return Err(invalid(r.row, &r.uscc, l.carrier.key(), v));
                }
            }
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let began = begin_batch(&tx, ENERGY_KIND, &meta)?;
        let batch_id = began.id;
        let source_id = source_id_or_insert(&tx, &meta.source)?;
        let mut summary = ImportSummary {
            batch_id: Some(batch_id),
            rows: rows.len(),
            ..ImportSummary::default()
        };
        // The file's lines by enterprise and year, in file order.
        let mut groups: BTreeMap<(Uscc, i32), Vec<&EnergyRow>> = BTreeMap::new();
        for r in rows {
            groups.entry((r.uscc, r.year)).or_default().push(r);
        }
        for ((uscc, year), new_rows) in &groups {
            let uscc_id = uscc_id_or_insert(&tx, uscc.as_str())?;
            let old = lines_of(&tx, uscc_id, *year, Some(source_id))?;
            let mut old_sig: Vec<_> = old.iter().map(|(_, l)| line_signature(&l.line())).collect();
            let mut new_sig: Vec<_> = new_rows.iter().map(|r| line_signature(&r.line)).collect();
            old_sig.sort();
            new_sig.sort();
            // A file imported before brings in only enterprises and years without lines from
            // this source: lines sent since are never put back to the file's.
            if !old.is_empty() && (old_sig == new_sig || began.imported_before) {
                summary.unchanged += new_rows.len();
                continue;
            }
            if old.is_empty() {
                summary.inserted += new_rows.len();
            } else {
                summary.corrected += new_rows.len();
                tx.prepare_cached(
                    "INSERT INTO energy_line_history (year, uscc_id, source_id, carrier, quantity,
                         unit, enthalpy_kj_per_kg, temperature_c, batch_id, row, replaced_by)
                     SELECT year, uscc_id, source_id, carrier, quantity, unit, enthalpy_kj_per_kg,
                         temperature_c, batch_id, row, ?4
                     FROM energy_lines WHERE uscc_id = ?1 AND year = ?2 AND source_id = ?3",
                )?
                .execute(params![uscc_id, year, source_id, batch_id])?;
                tx.prepare_cached(
                    "DELETE FROM energy_lines WHERE uscc_id = ?1 AND year = ?2 AND source_id = ?3",
                )?
                .execute(params![uscc_id, year, source_id])?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO energy_lines (year, uscc_id, source_id, carrier, quantity, unit,
                     enthalpy_kj_per_kg, temperature_c, batch_id, row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in new_rows {
                let l = &r.line;
                insert.execute(params![
                    year,
                    uscc_id,
                    source_id,
                    l.carrier.key(),
                    l.quantity,
                    l.unit.key(),
                    l.enthalpy_kj_per_kg,
                    l.temperature_c,
                    batch_id,
                    to_i64(r.row)
                ])?;
            }
            summary
                .conflicts
                .extend(self.energy_conflicts(&tx, *uscc, uscc_id, *year)?);
        }
        if began.imported_before && summary.inserted == 0 {
            return nothing_new(&tx, batch_id, rows.len());
        }
        summary.imported_before = began.imported_before;
        finish_batch(&tx, batch_id, &summary)?;
        record_upload(&tx, batch_id, ENERGY_KIND, &meta, &summary, uploader)?;
        tx.commit()?;
        Ok(summary)
    }

    /// Carriers on which the effective source and another disagree (totals in the carrier's
    /// accounting unit, relative difference above one in a million).
    fn energy_conflicts(
        &self,
        conn: &Connection,
        uscc: Uscc,
        uscc_id: i64,
        year: i32,
    ) -> Result<Vec<Conflict>, StoreError> {
        let all = lines_of(conn, uscc_id, year, None)?;
        let by_source = group_by_source(&all);
        let totals: BTreeMap<&str, BTreeMap<Carrier, f64>> = by_source
            .iter()
            .map(|(source, (_, lines))| (source.as_str(), carrier_totals(lines)))
            .collect();
        let sources: SourcesOfYear = by_source
            .iter()
            .map(|(source, (latest, lines))| {
                (
                    source.clone(),
                    (*latest, lines.iter().map(|l| l.carrier).collect()),
                )
            })
            .collect();
        let mut conflicts = Vec::new();
        for (carrier, used) in self.effective_sources(&sources) {
            let mine = totals[used][&carrier];
            for (source, t) in &totals {
                if *source == used {
                    continue;
                }
                if let Some(&other) = t.get(&carrier)
                    && (mine - other).abs() > 1e-6 * mine.abs().max(other.abs())
                {
                    conflicts.push(Conflict {
                        uscc,
                        year,
                        field: format!("energy:{}", carrier.key()),
                        used_source: used.to_string(),
                        used_value: mine,
                        other_source: source.to_string(),
                        other_value: other,
                    });
                }
            }
        }
        Ok(conflicts)
    }

    /// For each carrier of an enterprise and year, the source whose lines count: among the sources
    /// with lines of it, for electricity first by the priority of `electricity_kwh`, then by that
    /// of `energy_tce`, then the latest batch.
    fn effective_sources<'a>(&self, sources: &'a SourcesOfYear) -> BTreeMap<Carrier, &'a str> {
        let rank = |figure: Figure, source: &str| {
            self.priority
                .rank(figure.key(), source)
                .unwrap_or(usize::MAX)
        };
        let carriers: BTreeSet<Carrier> = sources
            .values()
            .flat_map(|(_, c)| c.iter().copied())
            .collect();
        carriers
            .into_iter()
            .filter_map(|carrier| {
                sources
                    .iter()
                    .filter(|(_, (_, c))| c.contains(&carrier))
                    .min_by_key(|(source, (latest_batch, _))| {
                        (
                            if carrier == Carrier::Electricity {
                                rank(Figure::ElectricityKwh, source)
                            } else {
                                0
                            },
                            rank(Figure::EnergyTce, source),
                            std::cmp::Reverse(*latest_batch),
                        )
                    })
                    .map(|(source, _)| (carrier, source.as_str()))
            })
            .collect()
    }

    /// The effective energy lines of one enterprise, every year, oldest year first.
    pub fn energy_lines_of(&self, uscc: &Uscc) -> Result<Vec<StoredEnergyLine>, StoreError> {
        let Some(uscc_id) = self.uscc_id(uscc.as_str())? else {
            return Ok(Vec::new());
        };
        self.effective_lines("WHERE l.uscc_id = ?1", uscc_id)
    }

    /// The effective energy lines of every enterprise in a year.
    pub fn energy_lines_in(&self, year: i32) -> Result<Vec<StoredEnergyLine>, StoreError> {
        self.effective_lines("WHERE l.year = ?1", i64::from(year))
    }

    /// The years that have energy lines, oldest first.
    pub fn energy_years(&self) -> Result<Vec<i32>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT year FROM energy_lines ORDER BY year")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn effective_lines(&self, filter: &str, key: i64) -> Result<Vec<StoredEnergyLine>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT u.uscc, l.year, l.carrier, l.quantity, l.unit, l.enthalpy_kj_per_kg,
                    l.temperature_c, s.name, l.batch_id, b.file_name, l.row, b.imported_at
             FROM energy_lines l
             JOIN usccs u ON u.id = l.uscc_id
             JOIN sources s ON s.id = l.source_id
             JOIN import_batches b ON b.id = l.batch_id
             {filter}
             ORDER BY u.uscc, l.year, l.id"
        ))?;
        let mut rows = stmt.query([key])?;
        let mut all: Vec<StoredEnergyLine> = Vec::new();
        while let Some(r) = rows.next()? {
            let carrier = text_at(r, 2)?;
            let unit = text_at(r, 4)?;
            all.push(StoredEnergyLine {
                uscc: uscc_at(r, 0)?,
                year: r.get(1)?,
                carrier: Carrier::from_key(carrier)
                    .ok_or_else(|| StoreError::Corrupt(format!("energy carrier {carrier}")))?,
                quantity: r.get(3)?,
                unit: Unit::from_key(unit)
                    .ok_or_else(|| StoreError::Corrupt(format!("energy unit {unit}")))?,
                enthalpy_kj_per_kg: r.get(5)?,
                temperature_c: r.get(6)?,
                source: r.get(7)?,
                batch_id: r.get(8)?,
                file_name: r.get(9)?,
                row: to_u64(r.get(10)?),
                imported_at: r.get(11)?,
            });
        }
        // Per enterprise, year and carrier, only the effective source's lines. For each source:
        // its latest batch for the enterprise and year, and the carriers it has lines of.
        let mut sources: HashMap<(Uscc, i32), SourcesOfYear> = HashMap::new();
        for l in &all {
            let entry = sources
                .entry((l.uscc, l.year))
                .or_default()
                .entry(l.source.clone())
                .or_default();
            entry.0 = entry.0.max(l.batch_id);
            entry.1.insert(l.carrier);
        }
        let mut chosen: HashMap<(Uscc, i32, Carrier), String> = HashMap::new();
        for ((uscc, year), by_source) in &sources {
            for (carrier, source) in self.effective_sources(by_source) {
                chosen.insert((*uscc, *year, carrier), source.to_string());
            }
        }
        all.retain(|l| chosen.get(&(l.uscc, l.year, l.carrier)) == Some(&l.source));
        Ok(all)
    }

    /// Stores monthly metered totals as one batch of source `metered`, named by `label` (the
    /// dataset they were aggregated from). Totals of enterprises the register does not know are
    /// returned, not stored. The same totals brought in again change nothing.
    pub fn import_metered_months(
        &mut self,
        totals: &[MeteredMonth],
        label: &str,
        uploader: Option<&Uploader>,
    ) -> Result<MeteredMonthsImport, StoreError> {
        let known = self.known_usccs()?;
        let mut rows: Vec<&MeteredMonth> = Vec::with_capacity(totals.len());
        let mut unknown: Vec<Uscc> = Vec::new();
        for t in totals {
            if !(1..=12).contains(&t.month) {
                return Err(StoreError::InvalidBatch(format!(
                    "{} {} {}: month {} is not 1 to 12",
                    t.uscc, t.carrier, t.year, t.month
                )));
            }
            if !(t.total.is_finite() && t.total >= 0.0) {
                return Err(invalid(0, &t.uscc, &t.carrier, t.total));
            }
            if known.contains(&t.uscc) {
                rows.push(t);
            } else if !unknown.contains(&t.uscc) {
                unknown.push(t.uscc);
            }
        }
        rows.sort_by(|a, b| {
            (a.uscc, a.year, &a.carrier, a.month).cmp(&(b.uscc, b.year, &b.carrier, b.month))
        });
        // The batch's identity is its content: the same totals are the same "file".
        let mut hash = Sha256::new();
        for t in &rows {
            hash.update(format!(
                "{},{},{},{},{},{},{}\n",
                t.uscc, t.carrier, t.year, t.month, t.total, t.unit, t.readings
            ));
        }
        let meta = checked_meta(&BatchMeta {
            source: METERED.into(),
            file_name: label.to_string(),
            sheet: None,
            file_sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })?;
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let began = begin_batch(&tx, METERED_MONTHS_KIND, &meta)?;
        let batch_id = began.id;
        // The same content hashes the same: a set seen before has nothing new.
        if began.imported_before {
            return Ok(MeteredMonthsImport {
                summary: already_imported(rows.len()),
                unknown,
            });
        }
        let mut summary = ImportSummary {
            batch_id: Some(batch_id),
            rows: rows.len(),
            ..ImportSummary::default()
        };
        {
            let mut select = tx.prepare_cached(
                "SELECT total, unit, readings FROM metered_months
                 WHERE uscc_id = ?1 AND year = ?2 AND carrier = ?3 AND month = ?4",
            )?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO metered_months (uscc_id, carrier, year, month, total, unit, readings,
                     batch_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (uscc_id, year, carrier, month) DO UPDATE SET
                     total = excluded.total, unit = excluded.unit, readings = excluded.readings,
                     batch_id = excluded.batch_id",
            )?;
            for t in &rows {
                let uscc_id = uscc_id_or_insert(&tx, t.uscc.as_str())?;
                let readings = to_i64(t.readings);
                let before: Option<(f64, String, i64)> = select
                    .query_row(params![uscc_id, t.year, t.carrier, t.month], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })?;
                match before {
                    Some((total, unit, n))
                        if total.to_bits() == t.total.to_bits()
                            && unit == t.unit
                            && n == readings =>
                    {
                        summary.unchanged += 1;
                        continue;
                    }
                    Some(_) => summary.corrected += 1,
                    None => summary.inserted += 1,
                }
                upsert.execute(params![
                    uscc_id, t.carrier, t.year, t.month, t.total, t.unit, readings, batch_id
                ])?;
            }
        }
        finish_batch(&tx, batch_id, &summary)?;
        record_upload(
            &tx,
            batch_id,
            METERED_MONTHS_KIND,
            &meta,
            &summary,
            uploader,
        )?;
        tx.commit()?;
        Ok(MeteredMonthsImport { summary, unknown })
    }

    /// One enterprise's metered monthly totals, by year, carrier and month.
    pub fn metered_months_of(&self, uscc: &Uscc) -> Result<Vec<MeteredMonth>, StoreError> {
        let Some(uscc_id) = self.uscc_id(uscc.as_str())? else {
            return Ok(Vec::new());
        };
        self.months("WHERE m.uscc_id = ?1", uscc_id)
    }

    /// Every enterprise's metered monthly totals of a year.
    pub fn metered_months_in(&self, year: i32) -> Result<Vec<MeteredMonth>, StoreError> {
        self.months("WHERE m.year = ?1", i64::from(year))
    }

    fn months(&self, filter: &str, key: i64) -> Result<Vec<MeteredMonth>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT u.uscc, m.carrier, m.year, m.month, m.total, m.unit, m.readings
             FROM metered_months m JOIN usccs u ON u.id = m.uscc_id
             {filter}
             ORDER BY u.uscc, m.year, m.carrier, m.month"
        ))?;
        let mut rows = stmt.query([key])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(MeteredMonth {
                uscc: uscc_at(r, 0)?,
                carrier: r.get(1)?,
                year: r.get(2)?,
                month: r.get(3)?,
                total: r.get(4)?,
                unit: r.get(5)?,
                readings: to_u64(r.get(6)?),
            });
        }
        Ok(out)
    }
}

/// Lines of an enterprise and year (of one source, or all), with their source names.
fn lines_of(
    conn: &Connection,
    uscc_id: i64,
    year: i32,
    source_id: Option<i64>,
) -> Result<Vec<(String, StoredLineRef)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.name, l.carrier, l.quantity, l.unit, l.enthalpy_kj_per_kg, l.temperature_c,
                l.batch_id
         FROM energy_lines l JOIN sources s ON s.id = l.source_id
         WHERE l.uscc_id = ?1 AND l.year = ?2 AND (?3 IS NULL OR l.source_id = ?3)
         ORDER BY l.id",
    )?;
    let mut rows = stmt.query(params![uscc_id, year, source_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let carrier = text_at(r, 1)?;
        let unit = text_at(r, 3)?;
        out.push((
            r.get(0)?,
            StoredLineRef {
                carrier: Carrier::from_key(carrier)
                    .ok_or_else(|| StoreError::Corrupt(format!("energy carrier {carrier}")))?,
                quantity: r.get(2)?,
                unit: Unit::from_key(unit)
                    .ok_or_else(|| StoreError::Corrupt(format!("energy unit {unit}")))?,
                enthalpy_kj_per_kg: r.get(4)?,
                temperature_c: r.get(5)?,
                batch_id: r.get(6)?,
            },
        ));
    }
    Ok(out)
}

/// A stored line without its lineage (for comparing within an import).
struct StoredLineRef {
    carrier: Carrier,
    quantity: f64,
    unit: Unit,
    enthalpy_kj_per_kg: Option<f64>,
    temperature_c: Option<f64>,
    batch_id: i64,
}

impl StoredLineRef {
    fn line(&self) -> EnergyLine {
        EnergyLine {
            carrier: self.carrier,
            quantity: self.quantity,
            unit: self.unit,
            enthalpy_kj_per_kg: self.enthalpy_kj_per_kg,
            temperature_c: self.temperature_c,
        }
    }
}

/// Lines by source, with each source's latest batch.
fn group_by_source(lines: &[(String, StoredLineRef)]) -> BySource {
    let mut by_source: BySource = BTreeMap::new();
    for (source, l) in lines {
        let entry = by_source.entry(source.clone()).or_default();
        entry.0 = entry.0.max(l.batch_id);
        entry.1.push(l.line());
    }
    by_source
}

impl Store {
    /// What the carbon ledger of a year takes: every registered enterprise with effective energy
    /// lines that year, with its effective value added (None when no source sent one).
    pub fn ledger_inputs(
        &self,
        year: i32,
    ) -> Result<Vec<gusu_core::carbon::ledger::LedgerInput>, StoreError> {
        let mut lines: BTreeMap<Uscc, Vec<EnergyLine>> = BTreeMap::new();
        for l in self.energy_lines_in(year)? {
            lines.entry(l.uscc).or_default().push(l.line());
        }
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let value_added: HashMap<Uscc, f64> = self
            .yearly_records(year)?
            .into_iter()
            .filter_map(|r| r.figures.get(Figure::ValueAdded).map(|v| (r.uscc, v)))
            .collect();
        let mut inputs = Vec::with_capacity(lines.len());
        for e in self.enterprises()? {
            if let Some(own) = lines.remove(&e.uscc) {
                inputs.push(gusu_core::carbon::ledger::LedgerInput {
                    uscc: e.uscc,
                    value_added: value_added.get(&e.uscc).copied(),
                    name: e.name,
                    district: e.district,
                    division: e.division,
                    lines: own,
                });
            }
        }
        Ok(inputs)
    }
}
