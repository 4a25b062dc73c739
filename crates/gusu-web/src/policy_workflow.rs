//! The policy calculator's workflow over HTTP (issue 12, points 4 and 5): the bureau writes a
//! draft (a policy document, often a shipped one with a parameter changed), checks it and runs
//! its cases, simulates it over the city with a budget ceiling, and publishes it; the enterprises
//! that newly qualify get a notice in their inbox; staff see the take-up per policy; the computed
//! list of an automatic (免申即享) policy is confirmed (audited, versioned) and exported for the
//! finance bureau.
//!
//! Roles: drafts and simulations are the city's staff's (administrator and analyst); publishing
//! and confirming a list are the city administrator's (acts of authority, like publishing a
//! grade). District officers see the take-up and lists of their district. An enterprise sees its
//! own notices. Anything else is refused; a draft or list outside the viewer's reach answers 404.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use gusu_core::policy::simulate::{Budget, BudgetRule, simulate};
use gusu_core::policy::{
    Calculation, Coverage, EnterpriseFacts, Policy, PolicyLibrary, ProjectFacts, run_cases,
};
use gusu_core::{Role, Scope, Viewer};
use gusu_store::{NewNotice, Store};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::page_ctx::{PageCtx, PageQuery, back};
use crate::pages::Lang;
use crate::policy::default_date;
use crate::wire::{self, ErrorBody};
use crate::{ApiError, AppState, Authed};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies/drafts", get(drafts_page).post(draft_create))
        .route("/policies/drafts/{id}", get(draft_page))
        .route("/policies/drafts/{id}/publish", post(draft_publish))
        .route("/policies/notices", get(notices_page))
        .route("/policies/notices/{id}/read", post(notice_read))
        .route("/policies/take-up", get(take_up_page))
        .route("/policies/{id}/list", get(list_page).post(list_confirm))
        .route("/policies/{id}/list.xlsx", get(list_export))
        .route("/api/v1/policy-notices", get(api_notices))
        .route("/api/v1/policy-notices/{id}/read", post(api_notice_read))
        .route("/api/v1/policy-take-up", get(api_take_up))
        .route(
            "/api/v1/policy-drafts",
            get(api_drafts).post(api_draft_create),
        )
        .route("/api/v1/policy-drafts/{id}", get(api_draft))
        .route("/api/v1/policy-drafts/{id}/simulation", post(api_simulate))
        .route("/api/v1/policy-drafts/{id}/publication", post(api_publish))
        .route("/api/v1/policies/{id}/list", get(api_list))
        .route(
            "/api/v1/policies/{id}/list/confirmations",
            post(api_confirm),
        )
}

/// The configured library with every published draft over it, oldest publication first.
pub fn library_in_force(base: &PolicyLibrary, store: &Store) -> Result<PolicyLibrary, ApiError> {
    let published: Vec<(String, String)> = store
        .published_policies()?
        .into_iter()
        .map(|d| (format!("policy draft {}", d.id), d.text))
        .collect();
    base.overlay(&published)
        .map_err(|e| ApiError::internal(format!("a published policy no longer loads: {e}")))
}

fn city_staff(viewer: &Viewer) -> bool {
    viewer.is_staff() && viewer.scope == Scope::City
}

fn city_admin(viewer: &Viewer) -> bool {
    viewer.role == Role::CityAdmin && viewer.scope == Scope::City
}

