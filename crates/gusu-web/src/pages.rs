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
use gusu_core::{EvaluationInput, SchemeLibrary, Scope, Uscc, Viewer};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};

use crate::session::{Session, token_from_cookies};
use crate::{ApiError, AppState, shown_run};

const LANG_COOKIE: &str = "gusu_lang";
const LOGIN_COOKIE: &str = "gusu_login";

pub const STYLESHEET: &str = include_str!("../../../web/static/gusu.css");

pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
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
            "overview.html",
            include_str!("../../../web/templates/overview.html"),
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
        let value = format!(
            "{LANG_COOKIE}={}; SameSite=Strict; Path=/; Max-Age=31536000",
            if l.starts_with("en") { "en" } else { "zh" }
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            out.append(header::SET_COOKIE, v);
        }
    }
    lang
}

pub(crate) fn page_session(state: &AppState, headers: &HeaderMap) -> Option<(Session, String)> {
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)?;
    state.0.sessions.get(token).map(|s| (s, token.to_string()))
}

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    templates()
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

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Redirect {
    match page_session(&state, &headers) {
        // An enterprise user lands on its own page.
        Some((s, _)) => match &s.viewer.scope {
            Scope::Enterprise(u) => Redirect::to(&format!("/enterprises/{u}")),
            _ => Redirect::to("/overview"),
        },
        None => Redirect::to("/login"),
    }
}

