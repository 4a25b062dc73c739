//! The store workflow: `init`, `import`, `evaluate` (stored), `results`, `explain`, `simulate`, `backup`.

use std::collections::HashSet;

use gusu_core::evaluate::explain::{Direction, explain as explain_enterprise};
use gusu_core::evaluate::simulate::migration;
use gusu_core::evaluate::{
    EnterpriseResult, Evaluation, EvaluationInput, EvaluationSummary, SizeGroup, Status,
    evaluate as run_evaluation,
};
use gusu_core::{Enterprise, Scheme, Uscc, YearlyRecord};
use gusu_ingest::ReadOptions;
use gusu_store::{BatchMeta, Store};

use super::Context;
use super::files::evaluation_failure;
use crate::cli::{
    BackupArgs, EvaluateArgs, ExplainArgs, FileKind, ImportArgs, ResultsArgs, SimulateArgs,
};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;
use crate::output;

fn store_failure(e: gusu_store::StoreError, lang: Lang) -> Failure {
    Failure::data(format!("{}: {e}", lang.t("数据库错误", "store error")))
}

pub fn init(ctx: &Context) -> CmdResult {
    let path = ctx.db_path();
    let store = ctx.open_store()?;
    let version = store
        .schema_version()
        .map_err(|e| store_failure(e, ctx.lang))?;
    println!(
        "{} {} ({} {version})",
        ctx.lang.t("数据库已就绪：", "database ready:"),
        path.display(),
        ctx.lang.t("结构版本", "schema version"),
    );
    Ok(())
}

pub fn import(ctx: &Context, args: ImportArgs) -> CmdResult {
    let mut store = ctx.open_store()?;
    import_file(ctx, &mut store, &args, 50)
}

/// The rows of one sheet (or text file) ready for the store.
enum SheetRows {
    Enterprises(Vec<gusu_core::SourceRow<Enterprise>>),
    Annual(Vec<gusu_core::SourceRow<YearlyRecord>>),
    Energy(Vec<gusu_store::EnergyRow>),
    Designations(Vec<gusu_store::DesignationRow>),
    Projects(Vec<gusu_store::ProjectRow>),
}

/// One sheet of the file, read and checked.
struct SheetImport {
    file_name: String,
    sheet: Option<String>,
    sha256: String,
    report: gusu_core::Report,
    rejected: gusu_ingest::Rejected,
    rows: SheetRows,
}

impl SheetImport {
    fn new(
        (file_name, sheet, sha256): (String, Option<String>, String),
        report: gusu_core::Report,
        rejected: gusu_ingest::Rejected,
        rows: SheetRows,
    ) -> SheetImport {
        SheetImport {
            file_name,
            sheet,
            sha256,
            report,
            rejected,
            rows,
        }
    }
}

