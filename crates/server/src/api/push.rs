//! Notifications from the signing-in side: where the newest notification of a sign-in, a
//! step-up or an app registration stands, held open with `?wait=N` until it changes; and
//! another test notification for a registration whose last one went unapproved.

use super::types::ChallengeResponse;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::long_poll::LongPoll;
use crate::session::{Authed, Context};
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use tessera_core::method::authenticator_app;
use tessera_core::method::authenticator_app::device::AppRegistration;
use tessera_core::store::push::{PushRequest, PushStatus, binding_key};
use tessera_core::{Error, FlowId, MethodId};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct WaitQuery {
    /// Seconds to hold the call open while the notification is pending (at most 25).
    pub wait: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushStateResponse {
    /// `pending`, `approved`, `denied`, `reported`, `failed` (the number typed in the app
    /// was wrong) or `expired`.
    pub status: &'static str,
    /// The number to show, which the person types in the app.
    pub number: u8,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

impl PushStateResponse {
    fn new(r: &PushRequest, now: OffsetDateTime) -> Self {
        PushStateResponse {
            status: r.status_at(now).as_str(),
            number: r.number,
            expires_at: r.expires_at,
        }
    }
}

/// The newest notification `look` finds, held open while it is pending and `wait` allows.
pub(crate) async fn watch<F, Fut>(
    state: &AppState,
    key: String,
    wait: Option<u64>,
    look: F,
) -> Result<Option<PushRequest>, ApiError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = tessera_core::Result<Option<PushRequest>>>,
{
    let pending = |found: &Option<PushRequest>| {
        found
            .as_ref()
            .is_some_and(|r| r.status_at(state.tessera.now()) == PushStatus::Pending)
    };
    Ok(LongPoll::new(state, key, wait).look(look, pending).await?)
}

/// The newest notification of a sign-in flow. The flow itself completes through
/// `GET /sign-in/{flow}` once it is approved.
#[utoipa::path(get, path = "/sign-in/{flow}/push", tag = "sign-in", params(("flow" = String, Path), WaitQuery),
    responses((status = 200, body = PushStateResponse),
        (status = 404, body = ErrorBody, description = "no notification was sent for this flow")))]
pub async fn sign_in_push(
    State(state): State<AppState>,
    Path(flow): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<ApiJson<PushStateResponse>, ApiError> {
    let flow: FlowId = flow.parse().map_err(|_| Error::NotFound)?;
    let found = watch(&state, binding_key(&flow.to_string()), q.wait, || {
        state.tessera.sign_in_push(flow)
    })
    .await?
    .ok_or(Error::NotFound)?;
    Ok(ApiJson(PushStateResponse::new(&found, state.tessera.now())))
}

/// The newest step-up notification of this session; `approved` means the session may
/// change security info now.
#[utoipa::path(get, path = "/me/step-up/push", tag = "me", params(WaitQuery),
    responses((status = 200, body = PushStateResponse), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no notification was sent for this session")),
    security(("bearer" = [])))]
pub async fn step_up_push(
    State(state): State<AppState>,
    Authed(auth): Authed,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<ApiJson<PushStateResponse>, ApiError> {
    let key = binding_key(&auth.session.id.to_string());
    let found = watch(&state, key, q.wait, || state.tessera.step_up_push(&auth))
        .await?
        .ok_or(Error::NotFound)?;
    Ok(ApiJson(PushStateResponse::new(&found, state.tessera.now())))
}

/// What a device needs to activate: for the QR code, or to type in by hand.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationView {
    /// The one-time activation code, `XXXX-XXXX-XXXX`.
    pub code: String,
    /// This server's URL, to type into the app with the code.
    pub url: String,
    /// `<public URL>/authenticator/#activate=<code>`, the QR code's content: it opens the web
    /// app, which activates; other apps read the server and the code from it.
    pub uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

impl ActivationView {
    pub fn new(state: &AppState, code: String, expires_at: OffsetDateTime) -> Self {
        let url = state.config.public_url.trim_end_matches('/').to_string();
        let uri = authenticator_app::activation_uri(&url, &code);
        ActivationView {
            qr_svg: crate::qr::svg(&uri).unwrap_or_default(),
            code,
            url,
            uri,
            expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationStateResponse {
    /// `waiting_for_device`, `waiting_for_approval` (activated; the test notification
    /// must be approved) or `active`.
    pub status: &'static str,
    /// While waiting for the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<ActivationView>,
    /// The name the device gave itself, once activated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// The newest test notification, once activated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_notification: Option<PushStateResponse>,
}

/// Where an authenticator app registration stands: waiting for the device to activate,
/// waiting for the test notification to be approved, or active.
#[utoipa::path(get, path = "/me/security-info/methods/{id}/activation", tag = "me",
    params(("id" = String, Path), WaitQuery),
    responses((status = 200, body = ActivationStateResponse), (status = 404, body = ErrorBody),
        (status = 410, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn activation(
    State(state): State<AppState>,
    Authed(auth): Authed,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<ApiJson<ActivationStateResponse>, ApiError> {
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let waiting = |(_, found): &(_, AppRegistration)| match found {
        AppRegistration::WaitingForDevice { .. } => true,
        AppRegistration::WaitingForApproval { request, .. } => request
            .as_ref()
            .is_some_and(|r| r.status_at(state.tessera.now()) == PushStatus::Pending),
        AppRegistration::Active => false,
    };
    let (_, found) = LongPoll::new(&state, binding_key(&id.to_string()), q.wait)
        .look(|| state.tessera.app_registration(&auth, id), waiting)
        .await?;
    let now = state.tessera.now();
    Ok(ApiJson(match found {
        AppRegistration::WaitingForDevice { code, expires_at } => ActivationStateResponse {
            status: "waiting_for_device",
            activation: Some(ActivationView::new(&state, code, expires_at)),
            device_name: None,
            test_notification: None,
        },
        AppRegistration::WaitingForApproval {
            device_name,
            request,
        } => ActivationStateResponse {
            status: "waiting_for_approval",
            activation: None,
            device_name,
            test_notification: request.map(|r| PushStateResponse::new(&r, now)),
        },
        AppRegistration::Active => ActivationStateResponse {
            status: "active",
            activation: None,
            device_name: None,
            test_notification: None,
        },
    }))
}

/// Sends another test notification to an activated app whose last one was denied, typed
/// wrong or not answered in time.
#[utoipa::path(post, path = "/me/security-info/methods/{id}/test-notification", tag = "me",
    params(("id" = String, Path)),
    responses((status = 200, body = ChallengeResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn test_notification(
    State(state): State<AppState>,
    Context(ctx): Context,
    Authed(auth): Authed,
    Path(id): Path<String>,
) -> Result<ApiJson<ChallengeResponse>, ApiError> {
    let id: MethodId = id.parse().map_err(|_| Error::NotFound)?;
    let challenge = state
        .tessera
        .resend_test_notification(&auth, id, &ctx)
        .await?;
    Ok(ApiJson(challenge.into()))
}
