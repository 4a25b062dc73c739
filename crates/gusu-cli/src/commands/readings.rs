//! `gusu readings import|aggregate`: metered readings into the partitioned Parquet dataset, and
//! their monthly or yearly totals through DataFusion (crate gusu-analytics).

use std::path::{Path, PathBuf};

use gusu_analytics::{
    AggregateError, Granularity, ImportError, ImportOptions, ImportOutcome, Total,
};
use gusu_ingest::ReadOptions;
use rustc_hash::FxHashSet;

use super::Context;
use crate::cli::{PeriodArg, ReadingsAction, ReadingsArgs, ReportFormat};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;
use crate::output::{self, Listing};

/// Most findings and gaps printed per file in the text report.
const REPORT_LIMIT: usize = 50;

pub fn run(ctx: &Context, args: ReadingsArgs) -> CmdResult {
    match args.action {
        ReadingsAction::Import {
            files,
            data,
            known_enterprises,
            format,
            memory_limit,
            spill,
        } => {
            let options = ImportOptions {
                memory_limit: memory_limit_arg(&memory_limit, ctx.lang)?,
                spill_dir: spill,
            };
            import(
                ctx,
                &files,
                &data,
                known_enterprises.as_deref(),
                format,
                &options,
            )
        }
        ReadingsAction::Aggregate {
            data,
            by,
            memory_limit,
            spill,
            output,
            explain,
        } => aggregate(ctx, &data, by, &memory_limit, spill, &output, explain),
        ReadingsAction::ToStore {
            data,
            memory_limit,
            spill,
            tolerance,
        } => to_store(ctx, &data, &memory_limit, spill, tolerance),
    }
}

fn import(
    ctx: &Context,
    files: &[PathBuf],
    data: &Path,
    known: Option<&Path>,
    format: ReportFormat,
    options: &ImportOptions,
) -> CmdResult {
    let lang = ctx.lang;
    for f in files {
        if !f.is_file() {
            return Err(Failure::usage(format!(
                "{} {}",
                lang.t("文件不存在：", "no such file:"),
                f.display()
            )));
        }
    }
    let known: Option<FxHashSet<String>> = match known {
        None => None,
        Some(path) => {
            let opts = ReadOptions {
                sheet: None,
                region: ctx.region.clone(),
            };
            let sheets = super::files::read_enterprises_sheets(path, &opts, lang)?;
            super::files::print_skipped(path, &sheets.skipped, lang);
            Some(
                sheets
                    .parsed
                    .iter()
                    .flat_map(|p| p.rows.iter())
                    .map(|r| r.record.uscc.as_str().to_string())
                    .collect(),
            )
        }
    };
    let mut refused = false;
    let mut json_reports = Vec::new();
    for file in files {
        let started = std::time::Instant::now();
        let outcome = gusu_analytics::import_file_with(file, data, known.as_ref(), options)
            .map_err(|e| match &e {
                ImportError::MemoryExhausted { pool_bytes, detail } => Failure::data(match lang {
                    Lang::Zh => format!(
                        "{}：导入所需内存超过内存池 {pool_bytes} 字节（{detail}）：请调大 --memory-limit；未写入任何读数",
                        file.display()
                    ),
                    Lang::En => format!("{}: {e}", file.display()),
                }),
                _ => Failure::usage(format!(
                    "{}: {e}",
                    lang.t("无法写入数据目录", "cannot write the data directory")
                )),
            })?;
        refused |= !outcome.committed();
        match format {
            ReportFormat::Text => print_outcome(&outcome, lang, started.elapsed()),
            ReportFormat::Json => json_reports.push(outcome_json(&outcome, lang)),
        }
    }
    if format == ReportFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json_reports).unwrap_or_default()
        );
    }
    if refused {
        return Err(Failure::reported());
    }
    Ok(())
}

