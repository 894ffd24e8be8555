//! The OpenID Connect provider's clients, signing keys, pending requests and consents, and
//! the purge of its expired rows; codes and tokens are in `oidc_tokens`.

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::oidc::token::{CodeUse, Family, RefreshUse, TokenRecord};
use tessera_core::oidc::{
    AuthorizationCode, AuthorizationRequest, Client, Consent, FamilyId, KEY_RETENTION, OidcToken,
    REFRESH_TOKEN_TTL, RequestId, Requirement, Scopes, SigningAlg, StoredKey,
};
use tessera_core::store::StoreResult;
use tessera_core::store::oidc::OidcStore;
use tessera_core::{AccountId, StoreError};
use time::OffsetDateTime;

use crate::rows::{corrupt, flag, id, secs, secs_opt, time, to_json};
use crate::{SqlStore, audit, db_err, oidc_tokens};

const CLIENT_COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, \
     post_logout_redirect_uris, backchannel_logout_uri, first_party, requirement, \
     offline_access, id_token_alg, created_at";

const INSERT_CLIENT: &str = "INSERT INTO oidc_clients (client_id, name, secret_hash, \
     redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, first_party, \
     requirement, offline_access, id_token_alg, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const UPDATE_CLIENT: &str = "UPDATE oidc_clients SET name = $2, secret_hash = $3, \
     redirect_uris = $4, post_logout_redirect_uris = $5, backchannel_logout_uri = $6, \
     first_party = $7, requirement = $8, offline_access = $9, id_token_alg = $10 \
     WHERE client_id = $1";
const DELETE_CLIENT: &str = "DELETE FROM oidc_clients WHERE client_id = $1";

const KEY_COLUMNS: &str = "kid, alg, private_key, public_jwk, created_at, retired_at";
const INSERT_KEY: &str = "INSERT INTO oidc_keys (kid, alg, private_key, public_jwk, created_at, \
     retired_at) VALUES ($1, $2, $3, $4, $5, $6)";
const RETIRE_KEYS: &str =
    "UPDATE oidc_keys SET retired_at = $2 WHERE alg = $1 AND retired_at IS NULL";

const INSERT_REQUEST: &str =
    "INSERT INTO oidc_requests (id, client_id, request, expires_at) VALUES ($1, $2, $3, $4)";
const SELECT_REQUEST: &str = "SELECT request FROM oidc_requests WHERE id = $1";
pub(crate) const DELETE_REQUEST: &str = "DELETE FROM oidc_requests WHERE id = $1";

const CONSENT_COLUMNS: &str = "account_id, client_id, scopes, granted_at";
const SAVE_CONSENT: &str = "INSERT INTO oidc_consents (account_id, client_id, scopes, granted_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, client_id) \
     DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at";
const DELETE_CONSENT: &str = "DELETE FROM oidc_consents WHERE account_id = $1 AND client_id = $2";
const REVOKE_FAMILIES_OF: &str = "UPDATE oidc_families SET revoked_at = $3 \
     WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL";

const PURGE_REQUESTS: &str = "DELETE FROM oidc_requests WHERE expires_at <= $1";
/// Codes stay a day past expiry, so a replay in that time still revokes what one issued.
const PURGE_CODES: &str = "DELETE FROM oidc_codes WHERE expires_at <= $1";
const PURGE_TOKENS: &str = "DELETE FROM oidc_tokens WHERE expires_at <= $1";
const PURGE_FAMILIES: &str = "DELETE FROM oidc_families WHERE created_at <= $1 \
     AND NOT EXISTS (SELECT 1 FROM oidc_tokens t WHERE t.family_id = oidc_families.id)";