fn require(ok: bool) -> Result<(), ApiError> {
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The city's facts on a date (every enterprise, its figures, classes, designations, projects).
fn city(
    state: &AppState,
    date: NaiveDate,
) -> Result<(Vec<EnterpriseFacts>, Vec<ProjectFacts>), ApiError> {
    Ok(state.reader().policy_city(date)?)
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The notices a library's eligible decisions make on a date, for the enterprises in `only` (all
/// if `None`). Shared with the command line's imports.
pub fn notices_for(
    library: &PolicyLibrary,
    enterprises: &[EnterpriseFacts],
    projects: &[ProjectFacts],
    date: NaiveDate,
    only: Option<&std::collections::HashSet<String>>,
) -> Vec<NewNotice> {
    let calc = Calculation::run(
        library,
        enterprises,
        projects,
        date,
        Coverage::Skip,
        threads(),
    );
    calc.eligible()
        .filter(|e| only.is_none_or(|set| set.contains(e.uscc)))
        .map(|e| NewNotice {
            uscc: e.uscc.to_string(),
            policy_id: e.policy.to_string(),
            project_id: e.project_id.unwrap_or_default().to_string(),
            version: e.version.to_string(),
            amount_10k_yuan: e.amount_10k_yuan,
        })
        .collect()
}

fn notices_of(
    policy: &Policy,
    enterprises: &[EnterpriseFacts],
    projects: &[ProjectFacts],
    date: NaiveDate,
    only: Option<&std::collections::HashSet<String>>,
) -> Vec<NewNotice> {
    let library = PolicyLibrary {
        policies: vec![policy.clone()],
    };
    notices_for(&library, enterprises, projects, date, only)
}

// ---------------------------------------------------------------------------------------------
// Texts and rendering

#[derive(Serialize)]
struct Texts {
    title: &'static str,
    drafts: &'static str,
    new_draft: &'static str,
    from_policy: &'static str,
    text: &'static str,
    save: &'static str,
    none: &'static str,
    author: &'static str,
    created: &'static str,
    published: &'static str,
    unpublished: &'static str,
    check: &'static str,
    valid: &'static str,
    cases: &'static str,
    cases_pass: &'static str,
    simulate: &'static str,
    date: &'static str,
    ceiling: &'static str,
    rule: &'static str,
    pro_rata: &'static str,
    ranking: &'static str,
    run: &'static str,
    qualifying: &'static str,
    total: &'static str,
    paid: &'static str,
    funded: &'static str,
    by_district: &'static str,
    by_section: &'static str,
    by_size: &'static str,
    gainers: &'static str,
    losers: &'static str,
    newly: &'static str,
    in_force: &'static str,
    publish: &'static str,
    notices_sent: &'static str,
    inbox: &'static str,
    policy: &'static str,
    project: &'static str,
    amount: &'static str,
    cause: &'static str,
    cause_published: &'static str,
    cause_facts: &'static str,
    read: &'static str,
    mark_read: &'static str,
    take_up: &'static str,
    notified: &'static str,
    applied: &'static str,
    granted: &'static str,
    list: &'static str,
    confirm: &'static str,
    confirmed: &'static str,
    export: &'static str,
    version: &'static str,
    enterprise: &'static str,
    district: &'static str,
    rows: &'static str,
    error: &'static str,
    my_policies: &'static str,
    automatic_only: &'static str,
}

fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            title: "政策计算器",
            drafts: "政策草案",
            new_draft: "新建草案",
            from_policy: "以现行政策为底稿",
            text: "政策文件（TOML）",
            save: "保存草案",
            none: "暂无",
            author: "起草人",
            created: "创建时间",
            published: "已发布",
            unpublished: "未发布",
            check: "文件检查",
            valid: "文件有效",
            cases: "自带用例",
            cases_pass: "全部通过",
            simulate: "全市模拟测算",
            date: "测算日期",
            ceiling: "预算上限（万元）",
            rule: "超出预算时",
            pro_rata: "按比例分配",
            ranking: "按草案规定的排序",
            run: "测算",
            qualifying: "符合条件的企业",
            total: "所需资金（万元）",
            paid: "预算内拨付（万元）",
            funded: "全额支持的企业",
            by_district: "按区县",
            by_section: "按行业门类",
            by_size: "按规模",
            gainers: "较现行版本增加",
            losers: "较现行版本减少",
            newly: "新增符合条件（发布后将收到通知）",
            in_force: "现行版本",
            publish: "发布",
            notices_sent: "已发送通知",
            inbox: "政策通知",
            policy: "政策",
            project: "项目",
            amount: "金额（万元）",
            cause: "原因",
            cause_published: "新政策发布",
            cause_facts: "企业信息更新",
            read: "已读",
            mark_read: "标为已读",
            take_up: "政策触达与兑现",
            notified: "已通知",
            applied: "已申请",
            granted: "已兑现",
            list: "免申即享名单",
            confirm: "确认名单",
            confirmed: "已确认的名单",
            export: "导出 XLSX",
            version: "版本",
            enterprise: "企业",
            district: "区县",
            rows: "条",
            error: "未能完成",
            my_policies: "查看适用政策",
            automatic_only: "只有免申即享政策有计算名单",
        },
        Lang::En => Texts {
            title: "Policy calculator",
            drafts: "Policy drafts",
            new_draft: "New draft",
            from_policy: "Start from a policy in force",
            text: "Policy document (TOML)",
            save: "Save the draft",
            none: "None",
            author: "Author",
            created: "Created",
            published: "published",
            unpublished: "not published",
            check: "Document check",
            valid: "the document is valid",
            cases: "Its cases",
            cases_pass: "all pass",
            simulate: "Simulate over the city",
            date: "Date",
            ceiling: "Budget ceiling (10k yuan)",
            rule: "Above the budget",
            pro_rata: "pro rata",
            ranking: "by the draft's ranking",
            run: "Simulate",
            qualifying: "Qualifying enterprises",
            total: "Needed (10k yuan)",
            paid: "Paid within the budget (10k yuan)",
            funded: "Funded in full",
            by_district: "By district",
            by_section: "By industry section",
            by_size: "By size",
            gainers: "Gain against the version in force",
            losers: "Lose against the version in force",
            newly: "Newly qualifying (notified on publication)",
            in_force: "In force",
            publish: "Publish",
            notices_sent: "Notices sent",
            inbox: "Policy notices",
            policy: "Policy",
            project: "Project",
            amount: "Amount (10k yuan)",
            cause: "Cause",
            cause_published: "a policy was published",
            cause_facts: "your facts changed",
            read: "read",
            mark_read: "Mark read",
            take_up: "Take-up",
            notified: "Notified",
            applied: "Applied",
            granted: "Granted",
            list: "Automatic payment list",
            confirm: "Confirm the list",
            confirmed: "Confirmed lists",
            export: "Export XLSX",
            version: "Version",
            enterprise: "Enterprise",
            district: "District",
            rows: "rows",
            error: "Not done",
            my_policies: "See your policies",
            automatic_only: "Only automatic policies have a computed list",
        },
    }
}

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = crate::pages::templates();
        for (name, source) in [
            (
                "policy_drafts.html",
                include_str!("../../../web/templates/policy_drafts.html"),
            ),
            (
                "policy_draft.html",
                include_str!("../../../web/templates/policy_draft.html"),
            ),
            (
                "policy_notices.html",
                include_str!("../../../web/templates/policy_notices.html"),
            ),
            (
                "policy_take_up.html",
                include_str!("../../../web/templates/policy_take_up.html"),
            ),
            (
                "policy_list.html",
                include_str!("../../../web/templates/policy_list.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("the shipped templates parse (tested)");
        }
        env
    })
}