/// Reads every sheet of the file (or the named one) and checks it against the store.
fn read_sheets(
    ctx: &Context,
    store: &Store,
    args: &ImportArgs,
) -> Result<(Vec<SheetImport>, Vec<gusu_ingest::SkippedSheet>), Failure> {
    let lang = ctx.lang;
    let opts = ReadOptions {
        sheet: args.sheet.clone(),
        region: ctx.region.clone(),
    };
    let known = || -> Result<HashSet<Uscc>, Failure> {
        store.known_usccs().map_err(|e| store_failure(e, lang))
    };
    let failure = |e| super::files::ingest_failure(e, lang);
    Ok(match args.kind {
        FileKind::Enterprises => {
            let sheets =
                gusu_ingest::read_enterprises_sheets(&args.file, &opts).map_err(failure)?;
            let read = sheets
                .parsed
                .into_iter()
                .map(|p| {
                    let id = (p.file_name, p.sheet, p.sha256);
                    SheetImport::new(id, p.report, p.rejected, SheetRows::Enterprises(p.rows))
                })
                .collect();
            (read, sheets.skipped)
        }
        FileKind::Annual => {
            let mut sheets = gusu_ingest::read_annual_sheets(&args.file, &opts).map_err(failure)?;
            let known = known()?;
            for p in &mut sheets.parsed {
                gusu_ingest::check_known_enterprises(p, &known);
            }
            let read = sheets
                .parsed
                .into_iter()
                .map(|p| {
                    let id = (p.file_name, p.sheet, p.sha256);
                    SheetImport::new(id, p.report, p.rejected, SheetRows::Annual(p.rows))
                })
                .collect();
            (read, sheets.skipped)
        }
        FileKind::Energy => {
            let mut sheets = gusu_ingest::read_energy_sheets(&args.file, &opts).map_err(failure)?;
            let known = known()?;
            for p in &mut sheets.parsed {
                gusu_ingest::check_known_energy(p, &known);
            }
            let read = sheets
                .parsed
                .into_iter()
                .map(|p| {
                    let rows = p
                        .rows
                        .iter()
                        .map(|r| gusu_store::EnergyRow {
                            row: r.row,
                            uscc: r.record.uscc,
                            year: r.record.year,
                            line: r.record.line.clone(),
                        })
                        .collect();
                    let id = (p.file_name, p.sheet, p.sha256);
                    SheetImport::new(id, p.report, p.rejected, SheetRows::Energy(rows))
                })
                .collect();
            (read, sheets.skipped)
        }
        // The store refuses a row of an enterprise it has not registered (naming the row).
        FileKind::Designations => {
            let sheets =
                gusu_ingest::policy::read_designations(&args.file, &opts).map_err(failure)?;
            let read = sheets
                .parsed
                .into_iter()
                .map(|p| {
                    let rows = p
                        .rows
                        .into_iter()
                        .map(|r| gusu_store::DesignationRow {
                            row: r.row,
                            uscc: r.record.uscc,
                            designation: r.record.designation,
                        })
                        .collect();
                    let id = (p.file_name, p.sheet, p.sha256);
                    SheetImport::new(id, p.report, p.rejected, SheetRows::Designations(rows))
                })
                .collect();
            (read, sheets.skipped)
        }
        FileKind::Projects => {
            let sheets = gusu_ingest::policy::read_projects(&args.file, &opts).map_err(failure)?;
            let read = sheets
                .parsed
                .into_iter()
                .map(|p| {
                    let rows = p
                        .rows
                        .into_iter()
                        .map(|r| gusu_store::ProjectRow {
                            row: r.row,
                            facts: r.record,
                        })
                        .collect();
                    let id = (p.file_name, p.sheet, p.sha256);
                    SheetImport::new(id, p.report, p.rejected, SheetRows::Projects(rows))
                })
                .collect();
            (read, sheets.skipped)
        }
    })
}

/// Validates a file, every sheet of a workbook whose header is recognised (one per district is
/// common), then imports each sheet as its own batch, in one transaction per sheet (shared by
/// `import` and `demo`). Nothing is written when any sheet has errors (unless rows are skipped),
/// and the rejects files are written before the first import commits, so a failed write leaves
/// the store as it was. At most `detail` findings are listed after each report's summary line.
pub fn import_file(
    ctx: &Context,
    store: &mut Store,
    args: &ImportArgs,
    detail: usize,
) -> CmdResult {
    let lang = ctx.lang;
    let (sheets, skipped) = read_sheets(ctx, store, args)?;
    super::files::print_skipped(&args.file, &skipped, lang);
    // A file with errors imports nothing unless rows are explicitly skipped.
    if !args.skip_invalid && sheets.iter().any(|s| s.report.has_errors()) {
        for s in sheets.iter().filter(|s| s.report.has_errors()) {
            output::print_report(&s.report, lang, 50, output::Listing::Errors);
        }
        eprintln!("{}", nothing_imported(lang));
        return Err(Failure::reported());
    }
    for s in &sheets {
        if !s.report.issues.is_empty() {
            output::print_report(&s.report, lang, detail, output::Listing::Errors);
        }
        if !s.rejected.rows.is_empty() {
            let path = gusu_ingest::write_rejects_for(
                &args.file,
                s.sheet.as_deref(),
                &s.rejected,
                &s.report,
            )
            .map_err(|e| {
                Failure::usage(format!(
                    "{}: {e}; {}",
                    lang.t("无法写出拒绝行文件", "cannot write the rejects file"),
                    lang.t("未导入任何数据", "nothing was imported")
                ))
            })?;
            eprintln!(
                "{} {} {}",
                s.rejected.rows.len(),
                lang.t("行被拒绝，已写入", "rows rejected, written to"),
                path.display()
            );
        }
    }
    for s in &sheets {
        // A header without data rows brings nothing: no batch, no audit entry.
        if s.report.rows == 0 {
            println!(
                "{} {}",
                s.report.source_name(),
                lang.t(
                    "只有表头，没有数据行；未导入任何数据",
                    "has a header but no data rows; nothing was imported"
                )
            );
            continue;
        }
        let summary = import_sheet(store, args, s, lang)?;
        print_import_summary(&args.file, s.sheet.as_deref(), &summary, lang);
    }
    if matches!(args.kind, FileKind::Designations | FileKind::Projects) {
        push_policy_notices(ctx, store, lang)?;
    }
    Ok(())
}

