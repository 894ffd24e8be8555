//! Signing in and stepping up with a text or a call: "Text +31 6•••••78" or "Call …", then
//! the code, or, for a call that asks for #, "I pressed #, continue" (no JavaScript needed:
//! the call's # approves the flow out of band, and the button asks where it stands; before
//! the # is heard it says so).

use super::flow_cookie::{SignInFlow, StartAgain};
use super::sent_code::{Sent, SentTemplate, describe};
use super::{Page, WebError, html, posted, session_cookies};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_core::challenge::ChallengeStatus;
use tessera_core::flow::FlowStatus;
use tessera_core::message::Channel;
use tessera_core::method::Purpose;
use tessera_core::{Error, FlowId, Kind, MethodId};

// Sign-in with a text or a call.

#[derive(Template)]
#[template(path = "sign_in_phone.html")]
struct SignInPhoneTemplate<'a> {
    page: &'a Page,
    method_id: String,
    label: String,
    mobile: bool,
    /// The person's default asks by text (else by call): that button comes first.
    text_first: bool,
    /// A code went out (or a call is ringing).
    sent: Option<SentTemplate<'a>>,
    /// The newest was a call: its button calls again.
    called: bool,
    has_others: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MethodQuery {
    method: Option<String>,
}

async fn sign_in_render(
    page: &Page,
    state: &AppState,
    flow: FlowId,
    wanted: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let (methods, default) = match state.tessera.sign_in_methods(flow).await {
        Ok(found) => found,
        Err(Error::Expired | Error::NotFound) => {
            return Ok(StartAgain::sign_in(state).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let wanted = wanted
        .and_then(|w| w.parse::<MethodId>().ok())
        .unwrap_or(default);
    let Some(method) = methods.iter().find(|m| m.id == wanted) else {
        return Ok(StartAgain::sign_in(state).into_response());
    };
    let latest = state
        .tessera
        .sent_challenge(method.id, Purpose::SignIn(flow))
        .await?;
    let sent = latest
        .as_ref()
        .filter(|l| {
            l.challenge.status == ChallengeStatus::Open
                && l.challenge.expires_at > state.tessera.now()
        })
        .map(|_| {
            let sent = describe(page, &method.label(), latest.as_ref());
            SentTemplate {
                page,
                action: if sent.confirm {
                    "/sign-in/phone/continue".into()
                } else {
                    "/sign-in/verify".into()
                },
                resend: None,
                sent,
                error: None,
                cancel: "/sign-in".into(),
            }
        });
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        &SignInPhoneTemplate {
            page,
            method_id: method.id.to_string(),
            label: method.label(),
            mobile: method.kind == Kind::PhoneMobile,
            text_first: method.kind == Kind::PhoneMobile
                && tessera_core::method::way::first_way(method, &*state.tessera.policy().await?)
                    != Some(tessera_core::method::way::Way::Call),
            called: sent.as_ref().is_some_and(|s| s.sent.call),
            sent,
            has_others: methods.len() > 1,
            error,
        },
    ))
}

pub async fn sign_in_page(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    SignInFlow(flow): SignInFlow,
    Query(q): Query<MethodQuery>,
) -> Result<Response, WebError> {
    // Reloaded after the call's # approved the flow: the sign-in is done.
    if let FlowStatus::SignedIn(Some(session)) =
        state.tessera.sign_in_status(flow, None, &ctx).await?
    {
        return Ok((
            session_cookies(&state, &session),
            Redirect::to("/security-info"),
        )
            .into_response());
    }
    sign_in_render(&page, &state, flow, q.method.as_deref(), None).await
}

pub async fn sign_in_send(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<SignInFlow, StartAgain>,
    form: Result<CsrfForm<super::sent_code::CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let SignInFlow(flow) = flow?;
    let method: MethodId = form.method_id.parse().map_err(|_| Error::NotFound)?;
    let error = match state
        .tessera
        .sign_in_challenge_via(flow, method, Channel::parse(&form.delivery), &ctx)
        .await
    {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/sign-in/phone?method={method}")).into_response());
        }
        Err(e) => page.form_error(e)?,
    };
    sign_in_render(&page, &state, flow, Some(&form.method_id), Some(error)).await
}

