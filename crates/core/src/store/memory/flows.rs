//! Sign-in flows.

use async_trait::async_trait;

use super::MemoryStore;
use super::rows::Stored;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::flow::SignInFlow;
use crate::flow::effect::{Effect, FlowMove};
use crate::ids::FlowId;
use crate::store::StoreResult;
use crate::store::flows::SignInFlowStore;

#[async_trait]
impl SignInFlowStore for MemoryStore {
    async fn insert_flow(&self, flow: &SignInFlow) -> StoreResult<()> {
        self.write(|s| {
            if s.flows.contains_key(&flow.id) {
                return Err(StoreError::Conflict("flow"));
            }
            s.require_account(flow.account_id, "sign_in_flows.account_id")?;
            s.flows.insert(flow.id, flow.stored());
            Ok(())
        })
    }

    async fn flow(&self, id: FlowId) -> StoreResult<Option<SignInFlow>> {
        self.read(|s| s.flows.get(&id).cloned())
    }

    async fn move_flow(&self, change: &FlowMove, audit: &AuditEvent) -> StoreResult<bool> {
        let effects = [Effect::MoveFlow(change.clone())];
        self.write(|s| {
            s.check_audit([audit])?;
            if !s.apply_effects(&effects)? {
                return Ok(false);
            }
            s.append_audit([audit]);
            Ok(true)
        })
    }
}
