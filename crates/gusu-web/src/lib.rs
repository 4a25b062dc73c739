//! gusu's HTTP server: sign-in with server-side sessions, every route checking the viewer at one
//! boundary (the [`Authed`] extractor and `Viewer::may_see`), and the JSON API under `/api/v1`
//! with one error format. Pages, the evaluation cycle and the OpenAPI document build on this
//! (issue 3); what is here is the part every later route stands on.

pub mod admin;
pub mod chart;
pub mod cycle;
pub mod energy;
pub mod enterprise_file;
pub mod error;
pub use gusu_core::format;
mod headers;
pub mod imports;
pub mod nzc;
pub mod openapi;
mod page_ctx;
pub mod pages;
pub mod policy;
pub mod policy_applications;
pub mod policy_workflow;
pub mod second_factor;
pub mod session;
pub mod summary;
pub mod wire;

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
use gusu_core::{Scope, Uscc, Viewer};
use gusu_store::{RunInfo, Store};
use serde::Deserialize;

pub use error::ApiError;
use session::{COOKIE, Limits, Sessions, Throttle, token_from_cookies};

/// How the server runs. Every number here is a setting, not a published requirement.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub db: PathBuf,
    /// District names for pages.
    pub region: gusu_core::RegionSet,
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// Failed sign-ins before an account is locked out, and for how long (each further failure
    /// doubles it, up to a day).
    pub max_failures: u32,
    pub lockout: Duration,
    /// Failed sign-ins from one client address, of any names, before it must wait (1 s,
    /// doubling up to 5 minutes). Behind a reverse proxy every client has the proxy's address:
    /// set it high there, or 0 to turn it off.
    pub address_failures: u32,
    /// Mark cookies `Secure` (behind TLS or a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// The administrator roles must sign in with a TOTP code; one not enrolled is refused. An
    /// enrolled account needs its code either way. Off in [`WebConfig::new`] (embedding, tests);
    /// `gusu serve` turns it on unless the configuration says otherwise.
    pub admin_second_factor: bool,
    /// Rules for new passwords, and when a password expires.
    pub password: gusu_core::PasswordPolicy,
    /// The evaluation schemes: the shipped ones plus a configured rules directory's.
    pub schemes: Arc<gusu_core::SchemeLibrary>,
    /// Length of an evaluation cycle's public notice (公示) in days, for cycles started from now
    /// on: a setting (default 7), not an official figure.
    pub notice_days: u32,
    /// The time the cycle's rules are checked against (the system clock; tests move it).
    pub clock: cycle::Clock,
    /// The largest file the imports page accepts, in bytes (larger: 413).
    pub max_upload_bytes: usize,
    /// The near-zero-carbon criteria documents applications are assessed under.
    pub nzc_criteria: Arc<Vec<gusu_core::carbon::nzc::Criteria>>,
    /// The city's energy settings (base year, intensity targets, grid basis) and the factor
    /// documents (shipped plus a rules directory's) the energy pages account by.
    pub energy: gusu_core::carbon::ledger::EnergySettings,
    pub factors: Arc<gusu_core::carbon::FactorLibrary>,
    /// The policy documents the calculator decides by (shipped, or with a rules directory's).
    pub policies: Arc<gusu_core::policy::PolicyLibrary>,
}

impl WebConfig {
    pub fn new(db: PathBuf) -> WebConfig {
        WebConfig {
            db,
            region: gusu_core::RegionSet::suzhou(),
            idle_timeout: Duration::from_secs(30 * 60),
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            address_failures: 20,
            // Secure by default: a deployment reached over plain HTTP turns it off on purpose.
            secure_cookies: true,
            admin_second_factor: false,
            password: gusu_core::PasswordPolicy::default(),
            schemes: Arc::new(
                gusu_core::SchemeLibrary::builtin().expect("the shipped schemes are tested"),
            ),
            notice_days: 7,
            clock: cycle::Clock::system(),
            max_upload_bytes: 32 * 1024 * 1024,
            nzc_criteria: Arc::new(
                gusu_core::carbon::nzc::builtin().expect("the shipped criteria are tested"),
            ),
            energy: Default::default(),
            factors: Arc::new(
                gusu_core::carbon::FactorLibrary::builtin()
                    .expect("the shipped factor documents are tested"),
            ),
            policies: Arc::new(
                gusu_core::policy::PolicyLibrary::embedded()
                    .expect("the shipped policy documents are tested"),
            ),
        }
    }
}

