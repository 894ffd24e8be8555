//! `/api/v1/sign-in/passkey…`: signing in with a passkey alone (when the policy allows it).
//! A passkey is a security key holding a discoverable credential; with its PIN or biometric
//! it is two factors, so no username or password is asked.

use super::types::SignedIn;
use crate::AppState;
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::session::Context;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyChallengeResponse {
    /// The ceremony to answer at `/sign-in/passkey/{ceremony}`.
    pub ceremony: String,
    /// WebAuthn request options for `navigator.credentials.get` (no credentials listed: the
    /// browser offers the person's passkeys for this site).
    #[schema(value_type = Object)]
    pub webauthn: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasskeyAnswer {
    /// The assertion, as webauthn-rs's `PublicKeyCredential`.
    #[schema(value_type = Object)]
    pub webauthn: serde_json::Value,
}

/// Starts a sign-in by passkey.
#[utoipa::path(post, path = "/sign-in/passkey", tag = "sign-in",
    responses((status = 200, body = PasskeyChallengeResponse),
        (status = 403, body = ErrorBody, description = "`not_allowed`: the policy does not allow passkey sign-in")))]
pub async fn passkey_begin(
    State(state): State<AppState>,
) -> Result<ApiJson<PasskeyChallengeResponse>, ApiError> {
    let challenge = state.tessera.passkey_sign_in_begin().await?;
    Ok(ApiJson(PasskeyChallengeResponse {
        ceremony: challenge.ceremony,
        webauthn: challenge.options,
    }))
}

/// Finishes a sign-in by passkey; a new full session on success.
#[utoipa::path(post, path = "/sign-in/passkey/{ceremony}", tag = "sign-in", request_body = PasskeyAnswer,
    params(("ceremony" = String, Path)),
    responses((status = 200, body = SignedIn), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn passkey_finish(
    State(state): State<AppState>,
    Context(ctx): Context,
    Path(ceremony): Path<String>,
    ApiJson(req): ApiJson<PasskeyAnswer>,
) -> Result<ApiJson<SignedIn>, ApiError> {
    let session = state
        .tessera
        .passkey_sign_in_finish(&ceremony, &req.webauthn, &ctx)
        .await?;
    Ok(ApiJson(SignedIn {
        status: "signed_in",
        session: session.token.to_string(),
    }))
}
