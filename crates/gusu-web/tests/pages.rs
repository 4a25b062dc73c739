//! The pages: sign-in with its CSRF cookie, the overview in each language and scope, sign-out.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    body: String,
    cookies: Vec<String>,
    location: Option<String>,
}

async fn send(
    app: &axum::Router,
    method: Method,
    uri: &str,
    cookie: &str,
    form: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    if form.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let res = app
        .clone()
        .oneshot(
            req.body(Body::from(form.unwrap_or("").to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Reply {
        status,
        body,
        cookies,
        location,
    }
}

/// Signs in through the form; returns the session cookie.
async fn sign_in(app: &axum::Router, user: &str) -> String {
    let page = send(app, Method::GET, "/login", "", None).await;
    let login = page
        .cookies
        .iter()
        .find(|c| c.starts_with("gusu_login="))
        .unwrap()
        .clone();
    let token = login.trim_start_matches("gusu_login=");
    let reply = send(
        app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username={user}&password={}&csrf={token}",
            common::PASSWORD
        )),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let home = reply.location.as_deref().unwrap();
    match user {
        "ent_a" => assert!(home.starts_with("/enterprises/"), "{home}"),
        "auditor" => assert_eq!(home, "/audit"),
        "sysadmin" => assert_eq!(home, "/admin/accounts"),
        _ => assert_eq!(home, "/overview"),
    }
    reply
        .cookies
        .iter()
        .find(|c| c.starts_with("gusu_session="))
        .unwrap()
        .clone()
}

#[tokio::test]
async fn sign_in_page_in_both_languages_and_its_csrf() {
    let c = common::city();
    let zh = send(&c.app, Method::GET, "/login", "", None).await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("登录") && zh.body.contains("/static/gusu.css"));
    let en = send(&c.app, Method::GET, "/login?lang=en", "", None).await;
    assert!(en.body.contains("Sign in"));
    assert!(
        en.cookies.iter().any(|c| c == "gusu_lang=en"),
        "the choice is remembered"
    );
    let remembered = send(&c.app, Method::GET, "/login", "gusu_lang=en", None).await;
    assert!(remembered.body.contains("Sign in"));
    // Without the form's cookie the sign-in is refused, whatever the password.
    let forged = send(
        &c.app,
        Method::POST,
        "/login",
        "",
        Some(&format!(
            "username=analyst&password={}&csrf=x",
            common::PASSWORD
        )),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let missing = send(&c.app, Method::POST, "/login", "", Some("username=analyst")).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    // A wrong password shows the form again with the reason.
    let page = send(&c.app, Method::GET, "/login", "", None).await;
    let login = page
        .cookies
        .iter()
        .find(|c| c.starts_with("gusu_login="))
        .unwrap()
        .clone();
    let wrong = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=analyst&password=nope&csrf={}",
            login.trim_start_matches("gusu_login=")
        )),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"));
    let css = send(&c.app, Method::GET, "/static/gusu.css", "", None).await;
    assert!(css.status == StatusCode::OK && css.body.contains("--accent"));
}

