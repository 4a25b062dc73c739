//! Security headers on pages, API answers and exports: the content security policy, no MIME
//! sniffing, no caching of anything but static files, HSTS when served over TLS, and cookies
//! Secure unless turned off for plain-HTTP development.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use gusu_web::{AppState, WebConfig, router};
use tower::ServiceExt;

async fn get(app: &axum::Router, uri: &str, cookie: Option<&str>) -> (StatusCode, HeaderMap) {
    let mut req = Request::builder().method(Method::GET).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    (res.status(), res.headers().clone())
}

/// Signs in and returns the session cookie's whole `Set-Cookie` value, attributes included.
async fn sign_in(app: &axum::Router, user: &str) -> String {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            r#"{{"username":"{user}","password":"{}"}}"#,
            common::PASSWORD
        )))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string()
}

fn header(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn pages_api_answers_and_exports_carry_the_security_headers() {
    let c = common::city();
    let set_cookie = sign_in(&c.app, "analyst").await;
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    for (uri, cookie) in [
        ("/login", None),
        ("/overview", Some(cookie.as_str())),
        ("/api/v1/me", Some(cookie.as_str())),
        ("/enterprises.xlsx", Some(cookie.as_str())),
        ("/no/such/route", None),
    ] {
        let (status, h) = get(&c.app, uri, cookie).await;
        assert!(
            status != StatusCode::INTERNAL_SERVER_ERROR,
            "{uri}: {status}"
        );
        assert_eq!(
            header(&h, header::CONTENT_SECURITY_POLICY),
            Some("default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
            "{uri}"
        );
        assert_eq!(
            header(&h, header::X_CONTENT_TYPE_OPTIONS),
            Some("nosniff"),
            "{uri}"
        );
        assert_eq!(header(&h, header::CACHE_CONTROL), Some("no-store"), "{uri}");
        assert_eq!(
            header(&h, header::REFERRER_POLICY),
            Some("no-referrer"),
            "{uri}"
        );
        // Secure cookies are the default, so the platform says it is on TLS.
        assert_eq!(
            header(&h, header::STRICT_TRANSPORT_SECURITY),
            Some("max-age=31536000"),
            "{uri}"
        );
    }
    let (status, h) = get(&c.app, "/enterprises.xlsx", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        header(&h, header::CONTENT_TYPE)
            .unwrap()
            .contains("spreadsheetml")
    );
    // Static files are the same for everyone: they may be cached.
    let (_, h) = get(&c.app, "/static/gusu.css", None).await;
    assert_eq!(header(&h, header::CACHE_CONTROL), None);
    assert_eq!(header(&h, header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
}

#[tokio::test]
async fn cookies_are_secure_by_default_and_plain_http_development_turns_it_off() {
    let c = common::city();
    let secure = sign_in(&c.app, "analyst").await;
    assert!(secure.contains("; Secure"), "{secure}");
    let mut config = WebConfig::new(c.dir.path().join("g.db"));
    assert!(config.secure_cookies, "Secure is the default");
    config.secure_cookies = false;
    let app = router(AppState::open(config).unwrap());
    let plain = sign_in(&app, "analyst").await;
    assert!(!plain.contains("Secure"), "{plain}");
    let (_, h) = get(&app, "/login", None).await;
    assert_eq!(header(&h, header::STRICT_TRANSPORT_SECURITY), None);
}

#[test]
fn no_template_or_stylesheet_needs_inline_script_or_style() {
    // The policy forbids them: a page that used one would break in the browser.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/templates");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for forbidden in [
            " style=\"",
            "<style",
            " onclick=",
            " onsubmit=",
            " onchange=",
            "javascript:",
        ] {
            assert!(!text.contains(forbidden), "{}: {forbidden}", path.display());
        }
        for (at, _) in text.match_indices("<script") {
            assert!(
                text[at..].starts_with("<script src=\"/static/"),
                "{}: inline script",
                path.display()
            );
        }
    }
}
