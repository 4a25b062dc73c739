//! HTML pages, rendered on the server from templates inside the binary (`web/templates`), Chinese
//! by default with an English switch remembered in a cookie. Pages redirect to the sign-in page
//! where the API would answer 401; forms carry a CSRF token.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gusu_core::evaluate::EnterpriseResult;
use gusu_core::evaluate::explain::{Direction, explain};
use gusu_core::{EvaluationInput, Scope, Uscc, Viewer};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};

use crate::session::{Session, token_from_cookies};
use crate::{ApiError, AppState};

/// Who a page is for; the page sweep test holds every page to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, signed in or not (sign-in, password change, styles, scripts).
    Public,
    /// Everyone signed in, each seeing their own scope.
    SignedIn,
    /// Bureau and district staff.
    Staff,
    /// The separated administrators (accounts, audit log).
    Admin,
}

/// Every page route of the router (the JSON API's are in `openapi::ROUTES`): a test checks this
/// table against the router's source, and sweeps every entry with every role.
pub const PAGE_ROUTES: &[(&str, &str, Audience)] = &[
    ("get", "/", Audience::Public),
    ("get", "/login", Audience::Public),
    ("post", "/login", Audience::Public),
    ("get", "/login/password", Audience::Public),
    ("post", "/login/password", Audience::Public),
    ("post", "/logout", Audience::SignedIn),
    ("get", "/static/gusu.css", Audience::Public),
    ("get", "/static/cycle.js", Audience::Public),
    ("get", "/overview", Audience::Staff),
    ("get", "/districts/{code}", Audience::Staff),
    ("get", "/enterprises", Audience::Staff),
    ("get", "/enterprises.xlsx", Audience::Staff),
    ("get", "/enterprises/{uscc}", Audience::SignedIn),
    ("get", "/rules", Audience::SignedIn),
    ("get", "/imports", Audience::Staff),
    ("post", "/imports", Audience::Staff),
    ("get", "/imports/{id}", Audience::Staff),
    ("post", "/imports/{id}/commit", Audience::Staff),
    ("post", "/imports/{id}/cancel", Audience::Staff),
    ("get", "/cycles", Audience::SignedIn),
    ("get", "/cycles/new", Audience::Staff),
    ("post", "/cycles/new", Audience::Staff),
    ("get", "/cycles/{id}", Audience::SignedIn),
    ("post", "/cycles/{id}/advance", Audience::Staff),
    ("post", "/cycles/{id}/confirmations", Audience::SignedIn),
    ("post", "/cycles/{id}/objections", Audience::SignedIn),
    ("post", "/cycles/{id}/corrections", Audience::Staff),
    ("get", "/cycles/{id}/migration", Audience::Staff),
    ("get", "/cycles/{id}/versions/{version}", Audience::SignedIn),
    ("post", "/objections/{id}/decision", Audience::Staff),
    ("get", "/my/cycle", Audience::SignedIn),
    ("get", "/notices", Audience::SignedIn),
    ("post", "/notices/{id}/read", Audience::SignedIn),
    ("get", "/admin/accounts", Audience::Admin),
    ("post", "/admin/accounts", Audience::Admin),
    (
        "post",
        "/admin/accounts/{username}/disable",
        Audience::Admin,
    ),
    ("post", "/admin/accounts/{username}/enable", Audience::Admin),
    (
        "post",
        "/admin/accounts/{username}/password",
        Audience::Admin,
    ),
    ("get", "/audit", Audience::Admin),
    ("get", "/policies", Audience::SignedIn),
    ("get", "/enterprises/{uscc}/policies", Audience::SignedIn),
    ("get", "/policies/drafts", Audience::Staff),
    ("post", "/policies/drafts", Audience::Staff),
    ("get", "/policies/drafts/{id}", Audience::Staff),
    ("post", "/policies/drafts/{id}/publish", Audience::Staff),
    ("get", "/policies/notices", Audience::SignedIn),
    ("post", "/policies/notices/{id}/read", Audience::SignedIn),
    ("get", "/policies/take-up", Audience::Staff),
    ("get", "/policies/applications", Audience::SignedIn),
    ("post", "/policies/applications", Audience::SignedIn),
    ("get", "/policies/applications/{id}", Audience::SignedIn),
    (
        "post",
        "/policies/applications/{id}/evidence",
        Audience::SignedIn,
    ),
    (
        "post",
        "/policies/applications/{id}/actions",
        Audience::SignedIn,
    ),
    ("get", "/policies/{id}/list", Audience::Staff),
    ("post", "/policies/{id}/list", Audience::Staff),
    ("get", "/policies/{id}/list.xlsx", Audience::Staff),
    ("get", "/nzc", Audience::SignedIn),
    ("post", "/nzc", Audience::SignedIn),
    ("get", "/nzc/{id}", Audience::SignedIn),
    ("post", "/nzc/{id}/evidence", Audience::SignedIn),
    ("post", "/nzc/{id}/actions", Audience::SignedIn),
    ("get", "/energy", Audience::Staff),
    ("get", "/my/energy", Audience::SignedIn),
    ("get", "/enterprises/{uscc}/energy", Audience::SignedIn),
];

const LANG_COOKIE: &str = "gusu_lang";
const LOGIN_COOKIE: &str = "gusu_login";

pub const STYLESHEET: &str = include_str!("../../../web/static/gusu.css");

pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_function("nav_links", crate::admin::nav_links);
    // `{{ v | figure }}`: a number as people read it (crate::format).
    env.add_filter("figure", |v: f64| crate::format::figure(v));
    for (name, source) in [
        (
            "base.html",
            include_str!("../../../web/templates/base.html"),
        ),
        (
            "login.html",
            include_str!("../../../web/templates/login.html"),
        ),
        (
            "overview_body.html",
            include_str!("../../../web/templates/overview_body.html"),
        ),
        (
            "password.html",
            include_str!("../../../web/templates/password.html"),
        ),
        (
            "fragment.html",
            include_str!("../../../web/templates/fragment.html"),
        ),
        (
            "enterprise.html",
            include_str!("../../../web/templates/enterprise.html"),
        ),
        (
            "enterprises.html",
            include_str!("../../../web/templates/enterprises.html"),
        ),
        (
            "rules.html",
            include_str!("../../../web/templates/rules.html"),
        ),
        (
            "energy.html",
            include_str!("../../../web/templates/energy.html"),
        ),
        (
            "enterprise_energy.html",
            include_str!("../../../web/templates/enterprise_energy.html"),
        ),
    ] {
        // The templates are part of the binary and tested; a broken one fails every test.
        env.add_template(name, source)
            .expect("shipped template parses");
    }
    env
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Zh,
    En,
}

