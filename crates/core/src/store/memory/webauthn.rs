//! Security keys: their credentials, and the WebAuthn ceremonies in progress (taking one
//! deletes it, so each is answered at most once).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::{Stored, secs};
use crate::error::StoreError;
use crate::ids::MethodId;
use crate::method::MethodStatus;
use crate::store::StoreResult;
use crate::store::webauthn::{Ceremony, SecurityKeyCredential, WebAuthnStore};

#[async_trait]
impl WebAuthnStore for MemoryStore {
    async fn save_ceremony(&self, ceremony: &Ceremony, now: OffsetDateTime) -> StoreResult<()> {
        let now = secs(now);
        self.write(|s| {
            s.ceremonies.retain(|_, c| c.expires_at > now);
            let key = (
                ceremony.purpose.clone(),
                ceremony.binding.clone(),
                ceremony.method_id,
            );
            s.ceremonies.insert(key, ceremony.stored());
            Ok(())
        })
    }

    async fn take_ceremony(
        &self,
        purpose: &str,
        binding: &str,
        method: Option<MethodId>,
    ) -> StoreResult<Option<Ceremony>> {
        let key = (purpose.to_string(), binding.to_string(), method);
        self.write(|s| Ok(s.ceremonies.remove(&key)))
    }

    async fn insert_security_key(&self, key: &SecurityKeyCredential) -> StoreResult<bool> {
        self.write(|s| {
            // The registration's sealed state goes as the credential arrives: it completes once.
            let pending = s
                .methods
                .get(&key.method_id)
                .is_some_and(|m| m.status == MethodStatus::Pending && m.sealed_secret.is_some());
            if !pending {
                return Ok(false);
            }
            let taken = s.security_keys.contains_key(&key.method_id)
                || s.security_keys
                    .values()
                    .any(|k| k.credential_id == key.credential_id);
            if taken {
                return Err(StoreError::Conflict("credential"));
            }
            s.require_account(key.account_id, "webauthn_credentials.account_id")?;
            if let Some(m) = s.methods.get_mut(&key.method_id) {
                m.sealed_secret = None;
            }
            s.security_keys.insert(key.method_id, key.stored());
            Ok(true)
        })
    }

    async fn security_key(&self, method: MethodId) -> StoreResult<Option<SecurityKeyCredential>> {
        self.read(|s| s.security_keys.get(&method).cloned())
    }

    async fn security_key_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<SecurityKeyCredential>> {
        self.read(|s| {
            s.security_keys
                .values()
                .find(|k| k.credential_id == credential_id)
                .cloned()
        })
    }

    async fn record_security_key_use(
        &self,
        method: MethodId,
        passkey: &str,
        sign_count: u32,
    ) -> StoreResult<bool> {
        self.write(|s| {
            // A counter must move forward; a key that keeps none reports 0 every time.
            let Some(key) = s
                .security_keys
                .get_mut(&method)
                .filter(|k| k.sign_count < sign_count || (sign_count == 0 && k.sign_count == 0))
            else {
                return Ok(false);
            };
            key.passkey = passkey.to_string();
            key.sign_count = sign_count;
            Ok(true)
        })
    }
}
