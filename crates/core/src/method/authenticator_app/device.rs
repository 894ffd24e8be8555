//! Devices: an authenticator app activated for notifications, from the person's side (the
//! registration that waits for it) and from the device's (activation, its credential, its
//! wake-up URL, removing itself).
//!
//! ```text
//!   register_begin ──► pending, activation code (10 min) ──device activates──► pending,
//!   test notification sent ──approved on the device (right number)──► active
//!                               └──denied, wrong number, expired──► pending: send another
//! ```
//!
//! The device authenticates with its credential (a bearer secret, stored as a hash) and
//! signs every answer with its key, so a stolen credential alone approves nothing. Deleting
//! the method deletes the device: its credential stops working at once.

use crate::account::{Account, AccountStatus};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Internal, NotAllowed, Problem, Result};
use crate::ids::{MethodId, PushRequestId};
use crate::message::SecurityEvent;
use crate::method::authenticator_app::{self as app, activation_aad};
use crate::method::{Challenge, Enrollment, Kind, Method, MethodStatus, Purpose};
use crate::secret;
use crate::service::{Auth, Tessera};
use crate::store::push::{Device, DeviceActivation, KeyAlgorithm, PushRequest};
use data_encoding::BASE32_NOPAD;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// Longest wake-up URL kept.
const WAKEUP_URL_MAX: usize = 1024;

/// What a device sends to activate.
#[derive(Debug, Clone)]
pub struct ActivationRequest {
    pub code: String,
    pub algorithm: KeyAlgorithm,
    pub public_key: Vec<u8>,
    /// The device's signature of [`app::activation_message`].
    pub proof: Vec<u8>,
    pub device_name: String,
    pub wakeup_url: Option<String>,
}

/// What an activated device receives, once.
pub struct Activated {
    pub device_id: MethodId,
    pub credential: Zeroizing<String>,
    pub username: String,
    pub display_name: String,
    /// The organization, as the app shows it.
    pub issuer: String,
    /// The TOTP seed, base32 without padding.
    pub totp_secret: Zeroizing<String>,
    pub digits: u8,
    pub period: u64,
    /// The test notification, waiting on the device.
    pub test_request: PushRequestId,
}

impl std::fmt::Debug for Activated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activated")
            .field("device_id", &self.device_id)
            .finish()
    }
}

/// A request from a device, authenticated by its credential.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device: Device,
    pub method: Method,
    pub account: Account,
}

/// Where an app registration stands, for the page that waits on it.
#[derive(Debug, Clone, PartialEq)]
pub enum AppRegistration {
    /// Waiting for the device: the activation code to show (with the server's URL).
    WaitingForDevice {
        code: String,
        expires_at: OffsetDateTime,
    },
    /// Activated; the newest test notification (pending, or ended without approval).
    WaitingForApproval {
        device_name: Option<String>,
        request: Option<Box<PushRequest>>,
    },
    Active,
}

impl Tessera {
    /// Stores a new app method with its activation code (hashed for lookup, sealed for
    /// showing again), in one transaction.
    pub(crate) async fn insert_app_method(
        &self,
        method: &Method,
        code: &str,
        expires_at: OffsetDateTime,
        audit: &crate::audit::AuditEvent,
    ) -> Result<()> {
        let device = app::awaiting_device(method, code, expires_at, &self.keys, self.rng.as_ref());
        Ok(self.store.insert_app_method(method, &device, audit).await?)
    }

    /// The activation code of an app registration not yet activated.
    pub(crate) async fn app_enrollment(&self, method: &Method) -> Result<Enrollment> {
        match self.app_state(method).await? {
            AppRegistration::WaitingForDevice { code, expires_at } => {
                Ok(Enrollment::AppActivation { code, expires_at })
            }
            // Nothing left to show: the device has the secret.
            _ => Err(Error::bad("id", Problem::Invalid)),
        }
    }

    /// One of the person's app registrations, and where it stands.
    pub async fn app_registration(
        &self,
        auth: &Auth,
        id: MethodId,
    ) -> Result<(Method, AppRegistration)> {
        let method = self
            .store
            .method(id)
            .await?
            .filter(|m| m.account_id == auth.account.id && m.kind == Kind::AuthenticatorApp)
            .ok_or(Error::NotFound)?;
        let state = self.app_state(&method).await?;
        Ok((method, state))
    }

