//! The device side of Tessera's notification protocol: the key pair, and the calls to the
//! server's `/api/v1/device` API (activation, pending requests, signed answers, removal).

use super::state::{Account, Push, Totp};
use crate::failure::{Failure, Outcome};
use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use tessera_core::method::authenticator_app::{self as app, Decision};
use tessera_core::random::{self, OsRandom};
use tessera_core::{Clock, PushRequestId, SystemClock};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A device key.
pub enum Key {
    Ed25519(ed25519_dalek::SigningKey),
    Es256(p256::ecdsa::SigningKey),
}

impl Key {
    /// A fresh key of `algorithm` (`ed25519` or `es256`).
    pub fn generate(algorithm: &str) -> Outcome<Key> {
        match algorithm {
            "ed25519" => Ok(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &random::bytes::<32>(&OsRandom),
            ))),
            // A random 32-byte string is a valid scalar but for a 2^-128 chance; draw again.
            "es256" => loop {
                if let Ok(key) =
                    p256::ecdsa::SigningKey::from_slice(&random::bytes::<32>(&OsRandom))
                {
                    break Ok(Key::Es256(key));
                }
            },
            other => Err(Failure::Usage(format!(
                "unknown key algorithm `{other}`: use ed25519 or es256"
            ))),
        }
    }

    pub fn load(push: &Push) -> Outcome<Key> {
        let bytes = BASE64URL_NOPAD
            .decode(push.private_key.as_bytes())
            .map_err(|_| Failure::usage("the state file holds a damaged device key"))?;
        let damaged = || Failure::usage("the state file holds a damaged device key");
        match push.algorithm.as_str() {
            "ed25519" => {
                let seed: [u8; 32] = bytes.try_into().map_err(|_| damaged())?;
                Ok(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)))
            }
            "es256" => p256::ecdsa::SigningKey::from_slice(&bytes)
                .map(Key::Es256)
                .map_err(|_| damaged()),
            _ => Err(damaged()),
        }
    }

    pub fn algorithm(&self) -> &'static str {
        match self {
            Key::Ed25519(_) => "ed25519",
            Key::Es256(_) => "es256",
        }
    }

    fn private_bytes(&self) -> Vec<u8> {
        match self {
            Key::Ed25519(k) => k.to_bytes().to_vec(),
            Key::Es256(k) => k.to_bytes().to_vec(),
        }
    }

    fn public_bytes(&self) -> Vec<u8> {
        match self {
            Key::Ed25519(k) => k.verifying_key().to_bytes().to_vec(),
            Key::Es256(k) => k.verifying_key().to_sec1_bytes().to_vec(),
        }
    }

    fn sign(&self, message: &[u8]) -> String {
        let signature = match self {
            Key::Ed25519(k) => {
                use ed25519_dalek::Signer;
                k.sign(message).to_bytes().to_vec()
            }
            Key::Es256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
        };
        BASE64URL_NOPAD.encode(&signature)
    }
}

/// Now, on this machine's clock.
pub fn local_now() -> i64 {
    SystemClock.now().unix_timestamp()
}

/// A request, as the server describes it to the device.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Request {
    pub id: String,
    pub purpose: String,
    pub status: String,
    pub account: AccountView,
    pub app: String,
    pub created_at: String,
    pub expires_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AccountView {
    pub username: String,
    pub display_name: String,
}

#[derive(Deserialize)]
struct Requests {
    server_time: String,
    requests: Vec<Request>,
}

#[derive(Deserialize)]
struct OneRequest {
    server_time: String,
    request: Request,
}

#[derive(Deserialize)]
struct Activated {
    device_id: String,
    credential: String,
    account: AccountView,
    issuer: String,
    totp: Totp,
    server_time: String,
}

#[derive(Deserialize)]
struct Answered {
    status: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

/// The server's clock minus this machine's, from a response's `server_time`.
fn offset(server_time: &str) -> i64 {
    OffsetDateTime::parse(server_time, &Rfc3339)
        .map(|t| t.unix_timestamp() - local_now())
        .unwrap_or(0)
}

pub struct Client {
    http: reqwest::Client,
}

impl Client {
    pub fn new() -> Outcome<Client> {
        // One crypto provider for every TLS user in the process; a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("tessera-authenticator/", env!("CARGO_PKG_VERSION")))
            // Long polls wait up to 25 s on the server.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| Failure::Runtime(format!("cannot start an HTTP client: {e}")))?;
        Ok(Client { http })
    }