/// The labels a page shows, in one language.
#[derive(Serialize)]
pub(crate) struct Texts {
    lang: &'static str,
    other_lang: &'static str,
    other_lang_name: &'static str,
    overview: &'static str,
    sign_in: &'static str,
    sign_out: &'static str,
    username: &'static str,
    password: &'static str,
    bad_credentials: &'static str,
    locked_out: &'static str,
    otp: &'static str,
    second_factor_wrong: &'static str,
    second_factor_not_enrolled: &'static str,
    no_run: &'static str,
    scheme: &'static str,
    run: &'static str,
    published: &'static str,
    group: &'static str,
    graded: &'static str,
    district: &'static str,
    enterprises: &'static str,
    above: &'static str,
    below: &'static str,
    division: &'static str,
    status: &'static str,
    indicator: &'static str,
    value: &'static str,
    benchmark: &'static str,
    weight: &'static str,
    score: &'static str,
    measures: &'static str,
    lift_title: &'static str,
    lift_link: &'static str,
    imputed: &'static str,
    not_reachable: &'static str,
    list: &'static str,
    search: &'static str,
    all_classes: &'static str,
    all_groups: &'static str,
    filter: &'static str,
    page: &'static str,
    name: &'static str,
    class: &'static str,
    rank: &'static str,
    previous: &'static str,
    next: &'static str,
    rules: &'static str,
    valid: &'static str,
    confidence: &'static str,
    classes: &'static str,
    parameters: &'static str,
    sources: &'static str,
    city: &'static str,
    figures: &'static str,
    this_year: &'static str,
    last_year: &'static str,
    change: &'static str,
    tax: &'static str,
    revenue: &'static str,
    value_added: &'static str,
    land: &'static str,
    energy: &'static str,
    tax_per_mu: &'static str,
    revenue_per_mu: &'static str,
    value_added_per_mu: &'static str,
    value_added_per_tce: &'static str,
    all_enterprises: &'static str,
    by_district: &'static str,
    by_division: &'static str,
    lowest_list: &'static str,
    shown_first: &'static str,
    measure_totals: &'static str,
    measure: &'static str,
    applies_in: &'static str,
    amount: &'static str,
    without_amount: &'static str,
    all_statuses: &'static str,
    all_districts: &'static str,
    all_divisions: &'static str,
    sort: &'static str,
    sort_rank: &'static str,
    sort_score_desc: &'static str,
    sort_score_asc: &'static str,
    sort_name: &'static str,
    export: &'static str,
    change_password: &'static str,
    current_password: &'static str,
    new_password: &'static str,
    repeat_password: &'static str,
    password_expired: &'static str,
    password_set_by_admin: &'static str,
    password_changed: &'static str,
    passwords_differ: &'static str,
    profile: &'static str,
    records: &'static str,
    source: &'static str,
    file: &'static str,
    row: &'static str,
    history: &'static str,
    established: &'static str,
    not_used: &'static str,
    year: &'static str,
    notices: &'static str,
    notice_of: &'static str,
    unread: &'static str,
    version: &'static str,
}

pub(crate) fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            lang: "zh",
            other_lang: "en",
            other_lang_name: "English",
            overview: "全市概览",
            sign_in: "登录",
            sign_out: "退出",
            username: "用户名",
            password: "密码",
            bad_credentials: "用户名或密码错误",
            locked_out: "登录失败次数过多，请稍后再试",
            otp: "动态验证码（管理员账号）",
            second_factor_wrong: "管理员账号须同时输入身份验证器上的 6 位动态验证码；验证码缺失、错误或已使用",
            second_factor_not_enrolled: "管理员账号须使用动态验证码登录，该账号尚未绑定；请运维人员执行 gusu user totp 用户名",
            no_run: "本年度尚无评价结果",
            scheme: "方案",
            run: "评价批次",
            published: "已发布",
            group: "组别",
            graded: "已评价",
            district: "区县",
            enterprises: "企业数",
            above: "规上企业",
            below: "规下企业",
            division: "行业大类",
            status: "状态",
            indicator: "指标",
            value: "值",
            benchmark: "基准",
            weight: "权重",
            score: "得分",
            measures: "适用措施",
            lift_title: "升至更高一类的最小单项改变：",
            lift_link: "计算升档所需的最小改变",
            imputed: "无法计算，取组内均分",
            not_reachable: "单项无法达到",
            list: "企业列表",
            search: "名称或统一社会信用代码",
            all_classes: "全部类别",
            all_groups: "全部组别",
            filter: "筛选",
            page: "第",
            name: "企业名称",
            class: "类别",
            rank: "组内排名",
            previous: "上一页",
            next: "下一页",
            rules: "评价方案",
            valid: "适用年度",
            confidence: "可信度",
            classes: "分类规则",
            parameters: "未见公开来源、作为参数的取值",
            sources: "来源",
            city: "全市",
            figures: "主要指标（同口径）",
            this_year: "本年",
            last_year: "上年",
            change: "增减",
            tax: "税收(万元)",
            revenue: "营业收入(万元)",
            value_added: "工业增加值(万元)",
            land: "用地(亩)",
            energy: "综合能耗(吨标煤)",
            tax_per_mu: "亩均税收(万元/亩)",
            revenue_per_mu: "亩均营业收入(万元/亩)",
            value_added_per_mu: "亩均增加值(万元/亩)",
            value_added_per_tce: "单位能耗增加值(万元/吨标煤)",
            all_enterprises: "全部企业",
            by_district: "分区县分布",
            by_division: "分行业分布",
            lowest_list: "类企业名单",
            shown_first: "按得分由低到高，显示前",
            measure_totals: "措施合计",
            measure: "措施",
            applies_in: "执行年度",
            amount: "金额(元)",
            without_amount: "缺少计算依据",
            all_statuses: "全部状态",
            all_districts: "全部区县",
            all_divisions: "全部行业",
            sort: "排序",
            sort_rank: "按排名",
            sort_score_desc: "得分由高到低",
            sort_score_asc: "得分由低到高",
            sort_name: "按名称",
            export: "导出 XLSX",
            change_password: "修改密码",
            current_password: "当前密码",
            new_password: "新密码",
            repeat_password: "再次输入新密码",
            password_expired: "密码已过期，请先修改密码",
            password_set_by_admin: "此密码由管理员设置，请先修改为您自己的密码",
            password_changed: "密码已修改，请用新密码登录",
            passwords_differ: "两次输入的新密码不一致",
            profile: "企业档案",
            records: "年度数据及来源",
            source: "来源部门",
            file: "文件",
            row: "行",
            history: "历年评价",
            established: "成立日期",
            not_used: "未采用（优先级较低或已更正）",
            year: "年度",
            notices: "结果通知",
            notice_of: "评价结果通知",
            unread: "未读",
            version: "版本",
        },
        Lang::En => Texts {
            lang: "en",
            other_lang: "zh",
            other_lang_name: "中文",
            overview: "City overview",
            sign_in: "Sign in",
            sign_out: "Sign out",
            username: "User name",
            password: "Password",
            bad_credentials: "Wrong user name or password",
            locked_out: "Too many failed sign-ins; try again later",
            otp: "One-time code (administrator accounts)",
            second_factor_wrong: "Administrator accounts also enter the 6-digit code of their authenticator; it is missing, wrong or used already",
            second_factor_not_enrolled: "Administrator accounts sign in with a one-time code and this one has none enrolled; an operator runs gusu user totp NAME",
            no_run: "No evaluation for this year yet",
            scheme: "Scheme",
            run: "Run",
            published: "published",
            group: "Group",
            graded: "Graded",
            district: "District",
            enterprises: "Enterprises",
            above: "Above designated size",
            below: "Below designated size",
            division: "division",
            status: "Status",
            indicator: "Indicator",
            value: "Value",
            benchmark: "Benchmark",
            weight: "Weight",
            score: "Score",
            measures: "Measures",
            lift_title: "Smallest single change to reach class",
            lift_link: "Work out the smallest change to the next class",
            imputed: "not computable: group mean",
            not_reachable: "not reachable by one figure",
            list: "Enterprises",
            search: "name or USCC",
            all_classes: "all classes",
            all_groups: "all groups",
            filter: "Filter",
            page: "page",
            name: "Name",
            class: "Class",
            rank: "Rank",
            previous: "previous",
            next: "next",
            rules: "Evaluation schemes",
            valid: "evaluation years",
            confidence: "confidence",
            classes: "Classes",
            parameters: "Values no source gives, kept as parameters",
            sources: "Sources",
            city: "whole city",
            figures: "Key figures (same enterprises both years)",
            this_year: "this year",
            last_year: "last year",
            change: "change",
            tax: "Tax (10k yuan)",
            revenue: "Revenue (10k yuan)",
            value_added: "Value added (10k yuan)",
            land: "Land (mu)",
            energy: "Energy (tce)",
            tax_per_mu: "Tax per mu (10k yuan)",
            revenue_per_mu: "Revenue per mu (10k yuan)",
            value_added_per_mu: "Value added per mu (10k yuan)",
            value_added_per_tce: "Value added per tce (10k yuan)",
            all_enterprises: "All enterprises",
            by_district: "By district",
            by_division: "By industry division",
            lowest_list: "-class enterprises",
            shown_first: "lowest score first; showing the first",
            measure_totals: "Measures in total",
            measure: "Measure",
            applies_in: "applies in",
            amount: "amount (yuan)",
            without_amount: "without a basis figure",
            all_statuses: "all statuses",
            all_districts: "all districts",
            all_divisions: "all divisions",
            sort: "Sort",
            sort_rank: "by rank",
            sort_score_desc: "score, high to low",
            sort_score_asc: "score, low to high",
            sort_name: "by name",
            export: "Export XLSX",
            change_password: "Change password",
            current_password: "Current password",
            new_password: "New password",
            repeat_password: "New password again",
            password_expired: "Your password has expired; please set a new one",
            password_set_by_admin: "An administrator set this password; please set your own first",
            password_changed: "Password changed; sign in with the new one",
            passwords_differ: "The two new passwords differ",
            profile: "Profile",
            records: "Yearly figures and their sources",
            source: "source",
            file: "file",
            row: "row",
            history: "Class by year",
            established: "established",
            not_used: "not used (lower priority or corrected)",
            year: "year",
            notices: "Result notices",
            notice_of: "result notice",
            unread: "unread",
            version: "version",
        },
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    crate::session::cookie_in(headers.get(header::COOKIE)?.to_str().ok()?, name)
}

