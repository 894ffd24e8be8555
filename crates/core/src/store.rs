//! The storage port. Two implementations live in `tessera-store` (SQLite and PostgreSQL) and
//! pass one conformance suite. Every operation that changes state and must be audited takes
//! its [`AuditEvent`] and commits both in one transaction.

use crate::account::Account;
use crate::audit::{AuditEvent, RequestLanguage};
use crate::error::StoreError;
use crate::flow::{FlowState, SignInFlow};
use crate::ids::{AccountId, FlowId, MethodId, SessionId};
use crate::lockout::AttemptGate;
use crate::method::Method;
use crate::policy::Policy;
use crate::session::Session;
use async_trait::async_trait;
use time::OffsetDateTime;

pub mod admin;
pub mod app_passwords;
pub mod delivery;
pub mod password_guesses;
pub mod policy;
pub mod push;
pub mod recovery_codes;
pub mod reset;
pub mod security_questions;
pub mod verify_api;
pub mod webauthn;

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store:
    Send
    + Sync
    + 'static
    + delivery::DeliveryStore
    + admin::AdminStore
    + app_passwords::AppPasswordStore
    + password_guesses::PasswordGuessStore
    + verify_api::ServiceStore
    + policy::PolicyStore
    + push::PushStore
    + recovery_codes::RecoveryCodeStore
    + reset::ResetStore
    + security_questions::SecurityQuestionStore
    + webauthn::WebAuthnStore
{
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;

    // Accounts.

    /// `Conflict("username")` when the username is taken.
    async fn insert_account(&self, account: &Account, audit: &AuditEvent) -> StoreResult<()>;
    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>>;
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    /// Accounts whose username or display name contains `search` (all when `None`), by username.
    async fn list_accounts(&self, search: Option<&str>, limit: u32) -> StoreResult<Vec<Account>>;
    /// Writes every field but `id`, `username`, `created_at` and `browser_locale`.
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

    // Methods.

    async fn insert_method(&self, method: &Method, audit: &AuditEvent) -> StoreResult<()>;
    async fn method(&self, id: MethodId) -> StoreResult<Option<Method>>;
    /// Oldest first.
    async fn methods_of(&self, account: AccountId) -> StoreResult<Vec<Method>>;
    /// Pending → active, recording `step` as the last accepted step, and making it the
    /// account's default when `make_default`. False when it was not pending (or `step` is not
    /// above the last one).
    async fn activate_method(
        &self,
        id: MethodId,
        step: Option<i64>,
        now: OffsetDateTime,
        make_default: bool,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Deletes the method of `account` and sets the account's default to `new_default` when
    /// the deleted one was the default. False when there was no such method.
    async fn delete_method(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    async fn set_default_method(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Removes pending registrations that lapsed.
    async fn delete_expired_pending(&self, now: OffsetDateTime) -> StoreResult<u64>;

    // Code attempts (see `lockout`).

    /// Atomically: refuses while locked; after a lock lapses, restarts the count at one;
    /// otherwise counts this attempt as a failure in advance and lets it go ahead.
    async fn begin_attempt(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
    ) -> StoreResult<AttemptGate>;
    /// The attempt failed: when the count has reached `threshold` and no lock is set, locks
    /// until `lock_until`. Returns the lock's end if the method is now locked.
    async fn record_failure(
        &self,
        id: MethodId,
        threshold: u32,
        lock_until: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<OffsetDateTime>>;

    /// Records a response that matched, with everything it proves, in one transaction (see
    /// [`Acceptance`]).
    async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted>;

    // Sign-in flows.

    async fn insert_flow(&self, flow: &SignInFlow) -> StoreResult<()>;
    async fn flow(&self, id: FlowId) -> StoreResult<Option<SignInFlow>>;
    /// Moves the flow from `from` to `Completed`, inserts `session` and deletes `revoke`, in
    /// one transaction. False (nothing changed) when the flow was not in `from`.
    async fn complete_flow(
        &self,
        id: FlowId,
        from: FlowState,
        session: &Session,
        revoke: Option<SessionId>,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;

    // Sessions.

    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    async fn session_by_token_hash(&self, hash: &[u8]) -> StoreResult<Option<Session>>;
    async fn touch_session(&self, id: SessionId, now: OffsetDateTime) -> StoreResult<()>;
    async fn mark_second_factor(&self, id: SessionId, at: OffsetDateTime) -> StoreResult<()>;
    async fn delete_session(&self, id: SessionId, audit: Option<&AuditEvent>) -> StoreResult<()>;
    async fn delete_sessions_of(&self, account: AccountId, audit: &AuditEvent) -> StoreResult<u64>;

    // Audit log.

    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Newest first.
    async fn audit_of(&self, account: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>>;

    // Policy.

    /// `None` until an admin first saves one (the default applies).
    async fn policy(&self) -> StoreResult<Option<Policy>>;
    async fn save_policy(&self, policy: &Policy, audit: &AuditEvent) -> StoreResult<()>;

    /// Deletes expired flows, sessions and pending methods, challenges and push requests a
    /// day after they lapsed, and finished messages after a month; returns how many rows went.
    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

/// A response that matched, and what it changes: clears the failure count, records use and
/// the TOTP step, marks a step-up session's second factor, and appends the audit events.
#[derive(Debug)]
pub struct Acceptance<'a> {
    pub method: MethodId,
    /// Refused unless above the last accepted step.
    pub step: Option<i64>,
    pub now: OffsetDateTime,
    /// `Some(threshold)` when no attempt was reserved for this response (a TOTP code is
    /// checked first: it costs nothing): it must pass the gate `begin_attempt` would.
    pub gate: Option<u32>,
    /// The session whose second factor this proves, for a step-up.
    pub step_up: Option<SessionId>,
    pub audit: &'a [AuditEvent],
}

/// What became of an [`Acceptance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Yes,
    /// The step was accepted before, or the method is gone: nothing changed.
    Replayed,
    /// The gate was shut: nothing changed.
    Locked {
        until: Option<OffsetDateTime>,
    },
}
