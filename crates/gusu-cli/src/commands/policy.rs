//! `gusu policy`: the policy calculator from the command line. `list`, `check` and `test` work on
//! the policy documents (the shipped ones, or files); `calculate` reads the enterprises,
//! designations and projects files and writes, for every project and project policy, the
//! decision and the amount.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use gusu_core::Report;
use gusu_core::policy::{
    Calculation, Coverage, Decision, EnterpriseFacts, Policy, PolicyLibrary, run_cases,
};
use gusu_ingest::ReadOptions;

use super::Context;
use crate::cli::{BudgetRuleArg, PolicyAction, PolicyArgs, PolicyCalculateArgs};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;
use crate::output::{self, Cell};

/// The output columns of `gusu policy calculate`, in order.
pub const COLUMNS: &[&str] = &[
    "uscc",
    "project_id",
    "policy",
    "version",
    "status",
    "amount_10k_yuan",
    "capped",
    "discretionary",
    "unknown_facts",
    "reasons",
];

pub fn run(ctx: &Context, args: PolicyArgs) -> CmdResult {
    match args.action {
        PolicyAction::List => list(ctx),
        PolicyAction::Check { files } => check(ctx, &files),
        PolicyAction::Test { files } => test(ctx, &files),
        PolicyAction::Calculate(a) => calculate(ctx, a),
        PolicyAction::Show { id } => show(ctx, &id),
        PolicyAction::Match { uscc, date } => match_stored(ctx, &uscc, date.as_deref()),
        PolicyAction::Simulate {
            draft,
            date,
            ceiling,
            rule,
            output,
        } => simulate_draft(
            ctx,
            &draft,
            date.as_deref(),
            ceiling,
            rule,
            output.as_deref(),
        ),
    }
}

fn read_files(files: &[PathBuf], lang: Lang) -> Result<Vec<(String, String)>, Failure> {
    files
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|e| {
                    Failure::usage(format!(
                        "{} {}: {e}",
                        lang.t("无法读取政策文件", "cannot read the policy document"),
                        p.display()
                    ))
                })
        })
        .collect()
}

fn library(ctx: &Context, files: &[PathBuf]) -> Result<PolicyLibrary, Failure> {
    ctx.policies(files)
}

fn list(ctx: &Context) -> CmdResult {
    let lib = library(ctx, &[])?;
    for p in &lib.policies {
        let title = match ctx.lang {
            Lang::Zh => &p.title_zh,
            Lang::En => &p.title_en,
        };
        println!("{}  {title}  [{}; {}]", p.id, p.delivery, p.confidence);
        for v in &p.versions {
            let to = v
                .valid_to
                .map_or_else(|| "…".to_string(), |d| d.to_string());
            println!("    {}  {} – {to}  {}", v.id, v.valid_from, v.document);
        }
    }
    Ok(())
}

fn check(ctx: &Context, files: &[PathBuf]) -> CmdResult {
    let lib = library(ctx, files)?;
    println!(
        "{} {}",
        lib.policies.len(),
        ctx.lang
            .t("个政策文件检查通过", "policy documents are valid")
    );
    Ok(())
}

fn test(ctx: &Context, files: &[PathBuf]) -> CmdResult {
    let lib = library(ctx, files)?;
    let chosen: Vec<&Policy> = if files.is_empty() {
        lib.policies.iter().collect()
    } else {
        lib.policies
            .iter()
            .filter(|p| files.iter().any(|f| p.file == f.display().to_string()))
            .collect()
    };
    let mut failures = Vec::new();
    let mut cases = 0;
    for p in chosen {
        cases += p.document.test.len();
        failures.extend(run_cases(p, &lib));
    }
    for f in &failures {
        eprintln!("{f}");
    }
    println!(
        "{cases} {}, {} {}",
        ctx.lang.t("个用例", "cases"),
        failures.len(),
        ctx.lang.t("个失败", "failed")
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::reported())
    }
}

/// Prints a file's findings and fails when it has errors: facts with errors would give wrong
/// decisions, so nothing is written.
fn refuse_errors(report: &Report, lang: Lang) -> CmdResult {
    if !report.issues.is_empty() {
        output::print_report(report, lang, 50, output::Listing::Errors);
    }
    if report.has_errors() {
        eprintln!(
            "{}",
            lang.t(
                "输入有错误，未写出结果",
                "the input has errors; no output written"
            )
        );
        return Err(Failure::reported());
    }
    Ok(())
}

