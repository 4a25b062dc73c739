//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`, generated from the
//! handlers' own annotations and the wire types they read and answer (`crate::wire`). Each
//! module of handlers lists its operations in its own `Api` (next to the handlers); this module
//! merges them and adds what holds for every operation alike:
//!
//! - signed-in operations take the session cookie or a bearer token, and answer 401 without;
//! - unsafe methods with a session cookie need `X-CSRF-Token` (403 without);
//! - a path or query parameter, or a body, that does not parse answers 400; a path naming
//!   something the viewer may not see answers 404, as if it did not exist;
//! - every error is the one [`wire::ErrorBody`](crate::wire::ErrorBody).
//!
//! A test holds the router to the document: every `/api/v1` route served is documented, and
//! every documented operation is served.

use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::wire;

/// The operations anyone may call without signing in: (method, path).
pub const PUBLIC: &[(&str, &str)] = &[
    ("post", "/api/v1/session"),
    ("post", "/api/v1/password"),
    ("get", "/api/v1/openapi.json"),
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gusu API",
        description = "The JSON API of gusu (姑苏): per-mu evaluation results, evaluation cycles, department file imports, energy and carbon, near-zero-carbon applications, the policy calculator, accounts and the audit log. Every answer is limited to what the signed-in viewer's role and scope allow; data outside it answers 404 as if it did not exist.",
        license(name = "Apache-2.0 OR MIT"),
    ),
    paths(
        crate::sign_in,
        crate::sign_out,
        crate::password,
        crate::me,
        crate::results,
        crate::overview,
        crate::enterprise_result,
        crate::enterprise_file,
        crate::audit_log,
        crate::pages::schemes_api,
        openapi_json,
    ),
    components(schemas(wire::ErrorBody)),
    tags(
        (name = "session", description = "Signing in and out, passwords, who one is"),
        (name = "results", description = "Per-mu evaluation results"),
        (name = "cycles", description = "Evaluation cycles: confirmation, notice, objections, corrections, publication"),
        (name = "imports", description = "Department files: upload, validation report, commit"),
        (name = "accounts", description = "Accounts and the audit log (the separated administrators)"),
        (name = "energy", description = "Energy and carbon accounts"),
        (name = "nzc", description = "Near-zero-carbon factory applications"),
        (name = "policies", description = "The policy calculator: the library, an enterprise's policies, what-if situations and traces"),
    )
)]
struct Root;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "session",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi_json() -> axum::Json<&'static Value> {
    axum::Json(document())
}

/// The document, built once: it is the same for every request.
pub fn document() -> &'static Value {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn build() -> Value {
    let mut api = Root::openapi();
    for part in [
        crate::cycle::Api::openapi(),
        crate::imports::Api::openapi(),
        crate::admin::Api::openapi(),
        crate::energy::Api::openapi(),
        crate::nzc::Api::openapi(),
        crate::policy::Api::openapi(),
        crate::policy_workflow::Api::openapi(),
        crate::policy_applications::Api::openapi(),
    ] {
        api.merge(part);
    }
    let mut doc = serde_json::to_value(&api).unwrap_or_else(|_| json!({}));
    doc["openapi"] = json!("3.1.0");
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    doc["components"]["securitySchemes"] = json!({
        "session": { "type": "apiKey", "in": "cookie", "name": crate::session::COOKIE },
        "token": { "type": "http", "scheme": "bearer" }
    });
    let error = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
        })
    };
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let public = PUBLIC.contains(&(method.as_str(), path.as_str()));
                op["operationId"] = json!(operation_id(method, path));
                let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
                let has_path_params = path.contains('{');
                let has_body = op.get("requestBody").is_some();
                let responses = op["responses"].as_object_mut();
                let Some(responses) = responses else { continue };
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description));
                };
                if !public {
                    add("401", "Not signed in, or the session or token has ended");
                    add("403", "The viewer's role may not do this");
                }
                if method != "get" && !public {
                    // Only with a session cookie: a bearer token needs no CSRF token.
                    add("403", "Missing or wrong X-CSRF-Token");
                }
                if has_params || has_body {
                    add(
                        "400",
                        "A parameter or the body does not parse or is not allowed",
                    );
                }
                if has_path_params {
                    add("404", "Not found in the viewer's scope");
                }
                if !public {
                    op["security"] = json!([{ "session": [] }, { "token": [] }]);
                }
            }
        }
    }
    doc
}

/// A unique operation id from the method and path: `get_cycles_id_versions_version`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for part in path.trim_start_matches("/api/v1/").split('/') {
        let part = part.trim_start_matches('{').trim_end_matches('}');
        id.push('_');
        id.extend(
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

/// One documented operation, as the route sweeps of the tests read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Lower case, as OpenAPI writes it.
    pub method: String,
    pub path: String,
    pub signed_in: bool,
}

/// Every documented operation.
pub fn operations() -> Vec<Operation> {
    let mut out = Vec::new();
    if let Some(paths) = document()["paths"].as_object() {
        for (path, item) in paths {
            for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
                out.push(Operation {
                    method: method.clone(),
                    path: path.clone(),
                    signed_in: !PUBLIC.contains(&(method.as_str(), path.as_str())),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_unique_and_every_operation_answers_json_errors() {
        let ops = operations();
        assert!(ops.len() >= 40, "{}", ops.len());
        let mut ids: Vec<String> = ops
            .iter()
            .map(|o| operation_id(&o.method, &o.path))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ops.len());
        let doc = document();
        for o in &ops {
            let op = &doc["paths"][&o.path][&o.method];
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{} {} documents a success",
                o.method,
                o.path
            );
            if o.signed_in {
                assert_eq!(
                    responses["401"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody"
                );
            }
            // Every success with a body names its schema.
            for (status, r) in responses {
                if let Some(content) = r.get("content") {
                    for (media, c) in content.as_object().unwrap() {
                        assert!(
                            c.get("schema").is_some(),
                            "{} {} {status} {media} has a schema",
                            o.method,
                            o.path
                        );
                    }
                }
            }
            if let Some(body) = op.get("requestBody") {
                for (_, c) in body["content"].as_object().unwrap() {
                    assert!(c.get("schema").is_some(), "{} {}", o.method, o.path);
                }
            }
        }
    }

    #[test]
    fn operation_ids_name_method_and_path() {
        assert_eq!(
            operation_id("get", "/api/v1/cycles/{id}/versions/{version}"),
            "get_cycles_id_versions_version"
        );
        assert_eq!(
            operation_id("get", "/api/v1/openapi.json"),
            "get_openapi_json"
        );
    }
}
