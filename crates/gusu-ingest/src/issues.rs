//! Every finding gusu-ingest reports, with its stable code and wording in English and Chinese.
//! docs/validation-codes.md lists the same codes; keep the two in step.

use gusu_core::industry::IndustryCodeError;
use gusu_core::{Issue, RegionSet, UsccError};

use crate::header::Column;

pub(crate) fn required_blank(row: u64, column: Column, value: &str) -> Issue {
    Issue::error(
        "required_blank",
        format!("{} is required but the cell is blank", column.key()),
        format!("“{}”为必填项，不能为空", column.name_zh()),
    )
    .at(row)
    .cell(column.key(), value)
}

pub(crate) fn invalid_uscc(row: u64, value: &str, e: &UsccError) -> Issue {
    Issue::error(
        e.code(),
        format!("invalid unified social credit code: {e}"),
        format!("统一社会信用代码无效：{}", e.message_zh()),
    )
    .at(row)
    .cell(Column::Uscc.key(), value)
}

pub(crate) fn uscc_outside_region(
    row: u64,
    value: &str,
    division: &str,
    region: &RegionSet,
) -> Issue {
    Issue::warning(
        "uscc_outside_region",
        format!(
            "the code was registered in division {division}, outside {} (codes there start {})",
            region.city_en, region.division_prefix
        ),
        format!(
            "该代码的登记地行政区划为 {division}，不在{}（应以 {} 开头）",
            region.city_zh, region.division_prefix
        ),
    )
    .at(row)
    .cell(Column::Uscc.key(), value)
}

