//! Verifying with a security key before a change to security info, or because an app or a
//! protected site requires a phishing-resistant sign-in (then only keys are offered).

use super::{AnswerForm, CeremonyTemplate, MethodQuery, ceremony_error};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use crate::web::view::MethodView;
use crate::web::{Page, WebError, posted, safe_next};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::service::Auth;
use tessera_core::{Error, Kind, MethodId};

/// `keys_only`: what asked for the step-up (an app or site that requires a phishing-resistant
/// sign-in) takes a security key and nothing else, so no other kind is offered, and the page
/// says why rather than speaking of a change to security info.
#[allow(clippy::too_many_arguments)]
async fn step_up_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    ctx: &tessera_core::RequestContext,
    next: String,
    wanted: Option<&str>,
    keys_only: bool,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let (methods, default) = state.tessera.step_up_methods(auth).await?;
    let wanted = wanted
        .and_then(|w| w.trim().parse::<MethodId>().ok())
        .or(default);
    let back = crate::web::step_up_url(&next);
    let Some(method) = methods
        .iter()
        .find(|m| Some(m.id) == wanted)
        .filter(|m| m.kind == Kind::SecurityKey)
    else {
        return Ok(Redirect::to(&back).into_response());
    };
    let challenge = state
        .tessera
        .step_up_challenge(auth, method.id, ctx)
        .await?;
    let options = challenge.webauthn.unwrap_or_default();
    let view = MethodView::new(method, None, &page.tr);
    let links = methods
        .iter()
        .filter(|m| m.id != method.id && (!keys_only || m.kind == Kind::SecurityKey))
        .map(|m| {
            let mut query = vec![("next", next.clone()), ("method", m.id.to_string())];
            if keys_only {
                query.push(("phishing_resistant", "1".into()));
            }
            let query = serde_urlencoded::to_string(query).unwrap_or_default();
            let label = MethodView::new(m, None, &page.tr).label;
            // Another key goes straight to its own ceremony.
            let path = if keys_only {
                "/step-up/security-key"
            } else {
                "/step-up"
            };
            (
                format!("{path}?{query}"),
                page.tr.with("security-key-other", "method", label),
            )
        })
        .collect();
    let mut fields = vec![("method_id", method.id.to_string()), ("next", next)];
    if keys_only {
        fields.push(("phishing_resistant", "1".into()));
    }
    let template = CeremonyTemplate {
        title: page.t("step-up-title"),
        intro: page.tr.with(
            if keys_only {
                "security-key-step-up-intro-required"
            } else {
                "security-key-step-up-intro"
            },
            "name",
            &view.label,
        ),
        action: "/step-up/security-key".into(),
        fields,
        cancel: Some("/security-info".into()),
        links,
        ..CeremonyTemplate::new(page, "get", &options)
    };
    Ok(template.render(error))
}

pub async fn step_up_form(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<MethodQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let next = safe_next(q.next.as_deref());
    let key_needed = q.phishing_resistant.is_some()
        && auth.session.second_factor_kind != Some(Kind::SecurityKey);
    if !key_needed && crate::web::already_stepped_up(&state, &auth, &next).await {
        return Ok(Redirect::to(&next).into_response());
    }
    let keys_only = q.phishing_resistant.is_some();
    step_up_page(
        &page,
        &state,
        &auth,
        &ctx,
        next,
        q.method.as_deref(),
        keys_only,
        None,
    )
    .await
}

pub async fn step_up(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<AnswerForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let next = safe_next(Some(&form.next));
    let result = match (form.method_id.trim().parse::<MethodId>(), form.answer()) {
        (Ok(method_id), Ok(answer)) => {
            state
                .tessera
                .step_up_respond(&auth, method_id, &answer, &ctx)
                .await
        }
        (Err(_), _) => Err(Error::NotFound),
        (_, Err(e)) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let error = ceremony_error(&page, e)?;
            let wanted = Some(form.method_id.as_str());
            let keys_only = form.phishing_resistant.is_some();
            step_up_page(
                &page,
                &state,
                &auth,
                &ctx,
                next,
                wanted,
                keys_only,
                Some(error),
            )
            .await
        }
    }
}