/// After the calculator's facts changed: every enterprise that qualifies for a policy today and
/// was not told yet gets a notice in its inbox (the library in force: shipped and published).
fn push_policy_notices(ctx: &Context, store: &mut Store, lang: Lang) -> CmdResult {
    let fail = |e: String| Failure::usage(e);
    let base = ctx.policies(&[])?;
    let library =
        gusu_web::policy_workflow::library_in_force(&base, store).map_err(|e| fail(e.message))?;
    let today = chrono::Utc::now().date_naive();
    let (enterprises, projects) = store
        .policy_city(today)
        .map_err(|e| store_failure(e, lang))?;
    let notices =
        gusu_web::policy_workflow::notices_for(&library, &enterprises, &projects, today, None);
    let sent = store
        .push_policy_notices(&notices)
        .map_err(|e| store_failure(e, lang))?;
    println!(
        "{sent} {}",
        lang.t(
            "条政策通知已推送给新符合条件的企业",
            "policy notices pushed to the enterprises that newly qualify"
        )
    );
    Ok(())
}

fn import_sheet(
    store: &mut Store,
    args: &ImportArgs,
    s: &SheetImport,
    lang: Lang,
) -> Result<gusu_store::ImportSummary, Failure> {
    let meta = BatchMeta {
        source: args.source.clone(),
        file_name: s.file_name.clone(),
        sheet: s.sheet.clone(),
        file_sha256: s.sha256.clone(),
    };
    // The batch names the operator; its `import` audit entry is written with it.
    let uploader = gusu_store::Uploader {
        actor: super::accounts::operator(),
        rejected: s.rejected.rows.len(),
    };
    // A progress bar over the rows written (drawn only on a terminal).
    let label = match &s.sheet {
        Some(sheet) => format!("{} [{sheet}]", s.file_name),
        None => s.file_name.clone(),
    };
    let bar = super::progress_bar(format!("{} {label}", lang.t("导入", "importing")));
    let shown = bar.clone();
    store.set_progress(Some(Box::new(move |p: gusu_store::ImportProgress| {
        shown.set_length(p.total as u64);
        shown.set_position(p.done as u64);
    })));
    let summary = match &s.rows {
        SheetRows::Enterprises(rows) => store.import_enterprises_by(&meta, rows, &uploader),
        SheetRows::Annual(rows) => store.import_annual_by(&meta, rows, &uploader),
        SheetRows::Energy(rows) => store.import_energy(&meta, rows, Some(&uploader)),
        SheetRows::Designations(rows) => store.import_designations(&meta, rows, Some(&uploader)),
        SheetRows::Projects(rows) => store.import_projects(&meta, rows, Some(&uploader)),
    };
    store.set_progress(None);
    bar.finish_and_clear();
    summary.map_err(|e| store_failure(e, lang))
}

