//! Methods a person holds one of, replaced as a whole, and the single use of recovery codes
//! (a bit per code in `last_step`).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::secs;
use crate::audit::AuditEvent;
use crate::ids::MethodId;
use crate::message::Message;
use crate::method::Method;
use crate::store::StoreResult;
use crate::store::recovery_codes::RecoveryCodeStore;

#[async_trait]
impl RecoveryCodeStore for MemoryStore {
    async fn replace_methods_of_kind(
        &self,
        method: &Method,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<Vec<MethodId>> {
        let account = method.account_id;
        let old = self.write(|s| {
            let mut old: Vec<&Method> = s
                .methods
                .values()
                .filter(|m| m.account_id == account && m.kind == method.kind && m.id != method.id)
                .collect();
            old.sort_by_key(|m| (m.created_at, m.id));
            let old: Vec<MethodId> = old.into_iter().map(|m| m.id).collect();
            s.check_new_method(method)?;
            s.check_audit([audit])?;
            s.check_messages(notes)?;
            s.put_method(method);
            for id in &old {
                s.delete_method(*id);
                s.move_default(account, *id, Some(method.id));
            }
            // Born active: what follows an activation follows here too.
            s.activated(account, method.id, false);
            s.append_audit([audit]);
            s.put_messages(notes);
            Ok(old)
        })?;
        self.queued(!notes.is_empty());
        Ok(old)
    }

    async fn use_recovery_code(
        &self,
        method: MethodId,
        bit: i64,
        now: OffsetDateTime,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool> {
        let now = secs(now);
        let used = self.write(|s| {
            // Only while the code's bit is clear: of two uses of one code, one counts.
            let unused = s
                .methods
                .get(&method)
                .is_some_and(|m| m.last_step.unwrap_or(0) & bit == 0);
            if !unused {
                return Ok(false);
            }
            s.check_audit([audit])?;
            s.check_messages(notes)?;
            if let Some(m) = s.methods.get_mut(&method) {
                m.last_step = Some(m.last_step.unwrap_or(0) | bit);
                m.last_used_at = Some(now);
                m.failures = 0;
                m.locked_until = None;
            }
            s.append_audit([audit]);
            s.put_messages(notes);
            Ok(true)
        })?;
        self.queued(used && !notes.is_empty());
        Ok(used)
    }
}
