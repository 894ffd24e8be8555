//! Directory accounts and their groups.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::MemoryStore;
use super::rows::secs;
use crate::account::{Account, AccountSource};
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::AccountId;
use crate::store::StoreResult;
use crate::store::directory::{
    DirectoryAccount, DirectoryAccountStore, LOCAL_ACCOUNT_CONFLICT, OTHER_ENTRY_CONFLICT,
    normalized_groups,
};

#[async_trait]
impl DirectoryAccountStore for MemoryStore {
    async fn upsert_directory_account(
        &self,
        person: &DirectoryAccount,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<(Account, bool)> {
        self.write(|s| {
            let by_id = person.external_id.as_ref().and_then(|ext| {
                s.accounts
                    .values()
                    .find(|a| a.external_id.as_ref() == Some(ext))
            });
            let by_name = s.accounts.values().find(|a| a.username == person.username);
            let found = match (by_id, by_name) {
                (Some(a), Some(b)) if a.id != b.id => {
                    return Err(StoreError::Conflict("username"));
                }
                (Some(a), _) => Some(a.id),
                (None, Some(b)) if b.source == AccountSource::Local => {
                    return Err(StoreError::Conflict(LOCAL_ACCOUNT_CONFLICT));
                }
                (None, Some(b)) if b.external_id.is_some() && person.external_id.is_some() => {
                    return Err(StoreError::Conflict(OTHER_ENTRY_CONFLICT));
                }
                (None, Some(b)) => Some(b.id),
                (None, None) => None,
            };
            let groups = normalized_groups(&person.groups);
            let (account, created) = match found {
                Some(id) => {
                    let row = s
                        .accounts
                        .get_mut(&id)
                        .ok_or(StoreError::Conflict("account"))?;
                    row.username = person.username.clone();
                    row.display_name = person.display_name.clone();
                    if person.external_id.is_some() {
                        row.external_id = person.external_id.clone();
                    }
                    (row.clone(), false)
                }
                None => {
                    s.check_audit([audit])?;
                    let account =
                        Account::of_directory_person(AccountId(Uuid::new_v4()), person, secs(now));
                    s.put_account(&account);
                    let event = AuditEvent {
                        account_id: Some(account.id),
                        ..audit.clone()
                    };
                    s.append_audit([&event]);
                    (account, true)
                }
            };
            s.account_groups.insert(account.id, groups);
            s.directory_seen.insert(account.id, secs(now));
            Ok((account, created))
        })
    }

    async fn account_groups(&self, account: AccountId) -> StoreResult<Vec<String>> {
        self.read(|s| s.account_groups.get(&account).cloned().unwrap_or_default())
    }

    async fn set_account_groups(&self, account: AccountId, groups: &[String]) -> StoreResult<()> {
        self.write(|s| {
            if !s.accounts.contains_key(&account) {
                return Err(StoreError::Conflict("account"));
            }
            s.account_groups.insert(account, normalized_groups(groups));
            Ok(())
        })
    }

    async fn directory_accounts(&self) -> StoreResult<Vec<Account>> {
        self.read(|s| {
            let mut found: Vec<Account> = s
                .accounts
                .values()
                .filter(|a| a.source == AccountSource::Directory)
                .cloned()
                .collect();
            found.sort_by(|a, b| a.username.cmp(&b.username));
            found
        })
    }
}
