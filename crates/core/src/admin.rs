//! Administration. Admin operations are reachable only through an [`Admin`] handle, which is
//! obtained from a permission check (a signed-in admin) or by holding the database (the CLI).
//! Every change an admin makes is an audit event that names the admin (`"by"`).

mod accounts;
mod audit_log;
mod directory_sync;
mod outbox;
mod passes;
mod policy;

pub use accounts::{AccountOverview, NewTemporaryAccount, temporary_password};
pub use audit_log::{ExportedEvent, exported};
pub use directory_sync::{
    SyncChange, SyncError, SyncOptions, SyncOutcome, SyncProgress, SyncReport,
};
pub use passes::IssuedPass;

use crate::account::{self, Account, AccountStatus};
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, NotAllowed, Problem, Result, StoreError};
use crate::ids::AccountId;
use crate::method::Method;
use crate::password::validate_new_password;
use crate::policy::{Policy, PolicyError};
use crate::service::{Auth, Tessera};
use zeroize::Zeroizing;

/// The longest account search: part of a name. A pattern of many thousand characters costs
/// the database for nothing, and SQLite refuses LIKE patterns over 50 000 bytes.
pub const SEARCH_MAX: usize = 256;

pub struct Admin<'a> {
    tessera: &'a Tessera,
    /// The admin acting, for the audit log; `None` for the local command line.
    actor: Option<AccountId>,
    /// Who acts when no admin does: `local` (the command line) or `directory` (the sync).
    system: &'static str,
    ctx: RequestContext,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: Option<String>,
    pub password: Zeroizing<String>,
    pub is_admin: bool,
    pub email: Option<String>,
}

impl Tessera {
    /// The admin handle for a signed-in admin.
    pub fn admin(&self, auth: &Auth, ctx: &RequestContext) -> Result<Admin<'_>> {
        auth.require_full()?;
        if !auth.is_admin() {
            return Err(Error::NotAllowed(NotAllowed::AdminOnly));
        }
        Ok(Admin {
            tessera: self,
            actor: Some(auth.account.id),
            system: "local",
            ctx: ctx.clone(),
        })
    }

    /// The admin handle for whoever runs commands against the database directly.
    pub fn local_admin(&self) -> Admin<'_> {
        Admin {
            tessera: self,
            actor: None,
            system: "local",
            ctx: RequestContext::default(),
        }
    }
}

