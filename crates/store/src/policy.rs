//! The policy, a single JSON value in `settings`, and what it enforces at sign-in: the skips
//! of the registration interrupt a person used (migration 0005).

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::{Effect, FlowMove};
use tessera_core::policy::Policy;
use tessera_core::store::StoreResult;
use tessera_core::store::policy::PolicyStore;
use tessera_core::{AccountId, StoreError};

use crate::rows::to_json;
use crate::{SqlStore, audit, db_err, effects};

const POLICY_KEY: &str = "policy";
const SETTING: &str = "SELECT value FROM settings WHERE key = $1";
const SAVE_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

const SKIPS: &str = "SELECT skips FROM registration_skips WHERE account_id = $1";

/// Counts a skip only while fewer than `$2` were used; no row comes back otherwise.
const COUNT_SKIP: &str = "INSERT INTO registration_skips (account_id, skips) VALUES ($1, 1) \
     ON CONFLICT (account_id) DO UPDATE SET skips = registration_skips.skips + 1 \
     WHERE registration_skips.skips < $2 \
     RETURNING skips";

#[async_trait]
impl PolicyStore for SqlStore {
    async fn policy(&self) -> StoreResult<Option<Policy>> {
        let json: Option<String> = sqlx::query_scalar(SETTING)
            .bind(POLICY_KEY)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        json.map(|j| serde_json::from_str(&j).map_err(|_| StoreError::Corrupt("settings.policy")))
            .transpose()
    }

    async fn save_policy(&self, policy: &Policy, event: &AuditEvent) -> StoreResult<()> {
        let json = to_json(policy)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(SAVE_SETTING)
            .bind(POLICY_KEY)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn registration_skips(&self, account: AccountId) -> StoreResult<u32> {
        let skips: Option<i64> = sqlx::query_scalar(SKIPS)
            .bind(account.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        u32::try_from(skips.unwrap_or(0))
            .map_err(|_| StoreError::Corrupt("registration_skips.skips"))
    }

    async fn skip_registration(
        &self,
        change: &FlowMove,
        account: AccountId,
        allowed: u32,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        if allowed == 0 {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let moved = effects::apply(&mut tx, &[Effect::MoveFlow(change.clone())]).await?;
        let counted: Option<i64> = if !moved {
            None
        } else {
            sqlx::query_scalar(COUNT_SKIP)
                .bind(account.to_string())
                .bind(i64::from(allowed))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
        };
        if counted.is_none() {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
