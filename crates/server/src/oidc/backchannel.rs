//! Back-Channel Logout 1.0, the sending: when sessions end, each client with a back-channel
//! logout URI that had tokens from them gets a `POST` with a signed `logout_token`.
//!
//! Core decides who is told (`Tessera::oidc_backchannel_logouts`, which claims each ended
//! session's families once across nodes); this task sends. It runs when a session ends on
//! this node (core calls the hook set here) and every [`ROUND_EVERY`] besides, which covers
//! sessions ended on another node or by the store itself (a password reset, expiry). No
//! person waits for it: a client that is slow or down costs them nothing, and is logged and
//! audited. There is no retry: the token lives two minutes, and the client's own session
//! expiry is its fallback.

use super::issuer;
use crate::AppState;
use std::sync::Arc;
use std::time::Duration;
use tessera_core::Tessera;
use tessera_core::oidc::LogoutDelivery;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A client's endpoint must answer within this; it has nothing to do but end a session.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Between rounds when nothing wakes the task.
const ROUND_EVERY: Duration = Duration::from_secs(30);

/// Starts back-channel logout; stops when the handle is aborted.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    crate::delivery::install_crypto();
    let wake = Arc::new(Notify::new());
    let waker = Arc::clone(&wake);
    state.tessera.on_sessions_ended(move || waker.notify_one());
    // As the delivery gateways' client, but redirects are not followed: the logout token is
    // for the registered URI only (Back-Channel Logout 1.0 §2.5).
    let client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
        .build();
    tokio::spawn(async move {
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client for back-channel logout");
                return;
            }
        };
        let iss = issuer(&state);
        loop {
            round(&state.tessera, &client, &iss).await;
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(ROUND_EVERY) => {}
            }
        }
    })
}

async fn round(tessera: &Arc<Tessera>, client: &reqwest::Client, iss: &str) {
    match tessera.oidc_backchannel_logouts(iss).await {
        Ok(deliveries) => {
            for delivery in deliveries {
                tokio::spawn(send(Arc::clone(tessera), client.clone(), delivery));
            }
        }
        Err(e) => tracing::warn!(error = %e, "back-channel logout could not find whom to tell"),
    }
}

async fn send(tessera: Arc<Tessera>, client: reqwest::Client, delivery: LogoutDelivery) {
    let outcome = client
        .post(&delivery.uri)
        .header(reqwest::header::CACHE_CONTROL, "no-store")
        .form(&[("logout_token", delivery.logout_token.as_str())])
        .send()
        .await;
    let failure = match outcome {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("answered {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Some("timed out".to_string()),
        Err(_) => Some("could not connect".to_string()),
    };
    let label = if failure.is_none() { "sent" } else { "failed" };
    metrics::counter!("tessera_oidc_backchannel_logouts_total", "outcome" => label).increment(1);
    let Some(error) = failure else { return };
    tracing::warn!(client = %delivery.client_id, error = %error, "a client's back-channel logout failed");
    if let Err(e) = tessera.oidc_backchannel_failed(&delivery, &error).await {
        tracing::warn!(error = %e, "a failed back-channel logout could not be audited");
    }
}
