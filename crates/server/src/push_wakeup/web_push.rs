//! Sending Web Push (RFC 8030) to the authenticator web app: a new request goes out as an
//! encrypted message (RFC 8291 `aes128gcm`) the browser's service worker turns into a
//! notification, signed with the server's VAPID key (RFC 8292) so the push service takes it.
//!
//! What a message carries is what the device's authenticated API would show it anyway (the
//! request's purpose, account, app, time, address, browser), never a secret: no number to
//! match, no credential, no code. The push service sees only ciphertext, and a message that
//! leaked would still approve nothing: an answer needs the number from the sign-in screen
//! and the device's signature.
//!
//! A request that is answered or replaced gets a `closed` message (the same `Topic`, so a
//! push service still holding the request replaces it), so the notification can go away.
//! A push service answering 404 or 410 has dropped the subscription: it is forgotten. Other
//! failures are retried briefly, never past the request's life, then logged and counted.

use crate::ServerConfig;
use crate::api::device::RequestView;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tessera_core::method::authenticator_app::REQUEST_SECS;
use tessera_core::store::push::PushRequest;
use tessera_core::store::web_push::WebPushClaim;
use tessera_core::web_push::{ece, vapid};
use tessera_core::{MethodId, OsRandom, PushRequestId, Tessera};
use time::OffsetDateTime;

/// Tries per message: a push service that is briefly down (5xx, 429, no answer) gets two more.
const ATTEMPTS: u32 = 3;

/// How long a VAPID token is reused for one push service (it is valid for 12 hours): RFC 8292
/// lets a sender reuse it, and signing is the costly part of a message.
const TOKEN_REUSE: time::Duration = time::Duration::hours(1);

/// Why Web Push cannot work with this configuration, in English for developers; `None` when
/// it can. Browsers offer push only to a secure origin, which the app must be served from.
pub fn unavailable_reason(config: &ServerConfig) -> Option<&'static str> {
    if config.is_https() || config.insecure_loopback() {
        None
    } else {
        Some(
            "the server's public URL is neither https:// nor http:// on loopback; browsers \
             offer push only to a secure origin",
        )
    }
}

/// What every message needs from the configuration, and the VAPID tokens in use.
#[derive(Debug)]
pub struct Sender {
    /// The public URL, as messages name the server (an app holds accounts of several).
    server: String,
    /// The VAPID `sub`: a contact for the push service's operator.
    subject: String,
    /// By push service origin: the `Authorization` value, and when it was signed.
    tokens: Mutex<HashMap<String, (String, OffsetDateTime)>>,
}

/// One message to send, with the topic push services replace it by and its last useful moment.
struct Message {
    body: Value,
    topic: PushRequestId,
    until: OffsetDateTime,
}

