//! Authorization codes, token families and tokens. A code and a refresh token are each used
//! by one conditional `UPDATE … WHERE used_at IS NULL`, whose row count decides; a second use
//! revokes the family in the same transaction.

use sqlx::{Any, Transaction};
use tessera_core::audit::AuditEvent;
use tessera_core::oidc::token::{CodeUse, Family, RefreshUse, TokenRecord};
use tessera_core::oidc::{
    Acr, AuthorizationCode, FamilyId, OidcToken, RequestId, Scopes, TokenKind,
};
use tessera_core::store::StoreResult;
use tessera_core::{AccountId, StoreError};
use time::OffsetDateTime;

use crate::rows::{corrupt, id, secs, secs_opt, time, to_json};
use crate::{SqlStore, audit, db_err, oidc};

const INSERT_CODE: &str = "INSERT INTO oidc_codes (code_hash, client_id, account_id, session_id, \
     redirect_uri, code_challenge, nonce, scope, auth_time, amr, acr, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
const USE_CODE: &str = "UPDATE oidc_codes SET used_at = $2, family_id = $3 \
     WHERE code_hash = $1 AND used_at IS NULL";
const SELECT_CODE: &str = "SELECT code_hash, client_id, account_id, session_id, redirect_uri, \
     code_challenge, nonce, scope, auth_time, amr, acr, created_at, expires_at, family_id \
     FROM oidc_codes WHERE code_hash = $1";
const INSERT_FAMILY: &str = "INSERT INTO oidc_families (id, client_id, account_id, session_id, \
     scope, auth_time, amr, acr, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const REVOKE_FAMILY: &str =
    "UPDATE oidc_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
const INSERT_TOKEN: &str = "INSERT INTO oidc_tokens (token_hash, kind, family_id, scope, \
     created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const SELECT_TOKEN: &str = "SELECT t.token_hash, t.kind, t.family_id, t.scope, t.created_at, \
     t.expires_at, t.used_at, f.client_id, f.account_id, f.session_id, f.scope AS family_scope, \
     f.auth_time, f.amr, f.acr, f.created_at AS family_created_at, f.revoked_at \
     FROM oidc_tokens t JOIN oidc_families f ON f.id = t.family_id WHERE t.token_hash = $1";
/// Used only while unused, of a refresh token, in a family not revoked.
const USE_REFRESH: &str = "UPDATE oidc_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND kind = $3 AND used_at IS NULL AND EXISTS \
     (SELECT 1 FROM oidc_families f WHERE f.id = oidc_tokens.family_id AND f.revoked_at IS NULL)";
const FAMILY_OF: &str = "SELECT family_id FROM oidc_tokens WHERE token_hash = $1 AND kind = $2";

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: Vec<u8>,
    client_id: String,
    account_id: String,
    session_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    scope: String,
    auth_time: i64,
    amr: String,
    acr: Option<String>,
    created_at: i64,
    expires_at: i64,
    family_id: Option<String>,
}

pub(crate) fn amr(text: &str, column: &'static str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|_| corrupt(column))
}

pub(crate) fn acr(text: Option<&str>, column: &'static str) -> StoreResult<Option<Acr>> {
    text.map(|t| Acr::parse(t).ok_or(corrupt(column)))
        .transpose()
}

pub(crate) fn scopes(text: &str, column: &'static str) -> StoreResult<Scopes> {
    Scopes::parse(text).ok_or(corrupt(column))
}

