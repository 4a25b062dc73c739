//! The API against a real store: sign-in, sessions, CSRF, and the access sweep proving that no
//! viewer reads data outside its scope.

use axum::Router;

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, city};
use gusu_store::Store;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res = app
        .clone()
        .oneshot(
            req.body(Body::from(body.unwrap_or("").to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, json, set_cookie)
}

/// Signs in; returns the cookie header and the CSRF token.
async fn sign_in(app: &Router, user: &str) -> (String, String) {
    let (status, json, set_cookie) = call(
        app,
        Method::POST,
        "/api/v1/session",
        None,
        None,
        Some(&format!(
            r#"{{"username":"{user}","password":"{PASSWORD}"}}"#
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let set_cookie = set_cookie.unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    assert!(
        !json.to_string().contains(PASSWORD),
        "the password is never returned"
    );
    (cookie, json["csrf"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn each_role_reads_only_its_scope() {
    let c = city();
    let (a, b) = (c.a.0.to_string(), c.b.0.to_string());
    let own = format!("/api/v1/enterprises/{a}/results/2024");
    let other = format!("/api/v1/enterprises/{b}/results/2024");

    // Enterprise user: its own result, nothing else, no lists beyond itself, no audit log.
    let (ent, _) = sign_in(&c.app, "ent_a").await;
    let (s, j, _) = call(&c.app, Method::GET, &own, Some(&ent), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["uscc"], a.as_str());
    let (s, j, _) = call(&c.app, Method::GET, &other, Some(&ent), None, None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another enterprise's data does not exist for it"
    );
    assert_eq!(j["error"]["code"], "not_found");
    let (s, j, _) = call(
        &c.app,
        Method::GET,
        "/api/v1/results/2024",
        Some(&ent),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let lines = j["results"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["uscc"], a.as_str());
    assert_eq!(
        call(&c.app, Method::GET, "/api/v1/audit", Some(&ent), None, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // District officer: its district only.
    let (off, _) = sign_in(&c.app, "officer_a").await;
    assert_eq!(
        call(&c.app, Method::GET, &own, Some(&off), None, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&c.app, Method::GET, &other, Some(&off), None, None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, j, _) = call(
        &c.app,
        Method::GET,
        "/api/v1/results/2024",
        Some(&off),
        None,
        None,
    )
    .await;
    let lines = j["results"].as_array().unwrap();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["district"] == c.a.1.as_str()));

    // City analyst: everything.
    let (ana, _) = sign_in(&c.app, "analyst").await;
    assert_eq!(
        call(&c.app, Method::GET, &other, Some(&ana), None, None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, j, _) = call(
        &c.app,
        Method::GET,
        "/api/v1/results/2024",
        Some(&ana),
        None,
        None,
    )
    .await;
    assert_eq!(j["results"].as_array().unwrap().len(), 400);

    // The separated administrators see no enterprise data; the auditor reads the log.
    for admin in ["auditor", "sysadmin"] {
        let (cookie, _) = sign_in(&c.app, admin).await;
        assert_eq!(
            call(&c.app, Method::GET, &own, Some(&cookie), None, None)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            call(
                &c.app,
                Method::GET,
                "/api/v1/results/2024",
                Some(&cookie),
                None,
                None
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
    }
    let (aud, _) = sign_in(&c.app, "auditor").await;
    let (s, j, _) = call(
        &c.app,
        Method::GET,
        "/api/v1/audit?limit=500",
        Some(&aud),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = j.to_string();
    assert!(text.contains("sign_in") && !text.contains(PASSWORD) && !text.contains("argon2"));
}

#[tokio::test]
async fn every_route_refuses_a_request_without_a_session() {
    let c = city();
    let a = c.a.0.to_string();
    // The sweep covers every signed-in route of the router, from the same table as the document.
    let routes: Vec<(Method, String)> = gusu_web::openapi::operations()
        .iter()
        .filter(|o| o.signed_in)
        .map(|o| {
            let (m, p) = (&o.method, &o.path);
            let uri = p
                .replace("{year}", "2024")
                .replace("{uscc}", &a)
                .replace("{id}", "1")
                .replace("{version}", "1")
                .replace("{username}", "analyst");
            (m.to_uppercase().parse().unwrap(), uri)
        })
        .collect();
    assert!(routes.len() >= 6, "the sweep covers the table: {routes:?}");
    for (method, uri) in routes {
        let (s, j, _) = call(&c.app, method.clone(), &uri, None, None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(j["error"]["code"], "unauthenticated");
        let (s, _, _) = call(
            &c.app,
            method.clone(),
            &uri,
            Some("gusu_session=forged"),
            None,
            None,
        )
        .await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} with a forged cookie"
        );
    }
    // Every route is in the OpenAPI document, which anyone may read.
    let (s, doc, _) = call(
        &c.app,
        Method::GET,
        "/api/v1/openapi.json",
        None,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let ops = gusu_web::openapi::operations();
    assert!(ops.len() >= 40, "{ops:?}");
    for o in &ops {
        assert!(
            doc["paths"][&o.path][&o.method].is_object(),
            "{} {} documented",
            o.method,
            o.path
        );
    }
    let (s, j, _) = call(&c.app, Method::GET, "/no/such/route", None, None, None).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn sign_out_needs_csrf_and_ends_the_session() {
    let c = city();
    let (cookie, csrf) = sign_in(&c.app, "analyst").await;
    let (s, j, _) = call(
        &c.app,
        Method::DELETE,
        "/api/v1/session",
        Some(&cookie),
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );
    assert_eq!(
        call(
            &c.app,
            Method::DELETE,
            "/api/v1/session",
            Some(&cookie),
            Some("wrong"),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (s, _, set_cookie) = call(
        &c.app,
        Method::DELETE,
        "/api/v1/session",
        Some(&cookie),
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(
        call(&c.app, Method::GET, "/api/v1/me", Some(&cookie), None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_sign_ins_are_refused_clearly_and_throttled() {
    let c = city();
    let bad = |p: &str| format!(r#"{{"username":"analyst","password":"{p}"}}"#);
    for _ in 0..3 {
        let (s, j, cookie) = call(
            &c.app,
            Method::POST,
            "/api/v1/session",
            None,
            None,
            Some(&bad("nope")),
        )
        .await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
        );
        assert!(cookie.is_none());
    }
    // Locked out now, even with the right password.
    let (s, j, _) = call(
        &c.app,
        Method::POST,
        "/api/v1/session",
        None,
        None,
        Some(&bad(PASSWORD)),
    )
    .await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    // Malformed JSON and unknown fields get the error format.
    for body in [
        "{",
        r#"{"username":"x","password":"y","admin":true}"#,
        r#"{"username":"x"}"#,
    ] {
        let (s, j, _) = call(
            &c.app,
            Method::POST,
            "/api/v1/session",
            None,
            None,
            Some(body),
        )
        .await;
        assert_eq!(
            (s, j["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_body")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn api_tokens_for_scripts() {
    let c = city();
    let db = c.dir.path().join("g.db");
    let (token, hashed) = gusu_web::session::new_api_token();
    Store::open(&db)
        .unwrap()
        .add_api_token("test", "ent_a", "nightly", &hashed, 90)
        .unwrap();
    let bearer = |t: &str| format!("Bearer {t}");
    let get = |uri: String, auth: String| {
        let app = c.app.clone();
        async move {
            let req = Request::builder()
                .uri(uri)
                .header(header::AUTHORIZATION, auth)
                .body(Body::empty())
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    let own = format!("/api/v1/enterprises/{}/results/2024", c.a.0);
    let other = format!("/api/v1/enterprises/{}/results/2024", c.b.0);
    assert_eq!(get(own.clone(), bearer(&token)).await, StatusCode::OK);
    assert_eq!(
        get(other, bearer(&token)).await,
        StatusCode::NOT_FOUND,
        "a token has its owner's scope"
    );
    assert_eq!(
        get(own.clone(), bearer("gusu_forged")).await,
        StatusCode::UNAUTHORIZED
    );
    Store::open(&db)
        .unwrap()
        .revoke_api_token("test", "ent_a", "nightly")
        .unwrap();
    assert_eq!(
        get(own, bearer(&token)).await,
        StatusCode::UNAUTHORIZED,
        "revoked"
    );
    // Only the hash is in the database (main file and write-ahead log).
    for file in [db.clone(), db.with_extension("db-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "{}",
            file.display()
        );
    }
}

#[tokio::test]
async fn every_route_answers_every_role_within_its_scope() {
    let c = city();
    let b = c.b.0.to_string();
    common::open_nzc_application(&c.dir.path().join("g.db"), &c.b.0);
    let mut routes: Vec<(Method, String)> = gusu_web::openapi::operations()
        .iter()
        .filter(|o| o.signed_in)
        .map(|o| {
            let (m, p) = (&o.method, &o.path);
            let uri = p
                .replace("{year}", "2024")
                .replace("{uscc}", &b)
                .replace("{id}", "1")
                .replace("{version}", "1")
                .replace("{username}", "analyst");
            (m.to_uppercase().parse().unwrap(), uri)
        })
        .collect();
    // Signing out last.
    routes.sort_by_key(|(m, uri)| *m == Method::DELETE && uri == "/api/v1/session");
    for user in ["ent_a", "officer_a", "analyst", "auditor", "sysadmin"] {
        let (cookie, csrf) = sign_in(&c.app, user).await;
        for (method, uri) in &routes {
            let (s, j, _) = call(
                &c.app,
                method.clone(),
                uri,
                Some(&cookie),
                Some(&csrf),
                None,
            )
            .await;
            let text = j.to_string();
            assert!(!s.is_server_error(), "{user} {method} {uri}: {s} {text}");
            assert!(
                !text.contains(PASSWORD) && !text.contains("argon2"),
                "{user} {method} {uri}"
            );
            // b is another enterprise, in another district than a's officer.
            if matches!(user, "ent_a" | "officer_a" | "auditor" | "sysadmin") {
                assert!(!text.contains(&b), "{user} {method} {uri} shows {b}");
            }
        }
    }
}

#[tokio::test]
async fn errors_the_framework_answers_are_in_the_api_error_format_too() {
    let c = city();
    let (cookie, csrf) = sign_in(&c.app, "analyst").await;
    // A path parameter that does not parse, and a method the route lacks.
    for (method, uri, status, code) in [
        (
            Method::GET,
            "/api/v1/cycles/abc",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::GET,
            "/api/v1/results/notayear",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Method::PATCH,
            "/api/v1/me",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let (s, j, _) = call(
            &c.app,
            method.clone(),
            uri,
            Some(&cookie),
            Some(&csrf),
            None,
        )
        .await;
        assert_eq!(s, status, "{method} {uri}: {j}");
        assert_eq!(j["error"]["code"], code, "{method} {uri}: {j}");
        assert!(
            j["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[test]
fn an_internal_error_answers_an_incident_id_and_keeps_its_detail_in_the_log() {
    use axum::response::IntoResponse;
    let res = gusu_web::ApiError::internal("SQLite: database disk image is malformed at /srv/g.db")
        .into_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = futures_executor(res);
    let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let text = j.to_string();
    assert!(
        !text.contains("SQLite") && !text.contains("/srv/g.db"),
        "{text}"
    );
    let incident = j["error"]["incident"].as_str().unwrap();
    assert_eq!(incident.len(), 12);
    assert!(j["error"]["message"].as_str().unwrap().contains(incident));
    assert_eq!(j["error"]["code"], "internal");
}

/// The body of a response, read on a one-off runtime.
fn futures_executor(res: axum::response::Response) -> Vec<u8> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async { res.into_body().collect().await.unwrap().to_bytes().to_vec() })
}

#[tokio::test]
async fn bulk_reads_through_the_api_are_audited_with_their_size() {
    let c = city();
    let (cookie, _) = sign_in(&c.app, "analyst").await;
    let (s, j, _) = call(
        &c.app,
        Method::GET,
        "/api/v1/results/2024",
        Some(&cookie),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let rows = j["results"].as_array().unwrap().len();
    assert!(rows > 1);
    let log = gusu_store::Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .audit_log(100)
        .unwrap();
    let read = log
        .iter()
        .find(|e| e.action == "api_read")
        .expect("the read is audited");
    assert_eq!(read.actor, "analyst");
    assert_eq!(read.target.as_deref(), Some("results 2024"));
    assert_eq!(read.detail, Some(format!("{rows} rows")));
}
