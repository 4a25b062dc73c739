//! Administration (issue 3): accounts and the audit log, pages and API, with the three
//! administrators kept apart (三员分立) as gusu-core's access rules say: the system administrator
//! creates ordinary accounts and resets their passwords; only the security administrator grants
//! the roles above them (city administrator, system, security and audit administrator) and resets
//! those accounts' passwords (never its own), and it disables and enables accounts (never its
//! own); both list them, and the audit administrator reads the log. A refused grant or reset
//! answers 403 `needs_security_admin` (or `needs_system_admin`) before anything else is looked at.
//! A password an administrator set must be changed at the next sign-in. The store audits every
//! change in the transaction that makes it; no route changes or removes a log entry. Passwords
//! meet the configured policy; neither a password nor its hash is ever answered.

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use gusu_core::access::PasswordError;
use gusu_core::{Role, Uscc, Viewer};
use gusu_store::Account;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::{Deserialize, Serialize};

use crate::imports::Refusal;
use crate::pages::{Lang, LangQuery, language, page_session, texts};
use crate::session::Session;
use crate::wire::{self, ErrorBody};
use crate::{ApiError, AppState, Authed};
use utoipa::{OpenApi, ToSchema};

/// Entries per page of the audit log page.
const AUDIT_PAGE_SIZE: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(accounts_page).post(create_page))
        .route("/admin/accounts/{username}/disable", post(disable_page))
        .route("/admin/accounts/{username}/enable", post(enable_page))
        .route("/admin/accounts/{username}/password", post(password_page))
        .route("/audit", get(audit_page))
        .route("/api/v1/accounts", get(api_accounts).post(api_create))
        .route("/api/v1/accounts/{username}/disable", post(api_disable))
        .route("/api/v1/accounts/{username}/enable", post(api_enable))
        .route("/api/v1/accounts/{username}/password", post(api_password))
}

/// A link of the page header beyond the common ones.
#[derive(Debug, PartialEq, Eq, Serialize)]
struct NavLink {
    id: &'static str,
    href: &'static str,
    label: &'static str,
}

/// The header links of a role (what its viewers may open; a unit test holds them to the
/// `Viewer` predicates). Templates call it as `nav_links(role, t.lang)`: every page passes
/// `role`, so each page shows them without its own code.
pub(crate) fn nav_links(role: String, lang: String) -> Value {
    Value::from(Serde(links_of(
        Role::from_key(&role),
        lang.starts_with("en"),
    )))
}

fn links_of(role: Option<Role>, en: bool) -> Vec<NavLink> {
    let label = |zh: &'static str, en_label: &'static str| if en { en_label } else { zh };
    let mut links = Vec::new();
    let Some(role) = role else { return links };
    let link = |id, href, zh, en_label| NavLink {
        id,
        href,
        label: label(zh, en_label),
    };
    let staff = matches!(
        role,
        Role::CityAdmin | Role::CityAnalyst | Role::DistrictOfficer
    );
    if staff {
        links.push(link("overview", "/overview", "概览", "Overview"));
        links.push(link(
            "enterprises",
            "/enterprises",
            "企业列表",
            "Enterprises",
        ));
        links.push(link("imports", "/imports", "数据导入", "Imports"));
        links.push(link("cycles", "/cycles", "评价流程", "Evaluation cycles"));
        links.push(link(
            "energy",
            "/energy",
            "能耗与碳排放",
            "Energy and carbon",
        ));
    }
    if role == Role::Enterprise {
        // Its own page is the home page ("/").
        links.push(link("home", "/", "本企业", "My enterprise"));
        links.push(link("cycles", "/my/cycle", "评价流程", "Evaluation cycle"));
        links.push(link(
            "energy",
            "/my/energy",
            "能耗与碳排放",
            "Energy and carbon",
        ));
    }
    if staff || role == Role::Enterprise {
        links.push(link("notices", "/notices", "结果通知", "Result notices"));
        links.push(link("rules", "/rules", "评价方案", "Evaluation schemes"));
        links.push(link("nzc", "/nzc", "近零碳工厂", "Near-zero-carbon"));
        links.push(link(
            "policies",
            "/policies",
            "政策计算器",
            "Policy calculator",
        ));
    }
    if matches!(role, Role::SystemAdmin | Role::SecurityAdmin) {
        links.push(link("accounts", "/admin/accounts", "账号管理", "Accounts"));
    }
    if role == Role::AuditAdmin {
        links.push(link("audit", "/audit", "审计日志", "Audit log"));
    }
    links
}