    async fn app_state(&self, method: &Method) -> Result<AppRegistration> {
        let now = self.now();
        if method.status == MethodStatus::Active {
            return Ok(AppRegistration::Active);
        }
        if method.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::Expired);
        }
        let device = self.store.device(method.id).await?.ok_or(Error::NotFound)?;
        if device.is_activated() {
            let request = self
                .store
                .latest_push_request(
                    Purpose::Register(method.id).as_str(),
                    &method.id.to_string(),
                )
                .await?;
            return Ok(AppRegistration::WaitingForApproval {
                device_name: device.name,
                request: request.map(Box::new),
            });
        }
        if device.activation_expires_at <= now {
            return Err(Error::Expired);
        }
        let sealed = device
            .sealed_activation
            .as_deref()
            .ok_or(Error::Internal(Internal::Unseal))?;
        let code = self
            .keys
            .open(sealed, activation_aad(&method.id.to_string()))
            .map_err(|_| Error::Internal(Internal::Unseal))?;
        let code =
            String::from_utf8(code.to_vec()).map_err(|_| Error::Internal(Internal::Unseal))?;
        Ok(AppRegistration::WaitingForDevice {
            code,
            expires_at: device.activation_expires_at,
        })
    }

    /// Sends another test notification to an activated app that is not yet active (the
    /// last one was denied, mistyped or not answered in time).
    pub async fn resend_test_notification(
        &self,
        auth: &Auth,
        id: MethodId,
        ctx: &RequestContext,
    ) -> Result<Challenge> {
        let (method, state) = self.app_registration(auth, id).await?;
        match state {
            AppRegistration::WaitingForApproval { .. } => {
                self.challenge_authenticator_app(&method, Purpose::Register(method.id), ctx)
                    .await
            }
            AppRegistration::Active => Err(Error::bad("id", Problem::Invalid)),
            AppRegistration::WaitingForDevice { .. } => {
                Err(Error::NotAllowed(NotAllowed::MethodNotUsable))
            }
        }
    }

    /// Activates a device with its one-time code: registers its key and sends the test
    /// notification. The credential and the TOTP seed are handed out here, once.
    pub async fn activate_device(
        &self,
        request: ActivationRequest,
        ctx: &RequestContext,
    ) -> Result<Activated> {
        let now = self.now();
        let code = app::normalize_activation_code(&request.code)
            .ok_or(Error::bad("code", Problem::Invalid))?;
        let device = self
            .store
            .device_by_activation(&secret::token_hash(&code))
            .await?
            .ok_or(Error::NotFound)?;
        let method = self
            .store
            .method(device.method_id)
            .await?
            .ok_or(Error::NotFound)?;
        if device.activation_expires_at <= now
            || method.status != MethodStatus::Pending
            || method.expires_at.is_some_and(|e| e <= now)
        {
            return Err(Error::Expired);
        }
        if !app::valid_public_key(request.algorithm, &request.public_key) {
            return Err(Error::bad("public_key", Problem::Invalid));
        }
        let proof = app::activation_message(&code);
        if !app::verify_signature(
            request.algorithm,
            &request.public_key,
            &proof,
            &request.proof,
        ) {
            return Err(Error::bad("proof", Problem::Invalid));
        }
        let name = app::clean_device_name(&request.device_name)?;
        let wakeup_url = clean_wakeup_url(request.wakeup_url.as_deref())?;
        let account = self
            .store
            .account(method.account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or(Error::NotAllowed(NotAllowed::AccountDisabled))?;
        let policy = self.policy().await?;
        let credential = secret::new_token(self.rng.as_ref());
        let test = self.new_push_request(&method, Purpose::Register(method.id), ctx);
        let activation = DeviceActivation {
            method_id: method.id,
            name: name.clone(),
            algorithm: request.algorithm,
            public_key: request.public_key,
            credential_hash: secret::token_hash(&credential),
            wakeup_url,
            at: now,
            method_expires_at: now + Duration::seconds(policy.flow_secs as i64),
            method_name: method.name.is_none().then(|| name.clone()),
        };
        let audit = [
            self.audit(ctx, Some(account.id), AuditAction::DeviceActivated)
                .method(method.id)
                .detail(serde_json::json!({
                    "device_name": name,
                    "algorithm": request.algorithm.as_str(),
                })),
            self.push_sent_audit(&test, ctx),
        ];
        if !self
            .store
            .activate_device(&activation, &test, &audit)
            .await?
        {
            return Err(Error::Expired);
        }
        let seed = app::seed(&method, &self.kind_context())?;
        let (digits, period) = app::totp_parameters(&method);
        Ok(Activated {
            device_id: method.id,
            credential,
            username: account.username,
            display_name: account.display_name,
            issuer: self.issuer.clone(),
            totp_secret: Zeroizing::new(BASE32_NOPAD.encode(&seed)),
            digits,
            period,
            test_request: test.id,
        })
    }

    /// The device a credential belongs to; `Unauthorized` when it belongs to none (never
    /// issued, or its method was deleted) or its account is disabled.
    pub async fn device_auth(&self, credential: &str) -> Result<DeviceAuth> {
        let device = self
            .store
            .device_by_credential(&secret::token_hash(credential.trim()))
            .await?
            .ok_or(Error::Unauthorized)?;
        let method = self
            .store
            .method(device.method_id)
            .await?
            .ok_or(Error::Unauthorized)?;
        let account = self
            .store
            .account(device.account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or(Error::Unauthorized)?;
        Ok(DeviceAuth {
            device,
            method,
            account,
        })
    }

    /// Sets (or, with `None`, forgets) where to POST a wake-up for this device.
    pub async fn set_device_wakeup(&self, auth: &DeviceAuth, url: Option<&str>) -> Result<()> {
        let url = clean_wakeup_url(url)?;
        Ok(self
            .store
            .set_wakeup_url(auth.device.method_id, url.as_deref())
            .await?)
    }

    /// The device removes itself, with a signature of [`app::removal_message`]: its method
    /// is deleted as if the person had deleted it (and their other channels are told).
    pub async fn remove_device(
        &self,
        auth: &DeviceAuth,
        signed_at: i64,
        signature: &[u8],
        ctx: &RequestContext,
    ) -> Result<()> {
        let (Some(algorithm), Some(key)) =
            (auth.device.algorithm, auth.device.public_key.as_deref())
        else {
            return Err(Error::Unauthorized);
        };
        let message = app::removal_message(auth.device.method_id, signed_at);
        if !app::verify_signature(algorithm, key, &message, signature) {
            return Err(Error::Unauthorized);
        }
        if !app::fresh(signed_at, self.now()) {
            return Err(Error::Expired);
        }
        let policy = self.policy().await?;
        let methods = self.store.methods_of(auth.account.id).await?;
        let id = auth.device.method_id;
        let new_default = Self::usable_for_sign_in(&policy, &methods)
            .into_iter()
            .find(|m| m.id != id)
            .map(|m| m.id);
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::MethodDeleted)
            .method(id)
            .detail(serde_json::json!({ "kind": Kind::AuthenticatorApp.as_str(), "by": "device" }));
        let notes = self
            .notifications(
                &auth.account,
                &auth.method,
                SecurityEvent::MethodRemoved,
                ctx,
            )
            .await?;
        if !self
            .store
            .delete_method_noting(auth.account.id, id, new_default, &audit, &notes)
            .await?
        {
            return Err(Error::Unauthorized);
        }
        Ok(())
    }
}

