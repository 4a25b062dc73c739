//! gusu's HTTP server: sign-in with server-side sessions, every route checking the viewer at one
//! boundary (the [`Authed`] extractor and `Viewer::may_see`), and the JSON API under `/api/v1`
//! with one error format. Pages, the evaluation cycle and the OpenAPI document build on this
//! (issue 3); what is here is the part every later route stands on.

pub mod chart;
pub mod cycle;
pub mod error;
pub mod openapi;
pub mod pages;
pub mod session;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gusu_core::evaluate::EnterpriseResult;
use gusu_core::{Role, Uscc, Viewer};
use gusu_store::{RunInfo, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use error::ApiError;
use session::{COOKIE, Sessions, token_from_cookies};

/// How the server runs. Every number here is a setting, not a published requirement.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub db: PathBuf,
    /// District names for pages.
    pub region: gusu_core::RegionSet,
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// Failed sign-ins before a name is locked out, and for how long.
    pub max_failures: u32,
    pub lockout: Duration,
    /// Mark cookies `Secure` (behind TLS or a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Length of an evaluation cycle's public notice (公示) in days, for cycles started from now
    /// on: a setting (default 7), not an official figure.
    pub notice_days: u32,
    /// The time the cycle's rules are checked against (the system clock; tests move it).
    pub clock: cycle::Clock,
}

impl WebConfig {
    pub fn new(db: PathBuf) -> WebConfig {
        WebConfig {
            db,
            region: gusu_core::RegionSet::suzhou(),
            idle_timeout: Duration::from_secs(30 * 60),
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            secure_cookies: false,
            notice_days: 7,
            clock: cycle::Clock::system(),
        }
    }
}

struct Inner {
    // One connection, used briefly per request; reads in parallel come with a pool later.
    store: Mutex<Store>,
    sessions: Sessions,
    config: WebConfig,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn open(config: WebConfig) -> Result<AppState, ApiError> {
        let store = Store::open(&config.db)?;
        let sessions = Sessions::new(config.idle_timeout, config.max_failures, config.lockout);
        Ok(AppState(Arc::new(Inner {
            store: Mutex::new(store),
            sessions,
            config,
        })))
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.0.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A signed-in request: the viewer, checked once here for every route that takes it. Requests
/// that change anything must also carry the session's CSRF token in `X-CSRF-Token`.
pub struct Authed {
    pub viewer: Viewer,
    token: String,
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Authed, ApiError> {
        // Scripts send an API token; a token is not a browser cookie, so no CSRF check applies.
        if let Some(bearer) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            let account = state
                .store()
                .account_for_token(&session::token_sha256(bearer.trim()))?
                .ok_or_else(ApiError::unauthenticated)?;
            return Ok(Authed {
                viewer: account.viewer()?,
                token: String::new(),
            });
        }
        let token = parts
            .headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(token_from_cookies)
            .ok_or_else(ApiError::unauthenticated)?
            .to_string();
        let session = state
            .0
            .sessions
            .get(&token)
            .ok_or_else(ApiError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(session.csrf.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token",
                ));
            }
        }
        Ok(Authed {
            viewer: session.viewer,
            token,
        })
    }
}

/// The API router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/session", post(sign_in).delete(sign_out))
        .route("/api/v1/me", get(me))
        .route("/api/v1/results/{year}", get(results))
        .route(
            "/api/v1/enterprises/{uscc}/results/{year}",
            get(enterprise_result),
        )
        .route("/api/v1/audit", get(audit_log))
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/overview", get(pages::overview))
        .route("/enterprises", get(pages::enterprise_list))
        .route("/enterprises.xlsx", get(pages::enterprise_export))
        .route("/districts/{code}", get(pages::district))
        .route("/rules", get(pages::rules))
        .route("/enterprises/{uscc}", get(pages::enterprise))
        .route("/static/gusu.css", get(pages::stylesheet))
        .merge(cycle::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .with_state(state)
}

/// Serves until Ctrl-C.
pub fn serve(config: WebConfig, addr: SocketAddr) -> Result<(), ApiError> {
    let state = AppState::open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ApiError::internal(format!("cannot listen on {addr}: {e}")))?;
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| ApiError::internal(e.to_string()))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    username: String,
    password: String,
}

pub(crate) fn cookie(token: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let mut c = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c)
        .unwrap_or_else(|_| HeaderValue::from_static("gusu_session=; Max-Age=0"))
}

/// Why a sign-in was refused.
pub(crate) enum Refusal {
    LockedOut,
    BadCredentials,
}

/// The one sign-in path of the API and the pages: throttling, the password check (audited by the
/// store), and a new session. Returns the viewer, the session token and its CSRF token.
pub(crate) fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Result<(Viewer, String, String), Refusal>, ApiError> {
    let sessions = &state.0.sessions;
    if sessions.locked_out(username) {
        return Ok(Err(Refusal::LockedOut));
    }
    let Some(account) = state.store().sign_in(username, password)? else {
        sessions.record_failure(username);
        return Ok(Err(Refusal::BadCredentials));
    };
    sessions.record_success(username);
    let viewer = account.viewer()?;
    let (token, csrf) = sessions.start(viewer.clone());
    Ok(Ok((viewer, token, csrf)))
}

