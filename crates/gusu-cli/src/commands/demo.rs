//! `gusu demo`: a synthetic Suzhou-like city written as department files, imported through the same
//! path as real files, evaluated and summarised.

use std::path::PathBuf;

use gusu_core::Role;
use gusu_demo::{DemoConfig, FileKind as DemoKind};

use super::Context;
use super::stored::{evaluate_and_save, import_file};
use crate::cli::{DemoArgs, FileKind, ImportArgs, ReadingsFormat};
use crate::failure::{CmdResult, Failure};

/// Where the demo city lives unless `--db` says otherwise.
pub const DEMO_DB: &str = "gusu-demo.db";

pub fn run(ctx: &Context, args: DemoArgs) -> CmdResult {
    let lang = ctx.lang;
    if args.enterprises == 0 || args.years.is_empty() {
        return Err(Failure::usage(lang.t(
            "企业数与年度不能为空",
            "enterprises and years must not be empty",
        )));
    }
    let config = DemoConfig {
        enterprises: args.enterprises,
        seed: args.seed,
        years: args.years.clone(),
    };
    let started = std::time::Instant::now();
    let bar = super::spinner(
        lang.t("生成演示城市…", "generating the demo city…")
            .to_string(),
    );
    let city = gusu_demo::generate(&config);
    bar.finish_and_clear();
    let io = |e: std::io::Error| {
        Failure::usage(format!(
            "{}: {e}",
            lang.t("无法写出演示文件", "cannot write demo files")
        ))
    };

    if let Some(dir) = &args.out {
        if args.plain {
            let (e, a) = gusu_demo::write_plain(&city, dir).map_err(io)?;
            println!("{}\n{}", e.display(), a.display());
        } else {
            for f in gusu_demo::write_department_files(&city, &config, dir).map_err(io)? {
                println!("{}\t{}", f.source, f.path.display());
            }
            // The statistics bureau's energy survey (gusu import --kind energy --source stats).
            for &y in &config.years {
                let path = dir.join(format!("{y}_energy.csv"));
                gusu_demo::write_energy(&city, y, &path).map_err(io)?;
                println!("stats\t{}", path.display());
            }
            // The bureau's designations and projects (gusu import --kind designations|projects).
            let last = *config.years.iter().max().expect("years checked non-empty");
            let path = dir.join("designations.csv");
            gusu_demo::write_designations(&city, config.seed, last, &path).map_err(io)?;
            println!("bureau\t{}", path.display());
            let path = dir.join("projects.csv");
            gusu_demo::write_projects(&city, config.seed, last, &path).map_err(io)?;
            println!("bureau\t{}", path.display());
        }
        if let Some(count) = args.readings {
            let first_year = config.years.iter().copied().min().unwrap_or(2024);
            match args.readings_format {
                ReadingsFormat::Csv => {
                    let path = dir.join("readings.csv");
                    gusu_demo::write_readings(&city, first_year, count, config.seed, &path)
                        .map_err(io)?;
                    println!("readings\t{}", path.display());
                }
                ReadingsFormat::Parquet => {
                    let data = dir.join("data");
                    super::bench_readings::write_dataset(
                        &city,
                        first_year,
                        count,
                        config.seed,
                        &data,
                    )
                    .map_err(|e| Failure::usage(e.to_string()))?;
                    println!(
                        "readings\t{}",
                        gusu_analytics::dataset::readings_dir(&data).display()
                    );
                }
            }
        }
        return Ok(());
    }

    // A fresh demo database each time: refuse to replace a database that is not the demo's own.
    let db = ctx.db.clone().unwrap_or_else(|| PathBuf::from(DEMO_DB));
    if db.exists() {
        if ctx.db.is_some() && db.file_name().is_none_or(|n| n != DEMO_DB) {
            return Err(Failure::usage(format!(
                "{} {}",
                db.display(),
                lang.t(
                    "已存在；演示只写入新的数据库",
                    "exists; the demo only writes a new database"
                )
            )));
        }
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", db.display()));
            if p.exists() {
                std::fs::remove_file(&p).map_err(io)?;
            }
        }
    }
    let dir =
        std::env::temp_dir().join(format!("gusu-demo-{}-{}", config.seed, std::process::id()));
    let files = gusu_demo::write_department_files(&city, &config, &dir).map_err(io)?;
    let demo_ctx = Context {
        lang,
        config: ctx.config.clone(),
        db: Some(db.clone()),
        rules: ctx.rules.clone(),
        region: ctx.region.clone(),
    };
    let mut store = demo_ctx.open_store()?;
    for f in &files {
        let args = ImportArgs {
            file: f.path.clone(),
            kind: match f.kind {
                DemoKind::Enterprises => FileKind::Enterprises,
                DemoKind::Annual => FileKind::Annual,
            },
            source: f.source.to_string(),
            sheet: None,
            // The demo files carry a few broken rows on purpose: they are reported and skipped.
            skip_invalid: true,
        };
        import_file(&demo_ctx, &mut store, &args, 0)?;
    }
    let year = *config.years.iter().max().expect("years checked non-empty");
    demo_energy(&demo_ctx, &mut store, &city, &config, &dir)?;
    demo_policy_facts(&demo_ctx, &mut store, &city, &config, &dir)?;
    let scheme = demo_ctx.scheme(None, year)?;
    evaluate_and_save(&demo_ctx, &mut store, &scheme, year, None, true)?;
    let _ = std::fs::remove_dir_all(&dir);
    let accounts = demo_accounts(&mut store, &city)?;
    drop(store);
    println!(
        "{} {:.1} s · {}: {}",
        lang.t("演示城市已就绪，用时", "demo city ready in"),
        started.elapsed().as_secs_f64(),
        lang.t("数据库", "database"),
        db.display()
    );
    println!(
        "{}\n  gusu --db {} results --year {year}\n  gusu --db {} explain <USCC> --year {year}\n  gusu --db {} simulate --year {year} --scheme jiangsu-huaian-2024",
        lang.t("接下来可以试试：", "Try next:"),
        db.display(),
        db.display(),
        db.display()
    );
    println!(
        "{}",
        lang.t(
            "演示账号（密码相同）：",
            "Demo accounts (one password for all):"
        )
    );
    for (name, role, scope) in &accounts {
        println!("  {name:<10} {:<18} {scope}", role.key());
    }
    println!("  {} {DEMO_PASSWORD}", lang.t("密码：", "password:"));
    if args.no_serve {
        return Ok(());
    }
    println!(
        "{} http://{}/  ({})",
        lang.t("网络服务：", "web service:"),
        args.addr,
        lang.t("Ctrl-C 停止", "Ctrl-C stops it")
    );
    // The demo serves plain HTTP on this machine, for a browser on it: development, so its
    // cookies go without the Secure mark (`gusu serve` marks them by default).
    let mut config = super::web_config(ctx, db, Some(false))?;
    // The demo's administrators have no authenticator to read a code from; `gusu serve` asks it
    // of them (session.admin_second_factor).
    config.admin_second_factor = false;
    println!(
        "{}",
        lang.t(
            "演示环境：管理员账号登录不要求动态验证码（gusu serve 默认要求，见 gusu user totp）",
            "demo: administrators sign in without a one-time code (gusu serve asks for one; see gusu user totp)"
        )
    );
    gusu_web::serve(config, args.addr, None).map_err(|e| Failure::usage(e.message))
}

