//! Several yearly files into one set of records, cell by cell.

use std::collections::{BTreeMap, BTreeSet};

use gusu_core::{Figure, Flag, Issue, YearlyRecord};

use crate::cell::format_number;
use crate::issues;
use crate::parsed::ParsedAnnual;
use crate::seen::CodeKey;

/// Where a merged cell's value came from: file index and row.
type Origin = (usize, u64);

struct Entry {
    record: YearlyRecord,
    figure_from: [Option<Origin>; Figure::ALL.len()],
    flag_from: [Option<Origin>; Flag::ALL.len()],
}

/// Values read from different files and units agree when equal to 1 part in 10⁹: 12345.6 元 and
/// 1.23456 万元 are the same figure even if their last bits differ.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

/// Merges yearly files cell by cell: a blank never overrides a value, and two different values
/// for one cell (same enterprise, year and column) in different files is an error reported on the
/// later file's row, naming the other file and row; that row is rejected in the later file and
/// none of its cells are merged. Records come back ordered by code and year, except from a single
/// file, whose rows are moved out in file order (the file's `rows` are left empty).
pub fn merge_annual(files: &mut [ParsedAnnual]) -> Vec<YearlyRecord> {
    // One file has nothing to merge (duplicates within a file are already rejected): its rows are
    // moved out as they are, with no map, which for a million rows was most of the peak memory and
    // a tenth of the time of `gusu evaluate`.
    if let [file] = files {
        return std::mem::take(&mut file.rows)
            .into_iter()
            .map(|r| r.record)
            .collect();
    }
    let names: Vec<String> = files.iter().map(|f| f.file_name.clone()).collect();
    // Keyed by the packed code, which sorts as the code's text does.
    let mut merged: BTreeMap<(CodeKey, i32), Entry> = BTreeMap::new();

    for (fi, file) in files.iter_mut().enumerate() {
        let mut conflicts: Vec<Issue> = Vec::new();
        let mut bad_rows = BTreeSet::new();
        for source_row in &file.rows {
            let rec = &source_row.record;
            let key = (CodeKey::new(&rec.uscc), rec.year);
            let here = (fi, source_row.row);
            let Some(entry) = merged.get_mut(&key) else {
                merged.insert(
                    key,
                    Entry {
                        record: rec.clone(),
                        figure_from: Figure::ALL.map(|f| rec.figures.get(f).map(|_| here)),
                        flag_from: Flag::ALL.map(|f| rec.flag(f).map(|_| here)),
                    },
                );
                continue;
            };
            let before = conflicts.len();
            for (i, figure) in Figure::ALL.into_iter().enumerate() {
                if let (Some(new), Some(old), Some((of, or))) = (
                    rec.figures.get(figure),
                    entry.record.figures.get(figure),
                    entry.figure_from[i],
                ) && !same(new, old)
                {
                    conflicts.push(issues::merge_conflict(
                        here.1,
                        figure.key(),
                        &format_number(new),
                        &format_number(old),
                        &names[of],
                        or,
                    ));
                }
            }
            for (i, flag) in Flag::ALL.into_iter().enumerate() {
                if let (Some(new), Some(old), Some((of, or))) =
                    (rec.flag(flag), entry.record.flag(flag), entry.flag_from[i])
                    && new != old
                {
                    conflicts.push(issues::merge_conflict(
                        here.1,
                        flag.key(),
                        &new.to_string(),
                        &old.to_string(),
                        &names[of],
                        or,
                    ));
                }
            }
            if conflicts.len() > before {
                bad_rows.insert(here.1);
                continue;
            }
            for (i, figure) in Figure::ALL.into_iter().enumerate() {
                if let (Some(v), None) = (rec.figures.get(figure), entry.record.figures.get(figure))
                {
                    entry.record.figures.set(figure, Some(v));
                    entry.figure_from[i] = Some(here);
                }
            }
            for (i, flag) in Flag::ALL.into_iter().enumerate() {
                if let (Some(v), None) = (rec.flag(flag), entry.record.flag(flag)) {
                    entry.record.set_flag(flag, Some(v));
                    entry.flag_from[i] = Some(here);
                }
            }
        }
        file.report.issues.extend(conflicts);
        file.reject_rows(&bad_rows);
    }
    merged.into_values().map(|e| e.record).collect()
}