/// The year asked for, else the latest year with a city-wide run.
fn year_or_latest(store: &gusu_store::Store, asked: Option<i32>) -> Result<i32, ApiError> {
    if let Some(y) = asked {
        return Ok(y);
    }
    Ok(store
        .runs(None)?
        .iter()
        .filter(|r| r.region.is_none())
        .map(|r| r.year)
        .max()
        .unwrap_or(0))
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub(crate) lang: Option<String>,
    pub(crate) year: Option<i32>,
}

/// The page language: `?lang=` (remembered in a cookie), else the cookie, else Chinese.
pub(crate) fn language(headers: &HeaderMap, query: &LangQuery, out: &mut HeaderMap) -> Lang {
    let chosen = query
        .lang
        .as_deref()
        .or_else(|| cookie_value(headers, LANG_COOKIE));
    let lang = if chosen.is_some_and(|l| l.starts_with("en")) {
        Lang::En
    } else {
        Lang::Zh
    };
    if let Some(l) = &query.lang {
        language_cookie(if l.starts_with("en") { "en" } else { "zh" }, out);
    }
    lang
}

/// The cookie that keeps the page language in this browser ("zh" or "en").
fn language_cookie(language: &str, out: &mut HeaderMap) {
    let value = format!("{LANG_COOKIE}={language}; SameSite=Strict; Path=/; Max-Age=31536000");
    if let Ok(v) = HeaderValue::from_str(&value) {
        out.append(header::SET_COOKIE, v);
    }
}

pub(crate) fn page_session(state: &AppState, headers: &HeaderMap) -> Option<(Session, String)> {
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)?;
    state.live_session(token).map(|s| (s, token.to_string()))
}

pub(crate) fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    // Parsed once: parsing every template on every request would cost more than the page.
    static TEMPLATES: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    TEMPLATES
        .get_or_init(templates)
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
}

/// Where a viewer starts: an enterprise user on its own page, staff on the overview, each
/// administrator on the one page of their role.
fn home_of(viewer: &Viewer) -> String {
    match (&viewer.scope, viewer.role) {
        (Scope::Enterprise(u), _) => format!("/enterprises/{u}"),
        (_, gusu_core::Role::AuditAdmin) => "/audit".into(),
        (_, gusu_core::Role::SystemAdmin | gusu_core::Role::SecurityAdmin) => {
            "/admin/accounts".into()
        }
        _ => "/overview".into(),
    }
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Redirect {
    match page_session(&state, &headers) {
        Some((s, _)) => Redirect::to(&home_of(&s.viewer)),
        None => Redirect::to("/login"),
    }
}

/// Double-submit token for the forms of the signed-out pages (sign-in, password change): a
/// cookie only this site can set, echoed in the form.
fn login_csrf(out: &mut HeaderMap) -> String {
    let token = crate::session::random_token();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login"
    )) {
        out.append(header::SET_COOKIE, v);
    }
    token
}

/// The checks of a signed-out form (sign-in, password change): its double-submit token against
/// the cookie; returns the page language.
fn signed_out_form(headers: &HeaderMap, csrf: &str) -> Result<Lang, ApiError> {
    if !crate::session::csrf_matches(csrf, cookie_value(headers, LOGIN_COOKIE)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form expired; reload the page",
        ));
    }
    Ok(language(
        headers,
        &LangQuery::default(),
        &mut HeaderMap::new(),
    ))
}

fn login_page(
    lang: Lang,
    error: Option<&str>,
    status: StatusCode,
    mut out: HeaderMap,
) -> Result<Response, ApiError> {
    let login_csrf = login_csrf(&mut out);
    let html = render(
        "login.html",
        context! { t => Value::from(Serde(texts(lang))), error => error, login_csrf => login_csrf },
    )?;
    Ok((status, out, Html(html)).into_response())
}

fn password_page(
    lang: Lang,
    username: &str,
    message: Option<&str>,
    status: StatusCode,
    mut out: HeaderMap,
) -> Result<Response, ApiError> {
    let login_csrf = login_csrf(&mut out);
    let html = render(
        "password.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            message => message,
            username => username,
            login_csrf => login_csrf,
        },
    )?;
    Ok((status, out, Html(html)).into_response())
}

