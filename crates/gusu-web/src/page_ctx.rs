//! What every signed-in page and page form of a feature module starts from: the viewer, its CSRF
//! token and the page language (or the redirect to sign in), the CSRF check of a form, rendering
//! with the header's keys, and the redirect back after a form with the refusal's reason shown.
//! The modules (cycle, nzc, energy) add only their own text tables and templates.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gusu_core::Viewer;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Deserialize;

use crate::pages::{Lang, LangQuery, language, page_session, texts};
use crate::{ApiError, AppState};

/// A signed-in page request: the viewer, its CSRF token and the page language.
pub(crate) struct PageCtx {
    pub viewer: Viewer,
    pub csrf: String,
    pub lang: Lang,
    /// Headers the response must carry (the language cookie).
    pub out: HeaderMap,
}

impl PageCtx {
    /// The page's session and language (`?lang=`, else the cookie); without a live session, the
    /// redirect to sign in.
    pub fn of(
        state: &AppState,
        headers: &HeaderMap,
        lang: Option<String>,
    ) -> Result<PageCtx, Box<Response>> {
        let mut out = HeaderMap::new();
        let lang = language(headers, &LangQuery { lang, year: None }, &mut out);
        match page_session(state, headers) {
            Some((session, _)) => Ok(PageCtx {
                viewer: session.viewer,
                csrf: session.csrf,
                lang,
                out,
            }),
            None => Err(Box::new((out, Redirect::to("/login")).into_response())),
        }
    }

    /// A form's session check: the hidden `csrf` field must be the session's.
    pub fn of_form(
        state: &AppState,
        headers: &HeaderMap,
        csrf: &str,
    ) -> Result<PageCtx, Box<Response>> {
        let ctx = PageCtx::of(state, headers, None)?;
        if !crate::session::csrf_matches(&ctx.csrf, Some(csrf)) {
            return Err(Box::new(
                ApiError::new(StatusCode::FORBIDDEN, "csrf", "missing or wrong CSRF token")
                    .into_response(),
            ));
        }
        Ok(ctx)
    }

    /// Renders `name` with the header's keys (the common texts `t`, user, role, CSRF token) and
    /// the module's own `extra` (its text table among them).
    pub fn respond(
        self,
        render: fn(&str, Value) -> Result<String, ApiError>,
        name: &str,
        extra: Value,
    ) -> Result<Response, ApiError> {
        let html = render(
            name,
            context! {
                t => Value::from(Serde(texts(self.lang))),
                user => self.viewer.user.clone(),
                role => self.viewer.role.key(),
                csrf => self.csrf.clone(),
                ..extra
            },
        )?;
        Ok((self.out, Html(html)).into_response())
    }
}

/// Back to a page after a form: on success as it is; on a refusal with the reason shown (a page
/// form refused by the rules is not a broken request, so the page says why). Not found stays 404.
pub(crate) fn back(to: &str, result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => Redirect::to(to).into_response(),
        Err(e) if e.status == StatusCode::NOT_FOUND => e.into_response(),
        Err(e) => {
            let sep = if to.contains('?') { '&' } else { '?' };
            let message: String = form_urlencoded::byte_serialize(e.message.as_bytes()).collect();
            Redirect::to(&format!("{to}{sep}error={}&message={message}", e.code)).into_response()
        }
    }
}

/// A page's query after a form came [`back`]: the language and the refusal, if any.
#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    pub lang: Option<String>,
    pub error: Option<String>,
    pub message: Option<String>,
}

impl PageQuery {
    /// The refusal to show: the module's text for its code, and the server's reason.
    pub fn banner(
        &self,
        lang: Lang,
        text: fn(Lang, &str) -> &'static str,
    ) -> Option<(String, String)> {
        self.error.as_deref().map(|code| {
            (
                text(lang, code).to_string(),
                self.message.clone().unwrap_or_default(),
            )
        })
    }
}