fn print_outcome(outcome: &ImportOutcome, lang: Lang, elapsed: std::time::Duration) {
    output::print_report(&outcome.report, lang, REPORT_LIMIT, Listing::Errors);
    if outcome.committed() {
        let secs = elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "{} {}{sep}{} {}{sep}{} {}{open}{:.0} {}{close}",
            lang.t("新增读数", "new readings"),
            outcome.imported,
            lang.t("已有相同读数", "already stored"),
            outcome.already_present,
            lang.t("写入月份", "months written"),
            outcome.partitions.len(),
            outcome.report.rows as f64 / secs,
            lang.t("行/秒", "rows/s"),
            sep = lang.t("，", ", "),
            open = lang.t("（", " ("),
            close = lang.t("）", ")"),
        );
        if outcome.spilled_bytes > 0 {
            eprintln!(
                "{} {:.1} MiB",
                lang.t("排序落盘", "sort spilled"),
                outcome.spilled_bytes as f64 / (1 << 20) as f64
            );
        }
    } else {
        eprintln!(
            "{}",
            lang.t(
                "文件有错误，未写入任何读数，数据集保持原样",
                "the file has errors: nothing was stored, the dataset is as it was"
            )
        );
    }
    if !outcome.gaps.is_empty() {
        eprintln!(
            "{} {}",
            outcome.gaps.len(),
            lang.t(
                "处缺测（按表计的常见间隔）：",
                "gaps (against each meter's usual interval):"
            )
        );
        for g in outcome.gaps.iter().take(REPORT_LIMIT) {
            eprintln!(
                "  {} {} {} → {}: {} {} ({} {} s)",
                g.uscc,
                g.meter_id,
                gusu_analytics::time::format_local(g.after_micros),
                gusu_analytics::time::format_local(g.before_micros),
                lang.t("缺", "missing"),
                g.missing,
                lang.t("常见间隔", "usual interval"),
                g.usual_interval_secs
            );
        }
    }
}

fn outcome_json(outcome: &ImportOutcome, lang: Lang) -> serde_json::Value {
    let mut report = output::report_json(&outcome.report, lang);
    let gaps: Vec<serde_json::Value> = outcome
        .gaps
        .iter()
        .map(|g| {
            serde_json::json!({
                "uscc": g.uscc,
                "meter_id": g.meter_id,
                "after": gusu_analytics::time::format_local(g.after_micros),
                "before": gusu_analytics::time::format_local(g.before_micros),
                "usual_interval_secs": g.usual_interval_secs,
                "missing": g.missing,
            })
        })
        .collect();
    if let Some(map) = report.as_object_mut() {
        map.insert("stored".into(), outcome.committed().into());
        map.insert("imported".into(), outcome.imported.into());
        map.insert("already_present".into(), outcome.already_present.into());
        map.insert("spilled_bytes".into(), outcome.spilled_bytes.into());
        map.insert("gaps".into(), gaps.into());
    }
    report
}

/// The dataset's monthly totals, in bounded memory (shared by `aggregate` and `to-store`).
pub fn totals(
    lang: Lang,
    data: &Path,
    granularity: Granularity,
    memory_limit: &str,
    spill: Option<PathBuf>,
) -> Result<Vec<Total>, Failure> {
    let pool_bytes = parse_size(memory_limit).map_err(|e| {
        Failure::usage(format!(
            "--memory-limit {memory_limit}: {}",
            match lang {
                Lang::Zh => e.1,
                Lang::En => e.0,
            }
        ))
    })?;
    if !data.is_dir() {
        return Err(Failure::usage(format!(
            "{} {}",
            lang.t("数据目录不存在：", "no such data directory:"),
            data.display()
        )));
    }
    let spill = spill.unwrap_or_else(|| data.join("spill"));
    gusu_analytics::aggregate(data, pool_bytes, &spill, granularity)
        .map_err(|e| aggregate_failure(e, lang, &spill))
}

/// An aggregation's error in the user's language.
fn aggregate_failure(e: AggregateError, lang: Lang, spill: &Path) -> Failure {
    let message = match (&e, lang) {
        (AggregateError::MemoryExhausted { pool_bytes, .. }, Lang::Zh) => format!(
            "查询所需内存超过内存池 {pool_bytes} 字节（已尝试落盘到 {}）：请调大 --memory-limit（{e}）",
            spill.display()
        ),
        _ => e.to_string(),
    };
    Failure::data(message)
}

/// `gusu readings to-store`: monthly totals into the store (what the web pages chart), and each
/// year's electricity total as source `metered` in the yearly records, below the bills.
fn to_store(
    ctx: &Context,
    data: &Path,
    memory_limit: &str,
    spill: Option<PathBuf>,
    tolerance: f64,
) -> CmdResult {
    let lang = ctx.lang;
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(Failure::usage(format!(
            "--tolerance {tolerance}: {}",
            lang.t("应为不小于 0 的数", "must be a number ≥ 0")
        )));
    }
    let mut store = ctx.open_existing_store()?;
    let totals = totals(lang, data, Granularity::Month, memory_limit, spill)?;
    let summary = store_totals(
        &mut store,
        &totals,
        &data.display().to_string(),
        tolerance,
        lang,
    )?;
    for line in summary {
        println!("{line}");
    }
    Ok(())
}

