//! Approving a sign-in or a step-up with the authenticator app's notification: the page shows
//! a two-digit number and waits while the person types it in the app; when the policy allows,
//! the app's code can be typed here instead. (Adding the app is `authenticator_app.rs`; a
//! reset shows the number on its own gate page.)
//!
//! Waiting: `/static/push.js` holds the status route open and reloads the page when the
//! notification is answered; without JavaScript, "Continue" does the same by hand. The page
//! itself completes the sign-in (the session cookie is set on a page response, never handed
//! to a script). A reload shows the notification already sent; only "Send another" sends
//! again.

use super::authenticator_app::ended_key;
use super::flow_cookie::{SignInFlow, StartAgain};
use super::view::MethodView;
use super::{Page, WebError, html, posted, safe_next, session_cookies};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tessera_core::flow::FlowStatus;
use tessera_core::service::Auth;
use tessera_core::store::push::{PushRequest, PushStatus, binding_key};
use tessera_core::{Error, FlowId, Kind, Method, MethodId, RequestContext};

const SIGN_IN_PATH: &str = "/sign-in/notification";
const STEP_UP_PATH: &str = "/step-up/notification";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(SIGN_IN_PATH, get(sign_in_form).post(sign_in))
        .route("/sign-in/notification/status", get(sign_in_status))
        .route(STEP_UP_PATH, get(step_up_form).post(step_up))
        .route("/step-up/notification/status", get(step_up_status))
}

#[derive(Template)]
#[template(path = "push_wait.html")]
struct WaitTemplate<'a> {
    page: &'a Page,
    title: String,
    intro: String,
    /// The number to type in the app, while the notification waits.
    number: Option<u8>,
    /// Why the last notification is over, when it ended unapproved.
    ended: Option<String>,
    /// Whether another notification may be asked for (not after a denied sign-in).
    can_resend: bool,
    /// Whether the app's code may be typed instead.
    code_allowed: bool,
    action: String,
    here: String,
    status_url: String,
    script: String,
    method_id: String,
    next: Option<String>,
    links: Vec<(String, String)>,
    error: Option<String>,
}

impl WaitTemplate<'_> {
    fn render(mut self, error: Option<(StatusCode, String)>) -> Response {
        let status = match error {
            Some((status, message)) => {
                self.error = Some(message);
                status
            }
            None => StatusCode::OK,
        };
        html(status, &self)
    }
}

/// What the page shows of the newest notification: the number while it waits, or why it
/// ended; and whether another may be asked for.
struct Shown {
    number: Option<u8>,
    ended: Option<String>,
    can_resend: bool,
}

impl Shown {
    fn waiting(number: Option<u8>) -> Self {
        Shown {
            number,
            ended: None,
            can_resend: number.is_none(),
        }
    }

    fn nothing() -> Self {
        Self::waiting(None)
    }

    /// The notification limit is used up: the page says when the next one can be asked for,
    /// instead of a button that would only be refused.
    fn limit_reached(page: &Page, now: time::OffsetDateTime, retry_after: u64) -> Self {
        let at = super::view::Stamp::new(now + time::Duration::seconds(retry_after as i64));
        Shown {
            number: None,
            ended: Some(page.tr.with("push-limit-reached", "time", at.text)),
            can_resend: false,
        }
    }
}