fn print_import_summary(
    file: &std::path::Path,
    sheet: Option<&str>,
    summary: &gusu_store::ImportSummary,
    lang: Lang,
) {
    let name = match sheet {
        Some(sheet) => format!("{} [{sheet}]", file.display()),
        None => file.display().to_string(),
    };
    if summary.already_imported {
        println!(
            "{name} {}",
            lang.t(
                "此前已导入，未作任何改变",
                "was imported before; nothing changed"
            )
        );
        return;
    }
    if summary.imported_before {
        println!(
            "{name} {} {} {}",
            lang.t(
                "此前已导入；本次补入此前未入库的",
                "was imported before; this time it brought in"
            ),
            summary.inserted,
            lang.t(
                "个值（此前被拒的行），已入库的值保持不变",
                "values not stored then (rows refused before); stored values were left as they are"
            ),
        );
    } else {
        println!(
            "{} {name}: {} {}, {} {}, {} {}, {} {}, {} {}",
            lang.t("已导入", "imported"),
            summary.rows,
            lang.t("行", "rows"),
            summary.inserted,
            lang.t("新值", "new values"),
            summary.corrected,
            lang.t("更正", "corrections"),
            summary.unchanged,
            lang.t("未变", "unchanged"),
            summary.conflicts.len(),
            lang.t("来源冲突", "conflicts between sources"),
        );
    }
    for c in summary.conflicts.iter().take(10) {
        println!(
            "  {} {} {} {}: {}={} ({}) / {}={}",
            lang.t("冲突", "conflict"),
            c.uscc,
            c.year,
            c.field,
            c.used_source,
            c.used_value,
            lang.t("采用", "used"),
            c.other_source,
            c.other_value
        );
    }
}

fn nothing_imported(lang: Lang) -> &'static str {
    lang.t(
        "文件有错误，未导入任何数据（用 --skip-invalid 跳过错误行）",
        "the file has errors; nothing was imported (use --skip-invalid to skip rejected rows)",
    )
}

/// Enterprises and the records a scheme needs for `year`, from the store.
pub fn stored_data(
    store: &Store,
    scheme: &Scheme,
    year: i32,
    lang: Lang,
) -> Result<(Vec<Enterprise>, Vec<YearlyRecord>), Failure> {
    let enterprises = store.enterprises().map_err(|e| store_failure(e, lang))?;
    let mut records = store
        .yearly_records(year)
        .map_err(|e| store_failure(e, lang))?;
    if scheme.needs_prior_year() {
        records.extend(
            store
                .yearly_records(year - 1)
                .map_err(|e| store_failure(e, lang))?,
        );
    }
    Ok((enterprises, records))
}

pub fn evaluate(ctx: &Context, args: EvaluateArgs) -> CmdResult {
    let lang = ctx.lang;
    let mut store = ctx.open_existing_store()?;
    let scheme = ctx.scheme(args.scheme.as_deref(), args.year)?;
    let district = ctx.district(args.district.as_deref())?;
    let run_id = evaluate_and_save(
        ctx,
        &mut store,
        &scheme,
        args.year,
        district.as_deref(),
        args.publish,
    )?;
    if let Some(path) = &args.output {
        let results = stored_results(&store, run_id, lang)?;
        output::write_results(&results, &output::indicator_keys(&scheme), path, lang)?;
        eprintln!(
            "{} {}",
            lang.t("结果已写入", "results written to"),
            path.display()
        );
    }
    Ok(())
}

