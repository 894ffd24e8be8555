//! Changing one's own password. After an admin set a temporary password, every other page
//! sends the person here first (`Page::signed_in`).

use super::{Page, WebError, html, ok, posted};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::{Error, Problem};
use zeroize::Zeroizing;

pub const CHANGE_PATH: &str = "/password/change";

pub fn router() -> Router<AppState> {
    Router::new().route(CHANGE_PATH, get(form).post(change))
}

#[derive(Template)]
#[template(path = "password_change.html")]
struct ChangeTemplate<'a> {
    page: &'a Page,
    required: bool,
    error: Option<String>,
}

pub async fn form(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    let Some(auth) = page.auth(&state).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    Ok(ok(&ChangeTemplate {
        page: &page,
        required: auth.password_change_required,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<ChangeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let Some(auth) = page.auth(&state).await? else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let result = if form.new_password != form.confirm_password {
        Err(Error::bad("confirm_password", Problem::Invalid))
    } else {
        state
            .tessera
            .change_password(
                &auth,
                Zeroizing::new(form.current_password),
                Zeroizing::new(form.new_password),
                &ctx,
            )
            .await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/security-info?done=password").into_response()),
        Err(e) => {
            let message = match &e {
                Error::BadRequest {
                    field: "confirm_password",
                    ..
                } => page.t("password-change-mismatch"),
                Error::BadRequest {
                    field: "current_password",
                    ..
                } => page.t("password-change-wrong-current"),
                _ => page.form_error(e)?.1,
            };
            Ok(html(
                StatusCode::BAD_REQUEST,
                &ChangeTemplate {
                    page: &page,
                    required: auth.password_change_required,
                    error: Some(message),
                },
            ))
        }
    }
}
