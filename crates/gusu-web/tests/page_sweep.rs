//! The security sweep over every page of the router (the API's have theirs in tests/api.rs):
//! each role, each page, with another enterprise's code and another district's code in the path.
//! Nobody sees what is outside their scope, the staff and administrator pages refuse everyone
//! else, and no page changes anything when a post comes without its CSRF field.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, city};
use gusu_store::Store;
use gusu_web::openapi::operations;
use gusu_web::pages::{Audience, PAGE_ROUTES};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: &str,
    body: Option<(&str, &str)>,
) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie);
    if let Some((kind, _)) = body {
        req = req.header(header::CONTENT_TYPE, kind);
    }
    let res = app
        .clone()
        .oneshot(
            req.body(Body::from(body.map_or("", |(_, b)| b).to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A session cookie and its CSRF token, through the API.
async fn sign_in(app: &Router, user: &str) -> (String, String) {
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!(
                    r#"{{"username":"{user}","password":"{PASSWORD}"}}"#
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{user}");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    (cookie, json["csrf"].as_str().unwrap().to_string())
}

/// Every path given to `.route(` in the web crate's source.
fn routed_paths() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let source = std::fs::read_to_string(path).unwrap();
        for (i, _) in source.match_indices(".route(") {
            let rest = source[i + ".route(".len()..].trim_start();
            if let Some(rest) = rest.strip_prefix('"') {
                paths.push(rest[..rest.find('"').unwrap()].to_string());
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn every_route_of_the_router_is_in_a_swept_table() {
    let routed = routed_paths();
    assert!(routed.len() > 40, "{routed:?}");
    let documented = operations();
    for path in &routed {
        assert!(
            documented.iter().any(|o| &o.path == path)
                || PAGE_ROUTES.iter().any(|(_, p, _)| p == path),
            "{path} is routed but neither in the OpenAPI document nor in pages::PAGE_ROUTES"
        );
        assert!(
            !path.starts_with("/api/") || documented.iter().any(|o| &o.path == path),
            "{path} is an API route missing from the OpenAPI document"
        );
    }
    for o in &documented {
        assert!(
            routed.contains(&o.path),
            "{} {} is documented but not routed",
            o.method,
            o.path
        );
    }
    for (_, path, _) in PAGE_ROUTES {
        assert!(
            routed.iter().any(|p| p == path),
            "{path} listed but not routed"
        );
    }
}

#[tokio::test]
async fn every_page_keeps_each_role_to_its_scope() {
    let c = city();
    let (other_uscc, other_district) = (c.b.0.to_string(), c.b.1.clone());
    // A city cycle in data confirmation, so the cycle pages have something to show (or hide).
    let (analyst, analyst_csrf) = sign_in(&c.app, "analyst").await;
    for (uri, body) in [
        ("/api/v1/cycles", r#"{"year":2024}"#),
        ("/api/v1/cycles/1/advance", "{}"),
    ] {
        let res = c
            .app
            .clone()
            .oneshot(
                Request::builder()
                    .method(Method::POST)
                    .uri(uri)
                    .header(header::COOKIE, &analyst)
                    .header("x-csrf-token", &analyst_csrf)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(res.status().is_success(), "{uri}: {}", res.status());
    }
    // And the other enterprise's near-zero-carbon application.
    common::open_nzc_application(&c.dir.path().join("g.db"), &c.b.0);
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let before = (
        store.data_version().unwrap(),
        store.audit_log(100_000).unwrap().len(),
    );

    for user in ["ent_a", "officer_a", "analyst", "auditor", "sysadmin"] {
        let (cookie, _) = sign_in(&c.app, user).await;
        for (method, path, audience) in PAGE_ROUTES {
            let uri = path
                .replace("{uscc}", &other_uscc)
                .replace("{code}", &other_district)
                .replace("{id}", "1")
                .replace("{version}", "1")
                .replace("{username}", "analyst");
            let what = format!("{user} {method} {uri}");
            if *method == "post" {
                // A form post without its CSRF field (the session cookie alone) changes nothing.
                if *path == "/logout" {
                    continue; // checked below, last
                }
                let (s, _) = send(
                    &c.app,
                    Method::POST,
                    &uri,
                    &cookie,
                    Some(("application/x-www-form-urlencoded", "x=1")),
                )
                .await;
                assert!(s.is_client_error(), "{what} without CSRF answered {s}");
                continue;
            }
            let (s, body) = send(&c.app, Method::GET, &uri, &cookie, None).await;
            assert!(!s.is_server_error(), "{what}: {s} {body}");
            assert!(
                !body.contains(PASSWORD) && !body.contains("argon2"),
                "{what}"
            );
            let staff = matches!(user, "officer_a" | "analyst");
            let admin = matches!(user, "auditor" | "sysadmin");
            let open = match audience {
                Audience::Public | Audience::SignedIn => true,
                Audience::Staff => staff,
                Audience::Admin => admin,
            };
            if !open {
                assert!(
                    matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                    "{what}: a {audience:?} page answered {s}"
                );
            }
            // Another enterprise (in another district than officer_a's) is never shown to the
            // enterprise user, the officer of another district, or the administrators.
            if user != "analyst" {
                assert!(!body.contains(&other_uscc), "{what} shows {other_uscc}");
            }
            if *path == "/enterprises/{uscc}"
                || *path == "/enterprises/{uscc}/energy"
                || *path == "/districts/{code}"
            {
                let expect_open = user == "analyst";
                assert_eq!(
                    s == StatusCode::OK,
                    expect_open,
                    "{what}: {s} (open only to the city's staff)"
                );
            }
        }
        let (s, _) = send(
            &c.app,
            Method::POST,
            "/logout",
            &cookie,
            Some(("application/x-www-form-urlencoded", "x=1")),
        )
        .await;
        assert!(s.is_client_error(), "{user}: sign-out without CSRF: {s}");
        let (s, _) = send(&c.app, Method::GET, "/api/v1/me", &cookie, None).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "{user}: the session survived the forged sign-out"
        );
    }
    // Nothing was written: no import, no run, no publication, and the audit log holds only the
    // sign-ins (audited themselves) and the reads that are audited.
    let after_version = store.data_version().unwrap();
    assert_eq!(after_version, before.0, "no data changed");
    // The log comes newest first: the entries written during the sweep lead.
    let changes: Vec<String> = store
        .audit_log(100_000)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    let new = &changes[..changes.len() - before.1];
    assert!(
        new.iter()
            .all(|a| matches!(a.as_str(), "sign_in" | "export")),
        "only sign-ins and exports were audited: {new:?}"
    );
}

/// The OpenAPI document names each schema by its type's name, and merging keeps one of two
/// types of the same name: every type with a schema (`ToSchema`) needs its own name, in the
/// wire types and in the handler modules alike.
#[test]
fn every_schema_type_has_its_own_name() {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut paths,
    );
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut count = 0;
    for path in paths {
        let source = std::fs::read_to_string(&path).unwrap();
        let mut schema = false;
        for line in source.lines() {
            let line = line.trim_start();
            if line.starts_with("#[derive(") {
                schema |= line.contains("ToSchema");
                continue;
            }
            if line.starts_with("#[") || line.starts_with("///") {
                continue;
            }
            let item = [
                "pub struct ",
                "pub enum ",
                "struct ",
                "enum ",
                "pub(crate) struct ",
                "pub(crate) enum ",
            ]
            .iter()
            .find_map(|k| line.strip_prefix(k));
            if let (true, Some(rest)) = (schema, item) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let file = path.display().to_string();
                if let Some(before) = seen.insert(name.clone(), file.clone()) {
                    panic!("the schema {name} is in both {before} and {file}");
                }
                count += 1;
            }
            schema = false;
        }
    }
    assert!(count > 50, "{count} schema types found");
}