fn row_list(rows: &[u64]) -> String {
    rows.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn duplicate_uscc(row: u64, value: &str, others: &[u64]) -> Issue {
    let list = row_list(others);
    Issue::error(
        "duplicate_uscc",
        format!("the same code is also in row {list}: each enterprise may appear only once"),
        format!("同一代码还出现在第 {list} 行：每家企业只能出现一次"),
    )
    .at(row)
    .cell(Column::Uscc.key(), value)
}

pub(crate) fn duplicate_enterprise_year(row: u64, value: &str, year: i32, others: &[u64]) -> Issue {
    let list = row_list(others);
    Issue::error(
        "duplicate_enterprise_year",
        format!("this enterprise also has a row for {year} in row {list}: one row per enterprise and year"),
        format!("该企业 {year} 年的数据还出现在第 {list} 行：每家企业每年只能有一行"),
    )
    .at(row)
    .cell(Column::Uscc.key(), value)
}

pub(crate) fn unparseable_number(row: u64, column: Column, value: &str) -> Issue {
    Issue::error(
        "unparseable_number",
        format!("'{value}' is not a number (write digits, e.g. 1234.5 or 1,234.5)"),
        format!("“{value}”不是数字（应填写数字，如 1234.5 或 1,234.5）"),
    )
    .at(row)
    .cell(column.key(), value)
}

pub(crate) fn unparseable_date(row: u64, column: Column, value: &str) -> Issue {
    Issue::error(
        "unparseable_date",
        format!("'{value}' is not a date (write e.g. 2019-03-05, 2019/3/5 or 20190305)"),
        format!("“{value}”不是日期（应填写如 2019-03-05、2019/3/5 或 20190305）"),
    )
    .at(row)
    .cell(column.key(), value)
}

pub(crate) fn unparseable_flag(row: u64, column: Column, value: &str) -> Issue {
    Issue::error(
        "unparseable_flag",
        format!("'{value}' is not a yes/no value (write 是/否, true/false or 1/0)"),
        format!("“{value}”不是是/否值（应填写 是/否、true/false 或 1/0）"),
    )
    .at(row)
    .cell(column.key(), value)
}

pub(crate) fn invalid_year(row: u64, value: &str) -> Issue {
    Issue::error(
        "invalid_year",
        format!("'{value}' is not a year: write a whole number from 1949 to 2100"),
        format!("“{value}”不是有效年份：应为 1949 至 2100 之间的整数"),
    )
    .at(row)
    .cell(Column::Year.key(), value)
}

pub(crate) fn unknown_district(row: u64, value: &str, region: &RegionSet) -> Issue {
    let example = region
        .districts
        .first()
        .map(|d| format!("{} or {}", d.code, d.name_zh))
        .unwrap_or_default();
    Issue::error(
        "unknown_district",
        format!(
            "'{value}' is not a district of {}: write its code or name, e.g. {example}",
            region.city_en
        ),
        format!(
            "“{value}”不是{}的区县：应填写区县代码或名称，如 {}",
            region.city_zh,
            example.replace(" or ", " 或 ")
        ),
    )
    .at(row)
    .cell(Column::District.key(), value)
}

pub(crate) fn invalid_industry(row: u64, value: &str, e: &IndustryCodeError) -> Issue {
    let (code, zh) = match e {
        IndustryCodeError::Malformed(_) => (
            "invalid_industry_code",
            format!("“{value}”不是行业代码（应为 2-4 位数字，可带门类字母，如 C3911）"),
        ),
        IndustryCodeError::NotIndustrial { division, .. } => (
            "unknown_industry_division",
            format!("“{value}”的行业大类 {division} 不是 GB/T 4754-2017 的工业大类（06-46）"),
        ),
        IndustryCodeError::SectionMismatch {
            letter,
            division,
            expected,
            ..
        } => (
            "industry_section_mismatch",
            format!("“{value}”的门类字母 {letter} 与大类 {division} 不符（应为 {expected}）"),
        ),
    };
    Issue::error(code, e.to_string(), zh)
        .at(row)
        .cell(Column::IndustryCode.key(), value)
}

pub(crate) fn zero_value(row: u64, column: Column, value: &str) -> Issue {
    Issue::warning(
        "zero_value",
        format!(
            "{} is 0: check that this is not a missing value (leave the cell blank if unknown)",
            column.key()
        ),
        format!(
            "“{}”为 0：请确认不是缺失值（未知时请留空）",
            column.name_zh()
        ),
    )
    .at(row)
    .cell(column.key(), value)
}

pub(crate) fn negative_value(row: u64, column: Column, value: &str) -> Issue {
    Issue::warning(
        "negative_value",
        format!("{} is negative", column.key()),
        format!("“{}”为负数", column.name_zh()),
    )
    .at(row)
    .cell(column.key(), value)
}

pub(crate) fn unknown_enterprise(row: u64, value: &str) -> Issue {
    Issue::error(
        "unknown_enterprise",
        "no enterprise with this code is in the enterprises file",
        "企业名录中没有该统一社会信用代码的企业",
    )
    .at(row)
    .cell(Column::Uscc.key(), value)
}

/// A district's name in both languages, else its code.
fn district_names(code: &str, region: &RegionSet) -> (String, String) {
    region.by_code(code).map_or_else(
        || (code.to_string(), code.to_string()),
        |d| {
            (
                format!("{} ({code})", d.name_en),
                format!("{}（{code}）", d.name_zh),
            )
        },
    )
}

pub(crate) fn outside_district(row: u64, district: &str, region: &RegionSet) -> Issue {
    let (en, zh) = district_names(district, region);
    Issue::error(
        "outside_district",
        format!("the enterprise is in {en}, a district you may not import for"),
        format!("该企业属于{zh}，您无权导入该区县的数据"),
    )
    .at(row)
    .cell(Column::District.key(), district)
}

pub(crate) fn registered_outside_district(
    row: u64,
    uscc: &str,
    district: &str,
    region: &RegionSet,
) -> Issue {
    let (en, zh) = district_names(district, region);
    Issue::error(
        "outside_district",
        format!("the enterprise is registered in {en}, a district you may not import for"),
        format!("该企业登记在{zh}，您无权导入该区县的数据"),
    )
    .at(row)
    .cell(Column::Uscc.key(), uscc)
}

pub(crate) fn other_year(row: u64, found: i32, expected: i32) -> Issue {
    Issue::error(
        "other_year",
        format!("the row is for {found}, but the file was uploaded for {expected}"),
        format!("该行年份为 {found}，而本次上传的年份为 {expected}"),
    )
    .at(row)
    .cell(Column::Year.key(), &found.to_string())
}

pub(crate) fn merge_conflict(
    row: u64,
    column: &str,
    value: &str,
    other_value: &str,
    other_file: &str,
    other_row: u64,
) -> Issue {
    Issue::error(
        "merge_conflict",
        format!(
            "{column} is {value} here but {other_value} in {other_file} row {other_row}: \
             one value per enterprise, year and column"
        ),
        format!(
            "“{column}”此处为 {value}，但 {other_file} 第 {other_row} 行为 {other_value}：\
             同一企业同一年份同一列只能有一个值"
        ),
    )
    .at(row)
    .cell(column, value)
}

pub(crate) fn field_count(row: u64, expected: usize, found: usize) -> Issue {
    Issue::error(
        "field_count",
        format!(
            "the row has {found} fields but the header has {expected}: its cells have shifted \
             (a number with an unquoted comma such as 1,131254.63 splits in two); \
             export the file again with numbers quoted or without thousands separators"
        ),
        format!(
            "该行有 {found} 个字段，而表头有 {expected} 个，各列已错位（未加引号的千位分隔符，\
             如 1,131254.63，会把一个数拆成两个）；请重新导出，数字加引号或不用千位分隔符"
        ),
    )
    .at(row)
}

pub(crate) fn unknown_columns(columns: &[String]) -> Issue {
    let list = columns.join(", ");
    Issue::warning(
        "unknown_columns",
        format!("columns not used by this file type were ignored: {list}"),
        format!("以下列不属于此类文件，已忽略：{}", columns.join("、")),
    )
}

/// The unit stated once for the sheet, and where it was applied: a figure read in the wrong unit
/// is off by 10,000, so the summary says which columns took it.
pub(crate) fn sheet_unit(unit: &crate::header::SheetUnit) -> Issue {
    let u = &unit.unit;
    let row = unit.row;
    Issue::warning(
        "sheet_unit",
        format!(
            "row {row} states the unit '{u}' for the sheet: applied to {}",
            unit.applied_to.join(", ")
        ),
        format!(
            "第 {row} 行注明全表单位为“{u}”，已用于以下未注明单位的列：{}",
            unit.applied_to.join("、")
        ),
    )
}

/// Rows skipped as totals or notes, counted and listed (the first 20), so a data row taken for a
/// total is seen.
pub(crate) fn skipped_rows(rows: &[(u64, crate::header::SkippedRow)]) -> Issue {
    use crate::header::SkippedRow;
    const LISTED: usize = 20;
    let list = |zh: bool| {
        let mut names: Vec<String> = rows
            .iter()
            .take(LISTED)
            .map(|(n, kind)| match (kind, zh) {
                (SkippedRow::Total, true) => format!("第 {n} 行（合计行）"),
                (SkippedRow::Note, true) => format!("第 {n} 行（备注行）"),
                (SkippedRow::Total, false) => format!("{n} (total)"),
                (SkippedRow::Note, false) => format!("{n} (note)"),
            })
            .collect();
        if rows.len() > LISTED {
            names.push(if zh { "……".into() } else { "…".into() });
        }
        names.join(if zh { "、" } else { ", " })
    };
    Issue::warning(
        "skipped_rows",
        format!(
            "{} rows under the header were skipped as total or note rows: {}",
            rows.len(),
            list(false)
        ),
        format!(
            "表头以下有 {} 行作为合计行或备注行跳过：{}",
            rows.len(),
            list(true)
        ),
    )
}

pub(crate) fn no_data_rows() -> Issue {
    Issue::warning(
        "no_data_rows",
        "the file has a header but no data rows",
        "文件只有表头，没有数据行",
    )
}
