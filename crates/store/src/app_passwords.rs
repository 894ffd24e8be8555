//! App passwords.

use async_trait::async_trait;
use tessera_core::app_passwords::AppPassword;
use tessera_core::audit::AuditEvent;
use tessera_core::store::StoreResult;
use tessera_core::store::app_passwords::AppPasswordStore;
use tessera_core::{AccountId, AppPasswordId, StoreError};
use time::OffsetDateTime;

use crate::rows::{secs, secs_opt};
use crate::{SqlStore, audit, db_err};

/// Takes the account's row lock on PostgreSQL, so two inserts for one account count one after
/// the other (SQLite's `BEGIN IMMEDIATE` already runs one writer at a time).
const LOCK_ACCOUNT: &str = "UPDATE accounts SET id = id WHERE id = $1";
const COUNT: &str = "SELECT COUNT(*) FROM app_passwords WHERE account_id = $1";
const INSERT: &str = "INSERT INTO app_passwords \
     (id, account_id, name, password_hash, created_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const OF_ACCOUNT: &str = "SELECT id, account_id, name, password_hash, created_at, last_used_at \
     FROM app_passwords WHERE account_id = $1 ORDER BY created_at DESC, id DESC";
const DELETE: &str = "DELETE FROM app_passwords WHERE id = $1 AND account_id = $2";
const TOUCH: &str = "UPDATE app_passwords SET last_used_at = $2 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    account_id: String,
    name: String,
    password_hash: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

fn time(secs: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| StoreError::Corrupt("app_passwords"))
}

impl TryFrom<Row> for AppPassword {
    type Error = StoreError;

    fn try_from(row: Row) -> StoreResult<AppPassword> {
        Ok(AppPassword {
            id: row
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt("app_passwords.id"))?,
            account_id: row
                .account_id
                .parse()
                .map_err(|_| StoreError::Corrupt("app_passwords.account_id"))?,
            name: row.name,
            password_hash: row.password_hash,
            created_at: time(row.created_at)?,
            last_used_at: row.last_used_at.map(time).transpose()?,
        })
    }
}

#[async_trait]
impl AppPasswordStore for SqlStore {
    async fn insert_app_password(
        &self,
        app_password: &AppPassword,
        max: u32,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let account = app_password.account_id.to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query(LOCK_ACCOUNT)
            .bind(account.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let count: i64 = sqlx::query_scalar(COUNT)
            .bind(account.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if count >= i64::from(max) {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        sqlx::query(INSERT)
            .bind(app_password.id.to_string())
            .bind(account.as_str())
            .bind(app_password.name.as_str())
            .bind(app_password.password_hash.as_str())
            .bind(secs(app_password.created_at))
            .bind(secs_opt(app_password.last_used_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn app_passwords_of(&self, account: AccountId) -> StoreResult<Vec<AppPassword>> {
        sqlx::query_as::<_, Row>(OF_ACCOUNT)
            .bind(account.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(AppPassword::try_from)
            .collect()
    }

    async fn delete_app_password(
        &self,
        account: AccountId,
        id: AppPasswordId,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(DELETE)
            .bind(id.to_string())
            .bind(account.to_string())
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

    async fn touch_app_password(&self, id: AppPasswordId, now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(TOUCH)
            .bind(id.to_string())
            .bind(secs(now))
            .execute(self.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