const PURGE_KEYS: &str = "DELETE FROM oidc_keys WHERE retired_at IS NOT NULL AND retired_at <= $1";
const DAY: i64 = 24 * 3600;

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    name: String,
    secret_hash: Option<Vec<u8>>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    backchannel_logout_uri: Option<String>,
    first_party: i64,
    requirement: String,
    offline_access: i64,
    id_token_alg: String,
    created_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> StoreResult<Client> {
        let list = |text: &str, column| {
            serde_json::from_str::<Vec<String>>(text).map_err(|_| corrupt(column))
        };
        Ok(Client {
            redirect_uris: list(&r.redirect_uris, "oidc_clients.redirect_uris")?,
            post_logout_redirect_uris: list(
                &r.post_logout_redirect_uris,
                "oidc_clients.post_logout_redirect_uris",
            )?,
            client_id: r.client_id,
            name: r.name,
            secret_hash: r.secret_hash,
            backchannel_logout_uri: r.backchannel_logout_uri,
            first_party: r.first_party != 0,
            requirement: Requirement::parse(&r.requirement)
                .ok_or(corrupt("oidc_clients.requirement"))?,
            offline_access: r.offline_access != 0,
            id_token_alg: SigningAlg::parse(&r.id_token_alg)
                .ok_or(corrupt("oidc_clients.id_token_alg"))?,
            created_at: time(r.created_at, "oidc_clients.created_at")?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_key: Vec<u8>,
    public_jwk: String,
    created_at: i64,
    retired_at: Option<i64>,
}

impl TryFrom<KeyRow> for StoredKey {
    type Error = StoreError;
    fn try_from(r: KeyRow) -> StoreResult<StoredKey> {
        Ok(StoredKey {
            alg: SigningAlg::parse(&r.alg).ok_or(corrupt("oidc_keys.alg"))?,
            kid: r.kid,
            sealed_private: r.private_key,
            public_jwk: r.public_jwk,
            created_at: time(r.created_at, "oidc_keys.created_at")?,
            retired_at: r
                .retired_at
                .map(|t| time(t, "oidc_keys.retired_at"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    account_id: String,
    client_id: String,
    scopes: String,
    granted_at: i64,
}

impl TryFrom<ConsentRow> for Consent {
    type Error = StoreError;
    fn try_from(r: ConsentRow) -> StoreResult<Consent> {
        Ok(Consent {
            account: id(&r.account_id, "oidc_consents.account_id")?,
            client_id: r.client_id,
            scopes: Scopes::parse(&r.scopes).ok_or(corrupt("oidc_consents.scopes"))?,
            granted_at: time(r.granted_at, "oidc_consents.granted_at")?,
        })
    }
}

/// The client's own columns, bound for `INSERT_CLIENT` and `UPDATE_CLIENT` alike ($1 … $10).
fn bind_client<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    c: &'q Client,
) -> StoreResult<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>> {
    Ok(q.bind(c.client_id.as_str())
        .bind(c.name.as_str())
        .bind(c.secret_hash.as_deref())
        .bind(to_json(&c.redirect_uris)?)
        .bind(to_json(&c.post_logout_redirect_uris)?)
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(flag(c.first_party))
        .bind(c.requirement.as_str())
        .bind(flag(c.offline_access))
        .bind(c.id_token_alg.as_str()))
}

fn conflict_as(e: StoreError, name: &'static str) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(name),
        e => e,
    }
}

#[async_trait]
impl OidcStore for SqlStore {
    async fn insert_oidc_client(&self, client: &Client, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        bind_client(sqlx::query(INSERT_CLIENT), client)?
            .bind(secs(client.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_as(db_err(e), "oidc_client"))?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn update_oidc_client(&self, client: &Client, event: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = bind_client(sqlx::query(UPDATE_CLIENT), client)?
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if changed == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_oidc_client(&self, client_id: &str, event: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // Codes name the client but no family; the rest cascade.
        sqlx::query("DELETE FROM oidc_codes WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let deleted = sqlx::query(DELETE_CLIENT)
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn oidc_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE client_id = $1");
        sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(Client::try_from)
            .transpose()
    }

    async fn oidc_clients(&self) -> StoreResult<Vec<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY name, client_id");
        sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(Client::try_from)
            .collect()
    }

    async fn insert_oidc_key(&self, key: &StoredKey) -> StoreResult<()> {
        insert_key(self.writer(), key).await
    }

    async fn rotate_oidc_keys(
        &self,
        new: &[StoredKey],
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for key in new {
            sqlx::query(RETIRE_KEYS)
                .bind(key.alg.as_str())
                .bind(secs(at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for key in new {
            insert_key(&mut *tx, key).await?;
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn oidc_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM oidc_keys ORDER BY created_at, kid");
        sqlx::query_as::<_, KeyRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(StoredKey::try_from)
            .collect()
    }

    async fn insert_oidc_request(&self, request: &AuthorizationRequest) -> StoreResult<()> {
        sqlx::query(INSERT_REQUEST)
            .bind(request.id.to_string())
            .bind(request.client_id.as_str())
            .bind(to_json(request)?)
            .bind(secs(request.expires_at))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn oidc_request(&self, id: RequestId) -> StoreResult<Option<AuthorizationRequest>> {
        let text: Option<String> = sqlx::query_scalar(SELECT_REQUEST)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        text.map(|t| serde_json::from_str(&t).map_err(|_| corrupt("oidc_requests.request")))
            .transpose()
    }

    async fn delete_oidc_request(&self, id: RequestId) -> StoreResult<()> {
        sqlx::query(DELETE_REQUEST)
            .bind(id.to_string())
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn insert_oidc_code(
        &self,
        code: &AuthorizationCode,
        request: RequestId,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        oidc_tokens::insert_code(self, code, request, event).await
    }

    async fn use_oidc_code(
        &self,
        hash: &[u8],
        family: FamilyId,
        now: OffsetDateTime,
    ) -> StoreResult<CodeUse> {
        oidc_tokens::use_code(self, hash, family, now).await
    }

    async fn insert_oidc_tokens(
        &self,
        tokens: &[OidcToken],
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        oidc_tokens::insert_tokens(&mut tx, tokens).await?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn oidc_token(&self, hash: &[u8]) -> StoreResult<Option<TokenRecord>> {
        oidc_tokens::token(self, hash).await
    }

    async fn rotate_oidc_refresh(
        &self,
        old: &[u8],
        new: &[OidcToken],
        now: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<RefreshUse> {
        oidc_tokens::rotate(self, old, new, now, event).await
    }

    async fn revoke_oidc_family(&self, family: FamilyId, at: OffsetDateTime) -> StoreResult<bool> {
        oidc_tokens::revoke_family(self.writer(), family, at).await
    }

    async fn claim_oidc_backchannel_logouts(
        &self,
        at: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Family>> {
        crate::oidc_logout::claim_backchannel_logouts(self, at, limit).await
    }

    async fn delete_oidc_token(&self, hash: &[u8]) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM oidc_tokens WHERE token_hash = $1")
            .bind(hash)
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn oidc_consent(
        &self,
        account: AccountId,
        client_id: &str,
    ) -> StoreResult<Option<Consent>> {
        let sql = format!(
            "SELECT {CONSENT_COLUMNS} FROM oidc_consents WHERE account_id = $1 AND client_id = $2"
        );
        sqlx::query_as::<_, ConsentRow>(sqlx::AssertSqlSafe(sql))
            .bind(account.to_string())
            .bind(client_id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(Consent::try_from)
            .transpose()
    }

    async fn save_oidc_consent(&self, consent: &Consent, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(SAVE_CONSENT)
            .bind(consent.account.to_string())
            .bind(consent.client_id.as_str())
            .bind(consent.scopes.to_string())
            .bind(secs(consent.granted_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn oidc_consents_of(&self, account: AccountId) -> StoreResult<Vec<Consent>> {
        let sql = format!(
            "SELECT {CONSENT_COLUMNS} FROM oidc_consents WHERE account_id = $1 ORDER BY client_id"
        );
        sqlx::query_as::<_, ConsentRow>(sqlx::AssertSqlSafe(sql))
            .bind(account.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(Consent::try_from)
            .collect()
    }

    async fn revoke_oidc_consent(
        &self,
        account: AccountId,
        client_id: &str,
        at: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(DELETE_CONSENT)
            .bind(account.to_string())
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        sqlx::query(REVOKE_FAMILIES_OF)
            .bind(account.to_string())
            .bind(client_id)
            .bind(secs(at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn purge_oidc(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let now = secs(now);
        let mut tx = self.begin_write().await?;
        let mut purged = 0;
        for (sql, before) in [
            (PURGE_REQUESTS, now),
            (PURGE_CODES, now - DAY),
            (PURGE_TOKENS, now),
            (PURGE_FAMILIES, now - REFRESH_TOKEN_TTL.whole_seconds()),
            (PURGE_KEYS, now - KEY_RETENTION.whole_seconds() - DAY),
        ] {
            purged += sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(purged)
    }
}

async fn insert_key<'c, E>(exec: E, key: &StoredKey) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(INSERT_KEY)
        .bind(key.kid.as_str())
        .bind(key.alg.as_str())
        .bind(key.sealed_private.as_slice())
        .bind(key.public_jwk.as_str())
        .bind(secs(key.created_at))
        .bind(secs_opt(key.retired_at))
        .execute(exec)
        .await
        .map_err(|e| conflict_as(db_err(e), "oidc_key"))?;
    Ok(())
}
