//! Near-zero-carbon applications over HTTP, end to end on the test city: the enterprise opens an
//! application under the Park's 2026 criteria, records evidence through the page form, cannot
//! submit while a criterion is unmet, submits; the district returns it with a reason, recommends
//! it after resubmission; the analyst may not certify, the city administrator does. Other
//! enterprises, other districts and the administrators never see it; refusals change nothing.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, city};
use gusu_core::Role;
use gusu_store::Store;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    json: Value,
    text: String,
    location: Option<String>,
    set_cookie: Option<String>,
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    user: Option<&User>,
    body: Option<(&str, String)>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(u) = user {
        req = req
            .header(header::COOKIE, &u.cookie)
            .header("x-csrf-token", &u.csrf);
    }
    let payload = match body {
        Some((content_type, text)) => {
            req = req.header(header::CONTENT_TYPE, content_type);
            text
        }
        None => String::new(),
    };
    let res = app
        .clone()
        .oneshot(req.body(Body::from(payload)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        set_cookie,
        status,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).to_string(),
        location,
    }
}

struct User {
    cookie: String,
    csrf: String,
}

impl User {
    async fn sign_in(app: &Router, name: &str) -> User {
        let r = send(
            app,
            Method::POST,
            "/api/v1/session",
            None,
            Some((
                "application/json",
                json!({ "username": name, "password": PASSWORD }).to_string(),
            )),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name} signs in");
        User {
            cookie: r.set_cookie.unwrap(),
            csrf: r.json["csrf"].as_str().unwrap().to_string(),
        }
    }

    async fn get(&self, app: &Router, uri: &str) -> Reply {
        send(app, Method::GET, uri, Some(self), None).await
    }

    async fn json(&self, app: &Router, method: Method, uri: &str, body: Value) -> Reply {
        send(
            app,
            method,
            uri,
            Some(self),
            Some(("application/json", body.to_string())),
        )
        .await
    }

    async fn form(&self, app: &Router, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        pairs.append_pair("csrf", &self.csrf);
        for (k, v) in fields {
            pairs.append_pair(k, v);
        }
        send(
            app,
            Method::POST,
            uri,
            Some(self),
            Some(("application/x-www-form-urlencoded", pairs.finish())),
        )
        .await
    }
}

fn code(r: &Reply) -> &str {
    r.json["error"]["code"].as_str().unwrap_or_default()
}

/// The evidence form for the Park's criteria, all met: a provincial green factory; 2025's scope 1
/// + 2 emissions 800 tCO₂ and 500 + 300 = 800 tCO₂ retired for 2025, so 800 ÷ 800 = 100% (needs
///   100%); no energy quota standard applies.
const PASSING_FORM: &[(&str, &str)] = &[
    ("green_factory", "provincial"),
    ("emis_year_1", "2025"),
    ("emis_tco2_1", "800"),
    ("off_kind_1", "green_certificate"),
    ("off_ref_1", "GEC-2025-01"),
    ("off_amount_1", "500"),
    ("off_retired_1", "2026-01-20"),
    ("off_year_1", "2025"),
    ("off_kind_2", "ccer"),
    ("off_ref_2", "CCER-77"),
    ("off_amount_2", "300"),
    ("off_retired_2", "2026-02-03"),
    ("off_year_2", "2025"),
    ("quota_applicable", "no"),
];