#[tokio::test]
async fn overview_shows_each_viewer_its_scope() {
    let c = common::city();
    assert_eq!(
        send(&c.app, Method::GET, "/overview", "", None)
            .await
            .location
            .as_deref(),
        Some("/login")
    );
    let analyst = sign_in(&c.app, "analyst").await;
    let page = send(&c.app, Method::GET, "/overview", &analyst, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("全市概览") && page.body.contains("规上企业"));
    let districts_seen = ["昆山市", "苏州工业园区", "吴江区"]
        .iter()
        .filter(|d| page.body.contains(*d))
        .count();
    assert!(districts_seen >= 2, "the city sees several districts");
    let en = send(&c.app, Method::GET, "/overview?lang=en", &analyst, None).await;
    assert!(en.body.contains("City overview") && en.body.contains("Above designated size"));

    let officer = sign_in(&c.app, "officer_a").await;
    let page = send(&c.app, Method::GET, "/overview", &officer, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let own = gusu_core::RegionSet::suzhou()
        .by_code(&c.a.1)
        .unwrap()
        .name_zh
        .clone();
    let other = gusu_core::RegionSet::suzhou()
        .by_code(&c.b.1)
        .unwrap()
        .name_zh
        .clone();
    assert!(
        page.body.contains(&own) && !page.body.contains(&other),
        "an officer sees its district only"
    );

    let enterprise = sign_in(&c.app, "ent_a").await;
    assert_eq!(
        send(&c.app, Method::GET, "/overview", &enterprise, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn sign_out_from_the_page_needs_the_csrf_field() {
    let c = common::city();
    let session = sign_in(&c.app, "analyst").await;
    let page = send(&c.app, Method::GET, "/overview", &session, None).await;
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        send(
            &c.app,
            Method::POST,
            "/logout",
            &session,
            Some("csrf=wrong")
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let out = send(
        &c.app,
        Method::POST,
        "/logout",
        &session,
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert_eq!(
        send(&c.app, Method::GET, "/overview", &session, None)
            .await
            .location
            .as_deref(),
        Some("/login")
    );
}

#[tokio::test]
async fn the_enterprise_page_and_its_lift() {
    let c = common::city();
    let (a, b) = (c.a.0.to_string(), c.b.0.to_string());
    let ent = sign_in(&c.app, "ent_a").await;
    // An enterprise user lands on its own page.
    let home = send(&c.app, Method::GET, "/", &ent, None).await;
    assert_eq!(home.location, Some(format!("/enterprises/{a}")));
    let page = send(
        &c.app,
        Method::GET,
        &format!("/enterprises/{a}"),
        &ent,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&a) && page.body.contains("<svg") && page.body.contains("亩均税收"));
    assert!(page.body.contains("lift=1"), "the lift is offered");
    // Another enterprise's page does not exist for it, nor for the officer of another district.
    assert_eq!(
        send(
            &c.app,
            Method::GET,
            &format!("/enterprises/{b}"),
            &ent,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let officer = sign_in(&c.app, "officer_a").await;
    assert_eq!(
        send(
            &c.app,
            Method::GET,
            &format!("/enterprises/{b}"),
            &officer,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            &c.app,
            Method::GET,
            &format!("/enterprises/{a}"),
            &officer,
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    // The lift, worked out on request (unless the enterprise is class A already).
    let lifted = send(
        &c.app,
        Method::GET,
        &format!("/enterprises/{a}?year=2024&lift=1&lang=en"),
        &ent,
        None,
    )
    .await;
    assert_eq!(lifted.status, StatusCode::OK);
    assert!(
        lifted.body.contains("raise tax paid: ") || lifted.body.contains("class A."),
        "{}",
        lifted.body
    );
}

#[tokio::test]
async fn the_enterprise_list_filters_pages_and_keeps_to_the_scope() {
    let c = common::city();
    let analyst = sign_in(&c.app, "analyst").await;
    let all = send(
        &c.app,
        Method::GET,
        "/enterprises?year=2024",
        &analyst,
        None,
    )
    .await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body.contains(r#"id="total">400<"#),
        "every enterprise counted"
    );
    assert_eq!(
        all.body.matches("<tr><td><a href=\"/enterprises/").count(),
        50,
        "a page of 50"
    );
    assert!(all.body.contains("page=2"));
    let second = send(
        &c.app,
        Method::GET,
        "/enterprises?year=2024&page=8",
        &analyst,
        None,
    )
    .await;
    assert_eq!(
        second
            .body
            .matches("<tr><td><a href=\"/enterprises/")
            .count(),
        50
    );
    let a_only = send(
        &c.app,
        Method::GET,
        "/enterprises?year=2024&class=A&group=above",
        &analyst,
        None,
    )
    .await;
    let rows = a_only
        .body
        .matches("<tr><td><a href=\"/enterprises/")
        .count();
    assert!(rows > 0 && rows < 50);
    let by_code = send(
        &c.app,
        Method::GET,
        &format!("/enterprises?year=2024&q={}", c.a.0),
        &analyst,
        None,
    )
    .await;
    assert_eq!(
        by_code
            .body
            .matches("<tr><td><a href=\"/enterprises/")
            .count(),
        1
    );
    // Sorted by score, low to high, the D list starts with the lowest score.
    let sorted = send(
        &c.app,
        Method::GET,
        "/enterprises?year=2024&class=D&sort=score_asc",
        &analyst,
        None,
    )
    .await;
    let scores: Vec<f64> = sorted
        .body
        .split(r#"<td class="num">"#)
        .skip(1)
        .step_by(2)
        .map(|cell| cell.split('<').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        scores.len() > 1 && scores.windows(2).all(|w| w[0] <= w[1]),
        "{scores:?}"
    );
    assert!(
        sorted.body.contains("sort=score_asc"),
        "page links keep the sort"
    );
    // An officer's list holds its district only; an enterprise user has no list.
    let officer = sign_in(&c.app, "officer_a").await;
    let list = send(
        &c.app,
        Method::GET,
        "/enterprises?year=2024",
        &officer,
        None,
    )
    .await;
    let other = gusu_core::RegionSet::suzhou()
        .by_code(&c.b.1)
        .unwrap()
        .name_zh
        .clone();
    assert!(!list.body.contains(&format!("<td>{other}</td>")));
    let ent = sign_in(&c.app, "ent_a").await;
    assert_eq!(
        send(&c.app, Method::GET, "/enterprises", &ent, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_rules_are_readable_by_everyone_signed_in() {
    let c = common::city();
    assert_eq!(
        send(&c.app, Method::GET, "/rules", "", None)
            .await
            .location
            .as_deref(),
        Some("/login")
    );
    let ent = sign_in(&c.app, "ent_a").await;
    let page = send(&c.app, Method::GET, "/rules", &ent, None).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "jiangsu-standard@2024.1",
        "亩均税收",
        "苏府〔2018〕103号",
        "24.097",
        "上年组内总量之比 × 2",
    ] {
        assert!(page.body.contains(text), "{text}");
    }
}

#[tokio::test]
async fn district_pages_compare_with_the_city_within_scope() {
    let c = common::city();
    let region = gusu_core::RegionSet::suzhou();
    let (own, other) = (c.a.1.clone(), c.b.1.clone());
    let own_name = region.by_code(&own).unwrap().name_zh.clone();
    let analyst = sign_in(&c.app, "analyst").await;
    let page = send(
        &c.app,
        Method::GET,
        &format!("/districts/{own}"),
        &analyst,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("<h1>{own_name}")) && page.body.contains("全市 · 规上企业")
    );
    assert!(
        page.body.matches("<a href=\"/districts/").count() == 1,
        "only this district's row"
    );
    assert_eq!(
        send(&c.app, Method::GET, "/districts/999999", &analyst, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let officer = sign_in(&c.app, "officer_a").await;
    assert_eq!(
        send(
            &c.app,
            Method::GET,
            &format!("/districts/{own}"),
            &officer,
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        send(
            &c.app,
            Method::GET,
            &format!("/districts/{other}"),
            &officer,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let ent = sign_in(&c.app, "ent_a").await;
    assert_eq!(
        send(
            &c.app,
            Method::GET,
            &format!("/districts/{own}"),
            &ent,
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_list_exports_its_selection_to_xlsx_within_scope() {
    let c = common::city();
    let officer = sign_in(&c.app, "officer_a").await;
    let req = Request::builder()
        .uri("/enterprises.xlsx?year=2024")
        .header(header::COOKIE, &officer)
        .body(Body::empty())
        .unwrap();
    let res = c.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..2], b"PK");
    let path = c.dir.path().join("export.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    use calamine::{Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(rows.len() > 1);
    assert!(
        rows[1..].iter().all(|r| r[2] == c.a.1),
        "only the officer's district"
    );
    let ent = sign_in(&c.app, "ent_a").await;
    assert_eq!(
        send(&c.app, Method::GET, "/enterprises.xlsx", &ent, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// Makes an account's password as old as if it were set in 2020.
fn age_password(c: &common::City, user: &str) {
    let db = rusqlite::Connection::open(c.dir.path().join("g.db")).unwrap();
    db.execute(
        "UPDATE accounts SET password_changed_at = '2020-01-01T00:00:00Z' WHERE username = ?1",
        [user],
    )
    .unwrap();
}

#[tokio::test]
async fn an_expired_password_must_be_changed_before_signing_in() {
    let c = common::city();
    age_password(&c, "analyst");
    // The API refuses the sign-in with its own code, and no session cookie.
    let api = c
        .app
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!(
                    r#"{{"username":"analyst","password":"{}"}}"#,
                    common::PASSWORD
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert!(api.headers().get(header::SET_COOKIE).is_none());
    let body = api.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("password_expired"));

    // The sign-in form answers with the password form instead of a session.
    let page = send(&c.app, Method::GET, "/login", "", None).await;
    let login = page
        .cookies
        .iter()
        .find(|c| c.starts_with("gusu_login="))
        .unwrap()
        .clone();
    let token = login.trim_start_matches("gusu_login=").to_string();
    let form = |new: &str, repeat: &str| {
        format!(
            "username=analyst&password={}&new_password={new}&repeat_password={repeat}&csrf={token}",
            common::PASSWORD
        )
    };
    let refused = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=analyst&password={}&csrf={token}",
            common::PASSWORD
        )),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("密码已过期") && refused.body.contains("new_password"));
    assert!(
        !refused
            .cookies
            .iter()
            .any(|c| c.starts_with("gusu_session="))
    );

    // A weak new password, or two that differ, change nothing and say why.
    let weak = send(
        &c.app,
        Method::POST,
        "/login/password",
        &login,
        Some(&form("short", "short")),
    )
    .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("至少需要 12 个"), "{}", weak.body);
    let differ = send(
        &c.app,
        Method::POST,
        "/login/password",
        &login,
        Some(&form("Gusu-New-2027!", "Gusu-New-2028!")),
    )
    .await;
    assert!(differ.body.contains("不一致"));
    // Without the form's CSRF token, nothing happens.
    let forged = send(
        &c.app,
        Method::POST,
        "/login/password",
        "",
        Some(&form("Gusu-New-2027!", "Gusu-New-2027!")),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let changed = send(
        &c.app,
        Method::POST,
        "/login/password",
        &login,
        Some(&form("Gusu-New-2027!", "Gusu-New-2027!")),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert!(changed.body.contains("密码已修改"));
    // The new password signs in; the old one no longer does.
    let new_login = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=analyst&password=Gusu-New-2027!&csrf={token}"
        )),
    )
    .await;
    assert_eq!(new_login.status, StatusCode::SEE_OTHER);
    let old = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=analyst&password={}&csrf={token}",
            common::PASSWORD
        )),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_password_api_checks_the_current_password_and_the_policy() {
    let c = common::city();
    let call = |body: String| {
        let app = c.app.clone();
        async move {
            let res = app
                .oneshot(
                    Request::builder()
                        .method(Method::POST)
                        .uri("/api/v1/password")
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = res.status();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).to_string())
        }
    };
    let (s, b) = call(
        r#"{"username":"analyst","password":"wrong","new_password":"Gusu-New-2027!"}"#.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, b) = call(format!(
        r#"{{"username":"analyst","password":"{}","new_password":"{}"}}"#,
        common::PASSWORD,
        common::PASSWORD
    ))
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("weak_password") && b.contains("same as the current"));
    let (s, b) = call(format!(
        r#"{{"username":"analyst","password":"{}","new_password":"Gusu-New-2027!","extra":1}}"#,
        common::PASSWORD
    ))
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("invalid_body"));
    let (s, b) = call(format!(
        r#"{{"username":"analyst","password":"{}","new_password":"Gusu-New-2027!"}}"#,
        common::PASSWORD
    ))
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    assert!(!b.contains("Gusu-New"));
}

#[tokio::test]
async fn the_language_follows_the_person_to_another_browser() {
    let c = common::city();
    let first = sign_in(&c.app, "analyst").await;
    let en = send(&c.app, Method::GET, "/overview?lang=en", &first, None).await;
    assert!(en.body.contains("City overview"));
    // A second browser, no language cookie: signing in brings the choice back.
    let page = send(&c.app, Method::GET, "/login", "", None).await;
    let login = page
        .cookies
        .iter()
        .find(|c| c.starts_with("gusu_login="))
        .unwrap()
        .clone();
    let reply = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=analyst&password={}&csrf={}",
            common::PASSWORD,
            login.trim_start_matches("gusu_login=")
        )),
    )
    .await;
    assert!(
        reply.cookies.iter().any(|c| c == "gusu_lang=en"),
        "{:?}",
        reply.cookies
    );
    // Someone else's choice is theirs alone.
    let officer = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=officer_a&password={}&csrf={}",
            common::PASSWORD,
            login.trim_start_matches("gusu_login=")
        )),
    )
    .await;
    assert!(!officer.cookies.iter().any(|c| c.starts_with("gusu_lang=")));
    // Switching back is remembered too.
    send(&c.app, Method::GET, "/overview?lang=zh", &first, None).await;
    let again = send(
        &c.app,
        Method::POST,
        "/login",
        &login,
        Some(&format!(
            "username=analyst&password={}&csrf={}",
            common::PASSWORD,
            login.trim_start_matches("gusu_login=")
        )),
    )
    .await;
    assert!(again.cookies.iter().any(|c| c == "gusu_lang=zh"));
}
