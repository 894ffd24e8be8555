//! Storage for authenticator apps activated for notifications: the device behind each
//! `authenticator_app` method, and the push requests sent to it.
//!
//! Every answer to a request is one conditional `UPDATE … WHERE status = 'pending'`, in the
//! same transaction as what the answer does (a sign-in flow approved, a session's second
//! factor marked, a registration activated, an account blocked), so one request is answered
//! at most once, by one node, whatever the race.
//!
//! Wake-ups: a request inserted or answered wakes whoever waits for its device or its
//! binding, on every node (PostgreSQL `NOTIFY` in the same transaction; an in-process channel
//! on SQLite). [`PushStore::push_subscribe`] is how a waiter hears them.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::effect::Effect;
use crate::ids::{AccountId, MethodId, PushRequestId};
use crate::method::authenticator_app::push::{PushEvent, next};
use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use time::OffsetDateTime;

/// The signature scheme of a device key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519: a 32-byte public key, 64-byte signatures.
    Ed25519,
    /// ECDSA on P-256 with SHA-256: a SEC1 public key, signatures as r‖s or DER.
    Es256,
}

impl KeyAlgorithm {
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::Es256 => "es256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ed25519" => Some(KeyAlgorithm::Ed25519),
            "es256" => Some(KeyAlgorithm::Es256),
            _ => None,
        }
    }
}

/// The device behind an `authenticator_app` method. Before activation it holds only the
/// activation code (hashed for lookup, sealed for showing again); after, the device's public
/// key and the hash of its credential.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub method_id: MethodId,
    pub account_id: AccountId,
    /// SHA-256 of the activation code; `None` once spent.
    pub activation_hash: Option<Vec<u8>>,
    /// The activation code, sealed for `(push_devices, activation, method id)`.
    pub sealed_activation: Option<Vec<u8>>,
    pub activation_expires_at: OffsetDateTime,
    pub activated_at: Option<OffsetDateTime>,
    /// The name the device gave itself.
    pub name: Option<String>,
    pub algorithm: Option<KeyAlgorithm>,
    pub public_key: Option<Vec<u8>>,
    /// SHA-256 of the device credential (a bearer secret the device holds).
    pub credential_hash: Option<Vec<u8>>,
    /// Where to POST a content-free wake-up (UnifiedPush style), if the device asked.
    pub wakeup_url: Option<String>,
}

impl Device {
    pub fn is_activated(&self) -> bool {
        self.activated_at.is_some()
    }
}

/// What an activation writes.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceActivation {
    pub method_id: MethodId,
    pub name: String,
    pub algorithm: KeyAlgorithm,
    pub public_key: Vec<u8>,
    pub credential_hash: Vec<u8>,
    pub wakeup_url: Option<String>,
    pub at: OffsetDateTime,
    /// The pending method now lives until then, so the test notification can be answered.
    pub method_expires_at: OffsetDateTime,
    /// The method's name when the person gave it none.
    pub method_name: Option<String>,
}

/// Where a push request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushStatus {
    Pending,
    Approved,
    Denied,
    /// Denied, and reported as not the person's own doing.
    Reported,
    /// Approved with the wrong number.
    Failed,
    /// Unanswered in time, or replaced by a newer request for the same thing.
    Expired,
}

impl PushStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PushStatus::Pending => "pending",
            PushStatus::Approved => "approved",
            PushStatus::Denied => "denied",
            PushStatus::Reported => "reported",
            PushStatus::Failed => "failed",
            PushStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PushStatus::Pending,
            PushStatus::Approved,
            PushStatus::Denied,
            PushStatus::Reported,
            PushStatus::Failed,
            PushStatus::Expired,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// One notification to a device: what the device shows, and the number it must be given.
#[derive(Debug, Clone, PartialEq)]
pub struct PushRequest {
    pub id: PushRequestId,
    pub method_id: MethodId,
    pub account_id: AccountId,
    /// `Purpose::as_str()`: `sign_in`, `step_up`, `register` or `reset`.
    pub purpose: String,
    /// `Purpose::binding()`: the flow, session or method it is bound to.
    pub binding: String,
    /// Two digits (10–99), shown where the person signs in, typed on the device.
    pub number: u8,
    pub status: PushStatus,
    /// The name the device shows for what is being signed in to.
    pub app: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub answered_at: Option<OffsetDateTime>,
}

