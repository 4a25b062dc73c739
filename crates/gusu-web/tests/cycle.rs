//! The evaluation cycle over HTTP, end to end on the test city: draft → data confirmation (one
//! enterprise flags its figures) → public notice → two objections → one accepted (the data
//! changes, a new version, the result as the engine gives on the corrected data) and one
//! rejected → published → each enterprise reads its own notice and nothing of the other's.
//! Plus the refusals: scope, stage, notice period, undecided objections, CSRF.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{Duration, TimeZone, Utc};
use common::{PASSWORD, city};
use gusu_core::evaluate::evaluate;
use gusu_core::{EvaluationInput, Role, SchemeLibrary, SourceRow};
use gusu_store::{BatchMeta, Store};
use gusu_web::cycle::Clock;
use gusu_web::{AppState, WebConfig, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    json: Value,
    text: String,
    location: Option<String>,
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<(&str, String)>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
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
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    Reply {
        status,
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text,
        location,
    }
}

/// A signed-in user: the session cookie and the CSRF token.
struct User {
    cookie: String,
    csrf: String,
}

impl User {
    async fn sign_in(app: &Router, name: &str) -> User {
        let res = app
            .clone()
            .oneshot(
                Request::post("/api/v1/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(format!(
                        r#"{{"username":"{name}","password":"{PASSWORD}"}}"#
                    )))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{name} signs in");
        let cookie = res.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let body: Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        User {
            cookie,
            csrf: body["csrf"].as_str().unwrap().to_string(),
        }
    }

    async fn get(&self, app: &Router, uri: &str) -> Reply {
        send(app, Method::GET, uri, Some(&self.cookie), None, None).await
    }

    async fn post(&self, app: &Router, uri: &str, body: Value) -> Reply {
        send(
            app,
            Method::POST,
            uri,
            Some(&self.cookie),
            Some(&self.csrf),
            Some(("application/json", body.to_string())),
        )
        .await
    }

    /// A page form, with the session's CSRF token in its hidden field unless `csrf` is false.
    async fn form(&self, app: &Router, uri: &str, fields: &[(&str, &str)], csrf: bool) -> Reply {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        if csrf {
            pairs.append_pair("csrf", &self.csrf);
        }
        for (k, v) in fields {
            pairs.append_pair(k, v);
        }
        send(
            app,
            Method::POST,
            uri,
            Some(&self.cookie),
            None,
            Some(("application/x-www-form-urlencoded", pairs.finish())),
        )
        .await
    }
}

fn code(r: &Reply) -> &str {
    r.json["error"]["code"].as_str().unwrap_or_default()
}

/// The test city, plus: a city administrator, the second enterprise's account, an officer of the
/// second enterprise's district, and last year's published result (2024's figures × 0.9 as
/// 2023's) for the migration matrix. The server's clock starts at 1 March 2025 and moves on
/// request.
struct Setup {
    app: Router,
    db: std::path::PathBuf,
    days: Arc<AtomicI64>,
    a: (gusu_core::Uscc, String),
    b: (gusu_core::Uscc, String),
    city: common::City,
}

fn setup() -> Setup {
    let c = city();
    let db = c.dir.path().join("g.db");
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
    let last_year: Vec<SourceRow<gusu_core::YearlyRecord>> = store
        .yearly_records(2024)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, mut record)| {
            record.year = 2023;
            for f in gusu_core::Figure::ALL {
                if let Some(v) = record.figures.get(f) {
                    record.figures.set(f, Some(v * 0.9));
                }
            }
            SourceRow {
                row: i as u64 + 2,
                record,
            }
        })
        .collect();
    store
        .import_annual(
            &BatchMeta {
                source: "stats".into(),
                file_name: "2023".into(),
                sheet: None,
                file_sha256: "2023".into(),
            },
            &last_year,
        )
        .unwrap();
    let lib = SchemeLibrary::builtin().unwrap();
    let saved = store
        .evaluate_and_save(
            lib.select("jiangsu-standard", 2023).unwrap(),
            2023,
            None,
            "test",
        )
        .unwrap();
    store.publish_run(saved.run_id).unwrap();
    drop(store);
    let days = Arc::new(AtomicI64::new(0));
    let start = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    let moved = days.clone();
    let mut config = WebConfig::new(db.clone());
    config.clock = Clock::new(move || start + Duration::days(moved.load(Ordering::SeqCst)));
    let app = router(AppState::open(config).unwrap());
    Setup {
        app,
        db,
        days,
        a: c.a.clone(),
        b: c.b.clone(),
        city: c,
    }
}

