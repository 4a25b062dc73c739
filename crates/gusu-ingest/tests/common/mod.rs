//! Fixtures for the integration tests: valid codes, CSV text and XLSX workbooks built in memory.
#![allow(dead_code)]

use gusu_core::{Report, Severity, Uscc};
use gusu_ingest::ReadOptions;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// A valid code registered in Kunshan (3205xx), numbered `i`.
pub fn uscc(i: u32) -> String {
    uscc_in("320583", i)
}

/// A valid code registered in the given 6-digit division.
pub fn uscc_in(division: &str, i: u32) -> String {
    Uscc::with_check_character(&format!("91{division}{i:09}"))
        .expect("valid body")
        .to_string()
}

pub fn opts() -> ReadOptions {
    ReadOptions::default()
}

pub fn csv(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s.into_bytes()
}

/// (row, code) of every finding.
pub fn findings(report: &Report) -> Vec<(Option<u64>, String)> {
    report
        .issues
        .iter()
        .map(|i| (i.row, i.code.clone()))
        .collect()
}

/// The finding with this code on this row, if any.
pub fn finding<'a>(report: &'a Report, row: u64, code: &str) -> Option<&'a gusu_core::Issue> {
    report
        .issues
        .iter()
        .find(|i| i.row == Some(row) && i.code == code)
}

pub fn has_error(report: &Report, row: u64, code: &str) -> bool {
    finding(report, row, code).is_some_and(|i| i.severity == Severity::Error)
}

pub fn has_warning(report: &Report, row: u64, code: &str) -> bool {
    finding(report, row, code).is_some_and(|i| i.severity == Severity::Warning)
}

/// A cell of a test workbook.
#[derive(Debug, Clone)]
pub enum X {
    S(String),
    N(f64),
    B(bool),
    /// A date cell formatted yyyy-mm-dd.
    D(u16, u8, u8),
    Blank,
}

pub fn s(text: &str) -> X {
    X::S(text.to_string())
}

/// An XLSX workbook with the given sheets (name, rows starting at row 1).
pub fn xlsx(sheets: &[(&str, Vec<Vec<X>>)]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    X::S(t) => {
                        sheet.write_string(r, c, t).unwrap();
                    }
                    X::N(v) => {
                        sheet.write_number(r, c, *v).unwrap();
                    }
                    X::B(b) => {
                        sheet.write_boolean(r, c, *b).unwrap();
                    }
                    X::D(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        sheet.write_datetime_with_format(r, c, &dt, &date).unwrap();
                    }
                    X::Blank => {}
                }
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}