/// Stores monthly totals and the yearly metered electricity; returns the lines to print.
pub fn store_totals(
    store: &mut gusu_store::Store,
    totals: &[Total],
    label: &str,
    tolerance: f64,
    lang: Lang,
) -> Result<Vec<String>, Failure> {
    let store_failure = |e: gusu_store::StoreError| {
        Failure::data(format!("{}: {e}", lang.t("数据库错误", "store error")))
    };
    let mut months = Vec::with_capacity(totals.len());
    for t in totals {
        let uscc = gusu_core::Uscc::parse(&t.uscc).map_err(|e| {
            Failure::data(format!(
                "{} {}: {e}",
                lang.t(
                    "数据集中的统一社会信用代码无效",
                    "invalid USCC in the dataset"
                ),
                t.uscc
            ))
        })?;
        let Some(month) = t.month else { continue };
        months.push(gusu_store::MeteredMonth {
            uscc,
            carrier: t.carrier.clone(),
            year: t.year,
            month,
            total: t.total,
            unit: t.unit.clone(),
            readings: t.readings,
        });
    }
    let uploader = gusu_store::Uploader {
        actor: super::accounts::operator(),
        rejected: 0,
    };
    let stored = store
        .import_metered_months(&months, label, Some(&uploader))
        .map_err(store_failure)?;
    let mut out = Vec::new();
    let s = &stored.summary;
    if s.already_imported {
        out.push(
            lang.t(
                "月度合计与库中一致，未作改变",
                "the monthly totals are already stored; nothing changed",
            )
            .to_string(),
        );
    } else {
        out.push(format!(
            "{} {}: {} {}, {} {}, {} {}",
            lang.t("月度合计已存入", "monthly totals stored"),
            s.rows,
            s.inserted,
            lang.t("新增", "new"),
            s.corrected,
            lang.t("更新", "updated"),
            s.unchanged,
            lang.t("未变", "unchanged"),
        ));
    }
    if !stored.unknown.is_empty() {
        out.push(format!(
            "{} {}",
            stored.unknown.len(),
            lang.t(
                "家企业不在企业名录中，其读数未存入",
                "enterprises are not in the register; their totals were not stored"
            )
        ));
    }
    // Yearly electricity (kWh, the dataset's stored unit) from the months.
    let mut yearly: std::collections::BTreeMap<
        i32,
        std::collections::BTreeMap<gusu_core::Uscc, f64>,
    > = Default::default();
    for m in months
        .iter()
        .filter(|m| m.carrier == "electricity" && m.unit == "kwh")
    {
        *yearly.entry(m.year).or_default().entry(m.uscc).or_default() += m.total;
    }
    for (year, by_uscc) in yearly {
        let totals: Vec<(gusu_core::Uscc, f64)> = by_uscc.into_iter().collect();
        let done = store
            .import_metered_electricity(
                year,
                &totals,
                &format!("{label} {year}"),
                tolerance,
                Some(&uploader),
            )
            .map_err(store_failure)?;
        out.push(format!(
            "{year}: {} {} {}, {} {}",
            lang.t("计量用电合计", "metered electricity totals"),
            done.summary.rows,
            lang.t("家", "enterprises"),
            done.summary.inserted + done.summary.corrected,
            lang.t("个值新增或更正", "values new or corrected"),
        ));
        if !done.differences.is_empty() {
            out.push(format!(
                "  {} {} ({} {:.1}%)",
                done.differences.len(),
                lang.t(
                    "家企业的电费账单与计量合计不符",
                    "enterprises' bills differ from their meters"
                ),
                lang.t("容差", "tolerance"),
                tolerance * 100.0
            ));
            for d in done.differences.iter().take(REPORT_LIMIT) {
                out.push(format!(
                    "  {} {year}: {} {:.0} kWh, {} {:.0} kWh ({:+.1}%)",
                    d.uscc,
                    lang.t("账单", "billed"),
                    d.billed_kwh,
                    lang.t("计量", "metered"),
                    d.metered_kwh,
                    d.relative * 100.0
                ));
            }
        }
    }
    Ok(out)
}

