//! `/api/v1/device/webpush`: standard Web Push (RFC 8030) for the authenticator web app. The
//! app reads the server's VAPID key, subscribes in the browser with it, and hands the
//! subscription over with its device credential; from then on a new request reaches it as
//! an encrypted push message (`push_wakeup::web_push`), with no connection held open.

use crate::AppState;
use crate::api::device::{Device, base64};
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::push_wakeup::web_push::unavailable_reason;
use axum::extract::State;
use axum::http::StatusCode;
use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use tessera_core::store::web_push::WebPushSubscription;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebPushInfo {
    /// The server's VAPID key (RFC 8292), the browser's `applicationServerKey`: base64url of
    /// the uncompressed P-256 point (65 bytes).
    pub vapid_public_key: String,
    /// Whether Web Push can work here: browsers offer push only to a secure origin (HTTPS,
    /// or plain HTTP on loopback).
    pub available: bool,
    /// Why not, in English for developers (the app shows its own words); `null` when
    /// available.
    pub reason: Option<String>,
}

/// The VAPID key as the API shows it; `None` when Web Push is unavailable here.
pub(crate) async fn vapid_public_key(state: &AppState) -> Result<Option<String>, ApiError> {
    if unavailable_reason(&state.config).is_some() {
        return Ok(None);
    }
    let key = state.tessera.vapid_key().await?;
    Ok(Some(BASE64URL_NOPAD.encode(&key.public_key)))
}

/// Whether this server sends Web Push, and the VAPID key to subscribe with. No
/// authentication: the key is public, and the app asks before it has a credential.
#[utoipa::path(get, path = "/device/webpush", tag = "device",
    responses((status = 200, body = WebPushInfo)))]
pub async fn webpush_info(State(state): State<AppState>) -> Result<ApiJson<WebPushInfo>, ApiError> {
    let key = state.tessera.vapid_key().await?;
    let reason = unavailable_reason(&state.config);
    Ok(ApiJson(WebPushInfo {
        vapid_public_key: BASE64URL_NOPAD.encode(&key.public_key),
        available: reason.is_none(),
        reason: reason.map(str::to_string),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebPushKeys {
    /// base64url: the browser's P-256 key, an uncompressed point (65 bytes).
    pub p256dh: String,
    /// base64url: the browser's authentication secret (16 bytes).
    pub auth: String,
}

/// A browser's `PushSubscription.toJSON()` (other fields, like `expirationTime`, are
/// ignored).
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebPushSubscriptionBody {
    /// The push service's URL for this subscription: HTTPS (HTTP only to loopback), at most
    /// 2048 bytes.
    pub endpoint: String,
    pub keys: WebPushKeys,
}

/// Subscribes the device to Web Push. It replaces the device's earlier subscription or
/// wake-up URL: a device has one wake-up path.
#[utoipa::path(put, path = "/device/webpush", tag = "device", request_body = WebPushSubscriptionBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("device" = [])))]
pub async fn webpush_subscribe(
    State(state): State<AppState>,
    Device(auth): Device,
    ApiJson(body): ApiJson<WebPushSubscriptionBody>,
) -> Result<StatusCode, ApiError> {
    let subscription = WebPushSubscription {
        endpoint: body.endpoint,
        p256dh: base64("keys.p256dh", &body.keys.p256dh)?,
        auth: base64("keys.auth", &body.keys.auth)?,
    };
    state
        .tessera
        .set_device_web_push(&auth, &subscription)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unsubscribes the device from Web Push (nothing happens when it was not subscribed).
#[utoipa::path(delete, path = "/device/webpush", tag = "device",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("device" = [])))]
pub async fn webpush_unsubscribe(
    State(state): State<AppState>,
    Device(auth): Device,
) -> Result<StatusCode, ApiError> {
    state.tessera.remove_device_web_push(&auth).await?;
    Ok(StatusCode::NO_CONTENT)
}
