//! The outbox: texts, calls and emails waiting to be sent (core's `DeliveryStore`, the
//! message half; challenges are in `delivery`).
//!
//! Workers claim due messages with a lease in one conditional `UPDATE … RETURNING`; on
//! PostgreSQL the candidates are picked `FOR UPDATE SKIP LOCKED`, so several nodes claim
//! different messages instead of queueing behind each other, and the lease (re-checked in the
//! outer `WHERE`) means no message is ever held by two of them.

use sqlx::Any;
use tessera_core::message::{Channel, Message, MessageStatus, Topic};
use tessera_core::store::StoreResult;
use tessera_core::store::delivery::{SendCount, SendCounts};
use tessera_core::{AccountId, MessageId, StoreError};
use time::OffsetDateTime;

use crate::rows::{corrupt, id, secs, secs_opt, time};
use crate::{Dialect, SqlStore, db_err};

const MESSAGE_COLUMNS: &str = "id, account_id, channel, topic, destination, extension, locale, \
     payload, challenge_id, status, attempts, next_attempt_at, created_at, sent_at, note";

pub(crate) const INSERT_MESSAGE: &str = "INSERT INTO outbox (id, account_id, channel, topic, destination, \
     extension, locale, payload, challenge_id, status, attempts, next_attempt_at, created_at, \
     sent_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// The sign-in's budgets (everything but a password reset's codes, which have a budget of
/// their own in core's `flow::reset`: a stranger's resets cannot use up the person's texts).
const COUNT_ACCOUNT: &str = "SELECT COUNT(*), MIN(created_at) FROM outbox \
     WHERE account_id = $1 AND topic = 'code' AND created_at > $2 AND NOT EXISTS \
     (SELECT 1 FROM challenges c WHERE c.id = outbox.challenge_id AND c.purpose = 'reset')";
const COUNT_DESTINATION: &str = "SELECT COUNT(*), MIN(created_at) FROM outbox \
     WHERE destination = $1 AND topic = 'code' AND created_at > $2 AND NOT EXISTS \
     (SELECT 1 FROM challenges c WHERE c.id = outbox.challenge_id AND c.purpose = 'reset')";
const COUNT_GLOBAL: &str = "SELECT COUNT(*), MIN(created_at) FROM outbox \
     WHERE topic = 'code' AND created_at > $1";

/// Claims due messages queued (`$5`) or whose lease lapsed while sending (`$4`).
const CLAIM_SQLITE: &str = "UPDATE outbox SET status = $4, lease_until = $2, \
     attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE status IN ($5, $4) \
         AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
         ORDER BY next_attempt_at LIMIT $3) \
     AND status IN ($5, $4) AND (lease_until IS NULL OR lease_until <= $1) \
     RETURNING id, account_id, channel, topic, destination, extension, locale, payload, \
     challenge_id, status, attempts, next_attempt_at, created_at, sent_at, note";

const CLAIM_POSTGRES: &str = "UPDATE outbox SET status = $4, lease_until = $2, \
     attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE status IN ($5, $4) \
         AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
     AND status IN ($5, $4) AND (lease_until IS NULL OR lease_until <= $1) \
     RETURNING id, account_id, channel, topic, destination, extension, locale, payload, \
     challenge_id, status, attempts, next_attempt_at, created_at, sent_at, note";

const SENT: &str = "UPDATE outbox SET status = $2, sent_at = $3, lease_until = NULL, \
     note = $4, payload = CASE WHEN $5 = 1 THEN payload ELSE NULL END WHERE id = $1";
const RETRY: &str = "UPDATE outbox SET status = $4, lease_until = NULL, \
     next_attempt_at = $2, note = $3 WHERE id = $1";
const GAVE_UP: &str = "UPDATE outbox SET status = $3, lease_until = NULL, payload = NULL, \
     note = $2 WHERE id = $1";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    account_id: Option<String>,
    channel: String,
    topic: String,
    destination: String,
    extension: Option<String>,
    locale: String,
    payload: Option<Vec<u8>>,
    challenge_id: Option<String>,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    created_at: i64,
    sent_at: Option<i64>,
    note: Option<String>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;

    fn try_from(r: MessageRow) -> StoreResult<Message> {
        Ok(Message {
            id: id(&r.id, "outbox.id")?,
            account_id: r
                .account_id
                .map(|a| id(&a, "outbox.account_id"))
                .transpose()?,
            channel: Channel::parse(&r.channel).ok_or(corrupt("outbox.channel"))?,
            topic: Topic::parse(&r.topic).ok_or(corrupt("outbox.topic"))?,
            to: r.destination,
            extension: r.extension,
            locale: r.locale,
            payload: r.payload,
            challenge_id: r
                .challenge_id
                .map(|c| id(&c, "outbox.challenge_id"))
                .transpose()?,
            status: MessageStatus::parse(&r.status).ok_or(corrupt("outbox.status"))?,
            attempts: u32::try_from(r.attempts).map_err(|_| corrupt("outbox.attempts"))?,
            next_attempt_at: time(r.next_attempt_at, "outbox.next_attempt_at")?,
            created_at: time(r.created_at, "outbox.created_at")?,
            sent_at: r.sent_at.map(|s| time(s, "outbox.sent_at")).transpose()?,
            note: r.note,
        })
    }
}

