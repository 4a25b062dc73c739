//! `gusu carbon`: energy and GHG accounting and carbon-efficiency grades from files alone
//! (docs/carbon.md). Reads the enterprises file, the energy file and optional yearly files (for
//! value added), accounts every enterprise for the year by the factor documents (shipped, plus
//! `--rules DIR/factors/*.toml`), and writes one row per enterprise.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gusu_core::carbon::{
    CarbonAccount, Efficiency, EfficiencyInput, EnergyLine, FactorLibrary, GridBasis, GridChoice,
    GridScope, Method, PeerArea, Settings,
};
use gusu_core::{Figure, Report, Uscc};
use gusu_ingest::{ParsedEnergy, ReadOptions};
use rustc_hash::FxHashSet;

use super::Context;
use crate::cli::{CarbonArgs, GridBasisArg, PeerAreaArg};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;
use crate::output::{self, Cell};

/// Most findings printed per file.
const REPORT_LIMIT: usize = 50;

/// The output columns, in order (docs/carbon.md describes each).
pub const COLUMNS: &[&str] = &[
    "uscc",
    "name",
    "district",
    "industry_division",
    "year",
    "scope1_tco2",
    "scope1_combustion_tco2",
    "scope1_process_tco2",
    "scope2_tco2",
    "scope2_electricity_tco2",
    "scope2_heat_tco2",
    "exported_tco2",
    "total_tco2",
    "biomass_tco2",
    "electricity_mwh",
    "heat_gj",
    "exported_electricity_mwh",
    "exported_heat_gj",
    "green_electricity_mwh",
    "green_tco2",
    "carbon_efficiency_tco2",
    "energy_tce",
    "energy_tce_equivalent",
    "grid_factor_tco2_per_mwh",
    "grid_factor_id",
    "value_added_10k_yuan",
    "carbon_efficiency_l",
    "carbon_efficiency_level",
    "division_l",
    "carbon_efficiency_k",
    "carbon_efficiency_grade",
    "factors",
    "warnings",
];

