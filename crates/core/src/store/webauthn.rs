//! Storage for security keys: their credentials, and the WebAuthn ceremonies in progress.
//!
//! A ceremony (the challenge a browser was given, and the state that checks its answer) lives
//! in the store, so the node that answers need not be the node that asked; taking it deletes
//! it, so each ceremony is answered at most once.

use super::StoreResult;
use crate::ids::{AccountId, MethodId};
use async_trait::async_trait;
use time::OffsetDateTime;

/// A WebAuthn ceremony in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Ceremony {
    /// What it is for: `sign_in`, `step_up`, `reset`, or `passkey` (a sign-in by passkey
    /// alone).
    pub purpose: String,
    /// What it is bound to: the flow or session, or the ceremony's own id for a passkey.
    pub binding: String,
    /// The security key asked; `None` when the browser chooses (a passkey).
    pub method_id: Option<MethodId>,
    /// webauthn-rs's state, as JSON.
    pub state: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A registered security key's credential: its public key, counter and model.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityKeyCredential {
    pub method_id: MethodId,
    pub account_id: AccountId,
    /// The credential id, base64url without padding; unique across all accounts.
    pub credential_id: String,
    /// webauthn-rs's `Passkey` (public key, counter, flags), as JSON. Nothing secret.
    pub passkey: String,
    /// The authenticator model the key reported, if any.
    pub aaguid: Option<String>,
    /// The signature counter last accepted (0 for keys that keep none).
    pub sign_count: u32,
    pub created_at: OffsetDateTime,
}

#[async_trait]
pub trait WebAuthnStore: Send + Sync {
    /// Saves `ceremony`, replacing one with the same purpose, binding and method (a reload
    /// starts afresh), and drops the ceremonies that expired before `now`.
    async fn save_ceremony(&self, ceremony: &Ceremony, now: OffsetDateTime) -> StoreResult<()>;

    /// Removes and returns the ceremony, expired or not; `None` when there is none (never
    /// started, or already answered).
    async fn take_ceremony(
        &self,
        purpose: &str,
        binding: &str,
        method: Option<MethodId>,
    ) -> StoreResult<Option<Ceremony>>;

    /// In one transaction: forgets the pending registration of `key.method_id` (its sealed
    /// ceremony state) and stores the credential. False, with nothing changed, when the
    /// method is no longer a pending registration with state (answered already).
    /// `Conflict("credential")` when the credential is registered already.
    async fn insert_security_key(&self, key: &SecurityKeyCredential) -> StoreResult<bool>;

    async fn security_key(&self, method: MethodId) -> StoreResult<Option<SecurityKeyCredential>>;

    async fn security_key_by_credential(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<SecurityKeyCredential>>;

    /// Records a use: the new counter and credential, only if the counter moved forward, or
    /// stays 0 for a key that keeps no counter. False, with nothing changed, otherwise: the
    /// key may have been cloned (or another node recorded a later use first).
    async fn record_security_key_use(
        &self,
        method: MethodId,
        passkey: &str,
        sign_count: u32,
    ) -> StoreResult<bool>;
}
