//! Password reset flows and the shared rate counters (migration 0005), and the reset's own
//! wrong-answer counters (migration 0009), decided like a method's lock-out (`lockout`): one
//! conditional statement per counter, in one transaction for all of a reset's counters.

use async_trait::async_trait;
use sqlx::AnyConnection;
use tessera_core::account::AccountStatus;
use tessera_core::audit::AuditEvent;
use tessera_core::flow::effect::GatePass;
use tessera_core::flow::reset::{ResetCompletion, ResetFlow, ResetState};
use tessera_core::lockout::AttemptGate;
use tessera_core::message::Message;
use tessera_core::store::StoreResult;
use tessera_core::store::reset::{AttemptCounter, Hits, ResetStore};
use tessera_core::{AccountId, FlowId, MethodId, StoreError};
use time::{Duration, OffsetDateTime};

use crate::rows::secs;
use crate::{SqlStore, audit, db_err, outbox};

const INSERT: &str = "INSERT INTO reset_flows \
     (id, account_id, username, gates_required, state, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

const SELECT: &str = "SELECT id, account_id, username, gates_required, first_gate, \
     second_gate, asked_method, asked_questions, state, created_at, expires_at \
     FROM reset_flows WHERE id = $1";

/// The first gate, or a second that is another method; decided in one statement, so two
/// nodes passing gates at once cannot both take the first slot. The flow moves from `$3` to
/// `$5` (core's move, which keeps it open).
pub(crate) const PASS_GATE: &str = "UPDATE reset_flows SET state = $5, \
     first_gate = CASE WHEN first_gate IS NULL THEN $2 ELSE first_gate END, \
     second_gate = CASE WHEN first_gate IS NOT NULL AND first_gate <> $2 AND second_gate IS NULL \
                        THEN $2 ELSE second_gate END \
     WHERE id = $1 AND state = $3 AND expires_at > $4 \
     RETURNING first_gate, second_gate";

const ASK: &str = "UPDATE reset_flows SET asked_method = $2, asked_questions = $3 \
     WHERE id = $1 AND (asked_method IS NULL OR asked_method <> $2)";

const ASKED: &str = "SELECT asked_questions FROM reset_flows WHERE id = $1 AND asked_method = $2";

/// Ready: where core saw it, current, of this account, and with as many gates as it requires.
const COMPLETE: &str = "UPDATE reset_flows SET state = $4 \
     WHERE id = $1 AND account_id = $2 AND state = $5 AND expires_at > $3 \
     AND (CASE WHEN first_gate IS NULL THEN 0 ELSE 1 END \
          + CASE WHEN second_gate IS NULL THEN 0 ELSE 1 END) >= gates_required";

const CLOSE_OTHERS: &str = "UPDATE reset_flows SET state = $2 WHERE account_id = $1 AND state = $3";

const SET_PASSWORD: &str = "UPDATE accounts SET password_hash = $2 WHERE id = $1";

const END_SESSIONS: &str = "DELETE FROM sessions WHERE account_id = $1";

/// A password the person chose themselves needs no change at the next sign-in (the admin
/// side's table, migration 0006).
const CHANGE_NOT_REQUIRED: &str = "DELETE FROM password_change_required WHERE account_id = $1";

/// A window that has ended restarts at this hit. Both databases read the old row in every
/// `CASE`, so the window and the count move together.
const COUNT_HIT: &str = "INSERT INTO rate_counters (key, window_start, window_end, hits) \
     VALUES ($1, $2, $3, 1) \
     ON CONFLICT (key) DO UPDATE SET \
     hits = CASE WHEN rate_counters.window_end <= $2 THEN 1 ELSE rate_counters.hits + 1 END, \
     window_start = CASE WHEN rate_counters.window_end <= $2 THEN $2 \
                         ELSE rate_counters.window_start END, \
     window_end = CASE WHEN rate_counters.window_end <= $2 THEN $3 \
                       ELSE rate_counters.window_end END \
     RETURNING hits, window_start";

const PEEK_HITS: &str = "SELECT hits, window_start FROM rate_counters WHERE key = $1";

const PURGE_FLOWS: &str = "DELETE FROM reset_flows WHERE expires_at <= $1";
const PURGE_COUNTERS: &str = "DELETE FROM rate_counters WHERE window_end <= $1";
const PURGE_ATTEMPTS: &str = "DELETE FROM reset_attempts WHERE expires_at <= $1";

