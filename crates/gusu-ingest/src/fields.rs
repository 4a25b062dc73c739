//! Reading the fields of one data row, recording a finding for every cell that is wrong.
//!
//! Each reader returns `None` both for a blank optional cell and for a cell in error; an error
//! also marks the row as failed, so all problems of a row are reported, not only the first.

use chrono::NaiveDate;
use gusu_core::{Figure, Issue, RegionSet, Uscc, parse_industry_code};

use crate::cell::Cell;
use crate::header::{Column, Layout, Scale};
use crate::issues;
use crate::table::RowRef;

/// Zero in these columns is more likely a missing value than a real one, so it is flagged.
const ZERO_SUSPECT: &[Figure] = &[
    Figure::LandAreaMu,
    Figure::Revenue,
    Figure::TaxPaid,
    Figure::Employees,
];

pub(crate) struct Fields<'r, 'i> {
    row: u64,
    cells: RowRef<'r>,
    layout: &'r Layout,
    /// CSV cells may be numbers Excel wrote out as text.
    is_csv: bool,
    issues: &'i mut Vec<Issue>,
    failed: bool,
}

impl<'r, 'i> Fields<'r, 'i> {
    pub(crate) fn new(
        row: u64,
        cells: RowRef<'r>,
        layout: &'r Layout,
        is_csv: bool,
        issues: &'i mut Vec<Issue>,
    ) -> Self {
        let mut fields = Fields {
            row,
            cells,
            layout,
            is_csv,
            issues,
            failed: false,
        };
        // A CSV row with more or fewer fields than its header has shifted cells (an unquoted
        // "1,131254.63" splits in two): reading it by position would put values in the wrong
        // columns, so the row is refused whole.
        let found = cells.len();
        if is_csv && (found < layout.used_field_count || found > layout.field_count) {
            fields.error(issues::field_count(row, layout.used_field_count, found));
        }
        fields
    }

