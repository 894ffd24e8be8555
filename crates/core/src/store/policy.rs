//! Storage for what the policy enforces at sign-in: moving a signed-in flow on to the
//! registration interrupt, and the skips of it a person has used.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::FlowState;
use crate::ids::{AccountId, FlowId, SessionId};
use crate::session::Session;
use async_trait::async_trait;

#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// Moves the flow from `from` to `Registration` and inserts `session` (a registration
    /// session of that flow), in one transaction. False (nothing changed) when the flow was
    /// not in `from`.
    async fn continue_to_registration(
        &self,
        flow: FlowId,
        from: FlowState,
        session: &Session,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;

    /// How many times the account skipped the registration interrupt.
    async fn registration_skips(&self, account: AccountId) -> StoreResult<u32>;

    /// In one transaction: counts a skip when fewer than `allowed` were used, moves the flow
    /// from `Registration` to `Completed`, inserts `session` and deletes `revoke`. False
    /// (nothing changed) when no skip is left or the flow is not waiting for registration.
    async fn skip_registration(
        &self,
        flow: FlowId,
        account: AccountId,
        allowed: u32,
        session: &Session,
        revoke: SessionId,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
}