/// Queues messages inside the caller's transaction.
pub(crate) async fn insert_messages(
    conn: &mut sqlx::AnyConnection,
    messages: &[Message],
) -> StoreResult<()> {
    for m in messages {
        sqlx::query(INSERT_MESSAGE)
            .bind(m.id.to_string())
            .bind(m.account_id.map(|a| a.to_string()))
            .bind(m.channel.as_str())
            .bind(m.topic.as_str())
            .bind(m.to.as_str())
            .bind(m.extension.as_deref())
            .bind(m.locale.as_str())
            .bind(m.payload.as_deref())
            .bind(m.challenge_id.map(|c| c.to_string()))
            .bind(m.status.as_str())
            .bind(i64::from(m.attempts))
            .bind(secs(m.next_attempt_at))
            .bind(secs(m.created_at))
            .bind(secs_opt(m.sent_at))
            .bind(m.note.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

impl SqlStore {
    /// Commits, then wakes this node's worker when messages were queued.
    pub(crate) async fn commit_waking(
        &self,
        tx: sqlx::Transaction<'static, Any>,
        queued: bool,
    ) -> StoreResult<()> {
        tx.commit().await.map_err(db_err)?;
        if queued {
            self.outbox_wake().notify_one();
        }
        Ok(())
    }

    pub(crate) async fn count(
        &self,
        sql: &'static str,
        key: Option<&str>,
        since: i64,
    ) -> StoreResult<SendCount> {
        let query = sqlx::query_as::<_, (i64, Option<i64>)>(sql);
        let query = match key {
            Some(key) => query.bind(key.to_string()).bind(since),
            None => query.bind(since),
        };
        let (count, oldest) = query.fetch_one(self.pool()).await.map_err(db_err)?;
        Ok(SendCount {
            count: u64::try_from(count).unwrap_or(0),
            oldest: oldest.map(|o| time(o, "outbox.created_at")).transpose()?,
        })
    }
}

pub(crate) async fn send_counts(
    store: &SqlStore,
    account: AccountId,
    destination: &str,
    hour_ago: OffsetDateTime,
    minute_ago: OffsetDateTime,
) -> StoreResult<SendCounts> {
    let account = account.to_string();
    Ok(SendCounts {
        account: store
            .count(COUNT_ACCOUNT, Some(&account), secs(hour_ago))
            .await?,
        destination: store
            .count(COUNT_DESTINATION, Some(destination), secs(hour_ago))
            .await?,
        global: store.count(COUNT_GLOBAL, None, secs(minute_ago)).await?,
    })
}

pub(crate) async fn enqueue_messages(store: &SqlStore, messages: &[Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    insert_messages(&mut tx, messages).await?;
    store.commit_waking(tx, true).await
}

pub(crate) async fn claim_messages(
    store: &SqlStore,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let sql = match store.dialect() {
        Dialect::Sqlite => CLAIM_SQLITE,
        Dialect::Postgres => CLAIM_POSTGRES,
    };
    let mut tx = store.begin_write().await?;
    let rows = sqlx::query_as::<_, MessageRow>(sql)
        .bind(secs(now))
        .bind(secs(lease_until))
        .bind(i64::from(limit))
        .bind(MessageStatus::Sending.as_str())
        .bind(MessageStatus::Queued.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    rows.into_iter().map(Message::try_from).collect()
}

pub(crate) async fn message_sent(
    store: &SqlStore,
    mid: MessageId,
    now: OffsetDateTime,
    keep: bool,
    note: Option<&str>,
) -> StoreResult<()> {
    let status = if keep {
        MessageStatus::Kept
    } else {
        MessageStatus::Sent
    };
    sqlx::query(SENT)
        .bind(mid.to_string())
        .bind(status.as_str())
        .bind(secs(now))
        .bind(note)
        .bind(i64::from(keep))
        .execute(store.writer())
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn message_retry(
    store: &SqlStore,
    mid: MessageId,
    next_at: OffsetDateTime,
    note: &str,
) -> StoreResult<()> {
    sqlx::query(RETRY)
        .bind(mid.to_string())
        .bind(secs(next_at))
        .bind(note.to_string())
        .bind(MessageStatus::Queued.as_str())
        .execute(store.writer())
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn message_failed(
    store: &SqlStore,
    mid: MessageId,
    note: &str,
) -> StoreResult<()> {
    sqlx::query(GAVE_UP)
        .bind(mid.to_string())
        .bind(note.to_string())
        .bind(MessageStatus::Failed.as_str())
        .execute(store.writer())
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn message(store: &SqlStore, mid: MessageId) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE id = $1");
    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql))
        .bind(mid.to_string())
        .fetch_optional(store.pool())
        .await
        .map_err(db_err)?
        .map(Message::try_from)
        .transpose()
}

pub(crate) async fn recent_messages(store: &SqlStore, limit: u32) -> StoreResult<Vec<Message>> {
    // `created_at` has whole seconds: within one, the order of insertion says which is newer
    // (migration 0010: SQLite's `rowid`, PostgreSQL's `seq`).
    let inserted = match store.dialect() {
        Dialect::Sqlite => "rowid",
        Dialect::Postgres => "seq",
    };
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM outbox ORDER BY created_at DESC, {inserted} DESC LIMIT $1"
    );
    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(limit))
        .fetch_all(store.pool())
        .await
        .map_err(db_err)?
        .into_iter()
        .map(Message::try_from)
        .collect()
}

pub(crate) async fn wait_for_messages(store: &SqlStore, max: std::time::Duration) {
    let _ = tokio::time::timeout(max, store.outbox_wake().notified()).await;
}