#[derive(Deserialize, Default)]
pub struct PasswordQuery {
    lang: Option<String>,
    username: Option<String>,
}

pub async fn password_form(
    headers: HeaderMap,
    Query(query): Query<PasswordQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(
        &headers,
        &LangQuery {
            lang: query.lang,
            year: None,
        },
        &mut out,
    );
    let username = query.username.unwrap_or_default();
    password_page(lang, &username, None, StatusCode::OK, out)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    username: String,
    password: String,
    new_password: String,
    repeat_password: String,
    csrf: String,
}

pub async fn password_change(
    State(state): State<AppState>,
    crate::ClientAddress(address): crate::ClientAddress,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let lang = signed_out_form(&headers, &form.csrf)?;
    let t = texts(lang);
    let refuse = |message: &str, status| {
        password_page(
            lang,
            &form.username,
            Some(message),
            status,
            HeaderMap::new(),
        )
    };
    if form.new_password != form.repeat_password {
        return refuse(t.passwords_differ, StatusCode::BAD_REQUEST);
    }
    let change = crate::change_password(
        &state,
        address,
        &form.username,
        &form.password,
        &form.new_password,
    );
    match change.await? {
        Ok(()) => login_page(
            lang,
            Some(t.password_changed),
            StatusCode::OK,
            HeaderMap::new(),
        ),
        Err(crate::ChangeRefusal::LockedOut) => refuse(t.locked_out, StatusCode::TOO_MANY_REQUESTS),
        Err(crate::ChangeRefusal::BadCredentials) => {
            refuse(t.bad_credentials, StatusCode::UNAUTHORIZED)
        }
        Err(crate::ChangeRefusal::Weak(e)) => refuse(
            &match lang {
                Lang::Zh => password_error_zh(&e),
                Lang::En => e.to_string(),
            },
            StatusCode::BAD_REQUEST,
        ),
    }
}

fn password_error_zh(e: &gusu_core::access::PasswordError) -> String {
    use gusu_core::access::PasswordError as E;
    match e {
        E::TooShort { found, min } => format!("密码只有 {found} 个字符，至少需要 {min} 个"),
        E::TooSimple { found, min } => {
            format!("密码只包含 {found} 类字符（小写、大写、数字、其他），至少需要 {min} 类")
        }
        E::ContainsUser => "密码不能包含用户名".into(),
        E::Unchanged => "新密码不能与当前密码相同".into(),
    }
}

pub async fn login_form(
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(&headers, &query, &mut out);
    login_page(lang, None, StatusCode::OK, out)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    /// The TOTP code of an administrator (blank for everyone else).
    #[serde(default)]
    otp: String,
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    crate::ClientAddress(address): crate::ClientAddress,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let lang = signed_out_form(&headers, &form.csrf)?;
    let t = texts(lang);
    let signed_in = match crate::authenticate(
        &state,
        address,
        &form.username,
        &form.password,
        Some(form.otp.as_str()),
    )
    .await?
    {
        Ok(signed_in) => signed_in,
        Err(refusal) => {
            use crate::Refusal;
            let (message, status) = match &refusal {
                Refusal::LockedOut => (t.locked_out, StatusCode::TOO_MANY_REQUESTS),
                Refusal::BadCredentials => (t.bad_credentials, StatusCode::UNAUTHORIZED),
                Refusal::PasswordExpired => (t.password_expired, StatusCode::FORBIDDEN),
                Refusal::MustChangePassword => (t.password_set_by_admin, StatusCode::FORBIDDEN),
                Refusal::SecondFactorMissing | Refusal::SecondFactorWrong => {
                    (t.second_factor_wrong, StatusCode::UNAUTHORIZED)
                }
                Refusal::SecondFactorNotEnrolled => {
                    (t.second_factor_not_enrolled, StatusCode::FORBIDDEN)
                }
            };
            // A right password that must be changed first goes to the change form.
            return match refusal {
                Refusal::LockedOut
                | Refusal::BadCredentials
                | Refusal::SecondFactorMissing
                | Refusal::SecondFactorWrong
                | Refusal::SecondFactorNotEnrolled => {
                    login_page(lang, Some(message), status, HeaderMap::new())
                }
                Refusal::PasswordExpired | Refusal::MustChangePassword => password_page(
                    lang,
                    &form.username,
                    Some(message),
                    status,
                    HeaderMap::new(),
                ),
            };
        }
    };
    let mut out = HeaderMap::new();
    out.insert(
        header::SET_COOKIE,
        crate::cookie(&signed_in.token, None, state.0.config.secure_cookies),
    );
    // The language the person chose before, on whatever browser, applies from the first page.
    if let Some(language) = &signed_in.language {
        language_cookie(language, &mut out);
    }
    Ok((
        StatusCode::SEE_OTHER,
        out,
        Redirect::to(&home_of(&signed_in.viewer)),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let Some((session, token)) = page_session(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !crate::session::csrf_matches(&session.csrf, Some(&form.csrf)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong CSRF token",
        ));
    }
    state.0.sessions.end(&token);
    state.store().audit(
        &session.viewer.user,
        "sign_out",
        Some(&session.viewer.user),
        None,
    )?;
    let mut out = HeaderMap::new();
    out.insert(
        header::SET_COOKIE,
        crate::cookie("", Some(0), state.0.config.secure_cookies),
    );
    Ok((StatusCode::SEE_OTHER, out, Redirect::to("/login")).into_response())
}

pub async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    overview_page(state, headers, query, None).await
}

/// A district's page: the overview for the district, with the city's class counts beside it
/// (aggregates reveal no enterprise). A district officer sees only its own district's page.
pub async fn district(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    overview_page(state, headers, query, Some(code)).await
}

/// A district's name in the page language, or its code when the region set does not know it.
fn district_name(state: &AppState, lang: Lang, code: &str) -> String {
    state.0.config.region.by_code(code).map_or_else(
        || code.to_string(),
        |d| {
            if lang == Lang::Zh {
                d.name_zh.clone()
            } else {
                d.name_en.clone()
            }
        },
    )
}

fn division_name(lang: Lang, code: &str) -> String {
    gusu_core::division(code).map_or_else(
        || code.to_string(),
        |d| {
            format!(
                "{code} {}",
                if lang == Lang::Zh {
                    d.name_zh
                } else {
                    d.name_en
                }
            )
        },
    )
}

use crate::format::amount;

/// "+12.3%" from last year to this, or "—" when last year is missing or zero.
fn change(this: Option<f64>, last: Option<f64>) -> String {
    match (this, last) {
        (Some(t), Some(l)) if l != 0.0 => format!("{:+.1}%", (t - l) / l.abs() * 100.0),
        _ => "—".into(),
    }
}

#[derive(Serialize)]
struct FigureRow {
    name: &'static str,
    this_year: String,
    last_year: String,
    change: String,
}

