//! The grants the token endpoint answers, and revocation, introspection and the access
//! token's check for UserInfo.

use super::{
    AccessGrant, ClientCredentials, CodeUse, ErrorCode, Family, Introspection, RefreshUse,
    TokenError, TokenKind, TokenRecord, TokenResponse, pkce_s256_matches,
};
use crate::audit::RequestContext;
use crate::error::Error;
use crate::oidc::{ACCESS_TOKEN_TTL, FamilyId, Scopes};
use crate::secret;
use crate::service::Tessera;

impl Tessera {
    /// `grant_type=authorization_code`. `issuer` is the `iss` of the ID token (the public
    /// URL). The code is used up whatever the outcome; a code used before revokes what its
    /// first exchange issued.
    pub async fn oidc_exchange_code(
        &self,
        issuer: &str,
        creds: &ClientCredentials,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<TokenResponse, TokenError> {
        let client = self.oidc_authenticate_client(creds).await?;
        let now = self.now();
        let family_id = FamilyId::new(self.rng.as_ref());
        let code = match self
            .store
            .use_oidc_code(&secret::token_hash(code), family_id, now)
            .await?
        {
            CodeUse::Fresh(code) => code,
            CodeUse::Reused {
                account, client_id, ..
            } => {
                self.audit_reuse(ctx, account, &client_id, "code").await?;
                return Err(TokenError::grant("the code was used before"));
            }
            CodeUse::Unknown => return Err(TokenError::grant("unknown code")),
        };
        if code.client_id != client.client_id {
            return Err(TokenError::grant("the code belongs to another client"));
        }
        if code.expires_at <= now {
            return Err(TokenError::grant("the code has expired"));
        }
        if redirect_uri != Some(code.redirect_uri.as_str()) {
            return Err(TokenError::grant("redirect_uri differs from the request's"));
        }
        match (&code.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier)) if pkce_s256_matches(verifier, challenge) => {}
            (None, None) => {}
            // A verifier without a challenge is a downgrade attempt (RFC 9700 §2.1.1).
            _ => return Err(TokenError::grant("PKCE verification failed")),
        }
        let family = Family {
            id: family_id,
            client_id: code.client_id.clone(),
            account: code.account,
            session: code.session,
            scope: code.scope.clone(),
            auth_time: code.auth_time,
            amr: code.amr.clone(),
            acr: code.acr,
            created_at: now,
            revoked_at: None,
        };
        let (rows, access, refresh) = self.new_tokens(&family, &family.scope, now);
        let id_token = self
            .id_token(issuer, &client, &family, code.nonce.clone(), now)
            .await?;
        self.audit_issue(ctx, &family, &rows, "authorization_code")
            .await?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.whole_seconds(),
            refresh_token: refresh,
            id_token: Some(id_token),
            scope: family.scope,
        })
    }

    /// `grant_type=refresh_token`: the refresh token rotates (a new one replaces it); one
    /// that comes back after use revokes its whole family. `scope` may narrow the access
    /// token's scope, never widen it.
    pub async fn oidc_refresh(
        &self,
        issuer: &str,
        creds: &ClientCredentials,
        refresh_token: &str,
        scope: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<TokenResponse, TokenError> {
        let client = self.oidc_authenticate_client(creds).await?;
        let now = self.now();
        let hash = secret::token_hash(refresh_token);
        let Some(record) = self.store.oidc_token(&hash).await? else {
            return Err(TokenError::grant("unknown refresh token"));
        };
        if record.token.kind != TokenKind::Refresh {
            return Err(TokenError::grant("not a refresh token"));
        }
        if record.family.client_id != client.client_id {
            return Err(TokenError::grant("the token belongs to another client"));
        }
        if record.token.expires_at <= now || record.family.revoked_at.is_some() {
            return Err(TokenError::grant(
                "the refresh token has expired or was revoked",
            ));
        }
        let access_scope = match scope {
            None => record.family.scope.clone(),
            Some(text) => match Scopes::parse(text) {
                Some(s) if s.is_subset_of(&record.token.scope) => s,
                _ => {
                    return Err(TokenError::oauth(
                        ErrorCode::InvalidScope,
                        "scope exceeds the original grant",
                    ));
                }
            },
        };
        let family = record.family.clone();
        let (rows, access, refresh) = self.new_tokens(&family, &access_scope, now);
        let audit = self
            .audit(
                ctx,
                Some(family.account),
                crate::audit::AuditAction::OidcTokensIssued,
            )
            .detail(serde_json::json!({ "client_id": family.client_id, "grant": "refresh_token" }));
        match self
            .store
            .rotate_oidc_refresh(&hash, &rows, now, &audit)
            .await?
        {
            RefreshUse::Rotated => {}
            RefreshUse::Reused => {
                self.audit_reuse(ctx, family.account, &family.client_id, "refresh_token")
                    .await?;
                return Err(TokenError::grant("the refresh token was used before"));
            }
            RefreshUse::Unknown => return Err(TokenError::grant("unknown refresh token")),
        }
        let id_token = self.id_token(issuer, &client, &family, None, now).await?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.whole_seconds(),
            refresh_token: refresh,
            id_token: Some(id_token),
            scope: access_scope,
        })
    }

    /// RFC 7009: an access token stops working; a refresh token takes its whole family with
    /// it. An unknown token, or another client's, is answered as success (and left alone).
    pub async fn oidc_revoke(
        &self,
        creds: &ClientCredentials,
        token: &str,
    ) -> Result<(), TokenError> {
        let client = self.oidc_authenticate_client(creds).await?;
        let hash = secret::token_hash(token);
        let Some(record) = self.store.oidc_token(&hash).await? else {
            return Ok(());
        };
        if record.family.client_id != client.client_id {
            return Ok(());
        }
        match record.token.kind {
            TokenKind::Access => self.store.delete_oidc_token(&hash).await?,
            TokenKind::Refresh => {
                self.store
                    .revoke_oidc_family(record.family.id, self.now())
                    .await?
            }
        };
        Ok(())
    }

    /// RFC 7662: what an active token is (`None`: inactive, unknown, expired or revoked).
    /// The caller has authenticated the resource server.
    pub async fn oidc_introspect(&self, token: &str) -> Result<Option<Introspection>, Error> {
        let Some(record) = self.active(token).await? else {
            return Ok(None);
        };
        Ok(Some(Introspection {
            active: true,
            scope: record.token.scope.to_string(),
            client_id: record.family.client_id,
            sub: record.family.account.to_string(),
            exp: record.token.expires_at.unix_timestamp(),
            iat: record.token.created_at.unix_timestamp(),
            token_type: match record.token.kind {
                TokenKind::Access => "access_token",
                TokenKind::Refresh => "refresh_token",
            },
        }))
    }

    /// The grant behind a bearer access token (UserInfo); `Unauthorized` when it is not an
    /// active access token.
    pub async fn oidc_access(&self, token: &str) -> Result<AccessGrant, Error> {
        match self.active(token).await? {
            Some(r) if r.token.kind == TokenKind::Access => Ok(AccessGrant {
                account: r.family.account,
                client_id: r.family.client_id,
                session: r.family.session,
                scope: r.token.scope,
                expires_at: r.token.expires_at,
            }),
            _ => Err(Error::Unauthorized),
        }
    }

    async fn active(&self, token: &str) -> Result<Option<TokenRecord>, Error> {
        let record = self.store.oidc_token(&secret::token_hash(token)).await?;
        Ok(record.filter(|r| r.is_active(self.now())))
    }
}
