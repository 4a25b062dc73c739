//! The overview and the result list read from cached summaries: they must add up to what the
//! store holds, keep to each viewer's scope, and change when the data does.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, city};
use gusu_core::Figure;
use gusu_store::Store;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn get(app: &Router, uri: &str, cookie: &str) -> (StatusCode, Value) {
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .uri(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn sign_in(app: &Router, user: &str) -> String {
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
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// Σ of a figure over the stored records of 2024, and Σ of land over those that have both.
fn store_sums(store: &Store, district: Option<&str>) -> (f64, f64, f64) {
    let enterprises: std::collections::HashMap<_, _> = store
        .enterprises()
        .unwrap()
        .into_iter()
        .map(|e| (e.uscc, e))
        .collect();
    let (mut tax, mut tax_with_land, mut land_with_tax) = (0.0, 0.0, 0.0);
    for r in store.yearly_records(2024).unwrap() {
        let e = &enterprises[&r.uscc];
        if district.is_some_and(|d| d != e.district) {
            continue;
        }
        let t = r.figures.get(Figure::TaxPaid);
        tax += t.unwrap_or(0.0);
        let land = r.figures.get(Figure::LandAreaMu).or(e.land_area_mu);
        if let (Some(t), Some(l)) = (t, land)
            && l > 0.0
        {
            tax_with_land += t;
            land_with_tax += l;
        }
    }
    (tax, tax_with_land, land_with_tax)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[tokio::test]
async fn the_overview_adds_up_to_the_store_and_keeps_to_the_scope() {
    let c = city();
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let analyst = sign_in(&c.app, "analyst").await;
    let (s, j) = get(&c.app, "/api/v1/overview/2024", &analyst).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let o = &j["overview"];
    assert_eq!(o["all"]["total"], 400);
    let by_district: u64 = o["by_district"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| d["total"].as_u64().unwrap())
        .sum();
    assert_eq!(by_district, 400, "the districts add up to the city");
    let by_division: u64 = o["by_division"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| d["graded"].as_u64().unwrap())
        .sum();
    assert_eq!(by_division, o["all"]["graded"].as_u64().unwrap());
    // Every enterprise of the test city is in the run, so the figures are the store's sums.
    let (tax, tax_with_land, land_with_tax) = store_sums(&store, None);
    let this_year = &o["figures"]["all"]["this_year"];
    assert!(close(this_year["tax"].as_f64().unwrap(), tax));
    let per_mu = &this_year["tax_per_mu"];
    assert!(close(per_mu["numerator"].as_f64().unwrap(), tax_with_land));
    assert!(close(
        per_mu["denominator"].as_f64().unwrap(),
        land_with_tax
    ));
    // The test city has no 2023: nothing to compare with.
    assert_eq!(o["figures"]["all"]["last_year"]["enterprises"], 0);
    // The lowest-class list holds D only, lowest score first.
    let lowest = o["lowest_class_list"].as_array().unwrap();
    assert_eq!(o["lowest_class"], "D");
    assert!(!lowest.is_empty());
    let scores: Vec<f64> = lowest
        .iter()
        .map(|l| l["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]));

    // A district officer's overview is its district's, whichever way it is asked for.
    let officer = sign_in(&c.app, "officer_a").await;
    let (s, own) = get(&c.app, "/api/v1/overview/2024", &officer).await;
    assert_eq!(s, StatusCode::OK);
    let (district_tax, _, _) = store_sums(&store, Some(&c.a.1));
    assert!(close(
        own["overview"]["figures"]["all"]["this_year"]["tax"]
            .as_f64()
            .unwrap(),
        district_tax
    ));
    assert_eq!(own["overview"]["by_district"].as_object().unwrap().len(), 1);
    let (s, asked) = get(
        &c.app,
        &format!("/api/v1/overview/2024?district={}", c.a.1),
        &officer,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(asked["overview"], own["overview"]);
    let (s, _) = get(
        &c.app,
        &format!("/api/v1/overview/2024?district={}", c.b.1),
        &officer,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another district is not there");
    for user in ["ent_a", "auditor", "sysadmin"] {
        let cookie = sign_in(&c.app, user).await;
        let (s, _) = get(&c.app, "/api/v1/overview/2024", &cookie).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
    }
    let (s, j) = get(&c.app, "/api/v1/overview/2024?nonsense=1", &analyst).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(j["error"]["code"], "invalid_query");
    let (s, _) = get(&c.app, "/api/v1/overview/1999", &analyst).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_new_import_is_seen_by_the_next_request() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let (_, before) = get(&c.app, "/api/v1/overview/2024", &analyst).await;
    let tax_before = before["overview"]["figures"]["all"]["this_year"]["tax"]
        .as_f64()
        .unwrap();
    // The tax department corrects one enterprise's tax upwards by 1,000 万元.
    let mut store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let mut record = store.yearly_record(&c.a.0, 2024).unwrap().unwrap();
    let old = record.figures.get(Figure::TaxPaid).unwrap_or(0.0);
    record.figures.set(Figure::TaxPaid, Some(old + 1000.0));
    store
        .import_annual(
            &gusu_store::BatchMeta {
                source: "stats".into(),
                file_name: "correction.csv".into(),
                sheet: None,
                file_sha256: "correction".into(),
            },
            &[gusu_core::SourceRow { row: 2, record }],
        )
        .unwrap();
    let (_, after) = get(&c.app, "/api/v1/overview/2024", &analyst).await;
    let tax_after = after["overview"]["figures"]["all"]["this_year"]["tax"]
        .as_f64()
        .unwrap();
    assert!(
        close(tax_after - tax_before, 1000.0),
        "{tax_before} → {tax_after}"
    );
}

#[tokio::test]
async fn the_result_list_filters_and_keeps_to_the_scope() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let (_, all) = get(&c.app, "/api/v1/results/2024", &analyst).await;
    let all = all["results"].as_array().unwrap().clone();
    assert_eq!(all.len(), 400);
    let expect = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|l| f(l)).count();
    for (query, n) in [
        (
            format!("district={}", c.a.1),
            expect(&|l| l["district"] == c.a.1.as_str()),
        ),
        ("status=graded".into(), expect(&|l| l["status"] == "graded")),
        (
            "class=D&group=above".into(),
            expect(&|l| l["class"] == "D" && l["group"] == "above"),
        ),
        ("division=34".into(), expect(&|l| l["division"] == "34")),
        (format!("q={}", c.a.0), 1),
    ] {
        let (s, j) = get(&c.app, &format!("/api/v1/results/2024?{query}"), &analyst).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(j["results"].as_array().unwrap().len(), n, "{query}");
    }
    let officer = sign_in(&c.app, "officer_a").await;
    let (_, own) = get(&c.app, "/api/v1/results/2024", &officer).await;
    assert!(
        own["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["district"] == c.a.1.as_str())
    );
    let (_, other) = get(
        &c.app,
        &format!("/api/v1/results/2024?district={}", c.b.1),
        &officer,
    )
    .await;
    assert!(other["results"].as_array().unwrap().is_empty());
    let ent = sign_in(&c.app, "ent_a").await;
    let (_, mine) = get(&c.app, "/api/v1/results/2024", &ent).await;
    let mine = mine["results"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["uscc"], c.a.0.as_str());
}

#[tokio::test]
async fn the_enterprise_file_shows_each_value_with_its_source_and_keeps_to_the_scope() {
    let c = city();
    let ent = sign_in(&c.app, "ent_a").await;
    let (s, own) = get(&c.app, &format!("/api/v1/enterprises/{}", c.a.0), &ent).await;
    assert_eq!(s, StatusCode::OK, "{own}");
    assert_eq!(own["enterprise"]["uscc"], c.a.0.as_str());
    let values = own["years"][0]["values"].as_array().unwrap();
    assert_eq!(own["years"][0]["year"], 2024);
    // The test city's figures came from one file of the statistics bureau, named "a".
    let tax = values
        .iter()
        .find(|v| v["field"] == "tax_paid_10k_yuan")
        .unwrap();
    assert_eq!(
        (tax["source"].as_str(), tax["file_name"].as_str()),
        (Some("stats"), Some("a"))
    );
    assert!(tax["row"].as_u64().unwrap() >= 2 && tax["effective"] == true);
    assert_eq!(own["classes"][0]["year"], 2024);
    assert!(own["classes"][0]["class"].is_string());
    // Another enterprise does not exist for it, nor for an officer of another district, nor
    // for the administrators.
    let (s, _) = get(&c.app, &format!("/api/v1/enterprises/{}", c.b.0), &ent).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let officer = sign_in(&c.app, "officer_a").await;
    let (s, _) = get(&c.app, &format!("/api/v1/enterprises/{}", c.b.0), &officer).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&c.app, &format!("/api/v1/enterprises/{}", c.a.0), &officer).await;
    assert_eq!(s, StatusCode::OK);
    for admin in ["auditor", "sysadmin"] {
        let cookie = sign_in(&c.app, admin).await;
        let (s, _) = get(&c.app, &format!("/api/v1/enterprises/{}", c.a.0), &cookie).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{admin}");
    }
    let (s, j) = get(&c.app, "/api/v1/enterprises/not-a-code", &ent).await;
    assert_eq!(
        (s, j["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_uscc"))
    );
}

#[tokio::test]
async fn the_schemes_are_readable_by_everyone_signed_in_including_a_rules_directory() {
    let c = city();
    // A city's rules directory adds a version of the standard scheme; the server shows it too.
    let text = include_str!("../../../rules/evaluation/jiangsu-standard.toml")
        .replace("version = \"2024.1\"", "version = \"2024.9-local\"");
    let mut library = gusu_core::SchemeLibrary::builtin().unwrap();
    library.add(gusu_core::Scheme::from_toml(&text, "rules/local.toml").unwrap());
    let mut config = gusu_web::WebConfig::new(c.dir.path().join("g.db"));
    config.schemes = std::sync::Arc::new(library);
    let app = gusu_web::router(gusu_web::AppState::open(config).unwrap());
    let ent = sign_in(&app, "ent_a").await;
    let (s, zh) = get(&app, "/api/v1/schemes", &ent).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = zh
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"jiangsu-standard@2024.1"), "{ids:?}");
    assert!(ids.contains(&"jiangsu-standard@2024.9-local"), "{ids:?}");
    assert!(zh.to_string().contains("亩均税收"));
    let (_, en) = get(&app, "/api/v1/schemes?lang=en", &ent).await;
    assert!(en.to_string().contains("Tax per mu") || en.to_string().contains("tax per mu"));
    let (s, _) = get(&app, "/api/v1/schemes?x=1", &ent).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = get(&app, "/api/v1/schemes", "").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_enterprise_sees_no_result_before_it_is_published() {
    let c = city();
    // A draft run of 2025 (the 2024 results saved again, not published).
    let mut store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let run = store.runs(Some(2024)).unwrap()[0].clone();
    let results = store.results(run.id).unwrap();
    store
        .save_run(
            &gusu_store::NewRun {
                year: 2025,
                scheme: run.scheme.clone(),
                scheme_version: run.scheme_version.clone(),
                region: None,
                created_at: "2026-11-29T00:00:00Z".into(),
            },
            &results,
        )
        .unwrap();
    let analyst = sign_in(&c.app, "analyst").await;
    let ent = sign_in(&c.app, "ent_a").await;
    let own = format!("/api/v1/enterprises/{}/results/2025", c.a.0);
    assert_eq!(get(&c.app, &own, &analyst).await.0, StatusCode::OK);
    assert_eq!(get(&c.app, &own, &ent).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&c.app, "/api/v1/results/2025", &ent).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, file) = get(&c.app, &format!("/api/v1/enterprises/{}", c.a.0), &ent).await;
    assert!(
        file["classes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["year"] != 2025),
        "no draft class in its history"
    );
    // Published 2024 stays visible.
    let (s, _) = get(
        &c.app,
        &format!("/api/v1/enterprises/{}/results/2024", c.a.0),
        &ent,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}