    /// Sends a request and reads its JSON answer; an API error becomes its message.
    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Outcome<T> {
        let response = request.send().await.map_err(|e| {
            Failure::Runtime(format!(
                "cannot reach the server: {}",
                crate::failure::chain(&e)
            ))
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| Failure::Runtime(format!("the server's answer broke off: {e}")))?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| {
                Failure::Runtime(format!("the server answered something unexpected: {e}"))
            });
        }
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| format!("{} ({})", b.message, b.error))
            .unwrap_or_else(|_| format!("the server answered {status}"));
        if status.is_server_error() {
            Err(Failure::Runtime(message))
        } else {
            Err(Failure::Usage(message))
        }
    }

    /// Activates this device with a one-time code: makes a key pair, registers it, and
    /// returns the new account.
    pub async fn activate(
        &self,
        server: &str,
        code: &str,
        algorithm: &str,
        device_name: &str,
        wakeup_url: Option<&str>,
        id: String,
    ) -> Outcome<Account> {
        let server = server.trim().trim_end_matches('/').to_string();
        let code = app::normalize_activation_code(code).ok_or_else(|| {
            Failure::usage("the activation code is not valid (like ABCD-EFGH-JKMN)")
        })?;
        let key = Key::generate(algorithm)?;
        let body = serde_json::json!({
            "code": code,
            "algorithm": key.algorithm(),
            "public_key": BASE64URL_NOPAD.encode(&key.public_bytes()),
            "proof": key.sign(&app::activation_message(&code)),
            "device_name": device_name,
            "wakeup_url": wakeup_url,
        });
        let done: Activated = self
            .call(
                self.http
                    .post(format!("{server}/api/v1/device/activate"))
                    .json(&body),
            )
            .await?;
        Ok(Account {
            id,
            issuer: done.issuer,
            username: done.account.username,
            totp: done.totp,
            push: Some(Push {
                server,
                device_id: done.device_id,
                credential: done.credential,
                algorithm: key.algorithm().into(),
                private_key: BASE64URL_NOPAD.encode(&key.private_bytes()),
                clock_offset: offset(&done.server_time),
            }),
        })
    }

    /// The device's pending requests, waiting up to `wait` seconds for one; also updates
    /// the clock offset.
    pub async fn pending(&self, push: &mut Push, wait: u64) -> Outcome<Vec<Request>> {
        let url = format!("{}/api/v1/device/requests?wait={wait}", push.server);
        let found: Requests = self
            .call(self.http.get(url).bearer_auth(&push.credential))
            .await?;
        push.clock_offset = offset(&found.server_time);
        Ok(found.requests)
    }

    /// One request, whatever its status; also updates the clock offset.
    pub async fn request(&self, push: &mut Push, id: &str) -> Outcome<Request> {
        let url = format!("{}/api/v1/device/requests/{}", push.server, id.trim());
        let found: OneRequest = self
            .call(self.http.get(url).bearer_auth(&push.credential))
            .await?;
        push.clock_offset = offset(&found.server_time);
        Ok(found.request)
    }

    /// Answers a request with a signed decision; the server's new status of it.
    pub async fn answer(
        &self,
        push: &Push,
        id: &str,
        decision: Decision,
        number: Option<u8>,
    ) -> Outcome<String> {
        let request: PushRequestId = id
            .trim()
            .parse()
            .map_err(|_| Failure::usage("not a request id"))?;
        let key = Key::load(push)?;
        let signed_at = local_now() + push.clock_offset;
        let message = app::answer_message(request, decision, number, signed_at);
        let body = serde_json::json!({
            "decision": decision.as_str(),
            "number": number,
            "signed_at": signed_at,
            "signature": key.sign(&message),
        });
        let url = format!("{}/api/v1/device/requests/{request}/answer", push.server);
        let done: Answered = self
            .call(
                self.http
                    .post(url)
                    .bearer_auth(&push.credential)
                    .json(&body),
            )
            .await?;
        Ok(done.status)
    }

    /// Tells the server to delete this device's method: its credential stops working.
    pub async fn remove(&self, push: &Push) -> Outcome {
        let device = push
            .device_id
            .parse()
            .map_err(|_| Failure::usage("the state file holds a damaged device id"))?;
        let key = Key::load(push)?;
        let signed_at = local_now() + push.clock_offset;
        let body = serde_json::json!({
            "signed_at": signed_at,
            "signature": key.sign(&app::removal_message(device, signed_at)),
        });
        let url = format!("{}/api/v1/device/remove", push.server);
        let response = self
            .http
            .post(url)
            .bearer_auth(&push.credential)
            .json(&body)
            .send()
            .await
            .map_err(|e| Failure::Runtime(format!("cannot reach the server: {e}")))?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| format!("{} ({})", b.message, b.error))
            .unwrap_or_else(|_| format!("the server answered {status}"));
        Err(Failure::Usage(message))
    }
}
