//! The admin pages and API: accounts with the three administrators kept apart, the password
//! policy, disabled accounts' sessions, and the audit log page.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::{City, PASSWORD, city};
use gusu_core::Role;
use gusu_store::Store;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    // Whatever is answered, never a password hash.
    assert!(
        !body.contains("argon2") && !body.contains("password_hash"),
        "{body}"
    );
    Reply {
        status,
        headers,
        body,
    }
}

async fn try_sign_in(app: &Router, user: &str, password: &str) -> Reply {
    send(
        app,
        Method::POST,
        "/api/v1/session",
        "",
        &[("content-type", "application/json")],
        &json!({ "username": user, "password": password }).to_string(),
    )
    .await
}

/// Signs in through the API; returns the cookie header and the CSRF token.
async fn sign_in_with(app: &Router, user: &str, password: &str) -> (String, String) {
    let r = try_sign_in(app, user, password).await;
    assert_eq!(r.status, StatusCode::OK, "{user}: {}", r.body);
    let cookie = r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (cookie, r.json()["csrf"].as_str().unwrap().to_string())
}

async fn sign_in(app: &Router, user: &str) -> (String, String) {
    sign_in_with(app, user, PASSWORD).await
}

/// JSON write through the API with the CSRF header.
async fn api_post(app: &Router, (cookie, csrf): &(String, String), uri: &str, body: &str) -> Reply {
    send(
        app,
        Method::POST,
        uri,
        cookie,
        &[("content-type", "application/json"), ("x-csrf-token", csrf)],
        body,
    )
    .await
}

/// A page form post.
async fn form_post(app: &Router, cookie: &str, uri: &str, form: &str) -> Reply {
    send(
        app,
        Method::POST,
        uri,
        cookie,
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    )
    .await
}

/// The test city plus a security administrator.
fn city_with_security_admin() -> City {
    let c = city();
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .create_account(
            "test",
            "secadmin",
            Role::SecurityAdmin,
            None,
            None,
            PASSWORD,
        )
        .unwrap();
    c
}

fn audit(c: &City) -> Vec<(String, String, Option<String>)> {
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .audit_log(10_000)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.target))
        .collect()
}

const NEW_PASSWORD: &str = "Suzhou-Canal-2026";
/// What an owner sets after an administrator set `NEW_PASSWORD`.
const OWN_PASSWORD: &str = "Pingjiang-Road-2027";

