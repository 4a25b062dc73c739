//! Writes the blank-file templates in docs/templates: `enterprises.csv`, `annual.csv` (interchange
//! keys, UTF-8 with BOM) and `enterprises.xlsx`, `annual.xlsx` (Chinese headers with units, the
//! code columns formatted as text so Excel cannot turn codes into numbers).
//!
//! `cargo run -p gusu-ingest --example write_templates`

use std::path::{Path, PathBuf};

use gusu_core::Uscc;
use gusu_ingest::UTF8_BOM;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

const ENTERPRISE_KEYS: &[&str] = &[
    "uscc",
    "name",
    "district",
    "industry_code",
    "land_area_mu",
    "above_scale",
    "established",
    "exempt",
];
const ENTERPRISE_ZH: &[&str] = &[
    "统一社会信用代码",
    "企业名称",
    "所属区县",
    "行业代码",
    "用地面积(亩)",
    "是否规上",
    "成立日期",
    "不参评",
];
const ANNUAL_KEYS: &[&str] = &[
    "uscc",
    "year",
    "revenue_10k_yuan",
    "main_revenue_10k_yuan",
    "tax_paid_10k_yuan",
    "value_added_10k_yuan",
    "energy_tce",
    "energy_tce_equivalent",
    "electricity_kwh",
    "cod_t",
    "ammonia_n_t",
    "so2_t",
    "nox_t",
    "rd_expense_10k_yuan",
    "employees",
    "land_area_mu",
    "above_scale",
    "exempt",
];
const ANNUAL_ZH: &[&str] = &[
    "统一社会信用代码",
    "年份",
    "营业收入(万元)",
    "主营业务收入(万元)",
    "实缴税金(万元)",
    "工业增加值(万元)",
    "综合能耗(吨标准煤)",
    "综合能耗等价值(吨标准煤)",
    "用电量(千瓦时)",
    "化学需氧量(吨)",
    "氨氮(吨)",
    "二氧化硫(吨)",
    "氮氧化物(吨)",
    "研发经费支出(万元)",
    "年平均职工人数",
    "用地面积(亩)",
    "是否规上",
    "不参评",
];

fn codes() -> [String; 2] {
    ["91320583MA1N2K3L4", "91320585MA20ABCD1"].map(|body| {
        Uscc::with_check_character(body)
            .expect("valid body")
            .to_string()
    })
}

fn enterprise_rows() -> Vec<Vec<String>> {
    let [a, b] = codes();
    [
        [
            a.as_str(),
            "苏州示例精密机械有限公司",
            "昆山市",
            "C3484",
            "35.2",
            "是",
            "2012-04-18",
            "否",
        ],
        [
            b.as_str(),
            "苏州示例电子科技有限公司",
            "320585",
            "3982",
            "8.5",
            "否",
            "2019-09-02",
            "",
        ],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect()
}

fn annual_rows() -> Vec<Vec<String>> {
    let [a, b] = codes();
    [
        vec![
            a.as_str(),
            "2024",
            "52000",
            "50500",
            "1860",
            "11800",
            "3200",
            "7900",
            "15600000",
            "4.2",
            "0.35",
            "1.1",
            "2.6",
            "1650",
            "420",
            "",
            "",
            "",
        ],
        vec![
            b.as_str(),
            "2024",
            "3100",
            "3050",
            "96",
            "620",
            "210",
            "520",
            "1250000",
            "",
            "",
            "",
            "",
            "40",
            "38",
            "",
            "",
            "",
        ],
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect()
}

fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut bytes = UTF8_BOM.to_vec();
    let mut writer = csv::WriterBuilder::new().from_writer(&mut bytes);
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(row)?;
    }
    writer.flush()?;
    drop(writer);
    std::fs::write(path, bytes)
}

/// Columns whose cells are codes, not numbers: formatted as text.
fn write_xlsx(
    path: &Path,
    sheet: &str,
    header: &[&str],
    rows: &[Vec<String>],
    text_cols: &[u16],
) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = workbook.add_worksheet();
    ws.set_name(sheet)?;
    for &c in text_cols {
        ws.set_column_format(c, &text)?;
    }
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            if cell.is_empty() {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(v) if !text_cols.contains(&c) => ws.write_number(r, c, v)?,
                _ => ws.write_string_with_format(r, c, cell, &text)?,
            };
        }
    }
    workbook.save(path)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/templates");
    std::fs::create_dir_all(&dir)?;
    write_csv(
        &dir.join("enterprises.csv"),
        ENTERPRISE_KEYS,
        &enterprise_rows(),
    )?;
    write_csv(&dir.join("annual.csv"), ANNUAL_KEYS, &annual_rows())?;
    // Dates stay text (2012-04-18) so the template shows the layout to type.
    write_xlsx(
        &dir.join("enterprises.xlsx"),
        "企业名录",
        ENTERPRISE_ZH,
        &enterprise_rows(),
        &[0, 3, 6],
    )?;
    write_xlsx(
        &dir.join("annual.xlsx"),
        "年度数据",
        ANNUAL_ZH,
        &annual_rows(),
        &[0],
    )?;
    println!("templates written to {}", dir.display());
    Ok(())
}