fn figure_rows(t: &Texts, c: &gusu_core::evaluate::overview::FigureComparison) -> Vec<FigureRow> {
    let (a, b) = (&c.this_year, &c.last_year);
    let total = |name, this: f64, last: f64, decimals| FigureRow {
        name,
        this_year: amount(this, decimals),
        last_year: if b.enterprises > 0 {
            amount(last, decimals)
        } else {
            "—".into()
        },
        change: change(Some(this), (b.enterprises > 0).then_some(last)),
    };
    let ratio = |name, this: Option<f64>, last: Option<f64>| FigureRow {
        name,
        this_year: this.map_or_else(|| "—".into(), |v| amount(v, 2)),
        last_year: last.map_or_else(|| "—".into(), |v| amount(v, 2)),
        change: change(this, last),
    };
    vec![
        total(
            t.enterprises,
            f64::from(a.enterprises),
            f64::from(b.enterprises),
            0,
        ),
        total(t.tax, a.tax, b.tax, 0),
        total(t.revenue, a.revenue, b.revenue, 0),
        total(t.value_added, a.value_added, b.value_added, 0),
        total(t.land, a.land_mu, b.land_mu, 0),
        total(t.energy, a.energy_tce, b.energy_tce, 0),
        ratio(t.tax_per_mu, a.tax_per_mu.ratio(), b.tax_per_mu.ratio()),
        ratio(
            t.revenue_per_mu,
            a.revenue_per_mu.ratio(),
            b.revenue_per_mu.ratio(),
        ),
        ratio(
            t.value_added_per_mu,
            a.value_added_per_mu.ratio(),
            b.value_added_per_mu.ratio(),
        ),
        ratio(
            t.value_added_per_tce,
            a.value_added_per_tce.ratio(),
            b.value_added_per_tce.ratio(),
        ),
    ]
}

#[derive(Serialize)]
struct CountRow {
    key: String,
    name: String,
    counts: Vec<u32>,
    graded: u32,
    total: u32,
}

fn count_row(
    key: &str,
    name: String,
    classes: &[String],
    c: &gusu_core::evaluate::overview::ClassCounts,
) -> CountRow {
    CountRow {
        key: key.to_string(),
        name,
        counts: classes.iter().map(|k| c.count(k)).collect(),
        graded: c.graded,
        total: c.total,
    }
}

async fn overview_page(
    state: AppState,
    headers: HeaderMap,
    query: LangQuery,
    district: Option<String>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(&headers, &query, &mut out);
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    let viewer: &Viewer = &session.viewer;
    if !viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    if let Some(code) = &district
        && (state.0.config.region.by_code(code).is_none() || !viewer.may_see_district(code))
    {
        return Err(ApiError::not_found("district"));
    }
    let year = year_or_latest(&state.reader(), query.year)?;
    let summary = state.summary(year)?;
    let t = texts(lang);
    let title = district.as_deref().map_or_else(
        || match &viewer.scope {
            Scope::District(code) => district_name(&state, lang, code),
            _ => t.overview.to_string(),
        },
        |code| district_name(&state, lang, code),
    );
    // The body depends only on the summary, the language and the population: rendered once,
    // then shared by every request (only the header differs per user).
    let scope_key = match (&district, &viewer.scope) {
        (Some(code), _) | (None, Scope::District(code)) => code.as_str(),
        _ => "city",
    };
    let body = match &summary {
        None => render(
            "overview_body.html",
            context! { t => Value::from(Serde(&t)), year => year, title => title.clone() },
        )?
        .into(),
        Some(summary) => summary.fragment(
            &format!("overview:{}:{scope_key}:{}", t.lang, district.is_some()),
            || {
                overview_body(
                    &state,
                    lang,
                    viewer,
                    summary,
                    district.as_deref(),
                    year,
                    &title,
                )
            },
        )?,
    };
    let html = render(
        "fragment.html",
        context! {
            t => Value::from(Serde(&t)),
            user => viewer.user.clone(),
            role => viewer.role.key(),
            csrf => session.csrf.clone(),
            title => title,
            body => Value::from_safe_string(body.to_string()),
        },
    )?;
    Ok((out, Html(html)).into_response())
}

/// The overview's body for one population of one run.
fn overview_body(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    summary: &crate::summary::RunSummary,
    district: Option<&str>,
    year: i32,
    title: &str,
) -> Result<String, ApiError> {
    let t = texts(lang);
    let mut ctx = BTreeMap::new();
    {
        let o = summary
            .overview_for(viewer, district)
            .ok_or_else(|| ApiError::not_found("district"))?;
        // Every class of the city, so a district without D still shows the column.
        let classes = &summary.city.classes;
        let group_name = |key: &str| (if key == "above" { t.above } else { t.below }).to_string();
        let groups: Vec<CountRow> = o
            .by_group
            .iter()
            .map(|(k, c)| count_row(k, group_name(k), classes, c))
            .collect();
        // Beside a district, the city's counts (aggregates reveal no enterprise).
        let city: Vec<CountRow> = if district.is_some() {
            summary
                .city
                .by_group
                .iter()
                .map(|(k, c)| count_row(k, group_name(k), classes, c))
                .collect()
        } else {
            Vec::new()
        };
        let districts: Vec<CountRow> = o
            .by_district
            .iter()
            .map(|(k, c)| count_row(k, district_name(state, lang, k), classes, c))
            .collect();
        let mut divisions: Vec<CountRow> = o
            .by_division
            .iter()
            .map(|(k, c)| count_row(k, division_name(lang, k), classes, c))
            .collect();
        divisions.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
        let figures: Vec<serde_json::Value> = ["above", "below", "all"]
            .iter()
            .filter_map(|k| o.figures.get(k).map(|c| (k, c)))
            .map(|(k, c)| {
                let name = if *k == "all" {
                    t.all_enterprises.to_string()
                } else {
                    group_name(k)
                };
                serde_json::json!({ "name": name, "rows": figure_rows(&t, c) })
            })
            .collect();
        let lowest: Vec<serde_json::Value> = o
            .lowest_class_list
            .iter()
            .map(|l| {
                serde_json::json!({
                    "uscc": l.uscc.as_str(),
                    "name": l.name,
                    "district": district_name(state, lang, &l.district),
                    "division": division_name(lang, &l.division),
                    "group": group_name(l.group),
                    "score": l.score.map_or_else(|| "—".into(), |s| format!("{s:.2}")),
                    "rank": l.rank.map_or_else(|| "—".into(), |r| r.to_string()),
                })
            })
            .collect();
        let measures: Vec<serde_json::Value> = o
            .measures
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": if lang == Lang::Zh { &m.name_zh } else { &m.name_en },
                    "applies_in": m.applies_in,
                    "enterprises": m.enterprises,
                    "amount": amount(m.amount, 0),
                    "without_amount": m.without_amount,
                })
            })
            .collect();
        let district_chart = crate::chart::class_bars(
            &districts
                .iter()
                .map(|d| {
                    (
                        d.name.clone(),
                        classes
                            .iter()
                            .cloned()
                            .zip(d.counts.iter().copied())
                            .collect(),
                    )
                })
                .collect::<Vec<_>>(),
        );
        ctx.insert("run", Value::from(Serde(&summary.run)));
        ctx.insert("classes", Value::from(Serde(classes)));
        ctx.insert("groups", Value::from(Serde(groups)));
        ctx.insert("city", Value::from(Serde(city)));
        ctx.insert("districts", Value::from(Serde(districts)));
        ctx.insert("district_chart", Value::from_safe_string(district_chart));
        ctx.insert("divisions", Value::from(Serde(divisions)));
        ctx.insert("figures", Value::from(Serde(figures)));
        ctx.insert("lowest_class", Value::from(o.lowest_class.clone()));
        ctx.insert("lowest_count", Value::from(o.lowest_class_count));
        ctx.insert("lowest", Value::from(Serde(lowest)));
        ctx.insert("measures", Value::from(Serde(measures)));
    }
    ctx.insert("t", Value::from(Serde(&t)));
    ctx.insert("title", Value::from(title));
    ctx.insert("year", Value::from(year));
    ctx.insert("district", Value::from(district));
    render("overview_body.html", Value::from(ctx))
}

