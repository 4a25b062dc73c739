//! Security headers on every response: a content security policy that allows only the server's
//! own scripts, styles and images and no framing (the pages have no inline script or style),
//! no MIME sniffing, no referrer leaving the platform, `Cache-Control: no-store` on everything but
//! the static files (pages, API answers and exports all carry enterprise data), and HSTS when the
//! platform is reached over TLS.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A year, as browsers expect for a deployment that is always on TLS.
const HSTS: &str = "max-age=31536000";

pub(crate) async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Static files are the same for everyone and may be cached; nothing else may be.
    let cacheable = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Secure cookies are set exactly when the platform is served over TLS (directly or behind
    // a TLS proxy): then browsers are told to keep to HTTPS.
    if state.0.config.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}
