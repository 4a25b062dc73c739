//! Applications for support policies delivered on application (issue 12, point 4): the
//! enterprise (or staff for it) opens one from its policies page, records the evidence the policy
//! names, and submits; the district recommends or returns it for more evidence; the city grants,
//! returns or rejects it. The route is gusu-core's (`route`), the same the near-zero-carbon
//! applications take; what must hold to move on is the policy's decision now (from the stored
//! facts) and every evidence item supplied.
//!
//! Scope: whoever may see the enterprise's data sees its applications; anything else answers 404.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use gusu_core::Uscc;
use gusu_core::route::{self, Action, ApplicationStatus};
use gusu_store::{PolicyApplication, StoreError};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::page_ctx::{PageCtx, PageQuery, back};
use crate::pages::Lang;
use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies/applications", get(list_page).post(open))
        .route("/policies/applications/{id}", get(detail_page))
        .route("/policies/applications/{id}/evidence", post(evidence))
        .route("/policies/applications/{id}/actions", post(act))
        .route("/api/v1/policy-applications", get(api_list).post(api_open))
        .route("/api/v1/policy-applications/{id}", get(api_detail))
        .route(
            "/api/v1/policy-applications/{id}/evidence",
            axum::routing::put(api_evidence),
        )
        .route("/api/v1/policy-applications/{id}/actions", post(api_act))
}

fn from_store(e: StoreError) -> ApiError {
    crate::nzc::route_error(e)
}

/// The policy's decision now for the application's enterprise and project, from what the store
/// holds (the viewer must see the enterprise).
fn decision_now(
    state: &AppState,
    viewer: &gusu_core::Viewer,
    uscc: &Uscc,
    policy_id: &str,
    project_id: Option<&str>,
) -> Result<crate::wire::policy::Decision, ApiError> {
    let library = state.policies();
    let policy = library
        .get(policy_id)
        .ok_or_else(|| ApiError::not_found("policy"))?;
    let s = crate::wire::policy::Situation {
        uscc: Some(uscc.to_string()),
        date: crate::policy::default_date(state)
            .format("%Y-%m-%d")
            .to_string(),
        enterprise: None,
        projects: Vec::new(),
        detail: None,
    };
    let (e, projects, date) = crate::policy::situate(state, viewer, &s)?;
    let only = gusu_core::policy::PolicyLibrary {
        policies: vec![policy.clone()],
    };
    crate::policy::decide(&only, e, &projects, date, s.uscc)
        .decisions
        .into_iter()
        .find(|d| d.project_id.as_deref() == project_id)
        .ok_or_else(|| ApiError::not_found("decision"))
}

/// What is still open before the application may move on: the decision's reasons when it is
/// not eligible now, and each evidence item without a reference.
fn open_items(
    decision: &crate::wire::policy::Decision,
    evidence_items: &[String],
    evidence: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut open = Vec::new();
    if decision.status != "eligible" {
        open.push(format!(
            "{}: {}",
            decision.status,
            decision.reasons.join(", ")
        ));
    }
    for item in evidence_items {
        if evidence.get(item).is_none_or(|v| v.trim().is_empty()) {
            open.push(format!("evidence: {item}"));
        }
    }
    open
}

/// The evidence items the application's policy names.
fn evidence_items(state: &AppState, policy_id: &str) -> Vec<String> {
    state
        .policies()
        .get(policy_id)
        .map(|p| p.evidence.clone())
        .unwrap_or_default()
}

fn visible(
    state: &AppState,
    viewer: &gusu_core::Viewer,
    id: i64,
) -> Result<PolicyApplication, ApiError> {
    state
        .reader()
        .policy_application(id)?
        .filter(|a| route::may_view(viewer, &a.state()))
        .ok_or_else(|| ApiError::not_found("application"))
}

#[derive(Serialize)]
struct Texts {
    title: &'static str,
    applications: &'static str,
    none: &'static str,
    enterprise: &'static str,
    policy: &'static str,
    project: &'static str,
    status: &'static str,
    updated: &'static str,
    decision_now: &'static str,
    amount: &'static str,
    evidence: &'static str,
    save_evidence: &'static str,
    reason: &'static str,
    actions: &'static str,
    history: &'static str,
    open_items: &'static str,
    error: &'static str,
    eligible: &'static str,
    needs_information: &'static str,
    not_eligible: &'static str,
}

fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            title: "政策申报",
            applications: "申报",
            none: "暂无申报",
            enterprise: "企业",
            policy: "政策",
            project: "项目",
            status: "状态",
            updated: "更新时间",
            decision_now: "按现有数据的判定",
            amount: "金额（万元）",
            evidence: "申报材料",
            save_evidence: "保存材料",
            reason: "理由（退回、不予通过时必填）",
            actions: "办理",
            history: "办理记录",
            open_items: "尚未满足",
            error: "未能完成",
            eligible: "符合",
            needs_information: "需补充信息",
            not_eligible: "不符合",
        },
        Lang::En => Texts {
            title: "Policy applications",
            applications: "Applications",
            none: "No applications",
            enterprise: "Enterprise",
            policy: "Policy",
            project: "Project",
            status: "Status",
            updated: "Updated",
            decision_now: "Decision on the stored facts",
            amount: "Amount (10k yuan)",
            evidence: "Evidence",
            save_evidence: "Save the evidence",
            reason: "Reason (needed to return or reject)",
            actions: "Actions",
            history: "History",
            open_items: "Still open",
            error: "Not done",
            eligible: "Eligible",
            needs_information: "Needs information",
            not_eligible: "Not eligible",
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
                "policy_applications.html",
                include_str!("../../../web/templates/policy_applications.html"),
            ),
            (
                "policy_application.html",
                include_str!("../../../web/templates/policy_application.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("the shipped templates parse (tested)");
        }
        env
    })
}

fn page(ctx: PageCtx, name: &str, extra: Value) -> Result<Response, ApiError> {
    let a = Value::from(Serde(texts(ctx.lang)));
    ctx.respond(render, name, context! { a => a, ..extra })
}

fn status_name(lang: Lang, status: ApplicationStatus) -> &'static str {
    match (lang, status) {
        // A policy's city step grants (兑现), where a certification certifies.
        (Lang::Zh, ApplicationStatus::Approved) => "已批准兑现",
        (Lang::En, ApplicationStatus::Approved) => "Granted",
        (Lang::Zh, s) => s.name_zh(),
        (Lang::En, s) => s.name_en(),
    }
}

fn action_name(lang: Lang, action: Action) -> &'static str {
    match (lang, action) {
        (Lang::Zh, Action::Approve) => "批准兑现",
        (Lang::En, Action::Approve) => "Grant",
        (Lang::Zh, a) => a.name_zh(),
        (Lang::En, a) => a.name_en(),
    }
}

fn policy_title(state: &AppState, lang: Lang, id: &str) -> String {
    state.policies().get(id).map_or_else(
        || id.to_string(),
        |p| {
            if lang == Lang::Zh {
                p.title_zh.clone()
            } else {
                p.title_en.clone()
            }
        },
    )
}

fn error_text(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        "forbidden" => ("您的角色无权执行此操作", "Your role may not do this"),
        "wrong_status" => ("当前状态不允许此操作", "Not possible in this status"),
        "criteria_not_met" => (
            "尚有条件不满足或缺少材料",
            "A condition does not hold or evidence is missing",
        ),
        "reason_required" => ("退回或不予通过须写明理由", "A reason is required"),
        "application_exists" => ("已有该政策的申报", "An application exists already"),
        "not_on_application" => (
            "该政策免申即享，无需申报",
            "This policy needs no application",
        ),
        "not_eligible" => ("按现有数据不符合该政策", "Not eligible on the stored facts"),
        _ => ("未能完成", "Not done"),
    };
    if lang == Lang::Zh { zh } else { en }
}