#[derive(Deserialize, Default)]
pub struct EnterpriseQuery {
    lang: Option<String>,
    year: Option<i32>,
    lift: Option<u8>,
}

#[derive(Serialize)]
struct IndicatorRow {
    name: String,
    value: String,
    benchmark: String,
    weight: f64,
    score: String,
    note: Option<&'static str>,
}

/// An enterprise's page: its result against the benchmarks, a chart, its measures, and on request
/// the smallest single change that lifts it a class (a search over the whole group, so not on
/// every view).
pub async fn enterprise(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(uscc): axum::extract::Path<String>,
    Query(query): Query<EnterpriseQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang_query = LangQuery {
        lang: query.lang.clone(),
        year: query.year,
    };
    let lang = language(&headers, &lang_query, &mut out);
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    let viewer = &session.viewer;
    let uscc = Uscc::parse(&uscc).map_err(|_| ApiError::not_found("enterprise"))?;
    let store = state.reader();
    let year = year_or_latest(&store, query.year)?;
    // Another enterprise, or one of another district, does not exist for this viewer.
    let district = store
        .enterprise(&uscc)?
        .filter(|e| viewer.may_see(&e.uscc, &e.district))
        .ok_or_else(|| ApiError::not_found("enterprise"))?
        .district;
    let run = crate::enterprise_run(&store, viewer, year, &district)?
        .ok_or_else(|| ApiError::not_found("evaluation run"))?;
    let stored = store
        .result_for(run.id, &uscc)?
        .ok_or_else(|| ApiError::not_found("enterprise"))?;
    let r: EnterpriseResult = crate::detail(&stored)?;
    // The one check, as on every route: another's enterprise does not exist for this viewer.
    if !viewer.may_see(&r.uscc, &r.district) {
        return Err(ApiError::not_found("enterprise"));
    }
    let t = texts(lang);
    let file = crate::enterprise_file::load(&store, viewer, &uscc)?;
    let (profile, records, history) = file_rows(&state, lang, &t, &file);
    let library = state.schemes();
    let scheme = library
        .select(&run.scheme, year)
        .ok()
        .filter(|s| s.version == run.scheme_version);
    let indicator_name = |key: &str| -> String {
        scheme
            .and_then(|s| {
                s.groups
                    .iter()
                    .flat_map(|g| &g.indicators)
                    .find(|i| &*i.key == key)
            })
            .map_or_else(
                || key.to_string(),
                |i| {
                    if lang == Lang::Zh {
                        i.name_zh.clone()
                    } else {
                        i.name_en.clone()
                    }
                },
            )
    };
    let indicators: Vec<IndicatorRow> = r
        .indicators
        .iter()
        .map(|i| IndicatorRow {
            name: indicator_name(&i.key),
            value: crate::format::indicator(&i.key, i.value.get()),
            benchmark: crate::format::indicator(&i.key, i.benchmark.get()),
            weight: i.weight,
            score: format!("{:.2}", i.score),
            note: i.imputed.then_some(t.imputed),
        })
        .collect();
    let bars: Vec<(String, f64, String)> = r
        .indicators
        .iter()
        .filter_map(|i| {
            let (v, b) = (i.value.get()?, i.benchmark.get()?);
            (b > 0.0).then(|| {
                (
                    indicator_name(&i.key),
                    v / b,
                    format!(
                        "{} / {} = {}",
                        crate::format::indicator(&i.key, Some(v)),
                        crate::format::indicator(&i.key, Some(b)),
                        crate::format::percent(v / b, 1)
                    ),
                )
            })
        })
        .collect();
    let district = state.0.config.region.by_code(&r.district).map_or_else(
        || r.district.to_string(),
        |d| {
            if lang == Lang::Zh {
                d.name_zh.clone()
            } else {
                d.name_en.clone()
            }
        },
    );
    let group = if r.group.key() == "above" {
        t.above
    } else {
        t.below
    };
    let summary = match lang {
        Lang::Zh => format!(
            "得分 {:.2}，在{group} {} 家中排第 {} 位，评为 {} 类。",
            r.score.unwrap_or_default(),
            r.group_size.unwrap_or_default(),
            r.rank.unwrap_or_default(),
            r.class.as_deref().unwrap_or("-")
        ),
        Lang::En => format!(
            "Scored {:.2}, ranked {} of {} ({group}): class {}.",
            r.score.unwrap_or_default(),
            r.rank.unwrap_or_default(),
            r.group_size.unwrap_or_default(),
            r.class.as_deref().unwrap_or("-")
        ),
    };
    let measures: Vec<String> = r
        .measures
        .iter()
        .map(|m| {
            format!(
                "{} {}: {} {}{}",
                m.applies_in,
                if lang == Lang::Zh {
                    &m.name_zh
                } else {
                    &m.name_en
                },
                m.rate.map(|v| v.to_string()).unwrap_or_default(),
                m.unit.as_deref().unwrap_or_default(),
                m.amount.map(|a| format!(" ≈ {a:.0}")).unwrap_or_default()
            )
        })
        .collect();
    // An enterprise on its own page sees its improvement hints without asking; staff ask (the
    // search re-grades the city).
    let own = matches!(&viewer.scope, Scope::Enterprise(u) if *u == uscc);
    let lift_wanted = query.lift == Some(1) || (own && query.lift != Some(0));
    let (mut lifts, mut next_class) = (Vec::new(), None);
    if lift_wanted
        && r.class.is_some()
        && let Some(scheme) = scheme
    {
        let enterprises = store.enterprises()?;
        let mut records = store.yearly_records(year)?;
        if scheme.needs_prior_year() {
            records.extend(store.yearly_records(year - 1)?);
        }
        let input = EvaluationInput {
            year,
            enterprises: &enterprises,
            records: &records,
            district: None,
        };
        if let Ok(ex) = explain(scheme, &input, &uscc) {
            next_class = ex.next_class.clone();
            for l in &ex.lifts {
                let verb = match (l.direction, lang) {
                    (Direction::Raise, Lang::Zh) => "提高",
                    (Direction::Cut, Lang::Zh) => "降低",
                    (Direction::Raise, Lang::En) => "raise",
                    (Direction::Cut, Lang::En) => "cut",
                };
                let name = if lang == Lang::Zh {
                    l.figure.name_zh()
                } else {
                    l.figure.name_en()
                };
                lifts.push(match l.to {
                    Some(to) => format!(
                        "{verb} {name}: {:.2} → {:.2} {}{}",
                        l.from,
                        to,
                        l.figure.unit(),
                        l.percent
                            .map(|p| format!(" ({p:+.1}%)"))
                            .unwrap_or_default()
                    ),
                    None => format!("{verb} {name}: {}", t.not_reachable),
                });
            }
        }
    }
    let lift_url = (!lift_wanted && r.class.is_some()).then(|| format!("?year={year}&lift=1"));
    // Its result notices, newest first, on its own page.
    let notices: Vec<serde_json::Value> = if own {
        store
            .notices(Some(&uscc))?
            .into_iter()
            .rev()
            .map(|n| {
                serde_json::json!({
                    "id": n.id,
                    "year": n.year,
                    "version": n.version,
                    "class": n.class.unwrap_or_else(|| "—".into()),
                    "created_at": n.created_at,
                    "read": n.read_at.is_some(),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let html = render(
        "enterprise.html",
        context! {
            t => Value::from(Serde(&t)),
            user => viewer.user.clone(),
            role => viewer.role.key(),
            csrf => session.csrf.clone(),
            r => Value::from(Serde(&r)),
            year => year,
            district => district,
            group => group,
            status => r.status.key(),
            summary => summary,
            chart => crate::chart::benchmark_bars(&bars),
            indicators => Value::from(Serde(&indicators)),
            measures => measures,
            lifts => lifts,
            next_class => next_class,
            lift_url => lift_url,
            notices => Value::from(Serde(&notices)),
            profile => Value::from(Serde(&profile)),
            records => Value::from(Serde(&records)),
            history => Value::from(Serde(&history)),
        },
    )?;
    Ok((out, Html(html)).into_response())
}

/// A field's name in the page language (figures by the catalogue, the two flags by hand).
fn field_name(lang: Lang, key: &str) -> String {
    if let Some(f) = gusu_core::Figure::from_key(key) {
        let name = if lang == Lang::Zh {
            f.name_zh()
        } else {
            f.name_en()
        };
        return format!("{name} ({})", f.unit());
    }
    match (key, lang) {
        ("above_scale", Lang::Zh) => "规上标志".into(),
        ("above_scale", Lang::En) => "above designated size".into(),
        ("exempt", Lang::Zh) => "不参评标志".into(),
        ("exempt", Lang::En) => "exempt".into(),
        _ => key.to_string(),
    }
}

#[derive(Serialize)]
struct RecordYear {
    year: i32,
    rows: Vec<RecordRow>,
}

#[derive(Serialize)]
struct RecordRow {
    field: String,
    value: String,
    source: String,
    file: String,
    row: u64,
    /// The value the merged record uses; others lost on priority or were corrected.
    effective: bool,
    corrected: bool,
}

/// The profile, the yearly values with their sources, and the class history, as page rows.
fn file_rows(
    state: &AppState,
    lang: Lang,
    t: &Texts,
    file: &crate::enterprise_file::EnterpriseFile,
) -> (
    Vec<(String, String)>,
    Vec<RecordYear>,
    Vec<serde_json::Value>,
) {
    let e = &file.enterprise;
    let yes_no = |b: bool| {
        (match (b, lang) {
            (true, Lang::Zh) => "是",
            (false, Lang::Zh) => "否",
            (true, Lang::En) => "yes",
            (false, Lang::En) => "no",
        })
        .to_string()
    };
    let profile = vec![
        (t.name.to_string(), e.name.clone()),
        ("USCC".to_string(), e.uscc.to_string()),
        (
            t.district.to_string(),
            district_name(state, lang, &e.district),
        ),
        (
            t.division.to_string(),
            format!("{} · {}", e.industry_code, division_name(lang, &e.division)),
        ),
        (
            t.land.to_string(),
            e.land_area_mu.map_or_else(|| "—".into(), |v| amount(v, 2)),
        ),
        (t.above.to_string(), yes_no(e.above_scale)),
        (t.established.to_string(), e.established.to_string()),
    ];
    let records = file
        .years
        .iter()
        .map(|y| RecordYear {
            year: y.year,
            rows: y
                .values
                .iter()
                .map(|v| RecordRow {
                    field: field_name(lang, &v.field),
                    value: crate::format::field(&v.field, v.value, lang == Lang::Zh),
                    source: v.source.clone(),
                    file: v.file_name.clone(),
                    row: v.row,
                    effective: v.effective,
                    corrected: !v.current,
                })
                .collect(),
        })
        .collect();
    let history = file
        .classes
        .iter()
        .map(|c| {
            serde_json::json!({
                "year": c.year,
                "class": c.class.as_deref().unwrap_or("—"),
                "score": c.score.map_or_else(|| "—".into(), |s| format!("{s:.2}")),
                "rank": c.rank.map_or_else(|| "—".into(), |r| r.to_string()),
                "scheme": c.scheme,
                "published": c.published,
            })
        })
        .collect();
    (profile, records, history)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    lang: Option<String>,
    year: Option<i32>,
    q: Option<String>,
    district: Option<String>,
    division: Option<String>,
    class: Option<String>,
    group: Option<String>,
    status: Option<String>,
    /// rank (default), score_desc, score_asc, name.
    sort: Option<String>,
    page: Option<usize>,
}

impl ListQuery {
    /// The filters and their values as given (empty ones dropped), for links that keep them.
    fn filters(&self) -> Vec<(&'static str, &str)> {
        [
            ("q", &self.q),
            ("district", &self.district),
            ("division", &self.division),
            ("class", &self.class),
            ("group", &self.group),
            ("status", &self.status),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_deref().map(str::trim).filter(|v| !v.is_empty())?)))
        .collect()
    }
}

#[derive(Serialize)]
struct ListRow {
    uscc: String,
    name: String,
    district: String,
    group: String,
    class: String,
    score: String,
    rank: String,
}

const PAGE_SIZE: usize = 50;

/// The results a list shows or exports: the shown run's, within the viewer's scope, filtered and
/// sorted (by group and rank unless asked otherwise).
/// The lines a viewer may see that pass the filters, sorted: references into the summary, so a
/// page of 50 out of 16,000 copies 50 lines, not 16,000.
fn selection<'s>(
    summary: Option<&'s crate::summary::RunSummary>,
    viewer: &Viewer,
    query: &ListQuery,
) -> Vec<&'s crate::summary::ResultLine> {
    let Some(summary) = summary else {
        return Vec::new();
    };
    let filters = query.filters();
    let given = |key: &str| filters.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let needle = given("q").map(str::to_uppercase);
    // Looked up once, not per line.
    let (district, division, class, group, status) = (
        given("district"),
        given("division"),
        given("class"),
        given("group"),
        given("status"),
    );
    summary
        .ordered(crate::summary::ListOrder::from_key(given("sort")))
        .filter(|l| {
            viewer.may_see(&l.uscc, &l.district)
                && district.is_none_or(|d| d == &*l.district)
                && division.is_none_or(|d| d == &*l.division)
                && class.is_none_or(|c| l.class.as_deref() == Some(c))
                && group.is_none_or(|g| l.group.key() == g)
                && status.is_none_or(|s| l.status.key() == s)
                && needle.as_deref().is_none_or(|n| {
                    l.name.to_uppercase().contains(n) || l.uscc.as_str().contains(n)
                })
        })
        .collect()
}

/// The list's selection as an XLSX workbook (every page), audited: the figures are confidential.
pub async fn enterprise_export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let viewer = &session.viewer;
    if !viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    let year = year_or_latest(&state.reader(), query.year)?;
    let summary = state.summary(year)?;
    let results = selection(summary.as_deref(), viewer, &query);
    let xlsx = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    // Scores to two places, as the pages show them.
    let score_format = rust_xlsxwriter::Format::new().set_num_format("0.00");
    let columns = gusu_core::evaluate::RESULT_COLUMNS;
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string(0, c as u16, *name).map_err(xlsx)?;
    }
    for (i, r) in results.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, text) in [
            r.uscc.as_str(),
            &r.name,
            &r.district,
            &r.division,
            r.group.key(),
            r.status.key(),
            r.class.as_deref().unwrap_or(""),
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(row, c as u16, *text).map_err(xlsx)?;
        }
        if let Some(score) = r.score {
            sheet
                .write_number_with_format(row, 7, score, &score_format)
                .map_err(xlsx)?;
        }
        if let Some(rank) = r.rank {
            sheet.write_number(row, 8, f64::from(rank)).map_err(xlsx)?;
        }
    }
    let bytes = book.save_to_buffer().map_err(xlsx)?;
    state.store().audit(
        &viewer.user,
        "export",
        Some(&format!("enterprises {year}")),
        Some(&format!("{} rows", results.len())),
    )?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"gusu-{year}.xlsx\"")) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok((out, bytes).into_response())
}

