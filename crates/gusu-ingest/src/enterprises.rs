//! The enterprises file: one row per enterprise, its attributes that hold across years.

use std::collections::BTreeMap;

use gusu_core::{Enterprise, RegionSet, Report, SourceRow};

use crate::error::IngestError;
use crate::fields::Fields;
use crate::header::{Column, FileKind};
use crate::issues;
use crate::parsed::{Outcome, RawRows, duplicates, finish};
use crate::seen::{CodeKey, Seen};
use crate::table::{Table, walk};

pub(crate) fn parse(
    table: &Table,
    file: &str,
    region: &RegionSet,
    any_section: bool,
) -> Result<Outcome<Enterprise>, IngestError> {
    let mut report = Report::new(file);
    let mut rows = Vec::with_capacity(table.row_capacity());
    let mut rejected: RawRows = BTreeMap::new();
    let mut seen = Seen::with_capacity(table.row_capacity());
    let is_csv = table.is_csv();

    let layout = walk(table, FileKind::Enterprises, file, |layout, n, cells| {
        report.rows += 1;
        let mut f = Fields::new(n, cells, layout, is_csv, &mut report.issues);
        let uscc = f.uscc();
        if let Some(u) = &uscc {
            f.check_region(u, region);
            seen.add(CodeKey::new(u), n);
        }
        let name = f.text(Column::Name);
        let district = f.district(region);
        let industry = f.industry(any_section);
        let land_area_mu = f.number(Column::LAND);
        let above_scale = f.flag(Column::ABOVE_SCALE, true);
        let established = f.date(Column::Established);
        // A blank "exempt" cell means the enterprise is evaluated.
        let exempt = f.flag(Column::EXEMPT, false).unwrap_or(false);
        let failed = f.failed();
        match (uscc, name, district, industry, above_scale, established) {
            (
                Some(uscc),
                Some(name),
                Some(district),
                Some((industry_code, division)),
                Some(above_scale),
                Some(established),
            ) if !failed => {
                rows.push(SourceRow {
                    row: n,
                    record: Enterprise {
                        uscc,
                        name,
                        district,
                        industry_code,
                        division,
                        land_area_mu,
                        above_scale,
                        established,
                        exempt,
                    },
                });
            }
            _ => {
                let uscc_col = layout.slot(Column::Uscc).map(|(i, _)| i);
                rejected.insert(n, cells.raw(uscc_col));
            }
        }
    })?;

    // The same code twice: every occurrence is an error, since gusu cannot tell which is right.
    let doubled = duplicates(seen, |code, row, others| {
        issues::duplicate_uscc(row, &code.code(), others)
    });
    Ok(finish(table, layout, report, rows, rejected, doubled))
}
