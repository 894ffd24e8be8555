//! Standard Web Push (RFC 8030) to the authenticator web app: the server's VAPID key
//! ([`vapid`], RFC 8292), the message encryption ([`ece`], RFC 8291), and a device's
//! subscription. The transport (HTTP, claiming, retries) is the server's.
//!
//! The VAPID key is made at first start, sealed under the key ring like every private key,
//! and shared by all nodes through the store: the first node's insert wins and every node
//! reads the stored one, so the key browsers subscribed with never changes under them.

pub mod ece;
pub mod vapid;

use crate::error::{Error, Internal, Problem, Result};
use crate::ids::MethodId;
use crate::method::authenticator_app::device::{DeviceAuth, clean_push_url};
use crate::random;
use crate::secret::Aad;
use crate::service::Tessera;
use crate::store::web_push::{VapidKey, WebPushClaim, WebPushSubscription};
use p256::{PublicKey, SecretKey};
use zeroize::Zeroizing;

/// Longest push endpoint kept (browsers' endpoints are a few hundred bytes).
pub const ENDPOINT_MAX: usize = 2048;
/// The browser's authentication secret is 16 bytes (RFC 8291 §3.2).
pub const AUTH_LEN: usize = 16;

fn aad() -> Aad<'static> {
    Aad {
        table: "server_keys",
        column: "private_key",
        row: "vapid",
    }
}

/// A subscription as a device gave it, checked: an HTTPS endpoint (HTTP only to loopback),
/// a P-256 point as `p256dh`, 16 bytes of `auth`.
pub fn clean_subscription(
    endpoint: &str,
    p256dh: &[u8],
    auth: &[u8],
) -> Result<WebPushSubscription> {
    let endpoint = clean_push_url(endpoint, ENDPOINT_MAX, "endpoint")?;
    if p256dh.len() != 65 || p256dh[0] != 4 || PublicKey::from_sec1_bytes(p256dh).is_err() {
        return Err(Error::bad("keys.p256dh", Problem::Invalid));
    }
    if auth.len() != AUTH_LEN {
        return Err(Error::bad("keys.auth", Problem::Invalid));
    }
    Ok(WebPushSubscription {
        endpoint,
        p256dh: p256dh.to_vec(),
        auth: auth.to_vec(),
    })
}

/// A new VAPID key, its private half sealed under the key ring.
fn new_vapid_key(tessera: &Tessera) -> VapidKey {
    let secret = loop {
        let bytes = Zeroizing::new(random::bytes::<32>(tessera.rng.as_ref()));
        if let Ok(key) = SecretKey::from_slice(bytes.as_slice()) {
            break key;
        }
    };
    VapidKey {
        sealed_private: tessera.keys.seal(
            tessera.rng.as_ref(),
            secret.to_bytes().as_slice(),
            aad(),
        ),
        public_key: vapid::public_key(&secret),
        created_at: tessera.now(),
    }
}

impl Tessera {
    /// The deployment's VAPID key, made (once, whichever node is first) when there is none.
    pub async fn vapid_key(&self) -> Result<VapidKey> {
        if let Some(key) = self.store.vapid_key().await? {
            return Ok(key);
        }
        self.store.insert_vapid_key(&new_vapid_key(self)).await?;
        self.store
            .vapid_key()
            .await?
            .ok_or(Error::Internal(Internal::Signing))
    }

    /// The `Authorization` header's value for a message to `endpoint` (RFC 8292).
    pub async fn vapid_authorization(&self, endpoint: &str, subject: &str) -> Result<String> {
        let key = self.vapid_key().await?;
        let private = self
            .keys
            .open(&key.sealed_private, aad())
            .map_err(|_| Error::Internal(Internal::Unseal))?;
        let private =
            SecretKey::from_slice(&private).map_err(|_| Error::Internal(Internal::Unseal))?;
        vapid::authorization(&private, endpoint, subject, self.now())
            .ok_or(Error::bad("endpoint", Problem::Invalid))
    }

    /// The device subscribes; its earlier subscription or wake-up URL is replaced.
    pub async fn set_device_web_push(
        &self,
        auth: &DeviceAuth,
        subscription: &WebPushSubscription,
    ) -> Result<()> {
        let subscription = clean_subscription(
            &subscription.endpoint,
            &subscription.p256dh,
            &subscription.auth,
        )?;
        Ok(self
            .store
            .set_web_push(auth.device.method_id, Some(&subscription))
            .await?)
    }

