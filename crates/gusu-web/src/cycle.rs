//! The evaluation cycle over HTTP (issue 3, point 4): staff start a cycle and move it through
//! data confirmation, public notice (公示) and review to publication; enterprises confirm or flag
//! their figures, file objections (异议) and receive their result notices. Pages and the JSON API
//! call the same actions below; the rules are gusu-core's (`gusu_core::cycle`), the writes
//! gusu-store's, each in one transaction with its audit entry.
//!
//! Scope: the city's staff see every cycle, a district officer the city's and its own district's
//! (only its district's enterprises in them), an enterprise the cycles its result is in (only its
//! own figures, objections and notices). Anything else answers 404.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use gusu_core::cycle::Stage;
use gusu_core::evaluate::simulate::{Migration, migration};
use gusu_core::evaluate::{EnterpriseResult, Evaluation, evaluate};
use gusu_core::{EvaluationInput, Scheme, SchemeLibrary, Scope, Uscc, Viewer};
use gusu_store::{CycleInfo, NewObjection, Notice, Objection, Store, StoreError};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::page_ctx::{PageCtx, PageQuery, back};
use crate::pages::Lang;
pub use crate::wire::cycle::CycleView;
use crate::wire::{self, ErrorBody};
use crate::{ApiError, AppState, Authed};

/// The time the cycle's rules are checked against.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    /// The system clock moved by whole days (rehearsing a cycle without waiting out its notice).
    pub fn shifted_days(days: i64) -> Clock {
        Clock(Arc::new(move || Utc::now() + chrono::Duration::days(days)))
    }

    /// Any source of time (tests move it past a notice period).
    pub fn new(f: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cycles", get(api_list).post(api_start))
        .route("/api/v1/cycles/{id}", get(api_detail))
        .route("/api/v1/cycles/{id}/advance", post(api_advance))
        .route("/api/v1/cycles/{id}/confirmations", post(api_confirm))
        .route("/api/v1/cycles/{id}/objections", post(api_object))
        .route("/api/v1/cycles/{id}/corrections", post(api_correct))
        .route("/api/v1/cycles/{id}/migration", get(api_migration))
        .route("/api/v1/cycles/{id}/versions/{version}", get(api_version))
        .route("/api/v1/objections/{id}", get(api_objection))
        .route("/api/v1/objections/{id}/decision", post(api_decide))
        .route("/api/v1/notices", get(api_notices))
        .route("/api/v1/notices/{id}", get(api_notice))
        .route("/api/v1/notices/{id}/read", post(api_read))
        .route("/cycles", get(page_list))
        .route("/cycles/new", get(page_new).post(page_start))
        .route("/cycles/{id}", get(page_detail))
        .route("/cycles/{id}/advance", post(page_advance))
        .route("/cycles/{id}/confirmations", post(page_confirm))
        .route("/cycles/{id}/objections", post(page_object))
        .route("/cycles/{id}/corrections", post(page_correct))
        .route("/cycles/{id}/migration", get(page_migration))
        .route("/cycles/{id}/versions/{version}", get(page_version))
        .route("/objections/{id}/decision", post(page_decide))
        .route("/my/cycle", get(page_my_cycle))
        .route("/notices", get(page_notices))
        .route("/notices/{id}/read", post(page_read))
        .route(
            "/static/cycle.js",
            get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/javascript; charset=utf-8",
                    )],
                    include_str!("../../../web/static/cycle.js"),
                )
            }),
        )
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A store error as the API answers it: the cycle's rules by their own codes.
fn from_store(e: StoreError) -> ApiError {
    match e {
        StoreError::Cycle(c) => {
            let status = match c.code() {
                "forbidden" => StatusCode::FORBIDDEN,
                "invalid" => StatusCode::BAD_REQUEST,
                // An enterprise outside the cycle is answered as if the cycle did not exist.
                "not_in_cycle" => return ApiError::not_found("cycle"),
                _ => StatusCode::CONFLICT,
            };
            ApiError::new(status, c.code(), c.to_string())
        }
        StoreError::Evaluation(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "evaluation_failed",
            e.to_string(),
        ),
        StoreError::NotFound(what) => ApiError::not_found(&what),
        other => ApiError::from(other),
    }
}

fn body_error(message: String) -> ApiError {
    ApiError::bad_request("invalid_body", message)
}

// ---------------------------------------------------------------------------------------------
// What the API and the pages show

#[derive(Serialize, ToSchema)]
struct Progress {
    enterprises: usize,
    confirmed: usize,
    flagged: usize,
    unanswered: usize,
}

/// An enterprise's line in the cycle's current version.
/// An enterprise's line in a cycle version.
#[derive(Serialize, Clone, ToSchema)]
struct Line {
    #[schema(value_type = String)]
    uscc: Uscc,
    name: String,
    district: String,
    status: String,
    class: Option<String>,
    score: Option<f64>,
    rank: Option<u32>,
}

#[derive(Serialize, ToSchema)]
struct ConfirmationLine {
    #[schema(value_type = String)]
    uscc: Uscc,
    name: String,
    status: String,
    message: Option<String>,
    answered_at: String,
}

#[derive(Serialize, ToSchema)]
struct ObjectionLine {
    #[serde(flatten)]
    objection: wire::cycle::Objection,
    name: String,
}

#[derive(Serialize, ToSchema)]
struct FigureLine {
    field: String,
    value: f64,
    source: String,
}

/// A cycle with its versions, progress, confirmations and objections in the viewer's scope.
#[derive(Serialize, ToSchema)]
struct Detail {
    cycle: CycleView,
    versions: Vec<VersionLine>,
    progress: Progress,
    confirmations: Vec<ConfirmationLine>,
    objections: Vec<ObjectionLine>,
    /// For an enterprise: its own result, figures and answer.
    mine: Option<Mine>,
}

#[derive(Serialize, ToSchema)]
struct Mine {
    /// From the public notice on.
    result: Option<Line>,
    figures: Vec<FigureLine>,
    confirmation: Option<String>,
    may_object_until: Option<String>,
}

fn view(cycle: CycleInfo, viewer: &Viewer) -> CycleView {
    CycleView::of(&cycle, viewer)
}

/// The cycle, if this viewer may know of it; else 404.
fn visible(store: &Store, viewer: &Viewer, id: i64) -> Result<CycleInfo, ApiError> {
    let cycle = store
        .cycle(id)
        .map_err(from_store)?
        .filter(|c| viewer.may_see_cycle(c.region.as_deref()))
        .ok_or_else(|| ApiError::not_found("cycle"))?;
    // An enterprise sees the cycles its result is in, once staff have opened them.
    if let Scope::Enterprise(uscc) = &viewer.scope
        && (!cycle.stage.open_to_enterprises() || !store.in_cycle(id, uscc).map_err(from_store)?)
    {
        return Err(ApiError::not_found("cycle"));
    }
    Ok(cycle)
}

