//! Signing in: the password, then a code (or "sign in another way"), or the registration
//! interrupt; and signing out.
//!
//! Between the password and the code the browser holds only the flow id (the flow cookie);
//! the flow itself lives in the store, so any node can take the next step.

use super::challenge_page::ChallengePage;
use super::flow_cookie::{SignInFlow, StartAgain};
use super::view::MethodView;
use super::{Page, WebError, ok, posted, session_cookies};
use crate::AppState;
use crate::error::ApiError;
use crate::session::{COOKIE_FLOW, COOKIE_SESSION, Context};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use tessera_core::flow::SignInOutcome;
use tessera_core::{Error, FlowId, Method, MethodId};
use zeroize::Zeroizing;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInTemplate<'a> {
    page: &'a Page,
    intro: String,
    username: &'a str,
    notice: Option<String>,
    error: Option<String>,
    /// The error is about the password (a wrong one, say), so the field is marked; a
    /// directory that does not answer is not the person's mistake.
    password_invalid: bool,
    /// The policy lets people sign in with a passkey alone.
    passkey: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    notice: Option<String>,
}

pub async fn form(
    page: Page,
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<SignInQuery>,
) -> Response {
    // Only known notices: the query string must not put arbitrary text on the page.
    let notice = match q.notice.as_deref() {
        Some("signed-out") => Some(page.t("sign-in-signed-out")),
        Some("expired") => Some(page.t("sign-in-expired")),
        _ => None,
    };
    let intro = page.tr.with("sign-in-intro", "org", &page.org);
    // An app that knows who is signing in (OpenID Connect's `login_hint`) fills in the name.
    let hint = crate::oidc::login_hint(&state, &jar).await;
    ok(&SignInTemplate {
        page: &page,
        intro,
        username: hint.as_deref().unwrap_or(""),
        notice,
        error: None,
        password_invalid: false,
        passkey: super::security_key::passkey_offered(&state).await,
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<crate::csrf::CsrfForm<SignInForm>, ApiError>,
) -> Result<Response, WebError> {
    let SignInForm { username, password } = posted(form)?;
    let outcome = match state
        .tessera
        .sign_in(&username, Zeroizing::new(password), &ctx)
        .await
    {
        Ok(outcome) => outcome,
        Err(e) => {
            let password_invalid = matches!(e, Error::InvalidCredentials | Error::Locked { .. });
            let (status, message) = page.form_error(e)?;
            let intro = page.tr.with("sign-in-intro", "org", &page.org);
            let template = SignInTemplate {
                page: &page,
                intro,
                username: &username,
                notice: None,
                error: Some(message),
                password_invalid,
                passkey: super::security_key::passkey_offered(&state).await,
            };
            return Ok(super::html(status, &template));
        }
    };
    Ok(match outcome {
        SignInOutcome::SignedIn(session) => (
            session_cookies(&state, &session),
            Redirect::to("/security-info"),
        )
            .into_response(),
        SignInOutcome::MfaRequired { flow, .. } => {
            let jar = CookieJar::new().add(state.cookie(COOKIE_FLOW, flow.to_string()));
            (jar, Redirect::to("/sign-in/verify")).into_response()
        }
        SignInOutcome::RegistrationRequired { flow, session } => {
            // The flow cookie stays: the registration session completes this flow.
            let jar =
                session_cookies(&state, &session).add(state.cookie(COOKIE_FLOW, flow.to_string()));
            (jar, Redirect::to("/sign-in/register")).into_response()
        }
    })
}

#[derive(Template)]
#[template(path = "sign_in_verify.html")]
struct VerifyTemplate<'a> {
    page: &'a Page,
    method: MethodView,
    intro: String,
    field: super::code_field::CodeField,
    has_others: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MethodQuery {
    method: Option<String>,
}

/// The flow's methods and the one to ask for, or `None` when the flow is over.
async fn flow_methods(
    state: &AppState,
    flow: FlowId,
) -> Result<Option<(Vec<Method>, MethodId)>, WebError> {
    match state.tessera.sign_in_methods(flow).await {
        Ok(found) => Ok(Some(found)),
        Err(Error::Expired | Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn chosen<'m>(
    methods: &'m [Method],
    wanted: Option<&str>,
    default: MethodId,
) -> Option<&'m Method> {
    let wanted = wanted.and_then(|w| w.trim().parse::<MethodId>().ok());
    methods
        .iter()
        .find(|m| Some(m.id) == wanted)
        .or_else(|| methods.iter().find(|m| m.id == default))
}

fn verify_page(
    page: &Page,
    methods: &[Method],
    method: &Method,
    error: Option<(StatusCode, String)>,
) -> Response {
    let view = MethodView::new(method, None, &page.tr);
    let intro = super::code_field::intro(method.kind, &view.label, &page.tr, "verify-intro");
    let field = super::code_field::CodeField::for_kind(method.kind, &page.tr);
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let template = VerifyTemplate {
        page,
        method: view,
        intro,
        field,
        has_others: methods.len() > 1,
        error,
    };
    super::html(status, &template)
}

pub async fn verify_form(
    page: Page,
    State(state): State<AppState>,
    SignInFlow(flow): SignInFlow,
    Query(q): Query<MethodQuery>,
) -> Result<Response, WebError> {
    let Some((methods, default)) = flow_methods(&state, flow).await? else {
        return Ok(StartAgain::sign_in(&state).into_response());
    };
    let Some(method) = chosen(&methods, q.method.as_deref(), default) else {
        return Ok(StartAgain::sign_in(&state).into_response());
    };
    let asks = ChallengePage::of(method.kind);
    // The default asks the way the person chose with it: an app whose way is its code
    // shows the code field rather than sending a notification.
    let code_first = asks == ChallengePage::Notification
        && q.method.is_none()
        && tessera_core::method::way::first_way(method, &*state.tessera.policy().await?)
            == Some(tessera_core::method::way::Way::Code);
    if !code_first && let Some(to) = asks.sign_in_url(method) {
        return Ok(Redirect::to(&to).into_response());
    }
    Ok(verify_page(&page, &methods, method, None))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    method_id: String,
    #[serde(default)]
    code: String,
}

pub async fn verify(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<SignInFlow, StartAgain>,
    form: Result<crate::csrf::CsrfForm<CodeForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let SignInFlow(flow) = flow?;
    let result = match form.method_id.trim().parse::<MethodId>() {
        Ok(method_id) => {
            state
                .tessera
                .sign_in_verify(flow, method_id, &form.code, &ctx)
                .await
        }
        Err(_) => Err(Error::NotFound),
    };
    let error = match result {
        Ok(session) => {
            return Ok((
                session_cookies(&state, &session),
                Redirect::to("/security-info"),
            )
                .into_response());
        }
        Err(e) => page.form_error(e)?,
    };
    // Say what went wrong on the same form, unless the flow itself is over.
    let Some((methods, default)) = flow_methods(&state, flow).await? else {
        return Ok(StartAgain::sign_in(&state).into_response());
    };
    let Some(method) = chosen(&methods, Some(&form.method_id), default) else {
        return Ok(StartAgain::sign_in(&state).into_response());
    };
    Ok(verify_page(&page, &methods, method, Some(error)))
}

#[derive(Template)]
#[template(path = "sign_in_other.html")]
struct OtherTemplate<'a> {
    page: &'a Page,
    methods: Vec<MethodView>,
}

pub async fn other(
    page: Page,
    State(state): State<AppState>,
    SignInFlow(flow): SignInFlow,
) -> Result<Response, WebError> {
    let Some((methods, default)) = flow_methods(&state, flow).await? else {
        return Ok(StartAgain::sign_in(&state).into_response());
    };
    let methods = methods
        .iter()
        .map(|m| MethodView::new(m, Some(default), &page.tr))
        .collect();
    Ok(ok(&OtherTemplate {
        page: &page,
        methods,
    }))
}

/// The registration wizard: a registration session's only page besides adding a method.
pub async fn register(mut page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    match page.auth(&state).await? {
        None => Ok(StartAgain::sign_in(&state).into_response()),
        Some(auth) if auth.session.kind == tessera_core::SessionKind::Full => {
            Ok(Redirect::to("/security-info").into_response())
        }
        Some(auth) => super::registration::page(page, &state, &auth).await,
    }
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn sign_out(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<crate::csrf::CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    if let Some(auth) = page.auth(&state).await? {
        state.tessera.sign_out(&auth, &ctx).await?;
    }
    let jar = CookieJar::new()
        .add(state.removal_cookie(COOKIE_SESSION))
        .add(state.removal_cookie(COOKIE_FLOW));
    Ok((jar, Redirect::to("/sign-in?notice=signed-out")).into_response())
}
