//! Administration: temporary passwords, revoking security info, temporary access passes,
//! imported hardware tokens, and the audit log read with filters.

use async_trait::async_trait;
use tessera_core::account::Account;
use tessera_core::audit::AuditEvent;
use tessera_core::message::Message;
use tessera_core::method::{Kind, Method};
use tessera_core::store::StoreResult;
use tessera_core::store::admin::{AdminStore, AuditEntry, AuditFilter, AuditPage, HardwareToken};
use tessera_core::store::delivery::DeliveryStore;
use tessera_core::{AccountId, MethodId, SessionId, StoreError};
use time::OffsetDateTime;

use crate::rows::{AuditRow, secs};
use crate::{SqlStore, audit, bulk, db_err, methods};

const MARK_CHANGE: &str = "INSERT INTO password_change_required (account_id, set_at) \
     VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET set_at = excluded.set_at";
const CLEAR_CHANGE: &str = "DELETE FROM password_change_required WHERE account_id = $1";
const CHANGE_REQUIRED: &str = "SELECT set_at FROM password_change_required WHERE account_id = $1";
const SET_PASSWORD: &str = "UPDATE accounts SET password_hash = $2 WHERE id = $1";
const END_SESSIONS: &str = "DELETE FROM sessions WHERE account_id = $1";
const END_OTHER_SESSIONS: &str =
    "DELETE FROM sessions WHERE account_id = $1 AND ($2 IS NULL OR id <> $2)";

const DELETE_METHODS: &str = "DELETE FROM methods WHERE account_id = $1";
const CLEAR_DEFAULT: &str = "UPDATE accounts SET default_method_id = NULL WHERE id = $1";

/// A pass that is the default stops being it when it goes.
const CLEAR_PASS_DEFAULT: &str = "UPDATE accounts SET default_method_id = NULL \
     WHERE id = $1 AND default_method_id IN \
     (SELECT id FROM methods WHERE account_id = $1 AND kind = $2)";
const DELETE_PASSES: &str = "DELETE FROM methods WHERE account_id = $1 AND kind = $2";
const LAPSED: &str =
    "kind = $1 AND (last_step IS NOT NULL OR expires_at IS NULL OR expires_at <= $2)";

const INSERT_TOKEN: &str = "INSERT INTO hardware_tokens \
     (serial, method_id, account_id, manufacturer, model, imported_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const TOKEN_OF: &str = "SELECT serial, manufacturer, model, imported_at FROM hardware_tokens \
     WHERE method_id = $1";

/// `$5` is the cursor; a NULL filter lets everything through.
const AUDIT_NEWEST_FIRST: &str = "SELECT e.seq, a.username, e.id, e.at, e.account_id, \
     e.action, e.method_id, e.ip, e.user_agent, e.detail \
     FROM audit_events e LEFT JOIN accounts a ON a.id = e.account_id \
     WHERE ($1 IS NULL OR e.account_id = $1) AND ($2 IS NULL OR e.action = $2) \
     AND ($3 IS NULL OR e.at >= $3) AND ($4 IS NULL OR e.at < $4) \
     AND ($5 IS NULL OR e.seq < $5) \
     ORDER BY e.seq DESC LIMIT $6";
const AUDIT_OLDEST_FIRST: &str = "SELECT e.seq, a.username, e.id, e.at, e.account_id, \
     e.action, e.method_id, e.ip, e.user_agent, e.detail \
     FROM audit_events e LEFT JOIN accounts a ON a.id = e.account_id \
     WHERE ($1 IS NULL OR e.account_id = $1) AND ($2 IS NULL OR e.action = $2) \
     AND ($3 IS NULL OR e.at >= $3) AND ($4 IS NULL OR e.at < $4) \
     AND ($5 IS NULL OR e.seq > $5) \
     ORDER BY e.seq ASC LIMIT $6";

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    username: Option<String>,
    #[sqlx(flatten)]
    event: AuditRow,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    serial: String,
    manufacturer: Option<String>,
    model: Option<String>,
    imported_at: i64,
}

const PASS: Kind = Kind::TemporaryAccessPass;

