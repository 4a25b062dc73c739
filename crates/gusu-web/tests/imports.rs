//! Imports from the browser and the API: upload, the validation report, commit or cancel; the
//! district officer's limits, the roles, and bad input that changes nothing.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use common::{City, PASSWORD, city};
use gusu_core::Uscc;
use gusu_store::Store;
use gusu_web::{AppState, WebConfig, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Signs in through the API; returns the cookie header and the CSRF token.
async fn sign_in(app: &Router, user: &str) -> (String, String) {
    let r = send(
        app,
        Method::POST,
        "/api/v1/session",
        "",
        &[("content-type", "application/json")],
        format!(r#"{{"username":"{user}","password":"{PASSWORD}"}}"#).into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (cookie, r.json()["csrf"].as_str().unwrap().to_string())
}

const BOUNDARY: &str = "gusu-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body: (name, file name, content) per field.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in fields {
        body.extend(format!("--{BOUNDARY}\r\n").bytes());
        match file_name {
            Some(f) => body.extend(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .bytes(),
            ),
            None => body
                .extend(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").bytes()),
        }
        body.extend_from_slice(content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    body
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Uploads through the API (with the CSRF header).
async fn api_upload(
    app: &Router,
    (cookie, csrf): &(String, String),
    kind: &str,
    source: &str,
    file_name: &str,
    content: &[u8],
) -> Reply {
    send(
        app,
        Method::POST,
        "/api/v1/imports",
        cookie,
        &[("content-type", &multipart_type()), ("x-csrf-token", csrf)],
        multipart(&[
            ("kind", None, kind.as_bytes()),
            ("source", None, source.as_bytes()),
            ("file", Some(file_name), content),
        ]),
    )
    .await
}

/// Uploads through the page form (CSRF in the form).
async fn page_upload(
    app: &Router,
    (cookie, csrf): &(String, String),
    kind: &str,
    file_name: &str,
    content: &[u8],
) -> Reply {
    send(
        app,
        Method::POST,
        "/imports",
        cookie,
        &[("content-type", &multipart_type())],
        multipart(&[
            ("csrf", None, csrf.as_bytes()),
            ("kind", None, kind.as_bytes()),
            ("source", None, b"tax"),
            ("year", None, b""),
            ("file", Some(file_name), content),
        ]),
    )
    .await
}

/// A code that is valid but registered nowhere in the test city.
fn unknown_code() -> Uscc {
    Uscc::with_check_character("91320500MA1TE4T99").unwrap()
}

/// A yearly tax file: row 2 good (enterprise a), row 3 a bad number (enterprise b), row 4 an
/// enterprise nobody registered.
fn annual_with_errors(c: &City) -> Vec<u8> {
    format!(
        "uscc,year,tax_paid_10k_yuan\n{},2024,123.5\n{},2024,abc\n{},2024,7\n",
        c.a.0,
        c.b.0,
        unknown_code()
    )
    .into_bytes()
}

/// What the store holds, for before/after comparisons: batches with lineage, the register,
/// the 2024 records, and a's 2024 values with where each came from.
fn snapshot(c: &City) -> String {
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        store.batches().unwrap(),
        store.enterprises().unwrap(),
        store.yearly_records(2024).unwrap(),
        store.lineage(&c.a.0, 2024).unwrap()
    )
}

fn audit_actions(c: &City) -> Vec<(String, String, Option<String>)> {
    Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .audit_log(10_000)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.target))
        .collect()
}

#[tokio::test]
async fn a_file_with_errors_shows_its_report_and_cancel_changes_nothing() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let before = snapshot(&c);
    let audit_before = audit_actions(&c).len();

    let r = page_upload(
        &c.app,
        &analyst,
        "annual",
        "tax-2024.csv",
        &annual_with_errors(&c),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let report_url = r.location().to_string();
    assert!(report_url.starts_with("/imports/"), "{report_url}");
    let id = report_url.trim_start_matches("/imports/").to_string();

    // The report page, in Chinese by default: counts and each finding's row, column and cell.
    let page = send(&c.app, Method::GET, &report_url, &analyst.0, &[], vec![]).await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "id=\"import-findings\"",
        "id=\"import-commit\"",
        "id=\"import-cancel\"",
        "<td id=\"import-accepted\">1</td>",
        "<td id=\"import-rejected\">2</td>",
        "<td>3</td><td>tax_paid_10k_yuan</td><td>abc</td>",
        &format!("<td>4</td><td>uscc</td><td>{}</td>", unknown_code()),
        "企业名录中没有该统一社会信用代码的企业",
    ] {
        assert!(page.body.contains(needle), "{needle} in\n{}", page.body);
    }
    // The same report in English, and through the API.
    let en = send(
        &c.app,
        Method::GET,
        &format!("{report_url}?lang=en"),
        &analyst.0,
        &[],
        vec![],
    )
    .await;
    assert!(
        en.body
            .contains("no enterprise with this code is in the enterprises file")
    );
    let api = send(
        &c.app,
        Method::GET,
        &format!("/api/v1/imports/{id}"),
        &analyst.0,
        &[],
        vec![],
    )
    .await
    .json();
    assert_eq!(
        (api["accepted"].as_u64(), api["rejected"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(api["rows"], 3);
    let rows: Vec<(u64, &str, &str)> = api["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["row"].as_u64().unwrap(),
                f["column"].as_str().unwrap(),
                f["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (3, "tax_paid_10k_yuan", "unparseable_number"),
            (4, "uscc", "unknown_enterprise")
        ]
    );
    // Listed as waiting on the imports page.
    let list = send(&c.app, Method::GET, "/imports", &analyst.0, &[], vec![]).await;
    assert!(list.body.contains(&format!("data-staged=\"{id}\"")));

    // Nothing is stored before the commit; cancelling leaves the store as it was.
    assert_eq!(snapshot(&c), before);
    let cancel = send(
        &c.app,
        Method::POST,
        &format!("/imports/{id}/cancel"),
        &analyst.0,
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("csrf={}", analyst.1).into_bytes(),
    )
    .await;
    assert_eq!(cancel.status, StatusCode::SEE_OTHER);
    assert_eq!(cancel.location(), "/imports");
    assert_eq!(snapshot(&c), before);
    assert_eq!(audit_actions(&c).len(), audit_before, "nothing to audit");
    let gone = send(&c.app, Method::GET, &report_url, &analyst.0, &[], vec![]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let commit = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(
        commit.status,
        StatusCode::NOT_FOUND,
        "a cancelled upload cannot be committed"
    );
}

#[tokio::test]
async fn commit_imports_the_good_rows_with_lineage_and_an_audit_entry() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let r = api_upload(
        &c.app,
        &analyst,
        "annual",
        "tax",
        "tax-2024.csv",
        &annual_with_errors(&c),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json();
    let id = report["id"].as_str().unwrap().to_string();
    assert_eq!(report["already_imported"], false);
    let batches_before = Store::open(&c.dir.path().join("g.db"))
        .unwrap()
        .batches()
        .unwrap()
        .len();

    let r = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = r.json();
    // One row imported (a's tax), two left out; the demo city had no tax source: a new value.
    assert_eq!(
        (done["rows"].as_u64(), done["rejected"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(done["inserted"], 1);
    let batch_id = done["batch_id"].as_i64().unwrap();

    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let batches = store.batches().unwrap();
    assert_eq!(batches.len(), batches_before + 1);
    let batch = batches.last().unwrap();
    assert_eq!(batch.id, batch_id);
    assert_eq!(
        (
            batch.kind.as_str(),
            batch.source.as_str(),
            batch.file_name.as_str(),
            batch.uploaded_by.as_deref(),
            batch.rejected,
            batch.rows
        ),
        ("annual", "tax", "tax-2024.csv", Some("analyst"), Some(2), 1)
    );
    let tax: Vec<_> = store
        .lineage(&c.a.0, 2024)
        .unwrap()
        .into_iter()
        .filter(|l| l.source == "tax")
        .collect();
    assert_eq!(tax.len(), 1);
    assert_eq!(
        (
            tax[0].field.as_str(),
            tax[0].value,
            tax[0].batch_id,
            tax[0].row
        ),
        ("tax_paid_10k_yuan", 123.5, batch_id, 2)
    );
    assert!(
        store
            .lineage(&c.b.0, 2024)
            .unwrap()
            .iter()
            .all(|l| l.source != "tax"),
        "the rejected row was not imported"
    );
    let entry = &store.audit_log(1).unwrap()[0];
    assert_eq!(
        (
            entry.actor.as_str(),
            entry.action.as_str(),
            entry.target.clone()
        ),
        ("analyst", "import", Some(format!("batch {batch_id}")))
    );
    assert!(entry.detail.as_deref().unwrap().contains("tax-2024.csv"));

    // The past imports, page and API, show the lineage.
    let page = send(
        &c.app,
        Method::GET,
        "/imports?lang=en",
        &analyst.0,
        &[],
        vec![],
    )
    .await;
    assert!(page.body.contains(&format!("data-batch=\"{batch_id}\"><td>{batch_id}</td><td>tax-2024.csv</td><td>yearly figures</td><td>tax bureau</td><td>analyst</td>")), "{}", page.body);
    let list = send(
        &c.app,
        Method::GET,
        "/api/v1/imports",
        &analyst.0,
        &[],
        vec![],
    )
    .await
    .json();
    assert_eq!(list["batches"][0]["id"], batch_id, "newest first");
    assert_eq!(list["batches"][0]["uploaded_by"], "analyst");
    assert_eq!(list["staged"].as_array().unwrap().len(), 0);

    // Committed once: the id is gone. The same file again is recognised and changes nothing.
    let again = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let r = api_upload(
        &c.app,
        &analyst,
        "annual",
        "tax",
        "tax-2024.csv",
        &annual_with_errors(&c),
    )
    .await;
    assert_eq!(r.json()["already_imported"], true);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let before = snapshot(&c);
    let page = send(
        &c.app,
        Method::POST,
        &format!("/imports/{id}/commit"),
        &analyst.0,
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("csrf={}", analyst.1).into_bytes(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"import-already\""), "{}", page.body);
    assert_eq!(snapshot(&c), before);
}

#[tokio::test]
async fn a_district_officers_rows_for_other_districts_are_rejected_row_by_row() {
    let c = city();
    let officer = sign_in(&c.app, "officer_a").await;
    // Yearly: row 2 its own district's enterprise, row 3 another district's.
    let annual = format!(
        "uscc,year,tax_paid_10k_yuan\n{},2024,10\n{},2024,20\n",
        c.a.0, c.b.0
    );
    let r = api_upload(
        &c.app,
        &officer,
        "annual",
        "tax",
        "mine.csv",
        annual.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json();
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    let f = &report["findings"][0];
    assert_eq!(
        (
            f["row"].as_u64(),
            f["column"].as_str(),
            f["value"].as_str(),
            f["code"].as_str()
        ),
        (
            Some(3),
            Some("uscc"),
            Some(c.b.0.as_str()),
            Some("outside_district")
        )
    );
    assert!(f["reason"].as_str().unwrap().contains(&c.b.1), "{f}");

    // Enterprises: a new enterprise written in another district, and an existing one of another
    // district moved into the officer's, are both refused; its own enterprise is accepted.
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let own = store.enterprise(&c.a.0).unwrap().unwrap();
    let line =
        |code: &str, district: &str| format!("{code},名称,{district},C3484,10,是,2015-06-01,");
    let enterprises = [
        "uscc,name,district,industry_code,land_area_mu,above_scale,established,exempt".to_string(),
        line(own.uscc.as_str(), &own.district),
        line(unknown_code().as_str(), &c.b.1),
        line(c.b.0.as_str(), &c.a.1),
    ]
    .join("\n");
    let r = api_upload(
        &c.app,
        &officer,
        "enterprises",
        "bureau",
        "e.csv",
        enterprises.as_bytes(),
    )
    .await;
    let report = r.json();
    let found: Vec<(u64, &str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["row"].as_u64().unwrap(),
                f["column"].as_str().unwrap(),
                f["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (3, "district", "outside_district"),
            (4, "uscc", "outside_district")
        ]
    );
    let id = report["id"].as_str().unwrap();
    let done = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &officer.0,
        &[("x-csrf-token", &officer.1)],
        vec![],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["rows"], 1);
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    assert_eq!(
        store.enterprise(&c.b.0).unwrap().unwrap().district,
        c.b.1,
        "not moved"
    );
    assert!(store.enterprise(&unknown_code()).unwrap().is_none());
    assert_eq!(store.enterprise(&c.a.0).unwrap().unwrap().name, "名称");
    // Its past imports are its own: the test city's setup batches are not listed.
    let list = send(
        &c.app,
        Method::GET,
        "/api/v1/imports",
        &officer.0,
        &[],
        vec![],
    )
    .await
    .json();
    let by: Vec<&str> = list["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["uploaded_by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["officer_a"], "the committed enterprises file only");
}

#[tokio::test]
async fn import_routes_are_for_staff_only_and_staged_uploads_for_their_uploader() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let r = api_upload(
        &c.app,
        &analyst,
        "annual",
        "tax",
        "t.csv",
        &annual_with_errors(&c),
    )
    .await;
    let id = r.json()["id"].as_str().unwrap().to_string();

    for user in ["ent_a", "sysadmin", "auditor"] {
        let s = sign_in(&c.app, user).await;
        let csrf = [("x-csrf-token", s.1.as_str())];
        for (method, uri) in [
            (Method::GET, "/imports".to_string()),
            (Method::GET, format!("/imports/{id}")),
            (Method::GET, "/api/v1/imports".to_string()),
            (Method::GET, format!("/api/v1/imports/{id}")),
            (Method::POST, format!("/api/v1/imports/{id}/commit")),
            (Method::DELETE, format!("/api/v1/imports/{id}")),
        ] {
            let r = send(&c.app, method.clone(), &uri, &s.0, &csrf, vec![]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} {method} {uri}");
        }
        let r = api_upload(
            &c.app,
            &s,
            "annual",
            "tax",
            "t.csv",
            &annual_with_errors(&c),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} uploads");
        let r = page_upload(&c.app, &s, "annual", "t.csv", &annual_with_errors(&c)).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{user} uploads through the page"
        );
    }

    // Another staff member: the upload does not exist for it.
    let officer = sign_in(&c.app, "officer_a").await;
    for (method, uri) in [
        (Method::GET, format!("/imports/{id}")),
        (Method::GET, format!("/api/v1/imports/{id}")),
        (Method::POST, format!("/api/v1/imports/{id}/commit")),
        (Method::DELETE, format!("/api/v1/imports/{id}")),
    ] {
        let r = send(
            &c.app,
            method.clone(),
            &uri,
            &officer.0,
            &[("x-csrf-token", &officer.1)],
            vec![],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {uri}");
    }
    for action in ["commit", "cancel"] {
        let r = send(
            &c.app,
            Method::POST,
            &format!("/imports/{id}/{action}"),
            &officer.0,
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("csrf={}", officer.1).into_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    let list = send(
        &c.app,
        Method::GET,
        "/api/v1/imports",
        &officer.0,
        &[],
        vec![],
    )
    .await
    .json();
    assert!(list["staged"].as_array().unwrap().is_empty());
    // Still there for its uploader; the API cancel removes it.
    let r = send(
        &c.app,
        Method::DELETE,
        &format!("/api/v1/imports/{id}"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(
        &c.app,
        Method::GET,
        &format!("/api/v1/imports/{id}"),
        &analyst.0,
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_uploads_get_a_clear_error_and_change_nothing() {
    let c = city();
    // The same store with a small upload limit.
    let mut config = WebConfig::new(c.dir.path().join("g.db"));
    config.max_upload_bytes = 4096;
    let app = router(AppState::open(config).unwrap());
    let analyst = sign_in(&app, "analyst").await;
    let before = snapshot(&c);
    let good = annual_with_errors(&c);

    let mut huge = b"uscc,year,tax_paid_10k_yuan\n".to_vec();
    while huge.len() <= 5000 {
        huge.extend(format!("{},2024,1\n", c.a.0).bytes());
    }
    let r = api_upload(&app, &analyst, "annual", "tax", "big.csv", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "upload_too_large");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit")
    );
    // Far over the limit too (the body limit, not only the file's size).
    let r = api_upload(
        &app,
        &analyst,
        "annual",
        "tax",
        "big.csv",
        &vec![b'a'; 200_000],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let page = page_upload(&app, &analyst, "annual", "big.csv", &huge).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.body.contains("id=\"import-error\"") && page.body.contains("上限"),
        "{}",
        page.body
    );

    let zip_garbage = b"PK\x03\x04 not really a workbook".to_vec();
    for (name, content, status, code) in [
        (
            "report.pdf",
            b"%PDF-1.7".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            "t.csv",
            zip_garbage.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            "t.xlsx",
            good.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            "t.xlsx",
            zip_garbage.clone(),
            StatusCode::BAD_REQUEST,
            "invalid_file",
        ),
        (
            "t.csv",
            b"no,header,here\n1,2,3\n".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_file",
        ),
        ("t.csv", Vec::new(), StatusCode::BAD_REQUEST, "empty_file"),
    ] {
        let r = api_upload(&app, &analyst, "annual", "tax", name, &content).await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        let error = &r.json()["error"];
        assert_eq!(error["code"], code, "{name}");
        assert!(error["message"].as_str().unwrap().contains(name), "{error}");
    }
    let r = api_upload(&app, &analyst, "payroll", "tax", "t.csv", &good).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_kind"))
    );
    let r = api_upload(&app, &analyst, "annual", "", "t.csv", &good).await;
    assert_eq!(r.json()["error"]["code"], "invalid_source");
    // Unknown fields are named; a body that is not multipart is refused.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/imports",
        &analyst.0,
        &[
            ("content-type", &multipart_type()),
            ("x-csrf-token", &analyst.1),
        ],
        multipart(&[
            ("kind", None, b"annual"),
            ("source", None, b"tax"),
            ("admin", None, b"1"),
            ("file", Some("t.csv"), &good),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'admin'")
    );
    let r = send(
        &app,
        Method::POST,
        "/api/v1/imports",
        &analyst.0,
        &[
            ("content-type", "application/json"),
            ("x-csrf-token", &analyst.1),
        ],
        b"{\"kind\":".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.json()["error"]["code"], "invalid_upload");

    // Without the CSRF token (header for the API, form field for the page): refused.
    let r = send(
        &app,
        Method::POST,
        "/api/v1/imports",
        &analyst.0,
        &[("content-type", &multipart_type())],
        multipart(&[
            ("kind", None, b"annual"),
            ("source", None, b"tax"),
            ("file", Some("t.csv"), &good),
        ]),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );
    let r = send(
        &app,
        Method::POST,
        "/imports",
        &analyst.0,
        &[("content-type", &multipart_type())],
        multipart(&[
            ("kind", None, b"annual"),
            ("source", None, b"tax"),
            ("file", Some("t.csv"), &good),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = page_upload(
        &app,
        &(analyst.0.clone(), "forged".into()),
        "annual",
        "t.csv",
        &good,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Nothing was staged and nothing stored.
    let list = send(
        &app,
        Method::GET,
        "/api/v1/imports",
        &analyst.0,
        &[],
        vec![],
    )
    .await
    .json();
    assert!(list["staged"].as_array().unwrap().is_empty(), "{list}");
    assert_eq!(snapshot(&c), before);
}

#[tokio::test]
async fn an_xlsx_upload_is_read_like_a_csv() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, text) in ["统一社会信用代码", "年份", "实缴税金(万元)"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *text).unwrap();
    }
    sheet.write_string(1, 0, c.a.0.as_str()).unwrap();
    sheet.write_number(1, 1, 2024.0).unwrap();
    sheet.write_number(1, 2, 88.0).unwrap();
    sheet.write_string(2, 0, c.a.0.as_str()).unwrap();
    sheet.write_number(2, 1, 2023.0).unwrap();
    sheet.write_number(2, 2, 77.0).unwrap();
    // The figures are on a second sheet, named on the form.
    let cover = book.add_worksheet();
    cover.set_name("说明").unwrap();
    cover.write_string(0, 0, "封面").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    // A year chosen on the form: the 2023 row is refused.
    let r = send(
        &c.app,
        Method::POST,
        "/api/v1/imports",
        &analyst.0,
        &[
            ("content-type", &multipart_type()),
            ("x-csrf-token", &analyst.1),
        ],
        multipart(&[
            ("kind", None, b"annual"),
            ("source", None, b"Tax"),
            ("year", None, b"2024"),
            ("sheet", None, "Sheet1".as_bytes()),
            ("file", Some("税务.xlsx"), &bytes),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json();
    assert_eq!(
        (report["source"].as_str(), report["year"].as_i64()),
        (Some("tax"), Some(2024))
    );
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(report["findings"][0]["code"], "other_year");
    assert_eq!(report["findings"][0]["row"], 3);
    // A sheet the workbook does not have is named in the error, with those it has.
    let r = send(
        &c.app,
        Method::POST,
        "/api/v1/imports",
        &analyst.0,
        &[
            ("content-type", &multipart_type()),
            ("x-csrf-token", &analyst.1),
        ],
        multipart(&[
            ("kind", None, b"annual"),
            ("source", None, b"tax"),
            ("sheet", None, "2024年".as_bytes()),
            ("file", Some("税务.xlsx"), &bytes),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("2024年") && message.contains("说明"),
        "{message}"
    );
}

/// An energy file from the imports page's API: the officer's row for its own enterprise is
/// accepted; another district's enterprise, an unknown enterprise and a unit that does not fit
/// its carrier are refused row by row; the committed lines show on the enterprise's energy page
/// with the file and row they came from.
#[tokio::test]
async fn an_energy_file_is_checked_row_by_row_and_its_lines_keep_their_lineage() {
    let c = city();
    let officer = sign_in(&c.app, "officer_a").await;
    let file = format!(
        "统一社会信用代码,年度,能源品种,消费量,单位\n{a},2025,natural_gas,3,10k_nm3\n{b},2025,electricity,1000,kwh\n{u},2025,electricity,5,kwh\n{a},2025,diesel,7,kwh\n",
        a = c.a.0,
        b = c.b.0,
        u = unknown_code()
    );
    let before = snapshot(&c);
    let r = api_upload(
        &c.app,
        &officer,
        "energy",
        "stats",
        "2025_能源.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json();
    assert_eq!(report["accepted"], 1, "{report}");
    let found: Vec<(u64, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["row"].as_u64().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert!(found.contains(&(3, "outside_district")), "{found:?}");
    assert!(found.contains(&(4, "unknown_enterprise")), "{found:?}");
    assert!(found.iter().any(|(row, _)| *row == 5), "{found:?}");
    assert_eq!(snapshot(&c), before, "staging writes nothing");

    let id = report["id"].as_str().unwrap();
    let done = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &officer.0,
        &[("x-csrf-token", &officer.1)],
        vec![],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["rows"], 1);
    assert_eq!(done.json()["kind"], "energy");
    let energy = send(
        &c.app,
        Method::GET,
        &format!("/api/v1/enterprises/{}/energy", c.a.0),
        &officer.0,
        &[],
        vec![],
    )
    .await
    .json();
    let lines = energy["years"]
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == 2025)
        .unwrap()["lines"]
        .to_string();
    assert!(
        lines.contains("2025_能源.csv") && lines.contains("natural_gas"),
        "{lines}"
    );
    let audited = audit_actions(&c);
    assert!(
        audited
            .iter()
            .any(|(actor, action, _)| actor == "officer_a" && action == "import"),
        "{audited:?}"
    );
}

#[tokio::test]
async fn a_report_lists_the_first_thousand_findings_and_counts_them_all() {
    let c = city();
    let app = &c.app;
    let session = sign_in(app, "analyst").await;
    // 1,500 rows, each with a number that does not parse: 1,500 errors.
    let mut file = String::from("uscc,year,tax_paid_10k_yuan\n");
    for _ in 0..1_500 {
        file.push_str(&format!("{},2024,abc\n", c.a.0));
    }
    let r = api_upload(app, &session, "annual", "tax", "big.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1_000);
    assert!(
        report["findings_total"].as_u64().unwrap() >= 1_500,
        "{report}"
    );
    assert_eq!(report["findings"][0]["severity"], "error");
}

/// A workbook with one sheet per district and an instructions sheet, uploaded without naming a
/// sheet: both district sheets are read and reported, the instructions are listed as not read,
/// and the commit imports each sheet as its own batch with the values a CSV of the same rows
/// gives. The same workbook again is known sheet by sheet.
#[tokio::test]
async fn a_workbook_with_a_sheet_per_district_imports_every_sheet_as_its_own_batch() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let notes = book.add_worksheet();
    notes.set_name("填报说明").unwrap();
    notes.write_string(0, 0, "请按区县分表填写").unwrap();
    for (name, rows) in [
        ("姑苏区", vec![(c.a.0.to_string(), 88.25)]),
        (
            "吴中区",
            vec![(c.b.0.to_string(), 99.5), (unknown_code().to_string(), 7.0)],
        ),
    ] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (col, text) in ["统一社会信用代码", "年份", "实缴税金(万元)"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, col as u16, *text).unwrap();
        }
        for (i, (code, tax)) in rows.iter().enumerate() {
            let r = i as u32 + 1;
            sheet.write_string(r, 0, code).unwrap();
            sheet.write_number(r, 1, 2024.0).unwrap();
            sheet.write_number(r, 2, *tax).unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();

    let r = api_upload(&c.app, &analyst, "annual", "tax", "税务分区.xlsx", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = r.json();
    let sheets: Vec<(&str, u64, u64)> = report["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["sheet"].as_str().unwrap(),
                s["accepted"].as_u64().unwrap(),
                s["rejected"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sheets, vec![("姑苏区", 1, 0), ("吴中区", 1, 1)]);
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["skipped_sheets"][0]["sheet"], "填报说明");
    assert_eq!(report["skipped_sheets"][0]["reason"], "no_header");
    // The unknown enterprise's finding names its sheet and row.
    let finding = &report["findings"][0];
    assert_eq!(
        (finding["sheet"].as_str(), finding["row"].as_u64()),
        (Some("吴中区"), Some(3)),
        "{finding}"
    );
    let id = report["id"].as_str().unwrap().to_string();
    // The report page lists the sheets and the one not read.
    let page = send(
        &c.app,
        Method::GET,
        &format!("/imports/{id}"),
        &analyst.0,
        &[],
        vec![],
    )
    .await;
    assert!(page.body.contains("id=\"import-sheets\""), "{}", page.body);
    assert!(page.body.contains("吴中区 · 3"), "{}", page.body);
    assert!(
        page.body.contains("填报说明: 没有此类文件的表头行"),
        "{}",
        page.body
    );

    let r = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = r.json();
    assert_eq!(
        (done["rows"].as_u64(), done["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    let committed = done["sheets"].as_array().unwrap();
    assert_eq!(committed.len(), 2);
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let batches = store.batches().unwrap();
    for (s, (sheet, rejected)) in committed.iter().zip([("姑苏区", 0), ("吴中区", 1)]) {
        let batch = batches
            .iter()
            .find(|b| Some(b.id) == s["batch_id"].as_i64())
            .unwrap();
        assert_eq!(
            (
                batch.sheet.as_deref(),
                batch.rows,
                batch.rejected,
                batch.file_name.as_str()
            ),
            (Some(sheet), 1, Some(rejected), "税务分区.xlsx")
        );
    }
    // Exactly the values of the same rows in the template layout.
    for ((code, _), tax) in [(&c.a, 88.25), (&c.b, 99.5)] {
        let stored: Vec<(String, f64)> = store
            .lineage(code, 2024)
            .unwrap()
            .into_iter()
            .filter(|l| l.source == "tax")
            .map(|l| (l.field, l.value))
            .collect();
        assert_eq!(stored, vec![("tax_paid_10k_yuan".to_string(), tax)]);
    }

    // The same workbook again: every sheet was imported before, and a commit changes nothing.
    let r = api_upload(&c.app, &analyst, "annual", "tax", "税务分区.xlsx", &bytes).await;
    let report = r.json();
    assert_eq!(report["already_imported"], true);
    assert!(
        report["sheets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["already_imported"] == true)
    );
    let before = snapshot(&c);
    let id = report["id"].as_str().unwrap();
    let r = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(r.json()["already_imported"], true, "{}", r.body);
    assert_eq!(snapshot(&c), before);
}

/// The policy calculator's files through the imports page: a projects file whose row of an
/// unregistered enterprise is refused row by row, the good rows imported as a batch, and the
/// enterprises that newly qualify notified.
#[tokio::test]
async fn a_projects_file_is_imported_and_pushes_notices() {
    let c = city();
    let analyst = sign_in(&c.app, "analyst").await;
    let a = c.a.0.to_string();
    let stranger = Uscc::with_check_character("91320583MA0000099")
        .unwrap()
        .to_string();
    // Chinese headers; 1000万 smart-transformation loan in 2022: the city's 1% = 10.
    let file = format!(
        "项目编号,统一社会信用代码,项目类型,贷款日期,贷款金额(万元)\nst-1,{a},智能化改造,2022-06-01,1000\nst-2,{stranger},技术改造,2022-06-01,500\n"
    );
    let r = api_upload(
        &c.app,
        &analyst,
        "projects",
        "bureau",
        "项目.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let report = r.json();
    assert_eq!(report["accepted"], 1, "{report}");
    assert!(r.body.contains("unknown_enterprise"), "{}", r.body);
    let commit = send(
        &c.app,
        Method::POST,
        &format!("/api/v1/imports/{id}/commit"),
        &analyst.0,
        &[("x-csrf-token", &analyst.1)],
        vec![],
    )
    .await;
    assert_eq!(commit.status, StatusCode::OK, "{}", commit.body);
    assert_eq!(commit.json()["inserted"], 1);
    let store = Store::open(&c.dir.path().join("g.db")).unwrap();
    let projects = store.projects_of(&c.a.0).unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].loan_10k_yuan, Some(1000.0));
    // The calculator now decides a's loan from the store; a qualifies for the city's award.
    let notices = store.policy_notices_of(&c.a.0).unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.policy_id == "suzhou-zgsz-loan-interest"
                && n.project_id.as_deref() == Some("st-1")),
        "{notices:?}"
    );
}
