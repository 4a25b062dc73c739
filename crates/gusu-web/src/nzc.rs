//! Near-zero-carbon factory applications over HTTP (issue 4, point 5): an enterprise (or staff for
//! it) opens an application under a dated criteria document, records its evidence (offsets and
//! certificates with amounts and dates, management systems, green-factory level, incidents, the
//! energy quota), sees each criterion met, unmet or missing evidence with the offset ratio, and
//! submits; the district recommends or returns; the city certifies, returns or rejects. Pages and
//! the JSON API call the same actions; the rules are gusu-core's
//! (`carbon::nzc_application`), the writes gusu-store's, each with its audit entry.
//!
//! Scope: an enterprise sees its own applications, a district officer its district's, the city's
//! staff all; the administrators none. Anything else answers 404.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use gusu_core::carbon::nzc::{
    self, Assessment, Certificate, Criteria, EnergyQuota, Evidence, GreenFactoryLevel, Incident,
    Offset, Rule,
};
use gusu_core::carbon::nzc_application::{self as rules, Action, ApplicationStatus};
use gusu_core::{Scope, Uscc, Viewer};
use gusu_store::{NzcApplication, NzcEvent, Store, StoreError};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::page_ctx::{PageCtx, PageQuery, back};
use crate::pages::Lang;
use crate::wire::{self, ErrorBody};
use crate::{ApiError, AppState, Authed};
use utoipa::OpenApi;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/nzc/criteria", get(api_criteria))
        .route("/api/v1/nzc/applications", get(api_list).post(api_open))
        .route("/api/v1/nzc/applications/{id}", get(api_detail))
        .route(
            "/api/v1/nzc/applications/{id}/evidence",
            axum::routing::put(api_evidence),
        )
        .route("/api/v1/nzc/applications/{id}/actions", post(api_act))
        .route("/nzc", get(page_list).post(page_open))
        .route("/nzc/{id}", get(page_detail))
        .route("/nzc/{id}/evidence", post(page_evidence))
        .route("/nzc/{id}/actions", post(page_act))
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A route step refused by the rules (shared with the policy applications): forbidden, invalid,
/// or a conflict with the status.
pub(crate) fn route_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Application(a) => {
            let status = match a.code() {
                "forbidden" => StatusCode::FORBIDDEN,
                "invalid" => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            };
            ApiError::new(status, a.code(), a.to_string())
        }
        StoreError::NotFound(what) => ApiError::not_found(&what),
        other => ApiError::from(other),
    }
}

fn body_error(message: String) -> ApiError {
    ApiError::bad_request("invalid_body", message)
}

// ---------------------------------------------------------------------------------------------
// The actions, shared by pages and API

fn criteria_by_id<'a>(state: &'a AppState, id: &str) -> Result<&'a Criteria, ApiError> {
    state
        .0
        .config
        .nzc_criteria
        .iter()
        .find(|c| c.id() == id || c.name == id)
        .ok_or_else(|| {
            ApiError::bad_request(
                "unknown_criteria",
                format!("no criteria document {id} (see /api/v1/nzc/criteria)"),
            )
        })
}

/// The application if the viewer may see it; else 404 as if it did not exist.
fn visible(store: &Store, viewer: &Viewer, id: i64) -> Result<NzcApplication, ApiError> {
    store
        .nzc_application(id)?
        .filter(|a| rules::may_view(viewer, &a.state()))
        .ok_or_else(|| ApiError::not_found("application"))
}

fn may_list(viewer: &Viewer) -> Result<(), ApiError> {
    if viewer.scope == Scope::Nothing {
        Err(ApiError::forbidden())
    } else {
        Ok(())
    }
}

fn list(state: &AppState, viewer: &Viewer) -> Result<Vec<NzcApplication>, ApiError> {
    may_list(viewer)?;
    Ok(state
        .reader()
        .nzc_applications()?
        .into_iter()
        .filter(|a| rules::may_view(viewer, &a.state()))
        .collect())
}

/// What opening an application needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    pub uscc: String,
    /// The document's `name@version`, or its name for the shipped version.
    pub criteria: String,
    /// The assessment year.
    pub year: i32,
    #[serde(default)]
    pub evidence: Evidence,
}

