//! The organization's directory in the flows (issue #19, docs/design/directory.md): sign-in by
//! binding as the person, the account created at the first sign-in, and the new password of a
//! reset or a change written to the directory as the last step.
//!
//! A LOCAL account always wins: its password is Tessera's hash, also while the directory is
//! down, and a directory person with the same username never takes it over (break-glass
//! admins keep working). Every other username asks the directory when one is configured.
//!
//! What the person sees follows the local rules: a wrong password and an unknown name are the
//! same `invalid_credentials`, counted as one guess (`password_guesses`) and audited alike; an
//! unknown name spends one password hash, as it does without a directory, so that it does not
//! answer faster than a bind. A disabled entry with the right password is answered as a wrong
//! password, like a disabled local account. Only an outage (`directory_unavailable`, "try again
//! later") and the directory's own refusal (locked, disabled, expired there:
//! `directory_refused`, worded by the server's `directory::Refusal`) are told apart.
//!
//! An outage is never counted as a wrong password; the guess counted in advance stays counted
//! (clearing it would let a flapping directory wipe an attacker's count). The one exception is
//! a person's own change after the directory bound them: the current password was right, so
//! its count clears whatever the directory says about the new one.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::sign_in::PasswordProof;
use crate::account::{self, Account, AccountStatus, DISPLAY_NAME_MAX, normalize_username};
use crate::audit::{AuditAction, RequestContext};
use crate::directory::{Directory, DirectoryError, DirectoryPerson};
use crate::error::{Error, Result, StoreError};
use crate::password_guesses::PasswordGuess;
use crate::service::Tessera;
use crate::store::directory::DirectoryAccount;

impl Tessera {
    /// Connects the organization's directory; set once, at start. A second call is ignored.
    pub fn set_directory(&self, directory: Arc<dyn Directory>) {
        let _ = self.directory.set(directory);
    }

    /// The organization's directory, when one is configured.
    pub fn directory(&self) -> Option<&Arc<dyn Directory>> {
        self.directory.get()
    }

    /// The directory for a directory account's password: an account from a directory that is
    /// no longer configured cannot have its password checked or set anywhere.
    pub(crate) fn directory_of(&self, account: &Account) -> Result<&Arc<dyn Directory>> {
        debug_assert!(account.is_directory());
        self.directory().ok_or_else(not_configured)
    }

    /// The sign-in's password step for a username that is not a local account (see the
    /// module's header). `account` is the directory account of that name, if Tessera has one.
    pub(crate) async fn check_directory_password(
        &self,
        typed: &str,
        password: Zeroizing<String>,
        account: Option<Account>,
        guess: &PasswordGuess,
        ctx: &RequestContext,
        app_passwords: bool,
    ) -> Result<PasswordProof> {
        let Ok(name) = normalize_username(typed) else {
            let _ = self.passwords.verify(password, None).await;
            return self.directory_password_wrong(typed, None, guess, ctx).await;
        };
        // One of the account's app passwords (RADIUS) is tried first: a legacy app sending it
        // must not cost the person a wrong bind, which the directory's own lock-out counts.
        if let Some(account) = account
            .as_ref()
            .filter(|a| app_passwords && a.status == AccountStatus::Active)
            && self.match_app_password(account, &password).await?.is_some()
        {
            self.password_was_right(guess).await?;
            return Ok(PasswordProof::AppPassword(account.clone()));
        }
        let directory = self.directory().ok_or_else(not_configured)?;
        match directory.check_password(&name, &password).await {
            Ok(person) => {
                self.directory_password_right(person, &name, account, guess, ctx)
                    .await
            }
            Err(DirectoryError::NotFound) => {
                // As long as a local unknown name takes: one hash.
                let _ = self.passwords.verify(password, None).await;
                self.directory_password_wrong(typed, account.as_ref(), guess, ctx)
                    .await
            }
            Err(DirectoryError::InvalidCredentials) => {
                self.directory_password_wrong(typed, account.as_ref(), guess, ctx)
                    .await
            }
            Err(DirectoryError::Unavailable(detail)) => Err(Error::DirectoryUnavailable { detail }),
            Err(DirectoryError::Refused { reason }) => {
                let mut detail = self.typed_username_detail(typed, account.as_ref());
                detail.insert("reason".into(), reason.clone().into());
                let audit = self
                    .audit(
                        ctx,
                        account.as_ref().map(|a| a.id),
                        AuditAction::SignInRefusedByDirectory,
                    )
                    .detail(detail.into());
                self.store.append_audit(&audit).await?;
                Err(Error::DirectoryRefused { reason })
            }
        }
    }

