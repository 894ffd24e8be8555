//! Methods (security info): registration, activation, the default, deletion. The code
//! attempts against one are `lockout`'s.

use async_trait::async_trait;
use tessera_core::audit::AuditEvent;
use tessera_core::lockout::AttemptGate;
use tessera_core::method::{Method, MethodStatus};
use tessera_core::session::SessionKind;
use tessera_core::store::StoreResult;
use tessera_core::store::methods::{Acceptance, Accepted, MethodStore, Refused};
use tessera_core::{AccountId, MethodId};
use time::OffsetDateTime;

use crate::rows::{MethodRow, secs, secs_opt, to_json};
use crate::{SqlStore, audit, db_err, lockout};

pub(crate) const INSERT: &str = "INSERT INTO methods \
     (id, account_id, kind, status, name, data, sealed_secret, created_at, last_used_at, \
      expires_at, last_step, failures, locked_until, registered_by, way) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

pub(crate) const SELECT_BY_ID: &str = "SELECT id, account_id, kind, status, name, data, sealed_secret, \
     created_at, last_used_at, expires_at, last_step, failures, locked_until, registered_by, \
     way FROM methods WHERE id = $1";

pub(crate) const SELECT_OF_ACCOUNT: &str = "SELECT id, account_id, kind, status, name, data, \
     sealed_secret, created_at, last_used_at, expires_at, last_step, failures, locked_until, \
     registered_by, way FROM methods WHERE account_id = $1 ORDER BY created_at, id";

/// Pending → active, deciding in one statement: a second activation, a lapsed registration
/// or a step at or below the last accepted one changes no row. A new proof also clears the
/// failures that `begin_attempt` counted in advance. The session that proves it (`$6`, when
/// one does) becomes the one that registered it: an imported token is the prover's.
pub(crate) const ACTIVATE: &str = "UPDATE methods SET status = $4, expires_at = NULL, \
     last_step = COALESCE($2, last_step), failures = 0, locked_until = NULL, \
     registered_by = COALESCE($6, registered_by) \
     WHERE id = $1 AND status = $5 AND (expires_at IS NULL OR expires_at > $3) \
     AND ($2 IS NULL OR last_step IS NULL OR last_step < $2) \
     RETURNING account_id";

pub(crate) const SET_DEFAULT: &str = "UPDATE accounts SET default_method_id = $2 WHERE id = $1";

/// How the default asks first; the account's own methods only.
pub(crate) const SET_WAY: &str = "UPDATE methods SET way = $3 WHERE id = $2 AND account_id = $1";

/// Every registration session of the account but the one that registered the method: once
/// the account has an active method, a session that knew only the password must not go on
/// to complete with it (issue #12).
pub(crate) const END_OTHER_REGISTRATIONS: &str = "DELETE FROM sessions WHERE account_id = $1 AND kind = $2 \
     AND id <> COALESCE((SELECT registered_by FROM methods WHERE id = $3), '')";

pub(crate) const DELETE: &str = "DELETE FROM methods WHERE id = $1 AND account_id = $2";

pub(crate) const MOVE_DEFAULT: &str = "UPDATE accounts SET default_method_id = $3 \
     WHERE id = $2 AND default_method_id = $1";

const DELETE_EXPIRED_PENDING: &str =
    "DELETE FROM methods WHERE status = $1 AND expires_at IS NOT NULL AND expires_at <= $2";

#[async_trait]
impl MethodStore for SqlStore {
    async fn insert_method(&self, method: &Method, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_on(&mut *tx, method).await?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn method(&self, id: MethodId) -> StoreResult<Option<Method>> {
        if let Some(lite) = self.lite() {
            return lite.read(|conn| crate::lite::reads::method(conn, id));
        }
        sqlx::query_as::<_, MethodRow>(SELECT_BY_ID)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(Method::try_from)
            .transpose()
    }

    async fn methods_of(&self, account: AccountId) -> StoreResult<Vec<Method>> {
        if let Some(lite) = self.lite() {
            return lite.read(|conn| crate::lite::reads::methods_of(conn, account));
        }
        sqlx::query_as::<_, MethodRow>(SELECT_OF_ACCOUNT)
            .bind(account.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(Method::try_from)
            .collect()
    }

    async fn activate_method(
        &self,
        id: MethodId,
        step: Option<i64>,
        now: OffsetDateTime,
        make_default: bool,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let account: Option<String> = sqlx::query_scalar(ACTIVATE)
            .bind(id.to_string())
            .bind(step)
            .bind(secs(now))
            .bind(MethodStatus::Active.as_str())
            .bind(MethodStatus::Pending.as_str())
            .bind(None::<String>)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(account) = account else {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        };
        activated_on(&mut tx, &account, id, make_default).await?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_method(
        &self,
        account: AccountId,
        id: MethodId,
        new_default: Option<MethodId>,
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
        sqlx::query(MOVE_DEFAULT)
            .bind(id.to_string())
            .bind(account.to_string())
            .bind(new_default.map(|m| m.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_expired_pending(&self, now: OffsetDateTime) -> StoreResult<u64> {
        Ok(sqlx::query(DELETE_EXPIRED_PENDING)
            .bind(MethodStatus::Pending.as_str())
            .bind(secs(now))
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected())
    }
    async fn set_default_method(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_DEFAULT)
            .bind(account.to_string())
            .bind(method.map(|id| id.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn begin_attempt(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
    ) -> StoreResult<AttemptGate> {
        lockout::begin_attempt(self, id, now, threshold).await
    }

    async fn record_failure(
        &self,
        id: MethodId,
        threshold: u32,
        lock_until: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<Option<OffsetDateTime>> {
        lockout::record_failure(self, id, threshold, lock_until, event).await
    }

    async fn accept(&self, acceptance: &Acceptance<'_>) -> StoreResult<Accepted> {
        lockout::accept(self, acceptance).await
    }

    async fn refuse(
        &self,
        id: MethodId,
        now: OffsetDateTime,
        threshold: u32,
        lock_until: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<Refused> {
        let refusal = lockout::Refusal {
            method: id,
            now,
            threshold,
            lock_until,
            audit: event.clone(),
        };
        lockout::refuse(self, refusal).await
    }
}

/// Inserts a method inside the caller's transaction (a kind that stores more with it).
pub(crate) async fn insert_on<'c, E>(exec: E, method: &Method) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let data = to_json(&method.data)?;
    sqlx::query(INSERT)
        .bind(method.id.to_string())
        .bind(method.account_id.to_string())
        .bind(method.kind.as_str())
        .bind(method.status.as_str())
        .bind(method.name.as_deref())
        .bind(data)
        .bind(method.sealed_secret.as_deref())
        .bind(secs(method.created_at))
        .bind(secs_opt(method.last_used_at))
        .bind(secs_opt(method.expires_at))
        .bind(method.last_step)
        .bind(i64::from(method.failures))
        .bind(secs_opt(method.locked_until))
        .bind(method.registered_by.map(|s| s.to_string()))
        .bind(method.way.map(|w| w.as_str()))
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// What follows a method's activation in the same transaction: the default when asked, and
/// the end of every other registration session of its account.
pub(crate) async fn activated_on(
    conn: &mut sqlx::AnyConnection,
    account: &str,
    id: MethodId,
    make_default: bool,
) -> StoreResult<()> {
    if make_default {
        sqlx::query(SET_DEFAULT)
            .bind(account)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    sqlx::query(END_OTHER_REGISTRATIONS)
        .bind(account)
        .bind(SessionKind::Registration.as_str())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}