fn open(state: &AppState, viewer: &Viewer, body: OpenBody) -> Result<i64, ApiError> {
    let uscc = Uscc::parse(body.uscc.trim()).map_err(|e| {
        ApiError::bad_request("invalid_uscc", format!("uscc {}: {e}", body.uscc.trim()))
    })?;
    if !(2000..=2100).contains(&body.year) {
        return Err(ApiError::bad_request(
            "invalid_year",
            format!("year {} is outside 2000–2100", body.year),
        ));
    }
    let criteria = criteria_by_id(state, body.criteria.trim())?;
    let mut evidence = body.evidence;
    // Emissions not given are taken from gusu's own accounts of the stored energy lines, so the
    // enterprise starts from the figures the bureau holds (and may correct them while a draft).
    // Only for a viewer who may record for the enterprise: nothing is read for anyone else.
    let district = state.reader().enterprise(&uscc)?.map(|e| e.district);
    let may_record = district.is_some_and(|d| rules::may_record(viewer, &uscc, &d));
    let accounts = if may_record {
        state.city_energy()?.scope12_by_year(&uscc)
    } else {
        Default::default()
    };
    if evidence.emissions.is_empty() {
        evidence.emissions = accounts.clone();
    }
    evidence.emissions_entered =
        gusu_core::carbon::nzc::entered_emission_years(&evidence, &accounts);
    let now = state.0.config.clock.now();
    check_offsets(&evidence, now.date_naive())?;
    state
        .store()
        .open_nzc_application(viewer, &uscc, criteria, body.year, &evidence, now)
        .map_err(route_error)
}

fn save_evidence(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    evidence: &Evidence,
) -> Result<(), ApiError> {
    let now = state.0.config.clock.now();
    check_offsets(evidence, now.date_naive())?;
    // Which years the applicant entered rather than took from gusu's accounts is the platform's
    // finding, whatever the request says. An application the viewer may not see is left to the
    // store to refuse.
    let mut evidence = evidence.clone();
    let app = state.reader().nzc_application(id).map_err(route_error)?;
    evidence.emissions_entered = match app {
        Some(app) => {
            let accounts = state.city_energy()?.scope12_by_year(&app.uscc);
            gusu_core::carbon::nzc::entered_emission_years(&evidence, &accounts)
        }
        None => Vec::new(),
    };
    state
        .store()
        .save_nzc_evidence(viewer, id, &evidence, now)
        .map_err(route_error)
}

/// Offsets are checked before they are stored and count: listed twice, an unrecognised kind,
/// retired in the future or before their year (the form and the API alike).
fn check_offsets(evidence: &Evidence, today: chrono::NaiveDate) -> Result<(), ApiError> {
    match gusu_core::carbon::nzc::offset_problems(evidence, today).first() {
        None => Ok(()),
        Some(p) => Err(ApiError::bad_request(
            "invalid_evidence",
            format!("offset {}: {}", p.offset, p.reason),
        )),
    }
}

/// A step of the route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    /// submit, recommend, approve, return or reject.
    pub action: String,
    #[serde(default)]
    pub reason: String,
}

fn act(state: &AppState, viewer: &Viewer, id: i64, body: &ActBody) -> Result<Value, ApiError> {
    let action = Action::from_key(body.action.trim()).ok_or_else(|| {
        ApiError::bad_request(
            "unknown_action",
            format!(
                "action {}: one of submit, recommend, approve, return, reject",
                body.action
            ),
        )
    })?;
    let criteria = {
        let store = state.reader();
        let app = visible(&store, viewer, id)?;
        criteria_by_id(state, &app.criteria)?.clone()
    };
    let now = state.0.config.clock.now();
    let status = state
        .store()
        .act_on_nzc_application(viewer, id, action, &body.reason, &criteria, now)
        .map_err(route_error)?;
    Ok(Value::from(status.key()))
}

/// An application with what the viewer needs to act on it.
#[derive(Serialize)]
struct Detail {
    application: NzcApplication,
    /// The evidence as it stands, assessed under the application's criteria.
    assessment: Assessment,
    events: Vec<NzcEvent>,
    /// What this viewer may do now.
    actions: Vec<Action>,
    may_edit: bool,
}

impl Detail {
    fn wire(&self) -> wire::nzc::ApplicationDetail {
        wire::nzc::ApplicationDetail {
            application: (&self.application).into(),
            assessment: (&self.assessment).into(),
            events: self.events.iter().map(Into::into).collect(),
            actions: self.actions.iter().map(|a| (*a).into()).collect(),
            may_edit: self.may_edit,
        }
    }
}

fn detail(state: &AppState, viewer: &Viewer, id: i64) -> Result<Detail, ApiError> {
    let store = state.reader();
    let application = visible(&store, viewer, id)?;
    let criteria = criteria_by_id(state, &application.criteria)?;
    let assessment = nzc::assess(
        criteria,
        &application.district,
        application.year,
        &application.evidence,
    );
    let events = store.nzc_events(id)?;
    let app_state = application.state();
    Ok(Detail {
        actions: rules::available(viewer, &app_state),
        may_edit: rules::edit(viewer, &app_state).is_ok(),
        application,
        assessment,
        events,
    })
}

// ---------------------------------------------------------------------------------------------
// API

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|e| body_error(e.body_text()))
}

/// The near-zero-carbon API's operations, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(api_criteria, api_list, api_open, api_detail, api_evidence, api_act))]
pub(crate) struct Api;