    /// The device unsubscribes.
    pub async fn remove_device_web_push(&self, auth: &DeviceAuth) -> Result<()> {
        Ok(self.store.set_web_push(auth.device.method_id, None).await?)
    }

    /// For the sender: what this node claimed to send to `device`.
    pub async fn claim_web_push(&self, device: MethodId) -> Result<Option<WebPushClaim>> {
        Ok(self.store.claim_web_push(device, self.now()).await?)
    }

    /// The push service says the subscription is gone (404, 410): forget it, unless the
    /// device has subscribed anew meanwhile.
    pub async fn web_push_gone(&self, device: MethodId, endpoint: &str) -> Result<bool> {
        Ok(self.store.forget_web_push(device, endpoint).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> Vec<u8> {
        vapid::public_key(&SecretKey::from_slice(&[9u8; 32]).unwrap())
    }

    #[test]
    fn subscriptions_are_checked_field_by_field() {
        let ok = clean_subscription("https://push.example.net/w/1", &point(), &[1; 16]);
        assert_eq!(ok.unwrap().endpoint, "https://push.example.net/w/1");
        assert!(clean_subscription("http://127.0.0.1:9/w", &point(), &[1; 16]).is_ok());
        let field = |r: Result<WebPushSubscription>| match r {
            Err(Error::BadRequest { field, .. }) => Some(field),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(clean_subscription(
                "http://push.example.net/w",
                &point(),
                &[1; 16]
            )),
            Some("endpoint")
        );
        let long = format!("https://push.example.net/{}", "a".repeat(ENDPOINT_MAX));
        assert_eq!(
            field(clean_subscription(&long, &point(), &[1; 16])),
            Some("endpoint")
        );
        let mut off_curve = point();
        off_curve[64] ^= 1;
        assert_eq!(
            field(clean_subscription(
                "https://p.example/w",
                &off_curve,
                &[1; 16]
            )),
            Some("keys.p256dh")
        );
        assert_eq!(
            field(clean_subscription(
                "https://p.example/w",
                &point()[..33],
                &[1; 16]
            )),
            Some("keys.p256dh")
        );
        assert_eq!(
            field(clean_subscription(
                "https://p.example/w",
                &point(),
                &[1; 15]
            )),
            Some("keys.auth")
        );
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::{Argon2Passwords, FakeClock, KeyRing, OsRandom};
    use data_encoding::BASE64URL_NOPAD;
    use std::sync::Arc;

    fn node(store: &Arc<MemoryStore>, keys: &Arc<KeyRing>) -> Tessera {
        Tessera::new(
            store.clone(),
            Arc::new(FakeClock::at_epoch_2026()),
            Arc::new(OsRandom),
            keys.clone(),
            Arc::new(Argon2Passwords::new(8, 1, 1).unwrap()),
            "Tessera tests",
        )
    }

    #[tokio::test]
    async fn the_vapid_key_is_made_once_sealed_and_shared_by_every_node() {
        let store = Arc::new(MemoryStore::new());
        let keys = Arc::new(KeyRing::generate(&OsRandom));
        let (one, two) = (node(&store, &keys), node(&store, &keys));
        let key = one.vapid_key().await.unwrap();
        assert_eq!(two.vapid_key().await.unwrap(), key);
        assert_eq!(one.vapid_key().await.unwrap(), key);
        // Sealed for its place: it opens there, to the private half of the public key.
        let private = keys.open(&key.sealed_private, aad()).unwrap();
        assert_ne!(key.sealed_private.as_slice(), private.as_slice());
        let private = SecretKey::from_slice(&private).unwrap();
        assert_eq!(vapid::public_key(&private), key.public_key);
        let elsewhere = Aad {
            table: "server_keys",
            column: "private_key",
            row: "other",
        };
        assert!(keys.open(&key.sealed_private, elsewhere).is_err());
        // Both nodes sign with it.
        let value = two
            .vapid_authorization("https://push.example.net/w/1", "mailto:it@example.org")
            .await
            .unwrap();
        let k = format!("k={}", BASE64URL_NOPAD.encode(&key.public_key));
        assert!(value.ends_with(&k), "{value}");
    }
}