/// Evaluates the stored data, saves the run, prints the summary; returns the run id.
pub fn evaluate_and_save(
    ctx: &Context,
    store: &mut Store,
    scheme: &Scheme,
    year: i32,
    district: Option<&str>,
    publish: bool,
) -> Result<i64, Failure> {
    let lang = ctx.lang;
    let bar = super::spinner(lang.t("评价中…", "evaluating…").to_string());
    let operator = super::accounts::operator();
    let saved = store
        .evaluate_and_save(scheme, year, district, &operator)
        .map_err(|e| match e {
            gusu_store::StoreError::Evaluation(e) => evaluation_failure(e, lang),
            e => store_failure(e, lang),
        })?;
    let (run_id, summary, tally) = (saved.run_id, saved.summary, saved.tally);
    let target = format!("run {run_id}");
    if publish {
        store
            .publish_run(run_id)
            .map_err(|e| store_failure(e, lang))?;
        store
            .audit(&operator, "publication", Some(&target), None)
            .map_err(|e| store_failure(e, lang))?;
    }
    bar.finish_and_clear();
    print_summary(ctx, &summary, &tally);
    println!(
        "{} #{run_id} ({}){}",
        lang.t("评价结果已保存：运行", "results saved as run"),
        scheme.id(),
        if publish {
            lang.t("，已发布", ", published")
        } else {
            ""
        }
    );
    Ok(run_id)
}

fn stored_results(
    store: &Store,
    run_id: i64,
    lang: Lang,
) -> Result<Vec<EnterpriseResult>, Failure> {
    store
        .results(run_id)
        .map_err(|e| store_failure(e, lang))?
        .iter()
        .map(|r| {
            serde_json::from_str::<EnterpriseResult>(&r.detail_json).map_err(|e| {
                Failure::data(format!(
                    "{}: {e}",
                    lang.t("结果记录损坏", "corrupt stored result")
                ))
            })
        })
        .collect()
}

pub use gusu_core::evaluate::tally::Tally;

/// Counts by status, group and class, and the measures' totals.
pub fn print_summary(ctx: &Context, summary: &EvaluationSummary, tally: &Tally) {
    let lang = ctx.lang;
    let region = summary
        .district
        .as_deref()
        .map(|d| ctx.district_name(d))
        .unwrap_or_else(|| lang.t("全市", "whole city").to_string());
    println!(
        "{} {} · {} · {} {}@{}",
        summary.year,
        lang.t("年度评价", "evaluation"),
        region,
        lang.t("方案", "scheme"),
        summary.scheme,
        summary.scheme_version
    );
    println!(
        "  {} {} · {} {} · {} {} · {} {} · {} {}",
        lang.t("企业", "enterprises"),
        tally.enterprises,
        lang.t("已评价", "graded"),
        tally.count(Status::Graded),
        lang.t("不参评", "exempt"),
        tally.count(Status::Exempt),
        lang.t("不在范围", "out of scope"),
        tally.count(Status::OutOfScope),
        lang.t("数据缺失", "missing data"),
        tally.count(Status::MissingData),
    );
    for g in &summary.groups {
        let name = match (g.key.as_str(), lang) {
            ("above", Lang::Zh) => "规上".to_string(),
            ("below", Lang::Zh) => "规下".to_string(),
            (k, _) => k.to_string(),
        };
        let classes = g
            .class_counts
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(" · ");
        println!(
            "  {name}: {} {} — {classes}",
            g.graded,
            lang.t("家", "graded")
        );
    }
    for m in &tally.measures {
        // An enterprise whose basis figure is missing (a D-class one without electricity, say)
        // is not 0 元: it is counted and named apart, as the web overview does.
        let missing = if m.without_amount > 0 {
            format!(
                "{} {} {}",
                lang.t("；其中", "; of them"),
                m.without_amount,
                lang.t(
                    "家缺少计费依据（如用电量），金额未计入",
                    "lack the basis figure (e.g. electricity) and are not in the total"
                )
            )
        } else {
            String::new()
        };
        println!(
            "  {}: {} {}{}{} {} {}{missing}",
            match lang {
                Lang::Zh => &m.name_zh,
                Lang::En => &m.name_en,
            },
            m.enterprises,
            lang.t("家", "enterprises"),
            lang.t("，", ", "),
            lang.t("合计约", "about"),
            gusu_core::format::amount(m.amount, 0),
            lang.t("元", "yuan")
        );
    }
}

