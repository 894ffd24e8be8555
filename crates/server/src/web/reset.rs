//! "Forgot my password": `/reset`. The username, then one or two gates (each a method the
//! person picks, proven with a code or answers), then a new password.
//!
//! The browser holds only the reset flow's id (a cookie); the flow lives in the store, so any
//! node takes the next step. An unknown username walks through the same pages: its gates
//! are decoys that send nothing and never pass. Starting a challenge may send a text or an
//! email, so it is a POST; the page that asks for the code is a GET that sends nothing.

use super::challenge_page::ChallengePage;
use super::flow_cookie::{ResetFlow, StartAgain};
use super::view::MethodView;
use super::{Page, WebError, html, ok, posted};
use crate::AppState;
use crate::api::security_questions::question_text;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::{COOKIE_RESET, Context};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use std::collections::HashMap;
use tessera_core::flow::reset::ResetView;
use tessera_core::method::Response as Answer;
use tessera_core::{Error, FlowId, Kind, MethodId, Problem};
use zeroize::Zeroizing;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reset", get(start_form).post(start))
        .route("/reset/verify", get(gate_form).post(verify))
        .route("/reset/challenge", axum::routing::post(challenge))
        .route("/reset/password", get(password_form).post(password))
        .route("/reset/done", get(done))
}