fn role_name(role: Role, lang: Lang) -> &'static str {
    if lang == Lang::Zh {
        return role.name_zh();
    }
    match role {
        Role::CityAdmin => "city administrator",
        Role::CityAnalyst => "city analyst",
        Role::DistrictOfficer => "district officer",
        Role::Enterprise => "enterprise user",
        Role::SystemAdmin => "system administrator",
        Role::SecurityAdmin => "security administrator",
        Role::AuditAdmin => "audit administrator",
    }
}

// ------------------------------------------------------------------------- the operations

/// A new account as asked for (API body and page form alike).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 1–64 ASCII letters, digits, `_`, `-` or `.`.
    username: String,
    /// A role key: `city_admin`, `city_analyst`, `district_officer`, `enterprise`,
    /// `system_admin`, `security_admin` or `audit_admin`.
    role: String,
    /// A district officer's district code.
    #[serde(default)]
    district: Option<String>,
    /// An enterprise user's USCC.
    #[serde(default)]
    uscc: Option<String>,
    /// Meets the password policy; must be changed at the first sign-in.
    password: String,
}

fn forbidden() -> Refusal {
    Refusal::from(ApiError::forbidden())
}

/// 三员分立: may this viewer give an account `role`, or reset the password of one that has it?
/// Checked before anything else of the request.
fn separation(viewer: &Viewer, role: Role) -> Result<(), Refusal> {
    if viewer.may_grant(role) {
        return Ok(());
    }
    if !viewer.may_create_accounts() {
        return Err(forbidden());
    }
    Err(if role.is_elevated() {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "needs_security_admin",
            format!(
                "only the security administrator grants the role {} and resets the passwords of its accounts; nothing was changed",
                role.key()
            ),
            format!(
                "只有安全管理员可以授予“{}”角色或重置其密码；未作任何更改",
                role.name_zh()
            ),
        )
    } else {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "needs_system_admin",
            format!(
                "ordinary accounts such as {} are created and reset by the system administrator; nothing was changed",
                role.key()
            ),
            format!(
                "“{}”等普通账号由系统管理员新建和重置密码；未作任何更改",
                role.name_zh()
            ),
        )
    })
}