/// The lines of a run the viewer may see.
fn lines(store: &Store, viewer: &Viewer, run_id: i64) -> Result<Vec<Line>, ApiError> {
    let mut out = Vec::new();
    for stored in store.results(run_id)? {
        let r: EnterpriseResult = crate::detail(&stored)?;
        if viewer.may_see(&r.uscc, &r.district) {
            out.push(Line {
                uscc: r.uscc,
                name: r.name,
                district: r.district.to_string(),
                status: r.status.key().to_string(),
                class: r.class.map(|c| c.to_string()),
                score: r.score,
                rank: r.rank,
            });
        }
    }
    Ok(out)
}

fn detail(store: &Store, viewer: &Viewer, cycle: CycleInfo) -> Result<Detail, ApiError> {
    let lines = lines(store, viewer, cycle.run_id)?;
    let names: BTreeMap<Uscc, &Line> = lines.iter().map(|l| (l.uscc, l)).collect();
    let name = |u: &Uscc| names.get(u).map(|l| l.name.clone()).unwrap_or_default();
    let confirmations: Vec<ConfirmationLine> = store
        .confirmations(cycle.id)?
        .into_iter()
        .filter(|c| names.contains_key(&c.uscc))
        .map(|c| ConfirmationLine {
            name: name(&c.uscc),
            uscc: c.uscc,
            status: c.status,
            message: c.message,
            answered_at: c.answered_at,
        })
        .collect();
    let confirmed = confirmations
        .iter()
        .filter(|c| c.status == "confirmed")
        .count();
    let flagged = confirmations.len() - confirmed;
    let progress = Progress {
        enterprises: lines.len(),
        confirmed,
        flagged,
        unanswered: lines.len().saturating_sub(confirmations.len()),
    };
    // An objection names its enterprise, which the viewer may or may not see: the run's lines
    // are already the viewer's scope.
    let objections: Vec<ObjectionLine> = store
        .objections(cycle.id)?
        .into_iter()
        .filter(|o| names.contains_key(&o.uscc))
        .map(|o| ObjectionLine {
            name: name(&o.uscc),
            objection: (&o).into(),
        })
        .collect();
    let mine = match &viewer.scope {
        Scope::Enterprise(uscc) => match names.get(uscc) {
            Some(line) => Some(Mine {
                result: cycle
                    .stage
                    .results_shown_to_enterprises()
                    .then(|| (*line).clone()),
                figures: store
                    .lineage(uscc, cycle.year)?
                    .into_iter()
                    .filter(|l| l.effective)
                    .map(|l| FigureLine {
                        field: l.field,
                        value: l.value,
                        source: l.source,
                    })
                    .collect(),
                confirmation: confirmations.first().map(|c| c.status.clone()),
                may_object_until: (cycle.stage == Stage::PublicNotice)
                    .then(|| cycle.notice_ends_at.clone())
                    .flatten(),
            }),
            None => None,
        },
        _ => None,
    };
    Ok(Detail {
        versions: versions_for(store, viewer, cycle.id)?,
        cycle: view(cycle, viewer),
        progress,
        confirmations,
        objections,
        mine,
    })
}

/// A cycle version as one viewer may read it. Every viewer sees that a version exists, its run
/// and its time; why it was made (the reason, the correction or objection behind it and the
/// enterprise) only a viewer whose scope holds that enterprise; which staff member made it only
/// staff. So one enterprise never reads another's correction notes (security review, issue 11).
#[derive(Debug, Serialize, ToSchema)]
struct VersionLine {
    version: u32,
    run_id: i64,
    created_at: String,
    /// False when the version concerns an enterprise outside the viewer's scope: the fields
    /// below are then empty.
    in_scope: bool,
    reason: Option<String>,
    #[schema(value_type = Option<String>)]
    uscc: Option<Uscc>,
    batch_id: Option<i64>,
    objection_id: Option<i64>,
    created_by: Option<String>,
}

fn version_line(
    store: &Store,
    viewer: &Viewer,
    v: gusu_store::CycleVersion,
) -> Result<VersionLine, ApiError> {
    let in_scope = match &v.uscc {
        // The start of the cycle concerns every enterprise in it alike.
        None => true,
        Some(uscc) => match &viewer.scope {
            Scope::City => true,
            Scope::Enterprise(own) => own == uscc,
            Scope::District(_) => store
                .enterprise(uscc)
                .map_err(from_store)?
                .is_some_and(|e| viewer.may_see(uscc, &e.district)),
            Scope::Nothing => false,
        },
    };
    let staff = viewer.is_staff();
    Ok(VersionLine {
        version: v.version,
        run_id: v.run_id,
        created_at: v.created_at,
        in_scope,
        reason: in_scope.then_some(v.reason),
        uscc: v.uscc.filter(|_| in_scope),
        batch_id: v.batch_id.filter(|_| in_scope && staff),
        objection_id: v.objection_id.filter(|_| in_scope),
        created_by: (in_scope && staff).then_some(v.created_by),
    })
}

/// A cycle's versions as this viewer may read them.
fn versions_for(
    store: &Store,
    viewer: &Viewer,
    cycle_id: i64,
) -> Result<Vec<VersionLine>, ApiError> {
    store
        .cycle_versions(cycle_id)?
        .into_iter()
        .map(|v| version_line(store, viewer, v))
        .collect()
}

/// One version of a cycle with its results in the viewer's scope: every version stays readable.
#[derive(Serialize, ToSchema)]
struct VersionView {
    cycle: i64,
    #[serde(flatten)]
    version: VersionLine,
    results: Vec<Line>,
}

fn version_of(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    version: u32,
) -> Result<VersionView, ApiError> {
    let store = state.store();
    let cycle = visible(&store, viewer, id)?;
    if matches!(viewer.scope, Scope::Enterprise(_)) && !cycle.stage.results_shown_to_enterprises() {
        return Err(ApiError::not_found("version"));
    }
    let found = store
        .cycle_versions(id)?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or_else(|| ApiError::not_found("version"))?;
    Ok(VersionView {
        cycle: id,
        results: lines(&store, viewer, found.run_id)?,
        version: version_line(&store, viewer, found)?,
    })
}

/// The server's schemes (the rules directory's included).
fn library(state: &AppState) -> Result<&SchemeLibrary, ApiError> {
    Ok(state.schemes())
}

