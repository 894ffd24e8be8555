//! Activating a hardware token an admin imported and assigned: the person presses its button
//! and types the code it shows. From then on it works like any authenticator code method.

use super::{Page, WebError, html, posted};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::method::MethodData;
use tessera_core::service::Auth;
use tessera_core::{Error, Method, MethodId};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/security-info/hardware-tokens/{id}",
        get(form).post(activate),
    )
}

#[derive(Template)]
#[template(path = "hardware_token.html")]
struct ActivateTemplate<'a> {
    page: &'a Page,
    action: String,
    intro: String,
    error: Option<String>,
}

/// The person's pending hardware token `id`, or where to go instead (already active).
async fn pending_token(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<Result<Method, Response>, WebError> {
    let id: MethodId = id.trim().parse().map_err(|_| Error::NotFound)?;
    let info = state.tessera.security_info(auth).await?;
    let method = info
        .methods
        .into_iter()
        .find(|m| m.id == id && matches!(m.data, MethodData::HardwareToken { .. }))
        .ok_or(Error::NotFound)?;
    if method.is_active() {
        return Ok(Err(Redirect::to("/security-info").into_response()));
    }
    Ok(Ok(method))
}

fn page_for(page: &Page, method: &Method, error: Option<(StatusCode, String)>) -> Response {
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    html(
        status,
        &ActivateTemplate {
            page,
            action: format!("/security-info/hardware-tokens/{}", method.id),
            intro: page
                .tr
                .with("hardware-token-intro", "token", method.label()),
            error,
        },
    )
}

async fn form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    Ok(match pending_token(&state, &auth, &id).await? {
        Ok(method) => page_for(&page, &method, None),
        Err(elsewhere) => elsewhere,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn activate(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let method = match pending_token(&state, &auth, &id).await? {
        Ok(method) => method,
        Err(elsewhere) => return Ok(elsewhere),
    };
    match state
        .tessera
        .register_finish(&auth, method.id, &form.code, &ctx)
        .await
    {
        Ok(m) => Ok(super::registration::after_adding(&auth, m.kind)),
        Err(e) => {
            let error = page.form_error(e)?;
            Ok(page_for(&page, &method, Some(error)))
        }
    }
}
