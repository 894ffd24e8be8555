//! "Verify your identity": a fresh second factor before a change to security info, then
//! back to the page that asked (`next`, a local path only).

use super::challenge_page::ChallengePage;
use super::view::MethodView;
use super::{Page, WebError, html, posted, safe_next};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::service::Auth;
use tessera_core::{Error, MethodId};

/// Another method to verify with.
struct OtherMethod {
    label: String,
    href: String,
}

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpTemplate<'a> {
    page: &'a Page,
    next: String,
    method: Option<MethodView>,
    intro: String,
    field: super::code_field::CodeField,
    others: Vec<OtherMethod>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StepUpQuery {
    next: Option<String>,
    method: Option<String>,
}

async fn step_up_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    next: String,
    wanted: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let (methods, default) = state.tessera.step_up_methods(auth).await?;
    let wanted = wanted
        .and_then(|w| w.trim().parse::<MethodId>().ok())
        .or(default);
    let method = methods
        .iter()
        .find(|m| Some(m.id) == wanted)
        .or(methods.first());
    if let Some(to) = method.and_then(|m| ChallengePage::of(m.kind).step_up_url(m, &next)) {
        return Ok(Redirect::to(&to).into_response());
    }
    let view = method.map(|m| MethodView::new(m, None, &page.tr));
    let intro = match (method, &view) {
        (Some(m), Some(v)) => super::code_field::intro(m.kind, &v.label, &page.tr, "step-up-intro"),
        _ => page.t("step-up-none"),
    };
    let field = match method {
        Some(m) => super::code_field::CodeField::for_kind(m.kind, &page.tr),
        None => page.digits_field(),
    };
    let others = methods
        .iter()
        .filter(|m| Some(m.id) != method.map(|c| c.id))
        .map(|m| {
            let query = serde_urlencoded::to_string([
                ("next", next.as_str()),
                ("method", &m.id.to_string()),
            ]);
            OtherMethod {
                label: MethodView::new(m, None, &page.tr).label,
                href: format!("/step-up?{}", query.unwrap_or_default()),
            }
        })
        .collect();
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        &StepUpTemplate {
            page,
            next,
            method: view,
            intro,
            field,
            others,
            error,
        },
    ))
}

pub async fn form(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<StepUpQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let next = safe_next(q.next.as_deref());
    // Verified recently enough already (say, in another tab): straight on.
    if super::already_stepped_up(&state, &auth, &next).await {
        return Ok(Redirect::to(&next).into_response());
    }
    step_up_page(&page, &state, &auth, next, q.method.as_deref(), None).await
}

#[derive(Deserialize)]
pub struct StepUpForm {
    #[serde(default)]
    next: String,
    #[serde(default)]
    method_id: String,
    #[serde(default)]
    code: String,
}

pub async fn verify(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<StepUpForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let next = safe_next(Some(&form.next));
    let result = match form.method_id.trim().parse::<MethodId>() {
        Ok(method_id) => {
            state
                .tessera
                .step_up_verify(&auth, method_id, &form.code, &ctx)
                .await
        }
        Err(_) => Err(Error::NotFound),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            step_up_page(
                &page,
                &state,
                &auth,
                next,
                Some(&form.method_id),
                Some(error),
            )
            .await
        }
    }
}