impl Admin<'_> {
    pub(crate) fn tessera(&self) -> &Tessera {
        self.tessera
    }

    /// An audit event saying which admin acted (`detail.by`).
    pub(crate) fn audit(
        &self,
        account: Option<AccountId>,
        action: AuditAction,
    ) -> crate::audit::AuditEvent {
        self.audit_with(account, action, serde_json::json!({}))
    }

    /// An audit event of this admin's about no account in particular.
    pub(crate) fn audit_about(
        &self,
        action: AuditAction,
        detail: serde_json::Value,
    ) -> crate::audit::AuditEvent {
        self.audit_with(None, action, detail)
    }

    /// An audit event of this admin's, with more facts beside `"by"`.
    pub(crate) fn audit_with(
        &self,
        account: Option<AccountId>,
        action: AuditAction,
        mut detail: serde_json::Value,
    ) -> crate::audit::AuditEvent {
        let actor = self
            .actor
            .map(|a| a.to_string())
            .unwrap_or_else(|| self.system.into());
        if let Some(map) = detail.as_object_mut() {
            map.insert("by".into(), serde_json::Value::String(actor));
        }
        self.tessera
            .audit(&self.ctx, account, action)
            .detail(detail)
    }

    /// The admin acting, `None` for the local command line.
    pub fn actor(&self) -> Option<AccountId> {
        self.actor
    }

    pub async fn create_account(&self, new: NewAccount) -> Result<Account> {
        let t = self.tessera;
        let username = account::normalize_username(&new.username)?;
        validate_new_password(&new.password, &username)?;
        let display_name = match new.display_name {
            Some(name) => account::validate_display_name(&name)?,
            None => username.split('@').next().unwrap_or(&username).to_string(),
        };
        let email = new
            .email
            .as_deref()
            .map(account::validate_email)
            .transpose()?;
        let account = Account {
            id: AccountId::new(t.rng.as_ref()),
            username,
            display_name,
            password_hash: t.passwords.hash(new.password).await?,
            locale: None,
            browser_locale: None,
            status: AccountStatus::Active,
            is_admin: new.is_admin,
            email,
            default_method: None,
            created_at: t.now(),
            source: crate::account::AccountSource::Local,
            external_id: None,
        };
        let audit = self.audit(Some(account.id), AuditAction::AccountCreated);
        match t.store.insert_account(&account, &audit).await {
            Err(StoreError::Conflict(_)) => Err(Error::bad("username", Problem::Taken)),
            other => other.map(|()| account).map_err(Error::from),
        }
    }

    pub async fn account(&self, username: &str) -> Result<Account> {
        let username = account::normalize_username(username)?;
        self.tessera
            .store
            .account_by_username(&username)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Accounts whose username or display name contains `search` (taken literally, at most
    /// [`SEARCH_MAX`] characters: `bad_request` on `search` otherwise), by username.
    pub async fn list_accounts(&self, search: Option<&str>, limit: u32) -> Result<Vec<Account>> {
        if search.is_some_and(|s| s.chars().count() > SEARCH_MAX) {
            return Err(Error::bad("search", Problem::TooLong { max: SEARCH_MAX }));
        }
        Ok(self
            .tessera
            .store
            .list_accounts(search, limit.min(10_000))
            .await?)
    }

    pub async fn methods(&self, account: &Account) -> Result<Vec<Method>> {
        Ok(self.tessera.store.methods_of(account.id).await?)
    }

    /// Disabling also ends every session of the account.
    pub async fn set_status(&self, username: &str, status: AccountStatus) -> Result<Account> {
        let account = self.account(username).await?;
        self.apply_status(account, status).await
    }

    /// Refuses an action that would lock the acting admin out of their own account.
    pub(crate) fn not_own(&self, id: AccountId) -> Result<()> {
        if self.actor == Some(id) {
            return Err(Error::NotAllowed(NotAllowed::OwnAccount));
        }
        Ok(())
    }

    async fn apply_status(&self, account: Account, status: AccountStatus) -> Result<Account> {
        self.apply_status_with(account, status, serde_json::json!({}))
            .await
    }

    /// As `apply_status`, with more facts in the status event (the directory sync's reason).
    async fn apply_status_with(
        &self,
        mut account: Account,
        status: AccountStatus,
        detail: serde_json::Value,
    ) -> Result<Account> {
        if status == AccountStatus::Disabled {
            self.not_own(account.id)?;
        }
        account.status = status;
        let action = match status {
            AccountStatus::Active => AuditAction::AccountEnabled,
            AccountStatus::Disabled => AuditAction::AccountDisabled,
        };
        self.tessera
            .store
            .update_account(
                &account,
                Some(&self.audit_with(Some(account.id), action, detail)),
            )
            .await?;
        if status == AccountStatus::Disabled {
            let audit = self.audit(Some(account.id), AuditAction::SessionsEnded);
            self.tessera
                .store
                .delete_sessions_of(account.id, &audit)
                .await?;
            self.tessera.sessions_ended();
        }
        Ok(account)
    }

    /// Sets a new password and ends every session of the account.
    pub async fn set_password(&self, username: &str, password: Zeroizing<String>) -> Result<()> {
        let mut account = self.account(username).await?;
        validate_new_password(&password, &account.username)?;
        account.password_hash = self.tessera.passwords.hash(password).await?;
        let audit = self.audit(Some(account.id), AuditAction::PasswordChanged);
        self.tessera
            .store
            .update_account(&account, Some(&audit))
            .await?;
        let audit = self.audit(Some(account.id), AuditAction::SessionsEnded);
        self.tessera
            .store
            .delete_sessions_of(account.id, &audit)
            .await?;
        self.tessera.sessions_ended();
        self.tessera
            .forget_password_guesses(&account.username)
            .await?;
        Ok(())
    }

    /// Recent outgoing texts, calls and emails, newest first (what the development `outbox`
    /// provider keeps, and what the others sent or failed to send).
    pub async fn recent_messages(&self, limit: u32) -> Result<Vec<crate::message::Message>> {
        Ok(self.tessera.store.recent_messages(limit.min(1000)).await?)
    }

    /// The policy in force, a copy to change and save.
    pub async fn policy(&self) -> Result<Policy> {
        Ok(Policy::clone(&*self.tessera.policy().await?))
    }

    /// Applies `KEY=VALUE` changes; all or nothing.
    pub async fn set_policy(
        &self,
        changes: &[(String, String)],
    ) -> Result<Result<Policy, PolicyError>> {
        let mut policy = self.tessera.store.policy().await?.unwrap_or_default();
        for (key, value) in changes {
            if let Err(e) = policy.set(key, value) {
                return Ok(Err(e));
            }
        }
        let audit = self
            .audit(None, AuditAction::PolicyChanged)
            .detail(serde_json::json!({
                "by": self.actor.map(|a| a.to_string()).unwrap_or_else(|| "local".into()),
                "changes": changes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            }));
        self.tessera.store.save_policy(&policy, &audit).await?;
        self.tessera.forget_policy();
        Ok(Ok(policy))
    }
}
