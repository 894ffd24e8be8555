//! The server-rendered pages: sign-in, security info, step-up, activity.
//!
//! Every page works without JavaScript and under the strict CSP of `headers.rs`: no inline
//! script or style, only `/static/tessera.css`. Forms carry the CSRF token of their page
//! ([`Page::csrf`]) and are read with [`CsrfForm`]. A change answers with a redirect (POST →
//! 303 → GET), so a reload never repeats it; what to say after the redirect travels in the
//! query string (`?done=added`), never in server memory, so any node can answer the GET.
//!
//! A handler shows the errors a person can act on in its own form (a wrong code, a wrong
//! password). Everything else becomes a [`WebError`], which [`render_errors`] turns into an
//! error page in the request's language.

mod activity;
mod admin;
mod app_passwords;
mod apps_access;
mod assets;
mod authenticator_app;
mod authenticator_code;
mod authenticator_web;
mod challenge_page;
mod code_field;
mod default_method;
mod directory_offers;
mod email;
mod flow_cookie;
mod hardware_token;
mod language;
mod page;
mod password;
mod phone;
mod phone_sign_in;
mod policy;
mod push_wait;
mod recovery_codes;
mod registration;
mod reset;
mod security_info;
mod security_key;
mod security_questions;
mod sent_code;
mod sign_in;
mod step_up;
mod view;

pub use page::Page;
pub use view::{MethodView, Stamp, browser};

use crate::AppState;
use crate::csrf::{CsrfForm, new_csrf_token};
use crate::error::ApiError;
use crate::session::{COOKIE_CSRF, COOKIE_FLOW, COOKIE_SESSION};
use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::CookieJar;
use page::PageSlot;
use std::sync::Arc;
use tessera_core::Error;
use tessera_core::flow::StepUpProof;
use tessera_core::service::{Auth, IssuedSession};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route(
            "/sign-in/verify",
            get(sign_in::verify_form).post(sign_in::verify),
        )
        .route("/sign-in/other", get(sign_in::other))
        .route("/sign-in/register", get(sign_in::register))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/security-info", get(security_info::overview))
        .route("/security-info/add", get(security_info::add))
        .route(
            "/security-info/methods/{id}/delete",
            get(security_info::delete_form).post(security_info::delete),
        )
        .route(
            "/security-info/default",
            get(default_method::default_form).post(default_method::set_default),
        )
        .route("/step-up", get(step_up::form).post(step_up::verify))
        .route("/activity", get(activity::list))
        .route("/language", post(language::choose))
        .route("/static/{file}", get(assets::serve))
        .merge(security_key::router())
        .merge(push_wait::router())
        .merge(authenticator_app::router())
        .merge(authenticator_web::router())
        .merge(admin::router())
        .merge(app_passwords::router())
        .merge(apps_access::router())
        .merge(hardware_token::router())
        .merge(password::router())
        .merge(authenticator_code::router())
        .merge(phone::router())
        .merge(email::router())
        .merge(directory_offers::router())
        .merge(sent_code::router())
        .merge(reset::router())
        .merge(registration::router())
        .merge(security_questions::router())
        .merge(recovery_codes::router())
        .merge(policy::router())
        .merge(crate::oidc::page_router())
        .fallback(not_found)
        .layer(middleware::from_fn(render_errors))
}

/// A page that could not be shown; rendered by [`render_errors`].
#[derive(Debug)]
pub enum WebError {
    Api(ApiError),
    /// Somewhere else to go first (sign in, verify your identity).
    Redirect(String),
    /// The flow this page belongs to is over: back to its start.
    StartAgain(flow_cookie::StartAgain),
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        WebError::Api(ApiError::Domain(e))
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError::Api(e)
    }
}

/// Marks a response whose body [`render_errors`] writes.
#[derive(Clone)]
struct Failed(Arc<ApiError>);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Redirect(to) => Redirect::to(&to).into_response(),
            WebError::StartAgain(s) => s.into_response(),
            WebError::Api(ApiError::Domain(Error::Unauthorized)) => {
                Redirect::to("/sign-in").into_response()
            }
            WebError::Api(e) => {
                if let ApiError::Domain(e @ (Error::Store(_) | Error::Internal(_))) = &e {
                    tracing::error!(error = ?e, source = ?std::error::Error::source(e), "page failed");
                }
                let mut response = e.status().into_response();
                response.extensions_mut().insert(Failed(Arc::new(e)));
                response
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    page: &'a Page,
    title: String,
    message: String,
}

