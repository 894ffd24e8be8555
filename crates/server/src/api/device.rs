//! `/api/v1/device…`: the authenticator app's side of notifications (the open protocol of
//! docs/design/push-protocol.md). A device activates once with its one-time code, then
//! authenticates with its credential (`Authorization: Bearer <credential>`) and signs every
//! answer with its key.

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::long_poll::LongPoll;
use crate::session::Context;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use tessera_core::method::authenticator_app::Decision;
use tessera_core::method::authenticator_app::device::{ActivationRequest, DeviceAuth};
use tessera_core::method::authenticator_app::push::SignedAnswer;
use tessera_core::store::push::{KeyAlgorithm, PushRequest, device_key};
use tessera_core::{Error, Problem, PushRequestId};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// A request authenticated by a device credential.
pub struct Device(pub DeviceAuth);

impl FromRequestParts<AppState> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Error::Unauthorized)?;
        Ok(Device(state.tessera.device_auth(credential).await?))
    }
}

pub(crate) fn base64(field: &'static str, text: &str) -> Result<Vec<u8>, ApiError> {
    BASE64URL_NOPAD
        .decode(text.trim().trim_end_matches('=').as_bytes())
        .map_err(|_| Error::bad(field, Problem::Invalid).into())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivateRequest {
    /// The activation code, as shown on the page (case, spaces and dashes do not matter).
    pub code: String,
    /// `ed25519` or `es256`.
    pub algorithm: String,
    /// base64url: Ed25519's 32 bytes, or a SEC1 P-256 point.
    pub public_key: String,
    /// base64url signature of `tessera-device-activate-v1\n<code as XXXX-XXXX-XXXX>`.
    pub proof: String,
    /// How the device calls itself ("Pixel 8"), shown in the person's security info.
    pub device_name: String,
    /// Where to POST a content-free wake-up when a request arrives (UnifiedPush style).
    #[serde(default)]
    pub wakeup_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpView {
    /// base32, without padding.
    pub secret: String,
    pub digits: u8,
    pub period: u64,
    /// Always `SHA1`.
    pub algorithm: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivateResponse {
    pub device_id: String,
    /// The bearer credential for every later call. Shown once; keep it secret.
    pub credential: String,
    pub account: AccountView,
    /// The organization, as the app shows it.
    pub issuer: String,
    /// The same registration yields 6-digit codes.
    pub totp: TotpView,
    /// The test notification, already waiting.
    pub test_request: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
    /// The server's VAPID key for Web Push (`applicationServerKey`): base64url of the
    /// uncompressed P-256 point; `null` when Web Push is unavailable (see
    /// `GET /device/webpush`).
    pub vapid_public_key: Option<String>,
}

/// Activates an authenticator app with its one-time activation code.
#[utoipa::path(post, path = "/device/activate", tag = "device", request_body = ActivateRequest,
    responses((status = 201, body = ActivateResponse), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such activation code"),
        (status = 410, body = ErrorBody, description = "the code was used, or lapsed")))]
pub async fn activate(
    State(state): State<AppState>,
    Context(ctx): Context,
    ApiJson(req): ApiJson<ActivateRequest>,
) -> Result<(StatusCode, ApiJson<ActivateResponse>), ApiError> {
    let algorithm = KeyAlgorithm::parse(req.algorithm.trim())
        .ok_or(Error::bad("algorithm", Problem::Invalid))?;
    let request = ActivationRequest {
        code: req.code,
        algorithm,
        public_key: base64("public_key", &req.public_key)?,
        proof: base64("proof", &req.proof)?,
        device_name: req.device_name,
        wakeup_url: req.wakeup_url,
    };
    let done = state.tessera.activate_device(request, &ctx).await?;
    let vapid_public_key = super::device_webpush::vapid_public_key(&state).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ActivateResponse {
            device_id: done.device_id.to_string(),
            credential: done.credential.to_string(),
            account: AccountView {
                username: done.username,
                display_name: done.display_name,
            },
            issuer: done.issuer,
            totp: TotpView {
                secret: done.totp_secret.to_string(),
                digits: done.digits,
                period: done.period,
                algorithm: "SHA1",
            },
            test_request: done.test_request.to_string(),
            server_time: state.tessera.now(),
            vapid_public_key,
        }),
    ))
}