/// "I pressed #, continue": the session, if the call approved the flow.
pub async fn sign_in_continue(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<SignInFlow, StartAgain>,
    form: Result<CsrfForm<super::sent_code::CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let SignInFlow(flow) = flow?;
    match state.tessera.sign_in_status(flow, None, &ctx).await? {
        FlowStatus::SignedIn(Some(session)) => Ok((
            session_cookies(&state, &session),
            Redirect::to("/security-info"),
        )
            .into_response()),
        FlowStatus::MfaRequired => {
            let waiting = (StatusCode::OK, page.t("sent-call-waiting"));
            sign_in_render(&page, &state, flow, Some(&form.method_id), Some(waiting)).await
        }
        _ => Ok(StartAgain::sign_in(&state).into_response()),
    }
}

// Step-up with a text or a call.

#[derive(Template)]
#[template(path = "step_up_phone.html")]
struct StepUpTemplate<'a> {
    page: &'a Page,
    next: String,
    method_id: String,
    label: String,
    mobile: bool,
    /// What the newest open challenge asks for, if there is one.
    sent: Option<Sent>,
    /// It was a call: its button calls again.
    called: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StepUpQuery {
    next: Option<String>,
    method: Option<String>,
}

async fn step_up_render(
    page: &Page,
    state: &AppState,
    auth: &tessera_core::service::Auth,
    next: String,
    method: &str,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let (methods, _) = state.tessera.step_up_methods(auth).await?;
    let Some(method) = method
        .parse::<MethodId>()
        .ok()
        .and_then(|id| methods.iter().find(|m| m.id == id))
    else {
        return Err(Error::NotFound.into());
    };
    let latest = state
        .tessera
        .sent_challenge(method.id, Purpose::StepUp(auth.session.id))
        .await?
        .filter(|l| {
            l.challenge.status == ChallengeStatus::Open
                && l.challenge.expires_at > state.tessera.now()
        });
    let sent = latest
        .as_ref()
        .map(|l| describe(page, &method.label(), Some(l)));
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    Ok(html(
        status,
        &StepUpTemplate {
            page,
            next,
            method_id: method.id.to_string(),
            label: method.label(),
            mobile: method.kind == Kind::PhoneMobile,
            called: sent.as_ref().is_some_and(|s| s.call),
            sent,
            error,
        },
    ))
}

pub async fn step_up_page(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<StepUpQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let next = super::safe_next(q.next.as_deref());
    if super::already_stepped_up(&state, &auth, &next).await {
        return Ok(Redirect::to(&next).into_response());
    }
    step_up_render(
        &page,
        &state,
        &auth,
        next,
        q.method.as_deref().unwrap_or(""),
        None,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct StepUpSendForm {
    #[serde(default)]
    next: String,
    #[serde(default)]
    method_id: String,
    #[serde(default)]
    delivery: String,
}

pub async fn step_up_send(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<StepUpSendForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let next = super::safe_next(Some(&form.next));
    let method: MethodId = form.method_id.parse().map_err(|_| Error::NotFound)?;
    let error = match state
        .tessera
        .step_up_challenge_via(&auth, method, Channel::parse(&form.delivery), &ctx)
        .await
    {
        Ok(_) => {
            let query = serde_urlencoded::to_string([
                ("next", next.as_str()),
                ("method", &method.to_string()),
            ])
            .unwrap_or_default();
            return Ok(Redirect::to(&format!("/step-up/phone?{query}")).into_response());
        }
        Err(e) => page.form_error(e)?,
    };
    step_up_render(&page, &state, &auth, next, &form.method_id, Some(error)).await
}

/// "I pressed #, continue" on a step-up call: on to `next` once the call's # proved the
/// person, else the same page, saying the # has not been heard yet.
pub async fn step_up_continue(
    mut page: Page,
    State(state): State<AppState>,
    form: Result<CsrfForm<StepUpSendForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let next = super::safe_next(Some(&form.next));
    if super::already_stepped_up(&state, &auth, &next).await {
        return Ok(Redirect::to(&next).into_response());
    }
    let waiting = (StatusCode::OK, page.t("sent-call-waiting"));
    step_up_render(&page, &state, &auth, next, &form.method_id, Some(waiting)).await
}