/// What the page shows of the newest notification for `method`. `None` when there is none
/// for this method yet.
fn shown(
    page: &Page,
    latest: Option<&PushRequest>,
    method: &Method,
    now: time::OffsetDateTime,
) -> Option<Shown> {
    let r = latest.filter(|r| r.method_id == method.id)?;
    Some(match r.status_at(now) {
        PushStatus::Pending => Shown::waiting(Some(r.number)),
        status => Shown {
            number: None,
            ended: Some(page.t(&ended_key(status))),
            can_resend: true,
        },
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct MethodQuery {
    method: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct PushForm {
    #[serde(default)]
    method_id: String,
    /// `resend`, or `code` with the app's code.
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
}

// Signing in.

fn app_method<'m>(
    methods: &'m [Method],
    wanted: Option<&str>,
    default: MethodId,
) -> Option<&'m Method> {
    let wanted = wanted.and_then(|w| w.trim().parse::<MethodId>().ok());
    methods
        .iter()
        .find(|m| Some(m.id) == wanted)
        .or_else(|| methods.iter().find(|m| m.id == default))
        .filter(|m| m.kind == Kind::AuthenticatorApp)
}

async fn sign_in_page(
    page: &Page,
    state: &AppState,
    ctx: &RequestContext,
    flow: FlowId,
    wanted: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let latest = state.tessera.sign_in_push(flow).await?;
    let now = state.tessera.now();
    if latest
        .as_ref()
        .is_some_and(|r| r.status == PushStatus::Approved)
    {
        // Approved on the device: this page hands the flow's session to this browser.
        return Ok(match state.tessera.sign_in_status(flow, None, ctx).await {
            Ok(FlowStatus::SignedIn(Some(session))) => (
                session_cookies(state, &session),
                Redirect::to("/security-info"),
            )
                .into_response(),
            Ok(_) | Err(Error::NotFound) => StartAgain::sign_in(state).into_response(),
            Err(e) => return Err(e.into()),
        });
    }
    let (methods, default) = match state.tessera.sign_in_methods(flow).await {
        Ok(found) => found,
        Err(Error::Expired | Error::NotFound) => {
            let denied = latest
                .as_ref()
                .filter(|r| matches!(r.status, PushStatus::Denied | PushStatus::Reported));
            return match denied {
                Some(r) => Ok(denied_page(page, r.status)),
                None => Ok(StartAgain::sign_in(state).into_response()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let Some(method) = app_method(&methods, wanted, default) else {
        return Ok(Redirect::to("/sign-in/verify").into_response());
    };
    let shown = match shown(page, latest.as_ref(), method, now) {
        Some(found) => found,
        None => match state.tessera.sign_in_challenge(flow, method.id, ctx).await {
            Ok(challenge) => Shown::waiting(challenge.number),
            Err(Error::Expired | Error::NotFound) => {
                return Ok(StartAgain::sign_in(state).into_response());
            }
            Err(Error::RateLimited { retry_after }) => Shown::limit_reached(page, now, retry_after),
            Err(e) => {
                let error = page.form_error(e)?;
                return sign_in_page_with(
                    page,
                    state,
                    &methods,
                    method,
                    Shown::nothing(),
                    Some(error),
                )
                .await;
            }
        },
    };
    sign_in_page_with(page, state, &methods, method, shown, error).await
}

async fn sign_in_page_with(
    page: &Page,
    state: &AppState,
    methods: &[Method],
    method: &Method,
    shown: Shown,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let view = MethodView::new(method, None, &page.tr);
    let mut links = Vec::new();
    if methods.len() > 1 {
        links.push(("/sign-in/other".to_string(), page.t("verify-other")));
    }
    links.push(("/sign-in".to_string(), page.t("verify-cancel")));
    let here = format!("{SIGN_IN_PATH}?method={}", method.id);
    let template = WaitTemplate {
        page,
        title: page.t("push-sign-in-title"),
        intro: page.tr.with("push-intro", "method", &view.label),
        number: shown.number,
        can_resend: shown.can_resend,
        ended: shown.ended,
        code_allowed: state.tessera.policy().await?.code_instead_of_notification,
        action: SIGN_IN_PATH.into(),
        here,
        status_url: "/sign-in/notification/status".into(),
        script: super::assets::push_script(),
        method_id: method.id.to_string(),
        next: None,
        links,
        error: None,
    };
    Ok(template.render(error))
}

/// The sign-in was denied on the device: it is over.
fn denied_page(page: &Page, status: PushStatus) -> Response {
    let title = match status {
        PushStatus::Reported => "push-reported-title",
        _ => "push-denied-title",
    };
    let template = WaitTemplate {
        page,
        title: page.t(title),
        intro: page.t(&ended_key(status)),
        number: None,
        ended: None,
        can_resend: false,
        code_allowed: false,
        action: SIGN_IN_PATH.into(),
        here: SIGN_IN_PATH.into(),
        status_url: String::new(),
        script: String::new(),
        method_id: String::new(),
        next: None,
        links: vec![("/sign-in".to_string(), page.t("push-start-again"))],
        error: None,
    };
    template.render(None)
}

async fn sign_in_form(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    SignInFlow(flow): SignInFlow,
    Query(q): Query<MethodQuery>,
) -> Result<Response, WebError> {
    sign_in_page(&page, &state, &ctx, flow, q.method.as_deref(), None).await
}

async fn sign_in(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<SignInFlow, StartAgain>,
    form: Result<CsrfForm<PushForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let SignInFlow(flow) = flow?;
    let Ok(method_id) = form.method_id.trim().parse::<MethodId>() else {
        return Ok(StartAgain::sign_in(&state).into_response());
    };
    let here = format!("{SIGN_IN_PATH}?method={method_id}");
    let result = match form.action.as_str() {
        "code" => match state
            .tessera
            .sign_in_verify(flow, method_id, &form.code, &ctx)
            .await
        {
            Ok(session) => {
                return Ok((
                    session_cookies(&state, &session),
                    Redirect::to("/security-info"),
                )
                    .into_response());
            }
            Err(e) => Err(e),
        },
        _ => state
            .tessera
            .sign_in_challenge(flow, method_id, &ctx)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&here).into_response()),
        Err(Error::Expired) => Ok(StartAgain::sign_in(&state).into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            sign_in_page(
                &page,
                &state,
                &ctx,
                flow,
                Some(&form.method_id),
                Some(error),
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct WaitQuery {
    wait: Option<u64>,
}

/// What the script watches: the newest notification's status (`none` before there is one).
#[derive(Debug, serde::Serialize)]
struct StatusJson {
    state: &'static str,
}

/// Waits while `look` finds a pending notification, then says where it stands.
async fn status_json<F, Fut>(
    state: &AppState,
    key: String,
    wait: Option<u64>,
    look: F,
) -> Result<Response, WebError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = tessera_core::Result<Option<PushRequest>>>,
{
    let found = crate::api::push::watch(state, key, wait, look).await?;
    let found = found.map_or("none", |r| r.status_at(state.tessera.now()).as_str());
    Ok(Json(StatusJson { state: found }).into_response())
}

async fn sign_in_status(
    State(state): State<AppState>,
    flow: Option<SignInFlow>,
    Query(q): Query<WaitQuery>,
) -> Result<Response, WebError> {
    let Some(SignInFlow(flow)) = flow else {
        return Err(Error::NotFound.into());
    };
    status_json(&state, binding_key(&flow.to_string()), q.wait, || {
        state.tessera.sign_in_push(flow)
    })
    .await
}

// Verifying before a change to security info.

fn step_up_here(next: &str, method: MethodId) -> String {
    let query = serde_urlencoded::to_string([("next", next), ("method", &method.to_string())])
        .unwrap_or_default();
    format!("{STEP_UP_PATH}?{query}")
}

async fn step_up_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    ctx: &RequestContext,
    next: String,
    wanted: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    if super::already_stepped_up(state, auth, &next).await {
        return Ok(Redirect::to(&next).into_response());
    }
    let (methods, default) = state.tessera.step_up_methods(auth).await?;
    let back = super::step_up_url(&next);
    let Some(default) = default else {
        return Ok(Redirect::to(&back).into_response());
    };
    let Some(method) = app_method(&methods, wanted, default) else {
        return Ok(Redirect::to(&back).into_response());
    };
    let latest = state.tessera.step_up_push(auth).await?;
    let now = state.tessera.now();
    let shown = match shown(page, latest.as_ref(), method, now) {
        Some(found) => found,
        None => match state.tessera.step_up_challenge(auth, method.id, ctx).await {
            Ok(challenge) => Shown::waiting(challenge.number),
            Err(Error::RateLimited { retry_after }) => Shown::limit_reached(page, now, retry_after),
            Err(e) => {
                let error = page.form_error(e)?;
                return step_up_page_with(
                    page,
                    state,
                    &methods,
                    method,
                    next,
                    Shown::nothing(),
                    Some(error),
                )
                .await;
            }
        },
    };
    step_up_page_with(page, state, &methods, method, next, shown, error).await
}

async fn step_up_page_with(
    page: &Page,
    state: &AppState,
    methods: &[Method],
    method: &Method,
    next: String,
    shown: Shown,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let view = MethodView::new(method, None, &page.tr);
    let mut links: Vec<(String, String)> = methods
        .iter()
        .filter(|m| m.id != method.id)
        .map(|m| {
            let query = serde_urlencoded::to_string([
                ("next", next.as_str()),
                ("method", &m.id.to_string()),
            ])
            .unwrap_or_default();
            (
                format!("/step-up?{query}"),
                page.tr.with(
                    "push-other-method",
                    "method",
                    MethodView::new(m, None, &page.tr).label,
                ),
            )
        })
        .collect();
    links.push(("/security-info".to_string(), page.t("common-cancel")));
    let template = WaitTemplate {
        page,
        title: page.t("step-up-title"),
        intro: page.tr.with("push-step-up-intro", "method", &view.label),
        number: shown.number,
        can_resend: shown.can_resend,
        ended: shown.ended,
        code_allowed: state.tessera.policy().await?.code_instead_of_notification,
        action: STEP_UP_PATH.into(),
        here: step_up_here(&next, method.id),
        status_url: "/step-up/notification/status".into(),
        script: super::assets::push_script(),
        method_id: method.id.to_string(),
        next: Some(next),
        links,
        error: None,
    };
    Ok(template.render(error))
}

async fn step_up_form(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Query(q): Query<MethodQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let next = safe_next(q.next.as_deref());
    step_up_page(&page, &state, &auth, &ctx, next, q.method.as_deref(), None).await
}

async fn step_up(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<PushForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.full(&state).await?;
    let next = safe_next(form.next.as_deref());
    let Ok(method_id) = form.method_id.trim().parse::<MethodId>() else {
        return Err(Error::NotFound.into());
    };
    let result = match form.action.as_str() {
        "code" => match state
            .tessera
            .step_up_verify(&auth, method_id, &form.code, &ctx)
            .await
        {
            Ok(()) => return Ok(Redirect::to(&next).into_response()),
            Err(e) => Err(e),
        },
        _ => state
            .tessera
            .step_up_challenge(&auth, method_id, &ctx)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&step_up_here(&next, method_id)).into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            step_up_page(
                &page,
                &state,
                &auth,
                &ctx,
                next,
                Some(&form.method_id),
                Some(error),
            )
            .await
        }
    }
}

async fn step_up_status(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<WaitQuery>,
) -> Result<Response, WebError> {
    let auth = page.full(&state).await?;
    let key = binding_key(&auth.session.id.to_string());
    status_json(&state, key, q.wait, || state.tessera.step_up_push(&auth)).await
}
