//! The registration interrupt's page ("More information required"), with what the policy
//! still needs (a sign-in method, enough methods for password reset) and, when the policy
//! allows it, a way to skip it for now.

use super::sign_in::RegisterTemplate;
use super::{Page, WebError, html, posted, session_cookies};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use tessera_core::service::Auth;
use tessera_core::{Error, SessionKind};

pub fn router() -> Router<AppState> {
    Router::new().route("/sign-in/register/skip", post(skip))
}

/// The page for a registration session.
pub async fn page(page: &Page, state: &AppState, auth: &Auth) -> Result<Response, WebError> {
    let registration = state.tessera.registration(auth).await?;
    let policy = state.tessera.policy().await?;
    let needs = registration.needs;
    let reset_needed = (!needs.sign_in && needs.reset_missing > 0).then(|| {
        page.tr.with(
            "register-reset-needed",
            "count",
            policy.reset_methods_required,
        )
    });
    let skips = (registration.skips_left > 0).then(|| {
        page.tr
            .with("register-skips-left", "count", registration.skips_left)
    });
    let next = if needs.sign_in {
        "/security-info/add/authenticator-code"
    } else {
        "/security-info/add"
    };
    Ok(html(
        axum::http::StatusCode::OK,
        &RegisterTemplate {
            page,
            reset_needed,
            skips,
            next,
        },
    ))
}

#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// Skips the interrupt (when the policy allows one more skip): a full session.
pub async fn skip(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.signed_in(&state).await?;
    if auth.session.kind != SessionKind::Registration {
        return Ok(Redirect::to("/security-info").into_response());
    }
    match state.tessera.skip_registration(&auth, &ctx).await {
        Ok(session) => Ok((
            session_cookies(&state, &session),
            Redirect::to("/security-info"),
        )
            .into_response()),
        Err(e @ Error::NotAllowed(_)) => Err(e.into()),
        Err(e) => Err(e.into()),
    }
}