fn page(ctx: PageCtx, name: &str, extra: Value) -> Result<Response, ApiError> {
    let w = Value::from(Serde(texts(ctx.lang)));
    ctx.respond(render, name, context! { w => w, ..extra })
}

fn title(p: &Policy, lang: Lang) -> String {
    if lang == Lang::Zh {
        p.title_zh.clone()
    } else {
        p.title_en.clone()
    }
}

fn error_text(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        "forbidden" => ("您的角色无权执行此操作", "Your role may not do this"),
        "invalid_policy" => ("政策文件有误", "The policy document is invalid"),
        "cases_fail" => (
            "草案自带用例未通过，不能发布",
            "The draft's cases fail; it cannot be published",
        ),
        "not_automatic" => (
            "该政策需申请，没有计算名单",
            "This policy is delivered on application",
        ),
        _ => ("未能完成", "Not done"),
    };
    if lang == Lang::Zh { zh } else { en }
}

// ---------------------------------------------------------------------------------------------
// Drafts

#[derive(Deserialize, Default)]
struct DraftsQuery {
    lang: Option<String>,
    from: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

async fn drafts_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DraftsQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    require(city_staff(&ctx.viewer))?;
    let drafts: Vec<serde_json::Value> = state
        .reader()
        .policy_drafts()?
        .into_iter()
        .map(|d| {
            json!({
                "id": d.id, "policy_id": d.policy_id, "author": d.author,
                "created_at": d.created_at, "published_at": d.published_at,
            })
        })
        .collect();
    let library = state.policies();
    let policies: Vec<serde_json::Value> = library
        .policies
        .iter()
        .map(|p| json!({ "id": p.id, "title": title(p, ctx.lang), "selected": q.from.as_deref() == Some(p.id.as_str()) }))
        .collect();
    // The starting text: a policy in force (shipped, or its published draft).
    let start = match q.from.as_deref() {
        Some(id) => source_text(&state, id)?,
        None => String::new(),
    };
    let banner = PageQuery {
        lang: None,
        error: q.error.clone(),
        message: q.message.clone(),
    }
    .banner(ctx.lang, error_text);
    let extra = context! {
        drafts => Value::from(Serde(drafts)),
        policies => Value::from(Serde(policies)),
        start => start,
        error => banner,
    };
    page(ctx, "policy_drafts.html", extra)
}

/// The text of a policy in force: its latest published draft, else the shipped document.
fn source_text(state: &AppState, id: &str) -> Result<String, ApiError> {
    let published = state
        .reader()
        .published_policies()?
        .into_iter()
        .rev()
        .find(|d| d.policy_id == id)
        .map(|d| d.text);
    published
        .or_else(|| PolicyLibrary::shipped_text(id).map(str::to_string))
        .ok_or_else(|| ApiError::not_found("policy"))
}

#[derive(Deserialize)]
struct DraftForm {
    csrf: String,
    text: String,
}

/// Saves a draft written by the city's staff; one that does not load is refused with its line,
/// and nothing is saved.
pub(crate) fn create_draft(state: &AppState, viewer: &Viewer, text: &str) -> Result<i64, ApiError> {
    require(city_staff(viewer))?;
    let policy = Policy::from_toml(text, "draft")
        .map_err(|e| ApiError::bad_request("invalid_policy", e.to_string()))?;
    Ok(state
        .store()
        .save_policy_draft(&policy.id, text, &viewer.user)?)
}

async fn draft_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<DraftForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("invalid_form", "the form is incomplete").into_response();
    };
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match create_draft(&state, &ctx.viewer, &form.text) {
        Ok(id) => Redirect::to(&format!("/policies/drafts/{id}")).into_response(),
        Err(e) if e.status == StatusCode::FORBIDDEN => e.into_response(),
        Err(e) => back("/policies/drafts", Err(e)),
    }
}

#[derive(Deserialize, Default)]
struct DraftQuery {
    lang: Option<String>,
    date: Option<String>,
    ceiling: Option<String>,
    rule: Option<String>,
    simulate: Option<String>,
    error: Option<String>,
    message: Option<String>,
    notices: Option<usize>,
}