/// The energy file of every year (imported as the statistics bureau's), and a year of daily
/// electricity readings for the energy-intensive enterprises and Kunshan's above-scale ones,
/// imported into a readings dataset through gusu-analytics and totalled into the store by month
/// (the bills-versus-meters differences are reported like `gusu readings to-store`).
fn demo_energy(
    ctx: &Context,
    store: &mut gusu_store::Store,
    city: &gusu_demo::City,
    config: &DemoConfig,
    dir: &std::path::Path,
) -> CmdResult {
    let lang = ctx.lang;
    let io = |e: std::io::Error| {
        Failure::usage(format!(
            "{}: {e}",
            lang.t("无法写出演示文件", "cannot write demo files")
        ))
    };
    for &y in &config.years {
        let path = dir.join(format!("{y}_energy.csv"));
        gusu_demo::write_energy(city, y, &path).map_err(io)?;
        let args = ImportArgs {
            file: path,
            kind: FileKind::Energy,
            source: "stats".into(),
            sheet: None,
            skip_invalid: true,
        };
        import_file(ctx, store, &args, 0)?;
    }
    let year = *config.years.iter().max().expect("years checked non-empty");
    let metered: Vec<usize> = city
        .enterprises
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            gusu_demo::energy_intensive(&e.division) || (e.district == "320583" && e.above_scale)
        })
        .map(|(i, _)| i)
        .collect();
    let readings = dir.join(format!("{year}_readings.csv"));
    gusu_demo::write_daily_readings(city, year, &metered, config.seed, &readings).map_err(io)?;
    let data = dir.join("data");
    let known: rustc_hash::FxHashSet<String> = city
        .enterprises
        .iter()
        .map(|e| e.uscc.as_str().to_string())
        .collect();
    let outcome = gusu_analytics::import_file(&readings, &data, Some(&known)).map_err(|e| {
        Failure::usage(format!(
            "{}: {e}",
            lang.t("无法写入数据目录", "cannot write the data directory")
        ))
    })?;
    if !outcome.committed() {
        crate::output::print_report(&outcome.report, lang, 10, crate::output::Listing::Errors);
        return Err(Failure::reported());
    }
    let totals = super::readings::totals(
        lang,
        &data,
        gusu_analytics::Granularity::Month,
        "512MiB",
        None,
    )?;
    let lines = super::readings::store_totals(store, &totals, "demo readings", 0.05, lang)?;
    for line in lines.iter().take(3) {
        println!("{line}");
    }
    Ok(())
}

