//! The yearly file: one row per enterprise and year, with any subset of the value columns and the
//! optional yearly overrides.

use std::collections::BTreeMap;

use gusu_core::{Figure, Figures, Flag, Report, SourceRow, YearlyRecord};

use crate::error::IngestError;
use crate::fields::Fields;
use crate::header::{Column, FileKind, Layout};
use crate::issues;
use crate::parsed::{Outcome, RawRows, duplicates, finish};
use crate::seen::{CodeKey, Seen};
use crate::table::{Table, walk};

pub(crate) fn parse(
    table: &Table,
    file: &str,
) -> Result<(Outcome<YearlyRecord>, Layout), IngestError> {
    let mut report = Report::new(file);
    let mut rows = Vec::with_capacity(table.row_capacity());
    let mut rejected: RawRows = BTreeMap::new();
    let mut seen = Seen::with_capacity(table.row_capacity());
    let is_csv = table.is_csv();
    // Set once the header is known; the same for every row.
    let mut present: Option<(Vec<Figure>, Vec<Flag>)> = None;

    let layout = walk(table, FileKind::Annual, file, |layout, n, cells| {
        report.rows += 1;
        let (figures, flags) = present.get_or_insert_with(|| (layout.figures(), layout.flags()));
        let mut f = Fields::new(n, cells, layout, is_csv, &mut report.issues);
        let uscc = f.uscc();
        let year = f.year();
        let mut values = Figures::default();
        for &figure in figures.iter() {
            values.set(figure, f.number(Column::Figure(figure)));
        }
        let mut overrides = [None; Flag::ALL.len()];
        for (slot, &flag) in overrides.iter_mut().zip(flags.iter()) {
            *slot = Some((flag, f.flag(Column::Flag(flag), false)));
        }
        let failed = f.failed();
        if let (Some(uscc), Some(year)) = (&uscc, year) {
            seen.add((CodeKey::new(uscc), year), n);
        }
        match (uscc, year) {
            (Some(uscc), Some(year)) if !failed => {
                let mut record = YearlyRecord::new(uscc, year);
                record.figures = values;
                for (flag, value) in overrides.into_iter().flatten() {
                    record.set_flag(flag, value);
                }
                rows.push(SourceRow { row: n, record });
            }
            _ => {
                let uscc_col = layout.slot(Column::Uscc).map(|(i, _)| i);
                rejected.insert(n, cells.raw(uscc_col));
            }
        }
    })?;

    let doubled = duplicates(seen, |(code, year), row, others| {
        issues::duplicate_enterprise_year(row, &code.code(), year, others)
    });
    let outcome = finish(table, layout.clone(), report, rows, rejected, doubled);
    Ok((outcome, layout))
}