impl PushRequest {
    /// The status as of `now`: a pending request past its time has expired.
    pub fn status_at(&self, now: OffsetDateTime) -> PushStatus {
        match next(self.status, PushEvent::TimedOut) {
            Some(timed_out) if now >= self.expires_at => timed_out,
            _ => self.status,
        }
    }
}

/// An answer to a pending request, and what it does (applied in the same transaction; see
/// [`Effect`]). `status` is where core's `push::next` takes a pending request on the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PushAnswer {
    pub request: PushRequestId,
    pub status: PushStatus,
    pub at: OffsetDateTime,
    pub effects: Vec<Effect>,
}

/// Why a request was not inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushRefused {
    /// The account had its most requests in the window; one leaves the window at `until`.
    TooMany { until: OffsetDateTime },
}

/// What a waiter hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// Something happened to this key (see [`device_key`], [`binding_key`]).
    Key(String),
    /// Wake-ups may have been missed (the listener fell behind or reconnected): look again.
    Missed,
}

/// The key a device's waiters listen on.
pub fn device_key(method: MethodId) -> String {
    format!("device:{method}")
}

/// The key the waiters for a flow, session or registration listen on.
pub fn binding_key(binding: &str) -> String {
    format!("bind:{binding}")
}

/// A subscription to wake-ups, taken when it is created: nothing sent after that is missed.
pub trait PushSubscription: Send {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Wake> + Send + '_>>;
}

#[async_trait]
pub trait PushStore: Send + Sync {
    /// Inserts a pending `authenticator_app` method and its device (its activation), with the
    /// audit event, in one transaction.
    async fn insert_app_method(
        &self,
        method: &crate::method::Method,
        device: &Device,
        audit: &AuditEvent,
    ) -> StoreResult<()>;

    async fn device(&self, method: MethodId) -> StoreResult<Option<Device>>;

    /// The device whose unspent activation code hashes to `hash`.
    async fn device_by_activation(&self, hash: &[u8]) -> StoreResult<Option<Device>>;

    /// The activated device whose credential hashes to `hash`.
    async fn device_by_credential(&self, hash: &[u8]) -> StoreResult<Option<Device>>;

    /// Activates a device, spending its activation code, and sends its test notification,
    /// in one transaction. False, with nothing changed, when the code was already spent, or
    /// the code or its pending method lapsed before `activation.at`.
    async fn activate_device(
        &self,
        activation: &DeviceActivation,
        test: &PushRequest,
        audit: &[AuditEvent],
    ) -> StoreResult<bool>;

    async fn set_wakeup_url(&self, method: MethodId, url: Option<&str>) -> StoreResult<()>;

    /// Inserts a request unless the account was sent `max` requests since `since`. Older
    /// pending requests for the same binding expire: only the newest can be answered.
    async fn insert_push_request(
        &self,
        request: &PushRequest,
        max: u32,
        since: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Result<(), PushRefused>>;

    async fn push_request(&self, id: PushRequestId) -> StoreResult<Option<PushRequest>>;

    /// A device's requests still pending at `now`, oldest first.
    async fn pending_push_requests(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<PushRequest>>;

    /// The newest request for `purpose` bound to `binding`.
    async fn latest_push_request(
        &self,
        purpose: &str,
        binding: &str,
    ) -> StoreResult<Option<PushRequest>>;

    /// Answers a request that is pending and unexpired at `answer.at`, applying its effects
    /// and appending `audit`, in one transaction. False, with nothing changed, when it was
    /// not pending any more, or an effect that must apply did not (the flow had ended).
    async fn answer_push_request(
        &self,
        answer: &PushAnswer,
        audit: &[AuditEvent],
    ) -> StoreResult<bool>;

    /// Claims the wake-up of a device's pending requests not yet woken for: the device's
    /// wake-up URL when this call claimed at least one, so one node sends it.
    async fn claim_wakeup(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>>;

    /// Starts hearing wake-ups.
    fn push_subscribe(&self) -> Box<dyn PushSubscription>;
}
