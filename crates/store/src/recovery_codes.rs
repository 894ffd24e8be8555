//! Methods a person holds one of, replaced as a whole, and the single use of recovery codes
//! (a bit per code in `methods.last_step`).

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::message::Message;
use tessera_core::method::Method;
use tessera_core::store::StoreResult;
use tessera_core::store::recovery_codes::RecoveryCodeStore;
use tessera_core::{MethodId, StoreError};
use time::OffsetDateTime;

use crate::rows::secs;
use crate::{SqlStore, audit, db_err, methods, outbox};

const OTHERS_OF_KIND: &str =
    "SELECT id FROM methods WHERE account_id = $1 AND kind = $2 AND id <> $3";

const DELETE: &str = "DELETE FROM methods WHERE id = $1";

const MOVE_DEFAULT: &str =
    "UPDATE accounts SET default_method_id = $3 WHERE id = $1 AND default_method_id = $2";

/// Sets the code's bit only while it is clear: of two nodes accepting the same code, one
/// changes the row. A right code also clears the failures counted in advance.
const USE_CODE: &str = "UPDATE methods SET last_step = COALESCE(last_step, 0) | $2, \
     last_used_at = $3, failures = 0, locked_until = NULL \
     WHERE id = $1 AND (COALESCE(last_step, 0) & $2) = 0";

#[async_trait]
impl RecoveryCodeStore for SqlStore {
    async fn replace_methods_of_kind(
        &self,
        method: &Method,
        event: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<Vec<MethodId>> {
        let mut tx = self.begin_write().await?;
        let old: Vec<String> = sqlx::query_scalar(OTHERS_OF_KIND)
            .bind(method.account_id.to_string())
            .bind(method.kind.as_str())
            .bind(method.id.to_string())
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        methods::insert_on(&mut *tx, method).await?;
        for id in &old {
            sqlx::query(DELETE)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query(MOVE_DEFAULT)
                .bind(method.account_id.to_string())
                .bind(id.as_str())
                .bind(method.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        // Born active: what follows an activation follows here too.
        methods::activated_on(&mut tx, &method.account_id.to_string(), method.id, false).await?;
        audit::insert(&mut *tx, event).await?;
        outbox::insert_messages(&mut tx, notes).await?;
        tx.commit().await.map_err(db_err)?;
        if !notes.is_empty() {
            self.outbox_wake().notify_one();
        }
        old.iter()
            .map(|id| id.parse().map_err(|_| StoreError::Corrupt("methods.id")))
            .collect()
    }

    async fn use_recovery_code(
        &self,
        method: MethodId,
        bit: i64,
        now: OffsetDateTime,
        event: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(USE_CODE)
            .bind(method.to_string())
            .bind(bit)
            .bind(secs(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if used == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        outbox::insert_messages(&mut tx, notes).await?;
        tx.commit().await.map_err(db_err)?;
        if !notes.is_empty() {
            self.outbox_wake().notify_one();
        }
        Ok(true)
    }
}