async fn list_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    if ctx.viewer.scope == gusu_core::Scope::Nothing {
        return Err(ApiError::forbidden());
    }
    let lang = ctx.lang;
    let rows: Vec<serde_json::Value> = state
        .reader()
        .policy_applications()?
        .into_iter()
        .filter(|a| route::may_view(&ctx.viewer, &a.state()))
        .map(|a| {
            json!({
                "id": a.id, "uscc": a.uscc.as_str(), "name": a.name,
                "policy": policy_title(&state, lang, &a.policy_id), "policy_id": a.policy_id,
                "project_id": a.project_id, "status_key": a.status.key(),
                "status": status_name(lang, a.status), "updated_at": a.updated_at,
            })
        })
        .collect();
    let extra = context! {
        rows => Value::from(Serde(rows)),
        error => q.banner(lang, error_text),
    };
    page(ctx, "policy_applications.html", extra)
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    uscc: String,
    policy: String,
    #[serde(default)]
    project_id: String,
}

/// Opens an application for a policy delivered on application, when the enterprise is not
/// ruled out on its stored facts.
pub(crate) fn open_application(
    state: &AppState,
    viewer: &gusu_core::Viewer,
    uscc: &str,
    policy_id: &str,
    project: Option<&str>,
) -> Result<i64, ApiError> {
    let uscc = Uscc::parse(uscc.trim())
        .map_err(|e| ApiError::bad_request("invalid_uscc", e.to_string()))?;
    let library = state.policies();
    let policy = library
        .get(policy_id)
        .ok_or_else(|| ApiError::not_found("policy"))?;
    if policy.delivery != "apply" {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not_on_application",
            format!("{} is delivered without application", policy.id),
        ));
    }
    let d = decision_now(state, viewer, &uscc, policy_id, project)?;
    if d.status == "not_eligible" {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not_eligible",
            d.first_reason_en.unwrap_or_default(),
        ));
    }
    state
        .store()
        .open_policy_application(
            viewer,
            &uscc,
            policy_id,
            project,
            state.0.config.clock.now(),
        )
        .map_err(from_store)
}

/// Replaces an application's evidence: a reference per item the policy names (others are
/// ignored).
pub(crate) fn save_evidence(
    state: &AppState,
    viewer: &gusu_core::Viewer,
    id: i64,
    given: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let app = visible(state, viewer, id)?;
    let items = evidence_items(state, &app.policy_id);
    let evidence: BTreeMap<String, String> = items
        .iter()
        .filter_map(|item| {
            let v = given.get(item)?.trim().to_string();
            (!v.is_empty()).then(|| (item.clone(), v))
        })
        .collect();
    state
        .store()
        .save_policy_evidence(viewer, id, &evidence, state.0.config.clock.now())
        .map_err(from_store)
}

/// One step of the route, judged on the decision now and the evidence as it stands.
pub(crate) fn act_on(
    state: &AppState,
    viewer: &gusu_core::Viewer,
    id: i64,
    action: &str,
    reason: &str,
) -> Result<ApplicationStatus, ApiError> {
    let action = Action::from_key(action)
        .ok_or_else(|| ApiError::bad_request("invalid_action", format!("no action {action}")))?;
    let app = visible(state, viewer, id)?;
    let items = evidence_items(state, &app.policy_id);
    let d = decision_now(
        state,
        viewer,
        &app.uscc,
        &app.policy_id,
        app.project_id.as_deref(),
    )?;
    let open = open_items(&d, &items, &app.evidence);
    let decision = serde_json::to_string(&d).map_err(|e| ApiError::internal(e.to_string()))?;
    state
        .store()
        .act_on_policy_application(
            viewer,
            id,
            action,
            reason,
            &open,
            &decision,
            d.amount_10k_yuan,
            state.0.config.clock.now(),
        )
        .map_err(from_store)
}

async fn open(
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
    let project = Some(form.project_id.trim()).filter(|p| !p.is_empty());
    let result = open_application(&state, &ctx.viewer, &form.uscc, &form.policy, project);
    match result {
        Ok(id) => Redirect::to(&format!("/policies/applications/{id}")).into_response(),
        Err(e) => back(
            &format!("/enterprises/{}/policies", form.uscc.trim()),
            Err(e),
        ),
    }
}

