//! The audit log (append-only) and the policy, a single JSON value in `settings`.

use sqlx::{Any, Executor};
use tessera_core::audit::AuditEvent;
use tessera_core::policy::Policy;
use tessera_core::store::StoreResult;
use tessera_core::{AccountId, StoreError};

use crate::rows::{AuditRow, secs, to_json};
use crate::{SqlStore, db_err};

const INSERT: &str = "INSERT INTO audit_events \
     (id, at, account_id, action, method_id, ip, user_agent, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// `seq` breaks ties within a second in the order the events were written.
const OF_ACCOUNT: &str = "SELECT id, at, account_id, action, method_id, ip, user_agent, detail \
     FROM audit_events WHERE account_id = $1 ORDER BY at DESC, seq DESC LIMIT $2";

const POLICY_KEY: &str = "policy";
const SETTING: &str = "SELECT value FROM settings WHERE key = $1";
const SAVE_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

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

pub(crate) async fn of_account(
    store: &SqlStore,
    account: AccountId,
    limit: u32,
) -> StoreResult<Vec<AuditEvent>> {
    sqlx::query_as::<_, AuditRow>(OF_ACCOUNT)
        .bind(account.to_string())
        .bind(i64::from(limit))
        .fetch_all(store.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(AuditEvent::try_from)
        .collect()
}

pub(crate) async fn policy(store: &SqlStore) -> StoreResult<Option<Policy>> {
    let json: Option<String> = sqlx::query_scalar(SETTING)
        .bind(POLICY_KEY)
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?;
    json.map(|j| serde_json::from_str(&j).map_err(|_| StoreError::Corrupt("settings.policy")))
        .transpose()
}

pub(crate) async fn save_policy(
    store: &SqlStore,
    policy: &Policy,
    audit: &AuditEvent,
) -> StoreResult<()> {
    let json = to_json(policy)?;
    let mut tx = store.begin_write().await?;
    sqlx::query(SAVE_SETTING)
        .bind(POLICY_KEY)
        .bind(json)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    insert(&mut *tx, audit).await?;
    tx.commit().await.map_err(db_err)
}