fn calculate(ctx: &Context, args: PolicyCalculateArgs) -> CmdResult {
    let lang = ctx.lang;
    let date = NaiveDate::parse_from_str(&args.date, "%Y-%m-%d").map_err(|_| {
        Failure::usage(format!(
            "--date {}: {}",
            args.date,
            lang.t("不是日期（YYYY-MM-DD）", "is not a date (YYYY-MM-DD)")
        ))
    })?;
    let lib = library(ctx, &args.policy_files)?;
    let opts = ReadOptions {
        sheet: None,
        region: ctx.region.clone(),
    };
    let failure = |e| super::files::ingest_failure(e, lang);
    let sheets =
        gusu_ingest::read_enterprises_any_industry(&args.enterprises, &opts).map_err(failure)?;
    let mut enterprises: BTreeMap<String, EnterpriseFacts> = BTreeMap::new();
    for p in &sheets.parsed {
        refuse_errors(&p.report, lang)?;
        for r in &p.rows {
            let e = &r.record;
            enterprises.insert(
                e.uscc.to_string(),
                EnterpriseFacts {
                    uscc: e.uscc.to_string(),
                    district: e.district.clone(),
                    division: e.division.parse().ok(),
                    established: Some(e.established),
                    above_scale: Some(e.above_scale),
                    designations: args.designations.as_ref().map(|_| Vec::new()),
                    years: Vec::new(),
                },
            );
        }
    }
    if let Some(path) = &args.designations {
        let sheets = gusu_ingest::policy::read_designations(path, &opts).map_err(failure)?;
        super::files::print_skipped(path, &sheets.skipped, lang);
        for parsed in sheets.parsed {
            refuse_errors(&parsed.report, lang)?;
            for r in parsed.rows {
                if let Some(e) = enterprises.get_mut(&r.record.uscc.to_string())
                    && let Some(list) = e.designations.as_mut()
                {
                    list.push(r.record.designation);
                }
            }
        }
    }
    let sheets = gusu_ingest::policy::read_projects(&args.projects, &opts).map_err(failure)?;
    super::files::print_skipped(&args.projects, &sheets.skipped, lang);
    // Where each project was read (sheet, row), to name a project twice or of an unknown
    // enterprise; within a sheet the reader has refused repeats already.
    let mut projects = Vec::new();
    let mut read_at: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for parsed in sheets.parsed {
        refuse_errors(&parsed.report, lang)?;
        let sheet = parsed.sheet.map(|s| format!(" [{s}]")).unwrap_or_default();
        for r in parsed.rows {
            let at = format!("{}{sheet} {}", parsed.file_name, r.row);
            if !enterprises.contains_key(&r.record.uscc) {
                problems.push(format!(
                    "{at}: {} {}",
                    lang.t("企业名录里没有", "not in the enterprises file:"),
                    r.record.uscc
                ));
            }
            if let Some(before) = read_at.insert(r.record.project_id.clone(), at.clone()) {
                problems.push(format!(
                    "{at}: {} {} ({before})",
                    lang.t("项目重复", "the project is also in"),
                    r.record.project_id
                ));
            }
            projects.push(r.record);
        }
    }
    if !problems.is_empty() {
        return Err(Failure::data(format!(
            "{}: {}",
            lang.t(
                "项目文件有误，未写出结果",
                "the projects are wrong; no output written"
            ),
            problems.join("; ")
        )));
    }
    let enterprises: Vec<EnterpriseFacts> = enterprises.into_values().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let calc = Calculation::run(&lib, &enterprises, &projects, date, Coverage::List, threads);
    let decisions = calc.decisions();
    // One row per project (file order) and project policy (library order), then one per
    // enterprise (by uscc) and enterprise policy.
    let mut order: Vec<(u8, usize, u16, &Decision)> = calc
        .verdicts
        .iter()
        .zip(&decisions)
        .map(|(v, d)| match v.project() {
            Some(j) => (0, j, v.policy, d),
            None => (1, v.enterprise as usize, v.policy, d),
        })
        .collect();
    order.sort_by_key(|(group, i, policy, _)| (*group, *i, *policy));
    let yes_no = |b: bool| Cell::text(if b { "true" } else { "false" });
    let rows: Vec<Vec<Cell<'_>>> = order
        .iter()
        .map(|(_, _, _, d)| {
            vec![
                Cell::text(&d.uscc),
                Cell::text(d.project_id.as_deref().unwrap_or("")),
                Cell::text(&d.policy),
                Cell::text(&d.version),
                Cell::text(d.status.key()),
                d.amount_10k_yuan.map_or(Cell::Empty, Cell::Number),
                yes_no(d.capped),
                yes_no(d.discretionary),
                Cell::Text(d.unknown_facts.join(";").into()),
                Cell::Text(d.reasons.join(";").into()),
            ]
        })
        .collect();
    output::write_table(&args.output, COLUMNS, &rows, lang)?;
    let count = |s: &str| decisions.iter().filter(|d| d.status.key() == s).count();
    eprintln!(
        "{} {} · {} {} · {} {} · {} {}",
        projects.len(),
        lang.t("个项目", "projects"),
        count("eligible"),
        lang.t("符合", "eligible"),
        count("needs_information"),
        lang.t("需补充信息", "need information"),
        count("not_eligible"),
        lang.t("不符合", "not eligible"),
    );
    eprintln!(
        "{} {}",
        lang.t("结果已写入", "results written to"),
        args.output.display()
    );
    Ok(())
}