fn policy_refusal(e: &PasswordError) -> Refusal {
    let zh = match e {
        PasswordError::TooShort { found, min } => {
            format!("密码只有 {found} 个字符，至少需要 {min} 个")
        }
        PasswordError::TooSimple { found, min } => format!(
            "密码只含 {found} 类字符（小写字母、大写字母、数字、其他字符），至少需要 {min} 类"
        ),
        PasswordError::ContainsUser => "密码不能包含用户名".to_string(),
        PasswordError::Unchanged => "新密码与当前密码相同".to_string(),
    };
    Refusal::bad(
        "weak_password",
        format!("the password does not meet the policy: {e}; nothing was changed"),
        format!("密码不符合要求：{zh}；未作任何更改"),
    )
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn create_account(state: &AppState, viewer: &Viewer, new: &NewAccount) -> Result<Account, Refusal> {
    if !viewer.may_create_accounts() {
        return Err(forbidden());
    }
    // 三员分立 first: nothing of the request is looked at for a role this viewer may not grant.
    if let Some(role) = Role::from_key(new.role.trim()) {
        separation(viewer, role)?;
    }
    let username = new.username.trim();
    if !gusu_core::access::valid_username(username) {
        return Err(Refusal::bad(
            "invalid_username",
            format!("the user name '{username}' must be 1 to 64 letters, digits, '_', '-' or '.'"),
            format!("用户名“{username}”无效：应为 1 至 64 个英文字母、数字、“_”、“-”或“.”"),
        ));
    }
    let role = Role::from_key(new.role.trim()).ok_or_else(|| {
        let keys: Vec<&str> = Role::ALL.iter().map(|r| r.key()).collect();
        Refusal::bad(
            "invalid_role",
            format!(
                "unknown role '{}'; the roles are {}",
                new.role,
                keys.join(", ")
            ),
            format!("未知角色“{}”；可用角色为 {}", new.role, keys.join("、")),
        )
    })?;
    let region = &state.0.config.region;
    let district = match given(&new.district) {
        None => None,
        Some(d) => Some(
            region
                .by_code(d)
                .or_else(|| region.resolve(d))
                .map(|found| found.code.clone())
                .ok_or_else(|| {
                    Refusal::bad(
                        "unknown_district",
                        format!("'{d}' is not a district of the region"),
                        format!("“{d}”不是本市的区县"),
                    )
                })?,
        ),
    };
    let uscc = match given(&new.uscc) {
        None => None,
        Some(u) => Some(Uscc::parse(u).map_err(|e| {
            Refusal::bad(
                "invalid_uscc",
                format!("'{u}' is not a valid USCC: {e}"),
                format!("“{u}”不是有效的统一社会信用代码：{e}"),
            )
        })?),
    };
    Viewer::new(username, role, district.as_deref(), uscc).map_err(|e| {
        Refusal::bad(
            "invalid_scope",
            format!("{e}"),
            "角色与范围不符：区县工作人员须指定区县，企业用户须指定统一社会信用代码，其他角色两者都不填",
        )
    })?;
    state
        .0
        .config
        .password
        .check(username, &new.password)
        .map_err(|e| policy_refusal(&e))?;
    let mut store = state.store();
    if store.account(username)?.is_some() {
        return Err(Refusal::new(
            StatusCode::CONFLICT,
            "account_exists",
            format!("an account named {username} exists already; nothing was changed"),
            format!("账号 {username} 已存在，未作任何更改"),
        ));
    }
    // The administrator knows this password: the owner sets its own at the first sign-in.
    store.create_account_to_change(
        &viewer.user,
        username,
        role,
        district.as_deref(),
        uscc,
        &new.password,
    )?;
    store
        .account(username)?
        .ok_or_else(|| Refusal::from(ApiError::internal("the new account is missing")))
}

fn missing_account(username: &str) -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("account {username} not found"),
        format!("找不到账号 {username}"),
    )
}

fn set_disabled(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
    disabled: bool,
) -> Result<Account, Refusal> {
    if !viewer.may_lock_accounts() {
        return Err(forbidden());
    }
    if !viewer.may_lock_account(username) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "own_account",
            "an administrator cannot disable or enable its own account",
            "管理员不能停用或启用自己的账号",
        ));
    }
    let mut store = state.store();
    if store.account(username)?.is_none() {
        return Err(missing_account(username));
    }
    store.set_account_disabled(&viewer.user, username, disabled)?;
    if disabled {
        // Its sessions end now; any left over would be refused at their next request anyway.
        state.0.sessions.end_user(username);
    }
    store
        .account(username)?
        .ok_or_else(|| missing_account(username))
}

fn reset_password(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
    password: &str,
) -> Result<Account, Refusal> {
    if !viewer.may_create_accounts() {
        return Err(forbidden());
    }
    let mut store = state.store();
    let Some(target) = store.account(username)? else {
        return Err(missing_account(username));
    };
    // 三员分立: an administrator's password only the security administrator resets, and never
    // its own (it changes its own with the current one, as everyone does).
    separation(viewer, target.role)?;
    if !viewer.may_reset_password(username, target.role) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "own_account",
            "an administrator cannot reset its own password; change it with the current one",
            "管理员不能重置自己的密码，请用当前密码修改",
        ));
    }
    state
        .0
        .config
        .password
        .check(username, password)
        .map_err(|e| policy_refusal(&e))?;
    store.reset_password(&viewer.user, username, password)?;
    // Whoever held the old password is signed out (the store revoked the account's API tokens).
    state.0.sessions.end_user(username);
    store
        .account(username)?
        .ok_or_else(|| missing_account(username))
}

