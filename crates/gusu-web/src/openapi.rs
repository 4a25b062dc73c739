//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Written by hand next
//! to the routes it describes; a test checks that every route is in it.

use serde_json::{Value, json};

/// Every route: (method, path as OpenAPI writes it, summary, signed in?).
pub const ROUTES: &[(&str, &str, &str, bool)] = &[
    (
        "post",
        "/api/v1/session",
        "Sign in: sets the session cookie, returns the CSRF token",
        false,
    ),
    (
        "delete",
        "/api/v1/session",
        "Sign out (needs X-CSRF-Token)",
        true,
    ),
    (
        "get",
        "/api/v1/me",
        "The signed-in viewer: user, role and scope",
        true,
    ),
    (
        "get",
        "/api/v1/results/{year}",
        "The year's published city results the viewer may see",
        true,
    ),
    (
        "get",
        "/api/v1/overview/{year}",
        "Class counts by group, district and division, totals and per-mu figures against the year before, the lowest-class list and the measures' totals, for the city or one district (?district=)",
        true,
    ),
    (
        "get",
        "/api/v1/enterprises/{uscc}",
        "One enterprise's register entry, yearly values with the department, file and row of each, and its class by year",
        true,
    ),
    (
        "get",
        "/api/v1/enterprises/{uscc}/results/{year}",
        "One enterprise's result with every indicator",
        true,
    ),
    (
        "get",
        "/api/v1/audit",
        "The audit log, newest first: ?actor, ?action, ?offset, ?limit (audit administrator only)",
        true,
    ),
    (
        "get",
        "/api/v1/imports",
        "Past imports with lineage, and the viewer's uploads waiting for commit (staff)",
        true,
    ),
    (
        "post",
        "/api/v1/imports",
        "Upload a file (multipart: file, kind, source, year): checked, staged, its report returned",
        true,
    ),
    (
        "get",
        "/api/v1/imports/{id}",
        "The validation report of one's staged upload",
        true,
    ),
    (
        "delete",
        "/api/v1/imports/{id}",
        "Cancel one's staged upload (nothing is stored)",
        true,
    ),
    (
        "post",
        "/api/v1/imports/{id}/commit",
        "Import a staged upload's accepted rows in one transaction, with lineage; audited",
        true,
    ),
    (
        "get",
        "/api/v1/accounts",
        "Accounts, without secrets (system and security administrators)",
        true,
    ),
    (
        "post",
        "/api/v1/accounts",
        "Create an account: username, role, district or uscc, password (system administrator)",
        true,
    ),
    (
        "post",
        "/api/v1/accounts/{username}/disable",
        "Disable an account and end its sessions (security administrator, not oneself)",
        true,
    ),
    (
        "post",
        "/api/v1/accounts/{username}/enable",
        "Enable an account (security administrator, not oneself)",
        true,
    ),
    (
        "post",
        "/api/v1/accounts/{username}/password",
        "Reset an account's password (system administrator); its sessions end",
        true,
    ),
    (
        "post",
        "/api/v1/password",
        "Change one's password with the current one (needed when it has expired); no session",
        false,
    ),
    (
        "get",
        "/api/v1/energy/{year}",
        "Energy and carbon of the city, a district or a division (?district=, ?division=; a district officer's own district): totals on both bases and by scope, intensity by year against the target, top emitters, carbon-efficiency grades (staff)",
        true,
    ),
    (
        "get",
        "/api/v1/enterprises/{uscc}/energy",
        "One enterprise's energy and carbon by year: account by scope, carbon-efficiency grade, each energy line with its lineage, the factor rows used, and metered monthly totals",
        true,
    ),
    (
        "get",
        "/api/v1/schemes",
        "Every evaluation scheme: indicators, weights, benchmarks, classes, measures and sources (?lang=en)",
        true,
    ),
    (
        "get",
        "/api/v1/cycles",
        "Evaluation cycles the viewer may see",
        true,
    ),
    (
        "post",
        "/api/v1/cycles",
        "Start an evaluation cycle (staff of its region): {year, scheme?, region?, notice_days?}",
        true,
    ),
    (
        "get",
        "/api/v1/cycles/{id}",
        "A cycle: stage, versions, confirmation progress, objections (the viewer's scope)",
        true,
    ),
    (
        "post",
        "/api/v1/cycles/{id}/advance",
        "Move a cycle one stage on (publishing: the city administrator or the district's officer)",
        true,
    ),
    (
        "post",
        "/api/v1/cycles/{id}/confirmations",
        "An enterprise confirms or flags its figures: {status: confirmed|flagged, message?}",
        true,
    ),
    (
        "post",
        "/api/v1/cycles/{id}/objections",
        "An enterprise files an objection during the notice: {reasons, corrections?, attachments?}",
        true,
    ),
    (
        "post",
        "/api/v1/cycles/{id}/corrections",
        "Staff correct an enterprise's figures with a reason: a new version",
        true,
    ),
    (
        "get",
        "/api/v1/cycles/{id}/migration",
        "Class migration matrix against last year (?against=last_year) or a scheme (?against=scheme&scheme=NAME)",
        true,
    ),
    (
        "get",
        "/api/v1/cycles/{id}/versions/{version}",
        "One version of a cycle with its results in the viewer's scope (every version stays readable)",
        true,
    ),
    (
        "get",
        "/api/v1/objections/{id}",
        "One objection (its enterprise's, or staff of its scope)",
        true,
    ),
    (
        "post",
        "/api/v1/objections/{id}/decision",
        "Decide an objection in review: {decision: accept|reject, reason}",
        true,
    ),
    (
        "get",
        "/api/v1/notices",
        "Result notices: an enterprise's own, staff those in their scope",
        true,
    ),
    ("get", "/api/v1/notices/{id}", "One result notice", true),
    (
        "post",
        "/api/v1/notices/{id}/read",
        "An enterprise acknowledges its result notice",
        true,
    ),
    ("get", "/api/v1/openapi.json", "This document", false),
    (
        "get",
        "/api/v1/nzc/criteria",
        "The near-zero-carbon criteria documents applications are assessed under",
        true,
    ),
    (
        "get",
        "/api/v1/nzc/applications",
        "Near-zero-carbon applications the viewer may see: its own (enterprise), its district's (officer), all (city staff)",
        true,
    ),
    (
        "post",
        "/api/v1/nzc/applications",
        "Open an application: {uscc, criteria, year, evidence?} (the enterprise itself or staff in scope)",
        true,
    ),
    (
        "get",
        "/api/v1/nzc/applications/{id}",
        "An application with its evidence assessed criterion by criterion, the offset ratio, its history and the viewer's possible actions",
        true,
    ),
    (
        "put",
        "/api/v1/nzc/applications/{id}/evidence",
        "Replace the evidence of a draft or returned application",
        true,
    ),
    (
        "post",
        "/api/v1/nzc/applications/{id}/actions",
        "A step of the route: {action: submit|recommend|approve|return|reject, reason}",
        true,
    ),
];

pub fn document() -> Value {
    let error = json!({
        "description": "Error",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    });
    let mut paths = serde_json::Map::new();
    for (method, path, summary, signed_in) in ROUTES {
        let mut op = json!({
            "summary": summary,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": {} } },
                "400": error.clone(),
                "401": error.clone(),
                "403": error.clone(),
                "404": error.clone()
            }
        });
        if *signed_in {
            op["security"] = json!([{ "session": [] }, { "token": [] }]);
        }
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": if name == "year" || name == "id" || name == "version" { "integer" } else { "string" } } }))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "gusu API", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": crate::session::COOKIE },
                "token": { "type": "http", "scheme": "bearer" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": { "code": { "type": "string" }, "message": { "type": "string" } }
                    } }
                }
            }
        }
    })
}
