//! The page that proves a phone or an email address being added: the code that was sent
//! (or, for a call that asks for #, "I pressed #, continue"), sending another, and how a
//! page describes a sent challenge (the sign-in and step-up phone pages use that too).
//!
//! No JavaScript: a call answered with # completes out of band, and the page offers an
//! "I pressed #, continue" button that asks the store where things stand.

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
use axum::routing::{get, post};
use serde::Deserialize;
use tessera_core::message::{Channel, MessageStatus};
use tessera_core::method::Purpose;
use tessera_core::{Error, MethodId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/security-info/sent-code/{id}",
            get(sent_page).post(sent_verify),
        )
        .route("/security-info/sent-code/{id}/resend", post(sent_resend))
        .route(
            "/security-info/sent-code/{id}/continue",
            post(sent_continue),
        )
}

#[derive(Template)]
#[template(path = "sent_code.html")]
pub(super) struct SentTemplate<'a> {
    pub(super) page: &'a Page,
    /// Where the code form (or, for a call that asks for #, "I pressed #") posts.
    pub(super) action: String,
    pub(super) resend: Option<String>,
    pub(super) sent: Sent,
    pub(super) error: Option<String>,
    pub(super) cancel: String,
}

/// What a page that waits on a sent challenge says of it, in the words of its channel: a
/// text or email asks for "the code", a call that reads one for "the code we read to you",
/// and a call that asks for # has no code field at all.
pub(super) struct Sent {
    /// The page's heading.
    pub(super) title: String,
    /// Where it went, and how.
    pub(super) intro: String,
    /// A call that asks for #: no code to type; the page asks where things stand.
    pub(super) confirm: bool,
    /// A call, of either kind: asking again calls again.
    pub(super) call: bool,
    /// "Send a new code", or "Call me again".
    pub(super) again: String,
    /// Delivery failed for good.
    pub(super) notice: Option<String>,
}

/// What a page says about the newest challenge.
pub(super) fn describe(
    page: &Page,
    sent_to: &str,
    state: Option<&tessera_core::challenge::ChallengeState>,
) -> Sent {
    let Some(state) = state else {
        return Sent {
            title: page.t("sent-title"),
            intro: page.t("sent-none"),
            confirm: false,
            call: false,
            again: page.t("sent-resend"),
            notice: None,
        };
    };
    let confirm = state.challenge.is_confirm();
    let call = state.challenge.channel == Channel::Voice;
    let (title, key) = match (state.challenge.channel, confirm) {
        (Channel::Voice, true) => ("sent-title-call-confirm", "sent-call-confirm"),
        (Channel::Voice, false) => ("sent-title-call-code", "sent-call-code"),
        (Channel::Email, _) => ("sent-title", "sent-email"),
        (Channel::Sms, _) => ("sent-title", "sent-sms"),
    };
    Sent {
        title: page.t(title),
        intro: page.tr.with(key, "to", sent_to),
        confirm,
        call,
        again: page.t(if call {
            "sent-call-again"
        } else {
            "sent-resend"
        }),
        notice: (state.delivery == Some(MessageStatus::Failed))
            .then(|| page.t("error-delivery_failed")),
    }
}

async fn sent_template<'a>(
    page: &'a Page,
    state: &AppState,
    auth: &tessera_core::service::Auth,
    id: MethodId,
    error: Option<(StatusCode, String)>,
) -> Result<Result<(StatusCode, SentTemplate<'a>), Response>, WebError> {
    let method = match state.tessera.pending_enrollment(auth, id).await {
        Ok((method, _)) => method,
        Err(Error::Expired) => return Ok(Err(Redirect::to("/security-info/add").into_response())),
        // Verified already (by a call's # or another tab): done.
        Err(Error::BadRequest { .. }) => {
            let kind = state
                .tessera
                .security_info(auth)
                .await?
                .methods
                .iter()
                .find(|m| m.id == id)
                .map_or(tessera_core::Kind::PhoneMobile, |m| m.kind);
            return Ok(Err(super::registration::after_adding(auth, kind)));
        }
        Err(e) => return Err(e.into()),
    };
    let latest = state
        .tessera
        .sent_challenge(id, Purpose::Register(id))
        .await?;
    let sent = describe(page, &method.label(), latest.as_ref());
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let action = match sent.confirm {
        true => format!("/security-info/sent-code/{id}/continue"),
        false => format!("/security-info/sent-code/{id}"),
    };
    Ok(Ok((
        status,
        SentTemplate {
            page,
            action,
            resend: Some(format!("/security-info/sent-code/{id}/resend")),
            sent,
            error,
            cancel: "/security-info".into(),
        },
    )))
}

pub async fn sent_page(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    Ok(match sent_template(&page, &state, &auth, id, None).await? {
        Ok((status, template)) => html(status, &template),
        Err(elsewhere) => elsewhere,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) code: String,
    #[serde(default)]
    pub(super) method_id: String,
    #[serde(default)]
    pub(super) delivery: String,
}

pub async fn sent_verify(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let error = match state
        .tessera
        .register_finish(&auth, id, &form.code, &ctx)
        .await
    {
        Ok(m) => return Ok(super::registration::after_adding(&auth, m.kind)),
        Err(e) => page.form_error(e)?,
    };
    Ok(
        match sent_template(&page, &state, &auth, id, Some(error)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}

/// "I pressed #, continue": done when the call's # activated the method (the page then
/// moves on), else the same page, saying the # has not been heard yet.
pub async fn sent_continue(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let waiting = (StatusCode::OK, page.t("sent-call-waiting"));
    Ok(
        match sent_template(&page, &state, &auth, id, Some(waiting)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}

pub async fn sent_resend(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let error = match state
        .tessera
        .register_resend(&auth, id, Channel::parse(&form.delivery), &ctx)
        .await
    {
        Ok(_) => return Ok(Redirect::to(&format!("/security-info/sent-code/{id}")).into_response()),
        Err(e) => page.form_error(e)?,
    };
    Ok(
        match sent_template(&page, &state, &auth, id, Some(error)).await? {
            Ok((status, template)) => html(status, &template),
            Err(elsewhere) => elsewhere,
        },
    )
}
