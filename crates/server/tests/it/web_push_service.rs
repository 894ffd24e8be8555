//! A push service and a browser, in the test: the service (a small axum server on loopback)
//! records every Web Push message and answers with the status the test sets; the browser
//! holds the subscription's keys, checks the VAPID signature as a push service would, and
//! decrypts each message as a browser would.

use data_encoding::BASE64URL_NOPAD;
use p256::SecretKey;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tessera_core::OsRandom;
use tessera_core::web_push::{ece, vapid};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// One message as the push service received it.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

pub(crate) struct PushService {
    base: String,
    /// What the service answers (201 Created, as real push services do).
    pub(crate) status: Arc<AtomicU16>,
    received: mpsc::UnboundedReceiver<Received>,
}

impl PushService {
    pub(crate) async fn start() -> PushService {
        let (tx, received) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(201));
        let answer = status.clone();
        let app = axum::Router::new().route(
            "/push/{name}",
            axum::routing::post(
                move |uri: axum::http::Uri,
                      headers: axum::http::HeaderMap,
                      body: axum::body::Bytes| {
                    let tx = tx.clone();
                    let answer = answer.clone();
                    async move {
                        let _ = tx.send(Received {
                            path: uri.path().to_string(),
                            headers,
                            body: body.to_vec(),
                        });
                        axum::http::StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PushService {
            base,
            status,
            received,
        }
    }

    /// The service's origin: a VAPID token's audience.
    pub(crate) fn origin(&self) -> &str {
        &self.base
    }

    pub(crate) fn endpoint(&self, name: &str) -> String {
        format!("{}/push/{name}", self.base)
    }

    pub(crate) fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub(crate) async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(60), self.received.recv())
            .await
            .expect("a Web Push message within a minute")
            .expect("the push service runs")
    }

    /// Whether nothing more arrives within `wait`.
    pub(crate) async fn quiet_for(&mut self, wait: Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.received.recv())
            .await
            .ok()
            .flatten()
    }
}

/// The browser side of a subscription.
pub(crate) struct Browser {
    key: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    pub(crate) fn new() -> Browser {
        let key = loop {
            let bytes = tessera_core::random::bytes::<32>(&OsRandom);
            if let Ok(key) = SecretKey::from_slice(&bytes) {
                break key;
            }
        };
        Browser {
            key,
            auth: tessera_core::random::bytes::<16>(&OsRandom),
        }
    }

    /// `PushSubscription.toJSON()` for `endpoint`.
    pub(crate) fn subscription(&self, endpoint: &str) -> Value {
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": BASE64URL_NOPAD.encode(&vapid::public_key(&self.key)),
                "auth": BASE64URL_NOPAD.encode(&self.auth),
            },
        })
    }

    /// The message's JSON, decrypted with this browser's keys.
    pub(crate) fn read(&self, message: &Received) -> Value {
        assert_eq!(message.header("content-encoding"), "aes128gcm");
        let plain = ece::decrypt(&self.key, &self.auth, &message.body).expect("it decrypts");
        serde_json::from_slice(&plain).expect("JSON inside")
    }
}

/// Checks a message's `Authorization: vapid t=…, k=…` as a push service does (RFC 8292):
/// `k` is the key the browser subscribed with, the JWT is ES256 by that key, for the
/// service's origin, and expires within 12 hours of `now`. Returns the claims.
pub(crate) fn check_vapid(
    message: &Received,
    vapid_key: &str,
    audience: &str,
    now: OffsetDateTime,
) -> Value {
    let value = message.header("authorization");
    let (token, key) = value
        .strip_prefix("vapid t=")
        .and_then(|v| v.split_once(", k="))
        .unwrap_or_else(|| panic!("not a vapid authorization: {value}"));
    assert_eq!(
        key, vapid_key,
        "signed with the key browsers subscribe with"
    );
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        Signature::from_slice(&BASE64URL_NOPAD.decode(signature.as_bytes()).unwrap()).unwrap();
    let verifier =
        VerifyingKey::from_sec1_bytes(&BASE64URL_NOPAD.decode(key.as_bytes()).unwrap()).unwrap();
    assert!(
        verifier.verify(input.as_bytes(), &signature).is_ok(),
        "the VAPID signature verifies with k"
    );
    let part = |i: usize| -> Value {
        let text = input.split('.').nth(i).unwrap();
        serde_json::from_slice(&BASE64URL_NOPAD.decode(text.as_bytes()).unwrap()).unwrap()
    };
    assert_eq!(part(0)["alg"], "ES256");
    let claims = part(1);
    assert_eq!(claims["aud"], audience);
    let exp = claims["exp"].as_i64().unwrap();
    let now = now.unix_timestamp();
    assert!(exp > now && exp <= now + 12 * 3600, "exp {exp}, now {now}");
    let sub = claims["sub"].as_str().unwrap();
    assert!(
        sub.starts_with("mailto:") || sub.starts_with("http"),
        "{sub}"
    );
    claims
}