async fn draft_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DraftQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    require(city_staff(&ctx.viewer))?;
    let draft = state
        .reader()
        .policy_draft(id)?
        .ok_or_else(|| ApiError::not_found("draft"))?;
    let library = state.policies();
    let loaded = Policy::from_toml(&draft.text, &format!("policy draft {id}"));
    let (check, failures) = match &loaded {
        Ok(p) => (None, run_cases(p, &library)),
        Err(e) => (Some(e.to_string()), Vec::new()),
    };
    let date_text = q
        .date
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| default_date(&state).format("%Y-%m-%d").to_string());
    let mut simulation = None;
    if let (Ok(p), Some(_)) = (&loaded, &q.simulate) {
        let date = crate::policy::date("date", &date_text)?;
        let budget = match q
            .ceiling
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            None => None,
            Some(c) => {
                let ceiling: f64 = c
                    .parse()
                    .ok()
                    .filter(|x: &f64| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        crate::policy::invalid("ceiling", format!("`{c}` is not an amount"))
                    })?;
                Some(Budget {
                    ceiling_10k_yuan: ceiling,
                    rule: if q.rule.as_deref() == Some("ranking") {
                        match p.budget_rule {
                            BudgetRule::Ranking(by) => BudgetRule::Ranking(by),
                            BudgetRule::ProRata => BudgetRule::Ranking(None),
                        }
                    } else {
                        BudgetRule::ProRata
                    },
                })
            }
        };
        let (enterprises, projects) = city(&state, date)?;
        let in_force = library.get(&p.id);
        simulation = Some(simulate(
            p,
            in_force,
            &enterprises,
            &projects,
            date,
            budget,
            threads(),
        ));
    }
    let banner = PageQuery {
        lang: None,
        error: q.error.clone(),
        message: q.message.clone(),
    }
    .banner(ctx.lang, error_text);
    let in_force = loaded
        .as_ref()
        .ok()
        .and_then(|p| library.get(&p.id))
        .map(|p| {
            p.versions
                .iter()
                .map(|v| {
                    format!(
                        "{} ({} – {})",
                        v.id,
                        v.valid_from,
                        v.valid_to.map_or("…".into(), |d| d.to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
    let may_publish = city_admin(&ctx.viewer)
        && draft.published_at.is_none()
        && loaded.is_ok()
        && failures.is_empty();
    let extra = context! {
        draft => Value::from(Serde(&draft)),
        title => loaded.as_ref().ok().map(|p| title(p, ctx.lang)),
        check => check,
        failures => failures,
        date => date_text,
        ceiling => q.ceiling.clone().unwrap_or_default(),
        rule => q.rule.clone().unwrap_or_else(|| "pro_rata".into()),
        simulation => simulation.map(|s| Value::from(Serde(s))),
        in_force => in_force,
        may_publish => may_publish,
        notices => q.notices,
        error => banner,
    };
    page(ctx, "policy_draft.html", extra)
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: String,
    date: Option<String>,
}

/// Publishes a draft: the enterprises it newly qualifies (against the version in force, on the
/// date) get a notice for each eligible decision; the library in force is replaced. Returns the
/// notices sent.
pub(crate) fn publish(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    date: Option<&str>,
) -> Result<usize, ApiError> {
    require(city_admin(viewer))?;
    let draft = state
        .reader()
        .policy_draft(id)?
        .ok_or_else(|| ApiError::not_found("draft"))?;
    let policy = Policy::from_toml(&draft.text, &format!("policy draft {id}"))
        .map_err(|e| ApiError::bad_request("invalid_policy", e.to_string()))?;
    let library = state.policies();
    let failures = run_cases(&policy, &library);
    if !failures.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cases_fail",
            failures.join("; "),
        ));
    }
    let date = list_date(state, date)?;
    let (enterprises, projects) = city(state, date)?;
    let sim = simulate(
        &policy,
        library.get(&policy.id),
        &enterprises,
        &projects,
        date,
        None,
        threads(),
    );
    let newly: std::collections::HashSet<String> = sim.newly_eligible.into_iter().collect();
    let notices = notices_of(&policy, &enterprises, &projects, date, Some(&newly));
    let next = library
        .overlay(&[(format!("policy draft {id}"), draft.text.clone())])
        .map_err(|e| ApiError::bad_request("invalid_policy", e.to_string()))?;
    let sent = state
        .store()
        .publish_policy_draft(id, &viewer.user, &notices)?;
    state.set_policies(next);
    Ok(sent)
}

async fn draft_publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<PublishForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("invalid_form", "the form is incomplete").into_response();
    };
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let to = format!("/policies/drafts/{id}");
    let result = publish(&state, &ctx.viewer, id, form.date.as_deref());
    match result {
        Ok(sent) => Redirect::to(&format!("{to}?notices={sent}")).into_response(),
        Err(e) => back(&to, Err(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Notices and take-up

async fn notices_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DraftsQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let Scope::Enterprise(uscc) = &ctx.viewer.scope else {
        // Staff read the take-up instead; the administrators have no inbox.
        require(ctx.viewer.is_staff())?;
        return Ok(Redirect::to("/policies/take-up").into_response());
    };
    let library = state.policies();
    let notices: Vec<serde_json::Value> = state
        .reader()
        .policy_notices_of(uscc)?
        .into_iter()
        .map(|n| {
            json!({
                "id": n.id,
                "policy": n.policy_id,
                "title": library.get(&n.policy_id).map_or_else(|| n.policy_id.clone(), |p| title(p, ctx.lang)),
                "project_id": n.project_id,
                "version": n.version,
                "amount": n.amount_10k_yuan,
                "cause": n.cause,
                "created_at": n.created_at,
                "read": n.read_at.is_some(),
            })
        })
        .collect();
    let extra = context! {
        notices => Value::from(Serde(notices)),
        uscc => uscc.as_str(),
    };
    page(ctx, "policy_notices.html", extra)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn notice_read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("invalid_form", "the form is incomplete").into_response();
    };
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Scope::Enterprise(uscc) = &ctx.viewer.scope else {
        return ApiError::forbidden().into_response();
    };
    match state.store().read_policy_notice(id, uscc) {
        Ok(true) => Redirect::to("/policies/notices").into_response(),
        Ok(false) => ApiError::not_found("notice").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Take-up per policy in the viewer's scope (staff).
pub(crate) fn take_up(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<wire::policy::TakeUp>, ApiError> {
    require(viewer.is_staff())?;
    let store = state.reader();
    let counts = store.policy_notice_counts()?;
    // Applications past the draft, and those granted, per policy (in the viewer's scope).
    let mut applied: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for a in store.policy_applications()? {
        if a.status == gusu_core::route::ApplicationStatus::Draft
            || !viewer.may_see_district(&a.district)
        {
            continue;
        }
        let e = applied.entry(a.policy_id.clone()).or_default();
        e.0 += 1;
        if a.status == gusu_core::route::ApplicationStatus::Approved {
            e.1 += 1;
        }
    }
    let library = state.policies();
    let mut rows = Vec::new();
    for p in &library.policies {
        let (mut notified, mut read) = (0, 0);
        for ((policy, district), c) in counts.range((p.id.clone(), String::new())..) {
            if *policy != p.id {
                break;
            }
            if viewer.may_see_district(district) {
                notified += c.notified;
                read += c.read;
            }
        }
        // Granted: rows of the latest confirmed list of each date (automatic policies).
        let mut latest: BTreeMap<String, usize> = BTreeMap::new();
        for l in store.policy_lists(&p.id)? {
            let rows: Vec<ListRow> = serde_json::from_str(&l.rows_json).unwrap_or_default();
            let mine = rows
                .iter()
                .filter(|r| viewer.may_see_district(&r.district))
                .count();
            latest.entry(l.date).or_insert(mine);
        }
        rows.push(wire::policy::TakeUp {
            policy: p.id.clone(),
            title_zh: p.title_zh.clone(),
            title_en: p.title_en.clone(),
            delivery: p.delivery.clone(),
            notified,
            read,
            applied: applied.get(&p.id).map_or(0, |a| a.0),
            granted: latest.values().sum::<usize>() + applied.get(&p.id).map_or(0, |a| a.1),
        });
    }
    Ok(rows)
}

async fn take_up_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DraftsQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let rows: Vec<serde_json::Value> = take_up(&state, &ctx.viewer)?
        .into_iter()
        .map(|r| {
            json!({
                "id": r.policy,
                "title": if ctx.lang == Lang::Zh { &r.title_zh } else { &r.title_en },
                "delivery": r.delivery,
                "notified": r.notified,
                "read": r.read,
                "applied": r.applied,
                "granted": r.granted,
            })
        })
        .collect();
    let extra = context! { rows => Value::from(Serde(rows)) };
    page(ctx, "policy_take_up.html", extra)
}

// ---------------------------------------------------------------------------------------------
// Automatic lists

use crate::wire::policy::ListRow;

fn automatic<'a>(library: &'a PolicyLibrary, id: &str) -> Result<&'a Policy, ApiError> {
    let policy = library
        .get(id)
        .ok_or_else(|| ApiError::not_found("policy"))?;
    if policy.delivery != "automatic" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_automatic",
            format!("{id} is delivered on application, not automatically"),
        ));
    }
    Ok(policy)
}