/// The scheme a cycle evaluates by (its name, the version in force for its year).
fn scheme_of(state: &AppState, cycle: &CycleInfo) -> Result<Scheme, ApiError> {
    library(state)?
        .select(&cycle.scheme, cycle.year)
        .cloned()
        .map_err(|e| ApiError::internal(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Actions, shared by the API and the pages

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    pub year: i32,
    /// A scheme name (default: the platform's default scheme).
    pub scheme: Option<String>,
    /// A district code for the district's own run; none for the city.
    pub region: Option<String>,
    /// Days of public notice (default: the server's setting).
    pub notice_days: Option<u32>,
}

fn start(state: &AppState, viewer: &Viewer, body: StartBody) -> Result<CycleInfo, ApiError> {
    if !viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    let region = body
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(code) = region
        && state.0.config.region.by_code(code).is_none()
    {
        return Err(ApiError::bad_request(
            "invalid_region",
            format!("region: no district has the code {code}"),
        ));
    }
    if !viewer.may_manage_cycle(region) {
        return Err(ApiError::forbidden());
    }
    let library = library(state)?;
    let name = body
        .scheme
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(gusu_core::DEFAULT_SCHEME);
    let scheme = library
        .select(name, body.year)
        .map_err(|e| ApiError::bad_request("invalid_scheme", format!("scheme {name}: {e}")))?;
    let notice_days = body.notice_days.unwrap_or(state.0.config.notice_days);
    if notice_days > 365 {
        return Err(ApiError::bad_request(
            "invalid_notice_days",
            format!("notice_days: {notice_days} is more than a year"),
        ));
    }
    let mut store = state.store();
    if !store.years()?.contains(&body.year) {
        return Err(ApiError::bad_request(
            "no_data",
            format!("year: the store has no yearly figures for {}", body.year),
        ));
    }
    let id = store
        .start_cycle(
            viewer,
            scheme,
            body.year,
            region,
            notice_days,
            state.0.config.clock.now(),
        )
        .map_err(from_store)?;
    store
        .cycle(id)?
        .ok_or_else(|| ApiError::internal("the new cycle is missing"))
}

fn advance(state: &AppState, viewer: &Viewer, id: i64) -> Result<Stage, ApiError> {
    let mut store = state.store();
    visible(&store, viewer, id)?;
    store
        .advance_cycle(id, viewer, state.0.config.clock.now())
        .map_err(from_store)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// `confirmed` or `flagged`.
    pub status: String,
    /// What is wrong (required when flagged).
    pub message: Option<String>,
}

fn confirm(state: &AppState, viewer: &Viewer, id: i64, body: ConfirmBody) -> Result<(), ApiError> {
    let flagged = match body.status.as_str() {
        "confirmed" => false,
        "flagged" => true,
        other => {
            return Err(body_error(format!(
                "status: “{other}” is neither confirmed nor flagged"
            )));
        }
    };
    let mut store = state.store();
    visible(&store, viewer, id)?;
    store
        .confirm_figures(
            id,
            viewer,
            flagged,
            body.message.as_deref(),
            state.0.config.clock.now(),
        )
        .map_err(from_store)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    pub reasons: String,
    #[serde(default)]
    pub corrections: Vec<wire::cycle::FieldValue>,
    #[serde(default)]
    pub attachments: Vec<wire::cycle::Attachment>,
}

fn object(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    body: ObjectionBody,
) -> Result<Objection, ApiError> {
    let mut store = state.store();
    visible(&store, viewer, id)?;
    let objection_id = store
        .file_objection(
            id,
            viewer,
            &NewObjection {
                reasons: body.reasons,
                corrections: body.corrections.into_iter().map(Into::into).collect(),
                attachments: body.attachments.into_iter().map(Into::into).collect(),
            },
            state.0.config.clock.now(),
        )
        .map_err(from_store)?;
    store
        .objection(objection_id)?
        .ok_or_else(|| ApiError::internal("the new objection is missing"))
}

/// The objection, if this viewer may see it (its enterprise's, or staff over its cycle).
fn visible_objection(store: &Store, viewer: &Viewer, id: i64) -> Result<Objection, ApiError> {
    let objection = store
        .objection(id)?
        .ok_or_else(|| ApiError::not_found("objection"))?;
    let cycle =
        visible(store, viewer, objection.cycle_id).map_err(|_| ApiError::not_found("objection"))?;
    let district = store
        .enterprise(&objection.uscc)?
        .map(|e| e.district)
        .unwrap_or_default();
    if !viewer.may_see(&objection.uscc, &district) || !viewer.may_see_cycle(cycle.region.as_deref())
    {
        return Err(ApiError::not_found("objection"));
    }
    Ok(objection)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `accept` or `reject`.
    pub decision: String,
    pub reason: String,
}

fn decide(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    body: DecisionBody,
) -> Result<(Objection, Option<u32>), ApiError> {
    let accept = match body.decision.as_str() {
        "accept" => true,
        "reject" => false,
        other => {
            return Err(body_error(format!(
                "decision: “{other}” is neither accept nor reject"
            )));
        }
    };
    let mut store = state.store();
    let objection = visible_objection(&store, viewer, id)?;
    let cycle = visible(&store, viewer, objection.cycle_id)?;
    let scheme = scheme_of(state, &cycle)?;
    let version = store
        .decide_objection(
            id,
            viewer,
            accept,
            &body.reason,
            &scheme,
            state.0.config.clock.now(),
        )
        .map_err(from_store)?;
    let objection = store
        .objection(id)?
        .ok_or_else(|| ApiError::internal("the objection is missing"))?;
    Ok((objection, version))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    pub uscc: String,
    pub corrections: Vec<wire::cycle::FieldValue>,
    pub reason: String,
}

fn correct(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    body: CorrectionBody,
) -> Result<u32, ApiError> {
    let uscc = Uscc::parse(body.uscc.trim())
        .map_err(|e| ApiError::bad_request("invalid_uscc", format!("uscc: {e}")))?;
    let mut store = state.store();
    let cycle = visible(&store, viewer, id)?;
    let district = store.enterprise(&uscc)?.map(|e| e.district);
    if !district.is_some_and(|d| viewer.may_see(&uscc, &d)) {
        return Err(ApiError::not_found("enterprise"));
    }
    let scheme = scheme_of(state, &cycle)?;
    store
        .correct_cycle(
            id,
            viewer,
            &uscc,
            &body
                .corrections
                .into_iter()
                .map(Into::into)
                .collect::<Vec<_>>(),
            &body.reason,
            &scheme,
            state.0.config.clock.now(),
        )
        .map_err(from_store)
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MigrationQuery {
    /// `last_year` (default) or `scheme`.
    pub against: Option<String>,
    /// With `against=scheme`: the scheme to compare with.
    pub scheme: Option<String>,
    pub lang: Option<String>,
}

/// One row of a migration matrix: the class it starts from, the counts into each label, and
/// their sum.
#[derive(Serialize, ToSchema)]
struct MigrationRow {
    label: String,
    counts: Vec<u32>,
    total: u32,
}

/// A class migration matrix.
#[derive(Serialize, ToSchema)]
struct MigrationView {
    /// What the rows are.
    base: String,
    /// What the columns are.
    other: String,
    labels: Vec<String>,
    rows: Vec<MigrationRow>,
    changed: u32,
    compared: u32,
}

fn evaluation_of(cycle: &CycleInfo, scheme: String, results: Vec<EnterpriseResult>) -> Evaluation {
    Evaluation {
        scheme,
        scheme_version: String::new(),
        year: cycle.year,
        district: cycle.region.clone(),
        groups: Vec::new(),
        results,
    }
}

/// The class migration of the cycle's current version: against last year's published result
/// (rows last year, columns now) or another scheme on the same data (rows this cycle's scheme).
fn migration_of(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    query: &MigrationQuery,
) -> Result<MigrationView, ApiError> {
    if !viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    let store = state.store();
    let cycle = visible(&store, viewer, id)?;
    let seen = |r: &EnterpriseResult| viewer.may_see(&r.uscc, &r.district);
    let mut current = Vec::new();
    for stored in store.results(cycle.run_id)? {
        let r = crate::detail(&stored)?;
        if seen(&r) {
            current.push(r);
        }
    }
    let now_label = format!("{} v{}", cycle.year, cycle.version);
    let (base, other) = match query.against.as_deref().unwrap_or("last_year") {
        "last_year" => {
            let runs = store.runs(Some(cycle.year - 1))?;
            let pick = |region: Option<&str>| {
                runs.iter()
                    .filter(|r| r.published && r.region.as_deref() == region)
                    .max_by_key(|r| r.id)
            };
            let run = pick(cycle.region.as_deref())
                .or_else(|| pick(None))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::NOT_FOUND,
                        "no_base",
                        format!("no published result for {}", cycle.year - 1),
                    )
                })?;
            let mut before = Vec::new();
            for stored in store.results(run.id)? {
                let r = crate::detail(&stored)?;
                if seen(&r) {
                    before.push(r);
                }
            }
            (
                evaluation_of(&cycle, format!("{} #{}", cycle.year - 1, run.id), before),
                evaluation_of(&cycle, now_label, current),
            )
        }
        "scheme" => {
            let name = query.scheme.as_deref().unwrap_or_default();
            let library = library(state)?;
            let scheme = library.select(name, cycle.year).map_err(|e| {
                ApiError::bad_request("invalid_scheme", format!("scheme {name}: {e}"))
            })?;
            let enterprises = store.enterprises()?;
            let mut records = store.yearly_records(cycle.year)?;
            if scheme.needs_prior_year() {
                records.extend(store.yearly_records(cycle.year - 1)?);
            }
            let mut evaluation = evaluate(
                scheme,
                &EvaluationInput {
                    year: cycle.year,
                    enterprises: &enterprises,
                    records: &records,
                    district: cycle.region.as_deref(),
                },
            )
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "evaluation_failed",
                    e.to_string(),
                )
            })?;
            evaluation.results.retain(seen);
            (
                evaluation_of(&cycle, format!("{now_label} {}", cycle.scheme), current),
                evaluation_of(&cycle, scheme.id(), evaluation.results),
            )
        }
        other => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("against: “{other}” is neither last_year nor scheme"),
            ));
        }
    };
    let m: Migration = migration(&base, &other);
    let rows = m
        .labels
        .iter()
        .map(|from| {
            let counts: Vec<u32> = m.labels.iter().map(|to| m.count(from, to)).collect();
            let total = counts.iter().sum();
            MigrationRow {
                label: from.clone(),
                counts,
                total,
            }
        })
        .collect::<Vec<_>>();
    Ok(MigrationView {
        base: base.scheme,
        other: other.scheme,
        compared: rows.iter().map(|r| r.total).sum(),
        labels: m.labels,
        rows,
        changed: m.changed,
    })
}

