//! The city as two clean CSV files with the interchange headers, for benchmarks and DuckDB.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use gusu_core::Figure;

use crate::City;

/// Columns of `enterprises.csv`.
pub const ENTERPRISE_COLUMNS: [&str; 8] = [
    "uscc",
    "name",
    "district",
    "industry_code",
    "land_area_mu",
    "above_scale",
    "established",
    "exempt",
];

/// The figures of `annual.csv`, after `uscc,year`: every figure but the land override, which is
/// the last of `Figure::ALL`.
pub const ANNUAL_FIGURES: &[Figure] = Figure::ALL.split_at(Figure::ALL.len() - 1).0;

pub(crate) fn write_plain(city: &City, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    fs::create_dir_all(dir)?;
    let enterprises_path = dir.join("enterprises.csv");
    let annual_path = dir.join("annual.csv");

    // Fields are formatted into one reused buffer: at a million rows, allocating a String per
    // cell costs more than writing the file.
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_writer(fs::File::create(&enterprises_path)?);
    w.write_record(ENTERPRISE_COLUMNS)?;
    let mut land = String::new();
    let mut established = String::new();
    for e in &city.enterprises {
        land.clear();
        if let Some(mu) = e.land_area_mu {
            push_number(&mut land, mu);
        }
        established.clear();
        push_date(&mut established, e.established);
        w.write_record([
            e.uscc.as_str(),
            &e.name,
            &e.district,
            &e.industry_code,
            &land,
            bool_str(e.above_scale),
            &established,
            bool_str(e.exempt),
        ])?;
    }
    w.flush()?;

    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&annual_path)?);
    let mut line = String::with_capacity(256);
    line.push_str("uscc,year");
    for &f in ANNUAL_FIGURES {
        line.push(',');
        line.push_str(f.key());
    }
    line.push('\n');
    w.write_all(line.as_bytes())?;
    // Every cell is a code, a year or a number: nothing needs quoting, so lines are built directly.
    for r in &city.records {
        line.clear();
        line.push_str(r.uscc.as_str());
        line.push(',');
        push_display(&mut line, r.year);
        for &f in ANNUAL_FIGURES {
            line.push(',');
            if let Some(x) = r.figures.get(f) {
                push_number(&mut line, x);
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    w.flush()?;
    Ok((enterprises_path, annual_path))
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn push_display(out: &mut String, x: impl std::fmt::Display) {
    use std::fmt::Write as _;
    write!(out, "{x}").expect("writing to a String cannot fail");
}

/// Shortest round-trip form, never an exponent (so DuckDB and spreadsheets read it as written).
fn push_number(out: &mut String, x: f64) {
    push_display(out, x);
}

fn push_date(out: &mut String, date: chrono::NaiveDate) {
    push_display(out, date.format("%Y-%m-%d"));
}