/// The near-zero-carbon criteria documents applications are assessed under.
#[utoipa::path(get, path = "/api/v1/nzc/criteria", tag = "nzc",
    responses((status = 200, description = "The criteria documents", body = wire::nzc::CriteriaList)))]
async fn api_criteria(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<wire::nzc::CriteriaList>, ApiError> {
    may_list(&authed.viewer)?;
    let criteria = state.0.config.nzc_criteria.iter().map(Into::into).collect();
    Ok(Json(wire::nzc::CriteriaList { criteria }))
}

/// Applications the viewer may see: its own (enterprise), its district's (officer), all (city
/// staff).
#[utoipa::path(get, path = "/api/v1/nzc/applications", tag = "nzc",
    responses((status = 200, description = "The applications", body = wire::nzc::ApplicationList)))]
async fn api_list(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<wire::nzc::ApplicationList>, ApiError> {
    let apps = list(&state, &authed.viewer)?;
    Ok(Json(wire::nzc::ApplicationList {
        applications: apps.iter().map(Into::into).collect(),
    }))
}

/// Open an application (the enterprise itself, or staff in scope for it).
#[utoipa::path(post, path = "/api/v1/nzc/applications", tag = "nzc",
    request_body = wire::nzc::OpenBody,
    responses(
        (status = 201, description = "Opened, as a draft", body = wire::nzc::ApplicationDetail),
        (status = 404, description = "No such enterprise in the viewer's scope", body = ErrorBody),
        (status = 409, description = "An open application of that enterprise and criteria exists", body = ErrorBody),
    ))]
async fn api_open(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<wire::nzc::OpenBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let body = OpenBody {
        uscc: body.uscc,
        criteria: body.criteria,
        year: body.year,
        evidence: body.evidence.into(),
    };
    let id = open(&state, &authed.viewer, body)?;
    let d = detail(&state, &authed.viewer, id)?;
    Ok((StatusCode::CREATED, Json(d.wire())).into_response())
}

/// An application with its evidence assessed criterion by criterion, the offset ratio, its
/// history and the viewer's possible actions.
#[utoipa::path(get, path = "/api/v1/nzc/applications/{id}", tag = "nzc",
    params(("id" = i64, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = wire::nzc::ApplicationDetail)))]
async fn api_detail(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<wire::nzc::ApplicationDetail>, ApiError> {
    Ok(Json(detail(&state, &authed.viewer, id)?.wire()))
}

/// Replace the evidence of a draft or returned application.
#[utoipa::path(put, path = "/api/v1/nzc/applications/{id}/evidence", tag = "nzc",
    params(("id" = i64, Path, description = "Application id")),
    request_body = wire::nzc::Evidence,
    responses(
        (status = 200, description = "Saved; the application as it stands", body = wire::nzc::ApplicationDetail),
        (status = 409, description = "Not editable at its status", body = ErrorBody),
    ))]
async fn api_evidence(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<wire::nzc::Evidence>, JsonRejection>,
) -> Result<Json<wire::nzc::ApplicationDetail>, ApiError> {
    let evidence: Evidence = json_body(body)?.into();
    save_evidence(&state, &authed.viewer, id, &evidence)?;
    Ok(Json(detail(&state, &authed.viewer, id)?.wire()))
}

/// A step of the route: submit, recommend, approve, return or reject (with a reason).
#[utoipa::path(post, path = "/api/v1/nzc/applications/{id}/actions", tag = "nzc",
    params(("id" = i64, Path, description = "Application id")),
    request_body = wire::nzc::ActBody,
    responses(
        (status = 200, description = "Done; the application as it stands", body = wire::nzc::ApplicationDetail),
        (status = 409, description = "Not allowed at its status", body = ErrorBody),
    ))]
async fn api_act(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<wire::nzc::ActBody>, JsonRejection>,
) -> Result<Json<wire::nzc::ApplicationDetail>, ApiError> {
    let body = json_body(body)?;
    let body = ActBody {
        action: body.action,
        reason: body.reason,
    };
    act(&state, &authed.viewer, id, &body)?;
    Ok(Json(detail(&state, &authed.viewer, id)?.wire()))
}

// ---------------------------------------------------------------------------------------------
// Page texts