// ------------------------------------------------------------------------------- JSON API

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))
}

/// The accounts API's operations, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(api_accounts, api_create, api_disable, api_enable, api_password))]
pub(crate) struct Api;

/// Accounts, without secrets (system and security administrators).
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, description = "The accounts", body = Vec<wire::accounts::Account>)))]
async fn api_accounts(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<Vec<wire::accounts::Account>>, ApiError> {
    if !authed.viewer.may_list_accounts() {
        return Err(ApiError::forbidden());
    }
    let accounts = state.reader().accounts()?;
    Ok(Json(accounts.iter().map(Into::into).collect()))
}

/// Create an account (ordinary roles: the system administrator; the roles above them: the
/// security administrator).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Created", body = wire::accounts::Account),
        (status = 409, description = "The user name is taken", body = ErrorBody),
    ))]
async fn api_create(
    State(state): State<AppState>,
    authed: Authed,
    body: Result<Json<NewAccount>, JsonRejection>,
) -> Result<Response, ApiError> {
    if !authed.viewer.may_create_accounts() {
        return Err(ApiError::forbidden());
    }
    let new = json_body(body)?;
    let account = create_account(&state, &authed.viewer, &new)?;
    Ok((
        StatusCode::CREATED,
        Json(wire::accounts::Account::from(&account)),
    )
        .into_response())
}

/// Disable an account and end its sessions (security administrator, not oneself).
#[utoipa::path(post, path = "/api/v1/accounts/{username}/disable", tag = "accounts",
    params(("username" = String, Path, description = "User name")),
    responses((status = 200, description = "Disabled", body = wire::accounts::Account)))]
async fn api_disable(
    State(state): State<AppState>,
    authed: Authed,
    Path(username): Path<String>,
) -> Result<Json<wire::accounts::Account>, ApiError> {
    let account = set_disabled(&state, &authed.viewer, &username, true)?;
    Ok(Json((&account).into()))
}

/// Enable an account (security administrator, not oneself).
#[utoipa::path(post, path = "/api/v1/accounts/{username}/enable", tag = "accounts",
    params(("username" = String, Path, description = "User name")),
    responses((status = 200, description = "Enabled", body = wire::accounts::Account)))]
