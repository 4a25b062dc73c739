//! The energy and carbon dashboard and the enterprise's energy page, by API and as pages: what
//! each role sees, the figures (hand-computed from the test city's lines), lineage and factors,
//! and the target that is not invented.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, city};
use gusu_web::{AppState, WebConfig, router};
use serde_json::Value;
use tower::ServiceExt;

async fn get(app: &Router, uri: &str, cookie: &str) -> (StatusCode, String, Option<String>) {
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::GET)
                .uri(uri)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        location,
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

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[tokio::test]
async fn the_dashboard_adds_up_the_city_and_keeps_officers_to_their_district() {
    let c = city();
    let (a, b) = (c.a.0.to_string(), c.b.0.to_string());
    let analyst = sign_in(&c.app, "analyst").await;
    let (s, body, _) = get(&c.app, "/api/v1/energy/2024", &analyst).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let d = json(&body);
    let grid = d["grid_factor"]["value"].as_f64().unwrap();
    // By hand: a burns 100 t of raw coal (20.908 GJ/t × 26.37 tC/TJ ÷ 1000 × 0.94 × 44/12 =
    // 1.9002988 tCO₂/t → 190.02988 t) and buys 500 MWh; b buys 200 MWh and 2 × 10⁴ Nm³ of gas
    // (389.31 × 15.3 ÷ 1000 × 0.99 × 44/12 = 21.62239 t per 10⁴ Nm³ → 43.24478 t).
    // Scope 1 = 190.02988 + 43.24478 = 233.27466; scope 2 = 700 MWh × grid.
    let totals = &d["summary"]["totals"];
    assert_eq!(totals["enterprises"], 2);
    let coal = 20.908 * 26.37 / 1000.0 * 0.94 * 44.0 / 12.0 * 100.0;
    let gas = 389.31 * 15.3 / 1000.0 * 0.99 * 44.0 / 12.0 * 2.0;
    assert!(
        close(totals["scope1_tco2"].as_f64().unwrap(), coal + gas),
        "{totals}"
    );
    assert!(close(totals["scope2_tco2"].as_f64().unwrap(), 700.0 * grid));
    assert!(close(
        totals["total_tco2"].as_f64().unwrap(),
        coal + gas + 700.0 * grid
    ));
    // Energy (当量值): 100 × 0.7143 + 2 × 13.3 + 700 × 0.1229 = 71.43 + 26.6 + 86.03 = 184.06 tce.
    assert!(
        close(totals["energy_tce"].as_f64().unwrap(), 184.06),
        "{totals}"
    );
    let top: Vec<&str> = d["summary"]["top_emitters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uscc"].as_str().unwrap())
        .collect();
    assert_eq!(top, [a.as_str(), b.as_str()], "a emits more");
    assert_eq!(d["target_set"], false, "no target is invented");
    assert_eq!(d["intensity"][0]["target"], Value::Null);

    // A district officer sees their own district only; another district does not exist.
    let officer = sign_in(&c.app, "officer_a").await;
    let (s, body, _) = get(&c.app, "/api/v1/energy/2024", &officer).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains(&a) && !body.contains(&b), "{body}");
    let (s, _, _) = get(
        &c.app,
        &format!("/api/v1/energy/2024?district={}", c.b.1),
        &officer,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An enterprise and the administrators are not staff.
    for user in ["ent_a", "auditor", "sysadmin"] {
        let cookie = sign_in(&c.app, user).await;
        let (s, _, _) = get(&c.app, "/api/v1/energy/2024", &cookie).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, _, _) = get(&c.app, "/energy", &cookie).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
    }
    // A year without energy data.
    let (s, _, _) = get(&c.app, "/api/v1/energy/1999", &analyst).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The page, in both languages, says there is no target.
    let (s, page, _) = get(&c.app, "/energy", &analyst).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("能耗与碳排放") && page.contains("未设定目标"),
        "{page}"
    );
    assert!(page.contains("<svg") && page.contains(&a));
    let (s, page, _) = get(&c.app, "/energy?lang=en&division=99", &analyst).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "an unknown division: {page}");
    let (_, page, _) = get(&c.app, "/energy?lang=en", &analyst).await;
    assert!(page.contains("No target set") && page.contains("Top emitters"));
}

