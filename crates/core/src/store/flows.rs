//! Storage for sign-in flows. Moving a flow on to the registration interrupt is the
//! policy's (see [`super::policy::PolicyStore`]).

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::flow::SignInFlow;
use crate::flow::effect::FlowMove;
use crate::ids::FlowId;
use async_trait::async_trait;

#[async_trait]
pub trait SignInFlowStore: Send + Sync {
    async fn insert_flow(&self, flow: &SignInFlow) -> StoreResult<()>;
    async fn flow(&self, id: FlowId) -> StoreResult<Option<SignInFlow>>;
    /// Applies the move (the flow's new state and end, the session it inserts and the one it
    /// ends) with `audit`, in one transaction. False (nothing changed) when the flow was not in
    /// `change.from` (or not current at `change.current_at`).
    async fn move_flow(&self, change: &FlowMove, audit: &AuditEvent) -> StoreResult<bool>;
}