/// Connections that only read, so page views never queue behind a writer (WAL lets them read
/// while it writes). Two worker threads plus headroom for a request that holds one across a
/// longer read.
const READERS: usize = 4;

/// Password checks at once: enough to keep both cores of a small server busy, few enough that a
/// burst of sign-ins cannot take gigabytes.
const PASSWORD_CHECKS: usize = 4;

struct Inner {
    // The one connection that writes; short transactions, so a mutex is enough.
    store: Mutex<Store>,
    readers: Vec<Mutex<Store>>,
    next_reader: std::sync::atomic::AtomicUsize,
    summaries: summary::SummaryCache,
    energy: energy::EnergyCache,
    policy_facts: policy::FactsCache,
    sessions: Sessions,
    throttle: Throttle,
    /// The policy library in force: the configured one with the published drafts over it,
    /// replaced whole when a draft is published.
    policies: std::sync::RwLock<Arc<gusu_core::policy::PolicyLibrary>>,
    /// Password checks running at once (each holds 19 MiB and a core for tens of milliseconds).
    password_checks: tokio::sync::Semaphore,
    config: WebConfig,
}

/// The sign-in throttle of a configuration. The growth caps and forgetting times are settings.
fn throttle(config: &WebConfig) -> Throttle {
    const HOUR: Duration = Duration::from_secs(3600);
    let account = Limits {
        free: config.max_failures.max(1),
        delay: config.lockout,
        max_delay: 24 * HOUR,
        forget: HOUR,
    };
    let address = Limits {
        free: if config.address_failures == 0 {
            u32::MAX
        } else {
            config.address_failures
        },
        delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(5 * 60),
        forget: HOUR,
    };
    Throttle::new(account, address)
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn open(config: WebConfig) -> Result<AppState, ApiError> {
        let store = Store::open(&config.db)?;
        let readers = (0..READERS)
            .map(|_| Store::open(&config.db).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        let sessions = Sessions::new(config.idle_timeout);
        let throttle = throttle(&config);
        // Made now, so the first sign-in with a made-up name is not slower than the next.
        gusu_store::prepare_verify_unknown();
        let policies = policy_workflow::library_in_force(&config.policies, &store)?;
        Ok(AppState(Arc::new(Inner {
            store: Mutex::new(store),
            readers,
            next_reader: Default::default(),
            summaries: Default::default(),
            energy: Default::default(),
            policy_facts: Default::default(),
            sessions,
            throttle,
            policies: std::sync::RwLock::new(Arc::new(policies)),
            password_checks: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
            config,
        })))
    }

    /// The policy library in force now.
    pub fn policies(&self) -> Arc<gusu_core::policy::PolicyLibrary> {
        self.0
            .policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_policies(&self, library: gusu_core::policy::PolicyLibrary) {
        *self.0.policies.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(library);
    }

    /// The connection that writes (and may read what it just wrote).
    fn store(&self) -> MutexGuard<'_, Store> {
        self.0.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection for reading: a free one if any, else the next in turn.
    fn reader(&self) -> MutexGuard<'_, Store> {
        let readers = &self.0.readers;
        let start = self
            .0
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for i in 0..readers.len() {
            if let Ok(guard) = readers[(start + i) % readers.len()].try_lock() {
                return guard;
            }
        }
        readers[start % readers.len()]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The evaluation schemes this server grades and explains by.
    pub fn schemes(&self) -> &gusu_core::SchemeLibrary {
        &self.0.config.schemes
    }

    /// The summaries of the run shown for a year.
    fn summary(&self, year: i32) -> Result<Option<Arc<summary::RunSummary>>, ApiError> {
        let store = self.reader();
        self.0.summaries.get(&store, year)
    }

    /// The live session of a cookie token whose account is still enabled. A session of an
    /// account disabled since it began (here or with the CLI), or whose password an
    /// administrator has set since, ends at its next request.
    pub(crate) fn live_session(&self, token: &str) -> Option<session::Session> {
        let session = self.0.sessions.get(token)?;
        let enabled = matches!(
            self.reader().account(&session.viewer.user),
            Ok(Some(account)) if !account.disabled && !account.must_change_password
        );
        if !enabled {
            self.0.sessions.end(token);
            return None;
        }
        Some(session)
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
                .reader()
                .account_for_token(&session::token_sha256(bearer.trim()))?
                .ok_or_else(ApiError::unauthenticated)?;
            // A token is held to its account's password rules like a sign-in.
            if account.must_change_password {
                return Err(password_change_required());
            }
            let now = chrono::Utc::now().naive_utc();
            if state
                .0
                .config
                .password
                .expired(&account.password_changed_at, now)
            {
                return Err(password_expired());
            }
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
            .live_session(&token)
            .ok_or_else(ApiError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if !session::csrf_matches(&session.csrf, sent) {
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
        .route("/api/v1/password", post(password))
        .route("/api/v1/me", get(me))
        .route("/api/v1/results/{year}", get(results))
        .route("/api/v1/overview/{year}", get(overview))
        .route(
            "/api/v1/enterprises/{uscc}/results/{year}",
            get(enterprise_result),
        )
        .route("/api/v1/enterprises/{uscc}", get(enterprise_file))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/schemes", get(pages::schemes_api))
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route(
            "/login/password",
            get(pages::password_form).post(pages::password_change),
        )
        .route("/logout", post(pages::logout))
        .route("/overview", get(pages::overview))
        .route("/enterprises", get(pages::enterprise_list))
        .route("/enterprises.xlsx", get(pages::enterprise_export))
        .route("/districts/{code}", get(pages::district))
        .route("/rules", get(pages::rules))
        .route("/enterprises/{uscc}", get(pages::enterprise))
        .route("/static/gusu.css", get(pages::stylesheet))
        .merge(cycle::routes())
        .merge(imports::routes(&state.0.config))
        .merge(admin::routes())
        .merge(nzc::routes())
        .merge(policy::routes())
        .merge(policy_workflow::routes())
        .merge(policy_applications::routes())
        .merge(energy::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            remember_language,
        ))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .with_state(state)
}

/// A certificate chain and its private key, both PEM files, for serving HTTPS directly.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Serves on `addr` until Ctrl-C: HTTPS with `tls`, else plain HTTP (for a TLS-terminating
/// reverse proxy in front, or a closed network).
pub fn serve(config: WebConfig, addr: SocketAddr, tls: Option<&TlsFiles>) -> Result<(), ApiError> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| ApiError::internal(format!("cannot listen on {addr}: {e}")))?;
    serve_on(config, listener, tls)
}

/// Serves on a listener already bound (tests bind port 0 and read the port back).
pub fn serve_on(
    mut config: WebConfig,
    listener: std::net::TcpListener,
    tls: Option<&TlsFiles>,
) -> Result<(), ApiError> {
    if tls.is_some() {
        // Cookies set over HTTPS never go back over plain HTTP.
        config.secure_cookies = true;
    }
    let state = AppState::open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let io = |e: std::io::Error| ApiError::internal(e.to_string());
    runtime.block_on(async move {
        listener.set_nonblocking(true).map_err(io)?;
        let app = router(state);
        match tls {
            None => {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(io)?;
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .map_err(io)
            }
            Some(files) => {
                let rustls =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                        .await
                        .map_err(|e| {
                            ApiError::internal(format!(
                                "TLS certificate {} or key {}: {e}",
                                files.cert.display(),
                                files.key.display()
                            ))
                        })?;
                let handle = axum_server::Handle::new();
                let on_signal = handle.clone();
                tokio::spawn(async move {
                    let _ = tokio::signal::ctrl_c().await;
                    on_signal.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                axum_server::from_tcp_rustls(listener, rustls)
                    .map_err(io)?
                    .handle(handle)
                    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
                    .map_err(io)
            }
        }
    })
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
    /// Right password, but older than the policy allows: it must be changed first.
    PasswordExpired,
    /// Right password, but an administrator set it: the owner must set its own first.
    MustChangePassword,
    /// Right password; the account needs its TOTP code and none was given.
    SecondFactorMissing,
    /// Right password; the role needs a second factor and the account has none enrolled.
    SecondFactorNotEnrolled,
    /// Right password, wrong (or already used) TOTP code: counted as a failed sign-in.
    SecondFactorWrong,
}

/// A new session.
pub(crate) struct SignedIn {
    pub viewer: Viewer,
    pub token: String,
    pub csrf: String,
    /// The page language the account chose, if any.
    pub language: Option<String>,
}

/// The address a request came from (the TCP peer; behind a reverse proxy, the proxy's). Requests
/// served without one (tests calling the router directly) share the unspecified address.
pub struct ClientAddress(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<ClientAddress, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddress(
            peer.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()),
        ))
    }
}

/// A password checked against an account, as sign-in and password change both need it.
struct Checked {
    /// The account and its hash; `None` for a name with no account.
    credentials: Option<gusu_store::Credentials>,
    ok: bool,
    /// The new password's hash, when one was asked for and the current password is right.
    new_hash: Option<String>,
    /// The second factor, checked only for a sign-in whose password is right.
    factor: second_factor::SecondFactor,
}

/// The second factor of a sign-in whose password is right: needed when the account is enrolled,
/// or its role is an administrator's and the server requires it. A right code's time step is
/// taken in the store, so it is never accepted twice.
fn check_second_factor(
    state: &AppState,
    credentials: &gusu_store::Credentials,
    otp: Option<&str>,
) -> Result<second_factor::SecondFactor, ApiError> {
    use second_factor::SecondFactor;
    let account = &credentials.account;
    let required = state.0.config.admin_second_factor && account.role.is_elevated();
    let Some(secret) = credentials.totp_secret() else {
        return Ok(if required {
            SecondFactor::NotEnrolled
        } else {
            SecondFactor::NotNeeded
        });
    };
    let Some(code) = otp.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(SecondFactor::Missing);
    };
    let now = u64::try_from(state.0.config.clock.now().timestamp()).unwrap_or(0);
    Ok(match second_factor::check(secret, code, now) {
        Some(step)
            if state
                .store()
                .take_totp_step(&account.username, i64::try_from(step).unwrap_or(i64::MAX))? =>
        {
            SecondFactor::Right(step)
        }
        _ => SecondFactor::Wrong,
    })
}

