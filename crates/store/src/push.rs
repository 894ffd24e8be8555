//! Authenticator apps activated for notifications: their devices and the push requests sent
//! to them (migration 0003).
//!
//! Each decision is one conditional statement whose row count decides: an activation spends
//! the code only while it is unspent and current, an answer moves a request only out of
//! `pending`, and its effects (core's, applied by `effects`) touch the flow, session or
//! method only from the state core expects; an effect that must apply and does not rolls the
//! whole answer back.

use async_trait::async_trait;
use sqlx::{Any, Transaction};
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::Effect;
use tessera_core::method::Method;
use tessera_core::method::authenticator_app::push::PushMove;
use tessera_core::store::StoreResult;
use tessera_core::store::push::{
    Device, DeviceActivation, PushAnswer, PushRefused, PushRequest, PushStatus, PushStore,
    PushSubscription, binding_key, device_key,
};
use tessera_core::{MethodId, PushRequestId, StoreError};
use time::{Duration, OffsetDateTime};

use crate::rows::{id, secs, time};
use crate::{Dialect, SqlStore, audit, db_err, effects, push_devices, push_wakeups};

/// Serializes the requests of one account on PostgreSQL (SQLite has one writer anyway), so
/// two at once cannot both slip under the limit.
const LOCK_ACCOUNT: &str = "UPDATE accounts SET id = id WHERE id = $1";

/// A password reset's requests are left out: they have a budget of their own (core's
/// `flow::reset`), so a stranger's resets cannot use up the person's sign-in notifications.
const COUNT_RECENT: &str = "SELECT COUNT(*) FROM push_requests \
     WHERE account_id = $1 AND created_at > $2 AND purpose <> 'reset'";

const OLDEST_RECENT: &str = "SELECT MIN(created_at) FROM push_requests \
     WHERE account_id = $1 AND created_at > $2 AND purpose <> 'reset'";

const SUPERSEDE: &str = "UPDATE push_requests SET status = $4, answered_at = $3 \
     WHERE purpose = $1 AND binding = $2 AND status = $5";

/// Old answered and expired requests go when the account sends a new one.
const FORGET_OLD: &str = "DELETE FROM push_requests WHERE account_id = $1 AND expires_at < $2";

const INSERT_REQUEST: &str = "INSERT INTO push_requests \
     (id, method_id, account_id, purpose, binding, number, status, app, ip, user_agent, \
      created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub(crate) const SELECT_REQUEST: &str = "SELECT id, method_id, account_id, purpose, binding, number, \
     status, app, ip, user_agent, created_at, expires_at, answered_at FROM push_requests";

/// One answer per request: the first to move it out of `pending` wins; `$2` is where core's
/// `push::next` takes it.
const ANSWER: &str = "UPDATE push_requests SET status = $2, answered_at = $3 \
     WHERE id = $1 AND status = $4 AND expires_at > $3 \
     RETURNING method_id, binding";

/// Claims the wake-up of new requests, only for a device that asked for wake-ups.
const CLAIM_WAKEUP: &str = "UPDATE push_requests SET woken = 1 \
     WHERE method_id = $1 AND status = $3 AND woken = 0 AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM push_devices d \
                 WHERE d.method_id = push_requests.method_id AND d.wakeup_url IS NOT NULL)";

const WAKEUP_URL: &str = "SELECT wakeup_url FROM push_devices WHERE method_id = $1";

const NOTIFY: &str = "SELECT pg_notify($1, $2)";

#[derive(sqlx::FromRow)]
pub(crate) struct RequestRow {
    id: String,
    method_id: String,
    account_id: String,
    purpose: String,
    binding: String,
    number: i64,
    status: String,
    app: String,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: i64,
    expires_at: i64,
    answered_at: Option<i64>,
}

impl TryFrom<RequestRow> for PushRequest {
    type Error = StoreError;

    fn try_from(row: RequestRow) -> StoreResult<PushRequest> {
        Ok(PushRequest {
            id: id(&row.id, "push_requests.id")?,
            method_id: id(&row.method_id, "push_requests.method_id")?,
            account_id: id(&row.account_id, "push_requests.account_id")?,
            purpose: row.purpose,
            binding: row.binding,
            number: u8::try_from(row.number)
                .map_err(|_| StoreError::Corrupt("push_requests.number"))?,
            status: PushStatus::parse(&row.status)
                .ok_or(StoreError::Corrupt("push_requests.status"))?,
            app: row.app,
            ip: row.ip,
            user_agent: row.user_agent,
            created_at: time(row.created_at, "push_requests.created_at")?,
            expires_at: time(row.expires_at, "push_requests.expires_at")?,
            answered_at: row
                .answered_at
                .map(|t| time(t, "push_requests.answered_at"))
                .transpose()?,
        })
    }
}

