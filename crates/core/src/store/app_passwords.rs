//! Storage of app passwords (see [`crate::app_passwords`]).

use super::StoreResult;
use crate::app_passwords::AppPassword;
use crate::audit::AuditEvent;
use crate::ids::{AccountId, AppPasswordId};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait AppPasswordStore: Send + Sync {
    /// Inserts the app password unless the account already has `max`; false (nothing written)
    /// when it has. Concurrent inserts for one account cannot pass the limit together.
    async fn insert_app_password(
        &self,
        app_password: &AppPassword,
        max: u32,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Newest first.
    async fn app_passwords_of(&self, account: AccountId) -> StoreResult<Vec<AppPassword>>;
    /// False when the account has no such app password.
    async fn delete_app_password(
        &self,
        account: AccountId,
        id: AppPasswordId,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Records that a service accepted it.
    async fn touch_app_password(&self, id: AppPasswordId, now: OffsetDateTime) -> StoreResult<()>;
}