#[derive(Serialize)]
struct NzcTexts {
    title: &'static str,
    applications: &'static str,
    new_application: &'static str,
    enterprise: &'static str,
    uscc: &'static str,
    criteria: &'static str,
    year: &'static str,
    status: &'static str,
    updated: &'static str,
    open: &'static str,
    none: &'static str,
    assessment: &'static str,
    criterion: &'static str,
    result: &'static str,
    detail: &'static str,
    met: &'static str,
    unmet: &'static str,
    missing_evidence: &'static str,
    offset_ratio: &'static str,
    all_met: &'static str,
    not_all_met: &'static str,
    evidence: &'static str,
    save_evidence: &'static str,
    flags: &'static str,
    undeclared: &'static str,
    yes: &'static str,
    no: &'static str,
    certificates: &'static str,
    system: &'static str,
    number: &'static str,
    valid_from: &'static str,
    valid_to: &'static str,
    emissions: &'static str,
    emissions_tco2: &'static str,
    emissions_source: &'static str,
    emissions_entered: &'static str,
    emissions_accounted: &'static str,
    offsets: &'static str,
    kind: &'static str,
    reference: &'static str,
    amount_tco2: &'static str,
    retired_on: &'static str,
    for_year: &'static str,
    green_factory: &'static str,
    level_none: &'static str,
    municipal: &'static str,
    provincial: &'static str,
    national: &'static str,
    incidents: &'static str,
    date: &'static str,
    description: &'static str,
    incidents_checked: &'static str,
    energy_quota: &'static str,
    quota_applicable: &'static str,
    standard: &'static str,
    unit_energy: &'static str,
    advanced_value: &'static str,
    actions: &'static str,
    reason: &'static str,
    history: &'static str,
    at: &'static str,
    actor: &'static str,
    step: &'static str,
    error: &'static str,
    district: &'static str,
    route: &'static str,
    source: &'static str,
    blank_rows: &'static str,
}

fn nzc_texts(lang: Lang) -> NzcTexts {
    match lang {
        Lang::Zh => NzcTexts {
            title: "近零碳工厂",
            applications: "申报",
            new_application: "新建申报",
            enterprise: "企业",
            uscc: "统一社会信用代码",
            criteria: "认定标准",
            year: "评价年度",
            status: "状态",
            updated: "更新时间",
            open: "新建",
            none: "暂无申报",
            assessment: "逐项评估",
            criterion: "条件",
            result: "结果",
            detail: "依据",
            met: "满足",
            unmet: "不满足",
            missing_evidence: "缺少材料",
            offset_ratio: "抵消比例",
            all_met: "全部条件满足，可进入下一步",
            not_all_met: "尚有条件不满足或缺少材料",
            evidence: "证明材料",
            save_evidence: "保存材料",
            flags: "声明事项",
            undeclared: "未声明",
            yes: "是",
            no: "否",
            certificates: "管理体系证书",
            system: "体系（quality / environment / ohs / energy）",
            number: "证书编号",
            valid_from: "有效期起",
            valid_to: "有效期止",
            emissions: "范围一+范围二排放",
            emissions_tco2: "排放量（tCO₂）",
            emissions_source: "来源",
            emissions_entered: "申请人填报（未经 gusu 核算）",
            emissions_accounted: "gusu 能耗核算",
            offsets: "抵消（绿证、CCER 等）",
            kind: "类型",
            reference: "编号",
            amount_tco2: "数量（tCO₂）",
            retired_on: "注销日期",
            for_year: "抵消年度",
            green_factory: "绿色工厂级别",
            level_none: "无",
            municipal: "市级",
            provincial: "省级",
            national: "国家级",
            incidents: "安全、环保、质量事故",
            date: "日期",
            description: "说明",
            incidents_checked: "已核实事故记录完整",
            energy_quota: "能耗限额",
            quota_applicable: "有适用的能耗限额标准",
            standard: "标准",
            unit_energy: "单位产品能耗",
            advanced_value: "先进值",
            actions: "办理",
            reason: "理由（退回、不予通过时必填）",
            history: "办理记录",
            at: "时间",
            actor: "办理人",
            step: "环节",
            error: "未能办理",
            district: "区县",
            route: "申报流程",
            source: "来源",
            blank_rows: "空行不计；日期格式 2026-01-31",
        },
        Lang::En => NzcTexts {
            title: "Near-zero-carbon factories",
            applications: "Applications",
            new_application: "New application",
            enterprise: "Enterprise",
            uscc: "USCC",
            criteria: "Criteria",
            year: "Assessment year",
            status: "Status",
            updated: "Updated",
            open: "Open",
            none: "No applications yet",
            assessment: "Criterion by criterion",
            criterion: "Criterion",
            result: "Result",
            detail: "Basis",
            met: "Met",
            unmet: "Unmet",
            missing_evidence: "Missing evidence",
            offset_ratio: "Offset ratio",
            all_met: "Every criterion is met: it can move on",
            not_all_met: "Some criteria are unmet or lack evidence",
            evidence: "Evidence",
            save_evidence: "Save evidence",
            flags: "Declarations",
            undeclared: "not declared",
            yes: "yes",
            no: "no",
            certificates: "Management-system certificates",
            system: "System (quality / environment / ohs / energy)",
            number: "Number",
            valid_from: "Valid from",
            valid_to: "Valid to",
            emissions: "Scope 1 + 2 emissions",
            emissions_tco2: "Emissions (tCO₂)",
            emissions_source: "Source",
            emissions_entered: "entered by the applicant (not gusu's accounts)",
            emissions_accounted: "gusu's energy accounts",
            offsets: "Offsets (green certificates, CCER, …)",
            kind: "Kind",
            reference: "Reference",
            amount_tco2: "Amount (tCO₂)",
            retired_on: "Retired on",
            for_year: "For year",
            green_factory: "Green-factory level",
            level_none: "none",
            municipal: "municipal",
            provincial: "provincial",
            national: "national",
            incidents: "Safety, environmental and quality incidents",
            date: "Date",
            description: "Description",
            incidents_checked: "The incident record is checked complete",
            energy_quota: "Energy quota",
            quota_applicable: "A quota standard applies",
            standard: "Standard",
            unit_energy: "Unit energy",
            advanced_value: "Advanced value",
            actions: "Actions",
            reason: "Reason (required to return or reject)",
            history: "History",
            at: "At",
            actor: "By",
            step: "Step",
            error: "Not done",
            district: "District",
            route: "Route",
            source: "Source",
            blank_rows: "Blank rows are ignored; dates as 2026-01-31",
        },
    }
}