fn login_page(
    lang: Lang,
    error: Option<&str>,
    status: StatusCode,
    mut out: HeaderMap,
) -> Result<Response, ApiError> {
    // Double-submit token for the sign-in form: a cookie only this site can set, echoed in the form.
    let login_csrf = crate::session::random_token();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={login_csrf}; HttpOnly; SameSite=Strict; Path=/login"
    )) {
        out.append(header::SET_COOKIE, v);
    }
    let html = render(
        "login.html",
        context! { t => Value::from(Serde(texts(lang))), error => error, login_csrf => login_csrf },
    )?;
    Ok((status, out, Html(html)).into_response())
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
    csrf: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let lang = language(&headers, &LangQuery::default(), &mut HeaderMap::new());
    if cookie_value(&headers, LOGIN_COOKIE) != Some(form.csrf.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the sign-in form expired; reload the page",
        ));
    }
    let t = texts(lang);
    let token = match crate::authenticate(&state, &form.username, &form.password)? {
        Ok((_, token, _)) => token,
        Err(crate::Refusal::LockedOut) => {
            return login_page(
                lang,
                Some(t.locked_out),
                StatusCode::TOO_MANY_REQUESTS,
                HeaderMap::new(),
            );
        }
        Err(crate::Refusal::BadCredentials) => {
            return login_page(
                lang,
                Some(t.bad_credentials),
                StatusCode::UNAUTHORIZED,
                HeaderMap::new(),
            );
        }
    };
    let mut out = HeaderMap::new();
    out.insert(
        header::SET_COOKIE,
        crate::cookie(&token, None, state.0.config.secure_cookies),
    );
    Ok((StatusCode::SEE_OTHER, out, Redirect::to("/overview")).into_response())
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
    if session.csrf != form.csrf {
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

#[derive(Serialize)]
struct Row {
    name: String,
    counts: Vec<u32>,
    total: u32,
    graded: u32,
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
    let region = &state.0.config.region;
    let district_name = |code: &str| {
        region.by_code(code).map_or_else(
            || code.to_string(),
            |d| {
                if lang == Lang::Zh {
                    d.name_zh.clone()
                } else {
                    d.name_en.clone()
                }
            },
        )
    };
    if let Some(code) = &district
        && (region.by_code(code).is_none() || !viewer.may_see_district(code))
    {
        return Err(ApiError::not_found("district"));
    }
    let store = state.store();
    let year = year_or_latest(&store, query.year)?;
    let run = shown_run(&store, year)?;
    let classes = ["A", "B", "C", "D"];
    let class_index = |c: &str| classes.iter().position(|x| *x == c);
    let t = texts(lang);
    let new_row = |name: String| Row {
        name,
        counts: vec![0; classes.len()],
        total: 0,
        graded: 0,
    };
    let count = |row: &mut Row, class: Option<&str>| {
        row.total += 1;
        if let Some(i) = class.and_then(class_index) {
            row.counts[i] += 1;
            row.graded += 1;
        }
    };
    let group_name =
        |key: &str| -> String { (if key == "above" { t.above } else { t.below }).into() };
    let mut groups: BTreeMap<&str, Row> = BTreeMap::new();
    let mut city: BTreeMap<&str, Row> = BTreeMap::new();
    let mut districts: BTreeMap<String, Row> = BTreeMap::new();
    if let Some(run) = &run {
        for stored in store.results(run.id)? {
            let r: EnterpriseResult = crate::detail(&stored)?;
            let key = r.group.key();
            if district.is_some() {
                count(
                    city.entry(key).or_insert_with(|| new_row(group_name(key))),
                    r.class.as_deref(),
                );
            }
            let in_scope = match &district {
                Some(code) => *r.district == **code,
                None => viewer.may_see(&r.uscc, &r.district),
            };
            if !in_scope {
                continue;
            }
            count(
                groups
                    .entry(key)
                    .or_insert_with(|| new_row(group_name(key))),
                r.class.as_deref(),
            );
            let d = districts
                .entry(r.district.to_string())
                .or_insert_with(|| new_row(district_name(&r.district)));
            count(d, r.class.as_deref());
        }
    }
    let district_rows: Vec<serde_json::Value> = districts
        .into_iter()
        .map(|(code, row)| serde_json::json!({ "code": code, "name": row.name, "counts": row.counts, "total": row.total }))
        .collect();
    let html = render(
        "overview.html",
        context! {
            t => Value::from(Serde(&t)),
            user => viewer.user.clone(),
            csrf => session.csrf.clone(),
            title => district.as_deref().map_or_else(|| t.overview.to_string(), district_name),
            year => year,
            run => Value::from(Serde(&run)),
            classes => Value::from(Serde(classes)),
            groups => Value::from(Serde(groups.into_values().collect::<Vec<_>>())),
            city => Value::from(Serde(city.into_values().collect::<Vec<_>>())),
            districts => Value::from(Serde(district_rows)),
        },
    )?;
    Ok((out, Html(html)).into_response())
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

fn number(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.4}"))
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
    let store = state.store();
    let year = year_or_latest(&store, query.year)?;
    let run = shown_run(&store, year)?.ok_or_else(|| ApiError::not_found("evaluation run"))?;
    let stored = store
        .result_for(run.id, &uscc)?
        .ok_or_else(|| ApiError::not_found("enterprise"))?;
    let r: EnterpriseResult = crate::detail(&stored)?;
    // The one check, as on every route: another's enterprise does not exist for this viewer.
    if !viewer.may_see(&r.uscc, &r.district) {
        return Err(ApiError::not_found("enterprise"));
    }
    let t = texts(lang);
    let library = SchemeLibrary::builtin().map_err(|e| ApiError::internal(e.to_string()))?;
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
            value: number(i.value.get()),
            benchmark: number(i.benchmark.get()),
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
                    format!("{v:.4} / {b:.4} = {:.1}%", v / b * 100.0),
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
    let (mut lifts, mut next_class) = (Vec::new(), None);
    if query.lift == Some(1)
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
    let lift_url =
        (query.lift != Some(1) && r.class.is_some()).then(|| format!("?year={year}&lift=1"));
    let html = render(
        "enterprise.html",
        context! {
            t => Value::from(Serde(&t)),
            user => viewer.user.clone(),
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
        },
    )?;
    Ok((out, Html(html)).into_response())
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    lang: Option<String>,
    year: Option<i32>,
    q: Option<String>,
    class: Option<String>,
    group: Option<String>,
    page: Option<usize>,
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

/// The results a list shows or exports: the city run's, within the viewer's scope, filtered, by
/// group and rank.
fn selection(
    store: &gusu_store::Store,
    viewer: &Viewer,
    query: &ListQuery,
    year: i32,
) -> Result<Vec<EnterpriseResult>, ApiError> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (needle, class, group) = (
        given(&query.q).map(|q| q.to_uppercase()),
        given(&query.class),
        given(&query.group),
    );
    let mut results = Vec::new();
    if let Some(run) = shown_run(store, year)? {
        for stored in store.results(run.id)? {
            let r = crate::detail(&stored)?;
            let keep = viewer.may_see(&r.uscc, &r.district)
                && class
                    .as_deref()
                    .is_none_or(|c| r.class.as_deref() == Some(c))
                && group.as_deref().is_none_or(|g| r.group.key() == g)
                && needle.as_deref().is_none_or(|n| {
                    r.name.to_uppercase().contains(n) || r.uscc.as_str().contains(n)
                });
            if keep {
                results.push(r);
            }
        }
    }
    results.sort_by(|a, b| {
        (a.group, a.rank.unwrap_or(u32::MAX), a.uscc).cmp(&(
            b.group,
            b.rank.unwrap_or(u32::MAX),
            b.uscc,
        ))
    });
    Ok(results)
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
    let mut store = state.store();
    let year = year_or_latest(&store, query.year)?;
    let results = selection(&store, viewer, &query, year)?;
    let xlsx = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
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
            sheet.write_number(row, 7, score).map_err(xlsx)?;
        }
        if let Some(rank) = r.rank {
            sheet.write_number(row, 8, f64::from(rank)).map_err(xlsx)?;
        }
    }
    let bytes = book.save_to_buffer().map_err(xlsx)?;
    store.audit(
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
    let store = state.store();
    let year = year_or_latest(&store, query.year)?;
    let results = selection(&store, viewer, &query, year)?;
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
        for (k, v) in [
            ("q", &query.q),
            ("class", &query.class),
            ("group", &query.group),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                url.push_str(&format!(
                    "&{k}={}",
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
        }
        url
    };
    let html = render(
        "enterprises.html",
        context! {
            t => Value::from(Serde(&t)),
            user => viewer.user.clone(),
            csrf => session.csrf.clone(),
            year => year,
            q => query.q.clone().unwrap_or_default(),
            class => query.class.clone().unwrap_or_default(),
            group => query.group.clone().unwrap_or_default(),
            classes => Value::from(Serde(["A", "B", "C", "D"])),
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
    let library = SchemeLibrary::builtin().map_err(|e| ApiError::internal(e.to_string()))?;
    let schemes: Vec<serde_json::Value> = library
        .all()
        .iter()
        .map(|s| {
            let benchmark = |b: &gusu_core::scheme::Benchmark| match b {
                gusu_core::scheme::Benchmark::GroupRatio => {
                    (if zh { "当年组内总量之比" } else { "the group's aggregate ratio" }).to_string()
                }
                gusu_core::scheme::Benchmark::Fixed(v) => v
                    .iter()
                    .map(|(y, x)| format!("{y}: {x}"))
                    .collect::<Vec<_>>()
                    .join(" · "),
                gusu_core::scheme::Benchmark::PriorYearRatio { multiple } => {
                    if zh { format!("上年组内总量之比 × {multiple}") } else { format!("{multiple} × the prior year's ratio") }
                }
            };
            serde_json::json!({
                "id": s.id(),
                "title": if zh { &s.title_zh } else { &s.title_en },
                "valid": format!("{}–{}", s.valid_from, s.valid_to.map(|y| y.to_string()).unwrap_or_default()),
                "confidence": s.confidence,
                "groups": s.groups.iter().map(|g| serde_json::json!({
                    "name": if zh { &g.name_zh } else { &g.name_en },
                    "indicators": g.indicators.iter().map(|i| serde_json::json!({
                        "name": if zh { &i.name_zh } else { &i.name_en },
                        "weight": i.weight,
                        "benchmark": benchmark(&i.benchmark),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "classes": match &s.classes {
                    gusu_core::scheme::ClassRule::RankPercentile(b) => b.iter().map(|(c, p)| if p.is_finite() { format!("{c} p<{p}") } else { c.clone() }).collect::<Vec<_>>().join(" · "),
                    gusu_core::scheme::ClassRule::ScoreThresholds(b) => b.iter().map(|(c, m)| if m.is_finite() { format!("{c} ≥{m}") } else { c.clone() }).collect::<Vec<_>>().join(" · "),
                },
                "measures": s.measures.iter().map(|m| format!(
                    "{} {}: {} {} ({}–{}) · {}",
                    m.class,
                    if zh { &m.name_zh } else { &m.name_en },
                    m.rate.map(|r| r.to_string()).unwrap_or_default(),
                    m.unit.as_deref().unwrap_or_default(),
                    m.applies_from,
                    m.applies_to.map(|y| y.to_string()).unwrap_or_default(),
                    m.source,
                )).collect::<Vec<_>>(),
                "parameters": s.parameters,
                "sources": s.sources.iter().map(|src| format!("{}{}", src.title, src.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default())).collect::<Vec<_>>(),
            })
        })
        .collect();
    let html = render(
        "rules.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            user => session.viewer.user.clone(),
            csrf => session.csrf.clone(),
            schemes => Value::from(Serde(&schemes)),
        },
    )?;
    Ok((out, Html(html)).into_response())
}
