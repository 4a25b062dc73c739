//! One module per family of subcommands; shared context here.

mod accounts;
mod bench_readings;
mod carbon;
mod demo;
mod energy;
mod files;
mod nzc;
mod policy;
mod readings;
mod rules;
mod stored;

use std::path::{Path, PathBuf};

use gusu_core::{RegionSet, Scheme, SchemeLibrary};
use gusu_store::Store;

use crate::cli::{Cli, Command};
use crate::failure::{CmdResult, Failure};
use crate::i18n::Lang;

/// What every command may need: language, paths, the region set.
pub struct Context {
    pub lang: Lang,
    pub config: crate::config::Config,
    pub db: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub region: RegionSet,
}

pub const DEFAULT_DB: &str = "gusu.db";

impl Context {
    pub fn db_path(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB))
    }

    /// Opens the store (creating and migrating it when needed).
    pub fn open_store(&self) -> Result<Store, Failure> {
        let path = self.db_path();
        Store::open(&path).map_err(|e| {
            Failure::usage(format!(
                "{} {}: {e}",
                self.lang.t("无法打开数据库", "cannot open database"),
                path.display()
            ))
        })
    }

    /// Opens an existing store; a missing file is a usage error, not a silent new database.
    pub fn open_existing_store(&self) -> Result<Store, Failure> {
        let path = self.db_path();
        if !path.exists() {
            return Err(Failure::usage(format!(
                "{} {} {}",
                self.lang.t("数据库不存在：", "database not found:"),
                path.display(),
                self.lang.t(
                    "（先运行 gusu init 或 gusu demo）",
                    "(run gusu init or gusu demo first)"
                )
            )));
        }
        self.open_store()
    }

    /// The shipped schemes plus those of the rules directory.
    pub fn library(&self) -> Result<SchemeLibrary, Failure> {
        let mut lib = SchemeLibrary::builtin().map_err(|e| Failure::usage(e.to_string()))?;
        if let Some(dir) = &self.rules {
            for scheme in load_rules_dir(dir, self.lang)? {
                lib.add(scheme);
            }
        }
        Ok(lib)
    }

    /// The near-zero-carbon criteria documents: the shipped ones, then those of the rules
    /// directory's `nzc/` folder (a document with the same `name@version` as a shipped one
    /// replaces it: the city's own copy wins).
    pub fn nzc_criteria(&self) -> Result<Vec<gusu_core::carbon::nzc::Criteria>, Failure> {
        use gusu_core::carbon::nzc::{Criteria, builtin};
        let mut docs = builtin().map_err(|e| Failure::usage(e.to_string()))?;
        let Some(dir) = self
            .rules
            .as_ref()
            .map(|d| d.join("nzc"))
            .filter(|d| d.is_dir())
        else {
            return Ok(docs);
        };
        let read_err = |p: &Path, e: std::io::Error| {
            Failure::usage(format!(
                "{} {}: {e}",
                self.lang
                    .t("无法读取规则目录", "cannot read rules directory"),
                p.display()
            ))
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| read_err(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
            let doc = Criteria::from_toml(&text, &path.display().to_string())
                .map_err(|e| Failure::usage(e.to_string()))?;
            docs.retain(|d| d.id() != doc.id());
            docs.push(doc);
        }
        Ok(docs)
    }

    /// The support policies: the shipped ones, then those of the rules directory's `policies/`
    /// folder (a document with the id of a shipped one replaces it), then `files`.
    pub fn policies(&self, files: &[PathBuf]) -> Result<gusu_core::policy::PolicyLibrary, Failure> {
        let read_err = |p: &Path, e: std::io::Error| {
            Failure::usage(format!(
                "{} {}: {e}",
                self.lang
                    .t("无法读取规则目录", "cannot read rules directory"),
                p.display()
            ))
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        if let Some(dir) = self
            .rules
            .as_ref()
            .map(|d| d.join("policies"))
            .filter(|d| d.is_dir())
        {
            paths = std::fs::read_dir(&dir)
                .map_err(|e| read_err(&dir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
        }
        paths.extend(files.iter().cloned());
        let mut texts = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
            texts.push((path.display().to_string(), text));
        }
        gusu_core::policy::PolicyLibrary::with_files(&texts).map_err(|e| {
            Failure::usage(format!(
                "{}: {e}",
                self.lang.t("政策文件有误", "invalid policy document")
            ))
        })
    }

    /// A scheme by name (the version valid for `year`) or by file path.
    pub fn scheme(&self, name_or_path: Option<&str>, year: i32) -> Result<Scheme, Failure> {
        let wanted = name_or_path.unwrap_or(gusu_core::DEFAULT_SCHEME);
        let as_path = Path::new(wanted);
        if wanted.ends_with(".toml") || as_path.is_file() {
            return load_scheme_file(as_path, self.lang);
        }
        let lib = self.library()?;
        lib.select(wanted, year)
            .cloned()
            .map_err(|e| Failure::usage(e.to_string()))
    }

    /// A district code from a code or name given on the command line.
    pub fn district(&self, raw: Option<&str>) -> Result<Option<String>, Failure> {
        match raw {
            None => Ok(None),
            Some(r) => self
                .region
                .resolve(r)
                .map(|d| Some(d.code.clone()))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "{} “{r}”; {}: {}",
                        self.lang.t("未知区县", "unknown district"),
                        self.lang.t("可选", "known"),
                        self.region
                            .districts
                            .iter()
                            .map(|d| format!("{} {}", d.code, d.name_zh))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }),
        }
    }

    pub fn district_name(&self, code: &str) -> String {
        self.region
            .by_code(code)
            .map(|d| match self.lang {
                Lang::Zh => d.name_zh.clone(),
                Lang::En => d.name_en.clone(),
            })
            .unwrap_or_else(|| code.to_string())
    }
}