/// The computed list: every eligible decision with a published amount, on the date.
fn computed_list(
    state: &AppState,
    policy: &Policy,
    date: NaiveDate,
) -> Result<Vec<ListRow>, ApiError> {
    let (enterprises, projects) = city(state, date)?;
    let names: BTreeMap<String, String> = state
        .reader()
        .enterprises()?
        .into_iter()
        .map(|e| (e.uscc.to_string(), e.name))
        .collect();
    let mut rows: Vec<ListRow> = notices_of(policy, &enterprises, &projects, date, None)
        .into_iter()
        .filter_map(|n| {
            let amount = n.amount_10k_yuan?;
            let district = enterprises
                .iter()
                .find(|e| e.uscc == n.uscc)
                .map(|e| e.district.clone())
                .unwrap_or_default();
            Some(ListRow {
                name: names.get(&n.uscc).cloned().unwrap_or_default(),
                uscc: n.uscc,
                district,
                project_id: n.project_id,
                version: n.version,
                amount_10k_yuan: amount,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.district, &a.uscc, &a.project_id).cmp(&(&b.district, &b.uscc, &b.project_id))
    });
    Ok(rows)
}

#[derive(Deserialize, Default)]
struct ListQuery {
    lang: Option<String>,
    date: Option<String>,
    seq: Option<i64>,
}

fn list_date(state: &AppState, text: Option<&str>) -> Result<NaiveDate, ApiError> {
    match text.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => crate::policy::date("date", d),
        None => Ok(default_date(state)),
    }
}

