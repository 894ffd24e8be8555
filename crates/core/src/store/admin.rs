//! Storage for administration: temporary passwords, revoking security info, temporary access
//! passes, imported hardware tokens, and reading the audit log with filters.

use super::StoreResult;
use crate::account::Account;
use crate::audit::{AuditAction, AuditEvent};
use crate::ids::{AccountId, SessionId};
use crate::message::Message;
use crate::method::Method;
use async_trait::async_trait;
use time::OffsetDateTime;

/// An imported hardware token: its serial is unique across the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardwareToken {
    pub serial: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub imported_at: OffsetDateTime,
}

/// Which audit events to read. Every field narrows; `None` does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub account: Option<AccountId>,
    pub action: Option<AuditAction>,
    /// At or after.
    pub since: Option<OffsetDateTime>,
    /// Before.
    pub until: Option<OffsetDateTime>,
}

/// Where a page of the audit log starts, and which way it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPage {
    /// Newest first, from the newest event (`None`) or from just before the cursor.
    NewestFirst { before: Option<i64> },
    /// Oldest first, from the oldest event (`None`) or from just after the cursor: for export.
    OldestFirst { after: Option<i64> },
}

/// One event of the log and its cursor (the order in which events were written).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub cursor: i64,
    pub event: AuditEvent,
    /// The account's username, while the account exists.
    pub username: Option<String>,
}

#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Inserts an account whose password must be changed at its first sign-in, with the audit
    /// event, in one transaction. `Conflict("username")` when the username is taken.
    async fn insert_account_with_temporary_password(
        &self,
        account: &Account,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Sets a password that must be changed at the next sign-in and ends every session of the
    /// account. Returns how many sessions ended.
    async fn set_temporary_password(
        &self,
        account: AccountId,
        password_hash: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<u64>;
    async fn password_change_required(&self, account: AccountId) -> StoreResult<bool>;
    /// Sets a new password chosen by the person, clears the requirement to change it, and
    /// ends every other session of the account.
    async fn change_password(
        &self,
        account: AccountId,
        password_hash: &str,
        keep: Option<SessionId>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Deletes every method of the account, clears its default and ends its sessions, so the
    /// next sign-in registers security info again. Returns how many methods went.
    async fn revoke_methods(&self, account: AccountId, audit: &AuditEvent) -> StoreResult<u64>;
    /// Inserts a temporary access pass, deleting the account's earlier ones, and queues the
    /// notifications that tell the person.
    async fn replace_temporary_access_pass(
        &self,
        pass: &Method,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<()>;
    /// Deletes the account's temporary access passes; how many went.
    async fn delete_temporary_access_passes(
        &self,
        account: AccountId,
        audit: &AuditEvent,
    ) -> StoreResult<u64>;
    /// Deletes temporary access passes that were used or have lapsed.
    async fn purge_temporary_access_passes(&self, now: OffsetDateTime) -> StoreResult<u64>;
    /// Assigns an imported hardware token: its pending method and its serial.
    /// `Conflict("serial")` when a token with that serial is already assigned.
    async fn insert_hardware_token(
        &self,
        method: &Method,
        token: &HardwareToken,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// The hardware token behind a method, if it is one.
    async fn hardware_token_of(
        &self,
        method: crate::ids::MethodId,
    ) -> StoreResult<Option<HardwareToken>>;
    /// One page of at most `limit` events that pass `filter`.
    async fn audit_page(
        &self,
        filter: &AuditFilter,
        page: AuditPage,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}