async fn change_own_password(app: &Router, user: &str, current: &str, new: &str) {
    let r = send(
        app,
        Method::POST,
        "/api/v1/password",
        "",
        &[("content-type", "application/json")],
        &json!({ "username": user, "password": current, "new_password": new }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{user}: {}", r.body);
}

/// Everything a refused administrator request must leave as it was: the accounts (with their
/// password dates and flags) and the audit log.
fn snapshot(c: &City) -> (Vec<gusu_store::Account>, usize) {
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    (store.accounts().unwrap(), audit(c).len())
}

#[tokio::test]
async fn each_role_reaches_only_its_admin_pages() {
    let c = city_with_security_admin();
    for (user, accounts, audit_log) in [
        ("sysadmin", StatusCode::OK, StatusCode::FORBIDDEN),
        ("secadmin", StatusCode::OK, StatusCode::FORBIDDEN),
        ("auditor", StatusCode::FORBIDDEN, StatusCode::OK),
        ("analyst", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
        ("officer_a", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
        ("ent_a", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
    ] {
        let s = sign_in(&c.app, user).await;
        for (uri, expected) in [
            ("/admin/accounts", accounts),
            ("/api/v1/accounts", accounts),
            ("/audit", audit_log),
            ("/api/v1/audit", audit_log),
        ] {
            let r = send(&c.app, Method::GET, uri, &s.0, &[], "").await;
            assert_eq!(r.status, expected, "{user} GET {uri}");
        }
        // Only the system administrator creates accounts and resets passwords.
        let create = api_post(
            &c.app,
            &s,
            "/api/v1/accounts",
            &json!({ "username": format!("new_{user}"), "role": "city_analyst", "password": NEW_PASSWORD }).to_string(),
        )
        .await;
        let reset = api_post(
            &c.app,
            &s,
            "/api/v1/accounts/new_sysadmin/password",
            &json!({ "password": NEW_PASSWORD }).to_string(),
        )
        .await;
        // Only the security administrator disables and enables.
        let disable = api_post(&c.app, &s, "/api/v1/accounts/officer_a/disable", "").await;
        let (may_create, may_lock) = (user == "sysadmin", user == "secadmin");
        assert_eq!(
            create.status == StatusCode::CREATED,
            may_create,
            "{user} creates: {}",
            create.body
        );
        assert_eq!(
            reset.status == StatusCode::OK,
            may_create,
            "{user} resets: {}",
            reset.body
        );
        assert_eq!(
            disable.status == StatusCode::OK,
            may_lock,
            "{user} disables: {}",
            disable.body
        );
        if !may_create {
            assert_eq!(create.status, StatusCode::FORBIDDEN, "{user}");
        }
        if may_lock {
            api_post(&c.app, &s, "/api/v1/accounts/officer_a/enable", "").await;
        } else {
            assert_eq!(disable.status, StatusCode::FORBIDDEN, "{user}");
        }
    }
    // The nav shows each its own links.
    let sys = sign_in(&c.app, "sysadmin").await;
    let page = send(&c.app, Method::GET, "/admin/accounts", &sys.0, &[], "").await;
    assert!(page.body.contains("id=\"nav-accounts\"") && !page.body.contains("id=\"nav-audit\""));
    let analyst = sign_in(&c.app, "analyst").await;
    let page = send(&c.app, Method::GET, "/overview", &analyst.0, &[], "").await;
    assert!(page.body.contains("id=\"nav-imports\"") && !page.body.contains("id=\"nav-accounts\""));
}

#[tokio::test]
async fn a_created_account_signs_in_and_a_weak_password_creates_nothing() {
    let c = city();
    let sys = sign_in(&c.app, "sysadmin").await;
    let r = api_post(
        &c.app,
        &sys,
        "/api/v1/accounts",
        &json!({ "username": "wuzhong", "role": "district_officer", "district": "吴中区", "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(!r.body.contains(NEW_PASSWORD));
    assert_eq!(
        r.json()["district"],
        "320506",
        "a district name is taken to its code"
    );
    assert_eq!(r.json()["must_change_password"], true);
    // The administrator chose this password: the owner sets its own before anything else.
    let r = try_sign_in(&c.app, "wuzhong", NEW_PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (
            StatusCode::FORBIDDEN,
            "password_change_required".to_string()
        )
    );
    assert!(r.headers.get(header::SET_COOKIE).is_none(), "no session");
    change_own_password(&c.app, "wuzhong", NEW_PASSWORD, OWN_PASSWORD).await;
    let (cookie, _) = sign_in_with(&c.app, "wuzhong", OWN_PASSWORD).await;
    let me = send(&c.app, Method::GET, "/api/v1/me", &cookie, &[], "")
        .await
        .json();
    assert_eq!(me["role"], "district_officer");
    assert_eq!(me["scope"]["of"], "320506");
    assert!(audit(&c).contains(&(
        "sysadmin".into(),
        "account_created".into(),
        Some("wuzhong".into())
    )));

    // An enterprise user of a registered enterprise, another district's code beside it.
    let r = api_post(
        &c.app,
        &sys,
        "/api/v1/accounts",
        &json!({ "username": "ent_new", "role": "enterprise", "uscc": c.a.0.to_string(), "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["uscc"], c.a.0.to_string());
    let r = api_post(
        &c.app,
        &sys,
        "/api/v1/accounts",
        &json!({ "username": "ent_bad", "role": "enterprise", "uscc": c.b.0.to_string(), "district": c.b.1, "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(
        r.code(),
        "invalid_scope",
        "an enterprise user has no district"
    );

    // Refused, with a clear message, and nothing created or audited.
    let audit_before = audit(&c).len();
    for (body, code, words) in [
        (
            json!({ "username": "weak", "role": "city_analyst", "password": "short1A" }),
            "weak_password",
            "at least 12",
        ),
        (
            json!({ "username": "weak", "role": "city_analyst", "password": "alllowercaseletters" }),
            "weak_password",
            "kinds of characters",
        ),
        (
            json!({ "username": "weak", "role": "city_analyst", "password": "Weak-2026-password" }),
            "weak_password",
            "user name",
        ),
        (
            json!({ "username": "weak", "role": "king", "password": NEW_PASSWORD }),
            "invalid_role",
            "city_analyst",
        ),
        (
            json!({ "username": "weak", "role": "district_officer", "password": NEW_PASSWORD }),
            "invalid_scope",
            "district",
        ),
        (
            json!({ "username": "weak", "role": "enterprise", "uscc": "123", "password": NEW_PASSWORD }),
            "invalid_uscc",
            "123",
        ),
        (
            json!({ "username": "weak", "role": "district_officer", "district": "火星", "password": NEW_PASSWORD }),
            "unknown_district",
            "火星",
        ),
        (
            json!({ "username": "we ak", "role": "city_analyst", "password": NEW_PASSWORD }),
            "invalid_username",
            "we ak",
        ),
    ] {
        let r = api_post(&c.app, &sys, "/api/v1/accounts", &body.to_string()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code.to_string()),
            "{body}"
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(words),
            "{}",
            r.body
        );
    }
    let r = api_post(
        &c.app,
        &sys,
        "/api/v1/accounts",
        &json!({ "username": "analyst", "role": "city_analyst", "password": NEW_PASSWORD })
            .to_string(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "account_exists".to_string())
    );
    // Malformed JSON and unknown fields (no way to slip in extra rights).
    for body in [
        "{".to_string(),
        json!({ "username": "weak", "role": "city_analyst", "password": NEW_PASSWORD, "disabled": false }).to_string(),
    ] {
        let r = api_post(&c.app, &sys, "/api/v1/accounts", &body).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_body".to_string()), "{body}");
    }
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    assert!(store.account("weak").unwrap().is_none());
    assert_eq!(
        store.account("analyst").unwrap().unwrap().role,
        Role::CityAnalyst
    );
    assert_eq!(audit(&c).len(), audit_before, "nothing to audit");

    // Through the page: the policy's reason in Chinese, nothing created; the CSRF field needed.
    let form = format!(
        "csrf={}&username=weak&role=city_analyst&district=&uscc=&password=short",
        sys.1
    );
    let r = form_post(&c.app, &sys.0, "/admin/accounts", &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("id=\"admin-error\"") && r.body.contains("至少需要 12 个"),
        "{}",
        r.body
    );
    let r = form_post(
        &c.app,
        &sys.0,
        "/admin/accounts",
        &format!("csrf=forged&username=paged&role=city_analyst&password={NEW_PASSWORD}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = form_post(
        &c.app,
        &sys.0,
        "/admin/accounts",
        &format!(
            "csrf={}&username=paged&role=city_analyst&district=&uscc=&password={NEW_PASSWORD}",
            sys.1
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(to, "/admin/accounts?done=1");
    let page = send(&c.app, Method::GET, &to, &sys.0, &[], "").await;
    assert!(
        page.body.contains("data-account=\"paged\"") && page.body.contains("id=\"admin-done\"")
    );
    assert!(!page.body.contains(NEW_PASSWORD));
    let list = send(&c.app, Method::GET, "/api/v1/accounts", &sys.0, &[], "").await;
    assert!(
        list.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["username"] == "paged")
    );
}

#[tokio::test]
async fn a_disabled_account_is_signed_out_and_refused() {
    let c = city_with_security_admin();
    let sec = sign_in(&c.app, "secadmin").await;
    let analyst = sign_in(&c.app, "analyst").await;
    let officer = sign_in(&c.app, "officer_a").await;
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &analyst.0, &[], "")
            .await
            .status,
        StatusCode::OK
    );

    // Through the page (CSRF field), then the API.
    let r = form_post(
        &c.app,
        &sec.0,
        "/admin/accounts/analyst/disable",
        "csrf=forged",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = form_post(
        &c.app,
        &sec.0,
        "/admin/accounts/analyst/disable",
        &format!("csrf={}", sec.1),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &analyst.0, &[], "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let page = send(&c.app, Method::GET, "/overview", &analyst.0, &[], "").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "the page session ended too"
    );
    let r = try_sign_in(&c.app, "analyst", PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "bad_credentials".to_string())
    );
    let list = send(&c.app, Method::GET, "/api/v1/accounts", &sec.0, &[], "")
        .await
        .json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "analyst")
        .unwrap()
        .clone();
    assert_eq!(row["disabled"], true);
    let r = api_post(&c.app, &sec, "/api/v1/accounts/analyst/enable", "").await;
    assert_eq!(
        (r.status, r.json()["disabled"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    sign_in(&c.app, "analyst").await;

    // Disabled outside the web service (the CLI): the session stops at its next request.
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &officer.0, &[], "")
            .await
            .status,
        StatusCode::OK
    );
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .set_account_disabled("cli:root", "officer_a", true)
        .unwrap();
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &officer.0, &[], "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Not oneself; not an account that does not exist.
    let r = api_post(&c.app, &sec, "/api/v1/accounts/secadmin/disable", "").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "own_account".to_string())
    );
    let r = api_post(&c.app, &sec, "/api/v1/accounts/nobody/disable", "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let actions: Vec<_> = audit(&c)
        .into_iter()
        .filter(|(actor, _, _)| actor == "secadmin")
        .map(|(_, action, target)| (action, target.unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            ("account_enabled".to_string(), "analyst".to_string()),
            ("account_disabled".to_string(), "analyst".to_string()),
            ("sign_in".to_string(), "secadmin".to_string()),
        ],
        "newest first"
    );
}

#[tokio::test]
async fn a_password_reset_meets_the_policy_and_ends_the_old_sessions() {
    let c = city();
    let sys = sign_in(&c.app, "sysadmin").await;
    let analyst = sign_in(&c.app, "analyst").await;
    let r = api_post(
        &c.app,
        &sys,
        "/api/v1/accounts/analyst/password",
        r#"{"password":"weak"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "weak_password".to_string())
    );
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &analyst.0, &[], "")
            .await
            .status,
        StatusCode::OK,
        "nothing changed"
    );
    let r = api_post(
        &c.app,
        &sys,
        "/api/v1/accounts/analyst/password",
        r#"{"password":"x","admin":1}"#,
    )
    .await;
    assert_eq!(r.code(), "invalid_body");
    let r = form_post(
        &c.app,
        &sys.0,
        "/admin/accounts/analyst/password",
        &format!("csrf={}&password={NEW_PASSWORD}", sys.1),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &analyst.0, &[], "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_sign_in(&c.app, "analyst", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_sign_in(&c.app, "analyst", NEW_PASSWORD).await.code(),
        "password_change_required"
    );
    change_own_password(&c.app, "analyst", NEW_PASSWORD, OWN_PASSWORD).await;
    sign_in_with(&c.app, "analyst", OWN_PASSWORD).await;
    assert!(audit(&c).contains(&(
        "sysadmin".into(),
        "password_reset".into(),
        Some("analyst".into())
    )));
}

#[tokio::test]
async fn the_audit_log_page_filters_newest_first_a_page_at_a_time() {
    let c = city();
    {
        let mut store = Store::open(&c.dir.path().join("g.db")).unwrap();
        for i in 1..=60 {
            store
                .audit("bulk", "export", Some(&format!("file-{i}")), None)
                .unwrap();
        }
        store
            .audit("other", "export", Some("other-file"), None)
            .unwrap();
    }
    let aud = sign_in(&c.app, "auditor").await;
    let page = send(
        &c.app,
        Method::GET,
        "/audit?actor=bulk&action=export",
        &aud.0,
        &[],
        "",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<span id=\"audit-total\">60</span>"),
        "{}",
        page.body
    );
    // 50 a page, newest first: page 1 runs from file-60 down to file-11, page 2 holds file-10..1.
    let first = page.body.find("<td>file-60</td>").unwrap();
    assert!(first < page.body.find("<td>file-11</td>").unwrap());
    assert!(!page.body.contains("<td>file-10</td>") && !page.body.contains("other-file"));
    assert!(page.body.contains("id=\"audit-next\""));
    let second = send(
        &c.app,
        Method::GET,
        "/audit?actor=bulk&action=export&page=2",
        &aud.0,
        &[],
        "",
    )
    .await;
    assert!(second.body.contains("<td>file-10</td>") && second.body.contains("<td>file-1</td>"));
    assert!(!second.body.contains("<td>file-11</td>"));
    // The API gives the same entries.
    let api = send(
        &c.app,
        Method::GET,
        "/api/v1/audit?actor=bulk&offset=50&limit=50",
        &aud.0,
        &[],
        "",
    )
    .await
    .json();
    let targets: Vec<&str> = api
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets.len(), 10);
    assert_eq!((targets[0], targets[9]), ("file-10", "file-1"));
    // Paged, and saying so: the total and the next page in headers; no silent cap.
    let first = send(
        &c.app,
        Method::GET,
        "/api/v1/audit?actor=bulk&limit=25",
        &aud.0,
        &[],
        "",
    )
    .await;
    assert_eq!(first.headers["x-total-count"], "60");
    assert_eq!(
        first.headers["link"],
        "</api/v1/audit?offset=25&limit=25&actor=bulk>; rel=\"next\""
    );
    assert_eq!(first.json().as_array().unwrap().len(), 25);
    let last = send(
        &c.app,
        Method::GET,
        "/api/v1/audit?actor=bulk&offset=50&limit=25",
        &aud.0,
        &[],
        "",
    )
    .await;
    assert_eq!(last.json().as_array().unwrap().len(), 10);
    assert!(last.headers.get("link").is_none(), "no page after the last");
    let too_many = send(
        &c.app,
        Method::GET,
        "/api/v1/audit?limit=10001",
        &aud.0,
        &[],
        "",
    )
    .await;
    assert_eq!(
        (too_many.status, too_many.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
    let r = send(&c.app, Method::GET, "/audit?sort=oldest", &aud.0, &[], "").await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unknown query fields are refused"
    );
    // No route changes the log: writes to it do not exist.
    for method in [Method::POST, Method::DELETE, Method::PUT] {
        for uri in ["/audit", "/api/v1/audit"] {
            let r = send(
                &c.app,
                method.clone(),
                uri,
                &aud.0,
                &[("x-csrf-token", &aud.1)],
                "",
            )
            .await;
            assert!(
                r.status == StatusCode::METHOD_NOT_ALLOWED || r.status == StatusCode::NOT_FOUND,
                "{method} {uri}: {}",
                r.status
            );
        }
    }
}

#[tokio::test]
async fn only_the_security_admin_grants_roles_above_the_ordinary_ones_and_resets_their_passwords() {
    let c = city_with_security_admin();
    let sys = sign_in(&c.app, "sysadmin").await;
    let sec = sign_in(&c.app, "secadmin").await;
    let before = snapshot(&c);
    // The system administrator may not make anyone an administrator, even with a weak password
    // or a bad name (the separation is checked first), through the API or the page.
    for role in [
        "city_admin",
        "system_admin",
        "security_admin",
        "audit_admin",
    ] {
        for (username, password) in [("boss", NEW_PASSWORD), ("b o s s", "weak")] {
            let r = api_post(
                &c.app,
                &sys,
                "/api/v1/accounts",
                &json!({ "username": username, "role": role, "password": password }).to_string(),
            )
            .await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::FORBIDDEN, "needs_security_admin".to_string()),
                "{role}: {}",
                r.body
            );
        }
        let r = form_post(
            &c.app,
            &sys.0,
            "/admin/accounts",
            &format!(
                "csrf={}&username=boss&role={role}&district=&uscc=&password={NEW_PASSWORD}",
                sys.1
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}");
        assert!(r.body.contains("只有安全管理员"), "{}", r.body);
    }
    // Nor reset an administrator's password (the auditor's, the security administrator's, its
    // own) and sign in as them.
    for target in ["auditor", "secadmin", "sysadmin"] {
        let r = api_post(
            &c.app,
            &sys,
            &format!("/api/v1/accounts/{target}/password"),
            &json!({ "password": NEW_PASSWORD }).to_string(),
        )
        .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "needs_security_admin".to_string()),
            "{target}"
        );
        let r = form_post(
            &c.app,
            &sys.0,
            &format!("/admin/accounts/{target}/password"),
            &format!("csrf={}&password={NEW_PASSWORD}", sys.1),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{target}");
    }
    // The security administrator does not make ordinary accounts, nor reset its own password.
    let r = api_post(
        &c.app,
        &sec,
        "/api/v1/accounts",
        &json!({ "username": "clerk", "role": "city_analyst", "password": NEW_PASSWORD })
            .to_string(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "needs_system_admin".to_string())
    );
    let r = api_post(
        &c.app,
        &sec,
        "/api/v1/accounts/secadmin/password",
        &json!({ "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "own_account".to_string())
    );
    let r = api_post(
        &c.app,
        &sec,
        "/api/v1/accounts/analyst/password",
        &json!({ "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(r.code(), "needs_system_admin");
    assert_eq!(
        snapshot(&c),
        before,
        "nothing was created, changed or audited"
    );
    assert!(try_sign_in(&c.app, "auditor", NEW_PASSWORD).await.status == StatusCode::UNAUTHORIZED);
    sign_in(&c.app, "auditor").await;

    // Each is offered only the roles it grants, and reset buttons only where it may reset.
    let page = send(&c.app, Method::GET, "/admin/accounts", &sys.0, &[], "").await;
    assert!(page.body.contains("<option value=\"city_analyst\">"));
    assert!(!page.body.contains("<option value=\"city_admin\">"));
    assert!(
        !page
            .body
            .contains("action=\"/admin/accounts/auditor/password\"")
    );
    assert!(
        page.body
            .contains("action=\"/admin/accounts/analyst/password\"")
    );
    let page = send(&c.app, Method::GET, "/admin/accounts", &sec.0, &[], "").await;
    assert!(page.body.contains("<option value=\"city_admin\">"));
    assert!(!page.body.contains("<option value=\"city_analyst\">"));
    assert!(
        page.body
            .contains("action=\"/admin/accounts/auditor/password\"")
    );
    assert!(
        !page
            .body
            .contains("action=\"/admin/accounts/secadmin/password\"")
    );

    // The security administrator grants a city administrator; its password must be changed
    // first, and the sign-in page sends it to the change-password form.
    let r = api_post(
        &c.app,
        &sec,
        "/api/v1/accounts",
        &json!({ "username": "boss", "role": "city_admin", "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(audit(&c).contains(&(
        "secadmin".into(),
        "account_created".into(),
        Some("boss".into())
    )));
    let login = send(&c.app, Method::GET, "/login", "", &[], "").await;
    let login_cookie = login.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = login_cookie.trim_start_matches("gusu_login=").to_string();
    let r = form_post(
        &c.app,
        &login_cookie,
        "/login",
        &format!("csrf={token}&username=boss&password={NEW_PASSWORD}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("id=\"password-form\"") && r.body.contains("管理员设置"),
        "{}",
        r.body
    );
    assert!(
        !r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("gusu_session=")),
        "no session until the password is changed"
    );
    change_own_password(&c.app, "boss", NEW_PASSWORD, OWN_PASSWORD).await;
    let boss = sign_in_with(&c.app, "boss", OWN_PASSWORD).await;
    let me = send(&c.app, Method::GET, "/api/v1/me", &boss.0, &[], "").await;
    assert_eq!(me.json()["role"], "city_admin");

    // It resets the system administrator's password: the old session ends, the new password
    // must be changed before use.
    let r = api_post(
        &c.app,
        &sec,
        "/api/v1/accounts/sysadmin/password",
        &json!({ "password": NEW_PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        send(&c.app, Method::GET, "/api/v1/me", &sys.0, &[], "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_sign_in(&c.app, "sysadmin", NEW_PASSWORD).await.code(),
        "password_change_required"
    );
}
