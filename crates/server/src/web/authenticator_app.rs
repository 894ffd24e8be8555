//! Adding the authenticator app: how to get it (or the way to any other app), then "Set up
//! your account" with the activation QR code (or the code and URL to type in), then the test
//! notification, approved on the device by typing the number the page shows.
//!
//! The page waits for each step: `/static/push.js` asks the status route and reloads when it
//! changes; without JavaScript the "Continue" button does the same. Everything lives in the
//! store, so any node can answer any of these requests.

use super::{Page, WebError, html, posted, step_up_proof};
use crate::AppState;
use crate::api::push::ActivationView;
use crate::csrf::CsrfForm;
use crate::error::ApiError;
use crate::long_poll::LongPoll;
use crate::session::Context;
use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tessera_core::method::RegisterRequest;
use tessera_core::method::authenticator_app::device::AppRegistration;
use tessera_core::service::Auth;
use tessera_core::store::push::{PushStatus, binding_key};
use tessera_core::{Error, Kind, MethodId};

pub const ADD_PATH: &str = "/security-info/add/authenticator-app";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ADD_PATH, get(add_form).post(add))
        .route("/security-info/authenticator-apps/{id}", get(activate_form))
        .route(
            "/security-info/authenticator-apps/{id}/resend",
            post(resend),
        )
        .route("/security-info/authenticator-apps/{id}/status", get(status))
}

fn app_path(id: MethodId) -> String {
    format!("/security-info/authenticator-apps/{id}")
}

#[derive(Template)]
#[template(path = "authenticator_app_add.html")]
struct AddTemplate<'a> {
    page: &'a Page,
    intro: String,
    /// "Get the app", where the admin set where to get it (policy `authenticator_app_url`).
    app_link: Option<String>,
    name: &'a str,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// The person's session, when the policy lets them add the app at all.
async fn allowed(page: &mut Page, state: &AppState) -> Result<Auth, WebError> {
    let auth = page.signed_in(state).await?;
    state.tessera.may_add(Kind::AuthenticatorApp).await?;
    Ok(auth)
}

fn add_page(
    page: &Page,
    app_link: Option<String>,
    name: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let template = AddTemplate {
        page,
        intro: page.tr.with("app-add-intro", "org", &page.org),
        app_link,
        name,
        notice,
        error,
    };
    html(status, &template)
}

async fn add_form(
    mut page: Page,
    State(state): State<AppState>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let auth = allowed(&mut page, &state).await?;
    step_up_proof(&state, &auth, ADD_PATH).await?;
    let notice = (q.notice.as_deref() == Some("expired")).then(|| page.t("app-expired"));
    Ok(add_page(&page, app_link(&state).await?, "", notice, None))
}

/// Where the admin says to get the app, if they said.
async fn app_link(state: &AppState) -> Result<Option<String>, WebError> {
    let url = state.tessera.policy().await?.authenticator_app_url.clone();
    Ok(Some(url.trim().to_string()).filter(|u| !u.is_empty()))
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
}

async fn add(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    form: Result<CsrfForm<AddForm>, ApiError>,
) -> Result<Response, WebError> {
    let form = posted(form)?;
    let auth = allowed(&mut page, &state).await?;
    let proof = step_up_proof(&state, &auth, ADD_PATH).await?;
    let name = Some(form.name.trim().to_string()).filter(|n| !n.is_empty());
    let request = RegisterRequest::AuthenticatorApp { name };
    match state
        .tessera
        .register_begin(&auth, request, proof, &ctx)
        .await
    {
        Ok((method, _)) => Ok(Redirect::to(&app_path(method.id)).into_response()),
        Err(e) => {
            let error = page.form_error(e)?;
            let link = app_link(&state).await?;
            Ok(add_page(&page, link, &form.name, None, Some(error)))
        }
    }
}

#[derive(Template)]
#[template(path = "authenticator_app_activate.html")]
struct ActivateTemplate<'a> {
    page: &'a Page,
    /// This page, for "Continue" and the script.
    here: String,
    status_url: String,
    script: String,
    /// While waiting for the device.
    activation: Option<ActivationView>,
    qr_svg: Option<String>,
    /// Once activated: the number to type in the app, while the test notification waits.
    number: Option<u8>,
    approve_intro: String,
    /// Once activated, when the last test notification ended unapproved.
    ended: Option<String>,
    resend_action: String,
    error: Option<String>,
    /// Phones get notifications only from an https Tessera (or loopback, in development).
    push_capable: bool,
}

