//! Security key pages: adding a key (name it, then touch it and enter its PIN), and using one
//! to sign in, to verify before a change, or, when the policy allows, to sign in with a
//! passkey alone.
//!
//! The browser's WebAuthn calls live in `/static/webauthn.js` (the CSP allows no inline
//! script): each page carries the options in its form, the script asks the key, puts the
//! answer in the form's `webauthn` field and posts it with the CSRF token. A page that failed
//! starts a fresh ceremony, since the one answered (or refused) is spent.

use super::flow_cookie::{SignInFlow, StartAgain};
use super::view::MethodView;
use super::{Page, WebError, html, ok, posted, session_cookies, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::method::{Enrollment, RegisterRequest, Response as Answer};
use tessera_core::service::Auth;
use tessera_core::{Error, FlowId, Kind, MethodId, Problem};

mod step_up;

use step_up::{step_up, step_up_form};

const ADD_PATH: &str = "/security-info/add/security-key";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ADD_PATH, get(add_form).post(add))
        .route(
            "/security-info/security-keys/{id}",
            get(register_form).post(register),
        )
        .route("/sign-in/security-key", get(sign_in_form).post(sign_in))
        .route("/step-up/security-key", get(step_up_form).post(step_up))
        .route("/sign-in/passkey", get(passkey_form).post(passkey))
}

#[derive(Template)]
#[template(path = "security_key_add.html")]
struct AddTemplate<'a> {
    page: &'a Page,
    name: &'a str,
    notice: Option<String>,
    error: Option<String>,
}

/// One WebAuthn ceremony page: registering, signing in, verifying, or a passkey.
#[derive(Template)]
#[template(path = "security_key_ceremony.html")]
struct CeremonyTemplate<'a> {
    page: &'a Page,
    title: String,
    intro: String,
    button: String,
    action: String,
    /// `create` (registration) or `get` (an assertion).
    mode: &'static str,
    options: String,
    fields: Vec<(&'static str, String)>,
    cancel: Option<String>,
    links: Vec<(String, String)>,
    script: String,
    error: Option<String>,
}

impl<'a> CeremonyTemplate<'a> {
    fn new(page: &'a Page, mode: &'static str, options: &serde_json::Value) -> Self {
        CeremonyTemplate {
            page,
            title: String::new(),
            intro: String::new(),
            button: page.t("security-key-use"),
            action: String::new(),
            mode,
            options: options.to_string(),
            fields: Vec::new(),
            cancel: None,
            links: Vec::new(),
            script: super::assets::webauthn_script(),
            error: None,
        }
    }

    fn render(self, error: Option<(StatusCode, String)>) -> Response {
        let (status, error) = match error {
            Some((status, message)) => (status, Some(message)),
            None => (StatusCode::OK, None),
        };
        html(status, &CeremonyTemplate { error, ..self })
    }
}

/// What a person reads when a key's answer was refused; other errors say their own thing.
pub(super) fn ceremony_error(page: &Page, e: Error) -> Result<(StatusCode, String), WebError> {
    let key = match &e {
        Error::InvalidCode => "security-key-failed",
        Error::BadRequest {
            field: "webauthn",
            problem: Problem::Taken,
        } => "security-key-taken",
        Error::BadRequest {
            field: "webauthn", ..
        } => "security-key-needs-js",
        _ => return page.form_error(e),
    };
    Ok((StatusCode::BAD_REQUEST, page.t(key)))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    webauthn: String,
    #[serde(default)]
    method_id: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    ceremony: String,
    /// Carried from [`MethodQuery::phishing_resistant`] through the step-up form.
    #[serde(default)]
    phishing_resistant: Option<String>,
}

impl AnswerForm {
    /// The browser's answer; an empty field means the script never ran.
    fn answer(&self) -> Result<Answer, Error> {
        serde_json::from_str::<serde_json::Value>(&self.webauthn)
            .ok()
            .filter(serde_json::Value::is_object)
            .map(Answer::WebAuthn)
            .ok_or(Error::bad("webauthn", Problem::Required))
    }
}