/// The throttled password check shared by sign-in and password change: counted against the
/// account and the address before it runs (`None`: locked out), argon2 on the blocking pool a
/// few at a time, never holding the store; a name with no account is checked against a dummy
/// hash so it takes as long. The start of an account's lock is audited. A failed task counts
/// as a wrong password. With `new`, also hashes the new password when the current one is right.
/// `sign_in_code` is `Some` for a sign-in (holding the TOTP code given, if any): its second
/// factor is checked within the same counted attempt.
async fn check_password(
    state: &AppState,
    address: std::net::IpAddr,
    username: &str,
    password: &str,
    new: Option<&str>,
    sign_in_code: Option<Option<&str>>,
) -> Result<Option<Checked>, ApiError> {
    let credentials = state.reader().credentials(username)?;
    let known = credentials.is_some().then_some(username);
    let Some(attempt) = state.0.throttle.begin(known, address) else {
        return Ok(None);
    };
    let (ok, new_hash, credentials) = match state.0.password_checks.acquire().await {
        Ok(_slot) => {
            let password = password.to_string();
            let new = new.map(str::to_string);
            let kept = credentials.clone();
            tokio::task::spawn_blocking(move || {
                let ok = match &credentials {
                    Some(c) => c.verify(&password),
                    None => gusu_store::verify_unknown(&password),
                };
                let hashed = new
                    .filter(|_| ok)
                    .and_then(|new| gusu_store::hash_password(&new).ok());
                (ok, hashed, credentials)
            })
            .await
            .unwrap_or((false, None, kept))
        }
        Err(_) => (false, None, credentials),
    };
    // A sign-in's second factor is part of the same counted attempt: a wrong code is a failure.
    let factor = match (&credentials, sign_in_code) {
        (Some(c), Some(code)) if ok => check_second_factor(state, c, code)?,
        _ => second_factor::SecondFactor::NotNeeded,
    };
    let counted = ok && factor != second_factor::SecondFactor::Wrong;
    if state.0.throttle.finish(attempt, counted).account_locked {
        state.store().audit(
            username,
            "sign_in_locked",
            Some(username),
            Some(&address.to_string()),
        )?;
    }
    Ok(Some(Checked {
        credentials,
        ok,
        new_hash,
        factor,
    }))
}