/// The flow as it stands, or `None` when it is over.
async fn view_of(state: &AppState, flow: FlowId) -> Result<Option<ResetView>, WebError> {
    match state.tessera.reset_view(flow).await {
        Ok(view) => Ok(Some(view)),
        Err(Error::Expired | Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "reset_start.html")]
struct StartTemplate<'a> {
    page: &'a Page,
    username: &'a str,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn start_form(page: Page, Query(q): Query<NoticeQuery>) -> Response {
    let notice = match q.notice.as_deref() {
        Some("expired") => Some(page.t("reset-expired")),
        _ => None,
    };
    ok(&StartTemplate {
        page: &page,
        username: "",
        notice,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    username: String,
}

pub async fn start(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<StartForm>, ApiError>,
) -> Result<Response, WebError> {
    let StartForm { username } = posted(form)?;
    match state.tessera.reset_begin(&username, &ctx).await {
        Ok(view) => {
            let jar = CookieJar::new().add(state.cookie(COOKIE_RESET, view.flow.to_string()));
            Ok((jar, Redirect::to("/reset/verify")).into_response())
        }
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            let template = StartTemplate {
                page: &page,
                username: &username,
                notice: None,
                error: Some(message),
            };
            Ok(html(status, &template))
        }
    }
}

/// One method to choose as the next gate.
struct Choice {
    id: String,
    label: String,
    detail: Option<String>,
    /// A mobile phone: "Text me" and "Call me".
    text_or_call: bool,
}

/// What the person types for the chosen gate.
enum Ask {
    /// A code: from an app, a text, a call or an email.
    Code { recovery: bool },
    /// Security questions: (id, text).
    Questions(Vec<(String, String)>),
    /// A security key: the WebAuthn request options (JSON) for the page's script.
    SecurityKey { options: String, script: String },
}

#[derive(Template)]
#[template(path = "reset_verify.html")]
struct GateTemplate<'a> {
    page: &'a Page,
    progress: String,
    /// The gate being proven, with what to ask; `None` while choosing.
    method: Option<(MethodView, Ask)>,
    sent_to: Option<String>,
    /// "Approve the notification and choose 42", for an authenticator app.
    notification: Option<String>,
    /// The gate is a phone that is called: the call reads the code aloud (a reset's calls
    /// never ask for #).
    call: bool,
    choices: Vec<Choice>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GateQuery {
    method: Option<String>,
    sent_to: Option<String>,
    /// The number a notification asks to match in the app.
    number: Option<u8>,
}

pub async fn gate_form(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    ResetFlow(flow): ResetFlow,
    Query(q): Query<GateQuery>,
) -> Result<Response, WebError> {
    let Some(view) = view_of(&state, flow).await? else {
        return Ok(StartAgain::reset(&state).into_response());
    };
    if view.gates_passed.len() as u32 >= view.gates_required {
        return Ok(Redirect::to("/reset/password").into_response());
    }
    let wanted = q.method.as_deref().and_then(|m| m.parse::<MethodId>().ok());
    let notification = q
        .number
        .map(|n| page.tr.with("reset-notification-sent", "number", n));
    gate_page(
        &page,
        &state,
        &view,
        wanted,
        (q.sent_to, notification),
        None,
        &ctx,
    )
    .await
}

async fn gate_page(
    page: &Page,
    state: &AppState,
    view: &ResetView,
    wanted: Option<MethodId>,
    (sent_to, notification): (Option<String>, Option<String>),
    error: Option<(StatusCode, String)>,
    ctx: &tessera_core::RequestContext,
) -> Result<Response, WebError> {
    let open: Vec<_> = view
        .methods
        .iter()
        .filter(|m| !view.gates_passed.contains(&m.id))
        .collect();
    let chosen = wanted.and_then(|w| open.iter().find(|m| m.id == w).copied());
    // A decoy's phone takes its delivery from a real person's, so this tells nothing.
    let call = chosen.is_some_and(|m| {
        matches!(
            m.data,
            tessera_core::method::MethodData::Phone {
                delivery: tessera_core::message::Channel::Voice,
                ..
            }
        )
    });
    let method = match chosen {
        None => None,
        Some(m) => {
            let ask = match ChallengePage::of(m.kind) {
                // Asking again returns the questions already asked, and sends nothing.
                ChallengePage::Questions => {
                    let challenge = state.tessera.reset_challenge(view.flow, m.id, ctx).await?;
                    let custom = state.tessera.custom_questions().await?;
                    Ask::Questions(
                        challenge
                            .questions
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(id, _)| {
                                let text = question_text(&id, &page.tr, &custom);
                                (id, text)
                            })
                            .collect(),
                    )
                }
                // Each visit asks the key anew: a fresh challenge replaces the last one.
                ChallengePage::SecurityKey => {
                    let challenge = state.tessera.reset_challenge(view.flow, m.id, ctx).await?;
                    Ask::SecurityKey {
                        options: challenge.webauthn.unwrap_or_default().to_string(),
                        script: super::assets::webauthn_script(),
                    }
                }
                // A reset asks for the code on this page: the text, the call or the app's
                // notification went out from `/reset/challenge`.
                ChallengePage::Code | ChallengePage::Phone | ChallengePage::Notification => {
                    Ask::Code {
                        recovery: m.kind == Kind::RecoveryCodes,
                    }
                }
            };
            Some((MethodView::new(m, None, &page.tr), ask))
        }
    };
    let choices = open
        .iter()
        .map(|m| {
            let v = MethodView::new(m, None, &page.tr);
            Choice {
                id: v.id.clone(),
                detail: v.name.as_ref().map(|_| v.kind.clone()),
                label: v.label,
                text_or_call: m.kind == Kind::PhoneMobile,
            }
        })
        .collect();
    let progress = page.tr.args(
        "reset-progress",
        &[
            ("step", (view.gates_passed.len() + 1).to_string()),
            ("steps", view.gates_required.to_string()),
        ],
    );
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    // Only a masked destination from our own redirect is shown; it has no markup to inject
    // (askama escapes it anyway).
    let sent_to = sent_to.filter(|s| s.chars().count() <= 64);
    Ok(html(
        status,
        &GateTemplate {
            page,
            progress,
            method,
            sent_to,
            notification,
            call,
            choices,
            error,
        },
    ))
}

#[derive(Deserialize)]
pub struct ChallengeForm {
    #[serde(default)]
    method_id: String,
    /// For a mobile phone: `sms` or `voice`; what it was registered for when left out.
    #[serde(default)]
    delivery: String,
}

/// Starts a challenge on the chosen gate (a text or an email goes out), then asks for it.
pub async fn challenge(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<ResetFlow, StartAgain>,
    form: Result<CsrfForm<ChallengeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let ResetFlow(flow) = flow?;
    let method = form.method_id.trim().parse::<MethodId>().ok();
    let result = match method {
        Some(m) => {
            let via = tessera_core::message::Channel::parse(&form.delivery);
            state.tessera.reset_challenge_via(flow, m, via, &ctx).await
        }
        None => Err(Error::NotFound),
    };
    match result {
        Ok(c) => {
            let mut query = vec![("method", c.method_id.to_string())];
            query.extend(c.sent_to.map(|s| ("sent_to", s)));
            query.extend(c.number.map(|n| ("number", n.to_string())));
            let query = serde_urlencoded::to_string(&query).unwrap_or_default();
            Ok(Redirect::to(&format!("/reset/verify?{query}")).into_response())
        }
        Err(Error::Expired) => Ok(StartAgain::reset(&state).into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            let Some(view) = view_of(&state, flow).await? else {
                return Ok(StartAgain::reset(&state).into_response());
            };
            gate_page(&page, &state, &view, None, (None, None), Some(error), &ctx).await
        }
    }
}

