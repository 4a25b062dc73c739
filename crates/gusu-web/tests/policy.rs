//! The policy calculator over HTTP on the test city: an enterprise sees its own policies (from
//! the stored register, figures, class, designations and projects), a what-if situation changes
//! the answer without storing anything, a malformed situation answers 400 naming the field, and
//! nobody sees another enterprise's policies outside their scope.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::NaiveDate;
use common::{PASSWORD, city};
use gusu_core::policy::{Designation, ProjectFacts};
use gusu_store::{BatchMeta, DesignationRow, ProjectRow, Store};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    json: Value,
    text: String,
}

struct User {
    cookie: String,
    csrf: String,
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    user: Option<&User>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(u) = user {
        req = req
            .header(header::COOKIE, &u.cookie)
            .header("x-csrf-token", &u.csrf);
    }
    let payload = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            v.to_string()
        }
        None => String::new(),
    };
    let res = app
        .clone()
        .oneshot(req.body(Body::from(payload)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).to_string(),
    }
}

async fn sign_in(app: &Router, name: &str) -> User {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": name, "password": PASSWORD }).to_string(),
        ))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{name} signs in");
    let cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    User {
        cookie,
        csrf: v["csrf"].as_str().unwrap().to_string(),
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn decision<'a>(calc: &'a Value, policy: &str, project: Option<&str>) -> &'a Value {
    calc["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["policy"] == policy && d["project_id"].as_str() == project)
        .unwrap_or_else(|| panic!("no decision of {policy} for {project:?}: {calc}"))
}