    /// True when any cell of the row was in error.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    fn get(&self, column: Column) -> Option<(Cell<'r>, Scale)> {
        self.layout
            .slot(column)
            .map(|(i, scale)| (self.cells.cell(i), scale))
    }

    fn error(&mut self, issue: Issue) {
        self.failed = true;
        self.issues.push(issue);
    }

    /// The cell of a required column, or an error when it is blank (or the column is absent).
    fn required(&mut self, column: Column) -> Option<Cell<'r>> {
        match self.get(column) {
            Some((cell, _)) if !cell.is_blank() => Some(cell),
            other => {
                let value = other
                    .map(|(c, _)| c.text().into_owned())
                    .unwrap_or_default();
                self.error(issues::required_blank(self.row, column, &value));
                None
            }
        }
    }

    pub(crate) fn text(&mut self, column: Column) -> Option<String> {
        self.required(column).map(|c| c.text().into_owned())
    }

    /// An optional text cell: blank (or an absent column) is `None`.
    pub(crate) fn optional_text(&mut self, column: Column) -> Option<String> {
        let (cell, _) = self.get(column)?;
        (!cell.is_blank()).then(|| cell.text().into_owned())
    }

    /// An optional date: blank is `None`, anything else not a date an error.
    pub(crate) fn optional_date(&mut self, column: Column) -> Option<NaiveDate> {
        let (cell, _) = self.get(column)?;
        match cell.date() {
            Ok(v) => v,
            Err(()) => {
                self.error(issues::unparseable_date(self.row, column, &cell.text()));
                None
            }
        }
    }

    pub(crate) fn uscc(&mut self) -> Option<Uscc> {
        let cell = self.required(Column::Uscc)?;
        let shown = cell.text_as_displayed();
        match Uscc::parse(&shown) {
            Ok(u) => Some(u),
            Err(e) => {
                self.error(issues::invalid_uscc(self.row, &shown, &e));
                None
            }
        }
    }

    /// Warns when a code was registered outside the region's cities.
    pub(crate) fn check_region(&mut self, uscc: &Uscc, region: &RegionSet) {
        if !uscc.division_code().starts_with(&region.division_prefix) {
            let issue =
                issues::uscc_outside_region(self.row, uscc.as_str(), uscc.division_code(), region);
            self.issues.push(issue);
        }
    }

    /// An optional number in the interchange unit; blank (or an absent column) is `None`.
    pub(crate) fn number(&mut self, column: Column) -> Option<f64> {
        let (cell, scale) = self.get(column)?;
        let read = cell.number().or_else(|()| match cell {
            // A unit after the number is accepted when it is the column's own unit.
            Cell::Text(text) => match crate::cell::unit_suffix(text) {
                Some((number, unit)) if crate::header::cell_unit_fits(column, scale, unit) => {
                    crate::cell::number_from_text(number).map(Some).ok_or(())
                }
                _ => Err(()),
            },
            _ => Err(()),
        });
        match read {
            Ok(Some(v)) => {
                if let Column::Figure(f) = column {
                    if v == 0.0 && ZERO_SUSPECT.contains(&f) {
                        self.issues
                            .push(issues::zero_value(self.row, column, &cell.text()));
                    } else if v < 0.0 {
                        self.issues
                            .push(issues::negative_value(self.row, column, &cell.text()));
                    }
                }
                Some(scale.apply(v))
            }
            Ok(None) => None,
            Err(()) => {
                self.error(issues::unparseable_number(self.row, column, &cell.text()));
                None
            }
        }
    }

    /// A required number: blank is an error (`required_blank`).
    pub(crate) fn required_number(&mut self, column: Column) -> Option<f64> {
        self.required(column)?;
        self.number(column)
    }

    /// Records an error found by the caller and marks the row as failed.
    pub(crate) fn reject(&mut self, issue: Issue) {
        self.error(issue);
    }

    /// Records a warning found by the caller.
    pub(crate) fn warn(&mut self, issue: Issue) {
        self.issues.push(issue);
    }

    /// A yes/no value; blank is `None` (or an error when `required`).
    pub(crate) fn flag(&mut self, column: Column, required: bool) -> Option<bool> {
        let Some((cell, _)) = self.get(column) else {
            if required {
                self.required(column);
            }
            return None;
        };
        if required && cell.is_blank() {
            self.required(column);
            return None;
        }
        match cell.flag() {
            Ok(v) => v,
            Err(()) => {
                self.error(issues::unparseable_flag(self.row, column, &cell.text()));
                None
            }
        }
    }

    /// A required date.
    pub(crate) fn date(&mut self, column: Column) -> Option<NaiveDate> {
        let cell = self.required(column)?;
        match cell.date() {
            Ok(v) => v,
            Err(()) => {
                self.error(issues::unparseable_date(self.row, column, &cell.text()));
                None
            }
        }
    }

    /// A required year: a whole number from 1949 to 2100 (`2024`, `2024.0`, `2024年`, `2024年度`).
    pub(crate) fn year(&mut self) -> Option<i32> {
        let cell = self.required(Column::Year)?;
        let value = match cell {
            Cell::Text(t) => {
                let t = t.trim();
                let t = t
                    .strip_suffix("年度")
                    .or_else(|| t.strip_suffix('年'))
                    .unwrap_or(t);
                Cell::Text(t).number()
            }
            other => other.number(),
        };
        match value {
            Ok(Some(y)) if y.fract() == 0.0 && (1949.0..=2100.0).contains(&y) => Some(y as i32),
            _ => {
                self.error(issues::invalid_year(self.row, &cell.text()));
                None
            }
        }
    }

    /// A required district, as its code.
    pub(crate) fn district(&mut self, region: &RegionSet) -> Option<String> {
        let cell = self.required(Column::District)?;
        let text = cell.text();
        match region.resolve(&text) {
            Some(d) => Some(d.code.clone()),
            None => {
                self.error(issues::unknown_district(self.row, &text, region));
                None
            }
        }
    }

    /// A required industry code: the normalised code and its two-digit division.
    pub(crate) fn industry(&mut self, any_section: bool) -> Option<(String, String)> {
        let cell = self.required(Column::IndustryCode)?;
        let text = cell.text();
        let from_number = self.is_csv || cell.is_number();
        let parsed = if any_section {
            gusu_core::industry::parse_any_industry_code(&text, from_number)
        } else {
            parse_industry_code(&text, from_number).map(|c| (c.code, c.division.code.to_string()))
        };
        match parsed {
            Ok(code) => Some(code),
            Err(e) => {
                self.error(issues::invalid_industry(self.row, &text, &e));
                None
            }
        }
    }
}