pub fn results(ctx: &Context, args: ResultsArgs) -> CmdResult {
    let lang = ctx.lang;
    let store = ctx.open_existing_store()?;
    let district = ctx.district(args.district.as_deref())?;
    // The run to show: the district's own ranking when one was run for the district asked about,
    // else the city's; published before unpublished, newest first.
    let runs = store
        .runs(Some(args.year))
        .map_err(|e| store_failure(e, lang))?;
    let pick = |region: Option<&str>| {
        runs.iter()
            .filter(|r| r.region.as_deref() == region)
            .max_by_key(|r| (r.published, r.id))
            .cloned()
    };
    let run = district
        .as_deref()
        .and_then(|d| pick(Some(d)))
        .or_else(|| pick(None))
        .ok_or_else(|| {
            Failure::usage(format!(
                "{} {} {}",
                args.year,
                lang.t("年度没有全市评价结果", "has no city-wide evaluation run"),
                lang.t(
                    "（先运行 gusu evaluate --year）",
                    "(run gusu evaluate --year first)"
                )
            ))
        })?;
    let mut results = stored_results(&store, run.id, lang)?;
    results.retain(|r| {
        district.as_deref().is_none_or(|d| &*r.district == d)
            && args
                .class
                .as_deref()
                .is_none_or(|c| r.class.as_deref() == Some(c))
            && args.status.as_deref().is_none_or(|s| r.status.key() == s)
            && args.group.as_deref().is_none_or(|g| r.group.key() == g)
            && args.division.as_deref().is_none_or(|d| &*r.division == d)
    });
    results.sort_by(|a, b| {
        (&a.group, a.rank.unwrap_or(u32::MAX), &a.uscc).cmp(&(
            &b.group,
            b.rank.unwrap_or(u32::MAX),
            &b.uscc,
        ))
    });
    let keys = ctx
        .library()
        .ok()
        .and_then(|lib| {
            lib.all()
                .iter()
                .find(|s| s.name == run.scheme && s.version == run.scheme_version)
                .map(output::indicator_keys)
        })
        .unwrap_or_default();
    eprintln!(
        "{} #{} · {} · {} {}{}",
        lang.t("运行", "run"),
        run.id,
        run.created_at,
        results.len(),
        lang.t("家企业", "enterprises"),
        if run.published {
            lang.t("（已发布）", " (published)")
        } else {
            lang.t("（未发布）", " (not published)")
        }
    );
    match &args.output {
        Some(path) => {
            output::write_results(&results, &keys, path, lang)?;
            eprintln!(
                "{} {}",
                lang.t("结果已写入", "results written to"),
                path.display()
            );
        }
        None => output::print_results(&results, &keys, &output::BASE_COLUMNS, args.limit),
    }
    Ok(())
}

