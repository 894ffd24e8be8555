//! A person changing their own password: any time, and before anything else after an admin
//! set a temporary one (`Auth::password_change_required`).

use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Problem, Result};
use crate::password::{PasswordCheck, validate_new_password};
use crate::service::{Auth, Tessera};
use zeroize::Zeroizing;

impl Tessera {
    /// Checks the current password, sets the new one and ends every other session of the
    /// account; this one stays signed in.
    pub async fn change_password(
        &self,
        auth: &Auth,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
        ctx: &RequestContext,
    ) -> Result<()> {
        if new.is_empty() {
            return Err(Error::bad("new_password", Problem::Required));
        }
        validate_new_password(&new, &auth.account.username).map_err(|e| match e {
            Error::BadRequest { problem, .. } => Error::bad("new_password", problem),
            other => other,
        })?;
        if *new == *current {
            return Err(Error::bad("new_password", Problem::SameAsCurrent));
        }
        // A guess at the password like any other: the same per-account wait as sign-in's.
        let guess = self.begin_password_guess(&auth.account.username).await?;
        if auth.account.is_directory() {
            // Bound as the person: the directory checks the current password and, last,
            // writes the new one; a refusal or an outage changes nothing here.
            // Clears the guess once the directory bound with `current`, refused or not.
            self.directory_change_password(&auth.account, &current, &new, &guess, ctx)
                .await?;
            let audit = self
                .audit(ctx, Some(auth.account.id), AuditAction::PasswordChanged)
                .detail(serde_json::json!({ "by": "self", "directory": true }));
            // No hash is stored: the account keeps its unusable marker.
            self.store
                .change_password(
                    auth.account.id,
                    &auth.account.password_hash,
                    Some(auth.session.id),
                    &audit,
                )
                .await?;
            return Ok(());
        }
        let check = self
            .passwords
            .verify(current, Some(auth.account.password_hash.clone()))
            .await;
        if !matches!(check, PasswordCheck::Match { .. }) {
            return Err(Error::bad("current_password", Problem::Invalid));
        }
        self.password_was_right(&guess).await?;
        let hash = self.passwords.hash(new).await?;
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::PasswordChanged)
            .detail(serde_json::json!({ "by": "self" }));
        self.store
            .change_password(auth.account.id, &hash, Some(auth.session.id), &audit)
            .await?;
        Ok(())
    }
}
