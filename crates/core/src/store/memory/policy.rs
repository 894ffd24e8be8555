//! The policy (one JSON value, as the settings table keeps it), and what it enforces at
//! sign-in: the skips of the registration interrupt a person used.

use async_trait::async_trait;

use super::MemoryStore;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::flow::effect::{Effect, FlowMove};
use crate::ids::AccountId;
use crate::policy::Policy;
use crate::store::StoreResult;
use crate::store::policy::PolicyStore;

#[async_trait]
impl PolicyStore for MemoryStore {
    async fn policy(&self) -> StoreResult<Option<Policy>> {
        let json = self.read(|s| s.policy.clone())?;
        json.map(|j| serde_json::from_str(&j).map_err(|_| StoreError::Corrupt("settings.policy")))
            .transpose()
    }

    async fn save_policy(&self, policy: &Policy, audit: &AuditEvent) -> StoreResult<()> {
        let json = serde_json::to_string(policy).map_err(|e| StoreError::Backend(Box::new(e)))?;
        self.write(|s| {
            s.check_audit([audit])?;
            s.policy = Some(json);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn registration_skips(&self, account: AccountId) -> StoreResult<u32> {
        self.read(|s| s.registration_skips.get(&account).copied().unwrap_or(0))
    }

    async fn skip_registration(
        &self,
        change: &FlowMove,
        account: AccountId,
        allowed: u32,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        if allowed == 0 {
            return Ok(false);
        }
        let effects = [Effect::MoveFlow(change.clone())];
        self.write(|s| {
            let skips = s.registration_skips.get(&account).copied();
            if skips.is_some_and(|used| used >= allowed) {
                return Ok(false);
            }
            if skips.is_none() {
                s.require_account(account, "registration_skips.account_id")?;
            }
            s.check_audit([audit])?;
            if !s.apply_effects(&effects)? {
                return Ok(false);
            }
            s.registration_skips.insert(account, skips.unwrap_or(0) + 1);
            s.append_audit([audit]);
            Ok(true)
        })
    }
}
