//! Looking after one account: what an admin sees of it, temporary passwords, requiring
//! registration again, ending sessions, disabling and enabling.

use super::Admin;
use crate::account::{self, Account, AccountStatus};
use crate::app_passwords::{self, AppPassword};
use crate::audit::{AuditAction, AuditEvent};
use crate::error::{Error, NotAllowed, Problem, Result, StoreError};
use crate::ids::AccountId;
use crate::method::{Method, temporary_access_pass};
use crate::password::validate_new_password;
use crate::random::Random;
use zeroize::Zeroizing;

/// How many recent events the overview shows.
const ACTIVITY: u32 = 20;

/// What an admin sees of an account. Methods are shown by their masked labels only.
#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub account: Account,
    /// Oldest first, pending ones included; used or lapsed passes left out.
    pub methods: Vec<Method>,
    pub app_passwords: Vec<AppPassword>,
    pub password_change_required: bool,
    /// Newest first.
    pub activity: Vec<AuditEvent>,
}

/// An account an admin creates with a temporary password (given, or generated), which the
/// person must change at their first sign-in.
#[derive(Debug, Clone)]
pub struct NewTemporaryAccount {
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub is_admin: bool,
    pub password: Option<Zeroizing<String>>,
}

/// A temporary password to hand over: 16 letters in groups of four, joined by dashes.
pub fn temporary_password(rng: &dyn Random) -> Zeroizing<String> {
    Zeroizing::new(app_passwords::generate(rng).replace(' ', "-"))
}

impl Admin<'_> {
    pub async fn account_by_id(&self, id: AccountId) -> Result<Account> {
        self.tessera.store.account(id).await?.ok_or(Error::NotFound)
    }

    pub async fn overview(&self, id: AccountId) -> Result<AccountOverview> {
        let t = self.tessera;
        let account = self.account_by_id(id).await?;
        let now = t.now();
        let methods = t
            .store
            .methods_of(id)
            .await?
            .into_iter()
            .filter(|m| m.is_active() || m.expires_at.is_none_or(|e| e > now))
            .filter(|m| !temporary_access_pass::has_lapsed(m, now))
            .collect();
        Ok(AccountOverview {
            methods,
            app_passwords: t.store.app_passwords_of(id).await?,
            password_change_required: t.store.password_change_required(id).await?,
            activity: t.store.audit_of(id, ACTIVITY).await?,
            account,
        })
    }

    /// Creates an account whose password must be changed at the first sign-in. Returns the
    /// account and the temporary password (the one given, or a generated one) to hand over.
    pub async fn create_account_with_temporary_password(
        &self,
        new: NewTemporaryAccount,
    ) -> Result<(Account, Zeroizing<String>)> {
        let t = self.tessera;
        let username = account::normalize_username(&new.username)?;
        let password = match new.password {
            Some(p) => {
                validate_new_password(&p, &username)?;
                p
            }
            None => temporary_password(t.rng.as_ref()),
        };
        let display_name = match new.display_name.filter(|n| !n.trim().is_empty()) {
            Some(name) => account::validate_display_name(&name)?,
            None => username.split('@').next().unwrap_or(&username).to_string(),
        };
        let email = new
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(account::validate_email)
            .transpose()?;
        let account = Account {
            id: AccountId::new(t.rng.as_ref()),
            username,
            display_name,
            password_hash: t.passwords.hash(password.clone()).await?,
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
        let audit = self.audit_with(
            Some(account.id),
            AuditAction::AccountCreated,
            serde_json::json!({ "temporary_password": true, "admin": account.is_admin }),
        );
        match t
            .store
            .insert_account_with_temporary_password(&account, &audit)
            .await
        {
            Ok(()) => Ok((account, password)),
            Err(StoreError::Conflict(_)) => Err(Error::bad("username", Problem::Taken)),
            Err(e) => Err(e.into()),
        }
    }

    /// Disabling also ends every session of the account.
    pub async fn set_account_status(
        &self,
        id: AccountId,
        status: AccountStatus,
    ) -> Result<Account> {
        let account = self.account_by_id(id).await?;
        self.apply_status(account, status).await
    }

    /// Sets a password the person must change at the next sign-in (the one given, or a
    /// generated one, which is returned to hand over), and ends every session.
    pub async fn set_temporary_password(
        &self,
        id: AccountId,
        password: Option<Zeroizing<String>>,
    ) -> Result<Zeroizing<String>> {
        let t = self.tessera;
        self.not_own(id)?;
        let account = self.account_by_id(id).await?;
        // Sign-in binds a directory account: a hash set here would never be asked for.
        if account.is_directory() {
            return Err(Error::NotAllowed(NotAllowed::DirectoryPassword));
        }
        let password = match password.filter(|p| !p.is_empty()) {
            Some(p) => {
                validate_new_password(&p, &account.username)?;
                p
            }
            None => temporary_password(t.rng.as_ref()),
        };
        let hash = t.passwords.hash(password.clone()).await?;
        let audit = self.audit(Some(id), AuditAction::TemporaryPasswordSet);
        t.store
            .set_temporary_password(id, &hash, t.now(), &audit)
            .await?;
        t.forget_password_guesses(&account.username).await?;
        Ok(password)
    }

    /// Revokes every method of the account and ends its sessions: the next sign-in goes
    /// through registration again. Returns how many methods were revoked.
    pub async fn require_registration(&self, id: AccountId) -> Result<u64> {
        self.not_own(id)?;
        self.account_by_id(id).await?;
        let audit = self.audit(Some(id), AuditAction::MethodsRevoked);
        Ok(self.tessera.store.revoke_methods(id, &audit).await?)
    }

    /// Signs the account out everywhere; returns how many sessions ended.
    pub async fn end_sessions(&self, id: AccountId) -> Result<u64> {
        self.not_own(id)?;
        self.account_by_id(id).await?;
        let audit = self.audit(Some(id), AuditAction::SessionsEnded);
        let ended = self.tessera.store.delete_sessions_of(id, &audit).await?;
        self.tessera.sessions_ended();
        Ok(ended)
    }
}