/// The one sign-in path of the API and the pages: throttled per account and address (counted
/// before the check), the password checked off the workers and outside the writer, the outcome
/// audited for a real account (a made-up name leaves no row), and a new session.
pub(crate) async fn authenticate(
    state: &AppState,
    address: std::net::IpAddr,
    username: &str,
    password: &str,
    otp: Option<&str>,
) -> Result<Result<SignedIn, Refusal>, ApiError> {
    let Some(Checked {
        credentials,
        ok,
        factor,
        ..
    }) = check_password(state, address, username, password, None, Some(otp)).await?
    else {
        return Ok(Err(Refusal::LockedOut));
    };
    let Some(credentials) = credentials else {
        return Ok(Err(Refusal::BadCredentials));
    };
    use second_factor::SecondFactor;
    let factor_refused = match factor {
        SecondFactor::NotNeeded | SecondFactor::Right(_) => None,
        SecondFactor::Missing => Some((Refusal::SecondFactorMissing, "second factor missing")),
        SecondFactor::NotEnrolled => Some((
            Refusal::SecondFactorNotEnrolled,
            "second factor not enrolled",
        )),
        SecondFactor::Wrong => Some((Refusal::SecondFactorWrong, "wrong second factor")),
    };
    state
        .store()
        .record_sign_in(username, ok && factor_refused.is_none())?;
    if !ok {
        return Ok(Err(Refusal::BadCredentials));
    }
    if let Some((refusal, why)) = factor_refused {
        state
            .store()
            .audit(username, "sign_in_refused", Some(username), Some(why))?;
        return Ok(Err(refusal));
    }
    let account = credentials.account;
    if account.must_change_password {
        state.store().audit(
            username,
            "sign_in_refused",
            Some(username),
            Some("password set by an administrator"),
        )?;
        return Ok(Err(Refusal::MustChangePassword));
    }
    let now = chrono::Utc::now().naive_utc();
    if state
        .0
        .config
        .password
        .expired(&account.password_changed_at, now)
    {
        state.store().audit(
            username,
            "sign_in_refused",
            Some(username),
            Some("password expired"),
        )?;
        return Ok(Err(Refusal::PasswordExpired));
    }
    let viewer = account.viewer()?;
    let (token, csrf) = state.0.sessions.start(viewer.clone());
    Ok(Ok(SignedIn {
        viewer,
        token,
        csrf,
        language: account.language,
    }))
}