/// Where the registration stands, or where to go instead.
async fn registration(
    state: &AppState,
    auth: &Auth,
    id: MethodId,
) -> Result<Result<AppRegistration, Response>, WebError> {
    match state.tessera.app_registration(auth, id).await {
        Ok((_, found)) => Ok(Ok(found)),
        Err(Error::Expired) => Ok(Err(
            Redirect::to(&format!("{ADD_PATH}?notice=expired")).into_response()
        )),
        Err(e) => Err(e.into()),
    }
}

async fn activate_page(
    page: &Page,
    state: &AppState,
    auth: &Auth,
    id: MethodId,
    error: Option<(StatusCode, String)>,
) -> Result<Response, WebError> {
    let found = match registration(state, auth, id).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let mut template = ActivateTemplate {
        page,
        here: app_path(id),
        status_url: format!("{}/status", app_path(id)),
        script: super::assets::push_script(),
        activation: None,
        qr_svg: None,
        number: None,
        approve_intro: String::new(),
        ended: None,
        resend_action: format!("{}/resend", app_path(id)),
        error: None,
        push_capable: state.config.is_https() || state.config.insecure_loopback(),
    };
    match found {
        AppRegistration::Active => {
            return Ok(super::registration::after_adding(
                auth,
                tessera_core::Kind::AuthenticatorApp,
            ));
        }
        AppRegistration::WaitingForDevice { code, expires_at } => {
            let view = ActivationView::new(state, code, expires_at);
            template.qr_svg = crate::qr::svg(&view.uri).map(|svg| match svg.find("<svg") {
                // The XML prolog has no place inside HTML.
                Some(start) => svg[start..].to_string(),
                None => svg,
            });
            template.activation = Some(view);
        }
        AppRegistration::WaitingForApproval {
            device_name,
            request,
        } => {
            let device = device_name.unwrap_or_else(|| page.t("kind-authenticator_app"));
            template.approve_intro = page.tr.with("app-approve-intro", "device", &device);
            match request.map(|r| (r.status_at(state.tessera.now()), r.number)) {
                Some((PushStatus::Pending, number)) => template.number = Some(number),
                Some((status, _)) => template.ended = Some(page.t(&ended_key(status))),
                None => template.ended = Some(page.t("push-ended-expired")),
            }
        }
    }
    let status = match error {
        Some((status, message)) => {
            template.error = Some(message);
            status
        }
        None => StatusCode::OK,
    };
    Ok(html(status, &template))
}

/// The message for a notification that ended without approval.
pub fn ended_key(status: PushStatus) -> String {
    format!("push-ended-{}", status.as_str())
}

async fn activate_form(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    activate_page(&page, &state, &auth, id, None).await
}

#[derive(Deserialize)]
pub struct EmptyForm {}

/// Sends another test notification.
async fn resend(
    mut page: Page,
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(id): Path<String>,
    form: Result<CsrfForm<EmptyForm>, ApiError>,
) -> Result<Response, WebError> {
    posted(form)?;
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    match state
        .tessera
        .resend_test_notification(&auth, id, &ctx)
        .await
    {
        Ok(_) => Ok(Redirect::to(&app_path(id)).into_response()),
        Err(Error::Expired) => {
            Ok(Redirect::to(&format!("{ADD_PATH}?notice=expired")).into_response())
        }
        Err(e) => {
            let error = page.form_error(e)?;
            activate_page(&page, &state, &auth, id, Some(error)).await
        }
    }
}

/// What the script watches: it reloads the page when `state` changes.
#[derive(Debug, Serialize)]
pub struct StatusJson {
    pub state: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct WaitQuery {
    wait: Option<u64>,
}

/// Where the registration stands, held open while it waits (for the script).
async fn status(
    mut page: Page,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<Response, WebError> {
    let auth = page.signed_in(&state).await?;
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let found = LongPoll::new(&state, binding_key(&id.to_string()), q.wait)
        .look(
            || label(&state, &auth, id),
            |found| found == "waiting_for_device" || found == "pending",
        )
        .await?;
    Ok(Json(StatusJson { state: found }).into_response())
}

async fn label(state: &AppState, auth: &Auth, id: MethodId) -> Result<String, WebError> {
    Ok(match state.tessera.app_registration(auth, id).await {
        Ok((_, AppRegistration::Active)) => "active".into(),
        Ok((_, AppRegistration::WaitingForDevice { .. })) => "waiting_for_device".into(),
        Ok((_, AppRegistration::WaitingForApproval { request, .. })) => request
            .map(|r| r.status_at(state.tessera.now()).as_str())
            .unwrap_or("expired")
            .into(),
        Err(Error::Expired) => "expired".into(),
        Err(e) => return Err(e.into()),
    })
}