/// A request as the device shows it: who, for what, from where.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    /// `sign_in`, `step_up` (a change to security info), `register` (the test
    /// notification) or `reset` (a password reset).
    pub purpose: String,
    /// `pending`, `approved`, `denied`, `reported`, `failed` (wrong number) or `expired`.
    pub status: &'static str,
    pub account: AccountView,
    /// What is being signed in to.
    pub app: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    /// The address and browser of the sign-in.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestView {
    fn new(r: PushRequest, auth: &DeviceAuth, now: OffsetDateTime) -> Self {
        Self::of(r, &auth.account, now)
    }

    /// The view of `r`, a request to `account`'s device (Web Push sends the same object).
    pub fn of(r: PushRequest, account: &tessera_core::Account, now: OffsetDateTime) -> Self {
        RequestView {
            id: r.id.to_string(),
            status: r.status_at(now).as_str(),
            purpose: r.purpose,
            account: AccountView {
                username: account.username.clone(),
                display_name: account.display_name.clone(),
            },
            app: r.app,
            created_at: r.created_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestsResponse {
    /// The server's clock: the device signs answers with times on it.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
    pub requests: Vec<RequestView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WaitQuery {
    /// Seconds to hold the request open while nothing is pending (at most 25).
    pub wait: Option<u64>,
}

/// The device's pending requests, oldest first. With `?wait=N` the call is held open until
/// a request arrives (on whichever node it is made) or `N` seconds pass.
#[utoipa::path(get, path = "/device/requests", tag = "device", params(WaitQuery),
    responses((status = 200, body = RequestsResponse), (status = 401, body = ErrorBody)),
    security(("device" = [])))]
pub async fn requests(
    State(state): State<AppState>,
    Device(auth): Device,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<ApiJson<RequestsResponse>, ApiError> {
    // Every new request wakes its device's key: a wait that runs out found nothing new.
    let pending = LongPoll::new(&state, device_key(auth.device.method_id), q.wait)
        .counted("tessera_push_long_polls")
        .changes_only_when_woken()
        .look(|| state.tessera.device_requests(&auth), Vec::is_empty)
        .await?;
    let now = state.tessera.now();
    Ok(ApiJson(RequestsResponse {
        server_time: now,
        requests: pending
            .into_iter()
            .map(|r| RequestView::new(r, &auth, now))
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestResponse {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub server_time: OffsetDateTime,
    pub request: RequestView,
}

fn request_id(raw: &str) -> Result<PushRequestId, ApiError> {
    raw.trim().parse().map_err(|_| Error::NotFound.into())
}

/// One of the device's requests, whatever its status.
#[utoipa::path(get, path = "/device/requests/{id}", tag = "device", params(("id" = String, Path)),
    responses((status = 200, body = RequestResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("device" = [])))]
pub async fn request(
    State(state): State<AppState>,
    Device(auth): Device,
    Path(id): Path<String>,
) -> Result<ApiJson<RequestResponse>, ApiError> {
    let found = state
        .tessera
        .device_request(&auth, request_id(&id)?)
        .await?;
    let now = state.tessera.now();
    Ok(ApiJson(RequestResponse {
        server_time: now,
        request: RequestView::new(found, &auth, now),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// `approve`, `deny`, or `report` (deny, and report it as not the person's doing).
    pub decision: String,
    /// The number shown where the person signs in; required to approve.
    #[serde(default)]
    pub number: Option<u8>,
    /// Unix seconds on the server's clock, within 60 s of it.
    pub signed_at: i64,
    /// base64url signature of
    /// `tessera-push-answer-v1\n<id>\n<decision>\n<number or ->\n<signed_at>`.
    pub signature: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerResponse {
    /// `approved`, `denied` or `reported`.
    pub status: &'static str,
}

/// Answers a request with a signed decision. A wrong number ends the request and counts as
/// a wrong code (`invalid_code`, or `locked`); an answer to a request that is no longer
/// pending (answered, replaced, expired) is `expired`; a signature that does not verify
/// with the device's key is `unauthorized`.
#[utoipa::path(post, path = "/device/requests/{id}/answer", tag = "device", request_body = AnswerRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = AnswerResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("device" = [])))]
pub async fn answer(
    State(state): State<AppState>,
    Context(ctx): Context,
    Device(auth): Device,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AnswerRequest>,
) -> Result<ApiJson<AnswerResponse>, ApiError> {
    let decision =
        Decision::parse(req.decision.trim()).ok_or(Error::bad("decision", Problem::Invalid))?;
    let answer = SignedAnswer {
        decision,
        number: req.number,
        signed_at: req.signed_at,
        signature: base64("signature", &req.signature)?,
    };
    let status = state
        .tessera
        .device_answer(&auth, request_id(&id)?, &answer, &ctx)
        .await?;
    Ok(ApiJson(AnswerResponse {
        status: status.as_str(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WakeupRequest {
    /// HTTPS (or HTTP to localhost); `null` stops wake-ups.
    pub url: Option<String>,
}

/// Sets where the server POSTs a content-free wake-up when a request arrives, so the device
/// need not hold a connection open (UnifiedPush style).
#[utoipa::path(put, path = "/device/wakeup", tag = "device", request_body = WakeupRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("device" = [])))]
pub async fn wakeup(
    State(state): State<AppState>,
    Device(auth): Device,
    ApiJson(req): ApiJson<WakeupRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .tessera
        .set_device_wakeup(&auth, req.url.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RemoveRequest {
    pub signed_at: i64,
    /// base64url signature of `tessera-device-remove-v1\n<device id>\n<signed_at>`.
    pub signature: String,
}

/// The device removes itself: its method is deleted, as if the person had deleted it.
#[utoipa::path(post, path = "/device/remove", tag = "device", request_body = RemoveRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 410, body = ErrorBody)),
    security(("device" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Context(ctx): Context,
    Device(auth): Device,
    ApiJson(req): ApiJson<RemoveRequest>,
) -> Result<StatusCode, ApiError> {
    let signature = base64("signature", &req.signature)?;
    state
        .tessera
        .remove_device(&auth, req.signed_at, &signature, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