fn aggregate(
    ctx: &Context,
    data: &Path,
    by: PeriodArg,
    memory_limit: &str,
    spill: Option<PathBuf>,
    output: &Path,
    explain: bool,
) -> CmdResult {
    let lang = ctx.lang;
    let pool_bytes = memory_limit_arg(memory_limit, lang)?;
    if !data.is_dir() {
        return Err(Failure::usage(format!(
            "{} {}",
            lang.t("数据目录不存在：", "no such data directory:"),
            data.display()
        )));
    }
    let extension = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("csv" | "json")) {
        return Err(Failure::usage(lang.t(
            "结果文件扩展名应为 .csv 或 .json",
            "the output file must end in .csv or .json",
        )));
    }
    let spill = spill.unwrap_or_else(|| data.join("spill"));
    let granularity = match by {
        PeriodArg::Month => Granularity::Month,
        PeriodArg::Year => Granularity::Year,
    };
    let started = std::time::Instant::now();
    if explain {
        let plan = gusu_analytics::explain_analyze(data, pool_bytes, &spill, granularity)
            .map_err(|e| Failure::data(e.to_string()))?;
        eprintln!("{plan}");
    }
    let io = |e: std::io::Error| {
        Failure::usage(format!(
            "{} {}: {e}",
            lang.t("无法写出", "cannot write"),
            output.display()
        ))
    };
    let count = if extension.as_deref() == Some("json") {
        let totals = gusu_analytics::aggregate(data, pool_bytes, &spill, granularity)
            .map_err(|e| aggregate_failure(e, lang, &spill))?;
        let text = serde_json::to_string_pretty(&totals).unwrap_or_default();
        std::fs::write(output, text).map_err(io)?;
        totals.len() as u64
    } else {
        // Written as the engine streams the totals out, into a file beside the output that
        // replaces it only when the query has finished: a failed query leaves no partial file.
        let folder = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let staged = tempfile::Builder::new()
            .prefix(".gusu-totals-")
            .tempfile_in(folder)
            .map_err(io)?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(staged));
        w.write_record(CSV_HEADER)
            .map_err(|e| io(std::io::Error::other(e)))?;
        let count =
            gusu_analytics::aggregate_each(data, pool_bytes, &spill, granularity, &mut |t| {
                write_csv_row(&mut w, &t).map_err(|e| e.to_string())
            })
            .map_err(|e| aggregate_failure(e, lang, &spill))?;
        let staged = w
            .into_inner()
            .map_err(|e| io(std::io::Error::other(e.to_string())))?
            .into_inner()
            .map_err(|e| io(e.into_error()))?;
        staged.persist(output).map_err(|e| io(e.error))?;
        count
    };
    eprintln!(
        "{} {}（{:.2} s）→ {}",
        count,
        lang.t("条汇总", "totals"),
        started.elapsed().as_secs_f64(),
        output.display()
    );
    Ok(())
}

const CSV_HEADER: [&str; 7] = [
    "uscc", "carrier", "year", "month", "total", "unit", "readings",
];

fn write_csv_row<W: std::io::Write>(w: &mut csv::Writer<W>, t: &Total) -> csv::Result<()> {
    w.write_record([
        t.uscc.as_str(),
        t.carrier.as_str(),
        &t.year.to_string(),
        &t.month.map(|m| m.to_string()).unwrap_or_default(),
        &t.total.to_string(),
        t.unit.as_str(),
        &t.readings.to_string(),
    ])
}

/// The bytes of a `--memory-limit`, or a usage error naming it.
fn memory_limit_arg(memory_limit: &str, lang: Lang) -> Result<usize, Failure> {
    parse_size(memory_limit).map_err(|e| {
        Failure::usage(format!(
            "--memory-limit {memory_limit}: {}",
            match lang {
                Lang::Zh => e.1,
                Lang::En => e.0,
            }
        ))
    })
}

/// Bytes of a size such as `4GiB`, `512MiB`, `64KiB`, `2G`, `1000000` (1024-based units; `GB` and
/// `G` are read as GiB, as memory is counted). The reason in English and Chinese on failure.
pub fn parse_size(raw: &str) -> Result<usize, (String, String)> {
    let text = raw.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        (
            "not a size (e.g. 4GiB, 512MiB)".to_string(),
            "不是大小（如 4GiB、512MiB）".to_string(),
        )
    })?;
    let unit = unit.trim();
    let factor: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        _ => {
            return Err((
                format!("unknown unit “{unit}” (use KiB, MiB, GiB)"),
                format!("未知单位“{unit}”（用 KiB、MiB、GiB）"),
            ));
        }
    };
    let bytes = number * factor;
    if !(1.0..=(usize::MAX as f64)).contains(&bytes) {
        return Err((
            "the size must be at least one byte".to_string(),
            "大小至少为 1 字节".to_string(),
        ));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_are_read_in_binary_units() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5 KiB"), Ok(1536));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("4XB").unwrap_err().0.contains("XB"));
        assert!(parse_size("0").is_err());
    }
}