fn error_text(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        "forbidden" => ("您的角色无权执行此操作", "Your role may not do this"),
        "wrong_status" => ("当前状态不允许此操作", "Not possible in this status"),
        "criteria_not_met" => (
            "尚有条件不满足或缺少材料",
            "Some criteria are unmet or lack evidence",
        ),
        "reason_required" => ("请填写理由", "A reason is required"),
        "application_exists" => (
            "该企业本年度在此标准下已有申报",
            "This enterprise already has an application under these criteria for this year",
        ),
        "csrf" => (
            "表单已失效，请刷新页面后重试",
            "The form expired; reload the page",
        ),
        _ => ("输入有误", "The input is not valid"),
    };
    if lang == Lang::Zh { zh } else { en }
}

// ---------------------------------------------------------------------------------------------
// Pages

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Renders an application page: the header's keys, the nzc texts, then the page's own.
fn page(ctx: PageCtx, name: &str, extra: Value) -> Result<Response, ApiError> {
    let n = Value::from(Serde(nzc_texts(ctx.lang)));
    ctx.respond(render, name, context! { n => n, ..extra })
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = crate::pages::templates();
        for (name, source) in [
            (
                "nzc_list.html",
                include_str!("../../../web/templates/nzc_list.html"),
            ),
            ("nzc.html", include_str!("../../../web/templates/nzc.html")),
        ] {
            env.add_template(name, source)
                .expect("the shipped templates parse (tested)");
        }
        env
    })
}

fn status_name(lang: Lang, status: ApplicationStatus) -> &'static str {
    if lang == Lang::Zh {
        status.name_zh()
    } else {
        status.name_en()
    }
}

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

fn criteria_title(state: &AppState, lang: Lang, id: &str) -> String {
    criteria_by_id(state, id).map_or_else(
        |_| id.to_string(),
        |c| {
            if lang == Lang::Zh {
                c.title_zh.clone()
            } else {
                c.title_en.clone()
            }
        },
    )
}

async fn page_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let lang = ctx.lang;
    let rows: Vec<serde_json::Value> = list(&state, &ctx.viewer)?
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "uscc": a.uscc.as_str(),
                "name": a.name,
                "district": district_name(&state, lang, &a.district),
                "criteria": criteria_title(&state, lang, &a.criteria),
                "year": a.year,
                "status": status_name(lang, a.status),
                "status_key": a.status.key(),
                "updated_at": a.updated_at,
            })
        })
        .collect();
    let documents: Vec<serde_json::Value> = state
        .0
        .config
        .nzc_criteria
        .iter()
        .map(|c| {
            json!({
                "id": c.id(),
                "title": if lang == Lang::Zh { &c.title_zh } else { &c.title_en },
                "year": c.year,
            })
        })
        .collect();
    let own = match &ctx.viewer.scope {
        Scope::Enterprise(u) => Some(u.as_str().to_string()),
        _ => None,
    };
    let extra = context! {
        rows => Value::from(Serde(rows)),
        documents => Value::from(Serde(documents)),
        may_open => ctx.viewer.is_staff() || own.is_some(),
        own_uscc => own,
        default_year => state.0.config.clock.now().format("%Y").to_string().parse::<i32>().unwrap_or(2026) - 1,
        error => query.banner(lang, error_text),
    };
    page(ctx, "nzc_list.html", extra)
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    uscc: String,
    criteria: String,
    year: String,
}