impl CodeRow {
    fn code(&self) -> StoreResult<AuthorizationCode> {
        Ok(AuthorizationCode {
            hash: self.code_hash.clone(),
            client_id: self.client_id.clone(),
            account: id(&self.account_id, "oidc_codes.account_id")?,
            session: id(&self.session_id, "oidc_codes.session_id")?,
            redirect_uri: self.redirect_uri.clone(),
            code_challenge: self.code_challenge.clone(),
            nonce: self.nonce.clone(),
            scope: scopes(&self.scope, "oidc_codes.scope")?,
            auth_time: time(self.auth_time, "oidc_codes.auth_time")?,
            amr: amr(&self.amr, "oidc_codes.amr")?,
            acr: acr(self.acr.as_deref(), "oidc_codes.acr")?,
            created_at: time(self.created_at, "oidc_codes.created_at")?,
            expires_at: time(self.expires_at, "oidc_codes.expires_at")?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: Vec<u8>,
    kind: String,
    family_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    client_id: String,
    account_id: String,
    session_id: String,
    family_scope: String,
    auth_time: i64,
    amr: String,
    acr: Option<String>,
    family_created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> StoreResult<TokenRecord> {
        let family: FamilyId = id(&r.family_id, "oidc_tokens.family_id")?;
        let opt = |t: Option<i64>, c| t.map(|t| time(t, c)).transpose();
        Ok(TokenRecord {
            token: OidcToken {
                hash: r.token_hash,
                kind: TokenKind::parse(&r.kind).ok_or(corrupt("oidc_tokens.kind"))?,
                family,
                scope: scopes(&r.scope, "oidc_tokens.scope")?,
                created_at: time(r.created_at, "oidc_tokens.created_at")?,
                expires_at: time(r.expires_at, "oidc_tokens.expires_at")?,
                used_at: opt(r.used_at, "oidc_tokens.used_at")?,
            },
            family: Family {
                id: family,
                client_id: r.client_id,
                account: id::<AccountId>(&r.account_id, "oidc_families.account_id")?,
                session: id(&r.session_id, "oidc_families.session_id")?,
                scope: scopes(&r.family_scope, "oidc_families.scope")?,
                auth_time: time(r.auth_time, "oidc_families.auth_time")?,
                amr: amr(&r.amr, "oidc_families.amr")?,
                acr: acr(r.acr.as_deref(), "oidc_families.acr")?,
                created_at: time(r.family_created_at, "oidc_families.created_at")?,
                revoked_at: opt(r.revoked_at, "oidc_families.revoked_at")?,
            },
        })
    }
}

pub(crate) async fn insert_code(
    store: &SqlStore,
    code: &AuthorizationCode,
    request: RequestId,
    event: &AuditEvent,
) -> StoreResult<bool> {
    let mut tx = store.begin_write().await?;
    let taken = sqlx::query(oidc::DELETE_REQUEST)
        .bind(request.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
    if taken == 0 {
        tx.rollback().await.map_err(db_err)?;
        return Ok(false);
    }
    sqlx::query(INSERT_CODE)
        .bind(code.hash.as_slice())
        .bind(code.client_id.as_str())
        .bind(code.account.to_string())
        .bind(code.session.to_string())
        .bind(code.redirect_uri.as_str())
        .bind(code.code_challenge.as_deref())
        .bind(code.nonce.as_deref())
        .bind(code.scope.to_string())
        .bind(secs(code.auth_time))
        .bind(to_json(&code.amr)?)
        .bind(code.acr.map(|a| a.as_str()))
        .bind(secs(code.created_at))
        .bind(secs(code.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    audit::insert(&mut *tx, event).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(crate) async fn use_code(
    store: &SqlStore,
    hash: &[u8],
    family: FamilyId,
    now: OffsetDateTime,
) -> StoreResult<CodeUse> {
    let mut tx = store.begin_write().await?;
    let won = sqlx::query(USE_CODE)
        .bind(hash)
        .bind(secs(now))
        .bind(family.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
        > 0;
    let row = sqlx::query_as::<_, CodeRow>(SELECT_CODE)
        .bind(hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let Some(row) = row else {
        tx.rollback().await.map_err(db_err)?;
        return Ok(CodeUse::Unknown);
    };
    let code = row.code()?;
    if !won {
        let used_family = row
            .family_id
            .as_deref()
            .map(|f| id::<FamilyId>(f, "oidc_codes.family_id"))
            .transpose()?;
        if let Some(f) = used_family {
            revoke_family(&mut *tx, f, now).await?;
        }
        tx.commit().await.map_err(db_err)?;
        return Ok(CodeUse::Reused {
            account: code.account,
            client_id: code.client_id,
            family: used_family,
        });
    }
    sqlx::query(INSERT_FAMILY)
        .bind(family.to_string())
        .bind(code.client_id.as_str())
        .bind(code.account.to_string())
        .bind(code.session.to_string())
        .bind(code.scope.to_string())
        .bind(secs(code.auth_time))
        .bind(to_json(&code.amr)?)
        .bind(code.acr.map(|a| a.as_str()))
        .bind(secs(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(CodeUse::Fresh(code))
}

pub(crate) async fn insert_tokens(
    tx: &mut Transaction<'static, Any>,
    tokens: &[OidcToken],
) -> StoreResult<()> {
    for t in tokens {
        sqlx::query(INSERT_TOKEN)
            .bind(t.hash.as_slice())
            .bind(t.kind.as_str())
            .bind(t.family.to_string())
            .bind(t.scope.to_string())
            .bind(secs(t.created_at))
            .bind(secs(t.expires_at))
            .bind(secs_opt(t.used_at))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn token(store: &SqlStore, hash: &[u8]) -> StoreResult<Option<TokenRecord>> {
    sqlx::query_as::<_, TokenRow>(SELECT_TOKEN)
        .bind(hash)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(TokenRecord::try_from)
        .transpose()
}

pub(crate) async fn rotate(
    store: &SqlStore,
    old: &[u8],
    new: &[OidcToken],
    now: OffsetDateTime,
    event: &AuditEvent,
) -> StoreResult<RefreshUse> {
    let mut tx = store.begin_write().await?;
    let won = sqlx::query(USE_REFRESH)
        .bind(old)
        .bind(secs(now))
        .bind(TokenKind::Refresh.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
        > 0;
    if won {
        insert_tokens(&mut tx, new).await?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        return Ok(RefreshUse::Rotated);
    }
    let family: Option<String> = sqlx::query_scalar(FAMILY_OF)
        .bind(old)
        .bind(TokenKind::Refresh.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    let Some(family) = family else {
        tx.rollback().await.map_err(db_err)?;
        return Ok(RefreshUse::Unknown);
    };
    revoke_family(&mut *tx, id(&family, "oidc_tokens.family_id")?, now).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(RefreshUse::Reused)
}

pub(crate) async fn revoke_family<'c, E>(
    exec: E,
    family: FamilyId,
    at: OffsetDateTime,
) -> StoreResult<bool>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let revoked = sqlx::query(REVOKE_FAMILY)
        .bind(family.to_string())
        .bind(secs(at))
        .execute(exec)
        .await
        .map_err(db_err)?
        .rows_affected();
    Ok(revoked > 0)
}