/// Remembers a signed-in person's language switch (`?lang=` on any page) with their account, so
/// it follows them to another browser.
async fn remember_language(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let chosen = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| if v.starts_with("en") { "en" } else { "zh" })
    });
    if let Some(language) = chosen
        && let Some(session) = req
            .headers()
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(token_from_cookies)
            .and_then(|token| state.0.sessions.get(token))
        && let Err(e) = state.store().set_language(&session.viewer.user, language)
    {
        // A preference that could not be saved still applies to this browser (the cookie).
        eprintln!("gusu: language of {} not saved: {e}", session.viewer.user);
    }
    next.run(req).await
}

/// The API's answer to a refused sign-in.
fn refusal_error(refusal: Refusal) -> ApiError {
    let (status, code, message) = match refusal {
        Refusal::LockedOut => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed sign-ins; try again later",
        ),
        Refusal::BadCredentials => (
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong user name or password",
        ),
        Refusal::PasswordExpired => return password_expired(),
        Refusal::MustChangePassword => return password_change_required(),
        Refusal::SecondFactorMissing => (
            StatusCode::UNAUTHORIZED,
            "second_factor_required",
            "this account signs in with a TOTP code as well: send it as otp",
        ),
        Refusal::SecondFactorWrong => (
            StatusCode::UNAUTHORIZED,
            "bad_second_factor",
            "the TOTP code is wrong or was used already",
        ),
        Refusal::SecondFactorNotEnrolled => (
            StatusCode::FORBIDDEN,
            "second_factor_not_enrolled",
            "administrators sign in with a TOTP code; an operator enrols one with `gusu user totp NAME`",
        ),
    };
    ApiError::new(status, code, message)
}

/// Sign in: sets the session cookie and answers the CSRF token that unsafe requests send as
/// `X-CSRF-Token`.
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    request_body = wire::session::SignInBody,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = wire::session::SignedIn),
        (status = 401, description = "Wrong user name or password, or the TOTP code is missing or wrong", body = wire::ErrorBody),
        (status = 403, description = "The password expired, or an administrator set it: change it first; or an administrator without an enrolled second factor", body = wire::ErrorBody),
        (status = 429, description = "Too many failed sign-ins: wait", body = wire::ErrorBody),
    ))]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Result<Json<wire::session::SignInBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let SignedIn {
        viewer,
        token,
        csrf,
        language: _,
    } = match authenticate(
        &state,
        address,
        &body.username,
        &body.password,
        body.otp.as_deref(),
    )
    .await?
    {
        Ok(signed_in) => signed_in,
        Err(refusal) => return Err(refusal_error(refusal)),
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        cookie(&token, None, state.0.config.secure_cookies),
    );
    Ok((
        headers,
        Json(wire::session::SignedIn {
            user: viewer.user,
            role: viewer.role.into(),
            csrf,
        }),
    )
        .into_response())
}

fn password_change_required() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "password_change_required",
        "an administrator set this password; set your own with POST /api/v1/password first",
    )
}

fn password_expired() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "password_expired",
        "the password has expired; set a new one with POST /api/v1/password",
    )
}