async fn page_open(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<OpenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("invalid_form", "the form is incomplete").into_response();
    };
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let year = match form.year.trim().parse::<i32>() {
        Ok(y) => y,
        Err(_) => {
            return back(
                "/nzc",
                Err(ApiError::bad_request(
                    "invalid_year",
                    format!("year {}", form.year),
                )),
            );
        }
    };
    let body = OpenBody {
        uscc: form.uscc,
        criteria: form.criteria,
        year,
        evidence: Evidence::default(),
    };
    match open(&state, &ctx.viewer, body) {
        Ok(id) => Redirect::to(&format!("/nzc/{id}")).into_response(),
        Err(e) => back("/nzc", Err(e)),
    }
}

/// One row of a criterion's table on the page.
#[derive(Serialize)]
struct ResultLine {
    id: String,
    name: String,
    status: &'static str,
    status_name: &'static str,
    detail: String,
}

/// The declarations (yes/no facts) the criteria ask for, and any others recorded.
fn flag_names(criteria: &Criteria, evidence: &Evidence) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for k in &criteria.criteria {
        match &k.rule {
            Rule::Flag { flag } => names.push(flag.clone()),
            Rule::Flags { flags } => names.extend(flags.iter().cloned()),
            _ => {}
        }
    }
    for name in evidence.flags.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

async fn page_detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let lang = ctx.lang;
    let zh = lang == Lang::Zh;
    let d = detail(&state, &ctx.viewer, id)?;
    let criteria = criteria_by_id(&state, &d.application.criteria)?;
    let t = nzc_texts(lang);
    let results: Vec<ResultLine> = d
        .assessment
        .results
        .iter()
        .map(|r| {
            let (status, name) = match r.status {
                nzc::Status::Met => ("met", t.met),
                nzc::Status::Unmet => ("unmet", t.unmet),
                nzc::Status::MissingEvidence => ("missing_evidence", t.missing_evidence),
            };
            ResultLine {
                id: r.id.clone(),
                name: if zh {
                    r.name_zh.clone()
                } else {
                    r.name_en.clone()
                },
                status,
                status_name: name,
                detail: r.detail.clone(),
            }
        })
        .collect();
    let flags: Vec<serde_json::Value> = flag_names(criteria, &d.application.evidence)
        .into_iter()
        .map(|name| {
            let value = match d.application.evidence.flags.get(&name) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            };
            json!({ "name": name, "label": flag_label(lang, &name), "value": value })
        })
        .collect();
    let actions: Vec<serde_json::Value> = d
        .actions
        .iter()
        .map(|a| {
            json!({
                "key": a.key(),
                "name": if zh { a.name_zh() } else { a.name_en() },
                "needs_reason": a.needs_reason(),
            })
        })
        .collect();
    let events: Vec<serde_json::Value> = d
        .events
        .iter()
        .map(|e| {
            let step = Action::from_key(&e.action).map_or_else(
                || match (e.action.as_str(), zh) {
                    ("opened", true) => "新建".to_string(),
                    ("opened", false) => "Opened".to_string(),
                    ("evidence_saved", true) => "保存材料".to_string(),
                    ("evidence_saved", false) => "Evidence saved".to_string(),
                    (other, _) => other.to_string(),
                },
                |a| if zh { a.name_zh() } else { a.name_en() }.to_string(),
            );
            let to = ApplicationStatus::from_key(&e.to_status)
                .map_or(e.to_status.as_str(), |s| status_name(lang, s));
            json!({ "at": e.at, "actor": e.actor, "step": step, "to": to, "reason": e.reason })
        })
        .collect();
    let app = &d.application;
    let extra = context! {
        app => Value::from(Serde(app)),
        status => status_name(lang, app.status),
        district => district_name(&state, lang, &app.district),
        criteria_title => if zh { &criteria.title_zh } else { &criteria.title_en },
        criteria_source => &criteria.source,
        criteria_route => criteria.route.join(" → "),
        passes => d.assessment.passes(),
        offset_ratio => d.assessment.offset_ratio,
        results => Value::from(Serde(results)),
        flags => Value::from(Serde(flags)),
        // (year, tCO₂, entered by the applicant rather than taken from gusu's accounts)
        emissions => Value::from(Serde(
            app.evidence
                .emissions
                .iter()
                .map(|(y, v)| (*y, *v, app.evidence.emissions_entered.contains(y)))
                .collect::<Vec<_>>()
        )),
        quota => Value::from(Serde(&app.evidence.energy_quota)),
        green => app.evidence.green_factory.map(|g| match g {
            GreenFactoryLevel::Municipal => "municipal",
            GreenFactoryLevel::Provincial => "provincial",
            GreenFactoryLevel::National => "national",
        }),
        may_edit => d.may_edit,
        actions => Value::from(Serde(actions)),
        events => Value::from(Serde(events)),
        blank => vec![1, 2],
        error => query.banner(lang, error_text),
    };
    page(ctx, "nzc.html", extra)
}