/// The viewer's notices: an enterprise its own, staff those of enterprises in their scope.
fn notices(state: &AppState, viewer: &Viewer) -> Result<Vec<Notice>, ApiError> {
    let store = state.store();
    Ok(match &viewer.scope {
        Scope::Enterprise(uscc) => store.notices(Some(uscc))?,
        Scope::City | Scope::District(_) => store
            .notices(None)?
            .into_iter()
            .filter(|n| viewer.may_see(&n.uscc, n.district.as_deref().unwrap_or_default()))
            .collect(),
        Scope::Nothing => return Err(ApiError::forbidden()),
    })
}

fn notice(state: &AppState, viewer: &Viewer, id: i64) -> Result<Notice, ApiError> {
    notices(state, viewer)?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(|| ApiError::not_found("notice"))
}

/// An enterprise acknowledges its notice (签收).
fn read(state: &AppState, viewer: &Viewer, id: i64) -> Result<Notice, ApiError> {
    let found = notice(state, viewer, id)?;
    if !matches!(viewer.scope, Scope::Enterprise(_)) {
        return Err(ApiError::forbidden());
    }
    state
        .store()
        .mark_notice_read(found.id, viewer, state.0.config.clock.now())
        .map_err(from_store)?;
    notice(state, viewer, id)
}

// ---------------------------------------------------------------------------------------------
// JSON API

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|e| body_error(e.body_text()))
}

/// The cycle API's operations, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    api_list,
    api_start,
    api_detail,
    api_advance,
    api_confirm,
    api_object,
    api_correct,
    api_migration,
    api_version,
    api_objection,
    api_decide,
    api_notices,
    api_notice,
    api_read
))]
pub(crate) struct Api;

/// Evaluation cycles the viewer may see.
#[utoipa::path(get, path = "/api/v1/cycles", tag = "cycles",
    responses((status = 200, description = "The cycles", body = Vec<CycleView>)))]
async fn api_list(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<Vec<CycleView>>, ApiError> {
    let viewer = &authed.viewer;
    if viewer.scope == Scope::Nothing {
        return Err(ApiError::forbidden());
    }
    let store = state.store();
    let mut out = Vec::new();
    for c in store.cycles()? {
        if visible(&store, viewer, c.id).is_ok() {
            out.push(view(c, viewer));
        }
    }
    Ok(Json(out))
}

/// Start an evaluation cycle (staff of its region).
#[utoipa::path(post, path = "/api/v1/cycles", tag = "cycles",
    request_body = StartBody,
    responses(
        (status = 201, description = "Started, in draft", body = CycleView),
        (status = 409, description = "A cycle of that year and region is open already", body = ErrorBody),
        (status = 422, description = "The year's data cannot be evaluated", body = ErrorBody),
    ))]
async fn api_start(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<StartBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let cycle = start(&state, &authed.viewer, body)?;
    Ok((StatusCode::CREATED, Json(view(cycle, &authed.viewer))).into_response())
}

/// A cycle: stage, versions, confirmation progress, objections (the viewer's scope).
#[utoipa::path(get, path = "/api/v1/cycles/{id}", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses((status = 200, description = "The cycle", body = Detail)))]
async fn api_detail(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<Detail>, ApiError> {
    let store = state.store();
    let cycle = visible(&store, &authed.viewer, id)?;
    Ok(Json(detail(&store, &authed.viewer, cycle)?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// Move a cycle one stage on (publishing: the city administrator, or the district's officer
/// for a district's cycle).
#[utoipa::path(post, path = "/api/v1/cycles/{id}/advance", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body(content = Option<Empty>, description = "Nothing, or an empty object"),
    responses(
        (status = 200, description = "The stage it is in now", body = wire::cycle::Advanced),
        (status = 409, description = "Not allowed at this stage or time (the notice has not ended, say)", body = ErrorBody),
    ))]
async fn api_advance(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<Empty>, JsonRejection>,
) -> Result<Json<wire::cycle::Advanced>, ApiError> {
    // An empty body is fine; anything in it must be nothing.
    if let Err(e) = body
        && !matches!(e, JsonRejection::MissingJsonContentType(_))
    {
        return Err(body_error(e.body_text()));
    }
    let stage = advance(&state, &authed.viewer, id)?;
    Ok(Json(wire::cycle::Advanced {
        cycle: id,
        stage: stage.into(),
    }))
}

/// An enterprise confirms or flags its figures during data confirmation.
#[utoipa::path(post, path = "/api/v1/cycles/{id}/confirmations", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "Recorded", body = wire::cycle::Confirmed),
        (status = 409, description = "Not at this stage", body = ErrorBody),
    ))]