/// The enterprise list for staff: the viewer's scope, filtered, by rank, a page at a time.
pub async fn enterprise_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(
        &headers,
        &LangQuery {
            lang: query.lang.clone(),
            year: query.year,
        },
        &mut out,
    );
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    let viewer = &session.viewer;
    if !viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    let t = texts(lang);
    let year = year_or_latest(&state.reader(), query.year)?;
    let summary = state.summary(year)?;
    let results = selection(summary.as_deref(), viewer, &query);
    let total = results.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let region = &state.0.config.region;
    let rows: Vec<ListRow> = results
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|r| ListRow {
            uscc: r.uscc.to_string(),
            name: r.name.clone(),
            district: region.by_code(&r.district).map_or_else(
                || r.district.to_string(),
                |d| {
                    if lang == Lang::Zh {
                        d.name_zh.clone()
                    } else {
                        d.name_en.clone()
                    }
                },
            ),
            group: (if r.group.key() == "above" {
                t.above
            } else {
                t.below
            })
            .to_string(),
            class: r.class.as_deref().unwrap_or("—").to_string(),
            score: r.score.map_or_else(|| "—".into(), |s| format!("{s:.2}")),
            rank: r.rank.map_or_else(|| "—".into(), |k| k.to_string()),
        })
        .collect();
    let link = |p: usize| {
        let mut url = format!("/enterprises?year={year}&page={p}");
        for (k, v) in query.filters() {
            url.push_str(&format!(
                "&{k}={}",
                form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            ));
        }
        url
    };
    // The choices: what the viewer may filter by, named in the page language.
    let (mut classes, mut districts, mut divisions) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(summary) = &summary {
        classes = summary.city.classes.clone();
        for code in summary.city.by_district.keys() {
            if viewer.may_see_district(code) {
                districts.push((code.clone(), district_name(&state, lang, code)));
            }
        }
        for code in summary.city.by_division.keys() {
            divisions.push((code.clone(), division_name(lang, code)));
        }
    }
    let statuses: Vec<(&str, &str)> = [
        gusu_core::Status::Graded,
        gusu_core::Status::Exempt,
        gusu_core::Status::OutOfScope,
        gusu_core::Status::MissingData,
    ]
    .into_iter()
    .map(|s| {
        (
            s.key(),
            if lang == Lang::Zh {
                s.name_zh()
            } else {
                s.name_en()
            },
        )
    })
    .collect();
    let html = render(
        "enterprises.html",
        context! {
            t => Value::from(Serde(&t)),
            user => viewer.user.clone(),
            role => viewer.role.key(),
            csrf => session.csrf.clone(),
            year => year,
            q => query.q.clone().unwrap_or_default(),
            class => query.class.clone().unwrap_or_default(),
            group => query.group.clone().unwrap_or_default(),
            district => query.district.clone().unwrap_or_default(),
            division => query.division.clone().unwrap_or_default(),
            status => query.status.clone().unwrap_or_default(),
            sort => query.sort.clone().unwrap_or_default(),
            classes => Value::from(Serde(classes)),
            districts => Value::from(Serde(districts)),
            divisions => Value::from(Serde(divisions)),
            statuses => Value::from(Serde(statuses)),
            total => total,
            page => page,
            pages => pages,
            prev => link(page.saturating_sub(1).max(1)),
            export => link(1).replacen("/enterprises?", "/enterprises.xlsx?", 1),
            next => link(page + 1),
            rows => Value::from(Serde(&rows)),
        },
    )?;
    Ok((out, Html(html)).into_response())
}

