//! Wake-ups for devices that asked for them (UnifiedPush style): when a request reaches a
//! device with a wake-up URL, one node POSTs a content-free message there, so the app can
//! fetch its requests without holding a connection open.
//!
//! Every node hears every new request (see the store's push wake-ups), and each claims the
//! wake-up in the database before it sends, so exactly one node sends it. The message says
//! nothing about the request: the app learns what it is over its authenticated API.

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

/// Starts sending wake-ups; stops when the handle is aborted.
pub fn spawn(tessera: Arc<Tessera>) -> JoinHandle<()> {
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
    metrics::counter!("tessera_push_wakeups_total", "outcome" => label).increment(1);
    match outcome {
        Ok(r) if !r.status().is_success() => {
            tracing::warn!(status = %r.status(), "a push distributor refused a wake-up");
        }
        Err(e) => tracing::warn!(error = %e, "a push wake-up could not be sent"),
        Ok(_) => {}
    }
}
