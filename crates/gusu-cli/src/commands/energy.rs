//! `gusu energy`: energy and carbon from the database. Each enterprise's GHG account (GB/T 32150)
//! from its stored energy lines, its carbon-efficiency grade and energy intensity; the city's,
//! each district's and each industry division's intensity against the year's target from
//! `[energy]` in gusu.toml (none is invented: without one the table says so).

use std::borrow::Cow;

use gusu_core::carbon::intensity::{IntensityRow, Level, intensity};
use gusu_core::carbon::ledger::{
    LedgerRow, Population, YearLedger, account_year, intensity_data, summarize,
};
use gusu_core::carbon::{PeerArea, Settings};

use super::Context;
use crate::cli::EnergyArgs;
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;
use crate::output::{self, Cell};

/// The output columns, in order.
pub const COLUMNS: &[&str] = &[
    "uscc",
    "name",
    "district",
    "industry_division",
    "year",
    "scope1_tco2",
    "scope2_tco2",
    "exported_tco2",
    "total_tco2",
    "biomass_tco2",
    "energy_tce",
    "energy_tce_equivalent",
    "value_added_10k_yuan",
    "energy_intensity_tce_per_10k_yuan",
    "intensity_change_vs_previous",
    "carbon_efficiency_l",
    "carbon_efficiency_level",
    "carbon_efficiency_k",
    "carbon_efficiency_grade",
    "grid_factor_id",
    "factors",
    "warnings",
];

/// Accounts every year with energy lines up to `year` (earlier years give the changes). A year
/// whose factors cannot be settled is left out with a warning, except the year asked for.
pub fn ledgers(
    ctx: &Context,
    store: &gusu_store::Store,
    year: i32,
) -> Result<Vec<YearLedger>, Failure> {
    let lang = ctx.lang;
    let library = super::carbon::factor_library(ctx)?;
    let location = library.location(&ctx.region.division_prefix);
    let store_failure = |e: gusu_store::StoreError| {
        Failure::data(format!("{}: {e}", lang.t("数据库错误", "store error")))
    };
    let years: Vec<i32> = store
        .energy_years()
        .map_err(store_failure)?
        .into_iter()
        .filter(|y| *y <= year)
        .collect();
    if !years.contains(&year) {
        return Err(Failure::data(format!(
            "{} {year} {}",
            lang.t("数据库中没有", "the database has no energy lines for"),
            lang.t(
                "年的能源消费数据（先运行 gusu import --kind energy）",
                "(import an energy file first: gusu import --kind energy)"
            )
        )));
    }
    let mut out = Vec::new();
    for y in years {
        let inputs = store.ledger_inputs(y).map_err(store_failure)?;
        let settings = Settings {
            year: y,
            grid: ctx.config.energy.grid_choice(),
            location,
            coal_rate: None,
        };
        match account_year(&library, &settings, &inputs, PeerArea::City) {
            Ok(l) => out.push(l),
            Err(e) if y != year => eprintln!(
                "{} {y}: {e}",
                lang.t("警告：未核算年度", "warning: year not accounted")
            ),
            Err(e) => {
                return Err(Failure::usage(format!(
                    "{}: {e}",
                    lang.t("无法确定核算因子", "cannot settle the accounting factors")
                )));
            }
        }
    }
    Ok(out)
}

