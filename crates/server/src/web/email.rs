//! Email on the pages: adding an address. Proving it with the code sent to it is
//! `sent_code`'s page, shared with phones.

use super::{Page, WebError, html, ok, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::method::RegisterRequest;

pub fn router() -> Router<AppState> {
    Router::new().route("/security-info/add/email", get(email_form).post(email_add))
}

#[derive(Template)]
#[template(path = "email_add.html")]
struct EmailTemplate<'a> {
    page: &'a Page,
    address: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    address: String,
}

pub async fn email_form(
    mut page: Page,
    State(state): State<AppState>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    step_up_proof(&state, &auth, "/security-info/add/email").await?;
    Ok(ok(&EmailTemplate {
        page: &page,
        address: String::new(),
        error: None,
    }))
}

pub async fn email_add(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<EmailForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let proof = step_up_proof(&state, &auth, "/security-info/add/email").await?;
    let request = RegisterRequest::Email {
        address: form.address.clone(),
    };
    match state
        .tessera
        .register_begin(&auth, request, proof, &ctx)
        .await
    {
        Ok((method, _)) => {
            Ok(Redirect::to(&format!("/security-info/sent-code/{}", method.id)).into_response())
        }
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            Ok(html(
                status,
                &EmailTemplate {
                    page: &page,
                    address: form.address,
                    error: Some(message),
                },
            ))
        }
    }
}