/// Plain names of the declarations the shipped criteria use.
fn flag_label(lang: Lang, name: &str) -> String {
    let (zh, en) = match name {
        "independent_legal_person" => (
            "独立法人工业企业",
            "independent legal-person industrial enterprise",
        ),
        "ghg_inventory" => ("具备温室气体盘查能力", "able to do GHG inventories"),
        "product_footprint" => (
            "具备产品碳足迹核算能力",
            "able to do product carbon footprints",
        ),
        other => (other, other),
    };
    if lang == Lang::Zh { zh } else { en }.to_string()
}

/// The evidence form's fields, as posted (rows are numbered: `cert_system_1`, ...).
fn evidence_from_form(fields: &[(String, String)]) -> Result<Evidence, ApiError> {
    let map: BTreeMap<&str, &str> = fields.iter().map(|(k, v)| (k.as_str(), v.trim())).collect();
    let get = |k: &str| map.get(k).copied().unwrap_or("");
    let invalid = |field: &str, value: &str, why: &str| {
        ApiError::bad_request("invalid_evidence", format!("{field} = {value:?}: {why}"))
    };
    let date = |field: &str| -> Result<NaiveDate, ApiError> {
        let v = get(field);
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| invalid(field, v, "not a date (2026-01-31)"))
    };
    // The strict reader of files: "1,5" (a decimal comma) is refused, never read as 15.
    let number = |field: &str| -> Result<f64, ApiError> {
        let v = get(field);
        match gusu_core::parse_figure(v) {
            Some(n) if n >= 0.0 => Ok(n),
            _ => Err(invalid(field, v, "not a number at or above 0")),
        }
    };
    let year = |field: &str| -> Result<i32, ApiError> {
        let v = get(field);
        match v.parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => Ok(y),
            _ => Err(invalid(field, v, "not a year between 2000 and 2100")),
        }
    };
    // The row numbers present for a prefix (`cert_system_3` → 3).
    let rows = |prefix: &str| -> Vec<u32> {
        let mut n: Vec<u32> = map
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.parse().ok())
            .collect();
        n.sort_unstable();
        n.dedup();
        n
    };
    let mut e = Evidence::default();
    for (k, v) in &map {
        if let Some(name) = k.strip_prefix("flag_") {
            match *v {
                "yes" => {
                    e.flags.insert(name.to_string(), true);
                }
                "no" => {
                    e.flags.insert(name.to_string(), false);
                }
                "" => {}
                other => return Err(invalid(k, other, "yes, no or blank")),
            }
        }
    }
    for n in rows("cert_system_") {
        let system = get(&format!("cert_system_{n}"));
        if system.is_empty() {
            continue;
        }
        e.certificates.push(Certificate {
            system: system.to_string(),
            number: get(&format!("cert_number_{n}")).to_string(),
            valid_from: date(&format!("cert_from_{n}"))?,
            valid_to: date(&format!("cert_to_{n}"))?,
        });
    }
    for n in rows("emis_year_") {
        if get(&format!("emis_year_{n}")).is_empty() {
            continue;
        }
        e.emissions.insert(
            year(&format!("emis_year_{n}"))?,
            number(&format!("emis_tco2_{n}"))?,
        );
    }
    for n in rows("off_kind_") {
        let kind = get(&format!("off_kind_{n}"));
        if kind.is_empty() {
            continue;
        }
        e.offsets.push(Offset {
            kind: kind.to_string(),
            reference: get(&format!("off_ref_{n}")).to_string(),
            amount_tco2: number(&format!("off_amount_{n}"))?,
            retired_on: date(&format!("off_retired_{n}"))?,
            for_year: year(&format!("off_year_{n}"))?,
        });
    }
    e.green_factory = match get("green_factory") {
        "" => None,
        "municipal" => Some(GreenFactoryLevel::Municipal),
        "provincial" => Some(GreenFactoryLevel::Provincial),
        "national" => Some(GreenFactoryLevel::National),
        other => {
            return Err(invalid(
                "green_factory",
                other,
                "municipal, provincial or national",
            ));
        }
    };
    for n in rows("inc_date_") {
        if get(&format!("inc_date_{n}")).is_empty() {
            continue;
        }
        e.incidents.push(Incident {
            date: date(&format!("inc_date_{n}"))?,
            kind: get(&format!("inc_kind_{n}")).to_string(),
            description: get(&format!("inc_desc_{n}")).to_string(),
        });
    }
    e.incidents_checked = get("incidents_checked") == "1";
    e.energy_quota = match get("quota_applicable") {
        "" => None,
        "no" => Some(EnergyQuota {
            applicable: false,
            standard: None,
            value: None,
            advanced: None,
        }),
        "yes" => {
            let optional = |field: &str| -> Result<Option<f64>, ApiError> {
                if get(field).is_empty() {
                    Ok(None)
                } else {
                    number(field).map(Some)
                }
            };
            let standard = get("quota_standard");
            Some(EnergyQuota {
                applicable: true,
                standard: (!standard.is_empty()).then(|| standard.to_string()),
                value: optional("quota_value")?,
                advanced: optional("quota_advanced")?,
            })
        }
        other => return Err(invalid("quota_applicable", other, "yes, no or blank")),
    };
    Ok(e)
}

