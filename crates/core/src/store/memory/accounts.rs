//! Accounts.

use async_trait::async_trait;

use super::MemoryStore;
use super::rows::Stored;
use crate::account::Account;
use crate::audit::{AuditEvent, RequestLanguage};
use crate::error::StoreError;
use crate::ids::AccountId;
use crate::store::StoreResult;
use crate::store::accounts::AccountStore;

impl super::State {
    /// `Conflict("username")` when the username is taken.
    pub(super) fn check_new_account(&self, account: &Account) -> StoreResult<()> {
        if self
            .accounts
            .values()
            .any(|a| a.username == account.username)
        {
            return Err(StoreError::Conflict("username"));
        }
        if self.accounts.contains_key(&account.id) {
            return Err(StoreError::Conflict("account"));
        }
        Ok(())
    }

    /// A new account; only `remember_locale` writes its browser's language.
    pub(super) fn put_account(&mut self, account: &Account) {
        let stored = Account {
            browser_locale: None,
            ..account.stored()
        };
        self.accounts.insert(account.id, stored);
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn insert_account(&self, account: &Account, audit: &AuditEvent) -> StoreResult<()> {
        self.write(|s| {
            s.check_new_account(account)?;
            s.check_audit([audit])?;
            s.put_account(account);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        self.read(|s| s.accounts.get(&id).cloned())
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.read(|s| {
            s.accounts
                .values()
                .find(|a| a.username == username)
                .cloned()
        })
    }

    async fn list_accounts(&self, search: Option<&str>, limit: u32) -> StoreResult<Vec<Account>> {
        let search = search.unwrap_or("").to_lowercase();
        self.read(|s| {
            let mut found: Vec<Account> = s
                .accounts
                .values()
                .filter(|a| {
                    a.username.to_lowercase().contains(&search)
                        || a.display_name.to_lowercase().contains(&search)
                })
                .cloned()
                .collect();
            found.sort_by(|a, b| a.username.cmp(&b.username));
            found.truncate(limit as usize);
            found
        })
    }

    async fn update_account(
        &self,
        account: &Account,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        self.write(|s| {
            s.check_audit(audit)?;
            if let Some(row) = s.accounts.get_mut(&account.id) {
                *row = Account {
                    id: row.id,
                    username: row.username.clone(),
                    created_at: row.created_at,
                    browser_locale: row.browser_locale.clone(),
                    // Only `upsert_directory_account` links an account to the directory.
                    source: row.source,
                    external_id: row.external_id.clone(),
                    ..account.clone()
                };
            }
            s.append_audit(audit);
            Ok(())
        })
    }

    async fn remember_locale(
        &self,
        account: AccountId,
        language: &RequestLanguage,
    ) -> StoreResult<()> {
        self.write(|s| {
            if let Some(row) = s.accounts.get_mut(&account) {
                match language {
                    RequestLanguage::Chosen(tag) => row.locale = Some(tag.clone()),
                    RequestLanguage::Browser(tag) => row.browser_locale = Some(tag.clone()),
                }
            }
            Ok(())
        })
    }
}
