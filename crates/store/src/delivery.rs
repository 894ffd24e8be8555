//! Sent challenges, and changes to security info with the notifications that announce them
//! (core's `DeliveryStore`; the outbox itself is in `outbox`).
//!
//! A challenge commits with its message, and a change to security info with the
//! notifications announcing it, so neither is ever sent for something that did not happen.

use async_trait::async_trait;
use sqlx::{Any, Executor};
use tessera_core::audit::AuditEvent;
use tessera_core::challenge::{ChallengeState, ChallengeStatus, SentChallenge};
use tessera_core::flow::effect::Effect;
use tessera_core::message::{Channel, Message, MessageStatus};
use tessera_core::method::Method;
use tessera_core::method::way::Way;
use tessera_core::store::StoreResult;
use tessera_core::store::delivery::{Activation, DeliveryStore, SendCounts};
use tessera_core::{AccountId, ChallengeId, MessageId, MethodId, StoreError};
use time::OffsetDateTime;

use crate::outbox::{self, insert_messages};
use crate::rows::{corrupt, id, secs, time};
use crate::{SqlStore, audit, db_err, effects, methods};

const CHALLENGE_COLUMNS: &str = "c.id, c.method_id, c.account_id, c.purpose, c.binding, \
     c.channel, c.code_mac, c.status, c.failures, c.created_at, c.expires_at, c.resend_after, \
     c.message_id";

const INSERT_CHALLENGE: &str = "INSERT INTO challenges (id, method_id, account_id, purpose, \
     binding, channel, code_mac, status, failures, created_at, expires_at, resend_after, \
     message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const SUPERSEDE: &str = "UPDATE challenges SET status = $4 \
     WHERE method_id = $1 AND purpose = $2 AND binding = $3 AND status = $5";

/// The newest first; within one second, the open one before those it superseded (`$4`).
const LATEST: &str = "SELECT c.id, c.method_id, c.account_id, c.purpose, c.binding, \
     c.channel, c.code_mac, c.status, c.failures, c.created_at, c.expires_at, c.resend_after, \
     c.message_id, o.status AS delivery \
     FROM challenges c LEFT JOIN outbox o ON o.id = c.message_id \
     WHERE c.method_id = $1 AND c.purpose = $2 AND c.binding = $3 \
     ORDER BY c.created_at DESC, CASE WHEN c.status = $4 THEN 1 ELSE 0 END \
     LIMIT 1";

/// A wrong code; the one that reaches `$2` kills the challenge (`$3`).
const FAILED: &str = "UPDATE challenges SET failures = failures + 1, \
     status = CASE WHEN failures + 1 >= $2 THEN $3 ELSE status END \
     WHERE id = $1 AND status = $4 RETURNING failures";

/// Open (`$4`) → used or approved (`$3`), while current.
const USE: &str = "UPDATE challenges SET status = $3 \
     WHERE id = $1 AND status = $4 AND expires_at > $2";

/// As `USE`, for a call that asks for # (no code).
const APPROVE: &str = "UPDATE challenges SET status = $3 \
     WHERE id = $1 AND status = $4 AND expires_at > $2 AND code_mac IS NULL";

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    id: String,
    method_id: String,
    account_id: String,
    purpose: String,
    binding: String,
    channel: String,
    code_mac: Option<Vec<u8>>,
    status: String,
    failures: i64,
    created_at: i64,
    expires_at: i64,
    resend_after: i64,
    message_id: Option<String>,
}

impl TryFrom<ChallengeRow> for SentChallenge {
    type Error = StoreError;