/// Proves the gate: `method_id` with `code`, with `answer-<question id>` fields, or with a
/// security key's `webauthn` answer.
pub async fn verify(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<ResetFlow, StartAgain>,
    form: Result<CsrfForm<HashMap<String, String>>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let ResetFlow(flow) = flow?;
    let method = form
        .get("method_id")
        .and_then(|m| m.trim().parse::<MethodId>().ok());
    let answers: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("answer-")
                .map(|q| (q.to_string(), v.clone()))
        })
        .collect();
    let response = match form.get("webauthn") {
        // An empty answer means the page's script never ran.
        Some(raw) => serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .filter(serde_json::Value::is_object)
            .map(Answer::WebAuthn)
            .ok_or(Error::bad("webauthn", Problem::Required)),
        None if answers.is_empty() => {
            Ok(Answer::Code(form.get("code").cloned().unwrap_or_default()))
        }
        None => Ok(Answer::Answers(answers)),
    };
    let by_key = matches!(response, Err(_) | Ok(Answer::WebAuthn(_)));
    let by_answers = matches!(response, Ok(Answer::Answers(_)));
    let result = match (method, response) {
        (Some(m), Ok(response)) => state.tessera.reset_respond(flow, m, &response, &ctx).await,
        (None, _) => Err(Error::NotFound),
        (_, Err(e)) => Err(e),
    };
    match result {
        Ok(p) if p.gates_passed >= p.gates_required => {
            Ok(Redirect::to("/reset/password").into_response())
        }
        Ok(_) => Ok(Redirect::to("/reset/verify").into_response()),
        Err(Error::Expired) => Ok(StartAgain::reset(&state).into_response()),
        Err(e) => {
            let mut error = if by_key {
                super::security_key::ceremony_error(&page, e)?
            } else {
                page.form_error(e)?
            };
            if by_answers && error.0 == StatusCode::BAD_REQUEST {
                error.1 = page.t("reset-answers-wrong");
            }
            let Some(view) = view_of(&state, flow).await? else {
                return Ok(StartAgain::reset(&state).into_response());
            };
            gate_page(
                &page,
                &state,
                &view,
                method,
                (None, None),
                Some(error),
                &ctx,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct PasswordTemplate<'a> {
    page: &'a Page,
    error: Option<String>,
}

pub async fn password_form(
    page: Page,
    State(state): State<AppState>,
    ResetFlow(flow): ResetFlow,
) -> Result<Response, WebError> {
    let Some(view) = view_of(&state, flow).await? else {
        return Ok(StartAgain::reset(&state).into_response());
    };
    if (view.gates_passed.len() as u32) < view.gates_required {
        return Ok(Redirect::to("/reset/verify").into_response());
    }
    Ok(ok(&PasswordTemplate {
        page: &page,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn password(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<ResetFlow, StartAgain>,
    form: Result<CsrfForm<PasswordForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let ResetFlow(flow) = flow?;
    let result = if form.new_password != form.confirm_password {
        Err(None)
    } else {
        state
            .tessera
            .reset_password(flow, Zeroizing::new(form.new_password), &ctx)
            .await
            .map_err(Some)
    };
    let (status, message) = match result {
        Ok(()) => {
            let jar = CookieJar::new().add(state.removal_cookie(COOKIE_RESET));
            return Ok((jar, Redirect::to("/reset/done")).into_response());
        }
        Err(None) => (StatusCode::BAD_REQUEST, page.t("reset-password-mismatch")),
        Err(Some(Error::Expired)) => return Ok(StartAgain::reset(&state).into_response()),
        Err(Some(e)) => page.form_error(e)?,
    };
    Ok(html(
        status,
        &PasswordTemplate {
            page: &page,
            error: Some(message),
        },
    ))
}

#[derive(Template)]
#[template(path = "reset_done.html")]
struct DoneTemplate<'a> {
    page: &'a Page,
}

pub async fn done(page: Page) -> Response {
    ok(&DoneTemplate { page: &page })
}
