//! One error format for the whole API: `{"error":{"code":…, "message":…}}` with a stable,
//! snake_case code and the HTTP status that goes with it. An internal error's detail (SQLite,
//! a template) never reaches the client: it is logged under an incident id, and the client gets
//! a plain message with that id.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::wire::{ErrorBody, ErrorDetail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first")
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
        )
    }

    /// Also answered for data that exists but is not the viewer's: its existence is not revealed.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (message, incident) = if self.status.is_server_error() {
            let incident = crate::session::random_token()[..12].to_string();
            eprintln!(
                "gusu-web: incident {incident}: {} {}: {}",
                self.status.as_u16(),
                self.code,
                self.message
            );
            (
                format!(
                    "internal error; the server logged it as incident {incident} (内部错误，已记录，编号 {incident})"
                ),
                Some(incident),
            )
        } else {
            (self.message, None)
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message,
                incident,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Under `/api/`, an error answered by the framework rather than a handler (a path parameter
/// that does not parse, a method the route lacks, a body over the limit) is given the API's
/// one error format too, so every error a client sees is JSON of the documented schema.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let code = match status {
        StatusCode::BAD_REQUEST => "invalid_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut out = ApiError::new(status, code, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

impl From<gusu_store::StoreError> for ApiError {
    fn from(e: gusu_store::StoreError) -> ApiError {
        ApiError::internal(e.to_string())
    }
}