    fn try_from(r: ChallengeRow) -> StoreResult<SentChallenge> {
        Ok(SentChallenge {
            id: id(&r.id, "challenges.id")?,
            method_id: id(&r.method_id, "challenges.method_id")?,
            account_id: id(&r.account_id, "challenges.account_id")?,
            purpose: r.purpose,
            binding: r.binding,
            channel: Channel::parse(&r.channel).ok_or(corrupt("challenges.channel"))?,
            code_mac: r.code_mac,
            status: ChallengeStatus::parse(&r.status).ok_or(corrupt("challenges.status"))?,
            failures: u32::try_from(r.failures).map_err(|_| corrupt("challenges.failures"))?,
            created_at: time(r.created_at, "challenges.created_at")?,
            expires_at: time(r.expires_at, "challenges.expires_at")?,
            resend_after: time(r.resend_after, "challenges.resend_after")?,
            message_id: r
                .message_id
                .map(|m| id(&m, "challenges.message_id"))
                .transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct LatestRow {
    #[sqlx(flatten)]
    challenge: ChallengeRow,
    delivery: Option<String>,
}

async fn insert_challenge_on<'c, E>(exec: E, c: &SentChallenge) -> StoreResult<()>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query(INSERT_CHALLENGE)
        .bind(c.id.to_string())
        .bind(c.method_id.to_string())
        .bind(c.account_id.to_string())
        .bind(c.purpose.as_str())
        .bind(c.binding.as_str())
        .bind(c.channel.as_str())
        .bind(c.code_mac.as_deref())
        .bind(c.status.as_str())
        .bind(i64::from(c.failures))
        .bind(secs(c.created_at))
        .bind(secs(c.expires_at))
        .bind(secs(c.resend_after))
        .bind(c.message_id.map(|m| m.to_string()))
        .execute(exec)
        .await
        .map_err(db_err)?;
    Ok(())
}

async fn supersede_and_insert(
    tx: &mut sqlx::Transaction<'static, Any>,
    challenge: &SentChallenge,
    message: &Message,
) -> StoreResult<()> {
    sqlx::query(SUPERSEDE)
        .bind(challenge.method_id.to_string())
        .bind(challenge.purpose.as_str())
        .bind(challenge.binding.as_str())
        .bind(ChallengeStatus::Superseded.as_str())
        .bind(ChallengeStatus::Open.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    insert_challenge_on(&mut **tx, challenge).await?;
    insert_messages(tx, std::slice::from_ref(message)).await
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn insert_challenge(
        &self,
        challenge: &SentChallenge,
        message: &Message,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        supersede_and_insert(&mut tx, challenge, message).await?;
        audit::insert(&mut *tx, event).await?;
        self.commit_waking(tx, true).await
    }

    async fn insert_method_with_challenge(
        &self,
        method: &Method,
        method_audit: &AuditEvent,
        challenge: &SentChallenge,
        message: &Message,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        methods::insert_on(&mut *tx, method).await?;
        audit::insert(&mut *tx, method_audit).await?;
        supersede_and_insert(&mut tx, challenge, message).await?;
        audit::insert(&mut *tx, event).await?;
        self.commit_waking(tx, true).await
    }

    async fn latest_challenge(
        &self,
        method: MethodId,
        purpose: &str,
        binding: &str,
    ) -> StoreResult<Option<ChallengeState>> {
        let row = sqlx::query_as::<_, LatestRow>(LATEST)
            .bind(method.to_string())
            .bind(purpose.to_string())
            .bind(binding.to_string())
            .bind(ChallengeStatus::Superseded.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(ChallengeState {
                challenge: SentChallenge::try_from(r.challenge)?,
                delivery: r.delivery.as_deref().and_then(MessageStatus::parse),
            })
        })
        .transpose()
    }

    async fn challenge(&self, cid: ChallengeId) -> StoreResult<Option<SentChallenge>> {
        let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM challenges c WHERE c.id = $1");
        sqlx::query_as::<_, ChallengeRow>(sqlx::AssertSqlSafe(sql))
            .bind(cid.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(SentChallenge::try_from)
            .transpose()
    }

    async fn challenge_failed(&self, cid: ChallengeId, max: u32) -> StoreResult<u32> {
        let failures: Option<i64> = sqlx::query_scalar(FAILED)
            .bind(cid.to_string())
            .bind(i64::from(max))
            .bind(ChallengeStatus::Dead.as_str())
            .bind(ChallengeStatus::Open.as_str())
            .fetch_optional(self.writer())
            .await
            .map_err(db_err)?;
        Ok(failures.and_then(|f| u32::try_from(f).ok()).unwrap_or(max))
    }

    async fn use_challenge(&self, cid: ChallengeId, now: OffsetDateTime) -> StoreResult<bool> {
        Ok(sqlx::query(USE)
            .bind(cid.to_string())
            .bind(secs(now))
            .bind(ChallengeStatus::Used.as_str())
            .bind(ChallengeStatus::Open.as_str())
            .execute(self.writer())
            .await
            .map_err(db_err)?
            .rows_affected()
            > 0)
    }

    async fn approve_challenge(
        &self,
        cid: ChallengeId,
        now: OffsetDateTime,
        effects: &[Effect],
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let approved = sqlx::query(APPROVE)
            .bind(cid.to_string())
            .bind(secs(now))
            .bind(ChallengeStatus::Approved.as_str())
            .bind(ChallengeStatus::Open.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        // Not open any more, or what the call was for is over (the flow expired or completed
        // meanwhile): nothing changes.
        if approved == 0 || !effects::apply(&mut tx, effects).await? {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        self.commit_waking(tx, Effect::any_notes(effects)).await?;
        Ok(true)
    }

    async fn send_counts(
        &self,
        account: AccountId,
        destination: &str,
        hour_ago: OffsetDateTime,
        minute_ago: OffsetDateTime,
    ) -> StoreResult<SendCounts> {
        outbox::send_counts(self, account, destination, hour_ago, minute_ago).await
    }
    async fn enqueue_messages(&self, messages: &[Message]) -> StoreResult<()> {
        outbox::enqueue_messages(self, messages).await
    }
    async fn claim_messages(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        outbox::claim_messages(self, now, lease_until, limit).await
    }
    async fn message_sent(
        &self,
        mid: MessageId,
        now: OffsetDateTime,
        keep: bool,
        note: Option<&str>,
    ) -> StoreResult<()> {
        outbox::message_sent(self, mid, now, keep, note).await
    }
    async fn message_retry(
        &self,
        mid: MessageId,
        next_at: OffsetDateTime,
        note: &str,
    ) -> StoreResult<()> {
        outbox::message_retry(self, mid, next_at, note).await
    }
    async fn message_failed(&self, mid: MessageId, note: &str) -> StoreResult<()> {
        outbox::message_failed(self, mid, note).await
    }
    async fn message(&self, mid: MessageId) -> StoreResult<Option<Message>> {
        outbox::message(self, mid).await
    }
    async fn recent_messages(&self, limit: u32) -> StoreResult<Vec<Message>> {
        outbox::recent_messages(self, limit).await
    }
    async fn wait_for_messages(&self, max: std::time::Duration) {
        outbox::wait_for_messages(self, max).await
    }

    async fn activate_method_noting(
        &self,
        activation: &Activation,
        event: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool> {
        let effects = [Effect::Activate(*activation), Effect::Notes(notes.to_vec())];
        let mut tx = self.begin_write().await?;
        if !effects::apply(&mut tx, &effects).await? {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        audit::insert(&mut *tx, event).await?;
        self.commit_waking(tx, !notes.is_empty()).await?;
        Ok(true)
    }

    async fn delete_method_noting(
        &self,
        account: AccountId,
        mid: MethodId,
        new_default: Option<MethodId>,
        event: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(methods::DELETE)
            .bind(mid.to_string())
            .bind(account.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        sqlx::query(methods::MOVE_DEFAULT)
            .bind(mid.to_string())
            .bind(account.to_string())
            .bind(new_default.map(|m| m.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_messages(&mut tx, notes).await?;
        audit::insert(&mut *tx, event).await?;
        self.commit_waking(tx, !notes.is_empty()).await?;
        Ok(true)
    }

    async fn set_default_method_noting(
        &self,
        account: AccountId,
        method: Option<MethodId>,
        way: Option<Way>,
        event: &AuditEvent,
        notes: &[Message],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(methods::SET_DEFAULT)
            .bind(account.to_string())
            .bind(method.map(|m| m.to_string()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let (Some(method), Some(way)) = (method, way) {
            sqlx::query(methods::SET_WAY)
                .bind(account.to_string())
                .bind(method.to_string())
                .bind(way.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        insert_messages(&mut tx, notes).await?;
        audit::insert(&mut *tx, event).await?;
        self.commit_waking(tx, !notes.is_empty()).await
    }
}
