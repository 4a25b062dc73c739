//! The policy calculator's files for the demo city: a designations file (专精特新, 小巨人,
//! 高新技术企业, smart workshops …, as the bureau keeps them) and a projects file (loans and
//! investments, as the 数字工信 system exports them). Deterministic for a seed. The first
//! above-scale enterprise of each district always has a designation and a smart-transformation
//! loan, so every district's demo accounts see a policy apply.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::City;

/// A well-mixed number from a seed and an index (SplitMix64): stable across platforms.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed
        .wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The first above-scale enterprise of each district (by file order).
fn featured(city: &City) -> std::collections::HashSet<usize> {
    let mut seen = std::collections::HashSet::new();
    city.enterprises
        .iter()
        .enumerate()
        .filter(|(_, e)| e.above_scale && seen.insert(e.district.clone()))
        .map(|(i, _)| i)
        .collect()
}

/// Writes `designations.csv` (`uscc, designation, level, recognised, expires`, Chinese headers);
/// returns the rows written.
pub fn write_designations(
    city: &City,
    seed: u64,
    last_year: i32,
    path: &Path,
) -> io::Result<usize> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all("统一社会信用代码,认定类型,认定级别,认定日期,有效期至\n".as_bytes())?;
    let featured = featured(city);
    let kinds: [(&str, &str, u64); 7] = [
        ("专精特新", "省级", 3),
        ("高新技术企业", "国家级", 3),
        ("小巨人", "国家级", 6),
        ("智能制造示范车间", "市级", 3),
        ("智能制造示范车间", "省级", 5),
        ("智能制造示范工厂", "市级", 5),
        ("科技型中小企业", "省级", 2),
    ];
    let mut rows = 0;
    for (i, e) in city.enterprises.iter().enumerate() {
        let h = mix(seed ^ 0xD5, i as u64);
        let chosen = featured.contains(&i) || h.is_multiple_of(7);
        if !chosen {
            continue;
        }
        let (name, level, years) = kinds[(h >> 8) as usize % kinds.len()];
        // Recognised in one of the last three years; a featured enterprise this very year.
        let year = if featured.contains(&i) {
            last_year
        } else {
            last_year - ((h >> 16) % 3) as i32
        };
        let month = 1 + (h >> 24) % 12;
        let expires = year + years as i32;
        writeln!(
            out,
            "{},{name},{level},{year}-{month:02}-15,{expires}-{month:02}-14",
            e.uscc
        )?;
        rows += 1;
    }
    out.flush()?;
    Ok(rows)
}

/// Writes `projects.csv` (the calculator's projects columns, Chinese headers, amounts in 万元);
/// returns the rows written.
pub fn write_projects(city: &City, seed: u64, last_year: i32, path: &Path) -> io::Result<usize> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(
        "项目编号,统一社会信用代码,项目类型,贷款日期,贷款金额(万元),设备购置贷款(万元),利率较LPR加点,是否新建项目,固定资产投资(万元),设备投资(万元)\n"
            .as_bytes(),
    )?;
    let featured = featured(city);
    let kinds = ["智能化改造", "技术改造", "扩建", "新建", "创新载体"];
    let mut rows = 0;
    for (i, e) in city.enterprises.iter().enumerate() {
        let h = mix(seed ^ 0x9A, i as u64);
        if !(featured.contains(&i) || (e.above_scale && h.is_multiple_of(4))) {
            continue;
        }
        let kind = if featured.contains(&i) {
            "智能化改造"
        } else {
            kinds[(h >> 8) as usize % kinds.len()]
        };
        // A featured enterprise's loan is of the year before the last, when the city's
        // smart-transformation award (loans to 2023 in the demo's default years) still holds.
        let year = if featured.contains(&i) {
            last_year - 1
        } else {
            last_year - ((h >> 12) % 2) as i32
        };
        let month = 1 + (h >> 16) % 12;
        let loan = 500 + (h >> 20) % 40 * 250; // 500 … 10,250 万元
        let equipment = loan * (40 + (h >> 28) % 50) / 100;
        let rate = (h >> 34) % 80;
        let is_new = if kind == "新建" { "是" } else { "否" };
        let (fixed, equipment_investment) = if kind == "新建" || kind == "扩建" {
            let fixed = loan * 3;
            (fixed.to_string(), (fixed / 2).to_string())
        } else {
            (String::new(), String::new())
        };
        writeln!(
            out,
            "D{year}{i:06},{},{kind},{year}-{month:02}-20,{loan},{equipment},{rate},{is_new},{fixed},{equipment_investment}",
            e.uscc
        )?;
        rows += 1;
    }
    out.flush()?;
    Ok(rows)
}
