//! The audit log, append-only.

use async_trait::async_trait;
use sqlx::{Any, Executor};
use tessera_core::AccountId;
use tessera_core::audit::AuditEvent;
use tessera_core::store::StoreResult;
use tessera_core::store::audit::AuditStore;

use crate::rows::{AuditRow, secs};
use crate::{SqlStore, db_err};

const INSERT: &str = "INSERT INTO audit_events \
     (id, at, account_id, action, method_id, ip, user_agent, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// `seq` breaks ties within a second in the order the events were written.
const OF_ACCOUNT: &str = "SELECT id, at, account_id, action, method_id, ip, user_agent, detail \
     FROM audit_events WHERE account_id = $1 ORDER BY at DESC, seq DESC LIMIT $2";

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        insert(self.writer(), event).await
    }

    async fn audit_of(&self, account: AccountId, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        sqlx::query_as::<_, AuditRow>(OF_ACCOUNT)
            .bind(account.to_string())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(AuditEvent::try_from)
            .collect()
    }
}

/// Appends one event, on the pool or inside the caller's transaction.
pub(crate) async fn insert<'c, E>(exec: E, event: &AuditEvent) -> StoreResult<()>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query(INSERT)
        .bind(event.id.to_string())
        .bind(secs(event.at))
        .bind(event.account_id.map(|id| id.to_string()))
        .bind(event.action.as_str())
        .bind(event.method_id.map(|id| id.to_string()))
        .bind(event.ip.as_deref())
        .bind(event.user_agent.as_deref())
        .bind(event.detail.to_string())
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}