impl SqlStore {
    /// Makes `keys` heard by their waiters: inside the transaction on PostgreSQL (delivered
    /// at commit), after it on SQLite (see [`SqlStore::woken`]).
    pub(crate) async fn notify(
        &self,
        tx: &mut Transaction<'static, Any>,
        keys: &[String],
    ) -> StoreResult<()> {
        if self.dialect() != Dialect::Postgres {
            return Ok(());
        }
        for key in keys {
            sqlx::query(NOTIFY)
                .bind(push_wakeups::CHANNEL)
                .bind(key.as_str())
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// After a commit on SQLite: the in-process half of [`SqlStore::notify`].
    pub(crate) fn woken(&self, keys: &[String]) {
        if self.dialect() == Dialect::Sqlite {
            for key in keys {
                self.push_hub().wake(key);
            }
        }
    }

    pub(crate) async fn insert_request_on(
        tx: &mut Transaction<'static, Any>,
        request: &PushRequest,
    ) -> StoreResult<()> {
        let superseded = PushMove::superseded();
        sqlx::query(SUPERSEDE)
            .bind(request.purpose.as_str())
            .bind(request.binding.as_str())
            .bind(secs(request.created_at))
            .bind(superseded.to.as_str())
            .bind(superseded.from.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        sqlx::query(INSERT_REQUEST)
            .bind(request.id.to_string())
            .bind(request.method_id.to_string())
            .bind(request.account_id.to_string())
            .bind(request.purpose.as_str())
            .bind(request.binding.as_str())
            .bind(i64::from(request.number))
            .bind(request.status.as_str())
            .bind(request.app.as_str())
            .bind(request.ip.as_deref())
            .bind(request.user_agent.as_deref())
            .bind(secs(request.created_at))
            .bind(secs(request.expires_at))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait]
impl PushStore for SqlStore {
    async fn insert_app_method(
        &self,
        method: &Method,
        device: &Device,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        push_devices::insert_app_method(self, method, device, event).await
    }

    async fn device(&self, method: MethodId) -> StoreResult<Option<Device>> {
        push_devices::device(self, method).await
    }

    async fn device_by_activation(&self, hash: &[u8]) -> StoreResult<Option<Device>> {
        push_devices::device_by_activation(self, hash).await
    }

    async fn device_by_credential(&self, hash: &[u8]) -> StoreResult<Option<Device>> {
        push_devices::device_by_credential(self, hash).await
    }

    async fn activate_device(
        &self,
        activation: &DeviceActivation,
        test: &PushRequest,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        push_devices::activate_device(self, activation, test, events).await
    }

    async fn set_wakeup_url(&self, method: MethodId, url: Option<&str>) -> StoreResult<()> {
        push_devices::set_wakeup_url(self, method, url).await
    }

    async fn insert_push_request(
        &self,
        request: &PushRequest,
        max: u32,
        since: OffsetDateTime,
        event: &AuditEvent,
    ) -> StoreResult<Result<(), PushRefused>> {
        let account = request.account_id.to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query(LOCK_ACCOUNT)
            .bind(account.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let recent: i64 = sqlx::query_scalar(COUNT_RECENT)
            .bind(account.as_str())
            .bind(secs(since))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        if recent >= i64::from(max) {
            let oldest: Option<i64> = sqlx::query_scalar(OLDEST_RECENT)
                .bind(account.as_str())
                .bind(secs(since))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.rollback().await.map_err(db_err)?;
            let window = request.created_at - since;
            let until = match oldest {
                Some(t) => time(t, "push_requests.created_at")? + window,
                None => request.created_at + window,
            };
            return Ok(Err(PushRefused::TooMany { until }));
        }
        sqlx::query(FORGET_OLD)
            .bind(account.as_str())
            .bind(secs(request.created_at - Duration::days(2)))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        Self::insert_request_on(&mut tx, request).await?;
        audit::insert(&mut *tx, event).await?;
        let keys = [device_key(request.method_id)];
        self.notify(&mut tx, &keys).await?;
        tx.commit().await.map_err(db_err)?;
        self.woken(&keys);
        Ok(Ok(()))
    }

    async fn push_request(&self, id: PushRequestId) -> StoreResult<Option<PushRequest>> {
        sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT_REQUEST} WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .map(PushRequest::try_from)
        .transpose()
    }

    async fn pending_push_requests(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<PushRequest>> {
        sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT_REQUEST} WHERE method_id = $1 AND status = $2 AND expires_at > $3 \
             ORDER BY created_at, id"
        )))
        .bind(method.to_string())
        .bind(PushStatus::Pending.as_str())
        .bind(secs(now))
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(PushRequest::try_from)
        .collect()
    }

    async fn latest_push_request(
        &self,
        purpose: &str,
        binding: &str,
    ) -> StoreResult<Option<PushRequest>> {
        // Of requests made in the same second, the one still pending is the newest (a new
        // one expires the ones before it).
        sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT_REQUEST} WHERE purpose = $1 AND binding = $2 \
             ORDER BY created_at DESC, CASE WHEN status = $3 THEN 0 ELSE 1 END, \
             answered_at DESC LIMIT 1"
        )))
        .bind(purpose)
        .bind(binding)
        .bind(PushStatus::Pending.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(db_err)?
        .map(PushRequest::try_from)
        .transpose()
    }

    async fn answer_push_request(
        &self,
        answer: &PushAnswer,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let now = secs(answer.at);
        let mut tx = self.begin_write().await?;
        let moved: Option<(String, String)> = sqlx::query_as(ANSWER)
            .bind(answer.request.to_string())
            .bind(answer.status.as_str())
            .bind(now)
            .bind(PushStatus::Pending.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some((method, binding)) = moved else {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        };
        if !effects::apply(&mut tx, &answer.effects).await? {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        for event in events {
            audit::insert(&mut *tx, event).await?;
        }
        let method: MethodId = id(&method, "push_requests.method_id")?;
        let keys = [binding_key(&binding), device_key(method)];
        self.notify(&mut tx, &keys).await?;
        self.commit_waking(tx, Effect::any_notes(&answer.effects))
            .await?;
        self.woken(&keys);
        Ok(true)
    }

    async fn claim_wakeup(
        &self,
        method: MethodId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<String>> {
        let claimed = sqlx::query(CLAIM_WAKEUP)
            .bind(method.to_string())
            .bind(secs(now))
            .bind(PushStatus::Pending.as_str())
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let url: Option<Option<String>> = sqlx::query_scalar(WAKEUP_URL)
            .bind(method.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        Ok(url.flatten())
    }

    fn push_subscribe(&self) -> Box<dyn PushSubscription> {
        self.push_hub().subscribe()
    }
}