fn load_scheme_file(path: &Path, lang: Lang) -> Result<Scheme, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!(
            "{} {}: {e}",
            lang.t("无法读取方案文件", "cannot read scheme file"),
            path.display()
        ))
    })?;
    Scheme::from_toml(&text, &path.display().to_string()).map_err(|e| Failure::usage(e.to_string()))
}

/// Every `*.toml` under `dir/evaluation/` (or `dir` itself when it has no such folder).
pub fn load_rules_dir(dir: &Path, lang: Lang) -> Result<Vec<Scheme>, Failure> {
    let eval_dir = if dir.join("evaluation").is_dir() {
        dir.join("evaluation")
    } else {
        dir.to_path_buf()
    };
    let entries = std::fs::read_dir(&eval_dir).map_err(|e| {
        Failure::usage(format!(
            "{} {}: {e}",
            lang.t("无法读取规则目录", "cannot read rules directory"),
            eval_dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load_scheme_file(p, lang)).collect()
}

pub fn run(cli: Cli, lang: Lang) -> CmdResult {
    let config_file = cli.global.config.clone().or_else(|| {
        let default = PathBuf::from("gusu.toml");
        default.is_file().then_some(default)
    });
    let config =
        crate::config::Config::load(config_file.as_deref(), std::env::vars()).map_err(|e| {
            Failure::usage(format!(
                "{}: {e}",
                lang.t("配置有误", "configuration error")
            ))
        })?;
    let regions = cli
        .global
        .regions
        .clone()
        .or_else(|| config.store.regions.clone());
    let region = match &regions {
        None => RegionSet::suzhou(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::usage(format!(
                    "{} {}: {e}",
                    lang.t("无法读取区县设置文件", "cannot read region set file"),
                    path.display()
                ))
            })?;
            RegionSet::from_toml(&text, &path.display().to_string()).map_err(Failure::usage)?
        }
    };
    let ctx = Context {
        lang,
        db: cli.global.db.or_else(|| config.store.db.clone()),
        rules: cli.global.rules.or_else(|| config.store.rules.clone()),
        region,
        config,
    };
    match cli.command {
        Command::Validate(a) => files::validate(&ctx, a),
        Command::Evaluate(a) if a.enterprises.is_some() => files::evaluate(&ctx, a),
        Command::Evaluate(a) => stored::evaluate(&ctx, a),
        Command::Init => stored::init(&ctx),
        Command::Import(a) => stored::import(&ctx, a),
        Command::Results(a) => stored::results(&ctx, a),
        Command::Explain(a) => stored::explain(&ctx, a),
        Command::Simulate(a) => stored::simulate(&ctx, a),
        Command::Rules(a) => rules::run(&ctx, a),
        Command::Backup(a) => stored::backup(&ctx, a),
        Command::Demo(a) => demo::run(&ctx, a),
        Command::User(a) => accounts::user(&ctx, a),
        Command::Audit(a) => accounts::audit(&ctx, a),
        Command::Serve(a) => serve(&ctx, a),
        Command::Token(a) => accounts::token(&ctx, a),
        Command::Carbon(a) => carbon::run(&ctx, a),
        Command::Nzc(a) => nzc::run(&ctx, a),
        Command::Readings(a) => readings::run(&ctx, a),
        Command::Energy(a) => energy::run(&ctx, a),
        Command::Policy(a) => policy::run(&ctx, a),
    }
}

/// A spinner on stderr while long work runs (hidden when stderr is not a terminal).
pub fn spinner(message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar with a count on stderr for work of known size (hidden when stderr is not a terminal).
pub fn progress_bar(message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// `gusu serve`: the web service on the existing database.
fn serve(ctx: &Context, args: crate::cli::ServeArgs) -> CmdResult {
    let path = ctx.db_path();
    drop(ctx.open_existing_store()?);
    let cookies = match (args.secure_cookies, args.insecure_cookies) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let config = web_config(ctx, path.clone(), cookies)?;
    let addr = args.addr.unwrap_or(ctx.config.server.addr);
    let server = &ctx.config.server;
    let tls = match (
        args.tls_cert.or_else(|| server.tls_cert.clone()),
        args.tls_key.or_else(|| server.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => Some(gusu_web::TlsFiles { cert, key }),
        (None, None) => None,
        _ => {
            return Err(Failure::usage(
                ctx.lang
                    .t(
                        "server.tls_cert 与 server.tls_key 须同时配置",
                        "server.tls_cert and server.tls_key go together",
                    )
                    .to_string(),
            ));
        }
    };
    eprintln!(
        "{} {}://{} ({} {})",
        ctx.lang.t("服务已启动：", "serving on"),
        if tls.is_some() { "https" } else { "http" },
        addr,
        ctx.lang.t("数据库", "database"),
        path.display()
    );
    gusu_web::serve(config, addr, tls.as_ref()).map_err(|e| Failure::usage(e.message))
}

/// The web service's settings from the configuration; `secure_cookies` given overrides the
/// configuration's (Secure by default).
pub fn web_config(
    ctx: &Context,
    db: PathBuf,
    secure_cookies: Option<bool>,
) -> Result<gusu_web::WebConfig, Failure> {
    let s = &ctx.config.session;
    let mut config = gusu_web::WebConfig::new(db);
    config.region = ctx.region.clone();
    config.idle_timeout = std::time::Duration::from_secs(s.idle_timeout_minutes * 60);
    config.max_failures = s.max_failed_sign_ins;
    config.lockout = std::time::Duration::from_secs(s.lockout_minutes * 60);
    config.address_failures = s.max_failed_sign_ins_per_address;
    config.admin_second_factor = s.admin_second_factor;
    config.secure_cookies = secure_cookies.unwrap_or(ctx.config.server.secure_cookies);
    config.password = ctx.config.password.clone();
    // The pages explain results by the schemes that made them, the rules directory's included.
    config.schemes = std::sync::Arc::new(ctx.library()?);
    config.nzc_criteria = std::sync::Arc::new(ctx.nzc_criteria()?);
    config.policies = std::sync::Arc::new(ctx.policies(&[])?);
    config.notice_days = ctx.config.cycle.notice_days;
    let offset = ctx.config.cycle.rehearsal_clock_offset_days;
    if offset != 0 {
        eprintln!(
            "{} {offset}",
            ctx.lang.t(
                "警告：评价流程的时钟已偏移（仅供演练），天数：",
                "warning: the evaluation cycle's clock is shifted (rehearsals only), days:"
            )
        );
        config.clock = gusu_web::cycle::Clock::shifted_days(offset);
    }
    config.max_upload_bytes = ctx.config.server.max_upload_mb.saturating_mul(1024 * 1024);
    // The energy pages account by the same factor documents and targets as `gusu energy`.
    config.energy = ctx.config.energy.clone();
    config.factors = std::sync::Arc::new(carbon::factor_library(ctx)?);
    Ok(config)
}
