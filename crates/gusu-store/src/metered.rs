//! Metered electricity (issue 4): the yearly totals of an enterprise's meter readings enter the
//! yearly records as source `metered`, ranked below the power company's billed figure. They fill
//! the gaps where no bill was sent; where both exist, the bill is used and a difference beyond a
//! tolerance is reported.

use gusu_core::{Figure, SourceRow, Uscc, YearlyRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{BatchMeta, ImportSummary, Store, StoreError, Uploader};

/// The source name of metered totals.
pub const METERED: &str = "metered";

/// A billed figure and the meters' total that differ by more than the tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeteredDifference {
    pub uscc: Uscc,
    pub year: i32,
    pub billed_kwh: f64,
    pub metered_kwh: f64,
    /// (metered − billed) ÷ billed.
    pub relative: f64,
}

/// What bringing in a year's metered totals did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeteredImport {
    pub summary: ImportSummary,
    /// Totals of enterprises the register does not know: not stored.
    pub unknown: Vec<Uscc>,
    pub differences: Vec<MeteredDifference>,
}

impl Store {
    /// Stores a year's metered electricity totals (kWh per enterprise) as one batch of source
    /// `metered`, named by `label` (the dataset they were aggregated from). The same totals
    /// brought in again change nothing. Differences from the billed figure above `tolerance`
    /// (relative, e.g. 0.05) are returned. With an `uploader`, the batch's `import` audit entry is
    /// written in the same transaction as the values.
    pub fn import_metered_electricity(
        &mut self,
        year: i32,
        totals: &[(Uscc, f64)],
        label: &str,
        tolerance: f64,
        uploader: Option<&Uploader>,
    ) -> Result<MeteredImport, StoreError> {
        let known = self.known_usccs()?;
        let mut rows: Vec<(Uscc, f64)> = Vec::with_capacity(totals.len());
        let mut unknown: Vec<Uscc> = Vec::new();
        for &(uscc, kwh) in totals {
            if known.contains(&uscc) {
                rows.push((uscc, kwh));
            } else {
                unknown.push(uscc);
            }
        }
        // The batch's identity is its content: the same totals are the same "file".
        let mut hash = Sha256::new();
        hash.update(format!("metered electricity {year}\n"));
        rows.sort_by_key(|(uscc, _)| *uscc);
        let sorted = rows;
        for (uscc, kwh) in &sorted {
            hash.update(format!("{uscc},{kwh}\n"));
        }
        let meta = BatchMeta {
            source: METERED.into(),
            file_name: label.to_string(),
            sheet: None,
            file_sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        };
        let records: Vec<SourceRow<YearlyRecord>> = sorted
            .iter()
            .enumerate()
            .map(|(i, (uscc, kwh))| {
                let mut r = YearlyRecord::new(*uscc, year);
                r.figures.set(Figure::ElectricityKwh, Some(*kwh));
                SourceRow {
                    row: i as u64 + 1,
                    record: r,
                }
            })
            .collect();
        let summary = match uploader {
            Some(uploader) => self.import_annual_by(&meta, &records, uploader)?,
            None => self.import_annual(&meta, &records)?,
        };
        let field = Figure::ElectricityKwh.key();
        let differences = self
            .conflicts(Some(year))?
            .into_iter()
            .filter(|c| c.field == field)
            .filter_map(|c| {
                let (billed, metered) = match (c.used_source.as_str(), c.other_source.as_str()) {
                    (b, METERED) if b != METERED => (c.used_value, c.other_value),
                    (METERED, b) if b != METERED => (c.other_value, c.used_value),
                    _ => return None,
                };
                let relative = if billed != 0.0 {
                    (metered - billed) / billed.abs()
                } else {
                    f64::INFINITY
                };
                (relative.abs() > tolerance).then_some(MeteredDifference {
                    uscc: c.uscc,
                    year: c.year,
                    billed_kwh: billed,
                    metered_kwh: metered,
                    relative,
                })
            })
            .collect();
        Ok(MeteredImport {
            summary,
            unknown,
            differences,
        })
    }
}