impl Sender {
    pub fn new(config: &ServerConfig) -> Sender {
        let server = config.public_url.trim_end_matches('/').to_string();
        let subject = config
            .web_push_subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or_else(|| server.clone(), str::to_string);
        Sender {
            server,
            subject,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The `Authorization` value for `endpoint`: a recent token for its push service, or a
    /// newly signed one.
    async fn authorization(
        &self,
        tessera: &Tessera,
        endpoint: &str,
    ) -> tessera_core::Result<String> {
        let audience = vapid::audience(endpoint).unwrap_or_default();
        let now = tessera.now();
        if let Ok(tokens) = self.tokens.lock()
            && let Some((value, signed)) = tokens.get(&audience)
            && now - *signed < TOKEN_REUSE
            && *signed <= now
        {
            return Ok(value.clone());
        }
        let value = tessera.vapid_authorization(endpoint, &self.subject).await?;
        if let Ok(mut tokens) = self.tokens.lock() {
            // Few push services exist; forgetting them all now and then bounds the map.
            if tokens.len() > 64 {
                tokens.clear();
            }
            tokens.insert(audience, (value.clone(), now));
        }
        Ok(value)
    }

    /// The `request` message: the same object `GET /device/requests` lists.
    fn request_message(&self, device: MethodId, view: RequestView) -> Value {
        json!({
            "v": 1,
            "type": "request",
            "server": self.server,
            "device_id": device.to_string(),
            "request": view,
        })
    }

    fn closed_message(&self, device: MethodId, request: PushRequestId) -> Value {
        json!({
            "v": 1,
            "type": "closed",
            "server": self.server,
            "device_id": device.to_string(),
            "request_id": request.to_string(),
        })
    }

    /// Sends what one node claimed for `device`, in order; stops when the subscription
    /// turns out to be gone.
    pub(super) async fn send(
        self: Arc<Self>,
        client: reqwest::Client,
        tessera: Arc<Tessera>,
        device: MethodId,
        claim: WebPushClaim,
    ) {
        let endpoint = claim.subscription.endpoint.as_str();
        let authorization = match self.authorization(&tessera, endpoint).await {
            Ok(value) => value,
            Err(e) => {
                tracing::error!(error = %e, "no VAPID signature for Web Push");
                count("failed");
                return;
            }
        };
        let messages = self
            .messages(&tessera, device, claim.requests, claim.closed)
            .await;
        for message in messages {
            let plain = message.body.to_string();
            let body = match ece::encrypt(
                &OsRandom,
                &claim.subscription.p256dh,
                &claim.subscription.auth,
                plain.as_bytes(),
            ) {
                Ok(body) => body,
                Err(e) => {
                    tracing::warn!(error = %e, "a Web Push message could not be encrypted");
                    count("failed");
                    continue;
                }
            };
            let outcome =
                deliver(&client, &tessera, endpoint, &authorization, body, &message).await;
            count(outcome);
            if outcome == "gone" {
                if let Err(e) = tessera.web_push_gone(device, endpoint).await {
                    tracing::warn!(error = %e, "forgetting a gone Web Push subscription failed");
                }
                return;
            }
        }
    }

    async fn messages(
        &self,
        tessera: &Tessera,
        device: MethodId,
        requests: Vec<PushRequest>,
        closed: Vec<PushRequestId>,
    ) -> Vec<Message> {
        let now = tessera.now();
        let mut out = Vec::new();
        if let Some(first) = requests.first() {
            match tessera.store().account(first.account_id).await {
                Ok(Some(account)) => {
                    for request in requests {
                        let (topic, until) = (request.id, request.expires_at);
                        let view = fit(RequestView::of(request, &account, now));
                        out.push(Message {
                            body: self.request_message(device, view),
                            topic,
                            until,
                        });
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading an account for Web Push failed"),
            }
        }
        for id in closed {
            out.push(Message {
                body: self.closed_message(device, id),
                topic: id,
                until: now + time::Duration::seconds(REQUEST_SECS),
            });
        }
        out
    }
}

/// A view small enough for one record: an absurdly long browser name or app is cut.
fn fit(mut view: RequestView) -> RequestView {
    let cut = |s: &mut String, max: usize| {
        if let Some((at, _)) = s.char_indices().nth(max) {
            s.truncate(at);
        }
    };
    let size = |v: &RequestView| serde_json::to_string(v).map_or(usize::MAX, |s| s.len());
    if size(&view) > ece::MAX_PAYLOAD - 400 {
        if let Some(agent) = view.user_agent.as_mut() {
            cut(agent, 256);
        }
        cut(&mut view.app, 256);
        cut(&mut view.account.display_name, 256);
    }
    view
}

fn count(outcome: &'static str) {
    metrics::counter!("tessera_push_wakeups_total", "channel" => "web_push", "outcome" => outcome)
        .increment(1);
}

/// Posts one message: `sent`, `gone` (404/410), `refused`, `failed` or `expired` (its
/// request's life ran out before it could go).
async fn deliver(
    client: &reqwest::Client,
    tessera: &Tessera,
    endpoint: &str,
    authorization: &str,
    body: Vec<u8>,
    message: &Message,
) -> &'static str {
    let origin = vapid::audience(endpoint).unwrap_or_default();
    let mut attempt = 1;
    loop {
        let ttl = (message.until - tessera.now()).whole_seconds();
        if ttl <= 0 {
            return "expired";
        }
        let sent = client
            .post(endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header("TTL", ttl.to_string())
            .header("Urgency", "high")
            .header("Topic", message.topic.0.simple().to_string())
            .body(body.clone())
            .send()
            .await;
        let retry = match &sent {
            Ok(r) if r.status().is_success() => return "sent",
            Ok(r) if matches!(r.status().as_u16(), 404 | 410) => return "gone",
            Ok(r) => r.status().is_server_error() || r.status().as_u16() == 429,
            Err(_) => true,
        };
        if !retry || attempt >= ATTEMPTS {
            match sent {
                Ok(r) => tracing::warn!(status = %r.status(), push_service = %origin,
                    "a push service refused a Web Push message"),
                Err(e) => tracing::warn!(error = %e, push_service = %origin,
                    "a Web Push message could not be sent"),
            }
            return if retry { "failed" } else { "refused" };
        }
        tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
        attempt += 1;
    }
}