/// The error page for `error`, for a request refused before any handler ran (the
/// per-address limit of `limits`, the origin check of `csrf`).
pub(crate) async fn error_page(
    parts: &mut axum::http::request::Parts,
    state: &AppState,
    error: impl Into<ApiError>,
) -> Response {
    use axum::extract::FromRequestParts;
    let Ok(page) = Page::from_request_parts(parts, state).await;
    let error = error.into();
    let retry_after = match &error {
        ApiError::Domain(Error::RateLimited { retry_after } | Error::Locked { retry_after }) => {
            Some(*retry_after)
        }
        _ => None,
    };
    let status = error.status();
    let mut response = html(
        status,
        &ErrorTemplate {
            page: &page,
            title: page.t("error-page-title"),
            message: error.body(&page.tr).message,
        },
    );
    if let Some(secs) = retry_after
        && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
    {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    response
}

/// Writes the error page of a [`WebError`], keeping the status and headers.
async fn render_errors(mut request: Request, next: Next) -> Response {
    let slot = PageSlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    let Some(Failed(error)) = response.extensions_mut().remove::<Failed>() else {
        return response;
    };
    let Some(page) = slot.0.get() else {
        return response;
    };
    let status = response.status();
    let title = match status {
        StatusCode::NOT_FOUND => page.t("error-page-not-found"),
        s if s.is_server_error() => page.t("error-page-internal"),
        _ => page.t("error-page-title"),
    };
    let message = error.body(&page.tr).message;
    let mut page_response = html(
        status,
        &ErrorTemplate {
            page,
            title,
            message,
        },
    );
    for (name, value) in response.headers() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            page_response.headers_mut().append(name, value.clone());
        }
    }
    page_response
}

/// `GET /`: where a person belongs.
async fn home(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let to = if page.auth(&state).await?.is_some() {
        "/security-info"
    } else {
        "/sign-in"
    };
    Ok(Redirect::to(to).into_response())
}

/// The `Page` is extracted so the error page can show the organization's name.
async fn not_found(page: Page, uri: Uri) -> Response {
    // `/api/v1/…` has its own fallback; other paths under `/api` answer in its format too.
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return ApiError::Domain(Error::NotFound).render(&page.tr);
    }
    WebError::from(Error::NotFound).into_response()
}

/// A rendered template with `status`.
pub fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn ok(template: &impl Template) -> Response {
    html(StatusCode::OK, template)
}

/// The fields of a posted form whose CSRF token matched; a CSRF failure is a 403 page.
pub fn posted<T>(form: Result<CsrfForm<T>, ApiError>) -> Result<T, WebError> {
    form.map(|CsrfForm(f)| f).map_err(WebError::Api)
}

/// A delete button's form: it deletes only with `confirm=yes`, which the confirmation page's
/// button sends; any other POST shows that page.
#[derive(serde::Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

impl DeleteForm {
    pub fn confirmed(&self) -> bool {
        self.confirm == "yes"
    }
}

/// The cookies of a new session: the session itself, and a fresh CSRF token, so a token
/// planted before sign-in is worthless after it. The sign-in flow is over.
pub fn session_cookies(state: &AppState, session: &IssuedSession) -> CookieJar {
    CookieJar::new()
        .add(state.cookie(COOKIE_SESSION, session.token.to_string()))
        .add(state.cookie(COOKIE_CSRF, new_csrf_token(&tessera_core::OsRandom)))
        .add(state.removal_cookie(COOKIE_FLOW))
}

/// A local path to go back to: it starts with one `/`, so it cannot leave this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/security-info".into(),
    }
}

/// `/step-up`, coming back to `next` afterwards.
pub fn step_up_url(next: &str) -> String {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    format!("/step-up?{query}")
}

/// Whether a step-up page may send the person straight on to `next`: the session has a
/// step-up proof and, when `next` asks for a second factor verified at or after a moment
/// (`fresh_after`, Unix seconds, in its query: a forward-auth rule's `max_age` that the
/// step-up window would otherwise wave through), one that new. The parameter only spares or
/// costs the person a step; the page at `next` checks what it needs itself.
pub async fn already_stepped_up(state: &AppState, auth: &Auth, next: &str) -> bool {
    if state.tessera.step_up_proof(auth).await.is_err() {
        return false;
    }
    match fresh_after(next) {
        None => true,
        Some(t) => auth
            .session
            .second_factor_at
            .is_some_and(|at| at.unix_timestamp() >= t),
    }
}

/// The `fresh_after` of a local path's query.
fn fresh_after(next: &str) -> Option<i64> {
    let (_, query) = next.split_once('?')?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "fresh_after")
        .and_then(|(_, v)| v.parse().ok())
}

/// The proof that this session may change security info now; without it, a detour through
/// `/step-up` that comes back to `next`.
pub async fn step_up_proof(
    state: &AppState,
    auth: &Auth,
    next: &str,
) -> Result<StepUpProof, WebError> {
    match state.tessera.step_up_proof(auth).await {
        Ok(proof) => Ok(proof),
        Err(Error::StepUpRequired) => Err(WebError::Redirect(step_up_url(next))),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_path_can_ask_for_a_fresh_second_factor() {
        assert_eq!(
            fresh_after("/forward-auth/start?rd=x&fresh_after=1800000000"),
            Some(1_800_000_000)
        );
        assert_eq!(fresh_after("/security-info"), None);
        assert_eq!(fresh_after("/x?fresh_after=soon"), None);
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            safe_next(Some("/security-info/default")),
            "/security-info/default"
        );
        assert_eq!(safe_next(Some("/step-up?next=%2Fx")), "/step-up?next=%2Fx");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/a\r\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/security-info", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/security-info");
    }

    #[test]
    fn step_up_url_encodes_where_to_return() {
        assert_eq!(step_up_url("/a?b=c&d"), "/step-up?next=%2Fa%3Fb%3Dc%26d");
    }
}