async fn page_evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return ApiError::bad_request("invalid_form", "the form is unreadable").into_response();
    };
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    let ctx = match PageCtx::of_form(&state, &headers, csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let to = format!("/nzc/{id}");
    let result = evidence_from_form(&fields)
        .and_then(|evidence| save_evidence(&state, &ctx.viewer, id, &evidence));
    back(&to, result)
}

#[derive(Deserialize)]
struct ActForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

async fn page_act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<ActForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return ApiError::bad_request("invalid_form", "the form is incomplete").into_response();
    };
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let body = ActBody {
        action: form.action,
        reason: form.reason,
    };
    back(
        &format!("/nzc/{id}"),
        act(&state, &ctx.viewer, id, &body).map(|_| ()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_evidence_form_reads_rows_and_skips_blank_ones() {
        let e = evidence_from_form(&fields(&[
            ("csrf", "x"),
            ("flag_ghg_inventory", "yes"),
            ("flag_product_footprint", "no"),
            ("flag_independent_legal_person", ""),
            ("cert_system_1", "energy"),
            ("cert_number_1", "EN-1"),
            ("cert_from_1", "2024-01-01"),
            ("cert_to_1", "2027-01-01"),
            ("cert_system_2", ""),
            ("cert_from_2", "garbage ignored on a blank row"),
            ("emis_year_1", "2025"),
            ("emis_tco2_1", "1,200.5"),
            ("off_kind_1", "ccer"),
            ("off_ref_1", "C-1"),
            ("off_amount_1", "300"),
            ("off_retired_1", "2026-01-10"),
            ("off_year_1", "2025"),
            ("green_factory", "national"),
            ("incidents_checked", "1"),
            ("quota_applicable", "yes"),
            ("quota_value", "0.8"),
            ("quota_advanced", "0.9"),
        ]))
        .unwrap();
        assert_eq!(e.flags.get("ghg_inventory"), Some(&true));
        assert_eq!(e.flags.get("product_footprint"), Some(&false));
        assert!(!e.flags.contains_key("independent_legal_person"));
        assert_eq!(e.certificates.len(), 1);
        assert_eq!(e.emissions.get(&2025), Some(&1200.5));
        assert_eq!(e.offsets[0].amount_tco2, 300.0);
        assert_eq!(e.green_factory, Some(GreenFactoryLevel::National));
        assert!(e.incidents_checked);
        let q = e.energy_quota.unwrap();
        assert!(q.applicable && q.value == Some(0.8) && q.advanced == Some(0.9));
    }

    #[test]
    fn a_bad_cell_names_its_field_and_value() {
        for (pairs, field) in [
            (
                vec![("off_kind_1", "ccer"), ("off_amount_1", "-3")],
                "off_amount_1",
            ),
            (
                vec![("cert_system_1", "quality"), ("cert_from_1", "2024/01/01")],
                "cert_from_1",
            ),
            (
                vec![("emis_year_1", "1899"), ("emis_tco2_1", "1")],
                "emis_year_1",
            ),
            (vec![("green_factory", "county")], "green_factory"),
            // A decimal comma is refused, not read as 15.
            (
                vec![("emis_year_1", "2024"), ("emis_tco2_1", "1,5")],
                "emis_tco2_1",
            ),
        ] {
            let err = evidence_from_form(&fields(&pairs)).unwrap_err();
            assert_eq!(err.code, "invalid_evidence");
            assert!(err.message.contains(field), "{}", err.message);
        }
    }

    #[test]
    fn the_same_certificate_twice_is_refused_before_it_is_stored() {
        let mut pairs = Vec::new();
        for n in ["1", "2"] {
            for (k, v) in [
                ("off_kind", "ccer"),
                ("off_ref", "C-1"),
                ("off_amount", "300"),
                ("off_retired", "2026-01-10"),
                ("off_year", "2025"),
            ] {
                pairs.push((format!("{k}_{n}"), v.to_string()));
            }
        }
        let e = evidence_from_form(&pairs).unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let err = check_offsets(&e, today).unwrap_err();
        assert_eq!(err.code, "invalid_evidence");
        assert_eq!(
            err.message,
            "offset 2: ccer C-1 is listed twice (also offset 1)"
        );
        let mut once = e.clone();
        once.offsets.truncate(1);
        assert!(check_offsets(&once, today).is_ok());
    }
}