#[tokio::test]
async fn an_application_from_the_enterprise_through_district_to_city() {
    let c = city();
    let db = c.dir.path().join("g.db");
    {
        let mut store = Store::open(&db).unwrap();
        for (name, role, district, uscc) in [
            ("admin", Role::CityAdmin, None, None),
            ("ent_b", Role::Enterprise, None, Some(c.b.0)),
            (
                "officer_b",
                Role::DistrictOfficer,
                Some(c.b.1.as_str()),
                None,
            ),
        ] {
            store
                .create_account("test", name, role, district, uscc, PASSWORD)
                .unwrap();
        }
    }
    let app = &c.app;
    let a = c.a.0.to_string();
    let ent = User::sign_in(app, "ent_a").await;
    let officer = User::sign_in(app, "officer_a").await;
    let analyst = User::sign_in(app, "analyst").await;
    let admin = User::sign_in(app, "admin").await;

    // The criteria documents, and an enterprise may not open one for another enterprise.
    let docs = ent.get(app, "/api/v1/nzc/criteria").await;
    assert_eq!(docs.status, StatusCode::OK);
    let ids: Vec<&str> = docs.json["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"sip-nzc@2026.1") && ids.contains(&"suzhou-nzc@2023.2"));
    let r = ent
        .json(
            app,
            Method::POST,
            "/api/v1/nzc/applications",
            json!({ "uscc": c.b.0.to_string(), "criteria": "sip-nzc", "year": 2025 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Opened through the page: no evidence yet, every criterion missing.
    let r = ent
        .form(
            app,
            "/nzc",
            &[
                ("uscc", &a),
                ("criteria", "sip-nzc@2026.1"),
                ("year", "2025"),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/nzc/1"), "{}", r.text);
    let d = ent.get(app, "/api/v1/nzc/applications/1").await;
    assert_eq!(d.json["application"]["status"], "draft");
    // The emissions come pre-filled from gusu's accounts of a's 2024 energy lines (the test
    // city's): 100 t of raw coal at 20.908 GJ/t × 26.37 tC/TJ ÷ 1000 × 0.94 × 44/12 = 1.9002988488
    // tCO₂/t, 190.02988488 tCO₂ (scope 1), and 500 MWh of grid power at 2023's national factor
    // 0.5306 (the latest before 2024), 265.3 tCO₂ (scope 2): 455.32988488 tCO₂ in all.
    let emissions = &d.json["application"]["evidence"]["emissions"];
    let scope12 = emissions["2024"].as_f64().unwrap();
    assert!((scope12 - 455.32988488).abs() < 1e-6, "{emissions}");
    assert_eq!(emissions, &json!({ "2024": scope12 }));
    assert_eq!(
        d.json["assessment"]["results"][0]["status"],
        "missing_evidence"
    );
    assert_eq!(d.json["actions"], json!(["submit"]));

    // A bad cell: refused with its field and value, nothing saved.
    let r = ent
        .form(
            app,
            "/nzc/1/evidence",
            &[("off_kind_1", "ccer"), ("off_amount_1", "-5")],
        )
        .await;
    let back = r.location.unwrap();
    assert!(
        back.starts_with("/nzc/1?error=invalid_evidence") && back.contains("off_amount_1"),
        "{back}"
    );
    let d = ent.get(app, "/api/v1/nzc/applications/1").await;
    assert_eq!(d.json["application"]["evidence"]["offsets"], json!([]));

    // Evidence with the offsets short of the emissions: 500 ÷ 800 = 62.5%, unmet.
    let r = ent.form(app, "/nzc/1/evidence", &PASSING_FORM[..8]).await;
    assert_eq!(r.location.as_deref(), Some("/nzc/1"));
    let d = ent.get(app, "/api/v1/nzc/applications/1").await;
    assert_eq!(d.json["assessment"]["offset_ratio"], 0.625);
    let r = ent
        .json(
            app,
            Method::POST,
            "/api/v1/nzc/applications/1/actions",
            json!({ "action": "submit" }),
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "criteria_not_met")
    );

    // All evidence: 800 ÷ 800 = 100%; submitted through the page.
    ent.form(app, "/nzc/1/evidence", PASSING_FORM).await;
    let page = ent.get(app, "/nzc/1").await;
    assert!(
        page.text.contains(r#"id="offset-ratio">100.0%"#),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#"data-passes="true""#));
    // 2025's emissions were typed in, not taken from gusu's accounts (which hold 2024 only):
    // reviewers see them marked.
    let d = ent.get(app, "/api/v1/nzc/applications/1").await;
    assert_eq!(
        d.json["application"]["evidence"]["emissions_entered"],
        json!([2025])
    );
    assert!(
        page.text
            .contains(r#"class="warning" data-entered="true" id="emis-source-2025">申请人填报"#),
        "{}",
        page.text
    );
    let r = ent
        .form(app, "/nzc/1/actions", &[("action", "submit")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/nzc/1"));
    // Frozen while with the district.
    let r = ent
        .json(
            app,
            Method::PUT,
            "/api/v1/nzc/applications/1/evidence",
            json!({}),
        )
        .await;
    assert_eq!((r.status, code(&r)), (StatusCode::CONFLICT, "wrong_status"));

    // Nobody outside the application's scope sees it.
    for name in ["ent_b", "officer_b", "auditor", "sysadmin"] {
        let u = User::sign_in(app, name).await;
        for uri in ["/api/v1/nzc/applications/1", "/nzc/1"] {
            let r = u.get(app, uri).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{name} {uri}");
            assert!(!r.text.contains(&a), "{name} {uri}");
        }
        let list = u.get(app, "/api/v1/nzc/applications").await;
        assert!(!list.text.contains(&a), "{name}: {}", list.text);
        let r = u
            .json(
                app,
                Method::POST,
                "/api/v1/nzc/applications/1/actions",
                json!({ "action": "recommend" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
    }
    let list = analyst.get(app, "/api/v1/nzc/applications").await;
    assert_eq!(list.json["applications"][0]["uscc"], a.as_str());

    // The district: a return needs a reason; returned, resubmitted, recommended.
    let act = |action: &str, reason: &str| json!({ "action": action, "reason": reason });
    let url = "/api/v1/nzc/applications/1/actions";
    let r = officer
        .json(app, Method::POST, url, act("return", " "))
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "reason_required")
    );
    let r = analyst
        .json(app, Method::POST, url, act("recommend", ""))
        .await;
    assert_eq!((r.status, code(&r)), (StatusCode::FORBIDDEN, "forbidden"));
    let r = officer
        .json(
            app,
            Method::POST,
            url,
            act("return", "绿证编号请附注销凭证"),
        )
        .await;
    assert_eq!(r.json["application"]["status"], "returned");
    let r = ent.json(app, Method::POST, url, act("submit", "")).await;
    assert_eq!(r.json["application"]["status"], "submitted");
    let r = officer
        .form(app, "/nzc/1/actions", &[("action", "recommend")])
        .await;
    assert_eq!(r.location.as_deref(), Some("/nzc/1"));

    // The city: the analyst may not certify; the administrator does.
    let r = analyst
        .json(app, Method::POST, url, act("approve", ""))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = admin.get(app, "/nzc/1").await;
    assert!(page.text.contains(r#"id="act-approve""#), "{}", page.text);
    let r = admin.json(app, Method::POST, url, act("approve", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["application"]["status"], "approved");
    assert_eq!(r.json["actions"], json!([]));
    let steps: Vec<&str> = r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap_or_else(|| e["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            "opened",
            "evidence_saved",
            "evidence_saved",
            "submit",
            "return",
            "submit",
            "recommend",
            "approve"
        ]
    );

    // The enterprise reads the outcome in English, with the reason it was returned.
    let page = ent.get(app, "/nzc/1?lang=en").await;
    assert!(page.text.contains("Certified"), "{}", page.text);
    assert!(page.text.contains("绿证编号请附注销凭证"));
    assert!(!page.text.contains(r#"id="save-evidence""#));

    // Every step is in the audit log.
    let store = Store::open(&db).unwrap();
    let audited: Vec<String> = store
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("nzc_"))
        .collect();
    assert_eq!(
        audited,
        [
            "nzc_approve",
            "nzc_recommend",
            "nzc_submit",
            "nzc_return",
            "nzc_submit",
            "nzc_evidence_saved",
            "nzc_evidence_saved",
            "nzc_application_opened"
        ]
    );
}
