//! Sessions over HTTP: a session unused for the idle timeout no longer opens anything.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gusu_web::{AppState, WebConfig, router};
use tower::ServiceExt;

async fn status(
    app: &axum::Router,
    method: Method,
    uri: &str,
    cookie: &str,
    body: &str,
) -> (StatusCode, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie);
    if !body.is_empty() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    (res.status(), cookie)
}

#[tokio::test]
async fn an_idle_session_ends() {
    let c = common::city();
    let mut config = WebConfig::new(c.dir.path().join("g.db"));
    config.idle_timeout = std::time::Duration::from_millis(300);
    let app = router(AppState::open(config).unwrap());
    let (s, cookie) = status(
        &app,
        Method::POST,
        "/api/v1/session",
        "",
        &format!(
            r#"{{"username":"analyst","password":"{}"}}"#,
            common::PASSWORD
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let cookie = cookie.unwrap();
    // Used within the timeout, the session lives on (each use restarts the clock).
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert_eq!(
            status(&app, Method::GET, "/api/v1/me", &cookie, "").await.0,
            StatusCode::OK
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(450)).await;
    assert_eq!(
        status(&app, Method::GET, "/api/v1/me", &cookie, "").await.0,
        StatusCode::UNAUTHORIZED
    );
    // The page sends the person back to the sign-in form.
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/overview")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.headers()[header::LOCATION], "/login");
}
