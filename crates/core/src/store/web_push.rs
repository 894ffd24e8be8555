//! Storage for Web Push (RFC 8030): the server's VAPID key, and each device's subscription.
//!
//! A subscription lives on its device's row, so it goes when the device (its method) goes,
//! and a device has one wake-up path: setting a subscription forgets the wake-up URL, and
//! setting a wake-up URL forgets the subscription.
//!
//! Sending is claimed like wake-ups: a request is claimed for Web Push by the one node whose
//! conditional `UPDATE` moves it from "not woken" to "woken"; once it is answered or
//! replaced, the one node that moves it on to "closed" sends the message that takes the
//! notification away.

use super::StoreResult;
use crate::ids::{MethodId, PushRequestId};
use crate::store::push::PushRequest;
use async_trait::async_trait;
use time::OffsetDateTime;

/// A browser's push subscription (`PushSubscription.toJSON()`): where to POST, and the keys
/// the message is encrypted for. Only the VAPID key's holder can send to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPushSubscription {
    /// HTTPS (or HTTP to loopback, for tests).
    pub endpoint: String,
    /// The browser's P-256 key, an uncompressed SEC1 point (65 bytes).
    pub p256dh: Vec<u8>,
    /// The browser's authentication secret (16 bytes).
    pub auth: Vec<u8>,
}

/// The server's VAPID key pair (RFC 8292), one per deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VapidKey {
    /// The private scalar (32 bytes), sealed for `server_keys/private_key/vapid`.
    pub sealed_private: Vec<u8>,
    /// The uncompressed SEC1 public point (65 bytes), as browsers take it.
    pub public_key: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// What one node claimed to send to a device.
#[derive(Debug, Clone, PartialEq)]
pub struct WebPushClaim {
    pub subscription: WebPushSubscription,
    /// New pending requests, oldest first.
    pub requests: Vec<PushRequest>,
    /// Requests sent earlier that are answered or replaced now.
    pub closed: Vec<PushRequestId>,
}

#[async_trait]
pub trait WebPushStore: Send + Sync {
    /// Stores `key` unless a VAPID key is stored already: nodes starting at once each make
    /// one, the first insert wins, and every node then reads that one.
    async fn insert_vapid_key(&self, key: &VapidKey) -> StoreResult<()>;

    async fn vapid_key(&self) -> StoreResult<Option<VapidKey>>;

    /// Sets a device's subscription (replacing an earlier one, and its wake-up URL), or with
    /// `None` removes it.
    async fn set_web_push(
        &self,
        method: MethodId,
        subscription: Option<&WebPushSubscription>,
    ) -> StoreResult<()>;

    async fn web_push(&self, method: MethodId) -> StoreResult<Option<WebPushSubscription>>;

    /// Removes the subscription if it still goes to `endpoint` (its push service said it is
    /// gone; a newer one stays). True when one was removed.
    async fn forget_web_push(&self, method: MethodId, endpoint: &str) -> StoreResult<bool>;

    /// Claims, for a device with a subscription, its pending requests not yet sent and its
    /// sent requests that have ended since; `None` when there was nothing to claim.
    async fn claim_web_push(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebPushClaim>>;
}