async fn api_confirm(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<ConfirmBody>, JsonRejection>,
) -> Result<Json<wire::cycle::Confirmed>, ApiError> {
    let body = json_body(body)?;
    let status = body.status.clone();
    confirm(&state, &authed.viewer, id, body)?;
    Ok(Json(wire::cycle::Confirmed { cycle: id, status }))
}

/// An enterprise files an objection during the public notice.
#[utoipa::path(post, path = "/api/v1/cycles/{id}/objections", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body = ObjectionBody,
    responses(
        (status = 201, description = "Filed", body = wire::cycle::Objection),
        (status = 409, description = "Not during the notice, or one is pending already", body = ErrorBody),
    ))]
async fn api_object(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<ObjectionBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json_body(body)?;
    let objection = object(&state, &authed.viewer, id, body)?;
    Ok((
        StatusCode::CREATED,
        Json(wire::cycle::Objection::from(&objection)),
    )
        .into_response())
}

/// One objection (its enterprise's, or staff of its scope).
#[utoipa::path(get, path = "/api/v1/objections/{id}", tag = "cycles",
    params(("id" = i64, Path, description = "Objection id")),
    responses((status = 200, description = "The objection", body = wire::cycle::Objection)))]
async fn api_objection(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<wire::cycle::Objection>, ApiError> {
    let objection = visible_objection(&state.store(), &authed.viewer, id)?;
    Ok(Json((&objection).into()))
}

/// Decide an objection in review; accepting it corrects the figures in a new version.
#[utoipa::path(post, path = "/api/v1/objections/{id}/decision", tag = "cycles",
    params(("id" = i64, Path, description = "Objection id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "Decided", body = wire::cycle::Decided),
        (status = 409, description = "Not in review, or decided already", body = ErrorBody),
    ))]
async fn api_decide(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<wire::cycle::Decided>, ApiError> {
    let body = json_body(body)?;
    let (objection, version) = decide(&state, &authed.viewer, id, body)?;
    Ok(Json(wire::cycle::Decided {
        objection: (&objection).into(),
        new_version: version,
    }))
}

/// Staff correct an enterprise's figures with a reason: a new version.
#[utoipa::path(post, path = "/api/v1/cycles/{id}/corrections", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body = CorrectionBody,
    responses(
        (status = 200, description = "Corrected", body = wire::cycle::Corrected),
        (status = 409, description = "Not at this stage", body = ErrorBody),
    ))]
async fn api_correct(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    body: Result<Json<CorrectionBody>, JsonRejection>,
) -> Result<Json<wire::cycle::Corrected>, ApiError> {
    let body = json_body(body)?;
    let version = correct(&state, &authed.viewer, id, body)?;
    Ok(Json(wire::cycle::Corrected { cycle: id, version }))
}

/// Class migration matrix against last year or another scheme.
#[utoipa::path(get, path = "/api/v1/cycles/{id}/migration", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id"), MigrationQuery),
    responses(
        (status = 200, description = "The matrix", body = MigrationView),
        (status = 422, description = "The comparison cannot be evaluated", body = ErrorBody),
    ))]
async fn api_migration(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    query: Result<Query<MigrationQuery>, QueryRejection>,
) -> Result<Json<MigrationView>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(migration_of(&state, &authed.viewer, id, &query)?))
}

/// One version of a cycle with its results in the viewer's scope.
#[utoipa::path(get, path = "/api/v1/cycles/{id}/versions/{version}", tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id"), ("version" = u32, Path, description = "Version number")),
    responses((status = 200, description = "The version", body = VersionView)))]
async fn api_version(
    State(state): State<AppState>,
    authed: Authed,
    Path((id, version)): Path<(i64, u32)>,
) -> Result<Json<VersionView>, ApiError> {
    let view = version_of(&state, &authed.viewer, id, version)?;
    let what = format!("cycle {id} version {version}");
    crate::audit_bulk_read(&state, &authed.viewer, &what, view.results.len())?;
    Ok(Json(view))
}

/// Result notices: an enterprise's own, staff those in their scope.
#[utoipa::path(get, path = "/api/v1/notices", tag = "cycles",
    responses((status = 200, description = "The notices", body = Vec<wire::cycle::Notice>)))]