/// Every scheme with its indicators, weights, benchmark methods, classes, measures and sources:
/// readable by everyone signed in, enterprises included (they are graded by it).
/// Every scheme as the rules page and `GET /api/v1/schemes` show it, in one language.
pub async fn rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let mut out = HeaderMap::new();
    let lang = language(&headers, &query, &mut out);
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    let zh = lang == Lang::Zh;
    let schemes = crate::wire::schemes::SchemeView::all(state.schemes(), zh);
    let html = render(
        "rules.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            user => session.viewer.user.clone(),
            role => session.viewer.role.key(),
            csrf => session.csrf.clone(),
            schemes => Value::from(Serde(&schemes)),
        },
    )?;
    Ok((out, Html(html)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SchemesQuery {
    /// `en` for English names (default Chinese).
    lang: Option<String>,
}

/// The schemes, their indicators, weights, benchmarks, classes, measures and sources: what the
/// rules page shows, readable by everyone signed in.
/// Every evaluation scheme: indicators, weights, benchmarks, classes, measures and sources.
#[utoipa::path(get, path = "/api/v1/schemes", tag = "results",
    params(SchemesQuery),
    responses((status = 200, description = "The schemes", body = Vec<crate::wire::schemes::SchemeView>)))]
pub async fn schemes_api(
    State(state): State<AppState>,
    _authed: crate::Authed,
    query: Result<Query<SchemesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<Vec<crate::wire::schemes::SchemeView>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let zh = !query.lang.as_deref().is_some_and(|l| l.starts_with("en"));
    Ok(axum::Json(crate::wire::schemes::SchemeView::all(
        state.schemes(),
        zh,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_is_relative_to_last_year_and_needs_it() {
        assert_eq!(change(Some(110.0), Some(100.0)), "+10.0%");
        assert_eq!(change(Some(90.0), Some(100.0)), "-10.0%");
        assert_eq!(change(Some(1.0), Some(0.0)), "—");
        assert_eq!(change(Some(1.0), None), "—");
    }
}