/// A wake-up URL as a device gave it: HTTPS, or plain HTTP to this machine only (a local
/// push distributor); nothing else is ever POSTed to.
pub fn clean_wakeup_url(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(None),
        Some(url) => clean_push_url(url, WAKEUP_URL_MAX, "wakeup_url").map(Some),
    }
}

/// A URL the server will POST to for a device (a wake-up URL, a Web Push endpoint): at most
/// `max` bytes, HTTPS, or plain HTTP to loopback only; `field` names it in the refusal.
pub fn clean_push_url(raw: &str, max: usize, field: &'static str) -> Result<String> {
    let url = raw.trim();
    let bad = || Error::bad(field, Problem::Invalid);
    if url.is_empty() || url.len() > max || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    let (secure, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return Err(bad()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !secure && !loopback {
        return Err(bad());
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::clean_wakeup_url;

    #[test]
    fn wakeup_urls_are_https_or_local() {
        let ok = |u: &str| clean_wakeup_url(Some(u)).ok().flatten();
        assert_eq!(
            ok("https://push.example.org/up/abc").as_deref(),
            Some("https://push.example.org/up/abc")
        );
        assert_eq!(
            ok("http://127.0.0.1:8080/up").as_deref(),
            Some("http://127.0.0.1:8080/up")
        );
        assert_eq!(
            ok("http://localhost/up").as_deref(),
            Some("http://localhost/up")
        );
        assert!(clean_wakeup_url(Some("http://push.example.org/up")).is_err());
        assert!(clean_wakeup_url(Some("http://127.0.0.1.evil.example/up")).is_err());
        assert!(clean_wakeup_url(Some("https://user@evil.example/")).is_err());
        assert!(clean_wakeup_url(Some("ftp://x")).is_err());
        assert!(clean_wakeup_url(Some("https://")).is_err());
        assert!(matches!(clean_wakeup_url(Some("  ")), Ok(None)));
        assert!(matches!(clean_wakeup_url(None), Ok(None)));
    }
}