/// The shipped factor documents plus `DIR/factors/*.toml` of the rules directory.
pub fn factor_library(ctx: &Context) -> Result<FactorLibrary, Failure> {
    let mut lib = FactorLibrary::builtin().map_err(|e| Failure::usage(e.to_string()))?;
    let Some(dir) = &ctx.rules else {
        return Ok(lib);
    };
    let factors = dir.join("factors");
    if !factors.is_dir() {
        return Ok(lib);
    }
    let entries = std::fs::read_dir(&factors).map_err(|e| {
        Failure::usage(format!(
            "{} {}: {e}",
            ctx.lang
                .t("无法读取规则目录", "cannot read rules directory"),
            factors.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Failure::usage(format!(
                "{} {}: {e}",
                ctx.lang.t("无法读取因子文件", "cannot read factor file"),
                path.display()
            ))
        })?;
        lib.add_toml(&text, &path.display().to_string())
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    Ok(lib)
}

fn grid_choice(args: &CarbonArgs) -> GridChoice {
    if let Some(v) = args.grid_factor {
        return GridChoice::Given(v);
    }
    let statistical = |scope| GridChoice::Select {
        basis: GridBasis::Statistical,
        scope,
    };
    match args.grid_basis {
        None => GridChoice::Default,
        Some(GridBasisArg::Market) => GridChoice::Select {
            basis: GridBasis::CarbonMarket,
            scope: GridScope::National,
        },
        Some(GridBasisArg::National) => statistical(GridScope::National),
        Some(GridBasisArg::Regional) => statistical(GridScope::Regional),
        Some(GridBasisArg::Provincial) => statistical(GridScope::Provincial),
    }
}

pub fn read_energy(path: &Path, lang: Lang) -> Result<ParsedEnergy, Failure> {
    gusu_ingest::read_energy(path, &ReadOptions::default()).map_err(|e| {
        let message = match lang {
            Lang::Zh => e.message_zh(),
            Lang::En => e.to_string(),
        };
        match e {
            gusu_ingest::IngestError::Read { .. }
            | gusu_ingest::IngestError::SheetNotFound { .. } => Failure::usage(message),
            _ => Failure::data(message),
        }
    })
}

pub fn run(ctx: &Context, args: CarbonArgs) -> CmdResult {
    let lang = ctx.lang;
    let library = factor_library(ctx)?;
    let location = library.location(&ctx.region.division_prefix);
    let settings = Settings {
        year: args.year,
        grid: grid_choice(&args),
        location,
        coal_rate: args.coal_rate,
    };
    let method = Method::new(&library, &settings).map_err(|e| {
        Failure::usage(format!(
            "{}: {e}",
            lang.t("无法确定核算因子", "cannot settle the accounting factors")
        ))
    })?;

    // Files: enterprises and yearly records (merged as for `evaluate`), then energy.
    let data = super::files::read_inputs(ctx, &args.enterprises, &args.annual, None)?;
    let mut energy = read_energy(&args.energy, lang)?;
    let known: FxHashSet<Uscc> = data.enterprises.iter().map(|e| e.uscc).collect();
    gusu_ingest::check_known_energy(&mut energy, &known);
    let mut reports: Vec<&Report> = data.reports.iter().collect();
    reports.push(&energy.report);
    for r in reports.iter().filter(|r| !r.issues.is_empty()) {
        output::print_report(r, lang, REPORT_LIMIT, output::Listing::Errors);
    }
    if reports.iter().any(|r| r.has_errors()) {
        eprintln!(
            "{}",
            lang.t(
                "输入有错误，未写出结果",
                "the input has errors; no output written"
            )
        );
        return Err(Failure::reported());
    }

    // The year's lines of each enterprise, with their rows for error messages.
    let mut lines: HashMap<Uscc, (Vec<EnergyLine>, Vec<u64>)> = HashMap::new();
    let mut other_years = 0usize;
    for row in energy.rows {
        if row.record.year != args.year {
            other_years += 1;
            continue;
        }
        let entry = lines.entry(row.record.uscc).or_default();
        entry.0.push(row.record.line);
        entry.1.push(row.row);
    }
    if other_years > 0 {
        eprintln!(
            "{} {other_years} {}",
            energy.file_name,
            lang.t(
                "行不属于核算年度，未计入",
                "rows are of other years and were left out"
            )
        );
    }

    let mut accounts: Vec<Option<CarbonAccount>> = Vec::with_capacity(data.enterprises.len());
    let mut failures = Vec::new();
    for e in &data.enterprises {
        let Some((own, rows)) = lines.get(&e.uscc) else {
            accounts.push(None);
            continue;
        };
        match method.account(own) {
            Ok(a) => accounts.push(Some(a)),
            Err(err) => {
                let message = match lang {
                    Lang::Zh => &err.message_zh,
                    Lang::En => &err.message,
                };
                failures.push(format!(
                    "  {}:{}{}{} [carrier] “{}”: {message}",
                    energy.file_name,
                    lang.t("第", "row "),
                    rows[err.index],
                    lang.t("行", ""),
                    err.carrier
                ));
                accounts.push(None);
            }
        }
    }
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("{f}");
        }
        eprintln!(
            "{}",
            lang.t(
                "能源数据无法核算，未写出结果",
                "energy lines cannot be accounted; no output written"
            )
        );
        return Err(Failure::reported());
    }

    // Value added of the year, when yearly files were given.
    let value_added: HashMap<Uscc, f64> = data
        .records
        .iter()
        .filter(|r| r.year == args.year)
        .filter_map(|r| r.figures.get(Figure::ValueAdded).map(|v| (r.uscc, v)))
        .collect();
    let with_va = !args.annual.is_empty();
    let peer = match args.peer_area {
        PeerAreaArg::City => PeerArea::City,
        PeerAreaArg::District => PeerArea::District,
    };
    let graded: Vec<usize> = (0..data.enterprises.len())
        .filter(|&i| with_va && accounts[i].is_some())
        .collect();
    let inputs: Vec<EfficiencyInput<'_>> = graded
        .iter()
        .map(|&i| {
            let e = &data.enterprises[i];
            EfficiencyInput {
                division: &e.division,
                district: &e.district,
                co2_t: accounts[i].as_ref().map_or(0.0, |a| a.efficiency_tco2),
                value_added: value_added.get(&e.uscc).copied(),
            }
        })
        .collect();
    let mut efficiency: Vec<Option<Efficiency>> = vec![None; data.enterprises.len()];
    for (&i, g) in graded
        .iter()
        .zip(gusu_core::carbon::grade(&library, &inputs, peer))
    {
        efficiency[i] = Some(g);
    }

    let rows: Vec<Vec<Cell<'_>>> = data
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, e)| {
            row(
                e,
                args.year,
                &method,
                accounts[i].as_ref(),
                value_added.get(&e.uscc).copied(),
                efficiency[i].as_ref(),
            )
        })
        .collect();
    output::write_table(&args.output, COLUMNS, &rows, lang)?;

    let accounted: Vec<&CarbonAccount> = accounts.iter().flatten().collect();
    let sum = |f: fn(&CarbonAccount) -> f64| accounted.iter().map(|a| f(a)).sum::<f64>();
    eprintln!(
        "{} {} / {}; {} {:.2} tCO₂, {} {:.2} tce",
        lang.t("已核算企业", "enterprises accounted"),
        accounted.len(),
        data.enterprises.len(),
        lang.t("排放合计", "total emissions"),
        sum(|a| a.total_tco2),
        lang.t("综合能耗（当量值）", "energy (calorific)"),
        sum(|a| a.energy_tce),
    );
    eprintln!(
        "{} {} tCO₂/MWh ({})",
        lang.t("电网排放因子", "grid factor"),
        method.grid.value,
        method.grid.id
    );
    if let Some(y) = method.grid.fallback_year {
        eprintln!(
            "{} {y} {}",
            lang.t(
                "警告：核算年度无已发布的电网排放因子，采用",
                "warning: no grid factor is published for the accounting year; used"
            ),
            lang.t(
                "年的值（grid_factor_earlier_year）",
                "(grid_factor_earlier_year)"
            )
        );
    }
    eprintln!(
        "{} {}",
        lang.t("结果已写入", "results written to"),
        args.output.display()
    );
    Ok(())
}

