//! Service credentials (API keys for `POST /api/v1/verify`) and the rate windows every node
//! shares.

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::store::StoreResult;
use tessera_core::store::verify_api::ServiceStore;
use tessera_core::verify_api::ServiceCredential;
use tessera_core::{ServiceCredentialId, StoreError};
use time::OffsetDateTime;

use crate::rows::{secs, secs_opt};
use crate::{SqlStore, audit, db_err};

const INSERT: &str = "INSERT INTO service_credentials \
     (id, name, token_hash, created_at, last_used_at, revoked_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const COLUMNS: &str = "id, name, token_hash, created_at, last_used_at, revoked_at";
const REVOKE: &str = "UPDATE service_credentials SET revoked_at = $2 \
     WHERE id = $1 AND revoked_at IS NULL";
const TOUCH: &str = "UPDATE service_credentials SET last_used_at = $2 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";
/// One statement, so concurrent requests on several nodes each get their own count.
const COUNT: &str = "INSERT INTO verify_rate_windows (key, window_start, count) \
     VALUES ($1, $2, 1) ON CONFLICT (key, window_start) \
     DO UPDATE SET count = verify_rate_windows.count + 1 RETURNING count";
const PURGE: &str = "DELETE FROM verify_rate_windows WHERE window_start < $1";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    token_hash: Vec<u8>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

fn time(secs: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| StoreError::Corrupt("service_credentials"))
}

impl TryFrom<Row> for ServiceCredential {
    type Error = StoreError;

    fn try_from(row: Row) -> StoreResult<ServiceCredential> {
        Ok(ServiceCredential {
            id: row
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt("service_credentials.id"))?,
            name: row.name,
            token_hash: row.token_hash,
            created_at: time(row.created_at)?,
            last_used_at: row.last_used_at.map(time).transpose()?,
            revoked_at: row.revoked_at.map(time).transpose()?,
        })
    }
}

#[async_trait]
impl ServiceStore for SqlStore {
    async fn insert_service_credential(
        &self,
        credential: &ServiceCredential,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT)
            .bind(credential.id.to_string())
            .bind(credential.name.as_str())
            .bind(credential.token_hash.as_slice())
            .bind(secs(credential.created_at))
            .bind(secs_opt(credential.last_used_at))
            .bind(secs_opt(credential.revoked_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn service_credentials(&self) -> StoreResult<Vec<ServiceCredential>> {
        let sql = format!("SELECT {COLUMNS} FROM service_credentials ORDER BY created_at, id");
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(ServiceCredential::try_from)
            .collect()
    }

    async fn service_credential_by_token_hash(
        &self,
        hash: &[u8],
    ) -> StoreResult<Option<ServiceCredential>> {
        let sql = format!("SELECT {COLUMNS} FROM service_credentials WHERE token_hash = $1");
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(ServiceCredential::try_from)
            .transpose()
    }

    async fn revoke_service_credential(
        &self,
        id: ServiceCredentialId,
        now: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(REVOKE)
            .bind(id.to_string())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if revoked == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn touch_service_credential(
        &self,
        id: ServiceCredentialId,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(TOUCH)
            .bind(id.to_string())
            .bind(secs(now))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn count_in_window(&self, key: &str, window_start: i64) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(COUNT)
            .bind(key)
            .bind(window_start)
            .fetch_one(self.writer())
            .await
            .map_err(db_err)?;
        Ok(count.max(0) as u64)
    }

    async fn purge_rate_windows(&self, before: i64) -> StoreResult<u64> {
        Ok(sqlx::query(PURGE)
            .bind(before)
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected())
    }
}