#[async_trait]
impl AdminStore for SqlStore {
    async fn insert_account_with_temporary_password(
        &self,
        account: &Account,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        bulk::insert_account(&mut *tx, account).await?;
        sqlx::query(MARK_CHANGE)
            .bind(account.id.to_string())
            .bind(secs(account.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn set_temporary_password(
        &self,
        account: AccountId,
        password_hash: &str,
        now: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_PASSWORD)
            .bind(account.to_string())
            .bind(password_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(MARK_CHANGE)
            .bind(account.to_string())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let ended = sqlx::query(END_SESSIONS)
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ended)
    }

    async fn password_change_required(&self, account: AccountId) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(CHANGE_REQUIRED)
            .bind(account.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn change_password(
        &self,
        account: AccountId,
        password_hash: &str,
        keep: Option<SessionId>,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_PASSWORD)
            .bind(account.to_string())
            .bind(password_hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(CLEAR_CHANGE)
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(END_OTHER_SESSIONS)
            .bind(account.to_string())
            .bind(keep.map(|k| k.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn revoke_methods(&self, account: AccountId, event: &AuditEvent) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let revoked = sqlx::query(DELETE_METHODS)
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        sqlx::query(CLEAR_DEFAULT)
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(END_SESSIONS)
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(revoked)
    }

    async fn replace_temporary_access_pass(
        &self,
        pass: &Method,
        event: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        delete_passes(&mut tx, pass.account_id).await?;
        bulk::insert_method(&mut *tx, pass).await?;
        // Born active: no registration session that knew only the password goes on with it.
        methods::activated_on(&mut tx, &pass.account_id.to_string(), pass.id, false).await?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        // The pass is issued whether or not the messages are queued; a failure here is the
        // caller's to report, and the audit event already tells the person's activity page.
        if !notes.is_empty() {
            self.enqueue_messages(notes).await?;
        }
        Ok(())
    }

    async fn delete_temporary_access_passes(
        &self,
        account: AccountId,
        event: &AuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let deleted = delete_passes(&mut tx, account).await?;
        if deleted == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(0);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    async fn purge_temporary_access_passes(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let clear_default = format!(
            "UPDATE accounts SET default_method_id = NULL WHERE default_method_id IN \
             (SELECT id FROM methods WHERE {LAPSED})"
        );
        let delete = format!("DELETE FROM methods WHERE {LAPSED}");
        let mut tx = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(clear_default))
            .bind(PASS.as_str())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let purged = sqlx::query(sqlx::AssertSqlSafe(delete))
            .bind(PASS.as_str())
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        tx.commit().await.map_err(db_err)?;
        Ok(purged)
    }

    async fn insert_hardware_token(
        &self,
        method: &Method,
        token: &HardwareToken,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        bulk::insert_method(&mut *tx, method).await?;
        let inserted = sqlx::query(INSERT_TOKEN)
            .bind(token.serial.as_str())
            .bind(method.id.to_string())
            .bind(method.account_id.to_string())
            .bind(token.manufacturer.as_deref())
            .bind(token.model.as_deref())
            .bind(secs(token.imported_at))
            .execute(&mut *tx)
            .await;
        match inserted.map_err(db_err) {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Err(StoreError::Conflict("serial")),
            Err(e) => return Err(e),
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn hardware_token_of(&self, method: MethodId) -> StoreResult<Option<HardwareToken>> {
        let row: Option<TokenRow> = sqlx::query_as(TOKEN_OF)
            .bind(method.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(HardwareToken {
                serial: r.serial,
                manufacturer: r.manufacturer,
                model: r.model,
                imported_at: OffsetDateTime::from_unix_timestamp(r.imported_at)
                    .map_err(|_| StoreError::Corrupt("hardware_tokens.imported_at"))?,
            })
        })
        .transpose()
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        page: AuditPage,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let (sql, cursor) = match page {
            AuditPage::NewestFirst { before } => (AUDIT_NEWEST_FIRST, before),
            AuditPage::OldestFirst { after } => (AUDIT_OLDEST_FIRST, after),
        };
        sqlx::query_as::<_, EntryRow>(sql)
            .bind(filter.account.map(|a| a.to_string()))
            .bind(filter.action.map(|a| a.as_str()))
            .bind(filter.since.map(secs))
            .bind(filter.until.map(secs))
            .bind(cursor)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|row| {
                Ok(AuditEntry {
                    cursor: row.seq,
                    username: row.username,
                    event: AuditEvent::try_from(row.event)?,
                })
            })
            .collect()
    }
}

/// Deletes the account's passes (clearing the default if one was it); how many went.
async fn delete_passes(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account: AccountId,
) -> StoreResult<u64> {
    sqlx::query(CLEAR_PASS_DEFAULT)
        .bind(account.to_string())
        .bind(PASS.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(sqlx::query(DELETE_PASSES)
        .bind(account.to_string())
        .bind(PASS.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?
        .rows_affected())
}