fn num(v: f64) -> Cell<'static> {
    Cell::Number(v)
}

fn opt(v: Option<f64>) -> Cell<'static> {
    v.map_or(Cell::Empty, Cell::Number)
}

fn text(v: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(v))
}

fn row<'a>(
    e: &'a gusu_core::Enterprise,
    year: i32,
    method: &'a Method<'_>,
    account: Option<&CarbonAccount>,
    value_added: Option<f64>,
    efficiency: Option<&Efficiency>,
) -> Vec<Cell<'a>> {
    let mut cells = vec![
        text(e.uscc.as_str()),
        text(&e.name),
        text(&e.district),
        text(&e.division),
        Cell::Integer(year.into()),
    ];
    let mut factors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    match account {
        Some(a) => {
            cells.extend([
                num(a.scope1_tco2),
                num(a.combustion_tco2),
                num(a.process_tco2),
                num(a.scope2_tco2),
                num(a.electricity_tco2),
                num(a.heat_tco2),
                num(a.exported_tco2),
                num(a.total_tco2),
                num(a.biomass_tco2),
                num(a.electricity_mwh),
                num(a.heat_gj),
                num(a.exported_electricity_mwh),
                num(a.exported_heat_gj),
                num(a.green_electricity_mwh),
                num(a.green_tco2),
                num(a.efficiency_tco2),
                num(a.energy_tce),
                num(a.energy_tce_equivalent),
            ]);
            factors.extend(a.factors.iter().cloned());
            warnings.extend(a.warnings.iter().cloned());
        }
        None => {
            cells.extend(std::iter::repeat_n(Cell::Empty, 18));
            warnings.push("no_energy_data".into());
        }
    }
    cells.push(num(method.grid.value));
    cells.push(text(&method.grid.id));
    cells.push(opt(value_added));
    match efficiency {
        Some(g) => {
            cells.extend([
                opt(g.l),
                g.level
                    .clone()
                    .map_or(Cell::Empty, |l| Cell::Text(Cow::Owned(l))),
                opt(g.division_l),
                opt(g.k),
                g.grade
                    .clone()
                    .map_or(Cell::Empty, |l| Cell::Text(Cow::Owned(l))),
            ]);
            factors.extend(g.factors.iter().cloned());
            warnings.extend(g.warnings.iter().cloned());
        }
        None => cells.extend(std::iter::repeat_n(Cell::Empty, 5)),
    }
    cells.push(Cell::Text(Cow::Owned(factors.join(";"))));
    cells.push(Cell::Text(Cow::Owned(warnings.join(";"))));
    cells
}