/// Why a password change was refused.
pub(crate) enum ChangeRefusal {
    LockedOut,
    BadCredentials,
    Weak(gusu_core::access::PasswordError),
}

/// The one password-change path of the API and the pages: throttled like a sign-in, the current
/// password checked and the new one hashed off the workers, the new one held to the policy (and
/// different from the current one). A change ends every session of the account and revokes its
/// API tokens.
pub(crate) async fn change_password(
    state: &AppState,
    address: std::net::IpAddr,
    username: &str,
    current: &str,
    new: &str,
) -> Result<Result<(), ChangeRefusal>, ApiError> {
    if let Err(e) = state.0.config.password.check(username, new) {
        return Ok(Err(ChangeRefusal::Weak(e)));
    }
    if new == current {
        return Ok(Err(ChangeRefusal::Weak(
            gusu_core::access::PasswordError::Unchanged,
        )));
    }
    let Some(Checked {
        credentials,
        ok,
        new_hash,
        ..
    }) = check_password(state, address, username, current, Some(new), None).await?
    else {
        return Ok(Err(ChangeRefusal::LockedOut));
    };
    let Some(credentials) = credentials else {
        return Ok(Err(ChangeRefusal::BadCredentials));
    };
    let mut store = state.store();
    let changed = match new_hash {
        Some(hash) if ok => store.set_own_password(&credentials, &hash)?,
        _ => {
            store.record_password_change_failed(username)?;
            false
        }
    };
    drop(store);
    if !changed {
        return Ok(Err(ChangeRefusal::BadCredentials));
    }
    // Whoever else was signed in with the old password is signed out.
    state.0.sessions.end_user(username);
    Ok(Ok(()))
}

/// Change one's password with the current one (also when it has expired); needs no session.
/// Every session of the account ends and its API tokens are revoked.
#[utoipa::path(post, path = "/api/v1/password", tag = "session",
    request_body = wire::session::PasswordChangeBody,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "The new password does not meet the policy", body = wire::ErrorBody),
        (status = 401, description = "Wrong user name or password", body = wire::ErrorBody),
        (status = 429, description = "Too many failed attempts: wait", body = wire::ErrorBody),
    ))]
async fn password(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Result<Json<wire::session::PasswordChangeBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let change = change_password(
        &state,
        address,
        &body.username,
        &body.password,
        &body.new_password,
    );
    match change.await? {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(ChangeRefusal::LockedOut) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed attempts; try again later",
        )),
        Err(ChangeRefusal::BadCredentials) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong user name or password",
        )),
        Err(ChangeRefusal::Weak(e)) => Err(ApiError::bad_request("weak_password", e.to_string())),
    }
}

/// Sign out (needs `X-CSRF-Token` with a session cookie).
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
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