async fn list_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    require(ctx.viewer.is_staff())?;
    let library = state.policies();
    let policy = automatic(&library, &id)?;
    let date = list_date(&state, q.date.as_deref())?;
    let rows: Vec<ListRow> = computed_list(&state, policy, date)?
        .into_iter()
        .filter(|r| ctx.viewer.may_see_district(&r.district))
        .collect();
    let total: f64 = rows.iter().map(|r| r.amount_10k_yuan).sum();
    let confirmed: Vec<serde_json::Value> = state
        .reader()
        .policy_lists(&id)?
        .into_iter()
        .map(|l| json!({ "date": l.date, "seq": l.seq, "rows": l.rows, "total": l.total_10k_yuan, "by": l.confirmed_by, "at": l.confirmed_at }))
        .collect();
    let extra = context! {
        policy => id,
        title => title(policy, ctx.lang),
        date => date.format("%Y-%m-%d").to_string(),
        rows => Value::from(Serde(rows)),
        total => total,
        confirmed => Value::from(Serde(confirmed)),
        may_confirm => city_admin(&ctx.viewer),
        may_export => city_staff(&ctx.viewer),
    };
    page(ctx, "policy_list.html", extra)
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf: String,
    date: String,
}

/// Confirms an automatic policy's computed list on a date (the city administrator); returns
/// its version.
pub(crate) fn confirm(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    date: &str,
) -> Result<(i64, usize, f64), ApiError> {
    require(city_admin(viewer))?;
    let library = state.policies();
    let policy = automatic(&library, id)?;
    let date = list_date(state, Some(date))?;
    let rows = computed_list(state, policy, date)?;
    let total: f64 = rows.iter().map(|r| r.amount_10k_yuan).sum();
    let json = serde_json::to_string(&rows).map_err(|e| ApiError::internal(e.to_string()))?;
    let seq =
        state
            .store()
            .confirm_policy_list(id, date, &json, rows.len(), total, &viewer.user)?;
    Ok((seq, rows.len(), total))
}

async fn list_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("invalid_form", "the form is incomplete").into_response();
    };
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let to = format!("/policies/{id}/list?date={}", form.date.trim());
    let result = confirm(&state, &ctx.viewer, &id, &form.date).map(|_| ());
    back(&to, result)
}

/// A confirmed list as the finance bureau takes it (the latest version of the date, or `seq`).
async fn list_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, None) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    require(city_staff(&ctx.viewer))?;
    let date = list_date(&state, q.date.as_deref())?;
    let day = date.format("%Y-%m-%d").to_string();
    let list = state
        .reader()
        .policy_lists(&id)?
        .into_iter()
        .find(|l| l.date == day && q.seq.is_none_or(|s| s == l.seq))
        .ok_or_else(|| ApiError::not_found("confirmed list"))?;
    let rows: Vec<ListRow> =
        serde_json::from_str(&list.rows_json).map_err(|e| ApiError::internal(e.to_string()))?;
    let xlsx = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let zh = ctx.lang == Lang::Zh;
    let headers_row: [&str; 6] = if zh {
        [
            "统一社会信用代码",
            "企业名称",
            "区县",
            "项目编号",
            "政策版本",
            "金额（万元）",
        ]
    } else {
        [
            "uscc",
            "name",
            "district",
            "project_id",
            "version",
            "amount_10k_yuan",
        ]
    };
    for (c, h) in headers_row.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(xlsx)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, text) in [&r.uscc, &r.name, &r.district, &r.project_id, &r.version]
            .iter()
            .enumerate()
        {
            sheet
                .write_string(row, c as u16, text.as_str())
                .map_err(xlsx)?;
        }
        sheet
            .write_number(row, 5, r.amount_10k_yuan)
            .map_err(xlsx)?;
    }
    let bytes = book.save_to_buffer().map_err(xlsx)?;
    state.store().audit(
        &ctx.viewer.user,
        "export",
        Some(&format!("policy list {id} {day} v{}", list.seq)),
        Some(&format!("{} rows", rows.len())),
    )?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{id}-{day}-v{}.xlsx\"",
        list.seq
    )) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok((out, bytes).into_response())
}

// ---------------------------------------------------------------------------------------------
// API

use crate::policy::json_body;

