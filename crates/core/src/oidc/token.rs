//! The token endpoint's rules: client authentication, the code and refresh-token grants, the
//! ID token's claims, revocation (RFC 7009) and introspection (RFC 7662).
//!
//! Access and refresh tokens are opaque (256 random bits; the store keeps SHA-256). The
//! tokens one code exchange issued, and every refresh since, form a family: a code or
//! refresh token that comes back after use revokes the family, in the same statement that
//! finds it used, since only a thief or a replay sends it twice.

use super::authorize::AuthorizationCode;
use super::client::Client;
use super::{
    ACCESS_TOKEN_TTL, Acr, FamilyId, ID_TOKEN_TTL, REFRESH_TOKEN_TTL, SCOPE_GROUPS,
    SCOPE_OFFLINE_ACCESS, Scopes,
};
use crate::audit::{AuditAction, RequestContext};
use crate::error::Error;
use crate::ids::{AccountId, SessionId};
use crate::secret::{self, ct_eq};
use crate::service::Tessera;
use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

#[path = "token_grants.rs"]
mod grants;

/// OAuth 2.0 and OpenID Connect error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    LoginRequired,
    InteractionRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// A token endpoint error: `invalid_client` answers 401 (with `WWW-Authenticate` when the
/// client used Basic), `Internal` 500, the rest 400.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{}: {description}", .error.as_str())]
    OAuth {
        error: ErrorCode,
        description: &'static str,
    },
    #[error(transparent)]
    Internal(#[from] Error),
}

impl TokenError {
    pub(crate) fn oauth(error: ErrorCode, description: &'static str) -> TokenError {
        TokenError::OAuth { error, description }
    }

    pub(crate) fn grant(description: &'static str) -> TokenError {
        TokenError::oauth(ErrorCode::InvalidGrant, description)
    }

    pub(crate) fn client() -> TokenError {
        TokenError::oauth(ErrorCode::InvalidClient, "client authentication failed")
    }

    /// The OAuth error code (`server_error` for `Internal`).
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::OAuth { error, .. } => *error,
            TokenError::Internal(_) => ErrorCode::ServerError,
        }
    }
}

impl From<crate::error::StoreError> for TokenError {
    fn from(e: crate::error::StoreError) -> Self {
        TokenError::Internal(e.into())
    }
}

/// How the client authenticated: `client_secret_basic` or `client_secret_post` (a secret),
/// or `none` (a public client, with PKCE).
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<Zeroizing<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        [TokenKind::Access, TokenKind::Refresh]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What one code exchange granted; its tokens share it, and are revoked with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: FamilyId,
    pub client_id: String,
    pub account: AccountId,
    pub session: SessionId,
    pub scope: Scopes,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub acr: Option<Acr>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// An access or refresh token as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcToken {
    pub hash: Vec<u8>,
    pub kind: TokenKind,
    pub family: FamilyId,
    pub scope: Scopes,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// A refresh token is used once.
    pub used_at: Option<OffsetDateTime>,
}

/// A token found by its hash, with its family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token: OidcToken,
    pub family: Family,
}

impl TokenRecord {
    /// Usable now: not expired, its family not revoked, and (a refresh token) not used.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.token.expires_at > now
            && self.family.revoked_at.is_none()
            && self.token.used_at.is_none()
    }
}

/// What [`OidcStore::use_oidc_code`](crate::store::oidc::OidcStore::use_oidc_code) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// First use: the code, now used, and its family created.
    Fresh(AuthorizationCode),
    /// Used before: the family it created (if it got that far) is now revoked.
    Reused {
        account: AccountId,
        client_id: String,
        family: Option<FamilyId>,
    },
    Unknown,
}

/// What [`OidcStore::rotate_oidc_refresh`](crate::store::oidc::OidcStore::rotate_oidc_refresh)
/// did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// The old token is used and the new ones stored.
    Rotated,
    /// The token was used before (or its family revoked): the family is revoked, nothing
    /// stored.
    Reused,
    /// No such refresh token.
    Unknown,
}

/// The ID token's claims (OpenID Connect Core §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    pub azp: String,
    /// The Tessera session, for logout (front- and back-channel).
    pub sid: String,
    /// The account's groups (`Tessera::groups_of`), when the client asked for the `groups`
    /// scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// The token endpoint's answer.
