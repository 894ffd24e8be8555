//! Issuing and revoking temporary access passes (see `method::temporary_access_pass`).

use super::Admin;
use crate::audit::AuditAction;
use crate::error::{Error, NotAllowed, Result};
use crate::ids::{AccountId, MethodId};
use crate::message::SecurityEvent;
use crate::method::{Kind, Method, temporary_access_pass as tap};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A pass just issued: the digits are shown to the admin once and never stored.
pub struct IssuedPass {
    pub method: Method,
    /// Ten digits.
    pub pass: Zeroizing<String>,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for IssuedPass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedPass")
            .field("method", &self.method.id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Admin<'_> {
    /// Issues a pass valid for `minutes` (60 by default), replacing the account's earlier one,
    /// and tells the person through their other channels.
    pub async fn issue_temporary_access_pass(
        &self,
        id: AccountId,
        minutes: Option<u32>,
    ) -> Result<IssuedPass> {
        let t = self.tessera;
        let minutes = tap::valid_minutes(minutes)?;
        if !t.policy().await?.allows_kind(Kind::TemporaryAccessPass) {
            return Err(Error::NotAllowed(NotAllowed::KindNotAllowed));
        }
        let account = self.account_by_id(id).await?;
        let pass = tap::generate(t.rng.as_ref());
        let hash = t.passwords.hash(pass.clone()).await?;
        let method = tap::new_pass(
            MethodId::new(t.rng.as_ref()),
            &account,
            hash,
            t.now(),
            minutes,
        );
        let expires_at = method.expires_at.unwrap_or_else(|| t.now());
        let audit = self
            .audit_with(
                Some(id),
                AuditAction::TemporaryAccessPassIssued,
                serde_json::json!({
                    "expires_at": expires_at.unix_timestamp(),
                    "minutes": minutes,
                }),
            )
            .method(method.id);
        let notes = t
            .notifications(&account, &method, SecurityEvent::MethodAdded, &self.ctx)
            .await?;
        t.store
            .replace_temporary_access_pass(&method, &audit, &notes)
            .await?;
        Ok(IssuedPass {
            method,
            pass,
            expires_at,
        })
    }

    /// Revokes the account's pass, if it has one; returns whether it had.
    pub async fn revoke_temporary_access_pass(&self, id: AccountId) -> Result<bool> {
        self.account_by_id(id).await?;
        let audit = self.audit(Some(id), AuditAction::TemporaryAccessPassRevoked);
        Ok(self
            .tessera
            .store
            .delete_temporary_access_passes(id, &audit)
            .await?
            > 0)
    }
}