async fn api_enable(
    State(state): State<AppState>,
    authed: Authed,
    Path(username): Path<String>,
) -> Result<Json<wire::accounts::Account>, ApiError> {
    let account = set_disabled(&state, &authed.viewer, &username, false)?;
    Ok(Json((&account).into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

/// Reset an account's password (the system administrator for ordinary accounts, the security
/// administrator for the roles above them); its sessions and tokens end, and the owner must
/// change it at the next sign-in.
#[utoipa::path(post, path = "/api/v1/accounts/{username}/password", tag = "accounts",
    params(("username" = String, Path, description = "User name")),
    request_body = NewPassword,
    responses((status = 200, description = "Reset", body = wire::accounts::Account)))]
async fn api_password(
    State(state): State<AppState>,
    authed: Authed,
    Path(username): Path<String>,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> Result<Json<wire::accounts::Account>, ApiError> {
    if !authed.viewer.may_create_accounts() {
        return Err(ApiError::forbidden());
    }
    let body = json_body(body)?;
    let account = reset_password(&state, &authed.viewer, &username, &body.password)?;
    Ok(Json((&account).into()))
}

// ---------------------------------------------------------------------------------- pages

#[derive(Serialize)]
struct AdminTexts {
    accounts: &'static str,
    create: &'static str,
    username: &'static str,
    role: &'static str,
    district: &'static str,
    uscc: &'static str,
    scope_hint: &'static str,
    password: &'static str,
    password_hint: &'static str,
    status: &'static str,
    enabled: &'static str,
    disabled: &'static str,
    created: &'static str,
    password_changed: &'static str,
    disable: &'static str,
    enable: &'static str,
    reset: &'static str,
    done: &'static str,
    audit: &'static str,
    at: &'static str,
    actor: &'static str,
    action: &'static str,
    target: &'static str,
    detail: &'static str,
    filter: &'static str,
    entries: &'static str,
    separation: &'static str,
}

fn admin_texts(lang: Lang) -> AdminTexts {
    match lang {
        Lang::Zh => AdminTexts {
            accounts: "账号管理",
            create: "新建账号",
            username: "用户名",
            role: "角色",
            district: "区县",
            uscc: "统一社会信用代码",
            scope_hint: "区县工作人员填区县，企业用户填统一社会信用代码，其他角色均不填",
            password: "密码",
            password_hint: "至少 12 个字符，含大写字母、小写字母、数字、其他字符中的 3 类，且不含用户名",
            status: "状态",
            enabled: "启用",
            disabled: "已停用",
            created: "创建时间",
            password_changed: "密码修改时间",
            disable: "停用",
            enable: "启用",
            reset: "重置密码",
            done: "已完成。",
            audit: "审计日志",
            at: "时间",
            actor: "操作人",
            action: "操作",
            target: "对象",
            detail: "详情",
            filter: "筛选",
            entries: "条记录",
            separation: "三员分立：系统管理员新建普通账号（市级分析人员、区县工作人员、企业用户）并重置其密码；市级管理员及三员角色只能由安全管理员授予和重置密码；安全管理员停用、启用账号；审计管理员查看审计日志。管理员设置的密码须在首次登录时修改。",
        },
        Lang::En => AdminTexts {
            accounts: "Accounts",
            create: "New account",
            username: "User name",
            role: "Role",
            district: "District",
            uscc: "USCC",
            scope_hint: "a district officer needs a district, an enterprise user a USCC, other roles neither",
            password: "Password",
            password_hint: "at least 12 characters of 3 kinds (upper case, lower case, digits, others), without the user name",
            status: "Status",
            enabled: "enabled",
            disabled: "disabled",
            created: "Created",
            password_changed: "Password changed",
            disable: "Disable",
            enable: "Enable",
            reset: "Reset password",
            done: "Done.",
            audit: "Audit log",
            at: "At",
            actor: "Actor",
            action: "Action",
            target: "Target",
            detail: "Detail",
            filter: "Filter",
            entries: "entries",
            separation: "Separated administrators: the system administrator creates ordinary accounts (city analysts, district officers, enterprise users) and resets their passwords; only the security administrator grants the city administrator and administrator roles and resets their passwords; the security administrator disables and enables accounts; the audit administrator reads the audit log. A password an administrator set must be changed at the next sign-in.",
        },
    }
}

/// The shared templates plus the admin pages', parsed once.
fn environment() -> &'static minijinja::Environment<'static> {
    static TEMPLATES: std::sync::OnceLock<minijinja::Environment<'static>> =
        std::sync::OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut env = crate::pages::templates();
        for (n, source) in [
            (
                "admin_accounts.html",
                include_str!("../../../web/templates/admin_accounts.html"),
            ),
            (
                "audit.html",
                include_str!("../../../web/templates/audit.html"),
            ),
        ] {
            // The templates are part of the binary and tested; a broken one fails every test.
            env.add_template(n, source)
                .expect("shipped template parses");
        }
        env
    })
}

fn render(name: &str, ctx: Value) -> Result<String, ApiError> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::internal(e.to_string()))
}

#[derive(Deserialize, Default)]
struct AccountsQuery {
    lang: Option<String>,
    done: Option<String>,
}