fn day_arg(text: Option<&str>, lang: Lang) -> Result<NaiveDate, Failure> {
    match text {
        None => Ok(chrono::Utc::now().date_naive()),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
            Failure::usage(format!(
                "--date {t}: {}",
                lang.t("不是日期（YYYY-MM-DD）", "is not a date (YYYY-MM-DD)")
            ))
        }),
    }
}

/// The library in force on the database: the configured policies with the published drafts.
fn stored_library(
    ctx: &Context,
    store: &gusu_store::Store,
    lang: Lang,
) -> Result<PolicyLibrary, Failure> {
    let base = library(ctx, &[])?;
    gusu_web::policy_workflow::library_in_force(&base, store).map_err(|e| {
        Failure::usage(format!(
            "{}: {}",
            lang.t("政策文件有误", "invalid policy document"),
            e.message
        ))
    })
}

fn show(ctx: &Context, id: &str) -> CmdResult {
    let lang = ctx.lang;
    let lib = library(ctx, &[])?;
    let p = lib.get(id).ok_or_else(|| {
        Failure::usage(format!(
            "{} {id}",
            lang.t("没有这项政策：", "no such policy:")
        ))
    })?;
    let (title, other) = match lang {
        Lang::Zh => (&p.title_zh, &p.title_en),
        Lang::En => (&p.title_en, &p.title_zh),
    };
    println!("{}  {title}\n  {other}", p.id);
    println!(
        "  {}: {} · {}: {:?} · {}: {} · {}: {} · {}: {}",
        lang.t("发文", "issuer"),
        p.issuer,
        lang.t("对象", "subject"),
        p.subject,
        lang.t("兑现", "delivery"),
        p.delivery,
        lang.t("地区", "region"),
        p.region,
        lang.t("可信度", "confidence"),
        p.confidence
    );
    println!(
        "  {}: {}",
        lang.t("叠加", "stacking"),
        p.stacking.as_ref().map_or_else(
            || lang.t("原文未说明", "the sources are silent").to_string(),
            |s| format!("{} {} ({})", s.group, s.rule.key(), s.article)
        )
    );
    for e in &p.evidence {
        println!("  {}: {e}", lang.t("申报材料", "evidence"));
    }
    for param in &p.parameters {
        let values: Vec<String> = param
            .values
            .iter()
            .map(|(d, v)| format!("{d}: {v}"))
            .collect();
        println!(
            "  {} [{}] {}{} — {}",
            param.name,
            param.unit,
            values.join(", "),
            if param.illustrative {
                lang.t(
                    " （示意值，来源未给出）",
                    " (illustrative: no source gives it)",
                )
            } else {
                ""
            },
            param.article
        );
    }
    for v in &p.versions {
        let to = v
            .valid_to
            .map_or_else(|| "…".to_string(), |d| d.to_string());
        println!("  {} {} – {to}  {}", v.id, v.valid_from, v.document);
        for c in &v.conditions {
            let name = if lang == Lang::Zh {
                &c.name_zh
            } else {
                &c.name_en
            };
            let test = match &c.test {
                gusu_core::policy::ConditionTest::When(f) => f.source().to_string(),
                gusu_core::policy::ConditionTest::Any(_) => {
                    lang.t("其一满足", "any of").to_string()
                }
            };
            println!("      {}: {name} [{test}] — {}", c.id, c.article);
        }
        let amount = &v.amount;
        match (&amount.formula, amount.tiers.is_empty()) {
            (Some(f), _) => println!("      = {} — {}", f.source(), amount.article),
            (None, false) => {
                println!("      {:?} — {}", amount.tier_mode, amount.article);
                for t in &amount.tiers {
                    let value = t
                        .amount
                        .as_ref()
                        .map_or("—".to_string(), |a| a.source().to_string());
                    println!("        {}: {} → {value}", t.id, t.when.source());
                }
            }
            (None, true) => println!(
                "      {}",
                lang.t("无金额（资格规则）", "no amount (an eligibility rule)")
            ),
        }
    }
    Ok(())
}

