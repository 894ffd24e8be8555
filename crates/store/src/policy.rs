//! What the policy enforces at sign-in: the registration interrupt after a second factor, and
//! the skips of it a person used (migration 0005).

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::FlowState;
use tessera_core::session::Session;
use tessera_core::store::StoreResult;
use tessera_core::store::policy::PolicyStore;
use tessera_core::{AccountId, FlowId, SessionId, StoreError};

use crate::rows::secs;
use crate::sessions::insert_session_on;
use crate::{SqlStore, audit, db_err};

/// The flow's one way on: whoever moves it from `$2` wins, every rival changes no row.
const MOVE_FLOW: &str = "UPDATE sign_in_flows SET state = $3 WHERE id = $1 AND state = $2";

/// On to registration, which gets the flow's own lifetime anew: `$4` is the end of the
/// registration session, which ends with the flow.
const TO_REGISTRATION: &str = "UPDATE sign_in_flows SET state = $3, expires_at = $4 \
     WHERE id = $1 AND state = $2";

const SKIPS: &str = "SELECT skips FROM registration_skips WHERE account_id = $1";

/// Counts a skip only while fewer than `$2` were used; no row comes back otherwise.
const COUNT_SKIP: &str = "INSERT INTO registration_skips (account_id, skips) VALUES ($1, 1) \
     ON CONFLICT (account_id) DO UPDATE SET skips = registration_skips.skips + 1 \
     WHERE registration_skips.skips < $2 \
     RETURNING skips";

const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

#[async_trait]
impl PolicyStore for SqlStore {
    async fn continue_to_registration(
        &self,
        flow: FlowId,
        from: FlowState,
        session: &Session,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(TO_REGISTRATION)
            .bind(flow.to_string())
            .bind(from.as_str())
            .bind(FlowState::Registration.as_str())
            .bind(secs(session.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if moved == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        insert_session_on(&mut *tx, session).await?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
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
        flow: FlowId,
        account: AccountId,
        allowed: u32,
        session: &Session,
        revoke: SessionId,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        if allowed == 0 {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(MOVE_FLOW)
            .bind(flow.to_string())
            .bind(FlowState::Registration.as_str())
            .bind(FlowState::Completed.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        let counted: Option<i64> = if moved == 0 {
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
        insert_session_on(&mut *tx, session).await?;
        sqlx::query(DELETE_SESSION)
            .bind(revoke.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
