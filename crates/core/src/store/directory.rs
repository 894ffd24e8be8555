//! Storage for accounts that come from the organization's directory (issue #19,
//! docs/design/directory.md): the link between an account and its directory entry, and the
//! directory groups the account was in when a sign-in or a sync last read them.

use super::StoreResult;
use crate::account::Account;
use crate::audit::AuditEvent;
use crate::ids::AccountId;
use async_trait::async_trait;
use time::OffsetDateTime;

/// A directory person as the store keeps them: what `upsert_directory_account` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryAccount {
    /// Normalized (`account::normalize_username`).
    pub username: String,
    /// The directory's stable id (`entryUUID`, `objectGUID`); `None` when it has none, and
    /// the username is then the key.
    pub external_id: Option<String>,
    pub display_name: String,
    /// Group names, in any order; stored sorted and without duplicates.
    pub groups: Vec<String>,
}

/// The conflict `upsert_directory_account` answers when the username is a LOCAL account's:
/// local accounts (admins, break-glass) are never taken over by a directory person.
pub const LOCAL_ACCOUNT_CONFLICT: &str = "local_account";

/// The conflict `upsert_directory_account` answers when the username's directory account is
/// linked to another entry (`external_id`): a new person reusing a removed person's name must
/// not inherit their security info.
pub const OTHER_ENTRY_CONFLICT: &str = "external_id";

#[async_trait]
pub trait DirectoryAccountStore: Send + Sync {
    /// The account of a directory person, in one transaction: found by `external_id`, else by
    /// username among directory accounts; created when there is none (status active, source
    /// directory, the unusable hash `account::DIRECTORY_PASSWORD_HASH`, created `now`), else
    /// its username and display name updated (status, admin flag and security info are
    /// Tessera's and stay as they are). Its groups are replaced and `directory_seen_at` set to
    /// `now`. `audit` is written only when the account is created, with its `account_id` set
    /// to the new account. Returns the account and whether it was created.
    ///
    /// `Conflict(LOCAL_ACCOUNT_CONFLICT)` when the username is a local account's,
    /// `Conflict(OTHER_ENTRY_CONFLICT)` when it is a directory account linked to another entry,
    /// `Conflict("username")` when a rename would take another account's username.
    async fn upsert_directory_account(
        &self,
        person: &DirectoryAccount,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<(Account, bool)>;
    /// The account's directory groups, sorted; none for a local account.
    async fn account_groups(&self, account: AccountId) -> StoreResult<Vec<String>>;
    /// Replaces the account's groups (sorted and deduplicated as stored).
    async fn set_account_groups(&self, account: AccountId, groups: &[String]) -> StoreResult<()>;
    /// Every account whose source is the directory, by username.
    async fn directory_accounts(&self) -> StoreResult<Vec<Account>>;
}

/// Groups as they are stored: sorted, without duplicates or empty names.
pub fn normalized_groups(groups: &[String]) -> Vec<String> {
    let mut groups: Vec<String> = groups
        .iter()
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    groups.sort();
    groups.dedup();
    groups
}