/// Goes ahead (counting the failure in advance) when unlocked and under the threshold ($3),
/// when a lock has lapsed, or when the counter was forgotten (the count restarts at this
/// attempt); a new counter starts at one. Every attempt keeps the counter until $4.
const BEGIN_ATTEMPT: &str = "INSERT INTO reset_attempts (key, failures, locked_until, expires_at) \
     VALUES ($1, 1, NULL, $4) \
     ON CONFLICT (key) DO UPDATE SET \
     failures = CASE WHEN reset_attempts.expires_at <= $2 \
                       OR reset_attempts.locked_until IS NOT NULL THEN 1 \
                     ELSE reset_attempts.failures + 1 END, \
     locked_until = NULL, \
     expires_at = $4 \
     WHERE reset_attempts.expires_at <= $2 OR reset_attempts.locked_until <= $2 \
     OR (reset_attempts.locked_until IS NULL AND reset_attempts.failures < $3)";

const ATTEMPT_LOCK: &str = "SELECT locked_until FROM reset_attempts WHERE key = $1";

/// Sets the lock once, by the failure that reaches the threshold ($2); later failures keep
/// its end. The counter is kept at least as long as its lock.
const ATTEMPT_FAILED: &str = "UPDATE reset_attempts SET \
     locked_until = CASE WHEN failures >= $2 AND locked_until IS NULL THEN $3 \
                         ELSE locked_until END, \
     expires_at = CASE WHEN failures >= $2 AND locked_until IS NULL AND expires_at < $3 THEN $3 \
                       ELSE expires_at END \
     WHERE key = $1 \
     RETURNING locked_until";

const RELEASE_ATTEMPT: &str = "UPDATE reset_attempts SET failures = failures - 1 \
     WHERE key = $1 AND failures > 0 AND locked_until IS NULL";

const CLEAR_ATTEMPTS: &str = "DELETE FROM reset_attempts WHERE key = $1";

/// Active accounts in id order from $1 on, and (wrapping around) before it.
const SAMPLE_FROM: &str =
    "SELECT id FROM accounts WHERE status = $2 AND id >= $1 ORDER BY id LIMIT $3";
const SAMPLE_BEFORE: &str =
    "SELECT id FROM accounts WHERE status = $2 AND id < $1 ORDER BY id LIMIT $3";

#[derive(sqlx::FromRow)]
struct ResetRow {
    id: String,
    account_id: Option<String>,
    username: String,
    gates_required: i64,
    first_gate: Option<String>,
    second_gate: Option<String>,
    asked_method: Option<String>,
    asked_questions: Option<String>,
    state: String,
    created_at: i64,
    expires_at: i64,
}

fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(column)
}

fn time(secs: i64, column: &'static str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|_| corrupt(column))
}

fn time_opt(secs: Option<i64>, column: &'static str) -> StoreResult<Option<OffsetDateTime>> {
    secs.map(|s| time(s, column)).transpose()
}

fn method_id(text: &str) -> StoreResult<MethodId> {
    text.parse().map_err(|_| corrupt("reset_flows.gate"))
}

pub(crate) fn gates(first: Option<&str>, second: Option<&str>) -> StoreResult<Vec<MethodId>> {
    first.into_iter().chain(second).map(method_id).collect()
}

impl TryFrom<ResetRow> for ResetFlow {
    type Error = StoreError;

    fn try_from(row: ResetRow) -> StoreResult<ResetFlow> {
        let asked = match (row.asked_method.as_deref(), row.asked_questions.as_deref()) {
            (Some(method), Some(questions)) => Some((
                method_id(method)?,
                serde_json::from_str(questions)
                    .map_err(|_| corrupt("reset_flows.asked_questions"))?,
            )),
            _ => None,
        };
        Ok(ResetFlow {
            id: row.id.parse().map_err(|_| corrupt("reset_flows.id"))?,
            account_id: row
                .account_id
                .map(|a| a.parse().map_err(|_| corrupt("reset_flows.account_id")))
                .transpose()?,
            username: row.username,
            gates_required: u32::try_from(row.gates_required)
                .map_err(|_| corrupt("reset_flows.gates_required"))?,
            gates_passed: gates(row.first_gate.as_deref(), row.second_gate.as_deref())?,
            asked,
            state: ResetState::parse(&row.state).ok_or(corrupt("reset_flows.state"))?,
            created_at: time(row.created_at, "reset_flows.created_at")?,
            expires_at: time(row.expires_at, "reset_flows.expires_at")?,
        })
    }
}