async fn detail_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, q.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let lang = ctx.lang;
    let app = visible(&state, &ctx.viewer, id)?;
    let items = evidence_items(&state, &app.policy_id);
    let d = decision_now(
        &state,
        &ctx.viewer,
        &app.uscc,
        &app.policy_id,
        app.project_id.as_deref(),
    )?;
    let open = open_items(&d, &items, &app.evidence);
    let evidence: Vec<serde_json::Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| json!({ "index": i + 1, "item": item, "value": app.evidence.get(item).cloned().unwrap_or_default() }))
        .collect();
    let actions: Vec<serde_json::Value> = route::available(&ctx.viewer, &app.state())
        .into_iter()
        .map(|a| json!({ "key": a.key(), "name": action_name(lang, a) }))
        .collect();
    let history: Vec<serde_json::Value> = state
        .reader()
        .policy_application_events(id)?
        .into_iter()
        .map(|e| {
            let name = match (Action::from_key(&e.action), e.action.as_str(), lang) {
                (Some(a), _, _) => action_name(lang, a).to_string(),
                (None, "opened", Lang::Zh) => "新建申报".into(),
                (None, "evidence", Lang::Zh) => "保存材料".into(),
                (None, "opened", Lang::En) => "Opened".into(),
                (None, "evidence", Lang::En) => "Evidence saved".into(),
                (None, other, _) => other.to_string(),
            };
            json!({ "at": e.at, "actor": e.actor, "action": name, "to": e.to_status, "reason": e.reason })
        })
        .collect();
    let may_edit = route::edit(&ctx.viewer, &app.state()).is_ok();
    let extra = context! {
        app => Value::from(Serde(&app)),
        policy => policy_title(&state, lang, &app.policy_id),
        status => status_name(lang, app.status),
        decision => Value::from(Serde(d)),
        open => open,
        evidence => Value::from(Serde(evidence)),
        actions => Value::from(Serde(actions)),
        history => Value::from(Serde(history)),
        may_edit => may_edit,
        zh => lang == Lang::Zh,
        error => q.banner(lang, error_text),
    };
    page(ctx, "policy_application.html", extra)
}

async fn evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").cloned().unwrap_or_default();
    let ctx = match PageCtx::of_form(&state, &headers, &csrf) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let to = format!("/policies/applications/{id}");
    let result = (|| -> Result<(), ApiError> {
        let app = visible(&state, &ctx.viewer, id)?;
        let items = evidence_items(&state, &app.policy_id);
        // The form numbers the items (ev_1, ev_2, …) in the policy's order.
        let given: BTreeMap<String, String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                Some((item.clone(), form.get(&format!("ev_{}", i + 1))?.clone()))
            })
            .collect();
        save_evidence(&state, &ctx.viewer, id, &given)
    })();
    back(&to, result)
}

#[derive(Deserialize)]
struct ActForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
}

async fn act(
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
    let to = format!("/policies/applications/{id}");
    let result = act_on(&state, &ctx.viewer, id, &form.action, &form.reason).map(|_| ());
    back(&to, result)
}

// ---------------------------------------------------------------------------------------------
// API

use crate::policy::json_body;

fn detail(
    state: &AppState,
    viewer: &gusu_core::Viewer,
    id: i64,
) -> Result<crate::wire::policy::PolicyApplicationDetail, ApiError> {
    let app = visible(state, viewer, id)?;
    let items = evidence_items(state, &app.policy_id);
    let d = decision_now(
        state,
        viewer,
        &app.uscc,
        &app.policy_id,
        app.project_id.as_deref(),
    )?;
    let open = open_items(&d, &items, &app.evidence);
    let history = state
        .reader()
        .policy_application_events(id)?
        .into_iter()
        .map(|e| crate::wire::policy::PolicyApplicationEvent {
            at: e.at,
            actor: e.actor,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            reason: e.reason,
        })
        .collect();
    Ok(crate::wire::policy::PolicyApplicationDetail {
        actions: route::available(viewer, &app.state())
            .into_iter()
            .map(|a| a.key().to_string())
            .collect(),
        application: (&app).into(),
        evidence_items: items,
        decision: d,
        open,
        history,
    })
}

/// The operations of the policy applications, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(api_list, api_open, api_detail, api_evidence, api_act))]
pub(crate) struct Api;

