//! Adding an authenticator code (any TOTP app): a name (optional), then the QR code (or the
//! secret to type in) and one code from the app, which proves the app has the secret before
//! it counts. Other pending kinds that land on `/security-info/methods/{id}/verify` are sent
//! on to their own page.
//!
//! The pending method lives in the store, so reloading the QR page, or answering it on
//! another node, shows the same secret.

use super::{Page, WebError, html, ok, posted, step_up_proof};
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::qr;
use crate::session::Context;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tessera_core::method::authenticator_code::{DIGITS, STEP_SECS};
use tessera_core::method::{Enrollment, RegisterRequest};
use tessera_core::service::Auth;
use tessera_core::{Error, Kind, MethodId, Problem};

pub const BEGIN_PATH: &str = "/security-info/add/authenticator-code";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BEGIN_PATH, get(begin_form).post(begin))
        .route(
            "/security-info/methods/{id}/verify",
            get(finish_form).post(finish),
        )
}

#[derive(Template)]
#[template(path = "add_authenticator_code.html")]
struct BeginTemplate<'a> {
    page: &'a Page,
    name: &'a str,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BeginQuery {
    notice: Option<String>,
}

/// The person's session, if they may add an authenticator code (core decides).
async fn allowed(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.signed_in(state).await?;
    state.tessera.may_add(Kind::AuthenticatorCode).await?;
    Ok(auth)
}

pub async fn begin_form(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<BeginQuery>,
) -> Result<Response, WebError> {
    let auth = allowed(&mut page, &state).await?;
    step_up_proof(&state, &auth, BEGIN_PATH).await?;
    let notice = (q.notice.as_deref() == Some("expired")).then(|| page.t("enroll-expired"));
    Ok(ok(&BeginTemplate {
        page: &page,
        name: "",
        notice,
        error: None,
    }))
}

#[derive(Deserialize)]
pub struct BeginForm {
    #[serde(default)]
    name: String,
}

pub async fn begin(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<BeginForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = allowed(&mut page, &state).await?;
    let proof = step_up_proof(&state, &auth, BEGIN_PATH).await?;
    let name = Some(form.name.trim().to_string()).filter(|n| !n.is_empty());
    match state
        .tessera
        .register_begin(
            &auth,
            RegisterRequest::AuthenticatorCode { name },
            proof,
            &ctx,
        )
        .await
    {
        Ok((method, _)) => Ok(Redirect::to(&format!(
            "/security-info/methods/{}/verify",
            method.id
        ))
        .into_response()),
        Err(e) => {
            let (status, message) = page.form_error(e)?;
            Ok(html(
                status,
                &BeginTemplate {
                    page: &page,
                    name: &form.name,
                    notice: None,
                    error: Some(message),
                },
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "enroll.html")]
struct FinishTemplate<'a> {
    page: &'a Page,
    action: String,
    qr_svg: Option<String>,
    otpauth_uri: String,
    account: String,
    issuer: String,
    secret: String,
    kind_type: String,
    code_intro: String,
    error: Option<String>,
}

/// What a pending registration's page shows, or where to go instead.
enum Pending {
    Show(Enrolling),
    Elsewhere(Response),
}

/// What the app needs to learn the secret.
struct Enrolling {
    qr_svg: Option<String>,
    otpauth_uri: String,
    secret: String,
}

async fn pending(state: &AppState, auth: &Auth, id: MethodId) -> Result<Pending, WebError> {
    // An app already activated has no enrollment left, but still a page: its test
    // notification.
    if state.tessera.app_registration(auth, id).await.is_ok() {
        return Ok(Pending::Elsewhere(
            Redirect::to(&format!("/security-info/authenticator-apps/{id}")).into_response(),
        ));
    }
    match state.tessera.pending_enrollment(auth, id).await {
        Ok((
            _,
            Enrollment::Totp {
                secret_base32,
                otpauth_uri,
            },
        )) => {
            // The XML prolog has no place inside HTML.
            let qr_svg = qr::svg(&otpauth_uri).map(|svg| match svg.find("<svg") {
                Some(start) => svg[start..].to_string(),
                None => svg,
            });
            Ok(Pending::Show(Enrolling {
                qr_svg,
                otpauth_uri,
                secret: qr::group_secret(&secret_base32),
            }))
        }
        // The authenticator app activates, then approves a notification, on its own page.
        Ok((_, Enrollment::AppActivation { .. })) => Ok(Pending::Elsewhere(
            Redirect::to(&format!("/security-info/authenticator-apps/{id}")).into_response(),
        )),
        // An imported hardware token is activated with one code, on its own page.
        Ok((_, Enrollment::HardwareToken { .. })) => Ok(Pending::Elsewhere(
            Redirect::to(&format!("/security-info/hardware-tokens/{id}")).into_response(),
        )),
        // A phone or email waits for the code sent to it (or the # of a call) on its page.
        Ok((_, Enrollment::Sent { .. })) => Ok(Pending::Elsewhere(
            Redirect::to(&format!("/security-info/sent-code/{id}")).into_response(),
        )),
        // A security key registers on its own page, with the browser's WebAuthn call.
        Ok((_, Enrollment::WebAuthn { .. })) => Ok(Pending::Elsewhere(
            Redirect::to(&format!("/security-info/security-keys/{id}")).into_response(),
        )),
        // Already verified (a second submit, or the back button): nothing left to do here.
        Err(Error::BadRequest {
            field: "id",
            problem: Problem::Invalid,
        }) => Ok(Pending::Elsewhere(
            Redirect::to("/security-info").into_response(),
        )),
        Err(Error::Expired) => Ok(Pending::Elsewhere(
            Redirect::to(&format!("{BEGIN_PATH}?notice=expired")).into_response(),
        )),
        Err(e) => Err(e.into()),
    }
}

fn finish_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    id: MethodId,
    data: Enrolling,
    error: Option<(StatusCode, String)>,
) -> Response {
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let template = FinishTemplate {
        page,
        action: format!("/security-info/methods/{id}/verify"),
        qr_svg: data.qr_svg,
        otpauth_uri: data.otpauth_uri,
        account: auth.account.username.clone(),
        issuer: state.tessera.issuer().to_string(),
        secret: data.secret,
        kind_type: page.tr.args(
            "enroll-type-value",
            &[
                ("digits", DIGITS.to_string()),
                ("seconds", STEP_SECS.to_string()),
            ],
        ),
        code_intro: page
            .tr
            .with("enroll-code-intro", "org", state.tessera.issuer()),
        error,
    };
    html(status, &template)
}

pub async fn finish_form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    Ok(match pending(&state, &auth, id).await? {
        Pending::Show(data) => finish_page(&page, &state, &auth, id, data, None),
        Pending::Elsewhere(response) => response,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn finish(
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
    Ok(match pending(&state, &auth, id).await? {
        Pending::Show(data) => finish_page(&page, &state, &auth, id, data, Some(error)),
        Pending::Elsewhere(response) => response,
    })
}