    /// The directory bound the person: their account, created at the first sign-in and kept
    /// in step (names, groups) at every other.
    async fn directory_password_right(
        &self,
        person: DirectoryPerson,
        typed_name: &str,
        known: Option<Account>,
        guess: &PasswordGuess,
        ctx: &RequestContext,
    ) -> Result<PasswordProof> {
        let refused = |reason: &str, account: Option<&Account>| {
            let mut detail = self.typed_username_detail(typed_name, account);
            detail.insert("reason".into(), reason.into());
            self.audit(
                ctx,
                account.map(|a| a.id),
                AuditAction::SignInRefusedByDirectory,
            )
            .detail(detail.into())
        };
        // Answered as a wrong password, like a disabled local account: anything else would
        // confirm the password to whoever typed it. Only the audit says why.
        if person.disabled {
            self.store
                .append_audit(&refused("disabled", known.as_ref()))
                .await?;
            return Err(Error::InvalidCredentials);
        }
        let entry = directory_account(&person, typed_name);
        let created = self
            .audit(ctx, None, AuditAction::AccountCreatedFromDirectory)
            .detail(serde_json::json!({
                "external_id": entry.external_id,
                "groups": entry.groups,
            }));
        let account = match self
            .store
            .upsert_directory_account(&entry, self.now(), &created)
            .await
        {
            Ok((account, _)) => account,
            // A local account of the directory's name for the person, or the name of another
            // entry's account: never taken over. The admin sees it in the audit.
            Err(StoreError::Conflict(what)) => {
                let audit = refused(&format!("conflict: {what}"), known.as_ref());
                self.store.append_audit(&audit).await?;
                return Err(Error::InvalidCredentials);
            }
            Err(e) => return Err(e.into()),
        };
        // Disabled in Tessera stays disabled, whatever the directory says.
        if account.status != AccountStatus::Active {
            let audit = self.audit(ctx, Some(account.id), AuditAction::SignInRefusedDisabled);
            self.store.append_audit(&audit).await?;
            return Err(Error::InvalidCredentials);
        }
        self.password_was_right(guess).await?;
        self.remember_language(&account, ctx).await?;
        Ok(PasswordProof::Password(account))
    }

    /// A wrong password or an unknown name: counted (in advance) and audited as locally.
    async fn directory_password_wrong(
        &self,
        typed: &str,
        account: Option<&Account>,
        guess: &PasswordGuess,
        ctx: &RequestContext,
    ) -> Result<PasswordProof> {
        let mut detail = self.typed_username_detail(typed, account);
        detail.insert("failures".into(), guess.failures.into());
        let audit = self
            .audit(
                ctx,
                account.map(|a| a.id),
                AuditAction::SignInPasswordFailed,
            )
            .detail(detail.into());
        self.store.append_audit(&audit).await?;
        Err(Error::InvalidCredentials)
    }

    /// Writes a reset's new password to the directory, as the service account: the last step,
    /// after every gate and every local check. A refusal is audited and changes nothing.
    pub(crate) async fn directory_reset_password(
        &self,
        account: &Account,
        new: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        let directory = self.directory_of(account)?;
        let result = match directory.reset_password(&account.username, new).await {
            // Gone from the directory (or a service account that may not look): nothing set.
            Err(DirectoryError::InvalidCredentials | DirectoryError::NotFound) => {
                Err(DirectoryError::Refused {
                    reason: "no such person in the directory".into(),
                })
            }
            other => other,
        };
        self.directory_written(account, result, AuditAction::PasswordResetRefused, ctx)
            .await
    }

    /// A person's own change, bound as them with `current`: the directory checks the current
    /// password and sets the new one (its policy applies). `current_password` is invalid when
    /// the bind fails, as for a local account. Once the bind succeeded, `guess` was the right
    /// password and its count clears, also when the directory then refuses the new password
    /// or stops answering: nothing changed in Tessera, and a person trying new passwords
    /// against the directory's policy must not end up waiting as if they were guessing.
    pub(crate) async fn directory_change_password(
        &self,
        account: &Account,
        current: &str,
        new: &str,
        guess: &PasswordGuess,
        ctx: &RequestContext,
    ) -> Result<()> {
        let directory = self.directory_of(account)?;
        let result = directory
            .change_password(&account.username, current, new)
            .await;
        let current_accepted = match &result {
            Ok(()) => true,
            Err(failure) => failure.current_accepted,
        };
        if current_accepted {
            self.password_was_right(guess).await?;
        }
        let result = result.map_err(|failure| failure.error);
        self.directory_written(account, result, AuditAction::PasswordChangeRefused, ctx)
            .await
    }

    async fn directory_written(
        &self,
        account: &Account,
        result: std::result::Result<(), DirectoryError>,
        refusal: AuditAction,
        ctx: &RequestContext,
    ) -> Result<()> {
        match result {
            Ok(()) => Ok(()),
            Err(DirectoryError::Unavailable(detail)) => Err(Error::DirectoryUnavailable { detail }),
            Err(DirectoryError::InvalidCredentials | DirectoryError::NotFound) => Err(Error::bad(
                "current_password",
                crate::error::Problem::Invalid,
            )),
            Err(DirectoryError::Refused { reason }) => {
                let audit = self
                    .audit(ctx, Some(account.id), refusal)
                    .detail(serde_json::json!({ "reason": reason }));
                self.store.append_audit(&audit).await?;
                Err(Error::DirectoryRefused { reason })
            }
        }
    }
}

/// A directory account while no directory is configured: its password cannot be checked.
fn not_configured() -> Error {
    Error::DirectoryUnavailable {
        detail: "no directory is configured".into(),
    }
}

/// What the store keeps of a directory person: their username as the directory spells it
/// (normalized; the typed one when the directory's is not a valid username), and a display
/// name that fits the account's rules.
pub(crate) fn directory_account(person: &DirectoryPerson, typed_name: &str) -> DirectoryAccount {
    let username = normalize_username(&person.username).unwrap_or_else(|_| typed_name.into());
    let display_name = person
        .display_name
        .as_deref()
        .map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|n| n.trim().chars().take(DISPLAY_NAME_MAX).collect::<String>())
        .and_then(|n| account::validate_display_name(&n).ok())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| username.clone());
    DirectoryAccount {
        username,
        external_id: person.external_id.clone(),
        display_name,
        groups: person.groups.clone(),
    }
}

#[cfg(test)]
mod tests;
