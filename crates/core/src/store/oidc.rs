//! Storage for the OpenID Connect provider: clients, signing keys, pending authorization
//! requests, codes, token families and tokens, and consents (migration 0013).
//!
//! Codes and refresh tokens are used once across nodes: [`OidcStore::use_oidc_code`] and
//! [`OidcStore::rotate_oidc_refresh`] each decide with one conditional `UPDATE … WHERE
//! used_at IS NULL`, and a second use revokes the family in the same transaction.

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::ids::AccountId;
use crate::oidc::token::{CodeUse, Family, RefreshUse, TokenRecord};
use crate::oidc::{
    AuthorizationCode, AuthorizationRequest, Client, Consent, FamilyId, OidcToken, RequestId,
    StoredKey,
};
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
pub trait OidcStore: Send + Sync {
    /// `Conflict("oidc_client")` when the id exists.
    async fn insert_oidc_client(&self, client: &Client, audit: &AuditEvent) -> StoreResult<()>;
    /// Everything but the id and `created_at`; false when there is no such client.
    async fn update_oidc_client(&self, client: &Client, audit: &AuditEvent) -> StoreResult<bool>;
    /// With its requests, codes, families, tokens and consents; false when there was none.
    async fn delete_oidc_client(&self, client_id: &str, audit: &AuditEvent) -> StoreResult<bool>;
    async fn oidc_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// By name, then id.
    async fn oidc_clients(&self) -> StoreResult<Vec<Client>>;

    async fn insert_oidc_key(&self, key: &StoredKey) -> StoreResult<()>;
    /// In one transaction: every unretired key of the new keys' algorithms retires at `at`,
    /// and the new keys are inserted.
    async fn rotate_oidc_keys(
        &self,
        new: &[StoredKey],
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Every key, oldest first.
    async fn oidc_keys(&self) -> StoreResult<Vec<StoredKey>>;

    async fn insert_oidc_request(&self, request: &AuthorizationRequest) -> StoreResult<()>;
    /// Expired ones too, until purged (the caller checks `expires_at`).
    async fn oidc_request(&self, id: RequestId) -> StoreResult<Option<AuthorizationRequest>>;
    async fn delete_oidc_request(&self, id: RequestId) -> StoreResult<()>;

    /// In one transaction: the request is deleted, and only if that deleted it, the code is
    /// inserted with the audit event. False when the request was gone (answered already).
    async fn insert_oidc_code(
        &self,
        code: &AuthorizationCode,
        request: RequestId,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// The code with this hash, used now. First use: marks it used, creates `family` from
    /// it, and returns it. Later uses: revoke the family it created and say so.
    async fn use_oidc_code(
        &self,
        hash: &[u8],
        family: FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<CodeUse>;

    /// Tokens of an existing family, with the audit event, in one transaction.
    async fn insert_oidc_tokens(&self, tokens: &[OidcToken], audit: &AuditEvent)
    -> StoreResult<()>;
    async fn oidc_token(&self, hash: &[u8]) -> StoreResult<Option<TokenRecord>>;
    /// In one transaction: the refresh token `old` is marked used only if it was unused and
    /// its family unrevoked, and then `new` is inserted with `audit`. Otherwise, when it
    /// exists, its family is revoked (`Reused`).
    async fn rotate_oidc_refresh(
        &self,
        old: &[u8],
        new: &[OidcToken],
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<RefreshUse>;
    /// False when the family was unknown or revoked already.
    async fn revoke_oidc_family(&self, family: FamilyId, at: OffsetDateTime) -> StoreResult<bool>;
    /// Removes one token (an access token revoked); false when there was none.
    async fn delete_oidc_token(&self, hash: &[u8]) -> StoreResult<bool>;
    /// Back-channel logout: in one transaction, revokes at `at` up to `limit` unrevoked
    /// families of clients with a back-channel logout URI whose session no longer exists
    /// (oldest first), and returns them. Each family is returned once, whichever node asks,
    /// so its client is told once. Other clients' families are left alone (their
    /// `offline_access` outlives the session, as Back-Channel Logout 1.0 §2.7 advises).
    async fn claim_oidc_backchannel_logouts(
        &self,
        at: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Family>>;

    async fn oidc_consent(
        &self,
        account: AccountId,
        client_id: &str,
    ) -> StoreResult<Option<Consent>>;
    /// Inserts or replaces the consent of its account for its client.
    async fn save_oidc_consent(&self, consent: &Consent, audit: &AuditEvent) -> StoreResult<()>;
    /// By client id.
    async fn oidc_consents_of(&self, account: AccountId) -> StoreResult<Vec<Consent>>;
    /// Deletes the consent and revokes the client's families for the account, in one
    /// transaction; false when there was no consent.
    async fn revoke_oidc_consent(
        &self,
        account: AccountId,
        client_id: &str,
        at: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;

    /// Deletes expired requests and codes, expired tokens, families with no token left
    /// that are older than the longest refresh token, and keys retired longer than a day
    /// past their retention; returns how many rows went.
    async fn purge_oidc(&self, now: OffsetDateTime) -> StoreResult<u64>;
}
