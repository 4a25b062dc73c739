//! Sign-in as the security review probed it (issue 11, point 8): a made-up name answers as slowly
//! as a real one, parallel tries cannot pass the limit, a password change or reset ends the
//! account's sessions and tokens, and tokens expire and obey the password rules.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::PASSWORD;
use gusu_store::Store;
use gusu_web::{AppState, WebConfig, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    auth: Option<(&str, &str)>,
    body: Option<String>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some((name, value)) = auth {
        req = req.header(name, value);
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.unwrap_or_default())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, cookie)
}

async fn sign_in(app: &Router, user: &str, password: &str) -> (StatusCode, Value, Option<String>) {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    call(app, Method::POST, "/api/v1/session", None, Some(body)).await
}

async fn me(app: &Router, auth: (&str, &str)) -> StatusCode {
    call(app, Method::GET, "/api/v1/me", Some(auth), None)
        .await
        .0
}

fn app_with(c: &common::City, adjust: impl FnOnce(&mut WebConfig)) -> Router {
    let mut config = WebConfig::new(c.dir.path().join("g.db"));
    adjust(&mut config);
    router(AppState::open(config).unwrap())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test]
async fn a_name_without_an_account_answers_as_slowly_as_a_wrong_password() {
    let c = common::city();
    let app = app_with(&c, |config| {
        config.max_failures = 1_000;
        config.address_failures = 0;
    });
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        for (user, times) in [("analyst", &mut known), ("no_such_user", &mut unknown)] {
            let started = Instant::now();
            let (status, json, _) = sign_in(&app, user, "Wrong-password-1").await;
            times.push(started.elapsed());
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(json["error"]["code"], "bad_credentials", "the same answer");
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    // Both run one argon2 check (tens of milliseconds); without the dummy hash the unknown name
    // took under a millisecond.
    assert!(
        unknown * 2 >= known && unknown <= known * 2,
        "known {known:?}, unknown {unknown:?}"
    );
    // The made-up name left no audit row; the real one left one per try.
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let (failed, _) = store
        .audit_page(None, Some("sign_in_failed"), 0, 100)
        .unwrap();
    assert_eq!(failed.len(), 7);
    assert!(failed.iter().all(|e| e.actor == "analyst"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_tries_get_no_more_password_checks_than_the_limit() {
    let c = common::city();
    let app = app_with(&c, |config| config.max_failures = 5);
    let tries: Vec<_> = (0..40)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { sign_in(&app, "analyst", "Wrong-password-1").await })
        })
        .collect();
    let mut refused = 0;
    let mut throttled = 0;
    for t in tries {
        let (status, json, _) = t.await.unwrap();
        match status {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(json["error"]["code"], "too_many_attempts");
                throttled += 1
            }
            other => panic!("{other}: {json}"),
        }
    }
    assert_eq!((refused, throttled), (5, 35));
    // Still locked, even with the right password; the lock is audited once.
    assert_eq!(
        sign_in(&app, "analyst", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let count = |action: &str| {
        store
            .audit_page(None, Some(action), 0, 100)
            .unwrap()
            .0
            .len()
    };
    assert_eq!(count("sign_in_failed"), 5, "five password checks");
    assert_eq!(count("sign_in_locked"), 1);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_revokes_the_tokens() {
    let c = common::city();
    let app = c.app.clone();
    let (s, _, first) = sign_in(&app, "analyst", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, second) = sign_in(&app, "analyst", PASSWORD).await;
    let (first, second) = (first.unwrap(), second.unwrap());
    let (_, _, other) = sign_in(&app, "officer_a", PASSWORD).await;
    let other = other.unwrap();
    let (token, hashed) = gusu_web::session::new_api_token();
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .add_api_token("test", "analyst", "nightly", &hashed, 30)
        .unwrap();
    let bearer = format!("Bearer {token}");
    assert_eq!(me(&app, ("authorization", &bearer)).await, StatusCode::OK);

    let change = format!(
        r#"{{"username":"analyst","password":"{PASSWORD}","new_password":"Changed-2026-pass"}}"#
    );
    let (s, json, _) = call(&app, Method::POST, "/api/v1/password", None, Some(change)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{json}");
    for cookie in [&first, &second] {
        assert_eq!(
            me(&app, ("cookie", cookie)).await,
            StatusCode::UNAUTHORIZED,
            "every session of the account ends"
        );
    }
    assert_eq!(
        me(&app, ("authorization", &bearer)).await,
        StatusCode::UNAUTHORIZED,
        "its tokens are revoked"
    );
    assert_eq!(
        me(&app, ("cookie", &other)).await,
        StatusCode::OK,
        "another account's session lives on"
    );
    assert_eq!(
        sign_in(&app, "analyst", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "analyst", "Changed-2026-pass").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_expire_and_stop_with_an_expired_or_administrator_set_password() {
    let c = common::city();
    let db = c.dir.path().join("g.db");
    let mut tokens = Vec::new();
    for (user, name) in [
        ("analyst", "expired"),
        ("ent_a", "nightly"),
        ("officer_a", "x"),
    ] {
        let (token, hashed) = gusu_web::session::new_api_token();
        Store::open(&db)
            .unwrap()
            .add_api_token("test", user, name, &hashed, 30)
            .unwrap();
        tokens.push(format!("Bearer {token}"));
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    // The analyst's token's days have passed; the enterprise user's password is a year old.
    conn.execute(
        "UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE name = 'expired'",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE accounts SET password_changed_at = '2020-01-01T00:00:00Z' WHERE username = 'ent_a'",
        [],
    )
    .unwrap();
    // The officer's password was set by an administrator (made so by the CLI's create, say).
    conn.execute(
        "UPDATE accounts SET must_change_password = 1 WHERE username = 'officer_a'",
        [],
    )
    .unwrap();
    let app = c.app.clone();
    assert_eq!(
        me(&app, ("authorization", &tokens[0])).await,
        StatusCode::UNAUTHORIZED
    );
    let (s, json, _) = call(
        &app,
        Method::GET,
        "/api/v1/me",
        Some(("authorization", &tokens[1])),
        None,
    )
    .await;
    assert_eq!(
        (s, json["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_expired"))
    );
    let (s, json, _) = call(
        &app,
        Method::GET,
        "/api/v1/me",
        Some(("authorization", &tokens[2])),
        None,
    )
    .await;
    assert_eq!(
        (s, json["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
}

/// 等保 level 3 asks two factors of administrators: with the server requiring it, an
/// administrator without an enrolled TOTP secret cannot sign in; once enrolled, the password
/// alone is refused, a wrong code is a counted failure, the right code signs in once and the
/// same code never again (no replay). Ordinary roles sign in with the password as before.
#[tokio::test]
async fn administrators_sign_in_with_a_totp_code_taken_once() {
    let c = common::city();
    let app = app_with(&c, |config| config.admin_second_factor = true);
    let otp_sign_in = |user: &'static str, otp: String| {
        let app = app.clone();
        async move {
            let body = format!(r#"{{"username":"{user}","password":"{PASSWORD}","otp":"{otp}"}}"#);
            call(&app, Method::POST, "/api/v1/session", None, Some(body)).await
        }
    };
    // Not enrolled: refused, whatever the password.
    let (s, j, cookie) = sign_in(&app, "sysadmin", PASSWORD).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("second_factor_not_enrolled"))
    );
    assert!(cookie.is_none());
    // An ordinary role needs nothing more.
    let (s, _, _) = sign_in(&app, "analyst", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);

    let secret = gusu_web::second_factor::new_secret();
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .set_totp_secret("test", "sysadmin", Some(&secret))
        .unwrap();
    let (s, j, cookie) = sign_in(&app, "sysadmin", PASSWORD).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("second_factor_required"))
    );
    assert!(cookie.is_none());
    let (s, j, _) = otp_sign_in("sysadmin", "000000".into()).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_second_factor"))
    );
    let now = chrono::Utc::now().timestamp() as u64;
    let code = gusu_web::second_factor::code_at(&secret, now).unwrap();
    let (s, j, cookie) = otp_sign_in("sysadmin", code.clone()).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["role"], "system_admin");
    assert!(cookie.is_some());
    // The same code again (seen on the wire, say) is refused.
    let (s, j, _) = otp_sign_in("sysadmin", code).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_second_factor"))
    );
    // Every refusal and the enrolment are in the audit log.
    let log = Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .audit_log(100)
        .unwrap();
    let refused: Vec<_> = log
        .iter()
        .filter(|e| e.action == "sign_in_refused" && e.target.as_deref() == Some("sysadmin"))
        .filter_map(|e| e.detail.clone())
        .collect();
    assert!(
        refused.contains(&"second factor not enrolled".to_string()),
        "{refused:?}"
    );
    assert!(
        refused.contains(&"wrong second factor".to_string()),
        "{refused:?}"
    );
    assert!(log.iter().any(|e| e.action == "totp_enrolled"));
}

/// Without the server requiring it, an enrolled account still needs its code: enrolment is
/// never silently ignored.
#[tokio::test]
async fn an_enrolled_account_needs_its_code_even_when_the_server_does_not_require_one() {
    let c = common::city();
    let app = app_with(&c, |_| {});
    let secret = gusu_web::second_factor::new_secret();
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .set_totp_secret("test", "analyst", Some(&secret))
        .unwrap();
    let (s, j, _) = sign_in(&app, "analyst", PASSWORD).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("second_factor_required"))
    );
    let (s, _, _) = sign_in(&app, "auditor", PASSWORD).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "not required, not enrolled: the password suffices"
    );
}