#[tokio::test]
async fn an_enterprise_sees_its_own_energy_with_lineage_and_factors_and_nobody_elses() {
    let c = city();
    let (a, b) = (c.a.0.to_string(), c.b.0.to_string());
    let ent = sign_in(&c.app, "ent_a").await;
    let (s, body, _) = get(&c.app, &format!("/api/v1/enterprises/{a}/energy"), &ent).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let e = json(&body);
    let year = &e["years"][0];
    assert_eq!(year["year"], 2024);
    let lines = year["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0]["carrier"].as_str(),
            lines[0]["file_name"].as_str(),
            lines[0]["row"].as_u64(),
            lines[0]["source"].as_str()
        ),
        (
            Some("raw_coal"),
            Some("energy_2024.csv"),
            Some(2),
            Some("stats")
        )
    );
    let factors = year["factors"].as_array().unwrap();
    let coal = factors
        .iter()
        .find(|f| f["unit"] == "tCO2/t")
        .expect("the coal row is named");
    assert!((coal["value"].as_f64().unwrap() - 1.9002988).abs() < 1e-6);
    assert!(
        factors
            .iter()
            .all(|f| !f["source"].as_str().unwrap().is_empty())
    );
    assert_eq!(e["monthly"].as_array().unwrap().len(), 12);
    let account = &year["ledger"]["account"];
    assert!(close(
        account["scope1_tco2"].as_f64().unwrap(),
        20.908 * 26.37 / 1000.0 * 0.94 * 44.0 / 12.0 * 100.0
    ));

    // Another enterprise does not exist for it, by API or page.
    let (s, body, _) = get(&c.app, &format!("/api/v1/enterprises/{b}/energy"), &ent).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!body.contains(&b));
    let (s, _, _) = get(&c.app, &format!("/enterprises/{b}/energy"), &ent).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Its page: the monthly chart, the scopes, the lines with their file and the factors.
    let (s, page, _) = get(&c.app, &format!("/enterprises/{a}/energy"), &ent).await;
    assert_eq!(s, StatusCode::OK);
    for expected in [
        "计量月度用量",
        "<svg",
        "energy_2024.csv",
        "原煤",
        "所用因子",
        "范围一",
    ] {
        assert!(page.contains(expected), "{expected} missing");
    }
    let (_, page, _) = get(&c.app, &format!("/enterprises/{a}/energy?lang=en"), &ent).await;
    assert!(page.contains("Metered use by month") && page.contains("Factors used"));
    // /my/energy leads each to their own.
    let (s, _, to) = get(&c.app, "/my/energy", &ent).await;
    assert!(s.is_redirection());
    assert_eq!(
        to.as_deref(),
        Some(format!("/enterprises/{a}/energy").as_str())
    );
    let analyst = sign_in(&c.app, "analyst").await;
    let (_, _, to) = get(&c.app, "/my/energy", &analyst).await;
    assert_eq!(to.as_deref(), Some("/energy"));
    // Staff of the city see b; the officer of a's district does not.
    let (s, _, _) = get(&c.app, &format!("/enterprises/{b}/energy"), &analyst).await;
    assert_eq!(s, StatusCode::OK);
    let officer = sign_in(&c.app, "officer_a").await;
    let (s, _, _) = get(&c.app, &format!("/api/v1/enterprises/{b}/energy"), &officer).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// With the city's target configured, the year is judged against it; one year of data cannot
/// show a change, so the target cannot be judged yet — said, not guessed.
#[tokio::test]
async fn a_configured_target_is_shown_and_judged_only_when_it_can_be() {
    let c = city();
    let mut config = WebConfig::new(c.dir.path().join("g.db"));
    config.energy.base_year = Some(2020);
    config.energy.targets = vec![gusu_core::carbon::intensity::IntensityTarget {
        year: 2024,
        max_change_vs_previous: Some(-0.03),
        max_change_vs_base: None,
    }];
    let app = router(AppState::open(config).unwrap());
    let analyst = sign_in(&app, "analyst").await;
    let (s, body, _) = get(&app, "/api/v1/energy/2024", &analyst).await;
    assert_eq!(s, StatusCode::OK);
    let d = json(&body);
    assert_eq!(d["target_set"], true);
    let point = &d["intensity"][0];
    assert_eq!(point["target"]["max_change_vs_previous"], -0.03);
    assert_eq!(point["target_met"], Value::Null, "no 2023 to compare with");
    let (_, page, _) = get(&app, "/energy", &analyst).await;
    assert!(
        page.contains("无法判断") && !page.contains("未设定目标"),
        "{page}"
    );
}