/// The signed-in viewer: user, role and scope.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, description = "The viewer", body = wire::session::Viewer)))]
async fn me(authed: Authed) -> Json<wire::session::Viewer> {
    Json((&authed.viewer).into())
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

/// The run that holds one enterprise's result for a year, as this viewer may see it: the city's
/// run or its own district's (a district may run its own evaluation), published first, newest
/// first. An enterprise sees a result only once it is published (during a cycle, its grade on
/// notice is on the cycle's pages); staff see the working result.
pub(crate) fn enterprise_run(
    store: &Store,
    viewer: &Viewer,
    year: i32,
    district: &str,
) -> Result<Option<RunInfo>, ApiError> {
    let enterprise = matches!(viewer.scope, Scope::Enterprise(_));
    Ok(store
        .runs(Some(year))?
        .into_iter()
        .filter(|r| r.region.as_deref().is_none_or(|d| d == district))
        .filter(|r| r.published || !enterprise)
        .max_by_key(|r| (r.published, r.id)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ResultFilter {
    district: Option<String>,
    division: Option<String>,
    group: Option<String>,
    class: Option<String>,
    status: Option<String>,
    /// Part of the name or of the USCC.
    q: Option<String>,
}

impl ResultFilter {
    fn keeps(&self, line: &summary::ResultLine) -> bool {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        given(&self.district).is_none_or(|d| d == &*line.district)
            && given(&self.division).is_none_or(|d| d == &*line.division)
            && given(&self.group).is_none_or(|g| g == line.group.key())
            && given(&self.class).is_none_or(|c| line.class.as_deref() == Some(c))
            && given(&self.status).is_none_or(|s| s == line.status.key())
            && given(&self.q).is_none_or(|q| {
                let q = q.to_uppercase();
                line.name.to_uppercase().contains(&q) || line.uscc.as_str().contains(&q)
            })
    }
}

/// A bulk read of enterprise data through the API (a results list, a cycle version, the energy
/// dashboard) is audited like the XLSX export: who read what, and how many rows. An
/// enterprise reading its own line is not a bulk read.
pub(crate) fn audit_bulk_read(
    state: &AppState,
    viewer: &Viewer,
    what: &str,
    rows: usize,
) -> Result<(), ApiError> {
    if !viewer.is_staff() {
        return Ok(());
    }
    state.store().audit(
        &viewer.user,
        "api_read",
        Some(what),
        Some(&format!("{rows} rows")),
    )?;
    Ok(())
}

/// Results lists are for bureau and district staff; the administrators see no enterprise data
/// and an enterprise reads its own result on its own route.
fn may_list(viewer: &Viewer) -> Result<(), ApiError> {
    if viewer.is_staff() {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The year's city results the viewer may see (an enterprise its own line, once published),
/// filtered.
#[utoipa::path(get, path = "/api/v1/results/{year}", tag = "results",
    params(("year" = i32, Path, description = "Evaluation year"), ResultFilter),
    responses(
        (status = 200, description = "The results", body = wire::results::Results),
        (status = 403, description = "An administrator: no enterprise data", body = wire::ErrorBody),
        (status = 404, description = "No evaluation run of that year", body = wire::ErrorBody),
    ))]
async fn results(
    State(state): State<AppState>,
    authed: Authed,
    Path(year): Path<i32>,
    filter: Result<Query<ResultFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<wire::results::Results>, ApiError> {
    let Query(filter) =
        filter.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let viewer = &authed.viewer;
    // Administrators see no enterprise data; an enterprise sees its own line.
    if matches!(viewer.scope, Scope::Nothing) {
        return Err(ApiError::forbidden());
    }
    let summary = state
        .summary(year)?
        .filter(|s| s.run.published || !matches!(viewer.scope, Scope::Enterprise(_)))
        .ok_or_else(|| ApiError::not_found("evaluation run"))?;
    let run = &summary.run;
    // The one check: nothing leaves that the viewer may not see.
    let results = summary
        .lines
        .iter()
        .filter(|l| viewer.may_see(&l.uscc, &l.district) && filter.keeps(l))
        .map(wire::results::ResultLine::from)
        .collect::<Vec<_>>();
    audit_bulk_read(&state, viewer, &format!("results {year}"), results.len())?;
    Ok(Json(wire::results::Results {
        run: run.id,
        year,
        scheme: format!("{}@{}", run.scheme, run.scheme_version),
        published: run.published,
        results,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct OverviewQuery {
    /// A district code (staff of the city, or the officer's own district).
    district: Option<String>,
}

/// The overview of the city (or of the viewer's district, for a district officer), or of one
/// district: what the overview and district pages show.
#[utoipa::path(get, path = "/api/v1/overview/{year}", tag = "results",
    params(("year" = i32, Path, description = "Evaluation year"), OverviewQuery),
    responses(
        (status = 200, description = "Class counts by group, district and division, totals and per-mu figures against the year before, the lowest-class list and the measures' totals", body = wire::results::Overview),
        (status = 403, description = "Not staff", body = wire::ErrorBody),
        (status = 404, description = "No run of that year, or no such district in the viewer's scope", body = wire::ErrorBody),
    ))]
async fn overview(
    State(state): State<AppState>,
    authed: Authed,
    Path(year): Path<i32>,
    query: Result<Query<OverviewQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<wire::results::Overview>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let viewer = &authed.viewer;
    may_list(viewer)?;
    if let Some(code) = &query.district
        && state.0.config.region.by_code(code).is_none()
    {
        return Err(ApiError::not_found("district"));
    }
    let summary = state
        .summary(year)?
        .ok_or_else(|| ApiError::not_found("evaluation run"))?;
    let overview = summary
        .overview_for(viewer, query.district.as_deref())
        .ok_or_else(|| ApiError::not_found("district"))?;
    let run = &summary.run;
    Ok(Json(wire::results::Overview {
        run: run.id,
        year,
        scheme: format!("{}@{}", run.scheme, run.scheme_version),
        published: run.published,
        district: query.district,
        overview: (&*overview).into(),
    }))
}

/// One enterprise's result with every indicator (an enterprise sees its own once published).
#[utoipa::path(get, path = "/api/v1/enterprises/{uscc}/results/{year}", tag = "results",
    params(("uscc" = String, Path, description = "Unified social credit code"), ("year" = i32, Path, description = "Evaluation year")),
    responses(
        (status = 200, description = "The result", body = wire::results::EnterpriseResult),
        (status = 400, description = "Not a valid USCC", body = wire::ErrorBody),
        (status = 404, description = "No such enterprise in the viewer's scope, or no result", body = wire::ErrorBody),
    ))]
async fn enterprise_result(
    State(state): State<AppState>,
    authed: Authed,
    Path((uscc, year)): Path<(String, i32)>,
) -> Result<Json<wire::results::EnterpriseResult>, ApiError> {
    let uscc =
        Uscc::parse(&uscc).map_err(|e| ApiError::bad_request("invalid_uscc", e.to_string()))?;
    let store = state.reader();
    // Another enterprise, or one of another district, does not exist for this viewer.
    let district = store
        .enterprise(&uscc)?
        .filter(|e| authed.viewer.may_see(&e.uscc, &e.district))
        .ok_or_else(|| ApiError::not_found("enterprise"))?
        .district;
    let run = enterprise_run(&store, &authed.viewer, year, &district)?
        .ok_or_else(|| ApiError::not_found("evaluation run"))?;
    let stored = store
        .result_for(run.id, &uscc)?
        .ok_or_else(|| ApiError::not_found("enterprise"))?;
    let r: EnterpriseResult = crate::detail(&stored)?;
    // Another enterprise's (or another district's) data is answered as if it did not exist.
    if !authed.viewer.may_see(&r.uscc, &r.district) {
        return Err(ApiError::not_found("enterprise"));
    }
    Ok(Json((&r).into()))
}

/// The enterprise's register entry, yearly values with their lineage, and class by year.
#[utoipa::path(get, path = "/api/v1/enterprises/{uscc}", tag = "results",
    params(("uscc" = String, Path, description = "Unified social credit code")),
    responses(
        (status = 200, description = "The register entry, yearly values with the department, file and row of each, and the class by year", body = wire::results::EnterpriseFile),
        (status = 400, description = "Not a valid USCC", body = wire::ErrorBody),
        (status = 404, description = "No such enterprise in the viewer's scope", body = wire::ErrorBody),
    ))]
async fn enterprise_file(
    State(state): State<AppState>,
    authed: Authed,
    Path(uscc): Path<String>,
) -> Result<Json<wire::results::EnterpriseFile>, ApiError> {
    let uscc =
        Uscc::parse(&uscc).map_err(|e| ApiError::bad_request("invalid_uscc", e.to_string()))?;
    let file = enterprise_file::load(&state.reader(), &authed.viewer, &uscc)?;
    Ok(Json((&file).into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Entries per page (default 100, at most 10,000).
    limit: Option<usize>,
    offset: Option<usize>,
    actor: Option<String>,
    action: Option<String>,
}

/// The most audit entries one API page answers.
const AUDIT_API_MAX: usize = 10_000;

/// The audit log, newest first, a page at a time: `X-Total-Count` says how many entries match,
/// and a `Link: <…>; rel="next"` header gives the next page while any remain. A limit over
/// [`AUDIT_API_MAX`] is refused, not cut silently.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the audit log, newest first", body = Vec<wire::accounts::AuditEntry>,
            headers(("x-total-count" = u64, description = "Entries matching"), ("link" = String, description = "`<…>; rel=\"next\"` while pages remain"))),
        (status = 400, description = "A limit over 10,000", body = wire::ErrorBody),
        (status = 403, description = "Not the audit administrator", body = wire::ErrorBody),
    ))]
async fn audit_log(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    if !authed.viewer.may_read_audit_log() {
        return Err(ApiError::forbidden());
    }
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let limit = query.limit.unwrap_or(100);
    if limit > AUDIT_API_MAX {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit is at most {AUDIT_API_MAX}; read further pages with offset"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    let (actor, action) = (given(&query.actor), given(&query.action));
    let (entries, total) = state.reader().audit_page(actor, action, offset, limit)?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total as u64));
    let next = offset.saturating_add(entries.len());
    if !entries.is_empty() && next < total {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("offset", &next.to_string());
        q.append_pair("limit", &limit.to_string());
        if let Some(a) = actor {
            q.append_pair("actor", a);
        }
        if let Some(a) = action {
            q.append_pair("action", a);
        }
        let link = format!("</api/v1/audit?{}>; rel=\"next\"", q.finish());
        if let Ok(v) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, v);
        }
    }
    let entries: Vec<wire::accounts::AuditEntry> = entries.iter().map(Into::into).collect();
    Ok((headers, Json(entries)).into_response())
}