pub fn run(ctx: &Context, args: EnergyArgs) -> CmdResult {
    let lang = ctx.lang;
    let store = ctx.open_existing_store()?;
    let district = ctx.district(args.district.as_deref())?;
    let ledgers = ledgers(ctx, &store, args.year)?;
    let current = ledgers
        .iter()
        .find(|l| l.year == args.year)
        .expect("ledgers() returns the year asked for");
    for f in &current.failures {
        let message = match lang {
            Lang::Zh => &f.error.message_zh,
            Lang::En => &f.error.message,
        };
        eprintln!(
            "{} {} [{}]: {message}",
            lang.t("无法核算，未计入：", "cannot be accounted, left out:"),
            f.uscc,
            f.error.carrier
        );
    }
    let settings = &ctx.config.energy;
    let rows = intensity(
        &intensity_data(&ledgers, settings.intensity_basis),
        &[args.year],
        settings.base_year,
        &settings.targets,
    );
    let change_of = |uscc: &gusu_core::Uscc| {
        rows.iter()
            .find(|r| r.level == Level::Enterprise && r.key == uscc.as_str())
            .and_then(|r| r.change_vs_previous)
    };
    let shown: Vec<&LedgerRow> = current
        .rows
        .iter()
        .filter(|r| district.as_deref().is_none_or(|d| r.district == d))
        .collect();

    if let Some(path) = &args.output {
        let table: Vec<Vec<Cell<'_>>> = shown
            .iter()
            .map(|r| {
                row(
                    r,
                    &current.grid.id,
                    r.intensity_on(settings.intensity_basis),
                    change_of(&r.uscc),
                )
            })
            .collect();
        output::write_table(path, COLUMNS, &table, lang)?;
    }

    // The population's totals by scope.
    let population = Population {
        district: district.clone(),
        division: None,
    };
    let summary = summarize(current, &population, 10);
    let t = &summary.totals;
    println!(
        "{} {} {}: {} {}",
        args.year,
        lang.t("年", ""),
        district.as_deref().map_or_else(
            || lang.t("全市", "city").to_string(),
            |d| ctx.district_name(d)
        ),
        t.enterprises,
        lang.t("家企业已核算", "enterprises accounted"),
    );
    let mut totals = comfy_table::Table::new();
    totals.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    totals.set_header([lang.t("项目", "item"), lang.t("合计", "total")]);
    for (name, v) in [
        (
            lang.t("综合能耗（当量值，tce）", "energy, calorific (tce)"),
            t.energy_tce,
        ),
        (
            lang.t("综合能耗（等价值，tce）", "energy, equivalent (tce)"),
            t.energy_tce_equivalent,
        ),
        (lang.t("范围一（tCO₂）", "scope 1 (tCO₂)"), t.scope1_tco2),
        (lang.t("范围二（tCO₂）", "scope 2 (tCO₂)"), t.scope2_tco2),
        (lang.t("输出（tCO₂）", "exported (tCO₂)"), t.exported_tco2),
        (lang.t("排放总量（tCO₂）", "total (tCO₂)"), t.total_tco2),
        (
            lang.t("生物质（单列，tCO₂）", "biomass, apart (tCO₂)"),
            t.biomass_tco2,
        ),
    ] {
        totals.add_row([name.to_string(), format!("{v:.2}")]);
    }
    println!("{totals}");
    let grades: Vec<String> = summary
        .grades
        .iter()
        .map(|(g, n)| format!("{g}: {n}"))
        .collect();
    println!(
        "{} {}",
        lang.t("碳效等级分布：", "carbon-efficiency grades:"),
        grades.join(", ")
    );

    // Intensity of the city, districts and divisions against the target.
    let target = settings.target(args.year);
    match target {
        None => println!(
            "{}",
            lang.t(
                "未设定本年度能耗强度目标（gusu.toml 的 [[energy.targets]]）",
                "no intensity target set for the year ([[energy.targets]] in gusu.toml)"
            )
        ),
        Some(t) => println!(
            "{} {} {}, {} {}",
            lang.t("本年度目标：", "the year's target:"),
            lang.t("较上年", "vs previous year"),
            pct(t.max_change_vs_previous),
            lang.t("较基年", "vs base year"),
            pct(t.max_change_vs_base),
        ),
    }
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        lang.t("范围", "population"),
        lang.t("企业数", "enterprises"),
        lang.t("能耗（tce）", "energy (tce)"),
        lang.t("增加值（万元）", "value added (10k yuan)"),
        lang.t("强度（tce/万元）", "intensity (tce/10k yuan)"),
        lang.t("较上年", "vs previous"),
        lang.t("较基年", "vs base"),
        lang.t("目标", "target"),
    ]);
    let listed = |r: &&IntensityRow| match r.level {
        Level::City => district.is_none(),
        Level::District => district.as_deref().is_none_or(|d| r.key == d),
        Level::Division => district.is_none(),
        Level::Enterprise => false,
    };
    for r in rows.iter().filter(listed) {
        let name = match r.level {
            Level::City => lang.t("全市", "city").to_string(),
            Level::District => ctx.district_name(&r.key),
            _ => format!("{} {}", lang.t("行业", "division"), r.key),
        };
        table.add_row([
            name,
            r.enterprises.to_string(),
            format!("{:.1}", r.energy_tce),
            format!("{:.1}", r.value_added),
            r.intensity
                .map_or_else(|| "—".into(), |v| format!("{v:.4}")),
            pct(r.change_vs_previous),
            pct(r.change_vs_base),
            match (target, r.target_met) {
                (None, _) => lang.t("未设定", "not set").to_string(),
                (Some(_), None) => lang.t("无法判断", "cannot judge").to_string(),
                (Some(_), Some(true)) => lang.t("达到", "met").to_string(),
                (Some(_), Some(false)) => lang.t("未达到", "not met").to_string(),
            },
        ]);
    }
    println!("{table}");
    if let Some(path) = &args.output {
        eprintln!(
            "{} {}",
            lang.t("逐企业结果已写入", "per-enterprise results written to"),
            path.display()
        );
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:+.2}%", v * 100.0))
}

fn row<'a>(
    r: &'a LedgerRow,
    grid_id: &'a str,
    intensity: Option<f64>,
    change: Option<f64>,
) -> Vec<Cell<'a>> {
    let a = &r.account;
    let e = &r.efficiency;
    let num = Cell::Number;
    let opt = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Number);
    let text = |v: Option<&'a str>| v.map_or(Cell::Empty, |s| Cell::Text(Cow::Borrowed(s)));
    let mut factors = a.factors.clone();
    factors.extend(e.factors.iter().cloned());
    let mut warnings = a.warnings.clone();
    warnings.extend(e.warnings.iter().cloned());
    vec![
        Cell::Text(Cow::Borrowed(r.uscc.as_str())),
        Cell::Text(Cow::Borrowed(&r.name)),
        Cell::Text(Cow::Borrowed(&r.district)),
        Cell::Text(Cow::Borrowed(&r.division)),
        Cell::Integer(r.year.into()),
        num(a.scope1_tco2),
        num(a.scope2_tco2),
        num(a.exported_tco2),
        num(a.total_tco2),
        num(a.biomass_tco2),
        num(a.energy_tce),
        num(a.energy_tce_equivalent),
        opt(r.value_added),
        opt(intensity),
        opt(change),
        opt(e.l),
        text(e.level.as_deref()),
        opt(e.k),
        text(e.grade.as_deref()),
        Cell::Text(Cow::Borrowed(grid_id)),
        Cell::Text(Cow::Owned(factors.join(";"))),
        Cell::Text(Cow::Owned(warnings.join(";"))),
    ]
}
