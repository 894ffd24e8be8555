//! The `push-web` scenario: the push round trip with standard Web Push instead of a long
//! poll. Each device subscribes (`PUT /api/v1/device/webpush`) to the bench's own push
//! service, a small HTTP server on loopback, with keys the bench holds as a browser would;
//! a step-up challenge (on the other node when there are two) makes one node encrypt, sign
//! and POST the request there. Timed from sending the challenge to the push service
//! receiving the message; the bench then decrypts it and the device denies the request by
//! its id, so nothing stays pending.

use crate::load::Step;
use crate::scenario::{Target, claim_push, deny, push_nodes};
use anyhow::{Context, Result};
use data_encoding::BASE64URL_NOPAD;
use p256::SecretKey;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tessera_core::web_push::{ece, vapid};
use tessera_core::{OsRandom, random};
use tokio::sync::{Mutex, mpsc};

/// Longer than any delivery the server would still make (it retries briefly, then drops).
const DELIVERY_WAIT: Duration = Duration::from_secs(10);

type Inbox = mpsc::UnboundedReceiver<(Instant, Vec<u8>)>;

/// The bench's push service, and the browser side of each push account's subscription
/// (indexed like `Target::push`).
pub struct WebPushSink {
    base: String,
    keys: Vec<(SecretKey, [u8; 16])>,
    inboxes: Vec<Mutex<Inbox>>,
    subscribed: Vec<AtomicBool>,
}

impl WebPushSink {
    /// Starts the push service on loopback for `accounts` devices.
    pub async fn start(accounts: usize) -> Result<Arc<WebPushSink>> {
        let (senders, inboxes): (Vec<_>, Vec<_>) =
            (0..accounts).map(|_| mpsc::unbounded_channel()).unzip();
        let senders = Arc::new(senders);
        let app = axum::Router::new().route(
            "/push/{index}",
            axum::routing::post(
                move |axum::extract::Path(index): axum::extract::Path<usize>,
                      body: axum::body::Bytes| {
                    let at = Instant::now();
                    let senders = senders.clone();
                    async move {
                        match senders.get(index) {
                            Some(tx) => {
                                let _ = tx.send((at, body.to_vec()));
                                axum::http::StatusCode::CREATED
                            }
                            None => axum::http::StatusCode::GONE,
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the bench's push service")?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let keys = (0..accounts)
            .map(|_| {
                let key = loop {
                    if let Ok(k) = SecretKey::from_slice(&random::bytes::<32>(&OsRandom)) {
                        break k;
                    }
                };
                (key, random::bytes::<16>(&OsRandom))
            })
            .collect();
        Ok(Arc::new(WebPushSink {
            base,
            keys,
            inboxes: inboxes.into_iter().map(Mutex::new).collect(),
            subscribed: (0..accounts).map(|_| AtomicBool::new(false)).collect(),
        }))
    }

    fn subscription(&self, index: usize) -> Value {
        let (key, auth) = &self.keys[index];
        json!({
            "endpoint": format!("{}/push/{index}", self.base),
            "keys": {
                "p256dh": BASE64URL_NOPAD.encode(&vapid::public_key(key)),
                "auth": BASE64URL_NOPAD.encode(auth),
            },
        })
    }

    fn read(&self, index: usize, body: &[u8]) -> Result<Value, String> {
        let (key, auth) = &self.keys[index];
        let plain = ece::decrypt(key, auth, body).map_err(|e| format!("decrypting: {e}"))?;
        serde_json::from_slice(&plain).map_err(|e| format!("not JSON: {e}"))
    }
}

/// One round trip: subscribe once, challenge, hear the message, deny the request.
pub async fn round(t: &Target, client: usize, cursor: &AtomicU64) -> Step {
    let Some(sink) = t.web_push.as_ref() else {
        return Step::Unexpected("no push service started".into());
    };
    let Some(claimed) = claim_push(&t.push, cursor) else {
        return Step::Exhausted;
    };
    let (index, account) = (claimed.index(), claimed.account());
    let (device_node, person_node) = push_nodes(client, t.nodes.len());
    let device_base = &t.nodes[device_node];
    if !sink.subscribed[index].load(Ordering::Acquire) {
        let put = t
            .client
            .put(format!("{device_base}/api/v1/device/webpush"))
            .bearer_auth(&account.credential)
            .json(&sink.subscription(index))
            .send()
            .await;
        match put {
            Ok(r) if r.status().as_u16() == 204 => {
                sink.subscribed[index].store(true, Ordering::Release)
            }
            Ok(r) => return Step::Unexpected(format!("subscribing: status {}", r.status())),
            Err(e) => return Step::Unexpected(format!("subscribing: {e}")),
        }
    }
    let mut inbox = sink.inboxes[index].lock().await;
    // The last round's `closed` message may have come since.
    while inbox.try_recv().is_ok() {}

    let sent = Instant::now();
    let challenge = t
        .client
        .post(format!("{}/api/v1/me/step-up", t.nodes[person_node]))
        .bearer_auth(&account.token)
        .json(&json!({"method_id": account.method_id.to_string()}))
        .send()
        .await;
    match challenge {
        Ok(r) if r.status().as_u16() == 200 => {}
        Ok(r) => return Step::Unexpected(format!("step-up challenge: status {}", r.status())),
        Err(e) => return Step::Unexpected(format!("step-up challenge: {e}")),
    }
    loop {
        let Ok(Some((at, body))) = tokio::time::timeout(DELIVERY_WAIT, inbox.recv()).await else {
            return Step::Unexpected("no Web Push message within 10 s".into());
        };
        let payload = match sink.read(index, &body) {
            Ok(p) => p,
            Err(e) => return Step::Unexpected(e),
        };
        if payload["type"] != "request" {
            continue;
        }
        let Some(id) = payload["request"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
        else {
            return Step::Unexpected(format!("a request message without an id: {payload}"));
        };
        if payload["request"]["purpose"] != "step_up" {
            return Step::Unexpected(format!("not the step-up: {payload}"));
        }
        let latency = at.saturating_duration_since(sent);
        return match deny(t, device_base, account, id).await {
            Ok(()) => Step::OkTimed(latency),
            Err(e) => Step::Unexpected(format!("answering: {e}")),
        };
    }
}