fn draft_wire(state: &AppState, d: gusu_store::PolicyDraft) -> wire::policy::Draft {
    let library = state.policies();
    let (error, failing_cases) = match Policy::from_toml(&d.text, &format!("policy draft {}", d.id))
    {
        Ok(p) => (None, run_cases(&p, &library)),
        Err(e) => (Some(e.to_string()), Vec::new()),
    };
    wire::policy::Draft {
        id: d.id,
        policy_id: d.policy_id,
        author: d.author,
        created_at: d.created_at,
        published_at: d.published_at,
        published_by: d.published_by,
        text: d.text,
        error,
        failing_cases,
    }
}

/// The operations of the policy workflow, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api_notices,
    api_notice_read,
    api_take_up,
    api_drafts,
    api_draft_create,
    api_draft,
    api_simulate,
    api_publish,
    api_list,
    api_confirm
))]
pub(crate) struct Api;

/// The signed-in enterprise's notices, newest first.
#[utoipa::path(get, path = "/api/v1/policy-notices", tag = "policies",
    responses((status = 200, description = "The notices", body = wire::policy::PolicyNoticeList)))]
async fn api_notices(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<axum::Json<wire::policy::PolicyNoticeList>, ApiError> {
    let Scope::Enterprise(uscc) = &authed.viewer.scope else {
        return Err(ApiError::forbidden());
    };
    let library = state.policies();
    let notices = state
        .reader()
        .policy_notices_of(uscc)?
        .into_iter()
        .map(|n| {
            let p = library.get(&n.policy_id);
            wire::policy::PolicyNotice {
                id: n.id,
                title_zh: p.map_or_else(|| n.policy_id.clone(), |p| p.title_zh.clone()),
                title_en: p.map_or_else(|| n.policy_id.clone(), |p| p.title_en.clone()),
                policy: n.policy_id,
                project_id: n.project_id,
                version: n.version,
                amount_10k_yuan: n.amount_10k_yuan,
                cause: n.cause,
                created_at: n.created_at,
                read_at: n.read_at,
            }
        })
        .collect();
    Ok(axum::Json(wire::policy::PolicyNoticeList { notices }))
}

/// Marks one of the signed-in enterprise's notices read.
#[utoipa::path(post, path = "/api/v1/policy-notices/{id}/read", tag = "policies",
    params(("id" = i64, Path, description = "PolicyNotice id")),
    responses(
        (status = 204, description = "Read"),
        (status = 404, description = "No such notice of this enterprise", body = ErrorBody),
    ))]
async fn api_notice_read(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let Scope::Enterprise(uscc) = &authed.viewer.scope else {
        return Err(ApiError::forbidden());
    };
    if state.store().read_policy_notice(id, uscc)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("notice"))
    }
}

/// Take-up per policy in the viewer's scope: notices sent and read, applications, grants.
#[utoipa::path(get, path = "/api/v1/policy-take-up", tag = "policies",
    responses((status = 200, description = "Per policy", body = wire::policy::TakeUpList)))]
async fn api_take_up(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<axum::Json<wire::policy::TakeUpList>, ApiError> {
    Ok(axum::Json(wire::policy::TakeUpList {
        policies: take_up(&state, &authed.viewer)?,
    }))
}

/// The drafts, newest first (the city's staff).
#[utoipa::path(get, path = "/api/v1/policy-drafts", tag = "policies",
    responses((status = 200, description = "The drafts", body = wire::policy::DraftList)))]
async fn api_drafts(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<axum::Json<wire::policy::DraftList>, ApiError> {
    require(city_staff(&authed.viewer))?;
    let drafts = state.reader().policy_drafts()?;
    Ok(axum::Json(wire::policy::DraftList {
        drafts: drafts.into_iter().map(|d| draft_wire(&state, d)).collect(),
    }))
}

/// Saves a draft (the city's staff); a document that does not load answers 400 with its line.
#[utoipa::path(post, path = "/api/v1/policy-drafts", tag = "policies",
    request_body = wire::policy::DraftBody,
    responses((status = 201, description = "Saved", body = wire::policy::Draft)))]
async fn api_draft_create(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<axum::Json<wire::policy::DraftBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let id = create_draft(&state, &authed.viewer, &body.text)?;
    let d = state
        .reader()
        .policy_draft(id)?
        .ok_or_else(|| ApiError::not_found("draft"))?;
    Ok((StatusCode::CREATED, axum::Json(draft_wire(&state, d))).into_response())
}

fn draft_of(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<gusu_store::PolicyDraft, ApiError> {
    require(city_staff(viewer))?;
    state
        .reader()
        .policy_draft(id)?
        .ok_or_else(|| ApiError::not_found("draft"))
}

/// A draft with its check and cases.
#[utoipa::path(get, path = "/api/v1/policy-drafts/{id}", tag = "policies",
    params(("id" = i64, Path, description = "Draft id")),
    responses((status = 200, description = "The draft", body = wire::policy::Draft)))]
async fn api_draft(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<axum::Json<wire::policy::Draft>, ApiError> {
    let d = draft_of(&state, &authed.viewer, id)?;
    Ok(axum::Json(draft_wire(&state, d)))
}

/// Simulates a draft over the city (nothing is stored).
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/simulation", tag = "policies",
    params(("id" = i64, Path, description = "Draft id")),
    request_body = wire::policy::SimulationBody,
    responses(
        (status = 200, description = "The simulation", body = wire::policy::Simulation),
        (status = 409, description = "The draft does not load", body = ErrorBody),
    ))]
