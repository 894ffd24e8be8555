//! Administration: temporary passwords, revoking security info, temporary access passes,
//! imported hardware tokens, and the audit log read with filters.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::rows::{Stored, secs};
use super::state::{State, TokenRow};
use super::{MemoryStore, outbox};
use crate::account::Account;
use crate::audit::AuditEvent;
use crate::error::StoreError;
use crate::ids::{AccountId, MethodId, SessionId};
use crate::message::Message;
use crate::method::{Kind, Method};
use crate::store::StoreResult;
use crate::store::admin::{AdminStore, AuditEntry, AuditFilter, AuditPage, HardwareToken};

const PASS: Kind = Kind::TemporaryAccessPass;

impl State {
    /// The account's temporary access passes.
    fn passes_of(&self, account: AccountId) -> Vec<MethodId> {
        self.methods
            .values()
            .filter(|m| m.account_id == account && m.kind == PASS)
            .map(|m| m.id)
            .collect()
    }

    /// Deletes them (clearing the default if one was it); how many went.
    fn delete_passes(&mut self, account: AccountId) -> u64 {
        let passes = self.passes_of(account);
        for id in &passes {
            self.move_default(account, *id, None);
            self.delete_method(*id);
        }
        passes.len() as u64
    }

    fn mark_password_change(&mut self, account: AccountId, at: OffsetDateTime) {
        self.password_change_required.insert(account, secs(at));
    }
}

/// Whether an event passes the filter; every field narrows.
fn passes(filter: &AuditFilter, e: &AuditEvent) -> bool {
    filter.account.is_none_or(|a| e.account_id == Some(a))
        && filter.action.is_none_or(|a| e.action == a)
        && filter.since.is_none_or(|t| e.at >= secs(t))
        && filter.until.is_none_or(|t| e.at < secs(t))
}

#[async_trait]
impl AdminStore for MemoryStore {
    async fn insert_account_with_temporary_password(
        &self,
        account: &Account,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            s.check_new_account(account)?;
            s.check_audit([audit])?;
            s.put_account(account);
            s.mark_password_change(account.id, account.created_at);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn set_temporary_password(
        &self,
        account: AccountId,
        password_hash: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<u64> {
        self.write(|s| {
            s.require_account(account, "password_change_required.account_id")?;
            s.check_audit([audit])?;
            if let Some(a) = s.accounts.get_mut(&account) {
                a.password_hash = password_hash.to_string();
            }
            s.mark_password_change(account, now);
            let ended = s.end_sessions(account);
            s.append_audit([audit]);
            Ok(ended)
        })
    }

    async fn password_change_required(&self, account: AccountId) -> StoreResult<bool> {
        self.read(|s| s.password_change_required.contains_key(&account))
    }

    async fn change_password(
        &self,
        account: AccountId,
        password_hash: &str,
        keep: Option<SessionId>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            s.check_audit([audit])?;
            if let Some(a) = s.accounts.get_mut(&account) {
                a.password_hash = password_hash.to_string();
            }
            s.password_change_required.remove(&account);
            s.sessions
                .retain(|id, x| x.account_id != account || Some(*id) == keep);
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn revoke_methods(&self, account: AccountId, audit: &AuditEvent) -> StoreResult<u64> {
        self.write(|s| {
            s.check_audit([audit])?;
            let methods: Vec<MethodId> = s
                .methods
                .values()
                .filter(|m| m.account_id == account)
                .map(|m| m.id)
                .collect();
            for id in &methods {
                s.delete_method(*id);
            }
            s.set_default(account, None);
            s.end_sessions(account);
            s.append_audit([audit]);
            Ok(methods.len() as u64)
        })
    }

    async fn replace_temporary_access_pass(
        &self,
        pass: &Method,
        audit: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<()> {
        self.write(|s| {
            // The earlier passes go first, so the new one may reuse an id only they had.
            let replaced = s
                .methods
                .get(&pass.id)
                .is_some_and(|m| m.account_id == pass.account_id && m.kind == PASS);
            if !replaced {
                s.check_new_method(pass)?;
            }
            s.check_audit([audit])?;
            s.delete_passes(pass.account_id);
            s.put_method(pass);
            // Born active: no registration session that knew only the password goes on with it.
            s.activated(pass.account_id, pass.id, false);
            s.append_audit([audit]);
            Ok(())
        })?;
        // The pass is issued whether or not the messages are queued, as on the SQL store.
        outbox::enqueue(self, notes)
    }

    async fn delete_temporary_access_passes(
        &self,
        account: AccountId,
        audit: &AuditEvent,
    ) -> StoreResult<u64> {
        self.write(|s| {
            if s.passes_of(account).is_empty() {
                return Ok(0);
            }
            s.check_audit([audit])?;
            let deleted = s.delete_passes(account);
            s.append_audit([audit]);
            Ok(deleted)
        })
    }

    async fn purge_temporary_access_passes(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let now = secs(now);
        self.write(|s| {
            // Used (a step recorded), or lapsed.
            let lapsed: Vec<MethodId> = s
                .methods
                .values()
                .filter(|m| {
                    m.kind == PASS
                        && (m.last_step.is_some() || m.expires_at.is_none_or(|e| e <= now))
                })
                .map(|m| m.id)
                .collect();
            for id in &lapsed {
                // Any account whose default it is, as the SQL store clears it.
                for a in s.accounts.values_mut() {
                    if a.default_method == Some(*id) {
                        a.default_method = None;
                    }
                }
                s.delete_method(*id);
            }
            Ok(lapsed.len() as u64)
        })
    }

    async fn insert_hardware_token(
        &self,
        method: &Method,
        token: &HardwareToken,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        self.write(|s| {
            s.check_new_method(method)?;
            let taken = s.hardware_tokens.contains_key(&token.serial)
                || s.hardware_tokens.values().any(|t| t.method_id == method.id);
            if taken {
                return Err(StoreError::Conflict("serial"));
            }
            s.check_audit([audit])?;
            s.put_method(method);
            s.hardware_tokens.insert(
                token.serial.clone(),
                TokenRow {
                    method_id: method.id,
                    token: token.stored(),
                },
            );
            s.append_audit([audit]);
            Ok(())
        })
    }

    async fn hardware_token_of(&self, method: MethodId) -> StoreResult<Option<HardwareToken>> {
        self.read(|s| {
            s.hardware_tokens
                .values()
                .find(|t| t.method_id == method)
                .map(|t| t.token.clone())
        })
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        page: AuditPage,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.read(|s| {
            let entries = s.audit.iter().enumerate().map(|(i, e)| (i as i64 + 1, e));
            let entries = entries.filter(|(_, e)| passes(filter, e));
            let page: Vec<(i64, &AuditEvent)> = match page {
                AuditPage::NewestFirst { before } => entries
                    .rev()
                    .filter(|(cursor, _)| before.is_none_or(|b| *cursor < b))
                    .take(limit as usize)
                    .collect(),
                AuditPage::OldestFirst { after } => entries
                    .filter(|(cursor, _)| after.is_none_or(|a| *cursor > a))
                    .take(limit as usize)
                    .collect(),
            };
            page.into_iter()
                .map(|(cursor, event)| AuditEntry {
                    cursor,
                    event: event.clone(),
                    username: event
                        .account_id
                        .and_then(|a| s.accounts.get(&a))
                        .map(|a| a.username.clone()),
                })
                .collect()
        })
    }
}