#[tokio::test]
async fn a_full_cycle_with_one_objection_accepted_and_one_rejected() {
    let s = setup();
    let app = &s.app;
    let (a, b) = (s.a.0.to_string(), s.b.0.to_string());
    let analyst = User::sign_in(app, "analyst").await;
    let admin = User::sign_in(app, "admin").await;
    let ent_a = User::sign_in(app, "ent_a").await;
    let ent_b = User::sign_in(app, "ent_b").await;
    let officer_a = User::sign_in(app, "officer_a").await;
    let officer_b = User::sign_in(app, "officer_b").await;

    // Start: staff only, the city's cycle by city staff, with the CSRF header.
    let no_csrf = send(
        app,
        Method::POST,
        "/api/v1/cycles",
        Some(&analyst.cookie),
        None,
        Some(("application/json", json!({"year": 2024}).to_string())),
    )
    .await;
    assert_eq!(
        (no_csrf.status, code(&no_csrf)),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let r = officer_a
        .post(app, "/api/v1/cycles", json!({"year": 2024}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an officer does not run the city's"
    );
    let r = analyst
        .post(
            app,
            "/api/v1/cycles",
            json!({"year": 2024, "colour": "red"}),
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let r = analyst
        .post(
            app,
            "/api/v1/cycles",
            json!({"year": 2024, "region": "999999"}),
        )
        .await;
    assert_eq!(code(&r), "invalid_region");
    let r = analyst
        .post(app, "/api/v1/cycles", json!({"year": 2024}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["stage"], "draft");
    assert_eq!(r.json["version"], 1);
    assert_eq!(r.json["notice_days"], 7, "the setting's default");
    let cycle = format!("/api/v1/cycles/{id}");

    // A district's own cycle: its officer runs it; another district's officer cannot see it.
    let r = officer_a
        .post(
            app,
            "/api/v1/cycles",
            json!({"year": 2024, "region": s.a.1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let district_cycle = r.json["id"].as_i64().unwrap();
    for (m, uri) in [
        (Method::GET, format!("/api/v1/cycles/{district_cycle}")),
        (
            Method::POST,
            format!("/api/v1/cycles/{district_cycle}/advance"),
        ),
    ] {
        let r = send(
            app,
            m,
            &uri,
            Some(&officer_b.cookie),
            Some(&officer_b.csrf),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let r = officer_a
        .post(
            app,
            &format!("/api/v1/cycles/{district_cycle}/advance"),
            json!({}),
        )
        .await;
    assert_eq!(r.json["stage"], "data_confirmation", "{}", r.text);
    // The officer sees the city's cycle but may not move it.
    let r = officer_a
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // While staff prepare the draft, the cycle does not exist for enterprises.
    let r = ent_a
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = ent_a
        .post(
            app,
            &format!("{cycle}/confirmations"),
            json!({"status": "confirmed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Data confirmation: enterprise A confirms on its page, B flags an error by the API.
    let r = analyst
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.json["stage"], "data_confirmation");
    let r = ent_a
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an enterprise moves nothing"
    );
    let d = ent_a.get(app, &cycle).await.json;
    assert!(
        d["mine"]["result"].is_null(),
        "its grade is shown from the notice on"
    );
    assert!(
        !d["mine"]["figures"].as_array().unwrap().is_empty(),
        "its figures now"
    );
    assert_eq!(
        ent_a.get(app, &format!("{cycle}/versions/1")).await.status,
        StatusCode::NOT_FOUND
    );
    let page = ent_a.get(app, &format!("/cycles/{id}")).await;
    assert!(page.text.contains(r#"id="confirm-form""#), "{}", page.text);
    let refused = ent_a
        .form(
            app,
            &format!("/cycles/{id}/confirmations"),
            &[("status", "confirmed")],
            false,
        )
        .await;
    assert_ne!(
        refused.status,
        StatusCode::SEE_OTHER,
        "no CSRF field, no change"
    );
    let forged = send(
        app,
        Method::POST,
        &format!("/cycles/{id}/confirmations"),
        Some(&ent_a.cookie),
        None,
        Some((
            "application/x-www-form-urlencoded",
            "csrf=forged&status=confirmed".into(),
        )),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let r = ent_a
        .form(
            app,
            &format!("/cycles/{id}/confirmations"),
            &[("status", "confirmed")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/cycles/{id}").as_str())
    );
    let r = ent_b
        .post(
            app,
            &format!("{cycle}/confirmations"),
            json!({"status": "flagged", "message": "用电量含出租厂房部分"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = analyst.get(app, &cycle).await.json;
    assert_eq!(d["progress"]["confirmed"], 1);
    assert_eq!(d["progress"]["flagged"], 1);
    assert_eq!(d["progress"]["enterprises"], 400);

    // Public notice from day 0; objections until day 7.
    let r = analyst
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.json["stage"], "public_notice");
    let r = analyst
        .post(app, &format!("{cycle}/corrections"), json!({"uscc": a, "corrections": [{"field": "tax_paid_10k_yuan", "value": 1.0}], "reason": "x"}))
        .await;
    assert_eq!(
        code(&r),
        "wrong_stage",
        "what is on notice does not change under it"
    );
    let mine = ent_a.get(app, &cycle).await.json;
    let before = mine["mine"]["result"]["score"].as_f64().unwrap();
    let tax = mine["mine"]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "tax_paid_10k_yuan")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    let corrected = tax * 3.0;
    let r = ent_a
        .post(
            app,
            &format!("{cycle}/objections"),
            json!({
                "reasons": "税务数据漏记第四季度入库税款",
                "corrections": [{"field": "tax_paid_10k_yuan", "value": corrected}],
                "attachments": [{"file_name": "完税证明.pdf", "media_type": "application/pdf", "size_bytes": 52311, "sha256": "0f".repeat(32)}]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let accepted = r.json["id"].as_i64().unwrap();
    s.days.store(3, Ordering::SeqCst);
    // B files through its page form.
    let page = ent_b.get(app, &format!("/cycles/{id}")).await;
    assert!(
        page.text.contains(r#"id="objection-form""#) && page.text.contains("/static/cycle.js"),
        "{}",
        page.text
    );
    let r = ent_b
        .form(
            app,
            &format!("/cycles/{id}/objections"),
            &[
                ("reasons", "用地面积应扣除代征道路"),
                ("field_1", "land_area_mu"),
                ("value_1", "1"),
                ("attachment_name", "土地证.jpg"),
                ("attachment_type", "image/jpeg"),
                ("attachment_size", "1024"),
                ("attachment_sha256", &"a1".repeat(32)),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !r.location.as_deref().unwrap().contains("error"),
        "{:?}",
        r.location
    );
    let theirs = ent_b.get(app, &cycle).await.json["objections"][0].clone();
    let rejected = theirs["id"].as_i64().unwrap();
    assert_eq!(theirs["attachments"][0]["file_name"], "土地证.jpg");
    let js = send(app, Method::GET, "/static/cycle.js", None, None, None).await;
    assert!(js.status == StatusCode::OK && js.text.contains("crypto.subtle"));

    // Neither enterprise sees the other's objection.
    assert_eq!(
        ent_a
            .get(app, &format!("/api/v1/objections/{rejected}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ent_b
            .get(app, &format!("/api/v1/objections/{accepted}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ent_a
            .get(app, &format!("/api/v1/objections/{accepted}"))
            .await
            .status,
        StatusCode::OK
    );
    let own = ent_a.get(app, &cycle).await.json;
    assert_eq!(own["objections"].as_array().unwrap().len(), 1);
    assert_eq!(own["progress"]["enterprises"], 1);
    let page = ent_a.get(app, &format!("/cycles/{id}")).await;
    assert!(
        !page.text.contains(&b),
        "another enterprise's code never reaches the page"
    );
    assert_eq!(
        analyst.get(app, &cycle).await.json["objections"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Review waits for the period to end; objections stop when it does.
    let r = analyst
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "notice_period_running")
    );
    s.days.store(7, Ordering::SeqCst);
    let r = ent_a
        .post(
            app,
            &format!("{cycle}/objections"),
            json!({"reasons": "补充异议"}),
        )
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "notice_period_over")
    );
    let r = analyst
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.json["stage"], "review", "{}", r.text);

    // Publishing with undecided objections is refused; analysts do not publish.
    let r = admin
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(
        (r.status, code(&r)),
        (StatusCode::CONFLICT, "undecided_objections")
    );

    // Accept A's: the data changes and the cycle re-runs as version 2.
    let r = ent_a
        .post(
            app,
            &format!("/api/v1/objections/{accepted}/decision"),
            json!({"decision": "accept", "reason": "x"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an enterprise does not decide"
    );
    let r = analyst
        .post(
            app,
            &format!("/api/v1/objections/{accepted}/decision"),
            json!({"decision": "accept", "reason": "经核对完税证明，采纳"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["new_version"], 2);
    assert_eq!(r.json["objection"]["status"], "accepted");
    let after = ent_a.get(app, &cycle).await.json;
    assert_eq!(after["cycle"]["version"], 2);
    let score = after["mine"]["result"]["score"].as_f64().unwrap();
    // What the engine says on the corrected data.
    let engine = {
        let store = Store::open(&s.db).unwrap();
        let enterprises = store.enterprises().unwrap();
        let records = store.yearly_records(2024).unwrap();
        let lib = SchemeLibrary::builtin().unwrap();
        let e = evaluate(
            lib.select("jiangsu-standard", 2024).unwrap(),
            &EvaluationInput {
                year: 2024,
                enterprises: &enterprises,
                records: &records,
                district: None,
            },
        )
        .unwrap();
        let r = e.results.into_iter().find(|r| r.uscc == s.a.0).unwrap();
        (r.score.unwrap(), r.class.unwrap().to_string())
    };
    assert!((score - engine.0).abs() < 1e-9, "{score} vs {}", engine.0);
    assert_eq!(after["mine"]["result"]["class"], engine.1.as_str());
    assert!(
        score > before,
        "three times the tax scores higher: {before} → {score}"
    );
    let effective_tax = after["mine"]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "tax_paid_10k_yuan")
        .unwrap()
        .clone();
    assert_eq!(effective_tax["source"], "objection");
    assert!((effective_tax["value"].as_f64().unwrap() - corrected).abs() < 1e-9);

    // Reject B's on the page, with its reason; a decision without a reason is refused.
    let r = analyst
        .form(
            app,
            &format!("/objections/{rejected}/decision"),
            &[("decision", "reject"), ("reason", "")],
            true,
        )
        .await;
    assert!(
        r.location.as_deref().unwrap().contains("error=invalid"),
        "{:?}",
        r.location
    );
    let r = analyst
        .form(
            app,
            &format!("/objections/{rejected}/decision"),
            &[
                ("decision", "reject"),
                ("reason", "代征道路已在土地证面积中扣除"),
            ],
            true,
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/cycles/{id}").as_str())
    );
    let o = ent_b
        .get(app, &format!("/api/v1/objections/{rejected}"))
        .await
        .json;
    assert_eq!(o["status"], "rejected");
    assert_eq!(o["decision_reason"], "代征道路已在土地证面积中扣除");
    assert_eq!(after["cycle"]["version"], 2, "a rejection makes no version");

    // Published: both enterprises have their notice, and only theirs.
    let r = analyst
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "analysts do not publish");
    let r = admin
        .post(app, &format!("{cycle}/advance"), json!({}))
        .await;
    assert_eq!(r.json["stage"], "published", "{}", r.text);
    let na = ent_a.get(app, "/api/v1/notices").await.json;
    let nb = ent_b.get(app, "/api/v1/notices").await.json;
    assert_eq!(na.as_array().unwrap().len(), 1);
    assert_eq!(nb.as_array().unwrap().len(), 1);
    assert_eq!(na[0]["uscc"], a.as_str());
    assert_eq!(na[0]["version"], 2);
    assert_eq!(na[0]["class"], engine.1.as_str());
    assert_eq!(nb[0]["uscc"], b.as_str());
    let (notice_a, notice_b) = (na[0]["id"].as_i64().unwrap(), nb[0]["id"].as_i64().unwrap());
    assert_eq!(
        ent_a
            .get(app, &format!("/api/v1/notices/{notice_b}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ent_a
            .post(app, &format!("/api/v1/notices/{notice_b}/read"), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let page = ent_a.get(app, "/notices").await;
    assert!(
        page.text.contains("评价结果通知书") && page.text.contains(&a) && !page.text.contains(&b)
    );
    let r = ent_a
        .form(app, &format!("/notices/{notice_a}/read"), &[], true)
        .await;
    assert_eq!(r.location.as_deref(), Some("/notices"));
    assert!(
        ent_a
            .get(app, &format!("/api/v1/notices/{notice_a}"))
            .await
            .json["read_at"]
            .is_string()
    );
    // The published version is what the platform shows for the year.
    let shown = ent_a
        .get(app, &format!("/api/v1/enterprises/{a}/results/2024"))
        .await
        .json;
    assert!((shown["score"].as_f64().unwrap() - score).abs() < 1e-9);

    // A correction after publication: a new published version with its reason; version 1 stays.
    let r = analyst
        .post(app, &format!("{cycle}/corrections"), json!({"uscc": b, "corrections": [{"field": "tax_paid_10k_yuan", "value": 1.0}], "reason": "税务局更正"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only who may publish corrects a published result"
    );
    let r = admin
        .post(app, &format!("{cycle}/corrections"), json!({"uscc": b, "corrections": [{"field": "tax_paid_10k_yuan", "value": 1.0}], "reason": "税务局更正2024年度数据"}))
        .await;
    assert_eq!(r.json["version"], 3, "{}", r.text);
    let d = admin.get(app, &cycle).await.json;
    let versions = d["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2]["reason"], "税务局更正2024年度数据");
    assert_eq!(versions[2]["created_by"], "admin");

    // Each participant reads the reasons of its own scope only (security review): A the
    // version its objection made, B its correction, the district officer A's, and no
    // enterprise any staff member's name. Page and API alike.
    for (user, own, other) in [(&ent_a, 2, 3), (&ent_b, 3, 2), (&officer_a, 2, 3)] {
        let d = user.get(app, &cycle).await.json;
        let versions = d["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 3, "every version is listed");
        let (mine, theirs) = (&versions[own - 1], &versions[other - 1]);
        assert_eq!(mine["in_scope"], true, "{mine}");
        assert!(mine["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(theirs["in_scope"], false, "{theirs}");
        for hidden in ["reason", "uscc", "objection_id", "batch_id", "created_by"] {
            assert!(theirs[hidden].is_null(), "{hidden}: {theirs}");
        }
        let single = user
            .get(app, &format!("{cycle}/versions/{other}"))
            .await
            .json;
        assert!(
            single["reason"].is_null() && single["created_by"].is_null(),
            "{single}"
        );
        let page = user.get(app, &format!("/cycles/{id}")).await.text;
        let (hidden_reason, shown_reason) = if other == 3 {
            ("税务局更正2024年度数据", "经核对完税证明，采纳")
        } else {
            ("经核对完税证明，采纳", "税务局更正2024年度数据")
        };
        assert!(!page.contains(hidden_reason), "{page}");
        assert!(page.contains(shown_reason));
        assert!(page.contains("涉及您查看范围以外企业的变更"));
        let version_page = user
            .get(app, &format!("/cycles/{id}/versions/{other}"))
            .await
            .text;
        assert!(!version_page.contains(hidden_reason));
    }
    for user in [&ent_a, &ent_b] {
        let d = user.get(app, &cycle).await.json;
        assert!(
            d["versions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["created_by"].is_null()),
            "no staff names for enterprises: {d}"
        );
    }
    let v1_run = versions[0]["run_id"].as_i64().unwrap();
    let v1 = Store::open(&s.db)
        .unwrap()
        .result_for(v1_run, &s.a.0)
        .unwrap()
        .unwrap();
    assert!(
        (v1.score.unwrap() - before).abs() < 1e-9,
        "version 1 is kept as it was"
    );
    assert_eq!(
        ent_b.get(app, "/api/v1/notices").await.json[0]["version"],
        3
    );
    let v1 = ent_a.get(app, &format!("{cycle}/versions/1")).await.json;
    assert_eq!(
        v1["results"].as_array().unwrap().len(),
        1,
        "its own line only"
    );
    assert!((v1["results"][0]["score"].as_f64().unwrap() - before).abs() < 1e-9);
    assert_eq!(
        admin.get(app, &format!("{cycle}/versions/1")).await.json["results"]
            .as_array()
            .unwrap()
            .len(),
        400
    );
    let page = admin.get(app, &format!("/cycles/{id}/versions/2")).await;
    assert!(page.text.contains(r#"id="version-results""#) && page.text.contains(&a));

    // The migration matrix at any stage: against last year and against another scheme.
    let m = analyst.get(app, &format!("{cycle}/migration")).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert_eq!(m.json["compared"], 400);
    let m2 = analyst
        .get(
            app,
            &format!("{cycle}/migration?against=scheme&scheme=jiangsu-huaian-2024"),
        )
        .await;
    assert_eq!(m2.status, StatusCode::OK, "{}", m2.text);
    assert_eq!(m2.json["compared"], 400);
    let own = officer_a.get(app, &format!("{cycle}/migration")).await;
    assert!(
        own.json["compared"].as_u64().unwrap() < 400,
        "an officer's matrix is its district's"
    );
    assert_eq!(
        ent_a.get(app, &format!("{cycle}/migration")).await.status,
        StatusCode::FORBIDDEN
    );
    let page = analyst.get(app, &format!("/cycles/{id}/migration")).await;
    assert!(page.text.contains(r#"id="migration""#), "{}", page.text);

    // The audit log has every step; nobody can change it.
    let auditor = User::sign_in(app, "auditor").await;
    let log = auditor.get(app, "/api/v1/audit?limit=2000").await.json;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "cycle_started",
        "cycle_stage",
        "figures_confirmed",
        "figures_flagged",
        "objection_filed",
        "objection_accepted",
        "objection_rejected",
        "publication",
        "cycle_correction",
        "notice_read",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // No route changes or removes an entry.
    for method in [Method::DELETE, Method::PUT, Method::PATCH, Method::POST] {
        let r = send(
            app,
            method.clone(),
            "/api/v1/audit",
            Some(&auditor.cookie),
            Some(&auditor.csrf),
            None,
        )
        .await;
        assert!(!r.status.is_success(), "{method} /api/v1/audit");
    }
    let again = auditor.get(app, "/api/v1/audit?limit=2000").await.json;
    assert_eq!(again[0]["id"], log[0]["id"], "reading changed nothing");
}

#[tokio::test]
async fn pages_and_routes_in_each_scope() {
    let s = setup();
    let app = &s.app;
    // The document lists the cycle's routes (read from the test city's own server).
    let doc = send(
        &s.city.app,
        Method::GET,
        "/api/v1/openapi.json",
        None,
        None,
        None,
    )
    .await;
    assert!(doc.json["paths"]["/api/v1/cycles/{id}/advance"]["post"].is_object());
    let analyst = User::sign_in(app, "analyst").await;
    let r = analyst.get(app, "/cycles/new").await;
    assert!(r.text.contains(r#"id="start-cycle""#) && r.text.contains(r#"name="csrf""#));
    let r = analyst
        .form(
            app,
            "/cycles/new",
            &[
                ("year", "2024"),
                ("scheme", "jiangsu-standard"),
                ("region", ""),
                ("notice_days", "5"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.location.unwrap();
    let page = analyst.get(app, &to).await;
    assert!(page.text.contains(r#"data-stage="draft""#) && page.text.contains(r#"id="advance""#));
    assert!(page.text.contains("草稿") && page.text.contains("版本记录"));
    let en = analyst.get(app, &format!("{to}?lang=en")).await;
    assert!(en.text.contains("Data confirmation") && en.text.contains("Versions"));
    let list = analyst.get(app, "/cycles").await;
    assert!(list.text.contains(r#"id="cycles""#));
    // A refused form comes back to the page with the reason.
    let id: i64 = to.trim_start_matches("/cycles/").parse().unwrap();
    let ent = User::sign_in(app, "ent_a").await;
    assert_eq!(
        ent.get(app, "/my/cycle").await.location.as_deref(),
        Some("/cycles"),
        "no cycle open to it yet"
    );
    let r = analyst
        .form(app, &format!("/cycles/{id}/advance"), &[], true)
        .await;
    assert_eq!(r.location.as_deref(), Some(to.as_str()));
    let r = ent
        .form(
            app,
            &format!("/cycles/{id}/objections"),
            &[("reasons", "数据有误")],
            true,
        )
        .await;
    let back = r.location.unwrap();
    assert!(back.contains("error=wrong_stage"), "{back}");
    assert!(
        ent.get(app, &back)
            .await
            .text
            .contains("当前阶段不允许此操作")
    );
    let r = ent.get(app, "/my/cycle").await;
    assert_eq!(r.location.as_deref(), Some(to.as_str()));
    assert_eq!(
        ent.get(app, "/cycles/new").await.status,
        StatusCode::FORBIDDEN
    );

    // The separated administrators reach no cycle data on any cycle route.
    for name in ["auditor", "sysadmin"] {
        let admin = User::sign_in(app, name).await;
        for op in gusu_web::openapi::operations() {
            let (method, path) = (op.method.as_str(), op.path.as_str());
            if !["cycles", "objections", "notices"]
                .iter()
                .any(|k| path.contains(k))
            {
                continue;
            }
            let uri = path
                .replace("{id}", &id.to_string())
                .replace("{version}", "1");
            let r = match method {
                "get" => admin.get(app, &uri).await,
                _ => admin.post(app, &uri, json!({})).await,
            };
            assert!(
                matches!(
                    r.status,
                    StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
                ),
                "{name} {method} {uri}: {}",
                r.status
            );
        }
        assert_eq!(
            admin.get(app, "/cycles").await.status,
            StatusCode::FORBIDDEN
        );
    }
}