async fn api_notices(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<Vec<wire::cycle::Notice>>, ApiError> {
    let notices = notices(&state, &authed.viewer)?;
    Ok(Json(notices.iter().map(Into::into).collect()))
}

/// One result notice.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "cycles",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 200, description = "The notice", body = wire::cycle::Notice)))]
async fn api_notice(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<wire::cycle::Notice>, ApiError> {
    Ok(Json((&notice(&state, &authed.viewer, id)?).into()))
}

/// An enterprise acknowledges its result notice (签收).
#[utoipa::path(post, path = "/api/v1/notices/{id}/read", tag = "cycles",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 200, description = "Acknowledged", body = wire::cycle::Notice)))]
async fn api_read(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> Result<Json<wire::cycle::Notice>, ApiError> {
    Ok(Json((&read(&state, &authed.viewer, id)?).into()))
}

// ---------------------------------------------------------------------------------------------
// Pages

/// The cycle pages' own texts.
#[derive(Serialize)]
struct CycleTexts {
    cycles: &'static str,
    new_cycle: &'static str,
    no_cycles: &'static str,
    year: &'static str,
    scheme: &'static str,
    region: &'static str,
    city: &'static str,
    stage: &'static str,
    version: &'static str,
    notice_days: &'static str,
    notice_ends: &'static str,
    created: &'static str,
    start: &'static str,
    advance_to: &'static str,
    progress: &'static str,
    enterprises: &'static str,
    confirmed: &'static str,
    flagged: &'static str,
    unanswered: &'static str,
    confirmations: &'static str,
    objections: &'static str,
    no_objections: &'static str,
    enterprise: &'static str,
    reasons: &'static str,
    proposed: &'static str,
    attachments: &'static str,
    status: &'static str,
    decision: &'static str,
    decision_reason: &'static str,
    accept: &'static str,
    reject: &'static str,
    pending: &'static str,
    accepted: &'static str,
    rejected: &'static str,
    versions: &'static str,
    reason: &'static str,
    out_of_scope: &'static str,
    run: &'static str,
    by: &'static str,
    at: &'static str,
    migration: &'static str,
    against_last_year: &'static str,
    against_scheme: &'static str,
    compare: &'static str,
    migration_note: &'static str,
    changed: &'static str,
    total: &'static str,
    corrections: &'static str,
    correction_note: &'static str,
    uscc: &'static str,
    field: &'static str,
    value: &'static str,
    submit: &'static str,
    my_result: &'static str,
    my_figures: &'static str,
    source: &'static str,
    class: &'static str,
    score: &'static str,
    rank: &'static str,
    confirm_figures: &'static str,
    flag_figures: &'static str,
    message: &'static str,
    file_objection: &'static str,
    objection_until: &'static str,
    attachment: &'static str,
    file_name: &'static str,
    media_type: &'static str,
    size: &'static str,
    notices: &'static str,
    no_notices: &'static str,
    notice_title: &'static str,
    acknowledge: &'static str,
    read: &'static str,
    unread: &'static str,
    your_answer: &'static str,
    started: &'static str,
    error: &'static str,
}

fn cycle_texts(lang: Lang) -> CycleTexts {
    match lang {
        Lang::Zh => CycleTexts {
            cycles: "评价流程",
            new_cycle: "发起评价",
            no_cycles: "暂无评价流程",
            year: "年度",
            scheme: "评价方案",
            region: "范围",
            city: "全市",
            stage: "阶段",
            version: "版本",
            notice_days: "公示天数",
            notice_ends: "公示截止",
            created: "发起",
            start: "发起",
            advance_to: "推进至",
            progress: "数据确认进度",
            enterprises: "企业",
            confirmed: "已确认",
            flagged: "报告有误",
            unanswered: "未答复",
            confirmations: "数据确认",
            objections: "异议",
            no_objections: "暂无异议",
            enterprise: "企业",
            reasons: "异议理由",
            proposed: "申请更正的数据",
            attachments: "附件",
            status: "状态",
            decision: "处理",
            decision_reason: "处理意见",
            accept: "采纳",
            reject: "驳回",
            pending: "待处理",
            accepted: "已采纳",
            rejected: "已驳回",
            versions: "版本记录",
            reason: "原因",
            out_of_scope: "涉及您查看范围以外企业的变更",
            run: "评价批次",
            by: "经办人",
            at: "时间",
            migration: "类别迁移矩阵",
            against_last_year: "对比上年已发布结果",
            against_scheme: "对比另一方案",
            compare: "对比",
            migration_note: "行：对照；列：比较对象。单元格为企业数。",
            changed: "类别变化的企业",
            total: "合计",
            corrections: "数据更正",
            correction_note: "更正写入为“correction”来源的数据并重新评价，形成新版本；发布后的更正立即发布。",
            uscc: "统一社会信用代码",
            field: "字段",
            value: "值",
            submit: "提交",
            my_result: "本企业评价结果",
            my_figures: "本企业年度数据",
            source: "来源",
            class: "类别",
            score: "得分",
            rank: "组内排名",
            confirm_figures: "确认数据无误",
            flag_figures: "报告数据有误",
            message: "说明",
            file_objection: "提出异议",
            objection_until: "异议受理截止",
            attachment: "附件（仅登记文件信息）",
            file_name: "文件名",
            media_type: "文件类型",
            size: "大小（字节）",
            notices: "结果通知",
            no_notices: "暂无结果通知",
            notice_title: "评价结果通知书",
            acknowledge: "签收",
            read: "已签收",
            unread: "未签收",
            your_answer: "本企业的答复",
            started: "发起评价",
            error: "操作未完成",
        },
        Lang::En => CycleTexts {
            cycles: "Evaluation cycles",
            new_cycle: "Start a cycle",
            no_cycles: "No evaluation cycle yet",
            year: "Year",
            scheme: "Scheme",
            region: "Region",
            city: "whole city",
            stage: "Stage",
            version: "Version",
            notice_days: "Days of public notice",
            notice_ends: "Notice ends",
            created: "Started",
            start: "Start",
            advance_to: "Move on to",
            progress: "Data confirmation",
            enterprises: "Enterprises",
            confirmed: "confirmed",
            flagged: "flagged",
            unanswered: "no answer",
            confirmations: "Answers",
            objections: "Objections",
            no_objections: "No objections",
            enterprise: "Enterprise",
            reasons: "Reasons",
            proposed: "Corrections asked for",
            attachments: "Attachments",
            status: "Status",
            decision: "Decision",
            decision_reason: "Reason for the decision",
            accept: "Accept",
            reject: "Reject",
            pending: "pending",
            accepted: "accepted",
            rejected: "rejected",
            versions: "Versions",
            reason: "Reason",
            out_of_scope: "A change concerning an enterprise outside your scope",
            run: "Run",
            by: "By",
            at: "At",
            migration: "Class migration",
            against_last_year: "against last year's published result",
            against_scheme: "against another scheme",
            compare: "Compare",
            migration_note: "Rows: the base; columns: the comparison. Cells count enterprises.",
            changed: "Enterprises whose class changed",
            total: "Total",
            corrections: "Correct the data",
            correction_note: "A correction is written as values of the source “correction” and re-evaluated as a new version; after publication it is published at once.",
            uscc: "USCC",
            field: "Field",
            value: "Value",
            submit: "Submit",
            my_result: "Our result",
            my_figures: "Our figures for the year",
            source: "Source",
            class: "Class",
            score: "Score",
            rank: "Rank",
            confirm_figures: "The figures are right",
            flag_figures: "Report an error in the figures",
            message: "What is wrong",
            file_objection: "File an objection",
            objection_until: "Objections accepted until",
            attachment: "Attachment (described only)",
            file_name: "File name",
            media_type: "Media type",
            size: "Size (bytes)",
            notices: "Result notices",
            no_notices: "No result notice yet",
            notice_title: "Notice of evaluation result",
            acknowledge: "Acknowledge receipt",
            read: "acknowledged",
            unread: "not acknowledged",
            your_answer: "Our answer",
            started: "cycle started",
            error: "Not done",
        },
    }
}

/// The error a page shows after a refused form, in the page's language.
fn error_text(lang: Lang, code: &str) -> &'static str {
    let (zh, en) = match code {
        "forbidden" => ("您的角色无权执行此操作", "Your role may not do this"),
        "wrong_stage" => ("当前阶段不允许此操作", "Not possible at this stage"),
        "notice_period_over" => (
            "公示期已结束，不再受理异议",
            "The notice period has ended; objections are closed",
        ),
        "notice_period_running" => (
            "公示期尚未结束，结束后方可进入复核",
            "The notice period is still running; review begins when it ends",
        ),
        "undecided_objections" => (
            "尚有未处理的异议，全部处理后方可发布",
            "Some objections are undecided; decide them all before publishing",
        ),
        "already_decided" => ("该异议已处理", "The objection was already decided"),
        "already_published" => (
            "已发布；如需改变请提交更正并说明原因",
            "Already published; a change needs a correction with its reason",
        ),
        "cycle_open" => (
            "本年度该范围已有未发布的评价流程",
            "A cycle of this year and region is still open",
        ),
        "evaluation_failed" => ("评价无法完成", "The evaluation could not be made"),
        "csrf" => (
            "表单已失效，请刷新页面后重试",
            "The form expired; reload the page",
        ),
        _ => ("输入有误", "The input is not valid"),
    };
    if lang == Lang::Zh { zh } else { en }
}

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    let mut env = crate::pages::templates();
    for (name, source) in [
        (
            "cycles.html",
            include_str!("../../../web/templates/cycles.html"),
        ),
        (
            "cycle_new.html",
            include_str!("../../../web/templates/cycle_new.html"),
        ),
        (
            "cycle.html",
            include_str!("../../../web/templates/cycle.html"),
        ),
        (
            "cycle_migration.html",
            include_str!("../../../web/templates/cycle_migration.html"),
        ),
        (
            "notices.html",
            include_str!("../../../web/templates/notices.html"),
        ),
        (
            "cycle_version.html",
            include_str!("../../../web/templates/cycle_version.html"),
        ),
    ] {
        env.add_template(name, source)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Renders a cycle page: the header's keys, the cycle texts, then the page's own.
fn page(ctx: PageCtx, name: &str, extra: Value) -> Result<Response, ApiError> {
    let c = Value::from(Serde(cycle_texts(ctx.lang)));
    ctx.respond(render, name, context! { c => c, ..extra })
}

fn region_name(state: &AppState, lang: Lang, region: Option<&str>) -> String {
    let t = cycle_texts(lang);
    match region {
        None => t.city.to_string(),
        Some(code) => state.0.config.region.by_code(code).map_or_else(
            || code.to_string(),
            |d| {
                if lang == Lang::Zh {
                    d.name_zh.clone()
                } else {
                    d.name_en.clone()
                }
            },
        ),
    }
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
    if ctx.viewer.scope == Scope::Nothing {
        return Err(ApiError::forbidden());
    }
    let store = state.store();
    let mut rows = Vec::new();
    for c in store.cycles()? {
        if visible(&store, &ctx.viewer, c.id).is_ok() {
            let region = region_name(&state, ctx.lang, c.region.as_deref());
            rows.push(json!({
                "id": c.id,
                "year": c.year,
                "scheme": c.scheme,
                "region": region,
                "stage": if ctx.lang == Lang::Zh { c.stage.name_zh() } else { c.stage.name_en() },
                "stage_key": c.stage.key(),
                "version": c.version,
                "notice_ends_at": c.notice_ends_at,
                "created_at": c.created_at,
            }));
        }
    }
    let extra = context! {
            staff => ctx.viewer.is_staff(),
            rows => Value::from(Serde(rows)),
    };
    page(ctx, "cycles.html", extra)
}

async fn page_new(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    if !ctx.viewer.is_staff() {
        return Err(ApiError::forbidden());
    }
    let zh = ctx.lang == Lang::Zh;
    let mut regions = Vec::new();
    if ctx.viewer.may_manage_cycle(None) {
        regions.push(json!({ "code": "", "name": cycle_texts(ctx.lang).city }));
    }
    for d in &state.0.config.region.districts {
        if ctx.viewer.may_manage_cycle(Some(&d.code)) {
            regions
                .push(json!({ "code": d.code, "name": if zh { &d.name_zh } else { &d.name_en } }));
        }
    }
    let schemes: Vec<serde_json::Value> = library(&state)?
        .all()
        .iter()
        .map(|s| json!({ "name": s.name, "title": if zh { &s.title_zh } else { &s.title_en } }))
        .collect();
    let years = state.store().years()?;
    let extra = context! {
            regions => Value::from(Serde(regions)),
            schemes => Value::from(Serde(schemes)),
            default_scheme => gusu_core::DEFAULT_SCHEME,
            year => years.last().copied(),
            notice_days => state.0.config.notice_days,
            error => query.banner(ctx.lang, error_text),
    };
    page(ctx, "cycle_new.html", extra)
}

#[derive(Deserialize)]
struct StartForm {
    csrf: String,
    year: String,
    scheme: Option<String>,
    region: Option<String>,
    notice_days: Option<String>,
}

async fn page_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<StartForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let parsed = (|| {
        let year = form
            .year
            .trim()
            .parse::<i32>()
            .map_err(|_| body_error(format!("year: “{}” is not a year", form.year)))?;
        let notice_days = match form.notice_days.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(d.parse::<u32>().map_err(|_| {
                body_error(format!("notice_days: “{d}” is not a whole number of days"))
            })?),
        };
        start(
            &state,
            &ctx.viewer,
            StartBody {
                year,
                scheme: form.scheme.clone(),
                region: form.region.clone(),
                notice_days,
            },
        )
    })();
    Ok(match parsed {
        Ok(cycle) => Redirect::to(&format!("/cycles/{}", cycle.id)).into_response(),
        Err(e) => back("/cycles/new", Err(e)),
    })
}

fn field_names(lang: Lang) -> Vec<(String, String)> {
    gusu_core::Figure::ALL
        .iter()
        .map(|f| {
            (
                f.key().to_string(),
                format!(
                    "{} ({})",
                    if lang == Lang::Zh {
                        f.name_zh()
                    } else {
                        f.name_en()
                    },
                    f.unit()
                ),
            )
        })
        .chain(gusu_core::Flag::ALL.iter().map(|f| {
            let name = match (f, lang) {
                (gusu_core::Flag::AboveScale, Lang::Zh) => "规模以上企业（1 是 / 0 否）",
                (gusu_core::Flag::AboveScale, Lang::En) => "above designated size (1 yes / 0 no)",
                (gusu_core::Flag::Exempt, Lang::Zh) => "免于评价（1 是 / 0 否）",
                (gusu_core::Flag::Exempt, Lang::En) => "exempt (1 yes / 0 no)",
            };
            (f.key().to_string(), name.to_string())
        }))
        .collect()
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
    let store = state.store();
    let cycle = visible(&store, &ctx.viewer, id)?;
    let region = region_name(&state, ctx.lang, cycle.region.as_deref());
    let d = detail(&store, &ctx.viewer, cycle)?;
    let next = d.cycle.next_stage.map(|s| {
        let s = s.core();
        if ctx.lang == Lang::Zh {
            s.name_zh()
        } else {
            s.name_en()
        }
    });
    let may_advance = match d.cycle.next_stage.map(wire::cycle::Stage::core) {
        Some(Stage::Published) => d.cycle.may_publish,
        Some(_) => d.cycle.may_manage,
        None => false,
    };
    let stages: Vec<(bool, &str)> = Stage::ALL
        .iter()
        .map(|s| {
            (
                *s == d.cycle.stage.core(),
                if ctx.lang == Lang::Zh {
                    s.name_zh()
                } else {
                    s.name_en()
                },
            )
        })
        .collect();
    let may_correct = match d.cycle.stage.core() {
        Stage::PublicNotice => false,
        Stage::Published => d.cycle.may_publish,
        _ => d.cycle.may_manage,
    };
    let extra = context! {
            staff => ctx.viewer.is_staff(),
            region => region,
            d => Value::from(Serde(&d)),
            stage => d.cycle.stage.core().key(),
            stages => Value::from(Serde(stages)),
            next => next,
            may_advance => may_advance,
            may_correct => may_correct,
            fields => Value::from(Serde(field_names(ctx.lang))),
            labels => Value::from(Serde(field_names(ctx.lang).into_iter().collect::<BTreeMap<_, _>>())),
            error => query.banner(ctx.lang, error_text),
    };
    page(ctx, "cycle.html", extra)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn page_advance(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let to = format!("/cycles/{id}");
    Ok(back(&to, advance(&state, &ctx.viewer, id).map(|_| ())))
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf: String,
    status: String,
    message: Option<String>,
}

async fn page_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let body = ConfirmBody {
        status: form.status,
        message: form.message,
    };
    Ok(back(
        &format!("/cycles/{id}"),
        confirm(&state, &ctx.viewer, id, body),
    ))
}

/// Up to three proposed values and one attachment's description from a page form; the API takes
/// any number.
#[derive(Deserialize)]
struct ObjectionForm {
    csrf: String,
    reasons: String,
    field_1: Option<String>,
    value_1: Option<String>,
    field_2: Option<String>,
    value_2: Option<String>,
    field_3: Option<String>,
    value_3: Option<String>,
    attachment_name: Option<String>,
    attachment_type: Option<String>,
    attachment_size: Option<String>,
    attachment_sha256: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Proposed values from `field_n` / `value_n` pairs; a value without a field or the reverse is
/// an error naming the pair.
fn form_values(
    pairs: &[(&Option<String>, &Option<String>)],
) -> Result<Vec<wire::cycle::FieldValue>, ApiError> {
    let mut out = Vec::new();
    for (i, (field, value)) in pairs.iter().enumerate() {
        match (given(field), given(value)) {
            (None, None) => {}
            (Some(f), Some(v)) => out.push(wire::cycle::FieldValue {
                field: f.to_string(),
                value: v
                    .parse::<f64>()
                    .map_err(|_| body_error(format!("value_{}: “{v}” is not a number", i + 1)))?,
            }),
            _ => {
                return Err(body_error(format!(
                    "field_{n} and value_{n} go together",
                    n = i + 1
                )));
            }
        }
    }
    Ok(out)
}

async fn page_object(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<ObjectionForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let result = (|| {
        let corrections = form_values(&[
            (&form.field_1, &form.value_1),
            (&form.field_2, &form.value_2),
            (&form.field_3, &form.value_3),
        ])?;
        let mut attachments = Vec::new();
        if let Some(name) = given(&form.attachment_name) {
            let size = given(&form.attachment_size).unwrap_or("0");
            attachments.push(wire::cycle::Attachment {
                file_name: name.to_string(),
                media_type: given(&form.attachment_type)
                    .unwrap_or("application/octet-stream")
                    .to_string(),
                size_bytes: size.parse().map_err(|_| {
                    body_error(format!(
                        "attachment_size: “{size}” is not a number of bytes"
                    ))
                })?,
                sha256: given(&form.attachment_sha256)
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        object(
            &state,
            &ctx.viewer,
            id,
            ObjectionBody {
                reasons: form.reasons.clone(),
                corrections,
                attachments,
            },
        )
        .map(|_| ())
    })();
    Ok(back(&format!("/cycles/{id}"), result))
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    reason: String,
}

async fn page_decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let cycle_id = visible_objection(&state.store(), &ctx.viewer, id)?.cycle_id;
    let body = DecisionBody {
        decision: form.decision,
        reason: form.reason,
    };
    Ok(back(
        &format!("/cycles/{cycle_id}"),
        decide(&state, &ctx.viewer, id, body).map(|_| ()),
    ))
}

#[derive(Deserialize)]
struct CorrectionForm {
    csrf: String,
    uscc: String,
    reason: String,
    field_1: Option<String>,
    value_1: Option<String>,
    field_2: Option<String>,
    value_2: Option<String>,
}

async fn page_correct(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<CorrectionForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let result = form_values(&[
        (&form.field_1, &form.value_1),
        (&form.field_2, &form.value_2),
    ])
    .and_then(|corrections| {
        correct(
            &state,
            &ctx.viewer,
            id,
            CorrectionBody {
                uscc: form.uscc.clone(),
                corrections,
                reason: form.reason.clone(),
            },
        )
        .map(|_| ())
    });
    Ok(back(&format!("/cycles/{id}"), result))
}

async fn page_migration(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    query: Result<Query<MigrationQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let (m, error) = match migration_of(&state, &ctx.viewer, id, &query) {
        Ok(m) => (Some(m), None),
        Err(e) if e.status == StatusCode::NOT_FOUND && e.code == "no_base" => {
            (None, Some(e.message))
        }
        Err(e) => return Err(e),
    };
    let zh = ctx.lang == Lang::Zh;
    let schemes: Vec<serde_json::Value> = library(&state)?
        .all()
        .iter()
        .map(|s| json!({ "name": s.name, "title": if zh { &s.title_zh } else { &s.title_en } }))
        .collect();
    let extra = context! {
            id => id,
            m => Value::from(Serde(m)),
            error => error,
            against => query.against.clone().unwrap_or_else(|| "last_year".into()),
            scheme => query.scheme.clone().unwrap_or_default(),
            schemes => Value::from(Serde(schemes)),
    };
    page(ctx, "cycle_migration.html", extra)
}

async fn page_version(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, version)): Path<(i64, u32)>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let v = version_of(&state, &ctx.viewer, id, version)?;
    let extra = context! {
            v => Value::from(Serde(v)),
    };
    page(ctx, "cycle_version.html", extra)
}

/// An enterprise's way in: its latest cycle (staff go to the list).
async fn page_my_cycle(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, None) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let store = state.store();
    let latest = store
        .cycles()?
        .into_iter()
        .find(|c| visible(&store, &ctx.viewer, c.id).is_ok());
    Ok(match (latest, ctx.viewer.is_staff()) {
        (Some(c), false) => Redirect::to(&format!("/cycles/{}", c.id)).into_response(),
        _ => Redirect::to("/cycles").into_response(),
    })
}

async fn page_notices(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let ctx = match PageCtx::of(&state, &headers, query.lang.clone()) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    let list = notices(&state, &ctx.viewer)?;
    // Only the listed enterprises' names, from a read connection: reading the whole register
    // through the writer for every page view held every other request behind it (p99 1.5 s under
    // 100 connections, bench/web_routes.sh).
    let reader = state.reader();
    let mut names: BTreeMap<Uscc, String> = BTreeMap::new();
    for n in &list {
        if !names.contains_key(&n.uscc)
            && let Some(e) = reader.enterprise(&n.uscc)?
        {
            names.insert(e.uscc, e.name);
        }
    }
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|n| {
            let mut v = serde_json::to_value(n).unwrap_or_default();
            v["name"] = json!(names.get(&n.uscc).cloned().unwrap_or_default());
            v
        })
        .collect();
    let extra = context! {
            enterprise => matches!(ctx.viewer.scope, Scope::Enterprise(_)),
            rows => Value::from(Serde(rows)),
            error => query.banner(ctx.lang, error_text),
    };
    page(ctx, "notices.html", extra)
}

async fn page_read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| body_error(e.body_text()))?;
    let ctx = match PageCtx::of_form(&state, &headers, &form.csrf) {
        Ok(c) => c,
        Err(r) => return Ok(*r),
    };
    Ok(back("/notices", read(&state, &ctx.viewer, id).map(|_| ())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_runs_ahead_by_whole_days() {
        let ahead = Clock::shifted_days(8).now() - Clock::system().now();
        assert!(ahead >= chrono::Duration::days(8) - chrono::Duration::seconds(5));
        assert!(ahead <= chrono::Duration::days(8) + chrono::Duration::seconds(5));
    }

    #[test]
    fn rule_errors_answer_with_their_codes() {
        use gusu_core::cycle::CycleError;
        let e = from_store(StoreError::Cycle(CycleError::UndecidedObjections(1)));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::CONFLICT, "undecided_objections")
        );
        let e = from_store(StoreError::Cycle(CycleError::NotPermitted("x")));
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let e = from_store(StoreError::Cycle(CycleError::NotInCycle));
        assert_eq!(
            e.status,
            StatusCode::NOT_FOUND,
            "as if the cycle did not exist"
        );
        let e = from_store(StoreError::Cycle(CycleError::Invalid("x".into())));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
