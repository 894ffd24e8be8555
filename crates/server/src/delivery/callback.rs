//! `POST /api/v1/delivery/voice/callback?challenge=<id>`: the gateway reports the key the
//! person pressed on a call. Only a request signed with a configured gateway's secret counts:
//! the webhook's `X-Tessera-Signature` (HMAC-SHA256 of the body) or Twilio's
//! `X-Twilio-Signature` (HMAC-SHA1 of the URL and the form). A # approves the challenge, and
//! with it the sign-in, step-up or registration that placed the call.

use super::VOICE_CALLBACK;
use super::config::CallbackKey;
use super::http::{twilio_signature, webhook_signature};
use crate::AppState;
use crate::error::{ApiError, ApiQuery, ErrorBody};
use crate::session::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_core::{ChallengeId, Error};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    /// The challenge the call belongs to (part of the callback URL Tessera gave the gateway).
    pub challenge: String,
}

#[derive(Debug, Deserialize)]
struct WebhookReport {
    #[serde(default)]
    digits: String,
}

/// What a verified report says.
struct Report {
    digits: String,
    twilio: bool,
}

fn verify(state: &AppState, headers: &HeaderMap, uri_query: &str, body: &[u8]) -> Option<Report> {
    let keys = state.config.delivery.callback_keys();
    if let Some(sig) = headers
        .get("x-tessera-signature")
        .and_then(|v| v.to_str().ok())
    {
        let signed = keys.iter().any(|k| match k {
            CallbackKey::Webhook(secret) => tessera_core::secret::ct_eq(
                webhook_signature(secret, body).as_bytes(),
                sig.as_bytes(),
            ),
            CallbackKey::Twilio(_) => false,
        });
        let report: WebhookReport = serde_json::from_slice(body).ok()?;
        return signed.then_some(Report {
            digits: report.digits,
            twilio: false,
        });
    }
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())?;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let url = format!(
        "{}/api/v1{VOICE_CALLBACK}?{uri_query}",
        state.config.public_url.trim_end_matches('/')
    );
    let signed = keys.iter().any(|k| match k {
        CallbackKey::Twilio(token) => tessera_core::secret::ct_eq(
            twilio_signature(token, &url, &params).as_bytes(),
            sig.as_bytes(),
        ),
        CallbackKey::Webhook(_) => false,
    });
    let digits = params
        .iter()
        .find(|(k, _)| k == "Digits")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    signed.then_some(Report {
        digits,
        twilio: true,
    })
}

/// Reports the key pressed on a call (gateways only; signed).
#[utoipa::path(post, path = "/delivery/voice/callback", tag = "delivery", params(CallbackQuery),
    request_body(content = String, description = "`{\"digits\": \"#\"}` (webhook) or Twilio's form"),
    responses((status = 200, description = "recorded"), (status = 401, body = ErrorBody)))]
pub async fn voice_callback(
    State(state): State<AppState>,
    Context(ctx): Context,
    ApiQuery(q): ApiQuery<CallbackQuery>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(report) = verify(&state, &headers, uri.query().unwrap_or(""), &body) else {
        return Err(Error::Unauthorized.into());
    };
    let confirmed = match (report.digits.trim(), q.challenge.parse::<ChallengeId>()) {
        ("#", Ok(challenge)) => state.tessera.confirm_call(challenge, &ctx).await?,
        _ => false,
    };
    metrics::counter!("tessera_voice_callbacks_total", "outcome" => if confirmed { "confirmed" } else { "ignored" })
        .increment(1);
    if report.twilio {
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml")],
            "<Response><Hangup/></Response>",
        )
            .into_response());
    }
    Ok(axum::Json(serde_json::json!({
        "status": if confirmed { "confirmed" } else { "ignored" }
    }))
    .into_response())
}