fn match_stored(ctx: &Context, uscc: &str, date: Option<&str>) -> CmdResult {
    let lang = ctx.lang;
    let date = day_arg(date, lang)?;
    let store = ctx.open_store()?;
    let lib = stored_library(ctx, &store, lang)?;
    let (enterprises, projects) = store
        .policy_city(date)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let Some(e) = enterprises.into_iter().find(|e| e.uscc == uscc) else {
        return Err(Failure::usage(format!(
            "{} {uscc}",
            lang.t(
                "数据库中没有这家企业：",
                "no such enterprise in the database:"
            )
        )));
    };
    let mine: Vec<_> = projects.into_iter().filter(|p| p.uscc == uscc).collect();
    let enterprises = [e];
    let calc = Calculation::run(&lib, &enterprises, &mine, date, Coverage::Skip, 1);
    for d in calc.decisions() {
        let amount = d.amount_10k_yuan.map_or_else(String::new, |a| {
            format!(" {}", gusu_core::format::figure(a))
        });
        println!(
            "{:<44} {:<14} {:<18}{amount}  {}",
            d.policy,
            d.project_id.as_deref().unwrap_or("—"),
            d.status.key(),
            if d.unknown_facts.is_empty() {
                d.reasons.join(", ")
            } else {
                d.unknown_facts.join(", ")
            }
        );
    }
    Ok(())
}

fn simulate_draft(
    ctx: &Context,
    draft: &std::path::Path,
    date: Option<&str>,
    ceiling: Option<f64>,
    rule: BudgetRuleArg,
    output: Option<&std::path::Path>,
) -> CmdResult {
    use gusu_core::policy::simulate::{Budget, BudgetRule, simulate};
    let lang = ctx.lang;
    let date = day_arg(date, lang)?;
    let texts = read_files(&[draft.to_path_buf()], lang)?;
    let policy = Policy::from_toml(&texts[0].1, &texts[0].0).map_err(|e| {
        Failure::usage(format!(
            "{}: {e}",
            lang.t("政策文件有误", "invalid policy document")
        ))
    })?;
    let store = ctx.open_store()?;
    let lib = stored_library(ctx, &store, lang)?;
    let (enterprises, projects) = store
        .policy_city(date)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let budget = ceiling.map(|c| Budget {
        ceiling_10k_yuan: c,
        rule: match (rule, policy.budget_rule) {
            (BudgetRuleArg::ProRata, _) => BudgetRule::ProRata,
            (BudgetRuleArg::Ranking, BudgetRule::Ranking(by)) => BudgetRule::Ranking(by),
            (BudgetRuleArg::Ranking, BudgetRule::ProRata) => BudgetRule::Ranking(None),
        },
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let s = simulate(
        &policy,
        lib.get(&policy.id),
        &enterprises,
        &projects,
        date,
        budget,
        threads,
    );
    println!(
        "{} {} · {} {} · {} {} · {} {}",
        s.qualifying_enterprises,
        lang.t("家企业符合", "enterprises qualify"),
        lang.t("所需", "needed"),
        gusu_core::format::figure(s.total_10k_yuan),
        lang.t("预算内拨付", "paid within the budget"),
        gusu_core::format::figure(s.paid_10k_yuan),
        lang.t("新增符合", "newly qualifying"),
        s.newly_eligible.len()
    );
    println!(
        "{} {} · {} {}",
        lang.t("较现行版本增加", "gain against the version in force:"),
        s.gainers,
        lang.t("减少", "lose:"),
        s.losers
    );
    for g in &s.by_district {
        println!(
            "  {} {} {}",
            g.key,
            g.enterprises,
            gusu_core::format::figure(g.total_10k_yuan)
        );
    }
    if let Some(out) = output {
        let rows: Vec<Vec<Cell<'_>>> = s
            .paid
            .iter()
            .map(|(uscc, amount)| vec![Cell::text(uscc), Cell::Number(*amount)])
            .collect();
        output::write_table(out, &["uscc", "paid_10k_yuan"], &rows, lang)?;
    }
    Ok(())
}
