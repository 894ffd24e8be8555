//! Consent: the scopes a person granted a third-party client, remembered so the consent page
//! shows once, and revocable by the person ("apps with access") and by admins. Revoking also
//! revokes every token the client holds for the person.

use super::Scopes;
use super::authorize::AuthorizationRequest;
use crate::admin::Admin;
use crate::audit::{AuditAction, RequestContext};
use crate::error::{Error, Result};
use crate::ids::AccountId;
use crate::service::{Auth, Tessera};
use serde_json::json;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account: AccountId,
    pub client_id: String,
    pub scopes: Scopes,
    pub granted_at: OffsetDateTime,
}

impl Tessera {
    /// The person said yes on the consent page: the request's scopes join what they granted
    /// the client before.
    pub async fn oidc_grant_consent(
        &self,
        request: &AuthorizationRequest,
        account: AccountId,
        ctx: &RequestContext,
    ) -> Result<Consent> {
        let before = self.store.oidc_consent(account, &request.client_id).await?;
        let mut scopes = before.map(|c| c.scopes).unwrap_or_default();
        for s in request.scope.iter() {
            if !scopes.contains(s) {
                scopes = Scopes::parse(&format!("{scopes} {s}")).unwrap_or(scopes);
            }
        }
        let consent = Consent {
            account,
            client_id: request.client_id.clone(),
            scopes,
            granted_at: self.now(),
        };
        let audit = self
            .audit(ctx, Some(account), AuditAction::OidcConsentGranted)
            .detail(json!({ "client_id": consent.client_id, "scope": consent.scopes.to_string() }));
        self.store.save_oidc_consent(&consent, &audit).await?;
        Ok(consent)
    }

    /// The clients the person granted access, with what they granted.
    pub async fn oidc_consents(&self, auth: &Auth) -> Result<Vec<Consent>> {
        auth.require_full()?;
        Ok(self.store.oidc_consents_of(auth.account.id).await?)
    }

    /// The person takes a client's access back; its tokens for them stop working.
    pub async fn oidc_revoke_consent(
        &self,
        auth: &Auth,
        client_id: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        auth.require_full()?;
        let audit = self
            .audit(ctx, Some(auth.account.id), AuditAction::OidcConsentRevoked)
            .detail(json!({ "client_id": client_id }));
        revoke(self, auth.account.id, client_id, &audit).await
    }
}

async fn revoke(
    t: &Tessera,
    account: AccountId,
    client_id: &str,
    audit: &crate::audit::AuditEvent,
) -> Result<()> {
    match t
        .store
        .revoke_oidc_consent(account, client_id, t.now(), audit)
        .await?
    {
        true => Ok(()),
        false => Err(Error::NotFound),
    }
}

impl Admin<'_> {
    pub async fn oidc_consents_of(&self, account: AccountId) -> Result<Vec<Consent>> {
        Ok(self.tessera().store.oidc_consents_of(account).await?)
    }

    /// An admin takes a client's access to a person back.
    pub async fn revoke_oidc_consent(&self, account: AccountId, client_id: &str) -> Result<()> {
        let audit = self.audit_with(
            Some(account),
            AuditAction::OidcConsentRevoked,
            json!({ "client_id": client_id }),
        );
        revoke(self.tessera(), account, client_id, &audit).await
    }
}