async fn api_simulate(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<axum::Json<wire::policy::SimulationBody>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<wire::policy::Simulation>, ApiError> {
    let body = json_body(body)?;
    let d = draft_of(&state, &authed.viewer, id)?;
    let p = Policy::from_toml(&d.text, &format!("policy draft {id}"))
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "invalid_policy", e.to_string()))?;
    let date = list_date(&state, body.date.as_deref())?;
    let budget = match body.ceiling_10k_yuan {
        None => None,
        Some(c) if !c.is_finite() || c < 0.0 => {
            return Err(crate::policy::invalid(
                "ceiling_10k_yuan",
                format!("{c} is not an amount"),
            ));
        }
        Some(c) => Some(Budget {
            ceiling_10k_yuan: c,
            rule: match (body.rule, p.budget_rule) {
                (Some(wire::policy::BudgetRule::Ranking), BudgetRule::Ranking(by)) => {
                    BudgetRule::Ranking(by)
                }
                (Some(wire::policy::BudgetRule::Ranking), BudgetRule::ProRata) => {
                    BudgetRule::Ranking(None)
                }
                _ => BudgetRule::ProRata,
            },
        }),
    };
    let library = state.policies();
    let (enterprises, projects) = city(&state, date)?;
    let s = simulate(
        &p,
        library.get(&p.id),
        &enterprises,
        &projects,
        date,
        budget,
        threads(),
    );
    Ok(axum::Json(s.into()))
}

/// Publishes a draft (the city administrator): the newly qualifying enterprises are notified.
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/publication", tag = "policies",
    params(("id" = i64, Path, description = "Draft id")),
    request_body = wire::policy::PublishBody,
    responses(
        (status = 200, description = "Published", body = wire::policy::Published),
        (status = 409, description = "Its cases fail, or it is published already", body = ErrorBody),
    ))]
async fn api_publish(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<axum::Json<wire::policy::PublishBody>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<wire::policy::Published>, ApiError> {
    let body = json_body(body)?;
    let d = draft_of(&state, &authed.viewer, id)?;
    if d.published_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "published",
            format!("policy draft {id} is published already"),
        ));
    }
    let notices = publish(&state, &authed.viewer, id, body.date.as_deref())?;
    Ok(axum::Json(wire::policy::Published {
        draft: id,
        policy: d.policy_id,
        notices,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListDate {
    /// YYYY-MM-DD; default today.
    date: Option<String>,
}

/// An automatic policy's payment list on a date, as computed now, and the confirmed versions
/// (staff; a district's officer sees its district's rows).
#[utoipa::path(get, path = "/api/v1/policies/{id}/list", tag = "policies",
    params(("id" = String, Path, description = "Policy id"), ListDate),
    responses(
        (status = 200, description = "The list", body = wire::policy::PaymentList),
        (status = 409, description = "The policy is delivered on application", body = ErrorBody),
    ))]
async fn api_list(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(q): Query<ListDate>,
) -> Result<axum::Json<wire::policy::PaymentList>, ApiError> {
    let viewer = &authed.viewer;
    require(viewer.is_staff())?;
    let library = state.policies();
    let policy = automatic(&library, &id)?;
    let date = list_date(&state, q.date.as_deref())?;
    let rows: Vec<ListRow> = computed_list(&state, policy, date)?
        .into_iter()
        .filter(|r| viewer.may_see_district(&r.district))
        .collect();
    let confirmed = if city_staff(viewer) {
        state
            .reader()
            .policy_lists(&id)?
            .into_iter()
            .map(|l| wire::policy::ConfirmedList {
                date: l.date,
                seq: l.seq,
                rows: l.rows,
                total_10k_yuan: l.total_10k_yuan,
                confirmed_by: l.confirmed_by,
                confirmed_at: l.confirmed_at,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(axum::Json(wire::policy::PaymentList {
        policy: id,
        date: date.to_string(),
        total_10k_yuan: rows.iter().map(|r| r.amount_10k_yuan).sum(),
        rows,
        confirmed,
    }))
}

/// Confirms the list of a date as a new version (the city administrator; audited).
#[utoipa::path(post, path = "/api/v1/policies/{id}/list/confirmations", tag = "policies",
    params(("id" = String, Path, description = "Policy id")),
    request_body = wire::policy::ListConfirmBody,
    responses(
        (status = 201, description = "Confirmed", body = wire::policy::ListConfirmation),
        (status = 409, description = "The policy is delivered on application", body = ErrorBody),
    ))]
async fn api_confirm(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    body: Result<
        axum::Json<wire::policy::ListConfirmBody>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let (seq, rows, total) = confirm(&state, &authed.viewer, &id, &body.date)?;
    let date = list_date(&state, Some(&body.date))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(wire::policy::ListConfirmation {
            policy: id,
            date: date.to_string(),
            seq,
            rows,
            total_10k_yuan: total,
        }),
    )
        .into_response())
}