pub fn explain(ctx: &Context, args: ExplainArgs) -> CmdResult {
    let lang = ctx.lang;
    let uscc = Uscc::parse(&args.uscc).map_err(|e| {
        Failure::usage(format!(
            "{} “{}”: {}",
            lang.t("统一社会信用代码无效", "invalid USCC"),
            args.uscc,
            match lang {
                Lang::Zh => e.message_zh(),
                Lang::En => e.to_string(),
            }
        ))
    })?;
    let store = ctx.open_existing_store()?;
    let scheme = ctx.scheme(args.scheme.as_deref(), args.year)?;
    let district = ctx.district(args.district.as_deref())?;
    let ex_district = district.clone();
    let (enterprises, records) = stored_data(&store, &scheme, args.year, lang)?;
    let input = EvaluationInput {
        year: args.year,
        enterprises: &enterprises,
        records: &records,
        district: district.as_deref(),
    };
    let ex = explain_enterprise(&scheme, &input, &uscc).map_err(|e| match e {
        gusu_core::evaluate::explain::ExplainError::Evaluation(e) => evaluation_failure(e, lang),
        other => Failure::usage(other.to_string()),
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ex).unwrap_or_default());
        return Ok(());
    }
    let r = &ex.result;
    println!(
        "{} {} · {} · {}",
        r.name,
        r.uscc,
        ctx.district_name(&r.district),
        ex.scheme
    );
    match r.status {
        Status::Graded => {
            let size = r.group_size.unwrap_or_default();
            let rank = r.rank.unwrap_or_default();
            let group_name = match (r.group, lang) {
                (SizeGroup::Above, Lang::Zh) => "规上",
                (SizeGroup::Below, Lang::Zh) => "规下",
                (SizeGroup::Above, Lang::En) => "above-size",
                (SizeGroup::Below, Lang::En) => "below-size",
            };
            let region = match &ex_district {
                Some(d) => ctx.district_name(d),
                None => lang.t("全市", "the city").to_string(),
            };
            let class = r.class.as_deref().unwrap_or("-");
            let top = r.percentile.unwrap_or_default() * 100.0;
            match lang {
                Lang::Zh => println!(
                    "  {} 年度得分 {:.2}，在{region}{group_name}已评价的 {size} 家企业中排第 {rank} 位（优于其位次者占 {top:.1}%），评为 {class} 类。",
                    ex.year,
                    r.score.unwrap_or_default()
                ),
                Lang::En => println!(
                    "  Scored {:.2} in {}, ranked {rank} of the {size} graded {group_name} enterprises of {region} ({top:.1}% ranked higher): class {class}.",
                    r.score.unwrap_or_default(),
                    ex.year
                ),
            }
            let sep = lang.t("，", ", ");
            for i in &r.indicators {
                let si = scheme
                    .groups
                    .iter()
                    .flat_map(|g| &g.indicators)
                    .find(|s| s.key == i.key);
                let name = si
                    .map(|s| match lang {
                        Lang::Zh => s.name_zh.clone(),
                        Lang::En => s.name_en.clone(),
                    })
                    .unwrap_or_else(|| i.key.to_string());
                let unit = i
                    .fallback
                    .or(si.map(|s| s.indicator))
                    .map(|ind| ind.unit())
                    .unwrap_or_default();
                let detail = match (i.value.get(), i.benchmark.get(), i.imputed) {
                    (_, _, true) => lang
                        .t(
                            "无法计算，取组内有值企业的平均得分",
                            "not computable: the group's mean score",
                        )
                        .to_string(),
                    (Some(v), Some(b), false) if b > 0.0 => format!(
                        "{v:.4} {unit}{sep}{} {b:.4}{sep}{} {:.1}%",
                        lang.t("基准", "benchmark"),
                        lang.t("为基准的", "that is"),
                        v / b * 100.0
                    ),
                    (Some(v), _, false) => format!(
                        "{v:.4} {unit}{sep}{}",
                        lang.t("基准值无法确定，计 0 分", "benchmark undefined: scores 0")
                    ),
                    (None, _, false) => "—".to_string(),
                };
                let via = match i.fallback {
                    Some(fb) => format!(
                        "{}{}{}",
                        lang.t("（以替代指标计：", " (by the fallback "),
                        match lang {
                            Lang::Zh => fb.name_zh(),
                            Lang::En => fb.name_en(),
                        },
                        lang.t("）", ")")
                    ),
                    None => String::new(),
                };
                println!(
                    "  · {name}{via}: {detail} → {:.2} / {} {}",
                    i.score,
                    i.weight,
                    lang.t("分", "points")
                );
            }
            for a in &r.adjustments {
                println!("  {:<28} {:+.2}", a.key, a.points);
            }
            for m in &r.measures {
                println!(
                    "  {} {}: {} {} {}",
                    m.applies_in,
                    match lang {
                        Lang::Zh => &m.name_zh,
                        Lang::En => &m.name_en,
                    },
                    m.rate.map(|v| v.to_string()).unwrap_or_default(),
                    m.unit.as_deref().unwrap_or_default(),
                    m.amount
                        .map(|a| format!("≈ {a:.0} {}", lang.t("元", "yuan")))
                        .unwrap_or_default()
                );
            }
        }
        status => println!(
            "  {}: {} ({})",
            lang.t("状态", "status"),
            match lang {
                Lang::Zh => status.name_zh(),
                Lang::En => status.key(),
            },
            r.warnings.join("; ")
        ),
    }
    match &ex.next_class {
        None if r.status == Status::Graded => println!(
            "  {}",
            lang.t("已是最高类别。", "Already in the top class.")
        ),
        None => {}
        Some(next) => {
            println!(
                "  {} {next} {}",
                lang.t("升至", "To reach class"),
                lang.t(
                    "类的最小单项改变（其余不变，全组重算）：",
                    "with one figure changed (others fixed, group re-evaluated):"
                )
            );
            for l in &ex.lifts {
                let verb = match (l.direction, lang) {
                    (Direction::Raise, Lang::Zh) => "提高",
                    (Direction::Cut, Lang::Zh) => "降低",
                    (Direction::Raise, Lang::En) => "raise",
                    (Direction::Cut, Lang::En) => "cut",
                };
                let name = match lang {
                    Lang::Zh => l.figure.name_zh(),
                    Lang::En => l.figure.name_en(),
                };
                match (l.to, l.change) {
                    (Some(to), Some(change)) => println!(
                        "    {verb} {name}: {:.2} → {:.2} {} ({:+.2}{})",
                        l.from,
                        to,
                        l.figure.unit(),
                        change,
                        l.percent.map(|p| format!(", {p:+.1}%")).unwrap_or_default()
                    ),
                    _ => println!(
                        "    {verb} {name}: {}",
                        lang.t("单项无法达到", "not reachable by one figure")
                    ),
                }
            }
        }
    }
    Ok(())
}

