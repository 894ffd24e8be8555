//! Storage for the policy itself, and for what it enforces at sign-in: the skips of the
//! registration interrupt a person has used.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::effect::FlowMove;
use crate::ids::AccountId;
use crate::policy::Policy;
use async_trait::async_trait;

#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// `None` until an admin first saves one (the default applies).
    async fn policy(&self) -> StoreResult<Option<Policy>>;
    async fn save_policy(&self, policy: &Policy, audit: &AuditEvent) -> StoreResult<()>;

    /// How many times the account skipped the registration interrupt.
    async fn registration_skips(&self, account: AccountId) -> StoreResult<u32>;

    /// In one transaction: counts a skip when fewer than `allowed` were used and applies
    /// `change` (the flow out of registration, a full session for the registration one).
    /// False (nothing changed) when no skip is left or the flow was not in `change.from`.
    async fn skip_registration(
        &self,
        change: &FlowMove,
        account: AccountId,
        allowed: u32,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
}