pub struct TokenResponse {
    pub access_token: Zeroizing<String>,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: Option<Zeroizing<String>>,
    pub id_token: Option<String>,
    pub scope: Scopes,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("scope", &self.scope)
            .field("refresh", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// RFC 7662's answer for an active token (an inactive one is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub active: bool,
    pub scope: String,
    pub client_id: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub token_type: &'static str,
}

/// What a valid access token lets its bearer read (UserInfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub account: AccountId,
    pub client_id: String,
    pub session: SessionId,
    pub scope: Scopes,
    pub expires_at: OffsetDateTime,
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`, the verifier 43 to 128
/// unreserved characters.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()));
    well_formed && ct_eq(computed.as_bytes(), challenge.as_bytes())
}

impl Tessera {
    /// Authenticates the client at the token, revocation or introspection endpoint.
    pub async fn oidc_authenticate_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Client, TokenError> {
        let client = self
            .store
            .oidc_client(&creds.client_id)
            .await?
            .ok_or_else(TokenError::client)?;
        let ok = match (&creds.secret, client.is_public()) {
            (Some(secret), false) => client.secret_matches(secret),
            (None, true) => true,
            _ => false,
        };
        if !ok {
            return Err(TokenError::client());
        }
        Ok(client)
    }

    /// A new access token (and a refresh token when the family's scope has
    /// `offline_access`), stored with the audit event in one commit.
    pub(super) fn new_tokens(
        &self,
        family: &Family,
        access_scope: &Scopes,
        now: OffsetDateTime,
    ) -> (Vec<OidcToken>, Zeroizing<String>, Option<Zeroizing<String>>) {
        let access = secret::new_token(self.rng.as_ref());
        let mut rows = vec![OidcToken {
            hash: secret::token_hash(&access),
            kind: TokenKind::Access,
            family: family.id,
            scope: access_scope.clone(),
            created_at: now,
            expires_at: now + ACCESS_TOKEN_TTL,
            used_at: None,
        }];
        let refresh = family.scope.contains(SCOPE_OFFLINE_ACCESS).then(|| {
            let token = secret::new_token(self.rng.as_ref());
            rows.push(OidcToken {
                hash: secret::token_hash(&token),
                kind: TokenKind::Refresh,
                family: family.id,
                scope: family.scope.clone(),
                created_at: now,
                expires_at: now + REFRESH_TOKEN_TTL,
                used_at: None,
            });
            token
        });
        (rows, access, refresh)
    }

    /// An ID token for `family`'s sign-in, signed with the client's algorithm.
    pub(super) async fn id_token(
        &self,
        issuer: &str,
        client: &Client,
        family: &Family,
        nonce: Option<String>,
        now: OffsetDateTime,
    ) -> Result<String, TokenError> {
        let groups = match family.scope.contains(SCOPE_GROUPS) {
            true => match self.store.account(family.account).await? {
                Some(account) => Some(
                    self.groups_of(&account)
                        .await
                        .map_err(TokenError::Internal)?,
                ),
                None => Some(Vec::new()),
            },
            false => None,
        };
        let claims = IdTokenClaims {
            iss: issuer.to_string(),
            sub: family.account.to_string(),
            aud: client.client_id.clone(),
            exp: (now + ID_TOKEN_TTL).unix_timestamp(),
            iat: now.unix_timestamp(),
            auth_time: family.auth_time.unix_timestamp(),
            nonce,
            acr: family.acr.map(|a| a.as_str().to_string()),
            amr: family.amr.clone(),
            azp: client.client_id.clone(),
            sid: family.session.to_string(),
            groups,
        };
        Ok(self.oidc_sign(client.id_token_alg, &claims).await?)
    }

    pub(super) async fn audit_issue(
        &self,
        ctx: &RequestContext,
        family: &Family,
        tokens: &[OidcToken],
        grant: &str,
    ) -> Result<(), TokenError> {
        let audit = self
            .audit(ctx, Some(family.account), AuditAction::OidcTokensIssued)
            .detail(json!({ "client_id": family.client_id, "grant": grant }));
        self.store.insert_oidc_tokens(tokens, &audit).await?;
        Ok(())
    }

    pub(super) async fn audit_reuse(
        &self,
        ctx: &RequestContext,
        account: AccountId,
        client_id: &str,
        what: &str,
    ) -> Result<(), TokenError> {
        let audit = self
            .audit(ctx, Some(account), AuditAction::OidcTokenReused)
            .detail(json!({ "client_id": client_id, "token": what }));
        self.store.append_audit(&audit).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_s256_matches(verifier, challenge));
        assert!(!pkce_s256_matches(challenge, challenge));
        assert!(!pkce_s256_matches(verifier, verifier), "plain is refused");
        assert!(!pkce_s256_matches("short", challenge));
    }

    #[test]
    fn error_codes_are_oauths() {
        assert_eq!(TokenError::client().code().as_str(), "invalid_client");
        assert_eq!(TokenError::grant("used").code().as_str(), "invalid_grant");
    }
}
