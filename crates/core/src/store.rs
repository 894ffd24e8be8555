//! The storage port, split by role: one trait per concern in a module of its own (accounts,
//! methods and their code attempts, sign-in flows, sessions, the audit log, the policy,
//! delivery, administration, app passwords, password guesses, the verification API's
//! services, push, recovery codes, password reset, security questions, security keys), and
//! [`Store`], every role at once plus the maintenance that spans them. Two implementations
//! live in `tessera-store` (SQLite and PostgreSQL) and pass one conformance suite. Every
//! operation that changes state and must be audited takes its [`AuditEvent`] and commits both
//! in one transaction.
//!
//! [`AuditEvent`]: crate::audit::AuditEvent

use crate::error::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;

pub mod accounts;
pub mod admin;
pub mod app_passwords;
pub mod audit;
pub mod delivery;
pub mod directory;
pub mod flows;
pub mod forward_auth;
#[cfg(any(test, feature = "memory-store"))]
pub mod memory;
pub mod methods;
pub mod oidc;
pub mod password_guesses;
pub mod policy;
pub mod push;
pub mod radius;
pub mod recovery_codes;
pub mod reset;
pub mod sealed;
pub mod security_questions;
pub mod sessions;
pub mod verify_api;
pub mod web_push;
pub mod webauthn;

pub use methods::{Acceptance, Accepted, Refused};

pub type StoreResult<T> = Result<T, StoreError>;

/// Every role of the port, and the maintenance that spans them.
#[async_trait]
pub trait Store:
    Send
    + Sync
    + 'static
    + accounts::AccountStore
    + methods::MethodStore
    + flows::SignInFlowStore
    + sessions::SessionStore
    + audit::AuditStore
    + policy::PolicyStore
    + delivery::DeliveryStore
    + admin::AdminStore
    + app_passwords::AppPasswordStore
    + password_guesses::PasswordGuessStore
    + verify_api::ServiceStore
    + push::PushStore
    + recovery_codes::RecoveryCodeStore
    + reset::ResetStore
    + security_questions::SecurityQuestionStore
    + webauthn::WebAuthnStore
    + web_push::WebPushStore
    + oidc::OidcStore
    + forward_auth::ForwardAuthStore
    + radius::RadiusStore
    + sealed::SealedStore
    + directory::DirectoryAccountStore
{
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;

    /// Deletes expired flows, sessions and pending methods, challenges and push requests a
    /// day after they lapsed, finished messages after a month, and OpenID Connect requests, codes,
    /// tokens and keys past their time (`OidcStore::purge_oidc`); returns how many rows went.
    async fn purge_expired(&self, now: OffsetDateTime) -> StoreResult<u64>;

    /// The session behind a token hash with its account and whether the account must change
    /// its password: what every authenticated request reads first. The SQL stores read it in
    /// one statement; this default reads the three one after another.
    async fn session_auth(&self, token_hash: &[u8]) -> StoreResult<Option<SessionAuth>> {
        let Some(session) = self.session_by_token_hash(token_hash).await? else {
            return Ok(None);
        };
        let Some(account) = self.account(session.account_id).await? else {
            return Ok(None);
        };
        let password_change_required = self.password_change_required(account.id).await?;
        Ok(Some(SessionAuth {
            session,
            account,
            password_change_required,
        }))
    }
}

/// What [`Store::session_auth`] reads.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub session: crate::session::Session,
    pub account: crate::account::Account,
    pub password_change_required: bool,
}
