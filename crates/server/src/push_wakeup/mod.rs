//! Wake-ups for devices that asked for them: when a request reaches a device, one node tells
//! it, so the app need not hold a connection open. A device has one of two paths:
//!
//! - a wake-up URL (UnifiedPush style): a content-free POST; the app fetches its requests
//!   over its authenticated API;
//! - a Web Push subscription (the installable web app, [`web_push`]): the request itself,
//!   encrypted for the browser (RFC 8291), signed for the push service (RFC 8292).
//!
//! Every node hears every new or answered request (see the store's push wake-ups), and each
//! claims the message in the database before it sends, so exactly one node sends it.

pub mod web_push;

use std::sync::Arc;
use std::time::Duration;
use tessera_core::Tessera;
use tessera_core::store::push::Wake;
use tokio::task::JoinHandle;

/// What is POSTed: enough for a distributor to deliver, nothing about the sign-in.
const BODY: &str = "{\"tessera\":\"wake\"}";

/// A wake-up that cannot be delivered in this time is dropped; the request expires soon
/// anyway, and the app still finds it when it next polls.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts sending wake-ups (Web Push as `web` says); stops when the handle is aborted.
pub fn spawn(tessera: Arc<Tessera>, web: web_push::Sender) -> JoinHandle<()> {
    let web = Arc::new(web);
    // Idempotent: whoever installs first wins, and every later call fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
        .build();
    let mut subscription = tessera.store().push_subscribe();
    tokio::spawn(async move {
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client for push wake-ups");
                return;
            }
        };
        loop {
            let Wake::Key(key) = subscription.next().await else {
                continue;
            };
            let Some(device) = key.strip_prefix("device:").and_then(|id| id.parse().ok()) else {
                continue;
            };
            // Web Push first: its claim reads before it writes, so a device without a
            // subscription costs no write.
            match tessera.claim_web_push(device).await {
                Ok(Some(claim)) => {
                    let sending = web
                        .clone()
                        .send(client.clone(), tessera.clone(), device, claim);
                    tokio::spawn(sending);
                    // One wake-up path per device: no wake-up URL to claim for.
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "claiming a Web Push message failed"),
            }
            match tessera.claim_push_wakeup(device).await {
                Ok(Some(url)) => {
                    tokio::spawn(send(client.clone(), url));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "claiming a push wake-up failed"),
            }
        }
    })
}

async fn send(client: reqwest::Client, url: String) {
    let outcome = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        // Web Push's hints, which UnifiedPush distributors honour: urgent, and pointless
        // once the request has expired.
        .header("Urgency", "high")
        .header("TTL", "90")
        .body(BODY)
        .send()
        .await;
    let label = match &outcome {
        Ok(r) if r.status().is_success() => "sent",
        Ok(_) => "refused",
        Err(_) => "failed",
    };
    metrics::counter!("tessera_push_wakeups_total", "channel" => "url", "outcome" => label)
        .increment(1);
    match outcome {
        Ok(r) if !r.status().is_success() => {
            tracing::warn!(status = %r.status(), "a push distributor refused a wake-up");
        }
        Err(e) => tracing::warn!(error = %e, "a push wake-up could not be sent"),
        Ok(_) => {}
    }
}
