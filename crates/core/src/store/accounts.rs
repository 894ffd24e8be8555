//! Storage for accounts.

use super::StoreResult;
use crate::account::Account;
use crate::audit::{AuditEvent, RequestLanguage};
use crate::ids::AccountId;
use async_trait::async_trait;

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// `Conflict("username")` when the username is taken.
    async fn insert_account(&self, account: &Account, audit: &AuditEvent) -> StoreResult<()>;
    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>>;
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    /// Accounts whose username or display name contains `search` (all when `None`), by username.
    async fn list_accounts(&self, search: Option<&str>, limit: u32) -> StoreResult<Vec<Account>>;
    /// Writes every field but `id`, `username`, `created_at`, `browser_locale`, `source` and
    /// `external_id` (only `DirectoryAccountStore::upsert_directory_account` writes those).
    async fn update_account(
        &self,
        account: &Account,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()>;
    /// Sets only the account's `locale` (a choice) or `browser_locale`, so that it never
    /// races a change of any other field.
    async fn remember_locale(
        &self,
        account: AccountId,
        language: &RequestLanguage,
    ) -> StoreResult<()>;
}