/// Passes the gate on `conn` (inside the caller's transaction): the gates passed afterwards,
/// `None` (nothing changed) when the flow moved on or lapsed. Also an effect of a push answer.
pub(crate) async fn pass_gate_on(
    conn: &mut AnyConnection,
    gate: &GatePass,
) -> StoreResult<Option<Vec<MethodId>>> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(PASS_GATE)
        .bind(gate.flow.flow.to_string())
        .bind(gate.method.to_string())
        .bind(gate.flow.from.as_str())
        .bind(secs(gate.flow.at))
        .bind(gate.flow.to.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    row.map(|(first, second)| gates(first.as_deref(), second.as_deref()))
        .transpose()
}

impl SqlStore {
    /// Runs `sql` for each counter's key, in one transaction.
    async fn each_counter(
        &self,
        sql: &'static str,
        counters: &[AttemptCounter],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for counter in counters {
            sqlx::query(sql)
                .bind(counter.key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl ResetStore for SqlStore {
    async fn insert_reset_flow(&self, flow: &ResetFlow, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT)
            .bind(flow.id.to_string())
            .bind(flow.account_id.map(|a| a.to_string()))
            .bind(flow.username.as_str())
            .bind(i64::from(flow.gates_required))
            .bind(flow.state.as_str())
            .bind(secs(flow.created_at))
            .bind(secs(flow.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn reset_flow(&self, id: FlowId) -> StoreResult<Option<ResetFlow>> {
        sqlx::query_as::<_, ResetRow>(SELECT)
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?
            .map(ResetFlow::try_from)
            .transpose()
    }

    async fn pass_reset_gate(
        &self,
        gate: &GatePass,
        event: &AuditEvent,
    ) -> StoreResult<Option<Vec<MethodId>>> {
        let mut tx = self.begin_write().await?;
        let Some(passed) = pass_gate_on(&mut tx, gate).await? else {
            tx.rollback().await.map_err(db_err)?;
            return Ok(None);
        };
        audit::insert(&mut *tx, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(passed))
    }

    async fn ask_reset_questions(
        &self,
        id: FlowId,
        method: MethodId,
        questions: &[String],
    ) -> StoreResult<Vec<String>> {
        let json =
            serde_json::to_string(questions).map_err(|e| StoreError::Backend(Box::new(e)))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(ASK)
            .bind(id.to_string())
            .bind(method.to_string())
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let asked: Option<Option<String>> = sqlx::query_scalar(ASKED)
            .bind(id.to_string())
            .bind(method.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        match asked.flatten() {
            Some(text) => {
                serde_json::from_str(&text).map_err(|_| corrupt("reset_flows.asked_questions"))
            }
            None => Ok(Vec::new()),
        }
    }

    async fn complete_reset(
        &self,
        done: &ResetCompletion,
        audits: &[AuditEvent],
        notes: &[Message],
    ) -> StoreResult<bool> {
        let (moved, account) = (&done.done, done.account);
        let mut tx = self.begin_write().await?;
        let completed = sqlx::query(COMPLETE)
            .bind(moved.flow.to_string())
            .bind(account.to_string())
            .bind(secs(moved.at))
            .bind(moved.to.as_str())
            .bind(moved.from.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if completed == 0 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        sqlx::query(CLOSE_OTHERS)
            .bind(account.to_string())
            .bind(done.others_to.as_str())
            .bind(done.others_from.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for (sql, value) in [
            (SET_PASSWORD, Some(done.password_hash.as_str())),
            (END_SESSIONS, None),
            (CHANGE_NOT_REQUIRED, None),
        ] {
            let mut q = sqlx::query(sql).bind(account.to_string());
            if let Some(value) = value {
                q = q.bind(value);
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        for event in audits {
            audit::insert(&mut *tx, event).await?;
        }
        outbox::insert_messages(&mut tx, notes).await?;
        tx.commit().await.map_err(db_err)?;
        if !notes.is_empty() {
            self.outbox_wake().notify_one();
        }
        Ok(true)
    }

    async fn count_hit(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: Duration,
    ) -> StoreResult<Hits> {
        let (hits, start): (i64, i64) = sqlx::query_as(COUNT_HIT)
            .bind(key)
            .bind(secs(now))
            .bind(secs(now + window))
            .fetch_one(self.writer())
            .await
            .map_err(db_err)?;
        Ok(Hits {
            count: u64::try_from(hits).map_err(|_| corrupt("rate_counters.hits"))?,
            window_start: time(start, "rate_counters.window_start")?,
        })
    }

    async fn peek_hits(&self, key: &str) -> StoreResult<Option<Hits>> {
        let row: Option<(i64, i64)> = sqlx::query_as(PEEK_HITS)
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        row.map(|(hits, start)| {
            Ok(Hits {
                count: u64::try_from(hits).map_err(|_| corrupt("rate_counters.hits"))?,
                window_start: time(start, "rate_counters.window_start")?,
            })
        })
        .transpose()
    }

    async fn begin_reset_attempt(
        &self,
        counters: &[AttemptCounter],
        now: OffsetDateTime,
        forget_at: OffsetDateTime,
    ) -> StoreResult<AttemptGate> {
        let mut tx = self.begin_write().await?;
        for counter in counters {
            let counted = sqlx::query(BEGIN_ATTEMPT)
                .bind(counter.key.as_str())
                .bind(secs(now))
                .bind(i64::from(counter.threshold))
                .bind(secs(forget_at))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if counted == 0 {
                // Refused: the read only says for how long; nothing is counted.
                let until: Option<Option<i64>> = sqlx::query_scalar(ATTEMPT_LOCK)
                    .bind(counter.key.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.rollback().await.map_err(db_err)?;
                let until = time_opt(until.flatten(), "reset_attempts.locked_until")?
                    .filter(|until| *until > now);
                return Ok(AttemptGate::Locked { until });
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(AttemptGate::Open)
    }

    async fn reset_attempt_failed(
        &self,
        counters: &[AttemptCounter],
        lock_until: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>> {
        let mut tx = self.begin_write().await?;
        let mut latest: Option<i64> = None;
        for counter in counters {
            let locked: Option<Option<i64>> = sqlx::query_scalar(ATTEMPT_FAILED)
                .bind(counter.key.as_str())
                .bind(i64::from(counter.threshold))
                .bind(secs(lock_until))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            latest = latest.max(locked.flatten());
        }
        tx.commit().await.map_err(db_err)?;
        time_opt(latest, "reset_attempts.locked_until")
    }

    async fn release_reset_attempt(&self, counters: &[AttemptCounter]) -> StoreResult<()> {
        self.each_counter(RELEASE_ATTEMPT, counters).await
    }

    async fn reset_locked_until(
        &self,
        counters: &[AttemptCounter],
        now: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>> {
        let mut latest: Option<i64> = None;
        for counter in counters {
            let until: Option<Option<i64>> = sqlx::query_scalar(ATTEMPT_LOCK)
                .bind(counter.key.as_str())
                .fetch_optional(self.pool())
                .await
                .map_err(db_err)?;
            latest = latest.max(until.flatten().filter(|u| *u > secs(now)));
        }
        time_opt(latest, "reset_attempts.locked_until")
    }

    async fn clear_reset_attempts(&self, counters: &[AttemptCounter]) -> StoreResult<()> {
        self.each_counter(CLEAR_ATTEMPTS, counters).await
    }

    async fn sample_accounts(&self, from: AccountId, limit: u32) -> StoreResult<Vec<AccountId>> {
        let mut ids: Vec<String> = Vec::new();
        for sql in [SAMPLE_FROM, SAMPLE_BEFORE] {
            let wanted = i64::from(limit) - ids.len() as i64;
            if wanted <= 0 {
                break;
            }
            let more: Vec<String> = sqlx::query_scalar(sql)
                .bind(from.to_string())
                .bind(AccountStatus::Active.as_str())
                .bind(wanted)
                .fetch_all(self.pool())
                .await
                .map_err(db_err)?;
            ids.extend(more);
        }
        ids.iter()
            .map(|id| id.parse().map_err(|_| corrupt("accounts.id")))
            .collect()
    }

    async fn purge_reset(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let mut gone = 0;
        for sql in [PURGE_FLOWS, PURGE_COUNTERS, PURGE_ATTEMPTS] {
            gone += sqlx::query(sql)
                .bind(secs(before))
                .execute(self.writer())
                .await
                .map_err(db_err)?
                .rows_affected();
        }
        Ok(gone)
    }
}