pub fn simulate(ctx: &Context, args: SimulateArgs) -> CmdResult {
    let lang = ctx.lang;
    let store = ctx.open_existing_store()?;
    let base = ctx.scheme(args.base.as_deref(), args.year)?;
    let other = ctx.scheme(Some(&args.scheme), args.year)?;
    let district = ctx.district(args.district.as_deref())?;
    let run = |scheme: &Scheme| -> Result<Evaluation, Failure> {
        let (enterprises, records) = stored_data(&store, scheme, args.year, lang)?;
        run_evaluation(
            scheme,
            &EvaluationInput {
                year: args.year,
                enterprises: &enterprises,
                records: &records,
                district: district.as_deref(),
            },
        )
        .map_err(|e| evaluation_failure(e, lang))
    };
    let (a, b) = (run(&base)?, run(&other)?);
    let m = migration(&a, &b);
    if args.json {
        let cells: Vec<serde_json::Value> = m
            .counts
            .iter()
            .map(|((from, to), n)| serde_json::json!({"from": from, "to": to, "count": n}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"base": m.base, "other": m.other, "labels": m.labels, "matrix": cells, "changed": m.changed})).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{} {} → {}",
        lang.t(
            "类别迁移矩阵（行：对照方案，列：试算方案）",
            "Class migration (rows: base, columns: other)"
        ),
        m.base,
        m.other
    );
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    let mut header = vec![String::new()];
    header.extend(m.labels.iter().cloned());
    t.set_header(header);
    for from in &m.labels {
        let mut row = vec![from.clone()];
        row.extend(m.labels.iter().map(|to| m.count(from, to).to_string()));
        t.add_row(row);
    }
    println!("{t}");
    println!(
        "{}: {}",
        lang.t("类别变化的企业", "enterprises whose class changed"),
        m.changed
    );
    Ok(())
}

pub fn backup(ctx: &Context, args: BackupArgs) -> CmdResult {
    let lang = ctx.lang;
    let store = ctx.open_existing_store()?;
    store
        .backup(&args.file)
        .map_err(|e| store_failure(e, lang))?;
    println!(
        "{} {}",
        lang.t("已备份到", "backed up to"),
        args.file.display()
    );
    Ok(())
}