fn accounts_html(
    state: &AppState,
    session: &Session,
    lang: Lang,
    error: Option<&str>,
    done: bool,
) -> Result<String, ApiError> {
    let viewer = &session.viewer;
    let a = admin_texts(lang);
    let region = &state.0.config.region;
    let accounts: Vec<serde_json::Value> = state
        .reader()
        .accounts()?
        .iter()
        .map(|acc| {
            let scope = match (&acc.district, &acc.uscc) {
                (Some(d), _) => region.by_code(d).map_or_else(
                    || d.clone(),
                    |found| {
                        if lang == Lang::Zh {
                            found.name_zh.clone()
                        } else {
                            found.name_en.clone()
                        }
                    },
                ),
                (_, Some(u)) => u.to_string(),
                _ => String::new(),
            };
            serde_json::json!({
                "username": acc.username,
                "role": role_name(acc.role, lang),
                "scope": scope,
                "disabled": acc.disabled,
                "created_at": acc.created_at,
                "password_changed_at": acc.password_changed_at,
                "may_lock": viewer.may_lock_account(&acc.username),
                "may_reset": viewer.may_reset_password(&acc.username, acc.role),
            })
        })
        .collect();
    // Only the roles this administrator may grant are offered.
    let roles: Vec<serde_json::Value> = Role::ALL
        .iter()
        .filter(|r| viewer.may_grant(**r))
        .map(|r| serde_json::json!({ "key": r.key(), "name": role_name(*r, lang) }))
        .collect();
    let districts: Vec<serde_json::Value> = region
        .districts
        .iter()
        .map(|d| serde_json::json!({ "code": d.code, "name": if lang == Lang::Zh { &d.name_zh } else { &d.name_en } }))
        .collect();
    render(
        "admin_accounts.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            a => Value::from(Serde(&a)),
            user => viewer.user.clone(),
            role => viewer.role.key(),
            csrf => session.csrf.clone(),
            accounts => Value::from(Serde(&accounts)),
            roles => Value::from(Serde(&roles)),
            districts => Value::from(Serde(&districts)),
            may_manage => viewer.may_create_accounts(),
            may_lock => viewer.may_lock_accounts(),
            error => error,
            done => done,
        },
    )
}

async fn accounts_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AccountsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let mut out = HeaderMap::new();
    let lang = language(
        &headers,
        &LangQuery {
            lang: query.lang.clone(),
            year: None,
        },
        &mut out,
    );
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    if !session.viewer.may_list_accounts() {
        return Err(ApiError::forbidden());
    }
    let html = accounts_html(&state, &session, lang, None, query.done.is_some())?;
    Ok((out, Html(html)).into_response())
}

/// The session of a page form whose CSRF field matches, or the response to give instead.
fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Result<Session, Response>, ApiError> {
    let Some((session, _)) = page_session(state, headers) else {
        return Ok(Err(Redirect::to("/login").into_response()));
    };
    if !crate::session::csrf_matches(&session.csrf, Some(csrf)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong CSRF token",
        ));
    }
    Ok(Ok(session))
}