/// The bureau's designations and projects files, for the policy calculator.
fn demo_policy_facts(
    ctx: &Context,
    store: &mut gusu_store::Store,
    city: &gusu_demo::City,
    config: &DemoConfig,
    dir: &std::path::Path,
) -> CmdResult {
    let io = |e: std::io::Error| Failure::usage(e.to_string());
    let last = *config.years.iter().max().expect("years checked non-empty");
    let designations = dir.join("designations.csv");
    gusu_demo::write_designations(city, config.seed, last, &designations).map_err(io)?;
    let projects = dir.join("projects.csv");
    gusu_demo::write_projects(city, config.seed, last, &projects).map_err(io)?;
    for (file, kind) in [
        (designations, FileKind::Designations),
        (projects, FileKind::Projects),
    ] {
        let args = ImportArgs {
            file,
            kind,
            source: "bureau".into(),
            sheet: None,
            skip_invalid: false,
        };
        import_file(ctx, store, &args, 0)?;
    }
    Ok(())
}

/// The demo's shared password: printed, so only ever for the demo database.
const DEMO_PASSWORD: &str = "Gusu-Demo-2026!";

/// One account per role; the enterprise user is the first graded enterprise of Kunshan.
fn demo_accounts(
    store: &mut gusu_store::Store,
    city: &gusu_demo::City,
) -> Result<Vec<(String, Role, String)>, Failure> {
    let kunshan = "320583";
    let enterprise = city
        .enterprises
        .iter()
        .find(|e| e.district == kunshan && e.above_scale)
        .or_else(|| city.enterprises.first())
        .map(|e| e.uscc);
    let mut made = Vec::new();
    let plan: [(&str, Role, Option<&str>, Option<gusu_core::Uscc>); 7] = [
        ("admin", Role::CityAdmin, None, None),
        ("analyst", Role::CityAnalyst, None, None),
        ("kunshan", Role::DistrictOfficer, Some(kunshan), None),
        ("qiye", Role::Enterprise, None, enterprise),
        ("sysadmin", Role::SystemAdmin, None, None),
        ("security", Role::SecurityAdmin, None, None),
        ("auditor", Role::AuditAdmin, None, None),
    ];
    for (name, role, district, uscc) in plan {
        if role == Role::Enterprise && uscc.is_none() {
            continue;
        }
        store
            .create_account("demo", name, role, district, uscc, DEMO_PASSWORD)
            .map_err(|e| Failure::usage(e.to_string()))?;
        let scope = district
            .map(str::to_string)
            .or(uscc.map(|u| u.to_string()))
            .unwrap_or_default();
        made.push((name.to_string(), role, scope));
    }
    Ok(made)
}