#[tokio::test]
async fn an_enterprise_sees_its_policies_and_a_what_if_changes_them() {
    let c = city();
    let db = c.dir.path().join("g.db");
    let (a, a_district) = (c.a.0.to_string(), c.a.1.clone());
    let b = c.b.0.to_string();
    {
        // A stored designation and a stored smart-transformation loan of enterprise a.
        let mut store = Store::open(&db).unwrap();
        let meta = |n: &str| BatchMeta {
            source: "bureau".into(),
            file_name: n.into(),
            sheet: None,
            file_sha256: n.into(),
        };
        store
            .import_designations(
                &meta("认定.csv"),
                &[DesignationRow {
                    row: 2,
                    uscc: c.a.0,
                    designation: Designation {
                        designation: "zjtx".into(),
                        level: "provincial".into(),
                        recognised: day("2024-01-01"),
                        expires: None,
                    },
                }],
                None,
            )
            .unwrap();
        store
            .import_projects(
                &meta("项目.csv"),
                &[ProjectRow {
                    row: 2,
                    facts: ProjectFacts {
                        project_id: "loan-1".into(),
                        uscc: a.clone(),
                        kind: Some("upgrade".into()),
                        date: Some(day("2025-06-01")),
                        equipment_loan_10k_yuan: Some(3000.0),
                        ..ProjectFacts::default()
                    },
                }],
                None,
            )
            .unwrap();
    }
    let app = &c.app;
    let ent = sign_in(app, "ent_a").await;

    // The stored loan: Jiangsu's subsidy, 2025.02, 2% × 3000 = 60 (manufacturing or provincial
    // 专精特新: the designation is stored, so the route is known either way).
    let mine = send(
        app,
        Method::GET,
        &format!("/api/v1/enterprises/{a}/policies?date=2025-12-31"),
        Some(&ent),
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let p09 = decision(
        &mine.json,
        "jiangsu-manufacturing-loan-interest",
        Some("loan-1"),
    );
    assert_eq!(p09["version"], "2025.02");
    assert!(p09["trace"].as_array().unwrap().len() >= 2);
    // The enterprise's own policies are decided on the date: the D-class surcharge reads the
    // 2024 class of the published run.
    let surcharge = decision(&mine.json, "suzhou-d-class-electricity-surcharge", None);
    assert!(
        surcharge["trace"][0]["facts"][0]["name"] == "class_prev_year",
        "{surcharge}"
    );
    // Policies of other places are not listed at all.
    assert!(
        mine.json["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| !d["policy"].as_str().unwrap().starts_with("changzhou"))
    );

    // What if: a 2022 smart-transformation loan of 15000 万元: the city's 1% = 150, added to.
    let what_if = send(
        app,
        Method::POST,
        "/api/v1/calculate",
        Some(&ent),
        Some(json!({
            "uscc": a,
            "date": "2022-12-31",
            "projects": [{ "project_id": "idea", "kind": "智能化改造", "date": "2022-06-01", "loan_10k_yuan": 15000 }],
        })),
    )
    .await;
    assert_eq!(what_if.status, StatusCode::OK, "{}", what_if.text);
    let city_part = decision(&what_if.json, "suzhou-zgsz-loan-interest", Some("idea"));
    assert_eq!(city_part["status"], "eligible", "{city_part}");
    assert_eq!(city_part["amount_10k_yuan"], 150.0);
    // Nothing was stored: the enterprise's stored projects are still one.
    let again = send(
        app,
        Method::GET,
        &format!("/api/v1/enterprises/{a}/policies?date=2022-12-31"),
        Some(&ent),
        None,
    )
    .await;
    assert!(
        again.json["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["project_id"] != "idea")
    );

    // The trace of one decision.
    let trace = send(
        app,
        Method::POST,
        "/api/v1/trace",
        Some(&ent),
        Some(json!({
            "situation": { "uscc": a, "date": "2022-12-31", "projects": [{ "project_id": "idea", "kind": "smart_transformation", "date": "2022-06-01", "loan_10k_yuan": 15000 }] },
            "policy": "suzhou-zgsz-loan-interest",
            "project_id": "idea",
        })),
    )
    .await;
    assert_eq!(trace.status, StatusCode::OK, "{}", trace.text);
    assert_eq!(trace.json["amount_10k_yuan"], 150.0);
    assert!(
        trace.json["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "city_rate")
    );

    // The page and its what-if form (a GET: nothing stored).
    let page = send(
        app,
        Method::GET,
        &format!("/enterprises/{a}/policies?date=2025-12-31"),
        Some(&ent),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("decision-jiangsu-manufacturing-loan-interest-loan-1")
    );
    assert!(!page.text.contains("what-if-note"));
    let form = send(
        app,
        Method::GET,
        &format!("/enterprises/{a}/policies?date=2025-12-31&kind=upgrade&project_date=2026-01-10&equipment_loan_10k_yuan=3000"),
        Some(&ent),
        None,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("what-if-note"));
    assert!(
        form.text
            .contains("decision-jiangsu-manufacturing-loan-interest-what-if")
    );

    // Scope: another enterprise, another district's officer, an administrator.
    for uri in [
        format!("/api/v1/enterprises/{b}/policies"),
        format!("/enterprises/{b}/policies"),
    ] {
        assert_eq!(
            send(app, Method::GET, &uri, Some(&ent), None).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let r = send(
        app,
        Method::POST,
        "/api/v1/calculate",
        Some(&ent),
        Some(json!({ "uscc": b, "date": "2025-12-31" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let officer = sign_in(app, "officer_a").await;
    let r = send(
        app,
        Method::GET,
        &format!("/api/v1/enterprises/{b}/policies"),
        Some(&officer),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        app,
        Method::GET,
        &format!("/api/v1/enterprises/{a}/policies"),
        Some(&officer),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{a_district}");
    let auditor = sign_in(app, "auditor").await;
    let r = send(
        app,
        Method::POST,
        "/api/v1/calculate",
        Some(&auditor),
        Some(json!({ "date": "2025-12-31", "enterprise": { "district": "320505" } })),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(app, Method::GET, "/api/v1/policies", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_hypothetical_situation_and_malformed_ones() {
    let c = city();
    let app = &c.app;
    let analyst = sign_in(app, "analyst").await;
    let lib = send(app, Method::GET, "/api/v1/policies", Some(&analyst), None).await;
    assert!(lib.json["policies"].as_array().unwrap().len() >= 15);
    // A firm of 虎丘区 with a 3亿 smart-transformation loan in 2022: the city's part is capped at
    // 200, the district's part (1%, no cap in the text) is 300.
    let r = send(
        app,
        Method::POST,
        "/api/v1/calculate",
        Some(&analyst),
        Some(json!({
            "date": "2022-12-31",
            "enterprise": { "district": "320505", "division": 38, "established": "2008-01-01" },
            "projects": [{ "project_id": "p", "kind": "smart_transformation", "date": "2022-06-01", "loan_10k_yuan": 30000 }],
        })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        decision(&r.json, "suzhou-zgsz-loan-interest", Some("p"))["amount_10k_yuan"],
        200.0
    );
    assert_eq!(
        decision(&r.json, "suzhou-zgsz-loan-interest-huqiu", Some("p"))["amount_10k_yuan"],
        300.0
    );
    assert_eq!(
        decision(&r.json, "suzhou-zgsz-loan-interest", Some("p"))["caps"][0],
        "firm_cap_per_year"
    );

    for (body, field) in [
        (
            json!({ "date": "2022-13-01", "enterprise": { "district": "320505" } }),
            "date",
        ),
        (json!({ "date": "2022-12-31" }), "enterprise.district"),
        (
            json!({ "date": "2022-12-31", "enterprise": { "district": "320505" }, "projects": [{ "project_id": "p", "date": "2022-02-30" }] }),
            "projects[0].date",
        ),
        (
            json!({ "date": "2022-12-31", "enterprise": { "district": "320505" }, "projects": [{ "project_id": "p", "kind": "loan" }] }),
            "projects[0].kind",
        ),
        (
            json!({ "date": "2022-12-31", "enterprise": { "district": "320505" }, "projects": [{ "project_id": "p", "loan_10k_yuan": -5 }] }),
            "projects[0].loan_10k_yuan",
        ),
        (
            json!({ "date": "2022-12-31", "enterprise": { "district": "320505" }, "projects": [{ "project_id": "p", "loan_10k_yuan": "many" }] }),
            "projects[0].loan_10k_yuan",
        ),
        (
            json!({ "date": "2022-12-31", "enterprise": { "district": "320505", "designations": [{ "designation": "zjtx", "level": "regional", "recognised": "2024-01-01" }] } }),
            "enterprise.designations[0].level",
        ),
        (
            json!({ "date": "2022-12-31", "enterprise": { "district": "320505" }, "surprise": 1 }),
            "surprise",
        ),
    ] {
        let r = send(
            app,
            Method::POST,
            "/api/v1/calculate",
            Some(&analyst),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        let message = r.json["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let r = send(
        app,
        Method::POST,
        "/api/v1/trace",
        Some(&analyst),
        Some(json!({ "situation": { "date": "2022-12-31", "enterprise": { "district": "320505" } }, "policy": "no-such-policy" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn form(
    app: &Router,
    uri: &str,
    user: &User,
    fields: &[(&str, &str)],
) -> (StatusCode, Option<String>) {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    pairs.append_pair("csrf", &user.csrf);
    for (k, v) in fields {
        pairs.append_pair(k, v);
    }
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::COOKIE, &user.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(pairs.finish()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    (res.status(), location)
}

/// A draft every graded enterprise of Suzhou qualifies for (10 万元 each, automatic).
const DRAFT: &str = r#"[policy]
id = "test-graded-award"
title_zh = "测试：已评价企业奖励"
title_en = "Test: an award for graded enterprises"
issuer = "测试"
subject = "enterprise"
delivery = "automatic"
confidence = "L"
region = "3205"

[[parameter]]
name = "award_10k_yuan"
unit = "万元"
article = "test"
confidence = "L"
illustrative = true
values = [{ from = "2025-01-01", value = 10 }]

[[version]]
id = "2025.1"
valid_from = "2025-01-01"
document = "test"
published = "2025"
confidence = "L"

[[version.condition]]
id = "graded"
name_zh = "已评价"
name_en = "graded"
article = "test"
when = "class_prev_year in ['A', 'B', 'C', 'D']"

[version.amount]
formula = "award_10k_yuan"
article = "test"

[[test]]
name = "a graded firm"
date = "2025-06-30"
enterprise = { division = 30, years = [{ year = 2024, class = "B" }] }
expect = [{ status = "eligible", version = "2025.1", amount = 10.0 }]
"#;

fn number_in(page: &str, id: &str) -> f64 {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &page[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("#{id}: {}", &rest[start..end]))
}

#[tokio::test]
async fn a_draft_is_simulated_with_a_budget_published_and_its_list_confirmed() {
    let c = city();
    let db = c.dir.path().join("g.db");
    Store::open(&db)
        .unwrap()
        .create_account(
            "test",
            "admin",
            gusu_core::Role::CityAdmin,
            None,
            None,
            PASSWORD,
        )
        .unwrap();
    let app = &c.app;
    let analyst = sign_in(app, "analyst").await;
    let admin = sign_in(app, "admin").await;
    let ent = sign_in(app, "ent_a").await;
    let officer = sign_in(app, "officer_a").await;

    // A draft that does not load is refused with its line; nothing is saved.
    let (s, to) = form(
        app,
        "/policies/drafts",
        &analyst,
        &[("text", "[policy]\nid = 1\n")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(to.unwrap().contains("error=invalid_policy"));
    // The enterprise may not write drafts.
    let (s, _) = form(app, "/policies/drafts", &ent, &[("text", DRAFT)]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, to) = form(app, "/policies/drafts", &analyst, &[("text", DRAFT)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let draft = to.unwrap();
    assert_eq!(draft, "/policies/drafts/1");

    // Simulated over the city on 2025-06-30 (the 2024 classes are published): every graded
    // enterprise qualifies for 10; a ceiling of 100 shares 100 pro rata.
    let page = send(
        app,
        Method::GET,
        &format!("{draft}?simulate=1&date=2025-06-30&ceiling=100&rule=pro_rata"),
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"cases-ok\""), "{}", page.text);
    let qualifying = number_in(&page.text, "sim-qualifying");
    assert!(qualifying > 10.0);
    assert_eq!(number_in(&page.text, "sim-total"), qualifying * 10.0);
    assert_eq!(number_in(&page.text, "sim-paid"), 100.0);
    assert_eq!(number_in(&page.text, "sim-newly"), qualifying);
    assert!(
        !page.text.contains("id=\"publish\""),
        "the analyst does not publish"
    );

    // Published by the city administrator: each newly qualifying enterprise is notified.
    let (s, _) = form(
        app,
        &format!("{draft}/publish"),
        &analyst,
        &[("date", "2025-06-30")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, to) = form(
        app,
        &format!("{draft}/publish"),
        &admin,
        &[("date", "2025-06-30")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        to.unwrap(),
        format!("{draft}?notices={}", qualifying as usize)
    );
    // Published once only.
    let (_, to) = form(
        app,
        &format!("{draft}/publish"),
        &admin,
        &[("date", "2025-06-30")],
    )
    .await;
    assert!(to.unwrap().contains("error="));
    // The library in force has it; the enterprise's inbox has its notice, which it marks read.
    let lib = send(app, Method::GET, "/api/v1/policies", Some(&ent), None).await;
    assert!(
        lib.json["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "test-graded-award")
    );
    let inbox = send(app, Method::GET, "/policies/notices", Some(&ent), None).await;
    assert!(
        inbox
            .text
            .contains("data-policy=\"test-graded-award\" data-read=\"false\""),
        "{}",
        inbox.text
    );
    let at = inbox.text.find("<tr id=\"notice-").unwrap() + "<tr id=\"notice-".len();
    let id: String = inbox.text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let (s, _) = form(app, &format!("/policies/notices/{id}/read"), &ent, &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let inbox = send(app, Method::GET, "/policies/notices", Some(&ent), None).await;
    assert!(inbox.text.contains("data-read=\"true\""));
    // Another enterprise's notice cannot be marked.
    let (s, _) = form(app, "/policies/notices/999999/read", &ent, &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The officer sees its district's take-up; the analyst the city's.
    let city_take_up = send(app, Method::GET, "/policies/take-up", Some(&analyst), None).await;
    assert!(
        city_take_up.text.contains(&format!(
            "<td class=\"notified\">{}</td>",
            qualifying as usize
        )),
        "{}",
        city_take_up.text
    );
    let district_take_up = send(app, Method::GET, "/policies/take-up", Some(&officer), None).await;
    assert_eq!(district_take_up.status, StatusCode::OK);
    assert!(!district_take_up.text.contains(&format!(
        "<td class=\"notified\">{}</td>",
        qualifying as usize
    )));

    // The automatic list: computed, confirmed by the administrator (not the officer), exported.
    let list = send(
        app,
        Method::GET,
        "/policies/test-graded-award/list?date=2025-06-30",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(number_in(&list.text, "list-rows"), qualifying);
    let (s, _) = form(
        app,
        "/policies/test-graded-award/list",
        &officer,
        &[("date", "2025-06-30")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        send(
            app,
            Method::GET,
            "/policies/test-graded-award/list.xlsx?date=2025-06-30",
            Some(&analyst),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND,
        "nothing confirmed yet"
    );
    let (s, _) = form(
        app,
        "/policies/test-graded-award/list",
        &admin,
        &[("date", "2025-06-30")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let xlsx = send(
        app,
        Method::GET,
        "/policies/test-graded-award/list.xlsx?date=2025-06-30",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.text.starts_with("PK"), "an XLSX (zip) file");
    let log = Store::open(&db).unwrap().audit_log(1000).unwrap();
    for action in [
        "policy_draft",
        "policy_publish",
        "policy_list_confirm",
        "export",
    ] {
        assert!(log.iter().any(|e| e.action == action), "{action} audited");
    }
    // A policy delivered on application has no list.
    let r = send(
        app,
        Method::GET,
        "/policies/suzhou-zgsz-loan-interest/list",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_workflow_through_the_api() {
    let c = city();
    let db = c.dir.path().join("g.db");
    {
        let mut store = Store::open(&db).unwrap();
        store
            .create_account(
                "test",
                "admin",
                gusu_core::Role::CityAdmin,
                None,
                None,
                PASSWORD,
            )
            .unwrap();
        store
            .import_projects(
                &BatchMeta {
                    source: "bureau".into(),
                    file_name: "p.csv".into(),
                    sheet: None,
                    file_sha256: "p".into(),
                },
                &[ProjectRow {
                    row: 2,
                    facts: ProjectFacts {
                        project_id: "st-1".into(),
                        uscc: c.a.0.to_string(),
                        kind: Some("smart_transformation".into()),
                        date: Some(day("2022-06-01")),
                        loan_10k_yuan: Some(1000.0),
                        ..ProjectFacts::default()
                    },
                }],
                None,
            )
            .unwrap();
    }
    let app = &c.app;
    let (analyst, admin, ent) = (
        sign_in(app, "analyst").await,
        sign_in(app, "admin").await,
        sign_in(app, "ent_a").await,
    );
    let a = c.a.0.to_string();

    // A draft: refused with its line when it does not load; the enterprise may not write one.
    let r = send(
        app,
        Method::POST,
        "/api/v1/policy-drafts",
        Some(&analyst),
        Some(json!({ "text": "[policy]\nid = 1" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.json["error"]["message"].as_str().unwrap().contains(":2:"),
        "{}",
        r.text
    );
    let r = send(
        app,
        Method::POST,
        "/api/v1/policy-drafts",
        Some(&ent),
        Some(json!({ "text": DRAFT })),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        app,
        Method::POST,
        "/api/v1/policy-drafts",
        Some(&analyst),
        Some(json!({ "text": DRAFT })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].as_i64().unwrap();
    assert!(r.json["failing_cases"].as_array().unwrap().is_empty());
    let sim = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-drafts/{id}/simulation"),
        Some(&analyst),
        Some(json!({ "date": "2025-06-30", "ceiling_10k_yuan": 50, "rule": "ranking" })),
    )
    .await;
    assert_eq!(sim.status, StatusCode::OK, "{}", sim.text);
    let n = sim.json["qualifying_enterprises"].as_u64().unwrap();
    // 10 each, in order, while 50 lasts: five funded in full.
    assert_eq!(sim.json["paid_10k_yuan"], 50.0);
    assert_eq!(sim.json["funded_in_full"], 5);
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-drafts/{id}/publication"),
        Some(&analyst),
        Some(json!({ "date": "2025-06-30" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-drafts/{id}/publication"),
        Some(&admin),
        Some(json!({ "date": "2025-06-30" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["notices"].as_u64().unwrap(), n);
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-drafts/{id}/publication"),
        Some(&admin),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The inbox and take-up.
    let inbox = send(app, Method::GET, "/api/v1/policy-notices", Some(&ent), None).await;
    let notice = inbox.json["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["policy"] == "test-graded-award")
        .unwrap()
        .clone();
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-notices/{}/read", notice["id"]),
        Some(&ent),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(
            app,
            Method::GET,
            "/api/v1/policy-notices",
            Some(&analyst),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let take_up = send(
        app,
        Method::GET,
        "/api/v1/policy-take-up",
        Some(&analyst),
        None,
    )
    .await;
    let row = take_up.json["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["policy"] == "test-graded-award")
        .unwrap()
        .clone();
    assert_eq!(
        (
            row["notified"].as_u64().unwrap(),
            row["read"].as_u64().unwrap()
        ),
        (n, 1)
    );

    // The list, confirmed twice: two versions.
    let list = send(
        app,
        Method::GET,
        "/api/v1/policies/test-graded-award/list?date=2025-06-30",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(list.json["rows"].as_array().unwrap().len() as u64, n);
    for seq in [1, 2] {
        let r = send(
            app,
            Method::POST,
            "/api/v1/policies/test-graded-award/list/confirmations",
            Some(&admin),
            Some(json!({ "date": "2025-06-30" })),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.json["seq"], seq);
    }

    // An application for the city's smart-transformation award on the stored 2022 loan.
    let r = send(
        app,
        Method::POST,
        "/api/v1/policy-applications",
        Some(&ent),
        Some(json!({ "uscc": a, "policy": "suzhou-zgsz-loan-interest", "project_id": "st-1" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["application"]["id"].as_i64().unwrap();
    assert_eq!(r.json["decision"]["status"], "eligible");
    assert_eq!(
        r.json["open"].as_array().unwrap().len(),
        2,
        "two evidence items missing"
    );
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-applications/{id}/actions"),
        Some(&ent),
        Some(json!({ "action": "submit" })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let detail = send(
        app,
        Method::GET,
        &format!("/api/v1/policy-applications/{id}"),
        Some(&ent),
        None,
    )
    .await;
    let items: Vec<String> = serde_json::from_value(detail.json["evidence_items"].clone()).unwrap();
    let evidence: serde_json::Map<String, Value> =
        items.iter().map(|i| (i.clone(), json!("ref"))).collect();
    let r = send(
        app,
        Method::PUT,
        &format!("/api/v1/policy-applications/{id}/evidence"),
        Some(&ent),
        Some(json!({ "evidence": evidence })),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["open"].as_array().unwrap().is_empty());
    let r = send(
        app,
        Method::POST,
        &format!("/api/v1/policy-applications/{id}/actions"),
        Some(&ent),
        Some(json!({ "action": "submit" })),
    )
    .await;
    assert_eq!(r.json["application"]["status"], "submitted", "{}", r.text);
    // Another enterprise does not see it; the district's officer does.
    let b_user = {
        let mut store = Store::open(&db).unwrap();
        store
            .create_account(
                "test",
                "ent_b",
                gusu_core::Role::Enterprise,
                None,
                Some(c.b.0),
                PASSWORD,
            )
            .unwrap();
        sign_in(app, "ent_b").await
    };
    let r = send(
        app,
        Method::GET,
        &format!("/api/v1/policy-applications/{id}"),
        Some(&b_user),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = send(
        app,
        Method::GET,
        "/api/v1/policy-applications",
        Some(&b_user),
        None,
    )
    .await;
    assert!(listed.json["applications"].as_array().unwrap().is_empty());
    let other = send(
        app,
        Method::GET,
        &format!("/api/v1/policy-applications/{id}"),
        Some(&sign_in(app, "officer_a").await),
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "a's officer sees it");
}