/// After a page form: back to the list, or the list with the refusal and its status.
fn after(
    state: &AppState,
    session: &Session,
    lang: Lang,
    outcome: Result<Account, Refusal>,
) -> Result<Response, ApiError> {
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/accounts?done=1").into_response()),
        Err(refused) if refused.status == StatusCode::FORBIDDEN && refused.code == "forbidden" => {
            Err(refused.into())
        }
        Err(refused) => {
            let html = accounts_html(state, session, lang, Some(refused.message(lang)), false)?;
            Ok((refused.status, Html(html)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct CreateForm {
    csrf: String,
    username: String,
    role: String,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    uscc: Option<String>,
    password: String,
}

async fn create_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let lang = language(&headers, &LangQuery::default(), &mut HeaderMap::new());
    let session = match form_session(&state, &headers, &form.csrf)? {
        Ok(s) => s,
        Err(response) => return Ok(response),
    };
    let new = NewAccount {
        username: form.username,
        role: form.role,
        district: form.district,
        uscc: form.uscc,
        password: form.password,
    };
    let outcome = create_account(&state, &session.viewer, &new);
    after(&state, &session, lang, outcome)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn lock_page(
    state: AppState,
    headers: HeaderMap,
    username: String,
    form: Result<Form<CsrfForm>, FormRejection>,
    disabled: bool,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let lang = language(&headers, &LangQuery::default(), &mut HeaderMap::new());
    let session = match form_session(&state, &headers, &form.csrf)? {
        Ok(s) => s,
        Err(response) => return Ok(response),
    };
    let outcome = set_disabled(&state, &session.viewer, &username, disabled);
    after(&state, &session, lang, outcome)
}

async fn disable_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    lock_page(state, headers, username, form, true).await
}

async fn enable_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, ApiError> {
    lock_page(state, headers, username, form, false).await
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    password: String,
}

async fn password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    let lang = language(&headers, &LangQuery::default(), &mut HeaderMap::new());
    let session = match form_session(&state, &headers, &form.csrf)? {
        Ok(s) => s,
        Err(response) => return Ok(response),
    };
    let outcome = reset_password(&state, &session.viewer, &username, &form.password);
    after(&state, &session, lang, outcome)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    lang: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    page: Option<usize>,
}

/// The audit log for the audit administrator: newest first, filtered, a page at a time. Read
/// only: there is no route that changes it.
async fn audit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let mut out = HeaderMap::new();
    let lang = language(
        &headers,
        &LangQuery {
            lang: query.lang.clone(),
            year: None,
        },
        &mut out,
    );
    let Some((session, _)) = page_session(&state, &headers) else {
        return Ok((out, Redirect::to("/login")).into_response());
    };
    if !session.viewer.may_read_audit_log() {
        return Err(ApiError::forbidden());
    }
    let (actor, action) = (given(&query.actor), given(&query.action));
    let store = state.reader();
    let (_, total) = store.audit_page(actor, action, 0, 0)?;
    let pages = total.div_ceil(AUDIT_PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let (entries, _) =
        store.audit_page(actor, action, (page - 1) * AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE)?;
    drop(store);
    let link = |p: usize| {
        let mut url = format!("/audit?page={p}");
        for (k, v) in [("actor", actor), ("action", action)] {
            if let Some(v) = v {
                url.push_str(&format!(
                    "&{k}={}",
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
        }
        url
    };
    let html = render(
        "audit.html",
        context! {
            t => Value::from(Serde(texts(lang))),
            a => Value::from(Serde(admin_texts(lang))),
            user => session.viewer.user.clone(),
            role => session.viewer.role.key(),
            csrf => session.csrf.clone(),
            entries => Value::from(Serde(&entries)),
            actor => actor.unwrap_or_default(),
            action => action.unwrap_or_default(),
            total => total,
            page => page,
            pages => pages,
            prev => link(page.saturating_sub(1).max(1)),
            next => link(page + 1),
        },
    )?;
    Ok((out, Html(html)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_roles_links_are_what_its_viewers_may_open() {
        let code = Uscc::with_check_character("91320583MA0000001").unwrap();
        for role in Role::ALL {
            let (district, uscc) = match role {
                Role::DistrictOfficer => (Some("320583"), None),
                Role::Enterprise => (None, Some(code)),
                _ => (None, None),
            };
            let v = Viewer::new("someone", role, district, uscc).unwrap();
            let ids: Vec<&str> = links_of(Some(role), false).iter().map(|l| l.id).collect();
            let enterprise = matches!(v.scope, gusu_core::Scope::Enterprise(_));
            let expected: Vec<&str> = [
                (v.is_staff(), "overview"),
                (v.is_staff(), "enterprises"),
                (v.may_import(), "imports"),
                (v.is_staff(), "cycles"),
                (v.is_staff(), "energy"),
                (enterprise, "home"),
                (enterprise, "cycles"),
                (enterprise, "energy"),
                (v.is_staff() || enterprise, "notices"),
                (v.is_staff() || enterprise, "rules"),
                (v.scope != gusu_core::Scope::Nothing, "nzc"),
                (v.scope != gusu_core::Scope::Nothing, "policies"),
                (v.may_list_accounts(), "accounts"),
                (v.may_read_audit_log(), "audit"),
            ]
            .into_iter()
            .filter_map(|(may, id)| may.then_some(id))
            .collect();
            assert_eq!(ids, expected, "{role:?}");
        }
        assert!(links_of(None, true).is_empty());
        assert_eq!(links_of(Some(Role::AuditAdmin), true)[0].label, "Audit log");
    }
}
