//! The storage port, implemented by delegating to one module per concern.

use async_trait::async_trait;
use tessera_core::account::Account;
use tessera_core::audit::{AuditEvent, RequestLanguage};
use tessera_core::flow::{FlowState, SignInFlow};
use tessera_core::lockout::AttemptGate;
use tessera_core::method::Method;
use tessera_core::policy::Policy;
use tessera_core::session::Session;
use tessera_core::store::{Acceptance, Accepted, Store, StoreResult};
use tessera_core::{AccountId, FlowId, MethodId, SessionId};
use time::OffsetDateTime;

use crate::{SqlStore, accounts, audit, db_err, lockout, methods, sessions};

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(self.pool())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_account(&self, account: &Account, audit: &AuditEvent) -> StoreResult<()> {
        accounts::insert(self, account, audit).await
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        accounts::by_id(self, id).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        accounts::by_username(self, username).await
    }

    async fn list_accounts(&self, search: Option<&str>, limit: u32) -> StoreResult<Vec<Account>> {
        accounts::list(self, search, limit).await
    }

    async fn update_account(
        &self,
        account: &Account,
        audit: Option<&AuditEvent>,
    ) -> StoreResult<()> {
        accounts::update(self, account, audit).await
    }

    async fn remember_locale(
        &self,
        account: AccountId,
        language: &RequestLanguage,
    ) -> StoreResult<()> {
        accounts::remember_locale(self, account, language).await
    }

    async fn insert_method(&self, method: &Method, audit: &AuditEvent) -> StoreResult<()> {
        methods::insert(self, method, audit).await
    }

    async fn method(&self, id: MethodId) -> StoreResult<Option<Method>> {
        methods::by_id(self, id).await
    }

    async fn methods_of(&self, account: AccountId) -> StoreResult<Vec<Method>> {
        methods::of_account(self, account).await
    }

    async fn activate_method(
        &self,
        id: MethodId,
        step: Option<i64>,
        now: OffsetDateTime,
        make_default: bool,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        methods::activate(self, id, step, now, make_default, audit).await
    }

    async fn delete_method(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        methods::delete(self, account, id, new_default, audit).await
    }

    async fn set_default_method(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        accounts::set_default_method(self, account, method, audit).await
    }

    async fn delete_expired_pending(&self, now: OffsetDateTime) -> StoreResult<u64> {
        methods::delete_expired_pending(self, now).await
    }

    async fn begin_attempt(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
    ) -> StoreResult<AttemptGate> {
        lockout::begin_attempt(self, id, now, threshold).await
    }

    async fn record_failure(
        &self,
        id: MethodId,
        threshold: u32,
        lock_until: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<OffsetDateTime>> {
        lockout::record_failure(self, id, threshold, lock_until, audit).await
    }

    async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
        lockout::accept(self, acceptance).await
    }

    async fn insert_flow(&self, flow: &SignInFlow) -> StoreResult<()> {
        sessions::insert_flow(self, flow).await
    }

    async fn flow(&self, id: FlowId) -> StoreResult<Option<SignInFlow>> {
        sessions::flow(self, id).await
    }

    async fn complete_flow(
        &self,
        id: FlowId,
        from: FlowState,
        session: &Session,
        revoke: Option<SessionId>,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        sessions::complete_flow(self, id, from, session, revoke, audit).await
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        sessions::insert_session(self, session).await
    }

    async fn session_by_token_hash(&self, hash: &[u8]) -> StoreResult<Option<Session>> {
        sessions::session_by_token_hash(self, hash).await
    }

    async fn touch_session(&self, id: SessionId, now: OffsetDateTime) -> StoreResult<()> {
        sessions::touch_session(self, id, now).await
    }

    async fn mark_second_factor(&self, id: SessionId, at: OffsetDateTime) -> StoreResult<()> {
        sessions::mark_second_factor(self, id, at).await
    }

    async fn delete_session(&self, id: SessionId, audit: Option<&AuditEvent>) -> StoreResult<()> {
        sessions::delete_session(self, id, audit).await
    }

    async fn delete_sessions_of(&self, account: AccountId, audit: &AuditEvent) -> StoreResult<u64> {
        sessions::delete_sessions_of(self, account, audit).await
    }

    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        audit::insert(self.writer(), event).await
    }

    async fn audit_of(&self, account: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        audit::of_account(self, account, limit).await
    }

    async fn policy(&self) -> StoreResult<Option<Policy>> {
        audit::policy(self).await
    }

    async fn save_policy(&self, policy: &Policy, audit: &AuditEvent) -> StoreResult<()> {
        audit::save_policy(self, policy, audit).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64> {
        sessions::purge_expired(self, now).await
    }
}
