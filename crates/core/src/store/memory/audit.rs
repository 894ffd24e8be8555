//! The audit log, append-only.

use async_trait::async_trait;

use super::MemoryStore;
use crate::audit::AuditEvent;
use crate::ids::AccountId;
use crate::store::StoreResult;
use crate::store::audit::AuditStore;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            s.check_audit([event])?;
            s.append_audit([event]);
            Ok(())
        })
    }

    async fn audit_of(&self, account: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.read(|s| {
            // Newest first; within one second, the one written last.
            let mut events: Vec<(usize, &AuditEvent)> = s
                .audit
                .iter()
                .enumerate()
                .filter(|(_, e)| e.account_id == Some(account))
                .collect();
            events.sort_by(|(i, a), (j, b)| b.at.cmp(&a.at).then(j.cmp(i)));
            events
                .into_iter()
                .take(limit as usize)
                .map(|(_, e)| e.clone())
                .collect()
        })
    }
}