async fn sign_in(
    State(state): State<AppState>,
    body: Result<Json<SignIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let (viewer, token, csrf) = match authenticate(&state, &body.username, &body.password)? {
        Ok(signed_in) => signed_in,
        Err(Refusal::LockedOut) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed sign-ins; try again later",
            ));
        }
        Err(Refusal::BadCredentials) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "wrong user name or password",
            ));
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        cookie(&token, None, state.0.config.secure_cookies),
    );
    Ok((
        headers,
        Json(json!({ "user": viewer.user, "role": viewer.role, "csrf": csrf })),
    )
        .into_response())
}

async fn sign_out(State(state): State<AppState>, authed: Authed) -> Result<Response, ApiError> {
    state.0.sessions.end(&authed.token);
    state.store().audit(
        &authed.viewer.user,
        "sign_out",
        Some(&authed.viewer.user),
        None,
    )?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        cookie("", Some(0), state.0.config.secure_cookies),
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

async fn me(authed: Authed) -> Json<Viewer> {
    Json(authed.viewer)
}

/// A stored result's full detail, as the engine made it.
pub(crate) fn detail(stored: &gusu_store::StoredResult) -> Result<EnterpriseResult, ApiError> {
    serde_json::from_str(&stored.detail_json)
        .map_err(|e| ApiError::internal(format!("stored result of {}: {e}", stored.uscc)))
}

/// The run whose results the platform shows for a year: the city's, published first, newest first.
pub(crate) fn shown_run(store: &Store, year: i32) -> Result<Option<RunInfo>, ApiError> {
    Ok(store
        .runs(Some(year))?
        .into_iter()
        .filter(|r| r.region.is_none())
        .max_by_key(|r| (r.published, r.id)))
}

/// One line of a result list (no figures: those are on the enterprise's own route).
#[derive(Serialize)]
struct ResultLine {
    uscc: Uscc,
    name: String,
    district: String,
    division: String,
    group: String,
    status: String,
    class: Option<String>,
    score: Option<f64>,
    rank: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultFilter {
    district: Option<String>,
    class: Option<String>,
}

async fn results(
    State(state): State<AppState>,
    authed: Authed,
    Path(year): Path<i32>,
    filter: Result<Query<ResultFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(filter) =
        filter.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let viewer = &authed.viewer;
    if matches!(
        viewer.role,
        Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
    ) {
        return Err(ApiError::forbidden());
    }
    let store = state.store();
    let Some(run) = shown_run(&store, year)? else {
        return Err(ApiError::not_found("evaluation run"));
    };
    let mut lines = Vec::new();
    for stored in store.results(run.id)? {
        let r: EnterpriseResult = crate::detail(&stored)?;
        // The one check: nothing leaves that the viewer may not see.
        if !viewer.may_see(&r.uscc, &r.district) {
            continue;
        }
        if filter
            .district
            .as_deref()
            .is_some_and(|d| d != &*r.district)
            || filter
                .class
                .as_deref()
                .is_some_and(|c| r.class.as_deref() != Some(c))
        {
            continue;
        }
        lines.push(ResultLine {
            uscc: r.uscc,
            name: r.name,
            district: r.district.to_string(),
            division: r.division.to_string(),
            group: r.group.key().to_string(),
            status: r.status.key().to_string(),
            class: r.class.map(|c| c.to_string()),
            score: r.score,
            rank: r.rank,
        });
    }
    Ok(Json(
        json!({ "run": run.id, "year": year, "scheme": format!("{}@{}", run.scheme, run.scheme_version), "published": run.published, "results": lines }),
    ))
}

async fn enterprise_result(
    State(state): State<AppState>,
    authed: Authed,
    Path((uscc, year)): Path<(String, i32)>,
) -> Result<Json<EnterpriseResult>, ApiError> {
    let uscc =
        Uscc::parse(&uscc).map_err(|e| ApiError::bad_request("invalid_uscc", e.to_string()))?;
    let store = state.store();
    let run = shown_run(&store, year)?.ok_or_else(|| ApiError::not_found("evaluation run"))?;
    let stored = store
        .result_for(run.id, &uscc)?
        .ok_or_else(|| ApiError::not_found("enterprise"))?;
    let r: EnterpriseResult = crate::detail(&stored)?;
    // Another enterprise's (or another district's) data is answered as if it did not exist.
    if !authed.viewer.may_see(&r.uscc, &r.district) {
        return Err(ApiError::not_found("enterprise"));
    }
    Ok(Json(r))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<usize>,
}

async fn audit_log(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<gusu_store::AuditEntry>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    if !authed.viewer.may_read_audit_log() {
        return Err(ApiError::forbidden());
    }
    Ok(Json(
        state
            .store()
            .audit_log(query.limit.unwrap_or(100).min(10_000))?,
    ))
}
