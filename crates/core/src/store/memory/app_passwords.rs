//! App passwords.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::MemoryStore;
use super::rows::{Stored, secs};
use crate::app_passwords::AppPassword;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::{AccountId, AppPasswordId};
use crate::store::StoreResult;
use crate::store::app_passwords::AppPasswordStore;

#[async_trait]
impl AppPasswordStore for MemoryStore {
    async fn insert_app_password(
        &self,
        app_password: &AppPassword,
        max: u32,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        let account = app_password.account_id;
        self.write(|s| {
            let held = s
                .app_passwords
                .values()
                .filter(|p| p.account_id == account)
                .count();
            if held as u64 >= u64::from(max) {
                return Ok(false);
            }
            if s.app_passwords.contains_key(&app_password.id) {
                return Err(StoreError::Conflict("unique"));
            }
            s.require_account(account, "app_passwords.account_id")?;
            s.check_audit([audit])?;
            s.app_passwords
                .insert(app_password.id, app_password.stored());
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn app_passwords_of(&self, account: AccountId) -> StoreResult<Vec<AppPassword>> {
        self.read(|s| {
            let mut found: Vec<AppPassword> = s
                .app_passwords
                .values()
                .filter(|p| p.account_id == account)
                .cloned()
                .collect();
            found.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.id)));
            found
        })
    }

    async fn delete_app_password(
        &self,
        account: AccountId,
        id: AppPasswordId,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        self.write(|s| {
            if s.app_passwords
                .get(&id)
                .is_none_or(|p| p.account_id != account)
            {
                return Ok(false);
            }
            s.check_audit([audit])?;
            s.app_passwords.remove(&id);
            s.append_audit([audit]);
            Ok(true)
        })
    }

    async fn touch_app_password(&self, id: AppPasswordId, now: OffsetDateTime) -> StoreResult<()> {
        let now = secs(now);
        self.write(|s| {
            if let Some(p) = s.app_passwords.get_mut(&id)
                && p.last_used_at.is_none_or(|last| last < now)
            {
                p.last_used_at = Some(now);
            }
            Ok(())
        })
    }
}