/// The applications the viewer may see, newest first.
#[utoipa::path(get, path = "/api/v1/policy-applications", tag = "policies",
    responses((status = 200, description = "The applications", body = crate::wire::policy::PolicyApplicationList)))]
async fn api_list(
    State(state): State<AppState>,
    authed: crate::Authed,
) -> Result<axum::Json<crate::wire::policy::PolicyApplicationList>, ApiError> {
    if authed.viewer.scope == gusu_core::Scope::Nothing {
        return Err(ApiError::forbidden());
    }
    let applications = state
        .reader()
        .policy_applications()?
        .iter()
        .filter(|a| route::may_view(&authed.viewer, &a.state()))
        .map(Into::into)
        .collect();
    Ok(axum::Json(crate::wire::policy::PolicyApplicationList {
        applications,
    }))
}

/// Opens an application (the enterprise itself, or staff in scope for it).
#[utoipa::path(post, path = "/api/v1/policy-applications", tag = "policies",
    request_body = crate::wire::policy::OpenApplicationBody,
    responses(
        (status = 201, description = "Opened, as a draft", body = crate::wire::policy::PolicyApplicationDetail),
        (status = 404, description = "No such enterprise in the viewer's scope, or no such policy", body = crate::wire::ErrorBody),
        (status = 409, description = "Not on application, not eligible, or an application exists", body = crate::wire::ErrorBody),
    ))]
async fn api_open(
    State(state): State<AppState>,
    authed: crate::Authed,
    body: Result<
        axum::Json<crate::wire::policy::OpenApplicationBody>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let project = b
        .project_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let id = open_application(&state, &authed.viewer, &b.uscc, &b.policy, project)?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(detail(&state, &authed.viewer, id)?),
    )
        .into_response())
}

/// An application with the decision now, what is open, the viewer's actions and the history.
#[utoipa::path(get, path = "/api/v1/policy-applications/{id}", tag = "policies",
    params(("id" = i64, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = crate::wire::policy::PolicyApplicationDetail)))]
async fn api_detail(
    State(state): State<AppState>,
    authed: crate::Authed,
    Path(id): Path<i64>,
) -> Result<axum::Json<crate::wire::policy::PolicyApplicationDetail>, ApiError> {
    Ok(axum::Json(detail(&state, &authed.viewer, id)?))
}

/// Replaces the evidence of a draft or returned application.
#[utoipa::path(put, path = "/api/v1/policy-applications/{id}/evidence", tag = "policies",
    params(("id" = i64, Path, description = "Application id")),
    request_body = crate::wire::policy::EvidenceBody,
    responses(
        (status = 200, description = "Saved", body = crate::wire::policy::PolicyApplicationDetail),
        (status = 409, description = "Not editable in its status", body = crate::wire::ErrorBody),
    ))]
async fn api_evidence(
    State(state): State<AppState>,
    authed: crate::Authed,
    Path(id): Path<i64>,
    body: Result<
        axum::Json<crate::wire::policy::EvidenceBody>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Result<axum::Json<crate::wire::policy::PolicyApplicationDetail>, ApiError> {
    let b = json_body(body)?;
    save_evidence(&state, &authed.viewer, id, &b.evidence)?;
    Ok(axum::Json(detail(&state, &authed.viewer, id)?))
}

/// One step of the route: submit, recommend, approve (grant), return, reject.
#[utoipa::path(post, path = "/api/v1/policy-applications/{id}/actions", tag = "policies",
    params(("id" = i64, Path, description = "Application id")),
    request_body = crate::wire::policy::ActionBody,
    responses(
        (status = 200, description = "Done", body = crate::wire::policy::PolicyApplicationDetail),
        (status = 409, description = "Not possible in its status, or something is still open", body = crate::wire::ErrorBody),
    ))]
async fn api_act(
    State(state): State<AppState>,
    authed: crate::Authed,
    Path(id): Path<i64>,
    body: Result<
        axum::Json<crate::wire::policy::ActionBody>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Result<axum::Json<crate::wire::policy::PolicyApplicationDetail>, ApiError> {
    let b = json_body(body)?;
    act_on(&state, &authed.viewer, id, &b.action, &b.reason)?;
    Ok(axum::Json(detail(&state, &authed.viewer, id)?))
}