// Adding a key.

#[derive(Debug, Default, Deserialize)]
pub struct AddQuery {
    notice: Option<String>,
}

/// The person's session, if security keys can be added here at all.
async fn may_add(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.signed_in(state).await?;
    state.tessera.may_add(Kind::SecurityKey).await?;
    Ok(auth)
}

pub async fn add_form(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<AddQuery>,
) -> Result<Response, WebError> {
    let auth = may_add(&mut page, &state).await?;
    step_up_proof(&state, &auth, ADD_PATH).await?;
    let notice = (q.notice.as_deref() == Some("expired")).then(|| page.t("enroll-expired"));
    Ok(ok(&AddTemplate {
        page: &page,
        name: "",
        notice,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn add(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<NameForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = may_add(&mut page, &state).await?;
    let proof = step_up_proof(&state, &auth, ADD_PATH).await?;
    let request = RegisterRequest::SecurityKey {
        name: Some(form.name.clone()),
    };
    match state
        .tessera
        .register_begin(&auth, request, proof, &ctx)
        .await
    {
        Ok((method, _)) => Ok(
            Redirect::to(&format!("/security-info/security-keys/{}", method.id)).into_response(),
        ),
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            let template = AddTemplate {
                page: &page,
                name: &form.name,
                notice: None,
                error: Some(message),
            };
            Ok(html(status, &template))
        }
    }
}

async fn register_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    id: MethodId,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let (method, options) = match state.tessera.pending_enrollment(auth, id).await {
        Ok((method, Enrollment::WebAuthn { options })) => (method, options),
        Ok(_) => {
            return Ok(Redirect::to(&format!("/security-info/methods/{id}/verify")).into_response());
        }
        // Registered already (a second submit, the back button): nothing left to do here.
        Err(Error::BadRequest {
            field: "id",
            problem: Problem::Invalid,
        }) => return Ok(Redirect::to("/security-info").into_response()),
        Err(Error::Expired) => {
            return Ok(Redirect::to(&format!("{ADD_PATH}?notice=expired")).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let view = MethodView::new(&method, None, &page.tr);
    let template = CeremonyTemplate {
        title: page.t("security-key-register-title"),
        intro: page
            .tr
            .with("security-key-register-intro", "name", &view.label),
        button: page.t("security-key-register"),
        action: format!("/security-info/security-keys/{id}"),
        cancel: Some("/security-info".into()),
        ..CeremonyTemplate::new(page, "create", &options)
    };
    Ok(template.render(error))
}

pub async fn register_form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    register_page(&page, &state, &auth, id, None).await
}

pub async fn register(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<AnswerForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let result = match form.answer() {
        Ok(answer) => {
            state
                .tessera
                .register_respond(&auth, id, &answer, &ctx)
                .await
        }
        Err(e) => Err(e),
    };
    let error = match result {
        Ok(m) => return Ok(super::registration::after_adding(&auth, m.kind)),
        Err(Error::Expired) => {
            return Ok(Redirect::to(&format!("{ADD_PATH}?notice=expired")).into_response());
        }
        Err(e) => ceremony_error(&page, e)?,
    };
    register_page(&page, &state, &auth, id, Some(error)).await
}

// Signing in with a key.

#[derive(Debug, Default, Deserialize)]
pub struct MethodQuery {
    method: Option<String>,
    next: Option<String>,
    /// Set by an OpenID Connect client's request for a phishing-resistant sign-in: a fresh
    /// second factor of another kind does not let the person through.
    #[serde(default)]
    phishing_resistant: Option<String>,
}

async fn sign_in_page(
    page: &Page,
    state: &AppState,
    ctx: &tessera_core::RequestContext,
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
    let wanted = wanted.and_then(|w| w.trim().parse::<MethodId>().ok());
    let Some(method) = methods
        .iter()
        .find(|m| Some(m.id) == wanted)
        .or_else(|| methods.iter().find(|m| m.id == default))
        .filter(|m| m.kind == Kind::SecurityKey)
    else {
        return Ok(Redirect::to("/sign-in/verify").into_response());
    };
    let challenge = match state.tessera.sign_in_challenge(flow, method.id, ctx).await {
        Ok(c) => c,
        Err(Error::Expired | Error::NotFound) => {
            return Ok(StartAgain::sign_in(state).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let options = challenge.webauthn.unwrap_or_default();
    let view = MethodView::new(method, None, &page.tr);
    let mut links = Vec::new();
    if methods.len() > 1 {
        links.push(("/sign-in/other".to_string(), page.t("verify-other")));
    }
    links.push(("/sign-in".to_string(), page.t("verify-cancel")));
    let template = CeremonyTemplate {
        title: page.t("security-key-sign-in-title"),
        intro: page
            .tr
            .with("security-key-sign-in-intro", "name", &view.label),
        action: "/sign-in/security-key".into(),
        fields: vec![("method_id", method.id.to_string())],
        links,
        ..CeremonyTemplate::new(page, "get", &options)
    };
    Ok(template.render(error))
}

pub async fn sign_in_form(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    SignInFlow(flow): SignInFlow,
    Query(q): Query<MethodQuery>,
) -> Result<Response, WebError> {
    sign_in_page(&page, &state, &ctx, flow, q.method.as_deref(), None).await
}

pub async fn sign_in(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    flow: Result<SignInFlow, StartAgain>,
    form: Result<CsrfForm<AnswerForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let SignInFlow(flow) = flow?;
    let result = match (form.method_id.trim().parse::<MethodId>(), form.answer()) {
        (Ok(method_id), Ok(answer)) => {
            state
                .tessera
                .sign_in_respond(flow, method_id, &answer, &ctx)
                .await
        }
        (Err(_), _) => Err(Error::NotFound),
        (_, Err(e)) => Err(e),
    };
    let error = match result {
        Ok(session) => {
            return Ok((
                session_cookies(&state, &session),
                Redirect::to("/security-info"),
            )
                .into_response());
        }
        Err(Error::Expired) => return Ok(StartAgain::sign_in(&state).into_response()),
        Err(e) => ceremony_error(&page, e)?,
    };
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

// Signing in with a passkey alone.

/// Whether the sign-in page offers a passkey (core decides; a failure offers none).
pub async fn passkey_offered(state: &AppState) -> bool {
    state
        .tessera
        .passkey_sign_in_offered()
        .await
        .unwrap_or(false)
}

async fn passkey_page(
    page: &Page,
    state: &AppState,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let challenge = state.tessera.passkey_sign_in_begin().await?;
    let template = CeremonyTemplate {
        title: page.t("passkey-title"),
        intro: page.tr.with("passkey-intro", "org", &page.org),
        button: page.t("passkey-use"),
        action: "/sign-in/passkey".into(),
        fields: vec![("ceremony", challenge.ceremony)],
        links: vec![("/sign-in".to_string(), page.t("passkey-password"))],
        ..CeremonyTemplate::new(page, "get", &challenge.options)
    };
    Ok(template.render(error))
}

pub async fn passkey_form(page: Page, State(state): State<AppState>) -> Result<Response, WebError> {
    passkey_page(&page, &state, None).await
}

pub async fn passkey(
    page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<AnswerForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let result = match form.answer() {
        Ok(Answer::WebAuthn(answer)) => {
            state
                .tessera
                .passkey_sign_in_finish(&form.ceremony, &answer, &ctx)
                .await
        }
        Ok(_) => Err(Error::bad("webauthn", Problem::Required)),
        Err(e) => Err(e),
    };
    let error = match result {
        Ok(session) => {
            return Ok((
                session_cookies(&state, &session),
                Redirect::to("/security-info"),
            )
                .into_response());
        }
        Err(Error::Expired) => (StatusCode::GONE, page.t("passkey-expired")),
        Err(e) => ceremony_error(&page, e)?,
    };
    passkey_page(&page, &state, Some(error)).await
}
